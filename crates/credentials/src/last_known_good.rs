//! The encrypted last-known-good file: every secret read from Vault, kept on disk so that a
//! process started while Vault is unreachable (a gateway restart during an outage) can still
//! answer, marked stale, for at most a configured age. Opt-in (`credentials.lastKnownGood`).
//!
//! Invariants:
//! - The file is one AEAD message (XChaCha20-Poly1305): a 48-byte header (magic `OCVLKG`, format
//!   version, key source, 16-byte salt, 24-byte nonce) and the ciphertext of a JSON object of
//!   entries. The header and the file's configured path are the associated data, so a file that
//!   was altered, truncated, moved or had its header edited does not decrypt.
//! - The key is never stored: it is derived with HKDF-SHA256 (the header's salt) from Vault auth
//!   material the process needs anyway ([`KeySource::Auth`]: an AppRole secret id, a userpass
//!   password, the token file's content, else the fixed token). Whoever copies the file without
//!   that material holds noise.
//! - Written 0600, atomically (temporary file, fsync, rename, fsync of the directory), under a
//!   private `flock` so processes sharing the file do not lose each other's entries.
//! - Served only by callers that got no answer from Vault (network, timeout, sealed, 5xx, 429,
//!   breaker open), never for a denial or a not-found; never older than `maxAgeMs`; never an
//!   entry stamped in the future beyond [`CLOCK_SKEW_ALLOWANCE`].
//! - Values live in `SecretData` / `Zeroizing` buffers; errors name the file, never a value.

use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use chacha20poly1305::aead::rand_core::RngCore;
use chacha20poly1305::aead::{Aead, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::credential::CredentialVersion;
use crate::error::{Error, ErrorCode, Result};
use crate::local_file::{self, PrivateLock};
use vault_client::config::ClientConfig;
use vault_client::secret::{SecretData, ZeroizingJson};

/// The file name under OpenClaw's state directory when `lastKnownGood.path` is not set.
pub const DEFAULT_FILE_NAME: &str = "vault-last-known-good.bin";
/// `lastKnownGood.maxAgeMs` when not set: 24 hours. Long enough to ride out a night's outage,
/// short enough that a revoked secret does not live on for days.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(24 * 3600);
/// An entry stamped this far in the future (the clock was set back, or the file came from a
/// machine whose clock runs ahead) is refused rather than served with a negative age.
pub const CLOCK_SKEW_ALLOWANCE: Duration = Duration::from_secs(60);
/// The largest file read (a KV secret is small; 16 MiB is thousands of them).
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// How long a writer waits for another process holding the file's lock.
const LOCK_WAIT: Duration = Duration::from_secs(2);

const MAGIC: &[u8; 6] = b"OCVLKG";
const FORMAT_VERSION: u8 = 1;
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const HEADER_LEN: usize = MAGIC.len() + 2 + SALT_LEN + NONCE_LEN;
const TAG_LEN: usize = 16;
const HKDF_INFO: &[u8] = b"openclaw-vault last-known-good v1";

/// Where the file's key comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// Derived (HKDF-SHA256) from the Vault auth material: the login method's stable secret
    /// (AppRole secret id, userpass password, token file content), else the fixed token
    /// (`VAULT_TOKEN`). Rotating that material makes older files unreadable (refused with
    /// `INVALID_SOURCE`, replaced at the next successful read).
    Auth,
}

impl KeySource {
    /// The config spelling (`"auth"`).
    pub fn as_str(self) -> &'static str {
        match self {
            KeySource::Auth => "auth",
        }
    }

    /// Parses the config spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "auth" => Some(KeySource::Auth),
            _ => None,
        }
    }

    fn byte(self) -> u8 {
        match self {
            KeySource::Auth => 1,
        }
    }
}

/// `credentials.lastKnownGood` when `enabled` is true.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastKnownGoodSettings {
    /// The file (`path`; default `<stateDir>/vault-last-known-good.bin`).
    pub path: PathBuf,
    /// The oldest value served (`maxAgeMs`; default [`DEFAULT_MAX_AGE`]), counted from the
    /// successful Vault read that stored it.
    pub max_age: Duration,
    /// `key` (default `"auth"`).
    pub key: KeySource,
}

/// One value served from the file.
pub struct Served {
    /// The secret's data as Vault returned it.
    pub data: SecretData,
    /// Its KV v2 version when the reader knew it.
    pub version: Option<u64>,
    /// When it was read from Vault, epoch milliseconds.
    pub fetched_at_ms: i64,
    /// How old it is now (0 when stamped slightly in the future).
    pub age: Duration,
}

impl std::fmt::Debug for Served {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Served")
            .field("version", &self.version)
            .field("fetched_at_ms", &self.fetched_at_ms)
            .field("age", &self.age)
            .finish_non_exhaustive()
    }
}

/// The last-known-good file of one Vault (address, namespace, mount), with its key material.
pub struct LastKnownGood {
    settings: LastKnownGoodSettings,
    /// `addr|namespace|mount|`: entries of another Vault in a shared file are not this one's.
    scope: String,
    /// The auth material the key is derived from, read when needed (a token file may change).
    material: Box<dyn Fn() -> Result<SecretString> + Send + Sync>,
    written: Mutex<Written>,
}

/// What this process last wrote, so an unchanged value read again within
/// [`LastKnownGood::rewrite_after`] costs no write.
#[derive(Default)]
struct Written {
    /// Per entry key: a digest of the value and version written, and when (epoch ms).
    entries: HashMap<String, ([u8; 32], i64)>,
    /// The file's identity and change stamps after the last write: when they differ (another
    /// writer, a deleted or damaged file), nothing is skipped.
    file: Option<CredentialVersion>,
}

impl std::fmt::Debug for LastKnownGood {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LastKnownGood")
            .field("settings", &self.settings)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// Warns once per process and file when the file is readable or writable by others than its
/// owner, or not owned by this user (it is encrypted, so nothing leaks; but another user may have
/// replaced it). The next write makes it 0600 again.
fn warn_if_exposed(path: &Path, file: &fs::File) {
    use std::os::unix::fs::MetadataExt;
    static WARNED: Mutex<Option<std::collections::HashSet<PathBuf>>> = Mutex::new(None);
    let Ok(meta) = file.metadata() else {
        return;
    };
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    let why = if meta.uid() != uid {
        format!("is owned by uid {}, not this user (uid {uid})", meta.uid())
    } else if meta.mode() & 0o077 != 0 {
        format!("has mode {:o}, not 600", meta.mode() & 0o777)
    } else {
        return;
    };
    let mut warned = WARNED.lock().unwrap_or_else(|e| e.into_inner());
    if warned
        .get_or_insert_with(Default::default)
        .insert(path.to_path_buf())
    {
        tracing::warn!(
            "last-known-good file {} {why}; it is used (it is encrypted), and the next write makes it 0600",
            path.display()
        );
    }
}

fn file_error(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorCode::InvalidSource,
        format!("last-known-good file {}: {what}", path.display()),
    )
}

impl LastKnownGood {
    /// The file for the Vault `client` describes, keyed from its auth material.
    ///
    /// `INVALID_CONFIG` when the client has no auth material a key can be derived from (a JWT or
    /// Kubernetes login, whose tokens rotate on their own, or a certificate login, without a
    /// fixed token); the material itself is read at each use.
    pub fn new(settings: LastKnownGoodSettings, client: &ClientConfig) -> Result<Self> {
        let scope = format!(
            "{}|{}|{}|",
            client.addr.as_str().trim_end_matches('/'),
            client.namespace.as_deref().unwrap_or(""),
            client.mount.trim_matches('/')
        );
        let material: Box<dyn Fn() -> Result<SecretString> + Send + Sync> = match settings.key {
            KeySource::Auth => {
                let login = client.login.clone();
                let token = client.token.clone();
                let usable = match &login {
                    Some(l) => l.stable_secret().is_some() || token.is_some(),
                    None => token.is_some(),
                };
                if !usable {
                    return Err(Error::invalid_config(format!(
                        "credentials.lastKnownGood.key \"auth\" needs a stable Vault secret to derive the key from (a token, a token file, an AppRole secret id or a userpass password); the {} login has none",
                        login.as_ref().map(|l| l.name()).unwrap_or("token")
                    )));
                }
                Box::new(move || {
                    if let Some(secret) = login.as_ref().and_then(|l| l.stable_secret()) {
                        return secret.map_err(Error::from);
                    }
                    token
                        .clone()
                        .ok_or_else(|| Error::invalid_config("no Vault token to derive the key"))
                })
            }
        };
        Ok(LastKnownGood {
            settings,
            scope,
            material,
            written: Mutex::new(Written::default()),
        })
    }

    /// The settings it was built with.
    pub fn settings(&self) -> &LastKnownGoodSettings {
        &self.settings
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.settings.path
    }

    /// An unchanged value is rewritten (to renew its stamp) once this much time has passed:
    /// a tenth of the maximum age, at most a minute.
    fn rewrite_after(&self) -> Duration {
        (self.settings.max_age / 10).min(Duration::from_secs(60))
    }

    fn entry_key(&self, vault_path: &str) -> String {
        format!("{}{}", self.scope, vault_path.trim_matches('/'))
    }

    fn cipher(&self, salt: &[u8]) -> Result<XChaCha20Poly1305> {
        let material = (self.material)()?;
        let hk = Hkdf::<Sha256>::new(Some(salt), material.expose_secret().as_bytes());
        let mut key = Zeroizing::new([0u8; 32]);
        hk.expand(HKDF_INFO, key.as_mut())
            .map_err(|_| Error::invalid_config("HKDF output length"))?;
        Ok(XChaCha20Poly1305::new(key.as_ref().into()))
    }

    fn associated_data(&self, header: &[u8]) -> Vec<u8> {
        let mut aad = header.to_vec();
        aad.extend_from_slice(self.settings.path.as_os_str().as_bytes());
        aad
    }

    /// The decrypted entries, or `None` when the file does not exist. `INVALID_SOURCE` naming
    /// the file when it is truncated, not this format, from a newer version, keyed otherwise, or
    /// does not decrypt (wrong key, altered, moved).
    fn load(&self) -> Result<Option<ZeroizingJson>> {
        let path = &self.settings.path;
        let mut file = match fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            // O_NOFOLLOW on a symlink: ELOOP, which the OS words as a symlink loop.
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(file_error(path, "is a symbolic link; refusing it"))
            }
            Err(e) => return Err(file_error(path, format!("cannot be read ({})", e.kind()))),
        };
        warn_if_exposed(path, &file);
        let mut bytes = Vec::new();
        (&mut file)
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| file_error(path, format!("cannot be read ({})", e.kind())))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(file_error(
                path,
                format!("is larger than {MAX_FILE_BYTES} bytes; refusing it"),
            ));
        }
        if bytes.len() < HEADER_LEN + TAG_LEN {
            return Err(file_error(
                path,
                format!(
                    "is truncated ({} bytes; a valid file has at least {}); refusing it",
                    bytes.len(),
                    HEADER_LEN + TAG_LEN
                ),
            ));
        }
        let (header, ciphertext) = bytes.split_at(HEADER_LEN);
        if &header[..MAGIC.len()] != MAGIC {
            return Err(file_error(
                path,
                "is not a last-known-good file of @openclaw/vault (bad magic); refusing it",
            ));
        }
        let version = header[MAGIC.len()];
        if version != FORMAT_VERSION {
            return Err(file_error(
                path,
                format!("has format version {version}; this version reads {FORMAT_VERSION} (written by a newer @openclaw/vault?); refusing it"),
            ));
        }
        if header[MAGIC.len() + 1] != self.settings.key.byte() {
            return Err(file_error(
                path,
                format!(
                    "was encrypted with another key source than the configured \"{}\"; refusing it",
                    self.settings.key.as_str()
                ),
            ));
        }
        let salt = &header[MAGIC.len() + 2..MAGIC.len() + 2 + SALT_LEN];
        let nonce = XNonce::from_slice(&header[MAGIC.len() + 2 + SALT_LEN..]);
        let aad = self.associated_data(header);
        let plain = self
            .cipher(salt)?
            .decrypt(
                nonce,
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| {
                file_error(
                    path,
                    "cannot be decrypted: the key is wrong (the Vault auth material it is derived from changed: a rotated token or secret id) or the file was altered, truncated or copied from elsewhere; refusing it (it is replaced at the next successful Vault read)",
                )
            })?;
        let value: Value = serde_json::from_slice(&plain)
            .map_err(|_| file_error(path, "decrypted but does not hold JSON; refusing it"))?;
        if !value.get("entries").is_some_and(Value::is_object) {
            return Err(file_error(
                path,
                "decrypted but has no \"entries\" object; refusing it",
            ));
        }
        Ok(Some(ZeroizingJson(value)))
    }

    fn seal(&self, doc: &ZeroizingJson) -> Result<Vec<u8>> {
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.push(FORMAT_VERSION);
        header.push(self.settings.key.byte());
        let mut salt = [0u8; SALT_LEN];
        OsRng.fill_bytes(&mut salt);
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        header.extend_from_slice(&salt);
        header.extend_from_slice(&nonce);
        let plain = Zeroizing::new(serde_json::to_vec(&doc.0).unwrap_or_default());
        let aad = self.associated_data(&header);
        let ciphertext = self
            .cipher(&salt)?
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: &aad,
                },
            )
            .map_err(|_| file_error(&self.settings.path, "encryption failed"))?;
        header.extend_from_slice(&ciphertext);
        Ok(header)
    }

    /// Stores what Vault answered for each `(path, data, version)` (paths relative to the KV
    /// mount), stamped now. Blocking (file I/O, fsync): call from `spawn_blocking`.
    pub fn record(&self, items: &[(&str, &SecretData, Option<u64>)]) -> Result<()> {
        self.record_at(items, crate::time::now_ms())
    }

    /// [`Self::record`] with an explicit clock (epoch milliseconds), for tests of skew and age.
    pub fn record_at(&self, items: &[(&str, &SecretData, Option<u64>)], now_ms: i64) -> Result<()> {
        let digests: Vec<(String, [u8; 32])> = items
            .iter()
            .map(|(path, data, version)| {
                let mut h = Sha256::new();
                h.update(serde_json::to_vec(data.expose_secret()).unwrap_or_default());
                h.update(version.unwrap_or(u64::MAX).to_le_bytes());
                (self.entry_key(path), h.finalize().into())
            })
            .collect();
        let fresh = self.rewrite_after().as_millis() as i64;
        {
            let written = self.written.lock().unwrap_or_else(|e| e.into_inner());
            let same_file = written.file.is_some()
                && written.file == local_file::stat_version(&self.settings.path);
            let unchanged = same_file
                && digests.iter().all(|(key, digest)| {
                    written
                        .entries
                        .get(key)
                        .is_some_and(|(d, at)| d == digest && (0..fresh).contains(&(now_ms - at)))
                });
            if unchanged {
                return Ok(());
            }
        }
        let path = &self.settings.path;
        let _lock = PrivateLock::acquire(path, LOCK_WAIT)?;
        let mut doc = match self.load() {
            Ok(Some(doc)) => doc,
            Ok(None) => ZeroizingJson(json!({ "entries": {} })),
            Err(e) => {
                // What cannot be read is of no use to anyone: start over, say so once.
                tracing::warn!(error = %e.message, "replacing the unusable last-known-good file");
                ZeroizingJson(json!({ "entries": {} }))
            }
        };
        let max_age = self.settings.max_age.as_millis() as i64;
        let skew = CLOCK_SKEW_ALLOWANCE.as_millis() as i64;
        if let Some(Value::Object(entries)) = doc.0.get_mut("entries") {
            // Entries past their age or from the future are never served: drop them.
            entries.retain(|_, e| {
                let at = e.get("fetchedAtMs").and_then(Value::as_i64).unwrap_or(0);
                now_ms - at <= max_age && at - now_ms <= skew
            });
            for (path, data, version) in items {
                let mut entry = Map::new();
                entry.insert("data".into(), data.expose_secret().clone());
                entry.insert("fetchedAtMs".into(), json!(now_ms));
                if let Some(v) = version {
                    entry.insert("version".into(), json!(v));
                }
                if let Some(mut old) = entries.insert(self.entry_key(path), Value::Object(entry)) {
                    zeroize::Zeroize::zeroize(&mut ZeroizingJson(std::mem::take(&mut old)));
                }
            }
        }
        let bytes = self.seal(&doc)?;
        local_file::write_atomic(path, &bytes).map_err(|e| file_error(path, e.message))?;
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        for (key, digest) in digests {
            written.entries.insert(key, (digest, now_ms));
        }
        written.file = local_file::stat_version(path);
        Ok(())
    }

    /// Drops the kept values of `vault_paths`: Vault answered that they do not exist or that
    /// this token may not read them, and that answer stands over anything kept. Writes only when
    /// something was dropped. Blocking (file I/O): call from `spawn_blocking`.
    pub fn forget(&self, vault_paths: &[&str]) -> Result<()> {
        if vault_paths.is_empty() || !self.settings.path.exists() {
            return Ok(());
        }
        let path = &self.settings.path;
        let _lock = PrivateLock::acquire(path, LOCK_WAIT)?;
        let Ok(Some(mut doc)) = self.load() else {
            // Nothing readable is kept: nothing to drop (the next write replaces the file).
            return Ok(());
        };
        let mut dropped = false;
        if let Some(Value::Object(entries)) = doc.0.get_mut("entries") {
            for p in vault_paths {
                if let Some(mut old) = entries.remove(&self.entry_key(p)) {
                    zeroize::Zeroize::zeroize(&mut ZeroizingJson(std::mem::take(&mut old)));
                    dropped = true;
                }
            }
        }
        if !dropped {
            return Ok(());
        }
        let bytes = self.seal(&doc)?;
        local_file::write_atomic(path, &bytes).map_err(|e| file_error(path, e.message))?;
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        for p in vault_paths {
            written.entries.remove(&self.entry_key(p));
        }
        written.file = local_file::stat_version(path);
        Ok(())
    }

    /// Whether this process can open the file: `Ok` when it does not exist or decrypts with
    /// this process's key. Errors as [`Self::lookup`] (`INVALID_SOURCE` naming the file and
    /// why: another key, altered, a symlink...). Blocking (file I/O).
    pub fn check(&self) -> Result<()> {
        self.load().map(|_| ())
    }

    /// Drops every kept value of `vault_paths`, the layered ones (`<path>|agent=..|team=..`)
    /// included: Vault says the current version was deleted, destroyed or removed. Returns the
    /// paths that had an entry. Writes only when something was dropped. Blocking (file I/O):
    /// call from `spawn_blocking`.
    ///
    /// Errors: `INVALID_SOURCE` naming the file when it exists and cannot be opened with this
    /// process's key (see [`Self::load`]): the entries may still be there for a process with
    /// the right key (a companion using other Vault auth material than the resolver), so this is
    /// never silent.
    pub fn forget_everywhere(&self, vault_paths: &[&str]) -> Result<Vec<String>> {
        if vault_paths.is_empty() || !self.settings.path.exists() {
            return Ok(Vec::new());
        }
        let path = &self.settings.path;
        let _lock = PrivateLock::acquire(path, LOCK_WAIT)?;
        let Some(mut doc) = self.load()? else {
            return Ok(Vec::new());
        };
        let mut dropped_paths = Vec::new();
        let mut dropped_keys = Vec::new();
        if let Some(Value::Object(entries)) = doc.0.get_mut("entries") {
            for p in vault_paths {
                let key = self.entry_key(p);
                let layered = format!("{key}|");
                let keys: Vec<String> = entries
                    .keys()
                    .filter(|k| **k == key || k.starts_with(&layered))
                    .cloned()
                    .collect();
                if !keys.is_empty() {
                    dropped_paths.push(p.to_string());
                }
                for k in keys {
                    if let Some(mut old) = entries.remove(&k) {
                        zeroize::Zeroize::zeroize(&mut ZeroizingJson(std::mem::take(&mut old)));
                    }
                    dropped_keys.push(k);
                }
            }
        }
        if dropped_keys.is_empty() {
            return Ok(dropped_paths);
        }
        let bytes = self.seal(&doc)?;
        local_file::write_atomic(path, &bytes).map_err(|e| file_error(path, e.message))?;
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        for k in &dropped_keys {
            written.entries.remove(k);
        }
        written.file = local_file::stat_version(path);
        Ok(dropped_paths)
    }

    /// The stored value of `vault_path`, or `None` when the file or the entry does not exist.
    /// Blocking (file I/O): call from `spawn_blocking`.
    ///
    /// Errors: `INVALID_SOURCE` naming the file when it cannot be used (see [`Self::load`]) or
    /// the entry is stamped in the future beyond [`CLOCK_SKEW_ALLOWANCE`];
    /// `LAST_KNOWN_GOOD_EXPIRED` when the entry is older than `maxAgeMs`.
    pub fn lookup(&self, vault_path: &str) -> Result<Option<Served>> {
        self.lookup_at(vault_path, crate::time::now_ms())
    }

    /// [`Self::lookup`] with an explicit clock (epoch milliseconds).
    pub fn lookup_at(&self, vault_path: &str, now_ms: i64) -> Result<Option<Served>> {
        let Some(mut doc) = self.load()? else {
            return Ok(None);
        };
        self.entry_of(&mut doc, vault_path, now_ms)
    }

    /// [`Self::lookup`] of several paths with one read of the file: the outer error is the
    /// file's, each inner result the entry's.
    pub fn lookup_many(&self, vault_paths: &[&str]) -> Result<Vec<Result<Option<Served>>>> {
        let now_ms = crate::time::now_ms();
        let Some(mut doc) = self.load()? else {
            return Ok(vault_paths.iter().map(|_| Ok(None)).collect());
        };
        Ok(vault_paths
            .iter()
            .map(|p| self.entry_of(&mut doc, p, now_ms))
            .collect())
    }

    fn entry_of(
        &self,
        doc: &mut ZeroizingJson,
        vault_path: &str,
        now_ms: i64,
    ) -> Result<Option<Served>> {
        let key = self.entry_key(vault_path);
        let Some(entry) = doc
            .0
            .get_mut("entries")
            .and_then(|e| e.as_object_mut())
            .and_then(|e| e.get_mut(&key))
        else {
            return Ok(None);
        };
        let path = &self.settings.path;
        let trimmed = vault_path.trim_matches('/');
        let at = entry
            .get("fetchedAtMs")
            .and_then(Value::as_i64)
            .ok_or_else(|| {
                file_error(
                    path,
                    format!("the entry of \"{trimmed}\" has no fetchedAtMs; refusing it"),
                )
            })?;
        if at - now_ms > CLOCK_SKEW_ALLOWANCE.as_millis() as i64 {
            return Err(file_error(
                path,
                format!(
                    "the entry of \"{trimmed}\" is stamped {} s in the future (the clock was set back, or the file came from another machine); refusing it",
                    (at - now_ms) / 1000
                ),
            ));
        }
        let age = Duration::from_millis((now_ms - at).max(0) as u64);
        if age > self.settings.max_age {
            return Err(Error::new(
                ErrorCode::LastKnownGoodExpired,
                format!(
                    "the last known good value of \"{trimmed}\" in {} is {} s old, older than lastKnownGood.maxAgeMs ({} ms); not served",
                    path.display(),
                    age.as_secs(),
                    self.settings.max_age.as_millis()
                ),
            ));
        }
        let version = entry.get("version").and_then(Value::as_u64);
        let data = SecretData::try_from_value(entry["data"].take(), "the stored secret").map_err(
            |_| {
                file_error(
                    path,
                    format!("the entry of \"{trimmed}\" holds no object of fields; refusing it"),
                )
            },
        )?;
        Ok(Some(Served {
            data,
            version,
            fetched_at_ms: at,
            age,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    const SECRET: &str = "sk-lkg-FAKE-value-5678";

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ocv-lkg-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn client(token: &str) -> ClientConfig {
        let mut c = ClientConfig::new("http://127.0.0.1:8200").unwrap();
        c.token = Some(SecretString::from(token.to_string()));
        c
    }

    fn store(path: &Path, token: &str, max_age: Duration) -> LastKnownGood {
        LastKnownGood::new(
            LastKnownGoodSettings {
                path: path.to_path_buf(),
                max_age,
                key: KeySource::Auth,
            },
            &client(token),
        )
        .unwrap()
    }

    fn data() -> SecretData {
        SecretData::try_from_value(json!({"apiKey": SECRET}), "t").unwrap()
    }

    fn no_secret_in(e: &Error) {
        assert!(!e.message.contains(SECRET), "{}", e.message);
        assert!(!e.message.contains("hvs.FAKE"), "{}", e.message);
    }

    /// Collects what a `tracing` subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    // Attack 8 finding 5: a file others could read (or owned by someone else) was used silently.
    #[test]
    fn a_file_others_can_read_is_used_with_one_warning() {
        let d = dir("exposed");
        let path = d.join("lkg.bin");
        let s = store(&path, "hvs.FAKE-one", DEFAULT_MAX_AGE);
        s.record(&[("openclaw/credentials/openai", &data(), Some(3))])
            .unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            for _ in 0..3 {
                assert!(s.lookup("openclaw/credentials/openai").unwrap().is_some());
            }
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.matches("has mode 644, not 600").count(), 1, "{text}");
        assert!(text.contains("lkg.bin"), "{text}");
        assert!(
            !text.contains(SECRET) && !text.contains("hvs.FAKE"),
            "{text}"
        );
        fs::remove_dir_all(d).unwrap();
    }

    // Attack 8 finding 6: a symlinked file was refused as "filesystem loop or indirection limit".
    #[test]
    fn a_symlinked_file_is_refused_as_a_symlink() {
        let d = dir("symlink");
        let real = d.join("real.bin");
        store(&real, "hvs.FAKE-one", DEFAULT_MAX_AGE)
            .record(&[("openclaw/credentials/openai", &data(), Some(3))])
            .unwrap();
        let link = d.join("lkg.bin");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let e = store(&link, "hvs.FAKE-one", DEFAULT_MAX_AGE)
            .lookup("openclaw/credentials/openai")
            .unwrap_err();
        assert_eq!(e.code(), "INVALID_SOURCE");
        assert!(
            e.message
                .ends_with("lkg.bin: is a symbolic link; refusing it"),
            "{}",
            e.message
        );
        no_secret_in(&e);
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn round_trip_is_encrypted_0600_and_scoped() {
        let d = dir("round");
        let path = d.join("lkg.bin");
        let s = store(&path, "hvs.FAKE-one", DEFAULT_MAX_AGE);
        s.record(&[("openclaw/credentials/openai", &data(), Some(3))])
            .unwrap();
        let bytes = fs::read(&path).unwrap();
        assert!(bytes.starts_with(MAGIC));
        assert!(!bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()));
        assert!(!bytes.windows(6).any(|w| w == b"apiKey"));
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let served = s.lookup("openclaw/credentials/openai").unwrap().unwrap();
        assert_eq!(served.data.expose_secret()["apiKey"], SECRET);
        assert_eq!(served.version, Some(3));
        assert!(s.lookup("openclaw/credentials/other").unwrap().is_none());
        // Another Vault (address) sharing the file sees nothing of this one's.
        let mut other = client("hvs.FAKE-one");
        other.addr = "http://127.0.0.2:8200".parse().unwrap();
        let o = LastKnownGood::new(s.settings().clone(), &other).unwrap();
        assert!(o.lookup("openclaw/credentials/openai").unwrap().is_none());
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_copy_without_the_key_is_useless() {
        let d = dir("key");
        let path = d.join("lkg.bin");
        store(&path, "hvs.FAKE-one", DEFAULT_MAX_AGE)
            .record(&[("a/b", &data(), None)])
            .unwrap();
        let e = store(&path, "hvs.FAKE-two", DEFAULT_MAX_AGE)
            .lookup("a/b")
            .unwrap_err();
        assert_eq!(e.code(), "INVALID_SOURCE");
        assert!(e.message.contains("cannot be decrypted"), "{}", e.message);
        assert!(e.message.contains(&path.display().to_string()));
        no_secret_in(&e);
        // Moved elsewhere with the right key: the path is bound too.
        let moved = d.join("moved.bin");
        fs::copy(&path, &moved).unwrap();
        let e = store(&moved, "hvs.FAKE-one", DEFAULT_MAX_AGE)
            .lookup("a/b")
            .unwrap_err();
        assert!(e.message.contains("cannot be decrypted"), "{}", e.message);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn tampered_truncated_and_foreign_files_are_refused_naming_the_file() {
        let d = dir("tamper");
        let path = d.join("lkg.bin");
        let s = store(&path, "hvs.FAKE-one", DEFAULT_MAX_AGE);
        s.record(&[("a/b", &data(), None)]).unwrap();
        let good = fs::read(&path).unwrap();
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            (
                "flipped ciphertext byte",
                {
                    let mut b = good.clone();
                    let i = b.len() - 20;
                    b[i] ^= 1;
                    b
                },
                "cannot be decrypted",
            ),
            (
                "flipped salt byte",
                {
                    let mut b = good.clone();
                    b[10] ^= 1;
                    b
                },
                "cannot be decrypted",
            ),
            (
                "truncated",
                good[..good.len() - 1].to_vec(),
                "cannot be decrypted",
            ),
            (
                "truncated to the header",
                good[..30].to_vec(),
                "is truncated",
            ),
            ("empty", Vec::new(), "is truncated"),
            ("not ours", vec![b'{'; 100], "bad magic"),
            (
                "newer format",
                {
                    let mut b = good.clone();
                    b[6] = 9;
                    b
                },
                "format version 9",
            ),
        ];
        for (what, bytes, expect) in cases {
            fs::write(&path, &bytes).unwrap();
            let e = s.lookup("a/b").unwrap_err();
            assert_eq!(e.code(), "INVALID_SOURCE", "{what}");
            assert!(e.message.contains(expect), "{what}: {}", e.message);
            assert!(e.message.contains(&path.display().to_string()), "{what}");
            no_secret_in(&e);
        }
        // A write replaces the unusable file with a good one.
        s.record(&[("a/b", &data(), None)]).unwrap();
        assert!(s.lookup("a/b").unwrap().is_some());
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn max_age_and_clock_skew_fail_closed() {
        let d = dir("age");
        let path = d.join("lkg.bin");
        let s = store(&path, "hvs.FAKE-one", Duration::from_secs(60));
        let now = crate::time::now_ms();
        s.record_at(&[("a/b", &data(), None)], now).unwrap();
        assert!(s.lookup_at("a/b", now + 60_000).unwrap().is_some());
        let e = s.lookup_at("a/b", now + 60_001).unwrap_err();
        assert_eq!(e.code(), "LAST_KNOWN_GOOD_EXPIRED");
        assert!(e.message.contains("maxAgeMs"), "{}", e.message);
        no_secret_in(&e);
        // Stamped ten minutes ahead of this clock: refused, not served as brand new.
        let e = s.lookup_at("a/b", now - 600_000).unwrap_err();
        assert_eq!(e.code(), "INVALID_SOURCE");
        assert!(e.message.contains("in the future"), "{}", e.message);
        // Within the allowance: served, age 0.
        let served = s.lookup_at("a/b", now - 1_000).unwrap().unwrap();
        assert_eq!(served.age, Duration::ZERO);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn writers_keep_each_others_entries_and_unchanged_values_are_not_rewritten() {
        let d = dir("merge");
        let path = d.join("lkg.bin");
        let a = store(&path, "hvs.FAKE-one", DEFAULT_MAX_AGE);
        let b = store(&path, "hvs.FAKE-one", DEFAULT_MAX_AGE);
        a.record(&[("a/one", &data(), None)]).unwrap();
        b.record(&[("a/two", &data(), None)]).unwrap();
        assert!(a.lookup("a/one").unwrap().is_some());
        assert!(a.lookup("a/two").unwrap().is_some());
        // Another writer wrote since `a` did: `a` writes again; then, unchanged, it does not.
        let before = fs::read(&path).unwrap();
        a.record(&[("a/one", &data(), None)]).unwrap();
        let after = fs::read(&path).unwrap();
        assert_ne!(after, before, "the file changed under a: rewritten");
        a.record(&[("a/one", &data(), None)]).unwrap();
        assert_eq!(fs::read(&path).unwrap(), after, "unchanged: no rewrite");
        assert!(b.lookup("a/one").unwrap().is_some());
        // A denial or a not-found drops the kept value; the others stay.
        b.forget(&["a/one", "a/absent"]).unwrap();
        assert!(a.lookup("a/one").unwrap().is_none());
        assert!(a.lookup("a/two").unwrap().is_some());
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_login_without_stable_material_is_a_config_error() {
        let mut c = ClientConfig::new("http://127.0.0.1:8200").unwrap();
        c.token = None;
        let e = LastKnownGood::new(
            LastKnownGoodSettings {
                path: PathBuf::from("/nonexistent/lkg.bin"),
                max_age: DEFAULT_MAX_AGE,
                key: KeySource::Auth,
            },
            &c,
        )
        .unwrap_err();
        assert_eq!(e.code(), "INVALID_CONFIG");
        assert!(e.message.contains("lastKnownGood.key"), "{}", e.message);
    }
}
