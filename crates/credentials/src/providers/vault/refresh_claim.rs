//! The claim that makes one process, among all sharing a Vault, the one that refreshes an OAuth
//! credential: a small KV v2 secret `{"holder", "expiresAt"}` at `<prefix>/leases/<name>`, taken
//! and released with check-and-set, so two processes can never both hold it. A holder that dies
//! leaves a claim that expires after its `ttl`, and the next caller takes it over (again with cas).
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
            ttl,
            held: Mutex::new(None),
        }
    }

    fn record(holder: &str, expires_at: i64) -> SecretData {
        let mut map = Map::new();
        map.insert("holder".into(), json!(holder));
        map.insert("expiresAt".into(), json!(expires_at));
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
                    d.expose_secret()
                        .get("expiresAt")
                        .and_then(Value::as_i64)
                        .is_some_and(|at| at > now_ms())
                });
                if live {
                    return Ok(false);
                }
                version
            }
        };
        let record = Self::record(&self.holder, now_ms() + self.ttl.as_millis() as i64);
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
            .write(&self.path, &Self::record("", 0), Some(version))
            .await
        {
            tracing::warn!(path = %self.path, code = e.code(), "releasing the refresh claim failed; it expires by itself");
        }
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
