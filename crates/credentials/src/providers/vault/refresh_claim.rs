//! The claim that makes one process, among all sharing a Vault, the one that refreshes an OAuth
//! credential: a small KV v2 secret `{"holder", "expiresAt"}` at `<prefix>/leases/<name>`, taken
//! and released with check-and-set, so two processes can never both hold it. A holder that dies
//! leaves a claim that expires after its `ttl`, and the next caller takes it over (again with cas).
//! The record also names the holder's host and pid (and, on Linux, its pid namespace): a caller on
//! the same host and namespace whose holder process is gone (`kill(pid, 0)` fails with `ESRCH`)
//! takes the claim over at once, with cas on the record's version so only one caller wins.
//! Holders on other hosts are only ever taken over once the `ttl` has passed.
//!
//! Not a Vault lease (Vault's leases belong to tokens and dynamic secrets): the name of the
//! folder, `leases/`, is kept because running gateways and operators' policies
//! (`docs/migration-guide.md`) already use it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use crate::error::{Error, ErrorCode, Result};
use crate::providers::RefreshClaim;
use crate::time::now_ms;
use vault_client::config::KvVersion;
use vault_client::secret::SecretData;
use vault_client::VaultClient;

/// One process's claim, in Vault KV, on the refresh of one credential.
pub struct KvRefreshClaim {
    client: Arc<VaultClient>,
    /// The claim's path relative to the mount (`<prefix>/leases/<name>`).
    path: String,
    /// Who holds it, as written in the record: pid, host and a random tag.
    holder: String,
    /// This process's host, pid and pid namespace, also written in the record.
    me: Liveness,
    ttl: Duration,
    /// The KV version our claim record was written at, while held.
    held: Mutex<Option<u64>>,
}

impl KvRefreshClaim {
    /// A claim at `path` (relative to the client's mount) valid for `ttl` once taken.
    pub fn new(client: Arc<VaultClient>, path: String, ttl: Duration) -> Self {
        let holder = format!(
            "pid {} on {} ({:x})",
            std::process::id(),
            crate::audit::host_name(),
            rand_u64()
        );
        KvRefreshClaim {
            client,
            path,
            holder,
            me: Liveness::current(),
            ttl,
            held: Mutex::new(None),
        }
    }

    fn record(holder: &str, expires_at: i64, me: Option<&Liveness>) -> SecretData {
        let mut map = Map::new();
        map.insert("holder".into(), json!(holder));
        map.insert("expiresAt".into(), json!(expires_at));
        if let Some(me) = me {
            map.insert("host".into(), json!(me.host));
            map.insert("pid".into(), json!(me.pid));
            if let Some(ns) = &me.pid_ns {
                map.insert("pidNamespace".into(), json!(ns));
            }
        }
        SecretData::from_object(map)
    }
}

#[async_trait]
impl RefreshClaim for KvRefreshClaim {
    /// Reads the record; takes the claim with cas on the version read when it is absent or its
    /// `expiresAt` (epoch ms) has passed. On a KV v1 mount (no cas) it always answers `true`:
    /// the refresh is then not coordinated, and a warning says so.
    async fn try_acquire(&self) -> Result<bool> {
        if self.client.kv_version().await? == KvVersion::V1 {
            tracing::warn!(path = %self.path, "KV v1 mount: OAuth refresh is not coordinated across processes");
            return Ok(true);
        }
        let cas = match self.client.read(&self.path, None).await? {
            None => 0,
            Some(secret) => {
                let version = secret.metadata.as_ref().map(|m| m.version).unwrap_or(0);
                let live = secret.data.as_ref().is_some_and(|d| {
                    let d = d.expose_secret();
                    d.get("expiresAt")
                        .and_then(Value::as_i64)
                        .is_some_and(|at| at > now_ms())
                        && !d.as_object().is_some_and(|d| self.me.holder_is_dead(d))
                });
                if live {
                    return Ok(false);
                }
                version
            }
        };
        let record = Self::record(
            &self.holder,
            now_ms() + self.ttl.as_millis() as i64,
            Some(&self.me),
        );
        match self
            .client
            .write(&self.path, &record, Some(cas))
            .await
            .map_err(Error::from)
        {
            Ok(meta) => {
                *self.held.lock().unwrap_or_else(|p| p.into_inner()) = meta.map(|m| m.version);
                Ok(true)
            }
            Err(e) if e.code == ErrorCode::CasMismatch => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Writes an expired record with cas on our version, so a claim that timed out and was
    /// taken over is never released by the old holder.
    async fn release(&self) {
        let Some(version) = self.held.lock().unwrap_or_else(|p| p.into_inner()).take() else {
            return;
        };
        if let Err(e) = self
            .client
            .write(&self.path, &Self::record("", 0, None), Some(version))
            .await
        {
            tracing::warn!(path = %self.path, code = e.code(), "releasing the refresh claim failed; it expires by itself");
        }
    }
}

/// Where a process runs, to tell whether a claim's holder on this machine is still alive.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Liveness {
    host: String,
    pid: u32,
    /// The pid namespace (`/proc/self/ns/pid`, e.g. `pid:[4026531836]`), on Linux; pids of
    /// containers sharing a host name are only compared within one namespace.
    pid_ns: Option<String>,
}

impl Liveness {
    fn current() -> Self {
        Liveness {
            host: crate::audit::host_name(),
            pid: std::process::id(),
            pid_ns: pid_namespace(),
        }
    }

    /// Whether `record` names a holder on our host and pid namespace, other than this process,
    /// whose process no longer exists. `false` whenever that cannot be told.
    fn holder_is_dead(&self, record: &Map<String, Value>) -> bool {
        let host = record.get("host").and_then(Value::as_str);
        let pid = record.get("pid").and_then(Value::as_u64);
        let ns = record.get("pidNamespace").and_then(Value::as_str);
        let (Some(host), Some(pid)) = (host, pid) else {
            return false;
        };
        if host != self.host || ns != self.pid_ns.as_deref() || self.host == "unknown" {
            return false;
        }
        match i32::try_from(pid) {
            Ok(pid) if pid > 0 && pid as u32 != self.pid => process_is_gone(pid),
            _ => false,
        }
    }
}

/// `kill(pid, 0)` failed with `ESRCH`: no such process (`EPERM` means it exists).
fn process_is_gone(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let rc = unsafe { libc::kill(pid, 0) };
    rc != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

fn pid_namespace() -> Option<String> {
    if cfg!(target_os = "linux") {
        std::fs::read_link("/proc/self/ns/pid")
            .ok()
            .map(|p| p.to_string_lossy().into_owned())
    } else {
        None
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(host: &str, pid: u64, ns: Option<&str>) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("host".into(), json!(host));
        m.insert("pid".into(), json!(pid));
        if let Some(ns) = ns {
            m.insert("pidNamespace".into(), json!(ns));
        }
        m
    }

    #[test]
    fn a_dead_holder_on_this_host_is_dead_and_others_are_not() {
        let me = Liveness::current();
        let ns = me.pid_ns.as_deref();
        // A child that has exited and been reaped: its pid no longer exists.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id() as u64;
        child.wait().unwrap();
        assert!(me.holder_is_dead(&record(&me.host, dead, ns)));
        // Ourselves, our parent (alive), another host, another namespace, an old record.
        assert!(!me.holder_is_dead(&record(&me.host, me.pid as u64, ns)));
        let parent = unsafe { libc::getppid() } as u64;
        assert!(!me.holder_is_dead(&record(&me.host, parent, ns)));
        assert!(!me.holder_is_dead(&record("another-host.example", dead, ns)));
        assert!(!me.holder_is_dead(&record(&me.host, dead, Some("pid:[1]"))));
        let mut old = Map::new();
        old.insert("holder".into(), json!(format!("pid {dead} on {}", me.host)));
        assert!(!me.holder_is_dead(&old));
    }
}
