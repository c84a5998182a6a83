//! The terminal side of a `top` session: raw mode and the alternate screen, restored on every
//! way out (a guard, plus a panic hook in [`super::run`]); the signals that end a session from
//! outside; and the wait for a key that notices a terminal that hung up.
//!
//! Why not only crossterm's `event::poll`: on a terminal that has hung up (window closed, ssh
//! session lost) it spins without returning, so `top` would never stop the server it started.
//! [`wait_input`] polls stdin and a signalfd itself, and crossterm reads keys only when there
//! are bytes.

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::SignalFd;
use ratatui::crossterm::{execute, terminal};

/// Restores the terminal when dropped (normal exit, error, or unwinding panic).
pub struct TerminalGuard;

impl TerminalGuard {
    pub fn enter() -> std::io::Result<TerminalGuard> {
        terminal::enable_raw_mode()?;
        let guard = TerminalGuard;
        execute!(
            std::io::stdout(),
            terminal::EnterAlternateScreen,
            ratatui::crossterm::cursor::Hide
        )?;
        Ok(guard)
    }
}

pub fn restore_terminal() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(
        std::io::stdout(),
        terminal::LeaveAlternateScreen,
        ratatui::crossterm::cursor::Show
    );
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// The signals that end a session from outside (a closed terminal, `kill`, Ctrl-C when the
/// terminal is not in raw mode yet).
pub fn quit_signals() -> SigSet {
    let mut mask = SigSet::empty();
    for s in [
        Signal::SIGHUP,
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGQUIT,
    ] {
        mask.add(s);
    }
    mask
}

/// Block [`quit_signals`] in this thread, before it starts any other (threads inherit the mask),
/// and after it has spawned a server (a child inherits it too, and the server must see them).
/// The event loop reads them from a signalfd and quits as on `q`: without this a closed
/// terminal would kill `top` and leave the server it started running.
pub fn block_quit_signals() {
    let _ = quit_signals().thread_block();
}

/// What [`wait_input`] saw.
pub enum Input {
    /// Bytes from the terminal: keys for crossterm to read.
    Keys,
    /// A quit signal, or the terminal hung up (closed window, lost ssh session).
    Quit,
    /// 100 ms passed.
    Nothing,
}

/// Wait at most 100 ms for the terminal (stdin) or a quit signal (the signalfd).
pub fn wait_input(quit: &SignalFd) -> Result<Input, String> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;
    let stdin = std::io::stdin();
    let mut fds = [
        PollFd::new(stdin.as_fd(), PollFlags::POLLIN),
        PollFd::new(quit.as_fd(), PollFlags::POLLIN),
    ];
    match poll(&mut fds, PollTimeout::from(100u16)) {
        Ok(_) => {}
        Err(nix::errno::Errno::EINTR) => return Ok(Input::Nothing),
        Err(e) => return Err(format!("poll: {e}")),
    }
    let hung_up = PollFlags::POLLHUP | PollFlags::POLLERR | PollFlags::POLLNVAL;
    let got = |i: usize| fds[i].revents().unwrap_or(PollFlags::empty());
    if got(1).contains(PollFlags::POLLIN) || got(0).intersects(hung_up) {
        let _ = quit.read_signal();
        return Ok(Input::Quit);
    }
    Ok(if got(0).contains(PollFlags::POLLIN) {
        Input::Keys
    } else {
        Input::Nothing
    })
}
