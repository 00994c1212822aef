//! The Vault client's configuration from the environment: the generic `VAULT_*` variables
//! ([`ClientConfig::from_env`]) with OpenClaw's own variables layered on top, as OpenClaw's bundled
//! resolver reads them:
//!
//! - `OPENCLAW_VAULT_KV_MOUNT` (default `secret`), `OPENCLAW_VAULT_KV_VERSION` (`1`, `2`, `auto`);
//! - `OPENCLAW_VAULT_AUTH_METHOD` and the fields of its login (table [`AUTH_VARIABLES`]);
//!   without it, `VAULT_TOKEN_FILE` is used when `VAULT_TOKEN` is unset;
//! - `NODE_EXTRA_CA_CERTS`, added to the system's CA certificates as Node adds them.
//!
//! JS `VaultClient.fromEnv()`, the config loader and the exec resolver all read it here, so the
//! three never disagree.

use std::path::{Path, PathBuf};

use vault_client::auth::{self, AuthFields};
use vault_client::config::{parse_mount, ClientConfig, KvVersion};
use vault_client::tls::FileInput;
use vault_client::{Result, VaultError};

/// Each login field and the variable that sets it. `name` (a cert role) has no variable of its
/// own: `OPENCLAW_VAULT_AUTH_ROLE` serves, as in OpenClaw's resolver.
pub const AUTH_VARIABLES: &[AuthVariable] = &[
    AuthVariable::new("method", "OPENCLAW_VAULT_AUTH_METHOD"),
    AuthVariable::new("mount", "OPENCLAW_VAULT_AUTH_MOUNT"),
    AuthVariable::new("role", "OPENCLAW_VAULT_AUTH_ROLE"),
    AuthVariable::new("role_id", "OPENCLAW_VAULT_APPROLE_ROLE_ID"),
    AuthVariable::new("role_id_file", "OPENCLAW_VAULT_APPROLE_ROLE_ID_FILE"),
    AuthVariable::new("secret_id", "OPENCLAW_VAULT_APPROLE_SECRET_ID"),
    AuthVariable::new("secret_id_file", "OPENCLAW_VAULT_APPROLE_SECRET_ID_FILE"),
    AuthVariable::new(
        "wrapped_secret_id",
        "OPENCLAW_VAULT_APPROLE_WRAPPED_SECRET_ID",
    ),
    AuthVariable::new(
        "wrapped_secret_id_file",
        "OPENCLAW_VAULT_APPROLE_WRAPPED_SECRET_ID_FILE",
    ),
    AuthVariable::new("username", "OPENCLAW_VAULT_USERNAME"),
    AuthVariable::new("password", "OPENCLAW_VAULT_PASSWORD"),
    AuthVariable::new("password_file", "OPENCLAW_VAULT_PASSWORD_FILE"),
    AuthVariable::new("jwt_file", "OPENCLAW_VAULT_JWT_FILE"),
    AuthVariable::new("token_file", "VAULT_TOKEN_FILE"),
];

/// A login field and the environment variable that sets it.
#[derive(Debug, Clone, Copy)]
pub struct AuthVariable {
    /// The field, as [`vault_client::auth::AuthFields`] names it (`role_id`).
    pub field: &'static str,
    /// The variable (`OPENCLAW_VAULT_APPROLE_ROLE_ID`).
    pub variable: &'static str,
}

impl AuthVariable {
    const fn new(field: &'static str, variable: &'static str) -> Self {
        AuthVariable { field, variable }
    }
}

/// The login fields, read from the environment.
struct EnvAuthFields<'a> {
    get: &'a dyn Fn(&str) -> Option<String>,
}

impl EnvAuthFields<'_> {
    fn variable(field: &str) -> Option<&'static str> {
        AUTH_VARIABLES
            .iter()
            .find(|v| v.field == field)
            .map(|v| v.variable)
    }
}

impl AuthFields for EnvAuthFields<'_> {
    fn get(&self, field: &str) -> Option<String> {
        Self::variable(field).and_then(|v| (self.get)(v))
    }

    fn name_of(&self, field: &str) -> String {
        Self::variable(field)
            .map(str::to_string)
            .unwrap_or_else(|| format!("`{field}`"))
    }
}

/// The client configuration from `env` (a lookup; empty values count as unset) and `home` (for
/// `~/.vault-token`). A bad value is `INVALID_CONFIG` naming its variable.
pub fn client_config_from_env(
    env: &dyn Fn(&str) -> Option<String>,
    home: Option<&Path>,
) -> Result<ClientConfig> {
    let get = |name: &str| env(name).filter(|v| !v.is_empty());
    let mut config = ClientConfig::from_env(get, home)?;
    if let Some(list) = get("OPENCLAW_VAULT_ADDRS") {
        // Further nodes of the cluster VAULT_ADDR names (comma-separated), tried in order when a
        // node cannot serve: the reference client has no such variable, so it is ours.
        set_other_nodes(&mut config, &list)?;
    }
    if let Some(mount) = get("OPENCLAW_VAULT_KV_MOUNT") {
        config.mount = parse_mount(&mount, "OPENCLAW_VAULT_KV_MOUNT")?;
    }
    if let Some(v) = get("OPENCLAW_VAULT_KV_VERSION") {
        config.kv_version = match v.trim() {
            "1" => Some(KvVersion::V1),
            "2" => Some(KvVersion::V2),
            "auto" | "detect" => None,
            _ => {
                return Err(VaultError::invalid_config(
                    "OPENCLAW_VAULT_KV_VERSION must be 1, 2 or auto",
                ))
            }
        };
    }
    config.tls.extra_ca =
        get("NODE_EXTRA_CA_CERTS").map(|p| FileInput::new(p, "NODE_EXTRA_CA_CERTS"));
    // A method replaces the generic rule (a token file when VAULT_TOKEN is unset).
    let method_set = get("OPENCLAW_VAULT_AUTH_METHOD").is_some_and(|m| !m.trim().is_empty());
    if method_set {
        config.login = auth::login_from(&EnvAuthFields { get: &get })?;
    }
    Ok(config)
}

/// [`client_config_from_env`] over the process environment and `$HOME`.
pub fn client_config_from_process_env() -> Result<ClientConfig> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    client_config_from_env(&|k| std::env::var(k).ok(), home.as_deref())
}

/// `OPENCLAW_VAULT_ADDRS` into `config.addrs`: the cluster's other nodes, comma-separated (blanks
/// ignored), each checked as an address and not `config.addr` again. `INVALID_CONFIG` naming the variable otherwise.
pub fn set_other_nodes(config: &mut ClientConfig, list: &str) -> Result<()> {
    let raw: Vec<String> = list
        .split(',')
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect();
    config.addrs = vault_client::config::parse_addrs(&raw, "OPENCLAW_VAULT_ADDRS", &config.addr)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use openclaw_vault_test_support::env_of;
    use secrecy::ExposeSecret;
    use std::time::Duration;

    fn config(pairs: &[(&str, &str)]) -> Result<ClientConfig> {
        client_config_from_env(&env_of(pairs), None)
    }

    #[test]
    fn openclaw_variables_over_the_generic_ones() {
        let c = config(&[
            ("VAULT_ADDR", "http://10.0.0.1:8200"),
            ("VAULT_TOKEN", "hvs.env-token\n"),
            ("VAULT_NAMESPACE", "team/a/"),
            ("OPENCLAW_VAULT_KV_MOUNT", "/kv/"),
            ("OPENCLAW_VAULT_KV_VERSION", "1"),
            ("VAULT_CLIENT_TIMEOUT", "1m30s"),
            ("NODE_EXTRA_CA_CERTS", "/etc/extra.pem"),
        ])
        .unwrap();
        assert_eq!(c.addr.host_str(), Some("10.0.0.1"));
        assert_eq!(c.token.unwrap().expose_secret(), "hvs.env-token");
        assert_eq!(c.namespace.as_deref(), Some("team/a"));
        assert_eq!(c.mount, "kv");
        assert_eq!(c.kv_version, Some(KvVersion::V1));
        assert_eq!(c.timeout, Duration::from_secs(90));
        assert_eq!(c.tls.extra_ca.unwrap().from, "NODE_EXTRA_CA_CERTS");
        assert_eq!(
            config(&[("OPENCLAW_VAULT_KV_VERSION", "auto")])
                .unwrap()
                .kv_version,
            None
        );
    }

    #[test]
    fn further_node_addresses_from_env() {
        let c = config(&[
            ("VAULT_ADDR", "http://10.0.0.1:8200"),
            (
                "OPENCLAW_VAULT_ADDRS",
                " http://10.0.0.2:8200, http://10.0.0.3:8200 ,",
            ),
        ])
        .unwrap();
        let hosts: Vec<_> = c.addrs.iter().map(|u| u.host_str().unwrap()).collect();
        assert_eq!(hosts, ["10.0.0.2", "10.0.0.3"]);
        let err = config(&[
            ("VAULT_ADDR", "http://10.0.0.1:8200"),
            ("OPENCLAW_VAULT_ADDRS", "http://10.0.0.2:8200,10.0.0.3"),
        ])
        .unwrap_err();
        assert_eq!(err.code(), "INVALID_CONFIG");
        assert!(
            err.message.contains("OPENCLAW_VAULT_ADDRS[1]"),
            "{}",
            err.message
        );
    }

    #[test]
    fn methods_from_env() {
        let l = config(&[
            ("OPENCLAW_VAULT_AUTH_METHOD", "approle"),
            ("OPENCLAW_VAULT_APPROLE_ROLE_ID", "r"),
            ("OPENCLAW_VAULT_AUTH_MOUNT", "ar2"),
        ])
        .unwrap()
        .login
        .unwrap();
        assert_eq!(l.name(), "approle");
        assert!(format!("{l:?}").contains("ar2"));
        let k = config(&[
            ("OPENCLAW_VAULT_AUTH_METHOD", "kubernetes"),
            ("OPENCLAW_VAULT_AUTH_ROLE", "gw"),
        ])
        .unwrap()
        .login
        .unwrap();
        let shown = format!("{k:?}");
        assert!(
            shown.contains(auth::KUBERNETES_JWT_PATH) && shown.contains("OPENCLAW_VAULT_JWT_FILE"),
            "{shown}"
        );
        let cert = config(&[
            ("OPENCLAW_VAULT_AUTH_METHOD", "cert"),
            ("OPENCLAW_VAULT_AUTH_ROLE", "web"),
        ])
        .unwrap()
        .login
        .unwrap();
        assert!(format!("{cert:?}").contains("\"web\""));
        let tf = config(&[("VAULT_TOKEN_FILE", "/run/token")])
            .unwrap()
            .login
            .unwrap();
        assert_eq!(tf.name(), "token_file");
        assert!(
            config(&[("VAULT_TOKEN", "t"), ("VAULT_TOKEN_FILE", "/run/token")])
                .unwrap()
                .login
                .is_none()
        );
        assert!(config(&[("OPENCLAW_VAULT_AUTH_METHOD", "token")])
            .unwrap()
            .login
            .is_none());
    }

    #[test]
    fn errors_name_the_variable() {
        let cases: [(&[(&str, &str)], &str); 8] = [
            (
                &[("OPENCLAW_VAULT_AUTH_METHOD", "magic")],
                "OPENCLAW_VAULT_AUTH_METHOD",
            ),
            (
                &[("OPENCLAW_VAULT_AUTH_METHOD", "approle")],
                "OPENCLAW_VAULT_APPROLE_ROLE_ID",
            ),
            (
                &[
                    ("OPENCLAW_VAULT_AUTH_METHOD", "jwt"),
                    ("OPENCLAW_VAULT_JWT_FILE", "/x"),
                ],
                "OPENCLAW_VAULT_AUTH_ROLE",
            ),
            (
                &[("OPENCLAW_VAULT_AUTH_METHOD", "userpass")],
                "OPENCLAW_VAULT_USERNAME",
            ),
            (
                &[("OPENCLAW_VAULT_AUTH_METHOD", "token_file")],
                "VAULT_TOKEN_FILE",
            ),
            (
                &[("OPENCLAW_VAULT_KV_VERSION", "3")],
                "OPENCLAW_VAULT_KV_VERSION",
            ),
            (
                &[("OPENCLAW_VAULT_KV_MOUNT", "a/../b")],
                "OPENCLAW_VAULT_KV_MOUNT",
            ),
            (&[("VAULT_ADDR", "vault:8200")], "VAULT_ADDR"),
        ];
        for (pairs, var) in cases {
            let err = config(pairs).unwrap_err();
            assert_eq!(err.code(), "INVALID_CONFIG");
            assert!(err.message.contains(var), "{var}: {}", err.message);
        }
    }
}
