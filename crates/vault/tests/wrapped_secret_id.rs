//! An AppRole login with a response-wrapped secret id against a real dev server: the first
//! login unwraps it, a second unwrap of the same token fails cleanly, a token made by another
//! role's endpoint is refused without being consumed, and no message quotes a token.

use openclaw_vault_test_support::start_dev_vault;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use std::time::Duration;
use vault_client::auth::{AppRole, WrappedSecretId};
use vault_client::engines::wrapping::{self, RoleSettings};
use vault_client::{ClientConfig, Login, SecretData, SecretInput, VaultClient};

fn value(v: &SecretString, from: &str) -> SecretInput {
    SecretInput::Value {
        value: v.clone(),
        from: from.to_string(),
    }
}

fn approle_client(
    addr: &str,
    role_id: &SecretString,
    wrapped: &SecretString,
    role: &str,
) -> VaultClient {
    let mut config = ClientConfig::new(addr).unwrap();
    config.renew = false;
    config.retry.max_retries = 0;
    config.login = Some(Login::new(AppRole {
        mount: "approle".into(),
        role_id: value(role_id, "OPENCLAW_VAULT_APPROLE_ROLE_ID"),
        secret_id: None,
        wrapped_secret_id: Some(WrappedSecretId::new(
            value(wrapped, "OPENCLAW_VAULT_APPROLE_WRAPPED_SECRET_ID"),
            role,
        )),
    }));
    VaultClient::new(config).unwrap()
}

#[tokio::test]
async fn a_wrapped_secret_id_logs_in_once_and_is_checked_against_its_role() {
    let server = start_dev_vault("wrapped");
    let mut config = ClientConfig::new(&server.addr).unwrap();
    config.token = Some(SecretString::from(server.token.clone()));
    config.renew = false;
    let admin = VaultClient::new(config).unwrap();
    admin
        .request(
            "POST",
            "sys/auth/approle",
            Some(SecretData::try_from_value(json!({"type": "approle"}), "t").unwrap()),
        )
        .await
        .unwrap();
    let settings = RoleSettings {
        token_policies: vec!["default".into()],
        token_ttl: 600,
        token_max_ttl: 1200,
        secret_id_ttl: 600,
        secret_id_num_uses: 0,
        secret_id_bound_cidrs: vec!["127.0.0.0/8".into()],
        token_bound_cidrs: vec![],
        ..RoleSettings::default()
    };
    for role in ["gw1", "gw2"] {
        wrapping::write_role(admin.session(), "approle", role, &settings)
            .await
            .unwrap();
    }
    let role_id = wrapping::read_role_id(admin.session(), "approle", "gw1")
        .await
        .unwrap();
    let wrap =
        wrapping::wrapped_secret_id(admin.session(), "approle", "gw1", Duration::from_secs(60))
            .await
            .unwrap();
    assert_eq!(wrap.creation_path, "auth/approle/role/gw1/secret-id");
    assert!(wrap.ttl > 0 && wrap.ttl <= 60, "{}", wrap.ttl);

    // First login: unwrapped, logged in as gw1.
    let gw = approle_client(&server.addr, &role_id, &wrap.token, "gw1");
    let me = gw.lookup_self().await.unwrap();
    assert!(me.policies.contains(&"default".to_string()), "{me:?}");
    assert_eq!(
        me.meta
            .as_ref()
            .and_then(|m| m.get("role_name"))
            .map(String::as_str),
        Some("gw1")
    );

    // A second process given the same wrapping token: refused cleanly, token not quoted.
    let again = approle_client(&server.addr, &role_id, &wrap.token, "gw1");
    let err = again.lookup_self().await.unwrap_err();
    assert_eq!(err.code.as_str(), "WRAPPING_TOKEN_INVALID", "{err:?}");
    assert!(
        err.message
            .contains("OPENCLAW_VAULT_APPROLE_WRAPPED_SECRET_ID"),
        "{}",
        err.message
    );
    assert!(!format!("{err:?}").contains(wrap.token.expose_secret()));

    // A token made for gw2 given as gw1's: refused before unwrapping, so gw2 can still use it.
    let other =
        wrapping::wrapped_secret_id(admin.session(), "approle", "gw2", Duration::from_secs(60))
            .await
            .unwrap();
    let wrong = approle_client(&server.addr, &role_id, &other.token, "gw1");
    let err = wrong.lookup_self().await.unwrap_err();
    assert_eq!(err.code.as_str(), "WRAPPING_TOKEN_INVALID", "{err:?}");
    assert!(
        err.message.contains("\"auth/approle/role/gw2/secret-id\"")
            && err.message.contains("\"auth/approle/role/gw1/secret-id\""),
        "{}",
        err.message
    );
    assert!(!format!("{err:?}").contains(other.token.expose_secret()));
    let still = wrapping::lookup(admin.session().http(), &other.token, "t")
        .await
        .unwrap();
    assert_eq!(still.creation_path, "auth/approle/role/gw2/secret-id");

    // gw2's wrapped secret id with gw1's role id: unwrapped (its role matches), then Vault
    // refuses the pair. The error says the single-use token is spent; it said only "invalid
    // role or secret ID", and the retry's "already unwrapped" read like an interception
    // (attack 9, finding 10).
    let gw2 = approle_client(&server.addr, &role_id, &other.token, "gw2");
    let err = gw2.lookup_self().await.unwrap_err();
    assert_eq!(err.code.as_str(), "INVALID_REQUEST", "{err:?}");
    assert!(
        err.message.contains("is now spent") && err.message.contains("role \"gw2\"'s"),
        "{}",
        err.message
    );
    assert!(!format!("{err:?}").contains(other.token.expose_secret()));
    assert!(!format!("{err:?}").contains(role_id.expose_secret()));
}
