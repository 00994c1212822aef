//! This package's settings and the environment OpenClaw runs with, merged into the settings of
//! the credential chain. Lowest to highest: the deprecated `credentials` key of OpenClaw's config
//! file (`openclaw.json`, JSON5), this package's own settings file `openclaw-vault.json` next to
//! it (same shape, at the top level), `options.config` overrides, then `VAULT_*` /
//! `OPENCLAW_VAULT_*` variables, which win, as in OpenClaw.
//!
//! Why a file of its own: OpenClaw 2026.9 validates `openclaw.json` strictly ("Unrecognized key:
//! credentials" fails every `openclaw` command), and `plugins.entries.openclaw-vault.config` is
//! validated against the installed plugin's `configSchema`, or, with the plugin not installed,
//! reported as a stale entry that `openclaw doctor --fix` removes. See
//! `docs/configuration-file.md`.
//!
//! The environment is OpenClaw's effective one: process env > `<cwd>/.env` > `<stateDir>/.env` >
//! the config's `env` block; an existing non-empty variable is never overridden.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Map, Value};

use super::dotenv_trust::{self, Refusal};
use super::paths::OpenClawPaths;
use super::vault_env;
use crate::credential::Fallback;
use crate::credential::SourceGroup;
use crate::error::{Error, ErrorCode, Result};
use crate::last_known_good::{self, KeySource, LastKnownGoodSettings};
use crate::local_file::{self, LocalFile};
use vault_client::auth::{self, AuthFields, Login};
use vault_client::config::{ClientConfig, ClientOptions, FieldNames, KvVersion};
use vault_client::secret::json_kind;
use vault_client::tls::{FileInput, ServerNameInput, TlsSettings};

/// A variable lookup shared across threads (the process env, or a map a test passes). Owned,
/// because [`EffectiveEnv`] keeps it for the env provider. Same type as `credentials::EnvLookup`.
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The folder under the KV mount when none is configured (OpenClaw issue 4727's layout).
pub const DEFAULT_PREFIX: &str = "openclaw";

/// Where the credentials come from: Vault first, or local sources only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderMode {
    /// Vault first, local sources as the fallback allows.
    Vault,
    /// Keychain, local files and env only.
    Local,
}

impl ProviderMode {
    /// `vault` or `local`, as written in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderMode::Vault => "vault",
            ProviderMode::Local => "local",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "vault" => Some(ProviderMode::Vault),
            "local" => Some(ProviderMode::Local),
            _ => None,
        }
    }
}

/// Which layer of the effective environment a variable came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvOrigin {
    /// The process environment.
    Process,
    /// A `.env` file (`<cwd>/.env` or `<stateDir>/.env`).
    DotEnv(PathBuf),
    /// The `env` block (or `env.vars`) of this config file.
    ConfigEnv(PathBuf),
}

impl EnvOrigin {
    /// The file it came from, if any.
    pub fn file(&self) -> Option<&Path> {
        match self {
            EnvOrigin::Process => None,
            EnvOrigin::DotEnv(p) | EnvOrigin::ConfigEnv(p) => Some(p),
        }
    }
}

struct EnvLayer {
    origin: EnvOrigin,
    vars: BTreeMap<String, SecretString>,
}

/// OpenClaw's effective environment: the process env, then `<cwd>/.env`, `<stateDir>/.env` and the
/// config's `env` block, each read once when the config is loaded. Empty values count as unset.
/// Cheap to clone; `Debug` shows names, never values.
#[derive(Clone)]
pub struct EffectiveEnv {
    process: EnvLookup,
    /// File layers in precedence order (after the process env).
    layers: Arc<Vec<EnvLayer>>,
    /// The `.env` files OpenClaw would read, in precedence order (present or not).
    dotenv_files: Arc<Vec<PathBuf>>,
    /// The untrusted one among them: `<cwd>/.env`, unless it is `<stateDir>/.env` itself.
    workspace_dotenv: Option<PathBuf>,
    /// Names of the process variables, when the caller can enumerate them (see `with_process_names`).
    process_names: Option<Arc<Vec<String>>>,
}

impl fmt::Debug for EffectiveEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EffectiveEnv")
            .field(
                "layers",
                &self
                    .layers
                    .iter()
                    .map(|l| (&l.origin, l.vars.keys().collect::<Vec<_>>()))
                    .collect::<Vec<_>>(),
            )
            .field("dotenv_files", &self.dotenv_files)
            .finish()
    }
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|v| !v.trim().is_empty())
}

impl EffectiveEnv {
    /// Only the process env (or whatever `process` looks up): no file layers.
    pub fn process_only(process: EnvLookup) -> Self {
        EffectiveEnv {
            process,
            layers: Arc::new(Vec::new()),
            dotenv_files: Arc::new(Vec::new()),
            workspace_dotenv: None,
            process_names: None,
        }
    }

    /// Records the names the process env holds (`std::env::vars()` keys), so the env provider
    /// can list variables found by its generic `<NAME>_API_KEY` rule. A lookup alone cannot
    /// enumerate them.
    pub fn with_process_names(mut self, names: Vec<String>) -> Self {
        self.process_names = Some(Arc::new(names));
        self
    }

    /// The value OpenClaw would see; `None` when unset or empty in every layer.
    pub fn get(&self, name: &str) -> Option<String> {
        self.lookup(name).map(|(v, _)| v)
    }

    /// The layer the value of `name` comes from.
    pub fn source_of(&self, name: &str) -> Option<EnvOrigin> {
        self.lookup(name).map(|(_, o)| o)
    }

    /// Value and origin together.
    pub fn lookup(&self, name: &str) -> Option<(String, EnvOrigin)> {
        if let Some(v) = non_empty((self.process)(name)) {
            return Some((v, EnvOrigin::Process));
        }
        self.layers.iter().find_map(|layer| {
            let v = layer.vars.get(name)?.expose_secret();
            (!v.trim().is_empty()).then(|| (v.to_string(), layer.origin.clone()))
        })
    }

    /// The process lookup alone (no file layers).
    pub fn process(&self) -> &EnvLookup {
        &self.process
    }

    /// `get` as an owned lookup, for code that takes an [`EnvLookup`].
    pub fn as_lookup(&self) -> EnvLookup {
        let me = self.clone();
        Arc::new(move |name| me.get(name))
    }

    /// `<cwd>/.env` then `<stateDir>/.env` (whichever apply), present or not.
    pub fn dotenv_files(&self) -> &[PathBuf] {
        &self.dotenv_files
    }

    /// Whether `file` is the untrusted workspace `.env` (`<cwd>/.env` when it is not
    /// `<stateDir>/.env`), whose variables pass [`dotenv_trust::workspace_refusal`].
    pub fn is_workspace_dotenv(&self, file: &Path) -> bool {
        self.workspace_dotenv.as_deref() == Some(file)
    }

    /// Every variable name known to be set: the file layers', and the process's when given
    /// through [`EffectiveEnv::with_process_names`]. Sorted, without duplicates.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .layers
            .iter()
            .flat_map(|l| l.vars.keys().cloned())
            .chain(self.process_names.iter().flat_map(|n| n.iter().cloned()))
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// A problem in the config or environment that does not stop loading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    /// The file it is about (`None` for `options.config` and process variables).
    pub file: Option<PathBuf>,
    /// `vault.token` (in `openclaw-vault.json`), `credentials.vault.token` (the deprecated key in
    /// `openclaw.json`), a variable name, or empty for the whole file.
    pub json_path: String,
    /// What is wrong and what to do; never a secret value.
    pub message: String,
}

/// How an unknown-key warning starts; `strict` turns these into errors.
const UNKNOWN_KEY: &str = "unknown key, ignored";
/// How the warning about the old `credentials` key in `openclaw.json` starts.
const DEPRECATED_KEY: &str = "is deprecated";

impl ConfigWarning {
    /// Whether this warns about a key the config does not know (a typo like `fallbak`).
    pub fn is_unknown_key(&self) -> bool {
        self.message.starts_with(UNKNOWN_KEY)
    }

    /// Whether this warns that a file is readable by other users ([`crate::local_file`] logs
    /// that itself, once per file per process).
    pub fn is_file_mode(&self) -> bool {
        self.message.contains(" is readable by other users (mode ")
    }

    /// Whether this warns that settings were read from the deprecated `credentials` key of
    /// `openclaw.json` (which OpenClaw 2026.9 rejects) instead of `openclaw-vault.json`.
    pub fn is_deprecated_key(&self) -> bool {
        self.message.starts_with(DEPRECATED_KEY)
    }
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}: ", file.display())?;
        }
        if !self.json_path.is_empty() {
            write!(f, "{}: ", self.json_path)?;
        }
        f.write_str(&self.message)
    }
}

/// The chain's settings as the config and environment give them.
#[derive(Debug, Clone)]
pub struct CredentialsConfig {
    /// `OPENCLAW_VAULT_PROVIDER`, else vault when `VAULT_ADDR` is set, else `provider`.
    pub provider: ProviderMode,
    /// The final source order; `vault` is dropped when the provider is local.
    pub order: Vec<SourceGroup>,
    /// `OPENCLAW_VAULT_FALLBACK`, else `fallback` (default local).
    pub fallback: Fallback,
    /// `cacheTtlMs`.
    pub cache_ttl: Option<Duration>,
    /// `maxStaleMs`: how long a last known good value may be served.
    pub max_stale: Option<Duration>,
    /// `refreshAheadMs`.
    pub refresh_ahead: Option<Duration>,
    /// The folder under the KV mount (`OPENCLAW_VAULT_PREFIX`, `vault.prefix`).
    pub prefix: String,
    /// `Some` exactly when the provider is vault (its address is then known).
    pub vault: Option<ClientConfig>,
    /// The audit log file (`OPENCLAW_VAULT_AUDIT_LOG`, `audit.path`).
    pub audit: Option<PathBuf>,
    /// `credentials.lastKnownGood` when its `enabled` is true: the encrypted file of Vault
    /// reads served while Vault is unreachable (see [`crate::last_known_good`]). `None` when
    /// off (the default), or when no path is set and OpenClaw's state directory is unknown.
    pub last_known_good: Option<LastKnownGoodSettings>,

    /// `agent` and `team`: whose Vault layers every lookup walks unless a call names its own
    /// (see [`crate::layers`]); both unset by default (the default layer only).
    pub layers: crate::layers::LayerContext,

    /// `credentials.run.env`: the variables `openclaw-vault run` sets in its child, each
    /// `"NAME": "credential[.field]"`, in the file's order (a `--env` flag replaces the same NAME).
    pub run_env: Vec<crate::run::EnvMapping>,
}

/// What [`load_config`] found.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// OpenClaw's config file read (`openclaw.json`), if one exists.
    pub file: Option<PathBuf>,
    /// This package's settings file read (`openclaw-vault.json`), if one exists.
    pub settings_file: Option<PathBuf>,
    /// The chain's settings.
    pub credentials: CredentialsConfig,
    /// OpenClaw's effective environment.
    pub env: EffectiveEnv,
    /// Problems that did not stop loading (unknown keys, plaintext tokens, file modes, empty vars,
    /// variables the workspace `.env` may not set).
    pub warnings: Vec<ConfigWarning>,
    /// Variables the workspace `.env` set and this package ignored (names, never values).
    pub dotenv_refused: Vec<RefusedVar>,
}

/// A variable the workspace `.env` may not set (see [`dotenv_trust`]), ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedVar {
    /// The workspace `.env`.
    pub file: PathBuf,
    /// The variable's name as written.
    pub name: String,
    /// Its category.
    pub reason: Refusal,
}

impl RefusedVar {
    /// The warning `status` and the log show: file, name and category, never the value.
    pub fn message(&self) -> String {
        format!(
            "is {} and a workspace .env may not set it; ignored (set it in the process environment or <stateDir>/.env)",
            self.reason.describe()
        )
    }
}

/// Drops from a workspace `.env`'s variables those it may not set, returning them (sorted).
pub fn refuse_workspace_vars(
    file: &Path,
    vars: &mut BTreeMap<String, SecretString>,
) -> Vec<RefusedVar> {
    let mut refused = Vec::new();
    vars.retain(|name, _| match dotenv_trust::workspace_refusal(name) {
        Some(reason) => {
            refused.push(RefusedVar {
                file: file.to_path_buf(),
                name: name.clone(),
                reason,
            });
            false
        }
        None => true,
    });
    refused
}

/// Variables the describe view reports the origin of (never the value).
const DESCRIBED_VARS: &[&str] = &[
    "VAULT_ADDR",
    "VAULT_AGENT_ADDR",
    "VAULT_TOKEN",
    "VAULT_TOKEN_FILE",
    "VAULT_NAMESPACE",
    "OPENCLAW_VAULT_PROVIDER",
    "OPENCLAW_VAULT_PREFIX",
    "OPENCLAW_VAULT_KV_MOUNT",
    "OPENCLAW_VAULT_KV_VERSION",
    "OPENCLAW_VAULT_FALLBACK",
    "OPENCLAW_VAULT_AUDIT_LOG",
    "OPENCLAW_VAULT_AUTH_METHOD",
];

impl LoadedConfig {
    /// Whether `open_store` logs `w` itself, once per process: unknown keys, the deprecated
    /// `credentials` key and variables the workspace `.env` may not set. Callers that print
    /// warnings leave these out.
    pub fn is_logged_once(&self, w: &ConfigWarning) -> bool {
        w.is_unknown_key() || w.is_deprecated_key() || self.is_refused_var(w)
    }

    /// Whether `w` reports one of [`LoadedConfig::dotenv_refused`].
    pub fn is_refused_var(&self, w: &ConfigWarning) -> bool {
        self.dotenv_refused
            .iter()
            .any(|r| w.file.as_deref() == Some(r.file.as_path()) && w.json_path == r.name)
    }

    /// A view without secrets, for `loadConfig()` in JS and the CLI's `status`: where things come
    /// from, the Vault address, namespace, mount, prefix and auth method, and whether a token is
    /// set (never the token).
    pub fn describe(&self) -> Value {
        let c = &self.credentials;
        let ms = |d: Option<Duration>| d.map(|d| json!(d.as_millis() as u64));
        let vault = c.vault.as_ref().map(|v| {
            json!({
                "addr": v.addr.as_str(),
                "namespace": v.namespace,
                "mount": v.mount,
                "kvVersion": v.kv_version.map(KvVersion::number),
                "prefix": c.prefix,
                "auth": v.login.as_ref().map(Login::name).unwrap_or("token"),
                "tokenSet": v.token.is_some(),
                "tls": {
                    "caCert": v.tls.ca_cert.as_ref().map(|s| s.path.display().to_string()),
                    "caPath": v.tls.ca_path.as_ref().map(|s| s.path.display().to_string()),
                    "clientCert": v.tls.client_cert.is_some(),
                    "serverName": v.tls.server_name.as_ref().map(|s| &s.name),
                    "skipVerify": v.tls.skip_verify,
                },
            })
        });
        let mut env = Map::new();
        for var in DESCRIBED_VARS {
            if let Some(origin) = self.env.source_of(var) {
                let from = match origin {
                    EnvOrigin::Process => "process".to_string(),
                    EnvOrigin::DotEnv(p) => p.display().to_string(),
                    EnvOrigin::ConfigEnv(p) => format!("{} (env block)", p.display()),
                };
                env.insert((*var).to_string(), Value::String(from));
            }
        }
        json!({
            "file": self.file.as_ref().map(|f| f.display().to_string()),
            "settingsFile": self.settings_file.as_ref().map(|f| f.display().to_string()),
            "provider": c.provider.as_str(),
            "order": c.order.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
            "fallback": match c.fallback { Fallback::Local => "local", Fallback::None => "none" },
            "cacheTtlMs": ms(c.cache_ttl),
            "maxStaleMs": ms(c.max_stale),
            "refreshAheadMs": ms(c.refresh_ahead),
            "prefix": c.prefix,
            "agent": c.layers.agent,
            "team": c.layers.team,
            "vault": vault,
            "audit": c.audit.as_ref().map(|p| p.display().to_string()),
            "lastKnownGood": c.last_known_good.as_ref().map(|l| json!({
                "path": l.path.display().to_string(),
                "maxAgeMs": l.max_age.as_millis() as u64,
                "key": l.key.as_str(),
            })),
            "env": env,
            "dotenvFiles": self.env.dotenv_files().iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "dotenvRefused": self.dotenv_refused.iter().map(|r| json!({
                "file": r.file.display().to_string(),
                "variable": r.name,
                "reason": r.reason.as_str(),
            })).collect::<Vec<_>>(),
            "warnings": self.warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
        })
    }
}

/// Parses a file read by `local_file` as JSON5. `INVALID_CONFIG` naming the file, line and column
/// (1-based); never the content.
pub fn parse_json5(file: &LocalFile) -> Result<Value> {
    let text = std::str::from_utf8(&file.bytes).map_err(|e| {
        Error::invalid_config(format!(
            "{}: is not UTF-8 text (byte {})",
            file.path.display(),
            e.valid_up_to()
        ))
    })?;
    // json5 (pest) recurses per level without a limit: a deep file would abort the process.
    crate::nesting::check(text).map_err(|deep| {
        Error::invalid_config(format!(
            "{}: is not usable JSON5 ({})",
            file.path.display(),
            deep.describe()
        ))
    })?;
    json5::from_str::<Value>(text).map_err(|e| {
        let s = crate::scrub::scrub(&e);
        let at = if s.line > 0 {
            format!("line {}, column {}", s.line, s.column)
        } else {
            "unknown position".into()
        };
        Error::invalid_config(format!(
            "{}: is not valid JSON5 ({at}: {})",
            file.path.display(),
            s.detail
        ))
    })
}

/// Where a settings object came from, for errors and warnings.
#[derive(Clone)]
struct Origin {
    /// The file (`openclaw-vault.json` or `openclaw.json`), or `None` for `options.config`.
    file: Option<PathBuf>,
    /// `""` (the top level of `openclaw-vault.json`), `credentials` (the deprecated key of
    /// `openclaw.json`) or `options.config`.
    root: &'static str,
}

impl Origin {
    fn path(&self, rest: &str) -> String {
        match (self.root, rest) {
            ("", "") => "(top level)".to_string(),
            ("", rest) => rest.to_string(),
            (root, "") => root.to_string(),
            (root, rest) => format!("{root}.{rest}"),
        }
    }

    fn error(&self, rest: &str, what: impl fmt::Display) -> Error {
        let path = self.path(rest);
        match &self.file {
            Some(f) => Error::invalid_config(format!("{}: `{path}` {what}", f.display())),
            None => Error::invalid_config(format!("`{path}` {what}")),
        }
    }

    fn warning(&self, rest: &str, message: impl Into<String>) -> ConfigWarning {
        ConfigWarning {
            file: self.file.clone(),
            json_path: self.path(rest),
            message: message.into(),
        }
    }

    /// How an option is named in errors raised later, away from the file (TLS, auth).
    fn name(&self, rest: &str) -> String {
        match &self.file {
            Some(f) => format!("`{}` in {}", self.path(rest), f.display()),
            None => format!("`{}`", self.path(rest)),
        }
    }

    /// A Vault client error about this object's values, with the file in front (the message
    /// names the key through [`VaultKeyNames`]).
    fn wrap(&self, e: vault_client::VaultError) -> Error {
        match &self.file {
            Some(f) => Error::invalid_config(format!("{}: {}", f.display(), e.message)),
            None => Error::invalid_config(e.message),
        }
    }

    /// A file option, named for later TLS / auth errors.
    fn source(&self, rest: &str, path: &str) -> FileInput {
        FileInput::new(path, self.name(rest))
    }
}

/// The `vault.auth` object, checked: each key given, under its login field's name (`roleIdFile`
/// as `role_id_file`). Every value is held as a secret, since some are.
#[derive(Clone, Default)]
struct AuthSection {
    fields: BTreeMap<String, SecretString>,
}

impl AuthSection {
    fn has(&self, field: &str) -> bool {
        self.fields.contains_key(field)
    }

    /// The method given, else inferred from what is given, so `{roleId, secretIdFile}` alone
    /// means AppRole.
    fn method(&self) -> String {
        if let Some(m) = self.fields.get("method") {
            return m.expose_secret().to_string();
        }
        let inferred = if self.has("role_id") || self.has("role_id_file") {
            "approle"
        } else if self.has("username") {
            "userpass"
        } else if self.has("token_file") {
            "token_file"
        } else {
            "token"
        };
        inferred.to_string()
    }
}

/// The `vault.auth` object as the one login builder reads it; fields are named by their JSON path
/// and file, so a later error about a secret file still says where it was set.
struct ConfigAuthFields<'a> {
    auth: &'a AuthSection,
    origin: &'a Origin,
}

impl AuthFields for ConfigAuthFields<'_> {
    fn get(&self, field: &str) -> Option<String> {
        if field == "method" {
            return Some(self.auth.method());
        }
        self.auth
            .fields
            .get(field)
            .map(|v| v.expose_secret().to_string())
    }

    fn name_of(&self, field: &str) -> String {
        self.origin.name(&join("vault.auth", &camel_case(field)))
    }
}

/// The `vault` object's keys as the Vault client's option checks name them: `` `vault.mount` ``.
struct VaultKeyNames<'a>(&'a Origin);

impl FieldNames for VaultKeyNames<'_> {
    fn name_of(&self, field: &str) -> String {
        format!("`{}`", self.0.path(&join("vault", &camel_case(field))))
    }
}

/// `role_id_file` -> `roleIdFile`: a login field as the config file spells it.
fn camel_case(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut upper = false;
    for c in field.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `roleIdFile` -> `role_id_file`: a config key as the login builder names the field.
fn snake_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// One settings object (`openclaw-vault.json`, the old `credentials` key or `options.config`),
/// checked; `None` is "not given here".
#[derive(Clone, Default)]
struct Section {
    provider: Option<ProviderMode>,
    order: Option<Vec<SourceGroup>>,
    fallback: Option<Fallback>,
    cache_ttl: Option<Duration>,
    max_stale: Option<Duration>,
    refresh_ahead: Option<Duration>,
    addr: Option<String>,
    addrs: Option<Vec<String>>,
    token: Option<SecretString>,
    token_file: Option<FileInput>,
    namespace: Option<String>,
    mount: Option<String>,
    kv_version: Option<Option<KvVersion>>,
    prefix: Option<String>,
    auth: Option<AuthSection>,
    tls: Option<TlsSettings>,
    audit: Option<PathBuf>,
    last_known_good: Option<LkgSection>,
    agent: Option<String>,
    team: Option<String>,

    /// `run.env`, checked.
    run_env: Option<Vec<crate::run::EnvMapping>>,
    /// Whether a `vault` object was given at all (for the "provider is not vault" warning).
    has_vault: bool,
    /// `strict: true`: unknown keys are `INVALID_CONFIG` errors instead of warnings.
    strict: Option<bool>,
}

const CREDENTIALS_KEYS: &[&str] = &[
    "provider",
    "strict",
    "order",
    "fallback",
    "cacheTtlMs",
    "maxStaleMs",
    "refreshAheadMs",
    "vault",
    "audit",
    "lastKnownGood",
    "run",
    "agent",
    "team",
];
const VAULT_KEYS: &[&str] = &[
    "addr",
    "addrs",
    "token",
    "tokenFile",
    "namespace",
    "mount",
    "kvVersion",
    "prefix",
    "auth",
    "tls",
];
const AUTH_KEYS: &[&str] = &[
    "method",
    "mount",
    "role",
    "roleId",
    "roleIdFile",
    "secretId",
    "secretIdFile",
    "wrappedSecretId",
    "wrappedSecretIdFile",
    "username",
    "password",
    "passwordFile",
    "jwtFile",
    "tokenFile",
    "name",
];
const TLS_KEYS: &[&str] = &[
    "caCert",
    "caPath",
    "clientCert",
    "clientKey",
    "serverName",
    "skipVerify",
];
const AUDIT_KEYS: &[&str] = &["path"];
const LAST_KNOWN_GOOD_KEYS: &[&str] = &["enabled", "path", "maxAgeMs", "key"];

/// `credentials.lastKnownGood` as written; `None` is "not given here".
#[derive(Clone, Default)]
struct LkgSection {
    enabled: Option<bool>,
    path: Option<PathBuf>,
    max_age: Option<Duration>,
    key: Option<KeySource>,
}

const RUN_KEYS: &[&str] = &["env"];
/// The `vault.auth` keys whose values are secrets: checked without echoing them.
const AUTH_SECRET_KEYS: &[&str] = &["roleId", "secretId", "wrappedSecretId", "password"];
/// The longest duration a `*Ms` option accepts: 30 days.
const MAX_MS: f64 = 30.0 * 24.0 * 3600.0 * 1000.0;

/// The closest known key, when it is close enough to be a likely typo.
fn suggestion(key: &str, known: &'static [&'static str]) -> Option<&'static str> {
    let lower = key.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (*k, strsim::jaro_winkler(&lower, &k.to_ascii_lowercase())))
        .filter(|(_, score)| *score >= 0.8)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(k, _)| k)
}

struct Parser<'a> {
    origin: &'a Origin,
    warnings: &'a mut Vec<ConfigWarning>,
}

impl Parser<'_> {
    fn object<'v>(&self, value: &'v Value, at: &str) -> Result<&'v Map<String, Value>> {
        value.as_object().ok_or_else(|| {
            self.origin
                .error(at, format!("must be an object, got {}", json_kind(value)))
        })
    }

    fn unknown_keys(
        &mut self,
        object: &Map<String, Value>,
        at: &str,
        known: &'static [&'static str],
    ) {
        for key in object.keys() {
            if known.contains(&key.as_str()) {
                continue;
            }
            let path = if at.is_empty() {
                key.clone()
            } else {
                format!("{at}.{key}")
            };
            let message = match suggestion(key, known) {
                Some(s) => format!("{UNKNOWN_KEY} (did you mean `{s}`?)"),
                None => format!("{UNKNOWN_KEY} (known keys: {})", known.join(", ")),
            };
            self.warnings.push(self.origin.warning(&path, message));
        }
    }

    /// A string from a fixed set; any other type or value names the choices.
    fn choice(
        &self,
        object: &Map<String, Value>,
        key: &str,
        choices: &[&str],
    ) -> Result<Option<String>> {
        match object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if choices.contains(&s.trim()) => Ok(Some(s.trim().to_string())),
            Some(other) => Err(self.origin.error(
                key,
                format!(
                    "must be one of {}, got {}",
                    choices
                        .iter()
                        .map(|c| format!("\"{c}\""))
                        .collect::<Vec<_>>()
                        .join(", "),
                    short(other)
                ),
            )),
        }
    }

    fn string(&self, object: &Map<String, Value>, at: &str, key: &str) -> Result<Option<String>> {
        match object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Err(self.origin.error(
                &join(at, key),
                "must be a non-empty string, got an empty string",
            )),
            Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
            Some(other) => Err(self.origin.error(
                &join(at, key),
                format!("must be a string, got {}", json_kind(other)),
            )),
        }
    }

    /// A secret string: the type is checked without ever echoing the value.
    fn secret(
        &self,
        object: &Map<String, Value>,
        at: &str,
        key: &str,
    ) -> Result<Option<SecretString>> {
        match object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Err(self.origin.error(
                &join(at, key),
                "must be a non-empty string, got an empty string",
            )),
            Some(Value::String(s)) => Ok(Some(SecretString::from(s.trim().to_string()))),
            Some(other) => Err(self.origin.error(
                &join(at, key),
                format!("must be a string, got {}", json_kind(other)),
            )),
        }
    }

    fn file(&self, object: &Map<String, Value>, at: &str, key: &str) -> Result<Option<FileInput>> {
        Ok(self
            .string(object, at, key)?
            .map(|p| self.origin.source(&join(at, key), &p)))
    }

    fn millis(&self, object: &Map<String, Value>, key: &str) -> Result<Option<Duration>> {
        match object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => {
                let ms = n.as_f64().unwrap_or(f64::NAN);
                if !(ms.is_finite() && (0.0..=MAX_MS).contains(&ms) && ms.fract() == 0.0) {
                    return Err(self.origin.error(
                        key,
                        format!("must be a whole number of milliseconds from 0 to {MAX_MS}"),
                    ));
                }
                Ok(Some(Duration::from_millis(ms as u64)))
            }
            Some(other) => Err(self.origin.error(
                key,
                format!("must be a number of milliseconds, got {}", json_kind(other)),
            )),
        }
    }

    fn section(&mut self, value: &Value) -> Result<Section> {
        let object = self.object(value, "")?;
        self.unknown_keys(object, "", CREDENTIALS_KEYS);
        let mut s = Section {
            provider: self
                .choice(object, "provider", &["vault", "local"])?
                .and_then(|p| ProviderMode::parse(&p)),
            strict: match object.get("strict") {
                None | Some(Value::Null) => None,
                Some(Value::Bool(b)) => Some(*b),
                Some(other) => {
                    return Err(self.origin.error(
                        "strict",
                        format!("must be true or false, got {}", json_kind(other)),
                    ))
                }
            },
            ..Section::default()
        };
        match object.get("order") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                let mut order = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let at = format!("order[{i}]");
                    let group = item.as_str().and_then(SourceGroup::parse).ok_or_else(|| {
                        self.origin.error(
                            &at,
                            format!(
                                "must be one of \"vault\", \"keychain\", \"files\", \"env\", got {}",
                                short(item)
                            ),
                        )
                    })?;
                    if order.contains(&group) {
                        return Err(self
                            .origin
                            .error(&at, format!("repeats \"{}\"", group.as_str())));
                    }
                    order.push(group);
                }
                if order.is_empty() {
                    return Err(self.origin.error(
                        "order",
                        "must name at least one of \"vault\", \"keychain\", \"files\", \"env\"",
                    ));
                }
                s.order = Some(order);
            }
            Some(other) => {
                return Err(self.origin.error(
                    "order",
                    format!(
                        "must be an array of source groups, got {}",
                        json_kind(other)
                    ),
                ))
            }
        }
        s.fallback = self
            .choice(object, "fallback", &["local", "none"])?
            .and_then(|f| parse_fallback(&f));
        s.cache_ttl = self.millis(object, "cacheTtlMs")?;
        s.max_stale = self.millis(object, "maxStaleMs")?;
        s.refresh_ahead = self.millis(object, "refreshAheadMs")?;
        for key in ["agent", "team"] {
            let id = self.string(object, "", key)?;
            if id
                .as_deref()
                .is_some_and(|id| !crate::layers::is_valid_id(id))
            {
                return Err(self.origin.error(key, crate::layers::ID_RULE));
            }
            match key {
                "agent" => s.agent = id,
                _ => s.team = id,
            }
        }
        if let Some(v) = object.get("vault").filter(|v| !v.is_null()) {
            s.has_vault = true;
            self.vault(v, &mut s)?;
        }
        if let Some(a) = object.get("audit").filter(|v| !v.is_null()) {
            let audit = self.object(a, "audit")?;
            self.unknown_keys(audit, "audit", AUDIT_KEYS);
            s.audit = self.string(audit, "audit", "path")?.map(PathBuf::from);
        }
        if let Some(l) = object.get("lastKnownGood").filter(|v| !v.is_null()) {
            s.last_known_good = Some(self.last_known_good(l)?);
        }
        if let Some(r) = object.get("run").filter(|v| !v.is_null()) {
            let run = self.object(r, "run")?;
            self.unknown_keys(run, "run", RUN_KEYS);
            if let Some(env) = run.get("env").filter(|v| !v.is_null()) {
                s.run_env = Some(self.run_env(env)?);
            }
        }
        Ok(s)
    }

    fn last_known_good(&mut self, value: &Value) -> Result<LkgSection> {
        let at = "lastKnownGood";
        let l = self.object(value, at)?;
        self.unknown_keys(l, at, LAST_KNOWN_GOOD_KEYS);
        let enabled = match l.get("enabled") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(other) => {
                return Err(self.origin.error(
                    "lastKnownGood.enabled",
                    format!("must be true or false, got {}", json_kind(other)),
                ))
            }
        };
        let max_age = match l.get("maxAgeMs") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n))
                if n.as_f64().is_some_and(|ms| {
                    ms.is_finite() && (0.0..=MAX_MS).contains(&ms) && ms.fract() == 0.0
                }) =>
            {
                Some(Duration::from_millis(n.as_f64().unwrap_or(0.0) as u64))
            }
            Some(_) => {
                return Err(self.origin.error(
                    "lastKnownGood.maxAgeMs",
                    format!("must be a whole number of milliseconds from 0 to {MAX_MS}"),
                ))
            }
        };
        let key = self
            .choice(l, "key", &["auth"])
            .map_err(|_| {
                self.origin.error(
                    "lastKnownGood.key",
                    "must be \"auth\" (the only key source so far)",
                )
            })?
            .and_then(|k| KeySource::parse(&k));
        // A relative path is the settings file's folder's, never the process's working
        // directory (OpenClaw runs the resolver from the package folder, which `npm update`
        // wipes; `watch`, `run` and `status` run elsewhere).
        let path = match self.string(l, at, "path")? {
            Some(p) if p.starts_with("~/") || Path::new(&p).is_absolute() => Some(PathBuf::from(p)),
            Some(p) => match self.origin.file.as_deref().and_then(Path::parent) {
                Some(folder) => Some(folder.join(p)),
                None => {
                    return Err(self.origin.error(
                        "lastKnownGood.path",
                        "must be an absolute path (or start with ~/): there is no settings file whose folder a relative one could be taken from",
                    ))
                }
            },
            None => None,
        };
        Ok(LkgSection {
            enabled,
            path,
            max_age,
            key,
        })
    }

    /// `run.env`: `{"NAME": "credential[.field]"}`. Errors name the key's JSON path (the
    /// position for a key that is not a variable name), never the value.
    fn run_env(&self, value: &Value) -> Result<Vec<crate::run::EnvMapping>> {
        let env = self.object(value, "run.env")?;
        let mut out = Vec::new();
        for (i, (var, target)) in env.iter().enumerate() {
            let at =
                if var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !var.is_empty() {
                    format!("run.env.{var}")
                } else {
                    format!("run.env (key {})", i + 1)
                };
            let Some(target) = target.as_str() else {
                return Err(self.origin.error(
                    &at,
                    format!(
                        "must be a string \"credential[.field]\", got {}",
                        json_kind(target)
                    ),
                ));
            };
            let mapping = crate::run::EnvMapping::new(var, target.trim(), self.origin.name(&at))
                .map_err(|why| self.origin.error(&at, why))?;
            out.push(mapping);
        }
        Ok(out)
    }

    /// ClientConfig's own checks, on this object's values, so errors point here.
    fn check(&self, options: ClientOptions) -> Result<()> {
        ClientConfig::from_named_options(
            ClientOptions {
                addr: options
                    .addr
                    .or_else(|| Some("http://127.0.0.1:8200".into())),
                ..options
            },
            &VaultKeyNames(self.origin),
        )
        .map(drop)
        .map_err(|e| self.origin.wrap(e))
    }

    fn vault(&mut self, value: &Value, s: &mut Section) -> Result<()> {
        let v = self.object(value, "vault")?;
        self.unknown_keys(v, "vault", VAULT_KEYS);
        if let Some(addr) = self.string(v, "vault", "addr")? {
            self.check(ClientOptions {
                addr: Some(addr.clone()),
                ..Default::default()
            })?;
            s.addr = Some(addr);
        }
        s.addrs = match v.get("addrs") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => {
                let mut list = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(a) if !a.trim().is_empty() => list.push(a.trim().to_string()),
                        other => {
                            return Err(self.origin.error(
                                &format!("vault.addrs[{i}]"),
                                format!(
                                    "must be a Vault address (a non-empty string), got {}",
                                    json_kind(other)
                                ),
                            ))
                        }
                    }
                }
                Some(list)
            }
            Some(other) => {
                return Err(self.origin.error(
                    "vault.addrs",
                    format!(
                        "must be an array of the other nodes' addresses, got {}",
                        json_kind(other)
                    ),
                ))
            }
        };
        s.token = self.secret(v, "vault", "token")?;
        if s.token.is_some() {
            self.warnings.push(self.origin.warning(
                "vault.token",
                "a Vault token is written in plaintext in the config; set VAULT_TOKEN or point \
                 `tokenFile` at a file readable only by you (chmod 600) instead",
            ));
        }
        s.token_file = self.file(v, "vault", "tokenFile")?;
        s.namespace = self.string(v, "vault", "namespace")?;
        s.mount = self.string(v, "vault", "mount")?;
        self.check(ClientOptions {
            token: s.token.clone(),
            ..Default::default()
        })?;
        self.check(ClientOptions {
            namespace: s.namespace.clone(),
            ..Default::default()
        })?;
        self.check(ClientOptions {
            mount: s.mount.clone(),
            ..Default::default()
        })?;
        s.prefix = self.string(v, "vault", "prefix")?;
        if let Some(p) = &s.prefix {
            if p.trim_matches('/')
                .split('/')
                .any(|seg| seg.is_empty() || seg == "." || seg == "..")
            {
                return Err(self.origin.error(
                    "vault.prefix",
                    "must be a Vault path without empty, `.` or `..` segments".to_string(),
                ));
            }
        }
        s.kv_version = match v.get("kvVersion") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) if n.as_u64() == Some(1) => Some(Some(KvVersion::V1)),
            Some(Value::Number(n)) if n.as_u64() == Some(2) => Some(Some(KvVersion::V2)),
            Some(Value::String(t)) if matches!(t.trim(), "1" | "2" | "auto") => {
                Some(match t.trim() {
                    "1" => Some(KvVersion::V1),
                    "2" => Some(KvVersion::V2),
                    _ => None,
                })
            }
            Some(other) => {
                return Err(self.origin.error(
                    "vault.kvVersion",
                    format!("must be 1, 2 or \"auto\", got {}", short(other)),
                ))
            }
        };
        if let Some(a) = v.get("auth").filter(|a| !a.is_null()) {
            s.auth = Some(self.auth(a)?);
        }
        if let Some(t) = v.get("tls").filter(|t| !t.is_null()) {
            let t = self.object(t, "vault.tls")?;
            self.unknown_keys(t, "vault.tls", TLS_KEYS);
            let at = "vault.tls";
            s.tls = Some(TlsSettings {
                ca_cert: self.file(t, at, "caCert")?,
                ca_path: self.file(t, at, "caPath")?,
                extra_ca: None,
                client_cert: self.file(t, at, "clientCert")?,
                client_key: self.file(t, at, "clientKey")?,
                server_name: self
                    .string(t, at, "serverName")?
                    .map(|n| ServerNameInput::new(n, self.origin.name(&join(at, "serverName")))),
                skip_verify: match t.get("skipVerify") {
                    None | Some(Value::Null) => false,
                    Some(Value::Bool(b)) => *b,
                    Some(other) => {
                        return Err(self.origin.error(
                            "vault.tls.skipVerify",
                            format!("must be true or false, got {}", json_kind(other)),
                        ))
                    }
                },
            });
        }
        Ok(())
    }

    fn auth(&mut self, value: &Value) -> Result<AuthSection> {
        let at = "vault.auth";
        let a = self.object(value, at)?;
        self.unknown_keys(a, at, AUTH_KEYS);
        let mut fields = BTreeMap::new();
        if let Some(m) = self.string(a, at, "method")? {
            let m = m.to_ascii_lowercase();
            let methods = auth::method_names();
            if !methods.contains(&m.as_str()) {
                return Err(self.origin.error(
                    "vault.auth.method",
                    format!("must be one of {}", methods.join(", ")),
                ));
            }
            fields.insert("method".to_string(), SecretString::from(m));
        }
        for key in ["secretId", "password"] {
            if a.get(key).is_some_and(Value::is_string) {
                self.warnings.push(self.origin.warning(
                    &join(at, key),
                    format!(
                        "a secret is written in plaintext in the config; use `{key}File` instead"
                    ),
                ));
            }
        }
        for key in AUTH_KEYS.iter().filter(|k| **k != "method") {
            let value = if AUTH_SECRET_KEYS.contains(key) {
                self.secret(a, at, key)?
            } else {
                self.string(a, at, key)?.map(SecretString::from)
            };
            if let Some(value) = value {
                fields.insert(snake_case(key), value);
            }
        }
        Ok(AuthSection { fields })
    }
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

/// A short, non-secret description of a bad enum-like value: strings up to 20 characters are
/// quoted (they are option names, not secrets), anything else by its JSON kind.
/// A wrong value as an error may show it: a short plain word (`"cloud"`, a typo of a choice) is
/// quoted; any other string is only described, since it could be a pasted secret.
/// What kind of value `v` is, for "got ..." in an error: never the value itself (a config value
/// may be a secret pasted in the wrong place).
fn short(v: &Value) -> String {
    match v {
        Value::String(_) => "another string".to_string(),
        other => json_kind(other).to_string(),
    }
}

fn parse_fallback(s: &str) -> Option<Fallback> {
    match s.trim() {
        "local" => Some(Fallback::Local),
        "none" => Some(Fallback::None),
        _ => None,
    }
}

/// Overrides replace the file's keys one by one; `vault` is merged one level deeper (its `auth`
/// and `tls` objects are replaced whole).
fn merge(base: Section, over: Section) -> Section {
    Section {
        provider: over.provider.or(base.provider),
        order: over.order.or(base.order),
        fallback: over.fallback.or(base.fallback),
        cache_ttl: over.cache_ttl.or(base.cache_ttl),
        max_stale: over.max_stale.or(base.max_stale),
        refresh_ahead: over.refresh_ahead.or(base.refresh_ahead),
        addr: over.addr.or(base.addr),
        addrs: over.addrs.or(base.addrs),
        token: over.token.or(base.token),
        token_file: over.token_file.or(base.token_file),
        namespace: over.namespace.or(base.namespace),
        mount: over.mount.or(base.mount),
        kv_version: over.kv_version.or(base.kv_version),
        prefix: over.prefix.or(base.prefix),
        auth: over.auth.or(base.auth),
        tls: over.tls.or(base.tls),
        audit: over.audit.or(base.audit),
        last_known_good: over.last_known_good.or(base.last_known_good),
        agent: over.agent.or(base.agent),
        team: over.team.or(base.team),

        run_env: over.run_env.or(base.run_env),
        has_vault: over.has_vault || base.has_vault,
        strict: over.strict.or(base.strict),
    }
}

/// Variables whose empty value is reported (they are treated as unset).
const WATCHED_VARS: &[&str] = &[
    "VAULT_ADDR",
    "VAULT_AGENT_ADDR",
    "VAULT_TOKEN",
    "VAULT_TOKEN_FILE",
    "VAULT_NAMESPACE",
    "VAULT_CACERT",
    "VAULT_CAPATH",
    "VAULT_CLIENT_CERT",
    "VAULT_CLIENT_KEY",
    "VAULT_TLS_SERVER_NAME",
    "VAULT_SKIP_VERIFY",
    "OPENCLAW_VAULT_PROVIDER",
    "OPENCLAW_VAULT_PREFIX",
    "OPENCLAW_VAULT_KV_MOUNT",
    "OPENCLAW_VAULT_KV_VERSION",
    "OPENCLAW_VAULT_FALLBACK",
    "OPENCLAW_VAULT_AUDIT_LOG",
    "OPENCLAW_VAULT_AUTH_METHOD",
];

/// Reads a `.env` file into a layer, warning about (and skipping) what cannot be used. From the
/// workspace `.env` (`workspace`), the variables it may not set are dropped into `refused`.
fn read_dotenv(
    path: &Path,
    workspace: bool,
    warnings: &mut Vec<ConfigWarning>,
    refused: &mut Vec<RefusedVar>,
) -> Option<EnvLayer> {
    let warn = |warnings: &mut Vec<ConfigWarning>, message: String| {
        warnings.push(ConfigWarning {
            file: Some(path.to_path_buf()),
            json_path: String::new(),
            message,
        })
    };
    let file = match local_file::read_credential_file(path, local_file::MAX_CREDENTIAL_FILE_BYTES) {
        Ok(Some(f)) => f,
        Ok(None) => return None,
        Err(e) => {
            warn(warnings, format!("not read: {}", e.message));
            return None;
        }
    };
    for w in &file.warnings {
        warnings.push(ConfigWarning {
            file: Some(path.to_path_buf()),
            json_path: String::new(),
            message: w.clone(),
        });
    }
    let mut vars = parse_dotenv(&file, &mut |m| warn(warnings, m));
    if workspace {
        for r in refuse_workspace_vars(path, &mut vars) {
            warnings.push(ConfigWarning {
                file: Some(path.to_path_buf()),
                json_path: r.name.clone(),
                message: r.message(),
            });
            refused.push(r);
        }
    }
    Some(EnvLayer {
        origin: EnvOrigin::DotEnv(path.to_path_buf()),
        vars,
    })
}

/// Parses `.env` bytes with dotenvy, without touching the process environment. Lines it cannot
/// parse are skipped with a warning (dotenvy's error holds the line, so it is never shown).
/// dotenvy expands `${VAR}` in values from earlier lines and from the real process env.
pub fn parse_dotenv(
    file: &LocalFile,
    warn: &mut dyn FnMut(String),
) -> BTreeMap<String, SecretString> {
    let mut vars = BTreeMap::new();
    let mut bad = 0usize;
    for item in dotenvy::from_read_iter(&file.bytes[..]) {
        match item {
            Ok((k, v)) => {
                vars.insert(k, SecretString::from(v));
            }
            Err(dotenvy::Error::LineParse(..)) | Err(dotenvy::Error::EnvVar(_)) => bad += 1,
            Err(dotenvy::Error::Io(e)) => {
                warn(format!("could not be read to the end ({})", e.kind()));
                break;
            }
            Err(_) => bad += 1,
        }
        // An unterminated quote ends the iterator after its error; others go on.
    }
    if bad > 0 {
        warn(format!(
            "{bad} line(s) could not be parsed as KEY=value and were ignored ({} variable(s) read)",
            vars.len()
        ));
    }
    vars
}

/// The config's `env` block: string values directly under `env`, and `env.vars`.
fn config_env_layer(
    doc: &Value,
    file: &Path,
    warnings: &mut Vec<ConfigWarning>,
) -> Option<EnvLayer> {
    let env = doc.get("env")?;
    let Some(env) = env.as_object() else {
        warnings.push(ConfigWarning {
            file: Some(file.to_path_buf()),
            json_path: "env".into(),
            message: format!("must be an object, got {}; ignored", json_kind(env)),
        });
        return None;
    };
    let mut vars = BTreeMap::new();
    let mut take = |map: &Map<String, Value>, at: &str, skip_objects: bool| {
        for (k, v) in map {
            match v {
                Value::String(s) => {
                    vars.insert(k.clone(), SecretString::from(s.clone()));
                }
                // `env.vars`, `env.shellEnv` and other settings live beside the variables.
                Value::Object(_) | Value::Bool(_) if skip_objects => {}
                other => warnings.push(ConfigWarning {
                    file: Some(file.to_path_buf()),
                    json_path: format!("{at}.{k}"),
                    message: format!("must be a string, got {}; ignored", json_kind(other)),
                }),
            }
        }
    };
    take(env, "env", true);
    if let Some(Value::Object(more)) = env.get("vars") {
        // `env.vars` wins over a same-named direct key: it is the documented place.
        take(more, "env.vars", false);
    }
    Some(EnvLayer {
        origin: EnvOrigin::ConfigEnv(file.to_path_buf()),
        vars,
    })
}

/// Whether two paths name the same file: equal, or (both existing) the same canonical path.
fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || matches!(
            (std::fs::canonicalize(a), std::fs::canonicalize(b)),
            (Ok(x), Ok(y)) if x == y
        )
}

fn expand_home(p: &str, home: Option<&Path>) -> PathBuf {
    match (p.strip_prefix("~/"), home) {
        (Some(rest), Some(h)) => h.join(rest),
        _ => PathBuf::from(p),
    }
}

/// Reads one JSON5 file through `local_file` (file-mode and symlink checks): `None` when it does
/// not exist; `INVALID_CONFIG` naming the file when it cannot be read or parsed, or when its top
/// level is not an object.
fn read_json5_object(path: &Path, warnings: &mut Vec<ConfigWarning>) -> Result<Option<Value>> {
    let f = match local_file::read_credential_file(path, super::MAX_CONFIG_FILE_BYTES) {
        Ok(Some(f)) => f,
        Ok(None) => return Ok(None),
        Err(e) if e.code == ErrorCode::InvalidSource => {
            return Err(Error::invalid_config(e.message))
        }
        Err(e) => return Err(e),
    };
    for w in &f.warnings {
        warnings.push(ConfigWarning {
            file: Some(path.to_path_buf()),
            json_path: String::new(),
            message: w.clone(),
        });
    }
    let doc = parse_json5(&f)?;
    if !doc.is_object() {
        return Err(Error::invalid_config(format!(
            "{}: the top level must be an object, got {}",
            path.display(),
            json_kind(&doc)
        )));
    }
    Ok(Some(doc))
}

/// Finds and reads OpenClaw's config and this package's settings file, builds the effective
/// environment and the chain settings.
///
/// Settings, lowest to highest precedence, merged key by key (`vault` one level deeper): the
/// deprecated `credentials` key of `openclaw.json` (read so existing setups keep working, with a
/// [`ConfigWarning::is_deprecated_key`] warning naming the new file), `openclaw-vault.json` next
/// to it ([`OpenClawPaths::settings_file`]), `overrides` (same shape and checks, named
/// `options.config` in errors), then the `VAULT_*` / `OPENCLAW_VAULT_*` variables.
///
/// `env` looks up process variables; `cwd` is the directory whose `.env` OpenClaw reads. Missing
/// files give the defaults. `INVALID_CONFIG` for malformed JSON5, wrong types, bad values, or a
/// vault provider without an address; the message names the file, the JSON path and what was
/// expected, never a secret.
pub fn load_config(
    paths: &OpenClawPaths,
    env: &EnvLookup,
    cwd: Option<&Path>,
    overrides: Option<&Value>,
) -> Result<LoadedConfig> {
    let mut warnings = Vec::new();
    let (file, doc) = match paths.config_file() {
        None => (None, Value::Null),
        Some(path) => {
            match read_json5_object(&path, &mut warnings)? {
                Some(doc) => (Some(path), doc),
                None => {
                    if paths.config_override.is_some() {
                        warnings.push(ConfigWarning {
                        file: Some(path.clone()),
                        json_path: String::new(),
                        message: "OPENCLAW_CONFIG_PATH names a file that does not exist; using defaults".into(),
                    });
                    }
                    (None, Value::Null)
                }
            }
        }
    };
    let settings_path = paths.settings_file();
    let (settings_file, settings_doc) = match &settings_path {
        None => (None, None),
        Some(path) => match read_json5_object(path, &mut warnings)? {
            Some(doc) => (Some(path.clone()), Some(doc)),
            None => (None, None),
        },
    };

    // The effective environment.
    let mut dotenv_files: Vec<PathBuf> = Vec::new();
    let state_dotenv = paths.state_dotenv();
    let mut workspace_dotenv = None;
    if let Some(cwd) = cwd {
        let file = cwd.join(".env");
        if !state_dotenv
            .as_deref()
            .is_some_and(|state| same_file(state, &file))
        {
            workspace_dotenv = Some(file.clone());
        }
        dotenv_files.push(file);
    }
    if let Some(state) = state_dotenv {
        if !dotenv_files.contains(&state) {
            dotenv_files.push(state);
        }
    }
    let mut layers = Vec::new();
    let mut dotenv_refused = Vec::new();
    for path in &dotenv_files {
        let workspace = workspace_dotenv.as_ref() == Some(path);
        if let Some(layer) = read_dotenv(path, workspace, &mut warnings, &mut dotenv_refused) {
            layers.push(layer);
        }
    }
    if let Some(f) = &file {
        if let Some(layer) = config_env_layer(&doc, f, &mut warnings) {
            layers.push(layer);
        }
    }
    let effective = EffectiveEnv {
        process: env.clone(),
        layers: Arc::new(layers),
        dotenv_files: Arc::new(dotenv_files),
        workspace_dotenv,
        process_names: None,
    };
    for var in WATCHED_VARS {
        let empty_in = |v: Option<&str>| v.is_some_and(|v| v.trim().is_empty());
        if empty_in(env(var).as_deref()) {
            warnings.push(ConfigWarning {
                file: None,
                json_path: (*var).into(),
                message: "is set but empty; treated as unset".into(),
            });
        }
        for layer in effective.layers.iter() {
            if empty_in(layer.vars.get(*var).map(|s| s.expose_secret())) {
                warnings.push(ConfigWarning {
                    file: layer.origin.file().map(Path::to_path_buf),
                    json_path: (*var).into(),
                    message: "is set but empty; treated as unset".into(),
                });
            }
        }
    }

    // The settings objects, lowest precedence first.
    let legacy_origin = Origin {
        file: file.clone(),
        root: "credentials",
    };
    // Where new settings belong; named in errors when no file gave any.
    let settings_origin = Origin {
        file: settings_file.clone().or_else(|| settings_path.clone()),
        root: "",
    };
    let legacy = doc.get("credentials").filter(|c| !c.is_null());
    let mut section = match legacy {
        Some(c) => {
            let new_place = settings_path.as_ref().map_or_else(
                || "openclaw-vault.json next to it".to_string(),
                |p| p.display().to_string(),
            );
            warnings.push(legacy_origin.warning(
                "",
                format!(
                    "{DEPRECATED_KEY}: OpenClaw 2026.9 rejects this key (\"Unrecognized key\"), \
                     so every openclaw command fails; move its contents to the top level of \
                     {new_place} and delete the key (see docs/configuration-file.md)"
                ),
            ));
            Parser {
                origin: &legacy_origin,
                warnings: &mut warnings,
            }
            .section(c)?
        }
        None => Section::default(),
    };
    if let Some(d) = &settings_doc {
        let own = Parser {
            origin: &settings_origin,
            warnings: &mut warnings,
        }
        .section(d)?;
        section = merge(section, own);
    }
    let over_origin = Origin {
        file: None,
        root: "options.config",
    };
    if let Some(o) = overrides.filter(|o| !o.is_null()) {
        let over = Parser {
            origin: &over_origin,
            warnings: &mut warnings,
        }
        .section(o)?;
        section = merge(section, over);
    }
    if section.strict == Some(true) {
        let unknown: Vec<String> = warnings
            .iter()
            .filter(|w| w.is_unknown_key())
            .map(|w| w.to_string().replace(UNKNOWN_KEY, "unknown key"))
            .collect();
        if !unknown.is_empty() {
            return Err(Error::invalid_config(format!(
                "`strict` is true and the settings have unknown keys: {}",
                unknown.join("; ")
            )));
        }
    }
    // The origin used for errors about merged values: the settings file when it exists, else
    // the deprecated key when that was given, else the overrides when given, else the settings
    // file that would hold the value.
    let origin = if settings_file.is_some() {
        &settings_origin
    } else if legacy.is_some() {
        &legacy_origin
    } else if overrides.is_some() {
        &over_origin
    } else {
        &settings_origin
    };

    let get = |name: &str| effective.get(name);
    let var_error = |var: &str, what: &str| Error::invalid_config(format!("{var} {what}"));

    // Provider: OPENCLAW_VAULT_PROVIDER, else VAULT_ADDR implies vault, else the config.
    let (provider, provider_from) = if let Some(p) = get("OPENCLAW_VAULT_PROVIDER") {
        let mode = ProviderMode::parse(&p).ok_or_else(|| {
            var_error(
                "OPENCLAW_VAULT_PROVIDER",
                &format!(
                    "must be \"vault\" or \"local\", got {}",
                    short(&Value::String(p.clone()))
                ),
            )
        })?;
        (mode, "OPENCLAW_VAULT_PROVIDER=vault".to_string())
    } else if get("VAULT_ADDR").is_some() || get("VAULT_AGENT_ADDR").is_some() {
        (ProviderMode::Vault, "VAULT_ADDR".to_string())
    } else {
        (
            section.provider.unwrap_or(ProviderMode::Local),
            format!("`{}: \"vault\"`", origin.path("provider")),
        )
    };
    if provider == ProviderMode::Local && section.has_vault && section.provider.is_none() {
        warnings.push(origin.warning(
            "vault",
            "is set but `provider` is not \"vault\": Vault is not used (set `provider: \"vault\"`)",
        ));
    }
    let fallback = match get("OPENCLAW_VAULT_FALLBACK") {
        Some(f) => parse_fallback(&f)
            .ok_or_else(|| var_error("OPENCLAW_VAULT_FALLBACK", "must be \"local\" or \"none\""))?,
        None => section.fallback.unwrap_or(Fallback::Local),
    };
    let mut order = section
        .order
        .clone()
        .unwrap_or_else(|| SourceGroup::DEFAULT_ORDER.to_vec());
    if provider == ProviderMode::Local {
        order.retain(|g| *g != SourceGroup::Vault);
        if order.is_empty() {
            return Err(origin.error(
                "order",
                "names only \"vault\" but the provider is local: no source is left",
            ));
        }
    } else if !order.contains(&SourceGroup::Vault) {
        warnings.push(origin.warning(
            "order",
            "does not include \"vault\" although the provider is vault: Vault is never asked",
        ));
    }
    let prefix = match get("OPENCLAW_VAULT_PREFIX") {
        Some(p) => {
            let p = p.trim().trim_matches('/').to_string();
            if p.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
                return Err(var_error(
                    "OPENCLAW_VAULT_PREFIX",
                    "must be a Vault path without empty, `.` or `..` segments",
                ));
            }
            p
        }
        None => section
            .prefix
            .clone()
            .map(|p| p.trim_matches('/').to_string())
            .unwrap_or_else(|| DEFAULT_PREFIX.to_string()),
    };
    let home = paths.user_home.as_deref();
    let audit = get("OPENCLAW_VAULT_AUDIT_LOG")
        .map(|p| expand_home(p.trim(), home))
        .or_else(|| {
            section
                .audit
                .as_ref()
                .map(|p| expand_home(&p.to_string_lossy(), home))
        });

    let last_known_good = match &section.last_known_good {
        Some(l) if l.enabled == Some(true) => l
            .path
            .as_ref()
            .map(|p| expand_home(&p.to_string_lossy(), home))
            .or_else(|| {
                paths
                    .state_dir
                    .as_ref()
                    .map(|d| d.join(last_known_good::DEFAULT_FILE_NAME))
            })
            .map(|path| LastKnownGoodSettings {
                path,
                max_age: l.max_age.unwrap_or(last_known_good::DEFAULT_MAX_AGE),
                key: l.key.unwrap_or(KeySource::Auth),
            }),
        Some(_) => {
            warnings.push(origin.warning(
                "lastKnownGood",
                "is set but `enabled` is not true: no last-known-good file is kept",
            ));
            None
        }
        None => None,
    };

    let vault = match provider {
        ProviderMode::Local => None,
        ProviderMode::Vault => Some(vault_client_config(
            &section,
            origin,
            &effective,
            home,
            &provider_from,
        )?),
    };

    Ok(LoadedConfig {
        file,
        settings_file,
        credentials: CredentialsConfig {
            provider,
            order,
            fallback,
            cache_ttl: section.cache_ttl,
            max_stale: section.max_stale,
            refresh_ahead: section.refresh_ahead,
            prefix,
            vault,
            audit,
            last_known_good,
            layers: crate::layers::LayerContext {
                agent: section.agent.clone(),
                team: section.team.clone(),
            },

            run_env: section.run_env.clone().unwrap_or_default(),
        },
        env: effective,
        warnings,
        dotenv_refused,
    })
}

/// The Vault client's configuration: the config's values, each replaced by its variable when
/// that is set (read by [`vault_env`], so errors name the variable).
fn vault_client_config(
    section: &Section,
    origin: &Origin,
    env: &EffectiveEnv,
    home: Option<&Path>,
    provider_from: &str,
) -> Result<ClientConfig> {
    let set = |name: &str| env.get(name).is_some();
    // OPENCLAW_VAULT_ADDRS is checked below against the address in use, which may be the file's
    // (the environment's default address would make an `http` list a scheme mismatch).
    let from_env = vault_env::client_config_from_env(
        &|n| (n != "OPENCLAW_VAULT_ADDRS").then(|| env.get(n)).flatten(),
        home,
    )?;
    let env_addr = set("VAULT_ADDR") || set("VAULT_AGENT_ADDR");
    let addr = match (&section.addr, env_addr) {
        (_, true) => from_env.addr.to_string(),
        (Some(a), false) => a.clone(),
        (None, false) => {
            let what = format!(
                "is required because {provider_from} selects Vault: expected a URL such as \"https://vault.example.com:8200\" here or in VAULT_ADDR"
            );
            return Err(if provider_from.starts_with("OPENCLAW_") {
                Error::invalid_config(format!("`{}` {what}", origin.path("vault.addr")))
            } else {
                origin.error("vault.addr", what)
            });
        }
    };
    let file_login = match &section.auth {
        Some(a) => auth::login_from(&ConfigAuthFields { auth: a, origin })?,
        None => None,
    }
    .or_else(|| section.token_file.clone().map(Login::token_file));
    let mut config = ClientConfig::from_named_options(
        ClientOptions {
            addr: Some(addr),
            token: section.token.clone(),
            namespace: section.namespace.clone(),
            mount: section.mount.clone(),
            kv_version: section.kv_version.flatten().map(KvVersion::number),
            tls: section.tls.clone().unwrap_or_default(),
            login: file_login,
            ..Default::default()
        },
        &VaultKeyNames(origin),
    )
    .map_err(|e| origin.wrap(e))?;
    if env_addr {
        config.addr = from_env.addr.clone();
    }
    // The other nodes: OPENCLAW_VAULT_ADDRS wins; else `vault.addrs`, checked against the address
    // in use (VAULT_ADDR may name one of them: that one is then not listed twice).
    if let Some(list) = env.get("OPENCLAW_VAULT_ADDRS").filter(|l| !l.is_empty()) {
        super::vault_env::set_other_nodes(&mut config, &list)?;
    } else if let Some(list) = &section.addrs {
        let first = config.addr.origin();
        let others: Vec<String> = if env_addr {
            list.iter()
                .filter(|a| {
                    vault_client::config::parse_addr(a, "")
                        .map(|u| u.origin())
                        .ok()
                        != Some(first.clone())
                })
                .cloned()
                .collect()
        } else {
            list.clone()
        };
        config.addrs = vault_client::config::parse_addrs(
            &others,
            &format!("`{}`", origin.path("vault.addrs")),
            &config.addr,
        )
        .map_err(|e| origin.wrap(e))?;
    }
    // Login files (token, JWT, secret id) are read and checked when the client is built.
    // Env wins, field by field.
    if set("VAULT_TOKEN") {
        config.token = from_env.token.clone();
        config.login = None;
    } else if config.token.is_none() && config.login.is_none() {
        // `~/.vault-token`, as the Vault CLI.
        config.token = from_env.token.clone();
    }
    if set("OPENCLAW_VAULT_AUTH_METHOD") || (set("VAULT_TOKEN_FILE") && !set("VAULT_TOKEN")) {
        config.login = from_env.login.clone();
        if config.login.is_some() {
            config.token = None;
        }
    }
    if set("VAULT_NAMESPACE") {
        config.namespace = from_env.namespace.clone();
    }
    if set("OPENCLAW_VAULT_KV_MOUNT") {
        config.mount = from_env.mount.clone();
    }
    if set("OPENCLAW_VAULT_KV_VERSION") {
        config.kv_version = from_env.kv_version;
    }
    let t = &from_env.tls;
    if set("VAULT_CACERT") {
        config.tls.ca_cert = t.ca_cert.clone();
    }
    if set("VAULT_CAPATH") {
        config.tls.ca_path = t.ca_path.clone();
    }
    if set("VAULT_CLIENT_CERT") {
        config.tls.client_cert = t.client_cert.clone();
    }
    if set("VAULT_CLIENT_KEY") {
        config.tls.client_key = t.client_key.clone();
    }
    if set("VAULT_TLS_SERVER_NAME") {
        config.tls.server_name = t.server_name.clone();
    }
    if set("VAULT_SKIP_VERIFY") {
        config.tls.skip_verify = t.skip_verify;
    }
    config.tls.extra_ca = t.extra_ca.clone();
    // Only the environment sets these.
    config.proxy = from_env.proxy;
    config.retry = from_env.retry;
    config.timeout = from_env.timeout;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use openclaw_vault_test_support::env_of;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    const TOKEN: &str = "hvs.SECRET-token-value";

    struct Home {
        dir: PathBuf,
    }

    impl Home {
        fn new(name: &str) -> Home {
            let dir =
                std::env::temp_dir().join(format!("ocv-config-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(dir.join(".openclaw")).unwrap();
            Home { dir }
        }

        fn write(&self, rel: &str, text: &str) -> PathBuf {
            let p = self.dir.join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, text).unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
            p
        }

        fn load(
            &self,
            vars: &[(&str, &str)],
            cwd: Option<&Path>,
            overrides: Option<&Value>,
        ) -> Result<LoadedConfig> {
            let mut all = vec![("HOME", self.dir.to_str().unwrap())];
            all.extend_from_slice(vars);
            let lookup: EnvLookup = Arc::new(env_of(&all));
            let paths = OpenClawPaths::from_env(&*lookup);
            load_config(&paths, &lookup, cwd, overrides)
        }
    }

    impl Drop for Home {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }

    fn err_of(r: Result<LoadedConfig>) -> Error {
        let e = r.unwrap_err();
        assert_eq!(e.code(), "INVALID_CONFIG", "{}", e.message);
        assert!(!e.message.contains(TOKEN), "leaked: {}", e.message);
        e
    }

    /// OpenClaw accepts an openclaw.json up to 8 MiB (its own limit); one over 1 MiB (a big
    /// `skills.entries` table) once made every command fail with INVALID_CONFIG.
    #[test]
    fn a_config_as_large_as_openclaw_accepts_is_read_and_a_larger_one_is_named() {
        let home = Home::new("large");
        let pad = "x".repeat(3 * 1024 * 1024);
        home.write(
            ".openclaw/openclaw.json",
            &format!(r#"{{"gateway": {{"port": 18789}}, "skills": {{"entries": {{"big": {{"config": {{"notes": "{pad}"}}}}}}}}}}"#),
        );
        let c = home.load(&[], None, None).unwrap();
        assert_eq!(c.file, Some(home.dir.join(".openclaw/openclaw.json")));
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);

        let pad = "x".repeat(MAX_CONFIG_FILE_BYTES_FOR_TEST + 1);
        home.write(
            ".openclaw/openclaw.json",
            &format!(r#"{{"gateway": {{"auth": {{"token": "{TOKEN}"}}}}, "x": "{pad}"}}"#),
        );
        let e = err_of(home.load(&[], None, None));
        assert!(e.message.contains("openclaw.json"), "{}", e.message);
        assert!(e.message.contains("at most"), "{}", e.message);
    }

    const MAX_CONFIG_FILE_BYTES_FOR_TEST: usize = crate::openclaw::MAX_CONFIG_FILE_BYTES as usize;

    #[test]
    fn no_file_gives_defaults() {
        let home = Home::new("defaults");
        let c = home.load(&[], None, None).unwrap();
        assert_eq!(c.file, None);
        assert_eq!(c.credentials.provider, ProviderMode::Local);
        assert_eq!(
            c.credentials.order,
            vec![SourceGroup::Keychain, SourceGroup::Files, SourceGroup::Env]
        );
        assert_eq!(c.credentials.fallback, Fallback::Local);
        assert_eq!(c.credentials.prefix, "openclaw");
        assert!(c.credentials.vault.is_none());
        assert!(c.credentials.audit.is_none());
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(c.describe()["provider"], "local");
    }

    #[test]
    fn json5_comments_trailing_commas_unquoted_keys() {
        let home = Home::new("json5");
        home.write(
            ".openclaw/openclaw.json",
            r#"// OpenClaw config
            {
              /* block comment */
              credentials: {
                provider: 'vault',
                order: ["vault", "env",],
                fallback: "none",
                cacheTtlMs: 60000,
                vault: {
                  addr: "http://127.0.0.1:8200/",
                  namespace: "team/a",
                  mount: "kv",
                  kvVersion: 2,
                  prefix: "/apps/oc/",
                  tokenFile: "/run/vault/token",
                },
                audit: { path: "~/audit.log" },
              },
            }"#,
        );
        fs::write(home.dir.join("tok"), "hvs.file\n").unwrap();
        home.write(
            ".openclaw/openclaw.json",
            &fs::read_to_string(home.dir.join(".openclaw/openclaw.json"))
                .unwrap()
                .replace("/run/vault/token", home.dir.join("tok").to_str().unwrap()),
        );
        let c = home.load(&[], None, None).unwrap();
        let cr = &c.credentials;
        assert_eq!(c.file, Some(home.dir.join(".openclaw/openclaw.json")));
        assert_eq!(cr.provider, ProviderMode::Vault);
        assert_eq!(cr.order, vec![SourceGroup::Vault, SourceGroup::Env]);
        assert_eq!(cr.fallback, Fallback::None);
        assert_eq!(cr.cache_ttl, Some(Duration::from_secs(60)));
        assert_eq!(cr.prefix, "apps/oc");
        assert_eq!(cr.audit, Some(home.dir.join("audit.log")));
        let v = cr.vault.as_ref().unwrap();
        assert_eq!(v.addr.as_str(), "http://127.0.0.1:8200/");
        assert_eq!(v.namespace.as_deref(), Some("team/a"));
        assert_eq!(v.mount, "kv");
        assert_eq!(v.kv_version, Some(KvVersion::V2));
        assert_eq!(v.login.as_ref().map(Login::name), Some("token_file"));
        let d = c.describe();
        assert_eq!(d["vault"]["auth"], "token_file");
        assert_eq!(d["vault"]["tokenSet"], false);
    }

    #[test]
    fn legacy_moltbot_json_is_found() {
        let home = Home::new("legacy");
        fs::remove_dir_all(home.dir.join(".openclaw")).unwrap();
        home.write(
            ".moltbot/moltbot.json",
            r#"{credentials: {provider: "vault", vault: {addr: "http://vault.local:8200"}}}"#,
        );
        let c = home.load(&[], None, None).unwrap();
        assert_eq!(c.file, Some(home.dir.join(".moltbot/moltbot.json")));
        assert_eq!(
            c.credentials.vault.unwrap().addr.host_str(),
            Some("vault.local")
        );
    }

    #[test]
    fn env_wins_over_file() {
        let home = Home::new("envwins");
        home.write(
            ".openclaw/openclaw.json",
            r#"{credentials: {provider: "vault", fallback: "local", vault: {addr: "http://file:8200", namespace: "file-ns", mount: "filekv", prefix: "fileprefix"}, audit: {path: "/file/audit"}}}"#,
        );
        let c = home
            .load(
                &[
                    ("VAULT_ADDR", "http://env:8200"),
                    ("VAULT_TOKEN", TOKEN),
                    ("VAULT_NAMESPACE", "env-ns"),
                    ("OPENCLAW_VAULT_KV_MOUNT", "envkv"),
                    ("OPENCLAW_VAULT_PREFIX", "envprefix"),
                    ("OPENCLAW_VAULT_AUDIT_LOG", "/env/audit"),
                    ("OPENCLAW_VAULT_FALLBACK", "none"),
                ],
                None,
                None,
            )
            .unwrap();
        let cr = &c.credentials;
        let v = cr.vault.as_ref().unwrap();
        assert_eq!(v.addr.host_str(), Some("env"));
        assert_eq!(v.namespace.as_deref(), Some("env-ns"));
        assert_eq!(v.mount, "envkv");
        assert_eq!(v.token.as_ref().unwrap().expose_secret(), TOKEN);
        assert_eq!(cr.prefix, "envprefix");
        assert_eq!(cr.audit, Some(PathBuf::from("/env/audit")));
        assert_eq!(cr.fallback, Fallback::None);
        // Neither Debug nor describe shows the token.
        assert!(!format!("{c:?}").contains(TOKEN));
        let d = c.describe().to_string();
        assert!(!d.contains(TOKEN), "{d}");
        assert!(d.contains("\"tokenSet\":true"));
        assert_eq!(c.describe()["env"]["VAULT_TOKEN"], "process");

        // VAULT_ADDR implies vault over a file saying local, unless the env says local.
        home.write(
            ".openclaw/openclaw.json",
            r#"{credentials: {provider: "local"}}"#,
        );
        let c = home
            .load(&[("VAULT_ADDR", "http://env:8200")], None, None)
            .unwrap();
        assert_eq!(c.credentials.provider, ProviderMode::Vault);
        let c = home
            .load(
                &[
                    ("VAULT_ADDR", "http://env:8200"),
                    ("OPENCLAW_VAULT_PROVIDER", "local"),
                ],
                None,
                None,
            )
            .unwrap();
        assert_eq!(c.credentials.provider, ProviderMode::Local);
        assert!(c.credentials.vault.is_none());
        assert!(!c.credentials.order.contains(&SourceGroup::Vault));
    }

    #[test]
    fn env_token_and_auth_replace_the_files_login() {
        let home = Home::new("envauth");
        let role_id = home.write("role-id", "role-FAKE\n");
        home.write(
            ".openclaw/openclaw.json",
            &format!(
                r#"{{credentials: {{provider: "vault", vault: {{addr: "http://v:8200", tokenFile: "/missing/token",
                  auth: {{roleIdFile: "{}", secretIdFile: "/missing/secret"}}}}}}}}"#,
                role_id.display()
            ),
        );
        // The file's AppRole login (method inferred from roleIdFile) is kept without env.
        let c = home.load(&[], None, None).unwrap();
        let v = c.credentials.vault.unwrap();
        assert_eq!(v.login.as_ref().map(Login::name), Some("approle"));
        assert!(v.token.is_none());
        // VAULT_TOKEN wins: no login, and the missing files do not matter.
        let c = home.load(&[("VAULT_TOKEN", TOKEN)], None, None).unwrap();
        let v = c.credentials.vault.unwrap();
        assert!(v.login.is_none());
        assert_eq!(v.token.unwrap().expose_secret(), TOKEN);
        // OPENCLAW_VAULT_AUTH_METHOD wins over the file's method.
        let c = home
            .load(
                &[
                    ("OPENCLAW_VAULT_AUTH_METHOD", "kubernetes"),
                    ("OPENCLAW_VAULT_AUTH_ROLE", "gateway"),
                ],
                None,
                None,
            )
            .unwrap();
        let v = c.credentials.vault.as_ref().unwrap();
        assert_eq!(v.login.as_ref().map(Login::name), Some("kubernetes"));
        assert_eq!(c.describe()["vault"]["auth"], "kubernetes");
    }

    #[test]
    fn empty_env_var_is_unset_with_a_warning() {
        let home = Home::new("emptyvar");
        let c = home
            .load(
                &[("VAULT_ADDR", ""), ("OPENCLAW_VAULT_PREFIX", " ")],
                None,
                None,
            )
            .unwrap();
        assert_eq!(c.credentials.provider, ProviderMode::Local);
        assert_eq!(c.credentials.prefix, "openclaw");
        let names: Vec<_> = c.warnings.iter().map(|w| w.json_path.as_str()).collect();
        assert!(
            names.contains(&"VAULT_ADDR") && names.contains(&"OPENCLAW_VAULT_PREFIX"),
            "{names:?}"
        );
        assert!(c.warnings[0].to_string().contains("empty"));
    }

    #[test]
    fn dotenv_precedence() {
        let home = Home::new("dotenv");
        let cwd = home.dir.join("work");
        home.write("work/.env", "A=cwd\nB=cwd\n# comment\n");
        home.write(
            ".openclaw/.env",
            "A=state\nB=state\nC=state\nD=state\nE=\nVAULT_ADDR=http://from-dotenv:8200\n",
        );
        let cfg = home.write(
            ".openclaw/openclaw.json",
            r#"{env: {D: "config", F: "config", vars: {G: "vars"}, shellEnv: {enabled: true}}}"#,
        );
        let c = home
            .load(&[("A", "process"), ("E", "")], Some(&cwd), None)
            .unwrap();
        let e = &c.env;
        assert_eq!(e.get("A").as_deref(), Some("process"));
        assert_eq!(e.source_of("A"), Some(EnvOrigin::Process));
        assert_eq!(e.get("B").as_deref(), Some("cwd"));
        assert_eq!(e.source_of("B"), Some(EnvOrigin::DotEnv(cwd.join(".env"))));
        assert_eq!(e.get("C").as_deref(), Some("state"));
        assert_eq!(
            e.source_of("C"),
            Some(EnvOrigin::DotEnv(home.dir.join(".openclaw/.env")))
        );
        assert_eq!(e.get("D").as_deref(), Some("state"));
        assert_eq!(e.get("F").as_deref(), Some("config"));
        assert_eq!(e.source_of("F"), Some(EnvOrigin::ConfigEnv(cfg.clone())));
        assert_eq!(e.get("G").as_deref(), Some("vars"));
        assert_eq!(e.get("E"), None, "empty everywhere is unset");
        assert_eq!(e.get("shellEnv"), None);
        assert!(!format!("{e:?}").contains("state\""));
        // VAULT_* from the state dir's .env count: provider becomes vault.
        assert_eq!(c.credentials.provider, ProviderMode::Vault);
        assert_eq!(
            c.credentials.vault.as_ref().unwrap().addr.host_str(),
            Some("from-dotenv")
        );
        assert_eq!(
            e.dotenv_files(),
            &[cwd.join(".env"), home.dir.join(".openclaw/.env")]
        );
    }

    #[test]
    fn workspace_dotenv_never_sets_vault_openclaw_proxy_tls_or_credentials() {
        let home = Home::new("dotenv-trust");
        let cwd = home.dir.join("work");
        let workspace = home.write(
            "work/.env",
            "VAULT_ADDR=http://127.0.0.1:9/\nVAULT_TOKEN=hvs.FAKE-dotenv-token\n\
             VAULT_HTTP_PROXY=http://127.0.0.1:9/\nHTTPS_PROXY=http://127.0.0.1:9/\n\
             VAULT_CACERT=/tmp/evil-ca.pem\nNODE_EXTRA_CA_CERTS=/tmp/evil-ca.pem\n\
             OPENCLAW_VAULT_FALLBACK=local\nOPENCLAW_VAULT_PROVIDER=vault\n\
             vault_skip_verify=true\nANTHROPIC_API_KEY=sk-ant-FAKE-dotenv\nPLAIN=kept\n",
        );
        home.write(
            ".openclaw/openclaw.json",
            r#"{credentials: {fallback: "none"}}"#,
        );
        let c = home.load(&[], Some(&cwd), None).unwrap();
        assert_eq!(
            c.credentials.provider,
            ProviderMode::Local,
            "no Vault from ./.env"
        );
        assert!(c.credentials.vault.is_none());
        assert_eq!(
            c.credentials.fallback,
            Fallback::None,
            "fallback none stands"
        );
        for var in [
            "VAULT_ADDR",
            "VAULT_TOKEN",
            "VAULT_HTTP_PROXY",
            "HTTPS_PROXY",
            "VAULT_CACERT",
            "NODE_EXTRA_CA_CERTS",
            "OPENCLAW_VAULT_FALLBACK",
            "ANTHROPIC_API_KEY",
            "vault_skip_verify",
        ] {
            assert_eq!(c.env.get(var), None, "{var}");
            assert!(
                c.dotenv_refused
                    .iter()
                    .any(|r| r.name == var && r.file == workspace),
                "{var} not reported"
            );
            let warned: Vec<_> = c
                .warnings
                .iter()
                .filter(|w| w.json_path == var && w.file.as_deref() == Some(workspace.as_path()))
                .collect();
            assert_eq!(warned.len(), 1, "{var} reported once: {warned:?}");
        }
        assert_eq!(c.env.get("PLAIN").as_deref(), Some("kept"));
        let shown = serde_json::to_string(&c.describe()).unwrap()
            + &c.warnings
                .iter()
                .map(ToString::to_string)
                .collect::<String>();
        for secret in [
            "hvs.FAKE-dotenv-token",
            "sk-ant-FAKE-dotenv",
            "127.0.0.1:9",
            "evil-ca",
        ] {
            assert!(!shown.contains(secret), "{secret} shown");
        }
        let refused = &c.describe()["dotenvRefused"];
        assert!(refused
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["variable"] == "VAULT_TOKEN" && r["reason"] == "vault"));

        // The same file as the state dir's .env (started in the state dir) is trusted.
        let state = home.dir.join(".openclaw");
        home.write(".openclaw/.env", "VAULT_ADDR=http://127.0.0.1:8200\n");
        let c = home.load(&[], Some(&state), None).unwrap();
        assert_eq!(c.credentials.provider, ProviderMode::Vault);
        assert!(c.dotenv_refused.is_empty());
    }

    #[test]
    fn bad_dotenv_lines_warn_without_values() {
        let home = Home::new("baddotenv");
        let f = home.write(
            ".openclaw/.env",
            "GOOD=ok\nTHIS IS NOT=sk-FAKE-leaky\nLATER=fine\nBROKEN='sk-FAKE-unterminated\n",
        );
        let c = home.load(&[], None, None).unwrap();
        assert_eq!(c.env.get("GOOD").as_deref(), Some("ok"));
        let w: Vec<String> = c
            .warnings
            .iter()
            .filter(|w| w.file.as_deref() == Some(f.as_path()))
            .map(ToString::to_string)
            .collect();
        assert!(w.iter().any(|w| w.contains("could not be parsed")), "{w:?}");
        assert!(w.iter().all(|w| !w.contains("sk-FAKE")), "{w:?}");
    }

    #[test]
    fn malformed_json5_names_file_and_position() {
        let home = Home::new("malformed");
        let f = home.write(
            ".openclaw/openclaw.json",
            &format!("{{\n  credentials: {{\n    vault: {{ token: \"{TOKEN}\" \n  }}\n  oops\n}}"),
        );
        let e = err_of(home.load(&[], None, None));
        assert!(e.message.contains(f.to_str().unwrap()), "{}", e.message);
        assert!(e.message.contains("line 5"), "{}", e.message);
    }

    #[test]
    fn wrong_values_are_never_quoted_when_they_could_be_secrets() {
        let home = Home::new("canary");
        let canary = "sk-live-c4n4ry";
        for doc in [
            format!(r#"{{credentials: {{provider: "{canary}"}}}}"#),
            format!(r#"{{credentials: {{fallback: "{canary}"}}}}"#),
            format!(r#"{{credentials: {{order: ["{canary}"]}}}}"#),
            format!(r#"{{credentials: {{vault: {{kvVersion: "{canary}"}}}}}}"#),
            format!(r#"{{credentials: {{cacheTtlMs: "{canary}"}}}}"#),
            format!(r#"{{credentials: {{strict: "{canary}"}}}}"#),
            format!(r#"{{credentials: {{vault: {{addr: "{canary}"}}}}}}"#),
            format!(r#"{{credentials: {{"{canary}": 1}}}}"#),
            format!(r#"{{credentials: {{provider: {canary}}}}}"#),
            format!(r#"{{credentials: "{canary}"}}"#),
        ] {
            home.write(".openclaw/openclaw.json", &doc);
            match home.load(&[], None, None) {
                Err(e) => assert!(!e.message.contains(canary), "{doc}: {}", e.message),
                Ok(c) => {
                    for w in &c.warnings {
                        // An unknown key names itself (keys are not values).
                        if !w.is_unknown_key() {
                            assert!(!w.to_string().contains(canary), "{doc}: {w}");
                        }
                    }
                }
            }
        }
        let e = err_of(home.load(&[("OPENCLAW_VAULT_PROVIDER", canary)], None, None));
        assert!(!e.message.contains(canary), "{}", e.message);
    }

    #[test]
    fn dotenv_and_json5_errors_never_quote_the_file() {
        let home = Home::new("canary-dotenv");
        let c = "sk-live-CANARY-env";
        for text in [
            format!("{c}\n"),
            format!("KEY=\"{c}\n"),
            format!("KEY='{c}\nOTHER=1\n"),
            format!("{c} = {c} {c}\n"),
            format!("export {c}\n"),
        ] {
            home.write(".openclaw/.env", &text);
            match home.load(&[], None, None) {
                Err(e) => assert!(!e.message.contains("CANARY"), "{text}: {}", e.message),
                Ok(loaded) => {
                    for w in &loaded.warnings {
                        assert!(!w.to_string().contains("CANARY"), "{text}: {w}");
                    }
                }
            }
        }
        let _ = std::fs::remove_file(home.dir.join(".openclaw/.env"));
        for doc in [
            format!("{{credentials: {{provider: {c}}}"),
            format!("{{credentials: \"{c}"),
            c.to_string(),
            format!("{{\"{c}\" {c}}}"),
            format!("{{credentials: {{vault: {{token: [\"{c}\"]}}}}}}"),
        ] {
            home.write(".openclaw/openclaw.json", &doc);
            if let Err(e) = home.load(&[], None, None) {
                assert!(!e.message.contains("CANARY"), "{doc}: {}", e.message);
            }
        }
    }

    #[test]
    fn errors_name_file_path_and_expectation() {
        let home = Home::new("errors");
        let cases: &[(&str, &str, &str)] = &[
            (
                r#"{credentials: {cacheTtlMs: "5"}}"#,
                "credentials.cacheTtlMs",
                "must be a number",
            ),
            (
                r#"{credentials: {provider: "cloud"}}"#,
                "credentials.provider",
                "one of \"vault\", \"local\", got another string",
            ),
            (
                r#"{credentials: {order: ["vault", "disk"]}}"#,
                "credentials.order[1]",
                "must be one of",
            ),
            (
                r#"{credentials: {fallback: 1}}"#,
                "credentials.fallback",
                "one of \"local\", \"none\", got a number",
            ),
            (
                r#"{credentials: {provider: "vault"}}"#,
                "credentials.vault.addr",
                "VAULT_ADDR",
            ),
            (
                r#"{credentials: {vault: {addr: "vault:8200"}}}"#,
                "credentials.vault.addr",
                "http or https",
            ),
            (
                r#"{credentials: {vault: {kvVersion: 3}}}"#,
                "credentials.vault.kvVersion",
                "1, 2",
            ),
            (
                r#"{credentials: {vault: {tls: {skipVerify: "yes"}}}}"#,
                "credentials.vault.tls.skipVerify",
                "true or false",
            ),
            (
                r#"{credentials: {vault: {auth: {method: "ldap"}}}}"#,
                "credentials.vault.auth.method",
                "approle",
            ),
            (
                r#"{credentials: {vault: []}}"#,
                "credentials.vault",
                "must be an object",
            ),
            (
                r#"{credentials: {provider: "vault", vault: {addr: "http://x:1", token: 42}}}"#,
                "credentials.vault.token",
                "must be a string",
            ),
            (
                r#"{credentials: {provider: "vault", vault: {addr: "http://x:1", namespace: "a/../b", token: "hvs.SECRET-token-value"}}}"#,
                "credentials.vault.namespace",
                "",
            ),
            (
                r#"{credentials: {provider: "vault", vault: {addr: "http://x:1", auth: {method: "approle"}}}}"#,
                "credentials.vault.auth",
                "roleId",
            ),
        ];
        for (text, path, expect) in cases {
            let f = home.write(".openclaw/openclaw.json", text);
            let e = err_of(home.load(&[], None, None));
            assert!(
                e.message.contains(f.to_str().unwrap()),
                "{text}: {}",
                e.message
            );
            assert!(e.message.contains(path), "{text}: {}", e.message);
            assert!(e.message.contains(expect), "{text}: {}", e.message);
        }
        // Overrides are named options.config, and their errors have no file.
        fs::remove_file(home.dir.join(".openclaw/openclaw.json")).unwrap();
        let e = err_of(home.load(
            &[],
            None,
            Some(&json!({"vault": {"namespace": "a/../b", "token": TOKEN}})),
        ));
        assert!(
            e.message.starts_with("`options.config.vault.namespace`"),
            "{}",
            e.message
        );
        let e = err_of(home.load(
            &[],
            None,
            Some(&json!({"vault": {"token": "hvs.SECRET-token-value with space"}})),
        ));
        assert!(
            e.message.contains("options.config.vault.token") && !e.message.contains("SECRET"),
            "{}",
            e.message
        );
        let e = err_of(home.load(&[], None, Some(&json!({"refreshAheadMs": -1}))));
        assert!(
            e.message.contains("options.config.refreshAheadMs"),
            "{}",
            e.message
        );
        // Bad env values name the variable.
        let e = err_of(home.load(&[("OPENCLAW_VAULT_PROVIDER", "cloud")], None, None));
        assert!(e.message.contains("OPENCLAW_VAULT_PROVIDER"));
        let e = err_of(home.load(
            &[("VAULT_ADDR", "nope"), ("VAULT_TOKEN", TOKEN)],
            None,
            None,
        ));
        assert!(e.message.contains("VAULT_ADDR"), "{}", e.message);
        let e = err_of(home.load(&[("OPENCLAW_VAULT_FALLBACK", "maybe")], None, None));
        assert!(e.message.contains("OPENCLAW_VAULT_FALLBACK"));
    }

    #[test]
    fn unknown_keys_warn_with_a_suggestion() {
        let home = Home::new("unknown");
        let f = home.write(
            ".openclaw/openclaw.json",
            r#"{credentials: {provder: "local", vault: {adress: "http://x:1", tls: {caCrt: "/x"}}, zzz: 1}}"#,
        );
        let c = home.load(&[], None, None).unwrap();
        let find = |p: &str| {
            c.warnings
                .iter()
                .find(|w| w.json_path == p)
                .unwrap_or_else(|| panic!("no warning for {p}: {:?}", c.warnings))
        };
        assert!(find("credentials.provder")
            .message
            .contains("did you mean `provider`"));
        // "adress" is as close to `addrs` as to `addr`: either is a helpful answer.
        let adress = &find("credentials.vault.adress").message;
        assert!(
            adress.contains("did you mean `addr`") || adress.contains("did you mean `addrs`"),
            "{adress}"
        );
        assert!(find("credentials.vault.tls.caCrt")
            .message
            .contains("did you mean `caCert`"));
        assert!(find("credentials.zzz").message.contains("known keys"));
        assert_eq!(find("credentials.zzz").file.as_deref(), Some(f.as_path()));
        assert!(find("credentials.provder")
            .to_string()
            .starts_with(f.to_str().unwrap()));
    }

    #[test]
    fn strict_turns_unknown_keys_into_an_invalid_config_error() {
        let home = Home::new("strict");
        home.write(
            ".openclaw/openclaw.json",
            r#"{credentials: {strict: true, fallbak: "none", vault: {adress: "x"}}}"#,
        );
        let e = err_of(home.load(&[], None, None));
        assert_eq!(e.code, ErrorCode::InvalidConfig);
        assert!(e.message.contains("credentials.fallbak"), "{}", e.message);
        assert!(
            e.message.contains("credentials.vault.adress"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("did you mean `fallback`"),
            "{}",
            e.message
        );
        // Without strict (or strict: false) the same keys are warnings.
        home.write(
            ".openclaw/openclaw.json",
            r#"{credentials: {strict: false, fallbak: "none"}}"#,
        );
        let c = home.load(&[], None, None).unwrap();
        assert!(c.warnings.iter().any(|w| w.is_unknown_key()));
        home.write(
            ".openclaw/openclaw.json",
            r#"{credentials: {strict: "yes"}}"#,
        );
        let e = err_of(home.load(&[], None, None));
        assert!(e.message.contains("credentials.strict"), "{}", e.message);
    }

    #[test]
    fn plaintext_token_warns_and_world_readable_file_warns() {
        let home = Home::new("plaintext");
        let f = home.write(
            ".openclaw/openclaw.json",
            &format!(r#"{{credentials: {{provider: "vault", vault: {{addr: "http://x:1", token: "{TOKEN}"}}}}}}"#),
        );
        fs::set_permissions(&f, fs::Permissions::from_mode(0o644)).unwrap();
        let c = home.load(&[], None, None).unwrap();
        let w = c
            .warnings
            .iter()
            .find(|w| w.json_path == "credentials.vault.token")
            .expect("plaintext warning");
        assert!(w.message.contains("VAULT_TOKEN") && w.message.contains("tokenFile"));
        assert!(c.warnings.iter().any(|w| w.message.contains("chmod 600")));
        for w in &c.warnings {
            assert!(!w.to_string().contains(TOKEN));
        }
        assert_eq!(
            c.credentials.vault.unwrap().token.unwrap().expose_secret(),
            TOKEN
        );
    }

    #[test]
    fn overrides_replace_file_keys() {
        let home = Home::new("overrides");
        home.write(
            ".openclaw/openclaw.json",
            r#"{credentials: {provider: "vault", cacheTtlMs: 1000, vault: {addr: "http://file:8200", namespace: "ns", mount: "filekv"}}}"#,
        );
        let c = home
            .load(
                &[],
                None,
                Some(&json!({"cacheTtlMs": 5, "vault": {"mount": "optkv"}, "order": ["env", "vault"]})),
            )
            .unwrap();
        let cr = &c.credentials;
        assert_eq!(cr.cache_ttl, Some(Duration::from_millis(5)));
        assert_eq!(cr.order, vec![SourceGroup::Env, SourceGroup::Vault]);
        let v = cr.vault.as_ref().unwrap();
        assert_eq!(v.addr.host_str(), Some("file"), "vault merged one level");
        assert_eq!(v.namespace.as_deref(), Some("ns"));
        assert_eq!(v.mount, "optkv");
        let c = home
            .load(&[], None, Some(&json!({"provider": "local"})))
            .unwrap();
        assert_eq!(c.credentials.provider, ProviderMode::Local);
        // Unknown keys in overrides warn under options.config.
        let c = home
            .load(&[], None, Some(&json!({"fallbak": "none"})))
            .unwrap();
        assert!(c
            .warnings
            .iter()
            .any(|w| w.json_path == "options.config.fallbak" && w.file.is_none()));
    }

    #[test]
    fn settings_file_is_read_at_its_top_level() {
        let home = Home::new("settings");
        let f = home.write(
            ".openclaw/openclaw-vault.json",
            r#"// our own file; OpenClaw never reads it
            { provider: "vault", cacheTtlMs: 2500, order: ["vault", "env"],
              vault: { addr: "http://127.0.0.1:8200", namespace: "team", mount: "kv", prefix: "oc" } }"#,
        );
        let c = home.load(&[], None, None).unwrap();
        assert_eq!(c.settings_file.as_deref(), Some(f.as_path()));
        assert_eq!(c.file, None, "no openclaw.json here");
        let cr = &c.credentials;
        assert_eq!(cr.provider, ProviderMode::Vault);
        assert_eq!(cr.cache_ttl, Some(Duration::from_millis(2500)));
        assert_eq!(cr.order, vec![SourceGroup::Vault, SourceGroup::Env]);
        assert_eq!(cr.prefix, "oc");
        let v = cr.vault.as_ref().unwrap();
        assert_eq!(v.namespace.as_deref(), Some("team"));
        assert_eq!(v.mount, "kv");
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(c.describe()["settingsFile"], f.display().to_string());
    }

    #[test]
    fn vault_addrs_in_the_settings_file_beside_openclaw_vault_addrs() {
        let home = Home::new("settings-addrs");
        let f = home.write(
            ".openclaw/openclaw-vault.json",
            r#"{ provider: "vault", vault: { addr: "http://127.0.0.1:8200",
                 addrs: ["http://127.0.0.1:8201", "http://127.0.0.1:8202/"] } }"#,
        );
        let nodes = |vars: &[(&str, &str)]| -> Vec<String> {
            let c = home.load(vars, None, None).unwrap();
            let v = c.credentials.vault.unwrap();
            std::iter::once(&v.addr)
                .chain(&v.addrs)
                .map(|u| u.as_str().trim_end_matches('/').to_string())
                .collect()
        };
        assert_eq!(
            nodes(&[]),
            [
                "http://127.0.0.1:8200",
                "http://127.0.0.1:8201",
                "http://127.0.0.1:8202"
            ]
        );
        // VAULT_ADDR naming one of the listed nodes: tried first, not listed twice.
        assert_eq!(
            nodes(&[("VAULT_ADDR", "http://127.0.0.1:8202")]),
            ["http://127.0.0.1:8202", "http://127.0.0.1:8201"]
        );
        // OPENCLAW_VAULT_ADDRS replaces the file's list.
        assert_eq!(
            nodes(&[("OPENCLAW_VAULT_ADDRS", "http://127.0.0.1:8209")]),
            ["http://127.0.0.1:8200", "http://127.0.0.1:8209"]
        );
        for (text, path) in [
            (
                r#"{vault: {addr: "http://a:1", addrs: "http://b:1"}}"#,
                "`vault.addrs`",
            ),
            (
                r#"{vault: {addr: "http://a:1", addrs: ["http://b:1", 7]}}"#,
                "`vault.addrs[1]`",
            ),
            (
                r#"{provider: "vault", vault: {addr: "http://a:1", addrs: ["http://b:1", "b:2"]}}"#,
                "`vault.addrs[1]`",
            ),
        ] {
            home.write(".openclaw/openclaw-vault.json", text);
            let e = err_of(home.load(&[], None, None));
            assert_eq!(e.code, ErrorCode::InvalidConfig, "{text}");
            assert!(
                e.message.starts_with(f.to_str().unwrap()),
                "{text}: {}",
                e.message
            );
            assert!(e.message.contains(path), "{text}: {}", e.message);
        }
    }

    #[test]
    fn settings_file_errors_name_the_file_and_json_path() {
        let home = Home::new("settings-errors");
        let cases: &[(&str, &str, &str)] = &[
            (r#"{cacheTtlMs: "5"}"#, "`cacheTtlMs`", "must be a number"),
            (
                r#"{vault: {addr: "vault:8200"}}"#,
                "`vault.addr`",
                "http or https",
            ),
            (
                r#"{order: ["vault", "disk"]}"#,
                "`order[1]`",
                "must be one of",
            ),
            (r#"{provider: "vault"}"#, "`vault.addr`", "VAULT_ADDR"),
            (
                r#"{vault: {tls: {skipVerify: "yes"}}}"#,
                "`vault.tls.skipVerify`",
                "true or false",
            ),
            (r#"["vault"]"#, "top level", "must be an object"),
        ];
        for (text, path, expect) in cases {
            let f = home.write(".openclaw/openclaw-vault.json", text);
            let e = err_of(home.load(&[], None, None));
            assert!(
                e.message.starts_with(f.to_str().unwrap()),
                "{text}: {}",
                e.message
            );
            assert!(e.message.contains(path), "{text}: {}", e.message);
            assert!(e.message.contains(expect), "{text}: {}", e.message);
            assert!(!e.message.contains("credentials."), "{text}: {}", e.message);
        }
        // A token pasted where a string of choices belongs is never quoted.
        home.write(
            ".openclaw/openclaw-vault.json",
            &format!(r#"{{provider: "{TOKEN}"}}"#),
        );
        err_of(home.load(&[], None, None));
        // Unknown keys warn under their own path; `strict` there makes them errors.
        let f = home.write(".openclaw/openclaw-vault.json", r#"{provder: "local"}"#);
        let c = home.load(&[], None, None).unwrap();
        let w = c.warnings.iter().find(|w| w.is_unknown_key()).unwrap();
        assert_eq!(w.json_path, "provder");
        assert_eq!(w.file.as_deref(), Some(f.as_path()));
        assert!(w.message.contains("did you mean `provider`"));
        home.write(
            ".openclaw/openclaw-vault.json",
            r#"{strict: true, provder: "local"}"#,
        );
        let e = err_of(home.load(&[], None, None));
        assert!(
            e.message.contains("`strict` is true") && e.message.contains("provder"),
            "{}",
            e.message
        );
    }

    #[test]
    fn old_credentials_key_still_works_with_a_deprecation_warning() {
        let home = Home::new("legacy-key");
        let f = home.write(
            ".openclaw/openclaw.json",
            &format!(r#"{{credentials: {{provider: "vault", vault: {{addr: "http://127.0.0.1:8200", token: "{TOKEN}"}}}}}}"#),
        );
        let c = home.load(&[], None, None).unwrap();
        assert_eq!(c.credentials.provider, ProviderMode::Vault);
        assert_eq!(c.settings_file, None);
        let deprecated: Vec<&ConfigWarning> = c
            .warnings
            .iter()
            .filter(|w| w.is_deprecated_key())
            .collect();
        assert_eq!(deprecated.len(), 1, "{:?}", c.warnings);
        let w = deprecated[0];
        assert_eq!(w.file.as_deref(), Some(f.as_path()));
        assert_eq!(w.json_path, "credentials");
        let new_place = home.dir.join(".openclaw/openclaw-vault.json");
        assert!(
            w.message.contains(new_place.to_str().unwrap()),
            "{}",
            w.message
        );
        assert!(c.is_logged_once(w), "logged once per process by open_store");
        assert!(!w.to_string().contains('\n'), "one line: {w}");
        for w in &c.warnings {
            assert!(!w.to_string().contains(TOKEN), "{w}");
        }
        // Its errors keep naming the old key in openclaw.json.
        home.write(
            ".openclaw/openclaw.json",
            r#"{credentials: {cacheTtlMs: "5"}}"#,
        );
        let e = err_of(home.load(&[], None, None));
        assert!(
            e.message.contains("`credentials.cacheTtlMs`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn precedence_is_env_then_settings_file_then_old_key() {
        let home = Home::new("precedence");
        home.write(
            ".openclaw/openclaw.json",
            r#"{credentials: {provider: "vault", cacheTtlMs: 1000, fallback: "none",
                vault: {addr: "http://old:8200", namespace: "old-ns", mount: "oldkv"}}}"#,
        );
        home.write(
            ".openclaw/openclaw-vault.json",
            r#"{cacheTtlMs: 2000, vault: {addr: "http://new:8200", mount: "newkv"}}"#,
        );
        let c = home.load(&[], None, None).unwrap();
        let cr = &c.credentials;
        assert_eq!(cr.provider, ProviderMode::Vault, "kept from the old key");
        assert_eq!(cr.fallback, Fallback::None, "kept from the old key");
        assert_eq!(cr.cache_ttl, Some(Duration::from_millis(2000)));
        let v = cr.vault.as_ref().unwrap();
        assert_eq!(v.addr.host_str(), Some("new"));
        assert_eq!(v.mount, "newkv");
        assert_eq!(
            v.namespace.as_deref(),
            Some("old-ns"),
            "vault merged per key"
        );
        assert_eq!(
            c.warnings.iter().filter(|w| w.is_deprecated_key()).count(),
            1
        );
        // Variables win over both files.
        let c = home
            .load(
                &[
                    ("VAULT_ADDR", "http://env:8200"),
                    ("OPENCLAW_VAULT_KV_MOUNT", "envkv"),
                    ("OPENCLAW_VAULT_FALLBACK", "local"),
                ],
                None,
                None,
            )
            .unwrap();
        let v = c.credentials.vault.as_ref().unwrap();
        assert_eq!(v.addr.host_str(), Some("env"));
        assert_eq!(v.mount, "envkv");
        assert_eq!(c.credentials.fallback, Fallback::Local);
        // Options win over the settings file.
        let c = home
            .load(&[], None, Some(&json!({"cacheTtlMs": 5})))
            .unwrap();
        assert_eq!(c.credentials.cache_ttl, Some(Duration::from_millis(5)));
    }

    #[test]
    fn settings_file_sits_next_to_openclaw_config_path() {
        let home = Home::new("settings-override");
        let cfg = home.write("etc/oc/prod.json", "{gateway: {port: 1}}");
        home.write(
            "etc/oc/openclaw-vault.json",
            r#"{provider: "local", cacheTtlMs: 7}"#,
        );
        // One in the state dir is not read when OPENCLAW_CONFIG_PATH points elsewhere.
        home.write(".openclaw/openclaw-vault.json", r#"{cacheTtlMs: "bad"}"#);
        let c = home
            .load(
                &[("OPENCLAW_CONFIG_PATH", cfg.to_str().unwrap())],
                None,
                None,
            )
            .unwrap();
        assert_eq!(c.file.as_deref(), Some(cfg.as_path()));
        assert_eq!(c.credentials.cache_ttl, Some(Duration::from_millis(7)));
    }

    #[test]
    fn symlinked_config_is_refused() {
        let home = Home::new("symlink");
        let real = home.write("real.json", "{}");
        std::os::unix::fs::symlink(&real, home.dir.join(".openclaw/openclaw.json")).unwrap();
        let e = err_of(home.load(&[], None, None));
        assert!(e.message.contains("symbolic link"));
    }

    #[test]
    fn last_known_good_is_opt_in_with_a_default_file_and_age() {
        let home = Home::new("lkg");
        let c = home.load(&[], None, None).unwrap();
        assert_eq!(c.credentials.last_known_good, None, "off by default");
        home.write(
            ".openclaw/openclaw.json",
            r#"{credentials: {lastKnownGood: {enabled: true}}}"#,
        );
        let l = home
            .load(&[], None, None)
            .unwrap()
            .credentials
            .last_known_good
            .unwrap();
        assert_eq!(
            l.path,
            home.dir
                .join(".openclaw")
                .join(last_known_good::DEFAULT_FILE_NAME)
        );
        assert_eq!(l.max_age, last_known_good::DEFAULT_MAX_AGE);
        assert_eq!(l.key, KeySource::Auth);
        home.write(
            ".openclaw/openclaw.json",
            r#"{credentials: {lastKnownGood: {enabled: true, path: "~/lkg/file.bin", maxAgeMs: 60000}}}"#,
        );
        let c = home.load(&[], None, None).unwrap();
        let l = c.credentials.last_known_good.clone().unwrap();
        assert_eq!(l.path, home.dir.join("lkg/file.bin"));
        assert_eq!(l.max_age, Duration::from_secs(60));
        assert_eq!(c.describe()["lastKnownGood"]["maxAgeMs"], 60000);
        // Given but not enabled: off, and said so.
        home.write(
            ".openclaw/openclaw.json",
            r#"{credentials: {lastKnownGood: {maxAgeMs: 60000}}}"#,
        );
        let c = home.load(&[], None, None).unwrap();
        assert_eq!(c.credentials.last_known_good, None);
        assert!(
            c.warnings
                .iter()
                .any(|w| w.to_string().contains("credentials.lastKnownGood")
                    && w.to_string().contains("enabled")),
            "{:?}",
            c.warnings
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        );
        // Attack 8 finding 15: a relative path is the settings file's folder's, whatever the
        // working directory (OpenClaw runs the resolver from the package folder).
        home.write(
            ".openclaw/openclaw-vault.json",
            r#"{lastKnownGood: {enabled: true, path: "rel/lkg.bin"}}"#,
        );
        let elsewhere = home.dir.join("cwd");
        std::fs::create_dir_all(&elsewhere).unwrap();
        let c = home.load(&[], Some(&elsewhere), None).unwrap();
        let l = c.credentials.last_known_good.unwrap();
        assert_eq!(l.path, home.dir.join(".openclaw/rel/lkg.bin"));
        std::fs::remove_file(home.dir.join(".openclaw/openclaw-vault.json")).unwrap();
        // Given by the API (no file): refused, naming the key.
        let e = err_of(home.load(
            &[],
            None,
            Some(&serde_json::json!({"lastKnownGood": {"enabled": true, "path": "rel/lkg.bin"}})),
        ));
        assert_eq!(e.code(), "INVALID_CONFIG");
        assert!(
            e.message.contains("lastKnownGood.path") && e.message.contains("absolute"),
            "{}",
            e.message
        );
        // Bad values name the JSON path and what was expected.
        for (doc, at) in [
            (
                r#"{credentials: {lastKnownGood: {enabled: "yes"}}}"#,
                "credentials.lastKnownGood.enabled",
            ),
            (
                r#"{credentials: {lastKnownGood: {enabled: true, maxAgeMs: -1}}}"#,
                "credentials.lastKnownGood.maxAgeMs",
            ),
            (
                r#"{credentials: {lastKnownGood: {enabled: true, key: "keyring"}}}"#,
                "credentials.lastKnownGood.key",
            ),
            (
                r#"{credentials: {lastKnownGood: {enabled: true, path: ""}}}"#,
                "credentials.lastKnownGood.path",
            ),
        ] {
            home.write(".openclaw/openclaw.json", doc);
            let e = err_of(home.load(&[], None, None));
            assert!(e.message.contains(at), "{doc}: {}", e.message);
        }
    }
}
