//! The `openclaw-vault` command line: parsed with clap here in the core, reached from npm through
//! the JS shim `bin/openclaw-vault.js`, which runs the native executable (`src/main.rs`) when the
//! platform package ships one and else calls the binding's `runCli`. Every command writes through
//! [`CliIo`], so tests drive it with buffers and the shim with the real streams.
//!
//! A secret value is printed only by `get --reveal` (and by `resolve`, whose protocol is to
//! answer values to the process that asked).

mod audit;
mod credentials;
mod migrate;
mod resolve;
mod run;
mod setup;
mod status;
mod watch;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use serde_json::json;

use openclaw_credentials::error::{Error, ErrorCode};
use openclaw_credentials::store::{open_store, EnvLookup, Store, StoreOptions};

/// Exit codes, documented in the README ("CLI exit codes"). `resolve` follows OpenClaw's exec
/// protocol instead: 0 with per-id errors in its output, 1 only for a provider-wide failure.
pub mod exit {
    /// Success.
    pub const OK: i32 = 0;
    /// The command failed (Vault error, bad file, ...); the message says why.
    pub const FAILURE: i32 = 1;
    /// The command line was wrong (unknown flag, missing argument, bad value).
    pub const USAGE: i32 = 2;
    /// The credential was found nowhere.
    pub const NOT_FOUND: i32 = 3;
    /// A write met a different existing value (`migrate` conflicts, `put` cas mismatch).
    pub const CONFLICT: i32 = 4;
    /// `status` found a problem (Vault unreachable, sealed, token invalid).
    pub const UNHEALTHY: i32 = 5;
}

/// Where a command reads and writes. `CliIo::process()` is the real process.
pub struct CliIo {
    pub stdout: Box<dyn Write + Send>,
    pub stderr: Box<dyn Write + Send>,
    pub stdin: Box<dyn Read + Send>,
    /// Progress bars and colours only on a terminal.
    pub stderr_is_terminal: bool,
    pub env: EnvLookup,
    pub cwd: Option<PathBuf>,
    /// `env` is the real process environment (its variable names may be enumerated).
    pub process_env: bool,
    /// The native `openclaw-vault` executable running this command (its real path), `None` in
    /// the Node addon. `migrate --rewrite-config` writes it as OpenClaw's exec provider command.
    pub native_exe: Option<PathBuf>,
}

impl CliIo {
    /// The process's own streams, environment and working directory.
    pub fn process() -> Self {
        use std::io::IsTerminal;
        CliIo {
            stdout: Box::new(std::io::stdout()),
            stderr: Box::new(std::io::stderr()),
            stdin: Box::new(std::io::stdin()),
            stderr_is_terminal: std::io::stderr().is_terminal(),
            env: Arc::new(|name| std::env::var(name).ok()),
            cwd: std::env::current_dir().ok(),
            process_env: true,
            native_exe: None,
        }
    }

    /// [`CliIo::process`] for the native executable: `native_exe` is this executable's real
    /// path (`std::env::current_exe`, symlinks resolved), or `None` when it cannot be found.
    pub fn native() -> Self {
        CliIo {
            native_exe: std::env::current_exe().and_then(std::fs::canonicalize).ok(),
            ..CliIo::process()
        }
    }

    /// Options for `open_store` from this process's view.
    pub fn store_options(&self) -> StoreOptions {
        StoreOptions {
            env: self.env.clone(),
            cwd: self.cwd.clone(),
            overrides: None,
            process_env: self.process_env,
        }
    }

    /// Opens the credential chain (OpenClaw's config merged with env), printing config warnings
    /// to stderr. Unknown keys and refused workspace `.env` variables are left out here:
    /// `open_store` logs those (once per process).
    pub fn open_store(&mut self) -> Result<Store, Error> {
        self.open_store_in(None)
    }

    /// [`Self::open_store`] with Vault moved into `layer` (`migrate --layer`; see
    /// `openclaw_credentials::store::open_store_in_layer`).
    pub fn open_store_in(
        &mut self,
        layer: Option<&openclaw_credentials::layers::Layer>,
    ) -> Result<Store, Error> {
        let store = match layer {
            Some(layer) => {
                openclaw_credentials::store::open_store_in_layer(&self.store_options(), layer)?
            }
            None => open_store(&self.store_options())?,
        };
        for warning in store
            .config
            .warnings
            .iter()
            .filter(|w| !store.config.is_logged_once(w) && !w.is_file_mode())
        {
            let _ = writeln!(self.stderr, "warning: {warning}");
        }
        Ok(store)
    }
}

/// `openclaw-vault`: HashiCorp Vault for OpenClaw's credentials.
#[derive(Debug, Parser)]
#[command(
    name = "openclaw-vault",
    version,
    about = "HashiCorp Vault client and credential resolver for OpenClaw (Rust core + napi-rs binding)",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Every command. Adding one: a variant here, a module, an arm in [`dispatch`].
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the config found, Vault's reachability, seal state, token TTL and KV mount, and
    /// which local sources exist; each problem with a hint. Exit 5 when something is wrong.
    #[command(alias = "doctor")]
    Status(status::StatusArgs),
    /// Show one credential's name, kind, source and expiry; its value only with --reveal.
    Get(credentials::GetArgs),
    /// Store a credential in Vault (or another writable source). The value comes from a file or
    /// stdin, never from the command line.
    Put(credentials::PutArgs),
    /// List which credential names exist in which sources, without values.
    List(credentials::ListArgs),
    /// Summarise a Vault file audit device's log: who (entity) read which credential, when;
    /// never a value.
    Audit(audit::AuditArgs),
    /// OpenClaw's exec SecretRef provider: read a request on stdin, answer values from Vault.
    Resolve(resolve::ResolveArgs),
    /// Move every local credential into Vault (create-only, verified, resumable); optionally
    /// point openclaw.json at Vault and remove OpenClaw's own local copies.
    Migrate(migrate::MigrateArgs),
    /// Run a command with credentials in its environment (`--env NAME=credential[.field]` or
    /// `run.env` (openclaw-vault.json)); forward signals, keep the Vault token renewed, return its exit
    /// code; with --watch, restart or signal it when a credential changes.
    Run(run::RunArgs),
    /// Poll the Vault versions of the secrets the gateway's openclaw.json refers to; with
    /// --reload, run `openclaw secrets reload` after a rotation (backoff while Vault or the
    /// gateway is away; exit 5 when unhealthy).
    Watch(watch::WatchArgs),

    /// Configure a Vault for OpenClaw: the KV v2 mount and least-privilege policies per gateway,
    /// agent, migrator, operator and auditor (idempotent; --dry-run prints every change).
    Setup(setup::SetupArgs),
}

/// Runs the command line `args` (without the program name) and returns the exit code.
pub async fn run(args: Vec<String>, io: &mut CliIo) -> i32 {
    let argv = std::iter::once("openclaw-vault".to_string()).chain(args.iter().cloned());
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            let rendered = e.render().to_string();
            return match e.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    let _ = io.stdout.write_all(rendered.as_bytes());
                    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                        exit::USAGE
                    } else {
                        exit::OK
                    }
                }
                _ => {
                    let _ = io.stderr.write_all(usage_error(&e, &args).as_bytes());
                    exit::USAGE
                }
            };
        }
    };
    let code = dispatch(cli.command, &args, io).await;
    let _ = io.stdout.flush();
    let _ = io.stderr.flush();
    code
}

/// A usage error that names the argument (its flag, its place on the command line or its
/// definition) and never echoes a value from argv: `put openai sk-live-...` must not print the key.
fn usage_error(e: &clap::Error, args: &[String]) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let context = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => Some(v.join(", ")),
        _ => None,
    };
    // What the user typed is named by its position only: an unknown flag may be a pasted
    // secret too (`--sk-live-...`), and clap's context holds it up to any `=`.
    let typed = |value: &str| match args
        .iter()
        .position(|a| a == value || a.split('=').next() == Some(value))
    {
        Some(i) => format!("at position {}", i + 1),
        None => "on the command line".to_string(),
    };
    let message = match e.kind() {
        ErrorKind::UnknownArgument => match context(ContextKind::InvalidArg) {
            Some(v) => format!("unexpected argument {}", typed(&v)),
            None => "unexpected argument".to_string(),
        },
        ErrorKind::InvalidSubcommand => match context(ContextKind::InvalidSubcommand) {
            Some(v) => format!("unrecognized subcommand {}", typed(&v)),
            None => "unrecognized subcommand".to_string(),
        },
        ErrorKind::InvalidValue | ErrorKind::ValueValidation | ErrorKind::NoEquals => {
            match context(ContextKind::InvalidArg) {
                Some(arg) => format!("invalid value for {arg}"),
                None => "invalid value".to_string(),
            }
        }
        ErrorKind::MissingRequiredArgument => match context(ContextKind::InvalidArg) {
            Some(args) => format!("missing required arguments: {args}"),
            None => "missing required arguments".to_string(),
        },
        ErrorKind::ArgumentConflict => {
            match (
                context(ContextKind::InvalidArg),
                context(ContextKind::PriorArg),
            ) {
                (Some(a), Some(b)) => format!("the argument {a} cannot be used with {b}"),
                _ => "conflicting arguments".to_string(),
            }
        }
        ErrorKind::TooManyValues | ErrorKind::WrongNumberOfValues | ErrorKind::TooFewValues => {
            match context(ContextKind::InvalidArg) {
                Some(arg) => format!("wrong number of values for {arg}"),
                None => "wrong number of values".to_string(),
            }
        }
        ErrorKind::MissingSubcommand => "a subcommand is required".to_string(),
        _ => "invalid arguments".to_string(),
    };
    format!("error: {message}\n\nFor more information, try '--help'.\n")
}

/// `text` with every control character but the newline and the tab escaped (`\u{1b}`), for a
/// terminal: names come from files anyone may write (OpenClaw profile ids, agent ids, Vault
/// metadata), and a terminal must not run the escape sequences they may carry (attack 6,
/// finding 10a). Borrowed when there is nothing to escape.
pub(crate) fn printable<'a>(text: &'a str, keep: &[char]) -> std::borrow::Cow<'a, str> {
    if !text.chars().any(|c| c.is_control() && !keep.contains(&c)) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() && !keep.contains(&c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A stream of human-readable output with control characters escaped ([`printable`]); lines
/// and tabs pass. Never over JSON (it escapes what it must itself) or a revealed value (the
/// caller asked for those bytes).
struct TerminalSafe(Box<dyn Write + Send>);

impl Write for TerminalSafe {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match std::str::from_utf8(buf) {
            Ok(text) => self
                .0
                .write_all(printable(text, &['\n', '\t']).as_bytes())?,
            // Not UTF-8 (a piece of a character): C0 bytes and DEL escaped one by one.
            Err(_) => {
                let mut out = Vec::with_capacity(buf.len());
                for &b in buf {
                    if (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f {
                        out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
                    } else {
                        out.push(b);
                    }
                }
                self.0.write_all(&out)?
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Puts [`TerminalSafe`] around `io`'s stdout and stderr.
fn terminal_safe(io: &mut CliIo) {
    let out = std::mem::replace(&mut io.stdout, Box::new(std::io::sink()));
    io.stdout = Box::new(TerminalSafe(out));
    let err = std::mem::replace(&mut io.stderr, Box::new(std::io::sink()));
    io.stderr = Box::new(TerminalSafe(err));
}

async fn dispatch(command: Command, args: &[String], io: &mut CliIo) -> i32 {
    // Human output escapes control characters; JSON, `resolve`'s protocol and a revealed value
    // go out as they are.
    let human = match &command {
        Command::Status(a) => !a.json,
        Command::Get(a) => !a.json && !a.reveal,
        Command::Put(a) => !a.json,
        Command::List(a) => !a.json,
        Command::Audit(a) => !a.json,
        Command::Resolve(_) => false,
        Command::Migrate(a) => !a.json,
        Command::Run(_) | Command::Watch(_) => true,
        Command::Setup(a) => !a.json,
    };
    if human {
        terminal_safe(io);
    }
    match command {
        Command::Status(args) => status::status(args, io).await,
        Command::Get(args) => credentials::get(args, io).await,
        Command::Put(args) => credentials::put(args, io).await,
        Command::List(args) => credentials::list(args, io).await,
        Command::Audit(args) => audit::audit(args, io).await,
        Command::Resolve(args) => resolve::resolve(args, io).await,
        Command::Migrate(args) => migrate::migrate(args, io).await,
        Command::Run(run_args) => run::run(run_args, args, io).await,
        Command::Watch(watch_args) => watch::watch(watch_args, io).await,

        Command::Setup(args) => setup::setup(args, io).await,
    }
}

/// Log lines (never a token or a secret) go to stderr: warnings by default, more with
/// `OPENCLAW_VAULT_LOG=debug` (any `tracing` filter). Once per process; a host application that
/// installed its own subscriber keeps it. Called by the addon's module init and the executable.
pub fn init_logging() {
    use tracing_subscriber::field::MakeExt;
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("OPENCLAW_VAULT_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    // Fields as the default formatter writes them (`message` bare, others `name=value`), except
    // that a `credential` shaped like a token (a value pasted where a name belongs) is hidden.
    let fields = tracing_subscriber::fmt::format::debug_fn(|w, field, value| {
        let name = field.name();
        if name == "message" {
            return write!(w, "{value:?}");
        }
        if name == "credential" {
            let shown = format!("{value:?}");
            let bare = shown.trim_matches('"');
            if openclaw_credentials::scrub::looks_like_a_token(bare) {
                return write!(w, "{name}={:?}", openclaw_credentials::scrub::HIDDEN_NAME);
            }
            return write!(w, "{name}={shown}");
        }
        write!(w, "{name}={value:?}")
    })
    .delimited(" ");
    let _ = tracing_subscriber::fmt()
        .fmt_fields(fields)
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .try_init();
}

/// The exit code for a failed command.
pub fn exit_code_of(error: &Error) -> i32 {
    match error.code {
        ErrorCode::CredentialNotFound | ErrorCode::NotFound => exit::NOT_FOUND,
        ErrorCode::CasMismatch | ErrorCode::Conflict => exit::CONFLICT,
        ErrorCode::InvalidArgument => exit::USAGE,
        _ => exit::FAILURE,
    }
}

/// Reports `error` (on stdout as `{"error":{...}}` with `--json`, else on stderr) and returns
/// its exit code. Error messages never hold secret values (the core guarantees it).
pub fn fail(io: &mut CliIo, json: bool, error: &Error) -> i32 {
    if json {
        let body = json!({"error": {"code": error.code(), "message": error.message}});
        let _ = writeln!(io.stdout, "{body}");
    } else {
        let _ = writeln!(io.stderr, "error [{}]: {}", error.code(), error.message);
        if let Some(hint) = error.hint() {
            let _ = writeln!(io.stderr, "hint: {hint}");
        }
    }
    exit_code_of(error)
}

#[cfg(test)]
pub(crate) mod test_io {
    //! Buffers standing in for the process streams.
    use super::*;
    use std::sync::Mutex;

    /// A shared byte buffer (clap and commands write; the test reads).
    #[derive(Clone, Default)]
    pub struct Buffer(pub Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(data);
            Ok(data.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Buffer {
        pub fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
        }
    }

    /// Runs `args` with `stdin` and env `pairs`; returns (exit code, stdout, stderr).
    pub async fn run_with(
        args: &[&str],
        stdin: &str,
        pairs: &[(&str, &str)],
    ) -> (i32, String, String) {
        let out = Buffer::default();
        let err = Buffer::default();
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut io = CliIo {
            stdout: Box::new(out.clone()),
            stderr: Box::new(err.clone()),
            stdin: Box::new(std::io::Cursor::new(stdin.as_bytes().to_vec())),
            stderr_is_terminal: false,
            env: Arc::new(move |k| map.get(k).cloned()),
            cwd: None,
            process_env: false,
            native_exe: None,
        };
        let code = run(args.iter().map(|s| s.to_string()).collect(), &mut io).await;
        (code, out.text(), err.text())
    }
}

#[cfg(test)]
mod tests {
    use super::test_io::run_with;
    use super::*;

    #[tokio::test]
    async fn help_and_usage_errors() {
        let (code, out, _) = run_with(&["--help"], "", &[]).await;
        assert_eq!(code, exit::OK);
        assert!(out.contains("Usage: openclaw-vault"), "{out}");
        // What a user reads first: the product, not the crate's internal description.
        assert!(
            out.starts_with("HashiCorp Vault client and credential resolver for OpenClaw"),
            "{out}"
        );
        let (code, _, err) = run_with(&["get", "--bogus"], "", &[]).await;
        assert_eq!(code, exit::USAGE);
        assert!(err.contains("unexpected argument at position 2"), "{err}");
        let (code, _, _) = run_with(&[], "", &[]).await;
        assert_eq!(code, exit::USAGE);
    }

    #[test]
    fn terminal_safe_escapes_control_characters_but_lines_and_tabs() {
        let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl Write for Sink {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut w = TerminalSafe(Box::new(Sink(buf.clone())));
        writeln!(w, "groq2:\u{1b}]0;PWNED\u{7}\u{1b}[2J\tok \u{9b}31m\r").unwrap();
        w.write_all(&[b'a', 0x1b, 0xc3]).unwrap();
        let out = String::from_utf8_lossy(&buf.lock().unwrap()).into_owned();
        assert_eq!(
            out,
            "groq2:\\u{1b}]0;PWNED\\u{7}\\u{1b}[2J\tok \\u{9b}31m\\r\na\\x1b\u{fffd}"
        );
    }

    #[tokio::test]
    async fn list_escapes_a_hostile_profile_id_on_a_terminal_and_keeps_it_in_json() {
        let home = openclaw_vault_test_support::temp_dir("cli-escape");
        let file = home.join(".openclaw/agents/main/agent/auth-profiles.json");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        let id = "groq2:\u{1b}]0;PWNED\u{7}\u{1b}[2J";
        let doc = json!({"version": 1, "profiles": {
            id: {"type": "api_key", "provider": "groq", "key": "gsk-FAKE-escape-0001"}}});
        std::fs::write(&file, doc.to_string()).unwrap();
        let home_str = home.to_str().unwrap();
        let (code, out, err) = run_with(&["list"], "", &[("HOME", home_str)]).await;
        assert_eq!(code, exit::OK, "{out}{err}");
        assert!(out.contains("groq2:\\u{1b}]0;PWNED"), "{out}");
        assert!(
            !out.contains('\u{1b}') && !err.contains('\u{1b}'),
            "{out:?}{err:?}"
        );
        assert!(!out.contains("gsk-FAKE-escape-0001"));
        let (code, out, _) = run_with(&["list", "--json"], "", &[("HOME", home_str)]).await;
        assert_eq!(code, exit::OK);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(v.to_string().contains("PWNED"), "{out}");
        assert!(
            out.contains("\\u001b]0;PWNED"),
            "JSON escapes it itself: {out}"
        );
    }

    #[tokio::test]
    async fn usage_errors_never_echo_argv_values() {
        let canary = "sk-live-canary-0123456789";
        for argv in [
            vec!["put", "openai", canary],
            vec![canary],
            vec!["get", "x", &format!("--token={canary}")],
            vec!["list", "--source", canary],
            vec!["get", "x", "extra", canary],
            // An unknown flag may be a pasted secret too.
            vec!["get", "x", &format!("--{canary}")],
            vec!["list", &format!("--{canary}=x")],
        ] {
            let (code, out, err) = run_with(&argv, "", &[]).await;
            assert_eq!(code, exit::USAGE, "{argv:?}: {err}");
            assert!(
                !out.contains(canary) && !err.contains(canary),
                "{argv:?}: {out}{err}"
            );
            assert!(err.starts_with("error"), "{argv:?}: {err}");
        }
        let (_, _, err) = run_with(&["put", "openai", canary], "", &[]).await;
        assert!(err.contains("position 3"), "{err}");
        // Values the core checks: named by their argument, never echoed.
        let home = openclaw_vault_test_support::temp_dir("cli-usage-canary");
        let env = [("HOME", home.to_str().unwrap())];
        let bad_name = format!("{canary}\u{1}");
        for (argv, input, needle) in [
            (vec!["put", "zz", "--kind", canary], "v", "--kind must be"),
            (
                vec!["get", bad_name.as_str()],
                "",
                "credential name is not valid",
            ),
        ] {
            let (code, out, err) = run_with(&argv, input, &env).await;
            assert_ne!(code, exit::OK, "{argv:?}");
            assert!(
                !out.contains(canary) && !err.contains(canary),
                "{argv:?}: {out}{err}"
            );
            assert!((out + &err).contains(needle), "{argv:?}");
        }
    }

    #[tokio::test]
    async fn list_with_a_failed_source_exits_failure_and_names_it() {
        let home = openclaw_vault_test_support::temp_dir("cli-list-failed-source");
        let env = [
            ("HOME", home.to_str().unwrap()),
            ("VAULT_ADDR", "http://127.0.0.1:1"),
            ("VAULT_TOKEN", "hvs.test-token"),
            ("VAULT_MAX_RETRIES", "0"),
        ];
        for json in [false, true] {
            let mut argv = vec!["list", "--source", "vault"];
            if json {
                argv.push("--json");
            }
            let (code, out, err) = run_with(&argv, "", &env).await;
            assert_eq!(code, exit::FAILURE, "{out}{err}");
            assert!(!out.contains("no credentials found"), "{out}");
            assert!((out.clone() + &err).contains("vault"), "{out}{err}");
            assert!(!(out + &err).contains("hvs.test-token"));
        }
    }
}
