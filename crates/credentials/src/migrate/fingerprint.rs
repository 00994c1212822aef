//! The keyed fingerprints `migrate` prints and journals: HMAC-SHA256 of the canonical JSON of a
//! credential's data, first 16 hex digits.
//!
//! An unkeyed hash of the value alone confirms a guessed password offline (same value, same
//! fingerprint, on every machine). The key lives in Vault, not beside the journal:
//! `<mount>/<prefix>/migrate/fingerprint-key` (field `key`, 64 hex digits, 32 random bytes),
//! created once with check-and-set 0 so two runs racing to create it agree on the winner's.
//! When Vault cannot be read (a dry run without Vault, a token without access to that path)
//! the key is random for this run only: fingerprints then compare only within the run, and a
//! rerun checks every journal entry against Vault instead of trusting it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chacha20poly1305::aead::rand_core::RngCore;
use chacha20poly1305::aead::OsRng;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;
use vault_client::secret::SecretData;
use zeroize::Zeroizing;

use crate::providers::vault::VaultProvider;

/// The Vault path of the key, under the prefix (`<prefix>/migrate/fingerprint-key`).
pub fn key_path(vault: &VaultProvider) -> String {
    format!("{}/migrate/fingerprint-key", vault.prefix())
}

/// The HMAC key of the fingerprints. `Debug` never shows it.
#[derive(Clone)]
pub struct FingerprintKey {
    key: Arc<Zeroizing<[u8; 32]>>,
    /// True when the key was read from (or created in) Vault: fingerprints compare across
    /// runs against the same Vault and prefix. False: a key for this run only.
    pub from_vault: bool,
}

impl std::fmt::Debug for FingerprintKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FingerprintKey")
            .field("from_vault", &self.from_vault)
            .finish_non_exhaustive()
    }
}

impl Default for FingerprintKey {
    fn default() -> Self {
        Self::per_run()
    }
}

impl FingerprintKey {
    /// A random key for this run only.
    pub fn per_run() -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(&mut key[..]);
        FingerprintKey {
            key: Arc::new(key),
            from_vault: false,
        }
    }

    fn from_hex(hex: &str) -> Option<Self> {
        if hex.len() != 64 {
            return None;
        }
        let mut key = Zeroizing::new([0u8; 32]);
        for (i, b) in key.iter_mut().enumerate() {
            *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(FingerprintKey {
            key: Arc::new(key),
            from_vault: true,
        })
    }

    /// The key of `vault`'s prefix: read, or created (check-and-set 0, then read back, so a
    /// concurrent run's key wins for both) when `create` is true and it is absent. Any failure
    /// (unreachable within `deadline`, a 403, a malformed key) gives a per-run key.
    pub async fn of(vault: &VaultProvider, create: bool, deadline: Duration) -> Self {
        let path = key_path(vault);
        let client = vault.client();
        let read = || async {
            let secret = client.read(&path, None).await.ok()?;
            Some(
                secret
                    .and_then(|s| s.data)
                    .and_then(|d| {
                        d.expose_secret()
                            .get("key")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    })
                    .map(Zeroizing::new),
            )
        };
        let attempt = async {
            match read().await {
                Some(Some(hex)) => return FingerprintKey::from_hex(&hex),
                Some(None) if create => {}
                _ => return None,
            }
            let fresh = FingerprintKey::per_run();
            let hex: Zeroizing<String> =
                Zeroizing::new(fresh.key.iter().map(|b| format!("{b:02x}")).collect());
            let mut data = Map::new();
            data.insert("key".into(), Value::String(hex.to_string()));
            // A lost race (cas 0 refused) is fine: the read below gets the winner's key.
            let _ = client
                .write(&path, &SecretData::from_object(data), Some(0))
                .await;
            match read().await {
                Some(Some(hex)) => FingerprintKey::from_hex(&hex),
                _ => None,
            }
        };
        match tokio::time::timeout(deadline, attempt).await {
            Ok(Some(key)) => key,
            _ => {
                tracing::warn!(
                    path = %path,
                    "the migration fingerprint key cannot be read from Vault: fingerprints of this run compare only within it"
                );
                FingerprintKey::per_run()
            }
        }
    }

    /// The key of `vault`'s prefix when Vault holds one and this token may read it, within
    /// `deadline`; never created, never a warning (for comparisons outside `migrate`).
    pub async fn existing(vault: &VaultProvider, deadline: Duration) -> Option<Self> {
        let path = key_path(vault);
        let read = async {
            let secret = vault.client().read(&path, None).await.ok()??;
            let data = secret.data?;
            let hex = Zeroizing::new(data.expose_secret().get("key")?.as_str()?.to_string());
            FingerprintKey::from_hex(&hex)
        };
        tokio::time::timeout(deadline, read).await.ok().flatten()
    }

    /// HMAC-SHA256 of the canonical JSON of `data` (keys sorted at every depth), first 16 hex
    /// digits.
    pub fn fingerprint(&self, data: &Map<String, Value>) -> String {
        fn canonical(v: &Value) -> Value {
            match v {
                Value::Object(m) => {
                    let sorted: BTreeMap<&String, Value> =
                        m.iter().map(|(k, v)| (k, canonical(v))).collect();
                    Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
                }
                Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
                other => other.clone(),
            }
        }
        let bytes = Zeroizing::new(
            serde_json::to_vec(&canonical(&Value::Object(data.clone()))).unwrap_or_default(),
        );
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key[..])
            .expect("HMAC takes a key of any length");
        mac.update(&bytes);
        let digest = mac.finalize().into_bytes();
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn keyed_stable_and_canonical() {
        let k = FingerprintKey::per_run();
        let a = k.fingerprint(&data(json!({"password": "hunter2", "user": "x"})));
        assert_eq!(
            a,
            k.fingerprint(&data(json!({"user": "x", "password": "hunter2"})))
        );
        assert_eq!(a.len(), 16);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        // Another key (another install): another fingerprint of the same value.
        let other = FingerprintKey::per_run();
        assert_ne!(
            a,
            other.fingerprint(&data(json!({"password": "hunter2", "user": "x"})))
        );
        // The unkeyed SHA-256 of the value (what a guesser can compute) is not it.
        use sha2::Digest;
        let unkeyed: String = Sha256::digest(br#"{"password":"hunter2","user":"x"}"#)[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_ne!(a, unkeyed);
        let hex: String = k.key.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!format!("{k:?}").contains(&hex[..8]));
    }

    #[test]
    fn hex_round_trip() {
        let k = FingerprintKey::per_run();
        let hex: String = k.key.iter().map(|b| format!("{b:02x}")).collect();
        let back = FingerprintKey::from_hex(&hex).unwrap();
        let d = data(json!({"k": "v"}));
        assert_eq!(k.fingerprint(&d), back.fingerprint(&d));
        assert!(FingerprintKey::from_hex("zz").is_none());
        assert!(FingerprintKey::from_hex(&"g".repeat(64)).is_none());
    }
}
