//! `openclaw-vault watch --reload`: rotation that reaches a running OpenClaw gateway.
//!
//! OpenClaw resolves its exec SecretRefs at gateway start and on `openclaw secrets reload` (the
//! gateway RPC `secrets.reload`) only; a secret rotated in Vault is not seen until one of the
//! two. This companion closes that gap:
//!
//! 1. [`refs_in_config`] reads which Vault secrets the gateway's `openclaw.json` refers to through
//!    this package's resolver: every `{"source":"exec","provider":<alias>,"id":...}` whose
//!    `secrets.providers.<alias>` runs `openclaw-vault resolve` (or the Node resolver script), the
//!    id split as the resolver splits it ([`SecretId`]: `<path>/<field>` or `<path>#<field>`).
//! 2. [`run`] polls each secret path's KV v2 metadata (`GET /v1/<mount>/metadata/<path>`,
//!    `current_version`; no secret value is read), jittered and with a floor, backing off while
//!    Vault is away ([`crate::watch::next_wait`], the same waits as `watchCredential` and `run
//!    --watch`). Vault's event subscription would avoid polling but is Enterprise-only.
//! 3. On a change it reports each rotation ([`WatchEvent::Rotated`]: path, old and new version,
//!    never a value) and asks the gateway to reload through a [`Reloader`] (in production
//!    [`OpenClawReloader`]: the real `openclaw secrets reload --json`). A failed reload (gateway
//!    down, RPC error) is kept pending and retried with backoff: no rotation is lost.
//! 4. It ends with [`Ending::Unhealthy`] when Vault or the gateway has failed without a break for
//!    longer than [`WatchSettings::unhealthy_after`], so a service manager (systemd
//!    `Restart=on-failure`) sees and reports it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::error::{Error, ErrorCode, Result};
use crate::migrate::apply_plan::OpenClawCli;
use crate::resolve::SecretId;
use crate::watch::next_wait;

/// One exec SecretRef in `openclaw.json` that this package's resolver answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedRef {
    /// The ref's `id`, e.g. `openclaw/credentials/anthropic/apiKey`.
    pub id: String,
    /// Where it is in `openclaw.json`, e.g. `models.providers.anthropic.apiKey`.
    pub json_path: String,
    /// The secret's path relative to the KV mount (`openclaw/credentials/anthropic`).
    pub path: String,
}

/// Whether a `secrets.providers.<alias>` entry runs this package's resolver: an exec provider
/// whose command is the native `openclaw-vault` with `args` starting with `resolve`, or any
/// command (Node) whose first argument is `openclaw-vault-resolve.mjs`.
pub fn is_our_provider(entry: &Value) -> bool {
    if entry.get("source").and_then(Value::as_str) != Some("exec") {
        return false;
    }
    let file_name = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .and_then(|s| Path::new(s).file_name())
            .and_then(|n| n.to_str())
            .map(str::to_string)
    };
    let args = entry.get("args").and_then(Value::as_array);
    let first = args.and_then(|a| a.first());
    let native = file_name(entry.get("command"))
        .is_some_and(|n| n == "openclaw-vault" || n == "openclaw-vault.exe")
        && first.and_then(Value::as_str) == Some("resolve");
    let node = file_name(first).is_some_and(|n| n == "openclaw-vault-resolve.mjs");
    native || node
}

/// Every exec ref in `config` (a parsed `openclaw.json`) whose provider runs this package's
/// resolver ([`is_our_provider`]) or is one of `extra_aliases`, in document order. Refs under
/// `secrets.providers` are not refs. An id the resolver would refuse is skipped with a warning
/// in the second list (naming its JSON path, never its value).
pub fn refs_in_config(config: &Value, extra_aliases: &[String]) -> (Vec<WatchedRef>, Vec<String>) {
    let aliases = our_aliases(config, extra_aliases);
    let mut refs = Vec::new();
    let mut warnings = Vec::new();
    walk(config, &mut Vec::new(), &aliases, &mut refs, &mut warnings);
    (refs, warnings)
}

/// The `secrets.providers` aliases of `config` that run this package's resolver, plus
/// `extra_aliases`.
fn our_aliases(config: &Value, extra_aliases: &[String]) -> BTreeSet<String> {
    let mut aliases: BTreeSet<String> = extra_aliases.iter().cloned().collect();
    if let Some(providers) = config
        .pointer("/secrets/providers")
        .and_then(Value::as_object)
    {
        for (alias, entry) in providers {
            if is_our_provider(entry) {
                aliases.insert(alias.clone());
            }
        }
    }
    aliases
}

/// The exec refs to this package's resolver held by the auth profiles of OpenClaw's SQLite
/// stores (`keyRef` / `tokenRef` of `api_key` / `token` profiles in
/// `<stateDir>/state/openclaw.sqlite` and every agent's `openclaw-agent.sqlite`, as OpenClaw's
/// audit walks them), resolved through `config`'s providers like the refs of `openclaw.json`.
/// Their `json_path` is `<file>: profiles.<profileId>.keyRef`. A store that cannot be read is a
/// warning (naming the file, never a value).
pub fn refs_in_auth_stores(
    paths: &crate::openclaw::paths::OpenClawPaths,
    config: &Value,
    extra_aliases: &[String],
) -> (Vec<WatchedRef>, Vec<String>) {
    let aliases = our_aliases(config, extra_aliases);
    let mut refs = Vec::new();
    let mut warnings = Vec::new();
    for store in crate::providers::openclaw_sqlite::auth_store_profiles(paths) {
        let profiles = match store.profiles {
            Ok(p) => p,
            Err(e) => {
                warnings.push(format!(
                    "{}: its auth profiles cannot be read ({}); their refs are not watched",
                    store.file.display(),
                    e.message
                ));
                continue;
            }
        };
        for profile in profiles {
            let Some((key, alias, id)) = profile.exec_ref else {
                continue;
            };
            if !aliases.contains(&alias) {
                continue;
            }
            let json_path = format!("{}: profiles.{}.{key}", store.file.display(), profile.id);
            match SecretId::parse(&id) {
                Ok(secret) => refs.push(WatchedRef {
                    id,
                    json_path,
                    path: secret.path,
                }),
                Err(why) => warnings.push(format!("{json_path}: {why}; not watched")),
            }
        }
    }
    (refs, warnings)
}

fn walk(
    value: &Value,
    at: &mut Vec<String>,
    aliases: &BTreeSet<String>,
    refs: &mut Vec<WatchedRef>,
    warnings: &mut Vec<String>,
) {
    match value {
        Value::Object(map) => {
            if at.len() == 2 && at[0] == "secrets" && at[1] == "providers" {
                return;
            }
            let is_ref = map.get("source").and_then(Value::as_str) == Some("exec")
                && map
                    .get("provider")
                    .and_then(Value::as_str)
                    .is_some_and(|p| aliases.contains(p));
            if is_ref {
                let json_path = at.join(".");
                match map.get("id").and_then(Value::as_str).map(SecretId::parse) {
                    Some(Ok(secret)) => refs.push(WatchedRef {
                        id: map["id"].as_str().unwrap_or_default().to_string(),
                        json_path,
                        path: secret.path,
                    }),
                    Some(Err(why)) => warnings.push(format!("{json_path}: {why}; not watched")),
                    None => warnings.push(format!(
                        "{json_path}: the ref has no string `id`; not watched"
                    )),
                }
                return;
            }
            for (key, child) in map {
                at.push(key.clone());
                walk(child, at, aliases, refs, warnings);
                at.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                at.push(i.to_string());
                walk(child, at, aliases, refs, warnings);
                at.pop();
            }
        }
        _ => {}
    }
}

/// The distinct secret paths of `refs`, sorted.
pub fn paths_of(refs: &[WatchedRef]) -> Vec<String> {
    refs.iter()
        .map(|r| r.path.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Reads `openclaw.json` (JSON5) and finds its refs ([`refs_in_config`]).
///
/// Errors: `INVALID_CONFIG` naming the file when it is missing, unreadable or not JSON5 (line and
/// column, never its content).
pub fn refs_in_file(
    file: &Path,
    extra_aliases: &[String],
) -> Result<(Vec<WatchedRef>, Vec<String>)> {
    refs_in_state(file, None, extra_aliases)
}

/// [`refs_in_file`], plus the refs of OpenClaw's SQLite auth stores under `state`
/// ([`refs_in_auth_stores`]) when given.
pub fn refs_in_state(
    file: &Path,
    state: Option<&crate::openclaw::paths::OpenClawPaths>,
    extra_aliases: &[String],
) -> Result<(Vec<WatchedRef>, Vec<String>)> {
    let read = crate::local_file::read_credential_file(file, 16 * 1024 * 1024)?.ok_or_else(|| {
        Error::invalid_config(format!(
            "{}: no such file (the gateway's openclaw.json; pass --config or set OPENCLAW_CONFIG_PATH)",
            file.display()
        ))
    })?;
    let value = crate::openclaw::config::parse_json5(&read)?;
    let (mut refs, mut warnings) = refs_in_config(&value, extra_aliases);
    if let Some(paths) = state {
        let (more, more_warnings) = refs_in_auth_stores(paths, &value, extra_aliases);
        refs.extend(more);
        warnings.extend(more_warnings);
    }
    Ok((refs, warnings))
}

/// What the auth stores' content depends on: each store file's and its WAL's identity and
/// change stamps (OpenClaw writes in WAL mode), so a changed store is read again.
fn stores_version(
    state: Option<&crate::openclaw::paths::OpenClawPaths>,
    config_file: &Path,
) -> Vec<Option<crate::credential::CredentialVersion>> {
    let Some(paths) = state else {
        return Vec::new();
    };
    let Some(dir) = &paths.state_dir else {
        return Vec::new();
    };
    let mut files = vec![crate::providers::openclaw_sqlite::state_db_path(dir)];
    files.extend(
        crate::providers::openclaw_sqlite::agent_stores(paths, Some(config_file))
            .into_iter()
            .map(|(_, f)| f),
    );
    files
        .iter()
        .flat_map(|f| {
            let mut wal = f.clone().into_os_string();
            wal.push("-wal");
            [
                crate::local_file::stat_version(f),
                crate::local_file::stat_version(Path::new(&wal)),
            ]
        })
        .collect()
}

/// What Vault's KV v2 metadata says of a secret's current version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Current {
    /// `current_version` holds data.
    Live(u64),
    /// `current_version` was soft-deleted (`vault kv delete`: its `deletion_time` is set and
    /// passed); Vault answers 404 for it.
    Deleted(u64),
    /// `current_version` was destroyed (`vault kv destroy`).
    Destroyed(u64),
    /// No metadata: the secret never existed or every version was removed (`vault kv metadata
    /// delete`).
    Absent,
}

impl Current {
    /// The version number (0 when absent).
    pub fn version(self) -> u64 {
        match self {
            Current::Live(v) | Current::Deleted(v) | Current::Destroyed(v) => v,
            Current::Absent => 0,
        }
    }

    /// Whether Vault serves a value for it.
    pub fn is_live(self) -> bool {
        matches!(self, Current::Live(_))
    }

    /// The state of `metadata`'s current version at `now`. A `deletion_time` in the future is
    /// a scheduled deletion (`delete_version_after`), not yet one; one that cannot be read
    /// counts as passed (a deletion is never mistaken for a live value).
    pub fn of(
        metadata: Option<&vault_client::engines::kv2::KeyMetadata>,
        now: std::time::SystemTime,
    ) -> Current {
        let Some(m) = metadata else {
            return Current::Absent;
        };
        let v = m.current_version;
        match m.versions.get(&v.to_string()) {
            Some(s) if s.destroyed => Current::Destroyed(v),
            Some(s) if !s.deletion_time.is_empty() => {
                match humantime::parse_rfc3339_weak(&s.deletion_time) {
                    Ok(at) if at > now => Current::Live(v),
                    _ => Current::Deleted(v),
                }
            }
            _ => Current::Live(v),
        }
    }
}

/// Where secret versions come from: Vault's KV v2 metadata in production.
#[async_trait]
pub trait VersionSource: Send + Sync {
    /// The state of the current version of the secret at `path`.
    async fn current(&self, path: &str) -> Result<Current>;

    /// The string `field` of the current version of the secret at `path`; `None` when there is
    /// no such version or field. Read only for the gateway token ([`GATEWAY_TOKEN_PATH`]), so
    /// the reload can authenticate with the token the running gateway holds. Default: `None`.
    async fn value(&self, path: &str, field: &str) -> Result<Option<SecretString>> {
        let _ = (path, field);
        Ok(None)
    }
}

/// Where `openclaw.json` keeps the gateway token: when it is an exec ref this package answers,
/// the running gateway holds the value it resolved at start or at its last reload, and a
/// rotation in Vault must not make the next reload present the new one (the gateway would
/// refuse it: "gateway token mismatch").
pub const GATEWAY_TOKEN_PATH: &str = "gateway.auth.token";

/// The WebSocket URL of the gateway OpenClaw's CLI would call for `config` (a parsed
/// `openclaw.json`), as OpenClaw 2026.9 computes it: `gateway.remote.url` in remote mode, else
/// `ws://127.0.0.1:<port>` (`wss` with `gateway.tls.enabled`), the port from
/// `OPENCLAW_GATEWAY_PORT`, else `gateway.port`, else 18789. `None` when it cannot be known here
/// (remote mode without a URL, or a named `OPENCLAW_PROFILE`, whose port OpenClaw derives).
pub fn local_gateway_url(config: &Value, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let gateway = config.get("gateway");
    let field = |name: &str| gateway.and_then(|g| g.get(name));
    if field("mode").and_then(Value::as_str) == Some("remote") {
        return field("remote")
            .and_then(|r| r.get("url"))
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    let from_env = env("OPENCLAW_GATEWAY_PORT")
        .and_then(|p| p.trim().parse::<u16>().ok())
        .filter(|p| *p > 0);
    let from_config = field("port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p > 0);
    let port = match (from_env, from_config) {
        (Some(p), _) | (None, Some(p)) => p,
        (None, None) => {
            if env("OPENCLAW_PROFILE").is_some_and(|p| !p.trim().is_empty()) {
                return None;
            }
            18789
        }
    };
    let tls = field("tls").and_then(|t| t.get("enabled")) == Some(&Value::Bool(true));
    Some(format!(
        "{}://127.0.0.1:{port}",
        if tls { "wss" } else { "ws" }
    ))
}

#[async_trait]
impl VersionSource for vault_client::VaultClient {
    /// `GET /v1/<mount>/metadata/<path>`: reads no secret value.
    async fn current(&self, path: &str) -> Result<Current> {
        let metadata = self.read_metadata(path).await?;
        Ok(Current::of(metadata.as_ref(), std::time::SystemTime::now()))
    }

    /// `GET /v1/<mount>/data/<path>`: the one field, as a string.
    async fn value(&self, path: &str, field: &str) -> Result<Option<SecretString>> {
        let read = self.read(path, None).await?;
        Ok(read
            .and_then(|s| s.data)
            .and_then(|d| d.expose_secret().get(field)?.as_str().map(str::to_string))
            .map(SecretString::from))
    }
}

/// What a successful reload reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadReport {
    /// OpenClaw's `warningCount` (owners that went stale or cold).
    pub warning_count: u64,
}

/// Asks the gateway to re-resolve its refs.
#[async_trait]
pub trait Reloader: Send + Sync {
    /// One reload. Errors (`SOURCE_UNAVAILABLE`) say why, without the gateway token.
    async fn reload(&self) -> Result<ReloadReport>;

    /// One reload that authenticates with `token` (the gateway token the running gateway holds).
    /// Default: [`Reloader::reload`].
    async fn reload_with_token(&self, token: &SecretString) -> Result<ReloadReport> {
        let _ = token;
        self.reload().await
    }

    /// Whether [`Reloader::reload_with_token`] hands the token to the gateway. Default: no.
    fn passes_gateway_token(&self) -> bool {
        false
    }

    /// Whether a reload reaches a gateway at all. Default: yes.
    fn reaches_gateway(&self) -> bool {
        true
    }
}

/// The reloader of `watch` without `--reload`: rotations are only reported, nothing is
/// reloaded ([`WatchEvent::NotReloaded`]).
pub struct LogOnly;

#[async_trait]
impl Reloader for LogOnly {
    async fn reload(&self) -> Result<ReloadReport> {
        Ok(ReloadReport::default())
    }

    fn reaches_gateway(&self) -> bool {
        false
    }
}

/// The real `openclaw secrets reload --json`: OpenClaw's own client for the `secrets.reload`
/// RPC, so the connection, auth, device identity and protocol version are OpenClaw's and follow
/// its releases. Costs a Node start per reload (about a second), which only happens on a
/// rotation.
pub struct OpenClawReloader {
    pub cli: OpenClawCli,
    /// `OPENCLAW_GATEWAY_URL` for the child (`--gateway-url`); `None`: the target OpenClaw's
    /// config names (local gateway `gateway.port`).
    pub url: Option<String>,
    /// `OPENCLAW_GATEWAY_TOKEN` for the child; `None`: OpenClaw's own (config
    /// `gateway.auth.token` or the inherited variable). Never on the command line, where `ps`
    /// would show it.
    pub token: Option<SecretString>,
    /// The gateway's URL for a reload that authenticates with the token the running gateway
    /// holds ([`Reloader::reload_with_token`]; OpenClaw takes `OPENCLAW_GATEWAY_TOKEN` only
    /// with a URL override): `url`, else [`local_gateway_url`] of the config. `None` (or a
    /// fixed `token`): the reload never passes a tracked token.
    pub tracked_token_url: Option<String>,
    /// The whole reload, Node's start included: the CLI is killed past it. Also OpenClaw's
    /// `--timeout` (its RPC wait), which therefore never outlives it.
    pub timeout: Duration,
}

#[async_trait]
impl Reloader for OpenClawReloader {
    async fn reload(&self) -> Result<ReloadReport> {
        self.run_reload(self.url.as_deref(), self.token.as_ref())
            .await
    }

    async fn reload_with_token(&self, token: &SecretString) -> Result<ReloadReport> {
        match (&self.token, &self.tracked_token_url) {
            (None, Some(url)) => self.run_reload(Some(url), Some(token)).await,
            _ => self.reload().await,
        }
    }

    fn passes_gateway_token(&self) -> bool {
        self.token.is_none() && self.tracked_token_url.is_some()
    }
}

impl OpenClawReloader {
    async fn run_reload(
        &self,
        url: Option<&str>,
        token: Option<&SecretString>,
    ) -> Result<ReloadReport> {
        let cli = self.cli.command.clone();
        let timeout_ms = self.timeout.as_millis().to_string();
        let mut env: Vec<(String, String)> = Vec::new();
        if let Some(url) = url {
            env.push(("OPENCLAW_GATEWAY_URL".into(), url.to_string()));
        }
        let token = token.map(|t| t.expose_secret().to_string());
        if let Some(t) = &token {
            env.push(("OPENCLAW_GATEWAY_TOKEN".into(), t.clone()));
        }
        let deadline = self.timeout;
        let run = tokio::task::spawn_blocking(move || {
            let args: [&std::ffi::OsStr; 5] = [
                "secrets".as_ref(),
                "reload".as_ref(),
                "--json".as_ref(),
                "--timeout".as_ref(),
                timeout_ms.as_ref(),
            ];
            crate::migrate::apply_plan::run_with_deadline_env(&cli, &args, &env, deadline)
        })
        .await
        .map_err(|e| Error::new(ErrorCode::SourceUnavailable, format!("reload task: {e}")))?;
        let redact = |text: &str| match &token {
            Some(t) if !t.is_empty() => text.replace(t.as_str(), "[REDACTED]"),
            _ => text.to_string(),
        };
        let cli = &self.cli.command;
        let run = run.map_err(|e| {
            Error::new(
                ErrorCode::SourceUnavailable,
                format!("cannot run {} secrets reload: {e}", cli.display()),
            )
        })?;
        let report: Option<Value> = run
            .stdout
            .find('{')
            .and_then(|start| serde_json::from_str(&run.stdout[start..]).ok());
        if run.code == Some(0)
            && report
                .as_ref()
                .is_some_and(|r| r.get("ok") != Some(&Value::Bool(false)))
        {
            let warning_count = report
                .as_ref()
                .and_then(|r| r.get("warningCount"))
                .and_then(Value::as_u64)
                .unwrap_or(0);
            return Ok(ReloadReport { warning_count });
        }
        let said = report
            .as_ref()
            .and_then(|r| {
                r.pointer("/error/message")
                    .or_else(|| r.get("error"))
                    .and_then(Value::as_str)
            })
            // One log line per event: OpenClaw's multi-line message joined.
            .map(|m| {
                let lines: Vec<&str> = m.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
                format!(": {}", redact(&lines.join(" ")))
            })
            .unwrap_or_default();
        let ending = match (run.timed_out, run.code) {
            (true, _) => format!("did not finish within {deadline:?} and was killed"),
            (false, Some(c)) => format!("exit code {c}"),
            (false, None) => "killed by a signal".into(),
        };
        let excerpt = crate::scrub::stderr_excerpt(&run.stderr, &redact);
        let stderr = if said.is_empty() && !excerpt.is_empty() {
            format!("; its stderr: {excerpt}")
        } else {
            String::new()
        };
        Err(Error::new(
            ErrorCode::SourceUnavailable,
            format!(
                "{} secrets reload failed ({ending}){said}{stderr}",
                cli.display()
            ),
        ))
    }
}

/// How [`run`] runs.
#[derive(Clone)]
pub struct WatchSettings {
    /// The gateway's `openclaw.json`, re-read when it changes (new refs are watched from then on).
    pub config_file: PathBuf,
    /// More provider aliases to treat as this package's resolver (`--provider`).
    pub extra_aliases: Vec<String>,
    /// OpenClaw's directories: when set, the `keyRef` / `tokenRef` exec refs of the SQLite auth
    /// profile stores are watched too ([`refs_in_auth_stores`]), re-read when a store changes.
    pub state: Option<crate::openclaw::paths::OpenClawPaths>,
    /// Between two checks (jittered down by up to a fifth; longer while failing).
    pub interval: Duration,
    /// The longest one secret's metadata read may take (login and retries included); past it the
    /// check fails with `TIMEOUT` and is retried with backoff. A Vault that accepts connections
    /// and never answers is noticed within this time.
    pub vault_timeout: Duration,
    /// Reload once at start (a rotation made while this companion was down is not lost).
    pub initial_reload: bool,
    /// End with [`Ending::Unhealthy`] after failing without a break this long; `None`: never.
    pub unhealthy_after: Option<Duration>,
    /// Stop after this many successful reloads (tests and benchmarks); `None`: run until stopped.
    pub max_reloads: Option<u64>,
    /// The resolver's last-known-good file (`credentials.lastKnownGood`), when on: a secret
    /// whose current version is deleted, destroyed or removed in Vault is dropped from it at
    /// once, so a later outage cannot bring it back.
    pub last_known_good: Option<Arc<crate::last_known_good::LastKnownGood>>,
}

/// Why a reload runs (or is pending), for log lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pending {
    /// Secrets with a new (or restored) current version since the last good reload.
    pub rotations: usize,
    /// Secrets whose current version was deleted, destroyed or removed.
    pub deletions: usize,
    /// The reload at start.
    pub initial: bool,
    /// Vault answered again after failed checks: a gateway that (re)started meanwhile may hold
    /// cold or stale values.
    pub vault_back: bool,
}

impl Pending {
    fn any(&self) -> bool {
        self.rotations > 0 || self.deletions > 0 || self.initial || self.vault_back
    }
}

impl std::fmt::Display for Pending {
    /// `1 rotation(s)`, `1 deletion(s)`, `initial reload`, `Vault is back`, joined by `, `.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        if self.rotations > 0 {
            parts.push(format!("{} rotation(s)", self.rotations));
        }
        if self.deletions > 0 {
            parts.push(format!("{} deletion(s)", self.deletions));
        }
        if self.initial {
            parts.push("initial reload".into());
        }
        if self.vault_back {
            parts.push("Vault is back after an outage".into());
        }
        f.write_str(&parts.join(", "))
    }
}

/// What [`run`] reports, as it happens. Never holds a secret value or the gateway token.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchEvent {
    /// Watching: how many refs, over how many secret paths, and from which file.
    Watching {
        refs: usize,
        paths: usize,
        config: PathBuf,
    },
    /// A skipped ref or an unreadable config re-read (the previous refs are kept).
    Warning { message: String },
    /// A secret's `current_version` changed to a live version.
    Rotated { path: String, old: u64, new: u64 },
    /// A secret's current version is no longer served by Vault: `now` is
    /// [`Current::Deleted`], [`Current::Destroyed`] or [`Current::Absent`] (every version
    /// removed). The gateway is reloaded so it drops the value.
    Deleted { path: String, now: Current },
    /// A deleted current version was restored (`vault kv undelete`).
    Restored { path: String, version: u64 },
    /// Entries of deleted secrets dropped from the last-known-good file.
    Forgotten { paths: Vec<String>, file: PathBuf },
    /// The secret behind `gateway.auth.token` ([`GATEWAY_TOKEN_PATH`]) rotated: the next reload
    /// authenticates with the token the running gateway holds, then with the new one.
    GatewayTokenRotated {
        json_path: String,
        path: String,
        old: u64,
        new: u64,
    },
    /// A change was seen and nothing was reloaded (`watch` without `--reload`).
    NotReloaded { why: Pending },
    /// The gateway reloaded.
    Reloaded {
        why: Pending,
        elapsed: Duration,
        warning_count: u64,
    },
    /// Vault could not be asked; retrying after `retry_in`.
    VaultFailing {
        code: String,
        message: String,
        retry_in: Duration,
    },
    /// The reload failed; it stays pending and is retried after `retry_in`.
    ReloadFailing {
        why: Pending,
        message: String,
        retry_in: Duration,
    },
    /// A check or a reload succeeded after failures.
    Recovered { after: Duration },
}

/// How [`run`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// `stop` resolved.
    Stopped,
    /// [`WatchSettings::max_reloads`] reached.
    Done,
    /// Failing without a break for longer than [`WatchSettings::unhealthy_after`].
    Unhealthy { for_: Duration, last_error: String },
}

/// Reads the current state of every path, each read bounded by `timeout`; the first failure
/// (named by its path) ends the pass.
async fn check_all(
    versions: &dyn VersionSource,
    paths: Vec<String>,
    timeout: Duration,
) -> Result<BTreeMap<String, Current>> {
    let mut now = BTreeMap::new();
    for path in paths {
        let read = match tokio::time::timeout(timeout, versions.current(&path)).await {
            Ok(read) => read,
            Err(_) => Err(Error::new(
                ErrorCode::Timeout,
                format!(
                    "no answer from Vault within {} ms for the metadata of {path} (--vault-timeout-ms)",
                    timeout.as_millis()
                ),
            )),
        };
        match read {
            Ok(v) => {
                now.insert(path, v);
            }
            Err(e) => return Err(e.with_path(path)),
        }
    }
    Ok(now)
}

/// Runs the companion until `stop` resolves, it turns unhealthy, or `max_reloads` is reached.
/// `stop` is watched during every wait and every Vault check; a reload in progress (bounded by
/// its own timeout) finishes first.
///
/// Errors (before watching): the config file's (`INVALID_CONFIG`), or `INVALID_CONFIG` when it
/// has no ref this package's resolver answers.
pub async fn run(
    settings: WatchSettings,
    versions: Arc<dyn VersionSource>,
    reloader: Arc<dyn Reloader>,
    on_event: &mut (dyn FnMut(WatchEvent) + Send),
    stop: impl std::future::Future<Output = ()>,
) -> Result<Ending> {
    let state = settings.state.as_ref();
    let (mut refs, warnings) =
        refs_in_state(&settings.config_file, state, &settings.extra_aliases)?;
    for message in warnings {
        on_event(WatchEvent::Warning { message });
    }
    if refs.is_empty() {
        return Err(Error::invalid_config(format!(
            "{}: no exec SecretRef uses this package's resolver (a `secrets.providers` entry running `openclaw-vault resolve`); run `openclaw-vault migrate --rewrite-config` first, or name the provider with --provider",
            settings.config_file.display()
        )));
    }
    let mut config_version = (
        crate::local_file::stat_version(&settings.config_file),
        stores_version(state, &settings.config_file),
    );
    on_event(WatchEvent::Watching {
        refs: refs.len(),
        paths: paths_of(&refs).len(),
        config: settings.config_file.clone(),
    });
    tokio::pin!(stop);
    // What the last re-read of the config and stores reported (repeated only when it changes).
    let mut last_said: Vec<WatchEvent> = Vec::new();
    // The baseline: the states last seen; a path first seen gets one without a rotation.
    let mut seen: BTreeMap<String, Current> = BTreeMap::new();
    let mut pending = Pending {
        initial: settings.initial_reload,
        ..Pending::default()
    };
    let mut failures: u32 = 0;
    let mut vault_failed = false;
    let mut failing_since: Option<Instant> = None;
    let mut reloads: u64 = 0;
    let mut first = true;
    // The gateway token the running gateway holds, when `gateway.auth.token` is a ref of ours:
    // read at the first good check, replaced after each good reload.
    let mut held_token: Option<SecretString> = None;
    let mut held_read = false;
    loop {
        if !first {
            let mut wait = next_wait(settings.interval, failures);
            // Wake at the unhealthy limit rather than sleep past it (one more check decides).
            if let (Some(since), Some(limit)) = (failing_since, settings.unhealthy_after) {
                wait = wait.min((since + limit).saturating_duration_since(Instant::now()));
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = &mut stop => return Ok(Ending::Stopped),
            }
        }
        first = false;
        // The config may have gained or lost refs (e.g. another `migrate --rewrite-config`).
        let now_version = (
            crate::local_file::stat_version(&settings.config_file),
            stores_version(state, &settings.config_file),
        );
        if now_version != config_version {
            config_version = now_version;
            // The gateway writes its SQLite state often: only a change of the refs (or of the
            // warnings) is reported, not every re-read.
            let mut changed = false;
            let said = match refs_in_state(&settings.config_file, state, &settings.extra_aliases) {
                Ok((fresh, warnings)) if !fresh.is_empty() => {
                    changed = fresh != refs;
                    refs = fresh;
                    changed.then_some(WatchEvent::Watching {
                        refs: refs.len(),
                        paths: paths_of(&refs).len(),
                        config: settings.config_file.clone(),
                    })
                    .into_iter()
                    .chain(warnings.into_iter().map(|message| WatchEvent::Warning { message }))
                    .collect::<Vec<_>>()
                }
                Ok(_) => vec![WatchEvent::Warning {
                    message: format!(
                        "{}: now has no ref this package's resolver answers; still watching the previous ones",
                        settings.config_file.display()
                    ),
                }],
                Err(e) => vec![WatchEvent::Warning {
                    message: format!("{} (still watching the previous refs)", e.message),
                }],
            };
            if changed || said != last_said {
                for event in &said {
                    on_event(event.clone());
                }
                last_said = said;
            }
        }
        // Failing time counts from the start of the first failing check (a hung Vault fails only
        // at its deadline).
        let check_started = Instant::now();
        let checked = tokio::select! {
            checked = check_all(&*versions, paths_of(&refs), settings.vault_timeout) => checked,
            _ = &mut stop => return Ok(Ending::Stopped),
        };
        let failed_message = match checked {
            Err(e) => {
                vault_failed = true;
                let retry_in = next_wait(settings.interval, failures.saturating_add(1));
                let message = e.message.clone();
                on_event(WatchEvent::VaultFailing {
                    code: e.code().to_string(),
                    message: e.message,
                    retry_in,
                });
                Some(message)
            }
            Ok(now) => {
                if std::mem::take(&mut vault_failed) {
                    pending.vault_back = true;
                }
                let mut gone: Vec<String> = Vec::new();
                let mut rotated: Vec<WatchEvent> = Vec::new();
                for (path, state) in &now {
                    let before = seen.get(path).copied();
                    if !state.is_live() && before != Some(*state) {
                        gone.push(path.clone());
                    }
                    let Some(old) = before else { continue };
                    if old == *state {
                        continue;
                    }
                    match (old, *state) {
                        (_, Current::Live(new)) if old.version() != new => {
                            let event = WatchEvent::Rotated {
                                path: path.clone(),
                                old: old.version(),
                                new,
                            };
                            rotated.push(event.clone());
                            on_event(event);
                            pending.rotations += 1;
                        }
                        (_, Current::Live(version)) => {
                            on_event(WatchEvent::Restored {
                                path: path.clone(),
                                version,
                            });
                            pending.rotations += 1;
                        }
                        (_, now) => {
                            on_event(WatchEvent::Deleted {
                                path: path.clone(),
                                now,
                            });
                            pending.deletions += 1;
                        }
                    }
                }
                seen = now;
                let gateway_ref = reloader
                    .passes_gateway_token()
                    .then(|| refs.iter().find(|r| r.json_path == GATEWAY_TOKEN_PATH))
                    .flatten()
                    .cloned();
                if let Some(r) = &gateway_ref {
                    if !std::mem::replace(&mut held_read, true) {
                        held_token = token_value(&*versions, r, settings.vault_timeout).await;
                    }
                    for event in &rotated {
                        if let WatchEvent::Rotated { path, old, new } = event {
                            if *path == r.path {
                                on_event(WatchEvent::GatewayTokenRotated {
                                    json_path: r.json_path.clone(),
                                    path: path.clone(),
                                    old: *old,
                                    new: *new,
                                });
                            }
                        }
                    }
                }
                if let (Some(file), false) = (&settings.last_known_good, gone.is_empty()) {
                    forget(file, gone, on_event).await;
                }
                if pending.any() && !reloader.reaches_gateway() {
                    on_event(WatchEvent::NotReloaded { why: pending });
                    pending = Pending::default();
                    reloads += 1;
                    None
                } else if pending.any() {
                    let started = Instant::now();
                    let reloaded = reload_gateway(
                        &*reloader,
                        &*versions,
                        gateway_ref.as_ref(),
                        &mut held_token,
                        settings.vault_timeout,
                    )
                    .await;
                    match reloaded {
                        Ok(report) => {
                            on_event(WatchEvent::Reloaded {
                                why: pending,
                                elapsed: started.elapsed(),
                                warning_count: report.warning_count,
                            });
                            pending = Pending::default();
                            reloads += 1;
                            None
                        }
                        Err(e) => {
                            let retry_in = next_wait(settings.interval, failures.saturating_add(1));
                            on_event(WatchEvent::ReloadFailing {
                                why: pending,
                                message: e.message.clone(),
                                retry_in,
                            });
                            Some(e.message)
                        }
                    }
                } else {
                    None
                }
            }
        };
        match failed_message {
            Some(message) => {
                failures = failures.saturating_add(1);
                let since = *failing_since.get_or_insert(check_started);
                if let Some(limit) = settings.unhealthy_after {
                    if since.elapsed() >= limit {
                        return Ok(Ending::Unhealthy {
                            for_: since.elapsed(),
                            last_error: message,
                        });
                    }
                }
            }
            None => {
                if let Some(since) = failing_since.take() {
                    on_event(WatchEvent::Recovered {
                        after: since.elapsed(),
                    });
                }
                failures = 0;
                if settings.max_reloads.is_some_and(|max| reloads >= max) {
                    return Ok(Ending::Done);
                }
            }
        }
    }
}

/// The gateway token's current value in Vault (`None` when it cannot be read: the reload then
/// uses OpenClaw's own).
async fn token_value(
    versions: &dyn VersionSource,
    r: &WatchedRef,
    timeout: Duration,
) -> Option<SecretString> {
    let id = SecretId::parse(&r.id).ok()?;
    tokio::time::timeout(timeout, versions.value(&id.path, &id.field))
        .await
        .ok()?
        .ok()
        .flatten()
}

/// One reload. With `gateway_ref` (the gateway token is a ref of ours and the reloader can pass
/// a token) it authenticates with `held`, the token the running gateway holds, and afterwards
/// takes the value read from Vault just before the reload (the gateway resolved that one or a
/// newer one). When `held` is refused (the gateway restarted meanwhile and resolved the new
/// one) it tries the current value once.
async fn reload_gateway(
    reloader: &dyn Reloader,
    versions: &dyn VersionSource,
    gateway_ref: Option<&WatchedRef>,
    held: &mut Option<SecretString>,
    timeout: Duration,
) -> Result<ReloadReport> {
    let Some(r) = gateway_ref else {
        return reloader.reload().await;
    };
    let current = token_value(versions, r, timeout).await;
    let Some(first) = held.clone().or_else(|| current.clone()) else {
        return reloader.reload().await;
    };
    match reloader.reload_with_token(&first).await {
        Ok(report) => {
            if let Some(c) = current {
                *held = Some(c);
            }
            Ok(report)
        }
        Err(e) => match current {
            Some(c) if c.expose_secret() != first.expose_secret() => {
                let report = reloader.reload_with_token(&c).await?;
                *held = Some(c);
                Ok(report)
            }
            _ => Err(e),
        },
    }
}

/// Drops `paths` (every layer's entry) from the last-known-good file; a failure is a warning
/// (the resolver also drops them at its next 404).
async fn forget(
    file: &Arc<crate::last_known_good::LastKnownGood>,
    paths: Vec<String>,
    on_event: &mut (dyn FnMut(WatchEvent) + Send),
) {
    let keeper = file.clone();
    let asked = paths.clone();
    let dropped = tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = asked.iter().map(String::as_str).collect();
        keeper.forget_everywhere(&refs)
    })
    .await;
    match dropped {
        Ok(Ok(dropped)) if !dropped.is_empty() => on_event(WatchEvent::Forgotten {
            paths: dropped,
            file: file.path().to_path_buf(),
        }),
        Ok(Ok(_)) => {}
        Ok(Err(e)) => on_event(WatchEvent::Warning {
            message: format!(
                "cannot drop {} from the last-known-good file ({}); the resolver may serve the deleted value in a Vault outage until it reads the path again: give this companion the resolver's Vault auth material",
                paths.join(", "),
                e.message
            ),
        }),
        Err(e) => on_event(WatchEvent::Warning {
            message: format!(
                "cannot drop {} from the last-known-good file {}: {e}",
                paths.join(", "),
                file.path().display()
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Mutex;

    fn config() -> Value {
        json!({
            "secrets": {"providers": {
                "openclaw-vault": {"source": "exec", "command": "/opt/x/openclaw-vault", "args": ["resolve"]},
                "vault-node": {"source": "exec", "command": "/usr/bin/node", "args": ["/p/bin/openclaw-vault-resolve.mjs"]},
                "onepassword": {"source": "exec", "command": "/usr/bin/op-resolver", "args": []},
                "named": {"source": "exec", "command": "/usr/bin/other", "args": []},
            }},
            "models": {"providers": {
                "openai": {"apiKey": {"source": "exec", "provider": "openclaw-vault", "id": "openclaw/credentials/openai/apiKey"}},
                "anthropic": {"apiKey": {"source": "exec", "provider": "vault-node", "id": "kv/anthropic#api_key"}},
                "other": {"apiKey": {"source": "exec", "provider": "onepassword", "id": "op/x/y"}},
            }},
            "channels": {"telegram": {"accounts": [
                {"botToken": {"source": "exec", "provider": "openclaw-vault", "id": "openclaw/credentials/telegram/token"}},
                {"botToken": {"source": "exec", "provider": "openclaw-vault", "id": "../escape/x"}},
                {"botToken": {"source": "exec", "provider": "named", "id": "n/t"}},
            ]}},
            "gateway": {"auth": {"token": {"source": "env", "provider": "default", "id": "OPENCLAW_GATEWAY_TOKEN"}}},
        })
    }

    #[test]
    fn refs_of_our_resolver_are_found_with_their_paths_and_others_are_not() {
        let (refs, warnings) = refs_in_config(&config(), &[]);
        let got: Vec<(&str, &str)> = refs
            .iter()
            .map(|r| (r.json_path.as_str(), r.path.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "models.providers.openai.apiKey",
                    "openclaw/credentials/openai"
                ),
                ("models.providers.anthropic.apiKey", "kv/anthropic"),
                (
                    "channels.telegram.accounts.0.botToken",
                    "openclaw/credentials/telegram"
                ),
            ]
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].starts_with("channels.telegram.accounts.1.botToken: ")
                && warnings[0].contains("not watched"),
            "{warnings:?}"
        );
        // `--provider` adds an alias that is not recognisably ours.
        let (refs, _) = refs_in_config(&config(), &["named".to_string()]);
        assert!(refs.iter().any(|r| r.path == "n"), "{refs:?}");
        assert_eq!(paths_of(&refs).len(), 4);
        // Nothing of ours: no refs.
        let (refs, _) = refs_in_config(&json!({"models": {"providers": {}}}), &[]);
        assert!(refs.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn key_refs_of_the_sqlite_auth_stores_are_watched_too() {
        let dir = openclaw_vault_test_support::temp_dir("gw-reload-authstore");
        let state = dir.join(".openclaw");
        std::fs::create_dir_all(state.join("state")).unwrap();
        let config = state.join("openclaw.json");
        std::fs::write(
            &config,
            json!({
                "secrets": {"providers": {
                    "openclaw-vault": {"source": "exec", "command": "/x/openclaw-vault", "args": ["resolve"]},
                    "other": {"source": "exec", "command": "/x/op", "args": []},
                }},
                "models": {"providers": {"stub": {"apiKey": {"source": "exec", "provider": "openclaw-vault", "id": "p/credentials/stub/apiKey"}}}},
            })
            .to_string(),
        )
        .unwrap();
        // The shared store as OpenClaw 2026.9 keeps it (config_machine_state, authProfiles.store).
        let db = rusqlite::Connection::open(state.join("state/openclaw.sqlite")).unwrap();
        db.execute_batch(
            "CREATE TABLE config_machine_state (state_key TEXT NOT NULL PRIMARY KEY,
               value_json TEXT NOT NULL, updated_at_ms INTEGER NOT NULL) STRICT;",
        )
        .unwrap();
        let store = json!({"version": 1, "profiles": {
            "openai:default": {"type": "api_key", "provider": "openai",
                "keyRef": {"source": "exec", "provider": "openclaw-vault", "id": "p/credentials/openai/apiKey"}},
            "openai:other": {"type": "api_key", "provider": "openai",
                "keyRef": {"source": "exec", "provider": "other", "id": "x/y"}},
            "anthropic:default": {"type": "api_key", "provider": "anthropic", "key": "sk-ant-CANARY"},
        }});
        db.execute(
            "INSERT INTO config_machine_state VALUES ('authProfiles.store', ?1, 1)",
            [store.to_string()],
        )
        .unwrap();
        drop(db);
        let h = dir.to_str().unwrap().to_string();
        let s = state.to_str().unwrap().to_string();
        let paths = crate::openclaw::paths::OpenClawPaths::from_env(&|k| match k {
            "HOME" => Some(h.clone()),
            "OPENCLAW_STATE_DIR" => Some(s.clone()),
            _ => None,
        });
        let (refs, warnings) = refs_in_state(&config, Some(&paths), &[]).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let got: Vec<(&str, &str)> = refs
            .iter()
            .map(|r| (r.json_path.as_str(), r.path.as_str()))
            .collect();
        let store_path = format!(
            "{}: profiles.openai:default.keyRef",
            state.join("state/openclaw.sqlite").display()
        );
        assert_eq!(
            got,
            vec![
                ("models.providers.stub.apiKey", "p/credentials/stub"),
                (store_path.as_str(), "p/credentials/openai"),
            ]
        );
        // The companion watches both paths; a rotation of the store's ref reloads.
        let mut s = settings(&dir, "authstore");
        s.config_file = config.clone();
        s.state = Some(paths);
        let reloader = Arc::new(Flaky {
            fail: Mutex::new(0),
            calls: Mutex::new(0),
        });
        let (ended, events) = events_of(s, vec![Some(1), Some(1), Some(2)], reloader).await;
        assert_eq!(ended.unwrap(), Ending::Done);
        assert!(
            events.contains(&WatchEvent::Watching {
                refs: 2,
                paths: 2,
                config: config.clone()
            }),
            "{events:?}"
        );
        assert!(!format!("{events:?}").contains("CANARY"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// States scripted per check: each check takes the next entry (`None`: Vault away).
    struct Script {
        steps: Mutex<Vec<Option<Current>>>,
        last: Mutex<Option<Current>>,
    }

    #[async_trait]
    impl VersionSource for Script {
        async fn current(&self, _path: &str) -> Result<Current> {
            let mut steps = self.steps.lock().unwrap();
            let step = if steps.is_empty() {
                *self.last.lock().unwrap()
            } else {
                steps.remove(0)
            };
            *self.last.lock().unwrap() = step;
            step.ok_or_else(|| Error::new(ErrorCode::Network, "connection refused"))
        }
    }

    /// Fails the first `fail` reloads.
    struct Flaky {
        fail: Mutex<u32>,
        calls: Mutex<u32>,
    }

    #[async_trait]
    impl Reloader for Flaky {
        async fn reload(&self) -> Result<ReloadReport> {
            *self.calls.lock().unwrap() += 1;
            let mut fail = self.fail.lock().unwrap();
            if *fail > 0 {
                *fail -= 1;
                return Err(Error::new(
                    ErrorCode::SourceUnavailable,
                    "openclaw secrets reload failed (exit code 1): gateway closed (1006)",
                ));
            }
            Ok(ReloadReport { warning_count: 0 })
        }
    }

    fn settings(dir: &Path, name: &str) -> WatchSettings {
        let file = dir.join(format!("{name}.json"));
        std::fs::write(
            &file,
            json!({
                "secrets": {"providers": {"openclaw-vault": {"source": "exec", "command": "/x/openclaw-vault", "args": ["resolve"]}}},
                "models": {"providers": {"stub": {"apiKey": {"source": "exec", "provider": "openclaw-vault", "id": "p/credentials/stub/apiKey"}}}},
            })
            .to_string(),
        )
        .unwrap();
        WatchSettings {
            config_file: file,
            extra_aliases: vec![],
            state: None,
            interval: Duration::from_secs(1),
            vault_timeout: Duration::from_secs(5),
            initial_reload: false,
            unhealthy_after: None,
            max_reloads: Some(1),
            last_known_good: None,
        }
    }

    async fn events_of(
        settings: WatchSettings,
        steps: Vec<Option<u64>>,
        reloader: Arc<dyn Reloader>,
    ) -> (Result<Ending>, Vec<WatchEvent>) {
        let steps = steps.into_iter().map(|s| s.map(Current::Live)).collect();
        states_of(settings, steps, reloader).await
    }

    async fn states_of(
        settings: WatchSettings,
        steps: Vec<Option<Current>>,
        reloader: Arc<dyn Reloader>,
    ) -> (Result<Ending>, Vec<WatchEvent>) {
        let source = Arc::new(Script {
            steps: Mutex::new(steps),
            last: Mutex::new(None),
        });
        let mut events = Vec::new();
        let ended = run(
            settings,
            source,
            reloader,
            &mut |e| events.push(e),
            std::future::pending::<()>(),
        )
        .await;
        (ended, events)
    }

    #[tokio::test(start_paused = true)]
    async fn a_rotation_is_reported_once_and_reloads_even_after_vault_and_the_gateway_were_away() {
        let dir = openclaw_vault_test_support::temp_dir("gw-reload-rotation");
        let reloader = Arc::new(Flaky {
            fail: Mutex::new(2),
            calls: Mutex::new(0),
        });
        let steps = vec![Some(3), Some(3), None, None, None, Some(4)];
        let (ended, events) = events_of(settings(&dir, "a"), steps, reloader.clone()).await;
        assert_eq!(ended.unwrap(), Ending::Done);
        let rotated: Vec<_> = events
            .iter()
            .filter(|e| matches!(e, WatchEvent::Rotated { .. }))
            .collect();
        assert_eq!(
            rotated,
            vec![&WatchEvent::Rotated {
                path: "p/credentials/stub".into(),
                old: 3,
                new: 4
            }]
        );
        // Vault away: three failures, each wait longer than the one before (backoff).
        let vault_waits: Vec<Duration> = events
            .iter()
            .filter_map(|e| match e {
                WatchEvent::VaultFailing { retry_in, code, .. } => {
                    assert_eq!(code, "NETWORK");
                    Some(*retry_in)
                }
                _ => None,
            })
            .collect();
        assert_eq!(vault_waits.len(), 3, "{events:?}");
        assert!(
            vault_waits.windows(2).all(|w| w[1] > w[0]),
            "{vault_waits:?}"
        );
        // The gateway away twice: the rotation stays pending, then one reload carries it.
        let reload_failures: Vec<usize> = events
            .iter()
            .filter_map(|e| match e {
                WatchEvent::ReloadFailing { why, .. } => Some(why.rotations),
                _ => None,
            })
            .collect();
        assert_eq!(reload_failures, vec![1, 1]);
        assert_eq!(*reloader.calls.lock().unwrap(), 3);
        let reloaded: Vec<usize> = events
            .iter()
            .filter_map(|e| match e {
                WatchEvent::Reloaded { why, .. } => Some(why.rotations),
                _ => None,
            })
            .collect();
        // One reload carries the rotation and the end of the Vault outage.
        assert_eq!(reloaded, vec![1], "{events:?}");
        assert!(events
            .iter()
            .any(|e| matches!(e, WatchEvent::Recovered { .. })));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn the_initial_reload_runs_without_a_rotation() {
        let dir = openclaw_vault_test_support::temp_dir("gw-reload-initial");
        let mut s = settings(&dir, "b");
        s.initial_reload = true;
        let reloader = Arc::new(Flaky {
            fail: Mutex::new(0),
            calls: Mutex::new(0),
        });
        let (ended, events) = events_of(s, vec![Some(1)], reloader.clone()).await;
        assert_eq!(ended.unwrap(), Ending::Done);
        assert!(
            matches!(
                events[1],
                WatchEvent::Reloaded {
                    why: Pending {
                        initial: true,
                        rotations: 0,
                        ..
                    },
                    ..
                }
            ),
            "{events:?}"
        );
        assert_eq!(*reloader.calls.lock().unwrap(), 1);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn failing_without_a_break_ends_unhealthy_and_a_missing_config_or_no_refs_is_an_error() {
        let dir = openclaw_vault_test_support::temp_dir("gw-reload-unhealthy");
        let mut s = settings(&dir, "c");
        s.unhealthy_after = Some(Duration::from_secs(30));
        let reloader = Arc::new(Flaky {
            fail: Mutex::new(0),
            calls: Mutex::new(0),
        });
        let (ended, events) = events_of(s, vec![None], reloader.clone()).await;
        match ended.unwrap() {
            Ending::Unhealthy { for_, last_error } => {
                assert!(for_ >= Duration::from_secs(30), "{for_:?}");
                assert!(last_error.contains("connection refused"), "{last_error}");
            }
            other => panic!("{other:?}"),
        }
        assert!(events.len() >= 4, "{events:?}");
        let mut s = settings(&dir, "d");
        s.config_file = dir.join("missing.json");
        let (ended, _) = events_of(s, vec![], reloader.clone()).await;
        let e = ended.unwrap_err();
        assert_eq!(e.code(), "INVALID_CONFIG");
        assert!(
            e.message.contains("missing.json: no such file"),
            "{}",
            e.message
        );
        let s = settings(&dir, "e");
        std::fs::write(&s.config_file, "{models: {}}").unwrap();
        let (ended, _) = events_of(s, vec![], reloader).await;
        let e = ended.unwrap_err();
        assert_eq!(e.code(), "INVALID_CONFIG");
        assert!(e.message.contains("no exec SecretRef"), "{}", e.message);
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn metadata(current: u64, deletion_time: &str, destroyed: bool) -> vault_client::KeyMetadata {
        serde_json::from_value(json!({
            "created_time": "2026-11-29T10:00:00.1Z",
            "updated_time": "2026-11-29T10:00:00.1Z",
            "current_version": current,
            "versions": {
                "1": {"created_time": "2026-11-29T10:00:00.1Z", "deletion_time": "", "destroyed": false},
                current.to_string(): {"created_time": "2026-11-29T10:00:00.1Z", "deletion_time": deletion_time, "destroyed": destroyed},
            },
        }))
        .unwrap()
    }

    #[test]
    fn the_current_versions_deletion_and_destruction_are_read_from_the_metadata() {
        let now = humantime::parse_rfc3339("2026-11-29T12:00:00Z").unwrap();
        let at = |m: &vault_client::KeyMetadata| Current::of(Some(m), now);
        assert_eq!(at(&metadata(3, "", false)), Current::Live(3));
        assert_eq!(
            at(&metadata(3, "2026-11-29T11:59:59.123456789Z", false)),
            Current::Deleted(3)
        );
        // `delete_version_after` schedules a deletion: not one yet.
        assert_eq!(
            at(&metadata(3, "2026-11-29T13:00:00.5Z", false)),
            Current::Live(3)
        );
        assert_eq!(at(&metadata(3, "", true)), Current::Destroyed(3));
        // An unreadable time is a deletion, never a live value.
        assert_eq!(at(&metadata(3, "yesterday", false)), Current::Deleted(3));
        assert_eq!(Current::of(None, now), Current::Absent);
    }

    #[tokio::test(start_paused = true)]
    async fn a_deleted_destroyed_or_removed_current_version_is_a_change_that_reloads_and_leaves_the_last_known_good_file(
    ) {
        let dir = openclaw_vault_test_support::temp_dir("gw-reload-deleted");
        let file = dir.join("lkg.bin");
        let mut client = vault_client::ClientConfig::new("http://127.0.0.1:8200").unwrap();
        client.token = Some(SecretString::from("hvs.lkg-key".to_string()));
        let lkg = Arc::new(
            crate::last_known_good::LastKnownGood::new(
                crate::last_known_good::LastKnownGoodSettings {
                    path: file.clone(),
                    max_age: Duration::from_secs(3600),
                    key: crate::last_known_good::KeySource::Auth,
                },
                &client,
            )
            .unwrap(),
        );
        let value = vault_client::SecretData::try_from_value(
            json!({"apiKey": "sk-CANARY-deleted"}),
            "test",
        )
        .unwrap();
        let other =
            vault_client::SecretData::try_from_value(json!({"apiKey": "sk-kept"}), "test").unwrap();
        lkg.record(&[
            ("p/credentials/stub", &value, None),
            ("p/credentials/stub|agent=ops|team=", &value, None),
            ("p/credentials/other", &other, None),
        ])
        .unwrap();
        for (gone, line_word) in [
            (Current::Deleted(3), "Deleted"),
            (Current::Destroyed(3), "Destroyed"),
            (Current::Absent, "Absent"),
        ] {
            let mut s = settings(&dir, "del");
            s.last_known_good = Some(lkg.clone());
            let reloader = Arc::new(Flaky {
                fail: Mutex::new(0),
                calls: Mutex::new(0),
            });
            let steps = vec![Some(Current::Live(3)), Some(gone)];
            let (ended, events) = states_of(s, steps, reloader.clone()).await;
            assert_eq!(ended.unwrap(), Ending::Done, "{line_word}");
            assert!(
                events.contains(&WatchEvent::Deleted {
                    path: "p/credentials/stub".into(),
                    now: gone
                }),
                "{line_word}: {events:?}"
            );
            assert!(
                !events
                    .iter()
                    .any(|e| matches!(e, WatchEvent::Rotated { .. })),
                "{events:?}"
            );
            let reloaded: Vec<Pending> = events
                .iter()
                .filter_map(|e| match e {
                    WatchEvent::Reloaded { why, .. } => Some(*why),
                    _ => None,
                })
                .collect();
            assert_eq!(
                reloaded,
                vec![Pending {
                    deletions: 1,
                    ..Pending::default()
                }]
            );
            assert_eq!(*reloader.calls.lock().unwrap(), 1);
            // Every layer's entry of the deleted path is gone; the other path is kept.
            assert!(lkg.lookup("p/credentials/stub").unwrap().is_none());
            assert!(lkg
                .lookup("p/credentials/stub|agent=ops|team=")
                .unwrap()
                .is_none());
            assert!(lkg.lookup("p/credentials/other").unwrap().is_some());
            assert!(!format!("{events:?}").contains("CANARY"));
            lkg.record(&[
                ("p/credentials/stub", &value, None),
                ("p/credentials/stub|agent=ops|team=", &value, None),
            ])
            .unwrap();
        }
        // The first event names the dropped path, never a value.
        let mut s = settings(&dir, "del2");
        s.last_known_good = Some(lkg.clone());
        let reloader = Arc::new(Flaky {
            fail: Mutex::new(0),
            calls: Mutex::new(0),
        });
        let steps = vec![Some(Current::Live(3)), Some(Current::Deleted(3))];
        let (_, events) = states_of(s, steps, reloader).await;
        assert!(
            events.contains(&WatchEvent::Forgotten {
                paths: vec!["p/credentials/stub".into()],
                file: file.clone()
            }),
            "{events:?}"
        );
        // Undelete: the same version readable again is a change too.
        let steps = vec![Some(Current::Deleted(3)), Some(Current::Live(3))];
        let reloader = Arc::new(Flaky {
            fail: Mutex::new(0),
            calls: Mutex::new(0),
        });
        let (_, events) = states_of(settings(&dir, "undel"), steps, reloader).await;
        assert!(
            events.contains(&WatchEvent::Restored {
                path: "p/credentials/stub".into(),
                version: 3
            }),
            "{events:?}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// Per-path scripted states; the gateway token's value is `t<version>` of its last state.
    struct Paths {
        steps: Mutex<BTreeMap<String, Vec<Current>>>,
        last: Mutex<BTreeMap<String, Current>>,
    }

    #[async_trait]
    impl VersionSource for Paths {
        async fn current(&self, path: &str) -> Result<Current> {
            let mut steps = self.steps.lock().unwrap();
            let mut last = self.last.lock().unwrap();
            let queue = steps.get_mut(path).unwrap();
            let state = if queue.is_empty() {
                last[path]
            } else {
                queue.remove(0)
            };
            last.insert(path.to_string(), state);
            Ok(state)
        }

        async fn value(&self, path: &str, field: &str) -> Result<Option<SecretString>> {
            assert_eq!((path, field), ("p/credentials/gateway", "token"));
            let v = self.last.lock().unwrap()[path].version();
            Ok(Some(SecretString::from(format!("t{v}"))))
        }
    }

    /// A gateway that accepts only the token it holds and, on a reload, re-resolves it from
    /// Vault. `reload()` (OpenClaw's own token) presents what Vault holds now.
    struct TokenGateway {
        holds: Mutex<String>,
        vault: Arc<Paths>,
        tried: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl Reloader for TokenGateway {
        async fn reload(&self) -> Result<ReloadReport> {
            let now = self.vault.value("p/credentials/gateway", "token").await?;
            self.reload_with_token(&now.unwrap()).await
        }

        async fn reload_with_token(&self, token: &SecretString) -> Result<ReloadReport> {
            self.tried
                .lock()
                .unwrap()
                .push(token.expose_secret().to_string());
            let mut holds = self.holds.lock().unwrap();
            if *holds != token.expose_secret() {
                return Err(Error::new(
                    ErrorCode::SourceUnavailable,
                    "unauthorized: gateway token mismatch",
                ));
            }
            let v = self.vault.last.lock().unwrap()["p/credentials/gateway"].version();
            *holds = format!("t{v}");
            Ok(ReloadReport::default())
        }

        fn passes_gateway_token(&self) -> bool {
            true
        }
    }

    // Attack 8 finding 1: after a rotation of the gateway token every reload was refused.
    #[tokio::test(start_paused = true)]
    async fn a_rotated_gateway_token_reloads_with_the_token_the_gateway_holds_then_the_new_one() {
        let dir = openclaw_vault_test_support::temp_dir("gw-reload-gwtoken");
        let mut s = settings(&dir, "gwtoken");
        std::fs::write(
            &s.config_file,
            json!({
                "gateway": {"auth": {"token": {"source": "exec", "provider": "openclaw-vault", "id": "p/credentials/gateway/token"}}},
                "secrets": {"providers": {"openclaw-vault": {"source": "exec", "command": "/x/openclaw-vault", "args": ["resolve"]}}},
                "models": {"providers": {"stub": {"apiKey": {"source": "exec", "provider": "openclaw-vault", "id": "p/credentials/stub/apiKey"}}}},
            })
            .to_string(),
        )
        .unwrap();
        s.max_reloads = Some(2);
        s.unhealthy_after = Some(Duration::from_secs(120));
        for restarted_meanwhile in [false, true] {
            let vault = Arc::new(Paths {
                steps: Mutex::new(BTreeMap::from([
                    (
                        "p/credentials/gateway".to_string(),
                        vec![Current::Live(1), Current::Live(2)],
                    ),
                    (
                        "p/credentials/stub".to_string(),
                        vec![Current::Live(1), Current::Live(1), Current::Live(2)],
                    ),
                ])),
                last: Mutex::new(BTreeMap::new()),
            });
            let gateway = Arc::new(TokenGateway {
                // A gateway restarted after the rotation resolved the new token already.
                holds: Mutex::new(if restarted_meanwhile { "t2" } else { "t1" }.into()),
                vault: vault.clone(),
                tried: Mutex::new(Vec::new()),
            });
            let mut events = Vec::new();
            let ended = run(
                s.clone(),
                vault,
                gateway.clone(),
                &mut |e| events.push(e),
                std::future::pending::<()>(),
            )
            .await;
            assert_eq!(ended.unwrap(), Ending::Done, "{events:?}");
            assert!(
                events.contains(&WatchEvent::GatewayTokenRotated {
                    json_path: "gateway.auth.token".into(),
                    path: "p/credentials/gateway".into(),
                    old: 1,
                    new: 2
                }),
                "{events:?}"
            );
            assert!(
                !events
                    .iter()
                    .any(|e| matches!(e, WatchEvent::ReloadFailing { .. })),
                "{events:?}"
            );
            let tried = gateway.tried.lock().unwrap().clone();
            let want = if restarted_meanwhile {
                vec!["t1", "t2", "t2"]
            } else {
                vec!["t1", "t2"]
            };
            assert_eq!(tried, want);
            assert!(!format!("{events:?}").contains("t1\""), "{events:?}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    // Attack 8 finding 4: `watch` without `--reload` logged "gateway reloaded".
    #[tokio::test(start_paused = true)]
    async fn without_reload_a_change_is_seen_and_nothing_is_said_to_be_reloaded() {
        let dir = openclaw_vault_test_support::temp_dir("gw-reload-logonly");
        let steps = vec![Some(3), Some(4)];
        let (ended, events) = events_of(settings(&dir, "logonly"), steps, Arc::new(LogOnly)).await;
        assert_eq!(ended.unwrap(), Ending::Done);
        assert!(
            events.contains(&WatchEvent::NotReloaded {
                why: Pending {
                    rotations: 1,
                    ..Pending::default()
                }
            }),
            "{events:?}"
        );
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, WatchEvent::Reloaded { .. })),
            "{events:?}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    // Attack 8 finding 10: a companion whose key differs from the resolver's (other Vault auth
    // material) skipped the drop without a word, and the deleted value was served in an outage.
    #[tokio::test(start_paused = true)]
    async fn a_last_known_good_file_the_companion_cannot_open_is_a_warning_naming_the_path_and_the_file(
    ) {
        let dir = openclaw_vault_test_support::temp_dir("gw-reload-otherkey");
        let file = dir.join("lkg.bin");
        let keyed = |token: &str| {
            let mut client = vault_client::ClientConfig::new("http://127.0.0.1:8200").unwrap();
            client.token = Some(SecretString::from(token.to_string()));
            crate::last_known_good::LastKnownGood::new(
                crate::last_known_good::LastKnownGoodSettings {
                    path: file.clone(),
                    max_age: Duration::from_secs(3600),
                    key: crate::last_known_good::KeySource::Auth,
                },
                &client,
            )
            .unwrap()
        };
        let resolver = keyed("hvs.resolver-key");
        let value =
            vault_client::SecretData::try_from_value(json!({"apiKey": "sk-CANARY-ot"}), "test")
                .unwrap();
        resolver
            .record(&[("p/credentials/stub", &value, None)])
            .unwrap();
        let companion = Arc::new(keyed("hvs.companion-key"));
        let e = companion.check().unwrap_err();
        assert_eq!(e.code(), "INVALID_SOURCE");
        assert!(e.message.contains("cannot be decrypted"), "{}", e.message);
        let mut s = settings(&dir, "otherkey");
        s.last_known_good = Some(companion);
        let reloader = Arc::new(Flaky {
            fail: Mutex::new(0),
            calls: Mutex::new(0),
        });
        let steps = vec![Some(Current::Live(3)), Some(Current::Deleted(3))];
        let (ended, events) = states_of(s, steps, reloader).await;
        assert_eq!(ended.unwrap(), Ending::Done);
        let warned: Vec<&String> = events
            .iter()
            .filter_map(|e| match e {
                WatchEvent::Warning { message } => Some(message),
                _ => None,
            })
            .collect();
        assert_eq!(warned.len(), 1, "{events:?}");
        assert!(
            warned[0].starts_with("cannot drop p/credentials/stub from the last-known-good file (last-known-good file ")
                && warned[0].contains("lkg.bin: cannot be decrypted")
                && warned[0].contains("may serve the deleted value"),
            "{}",
            warned[0]
        );
        assert!(!format!("{events:?}").contains("CANARY"));
        // The resolver's entry is still there: only the warning says so.
        assert!(resolver.lookup("p/credentials/stub").unwrap().is_some());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn the_gateway_is_reloaded_when_vault_is_back_after_an_outage() {
        let dir = openclaw_vault_test_support::temp_dir("gw-reload-back");
        let reloader = Arc::new(Flaky {
            fail: Mutex::new(0),
            calls: Mutex::new(0),
        });
        let steps = vec![Some(3), None, None, Some(3)];
        let run = events_of(settings(&dir, "back"), steps, reloader.clone());
        let (ended, events) = tokio::time::timeout(Duration::from_secs(3600), run)
            .await
            .expect("no reload after the outage");
        assert_eq!(ended.unwrap(), Ending::Done);
        let reloaded: Vec<Pending> = events
            .iter()
            .filter_map(|e| match e {
                WatchEvent::Reloaded { why, .. } => Some(*why),
                _ => None,
            })
            .collect();
        assert_eq!(
            reloaded,
            vec![Pending {
                vault_back: true,
                ..Pending::default()
            }],
            "{events:?}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// Accepts the question and never answers (a hung Vault).
    struct Hung;

    #[async_trait]
    impl VersionSource for Hung {
        async fn current(&self, _path: &str) -> Result<Current> {
            std::future::pending().await
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_hung_vault_times_out_backs_off_ends_unhealthy_on_time_and_stops_at_once() {
        let dir = openclaw_vault_test_support::temp_dir("gw-reload-hung");
        let mut s = settings(&dir, "hung");
        s.vault_timeout = Duration::from_secs(2);
        s.unhealthy_after = Some(Duration::from_secs(30));
        s.interval = Duration::from_millis(500);
        let reloader: Arc<dyn Reloader> = Arc::new(LogOnly);
        let mut events = Vec::new();
        let started = Instant::now();
        let ended = run(
            s.clone(),
            Arc::new(Hung),
            reloader.clone(),
            &mut |e| events.push(e),
            std::future::pending::<()>(),
        )
        .await
        .unwrap();
        let took = started.elapsed();
        let failing: Vec<(String, Duration)> = events
            .iter()
            .filter_map(|e| match e {
                WatchEvent::VaultFailing {
                    code,
                    message,
                    retry_in,
                } => {
                    assert!(
                        message.contains("within 2000 ms")
                            && message.contains("p/credentials/stub"),
                        "{message}"
                    );
                    Some((code.clone(), *retry_in))
                }
                _ => None,
            })
            .collect();
        assert!(failing.len() >= 3, "{events:?}");
        assert!(failing.iter().all(|(c, _)| c == "TIMEOUT"), "{failing:?}");
        assert!(failing[2].1 > failing[0].1, "{failing:?}");
        // Unhealthy at the limit plus at most one check's deadline, not a backoff later.
        match ended {
            Ending::Unhealthy { for_, .. } => {
                assert!(for_ >= Duration::from_secs(30), "{for_:?}");
                assert!(took <= Duration::from_secs(32), "{took:?}");
            }
            other => panic!("{other:?}"),
        }
        // A stop while a check hangs ends the run at once.
        s.unhealthy_after = None;
        s.vault_timeout = Duration::from_secs(600);
        let started = Instant::now();
        let ended = run(
            s,
            Arc::new(Hung),
            reloader,
            &mut |_| {},
            tokio::time::sleep(Duration::from_secs(1)),
        )
        .await
        .unwrap();
        assert_eq!(ended, Ending::Stopped);
        assert!(started.elapsed() < Duration::from_secs(2));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn the_reload_runs_openclaw_with_the_token_in_its_environment_and_never_prints_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = openclaw_vault_test_support::temp_dir("gw-reload-cli");
        let argv = dir.join("argv");
        let cli = dir.join("openclaw");
        // Fails like OpenClaw does for a refused token, quoting it in a multi-line message.
        std::fs::write(
            &cli,
            format!(
                "#!/bin/sh\necho \"$@\" > {}\nprintf '{{\"ok\":false,\"error\":{{\"message\":\"unauthorized: %s\\\\nsecond line\"}}}}' \"$OPENCLAW_GATEWAY_TOKEN\"\nexit 1\n",
                argv.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&cli, std::fs::Permissions::from_mode(0o700)).unwrap();
        let token = "gw-CANARY-token-0123456789";
        let reloader = OpenClawReloader {
            cli: OpenClawCli {
                command: cli.clone(),
            },
            url: Some("ws://127.0.0.1:1".into()),
            token: Some(SecretString::from(token.to_string())),
            tracked_token_url: None,
            timeout: Duration::from_secs(2),
        };
        let e = reloader.reload().await.unwrap_err();
        assert_eq!(e.code(), "SOURCE_UNAVAILABLE");
        assert!(!e.message.contains(token), "{}", e.message);
        assert!(
            e.message.contains(
                "secrets reload failed (exit code 1): unauthorized: [REDACTED] second line"
            ),
            "{}",
            e.message
        );
        assert!(!e.message.contains('\n'), "{}", e.message);
        let args = std::fs::read_to_string(&argv).unwrap();
        assert_eq!(args.trim(), "secrets reload --json --timeout 2000");
        // A CLI that answers `ok`: the warning count is read.
        std::fs::write(&cli, "#!/bin/sh\necho '{\"ok\":true,\"warningCount\":2}'\n").unwrap();
        let report = reloader.reload().await.unwrap();
        assert_eq!(report.warning_count, 2);
        // A CLI that hangs is killed at the reload timeout (Node's start included), not later.
        std::fs::write(&cli, "#!/bin/sh\nexec sleep 30\n").unwrap();
        let reloader = OpenClawReloader {
            timeout: Duration::from_millis(1000),
            ..reloader
        };
        let started = std::time::Instant::now();
        let e = reloader.reload().await.unwrap_err();
        assert_eq!(e.code(), "SOURCE_UNAVAILABLE");
        assert!(
            e.message.contains("did not finish within 1s"),
            "{}",
            e.message
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
