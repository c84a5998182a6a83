//! What every MPM binary does before its control process starts (`server/main.c: main` up to
//! `ap_run_mpm`, and `mpm_unix.c: ap_signal_server`):
//!
//! 1. Parse the command line ([`crate::cli::Args`]); `-h` prints help, a bad option prints usage
//!    and exits 1. `-E FILE` replaces stderr with FILE at once (`ap_replace_stderr_log`).
//! 2. `-v` (version), `-V` (compile settings), `-l` (compiled-in modules) and `-L` (directives)
//!    print and exit 0 without reading the configuration.
//! 3. Read the configuration ([`crate::config::load`]): `-f FILE`, else `DIR/apache2.conf` with
//!    `-d DIR`, else the embedded demo configuration. An error is printed in Apache's words and
//!    the exit status is 1.
//! 4. Run the MPM's check_config ([`CheckConfig`]). In a configuration run (`-t`, `-S`, `-M`,
//!    `-D DUMP_*`) its warnings (AH00180, AH00316, …) are printed on stderr, as Apache's
//!    `ap_run_check_config` does before `Syntax OK`, then the dumps ([`crate::dump`]) on stdout,
//!    then `Syntax OK` for a plain `-t`; exit 0. A check_config error exits 1.
//! 5. `-k`: read the PidFile named by the configuration (so a broken config aborts the command,
//!    as in Apache) and signal the running parent: `stop` TERM, `graceful-stop` WINCH, `restart`
//!    HUP, `graceful` USR1; `start`, or `restart`/`graceful` with nothing running, go on to run.
//! 6. Otherwise return [`Startup::Run`]: the MPM takes over. First-pass warnings
//!    (`ServerConfig::startup_warnings`) are printed by the MPM, next to its own, and the MPM
//!    calls [`crate::service::open_logs`], which detaches when [`Started::detach`] says so.

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::cli::{Args, KCommand};
pub use crate::config::MpmIdent;
use crate::config::{self, ConfigError, ServerConfig};
use crate::log::Level;
use crate::service::{DetachMode, detach_mode};
use crate::{SERVER_BUILT, SERVER_VERSION};

/// The outcome of [`startup`].
pub enum Startup {
    /// Run the server with this configuration.
    Run(Box<Started>),
    /// Done (`-t`, `-v`, `-V`, `-L`, `-k stop`, …, or an error already printed): exit with this code.
    Exit(ExitCode),
}

/// A server about to run.
#[derive(Debug, Clone)]
pub struct Started {
    pub args: Args,
    pub config: ServerConfig,
    /// `-X`: one process, no children.
    pub one_process: bool,
    /// The command line as typed, for core notice AH00094 "Command line: '…'".
    pub command_line: String,
    /// Which MPM this is (added: `reload` needs it).
    pub ident: MpmIdent,
    /// Whether [`crate::service::open_logs`] detaches (`-k start`).
    pub detach: DetachMode,
}

/// The MPM's check_config at first start: the warnings it prints on the console (startup form,
/// code included), or the message of a configuration it refuses.
pub type CheckConfig = fn(&ServerConfig) -> Result<Vec<String>, String>;

impl Started {
    /// `-e LEVEL`: the level of the messages printed before the error log is open (warn).
    pub fn startup_log_level(&self) -> Level {
        self.args.startup_log_level.unwrap_or(Level::Warn)
    }

    /// [`crate::service::open_logs`] with this start's settings.
    /// mod_cgid's daemon starts here, before any child (`cgid_init`).
    pub fn open_logs(&self) -> Result<crate::service::Opened, ExitCode> {
        let opened = crate::service::open_logs(
            &self.config,
            self.ident.binary,
            self.startup_log_level(),
            self.detach,
        )?;
        crate::modules::cgid::start_if_loaded(&self.config, &opened.log);
        // mod_mime's post_config: a TypesConfig that cannot be read stops the start (`-t`
        // passed: Apache reads the file only here).
        if let Some(p) = &self.config.types_config
            && let Err(e) = std::fs::File::open(p)
        {
            opened.log.log(
                "mime",
                Level::Error,
                format_args!(
                    "({}){}: AH01597: could not open mime types config file {}.",
                    e.raw_os_error().unwrap_or(0),
                    config::parse::io_text(&e),
                    p.display()
                ),
            );
            eprintln!("AH00016: Configuration Failed");
            return Err(ExitCode::from(1));
        }
        Ok(opened)
    }

    /// Re-read the configuration with the same command-line options (restart, graceful restart).
    /// A restart clears Apache's log pool: the old generation's piped loggers stop and the new
    /// configuration's start here, before the MPM reopens its logs and forks (`log::piped`
    /// step 5).
    pub fn reload(&self) -> Result<ServerConfig, ConfigError> {
        let cfg = config::load(&self.args.config_options(), &self.ident)?;
        crate::log::piped::restart();
        crate::log::open_piped_logs(&cfg).map_err(|e| ConfigError {
            argv0: self.ident.binary.to_string(),
            ..ConfigError::general(format!("{e}\nAH00015: Unable to open logs"))
        })?;
        Ok(cfg)
    }
}

/// Steps 1–6 of the module doc.
pub fn startup(
    ident: &MpmIdent,
    check_config: CheckConfig,
    argv: impl IntoIterator<Item = OsString>,
) -> Startup {
    let argv: Vec<OsString> = argv.into_iter().collect();
    let command_line = argv
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let mut args = match Args::parse_for(ident, argv) {
        Ok(a) => a,
        Err(e) => {
            // Help goes to stdout with status 0; usage errors to stderr with status 1 (httpd's usage()).
            let _ = e.print();
            return Startup::Exit(if e.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            });
        }
    };
    if let Some(f) = &args.startup_log_file {
        crate::service::replace_stderr(f, ident.binary);
    }
    // A detached daemon works in `/`: paths given relative to here must not change meaning.
    for p in [&mut args.config_file, &mut args.server_root]
        .into_iter()
        .flatten()
    {
        if p.is_relative()
            && let Ok(cwd) = std::env::current_dir()
        {
            *p = cwd.join(&*p);
        }
    }
    if args.version {
        print!("{}", version_text());
        return Startup::Exit(ExitCode::SUCCESS);
    }
    if args.list_modules {
        print!("{}", crate::dump::compiled_modules(ident));
        return Startup::Exit(ExitCode::SUCCESS);
    }
    if args.compile_settings {
        print!("{}", compile_settings(ident));
        return Startup::Exit(ExitCode::SUCCESS);
    }
    if args.list_directives {
        print!("{}", config::directives::directive_list_text(ident));
        return Startup::Exit(ExitCode::SUCCESS);
    }
    let config = match config::load(&args.config_options(), ident) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return Startup::Exit(ExitCode::from(1));
        }
    };
    if args.test_config || args.is_config_dump() {
        return Startup::Exit(config_run(ident, check_config, &args, &config));
    }
    if let Some(k) = args.command
        && let Some(code) = signal_server(k, &config)
    {
        return Startup::Exit(code);
    }
    let one_process = args.one_process;
    let detach = detach_mode(&args);
    Startup::Run(Box::new(Started {
        args,
        config,
        one_process,
        command_line,
        ident: *ident,
        detach,
    }))
}

/// Step 4 for `-t`, `-S`, `-M` and `-D DUMP_*`: the exit status.
fn config_run(
    ident: &MpmIdent,
    check_config: CheckConfig,
    args: &Args,
    config: &ServerConfig,
) -> ExitCode {
    for w in &config.startup_warnings {
        eprintln!("{w}");
    }
    match check_config(config) {
        Ok(warnings) => {
            for w in warnings {
                eprintln!("{w}");
            }
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    }
    print!("{}", crate::dump::for_defines(ident, config));
    let _ = std::io::stdout().flush();
    if args.is_config_test() {
        if config.config_file.is_none() {
            // Without -f or -d there is no file to check: say which configuration passed, so
            // `apache2ctl configtest` without APACHE_ARGUMENTS is not taken for a real check.
            eprintln!(
                "{}: no -f or -d given: checked the built-in demo configuration",
                ident.binary
            );
        }
        eprintln!("Syntax OK");
    }
    ExitCode::SUCCESS
}

/// `-v`.
pub fn version_text() -> String {
    format!("Server version: {SERVER_VERSION}\nServer built:   {SERVER_BUILT}\n")
}

/// `-V` (`main.c: show_compile_settings`, `show_mpm_settings`), with the compiled-in limits.
pub fn compile_settings(ident: &MpmIdent) -> String {
    let (threaded, limits) = match ident.name {
        "prefork" => (
            "no",
            " -D HARD_SERVER_LIMIT=200000 (MAX_SERVER_LIMIT)\n -D DEFAULT_SERVER_LIMIT=256\n",
        ),
        "worker" => (
            "yes (fixed thread count)",
            " -D HARD_SERVER_LIMIT=20000 (MAX_SERVER_LIMIT)\n -D HARD_THREAD_LIMIT=20000 (MAX_THREAD_LIMIT)\n -D DEFAULT_SERVER_LIMIT=16\n -D DEFAULT_THREAD_LIMIT=64\n",
        ),
        _ => (
            "yes (fixed thread count)",
            " -D HARD_SERVER_LIMIT=20000 (MAX_SERVER_LIMIT)\n -D HARD_THREAD_LIMIT=100000 (MAX_THREAD_LIMIT)\n -D DEFAULT_SERVER_LIMIT=16\n -D DEFAULT_THREAD_LIMIT=64\n",
        ),
    };
    format!(
        "{}Architecture:   {}-bit\nServer MPM:     {}\n  threaded:     {threaded}\n    forked:     yes (variable process count)\n\
         Server compiled with....\n{limits} -D DEFAULT_PIDLOG=\"logs/httpd.pid\"\n -D DEFAULT_ERRORLOG=\"logs/error_log\"\n \
         -D DEFAULT_LISTENBACKLOG=511\n -D HTTPD_ROOT=\"/tmp/mpm-lab-{}-<uid>\"\n -D SERVER_CONFIG_FILE=\"{}\" (with -d; without -f and -d: built in, httpd-core/conf/default.conf)\n",
        version_text(),
        usize::BITS,
        ident.name,
        ident.binary,
        crate::config::SERVER_CONFIG_FILE
    )
}

/// Step 5 (`ap_signal_server`). `None` = go on and run the server.
fn signal_server(k: KCommand, cfg: &ServerConfig) -> Option<ExitCode> {
    let pid = std::fs::read_to_string(&cfg.pid_file)
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok())
        .filter(|p| *p > 0);
    let running = pid.is_some_and(|p| kill(Pid::from_raw(p), None).is_ok());
    let status = match pid {
        None => "httpd (no pid file) not running".to_string(),
        Some(p) if running => format!("httpd (pid {p}) already running"),
        Some(p) => format!("httpd (pid {p}?) not running"),
    };
    let say = |s: &str| {
        println!("{s}");
        let _ = std::io::stdout().flush();
    };
    let sig = match k {
        KCommand::Start => {
            if running {
                say(&status);
                return Some(ExitCode::SUCCESS);
            }
            return None;
        }
        KCommand::Stop | KCommand::GracefulStop if !running => {
            say(&status);
            return Some(ExitCode::SUCCESS);
        }
        KCommand::Restart | KCommand::Graceful if !running => {
            say("httpd not running, trying to start");
            return None;
        }
        KCommand::Stop => Signal::SIGTERM,
        KCommand::GracefulStop => Signal::SIGWINCH,
        KCommand::Restart => Signal::SIGHUP,
        KCommand::Graceful => Signal::SIGUSR1,
    };
    // `running` implies `pid` is Some.
    let p = pid.unwrap_or_default();
    if let Err(e) = kill(Pid::from_raw(p), sig) {
        eprintln!(
            "httpd: sending signal {} to pid {p} failed: {}",
            sig.as_str(),
            e.desc()
        );
        return Some(ExitCode::from(1));
    }
    Some(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn no_warnings(_: &ServerConfig) -> Result<Vec<String>, String> {
        Ok(Vec::new())
    }

    fn run(args: &[&str]) -> Startup {
        startup(
            &MpmIdent::PREFORK,
            no_warnings,
            std::iter::once("mpm-prefork")
                .chain(args.iter().copied())
                .map(OsString::from),
        )
    }
    fn exit_code(s: Startup) -> Option<ExitCode> {
        match s {
            Startup::Exit(c) => Some(c),
            Startup::Run(_) => None,
        }
    }
    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("mpm-lab-startup-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }
    /// A config whose PidFile is `dir/httpd.pid`.
    fn conf(d: &std::path::Path) -> String {
        let f = d.join("httpd.conf");
        std::fs::write(
            &f,
            format!(
                "Listen 127.0.0.1:0\nPidFile {}/httpd.pid\nErrorLog {}/error_log\n",
                d.display(),
                d.display()
            ),
        )
        .unwrap();
        f.display().to_string()
    }

    #[test]
    fn config_startup_informational_options_exit_0() {
        assert_eq!(exit_code(run(&["-v"])), Some(ExitCode::SUCCESS));
        assert_eq!(exit_code(run(&["-V"])), Some(ExitCode::SUCCESS));
        assert_eq!(exit_code(run(&["-L"])), Some(ExitCode::SUCCESS));
        assert_eq!(
            exit_code(run(&["-t"])),
            Some(ExitCode::SUCCESS),
            "the embedded config is valid"
        );
        assert_eq!(exit_code(run(&["-Z"])), Some(ExitCode::from(1)));
        assert!(
            version_text().starts_with("Server version: mpm-lab/0.1.0 (Unix)\nServer built:   ")
        );
        assert!(compile_settings(&MpmIdent::WORKER).contains("Server MPM:     worker\n"));
        assert!(compile_settings(&MpmIdent::PREFORK).contains("HARD_SERVER_LIMIT=200000"));
    }

    #[test]
    fn config_startup_bad_config_exits_1_and_good_one_runs() {
        let d = dir("bad");
        let f = d.join("bad.conf");
        std::fs::write(&f, "Nonsense here\n").unwrap();
        assert_eq!(
            exit_code(run(&["-t", "-f", &f.display().to_string()])),
            Some(ExitCode::from(1))
        );
        assert_eq!(
            exit_code(run(&["-f", &f.display().to_string()])),
            Some(ExitCode::from(1))
        );
        let good = conf(&d);
        match run(&["-f", &good, "-X", "-D", "FOREGROUND"]) {
            Startup::Run(s) => {
                assert!(s.one_process);
                assert_eq!(
                    s.command_line,
                    format!("mpm-prefork -f {good} -X -D FOREGROUND")
                );
                assert!(s.config.defines.contains(&"DEBUG".to_string()));
                assert_eq!(s.reload().unwrap().pid_file, d.join("httpd.pid"));
            }
            Startup::Exit(c) => panic!("expected Run, got {c:?}"),
        }
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn config_startup_k_commands_use_the_pid_file() {
        let d = dir("k");
        let f = conf(&d);
        // Nothing running: stop and graceful-stop just say so; restart/graceful/start go on to run.
        assert_eq!(
            exit_code(run(&["-f", &f, "-k", "stop"])),
            Some(ExitCode::SUCCESS)
        );
        assert_eq!(
            exit_code(run(&["-f", &f, "-k", "graceful-stop"])),
            Some(ExitCode::SUCCESS)
        );
        assert!(exit_code(run(&["-f", &f, "-k", "restart"])).is_none());
        assert!(exit_code(run(&["-f", &f, "-k", "graceful"])).is_none());
        assert!(exit_code(run(&["-f", &f, "-k", "start"])).is_none());
        // A running "server" (a child we spawn, never fork): start refuses, stop sends SIGTERM.
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        std::fs::write(d.join("httpd.pid"), format!("{}\n", child.id())).unwrap();
        assert_eq!(
            exit_code(run(&["-f", &f, "-k", "start"])),
            Some(ExitCode::SUCCESS)
        );
        assert_eq!(
            exit_code(run(&["-f", &f, "-k", "stop"])),
            Some(ExitCode::SUCCESS)
        );
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGTERM));
        // A config error aborts -k before the pid file is read.
        assert_eq!(
            exit_code(run(&["-f", &f, "-c", "Bogus", "-k", "stop"])),
            Some(ExitCode::from(1))
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}
