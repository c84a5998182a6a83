//! mod_reqtimeout: a deadline for reading a request's header and body, so that a slow client
//! (slowloris) cannot hold a prefork child or a worker thread for a whole `Timeout`
//! (Apache `modules/filters/mod_reqtimeout.c`).
//!
//! `RequestReadTimeout handshake=0 header=20-40,MinRate=500 body=20,MinRate=500` (the defaults
//! of `MRT_DEFAULT_*`, in force as soon as `LoadModule reqtimeout_module` is in the
//! configuration, as Debian's `mods-enabled/reqtimeout.load` does). Per stage:
//!
//! 1. The stage starts at its first read: the deadline is now + `timeout` seconds, and the hard
//!    limit now + `max` seconds (when a range `timeout-max` is given).
//! 2. Every read of `n` bytes moves the deadline by `n / MinRate` seconds (Apache's
//!    `rate_factor`, whole microseconds per byte), never past the hard limit (`extend_timeout`).
//! 3. Each read waits at most the time left (rounded up to whole seconds), at least one
//!    second, and never more than `Timeout` (`check_time_left`, `MIN(time_left,
//!    saved_sock_timeout)`).
//! 4. When the deadline has passed the read fails: `AH01382: Request header read timeout`
//!    (info, module `reqtimeout`), the connection loses keep-alive and lingers only 2 s
//!    (`short-lingering-close`). In the header a 408 page answers (`"-" 408` in the access log
//!    when the request line itself never completed); in the body the handler's read fails
//!    with 408.
//!
//! The header stage starts when the worker starts reading a request: for a keep-alive
//! connection that is once its next request's first byte has arrived (Apache's
//! `in_keep_alive`: the wait before it is KeepAliveTimeout's). The body stage starts when the
//! handler first reads the body; both end when the response has been written (the `EOR` filter).
//!
//! Per virtual host (`reqtimeout_merge_srv_config`): a `<VirtualHost>` may set its own stages;
//! those it leaves unset are the main server's. Which server's stages apply is Apache's choice:
//! 5. The connection is configured (or not) from `c->base_server`, the server chosen by the
//!    local address alone (the first vhost of that address, else the main server): its stages
//!    all off means no deadline at all on this connection (`reqtimeout_init`).
//! 6. The header stage uses that same address-chosen server: the `Host` is not known before
//!    the header has been read (`reqtimeout_before_header`).
//! 7. The body stage uses the server the request was answered by, chosen by `Host`
//!    (`r->server`, `reqtimeout_before_body`).
//!
//! What this leaves out: the `handshake` stage is parsed and kept, but mpm-lab has no TLS, so
//! there is no handshake to time (Apache without mod_ssl behaves the same way: the header stage
//! replaces it before the first read). `CONNECT` requests, which Apache exempts from the body
//! stage, are not served by mpm-lab at all.

use std::fmt;
use std::time::{Duration, Instant};

/// The three stages, named as the AH01382 message names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageKind {
    Handshake,
    Header,
    Body,
}

impl StageKind {
    /// The word in `Request %s read timeout`.
    pub fn as_str(self) -> &'static str {
        match self {
            StageKind::Handshake => "handshake",
            StageKind::Header => "header",
            StageKind::Body => "body",
        }
    }
}

impl fmt::Display for StageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One stage as configured: `timeout[-max][,MinRate=rate]`. Zero means "not set" for `max`
/// and `min_rate`, and "disabled" for `timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stage {
    /// Initial timeout, seconds.
    pub timeout: u32,
    /// Hard limit, seconds (0: none).
    pub max_timeout: u32,
    /// Bytes per second that extend the deadline (0: no extension).
    pub min_rate: u32,
}

impl Stage {
    /// `MRT_DEFAULT_handshake_*`: disabled.
    pub const DEFAULT_HANDSHAKE: Stage = Stage {
        timeout: 0,
        max_timeout: 0,
        min_rate: 0,
    };
    /// `MRT_DEFAULT_header_*`: `header=20-40,MinRate=500`.
    pub const DEFAULT_HEADER: Stage = Stage {
        timeout: 20,
        max_timeout: 40,
        min_rate: 500,
    };
    /// `MRT_DEFAULT_body_*`: `body=20,MinRate=500`.
    pub const DEFAULT_BODY: Stage = Stage {
        timeout: 20,
        max_timeout: 0,
        min_rate: 500,
    };

    /// Apache's `rate_factor`: whole microseconds per byte (`apr_time_from_sec(1) / min_rate`).
    fn rate_factor(&self) -> Duration {
        match self.min_rate {
            0 => Duration::ZERO,
            r => Duration::from_micros(1_000_000 / u64::from(r)),
        }
    }
}

/// What `RequestReadTimeout` directives said; `None` = the stage was never named (UNSET: the
/// compiled-in default applies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReqTimeoutSetting {
    pub handshake: Option<Stage>,
    pub header: Option<Stage>,
    pub body: Option<Stage>,
}

/// The stages in force on a server where the module is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReqTimeout {
    pub handshake: Stage,
    pub header: Stage,
    pub body: Stage,
}

impl ReqTimeout {
    /// The stage named `kind`.
    pub fn stage(&self, kind: StageKind) -> Stage {
        match kind {
            StageKind::Handshake => self.handshake,
            StageKind::Header => self.header,
            StageKind::Body => self.body,
        }
    }
}

impl ReqTimeoutSetting {
    /// `reqtimeout_merge_srv_config`: this vhost's stages over the main server's.
    pub fn merged_over(&self, base: &ReqTimeoutSetting) -> ReqTimeoutSetting {
        ReqTimeoutSetting {
            handshake: self.handshake.or(base.handshake),
            header: self.header.or(base.header),
            body: self.body.or(base.body),
        }
    }

    /// The stages with the defaults filled in; `None` when every stage is off
    /// (`reqtimeout_init`: "disabled for this vhost"), so connections pay nothing.
    pub fn effective(&self) -> Option<ReqTimeout> {
        let rt = ReqTimeout {
            handshake: self.handshake.unwrap_or(Stage::DEFAULT_HANDSHAKE),
            header: self.header.unwrap_or(Stage::DEFAULT_HEADER),
            body: self.body.unwrap_or(Stage::DEFAULT_BODY),
        };
        let off = rt.handshake.timeout == 0 && rt.header.timeout == 0 && rt.body.timeout == 0;
        (!off).then_some(rt)
    }

    /// `set_reqtimeouts`: the directive's raw arguments, `key=value` words. Errors are
    /// Apache's texts, e.g. `RequestReadTimeout: header=20-10,MinRate=5: Maximum timeout must
    /// be larger than initial timeout`.
    pub fn apply(&mut self, raw: &str) -> Result<(), String> {
        let mut rest = raw;
        loop {
            let (word, after) = crate::config::parse::getword_conf(rest);
            rest = after;
            if word.is_empty() {
                return Ok(());
            }
            let Some((key, val)) = word.split_once('=') else {
                return Err("Invalid RequestReadTimeout parameter. Parameter must be in the form 'key=value'".into());
            };
            let slot = match key.to_ascii_lowercase().as_str() {
                "handshake" => &mut self.handshake,
                "header" => &mut self.header,
                "body" => &mut self.body,
                _ => {
                    return Err(format!(
                        "RequestReadTimeout: {key}={val}: Unknown RequestReadTimeout parameter"
                    ));
                }
            };
            *slot = Some(
                parse_stage(val).map_err(|e| format!("RequestReadTimeout: {key}={val}: {e}"))?,
            );
        }
    }
}

/// `parse_int`: `strtol` base 10, the whole word, non-negative.
fn parse_int(s: &str) -> Result<u32, String> {
    let digits_end = s
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))))
        .map_or(s.len(), |(i, _)| i);
    let (num, tail) = s.split_at(digits_end);
    if num.is_empty() || num == "-" || num == "+" {
        return Err(format!("Value '{s}' not numerical"));
    }
    if !tail.is_empty() {
        return Err(format!("Cannot parse '{tail}'"));
    }
    let v: i64 = num.parse().map_err(|_| format!("Cannot parse '{s}'"))?;
    if v < 0 {
        return Err("Value must be non-negative".into());
    }
    u32::try_from(v).map_err(|_| format!("Cannot parse '{s}'"))
}

/// `set_reqtimeout_param` for one value: `20`, `20-40,MinRate=500`, `20,minrate=500`.
fn parse_stage(val: &str) -> Result<Stage, String> {
    let mut stage = Stage::default();
    let lower = val.to_ascii_lowercase();
    if let Some(at) = lower.find(",minrate=") {
        stage.min_rate = parse_int(&val[at + ",minrate=".len()..])?;
        if stage.min_rate == 0 {
            return Err("Minimum data rate must be larger than 0".into());
        }
        let initial = &val[..at];
        let initial = match initial.split_once('-') {
            Some((first, max)) => {
                stage.max_timeout = parse_int(max)?;
                first
            }
            None => initial,
        };
        stage.timeout = parse_int(initial)?;
    } else {
        if val.contains('-') {
            return Err("Must set MinRate option if using timeout range".into());
        }
        stage.timeout = parse_int(val)?;
    }
    if stage.max_timeout != 0 && stage.timeout >= stage.max_timeout {
        return Err("Maximum timeout must be larger than initial timeout".into());
    }
    Ok(stage)
}

/// One running stage of one connection (Apache's `reqtimeout_con_cfg`).
#[derive(Debug, Clone, Copy)]
pub struct StageClock {
    pub kind: StageKind,
    timeout_at: Instant,
    max_timeout_at: Option<Instant>,
    rate_factor: Duration,
    /// The server's `Timeout`: no single read waits longer.
    socket_timeout: Duration,
}

/// Time is up for this stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeUp;

impl StageClock {
    /// Step 1: start `stage` at `now`; `None` when the stage is disabled.
    pub fn start(
        kind: StageKind,
        stage: &Stage,
        now: Instant,
        socket_timeout: Duration,
    ) -> Option<StageClock> {
        if stage.timeout == 0 {
            return None;
        }
        Some(StageClock {
            kind,
            timeout_at: now + Duration::from_secs(stage.timeout.into()),
            max_timeout_at: (stage.max_timeout > 0)
                .then(|| now + Duration::from_secs(stage.max_timeout.into())),
            rate_factor: stage.rate_factor(),
            socket_timeout,
        })
    }

    /// Step 3: how long the next read may wait, or [`TimeUp`]. Whole seconds, rounded up: a
    /// cut comes at most a second late, the slack Apache's one-second minimum wait gives too,
    /// and successive reads of a stage ask for the same value, so the socket's timeout is not
    /// set again for every read.
    pub fn read_timeout(&self, now: Instant) -> Result<Duration, TimeUp> {
        let left = self.timeout_at.saturating_duration_since(now);
        if left.is_zero() {
            return Err(TimeUp);
        }
        let whole = Duration::from_secs(left.as_secs() + u64::from(left.subsec_nanos() > 0));
        Ok(whole.max(Duration::from_secs(1)).min(self.socket_timeout))
    }

    /// Step 2: `n` bytes arrived.
    pub fn extend(&mut self, n: usize) {
        if self.rate_factor.is_zero() || n == 0 {
            return;
        }
        let by = self
            .rate_factor
            .saturating_mul(u32::try_from(n).unwrap_or(u32::MAX));
        let new = self.timeout_at + by;
        self.timeout_at = match self.max_timeout_at {
            Some(max) if new > max => max,
            _ => new,
        };
    }

    /// The current deadline (for tests and the book).
    pub fn deadline(&self) -> Instant {
        self.timeout_at
    }
}

/// A connection's read deadline as [`crate::http::input::Input`] carries it: off, armed for a
/// stage (the stage was entered; its clock starts at the first read, as Apache's filter sets
/// `timeout_at` on its first call), or running.
#[derive(Debug, Clone, Copy, Default)]
pub enum ReadDeadline {
    #[default]
    Off,
    Armed {
        kind: StageKind,
        stage: Stage,
        socket_timeout: Duration,
    },
    Running(StageClock),
}

impl ReadDeadline {
    /// Enter `kind` (`reqtimeout_before_header`, `reqtimeout_before_body`).
    pub fn arm(&mut self, kind: StageKind, stage: Stage, socket_timeout: Duration) {
        *self = ReadDeadline::Armed {
            kind,
            stage,
            socket_timeout,
        };
    }

    /// The response is written (the `EOR` bucket): no deadline until the next stage.
    pub fn disarm(&mut self) {
        *self = ReadDeadline::Off;
    }

    /// Before a blocking read: start an armed clock, then how long the read may wait
    /// (`Ok(None)`: no deadline, keep the socket's timeout), or which stage ran out.
    pub fn before_read(&mut self, now: Instant) -> Result<Option<Duration>, StageKind> {
        if let ReadDeadline::Armed {
            kind,
            stage,
            socket_timeout,
        } = *self
        {
            *self = match StageClock::start(kind, &stage, now, socket_timeout) {
                Some(c) => ReadDeadline::Running(c),
                None => ReadDeadline::Off,
            };
        }
        match self {
            ReadDeadline::Running(c) => c.read_timeout(now).map(Some).map_err(|TimeUp| c.kind),
            _ => Ok(None),
        }
    }

    /// After a read of `n` bytes.
    pub fn after_read(&mut self, n: usize) {
        if let ReadDeadline::Running(c) = self {
            c.extend(n);
        }
    }

    /// The running stage, if any (a read that timed out under it is a reqtimeout timeout).
    pub fn running(&self) -> Option<StageKind> {
        match self {
            ReadDeadline::Running(c) => Some(c.kind),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(raw: &str) -> Result<ReqTimeoutSetting, String> {
        let mut s = ReqTimeoutSetting::default();
        s.apply(raw).map(|()| s)
    }

    #[test]
    fn reqtimeout_defaults_are_debians_line() {
        assert_eq!(
            ReqTimeoutSetting::default().effective(),
            set("header=20-40,MinRate=500 body=20,MinRate=500")
                .unwrap()
                .effective()
        );
        assert_eq!(set("header=0 body=0").unwrap().effective(), None);
        let only_body = set("header=0").unwrap().effective().unwrap();
        assert_eq!(only_body.body, Stage::DEFAULT_BODY);
        assert_eq!(only_body.header.timeout, 0);
    }

    #[test]
    fn reqtimeout_parsing_and_apache_messages() {
        let s = set("handshake=5 Header=10-30,minrate=100 body=7").unwrap();
        assert_eq!(
            s.header,
            Some(Stage {
                timeout: 10,
                max_timeout: 30,
                min_rate: 100
            })
        );
        assert_eq!(s.handshake.unwrap().timeout, 5);
        assert_eq!(
            s.body,
            Some(Stage {
                timeout: 7,
                max_timeout: 0,
                min_rate: 0
            })
        );
        for (raw, msg) in [
            (
                "header",
                "Invalid RequestReadTimeout parameter. Parameter must be in the form 'key=value'",
            ),
            (
                "foo=1",
                "RequestReadTimeout: foo=1: Unknown RequestReadTimeout parameter",
            ),
            (
                "header=20-40",
                "RequestReadTimeout: header=20-40: Must set MinRate option if using timeout range",
            ),
            (
                "header=40-20,MinRate=5",
                "RequestReadTimeout: header=40-20,MinRate=5: Maximum timeout must be larger than initial timeout",
            ),
            (
                "body=1,MinRate=0",
                "RequestReadTimeout: body=1,MinRate=0: Minimum data rate must be larger than 0",
            ),
            (
                "body=x",
                "RequestReadTimeout: body=x: Value 'x' not numerical",
            ),
            ("body=5s", "RequestReadTimeout: body=5s: Cannot parse 's'"),
            // As in Apache, the '-' is read as a range first.
            (
                "body=-5",
                "RequestReadTimeout: body=-5: Must set MinRate option if using timeout range",
            ),
            (
                "body=5,MinRate=-1",
                "RequestReadTimeout: body=5,MinRate=-1: Value must be non-negative",
            ),
        ] {
            assert_eq!(set(raw).unwrap_err(), msg, "{raw}");
        }
    }

    #[test]
    fn reqtimeout_clock_extends_by_min_rate_up_to_the_maximum() {
        let t0 = Instant::now();
        let stage = Stage {
            timeout: 2,
            max_timeout: 5,
            min_rate: 100,
        };
        let mut c =
            StageClock::start(StageKind::Header, &stage, t0, Duration::from_secs(60)).unwrap();
        assert_eq!(c.deadline(), t0 + Duration::from_secs(2));
        c.extend(50); // 50 bytes at 100 B/s: half a second more
        assert_eq!(c.deadline(), t0 + Duration::from_millis(2500));
        c.extend(10_000); // capped by the maximum
        assert_eq!(c.deadline(), t0 + Duration::from_secs(5));
        assert_eq!(c.read_timeout(t0), Ok(Duration::from_secs(5)));
        // Never less than one second per read, never more than Timeout, TimeUp once past.
        assert_eq!(
            c.read_timeout(t0 + Duration::from_millis(4900)),
            Ok(Duration::from_secs(1))
        );
        assert_eq!(c.read_timeout(t0 + Duration::from_secs(5)), Err(TimeUp));
        let short = StageClock::start(StageKind::Body, &stage, t0, Duration::from_secs(1)).unwrap();
        assert_eq!(short.read_timeout(t0), Ok(Duration::from_secs(1)));
        assert!(
            StageClock::start(StageKind::Body, &Stage::default(), t0, Duration::ZERO).is_none()
        );
    }

    #[test]
    fn reqtimeout_deadline_starts_at_the_first_read() {
        let t0 = Instant::now();
        let mut d = ReadDeadline::default();
        assert_eq!(d.before_read(t0), Ok(None));
        d.arm(
            StageKind::Body,
            Stage::DEFAULT_BODY,
            Duration::from_secs(60),
        );
        assert_eq!(d.running(), None);
        let later = t0 + Duration::from_secs(100);
        assert_eq!(d.before_read(later), Ok(Some(Duration::from_secs(20))));
        assert_eq!(d.running(), Some(StageKind::Body));
        d.after_read(500); // one second's worth at MinRate=500
        assert_eq!(
            d.before_read(later + Duration::from_secs(20)),
            Ok(Some(Duration::from_secs(1)))
        );
        assert_eq!(
            d.before_read(later + Duration::from_secs(21)),
            Err(StageKind::Body)
        );
        d.disarm();
        assert_eq!(d.before_read(later + Duration::from_secs(99)), Ok(None));
    }
}
