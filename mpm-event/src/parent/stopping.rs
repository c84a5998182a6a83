//! Stopping the server (step 4 of [`super`]): SIGTERM's immediate stop and SIGWINCH's
//! graceful stop with GracefulShutdownTimeout.

use super::*;

impl Parent {
    /// Step 4, SIGTERM (and the end of every other stop).
    pub(super) fn stop(&mut self, fatal: bool) -> ExitCode {
        let live = self.live_children(true);
        self.pod.killpg_x(live.len(), PodxMsg::Restart);
        self.reclaim(&live, true);
        pidfile::remove(&self.config.pid_file, &self.log);
        if !fatal {
            self.log.log(
                MODULE,
                Level::Notice,
                format_args!("AH00491: caught SIGTERM, shutting down"),
            );
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }
    }

    /// Step 4, SIGWINCH.
    pub(super) fn graceful_stop(&mut self) -> ExitCode {
        self.listeners.clear();
        let live = self.live_children(false);
        self.pod.killpg_x(live.len(), PodxMsg::Graceful);
        pidfile::remove(&self.config.pid_file, &self.log);
        self.log.log(
            MODULE,
            Level::Notice,
            format_args!("AH00492: caught SIGWINCH, shutting down gracefully"),
        );
        let cutoff = (self.ev.graceful_shutdown_timeout > 0)
            .then(|| Instant::now() + Duration::from_secs(self.ev.graceful_shutdown_timeout));
        loop {
            if let Some(ParentSignal::Stop) = self.signals.wait(Duration::from_secs(1)) {
                break;
            }
            let _ = self.reap();
            if self.live_children(true).is_empty() || cutoff.is_some_and(|c| Instant::now() >= c) {
                break;
            }
        }
        let live = self.live_children(true);
        self.pod.killpg_x(live.len(), PodxMsg::Restart);
        self.reclaim(&live, true);
        ExitCode::SUCCESS
    }
}
