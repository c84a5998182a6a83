//! A lab's config task, checked: the student's `httpd.conf` is loaded by our real parser
//! (the simulator's loader: paths and Listen rewritten, as a run would), the MPM's
//! `check_config` clamps it, and the goal of the step is checked on what the server would
//! really use. A clamping warning is a failure where the step asks for a config without
//! warnings (Apache prints them at start-up and runs with other values than the ones written).
//! Lab 02's goal is dynamic (spare threads under a load): the worker simulator, the same
//! `decide` the server runs, plays the load on the student's file. Labs 04 and 06 are static
//! arithmetic on the clamped values. Nothing is started.

use std::path::Path;

use crate::Mpm;
use crate::i18n::Lang;

/// One goal of a task, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Goal {
    /// What the goal asks, with the values found, in English.
    pub en: String,
    /// The same in Spanish.
    pub es: String,
    /// Whether the student's config meets it.
    pub ok: bool,
}

impl Goal {
    fn new(ok: bool, en: String, es: String) -> Goal {
        Goal { en, es, ok }
    }

    /// The line in `lang`.
    pub fn text(&self, lang: Lang) -> &str {
        match lang {
            Lang::Es => &self.es,
            Lang::En => &self.en,
        }
    }
}

/// The labs whose steps ask the student to write directives for a goal: (lab, step).
pub const TASKS: &[(&str, &str)] = &[("02", "7"), ("04", "4"), ("06", "6")];

/// Check the student's config `file` for lab `lab`'s task.
pub fn check(lab: &str, file: &Path) -> Result<Vec<Goal>, String> {
    match super::number(lab).as_str() {
        "02" => lab02(file),
        "04" => lab04(file),
        "06" => lab06(file),
        n => Err(format!(
            "lab {n} has no config task (labs with one: {})",
            TASKS.iter().map(|(l, _)| *l).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// Lab 02 step 7: the connections held and the spare (idle) threads wanted meanwhile.
pub const HELD: usize = 40;
pub const SPARE: usize = 50;

/// Lab 02 step 7: at least [`SPARE`] idle threads while [`HELD`] connections are held, once
/// maintenance has settled (the last 5 s of a 20 s phase, in the simulator), with worker's
/// ThreadsPerChild 25 and no clamping warning.
fn lab02(file: &Path) -> Result<Vec<Goal>, String> {
    let server = crate::simulate::load_config(Mpm::Worker, file)?;
    let (cfg, warnings) = mpm_worker::config::check_config(&server.mpm, None, 1);
    let warnings: Vec<String> = warnings.into_iter().map(|w| w.startup).collect();
    let phases: crate::phases::Phases = format!("0:3,{HELD}:20,0:3").parse()?;
    let sim = crate::simulate::simulate(
        Mpm::Worker,
        file,
        &phases,
        0.0,
        0.0,
        std::time::Duration::from_secs(1),
    )?;
    let span = sim
        .spans
        .iter()
        .find(|sp| sp.target == HELD)
        .ok_or("the simulation has no loaded phase")?;
    let settled: Vec<_> = sim
        .timeline
        .rows
        .iter()
        .filter(|r| r.t >= span.t1 - 5.0 && r.t < span.t1)
        .collect();
    let idle = settled
        .iter()
        .filter_map(|r| r.idle)
        .fold(f64::INFINITY, f64::min);
    let procs = settled
        .iter()
        .filter_map(|r| r.processes)
        .fold(0.0, f64::max);
    let idle_text = if idle.is_finite() {
        format!("{idle:.0}")
    } else {
        "?".into()
    };
    let tpc = cfg.threads_per_child;
    Ok(vec![
        no_warnings(&warnings),
        Goal::new(
            tpc == 25,
            format!("ThreadsPerChild stays 25 ({tpc})"),
            format!("ThreadsPerChild sigue en 25 ({tpc})"),
        ),
        Goal::new(
            idle.is_finite() && idle >= SPARE as f64,
            format!(
                "simulator, {HELD} held connections, last 5 s of the phase: at least {SPARE} idle threads (fewest {idle_text}, in {procs:.0} processes)"
            ),
            format!(
                "simulador, {HELD} conexiones retenidas, últimos 5 s de la fase: al menos {SPARE} hilos libres (mínimo {idle_text}, en {procs:.0} procesos)"
            ),
        ),
    ])
}

/// The MB budget of lab 04 step 4 and the cost of one prefork child (the reference run's
/// 615 MB for the parent and 150 children, step 5).
pub const BUDGET_MB: usize = 256;
pub const CHILD_MB: usize = 4;

/// prefork's clamped config and its clamping warnings (the info-level notes about
/// deprecated names, such as MaxClients, are not clamping and do not count).
fn prefork(
    file: &Path,
) -> Result<
    (
        httpd_core::config::ServerConfig,
        mpm_prefork::config::PreforkConfig,
        Vec<String>,
    ),
    String,
> {
    let server = crate::simulate::load_config(Mpm::Prefork, file)?;
    let (cfg, warnings) = mpm_prefork::config::check_config(&server.mpm, None);
    let warnings = warnings
        .iter()
        .filter(|w| !w.info_only)
        .map(|w| w.to_string())
        .collect();
    Ok((server, cfg, warnings))
}

fn no_warnings(warnings: &[String]) -> Goal {
    let list = warnings.join(" | ");
    Goal::new(
        warnings.is_empty(),
        format!(
            "no clamping warning at start-up ({})",
            if list.is_empty() { "none" } else { &list }
        ),
        format!(
            "ningún aviso de ajuste al arrancar ({})",
            if list.is_empty() { "ninguno" } else { &list }
        ),
    )
}

/// Lab 04 step 4: MaxRequestWorkers for a 256 MB budget at 4 MB per child, and a ServerLimit
/// that needs no clamping.
fn lab04(file: &Path) -> Result<Vec<Goal>, String> {
    let (server, cfg, warnings) = prefork(file)?;
    let mrw = cfg.max_request_workers;
    // As written (the clamped value would always pass); unset is the default.
    let default = mpm_prefork::config::DEFAULT_SERVER_LIMIT as i64;
    let written = |v: Option<i64>| v.map_or(format!("{default} (default)"), |v| v.to_string());
    let (sl_w, mrw_w) = (server.mpm.server_limit, server.mpm.max_request_workers);
    let fits = BUDGET_MB / CHILD_MB;
    Ok(vec![
        no_warnings(&warnings),
        Goal::new(
            mrw * CHILD_MB <= BUDGET_MB,
            format!(
                "MaxRequestWorkers {mrw} × {CHILD_MB} MB = {} MB fits in {BUDGET_MB} MB",
                mrw * CHILD_MB
            ),
            format!(
                "MaxRequestWorkers {mrw} × {CHILD_MB} MB = {} MB cabe en {BUDGET_MB} MB",
                mrw * CHILD_MB
            ),
        ),
        Goal::new(
            mrw >= fits,
            format!("the budget is used: one more child would not fit (MaxRequestWorkers {mrw})"),
            format!(
                "se usa el presupuesto: no cabría ni un proceso hijo más (MaxRequestWorkers {mrw})"
            ),
        ),
        Goal::new(
            sl_w.unwrap_or(default) >= mrw_w.unwrap_or(default),
            format!(
                "as written, ServerLimit {} ≥ MaxRequestWorkers {}",
                written(sl_w),
                written(mrw_w)
            ),
            format!(
                "tal como está escrito, ServerLimit {} ≥ MaxRequestWorkers {}",
                written(sl_w).replace("default", "por omisión"),
                written(mrw_w).replace("default", "por omisión")
            ),
        ),
    ])
}

/// The leak of lab 06's step 6 (question 1's module), in KB per request, and the most one
/// child may leak before it is recycled, in KB (50 MB).
pub const LEAK_KB: u64 = 100;
pub const LEAK_LIMIT_KB: u64 = 50_000;

/// Lab 06 step 6: recycle children before a 100 KB-per-request leak reaches 50 MB, with
/// keep-alive left on. A child serves at most MaxConnectionsPerChild × MaxKeepAliveRequests
/// requests; either being 0 means no limit.
fn lab06(file: &Path) -> Result<Vec<Goal>, String> {
    let (server, cfg, warnings) = prefork(file)?;
    let conns = cfg.max_connections_per_child;
    let per_conn = u64::from(server.max_keep_alive_requests);
    let bounded = conns > 0 && per_conn > 0;
    let leak = conns.saturating_mul(per_conn).saturating_mul(LEAK_KB);
    let leak_text = if bounded {
        format!("{leak} KB")
    } else {
        "∞".to_string()
    };
    Ok(vec![
        no_warnings(&warnings),
        Goal::new(
            server.keep_alive,
            format!(
                "KeepAlive stays on ({})",
                if server.keep_alive { "On" } else { "Off" }
            ),
            format!(
                "la conexión persistente sigue activa (KeepAlive {})",
                if server.keep_alive { "On" } else { "Off" }
            ),
        ),
        Goal::new(
            bounded && leak <= LEAK_LIMIT_KB,
            format!(
                "MaxConnectionsPerChild {conns} × MaxKeepAliveRequests {per_conn} × {LEAK_KB} KB = {leak_text} ≤ {LEAK_LIMIT_KB} KB"
            ),
            format!(
                "MaxConnectionsPerChild {conns} × MaxKeepAliveRequests {per_conn} × {LEAK_KB} KB = {leak_text} ≤ {LEAK_LIMIT_KB} KB"
            ),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lab's own httpd.conf with `extra` directives appended (they override the lab's).
    fn conf(lab_dir: &str, extra: &str) -> (tempfile_dir::Dir, std::path::PathBuf) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let text = std::fs::read_to_string(root.join("book/labs").join(lab_dir).join("httpd.conf"))
            .unwrap();
        let dir = tempfile_dir::Dir::new();
        let file = dir.0.join("httpd.conf");
        std::fs::write(&file, format!("{text}\n{extra}\n")).unwrap();
        (dir, file)
    }

    mod tempfile_dir {
        /// A scratch directory removed on drop.
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Dir {
                static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
                let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let d =
                    std::env::temp_dir().join(format!("mpm-lab-task-{}-{n}", std::process::id()));
                std::fs::create_dir_all(&d).unwrap();
                Dir(d)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    fn all_ok(goals: &[Goal]) -> bool {
        goals.iter().all(|g| g.ok)
    }

    #[test]
    fn lab02_spare_threads_config_right_and_wrong() {
        let (_d, right) = conf(
            "02-worker-spare-threads",
            "MinSpareThreads 50\nMaxSpareThreads 100",
        );
        let g = check("02", &right).unwrap();
        assert!(all_ok(&g), "{g:#?}");
        // The lab's own file: MinSpareThreads 25 leaves 35 idle threads in 3 processes.
        let (_d, given) = conf("02-worker-spare-threads", "");
        let g = check("02", &given).unwrap();
        assert!(g[0].ok && !g[2].ok, "{g:#?}");
        // Enough spares by making children wider is not the task.
        let (_d, wide) = conf(
            "02-worker-spare-threads",
            "ThreadsPerChild 64\nThreadLimit 64",
        );
        assert!(!check("02", &wide).unwrap()[1].ok);
    }

    #[test]
    fn lab04_budget_config_right_and_wrong() {
        let (_d, right) = conf("04-memory-budget", "ServerLimit 64\nMaxRequestWorkers 64");
        let g = check("04", &right).unwrap();
        assert!(all_ok(&g), "{g:#?}");
        // The lab's file as given: MaxRequestWorkers above ServerLimit is clamped (AH00180).
        let (_d, given) = conf("04-memory-budget", "");
        let g = check("04", &given).unwrap();
        assert!(
            !g[0].ok && g[0].en.contains("AH00180") && !g[3].ok,
            "{g:#?}"
        );
        // Within the budget and without warnings, but half of it unused.
        let (_d, small) = conf("04-memory-budget", "ServerLimit 64\nMaxRequestWorkers 32");
        let g = check("04", &small).unwrap();
        assert_eq!(
            g.iter().map(|g| g.ok).collect::<Vec<_>>(),
            [true, true, false, true]
        );
        // Over the budget.
        let (_d, big) = conf("04-memory-budget", "ServerLimit 100\nMaxRequestWorkers 100");
        assert!(!check("04", &big).unwrap()[1].ok);
    }

    #[test]
    fn lab06_leak_config_right_and_wrong() {
        let (_d, right) = conf(
            "06-max-connections-per-child",
            "MaxConnectionsPerChild 10\nMaxKeepAliveRequests 50",
        );
        let g = check("06", &right).unwrap();
        assert!(all_ok(&g), "{g:#?}");
        // The lab's own file: 10 connections × the default 100 requests × 100 KB = 100 MB.
        let (_d, given) = conf("06-max-connections-per-child", "");
        let g = check("06", &given).unwrap();
        assert!(!g[2].ok && g[2].en.contains("100000 KB"), "{g:#?}");
        // No limit on requests per connection: unbounded.
        let (_d, unlimited) = conf("06-max-connections-per-child", "MaxKeepAliveRequests 0");
        assert!(!check("06", &unlimited).unwrap()[2].ok);
        // Turning keep-alive off is not the answer.
        let (_d, off) = conf(
            "06-max-connections-per-child",
            "KeepAlive Off\nMaxConnectionsPerChild 5",
        );
        assert!(!check("06", &off).unwrap()[1].ok);
        assert!(check("02", &right).is_err());
    }
}
