//! The core against a real Vault dev server, without Node. The server binary comes from
//! `tools/vault-server/build.sh` (cached), or `VAULT_BIN`.

use openclaw_vault_test_support::{start_dev_vault, DevVault};
use secrecy::SecretString;
use serde_json::json;
use vault_client::{ClientConfig, ClientOptions, ErrorCode, KvVersion, SecretData, VaultClient};

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
