//! A 3-node Vault cluster with integrated (Raft) storage on 127.0.0.1, the Rust twin of
//! `tools/vault-cluster/cluster.mjs`: three `vault server` children in a temp dir, distinct API
//! and cluster ports, `retry_join` to each other, initialised with one unseal key (`sys/init`,
//! as `vault operator init -key-shares=1 -key-threshold=1`), unsealed, a KV v2 engine at
//! `secret/`. TLS is off on the API listeners (loopback only). Killed by pid, dir removed, on drop.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{free_port, health_status, temp_dir, vault_binary, TempDir};

/// One node: its child process (None once killed), API port and address.
pub struct ClusterNode {
    /// `node1`..`node3`, the Raft `node_id`.
    pub id: String,
    /// `http://127.0.0.1:<port>`.
    pub addr: String,
    /// The API port.
    pub port: u16,
    child: Option<Child>,
}

impl ClusterNode {
    /// The pid of the running process, if any.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }
}

/// The running cluster; every node is killed and the temp dir removed on drop (also when a
/// test panics).
pub struct VaultCluster {
    /// The nodes, in start order; `nodes[0]` was initialised first.
    pub nodes: Vec<ClusterNode>,
    /// The root token from `sys/init`.
    pub token: String,
    /// The one unseal key (base64).
    pub unseal_key: String,
    /// How long starting took, until one active node and two standbys.
    pub startup: Duration,
    dir: TempDir,
}

impl Drop for VaultCluster {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            if let Some(mut c) = n.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}

impl VaultCluster {
    /// The API addresses, node order.
    pub fn addrs(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.addr.clone()).collect()
    }

    /// The `sys/health` status of every node (`None`: nothing answers).
    pub fn statuses(&self) -> Vec<Option<u16>> {
        self.nodes.iter().map(|n| health_status(n.port)).collect()
    }

    /// Index of the active node, waiting up to `timeout`; panics naming every node's state.
    pub fn wait_for_leader(&self, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.statuses();
            if let Some(i) = s.iter().position(|s| *s == Some(200)) {
                return i;
            }
            assert!(
                Instant::now() < deadline,
                "vault cluster: no active node within {timeout:?} (health: {s:?})"
            );
            // Polling external processes, not a race between test threads.
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills node `i` (SIGKILL, a crash) and waits for it.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.nodes[i].child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Starts the cluster; panics (after killing whatever started) when it is not healthy within
/// 60 s, naming each node's `sys/health` status.
pub fn start_vault_cluster(label: &str) -> VaultCluster {
    let t0 = Instant::now();
    let dir = temp_dir(&format!("vault-cluster-{label}"));
    let bin = vault_binary();
    let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
    let mut cluster = VaultCluster {
        nodes: Vec::new(),
        token: String::new(),
        unseal_key: String::new(),
        startup: Duration::ZERO,
        dir,
    };
    for (i, (port, cport)) in ports.iter().enumerate() {
        let id = format!("node{}", i + 1);
        let data = cluster.dir.join(&id);
        std::fs::create_dir_all(&data).expect("node data dir");
        let joins: String = ports
            .iter()
            .filter(|(p, _)| p != port)
            .map(|(p, _)| {
                format!("  retry_join {{\n    leader_api_addr = \"http://127.0.0.1:{p}\"\n  }}\n")
            })
            .collect();
        let hcl = format!(
            "storage \"raft\" {{\n  path = \"{}\"\n  node_id = \"{id}\"\n  performance_multiplier = 1\n{joins}}}\n\
             listener \"tcp\" {{\n  address = \"127.0.0.1:{port}\"\n  cluster_address = \"127.0.0.1:{cport}\"\n  tls_disable = true\n}}\n\
             api_addr = \"http://127.0.0.1:{port}\"\ncluster_addr = \"https://127.0.0.1:{cport}\"\n\
             disable_mlock = true\nui = false\nlog_level = \"warn\"\n",
            data.display()
        );
        let conf = cluster.dir.join(format!("{id}.hcl"));
        std::fs::write(&conf, hcl).expect("write node config");
        let child = Command::new(&bin)
            .arg("server")
            .arg(format!("-config={}", conf.display()))
            .env_clear()
            .env("HOME", cluster.dir.path())
            .env("VAULT_DISABLE_MLOCK", "true")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start vault");
        cluster.nodes.push(ClusterNode {
            id,
            addr: format!("http://127.0.0.1:{port}"),
            port: *port,
            child: Some(child),
        });
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let wait = |what: &str, cluster: &VaultCluster, ok: &mut dyn FnMut(&VaultCluster) -> bool| loop {
        if ok(cluster) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "vault cluster: {what} not reached within 60 s (health: {:?})",
            cluster.statuses()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    wait("every node listening", &cluster, &mut |c| {
        c.statuses().iter().all(Option::is_some)
    });
    let p0 = cluster.nodes[0].port;
    let (status, body) = http_json(
        p0,
        "PUT",
        "sys/init",
        None,
        r#"{"secret_shares":1,"secret_threshold":1}"#,
    );
    assert_eq!(status, 200, "sys/init: {body}");
    let init: serde_json::Value = serde_json::from_str(&body).expect("sys/init JSON");
    cluster.token = init["root_token"].as_str().expect("root_token").to_string();
    cluster.unseal_key = init["keys_base64"][0].as_str().expect("key").to_string();
    let unseal = format!(r#"{{"key":"{}"}}"#, cluster.unseal_key);
    http_json(p0, "PUT", "sys/unseal", None, &unseal);
    wait("node1 active", &cluster, &mut |c| {
        health_status(c.nodes[0].port) == Some(200)
    });
    // A follower takes the key only once `retry_join` has fetched the leader's challenge.
    wait("every follower joined and unsealed", &cluster, &mut |c| {
        c.nodes[1..].iter().all(|n| {
            if health_status(n.port) == Some(429) {
                return true;
            }
            http_json(n.port, "PUT", "sys/unseal", None, &unseal);
            false
        })
    });
    let token = cluster.token.clone();
    http_json(
        p0,
        "POST",
        "sys/mounts/secret",
        Some(&token),
        r#"{"type":"kv","options":{"version":"2"}}"#,
    );
    wait("KV v2 at secret/ writable", &cluster, &mut |_| {
        let (s, _) = http_json(
            p0,
            "POST",
            "secret/data/ocv-cluster-ready",
            Some(&token),
            r#"{"data":{"ok":"yes"}}"#,
        );
        s == 200
    });
    cluster.startup = t0.elapsed();
    cluster
}

/// One request with `Connection: close`: `(status, body)`, `(0, "")` when nothing answers.
fn http_json(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, String) {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return (0, String::new());
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let auth = token.map_or(String::new(), |t| format!("X-Vault-Token: {t}\r\n"));
    let req = format!(
        "{method} /v1/{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(req.as_bytes()).is_err() {
        return (0, String::new());
    }
    let mut out = String::new();
    if stream.read_to_string(&mut out).is_err() {
        return (0, String::new());
    }
    let status = out.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = out.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    // Vault's small answers come whole; a chunked one is de-chunked crudely (one chunk).
    let body = if out
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body.split_once("\r\n").map_or(body, |(_, rest)| rest)
    } else {
        body
    };
    (status, body.trim_end_matches("\r\n0\r\n\r\n").to_string())
}
