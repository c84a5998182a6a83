//! `mpm-lab top`: watch a server's pool move, live, and push it from the keyboard — the
//! mod_status page with `?refresh=1`, `htop` and `apachetop` in one screen, for our three
//! servers and for real Apache (by URL and pid), for a recorded run and for the simulator.
//!
//! | module | what it does |
//! |---|---|
//! | [`model`] | what the screen shows, as data fed samples, log lines and actions (unit tested) |
//! | [`render`] | ratatui widgets drawing the model (snapshot tested at 80×24 and 120×40) |
//! | [`live`] | the live poller (`?auto`, `?notable`, /proc, error log) and the server it started |
//! | [`playback`] | a recorded timeline played back; the simulator on a virtual clock |
//! | [`keys`] | keys → actions; the loader thread holding the connections a key opens |
//! | [`record`] | `timeline.csv`, `load.csv`, `summary.txt` as `mpm-lab run` writes them |
//! | [`codes`] | the AH codes explained in one line, with their book chapter |
//! | `source` | the source opened from the options; the virtual clock of replay and simulator |
//! | [`terminal`] | raw mode restored on every exit, quit signals, a wait that sees a hung-up terminal |
//!
//! The session, step by step ([`run`]):
//! 1. open the source (start our server — its own process group, as the test harness does —
//!    or attach to a URL; read a recording; load the simulator's config), before the terminal
//!    is touched, so an error prints normally;
//! 2. enter raw mode and the alternate screen; a panic hook and a guard restore the terminal
//!    on any exit;
//! 3. loop: draw, wait for a key at most 100 ms, act on it, take what the source produced;
//! 4. on `q` / Ctrl-C (or SIGHUP, SIGTERM, SIGINT, SIGQUIT, read from a signalfd): release every held connection, stop polling, restore the terminal, stop
//!    a server `top` started (SIGTERM to its group, SIGKILL after a bound, reap), write the
//!    recording.
//!
//! Dependencies: ratatui 0.29 (its crossterm backend only, default features off) brings 45
//! crates the workspace did not build before; alone, with its whole tree, it builds from clean
//! in 12 s on 2 cores (debug; measured, see the book's `top` page).

pub mod codes;
pub mod keys;
pub mod live;
pub mod model;
pub mod playback;
pub mod record;
pub mod render;
mod source;
pub mod terminal;

use crate::Mpm;
use keys::{Action, Loader};
use live::Polled;
use model::{Held, Model};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use ratatui::crossterm::event;
use render::Palette;
use source::{Clock, Source, open, replay_clock};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use terminal::{
    Input, TerminalGuard, block_quit_signals, quit_signals, restore_terminal, wait_input,
};

/// What to watch.
#[derive(Debug, Clone)]
pub enum Target {
    /// A server as `mpm-lab run` takes it: ours, started here (in a scratch directory, its own
    /// process group), or a running one by URL (ours or real Apache). `tpc`: scoreboard letters
    /// per process for a URL (ThreadsPerChild; 1 for prefork); ours reads it from the config.
    Live {
        server: crate::lab::Target,
        tpc: usize,
    },
    /// Play a recorded `timeline.csv` (ours or a reference run).
    Replay {
        csv: PathBuf,
        mpm: Option<Mpm>,
        tpc: usize,
    },
    /// Drive the MPM's simulator on a virtual clock.
    Simulate { mpm: Mpm, config: PathBuf },
}

/// `mpm-lab top` options.
#[derive(Debug, Clone)]
pub struct Options {
    pub target: Target,
    /// Time between status polls (clamped to 200–500 ms).
    pub interval: Duration,
    /// Seconds of history in the chart (clamped to 60–300).
    pub window: f64,
    /// Where the session is recorded on quit (not for a replay).
    pub out: Option<PathBuf>,
    /// Requests in one `b` burst.
    pub burst: usize,
    /// Poll over one kept connection instead of a fresh one per poll.
    pub poll_keepalive: bool,
    /// Replay and simulator speed (virtual seconds per second).
    pub speed: f64,
    /// Write the last screen as plain text here on quit.
    pub screenshot: Option<PathBuf>,
}

/// Run a `top` session (steps 1–4 of the module doc). Returns what to print afterwards.
pub fn run(opts: &Options) -> Result<String, String> {
    if matches!(opts.target, Target::Replay { .. } | Target::Simulate { .. }) {
        block_quit_signals();
    }
    let (mut source, mut model, config) = open(opts)?;
    let quit = SignalFd::with_flags(
        &quit_signals(),
        SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC,
    )
    .map_err(|e| format!("signalfd: {e}"))?;
    model.window = opts.window.clamp(60.0, 300.0);
    let palette = Palette::from_env();
    let loader = match &source {
        Source::Live(l) => Some(Loader::start(l.addr)),
        _ => None,
    };
    let mut clock = Clock {
        speed: opts.speed.clamp(0.125, 64.0),
        paused: false,
        last: Instant::now(),
    };
    // Step 2.
    let previous_hook = std::sync::Arc::new(std::panic::take_hook());
    {
        let previous_hook = previous_hook.clone();
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            previous_hook(info);
        }));
    }
    let guard = TerminalGuard::enter().map_err(|e| format!("terminal: {e}"))?;
    let mut term =
        ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(std::io::stdout()))
            .map_err(|e| e.to_string())?;
    let _ = term.clear();
    let mut loader = loader;
    let mut draw = |m: &Model| term.draw(|f| render::draw(f, m, palette)).map(|_| ());
    let result = event_loop(
        opts,
        &mut draw,
        &mut source,
        &mut model,
        &mut loader,
        &mut clock,
        &quit,
    );
    // Step 4. The screenshot is the screen as the user left it.
    let screen = term
        .size()
        .map(|s| render::to_text(&model, Palette { color: false }, s.width, s.height))
        .unwrap_or_default();
    if let Some(mut l) = loader.take() {
        l.shutdown(Duration::from_secs(3));
        if let Source::Live(live) = &source {
            let t = live.now();
            model.set_held(t, live.epoch0 + t, Held::default());
        }
    }
    // Not dropped: ratatui's `Terminal` shows the cursor on drop and `eprintln!`s if that
    // fails, which panics when the terminal has hung up — and a panic here would skip
    // stopping the server. The guard below restores the terminal (cursor included) instead.
    std::mem::forget(term);
    drop(guard);
    // A broken terminal (closed under us) still stops the server and records the session;
    // its error is reported after that.
    let mut notes = String::new();
    if let Some(p) = &opts.screenshot {
        std::fs::write(p, &screen).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    let error_log = match &mut source {
        Source::Live(l) => {
            l.stop_polling();
            let log = l.server.as_ref().map(|s| s.error_log());
            if let Some(mut s) = l.server.take() {
                s.stop();
                notes.push_str(&format!("stopped the server (pid {})\n", s.pid()));
            }
            log.or_else(|| match &opts.target {
                Target::Live {
                    server:
                        crate::lab::Target::Url {
                            error_log: Some(p), ..
                        },
                    ..
                } => std::fs::read_to_string(p).ok(),
                _ => None,
            })
        }
        _ => None,
    };
    if let (Some(out), false) = (&opts.out, matches!(source, Source::Replay(_))) {
        let title = format!("mpm-lab top: {}", model.title);
        let text = record::write(out, &model, &title, error_log.as_deref(), config.as_deref())
            .map_err(|e| format!("{}: {e}", out.display()))?;
        notes.push_str(&text);
        notes.push_str(&format!(
            "wrote {}/{{timeline.csv,load.csv,summary.txt,timeline.svg}}\n",
            out.display()
        ));
    }
    match result {
        Ok(()) => Ok(notes),
        Err(e) => Err(format!("{notes}{e}")),
    }
}

/// Step 3.
fn event_loop(
    opts: &Options,
    draw: &mut dyn FnMut(&Model) -> std::io::Result<()>,
    source: &mut Source,
    model: &mut Model,
    loader: &mut Option<Loader>,
    clock: &mut Clock,
    quit: &SignalFd,
) -> Result<(), String> {
    if let Source::Sim(s) = source {
        model.set_held(0.0, 0.0, Held::default());
        s.advance_to(0.0, model);
    }
    if let Source::Live(l) = source {
        model.set_held(l.now(), l.epoch0 + l.now(), Held::default());
    }
    loop {
        // Take what the source produced.
        match source {
            Source::Live(l) => {
                for p in l.drain() {
                    match p {
                        Polled::Sample(s) => model.push_sample(*s),
                        Polled::Log(t, line) => model.push_log(t, &line),
                    }
                }
                model.clock = format!("live {} ms", opts.interval.as_millis());
            }
            Source::Replay(r) => {
                let vt = r.vt + clock.advance();
                r.advance_to(vt, model);
                model.clock = replay_clock("replay", clock, r.finished());
            }
            Source::Sim(s) => {
                let vt = s.vt + clock.advance();
                s.advance_to(vt, model);
                model.clock = replay_clock("simulator", clock, false);
            }
        }
        if let Some(l) = loader.as_ref() {
            let now = match source {
                Source::Live(l) => (l.now(), l.epoch0 + l.now()),
                _ => (model.now(), model.now()),
            };
            for r in l.drain() {
                if r.answers_key {
                    model.action(now.0, r.message);
                } else {
                    model.client(now.0, r.message);
                }
                model.set_held(
                    now.0,
                    now.1,
                    Held {
                        partial: r.partial,
                        keepalive: r.keepalive,
                    },
                );
            }
        }
        match draw(model) {
            Ok(()) => {}
            // The terminal has gone (hung up under us): the session ends as on `q`.
            Err(e) if e.raw_os_error() == Some(libc::EIO) => return Ok(()),
            Err(e) => return Err(e.to_string()),
        }
        match wait_input(quit)? {
            Input::Quit => return Ok(()),
            Input::Nothing => continue,
            Input::Keys => {}
        }
        // Only now ask crossterm: on a terminal that hung up its poll spins without returning.
        while event::poll(Duration::ZERO).map_err(|e| e.to_string())? {
            let event::Event::Key(k) = event::read().map_err(|e| e.to_string())? else {
                continue;
            };
            match keys::action_for(k) {
                Some(Action::Quit) => return Ok(()),
                Some(action) => act(opts, action, source, model, loader.as_ref(), clock),
                None => {}
            }
        }
    }
}

/// Carry out one key's action.
fn act(
    opts: &Options,
    action: Action,
    source: &mut Source,
    model: &mut Model,
    loader: Option<&Loader>,
    clock: &mut Clock,
) {
    let t = model.now();
    match (action, source) {
        (Action::Quit, _) => {}
        (Action::Help, _) => model.show_help = !model.show_help,
        (Action::Pause, Source::Replay(_) | Source::Sim(_)) => clock.paused = !clock.paused,
        (Action::Faster, Source::Replay(_) | Source::Sim(_)) => clock.speed = (clock.speed * 2.0).min(64.0),
        (Action::Slower, Source::Replay(_) | Source::Sim(_)) => clock.speed = (clock.speed / 2.0).max(0.125),
        (Action::Step, Source::Replay(r)) => {
            clock.paused = true;
            let vt = r.vt + 1.0;
            r.advance_to(vt, model);
        }
        (Action::Step, Source::Sim(s)) => {
            clock.paused = true;
            let vt = s.vt + 1.0;
            s.advance_to(vt, model);
        }
        (Action::AddPartial | Action::ReleasePartial, Source::Sim(s)) => {
            let target = if action == Action::AddPartial {
                s.target() + keys::PARTIAL_STEP
            } else {
                s.target().saturating_sub(keys::PARTIAL_STEP)
            };
            s.set_target(target);
            model.action(s.vt, format!("simulator: {target} held requests from now on"));
            model.set_held(
                s.vt,
                s.vt,
                Held {
                    partial: target,
                    keepalive: 0,
                },
            );
        }
        (_, Source::Sim(_)) => model.action(
            t,
            "the simulator models held requests only (R/r); keep-alive, bursts and signals need a server",
        ),
        (_, Source::Replay(_)) => model.action(t, "replay: space pause, n step, +/- speed"),
        (Action::Pause | Action::Faster | Action::Slower | Action::Step, Source::Live(_)) => {
            model.action(t, "live: the clock is the server's (space, n, +/- are for replay and simulator)")
        }
        (Action::Signal(name), Source::Live(l)) => match (l.pid, crate::lab::parse_signal(&format!("0:{name}"))) {
            (Some(pid), Ok((_, sig))) => {
                let r = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig);
                model.action(
                    l.now(),
                    match r {
                        Ok(()) => format!("sent {sig:?} ({name}) to {pid}"),
                        Err(e) => format!("{name}: kill {pid}: {e}"),
                    },
                );
            }
            (None, _) => model.action(t, format!("{name}: needs the parent's pid (--pid)")),
            (_, Err(e)) => model.action(t, e),
        },
        (a, Source::Live(_)) => {
            let Some(loader) = loader else {
                return;
            };
            match a {
                Action::AddPartial => loader.add_partial(),
                Action::ReleasePartial => loader.release_partial(),
                Action::AddKeepAlive => loader.add_keepalive(),
                Action::ReleaseKeepAlive => loader.release_keepalive(),
                Action::Burst => loader.burst(opts.burst),
                Action::Cgi => loader.add_cgi(),
                _ => {}
            }
        }
    }
}
