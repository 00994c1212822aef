//! `run`: a child process with credentials in its environment (see
//! `openclaw_credentials::run`). Parsing and printing only.

use std::io::Write;
use std::time::Duration;

use clap::Args;

use super::{exit_code_of, fail, CliIo};
use openclaw_credentials::run::{
    self as core, signal_name, EnvMapping, OnChange, RunEvent, RunOptions, RunStartError,
    WatchSettings,
};

const HELP: &str = "\
Examples:
  openclaw-vault run --env ANTHROPIC_API_KEY=anthropic -- openclaw gateway
  openclaw-vault run --watch --env TELEGRAM_BOT_TOKEN=telegram.token -- ./bot
  openclaw-vault run --watch --on-change signal:SIGHUP -- ./server   (mappings from
      `run.env` in openclaw-vault.json)

Values are read through the credential chain (Vault first, then the configured fallback) and
put in the child's environment only: never in its arguments, a log line or an error. The child
inherits this environment (including VAULT_TOKEN, when set) unless --clean-env.
Exit code: the child's, or 128 + the signal that ended it; before the child starts, this
command's own (2 bad mapping, 3 credential not found, 1 other, 127/126 command not started).
A child that exits by itself ends `run`, with or without --watch.
The child runs in a process group of its own: signals (forwarded, or a restart's SIGTERM and
SIGKILL) reach everything it started. After a forwarded SIGTERM/SIGINT/SIGHUP/SIGQUIT the group
gets --grace-ms, then SIGKILL, and `run` exits 128 + that signal.";

/// Arguments of `run`.
#[derive(Debug, Args)]
#[command(after_help = HELP, after_long_help = HELP)]
pub struct RunArgs {
    /// NAME=credential[.field]: set variable NAME to the credential's field (its main field
    /// when none is given; write credential#field when the name holds a `.`). Repeatable;
    /// replaces a `run.env` (openclaw-vault.json) entry of the same NAME.
    #[arg(long = "env", value_name = "NAME=CREDENTIAL[.FIELD]")]
    pub env: Vec<String>,
    /// Start the child from an empty environment (plus --pass-env and the mapped variables).
    #[arg(long)]
    pub clean_env: bool,
    /// With --clean-env: copy this variable from this environment (e.g. PATH, HOME). Repeatable.
    #[arg(long, value_name = "NAME", requires = "clean_env")]
    pub pass_env: Vec<String>,
    /// Poll the mapped credentials and act on a change (see --on-change).
    #[arg(long)]
    pub watch: bool,
    /// With --watch: `restart` (SIGTERM, SIGKILL after --grace-ms, start again with the new
    /// values; the default) or `signal:<NAME>` (e.g. signal:SIGHUP; the child's environment
    /// keeps the old values).
    #[arg(long, value_name = "ACTION", requires = "watch")]
    pub on_change: Option<String>,
    /// With --watch: milliseconds between checks (jittered down by up to a fifth, longer while
    /// Vault is away), 100 to 86400000. Default 5000.
    #[arg(long, value_name = "MS", requires = "watch")]
    pub interval_ms: Option<u64>,
    /// Milliseconds the child's process group gets between SIGTERM and SIGKILL, on a restart
    /// and after a forwarded SIGTERM, SIGINT, SIGHUP or SIGQUIT, 0 to 3600000. Default 10000.
    #[arg(long, value_name = "MS")]
    pub grace_ms: Option<u64>,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// The position (1-based, after the program name) of the `n`th (0-based) `--env` on the
/// command line, for errors that must not quote the argument.
fn env_position(args: &[String], n: usize) -> Option<usize> {
    args.iter()
        .take_while(|a| a.as_str() != "--")
        .enumerate()
        .filter(|(_, a)| *a == "--env" || a.starts_with("--env="))
        .nth(n)
        .map(|(i, a)| if a == "--env" { i + 2 } else { i + 1 })
}

fn options(
    args: &RunArgs,
    argv: &[String],
    config: &[EnvMapping],
) -> Result<RunOptions, openclaw_credentials::Error> {
    use openclaw_credentials::Error;
    let mut flags = Vec::new();
    for (n, text) in args.env.iter().enumerate() {
        let from = match env_position(argv, n) {
            Some(p) => format!("`--env` at position {p}"),
            None => format!("`--env` number {}", n + 1),
        };
        flags.push(EnvMapping::parse(text, from)?);
    }
    for name in &args.pass_env {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(Error::invalid_argument(
                "--pass-env takes a variable name (letters, digits and _)",
            ));
        }
    }
    let mappings = core::merge_mappings(config, flags)?;
    let grace = match args.grace_ms {
        None => core::DEFAULT_GRACE,
        Some(ms) if ms <= 3_600_000 => Duration::from_millis(ms),
        Some(_) => {
            return Err(Error::invalid_argument(
                "--grace-ms must be from 0 to 3600000",
            ))
        }
    };
    let watch = if args.watch {
        let interval = match args.interval_ms {
            None => Duration::from_millis(5000),
            Some(ms) if (100..=86_400_000).contains(&ms) => Duration::from_millis(ms),
            Some(_) => {
                return Err(Error::invalid_argument(
                    "--interval-ms must be from 100 to 86400000",
                ))
            }
        };
        let on_change = match &args.on_change {
            None => OnChange::Restart,
            Some(text) => OnChange::parse(text, "--on-change")?,
        };
        Some(WatchSettings {
            interval,
            on_change,
            grace,
        })
    } else {
        None
    };
    let mut command = args.command.iter().map(Into::into);
    Ok(RunOptions {
        program: command.next().unwrap_or_default(),
        args: command.collect(),
        mappings,
        inherit_env: !args.clean_env,
        pass_env: args.pass_env.clone(),
        watch,
        stop_grace: grace,
    })
}

/// `run`.
pub async fn run(args: RunArgs, argv: &[String], io: &mut CliIo) -> i32 {
    // In the Node addon `run` would take over the signals of the Node process that loaded it
    // (its handlers stay after `run` returns, and a forwarded SIGTERM once left that process
    // spinning): only the native executable runs it. The npm shim starts that executable.
    if io.native_exe.is_none() {
        let e = openclaw_credentials::Error::new(
            openclaw_credentials::ErrorCode::UnsupportedOperation,
            "`run` needs the native `openclaw-vault` executable (the platform package ships it); \
             the Node addon does not run it (OPENCLAW_VAULT_NATIVE=0, or no executable for this \
             platform)",
        );
        return fail(io, false, &e);
    }
    let store = match io.open_store() {
        Ok(s) => s,
        Err(e) => return fail(io, false, &e),
    };
    let options = match options(&args, argv, &store.config.credentials.run_env) {
        Ok(o) => o,
        Err(e) => return fail(io, false, &e),
    };
    let stderr = &mut io.stderr;
    let mut on_event = |event: RunEvent| {
        let line = match event {
            // Quiet: the child's own output says it started.
            RunEvent::Started { .. } => return,
            RunEvent::Changed {
                credential,
                old,
                new,
            } => format!("credential {credential} changed ({old} -> {new})"),
            RunEvent::Signalled { signal } => format!("sent {} to the child", signal_name(signal)),
            RunEvent::Killed { grace } => format!(
                "the child was still running {} ms after SIGTERM: sent SIGKILL to its process group",
                grace.as_millis()
            ),
            RunEvent::Deleted { credential } => format!(
                "credential {credential} is not found any more (deleted, destroyed or removed in Vault, or its new version does not hold it); the child keeps running with the value it has"
            ),
            RunEvent::Unusable {
                credential,
                fields,
                message,
            } => format!(
                "credential {credential}: its new version in Vault cannot be used for what is mapped ({}): {message}; this is the secret's shape, not a Vault failure: the child keeps running with the value it has",
                fields.join(", ")
            ),
            RunEvent::WatchFailing {
                credential,
                code,
                message,
            } => format!(
                "cannot check credential {credential} ({code}: {message}); the child keeps running, retrying with backoff"
            ),
            RunEvent::WatchRecovered { credential } => {
                format!("credential {credential} can be checked again")
            }
            RunEvent::RestartFailed { message } => format!("cannot apply the change: {message}"),
        };
        let _ = writeln!(stderr, "openclaw-vault run: {line}");
        let _ = stderr.flush();
    };
    match core::run(store.chain.clone(), options, &mut on_event).await {
        Ok(code) => code,
        Err(RunStartError::Credentials(e)) => {
            let code = exit_code_of(&e);
            fail(io, false, &e);
            code
        }
        Err(RunStartError::Spawn { code, message }) => {
            let _ = writeln!(io.stderr, "error: {message}");
            code
        }
    }
}
