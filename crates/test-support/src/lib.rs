//! Test support shared by the workspace's tests (a dev-dependency only, never shipped): the
//! dev-Vault spawner, written once, and small environment fixtures.
//!
//! The spawner knows nothing of the client crates (it probes readiness with a plain HTTP request),
//! so every crate's tests can use it without a dependency cycle.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `vault server -dev` child on a free loopback port, killed (and its home removed) on drop.
pub struct DevVault {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub addr: String,
    /// The root token (`-dev-root-token-id`), unique per server.
    pub token: String,
    /// The port it listens on.
    pub port: u16,
    /// Its HOME, removed after the server is gone (fields drop after `drop` runs).
    _home: TempDir,
}

impl Drop for DevVault {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The workspace root (two levels above this crate's manifest).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("workspace root")
        .to_path_buf()
}

/// The Vault binary: `VAULT_BIN`, else the one `tools/vault-server/build.sh` builds (cached).
/// Panics when the build fails: a test that needs Vault cannot run without it.
pub fn vault_binary() -> String {
    if let Ok(bin) = std::env::var("VAULT_BIN") {
        return bin;
    }
    let script = workspace_root().join("tools/vault-server/build.sh");
    let out = Command::new("bash")
        .arg(script)
        .stderr(Stdio::inherit())
        .output()
        .expect("run build.sh");
    assert!(out.status.success(), "tools/vault-server/build.sh failed");
    String::from_utf8(out.stdout)
        .expect("build.sh prints a path")
        .trim()
        .lines()
        .last()
        .expect("build.sh prints a path")
        .to_string()
}

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Starts a dev server on a free port with a root token derived from `label`, and returns once
/// `sys/health` answers 200 (deadline 30 s, else panics).
pub fn start_dev_vault(label: &str) -> DevVault {
    let port = free_port();
    let token = format!("{label}-{}-{port}", std::process::id());
    let home = temp_dir(&format!("vault-{label}-{port}"));
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
    let server = DevVault {
        child,
        addr: format!("http://127.0.0.1:{port}"),
        token,
        port,
        _home: home,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while health_status(port) != Some(200) {
        assert!(
            Instant::now() < deadline,
            "vault dev server not ready in 30 s"
        );
        // Polling an external process for readiness, not a race between test threads.
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// The HTTP status of `GET /v1/sys/health` on `127.0.0.1:port`, or `None` when nothing answers.
pub fn health_status(port: u16) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream
        .write_all(b"GET /v1/sys/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// A fresh directory under the system temp dir, unique per name and process, removed with
/// everything in it when dropped. Set `OCV_KEEP_TMP=1` to keep it (its path is printed to
/// stderr then), for looking at what a failing test left.
pub fn temp_dir(name: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!("ocv-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    TempDir { path: dir }
}

/// A directory made by [`temp_dir`]: a `Path` (through `Deref`), removed on drop unless
/// `OCV_KEEP_TMP=1`.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<std::ffi::OsStr> for TempDir {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.path.as_os_str()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("OCV_KEEP_TMP").is_some_and(|v| v == "1") {
            eprintln!("OCV_KEEP_TMP=1: kept {}", self.path.display());
            return;
        }
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// An environment lookup over fixed pairs, for the `from_env` parsers.
pub fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Review finding: `temp_dir` never removed its `/tmp/ocv-*` directories.
    #[test]
    fn a_temp_dir_is_removed_with_its_contents_on_drop() {
        let dir = temp_dir("guard-self-test");
        let path = dir.to_path_buf();
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        std::fs::write(dir.join("a/b/file"), b"x").unwrap();
        assert!(path.is_dir());
        if std::env::var_os("OCV_KEEP_TMP").is_some_and(|v| v == "1") {
            return; // kept on purpose: nothing to check
        }
        drop(dir);
        assert!(!path.exists(), "{} left behind", path.display());
    }
}
