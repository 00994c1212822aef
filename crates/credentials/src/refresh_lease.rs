//! The Vault lease that makes one process, among all sharing a Vault, the one that refreshes an
//! OAuth credential: a small KV v2 secret at `<prefix>/leases/<name>` taken and released with
//! check-and-set, so two processes can never both hold it. A holder that dies leaves a lease
//! that expires after `ttl`, and the next caller takes it over (again with cas).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::error::{Error, ErrorCode, Result};
use crate::providers::vault::VaultProvider;
use crate::time::now_ms;
use vault_client::config::KvVersion;
use vault_client::secret::SecretData;

/// One process's claim on the refresh of one credential.
pub struct Lease {
    vault: Arc<VaultProvider>,
    path: String,
    holder: String,
    ttl: Duration,
    /// The KV version our lease record was written at, while held.
    held: Mutex<Option<u64>>,
}

impl Lease {
    pub fn new(vault: Arc<VaultProvider>, name: &str, ttl: Duration) -> Result<Self> {
        let path = vault.lease_path(name)?;
        let holder = format!(
            "pid {} on {} ({:x})",
            std::process::id(),
            crate::audit::host_name(),
            rand_u64()
        );
        Ok(Lease {
            vault,
            path,
            holder,
            ttl,
            held: Mutex::new(None),
        })
    }

    /// Takes the lease if it is free or expired. `Ok(false)` while someone else holds it.
    pub async fn try_acquire(&self) -> Result<bool> {
        let client = self.vault.client();
        if client.kv_version().await? == KvVersion::V1 {
            // KV v1 has no check-and-set: no lease is possible. Refresh without coordination.
            tracing::warn!(path = %self.path, "KV v1 mount: OAuth refresh is not coordinated across processes");
            return Ok(true);
        }
        let cas = match client.read(&self.path, None).await? {
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
        let record = json!({
            "holder": self.holder,
            "expiresAt": now_ms() + self.ttl.as_millis() as i64,
        });
        let Value::Object(map) = record else {
            unreachable!()
        };
        match client
            .write(&self.path, &SecretData::from_object(map), Some(cas))
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

    /// Gives the lease back (an expired record written with cas on our version, so a lease that
    /// timed out and was taken over is never released by the old holder). Best effort.
    pub async fn release(&self) {
        let Some(version) = self.held.lock().unwrap_or_else(|p| p.into_inner()).take() else {
            return;
        };
        let Value::Object(map) = json!({ "holder": "", "expiresAt": 0 }) else {
            unreachable!()
        };
        if let Err(e) = self
            .vault
            .client()
            .write(&self.path, &SecretData::from_object(map), Some(version))
            .await
        {
            tracing::warn!(path = %self.path, code = e.code(), "releasing the refresh lease failed; it expires by itself");
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
