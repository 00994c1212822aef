//! The core against a real Vault dev server, without Node. The server binary comes from
//! `tools/vault-server/build.sh` (cached), or `VAULT_BIN`.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use openclaw_vault::core::{
    ClientConfig, ClientOptions, ErrorCode, KvVersion, SecretData, VaultClient,
};
use secrecy::SecretString;
use serde_json::json;

struct DevServer {
    child: Child,
    addr: String,
    token: String,
    home: std::path::PathBuf,
}

impl Drop for DevServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

fn vault_binary() -> String {
    if let Ok(bin) = std::env::var("VAULT_BIN") {
        return bin;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/vault-server/build.sh");
    let out = Command::new("bash")
        .arg(script)
        .stderr(Stdio::inherit())
        .output()
        .expect("run build.sh");
    assert!(out.status.success(), "tools/vault-server/build.sh failed");
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .lines()
        .last()
        .unwrap()
        .to_string()
}

async fn start() -> DevServer {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let token = format!("rust-test-{}-{port}", std::process::id());
    let home = std::env::temp_dir().join(format!("ocv-rust-vault-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let child = Command::new(vault_binary())
        .args([
            "server",
            "-dev",
            &format!("-dev-root-token-id={token}"),
            &format!("-dev-listen-address=127.0.0.1:{port}"),
            "-log-level=warn",
        ])
        .env_clear()
        .env("HOME", &home)
        .env("VAULT_DISABLE_MLOCK", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start vault");
    let addr = format!("http://127.0.0.1:{port}");
    let server = DevServer {
        child,
        addr,
        token,
        home,
    };
    let probe = client(&server, None);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !probe.health_check().await {
        assert!(
            Instant::now() < deadline,
            "vault dev server not ready in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server
}

fn client(server: &DevServer, mount: Option<&str>) -> VaultClient {
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
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
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
