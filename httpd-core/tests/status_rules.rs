//! mod_status (rules 36–40): a real scoreboard in this process, statuses set by hand,
//! the page rendered and checked. Snapshots pin the whole `?auto` and HTML texts.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use httpd_core::scoreboard::{Scoreboard, WorkerStatus};
use httpd_core::status::{
    self, CpuTimes, Environment, MpmStatusInfo, Query, StatusAuto, StatusServerInfo,
};

/// Inside a `status_rules` module so that `cargo test -p httpd-core status` selects them.
mod status_rules {
    use super::*;

    fn info(
        mpm: &'static str,
        tpc: usize,
        max_daemons: usize,
        server_limit: usize,
    ) -> MpmStatusInfo {
        MpmStatusInfo {
            mpm,
            is_async: mpm == "event",
            threads_per_child: tpc,
            max_daemons,
            server_limit,
        }
    }

    /// A fixed clock: restart at T, now at T + 1 h 1 min 5 s.
    fn env(sb: &Scoreboard) -> Environment {
        let restart = SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000);
        sb.global().set_restart_time(restart);
        Environment {
            now: restart + Duration::from_secs(3665),
            load: [0.25, 0.5, 1.0],
            cpu: CpuTimes {
                user: 1.5,
                system: 0.25,
                children_user: 0.0,
                children_system: 0.0,
            },
        }
    }

    fn local() -> SocketAddr {
        "127.0.0.1:8080".parse().unwrap()
    }

    /// Start process `slot` with pid, generation and every thread in `status`.
    fn start(
        sb: &Scoreboard,
        slot: usize,
        pid: i32,
        generation: u32,
        tpc: usize,
        st: WorkerStatus,
    ) {
        sb.process(slot).set_pid(pid);
        sb.process(slot).set_generation(generation);
        for t in 0..tpc {
            sb.worker(slot, t).set_identity(pid, t as i32, generation);
            sb.worker(slot, t).set_status(st);
        }
    }

    fn auto(sb: &Scoreboard, i: &MpmStatusInfo) -> (String, StatusAuto) {
        let page = status::render_with("auto", "localhost", local(), sb, i, &env(sb));
        assert_eq!(page.content_type, "text/plain; charset=ISO-8859-1");
        let st = StatusAuto::parse(&page.body);
        (page.body, st)
    }

    const APACHE_ORDER: &[&str] = &[
        "ServerVersion",
        "ServerMPM",
        "Server Built",
        "CurrentTime",
        "RestartTime",
        "ParentServerConfigGeneration",
        "ParentServerMPMGeneration",
        "ServerUptimeSeconds",
        "ServerUptime",
        "Load1",
        "Load5",
        "Load15",
        "Total Accesses",
        "Total kBytes",
        "Total Duration",
        "CPUUser",
        "CPUSystem",
        "CPUChildrenUser",
        "CPUChildrenSystem",
        "CPULoad",
        "Uptime",
        "ReqPerSec",
        "BytesPerSec",
        "BytesPerReq",
        "DurationPerReq",
        "BusyWorkers",
        "GracefulWorkers",
        "IdleWorkers",
    ];
    const ASYNC_KEYS: &[&str] = &[
        "Processes",
        "Stopping",
        "ConnsTotal",
        "ConnsAsyncWaitIO",
        "ConnsAsyncWriting",
        "ConnsAsyncKeepAlive",
        "ConnsAsyncClosing",
    ];

    /// A scoreboard where one worker has served 3 requests of 1000 bytes.
    fn served(mpm: &'static str, tpc: usize) -> (Scoreboard, MpmStatusInfo) {
        let sb = Scoreboard::create(4, tpc).unwrap();
        let i = info(mpm, tpc, 2, 4);
        start(&sb, 0, 100, 0, tpc, WorkerStatus::Ready);
        let w = sb.worker(0, 0);
        for _ in 0..3 {
            w.begin_request("127.0.0.1", "GET / HTTP/1.1", "localhost:8080", "http/1.1");
            w.end_request(1000);
        }
        (sb, i)
    }

    #[test]
    fn rule_36_auto_keys_in_apache_order() {
        let (sb, i) = served("worker", 4);
        let (body, st) = auto(&sb, &i);
        assert_eq!(
            body.lines().next(),
            Some("localhost"),
            "first line is the bare host"
        );
        let mut want: Vec<&str> = APACHE_ORDER.to_vec();
        want.push("Scoreboard");
        assert_eq!(st.key_names(), want);
        assert!(body.contains("\nServer Built: "), "the key has a space");
        assert!(body.contains("\nServerUptime: 1 hour 1 minute 5 seconds\n"));
        assert_eq!(st.get("Load5"), Some("0.50"));
    }

    #[test]
    fn rule_37_async_keys_only_for_event() {
        for mpm in ["prefork", "worker"] {
            let (sb, i) = served(mpm, if mpm == "prefork" { 1 } else { 4 });
            let (_, st) = auto(&sb, &i);
            for k in ASYNC_KEYS {
                assert_eq!(st.get(k), None, "{mpm} must not show {k}");
            }
        }
        let (sb, i) = served("event", 4);
        sb.process(0).set_connections(5);
        sb.process(0).set_keep_alive(2);
        start(&sb, 2, 300, 0, 4, WorkerStatus::Graceful); // a stopping child beyond MaxDaemons
        sb.process(2).set_quiescing(1);
        sb.process(2).set_connections(1);
        sb.process(2).set_lingering_close(1);
        let (_, st) = auto(&sb, &i);
        let keys = st.key_names();
        let at = keys.iter().position(|k| *k == "IdleWorkers").unwrap();
        assert_eq!(&keys[at + 1..at + 1 + ASYNC_KEYS.len()], ASYNC_KEYS);
        assert_eq!(st.int("Processes"), Some(2));
        assert_eq!(st.int("Stopping"), Some(1));
        assert_eq!(st.int("ConnsTotal"), Some(6));
        assert_eq!(st.int("ConnsAsyncKeepAlive"), Some(2));
        assert_eq!(st.int("ConnsAsyncClosing"), Some(1));
        // The stopping child's `G` threads are shown but not counted (quiescing).
        assert_eq!(st.scoreboard, "____....GGGG");
        assert_eq!(st.graceful(), 0);
    }

    #[test]
    fn rule_38_scoreboard_length() {
        // prefork: MaxRequestWorkers = 5 of ServerLimit 16.
        let sb = Scoreboard::create(16, 1).unwrap();
        start(&sb, 0, 10, 0, 1, WorkerStatus::Ready);
        let (_, st) = auto(&sb, &info("prefork", 1, 5, 16));
        assert_eq!(st.scoreboard, "_....");
        // worker/event: (MaxRequestWorkers / TPC) × TPC, thread slots beyond TPC left out.
        let sb = Scoreboard::create(16, 64).unwrap();
        start(&sb, 1, 11, 0, 25, WorkerStatus::Ready);
        let (_, st) = auto(&sb, &info("worker", 25, 6, 16));
        assert_eq!(st.scoreboard.len(), 150);
        assert_eq!(
            &st.scoreboard[..50],
            format!("{}{}", ".".repeat(25), "_".repeat(25))
        );
        // A live slot beyond MaxDaemons shows up (Apache prints every non-dead slot).
        start(&sb, 7, 12, 0, 2, WorkerStatus::Graceful);
        let (_, st) = auto(&sb, &info("worker", 25, 6, 16));
        assert_eq!(st.scoreboard.len(), 152);
        assert!(st.scoreboard.ends_with("GG"));
    }

    #[test]
    fn rule_39_idle_counts_only_current_generation_ready() {
        let sb = Scoreboard::create(4, 4).unwrap();
        sb.global().set_running_generation(2);
        start(&sb, 0, 10, 2, 4, WorkerStatus::Ready); // current: 4 idle
        start(&sb, 1, 11, 1, 4, WorkerStatus::Ready); // old generation: not counted
        sb.worker(1, 0).set_status(WorkerStatus::BusyWrite); // busy, whatever the generation
        sb.worker(1, 1).set_status(WorkerStatus::Graceful);
        start(&sb, 2, 12, 2, 4, WorkerStatus::BusyRead); // quiescing: nothing counted
        sb.process(2).set_quiescing(1);
        start(&sb, 3, 13, 2, 4, WorkerStatus::Starting);
        sb.worker(3, 1).set_status(WorkerStatus::IdleKill);
        sb.worker(3, 2).set_status(WorkerStatus::Dead);
        sb.worker(3, 3).set_status(WorkerStatus::Closing);
        let (_, st) = auto(&sb, &info("worker", 4, 4, 4));
        assert_eq!((st.busy(), st.graceful(), st.idle()), (2, 1, 4));
        assert_eq!(st.scoreboard, "____WG__RRRRSI.C");
        // A freed slot (pid 0) counts for nothing even if its status lingers.
        sb.process(0).set_pid(0);
        let (_, st) = auto(&sb, &info("worker", 4, 4, 4));
        assert_eq!(st.idle(), 0);
    }

    #[test]
    fn rule_40_extended_status_keys() {
        let (sb, i) = served("prefork", 1);
        let (_, st) = auto(&sb, &i);
        assert_eq!(st.int("Total Accesses"), Some(3));
        assert_eq!(st.int("Total kBytes"), Some(2)); // 3000 >> 10
        assert_eq!(st.int("Uptime"), Some(3665));
        assert_eq!(st.get("BytesPerReq"), Some("682.667")); // %g of 2048/3
        assert_eq!(st.get("CPUUser"), Some("1.5"));
        assert!(st.get("ReqPerSec").is_some() && st.get("DurationPerReq").is_some());
        // No accesses: the per-request ratios are left out; zero CPU: no CPULoad.
        let sb = Scoreboard::create(2, 1).unwrap();
        start(&sb, 0, 10, 0, 1, WorkerStatus::Ready);
        let mut e = env(&sb);
        e.cpu = CpuTimes::default();
        let page = status::render_with("auto", "h", local(), &sb, &info("prefork", 1, 2, 2), &e);
        let st = StatusAuto::parse(&page.body);
        assert_eq!(st.get("BytesPerReq"), None);
        assert_eq!(st.get("CPULoad"), None);
        assert_eq!(st.int("Total Accesses"), Some(0));
    }

    #[test]
    fn query_refresh_and_modes() {
        assert_eq!(Query::parse("refresh=5").refresh, Some(5));
        assert_eq!(Query::parse("refresh").refresh, Some(10));
        assert_eq!(
            Query::parse("refresh=0;auto"),
            Query {
                auto: true,
                notable: false,
                refresh: Some(10)
            }
        );
        assert_eq!(Query::parse(""), Query::default());
        assert!(Query::parse("notable").notable);
    }

    #[test]
    fn format_helpers_match_c() {
        assert_eq!(status::show_time(0), "");
        assert_eq!(status::show_time(90_061), " 1 day 1 hour 1 minute 1 second");
        assert_eq!(status::show_time(2 * 86_400 + 120), " 2 days 2 minutes");
        assert_eq!(status::fmt_g(0.000_123_45), "0.00012345");
        assert_eq!(status::fmt_g(1234567.0), "1.23457e+06");
        assert_eq!(status::fmt_g(100.0), "100");
        assert_eq!(status::fmt_g(0.00001), "1e-05");
        assert_eq!(status::fmt_g_prec(0.0008185, 3), "0.000819");
        assert_eq!(status::format_bytes(4000.0), "4000 B");
        assert_eq!(status::format_bytes(10_240.0), "10.0 kB");
    }

    #[test]
    fn html_escapes_client_controlled_strings() {
        let sb = Scoreboard::create(2, 1).unwrap();
        start(&sb, 0, 10, 0, 1, WorkerStatus::BusyWrite);
        sb.worker(0, 0).begin_request(
            "1.2.3.4",
            "GET /<script>x</script>&\" HTTP/1.1",
            "v<h>",
            "http/1.1",
        );
        let i = info("prefork", 1, 2, 2);
        for q in ["", "notable"] {
            let page = status::render_with(q, "<evil>", local(), &sb, &i, &env(&sb));
            assert_eq!(page.content_type, "text/html; charset=ISO-8859-1");
            assert!(
                !page.body.contains("<script>"),
                "{q}: request line not escaped"
            );
            assert!(
                page.body
                    .contains("GET /&lt;script&gt;x&lt;/script&gt;&amp;&quot; HTTP/1.1")
            );
            assert!(
                page.body
                    .contains("Apache Server Status for &lt;evil&gt; (via 127.0.0.1)")
            );
            assert!(page.body.contains("v&lt;h&gt;"));
        }
    }

    fn redactions() -> Vec<(&'static str, &'static str)> {
        vec![
            (r"((?:Current|Restart) ?Time): [^<\n]*", "${1}: [time]"),
            (
                r"(ServerVersion|Server Version|ServerBuilt|Server Built): [^<\n]*",
                "$1: [build]",
            ),
            // Durations are measured with the real clock by `end_request`.
            (
                r"(DurationPerReq|Total Duration): [^<\n]*",
                "$1: [duration]",
            ),
            (r"[0-9.e+-]+ ms/request", "[duration] ms/request"),
        ]
    }

    fn event_board() -> (Scoreboard, MpmStatusInfo) {
        let sb = Scoreboard::create(4, 4).unwrap();
        sb.global().set_running_generation(1);
        start(&sb, 0, 100, 1, 4, WorkerStatus::Ready);
        sb.worker(0, 1).set_status(WorkerStatus::BusyWrite);
        sb.worker(0, 1)
            .begin_request("10.0.0.1", "GET /big HTTP/1.1", "localhost:80", "http/1.1");
        sb.process(0).set_connections(3);
        sb.process(0).set_keep_alive(1);
        sb.process(0).set_write_completion(1);
        start(&sb, 2, 200, 0, 4, WorkerStatus::Graceful);
        sb.process(2).set_quiescing(1);
        sb.process(2).set_not_accepting(1);
        (sb, info("event", 4, 2, 4))
    }

    #[test]
    fn snapshot_auto_pages() {
        let (prefork, pi) = served("prefork", 1);
        let (worker, wi) = served("worker", 4);
        let (event, ei) = event_board();
        insta::with_settings!({ filters => redactions() }, {
            insta::assert_snapshot!("auto_prefork", auto(&prefork, &pi).0);
            insta::assert_snapshot!("auto_worker", auto(&worker, &wi).0);
            insta::assert_snapshot!("auto_event", auto(&event, &ei).0);
        });
    }

    #[test]
    fn snapshot_html_pages() {
        let (event, ei) = event_board();
        let html =
            status::render_with("refresh=3", "localhost", local(), &event, &ei, &env(&event));
        assert_eq!(html.refresh, Some(3));
        let notable =
            status::render_with("notable", "localhost", local(), &event, &ei, &env(&event));
        assert!(!notable.body.contains("<table"));
        insta::with_settings!({ filters => redactions() }, {
            insta::assert_snapshot!("html_event", html.body);
            insta::assert_snapshot!("html_event_notable", notable.body);
        });
    }

    /// The real clock path (`render`) produces a parseable page too.
    #[test]
    fn render_with_the_real_clock() {
        let sb = Scoreboard::create(2, 1).unwrap();
        let page = status::render(
            "auto",
            "h",
            local(),
            &sb,
            &info("prefork", 1, 2, 2),
            &StatusServerInfo,
        );
        let st = StatusAuto::parse(&page.body);
        assert_eq!(st.server_name, "h");
        assert_eq!(st.get("ServerMPM"), Some("prefork"));
        assert!(st.int("Uptime").is_some());
    }
}
