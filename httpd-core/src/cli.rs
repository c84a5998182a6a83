//! The command line shared by `mpm-prefork`, `mpm-worker` and `mpm-event`: httpd's own options
//! (`server/main.c: usage`), parsed with clap.
//!
//! Without `-k`, a server stays attached to the terminal (a teaching tool: you see the log and
//! stop it with Ctrl-C); Apache would detach. `-k start` detaches as Apache does unless
//! `-D FOREGROUND` or `-X` is given ([`crate::service`]). Without `-f` and `-d` the embedded
//! demo configuration is used; with `-d DIR` and no `-f`, `DIR/apache2.conf`
//! ([`crate::config::SERVER_CONFIG_FILE`]), as Debian's apache2 does.

use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};

use crate::config::{ConfigOptions, MpmIdent};

/// `-k` commands (`mpm_unix.c: ap_signal_server`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KCommand {
    /// Check the PidFile, then start and detach (unless -D FOREGROUND).
    Start,
    /// SIGTERM to the running parent.
    Stop,
    /// SIGHUP to the running parent.
    Restart,
    /// SIGUSR1 to the running parent.
    Graceful,
    /// SIGWINCH to the running parent.
    GracefulStop,
}

impl KCommand {
    /// As typed after `-k`.
    pub fn as_str(self) -> &'static str {
        match self {
            KCommand::Start => "start",
            KCommand::Stop => "stop",
            KCommand::Restart => "restart",
            KCommand::Graceful => "graceful",
            KCommand::GracefulStop => "graceful-stop",
        }
    }
}

/// httpd's options. Run with `-h` for the text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Parser)]
#[command(
    disable_version_flag = true,
    about = "An Apache httpd 2.4 MPM rebuilt in Rust, for labs. Without -k it runs in the \
             foreground: watch the error log in this terminal, stop it with Ctrl-C or `-k stop`. \
             `-k start` detaches as Apache does (a service; -D FOREGROUND keeps it attached)."
)]
pub struct Args {
    /// Specify an alternate ServerConfigFile (default: DIR/apache2.conf with -d DIR, else the built-in demo configuration).
    #[arg(short = 'f', value_name = "file")]
    pub config_file: Option<PathBuf>,
    /// Specify an alternate initial ServerRoot (without -f, the configuration is DIR/apache2.conf).
    #[arg(short = 'd', value_name = "directory")]
    pub server_root: Option<PathBuf>,
    /// Process directive before reading config files.
    #[arg(short = 'C', value_name = "directive", allow_hyphen_values = true)]
    pub pre_directives: Vec<String>,
    /// Process directive after reading config files.
    #[arg(short = 'c', value_name = "directive", allow_hyphen_values = true)]
    pub post_directives: Vec<String>,
    // (help given as an attribute: rustdoc would read `<IfDefine name>` as an HTML tag)
    #[arg(
        short = 'D',
        value_name = "name",
        help = "Define a parameter for use in <IfDefine name> directives."
    )]
    pub defines: Vec<String>,
    /// Run syntax check for config files.
    #[arg(short = 't')]
    pub test_config: bool,
    /// Start without DocumentRoot(s) check.
    #[arg(short = 'T')]
    pub no_document_root_check: bool,
    /// A synonym for -t -D DUMP_VHOSTS -D DUMP_RUN_CFG (show parsed settings).
    #[arg(short = 'S')]
    pub dump_settings: bool,
    /// A synonym for -t -D DUMP_MODULES (show all loaded modules).
    #[arg(short = 'M')]
    pub dump_modules: bool,
    /// List compiled in modules.
    #[arg(short = 'l')]
    pub list_modules: bool,
    /// Show startup errors of level (see LogLevel).
    #[arg(short = 'e', value_name = "level", value_parser = parse_level)]
    pub startup_log_level: Option<crate::log::Level>,
    /// Log startup errors to file.
    #[arg(short = 'E', value_name = "file")]
    pub startup_log_file: Option<PathBuf>,
    /// Show version number.
    #[arg(short = 'v')]
    pub version: bool,
    /// Show compile settings.
    #[arg(short = 'V')]
    pub compile_settings: bool,
    /// Debug mode: one process, no children (only one worker).
    #[arg(short = 'X')]
    pub one_process: bool,
    /// Signal a running server (reads the PidFile), or check the PidFile and start.
    #[arg(
        short = 'k',
        value_enum,
        value_name = "start|restart|graceful|graceful-stop|stop"
    )]
    pub command: Option<KCommand>,
    /// List available configuration directives.
    #[arg(short = 'L')]
    pub list_directives: bool,
}

impl Args {
    /// Parse `argv` (program name first). `Err` carries clap's message and whether it is a
    /// help request (exit 0) or a usage error (exit 1, as httpd's `usage()`).
    pub fn parse_for(
        mpm: &MpmIdent,
        argv: impl IntoIterator<Item = std::ffi::OsString>,
    ) -> Result<Args, clap::Error> {
        let cmd = Args::command()
            .name(mpm.binary)
            .bin_name(mpm.binary)
            .after_help(help_footer(mpm));
        let matches = cmd.try_get_matches_from(argv)?;
        Args::from_arg_matches(&matches)
    }

    /// The configuration part of the command line. `-X` defines `DEBUG`, `-S` defines
    /// `DUMP_VHOSTS` and `DUMP_RUN_CFG`, `-M` defines `DUMP_MODULES`, as httpd does.
    pub fn config_options(&self) -> ConfigOptions {
        let mut defines = self.defines.clone();
        let mut define = |name: &str| {
            if !defines.iter().any(|d| d == name) {
                defines.push(name.into());
            }
        };
        if self.one_process {
            define("DEBUG");
        }
        if self.dump_settings {
            define("DUMP_VHOSTS");
            define("DUMP_RUN_CFG");
        }
        if self.dump_modules {
            define("DUMP_MODULES");
        }
        ConfigOptions {
            file: self.config_file.clone(),
            server_root: self.server_root.clone(),
            defines,
            pre_directives: self.pre_directives.clone(),
            post_directives: self.post_directives.clone(),
            skip_document_root_check: self.no_document_root_check,
        }
    }

    /// Whether this run only reads the configuration and reports (Apache's `ap_run_mode` other
    /// than `AP_SQ_RM_NORMAL`): `-t`, `-S`, `-M`, or a `-D DUMP_*` define.
    pub fn is_config_dump(&self) -> bool {
        self.dump_settings
            || self.dump_modules
            || self
                .defines
                .iter()
                .any(|d| DUMP_DEFINES.contains(&d.as_str()))
    }

    /// `-t` without a dump: the run ends with `Syntax OK`.
    pub fn is_config_test(&self) -> bool {
        self.test_config && !self.is_config_dump()
    }

    /// The `-D` defines ask to leave the terminal attached (`FOREGROUND`) or to stay in the
    /// session (`NO_DETACH`).
    pub fn defines_name(&self, name: &str) -> bool {
        self.defines.iter().any(|d| d == name)
    }
}

/// The defines that turn a run into a configuration dump (`main.c`).
pub const DUMP_DEFINES: [&str; 4] = [
    "DUMP_VHOSTS",
    "DUMP_RUN_CFG",
    "DUMP_MODULES",
    "DUMP_INCLUDES",
];

/// `-e level`: a LogLevel name (`ap_parse_log_level`).
fn parse_level(s: &str) -> Result<crate::log::Level, String> {
    crate::log::Level::parse(s)
}

/// The end of `--help`: how to run it, and the directives this binary accepts.
fn help_footer(mpm: &MpmIdent) -> String {
    let names: Vec<String> = crate::config::directives::DIRECTIVES
        .iter()
        .filter(|d| d.available_in(mpm))
        .map(|d| d.display_name())
        .collect();
    let mut lines = String::new();
    let mut line = String::from(" ");
    for n in names {
        if line.len() + n.len() + 1 > 78 {
            lines.push_str(&line);
            lines.push('\n');
            line = String::from(" ");
        }
        line.push(' ');
        line.push_str(&n);
    }
    lines.push_str(&line);
    format!(
        "Without -f and -d, {bin} serves the bundled demo site on http://127.0.0.1:8080/\n\
         and shows its scoreboard on /server-status; the built-in configuration is\n\
         httpd-core/conf/default.conf. With -d DIR and no -f it reads DIR/apache2.conf,\n\
         as Debian's apache2 (so `APACHE_ARGUMENTS=\"-d /etc/apache2\" apache2ctl configtest`\n\
         checks the right file). `-k start` detaches (a service); -D FOREGROUND keeps it\n\
         attached. -n (a Windows service name) does not exist on Unix, as in Apache.\n\n\
         Directives {bin} understands (details: {bin} -L):\n{lines}",
        bin = mpm.binary
    )
}

/// Parse `args` as `mpm-prefork`'s command line (tests of this crate).
#[cfg(test)]
pub(crate) fn parse_test_args(args: &[&str]) -> Args {
    Args::parse_for(
        &MpmIdent::PREFORK,
        std::iter::once("mpm-prefork")
            .chain(args.iter().copied())
            .map(Into::into),
    )
    .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Args {
        parse_test_args(args)
    }

    #[test]
    fn config_cli_httpd_options() {
        let a = parse(&[
            "-f",
            "/x.conf",
            "-D",
            "A",
            "-DB",
            "-C",
            "Listen 1",
            "-c",
            "LogLevel debug",
            "-X",
            "-k",
            "graceful-stop",
        ]);
        assert_eq!(a.config_file, Some(PathBuf::from("/x.conf")));
        assert_eq!(a.defines, vec!["A", "B"]);
        assert_eq!(a.pre_directives, vec!["Listen 1"]);
        assert_eq!(a.post_directives, vec!["LogLevel debug"]);
        assert!(a.one_process);
        assert_eq!(a.command, Some(KCommand::GracefulStop));
        assert_eq!(a.config_options().defines, vec!["A", "B", "DEBUG"]);
        assert!(parse(&["-t"]).test_config);
        let dump = parse(&["-S", "-M", "-T", "-e", "debug", "-E", "/x.log", "-l"]);
        assert!(dump.is_config_dump() && dump.list_modules);
        assert_eq!(dump.startup_log_level, Some(crate::log::Level::Debug));
        assert_eq!(dump.startup_log_file, Some(PathBuf::from("/x.log")));
        let o = dump.config_options();
        assert!(o.skip_document_root_check);
        assert_eq!(
            o.defines,
            vec!["DUMP_VHOSTS", "DUMP_RUN_CFG", "DUMP_MODULES"]
        );
        assert!(parse(&["-t", "-D", "DUMP_INCLUDES"]).is_config_dump());
        assert!(parse(&["-t"]).is_config_test() && !parse(&["-t", "-M"]).is_config_test());
        assert!(
            parse(&["-v"]).version
                && parse(&["-V"]).compile_settings
                && parse(&["-L"]).list_directives
        );
    }

    #[test]
    fn config_cli_help_lists_directives_and_bad_options_fail() {
        let e =
            Args::parse_for(&MpmIdent::WORKER, ["mpm-worker", "-h"].map(Into::into)).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("foreground"), "{text}");
        assert!(text.contains("DIR/apache2.conf"), "{text}");
        assert!(text.contains("ThreadsPerChild"), "{text}");
        assert!(Args::parse_for(&MpmIdent::WORKER, ["mpm-worker", "-Q"].map(Into::into)).is_err());
        // -n names a Windows service: an illegal option on Unix, as in Apache.
        assert!(
            Args::parse_for(&MpmIdent::WORKER, ["mpm-worker", "-n", "x"].map(Into::into)).is_err()
        );
        assert!(
            Args::parse_for(
                &MpmIdent::WORKER,
                ["mpm-worker", "-e", "loud"].map(Into::into)
            )
            .is_err()
        );
        assert!(
            Args::parse_for(
                &MpmIdent::WORKER,
                ["mpm-worker", "-k", "reload"].map(Into::into)
            )
            .is_err()
        );
    }
}
