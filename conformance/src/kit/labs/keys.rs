//! The answer keys of the labs, computed from the code: the MPMs' simulators on the labs'
//! own `httpd.conf`, their `check_config` clamping, event's `connections_above_limit`, and
//! the numbered rules of apache-mpm-rules.md §11 where a real run is what checks them.

use std::path::Path;
use std::time::Duration;

use httpd_core::config::{MpmDirectives, ServerConfig};

use super::Answer;
use crate::Mpm;
use crate::phases::Phases;

fn answer(key: &str, question: &str, expected: i64) -> Answer {
    Answer {
        key: key.into(),
        question: question.into(),
        expected,
    }
}

fn int(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// prefork's simulator on `conf` under `phases`: (time, children) per sample.
fn process_counts(conf: &Path, phases: &Phases, tick: Duration) -> Result<Vec<(f64, i64)>, String> {
    let sim = crate::simulate::simulate(Mpm::Prefork, conf, phases, 0.0, 0.0, tick)?;
    Ok(sim
        .timeline
        .rows
        .iter()
        .filter_map(|r| Some((r.t, r.processes?.round() as i64)))
        .collect())
}

/// Lab 01: the growth table of step 1 (children forked and total children in each second
/// after the 40 connections arrive).
pub(super) fn lab01(kit: &Path) -> Result<Vec<Answer>, String> {
    let conf = kit.join("book/labs/01-prefork-growth/httpd.conf");
    let phases: Phases = "0:5,40:10,120:15,160:10,0:5".parse()?;
    let counts = process_counts(&conf, &phases, Duration::from_millis(200))?;
    // The 40-connection phase starts at t = 5 s. The count at second k is the last sample
    // at or before 5 + k.
    let at = |t: f64| -> i64 {
        counts
            .iter()
            .filter(|(at, _)| *at <= t + 1e-9)
            .map(|&(_, n)| n)
            .next_back()
            .unwrap_or(0)
    };
    let mut out = Vec::new();
    let mut before = at(5.0 - 0.2);
    for k in 1..=6 {
        let total = at(5.0 + k as f64 - 0.2);
        out.push(Answer {
            key: format!("forked_{k}"),
            question: format!("children forked in second {k} after the 40 connections arrive"),
            expected: total - before,
        });
        out.push(Answer {
            key: format!("total_{k}"),
            question: format!("total children at the end of second {k}"),
            expected: total,
        });
        before = total;
    }
    Ok(out)
}

/// Lab 04: which MaxRequestWorkers the server really uses (step 1: the simulator holds more
/// connections than it can serve and counts the children), and the budget arithmetic of
/// step 5 (256 MB at about 4 MB per prefork child; 40 MB per 150 worker threads).
pub(super) fn lab04(kit: &Path) -> Result<Vec<Answer>, String> {
    let conf = kit.join("book/labs/04-memory-budget/httpd.conf");
    let phases: Phases = "1000:60".parse()?;
    let peak = process_counts(&conf, &phases, Duration::from_secs(1))?
        .iter()
        .map(|&(_, n)| n)
        .max()
        .unwrap_or(0);
    Ok(vec![
        Answer {
            key: "max_request_workers_used".into(),
            question: "step 1: the MaxRequestWorkers the server uses after clamping".into(),
            expected: peak,
        },
        Answer {
            key: "prefork_children_in_256mb".into(),
            question: "step 5: prefork children of 4 MB that fit in 256 MB".into(),
            expected: 256 / 4,
        },
        Answer {
            key: "worker_threads_in_256mb".into(),
            question: "step 5: worker threads in 256 MB at 40 MB per 150 threads".into(),
            expected: 256 * 150 / 40,
        },
    ])
}

/// Load a lab's config as a run would (the simulator's loader), with `extra` directives
/// appended (the `-c` of the lab's steps).
fn load(mpm: Mpm, conf: &Path, extra: &[&str]) -> Result<ServerConfig, String> {
    if extra.is_empty() {
        return crate::simulate::load_config(mpm, conf);
    }
    let text = std::fs::read_to_string(conf).map_err(|e| format!("{}: {e}", conf.display()))?;
    let tmp = std::env::temp_dir().join(format!(
        "mpm-lab-lab-{}-{}.conf",
        std::process::id(),
        extra.len()
    ));
    std::fs::write(&tmp, format!("{text}\n{}\n", extra.join("\n"))).map_err(|e| e.to_string())?;
    let cfg = crate::simulate::load_config(mpm, &tmp);
    let _ = std::fs::remove_file(&tmp);
    cfg
}

/// worker's clamped configuration of a lab file plus `extra` directives.
fn worker_config(conf: &Path, extra: &[&str]) -> Result<mpm_worker::config::WorkerConfig, String> {
    let raw: MpmDirectives = load(Mpm::Worker, conf, extra)?.mpm;
    Ok(mpm_worker::config::check_config(&raw, None, 1).0)
}

/// prefork's clamped configuration of a lab file.
fn prefork_config(conf: &Path) -> Result<mpm_prefork::config::PreforkConfig, String> {
    Ok(mpm_prefork::config::check_config(&load(Mpm::Prefork, conf, &[])?.mpm, None).0)
}

/// Lab 02: worker counts idle threads and moves whole processes; MaxRequestWorkers rounding.
pub(super) fn lab02(conf: &Path) -> Result<Vec<Answer>, String> {
    let cfg = worker_config(conf, &[])?;
    // Step 1: 40 held connections plus the status poll, in StartServers children.
    let busy = 40 + 1;
    let idle = cfg.start_servers * cfg.threads_per_child - busy;
    let phases: Phases = "0:5,40:10,120:15,160:10,0:5".parse()?;
    let sim =
        crate::simulate::simulate(Mpm::Worker, conf, &phases, 0.0, 0.0, Duration::from_secs(1))?;
    let procs: Vec<i64> = sim
        .timeline
        .rows
        .iter()
        .filter_map(|r| Some(r.processes?.round() as i64))
        .collect();
    let ah00286 = sim
        .log_lines
        .iter()
        .filter(|(_, l)| l.contains("AH00286"))
        .count();
    let r160 = worker_config(conf, &["MaxRequestWorkers 160"])?;
    let r400 = worker_config(
        conf,
        &[
            "ThreadsPerChild 64",
            "ThreadLimit 64",
            "MaxRequestWorkers 400",
        ],
    )?;
    Ok(vec![
        answer(
            "busy_threads",
            "step 1: busy threads with 40 held connections and the status poll",
            int(busy),
        ),
        answer(
            "idle_threads",
            "step 1: idle threads in the 2 children",
            int(idle),
        ),
        answer(
            "most_processes",
            "the most processes during the run (simulator)",
            procs.iter().copied().max().unwrap_or(0),
        ),
        answer(
            "processes_at_the_end",
            "processes once the load is gone",
            procs.last().copied().unwrap_or(0),
        ),
        answer(
            "ah00286_times",
            "step 4: how many times AH00286 is logged",
            int(ah00286),
        ),
        answer(
            "workers_with_max_request_workers_160",
            "step 5: the MaxRequestWorkers used for `MaxRequestWorkers 160`",
            int(r160.max_workers),
        ),
        answer(
            "workers_with_64_threads_and_400",
            "step 5: the MaxRequestWorkers used for ThreadsPerChild 64, ThreadLimit 64, MaxRequestWorkers 400",
            int(r400.max_workers),
        ),
        answer(
            "server_limit_for_1000",
            "question 4: the smallest ServerLimit for 1,000 connections with ThreadsPerChild 25",
            int(1000_usize.div_ceil(cfg.threads_per_child)),
        ),
    ])
}

/// The most connections an event child accepts (`connections_above_limit`, rule 30): it
/// accepts while it is not above the limit.
fn most_accepted(
    threads_per_child: usize,
    idle_workers: usize,
    factor: &str,
) -> Result<i64, String> {
    let factor = mpm_event::config::WorkerFactor::parse(factor)
        .map_err(|e| format!("AsyncRequestWorkerFactor {factor}: {e:?}"))?
        .effective();
    let mut c = 0;
    while mpm_event::accept_limit::connections_above_limit(mpm_event::accept_limit::AcceptCounts {
        idle_workers,
        connections: c,
        lingering: 0,
        threads_per_child,
        factor,
        listeners_disabled: false,
    })
    .is_none()
        && c < 100_000
    {
        c += 1;
    }
    Ok(int(c))
}

/// Lab 03: idle keep-alive connections on worker and event; event's accept limit.
pub(super) fn lab03(conf: &Path) -> Result<Vec<Answer>, String> {
    let cfg = worker_config(conf, &[])?;
    let tpc = cfg.threads_per_child;
    Ok(vec![
        answer(
            "worker_k_slots",
            "step 1: worker's K slots with 80 idle keep-alive connections",
            int(cfg.max_workers.min(80)),
        ),
        answer(
            "worker_waiting_in_backlog",
            "step 1: connections waiting in worker's backlog",
            int(80_usize.saturating_sub(cfg.max_workers)),
        ),
        answer(
            "event_most_connections_24_idle",
            "step 4: most connections one event child with 24 idle workers accepts (factor 2)",
            most_accepted(tpc, 24, "2")?,
        ),
        answer(
            "event_most_connections_factor_1_5",
            "step 5: the same with AsyncRequestWorkerFactor 1.5",
            most_accepted(tpc, 24, "1.5")?,
        ),
        answer(
            "event_most_connections_factor_1",
            "step 5: the same with AsyncRequestWorkerFactor 1",
            most_accepted(tpc, 24, "1")?,
        ),
    ])
}

/// Lab 05: generations across restarts (rule 41), graceful loses nothing (rule 42).
pub(super) fn lab05(conf: &Path) -> Result<Vec<Answer>, String> {
    let cfg = prefork_config(conf)?;
    Ok(vec![
        answer(
            "generation_after_restart",
            "step 2: Parent Server Generation after the first -k restart (rule 41)",
            1,
        ),
        answer(
            "generation_after_graceful",
            "step 3: the generation after the -k graceful that follows (rule 41)",
            2,
        ),
        answer(
            "failures_with_graceful",
            "step 3: failed requests of the loop during -k graceful (rule 42)",
            0,
        ),
        answer(
            "children_after_restart",
            "step 2: children right after -k restart (StartServers, rule 48)",
            int(cfg.start_servers),
        ),
        answer(
            "slow_request_served_with_graceful",
            "step 4: does the slow request get 200 OK across -k graceful? (yes/no)",
            1,
        ),
        answer(
            "slow_request_served_with_restart",
            "step 4: and across -k restart? (yes/no)",
            0,
        ),
    ])
}

/// Lab 06: MaxConnectionsPerChild counts connections, not requests (rules 52, 53).
pub(super) fn lab06(conf: &Path) -> Result<Vec<Answer>, String> {
    let cfg = prefork_config(conf)?;
    Ok(vec![
        answer(
            "connections_per_child",
            "the connections a child serves before it exits",
            i64::try_from(cfg.max_connections_per_child).unwrap_or(0),
        ),
        answer(
            "children_exited_step3",
            "step 3: children that exit after 25 requests on one connection",
            0,
        ),
        answer(
            "event_connections_before_stop",
            "step 5: connections an event child accepts with MaxConnectionsPerChild 10",
            10,
        ),
    ])
}

/// Lab 07: slow clients hold workers until Timeout (rule 68).
pub(super) fn lab07(conf: &Path) -> Result<Vec<Answer>, String> {
    let cfg = prefork_config(conf)?;
    let server = load(Mpm::Prefork, conf, &[])?;
    let timeout = i64::try_from(server.timeout.as_secs()).unwrap_or(0);
    let workers = cfg.max_request_workers;
    Ok(vec![
        answer(
            "r_slots_after_2s",
            "step 1: R slots on the scoreboard after 2 s with 30 slow clients",
            int(workers.min(30)),
        ),
        answer(
            "clients_without_a_worker",
            "step 1: slow clients that get no worker at first",
            int(30_usize.saturating_sub(workers)),
        ),
        answer(
            "first_timeouts_after_s",
            "step 1: seconds until the first slow clients are cut",
            timeout,
        ),
        answer(
            "last_timeouts_after_s",
            "step 1: seconds until the clients that waited are cut too",
            2 * timeout,
        ),
    ])
}

/// Lab 08: which models the lost wake-up breaks. The kit's self-test grades the same
/// mutation ("lost wake-up", `conformance/tests/kit.rs`) and checks exactly these outcomes.
pub(super) fn lab08() -> Vec<Answer> {
    vec![
        answer(
            "no_wakeup_is_lost_fails",
            "step 3: does `no_wakeup_is_lost` fail without the notify? (yes/no)",
            1,
        ),
        answer(
            "term_wakes_everyone_fails",
            "step 4: does `term_wakes_everyone` fail? (yes/no)",
            0,
        ),
        answer(
            "every_pushed_socket_fails",
            "step 4: does `every_pushed_socket_is_popped_exactly_once` fail? (yes/no)",
            1,
        ),
        answer(
            "notify_after_unlock_is_a_bug",
            "step 6: does loom find a bug with notify_one after the unlock? (yes/no)",
            0,
        ),
    ]
}
