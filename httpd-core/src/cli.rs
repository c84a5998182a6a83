//! The command line shared by `mpm-prefork`, `mpm-worker` and `mpm-event`: httpd's own options
//! (`server/main.c: usage`), parsed with clap.
//!
//! mpm-lab always runs in the foreground (a teaching tool: you see the log and stop it with
//! Ctrl-C); `-k start` starts it in the foreground too, after checking the PidFile.

use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};

use crate::config::{ConfigOptions, MpmIdent};

/// `-k` commands (`mpm_unix.c: ap_signal_server`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KCommand {
    /// Check the PidFile, then start (in the foreground).
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
    about = "An Apache httpd 2.4 MPM rebuilt in Rust, for labs. It always runs in the foreground: \
             watch the error log in this terminal, stop it with Ctrl-C or `-k stop`."
)]
pub struct Args {
    /// Specify an alternate ServerConfigFile (default: the built-in configuration).
    #[arg(short = 'f', value_name = "file")]
    pub config_file: Option<PathBuf>,
    /// Specify an alternate initial ServerRoot.
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

    /// The configuration part of the command line. `-X` defines `DEBUG`, as httpd does.
    pub fn config_options(&self) -> ConfigOptions {
        let mut defines = self.defines.clone();
        if self.one_process && !defines.iter().any(|d| d == "DEBUG") {
            defines.push("DEBUG".into());
        }
        ConfigOptions {
            file: self.config_file.clone(),
            server_root: self.server_root.clone(),
            defines,
            pre_directives: self.pre_directives.clone(),
            post_directives: self.post_directives.clone(),
        }
    }
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
        "Without -f, {bin} serves the bundled demo site on http://127.0.0.1:8080/ and\n\
         shows its scoreboard on /server-status; the built-in configuration is\n\
         httpd-core/conf/default.conf.\n\n\
         Directives {bin} understands (details: {bin} -L):\n{lines}",
        bin = mpm.binary
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Args {
        Args::parse_for(
            &MpmIdent::PREFORK,
            std::iter::once("mpm-prefork")
                .chain(args.iter().copied())
                .map(Into::into),
        )
        .unwrap()
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
        assert!(text.contains("ThreadsPerChild"), "{text}");
        assert!(Args::parse_for(&MpmIdent::WORKER, ["mpm-worker", "-Q"].map(Into::into)).is_err());
        assert!(
            Args::parse_for(
                &MpmIdent::WORKER,
                ["mpm-worker", "-k", "reload"].map(Into::into)
            )
            .is_err()
        );
    }
}
