//! The core against a real Vault dev server, without Node. The server binary comes from
//! `tools/vault-server/build.sh` (cached), or `VAULT_BIN`.

use std::sync::Arc;

use openclaw_vault_test_support::{start_dev_vault, DevVault};
use secrecy::SecretString;
use serde_json::json;
use vault_client::auth::AppRole;
use vault_client::{
    ClientConfig, ClientOptions, ErrorCode, FileInput, KvVersion, Login, SecretData, SecretInput,
    TokenEvent, TokenEventKind, VaultClient,
};

async fn start() -> DevVault {
    tokio::task::spawn_blocking(|| start_dev_vault("rust-test"))
        .await
        .expect("start vault")
}

fn client(server: &DevVault, mount: Option<&str>) -> VaultClient {
    let config = ClientConfig::from_options(ClientOptions {
        addr: Some(server.addr.clone()),
        token: Some(SecretString::from(server.token.clone())),
        mount: mount.map(str::to_string),
        ..Default::default()
    })
    .unwrap();
    VaultClient::new(config).unwrap()
}

fn data(v: serde_json::Value) -> SecretData {
    SecretData::try_from_value(v, "data").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kv2_and_kv1_round_trip_and_errors() {
    let server = start().await;
    let c = client(&server, None);
    assert_eq!(c.kv_version().await.unwrap(), KvVersion::V2);

    let m = c
        .write(
            "app/one",
            &data(json!({"apiKey": "sk-core-secret"})),
            Some(0),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.version, 1);
    let read = c.read("app/one", None).await.unwrap().unwrap();
    assert_eq!(
        read.data.as_ref().unwrap().expose_secret(),
        &json!({"apiKey": "sk-core-secret"})
    );
    // Debug of anything holding the secret is redacted.
    let shown = format!("{read:?} {c:?}");
    assert!(
        !shown.contains("sk-core-secret") && !shown.contains(&server.token),
        "{shown}"
    );

    let err = c
        .write("app/one", &data(json!({"apiKey": "x"})), Some(0))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::CasMismatch);
    assert_eq!(err.status, Some(400));

    assert!(c.read("app/missing", None).await.unwrap().is_none());
    assert_eq!(c.list("app").await.unwrap(), vec!["one".to_string()]);
    assert!(c.list("nothing").await.unwrap().is_empty());

    c.delete("app/one").await.unwrap();
    let deleted = c.read("app/one", None).await.unwrap().unwrap();
    assert!(deleted.data.is_none());
    assert_eq!(deleted.metadata.unwrap().version, 1);

    // KV v1 on a fresh mount.
    let mounted = c
        .request(
            "POST",
            "sys/mounts/kv1",
            Some(data(json!({"type": "kv", "options": {"version": "1"}}))),
        )
        .await
        .unwrap();
    assert!(mounted.is_none());
    let v1 = client(&server, Some("kv1"));
    assert_eq!(v1.kv_version().await.unwrap(), KvVersion::V1);
    assert!(v1
        .write("x", &data(json!({"k": "v"})), None)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        v1.read("x", None)
            .await
            .unwrap()
            .unwrap()
            .data
            .unwrap()
            .expose_secret(),
        &json!({"k": "v"})
    );
    assert_eq!(
        v1.read_metadata("x").await.unwrap_err().code,
        ErrorCode::UnsupportedOperation
    );

    let info = c.lookup_self().await.unwrap();
    assert_eq!(info.policies, vec!["root".to_string()]);
}

#[tokio::test]
async fn refused_connection_is_network() {
    let port = openclaw_vault_test_support::free_port();
    let config = ClientConfig::from_options(ClientOptions {
        addr: Some(format!("http://127.0.0.1:{port}")),
        token: Some(SecretString::from("hvs.unused-token-abc")),
        kv_version: Some(2),
        ..Default::default()
    })
    .unwrap();
    let err = VaultClient::new(config)
        .unwrap()
        .read("x", None)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Network);
    assert!(!err.message.contains("hvs.unused-token-abc"));
}

fn field(answer: &Option<SecretData>, pointer: &str) -> String {
    answer
        .as_ref()
        .and_then(|a| a.expose_secret().pointer(pointer))
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| panic!("no {pointer}"))
        .to_string()
}

/// The session logs in before the first request, the renewal loop renews the short-lived token
/// and logs in again once the max TTL caps it, and subscribers hear of both, never the token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approle_login_renewal_and_relogin() {
    let server = start().await;
    let admin = client(&server, None);
    let ok = |r: vault_client::Result<Option<SecretData>>| r.expect("admin request");
    ok(admin
        .request(
            "POST",
            "sys/auth/approle",
            Some(data(json!({"type": "approle"}))),
        )
        .await);
    ok(admin
        .request(
            "POST",
            "sys/policies/acl/app-rw",
            Some(data(json!({
                "policy": "path \"secret/data/*\" { capabilities = [\"read\", \"create\", \"update\"] }"
            }))),
        )
        .await);
    ok(admin
        .request(
            "POST",
            "auth/approle/role/short",
            Some(data(json!({
                "token_policies": ["app-rw"], "token_ttl": "3s", "token_max_ttl": "6s"
            }))),
        )
        .await);
    let role_id = field(
        &ok(admin
            .request("GET", "auth/approle/role/short/role-id", None)
            .await),
        "/data/role_id",
    );
    let secret_id = field(
        &ok(admin
            .request("POST", "auth/approle/role/short/secret-id", None)
            .await),
        "/data/secret_id",
    );

    let mut config = ClientConfig::new(&server.addr).unwrap();
    config.kv_version = Some(KvVersion::V2);
    let value = |v: &str, from: &str| SecretInput::Value {
        value: SecretString::from(v.to_string()),
        from: from.to_string(),
    };
    config.login = Some(Login::new(AppRole {
        mount: "approle".into(),
        role_id: value(&role_id, "role id"),
        secret_id: Some(value(&secret_id, "secret id")),
        wrapped_secret_id: None,
    }));
    let c = VaultClient::new(config).unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<TokenEvent>();
    c.on_token_event(Arc::new(move |e: &TokenEvent| {
        let _ = tx.send(e.clone());
    }));

    c.write("app/renewed", &data(json!({"k": "v"})), None)
        .await
        .unwrap();
    let first = c.lookup_self().await.unwrap().accessor;
    let mut kinds = Vec::new();
    let deadline = std::time::Duration::from_secs(20);
    tokio::time::timeout(deadline, async {
        while let Some(event) = rx.recv().await {
            assert!(!format!("{event:?}").contains("hvs."), "{event:?}");
            kinds.push(event.kind.clone());
            if event.kind == TokenEventKind::Reauthenticated {
                break;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no re-login within {deadline:?}: {kinds:?}"));
    assert_eq!(kinds[0], TokenEventKind::Renewed, "{kinds:?}");
    assert_ne!(c.lookup_self().await.unwrap().accessor, first);
    assert!(c.read("app/renewed", None).await.unwrap().is_some());
    c.close();
}

/// A token file is re-read when it changes: the next request carries the new token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_file_is_reread_when_it_changes() {
    let server = start().await;
    let admin = client(&server, None);
    let token = |name: &'static str| {
        let admin = &admin;
        async move {
            let answer = admin
                .request(
                    "POST",
                    "auth/token/create",
                    Some(data(json!({"display_name": name, "policies": ["default"]}))),
                )
                .await
                .unwrap();
            field(&answer, "/auth/client_token")
        }
    };
    let dir = openclaw_vault_test_support::temp_dir("token-file");
    let file = dir.join("agent-token");
    std::fs::write(&file, format!("{}\n", token("first").await)).unwrap();
    let mut config = ClientConfig::new(&server.addr).unwrap();
    config.login = Some(Login::token_file(FileInput::new(&file, "the token file")));
    config.renew = false;
    let c = VaultClient::new(config).unwrap();
    assert_eq!(c.lookup_self().await.unwrap().display_name, "token-first");
    // A different length, so the file's stamp changes even within one mtime tick.
    std::fs::write(&file, format!("{}\n\n", token("second").await)).unwrap();
    assert_eq!(c.lookup_self().await.unwrap().display_name, "token-second");
}

/// Issue 11 kinds 6 and 10: a denied KV version detection is a guess for that call only (the
/// next call detects again), and a mistyped mount (404 "no handler for route") is an error, never
/// a missing secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_detection_is_not_cached_and_a_missing_mount_is_an_error() {
    let server = start().await;
    let admin = client(&server, None);
    let ok = |r: vault_client::Result<Option<SecretData>>| r.expect("admin request");
    ok(admin
        .request(
            "POST",
            "sys/mounts/kv1six",
            Some(data(json!({"type": "kv", "options": {"version": "1"}}))),
        )
        .await);
    ok(admin
        .request("POST", "kv1six/app", Some(data(json!({"apiKey": "sk-k6"}))))
        .await);
    let policy = |extra: &str| {
        data(json!({
            "policy": format!("path \"secret/data/nothing\" {{ capabilities = [\"read\"] }}\n{extra}")
        }))
    };
    ok(admin
        .request("PUT", "sys/policies/acl/k6", Some(policy("")))
        .await);
    let token = field(
        &ok(admin
            .request(
                "POST",
                "auth/token/create",
                Some(data(json!({"policies": ["k6"], "ttl": "10m"}))),
            )
            .await),
        "/auth/client_token",
    );
    let limited = VaultClient::new(
        ClientConfig::from_options(ClientOptions {
            addr: Some(server.addr.clone()),
            token: Some(SecretString::from(token)),
            mount: Some("kv1six".into()),
            max_retries: Some(0.0),
            renew: Some(false),
            ..Default::default()
        })
        .unwrap(),
    )
    .unwrap();
    let denied = limited.read("app", None).await.unwrap_err();
    assert_eq!(denied.code, ErrorCode::PermissionDenied, "{denied:?}");
    ok(admin
        .request(
            "PUT",
            "sys/policies/acl/k6",
            Some(policy(
                "path \"kv1six/*\" { capabilities = [\"read\", \"list\"] }",
            )),
        )
        .await);
    let read = limited.read("app", None).await.unwrap().unwrap();
    assert_eq!(
        read.data.unwrap().expose_secret(),
        &json!({"apiKey": "sk-k6"})
    );
    assert_eq!(limited.kv_version().await.unwrap(), KvVersion::V1);
    assert_eq!(limited.list("").await.unwrap(), vec!["app".to_string()]);

    // A mistyped mount: detected (denied, guessed v2), configured v2, and configured v1.
    for kv in [None, Some(2), Some(1)] {
        let typo = VaultClient::new(
            ClientConfig::from_options(ClientOptions {
                addr: Some(server.addr.clone()),
                token: Some(SecretString::from(server.token.clone())),
                mount: Some("secrett".into()),
                kv_version: kv,
                renew: Some(false),
                ..Default::default()
            })
            .unwrap(),
        )
        .unwrap();
        let err = typo.read("app/x", None).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest, "{kv:?}: {err:?}");
        assert_eq!(err.status, Some(404));
        assert!(err.message.contains("no handler"), "{}", err.message);
        let err = typo.list("app").await.unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest, "{kv:?}: {err:?}");
    }
    // A missing secret on a real mount is still `None`, and an empty folder `[]`.
    assert!(admin.read("no/such", None).await.unwrap().is_none());
    assert!(admin.read_metadata("no/such").await.unwrap().is_none());
    assert!(admin
        .subkeys("no/such", None, None)
        .await
        .unwrap()
        .is_none());
    assert!(admin.list("no/such").await.unwrap().is_empty());
}

/// Issue 11 kind 5: a fixed token invalid from the start ends with one `expired`, and the
/// renewal loop stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_fixed_token_expires_once_and_renewal_stops() {
    let server = start().await;
    let c = VaultClient::new(
        ClientConfig::from_options(ClientOptions {
            addr: Some(server.addr.clone()),
            token: Some(SecretString::from("hvs.FAKE-k5-token")),
            kv_version: Some(2),
            max_retries: Some(0.0),
            ..Default::default()
        })
        .unwrap(),
    )
    .unwrap();
    let events = Arc::new(std::sync::Mutex::new(Vec::<TokenEvent>::new()));
    let sink = events.clone();
    c.on_token_event(Arc::new(move |e: &TokenEvent| {
        sink.lock().unwrap().push(e.clone());
    }));
    let err = c.read("app", None).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidToken);
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    let seen: Vec<TokenEventKind> = events
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.kind.clone())
        .collect();
    assert_eq!(seen, vec![TokenEventKind::Expired], "{seen:?}");
    assert!(!format!("{:?}", events.lock().unwrap()).contains("FAKE-k5"));
}
