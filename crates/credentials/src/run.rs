//! `openclaw-vault run`: runs a child process with chosen credentials in its environment (like
//! `op run`, `doppler run`, `infisical run --watch`).
//!
//! - Each [`EnvMapping`] (`ENV_NAME=credential[.field]`) is resolved through the chain
//!   ([`CredentialChain::get`]: Vault first, then the fallback the config allows) before the child
//!   starts; a bad mapping or an unknown credential is an error naming the flag or config path, and
//!   no child is started.
//! - Values go into the child's environment only: never into its argv, a log line or an error.
//! - The child inherits this process's environment unless [`RunOptions::inherit_env`] is off (then
//!   it gets only [`RunOptions::pass_env`] and the mapped variables).
//! - The Vault token is renewed while the child runs: the chain's Vault client starts its renewal
//!   loop ([`vault_client::renewal`]) at the first read and keeps it while the chain is alive,
//!   which is until [`run`] returns.
//! - The child runs in a process group of its own (when `run`'s stdin is the terminal and `run`
//!   is in its foreground, the child's group takes the foreground, as a shell does), so every
//!   signal reaches the child and everything it started: a restart leaves no descendant holding
//!   the old values.
//! - SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 are forwarded to the child's group;
//!   [`run`] returns the child's exit code, or 128 + the signal number when a signal ended it.
//!   After a forwarded SIGINT, SIGTERM, SIGHUP or SIGQUIT the group gets
//!   [`RunOptions::stop_grace`] to exit, then SIGKILL, and `run` returns 128 + the forwarded
//!   signal.
//! - With [`RunOptions::watch`], every mapped credential is polled ([`crate::watch`]: Vault's
//!   metadata `current_version`, jittered, backing off while Vault is away). On a change the child
//!   is restarted with the new values (SIGTERM, then SIGKILL after the grace period) or sent a
//!   signal. A child that exits by itself ends `run` with its code; it is not restarted.
//!
//! Unix only: signals and exit statuses are POSIX.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use crate::cache::Resolved;
use crate::chain::{check_name, CredentialChain, GetOptions};
use crate::credential::CredentialVersion;
use crate::error::{Error, ErrorCode, Result};
use crate::watch::{watch_with_recovery, RecoveryCallback, WatchCallback, WatchHandle};

/// One variable of the child's environment and the credential field it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvMapping {
    /// The variable's name (`[A-Za-z_][A-Za-z0-9_]*`).
    pub var: String,
    /// The credential's name, as `getCredential` takes it (`anthropic`, `openai:work`).
    pub credential: String,
    /// The secret field; `None` is the credential's main field (`apiKey`, `token` or
    /// `accessToken`, by its kind).
    pub field: Option<String>,
    /// Where the mapping was given, for errors: `` `--env` at position 3 `` or
    /// `` `run.env.ANTHROPIC_API_KEY` in /home/u/.openclaw/openclaw-vault.json ``.
    pub from: String,
}

/// What a mapping must look like, for error messages.
pub const MAPPING_SYNTAX: &str =
    "NAME=credential[.field] (or credential#field when the name holds a `.`), NAME a variable name";

fn is_var_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_field_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl EnvMapping {
    /// A mapping from a variable name and its target `credential[.field]` or
    /// `credential#field`: the field is after `#` when there is one, else after the last `.`
    /// (so a credential whose name holds a `.` is written `name#field`, or `name#` for its main
    /// field).
    ///
    /// Errors: the reason as text (never quoting `var` or `target`: either may be a value pasted
    /// in the wrong place); callers put it behind `from` with their error code.
    pub fn new(
        var: &str,
        target: &str,
        from: impl Into<String>,
    ) -> std::result::Result<Self, String> {
        if !is_var_name(var) {
            return Err(format!(
                "the variable name is not valid: expected {MAPPING_SYNTAX}"
            ));
        }
        let (credential, field) = match target.split_once('#') {
            Some((name, field)) => (name, (!field.is_empty()).then_some(field)),
            None => match target.rsplit_once('.') {
                Some((name, field)) => (name, Some(field)),
                None => (target, None),
            },
        };
        if check_name(credential).is_err() {
            return Err(format!(
                "the credential name is not valid: expected {MAPPING_SYNTAX}; a name has no control characters and no empty, `.` or `..` segments"
            ));
        }
        if let Some(field) = field {
            if !is_field_name(field) {
                return Err(format!(
                    "the field name is not valid: expected {MAPPING_SYNTAX}; a field has letters, digits, _ and -"
                ));
            }
        }
        Ok(EnvMapping {
            var: var.to_string(),
            credential: credential.to_string(),
            field: field.map(str::to_string),
            from: from.into(),
        })
    }

    /// A mapping from one `NAME=credential[.field]` argument. `INVALID_ARGUMENT` naming `from`
    /// (never quoting the text) when it is not that shape.
    pub fn parse(text: &str, from: impl Into<String>) -> Result<Self> {
        let from = from.into();
        let Some((var, target)) = text.split_once('=') else {
            return Err(Error::invalid_argument(format!(
                "{from}: expected {MAPPING_SYNTAX}"
            )));
        };
        EnvMapping::new(var, target, from.clone())
            .map_err(|why| Error::invalid_argument(format!("{from}: {why}")))
    }
}

/// Merges the config's mappings with the command line's: a flag replaces the config's mapping of
/// the same variable; the same variable twice on the command line is `INVALID_ARGUMENT`.
pub fn merge_mappings(config: &[EnvMapping], flags: Vec<EnvMapping>) -> Result<Vec<EnvMapping>> {
    let mut out: Vec<EnvMapping> = config.to_vec();
    let mut seen = std::collections::HashSet::new();
    for m in flags {
        if !seen.insert(m.var.clone()) {
            return Err(Error::invalid_argument(format!(
                "{}: the variable {} is mapped twice on the command line",
                m.from, m.var
            )));
        }
        out.retain(|c| c.var != m.var);
        out.push(m);
    }
    Ok(out)
}

/// What to do when a watched credential changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnChange {
    /// SIGTERM, wait up to the grace period, SIGKILL, start again with the new values.
    Restart,
    /// Send this signal (its number) and keep the child; its environment keeps the old values
    /// (a running process's environment cannot be changed from outside).
    Signal(i32),
}

/// The signals `run` forwards, by name.
const FORWARDED: &[(&str, i32)] = &[
    ("SIGINT", libc::SIGINT),
    ("SIGTERM", libc::SIGTERM),
    ("SIGHUP", libc::SIGHUP),
    ("SIGQUIT", libc::SIGQUIT),
    ("SIGUSR1", libc::SIGUSR1),
    ("SIGUSR2", libc::SIGUSR2),
];

/// A signal's name (`SIGHUP`) for its number, for messages.
pub fn signal_name(signal: i32) -> String {
    FORWARDED
        .iter()
        .chain([("SIGKILL", libc::SIGKILL)].iter())
        .find(|(_, n)| *n == signal)
        .map(|(name, _)| name.to_string())
        .unwrap_or_else(|| format!("signal {signal}"))
}

impl OnChange {
    /// `restart`, or `signal:<NAME>` with NAME one of HUP, INT, TERM, QUIT, USR1, USR2 (with or
    /// without `SIG`, any case). `INVALID_ARGUMENT` naming `what` otherwise.
    pub fn parse(text: &str, what: &str) -> Result<Self> {
        if text == "restart" {
            return Ok(OnChange::Restart);
        }
        let wanted = text.strip_prefix("signal:").map(|s| {
            let s = s.to_ascii_uppercase();
            if s.starts_with("SIG") {
                s
            } else {
                format!("SIG{s}")
            }
        });
        match wanted.and_then(|w| FORWARDED.iter().find(|(name, _)| *name == w)) {
            Some((_, n)) => Ok(OnChange::Signal(*n)),
            None => Err(Error::invalid_argument(format!(
                "{what} must be `restart` or `signal:<NAME>` with NAME one of SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGUSR1, SIGUSR2"
            ))),
        }
    }
}

/// `--watch` settings.
#[derive(Debug, Clone)]
pub struct WatchSettings {
    /// How often each credential is checked (each wait jittered down by up to a fifth, and
    /// longer after failures: see [`crate::watch`]).
    pub interval: Duration,
    /// What a change does.
    pub on_change: OnChange,
    /// How long a restart waits after SIGTERM before SIGKILL.
    pub grace: Duration,
}

/// The default grace period between SIGTERM and SIGKILL: 10 seconds.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// What to run and how.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The program (looked up in `PATH` when it has no `/`).
    pub program: OsString,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// The variables to set; at least one.
    pub mappings: Vec<EnvMapping>,
    /// Start from this process's environment (default); `false` starts from an empty one.
    pub inherit_env: bool,
    /// With `inherit_env` off: variables copied from this process's environment (e.g. `PATH`,
    /// `HOME`); unset ones are skipped.
    pub pass_env: Vec<String>,
    /// Watch the mapped credentials; `None` runs the child once.
    pub watch: Option<WatchSettings>,
    /// After a forwarded SIGINT, SIGTERM, SIGHUP or SIGQUIT, how long the child's process group
    /// gets to exit before SIGKILL (default [`DEFAULT_GRACE`]).
    pub stop_grace: Duration,
}

/// What happened, for the caller to print. Never holds a value.
#[derive(Debug, Clone)]
pub enum RunEvent {
    /// The child started (again, after a restart).
    Started {
        /// Its process id.
        pid: u32,
    },
    /// A watched credential changed.
    Changed {
        /// The credential's name.
        credential: String,
        /// Its version before and after (`version 3`, `file changed`, `value changed`).
        old: String,
        new: String,
    },
    /// A signal was forwarded or sent on a change.
    Signalled { signal: i32 },
    /// The child outlived the grace period after SIGTERM and was killed.
    Killed { grace: Duration },
    /// The first failed check of a credential after a good one (later failures are quiet until
    /// it recovers; the watch backs off meanwhile). The child keeps running.
    WatchFailing {
        credential: String,
        code: &'static str,
        message: String,
    },
    /// A check found the credential in no source any more (`CREDENTIAL_NOT_FOUND`): its Vault
    /// secret's current version was deleted, destroyed or removed (metadata delete; the read
    /// that saw the 404 dropped the last-known-good entry), or a new version does not hold it.
    /// The child keeps running with the value it has. Reported like [`RunEvent::WatchFailing`]:
    /// once, until it can be read again.
    Deleted { credential: String },
    /// A check read a new version whose shape does not make the credential (`INVALID_SOURCE`:
    /// the mapped field is missing, the wrong type...): the secret's content, not a Vault
    /// failure. `fields` are the mapped fields (`apiKey`, or `main field` when none was named).
    /// Reported like [`RunEvent::WatchFailing`]; the child keeps running.
    Unusable {
        credential: String,
        fields: Vec<String>,
        message: String,
    },
    /// A check succeeded again after failures (one line; the next failure is reported again).
    WatchRecovered { credential: String },
    /// A change could not be applied (the new values could not be read or the child could not be
    /// started again); the message says why.
    RestartFailed { message: String },
}

/// A version as a log line shows it.
fn version_text(v: &CredentialVersion) -> String {
    match v {
        CredentialVersion::Vault(0) => "unversioned".to_string(),
        CredentialVersion::Vault(n) => format!("version {n}"),
        CredentialVersion::File { modified_ns, .. } => format!("file modified at {modified_ns} ns"),
        CredentialVersion::None => "unversioned".to_string(),
    }
}

/// The value of `mapping` in `resolved`. Errors name the mapping and the fields there are
/// (names only).
fn value_of<'a>(mapping: &EnvMapping, resolved: &'a Resolved) -> Result<&'a str> {
    let credential = &resolved.credential;
    let field = mapping
        .field
        .as_deref()
        .unwrap_or_else(|| credential.kind.primary_field());
    match credential.secrets.get(field) {
        Some(v) if !v.expose_secret().is_empty() => Ok(v.expose_secret()),
        Some(_) => Err(Error::invalid_argument(format!(
            "{}: the field `{field}` of the credential is empty",
            mapping.from
        ))),
        None => Err(Error::invalid_argument(format!(
            "{}: the credential has no field `{field}` (it has: {})",
            mapping.from,
            credential.secrets.names().collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// Reads one credential for `mapping`; a failure names the mapping and keeps the code (e.g.
/// `CREDENTIAL_NOT_FOUND`), listing each source tried by name and code only.
async fn read(chain: &Arc<CredentialChain>, mapping: &EnvMapping) -> Result<Arc<Resolved>> {
    chain
        .get(&mapping.credential, &GetOptions::default())
        .await
        .map_err(|e| mapping_error(mapping, e))
}

fn mapping_error(mapping: &EnvMapping, e: Error) -> Error {
    let what = match e.code {
        ErrorCode::CredentialNotFound => {
            let tried: Vec<&str> = e
                .errors
                .iter()
                .map(|t| t.split(" (").next().unwrap_or(t))
                .collect();
            format!(
                "the credential was not found in any source (tried: {})",
                if tried.is_empty() {
                    "none configured".to_string()
                } else {
                    tried.join("; ")
                }
            )
        }
        _ => format!("the credential could not be read: {}", e.message),
    };
    let mut out = Error::new(
        e.code,
        format!("{} ({}): {what}", mapping.from, mapping.var),
    );
    out.errors = e.errors;
    out
}

/// Resolves every mapping, in order; the first failure is returned (nothing is started).
pub async fn resolve_mappings(
    chain: &Arc<CredentialChain>,
    mappings: &[EnvMapping],
) -> Result<HashMap<String, Arc<Resolved>>> {
    let mut by_name: HashMap<String, Arc<Resolved>> = HashMap::new();
    for m in mappings {
        let resolved = match by_name.get(&m.credential) {
            Some(r) => r.clone(),
            None => read(chain, m).await?,
        };
        value_of(m, &resolved)?;
        by_name.insert(m.credential.clone(), resolved);
    }
    Ok(by_name)
}

/// The child's command: environment as the options say, then the mapped values.
/// The child's command. `take_terminal`: its group takes the terminal's foreground (decided
/// once, at the first start: after it `run` itself is no longer in the foreground).
fn command(
    options: &RunOptions,
    values: &HashMap<String, Arc<Resolved>>,
    take_terminal: bool,
) -> Result<Command> {
    let mut cmd = Command::new(&options.program);
    cmd.args(&options.args);
    if !options.inherit_env {
        cmd.env_clear();
        for name in &options.pass_env {
            if let Some(v) = std::env::var_os(name) {
                cmd.env(name, v);
            }
        }
    }
    for m in &options.mappings {
        let resolved = values
            .get(&m.credential)
            .ok_or_else(|| Error::invalid_argument(format!("{}: not resolved", m.from)))?;
        cmd.env(&m.var, value_of(m, resolved)?);
    }
    // The child's stdin, stdout and stderr are this process's, given as duplicates: inside Node
    // (the addon route) fds 0-2 are close-on-exec, so plain inheritance would leave the child
    // writing into nothing.
    {
        use std::os::fd::AsFd;
        if let Ok(fd) = std::io::stdin().as_fd().try_clone_to_owned() {
            cmd.stdin(std::process::Stdio::from(fd));
        }
        if let Ok(fd) = std::io::stdout().as_fd().try_clone_to_owned() {
            cmd.stdout(std::process::Stdio::from(fd));
        }
        if let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() {
            cmd.stderr(std::process::Stdio::from(fd));
        }
    }
    // `run` ends when the child does; a child left behind by a panic here must not outlive it.
    cmd.kill_on_drop(true);
    // Nor one left behind by a `run` killed with SIGKILL (no handler runs then): on Linux the
    // child gets SIGKILL when `run` dies, so a supervisor restarting `run` never ends up with two
    // children holding the secrets. The death signal follows the spawning thread; `run` spawns
    // from the runtime that lives as long as it does.
    #[cfg(target_os = "linux")]
    {
        // SAFETY: getpid has no preconditions.
        let parent = unsafe { libc::getpid() };
        // SAFETY: runs in the forked child before exec and calls only async-signal-safe
        // functions (prctl, getppid, _exit), allocating nothing.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // `run` died between fork and prctl: the signal will never come.
                if libc::getppid() != parent {
                    libc::_exit(137);
                }
                Ok(())
            });
        }
    }
    // A process group of its own, so a signal (a restart's SIGTERM and SIGKILL above all)
    // reaches everything the child started, not only the child.
    // SAFETY: runs in the forked child before exec; setpgid, signal, tcsetpgrp and getpid are
    // async-signal-safe and nothing is allocated.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setpgid(0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if take_terminal {
                // From a background group tcsetpgrp raises SIGTTOU unless it is ignored; the
                // default is restored before exec.
                libc::signal(libc::SIGTTOU, libc::SIG_IGN);
                libc::tcsetpgrp(0, libc::getpid());
                libc::signal(libc::SIGTTOU, libc::SIG_DFL);
            }
            Ok(())
        });
    }
    Ok(cmd)
}

/// Exit code of a finished child: its code, or 128 + the signal that ended it (as shells do).
fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}

/// Whether `run`'s stdin is a terminal whose foreground is `run`'s group (or a group `run`
/// handed it to): then the child's group takes the foreground, so the terminal's Ctrl-C and
/// reads reach it as they would without `run`.
fn owns_terminal() -> bool {
    // SAFETY: isatty, tcgetpgrp and getpgrp only read process and terminal state.
    unsafe { libc::isatty(0) == 1 && libc::tcgetpgrp(0) == libc::getpgrp() }
}

/// Sends `signal` to the child's process group (the child is its leader: its pid is the
/// group's id).
fn send(child: &Child, signal: i32) {
    if let Some(pid) = child.id() {
        // SAFETY: kill(2) on the group of a child we have not yet reaped (tokio reaps it only in
        // `wait`), so the id cannot have been reused.
        unsafe {
            libc::kill(-(pid as libc::pid_t), signal);
        }
    }
}

/// SIGKILL to what is left of a process group whose leader (`pgid`) has just exited: its
/// descendants still hold the old values. The group's id stays reserved while any member
/// lives, so this reaches no one else.
fn kill_group(pgid: Option<u32>) {
    if let Some(pgid) = pgid {
        // SAFETY: kill(2) with a negative pid signals a process group; ESRCH when it is empty.
        unsafe {
            libc::kill(-(pgid as libc::pid_t), libc::SIGKILL);
        }
    }
}

/// Whether a forwarded signal asks the child to end (a grace period then applies).
fn ends_child(signal: i32) -> bool {
    matches!(
        signal,
        libc::SIGINT | libc::SIGTERM | libc::SIGHUP | libc::SIGQUIT
    )
}

/// What the watches report to the supervisor loop.
enum Check {
    Changed(Arc<Resolved>),
    Failed(Error),
    Recovered,
}

/// Exit code when the command cannot be started: 127 (not found) or 126 (not executable), as
/// shells use.
fn spawn_failure_code(e: &std::io::Error) -> i32 {
    if e.kind() == std::io::ErrorKind::NotFound {
        127
    } else {
        126
    }
}

/// Runs the child; returns its exit code (or 128 + the signal that ended it).
///
/// Errors, before any child runs: [`RunStartError::Credentials`] (no mapping, a mapping's
/// credential not found or unreadable, a missing field: the error names the flag or config path
/// and keeps the chain's code) and [`RunStartError::Spawn`] (the command cannot be started).
/// A restart that cannot start the command again ends `run` with 127 or 126.
///
/// `on_event` is called from this task, in order, for each [`RunEvent`].
pub async fn run(
    chain: Arc<CredentialChain>,
    options: RunOptions,
    on_event: &mut (dyn FnMut(RunEvent) + Send),
) -> std::result::Result<i32, RunStartError> {
    if options.mappings.is_empty() {
        return Err(RunStartError::Credentials(Error::invalid_argument(
            "no variable is mapped: give --env NAME=credential[.field] or set `run.env` in openclaw-vault.json",
        )));
    }
    // Watches first: each reads its baseline, which the cache then serves to the reads below, so
    // the child starts with exactly the values the watches compare against.
    let (check_tx, mut check_rx) = mpsc::unbounded_channel::<(String, Check)>();
    let mut handles: Vec<WatchHandle> = Vec::new();
    if let Some(w) = &options.watch {
        let mut names: Vec<&EnvMapping> = Vec::new();
        for m in &options.mappings {
            if !names.iter().any(|n| n.credential == m.credential) {
                names.push(m);
            }
        }
        for m in names {
            let tx = check_tx.clone();
            let name = m.credential.clone();
            let callback: WatchCallback = Arc::new(move |r: Result<Arc<Resolved>>| {
                let _ = tx.send((
                    name.clone(),
                    match r {
                        Ok(resolved) => Check::Changed(resolved),
                        Err(e) => Check::Failed(e),
                    },
                ));
            });
            let (tx, name) = (check_tx.clone(), m.credential.clone());
            let recovered: RecoveryCallback = Arc::new(move || {
                let _ = tx.send((name.clone(), Check::Recovered));
            });
            let handle = watch_with_recovery(
                chain.clone(),
                m.credential.clone(),
                w.interval,
                callback,
                Some(recovered),
            )
            .await
            .map_err(|e| RunStartError::Credentials(mapping_error(m, e)))?;
            handles.push(handle);
        }
    }
    let mut values = resolve_mappings(&chain, &options.mappings)
        .await
        .map_err(RunStartError::Credentials)?;
    let mut versions: BTreeMap<String, String> = values
        .iter()
        .map(|(k, r)| (k.clone(), version_text(&r.credential.version)))
        .collect();

    // Signals are handled from here on (installing a handler replaces the default action).
    let (sig_tx, mut sig_rx) = mpsc::unbounded_channel::<i32>();
    let mut forwarders = Vec::new();
    for (_, signal) in FORWARDED {
        let mut stream =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::from_raw(*signal))
                .map_err(|e| {
                    RunStartError::Credentials(Error::invalid_argument(format!(
                        "cannot handle {}: {e}",
                        signal_name(*signal)
                    )))
                })?;
        let tx = sig_tx.clone();
        let signal = *signal;
        forwarders.push(tokio::spawn(async move {
            while stream.recv().await.is_some() {
                if tx.send(signal).is_err() {
                    return;
                }
            }
        }));
    }
    struct AbortOnDrop(Vec<tokio::task::JoinHandle<()>>);
    impl Drop for AbortOnDrop {
        fn drop(&mut self) {
            for h in &self.0 {
                h.abort();
            }
        }
    }
    let _forwarders = AbortOnDrop(forwarders);

    let take_terminal = owns_terminal();
    let mut child = command(&options, &values, take_terminal)
        .map_err(RunStartError::Credentials)?
        .spawn()
        .map_err(|e| RunStartError::Spawn {
            code: spawn_failure_code(&e),
            message: format!("cannot start the command: {e}"),
        })?;
    on_event(RunEvent::Started {
        pid: child.id().unwrap_or(0),
    });
    let mut failing: std::collections::HashSet<String> = Default::default();
    // Set by the first forwarded signal that asks the child to end: the deadline of its grace
    // period and the signal.
    let mut ending: Option<(tokio::time::Instant, i32)> = None;
    // The child's pid, its process group's id: kept, as `child.id()` is gone once it is reaped.
    let mut pgid = child.id();

    loop {
        let grace_over = async {
            match ending {
                Some((at, _)) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            status = child.wait() => {
                // Exited by itself (or by a forwarded signal): `run` ends with it, even under
                // --watch. When `run` was asked to end, so is what the child left in its group
                // (a non-interactive shell's `&` jobs ignore SIGINT and SIGQUIT).
                if ending.is_some() {
                    kill_group(pgid);
                }
                return Ok(status.map(exit_code).unwrap_or(1));
            }
            _ = grace_over => {
                // The child ignored the forwarded signal: SIGKILL its group, and end as the
                // signal would have ended it.
                let (_, signal) = ending.unwrap_or((tokio::time::Instant::now(), libc::SIGTERM));
                send(&child, libc::SIGKILL);
                on_event(RunEvent::Killed { grace: options.stop_grace });
                let _ = child.wait().await;
                kill_group(pgid);
                return Ok(128 + signal);
            }
            Some(signal) = sig_rx.recv() => {
                send(&child, signal);
                if ending.is_none() && ends_child(signal) {
                    ending = Some((tokio::time::Instant::now() + options.stop_grace, signal));
                }
            }
            Some((name, check)) = check_rx.recv() => {
                let resolved = match check {
                    Check::Failed(e) => {
                        if failing.insert(name.clone()) {
                            // A source that holds the name in a shape that makes no credential
                            // (the chain then goes on and ends not-found, listing it in `errors`).
                            let unusable = (e.code == crate::error::ErrorCode::InvalidSource)
                                .then(|| e.message.clone())
                                .or_else(|| {
                                    e.errors.iter().find(|t| t.contains(": INVALID_SOURCE (")).cloned()
                                });
                            if let Some(message) = unusable {
                                let fields = options
                                    .mappings
                                    .iter()
                                    .filter(|m| m.credential == name)
                                    .map(|m| m.field.clone().unwrap_or_else(|| "its main field".into()))
                                    .collect();
                                on_event(RunEvent::Unusable { credential: name, fields, message });
                            } else if e.code == crate::error::ErrorCode::CredentialNotFound {
                                on_event(RunEvent::Deleted { credential: name });
                            } else {
                                on_event(RunEvent::WatchFailing { credential: name, code: e.code(), message: e.message });
                            }
                        }
                        continue;
                    }
                    Check::Recovered => {
                        if failing.remove(&name) {
                            on_event(RunEvent::WatchRecovered { credential: name });
                        }
                        continue;
                    }
                    Check::Changed(resolved) => resolved,
                };
                let new = version_text(&resolved.credential.version);
                let old = versions.insert(name.clone(), new.clone()).unwrap_or_default();
                on_event(RunEvent::Changed { credential: name.clone(), old, new });
                values.insert(name, resolved);
                let Some(w) = &options.watch else { continue };
                match w.on_change {
                    OnChange::Signal(signal) => {
                        send(&child, signal);
                        on_event(RunEvent::Signalled { signal });
                    }
                    OnChange::Restart => {
                        // Every value is checked before the running child is stopped.
                        let cmd = match command(&options, &values, take_terminal) {
                            Ok(cmd) => cmd,
                            Err(e) => {
                                on_event(RunEvent::RestartFailed { message: e.message });
                                continue;
                            }
                        };
                        match stop(&mut child, w.grace, options.stop_grace, &mut sig_rx, on_event).await {
                            Stopped::ForSignal(code) => return Ok(code),
                            Stopped::ForRestart => {}
                        }
                        child = match restart(cmd) {
                            Ok(c) => c,
                            Err(e) => {
                                on_event(RunEvent::RestartFailed { message: e.to_string() });
                                return Ok(spawn_failure_code(&e));
                            }
                        };
                        pgid = child.id();
                        on_event(RunEvent::Started { pid: child.id().unwrap_or(0) });
                    }
                }
            }
        }
    }
}

fn restart(mut cmd: Command) -> std::io::Result<Child> {
    cmd.spawn()
}

enum Stopped {
    /// Stopped for the restart.
    ForRestart,
    /// A signal came for `run` itself while stopping: forwarded, and `run` ends with this code.
    ForSignal(i32),
}

/// SIGTERM to the child's group, then SIGKILL to the group after `grace`; once the child has
/// exited, whatever is left of its group is killed (it holds the old values). Signals that
/// arrive meanwhile are forwarded, and then the child is not started again.
async fn stop(
    child: &mut Child,
    grace: Duration,
    stop_grace: Duration,
    signals: &mut mpsc::UnboundedReceiver<i32>,
    on_event: &mut (dyn FnMut(RunEvent) + Send),
) -> Stopped {
    let pgid = child.id();
    send(child, libc::SIGTERM);
    let mut signalled = false;
    // The first signal that asks `run` itself to end: a child killed at the deadline then ends
    // `run` as that signal would have (128 + it), as outside a restart.
    let mut asked: Option<i32> = None;
    let deadline = tokio::time::sleep(grace);
    tokio::pin!(deadline);
    let status = loop {
        tokio::select! {
            status = child.wait() => break status,
            Some(signal) = signals.recv() => {
                if asked.is_none() && ends_child(signal) {
                    asked = Some(signal);
                }
                if !signalled && ends_child(signal) {
                    // `run` itself is asked to end: the stop grace bounds the wait from here.
                    let sooner = tokio::time::Instant::now() + stop_grace;
                    if sooner < deadline.deadline() {
                        deadline.as_mut().reset(sooner);
                    }
                }
                signalled = true;
                send(child, signal);
            }
            _ = &mut deadline => {
                send(child, libc::SIGKILL);
                on_event(RunEvent::Killed { grace });
                let status = child.wait().await;
                if let Some(signal) = asked {
                    kill_group(pgid);
                    return Stopped::ForSignal(128 + signal);
                }
                break status;
            }
        }
    };
    kill_group(pgid);
    if signalled {
        Stopped::ForSignal(status.map(exit_code).unwrap_or(1))
    } else {
        Stopped::ForRestart
    }
}

/// Why [`run`] did not start the child.
#[derive(Debug)]
pub enum RunStartError {
    /// A mapping could not be resolved (or there is none): the error names the flag or config
    /// path.
    Credentials(Error),
    /// The command could not be started; `code` is 127 (not found) or 126, as shells use.
    Spawn { code: i32, message: String },
}

/// The variable through which the npm `openclaw-vault` launcher (`bin/openclaw-vault.js`) tells
/// the native executable it starts its own pid (see [`die_with_launcher`]).
pub const LAUNCHER_PID_VAR: &str = "OPENCLAW_VAULT_LAUNCHER_PID";

/// Called first by the native executable. When [`LAUNCHER_PID_VAR`] names this process's parent
/// (the npm launcher), the kernel is asked for SIGTERM when that parent dies (`PR_SET_PDEATHSIG`):
/// a `kill -9` of the launcher then does not leave this process running on its own (a `migrate`
/// holding its run lock and applying OpenClaw's plan later, behind the user's back). Started any
/// other way (by OpenClaw as its exec provider, by systemd, by hand) nothing changes. Linux only.
pub fn die_with_launcher(launcher_pid: Option<&str>) {
    #[cfg(target_os = "linux")]
    {
        let Some(pid) = launcher_pid.and_then(|p| p.parse::<i32>().ok()) else {
            return;
        };
        // SAFETY: getppid and prctl have no memory preconditions.
        unsafe {
            if libc::getppid() != pid {
                // Not the launcher's child, unless the launcher died between its exec of this
                // process and this check (a `kill -9` right after the start, seen under load):
                // then the death signal can no longer be asked for, so end as it would have.
                if launcher_gone(pid) {
                    libc::_exit(143);
                }
                return;
            }
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM, 0, 0, 0) != 0 {
                return;
            }
            // The launcher died between the check and prctl: the signal will never come.
            if libc::getppid() != pid {
                libc::_exit(143);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = launcher_pid;
}

/// Whether process `pid` no longer runs: no `/proc/<pid>`, or a zombie (killed, not yet reaped).
#[cfg(target_os = "linux")]
fn launcher_gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // `<pid> (<comm>) <state> ...`: the comm may hold spaces and parentheses.
        Ok(stat) => stat
            .rfind(')')
            .and_then(|end| stat[end + 1..].split_whitespace().next())
            .is_some_and(|state| state == "Z" || state == "X"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mappings_split_the_field_at_hash_else_at_the_last_dot() {
        let m = EnvMapping::parse("ANTHROPIC_API_KEY=anthropic", "x").unwrap();
        assert_eq!(
            (m.var.as_str(), m.credential.as_str()),
            ("ANTHROPIC_API_KEY", "anthropic")
        );
        assert_eq!(m.field, None);
        let m = EnvMapping::parse("T=telegram.botToken", "x").unwrap();
        assert_eq!(
            (m.credential.as_str(), m.field.as_deref()),
            ("telegram", Some("botToken"))
        );
        let m = EnvMapping::parse("T=my.cred#token", "x").unwrap();
        assert_eq!(
            (m.credential.as_str(), m.field.as_deref()),
            ("my.cred", Some("token"))
        );
        let m = EnvMapping::parse("T=my.cred#", "x").unwrap();
        assert_eq!((m.credential.as_str(), m.field), ("my.cred", None));
        let m = EnvMapping::parse("_T2=openai:work", "x").unwrap();
        assert_eq!(m.credential, "openai:work");
    }

    #[test]
    fn bad_mappings_name_where_and_never_quote_the_text() {
        let canary = "sk-CANARY-77";
        for text in [
            canary.to_string(),
            format!("{canary}-X=anthropic"),
            "2X=anthropic".to_string(),
            // (A space is allowed in a name now, as in `groq:my key`; a control character is not.)
            format!("K={canary}\u{7}x"),
            format!("K=anthropic.{canary}!"),
            "K=".to_string(),
            "K=a/../b".to_string(),
            "=anthropic".to_string(),
        ] {
            let e = EnvMapping::parse(&text, "`--env` at position 3").unwrap_err();
            assert_eq!(e.code(), "INVALID_ARGUMENT", "{text}");
            assert!(
                e.message.starts_with("`--env` at position 3: "),
                "{}",
                e.message
            );
            assert!(!e.message.contains("CANARY"), "{}", e.message);
        }
    }

    #[test]
    fn flags_replace_config_mappings_and_may_not_repeat() {
        let config = vec![
            EnvMapping::new("A", "one", "config A").unwrap(),
            EnvMapping::new("B", "two", "config B").unwrap(),
        ];
        let merged = merge_mappings(
            &config,
            vec![EnvMapping::new("B", "three", "flag B").unwrap()],
        )
        .unwrap();
        let got: Vec<_> = merged
            .iter()
            .map(|m| (m.var.as_str(), m.credential.as_str()))
            .collect();
        assert_eq!(got, [("A", "one"), ("B", "three")]);
        let e = merge_mappings(
            &config,
            vec![
                EnvMapping::new("C", "x", "flag 1").unwrap(),
                EnvMapping::new("C", "y", "flag 2").unwrap(),
            ],
        )
        .unwrap_err();
        assert_eq!(e.code(), "INVALID_ARGUMENT");
        assert!(e.message.starts_with("flag 2: "), "{}", e.message);
    }

    #[test]
    fn on_change_is_restart_or_a_forwarded_signal() {
        assert_eq!(OnChange::parse("restart", "w").unwrap(), OnChange::Restart);
        for text in ["signal:SIGHUP", "signal:HUP", "signal:hup"] {
            assert_eq!(
                OnChange::parse(text, "w").unwrap(),
                OnChange::Signal(libc::SIGHUP)
            );
        }
        assert_eq!(
            OnChange::parse("signal:USR2", "w").unwrap(),
            OnChange::Signal(libc::SIGUSR2)
        );
        for bad in [
            "",
            "restart ",
            "signal:",
            "signal:KILL",
            "signal:9",
            "reload",
        ] {
            let e = OnChange::parse(bad, "--on-change").unwrap_err();
            assert!(
                e.message.starts_with("--on-change must be"),
                "{bad}: {}",
                e.message
            );
        }
    }

    #[test]
    fn exit_codes_are_the_childs_or_128_plus_the_signal() {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(exit_code(std::process::ExitStatus::from_raw(7 << 8)), 7);
        assert_eq!(
            exit_code(std::process::ExitStatus::from_raw(libc::SIGKILL)),
            137
        );
        assert_eq!(
            exit_code(std::process::ExitStatus::from_raw(libc::SIGINT)),
            130
        );
    }
}
