//! A `top` session's source of samples — a live server, a recording or the simulator — opened
//! (step 1 of [`super`]'s module doc), and the virtual clock that drives the last two.

use super::live::{Live, PollOptions};
use super::model::Model;
use super::playback::{Replay, Simulated};
use super::terminal::block_quit_signals;
use super::{Options, Target};
use crate::server::ServerTest;
use std::time::Instant;

/// Where the samples come from.
pub enum Source {
    Live(Box<Live>),
    Replay(Box<Replay>),
    Sim(Box<Simulated>),
}

/// The virtual clock of replay and simulator: speed, pause, and where it is.
pub struct Clock {
    pub speed: f64,
    pub paused: bool,
    pub last: Instant,
}

impl Clock {
    /// Virtual seconds to add since the last call.
    pub fn advance(&mut self) -> f64 {
        let dt = self.last.elapsed().as_secs_f64();
        self.last = Instant::now();
        if self.paused { 0.0 } else { dt * self.speed }
    }
}

/// Open the source (step 1): returns it, the model's first state and the config's text.
pub fn open(opts: &Options) -> Result<(Source, Model, Option<String>), String> {
    match &opts.target {
        Target::Live {
            server:
                crate::lab::Target::Ours {
                    mpm,
                    binary,
                    config,
                },
            ..
        } => {
            let text = std::fs::read_to_string(config)
                .map_err(|e| format!("{}: {e}", config.display()))?;
            let tpc = crate::lab::threads_per_child(&text, *mpm);
            let canon = std::fs::canonicalize(config).map_err(|e| e.to_string())?;
            // With the bundled sleep CGI, so that `W` has something to run.
            let server = crate::lab::with_sleep_cgi(
                ServerTest::new(*mpm).binary(binary).config_file(canon),
                *mpm,
            )
            .try_start()
            .map_err(|e| e.to_string())?;
            crate::lab::sleep_cgi_executable(&server).map_err(|e| e.to_string())?;
            let (addr, pid) = (server.addr(), server.pid());
            let conf_copy = std::fs::read_to_string(server.config_path()).ok();
            let error_log = server.dir().join("error_log");
            let title = format!(
                "{} ({}) {addr}",
                mpm.binary_name(),
                config.file_name().map_or_else(
                    || config.display().to_string(),
                    |n| n.to_string_lossy().into_owned()
                )
            );
            let mut m = Model::new(title, Some(mpm.name()), tpc);
            m.pid = Some(pid);
            block_quit_signals();
            let live = Live::start(
                PollOptions {
                    addr,
                    pid: Some(pid),
                    tpc,
                    interval: opts.interval,
                    keepalive: opts.poll_keepalive,
                    error_log: Some(error_log),
                },
                Some(server),
            );
            Ok((Source::Live(Box::new(live)), m, conf_copy))
        }
        Target::Live {
            server:
                crate::lab::Target::Url {
                    addr,
                    pid,
                    error_log,
                },
            tpc,
        } => {
            let mut m = Model::new(format!("http://{addr}"), None, *tpc);
            m.pid = *pid;
            block_quit_signals();
            let live = Live::start(
                PollOptions {
                    addr: *addr,
                    pid: *pid,
                    tpc: *tpc,
                    interval: opts.interval,
                    keepalive: opts.poll_keepalive,
                    error_log: error_log.clone(),
                },
                None,
            );
            Ok((Source::Live(Box::new(live)), m, None))
        }
        Target::Replay { csv, mpm, tpc } => {
            let r = Replay::open(csv).map_err(|e| format!("{}: {e}", csv.display()))?;
            let m = Model::new(
                format!("replay of {}", csv.display()),
                mpm.map(|m| m.name()),
                *tpc,
            );
            Ok((Source::Replay(Box::new(r)), m, None))
        }
        Target::Simulate { mpm, config } => {
            let s = Simulated::new(*mpm, config)?;
            let text = std::fs::read_to_string(config).map_err(|e| e.to_string())?;
            let tpc = crate::lab::threads_per_child(&text, *mpm);
            let m = Model::new(
                format!("simulated {} ({})", mpm.name(), config.display()),
                Some(mpm.name()),
                tpc,
            );
            Ok((Source::Sim(Box::new(s)), m, Some(text)))
        }
    }
}

pub fn replay_clock(what: &str, c: &Clock, finished: bool) -> String {
    let state = if finished {
        ", end"
    } else if c.paused {
        ", paused"
    } else {
        ""
    };
    format!("{what} ×{}{state}", c.speed)
}
