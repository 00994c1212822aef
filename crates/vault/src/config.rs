//! Client configuration: explicit options, or the environment the reference Vault CLI reads
//! (only the generic `VAULT_*` variables and the standard proxy ones; an application layers its
//! own on top). Everything is validated here, before any request, and errors name the option or
//! variable the way the caller's user wrote it ([`FieldNames`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::auth::Login;
use crate::error::{Result, VaultError};
pub use crate::http::{HttpSettings, ProxySetting, RetryConfig};
use crate::path::ApiPath;
use crate::tls::{parse_bool, FileInput, ServerNameInput, TlsSettings};

/// The KV engine version of the mount: fixed by the user, or detected once per mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvVersion {
    /// KV v1: unversioned.
    V1,
    /// KV v2: versioned, with metadata and check-and-set.
    V2,
}

impl KvVersion {
    /// 1 or 2.
    pub fn number(self) -> u32 {
        match self {
            KvVersion::V1 => 1,
            KvVersion::V2 => 2,
        }
    }
}

/// Default request timeout, as in HashiCorp's Go client (`VAULT_CLIENT_TIMEOUT`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default cap on a response body. Vault itself refuses request bodies above 32 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;
/// Default KV mount.
pub const DEFAULT_MOUNT: &str = "secret";
/// The reference client's default address.
pub const DEFAULT_ADDR: &str = "https://127.0.0.1:8200";

/// Everything a [`crate::VaultClient`] needs. Build it with [`ClientConfig::new`] and set the
/// fields, or with [`ClientConfig::from_options`] or [`ClientConfig::from_env`], which check every
/// value. `Debug` shows the token as `[REDACTED]`.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Vault's address, `http` or `https`, without credentials, query or fragment.
    pub addr: Url,
    /// Further nodes of the same HA cluster, tried in order after `addr` when a node cannot
    /// serve a request (see [`crate::http::HttpClient::send`]). Default empty: one address.
    /// Set by the `addrs` option or `OPENCLAW_VAULT_ADDRS`; the reference client has no such
    /// setting (it takes one address, usually a load balancer's).
    pub addrs: Vec<Url>,
    /// A fixed token; with a `login`, used until Vault says it is invalid.
    pub token: Option<SecretString>,
    /// Enterprise namespace, sent as `X-Vault-Namespace`.
    pub namespace: Option<String>,
    /// The KV mount paths are relative to (default `secret`).
    pub mount: String,
    /// `None`: detect through `sys/internal/ui/mounts` once per mount.
    pub kv_version: Option<KvVersion>,
    /// Per request, reading the body included (default 60 s).
    pub timeout: Duration,
    /// The largest response body accepted (default 32 MiB); more is `BAD_RESPONSE`.
    pub max_response_bytes: usize,
    /// When and how long to retry.
    pub retry: RetryConfig,
    /// Follow a 307 to another origin (an HA active node) with the token. Off by default: the
    /// token never goes to a host the user did not name.
    pub redirect_to_other_origin: bool,
    /// CA certificates, client certificate, server name.
    pub tls: TlsSettings,
    /// HTTP proxy for every request: `VAULT_HTTP_PROXY` (or `VAULT_PROXY_ADDR`), else the standard
    /// `HTTPS_PROXY` / `HTTP_PROXY` for the address' scheme, with `NO_PROXY` honoured.
    pub proxy: Option<ProxySetting>,
    /// How to get a token when it is not fixed (AppRole, userpass, JWT, Kubernetes, cert, token file).
    pub login: Option<Login>,
    /// Renew the token in the background (and log in again when renewal can no longer extend
    /// it). Default on; a fixed token that is not renewable is left alone either way.
    pub renew: bool,
}

/// How a caller names the fields of [`ClientOptions`] (and of an auth method) in errors: a
/// binding's option names, a config file's JSON paths. `field` is the Rust field name
/// (`max_response_bytes`).
pub trait FieldNames {
    /// The name of `field` as the user wrote it, ready to stand in a sentence.
    fn name_of(&self, field: &str) -> String;
}

/// Rust's own field names, in backticks: "`max_response_bytes`".
#[derive(Debug, Clone, Copy, Default)]
pub struct RustFieldNames;

impl FieldNames for RustFieldNames {
    fn name_of(&self, field: &str) -> String {
        format!("`{field}`")
    }
}

/// Raw option values as the user gave them (from a binding, a CLI or a config file); validated by
/// [`ClientConfig::from_options`]. Numbers are `f64` because that is what such callers hold; the
/// checks refuse fractions, NaN and out-of-range values.
#[derive(Debug, Default)]
pub struct ClientOptions {
    /// Vault's address (required).
    pub addr: Option<String>,
    /// Further nodes of the same cluster; each checked as `addr`.
    pub addrs: Option<Vec<String>>,
    /// A fixed token; trimmed, must not be empty or hold spaces.
    pub token: Option<SecretString>,
    /// Enterprise namespace; `""` or `"/"` means none.
    pub namespace: Option<String>,
    /// The KV mount.
    pub mount: Option<String>,
    /// 1 or 2.
    pub kv_version: Option<u32>,
    /// Request timeout, milliseconds from 1 to 3,600,000.
    pub timeout_ms: Option<f64>,
    /// Response cap in bytes, at least 1024.
    pub max_response_bytes: Option<f64>,
    /// Retries after the first attempt, 0 to 20.
    pub max_retries: Option<f64>,
    /// Base of the retry backoff, milliseconds from 0 to 600,000.
    pub retry_backoff_ms: Option<f64>,
    /// Longest single retry wait, milliseconds from 0 to 600,000.
    pub max_retry_wait_ms: Option<f64>,
    /// See [`ClientConfig::redirect_to_other_origin`].
    pub redirect_to_other_origin: Option<bool>,
    /// TLS settings, their files already named by the caller (e.g. "option `tls.caCert`").
    pub tls: TlsSettings,
    /// An HTTP proxy URL.
    pub proxy: Option<String>,
    /// A login method ([`crate::auth::login_from`] builds one).
    pub login: Option<Login>,
    /// See [`ClientConfig::renew`].
    pub renew: Option<bool>,
}

impl ClientConfig {
    /// The part of the configuration the [`HttpClient`](crate::http::HttpClient) needs.
    pub fn http_settings(&self) -> HttpSettings {
        HttpSettings {
            addr: self.addr.clone(),
            addrs: self.addrs.clone(),
            namespace: self.namespace.clone(),
            timeout: self.timeout,
            max_response_bytes: self.max_response_bytes,
            retry: self.retry,
            redirect_to_other_origin: self.redirect_to_other_origin,
            tls: self.tls.clone(),
            proxy: self.proxy.clone(),
        }
    }

    /// A configuration for `addr` with every other setting at its default.
    pub fn new(addr: &str) -> Result<Self> {
        Ok(ClientConfig {
            addr: parse_addr(addr, "addr")?,
            addrs: Vec::new(),
            token: None,
            namespace: None,
            mount: DEFAULT_MOUNT.to_string(),
            kv_version: None,
            timeout: DEFAULT_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            retry: RetryConfig::default(),
            redirect_to_other_origin: false,
            tls: TlsSettings::default(),
            proxy: None,
            login: None,
            renew: true,
        })
    }

    /// Validates explicit options; errors name the fields as Rust does ("`timeout_ms`"). `addr`
    /// is required here; use [`ClientConfig::from_env`] for the environment's defaults.
    pub fn from_options(options: ClientOptions) -> Result<Self> {
        Self::from_named_options(options, &RustFieldNames)
    }

    /// [`ClientConfig::from_options`] with errors naming each field as `names` says (a binding's
    /// option names, a config file's JSON paths).
    pub fn from_named_options(options: ClientOptions, names: &dyn FieldNames) -> Result<Self> {
        let name = |field: &str| names.name_of(field);
        let addr = options.addr.ok_or_else(|| {
            VaultError::invalid_config(format!(
                "{} is required (e.g. \"http://127.0.0.1:8200\")",
                name("addr")
            ))
        })?;
        let mut config = ClientConfig {
            addr: parse_addr(&addr, &name("addr"))?,
            ..ClientConfig::new(DEFAULT_ADDR)?
        };
        if let Some(addrs) = options.addrs {
            config.addrs = parse_addrs(&addrs, &name("addrs"), &config.addr)?;
        }
        if let Some(token) = options.token {
            config.token = Some(parse_token(token, &name("token"))?);
        }
        if let Some(ns) = options.namespace {
            config.namespace = parse_namespace(&ns, &name("namespace"))?;
        }
        if let Some(mount) = options.mount {
            config.mount = parse_mount(&mount, &name("mount"))?;
        }
        if let Some(v) = options.kv_version {
            config.kv_version = Some(parse_kv_version_number(v, &name("kv_version"))?);
        }
        if let Some(ms) = options.timeout_ms {
            config.timeout = parse_timeout_ms(ms, &name("timeout_ms"))?;
        }
        if let Some(bytes) = options.max_response_bytes {
            if !(bytes.is_finite() && bytes >= 1024.0 && bytes.fract() == 0.0) {
                return Err(VaultError::invalid_config(format!(
                    "{} must be a whole number of at least 1024",
                    name("max_response_bytes")
                )));
            }
            config.max_response_bytes = bytes as usize;
        }
        if let Some(n) = options.max_retries {
            if !(n.is_finite() && (0.0..=20.0).contains(&n) && n.fract() == 0.0) {
                return Err(VaultError::invalid_config(format!(
                    "{} must be a whole number from 0 to 20",
                    name("max_retries")
                )));
            }
            config.retry.max_retries = n as u32;
        }
        if let Some(ms) = options.retry_backoff_ms {
            config.retry.backoff = parse_wait_ms(ms, &name("retry_backoff_ms"))?;
        }
        if let Some(ms) = options.max_retry_wait_ms {
            config.retry.max_wait = parse_wait_ms(ms, &name("max_retry_wait_ms"))?;
        }
        if let Some(allow) = options.redirect_to_other_origin {
            config.redirect_to_other_origin = allow;
        }
        config.tls = options.tls;
        config.login = options.login;
        if let Some(renew) = options.renew {
            config.renew = renew;
        }
        if let Some(p) = options.proxy {
            config.proxy = Some(parse_proxy(&p, &name("proxy"), None)?);
        }
        Ok(config)
    }

    /// The settings HashiCorp's Vault CLI reads from its environment: `VAULT_AGENT_ADDR` (else
    /// `VAULT_ADDR`, else [`DEFAULT_ADDR`]), `VAULT_TOKEN` (else `<home>/.vault-token`),
    /// `VAULT_TOKEN_FILE` (a token file login, when `VAULT_TOKEN` is unset), `VAULT_NAMESPACE`,
    /// `VAULT_MAX_RETRIES`, `VAULT_CLIENT_TIMEOUT`, `VAULT_CACERT`, `VAULT_CAPATH`,
    /// `VAULT_CLIENT_CERT`, `VAULT_CLIENT_KEY`, `VAULT_TLS_SERVER_NAME`, `VAULT_SKIP_VERIFY`, and
    /// the proxy (`VAULT_HTTP_PROXY`, `VAULT_PROXY_ADDR`, else `HTTPS_PROXY`/`HTTP_PROXY` for the
    /// address' scheme with `NO_PROXY`). Empty variables count as unset. `env` looks a variable
    /// up; `home` is the user's home directory, if any. A bad value is `INVALID_CONFIG` naming
    /// its variable.
    pub fn from_env(env: impl Fn(&str) -> Option<String>, home: Option<&Path>) -> Result<Self> {
        let get = |name: &str| env(name).filter(|v| !v.is_empty());
        // Vault Agent's address wins, as in the reference client.
        let (addr, addr_var) = match get("VAULT_AGENT_ADDR") {
            Some(a) => (a, "VAULT_AGENT_ADDR"),
            None => (
                get("VAULT_ADDR").unwrap_or_else(|| DEFAULT_ADDR.to_string()),
                "VAULT_ADDR",
            ),
        };
        let mut config = ClientConfig {
            addr: parse_addr(&addr, addr_var)?,
            ..ClientConfig::new(DEFAULT_ADDR)?
        };
        if let Some(token) = get("VAULT_TOKEN") {
            config.token = Some(parse_token(SecretString::from(token), "VAULT_TOKEN")?);
        } else if let Some(home) = home {
            config.token = read_token_file(&home.join(".vault-token"))?;
        }
        if let Some(ns) = get("VAULT_NAMESPACE") {
            config.namespace = parse_namespace(&ns, "VAULT_NAMESPACE")?;
        }
        if let Some(n) = get("VAULT_MAX_RETRIES") {
            config.retry.max_retries = match n.trim().parse::<u32>() {
                Ok(n) if n <= 20 => n,
                _ => {
                    return Err(VaultError::invalid_config(
                        "VAULT_MAX_RETRIES must be a whole number from 0 to 20",
                    ))
                }
            };
        }
        let file = |var: &str| get(var).map(|p| FileInput::new(p, var));
        config.tls = TlsSettings {
            ca_cert: file("VAULT_CACERT"),
            ca_path: file("VAULT_CAPATH"),
            extra_ca: None,
            client_cert: file("VAULT_CLIENT_CERT"),
            client_key: file("VAULT_CLIENT_KEY"),
            server_name: get("VAULT_TLS_SERVER_NAME")
                .map(|n| ServerNameInput::new(n, "VAULT_TLS_SERVER_NAME")),
            skip_verify: match get("VAULT_SKIP_VERIFY") {
                Some(v) => parse_bool(&v, "VAULT_SKIP_VERIFY")?,
                None => false,
            },
        };
        let (scheme_var, scheme_var_lower) = if config.addr.scheme() == "https" {
            ("HTTPS_PROXY", "https_proxy")
        } else {
            ("HTTP_PROXY", "http_proxy")
        };
        let proxy = [
            "VAULT_HTTP_PROXY",
            "VAULT_PROXY_ADDR",
            scheme_var,
            scheme_var_lower,
        ]
        .into_iter()
        .find_map(|var| get(var).map(|v| (var, v)));
        if let Some((var, value)) = proxy {
            // The Vault-specific variables are meant for Vault alone; NO_PROXY applies to the others.
            let no_proxy = if var.starts_with("VAULT_") {
                None
            } else {
                get("NO_PROXY").or_else(|| get("no_proxy"))
            };
            config.proxy = Some(parse_proxy(&value, var, no_proxy)?);
        }
        // Vault Agent's sink, when no token is given directly.
        if get("VAULT_TOKEN").is_none() {
            config.login = file("VAULT_TOKEN_FILE").map(Login::token_file);
        }
        if let Some(t) = get("VAULT_CLIENT_TIMEOUT") {
            config.timeout = parse_duration_seconds(&t, "VAULT_CLIENT_TIMEOUT")?;
        }
        Ok(config)
    }

    /// The process environment and home directory.
    pub fn from_process_env() -> Result<Self> {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        Self::from_env(|k| std::env::var(k).ok(), home.as_deref())
    }
}

/// One Vault address: an `http` or `https` URL without credentials, query or fragment (a
/// trailing `/` dropped). `INVALID_CONFIG` naming `what` otherwise.
pub fn parse_addr(raw: &str, what: &str) -> Result<Url> {
    let trimmed = raw.trim().trim_end_matches('/');
    let url = Url::parse(trimmed).map_err(|e| {
        VaultError::invalid_config(format!(
            "{what} is not a valid URL ({e}); expected e.g. \"https://vault.example.com:8200\""
        ))
    })?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(VaultError::invalid_config(format!(
            "{what} must use http or https"
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(VaultError::invalid_config(format!("{what} has no host")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Never echo the URL: it holds credentials.
        return Err(VaultError::invalid_config(format!(
            "{what} must not contain a user name or password"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(VaultError::invalid_config(format!(
            "{what} must not have a query or fragment"
        )));
    }
    Ok(url)
}

/// Further node addresses: each as `addr` (errors name the position, `what[1]`), no duplicates
/// (of each other or of `first`), at most 16.
pub fn parse_addrs(raw: &[String], what: &str, first: &Url) -> Result<Vec<Url>> {
    if raw.len() > 16 {
        return Err(VaultError::invalid_config(format!(
            "{what} has {} addresses; at most 16 nodes are supported",
            raw.len()
        )));
    }
    let mut out: Vec<Url> = Vec::new();
    // "`addrs`" becomes "`addrs[1]`", "OPENCLAW_VAULT_ADDRS" becomes "OPENCLAW_VAULT_ADDRS[1]".
    let at = |i: usize| match what.strip_suffix('`') {
        Some(head) => format!("{head}[{i}]`"),
        None => format!("{what}[{i}]"),
    };
    for (i, a) in raw.iter().enumerate() {
        let url = parse_addr(a, &at(i))?;
        if url.origin() == first.origin() || out.iter().any(|u| u.origin() == url.origin()) {
            return Err(VaultError::invalid_config(format!(
                "{} ({}) is listed twice; each node once",
                at(i),
                url.origin().ascii_serialization()
            )));
        }
        if url.scheme() != first.scheme() {
            return Err(VaultError::invalid_config(format!(
                "{} uses {} but the address uses {}; every node the same scheme",
                at(i),
                url.scheme(),
                first.scheme()
            )));
        }
        out.push(url);
    }
    Ok(out)
}

fn parse_proxy(raw: &str, what: &str, no_proxy: Option<String>) -> Result<ProxySetting> {
    let url = Url::parse(raw.trim()).map_err(|e| {
        VaultError::invalid_config(format!(
            "{what} is not a valid proxy URL ({e}); expected e.g. \"http://proxy:3128\""
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(VaultError::invalid_config(format!(
            "{what} must be an http or https URL with a host"
        )));
    }
    Ok(ProxySetting {
        url,
        from: what.to_string(),
        no_proxy,
    })
}

fn parse_token(token: SecretString, what: &str) -> Result<SecretString> {
    let trimmed = token.expose_secret().trim();
    if trimmed.is_empty() {
        return Err(VaultError::invalid_config(format!("{what} is empty")));
    }
    if trimmed.chars().any(|c| c.is_control() || c == ' ') {
        return Err(VaultError::invalid_config(format!(
            "{what} contains spaces or control characters"
        )));
    }
    if trimmed.len() == token.expose_secret().len() {
        return Ok(token);
    }
    Ok(SecretString::from(trimmed.to_string()))
}

fn read_token_file(path: &Path) -> Result<Option<SecretString>> {
    match std::fs::read_to_string(path) {
        Ok(content) => {
            let token = SecretString::from(content);
            if token.expose_secret().trim().is_empty() {
                return Ok(None);
            }
            let what = format!("token file {}", path.display());
            parse_token(token, &what).map(Some)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(VaultError::invalid_config(format!(
            "cannot read token file {}: {e}",
            path.display()
        ))),
    }
}

fn parse_namespace(ns: &str, what: &str) -> Result<Option<String>> {
    let ns = ns.trim().trim_matches('/');
    if ns.is_empty() {
        return Ok(None);
    }
    // ApiPath's message quotes the path: name the setting and the rule instead.
    ApiPath::parse(ns).map_err(|_| {
        VaultError::invalid_config(format!(
            "{what} must be a Vault path: no control characters, no empty, `.` or `..` segments"
        ))
    })?;
    Ok(Some(ns.to_string()))
}

/// A KV mount as given by a user: trimmed of `/`, non-empty, without `.`, `..` or empty segments.
/// `what` names the setting in errors.
pub fn parse_mount(mount: &str, what: &str) -> Result<String> {
    let m = mount.trim().trim_matches('/');
    if m.is_empty() {
        return Err(VaultError::invalid_config(format!("{what} is empty")));
    }
    ApiPath::parse(m).map_err(|_| {
        VaultError::invalid_config(format!(
            "{what} must be a Vault path: no control characters, no empty, `.` or `..` segments"
        ))
    })?;
    Ok(m.to_string())
}

fn parse_kv_version_number(v: u32, what: &str) -> Result<KvVersion> {
    match v {
        1 => Ok(KvVersion::V1),
        2 => Ok(KvVersion::V2),
        _ => Err(VaultError::invalid_config(format!("{what} must be 1 or 2"))),
    }
}

fn parse_timeout_ms(ms: f64, what: &str) -> Result<Duration> {
    if !(ms.is_finite() && ms > 0.0 && ms <= 3_600_000.0) {
        return Err(VaultError::invalid_config(format!(
            "{what} must be a number of milliseconds between 1 and 3600000"
        )));
    }
    Ok(Duration::from_millis(ms.ceil() as u64))
}

fn parse_wait_ms(ms: f64, what: &str) -> Result<Duration> {
    if !(ms.is_finite() && (0.0..=600_000.0).contains(&ms)) {
        return Err(VaultError::invalid_config(format!(
            "{what} must be a number of milliseconds from 0 to 600000"
        )));
    }
    Ok(Duration::from_millis(ms.round() as u64))
}

/// "60", "60s", "1m30s", "500ms" (Go's duration subset the reference CLI accepts).
fn parse_duration_seconds(raw: &str, what: &str) -> Result<Duration> {
    let raw = raw.trim();
    let bad = || {
        VaultError::invalid_config(format!(
            "{what} must be seconds (\"60\") or a duration (\"60s\", \"1m30s\", \"500ms\")"
        ))
    };
    if let Ok(secs) = raw.parse::<u64>() {
        return if secs == 0 {
            Err(bad())
        } else {
            Ok(Duration::from_secs(secs))
        };
    }
    let mut total = Duration::ZERO;
    let mut rest = raw;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        total += match unit {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n * 60),
            "h" => Duration::from_secs(n * 3600),
            _ => return Err(bad()),
        };
    }
    if total.is_zero() {
        return Err(bad());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use openclaw_vault_test_support::env_of;

    #[test]
    fn addr_must_be_http_or_https() {
        for bad in [
            "ftp://x",
            "not a url",
            "127.0.0.1:8200",
            "http://",
            "file:///etc",
        ] {
            let err = ClientConfig::new(bad).unwrap_err();
            assert_eq!(err.code(), "INVALID_CONFIG", "{bad}");
            assert!(err.message.contains("addr"), "{}", err.message);
        }
        let ok = ClientConfig::new("http://127.0.0.1:8200/").unwrap();
        assert_eq!(ok.addr.as_str(), "http://127.0.0.1:8200/");
    }

    #[test]
    fn addr_with_credentials_is_refused_without_echoing_them() {
        let err = ClientConfig::new("https://user:pa55word@vault:8200").unwrap_err();
        assert_eq!(err.code(), "INVALID_CONFIG");
        assert!(!err.message.contains("pa55word"));
    }

    #[test]
    fn empty_token_is_a_config_error() {
        let err = ClientConfig::from_options(ClientOptions {
            addr: Some("http://x:1".into()),
            token: Some(SecretString::from("  ")),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(err.code(), "INVALID_CONFIG");
        assert!(err.message.contains("token"));
    }

    #[test]
    fn env_reads_every_variable() {
        let c = ClientConfig::from_env(
            env_of(&[
                ("VAULT_ADDR", "http://10.0.0.1:8200"),
                ("VAULT_TOKEN", "hvs.env-token\n"),
                ("VAULT_NAMESPACE", "team/a/"),
                ("VAULT_CLIENT_TIMEOUT", "1m30s"),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(c.addr.host_str(), Some("10.0.0.1"));
        assert_eq!(c.token.unwrap().expose_secret(), "hvs.env-token");
        assert_eq!(c.namespace.as_deref(), Some("team/a"));
        assert_eq!(c.mount, DEFAULT_MOUNT);
        assert_eq!(c.kv_version, None);
        assert_eq!(c.timeout, Duration::from_secs(90));
    }

    #[test]
    fn env_falls_back_to_vault_token_file() {
        let dir = std::env::temp_dir().join(format!("ocv-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(".vault-token"), "hvs.from-file\n").unwrap();
        let c = ClientConfig::from_env(env_of(&[]), Some(&dir)).unwrap();
        assert_eq!(c.token.unwrap().expose_secret(), "hvs.from-file");
        assert_eq!(c.addr.as_str(), "https://127.0.0.1:8200/");
        // VAULT_TOKEN wins over the file.
        let c = ClientConfig::from_env(env_of(&[("VAULT_TOKEN", "hvs.env")]), Some(&dir)).unwrap();
        assert_eq!(c.token.unwrap().expose_secret(), "hvs.env");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn env_errors_name_the_variable() {
        let cases = [
            ("VAULT_CLIENT_TIMEOUT", "soon"),
            ("VAULT_CLIENT_TIMEOUT", "0"),
            ("VAULT_ADDR", "vault:8200"),
            ("VAULT_NAMESPACE", "a/../b"),
            ("VAULT_SKIP_VERIFY", "maybe"),
        ];
        for (var, value) in cases {
            let err = ClientConfig::from_env(env_of(&[(var, value)]), None).unwrap_err();
            assert_eq!(err.code(), "INVALID_CONFIG");
            assert!(err.message.contains(var), "{var}: {}", err.message);
        }
    }

    #[test]
    fn agent_addr_wins_and_retries_parse() {
        let c = ClientConfig::from_env(
            env_of(&[
                ("VAULT_ADDR", "http://server:8200"),
                ("VAULT_AGENT_ADDR", "http://127.0.0.1:8100"),
                ("VAULT_MAX_RETRIES", "5"),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(c.addr.as_str(), "http://127.0.0.1:8100/");
        assert_eq!(c.retry.max_retries, 5);
        for bad in ["-1", "many", "21"] {
            let err =
                ClientConfig::from_env(env_of(&[("VAULT_MAX_RETRIES", bad)]), None).unwrap_err();
            assert!(err.message.contains("VAULT_MAX_RETRIES"), "{}", err.message);
        }
        let err =
            ClientConfig::from_env(env_of(&[("VAULT_AGENT_ADDR", "unix:///x")]), None).unwrap_err();
        assert!(err.message.contains("VAULT_AGENT_ADDR"));
    }

    #[test]
    fn token_file_when_no_token() {
        let c =
            ClientConfig::from_env(env_of(&[("VAULT_TOKEN_FILE", "/run/token")]), None).unwrap();
        let login = c.login.unwrap();
        assert_eq!(login.name(), "token_file");
        assert_eq!(login.watched_file(), Some(Path::new("/run/token")));
        let c = ClientConfig::from_env(
            env_of(&[("VAULT_TOKEN", "t"), ("VAULT_TOKEN_FILE", "/run/token")]),
            None,
        )
        .unwrap();
        assert!(c.login.is_none());
    }

    #[test]
    fn proxy_variables() {
        let c = ClientConfig::from_env(
            env_of(&[
                ("VAULT_ADDR", "https://v:8200"),
                ("HTTPS_PROXY", "http://p:3128"),
                ("NO_PROXY", "localhost"),
            ]),
            None,
        )
        .unwrap();
        let p = c.proxy.unwrap();
        assert_eq!(
            (p.url.as_str(), p.from.as_str(), p.no_proxy.as_deref()),
            ("http://p:3128/", "HTTPS_PROXY", Some("localhost"))
        );
        let c = ClientConfig::from_env(
            env_of(&[
                ("VAULT_ADDR", "http://v:8200"),
                ("HTTPS_PROXY", "http://p:3128"),
                ("VAULT_HTTP_PROXY", "http://vp:1"),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(c.proxy.unwrap().from, "VAULT_HTTP_PROXY");
        let none = ClientConfig::from_env(
            env_of(&[
                ("VAULT_ADDR", "http://v:8200"),
                ("HTTPS_PROXY", "http://p:3128"),
            ]),
            None,
        )
        .unwrap();
        assert!(none.proxy.is_none(), "HTTPS_PROXY is for https addresses");
        let err =
            ClientConfig::from_env(env_of(&[("VAULT_HTTP_PROXY", "::nope")]), None).unwrap_err();
        assert!(err.message.contains("VAULT_HTTP_PROXY"));
    }

    #[test]
    fn further_addrs_are_checked_and_named_by_position() {
        let c = ClientConfig::from_options(ClientOptions {
            addr: Some("http://127.0.0.1:8200".into()),
            addrs: Some(vec![
                "http://127.0.0.1:8201/".into(),
                "http://127.0.0.1:8202".into(),
            ]),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.addrs.len(), 2);
        assert_eq!(
            c.http_settings().addrs[1].as_str(),
            "http://127.0.0.1:8202/"
        );
        let cases = [
            (vec!["http://127.0.0.1:8201", "vault:8200"], "`addrs[1]`"),
            (vec!["http://127.0.0.1:8200"], "`addrs[0]`"),
            (vec!["http://a:1", "http://a:1/"], "`addrs[1]`"),
            (vec!["https://a:1"], "`addrs[0]`"),
            (vec!["http://u:pa55word@a:1"], "`addrs[0]`"),
        ];
        for (addrs, named) in cases {
            let err = ClientConfig::from_options(ClientOptions {
                addr: Some("http://127.0.0.1:8200".into()),
                addrs: Some(addrs.iter().map(|a| a.to_string()).collect()),
                ..Default::default()
            })
            .unwrap_err();
            assert_eq!(err.code(), "INVALID_CONFIG");
            assert!(err.message.contains(named), "{named}: {}", err.message);
            assert!(!err.message.contains("pa55word"));
        }
        // Without addrs: one address, as before.
        assert!(ClientConfig::new("http://x:1").unwrap().addrs.is_empty());
    }

    #[test]
    fn durations() {
        let d = |s| parse_duration_seconds(s, "X");
        assert_eq!(d("60").unwrap(), Duration::from_secs(60));
        assert_eq!(d("60s").unwrap(), Duration::from_secs(60));
        assert_eq!(d("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(d("2h").unwrap(), Duration::from_secs(7200));
        assert!(d("s").is_err());
        assert!(d("10x").is_err());
        assert!(d("-1").is_err());
    }

    #[test]
    fn option_ranges() {
        let opts = |f: fn(&mut ClientOptions)| {
            let mut o = ClientOptions {
                addr: Some("http://x:1".into()),
                ..Default::default()
            };
            f(&mut o);
            ClientConfig::from_options(o)
        };
        assert!(opts(|o| o.kv_version = Some(3)).is_err());
        assert!(opts(|o| o.timeout_ms = Some(0.0)).is_err());
        assert!(opts(|o| o.timeout_ms = Some(f64::NAN)).is_err());
        assert_eq!(
            opts(|o| o.timeout_ms = Some(1500.0)).unwrap().timeout,
            Duration::from_millis(1500)
        );
        let missing = ClientConfig::from_options(ClientOptions::default()).unwrap_err();
        assert!(missing.message.contains("addr"));
    }
}
