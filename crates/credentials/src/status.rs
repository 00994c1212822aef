//! The health checks behind `openclaw-vault status` (alias `doctor`): the configuration found,
//! whether Vault answers, is initialized and unsealed and lets this token in, whether the KV mount
//! is there, and which local sources hold credentials. Each check ends in a [`Finding`] with a
//! level and, for a problem, a hint saying what to do.
//!
//! Asks Vault `sys/health`, `auth/token/lookup-self` and the mount's KV version
//! (`sys/internal/ui/mounts`), the last two only when Vault answered; lists every local source.
//! Nothing here holds a token or a secret value, and nothing is printed.

use std::path::PathBuf;

use serde_json::Value;

use crate::credential::SourceGroup;
use crate::error::{Error, ErrorCode};
use crate::providers::files::format::CliOwner;
use crate::providers::files::formats::cli_owner;
use crate::providers::keychain;
use crate::store::Store;
use vault_client::KvVersion;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// A fact, nothing to do.
    Ok,
    /// Works, but should be fixed (no Vault configured, a short non-renewable token, a broken
    /// local file).
    Warn,
    /// Does not work (Vault unreachable or sealed, the token or the KV mount unusable).
    Error,
}

impl Level {
    /// `ok`, `warn` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// One line of the status: what was found, and what to do about a problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How serious it is.
    pub level: Level,
    /// What was found (`vault: http://127.0.0.1:8200 is sealed`).
    pub message: String,
    /// The next step, for most warnings and errors.
    pub hint: Option<String>,
}

fn finding(level: Level, message: impl Into<String>, hint: Option<&str>) -> Finding {
    Finding {
        level,
        message: message.into(),
        hint: hint.map(str::to_string),
    }
}

/// What `sys/health` said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultHealth {
    /// Vault's version (`1.21.4`), when it says.
    pub version: Option<String>,
    /// False until `vault operator init` ran.
    pub initialized: bool,
    /// True while Vault is sealed.
    pub sealed: bool,
}

/// What `auth/token/lookup-self` said about the token (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenStatus {
    /// Seconds left; 0 for a token that never expires (root).
    pub ttl_secs: i64,
    /// Whether the token can be renewed.
    pub renewable: bool,
    /// The token's policies.
    pub policies: Vec<String>,
    /// The token's display name (`token`, `approle`, ...).
    pub display_name: String,
}

/// One node of a cluster (`addr` and each of `addrs`) and what its `sys/health` said.
#[derive(Debug, Clone)]
pub struct NodeStatus {
    /// The node's address as configured (no trailing `/`).
    pub addr: String,
    /// `active`, `standby`, `performance standby`, `sealed`, `not initialized`, `removed`,
    /// `dr secondary`, or `unreachable` (no answer: see `error`).
    pub state: &'static str,
    /// `sys/health`'s answer, or why the node did not answer.
    pub health: Result<VaultHealth, Error>,
}

impl NodeStatus {
    /// Whether this node serves requests: active, or a standby that forwards them.
    pub fn can_serve(&self) -> bool {
        matches!(self.state, "active" | "standby" | "performance standby")
    }
}

/// The configured Vault and what it answered.
#[derive(Debug, Clone)]
pub struct VaultStatus {
    /// Vault's address as configured.
    pub addr: String,
    /// The Enterprise / HCP namespace, when one is set.
    pub namespace: Option<String>,
    /// The KV mount credentials live under.
    pub mount: String,
    /// The prefix before `credentials/<name>`.
    pub prefix: String,
    /// The auth method's name (`approle`, `kubernetes`, ...), `token` without one.
    pub auth: &'static str,
    /// Whether a token or an auth method is configured.
    pub token_set: bool,
    /// `sys/health`'s answer, or why Vault could not be reached.
    pub health: Result<VaultHealth, Error>,
    /// `auth/token/lookup-self`'s answer; `None` when Vault could not be reached (not asked).
    pub token: Option<Result<TokenStatus, Error>>,
    /// The mount's KV version (1 or 2); `None` when Vault could not be reached (not asked).
    pub kv_version: Option<Result<u8, Error>>,
    /// With several node addresses (`addrs`, `OPENCLAW_VAULT_ADDRS`): every node, `addr` first,
    /// and its state. Empty with one address.
    pub nodes: Vec<NodeStatus>,
}

/// One local source (keychain, a file, env) and what it holds.
#[derive(Debug, Clone)]
pub struct SourceStatus {
    /// The provider id (`claude-code`, `keychain`, `env`, ...).
    pub provider: &'static str,
    /// Its group.
    pub group: SourceGroup,
    /// How many credentials it lists (0 when it failed).
    pub credentials: usize,
    /// Why it could not be listed (`SOURCE_UNAVAILABLE` when it is simply not on this machine).
    pub error: Option<Error>,
    /// The credentials it lists whose tokens a CLI owns (read, never refreshed or written back
    /// here), with that CLI.
    pub owned_by_cli: Vec<(String, &'static CliOwner)>,
}

/// Everything `status` checked.
#[derive(Debug, Clone)]
pub struct StatusReport {
    /// The OpenClaw config file read, if any.
    pub config_file: Option<PathBuf>,
    /// This package's settings file read (`openclaw-vault.json`), if any.
    pub settings_file: Option<PathBuf>,
    /// Warnings about the configuration (unknown keys, plaintext tokens, open permissions).
    pub warnings: Vec<String>,
    /// The non-secret view of the effective configuration (`LoadedConfig::describe`).
    pub config: Value,
    /// The configured Vault; `None` when there is none.
    pub vault: Option<VaultStatus>,
    /// Every local source, in chain order.
    pub sources: Vec<SourceStatus>,
    /// One finding per check, in the order they ran.
    pub findings: Vec<Finding>,
}

impl StatusReport {
    /// True when a finding is an error (the status command then fails).
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.level == Level::Error)
    }
}

/// Runs every check on the opened `store`. Never fails: what cannot be checked is a finding.
pub async fn check(store: &Store) -> StatusReport {
    let mut findings = Vec::new();
    match &store.config_file {
        Some(p) => findings.push(finding(Level::Ok, format!("config: {}", p.display()), None)),
        None => findings.push(finding(
            Level::Ok,
            "config: no OpenClaw config file found (defaults and env apply)",
            None,
        )),
    }
    if let Some(p) = &store.config.settings_file {
        findings.push(finding(
            Level::Ok,
            format!("settings: {}", p.display()),
            None,
        ));
    }
    for w in &store.warnings {
        findings.push(finding(Level::Warn, w.clone(), None));
    }
    let vault = match store.chain.vault() {
        None => {
            findings.push(finding(
                Level::Warn,
                "vault: not configured; credentials come from local sources only",
                Some("set VAULT_ADDR (and VAULT_TOKEN or an auth method), or `provider: \"vault\"` with `vault.addr` in openclaw-vault.json (next to openclaw.json)"),
            ));
            None
        }
        Some(provider) => Some(
            check_vault(
                provider,
                store.chain.settings().lookup_timeout,
                &mut findings,
            )
            .await,
        ),
    };
    let mut sources = Vec::new();
    let mut no_keychain: Option<(Vec<&'static str>, String)> = None;
    for provider in store.chain.providers() {
        if provider.id() == "vault" {
            continue;
        }
        let (count, error, owned_by_cli) = match provider.list().await {
            Ok(l) => {
                let owned: Vec<_> = l
                    .iter()
                    .filter_map(|l| cli_owner(provider.id(), &l.name).map(|o| (l.name.clone(), o)))
                    .collect();
                (l.len(), None, owned)
            }
            Err(e) => (0, Some(e), Vec::new()),
        };
        match &error {
            None if count > 0 => findings.push(finding(
                Level::Ok,
                match owned_by_cli.as_slice() {
                    [] => format!("source {}: {count} credential(s)", provider.id()),
                    owned => format!(
                        "source {}: {count} credential(s); owned by {}: {} (read, never refreshed or written here; renew with {})",
                        provider.id(),
                        owned[0].1.cli,
                        owned.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", "),
                        owned[0].1.renew
                    ),
                },
                None,
            )),
            None => {}
            Some(e) if keychain::is_absent(e) => {
                // Said once below for every keychain source, not once per source.
                let (ids, _) = no_keychain.get_or_insert_with(|| (Vec::new(), e.message.clone()));
                ids.push(provider.id());
            }
            Some(e) if e.code == ErrorCode::SourceUnavailable => findings.push(finding(
                Level::Ok,
                format!(
                    "source {}: not available here ({})",
                    provider.id(),
                    e.message
                ),
                None,
            )),
            Some(e) => findings.push(finding(
                Level::Warn,
                format!("source {}: {}", provider.id(), e.message),
                Some("fix or remove the named file; the other sources are still used"),
            )),
        }
        sources.push(SourceStatus {
            provider: provider.id(),
            group: provider.group(),
            credentials: count,
            error,
            owned_by_cli,
        });
    }
    if let Some((ids, why)) = no_keychain {
        findings.push(finding(
            Level::Ok,
            format!(
                "keychain: none on this machine ({why}); skipped: {}",
                ids.join(", ")
            ),
            None,
        ));
    }
    StatusReport {
        config_file: store.config_file.clone(),
        settings_file: store.config.settings_file.clone(),
        warnings: store.warnings.clone(),
        config: store.config.describe(),
        vault,
        sources,
        findings,
    }
}

/// Runs one of status's Vault requests within `deadline` (the lookup deadline,
/// `OPENCLAW_VAULT_LOOKUP_TIMEOUT_MS`, default 1.5 s), so a hung Vault is reported as `TIMEOUT`
/// at once instead of after the client's own timeout (60 s) and retries.
async fn within<T>(
    deadline: std::time::Duration,
    what: &str,
    request: impl std::future::Future<Output = vault_client::Result<T>>,
) -> Result<T, Error> {
    match tokio::time::timeout(deadline, request).await {
        Ok(result) => result.map_err(Error::from),
        Err(_) => Err(Error::new(
            ErrorCode::Timeout,
            format!(
                "{what} did not answer within {} ms (the lookup deadline)",
                deadline.as_millis()
            ),
        )),
    }
}

async fn check_vault(
    provider: &crate::providers::vault::VaultProvider,
    deadline: std::time::Duration,
    findings: &mut Vec<Finding>,
) -> VaultStatus {
    let client = provider.client();
    let config = client.config();
    if !config.addrs.is_empty() {
        return check_cluster(provider, deadline, findings).await;
    }
    let health = match within(deadline, "sys/health", client.health()).await {
        Ok(h) => {
            if h.sealed {
                findings.push(finding(
                    Level::Error,
                    format!("vault: {} is sealed", config.addr),
                    Error::new(ErrorCode::Sealed, "").hint(),
                ));
            } else if !h.initialized {
                findings.push(finding(
                    Level::Error,
                    format!("vault: {} is not initialized", config.addr),
                    Some("run `vault operator init`"),
                ));
            } else {
                findings.push(finding(
                    Level::Ok,
                    format!(
                        "vault: {} reachable, unsealed (version {})",
                        config.addr,
                        h.version.as_deref().unwrap_or("unknown")
                    ),
                    None,
                ));
            }
            Ok(VaultHealth {
                version: h.version,
                initialized: h.initialized,
                sealed: h.sealed,
            })
        }
        Err(e) => {
            findings.push(finding(
                Level::Error,
                format!("vault: {} unreachable: {}", config.addr, e.message),
                e.hint(),
            ));
            Err(e)
        }
    };
    with_token_and_kv(provider, health, Vec::new(), deadline, findings).await
}

/// A node's state in Vault's words, from its `sys/health` status and body.
fn node_state(h: &vault_client::Health) -> &'static str {
    match h.status {
        _ if !h.initialized => "not initialized",
        _ if h.sealed => "sealed",
        200 => "active",
        429 => "standby",
        473 => "performance standby",
        472 => "dr secondary",
        530 => "removed",
        // 503 unsealed: a standby that knows no active node (an election).
        503 => "standby without an active node",
        _ => "unknown",
    }
}

/// `check_vault` for a cluster: `sys/health` on every node at once, one finding per node, and
/// an error only when no node can serve (the client goes to the nodes that can). Token and KV
/// checks then go through the client, which fails over as every other command does.
async fn check_cluster(
    provider: &crate::providers::vault::VaultProvider,
    deadline: std::time::Duration,
    findings: &mut Vec<Finding>,
) -> VaultStatus {
    let client = provider.client();
    let config = client.config();
    let answers = match tokio::time::timeout(deadline, client.health_of_every_node()).await {
        Ok(answers) => answers
            .into_iter()
            .map(|(url, r)| (url, r.map_err(Error::from)))
            .collect(),
        Err(_) => std::iter::once(&config.addr)
            .chain(&config.addrs)
            .map(|url| {
                let e = Error::new(
                    ErrorCode::Timeout,
                    format!(
                        "sys/health did not answer within {} ms (the lookup deadline)",
                        deadline.as_millis()
                    ),
                );
                (url.clone(), Err(e))
            })
            .collect::<Vec<_>>(),
    };
    let mut nodes = Vec::new();
    for (url, answer) in answers {
        let addr = url.as_str().trim_end_matches('/').to_string();
        let node = match answer {
            Ok(h) => NodeStatus {
                addr,
                state: node_state(&h),
                health: Ok(VaultHealth {
                    version: h.version,
                    initialized: h.initialized,
                    sealed: h.sealed,
                }),
            },
            Err(e) => NodeStatus {
                addr,
                state: "unreachable",
                health: Err(e),
            },
        };
        let (level, text) = match &node.health {
            Ok(h) if node.can_serve() => (
                Level::Ok,
                format!(
                    "vault: node {} {}, unsealed (version {})",
                    node.addr,
                    node.state,
                    h.version.as_deref().unwrap_or("unknown")
                ),
            ),
            Ok(_) => (
                Level::Warn,
                format!("vault: node {} {}", node.addr, node.state),
            ),
            Err(e) => (
                Level::Warn,
                format!("vault: node {} unreachable: {}", node.addr, e.message),
            ),
        };
        findings.push(finding(level, text, None));
        nodes.push(node);
    }
    let serving = nodes
        .iter()
        .find(|n| n.state == "active")
        .or_else(|| nodes.iter().find(|n| n.can_serve()));
    let health = match serving {
        Some(n) => n.health.clone(),
        None => {
            let each: Vec<String> = nodes
                .iter()
                .map(|n| match &n.health {
                    Err(e) => format!("{}: {}", n.addr, e.message),
                    Ok(_) => format!("{}: {}", n.addr, n.state),
                })
                .collect();
            // The code of the first node's failure (sealed, unreachable...), as the client's
            // own cluster errors keep the code of a failure.
            let code = match nodes.first().map(|n| &n.health) {
                Some(Err(e)) => e.code,
                Some(Ok(h)) if h.sealed => ErrorCode::Sealed,
                _ => ErrorCode::ServerError,
            };
            let e = Error::new(
                code,
                format!("no node of the cluster can serve ({})", each.join("; ")),
            );
            findings.push(finding(
                Level::Error,
                format!("vault: {}", e.message),
                e.hint(),
            ));
            Err(e)
        }
    };
    with_token_and_kv(provider, health, nodes, deadline, findings).await
}

/// The rest of a Vault check once `health` is known (one node or the cluster's): the token and
/// the KV mount are checked only when some node can serve.
async fn with_token_and_kv(
    provider: &crate::providers::vault::VaultProvider,
    health: crate::error::Result<VaultHealth>,
    nodes: Vec<NodeStatus>,
    deadline: std::time::Duration,
    findings: &mut Vec<Finding>,
) -> VaultStatus {
    let client = provider.client();
    let config = client.config();
    let (token, kv_version) = if health.is_ok() {
        (
            Some(check_token(client, deadline, findings).await),
            Some(check_kv(client, deadline, findings).await),
        )
    } else {
        (None, None)
    };
    VaultStatus {
        addr: config.addr.as_str().to_string(),
        namespace: config.namespace.clone(),
        mount: client.mount().to_string(),
        prefix: provider.prefix().to_string(),
        auth: config.login.as_ref().map(|l| l.name()).unwrap_or("token"),
        token_set: config.token.is_some() || config.login.is_some(),
        health,
        token,
        kv_version,
        nodes,
    }
}

async fn check_token(
    client: &vault_client::VaultClient,
    deadline: std::time::Duration,
    findings: &mut Vec<Finding>,
) -> Result<TokenStatus, Error> {
    match within(deadline, "auth/token/lookup-self", client.lookup_self()).await {
        Ok(info) => {
            let ttl = if info.ttl == 0 {
                "no expiry".to_string()
            } else {
                format!("TTL {} s", info.ttl)
            };
            if info.ttl > 0 && info.ttl < 3600 && !info.renewable {
                findings.push(finding(
                    Level::Warn,
                    format!("token: {ttl}, not renewable"),
                    Some("use an auth method (approle, kubernetes, jwt) so the token can be renewed or re-issued"),
                ));
            } else {
                findings.push(finding(
                    Level::Ok,
                    format!("token: {ttl}, policies {}", info.policies.join(", ")),
                    None,
                ));
            }
            Ok(TokenStatus {
                ttl_secs: info.ttl,
                renewable: info.renewable,
                policies: info.policies,
                display_name: info.display_name,
            })
        }
        Err(e) => {
            findings.push(finding(
                Level::Error,
                format!("token: {}", e.message),
                e.hint(),
            ));
            Err(e)
        }
    }
}

async fn check_kv(
    client: &vault_client::VaultClient,
    deadline: std::time::Duration,
    findings: &mut Vec<Finding>,
) -> Result<u8, Error> {
    match within(deadline, "the KV version detection", client.kv_version()).await {
        Ok(v) => {
            let n = match v {
                KvVersion::V1 => 1,
                KvVersion::V2 => 2,
            };
            findings.push(finding(
                Level::Ok,
                format!("kv: mount {} is KV v{n}", client.mount()),
                None,
            ));
            Ok(n)
        }
        Err(e) => {
            findings.push(finding(
                Level::Error,
                format!("kv: mount {}: {}", client.mount(), e.message),
                Some("enable it (`vault secrets enable -path=secret kv-v2`) or set `vault.mount` in openclaw-vault.json / OPENCLAW_VAULT_KV_MOUNT"),
            ));
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{open_store, StoreOptions};
    use openclaw_vault_test_support::{env_of, start_dev_vault, temp_dir, vault_binary};
    use std::sync::Arc;

    fn store_with(home: &std::path::Path, vars: &[(&str, &str)]) -> Store {
        let h = home.to_string_lossy().into_owned();
        let mut pairs = vec![("HOME", h.as_str())];
        pairs.extend_from_slice(vars);
        open_store(&StoreOptions {
            env: Arc::new(env_of(&pairs)),
            cwd: None,
            overrides: None,
            process_env: false,
        })
        .unwrap()
    }

    fn levels(report: &StatusReport) -> Vec<(Level, &str)> {
        report
            .findings
            .iter()
            .map(|f| (f.level, f.message.as_str()))
            .collect()
    }

    #[tokio::test]
    async fn a_token_a_cli_owns_is_reported_with_its_owner() {
        let home = temp_dir("status-owned");
        let claude = home.join(".claude/.credentials.json");
        std::fs::create_dir_all(claude.parent().unwrap()).unwrap();
        std::fs::write(
            &claude,
            r#"{"claudeAiOauth":{"accessToken":"sk-ant-oat01-FAKE-status","expiresAt":1}}"#,
        )
        .unwrap();
        let report = check(&store_with(&home, &[])).await;
        let source = report
            .sources
            .iter()
            .find(|s| s.provider == "claude-code")
            .unwrap();
        assert_eq!(
            source.owned_by_cli,
            vec![(
                "anthropic".to_string(),
                &crate::providers::files::formats::CLAUDE_CODE_CLI
            )]
        );
        let line = report
            .findings
            .iter()
            .find(|f| f.message.starts_with("source claude-code:"))
            .unwrap();
        assert_eq!(
            line.message,
            "source claude-code: 1 credential(s); owned by Claude Code: anthropic (read, never refreshed or written here; renew with `claude auth login`)"
        );
    }

    #[tokio::test]
    async fn no_vault_is_a_warning_and_a_broken_file_a_warning_with_a_hint() {
        let home = temp_dir("status-local");
        let claude = home.join(".claude/.credentials.json");
        std::fs::create_dir_all(claude.parent().unwrap()).unwrap();
        std::fs::write(&claude, "{not json").unwrap();
        let report = check(&store_with(&home, &[])).await;
        assert!(report.vault.is_none());
        assert!(!report.has_errors(), "{:?}", levels(&report));
        let no_vault = &report.findings[1];
        assert_eq!(no_vault.level, Level::Warn);
        assert!(no_vault.message.starts_with("vault: not configured"));
        assert!(no_vault.hint.as_deref().unwrap().contains("VAULT_ADDR"));
        let claude_code = report
            .sources
            .iter()
            .find(|s| s.provider == "claude-code")
            .unwrap();
        assert_eq!(claude_code.error.as_ref().unwrap().code(), "INVALID_SOURCE");
        let broken = report
            .findings
            .iter()
            .find(|f| f.message.starts_with("source claude-code:"))
            .unwrap();
        assert_eq!(broken.level, Level::Warn);
        assert!(broken.hint.as_deref().unwrap().contains("fix or remove"));
        assert!(report.vault.is_none());
    }

    #[tokio::test]
    async fn an_unreachable_vault_is_an_error_with_a_hint_and_nothing_more_is_asked() {
        let home = temp_dir("status-down");
        let report = check(&store_with(
            &home,
            &[
                ("VAULT_ADDR", "http://127.0.0.1:9"),
                ("VAULT_TOKEN", "hvs.FAKE-status-token"),
                ("VAULT_MAX_RETRIES", "0"),
            ],
        ))
        .await;
        assert!(report.has_errors());
        let vault = report.vault.as_ref().unwrap();
        assert_eq!(vault.health.as_ref().unwrap_err().code(), "NETWORK");
        assert!(vault.token.is_none() && vault.kv_version.is_none());
        assert!(vault.token_set);
        assert_eq!(vault.auth, "token");
        let down = report
            .findings
            .iter()
            .find(|f| f.level == Level::Error)
            .unwrap();
        assert!(down.message.contains("unreachable"), "{}", down.message);
        assert!(down.hint.as_deref().unwrap().contains("VAULT_ADDR"));
        assert!(!format!("{report:?}").contains("FAKE-status-token"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_healthy_vault_reports_its_version_token_and_kv_mount() {
        let server = tokio::task::spawn_blocking(|| start_dev_vault("status-test"))
            .await
            .unwrap();
        let home = temp_dir("status-up");
        let report = check(&store_with(
            &home,
            &[("VAULT_ADDR", &server.addr), ("VAULT_TOKEN", &server.token)],
        ))
        .await;
        assert!(!report.has_errors(), "{:?}", levels(&report));
        let vault = report.vault.as_ref().unwrap();
        let health = vault.health.as_ref().unwrap();
        assert!(health.initialized && !health.sealed);
        assert!(health.version.is_some());
        let token = vault.token.as_ref().unwrap().as_ref().unwrap();
        assert_eq!(token.ttl_secs, 0, "the dev root token never expires");
        assert!(token.policies.contains(&"root".to_string()));
        assert_eq!(vault.kv_version.as_ref().unwrap().as_ref().unwrap(), &2);
        let messages: Vec<&str> = levels(&report).into_iter().map(|(_, m)| m).collect();
        assert!(messages.iter().any(|m| m.contains("reachable, unsealed")));
        assert!(messages.contains(&"token: no expiry, policies root"));
        assert!(messages.contains(&"kv: mount secret is KV v2"));
        assert!(!format!("{report:?}").contains(&server.token));
    }

    // With a dead first node and a healthy second, status said "unreachable" and exited 5
    // while every other command used the second node (attack 9, finding 3).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cluster_with_a_dead_node_is_healthy_and_each_node_is_reported() {
        let server = tokio::task::spawn_blocking(|| start_dev_vault("status-cluster"))
            .await
            .unwrap();
        let dead = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}", l.local_addr().unwrap())
        };
        let home = temp_dir("status-cluster");
        let report = check(&store_with(
            &home,
            &[
                ("VAULT_ADDR", &dead),
                ("OPENCLAW_VAULT_ADDRS", &server.addr),
                ("VAULT_TOKEN", &server.token),
                ("VAULT_MAX_RETRIES", "0"),
            ],
        ))
        .await;
        assert!(!report.has_errors(), "{:?}", levels(&report));
        let vault = report.vault.as_ref().unwrap();
        assert!(vault.health.is_ok());
        assert_eq!(vault.nodes.len(), 2);
        assert_eq!(vault.nodes[0].addr, dead);
        assert_eq!(vault.nodes[0].state, "unreachable");
        assert_eq!(
            vault.nodes[0].health.as_ref().unwrap_err().code(),
            "NETWORK"
        );
        assert_eq!(vault.nodes[1].addr, server.addr.trim_end_matches('/'));
        assert_eq!(vault.nodes[1].state, "active");
        assert_eq!(vault.kv_version.as_ref().unwrap().as_ref().unwrap(), &2);
        assert!(vault.token.as_ref().unwrap().is_ok());
        let messages: Vec<&str> = levels(&report).into_iter().map(|(_, m)| m).collect();
        assert!(
            messages
                .iter()
                .any(|m| m.contains(&dead) && m.contains("unreachable")),
            "{messages:?}"
        );

        // Every node down: an error naming each node.
        let dead2 = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}", l.local_addr().unwrap())
        };
        let report = check(&store_with(
            &home,
            &[
                ("VAULT_ADDR", &dead),
                ("OPENCLAW_VAULT_ADDRS", &dead2),
                ("VAULT_TOKEN", &server.token),
                ("VAULT_MAX_RETRIES", "0"),
            ],
        ))
        .await;
        assert!(report.has_errors());
        let error = report
            .findings
            .iter()
            .find(|f| f.level == Level::Error)
            .unwrap();
        assert!(error.message.contains("no node of the cluster can serve"));
        assert!(error.message.contains(&dead) && error.message.contains(&dead2));
        assert!(!format!("{report:?}").contains(&server.token));
    }

    // A sealed node answers `sys/health` with 503 at once; retried until the lookup deadline, it
    // was reported as "unreachable: did not answer within 1500 ms" (attack 4, finding 5).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_sealed_vault_is_reported_sealed_not_unreachable() {
        let server = tokio::task::spawn_blocking(|| start_dev_vault("status-sealed"))
            .await
            .unwrap();
        let sealed = std::process::Command::new(vault_binary())
            .args(["operator", "seal"])
            .env("VAULT_ADDR", &server.addr)
            .env("VAULT_TOKEN", &server.token)
            .output()
            .unwrap();
        assert!(sealed.status.success(), "{sealed:?}");
        let home = temp_dir("status-sealed");
        let report = check(&store_with(
            &home,
            &[("VAULT_ADDR", &server.addr), ("VAULT_TOKEN", &server.token)],
        ))
        .await;
        assert!(report.has_errors());
        let vault = report.vault.as_ref().unwrap();
        let health = vault.health.as_ref().expect("sys/health answered");
        assert!(health.sealed && health.initialized);
        let error = report
            .findings
            .iter()
            .find(|f| f.level == Level::Error)
            .unwrap();
        assert!(error.message.ends_with("is sealed"), "{}", error.message);
        assert!(!error.message.contains("unreachable"), "{}", error.message);
        assert!(!format!("{report:?}").contains(&server.token));
    }
}
