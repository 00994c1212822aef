//! `VaultClient`: one address, token, namespace and KV mount. KV calls go to the v1 or v2 engine
//! module depending on the mount's version, detected once and cached (a denied detection is a
//! guess for that call only). The facade owns the token
//! [`Session`] and starts its [renewal loop](crate::renewal) once a token is held.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use reqwest::Method;
use serde_json::Value;
use tokio::task::JoinHandle;

use crate::config::{ClientConfig, KvVersion};
use crate::engines::kv1;
use crate::engines::kv2::{
    self, KeyMetadata, KvSecret, MetadataSettings, Subkeys, VersionMetadata,
};
use crate::engines::sys::{self, Health, SealStatus};
use crate::engines::token::{self, TokenInfo};
use crate::error::{ErrorCode, Result, VaultError};
use crate::http::RequestBody;
use crate::path::ApiPath;
use crate::renewal;
use crate::secret::SecretData;
use crate::session::{Session, TokenListener};

/// A Vault client: KV v2 and v1 behind the same methods, `sys/health`, `sys/seal-status`, the
/// token's own endpoints and raw requests. Share it behind an `Arc`; every method takes `&self`.
pub struct VaultClient {
    session: Arc<Session>,
    config: ClientConfig,
    /// The mount's KV version once known (configured, or detected). A denied detection is not
    /// recorded: it is a guess, and the next call asks again.
    kv_version: tokio::sync::Mutex<Option<KvVersion>>,
    /// Detections that ended in a denial, so calls that waited for one use its guess rather
    /// than each asking again.
    kv_denials: AtomicU64,
    /// The renewal loop, once started; it holds the session weakly.
    renewal: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for VaultClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // ClientConfig's Debug shows the token as SecretBox([REDACTED]).
        f.debug_struct("VaultClient")
            .field("config", &self.config)
            .finish()
    }
}

impl VaultClient {
    /// A client for `config`. Reads every TLS and login file now: a bad one is `INVALID_CONFIG`
    /// before any request. Sends nothing until the first call.
    pub fn new(config: ClientConfig) -> Result<Self> {
        let session = Arc::new(Session::new(&config)?);
        Ok(VaultClient {
            session,
            kv_version: tokio::sync::Mutex::new(config.kv_version),
            kv_denials: AtomicU64::new(0),
            config,
            renewal: Mutex::new(None),
        })
    }

    /// The token session, for calling [`crate::engines`] functions directly. Such calls do not
    /// start background renewal; the client's own methods do.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Runs one operation, starting the renewal loop once a token is held (before the operation
    /// for a fixed token, after it for one a login got).
    async fn run<T>(&self, operation: impl Future<Output = Result<T>>) -> Result<T> {
        self.start_renewal();
        let out = operation.await;
        self.start_renewal();
        out
    }

    /// Starts the renewal loop once, from inside the runtime, when renewal is on and a token is
    /// held.
    fn start_renewal(&self) {
        if !self.config.renew || self.session.is_closed() || !self.session.holds_token() {
            return;
        }
        let mut slot = self.renewal.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_some() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            *slot = Some(runtime.spawn(renewal::run(Arc::downgrade(&self.session))));
        }
    }

    /// The configuration the client was built from.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The KV mount paths are relative to.
    pub fn mount(&self) -> &str {
        &self.config.mount
    }

    /// The mount's KV version: the configured one, or detected with one request and cached.
    /// Concurrent first calls share that one request. When detection is denied (403: the token
    /// has no capability under the mount yet, or the mount does not exist), this call assumes
    /// KV v2, what `secret/` is everywhere, and the data call answers for itself; the guess is
    /// not cached, so the next call detects again (after a policy change, say).
    pub async fn kv_version(&self) -> Result<KvVersion> {
        let denials_before = self.kv_denials.load(Ordering::SeqCst);
        let mut known = self.kv_version.lock().await;
        if let Some(v) = *known {
            return Ok(v);
        }
        if self.kv_denials.load(Ordering::SeqCst) != denials_before {
            // A detection finished while this call waited, and was denied: share its guess.
            return Ok(KvVersion::V2);
        }
        match self
            .run(sys::kv_mount(&self.session, &self.config.mount))
            .await
        {
            Ok(m) => {
                *known = Some(m.version);
                Ok(m.version)
            }
            Err(e) if e.code == ErrorCode::PermissionDenied => {
                self.kv_denials.fetch_add(1, Ordering::SeqCst);
                tracing::warn!(mount = %self.config.mount, "KV version detection denied; assuming KV v2 for this call (configure the KV version to skip detection)");
                Ok(KvVersion::V2)
            }
            Err(e) => Err(e),
        }
    }

    async fn require_v2(&self, operation: &str) -> Result<()> {
        match self.kv_version().await? {
            KvVersion::V2 => Ok(()),
            KvVersion::V1 => Err(VaultError::new(
                ErrorCode::UnsupportedOperation,
                format!(
                    "{operation} needs a KV v2 mount; mount \"{}\" is KV v1",
                    self.config.mount
                ),
            )),
        }
    }

    /// Reads a secret; `None` when it does not exist. `version` is KV v2 only.
    pub async fn read(&self, path: &str, version: Option<u64>) -> Result<Option<KvSecret>> {
        let path = ApiPath::parse(path)?;
        match self.kv_version().await? {
            KvVersion::V2 => {
                self.run(kv2::read(&self.session, &self.config.mount, &path, version))
                    .await
            }
            KvVersion::V1 => {
                if version.is_some() {
                    return Err(self.v1_refuses("reading a version"));
                }
                let data = self
                    .run(kv1::read(&self.session, &self.config.mount, &path))
                    .await?;
                Ok(data.map(|d| KvSecret {
                    data: Some(d),
                    metadata: None,
                    request_id: None,
                }))
            }
        }
    }

    fn v1_refuses(&self, what: &str) -> VaultError {
        VaultError::new(
            ErrorCode::UnsupportedOperation,
            format!(
                "{what} needs a KV v2 mount; mount \"{}\" is KV v1",
                self.config.mount
            ),
        )
    }

    /// Writes a secret. On KV v2 returns the new version's metadata; `cas` is KV v2 only.
    pub async fn write(
        &self,
        path: &str,
        data: &SecretData,
        cas: Option<u64>,
    ) -> Result<Option<VersionMetadata>> {
        let path = ApiPath::parse(path)?;
        match self.kv_version().await? {
            KvVersion::V2 => self
                .run(kv2::write(
                    &self.session,
                    &self.config.mount,
                    &path,
                    data,
                    cas,
                ))
                .await
                .map(Some),
            KvVersion::V1 => {
                if cas.is_some() {
                    return Err(self.v1_refuses("check-and-set (cas)"));
                }
                self.run(kv1::write(&self.session, &self.config.mount, &path, data))
                    .await
                    .map(|()| None)
            }
        }
    }

    /// Merge-patches a KV v2 secret (falls back to read + write with cas on 405).
    pub async fn patch(
        &self,
        path: &str,
        data: &SecretData,
        cas: Option<u64>,
    ) -> Result<VersionMetadata> {
        let path = ApiPath::parse(path)?;
        self.require_v2("patching").await?;
        self.run(kv2::patch(
            &self.session,
            &self.config.mount,
            &path,
            data,
            cas,
        ))
        .await
    }

    /// Keys under a folder; `[]` when there are none.
    pub async fn list(&self, path: &str) -> Result<Vec<String>> {
        let path = ApiPath::parse_dir(path)?;
        match self.kv_version().await? {
            KvVersion::V2 => {
                self.run(kv2::list(&self.session, &self.config.mount, &path))
                    .await
            }
            KvVersion::V1 => {
                self.run(kv1::list(&self.session, &self.config.mount, &path))
                    .await
            }
        }
    }

    /// Deletes a secret (KV v2: soft-deletes the latest version). Missing is not an error.
    pub async fn delete(&self, path: &str) -> Result<()> {
        let path = ApiPath::parse(path)?;
        match self.kv_version().await? {
            KvVersion::V2 => {
                self.run(kv2::delete_latest(&self.session, &self.config.mount, &path))
                    .await
            }
            KvVersion::V1 => {
                self.run(kv1::delete(&self.session, &self.config.mount, &path))
                    .await
            }
        }
    }

    /// Soft-deletes the given versions of a KV v2 secret (`POST /v1/{mount}/delete/{path}`).
    pub async fn delete_versions(&self, path: &str, versions: &[u64]) -> Result<()> {
        let path = ApiPath::parse(path)?;
        self.require_v2("deleting versions").await?;
        self.run(kv2::delete_versions(
            &self.session,
            &self.config.mount,
            &path,
            versions,
        ))
        .await
    }

    /// Restores soft-deleted versions of a KV v2 secret (`POST /v1/{mount}/undelete/{path}`).
    pub async fn undelete(&self, path: &str, versions: &[u64]) -> Result<()> {
        let path = ApiPath::parse(path)?;
        self.require_v2("undeleting").await?;
        self.run(kv2::undelete(
            &self.session,
            &self.config.mount,
            &path,
            versions,
        ))
        .await
    }

    /// Removes the data of the given versions for good (`POST /v1/{mount}/destroy/{path}`).
    pub async fn destroy(&self, path: &str, versions: &[u64]) -> Result<()> {
        let path = ApiPath::parse(path)?;
        self.require_v2("destroying").await?;
        self.run(kv2::destroy(
            &self.session,
            &self.config.mount,
            &path,
            versions,
        ))
        .await
    }

    /// A KV v2 key's metadata and versions; `None` when the key does not exist.
    pub async fn read_metadata(&self, path: &str) -> Result<Option<KeyMetadata>> {
        let path = ApiPath::parse(path)?;
        self.require_v2("reading metadata").await?;
        self.run(kv2::read_metadata(&self.session, &self.config.mount, &path))
            .await
    }

    /// Sets a KV v2 key's metadata fields, creating the metadata when absent.
    pub async fn write_metadata(&self, path: &str, settings: &MetadataSettings) -> Result<()> {
        let path = ApiPath::parse(path)?;
        self.require_v2("writing metadata").await?;
        self.run(kv2::write_metadata(
            &self.session,
            &self.config.mount,
            &path,
            settings,
        ))
        .await
    }

    /// Merge-patches a KV v2 key's metadata fields; the key must exist.
    pub async fn patch_metadata(&self, path: &str, settings: &MetadataSettings) -> Result<()> {
        let path = ApiPath::parse(path)?;
        self.require_v2("patching metadata").await?;
        self.run(kv2::patch_metadata(
            &self.session,
            &self.config.mount,
            &path,
            settings,
        ))
        .await
    }

    /// Deletes a KV v2 key and every version. A missing key is not an error.
    pub async fn delete_metadata(&self, path: &str) -> Result<()> {
        let path = ApiPath::parse(path)?;
        self.require_v2("deleting metadata").await?;
        self.run(kv2::delete_metadata(
            &self.session,
            &self.config.mount,
            &path,
        ))
        .await
    }

    /// The structure of a KV v2 secret without its values, at `version` (default the newest)
    /// down to `depth` (0: no limit). `None` when the key does not exist.
    pub async fn subkeys(
        &self,
        path: &str,
        version: Option<u64>,
        depth: Option<u64>,
    ) -> Result<Option<Subkeys>> {
        let path = ApiPath::parse(path)?;
        self.require_v2("reading subkeys").await?;
        self.run(kv2::subkeys(
            &self.session,
            &self.config.mount,
            &path,
            version,
            depth,
        ))
        .await
    }

    /// The node's health (`GET /v1/sys/health`); every node state is an answer, not an error.
    pub async fn health(&self) -> Result<Health> {
        self.run(sys::health(&self.session)).await
    }

    /// `GET /v1/sys/health` on every configured node (`addr`, then `addrs`) at once, each sent
    /// once with no token and no retry: each node's address (ending in `/`) and its health, or
    /// why it did not answer (`NETWORK`, `TLS_ERROR`, `TIMEOUT`, ...).
    pub async fn health_of_every_node(&self) -> Vec<(url::Url, Result<Health>)> {
        sys::health_of_every_node(&self.session).await
    }

    /// Whether Vault is there and able to serve, for a circuit breaker's probe: see
    /// [`sys::probe`] (`GET /v1/sys/health?standbyok=true&perfstandbyok=true`, once, no token).
    pub async fn probe(&self) -> Result<()> {
        sys::probe(&self.session).await
    }

    /// `NETWORK` or `TLS_ERROR` when the newest attempt of any request got no answer (`SEALED`
    /// when it got a 503 "Vault is sealed"), at or after `since`, and nothing else answered after it (see
    /// [`crate::http::HttpClient::connection_failure_since`]).
    pub fn connection_failure_since(&self, since: std::time::Instant) -> Option<ErrorCode> {
        self.session.http().connection_failure_since(since)
    }

    /// True when Vault answers and serves requests; false on any failure (never an error).
    pub async fn health_check(&self) -> bool {
        self.health().await.map(|h| h.is_healthy()).unwrap_or(false)
    }

    /// The seal's state (`GET /v1/sys/seal-status`).
    pub async fn seal_status(&self) -> Result<SealStatus> {
        self.run(sys::seal_status(&self.session)).await
    }

    /// Renews the client's token now by its original TTL (one hour when Vault does not say);
    /// returns the new TTL in seconds.
    pub async fn renew_self(&self) -> Result<u64> {
        if !self.session.has_token() {
            return Err(VaultError::invalid_config(
                "renew-self needs a token; none is configured",
            ));
        }
        self.run(async {
            let ttl = renewal::current_ttl(&self.session).await?;
            let increment = ttl
                .map(|t| t.increment)
                .unwrap_or(std::time::Duration::from_secs(3600));
            Ok(renewal::renew(&self.session, increment).await?.as_secs())
        })
        .await
    }

    /// Subscribes to token events (renewed, reauthenticated, renewal_failed, expired).
    pub fn on_token_event(&self, listener: TokenListener) {
        self.session.subscribe(listener);
    }

    /// Stops background renewal and drops event subscribers. Requests still work afterwards.
    pub fn close(&self) {
        self.session.close();
        if let Some(task) = self
            .renewal
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            task.abort();
        }
    }

    /// What Vault knows of the client's token (`GET /v1/auth/token/lookup-self`), without the
    /// token itself.
    pub async fn lookup_self(&self) -> Result<TokenInfo> {
        if !self.session.has_token() {
            return Err(VaultError::invalid_config(
                "lookup-self needs a token; none is configured",
            ));
        }
        self.run(token::lookup_self(&self.session)).await
    }

    /// Any other endpoint: `method` on `/v1/<path>` with an optional JSON body (`LIST` is sent
    /// as `GET ?list=true`). Returns Vault's whole answer (`None` for 204). The caller asked for
    /// the raw answer, secrets included.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<SecretData>,
    ) -> Result<Option<SecretData>> {
        let method = parse_method(method)?;
        let (path_part, query) = split_query(path);
        let query: Vec<(&str, String)> =
            query.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        let (method, query) = list_as_get(method, query);
        let api = ApiPath::parse(path_part)?;
        let body = match &body {
            Some(b) => Some(RequestBody::json(b.expose_secret())?),
            None => None,
        };
        let body = if method == Method::PATCH {
            body.map(RequestBody::merge_patch)
        } else {
            body
        };
        let resp = self
            .run(self.session.send(method, &api.encoded(), &query, body))
            .await?
            .success()?;
        if resp.is_empty() {
            return Ok(None);
        }
        let value: Value = resp.json()?;
        SecretData::try_from_value(value, "Vault's answer")
            .map(Some)
            .map_err(|e| VaultError::bad_response(e.message).with_path(resp.path.clone()))
    }
}

fn parse_method(method: &str) -> Result<Method> {
    let upper = method.trim().to_ascii_uppercase();
    match upper.as_str() {
        "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "LIST" | "HEAD" => {
            Method::from_bytes(upper.as_bytes())
                .map_err(|_| VaultError::invalid_argument("bad method"))
        }
        _ => Err(VaultError::invalid_argument(
            "method must be one of GET, POST, PUT, PATCH, DELETE, LIST",
        )),
    }
}

/// `LIST` goes out as `GET ?list=true`, which Vault treats the same, because reverse proxies and
/// load balancers answer unknown verbs with 400. Other methods pass unchanged.
fn list_as_get(method: Method, mut query: Vec<(&str, String)>) -> (Method, Vec<(&str, String)>) {
    if method.as_str() != "LIST" {
        return (method, query);
    }
    query.retain(|(k, _)| *k != "list");
    query.extend(kv2::list_query());
    (Method::GET, query)
}

/// `"sys/mounts?list=true"` into the path (without a leading `/v1/`) and decoded query pairs.
fn split_query(path: &str) -> (&str, Vec<(String, String)>) {
    let (p, q) = path.split_once('?').unwrap_or((path, ""));
    let p = p.strip_prefix('/').unwrap_or(p);
    let p = p.strip_prefix("v1/").unwrap_or(p);
    let pairs = url::form_urlencoded::parse(q.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    (p, pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_sent_as_get_with_list_true() {
        let (m, q) = list_as_get(parse_method("list").unwrap(), vec![("list", "1".into())]);
        assert_eq!(m, Method::GET);
        assert_eq!(q, vec![("list", "true".to_string())]);
        let (m, q) = list_as_get(Method::GET, vec![("version", "2".into())]);
        assert_eq!(m, Method::GET);
        assert_eq!(q, vec![("version", "2".to_string())]);
        assert_eq!(list_as_get(Method::POST, vec![]).0, Method::POST);
    }
}
