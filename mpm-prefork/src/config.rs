//! prefork's directives: defaults, start-up clamping and its warnings.
//!
//! Source: `prefork.c: prefork_pre_config` (defaults, from `mpm_default.h`), `prefork_check_config`
//! (clamping with AH00175–AH00187, rules 23, 24) and the silent adjustments at the top of
//! `prefork_run` (rule 26). Stage two of STYLE.md's "configuration in two stages": the raw values
//! ([`MpmDirectives`], what the file says, parsed with `atoi`) become a [`PreforkConfig`].
//!
//! Apache prints each clamping warning in two forms. At the first start it goes to the console
//! (stderr, no timestamp) in a long form beginning with `WARNING:`; on a restart the short form
//! (the second AH code of each pair) goes to the error log. [`check_config`] picks the form from
//! `restart_of`.

use std::fmt;
use std::time::Duration;

use httpd_core::config::MpmDirectives;

/// `DEFAULT_START_DAEMON` (`mpm_default.h`).
pub const DEFAULT_START_DAEMON: usize = 5;
/// `DEFAULT_MIN_FREE_DAEMON`.
pub const DEFAULT_MIN_FREE_DAEMON: usize = 5;
/// `DEFAULT_MAX_FREE_DAEMON`.
pub const DEFAULT_MAX_FREE_DAEMON: usize = 10;
/// `DEFAULT_SERVER_LIMIT` (prefork.c). Also the default MaxRequestWorkers: raising ServerLimit
/// alone does not raise MaxRequestWorkers (rule 23).
pub const DEFAULT_SERVER_LIMIT: usize = 256;
/// `MAX_SERVER_LIMIT`: the compile-time ceiling of ServerLimit.
pub const MAX_SERVER_LIMIT: usize = 200_000;
/// `MAX_SPAWN_RATE`: the most children one maintenance pass forks.
pub const MAX_SPAWN_RATE: usize = 32;

/// prefork's effective configuration, after clamping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreforkConfig {
    /// `ServerLimit`: scoreboard process slots; fixed for the life of the parent.
    pub server_limit: usize,
    /// `MaxRequestWorkers` (Apache's `ap_daemons_limit`): the most children alive at once.
    pub max_request_workers: usize,
    /// `StartServers` (`ap_daemons_to_start`), not yet capped at MaxRequestWorkers (the parent
    /// caps it when it starts children, as `prefork_run` does).
    pub start_servers: usize,
    /// `MinSpareServers` (`ap_daemons_min_free`).
    pub min_spare_servers: usize,
    /// `MaxSpareServers` (`ap_daemons_max_free`), at least MinSpareServers + buckets.
    pub max_spare_servers: usize,
    /// `MaxConnectionsPerChild`; 0 = unlimited (negative values, like Apache, mean unlimited too).
    pub max_connections_per_child: u64,
    /// `GracefulShutdownTimeout`; zero = wait for children forever.
    pub graceful_shutdown_timeout: Duration,
    /// Listener buckets. Always 1: we do not duplicate listeners with SO_REUSEPORT
    /// (`ListenCoresBucketsRatio` is accepted and ignored, see DEVIATIONS).
    pub num_buckets: usize,
}

impl Default for PreforkConfig {
    /// Apache's defaults (`prefork_pre_config`) with the `prefork_run` adjustments applied.
    fn default() -> Self {
        check_config(&MpmDirectives::default(), None).0
    }
}

impl PreforkConfig {
    /// How many children a cold start forks: StartServers capped at MaxRequestWorkers
    /// (`prefork_run`: `remaining_children_to_start`).
    pub fn children_to_start(&self) -> usize {
        self.start_servers.min(self.max_request_workers)
    }
}

/// One clamping warning, in the form for the moment it is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Apache's code, e.g. `AH00180` (first start) or `AH00181` (restart).
    pub code: &'static str,
    /// The text after `AHnnnnn: `.
    pub message: String,
    /// `true` at first start: print to stderr without the log prefix. `false`: write to the error
    /// log at `level`.
    pub to_console: bool,
    /// The level Apache uses (warn for clamping, info for the deprecated-name notes).
    pub info_only: bool,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// A raw directive value as Apache's `int` after `atoi`, saturated to the `i32` range it lives in.
fn raw_int(v: Option<i64>, default: usize) -> i64 {
    v.map(|x| x.clamp(i64::from(i32::MIN), i64::from(i32::MAX)))
        .unwrap_or(default as i64)
}

/// `prefork_check_config` + the silent part of `prefork_run`. `restart_of` is the configuration
/// of the generation being replaced (`None` at the first start); it selects the warning form and
/// keeps ServerLimit unchanged across restarts (AH00179).
// ANCHOR: check_config
pub fn check_config(
    raw: &MpmDirectives,
    restart_of: Option<&PreforkConfig>,
) -> (PreforkConfig, Vec<Warning>) {
    let startup = restart_of.is_none();
    let mut warnings = Vec::new();
    // Each check has a long console form (first start) and a short log form (restart).
    let warn = |warnings: &mut Vec<Warning>,
                codes: (&'static str, &'static str),
                long: String,
                short: String| {
        let (code, message) = if startup {
            (codes.0, long)
        } else {
            (codes.1, short)
        };
        warnings.push(Warning {
            code,
            message,
            to_console: startup,
            info_only: false,
        });
    };

    if raw.used_max_clients {
        // Logged while parsing (`set_max_clients`), at info, in both passes.
        warnings.push(Warning {
            code: "AH00188",
            message: "MaxClients is deprecated, use MaxRequestWorkers instead.".into(),
            to_console: false,
            info_only: true,
        });
    }

    // 1. ServerLimit within [1, MAX_SERVER_LIMIT].
    let mut server_limit = raw_int(raw.server_limit, DEFAULT_SERVER_LIMIT);
    let max = MAX_SERVER_LIMIT as i64;
    if server_limit > max {
        warn(
            &mut warnings,
            ("AH00175", "AH00176"),
            format!(
                "WARNING: ServerLimit of {server_limit} exceeds compile-time limit of {max} servers, decreasing to {max}."
            ),
            format!(
                "ServerLimit of {server_limit} exceeds compile-time limit of {max}, decreasing to match"
            ),
        );
        server_limit = max;
    } else if server_limit < 1 {
        warn(
            &mut warnings,
            ("AH00177", "AH00178"),
            format!("WARNING: ServerLimit of {server_limit} not allowed, increasing to 1."),
            format!("ServerLimit of {server_limit} not allowed, increasing to 1"),
        );
        server_limit = 1;
    }

    // 2. ServerLimit sizes the shared scoreboard: a restart cannot change it.
    if let Some(old) = restart_of {
        let first = old.server_limit as i64;
        if server_limit != first {
            warnings.push(Warning {
                code: "AH00179",
                message: format!("changing ServerLimit to {server_limit} from original value of {first} not allowed during restart"),
                to_console: false,
                info_only: false,
            });
            server_limit = first;
        }
    }
    // 3. MaxRequestWorkers within [1, ServerLimit]; its default is 256 whatever ServerLimit says.
    let mut limit = raw_int(raw.max_request_workers, DEFAULT_SERVER_LIMIT);
    if limit > server_limit {
        warn(
            &mut warnings,
            ("AH00180", "AH00181"),
            format!(
                "WARNING: MaxRequestWorkers of {limit} exceeds ServerLimit value of {server_limit} servers, decreasing MaxRequestWorkers to {server_limit}. To increase, please see the ServerLimit directive."
            ),
            format!(
                "MaxRequestWorkers of {limit} exceeds ServerLimit value of {server_limit}, decreasing to match"
            ),
        );
        limit = server_limit;
    } else if limit < 1 {
        warn(
            &mut warnings,
            ("AH00182", "AH00183"),
            format!("WARNING: MaxRequestWorkers of {limit} not allowed, increasing to 1."),
            format!("MaxRequestWorkers of {limit} not allowed, increasing to 1"),
        );
        limit = 1;
    }

    // 4. StartServers >= 1 (its cap at MaxRequestWorkers is applied when children are started).
    let mut start = raw_int(raw.start_servers, DEFAULT_START_DAEMON);
    if start < 1 {
        warn(
            &mut warnings,
            ("AH00184", "AH00185"),
            format!("WARNING: StartServers of {start} not allowed, increasing to 1."),
            format!("StartServers of {start} not allowed, increasing to 1"),
        );
        start = 1;
    }

    // 5. MinSpareServers >= 1.
    let mut min_free = raw_int(raw.min_spare_servers, DEFAULT_MIN_FREE_DAEMON);
    if min_free < 1 {
        warn(
            &mut warnings,
            ("AH00186", "AH00187"),
            format!(
                "WARNING: MinSpareServers of {min_free} not allowed, increasing to 1 to avoid almost certain server failure. Please read the documentation."
            ),
            format!("MinSpareServers of {min_free} not allowed, increasing to 1"),
        );
        min_free = 1;
    }
    let max_free = raw_int(raw.max_spare_servers, DEFAULT_MAX_FREE_DAEMON);

    // All values are now >= 1 except MaxSpareServers, which run_adjustments raises.
    let as_usize = |v: i64| usize::try_from(v.max(0)).unwrap_or(usize::MAX);
    let mut cfg = PreforkConfig {
        server_limit: as_usize(server_limit),
        max_request_workers: as_usize(limit),
        start_servers: as_usize(start),
        min_spare_servers: as_usize(min_free),
        max_spare_servers: as_usize(max_free),
        max_connections_per_child: u64::try_from(raw.max_connections_per_child.unwrap_or(0).max(0))
            .unwrap_or(0),
        graceful_shutdown_timeout: Duration::from_secs(
            u64::try_from(raw.graceful_shutdown_timeout.unwrap_or(0).max(0)).unwrap_or(0),
        ),
        num_buckets: 1,
    };
    run_adjustments(&mut cfg);
    (cfg, warnings)
}
// ANCHOR_END: check_config

/// The silent adjustments at the top of `prefork_run` (rule 26): every bucket needs at least one
/// child, one spare, and MaxSpareServers must exceed MinSpareServers by the bucket count, or
/// maintenance would start and stop a child on alternate seconds.
pub fn run_adjustments(cfg: &mut PreforkConfig) {
    let nb = cfg.num_buckets.max(1);
    cfg.max_request_workers = cfg.max_request_workers.max(nb);
    cfg.start_servers = cfg.start_servers.max(nb);
    cfg.min_spare_servers = cfg.min_spare_servers.max(nb);
    if cfg.max_spare_servers < cfg.min_spare_servers + nb {
        cfg.max_spare_servers = cfg.min_spare_servers + nb;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> MpmDirectives {
        MpmDirectives::default()
    }

    #[test]
    fn defaults_match_mpm_default_h() {
        let (c, w) = check_config(&raw(), None);
        assert!(w.is_empty());
        assert_eq!(
            (
                c.server_limit,
                c.max_request_workers,
                c.start_servers,
                c.min_spare_servers,
                c.max_spare_servers
            ),
            (256, 256, 5, 5, 10)
        );
        assert_eq!(c.max_connections_per_child, 0);
        assert_eq!(c.children_to_start(), 5);
    }

    #[test]
    fn rule_23_max_request_workers_above_server_limit_is_lowered_with_ah00180() {
        let r = MpmDirectives {
            max_request_workers: Some(300),
            ..raw()
        };
        let (c, w) = check_config(&r, None);
        assert_eq!(c.max_request_workers, 256);
        assert_eq!(w.len(), 1);
        assert_eq!(
            w[0].to_string(),
            "AH00180: WARNING: MaxRequestWorkers of 300 exceeds ServerLimit value of 256 servers, decreasing MaxRequestWorkers to 256. To increase, please see the ServerLimit directive."
        );
        assert!(w[0].to_console);
        // On a restart the short form goes to the log.
        let (_, w) = check_config(&r, Some(&c));
        assert_eq!(
            w[0].to_string(),
            "AH00181: MaxRequestWorkers of 300 exceeds ServerLimit value of 256, decreasing to match"
        );
        assert!(!w[0].to_console);
    }

    #[test]
    fn rule_23_raising_server_limit_alone_keeps_256_workers() {
        let (c, w) = check_config(
            &MpmDirectives {
                server_limit: Some(1000),
                ..raw()
            },
            None,
        );
        assert_eq!((c.server_limit, c.max_request_workers), (1000, 256));
        assert!(w.is_empty());
    }

    #[test]
    fn rule_22_server_limit_is_capped_at_200000() {
        let (c, w) = check_config(
            &MpmDirectives {
                server_limit: Some(300_000),
                ..raw()
            },
            None,
        );
        assert_eq!(c.server_limit, 200_000);
        assert_eq!(
            w[0].to_string(),
            "AH00175: WARNING: ServerLimit of 300000 exceeds compile-time limit of 200000 servers, decreasing to 200000."
        );
        let (c, w) = check_config(
            &MpmDirectives {
                server_limit: Some(0),
                ..raw()
            },
            None,
        );
        assert_eq!(c.server_limit, 1);
        assert_eq!(w[0].code, "AH00177");
        // ServerLimit 1 then lowers the default MaxRequestWorkers 256 with AH00180.
        assert_eq!(w[1].code, "AH00180");
        assert_eq!(c.max_request_workers, 1);
    }

    #[test]
    fn rule_24_start_and_min_spare_are_raised_to_one() {
        let r = MpmDirectives {
            start_servers: Some(0),
            min_spare_servers: Some(-3),
            ..raw()
        };
        let (c, w) = check_config(&r, None);
        assert_eq!((c.start_servers, c.min_spare_servers), (1, 1));
        let codes: Vec<_> = w.iter().map(|w| w.code).collect();
        assert_eq!(codes, ["AH00184", "AH00186"]);
        assert_eq!(
            w[1].message,
            "WARNING: MinSpareServers of -3 not allowed, increasing to 1 to avoid almost certain server failure. Please read the documentation."
        );
        let (_, w) = check_config(&r, Some(&c));
        let codes: Vec<_> = w.iter().map(|w| w.code).collect();
        assert_eq!(codes, ["AH00185", "AH00187"]);
        let (c, w) = check_config(
            &MpmDirectives {
                max_request_workers: Some(0),
                ..raw()
            },
            None,
        );
        assert_eq!((c.max_request_workers, w[0].code), (1, "AH00182"));
    }

    #[test]
    fn rule_25_server_limit_cannot_change_on_restart() {
        let (first, _) = check_config(
            &MpmDirectives {
                server_limit: Some(100),
                max_request_workers: Some(100),
                ..raw()
            },
            None,
        );
        let (c, w) = check_config(
            &MpmDirectives {
                server_limit: Some(300),
                max_request_workers: Some(300),
                ..raw()
            },
            Some(&first),
        );
        assert_eq!(c.server_limit, 100);
        assert_eq!(
            w[0].to_string(),
            "AH00179: changing ServerLimit to 300 from original value of 100 not allowed during restart"
        );
        // MaxRequestWorkers is then checked against the kept ServerLimit.
        assert_eq!((c.max_request_workers, w[1].code), (100, "AH00181"));
    }

    #[test]
    fn rule_26_max_spare_is_silently_raised_above_min_spare() {
        let (c, w) = check_config(
            &MpmDirectives {
                min_spare_servers: Some(20),
                max_spare_servers: Some(10),
                ..raw()
            },
            None,
        );
        assert_eq!((c.min_spare_servers, c.max_spare_servers), (20, 21));
        assert!(w.is_empty());
        let (c, _) = check_config(
            &MpmDirectives {
                min_spare_servers: Some(5),
                max_spare_servers: Some(5),
                ..raw()
            },
            None,
        );
        assert_eq!(c.max_spare_servers, 6);
    }

    #[test]
    fn start_servers_is_capped_when_children_start() {
        let (c, w) = check_config(
            &MpmDirectives {
                start_servers: Some(50),
                max_request_workers: Some(10),
                ..raw()
            },
            None,
        );
        assert!(w.is_empty(), "Apache does not warn about this one");
        assert_eq!((c.start_servers, c.children_to_start()), (50, 10));
    }

    #[test]
    fn negative_max_connections_per_child_means_unlimited() {
        let (c, _) = check_config(
            &MpmDirectives {
                max_connections_per_child: Some(-5),
                graceful_shutdown_timeout: Some(3),
                ..raw()
            },
            None,
        );
        assert_eq!(c.max_connections_per_child, 0);
        assert_eq!(c.graceful_shutdown_timeout, Duration::from_secs(3));
    }

    #[test]
    fn max_clients_spelling_is_noted_at_info() {
        let (_, w) = check_config(
            &MpmDirectives {
                used_max_clients: true,
                ..raw()
            },
            None,
        );
        assert_eq!(
            w[0].to_string(),
            "AH00188: MaxClients is deprecated, use MaxRequestWorkers instead."
        );
        assert!(w[0].info_only);
    }
}
