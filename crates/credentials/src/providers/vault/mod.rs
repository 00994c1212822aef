//! Credentials in Vault, in the layout of OpenClaw issue 4727: `<prefix>/credentials/<name>` for
//! each credential and `<prefix>/config/<name>` (e.g. `config/encryption`, the master keys), under
//! the client's KV mount. A remote store ([`ProviderKind::RemoteStore`]) that coordinates OAuth
//! refresh across processes with a cas claim in KV ([`refresh_claim`]).

pub mod refresh_claim;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::{
    CredentialProvider, HistoryMatch, KeptCredential, Listing, ProviderKind, RefreshClaim,
    RefreshCoordinator,
};
use crate::credential::{self, Credential, CredentialSource, CredentialVersion, SourceGroup};
use crate::error::{Error, ErrorCode, Result};
use crate::last_known_good::LastKnownGood;
use crate::layers::Layer;
use refresh_claim::KvRefreshClaim;
use vault_client::config::KvVersion;
use vault_client::secret::SecretData;
use vault_client::VaultClient;

/// Reads and writes credentials in Vault through one shared client.
pub struct VaultProvider {
    client: Arc<VaultClient>,
    prefix: String,
    /// Where every successful read is also kept, encrypted, when the user opted in.
    last_known_good: Option<Arc<LastKnownGood>>,
    /// The token's identity entity, looked up once (`""` when it has none or the lookup
    /// was refused); see [`VaultProvider::entity_id`].
    entity_id: tokio::sync::OnceCell<String>,
}

impl VaultProvider {
    /// `prefix` is the folder under the mount (default `openclaw`).
    pub fn new(client: Arc<VaultClient>, prefix: &str) -> Self {
        VaultProvider {
            client,
            prefix: prefix.trim_matches('/').to_string(),
            last_known_good: None,
            entity_id: tokio::sync::OnceCell::new(),
        }
    }

    /// Also keeps every successful read in `file` (see [`crate::last_known_good`]), and answers
    /// [`CredentialProvider::last_known_good`] from it.
    pub fn with_last_known_good(mut self, file: Arc<LastKnownGood>) -> Self {
        self.last_known_good = Some(file);
        self
    }

    /// The last-known-good file, when configured.
    pub fn last_known_good_file(&self) -> Option<&Arc<LastKnownGood>> {
        self.last_known_good.as_ref()
    }

    /// Drops the kept value of `path` from the last-known-good file (Vault said not found or
    /// denied: that answer stands). A failure is logged, never the read's.
    async fn forget_kept(&self, path: &str) {
        let Some(file) = self.last_known_good.clone() else {
            return;
        };
        let path = path.to_string();
        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || file.forget(&[path.as_str()])).await
        {
            tracing::warn!(error = %e.message, "could not drop a value from the last-known-good file");
        }
    }

    /// Builds the credential `name` from the data of its Vault secret at `path`.
    fn credential_of(
        &self,
        name: &str,
        path: &str,
        data: &SecretData,
        version: u64,
        layer: Option<String>,
    ) -> Result<Option<Credential>> {
        let location = self.location(path);
        let serde_json::Value::Object(object) = data.expose_secret() else {
            return Ok(None);
        };
        let parsed = credential::from_fields(object, &format!("Vault secret {location}"))?;
        Ok(Some(parsed.into_credential(
            name,
            CredentialSource {
                provider: "vault",
                group: SourceGroup::Vault,
                location,
                file: None,
                layer,
            },
            CredentialVersion::Vault(version),
        )))
    }

    /// The Vault identity entity of the client's token: `entity_id` of
    /// `GET /v1/auth/token/lookup-self`, asked once per provider (a re-login through the same
    /// AppRole or other auth role keeps its entity) and kept, a refusal or a token without an
    /// entity (a root token) as `None`. For the audit log: Vault's own audit device names the
    /// same entity for every read.
    pub async fn entity_id(&self) -> Option<&str> {
        let id = self
            .entity_id
            .get_or_init(|| async {
                match self.client.lookup_self().await {
                    Ok(info) => info.entity_id,
                    Err(e) => {
                        tracing::debug!(
                            code = e.code(),
                            "lookup-self refused: the audit log names no entity"
                        );
                        String::new()
                    }
                }
            })
            .await;
        (!id.is_empty()).then_some(id.as_str())
    }

    /// The entity id when [`VaultProvider::entity_id`] has already looked it up.
    pub fn known_entity_id(&self) -> Option<&str> {
        self.entity_id
            .get()
            .filter(|id| !id.is_empty())
            .map(String::as_str)
    }

    /// The client it reads and writes through.
    pub fn client(&self) -> &Arc<VaultClient> {
        &self.client
    }

    /// The folder under the mount, without slashes at either end.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The path of `name` relative to the mount: `config/<x>` names go under `<prefix>/config/`,
    /// every other name under `<prefix>/credentials/`. Names may not climb out of the prefix.
    pub fn path_of(&self, name: &str) -> Result<String> {
        self.path_in(name, &Layer::Default)
    }

    /// The credential name whose default-layer path ([`path_of`](Self::path_of)) is `path`
    /// (relative to the mount, as in an exec SecretRef id): `<prefix>/credentials/<name>` is
    /// `<name>`, `<prefix>/config/<x>` is `config/<x>`. `None` for any other path (another
    /// prefix, a team or agent layer).
    pub fn name_of_path(&self, path: &str) -> Option<String> {
        let rest = if self.prefix.is_empty() {
            path
        } else {
            path.strip_prefix(self.prefix.as_str())?.strip_prefix('/')?
        };
        let name = match rest.strip_prefix("credentials/") {
            Some(name) => name.to_string(),
            None => format!("config/{}", rest.strip_prefix("config/")?),
        };
        // Round trip: a name that climbs out of the prefix or has empty parts is no name.
        (self.path_of(&name).ok()? == path).then_some(name)
    }

    /// The credential an exec SecretRef id of this package's provider points at
    /// (`<prefix>/credentials/<profile name>/<field>`), read from Vault
    /// (`GET <mount>/data/<prefix>/credentials/<profile name>`) and named `name`: how a name whose
    /// value `migrate --rewrite-config` moved into Vault still answers. `None` for an id that does
    /// not parse, a path outside this prefix's default layer, or nothing at that path.
    ///
    /// Errors: what [`get`](crate::chain::CredentialProvider::get) returns (`NETWORK`,
    /// `PERMISSION_DENIED`, ...).
    pub async fn get_by_exec_id(&self, ref_id: &str, name: &str) -> Result<Option<Credential>> {
        let Ok(secret_id) = crate::resolve::SecretId::parse(ref_id) else {
            return Ok(None);
        };
        let Some(vault_name) = self.name_of_path(&secret_id.path) else {
            return Ok(None);
        };
        let Some(mut credential) = self.get(&vault_name).await? else {
            return Ok(None);
        };
        credential.name = name.to_string();
        Ok(Some(credential))
    }

    /// The path of `name` in `layer` relative to the mount (see [`crate::layers`]):
    /// `<folder>/credentials/<name>`, or `<folder>/config/<x>` for `config/<x>`, where the
    /// folder is `<prefix>`, `<prefix>/teams/<team>` or `<prefix>/agents/<agentId>`.
    pub fn path_in(&self, name: &str, layer: &Layer) -> Result<String> {
        if name.is_empty()
            || name
                .split('/')
                .any(|s| s.is_empty() || s == "." || s == "..")
        {
            return Err(Error::invalid_argument(
                "the credential name is not a valid Vault path (no empty, `.` or `..` parts)",
            ));
        }
        let folder = layer.folder(&self.prefix);
        Ok(match name.strip_prefix("config/") {
            Some(rest) => format!("{folder}/config/{rest}"),
            None => format!("{folder}/credentials/{name}"),
        })
    }

    /// The path of the claim that coordinates an OAuth refresh of `name` across processes
    /// (`<prefix>/leases/<name>`, `/` in the name replaced by `_`; see [`refresh_claim`]).
    pub fn refresh_claim_path(&self, name: &str) -> Result<String> {
        self.path_of(name)?;
        Ok(format!("{}/leases/{}", self.prefix, name.replace('/', "_")))
    }

    /// Reads `name` in the layer `at`; `layer` is what `source.layer` says.
    async fn read_in(
        &self,
        name: &str,
        at: &Layer,
        layer: Option<String>,
    ) -> Result<Option<Credential>> {
        let path = self.path_in(name, at)?;
        let read = self.client.read(&path, None).await;
        // A soft-deleted or destroyed current version holds nothing.
        let data = match read {
            Ok(Some(secret)) => secret
                .data
                .map(|data| (data, secret.metadata, secret.request_id)),
            Ok(None) => None,
            Err(e) => {
                let e = Error::from(e);
                if e.code == ErrorCode::PermissionDenied {
                    self.forget_kept(&path).await;
                }
                return Err(e);
            }
        };
        let Some((data, metadata, request_id)) = data else {
            self.forget_kept(&path).await;
            return Ok(None);
        };
        let version = metadata.map(|m| m.version).unwrap_or(0);
        let Some(mut credential) = self.credential_of(name, &path, &data, version, layer)? else {
            return Ok(None);
        };
        credential.request_id = request_id;
        if let Some(file) = self.last_known_good.clone() {
            // Awaited, so a process that exits right after its read has still kept it; a
            // failure to keep it is logged and never fails the read.
            let kept = tokio::task::spawn_blocking(move || {
                file.record(&[(path.as_str(), &data, Some(version))])
            })
            .await;
            match kept {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e.message, "could not keep the last known good value")
                }
                Err(_) => tracing::warn!("could not keep the last known good value"),
            }
        }
        Ok(Some(credential))
    }

    /// The kept value of `name` in the layer `at` from the last-known-good file.
    async fn kept_in(
        &self,
        name: &str,
        at: &Layer,
        layer: Option<String>,
    ) -> Result<Option<KeptCredential>> {
        let Some(file) = self.last_known_good.clone() else {
            return Ok(None);
        };
        let path = self.path_in(name, at)?;
        let lookup_path = path.clone();
        let max_age = file.settings().max_age;
        let served = tokio::task::spawn_blocking(move || file.lookup(&lookup_path))
            .await
            .map_err(|_| {
                Error::new(
                    ErrorCode::SourceUnavailable,
                    "the last-known-good lookup did not finish",
                )
            })??;
        let Some(served) = served else {
            return Ok(None);
        };
        let credential = self.credential_of(
            name,
            &path,
            &served.data,
            served.version.unwrap_or(0),
            layer,
        )?;
        Ok(credential.map(|credential| KeptCredential {
            credential,
            fetched_at_ms: served.fetched_at_ms,
            max_age,
        }))
    }

    /// The names directly in `folder` (relative to the mount), never a sub-folder.
    async fn list_folder(&self, folder: &str) -> Result<Vec<Listing>> {
        let keys = self.client.list(folder).await?;
        Ok(keys
            .into_iter()
            .filter(|k| !k.ends_with('/'))
            .map(|k| Listing {
                location: self.location(&format!("{folder}/{k}")),
                name: k,
            })
            .collect())
    }

    fn location(&self, path: &str) -> String {
        format!("{}/{path}", self.client.mount())
    }
}

impl RefreshCoordinator for VaultProvider {
    fn refresh_claim(&self, name: &str, ttl: Duration) -> Result<Box<dyn RefreshClaim>> {
        let path = self.refresh_claim_path(name)?;
        Ok(Box::new(KvRefreshClaim::new(
            self.client.clone(),
            path,
            ttl,
        )))
    }
}

#[async_trait]
impl CredentialProvider for VaultProvider {
    fn id(&self) -> &'static str {
        "vault"
    }

    fn group(&self) -> SourceGroup {
        SourceGroup::Vault
    }

    fn kind(&self) -> ProviderKind {
        ProviderKind::RemoteStore
    }

    fn refresh_coordinator(&self) -> Option<&dyn RefreshCoordinator> {
        Some(self)
    }

    /// KV v2: `current_version` from the secret's metadata (`GET <mount>/metadata/<path>`), 0
    /// when there is none or it is deleted or destroyed. KV v1 keeps no versions: `None`.
    async fn current_version(&self, name: &str) -> Result<Option<CredentialVersion>> {
        self.current_version_in(name, &Layer::Default).await
    }

    /// Reads `GET <mount>/metadata/<prefix>/credentials/<name>`, then each earlier version
    /// (`GET <mount>/data/...?version=N`, newest first) until one holds `secrets`. KV v1 keeps
    /// no history: [`HistoryMatch::Unknown`].
    async fn version_holding(
        &self,
        name: &str,
        secrets: &credential::SecretFields,
    ) -> Result<HistoryMatch> {
        if self.client.kv_version().await? != KvVersion::V2 {
            return Ok(HistoryMatch::Unknown);
        }
        let path = self.path_of(name)?;
        let Some(metadata) = self.client.read_metadata(&path).await? else {
            return Ok(HistoryMatch::Unknown);
        };
        let mut complete = metadata.current_version > 0;
        for version in (1..metadata.current_version).rev() {
            let live = metadata
                .versions
                .get(&version.to_string())
                .is_some_and(|v| v.deletion_time.is_empty() && !v.destroyed);
            if !live {
                complete = false;
                continue;
            }
            let Some(data) = self
                .client
                .read(&path, Some(version))
                .await?
                .and_then(|s| s.data)
            else {
                complete = false;
                continue;
            };
            match self.credential_of(name, &path, &data, version, None) {
                Ok(Some(held)) if held.secrets.same_values(secrets) => {
                    return Ok(HistoryMatch::Version(version));
                }
                Ok(Some(_)) => {}
                _ => complete = false,
            }
        }
        Ok(if complete {
            HistoryMatch::Never
        } else {
            HistoryMatch::Unknown
        })
    }

    /// `GET <mount>/metadata/<layer folder>/credentials/<name>` (KV v2).
    async fn current_version_in(
        &self,
        name: &str,
        layer: &Layer,
    ) -> Result<Option<CredentialVersion>> {
        if self.client.kv_version().await? != KvVersion::V2 {
            return Ok(None);
        }
        let metadata = self
            .client
            .read_metadata(&self.path_in(name, layer)?)
            .await?;
        // A deleted or destroyed current version serves nothing: 0, as for an absent secret, so
        // a watcher sees the deletion as a change (its read then gets the 404 and drops the
        // last-known-good entry).
        let current =
            crate::gateway_reload::Current::of(metadata.as_ref(), std::time::SystemTime::now());
        Ok(Some(CredentialVersion::Vault(match current {
            crate::gateway_reload::Current::Live(v) => v,
            _ => 0,
        })))
    }

    /// `GET /v1/sys/health?standbyok=true&perfstandbyok=true` once, without a token
    /// ([`vault_client::VaultClient::probe`]): `Ok` for any answer that shows Vault is there
    /// (a standby, a proxy's 403 or 429 included); `SEALED` or `SERVER_ERROR` (502 to 504) with
    /// the status, or the request's own error (timeout, connection, TLS), otherwise.
    async fn probe(&self) -> Result<()> {
        Ok(self.client.probe().await?)
    }

    fn connection_failure_since(&self, since: std::time::Instant) -> Option<ErrorCode> {
        self.client.connection_failure_since(since).map(Into::into)
    }

    async fn get(&self, name: &str) -> Result<Option<Credential>> {
        self.read_in(name, &Layer::Default, None).await
    }

    fn has_layers(&self) -> bool {
        true
    }

    /// `GET <mount>/data/<layer folder>/credentials/<name>`; `source.layer` is the layer's label.
    async fn get_in(&self, name: &str, layer: &Layer) -> Result<Option<Credential>> {
        self.read_in(name, layer, Some(layer.label())).await
    }

    /// `LIST <mount>/metadata/<layer folder>/credentials`.
    async fn list_in(&self, layer: &Layer) -> Result<Vec<Listing>> {
        self.list_folder(&format!("{}/credentials", layer.folder(&self.prefix)))
            .await
    }

    async fn last_known_good_in(
        &self,
        name: &str,
        layer: &Layer,
    ) -> Result<Option<KeptCredential>> {
        self.kept_in(name, layer, Some(layer.label())).await
    }

    /// From the encrypted last-known-good file, when configured.
    async fn last_known_good(&self, name: &str) -> Result<Option<KeptCredential>> {
        self.kept_in(name, &Layer::Default, None).await
    }

    async fn list(&self) -> Result<Vec<Listing>> {
        self.list_folder(&format!("{}/credentials", self.prefix))
            .await
    }

    fn writable(&self) -> bool {
        true
    }

    async fn put(
        &self,
        credential: &Credential,
        expected: Option<&CredentialVersion>,
    ) -> Result<CredentialVersion> {
        let path = self.path_of(&credential.name)?;
        let cas = match expected {
            Some(CredentialVersion::Vault(v)) => Some(*v),
            Some(other) => {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    format!("a Vault write expects a Vault version, got {other:?}"),
                ))
            }
            None => None,
        };
        let data = SecretData::from_object(credential.to_vault_data());
        let written = self.client.write(&path, &data, cas).await?;
        Ok(CredentialVersion::Vault(
            written.map(|m| m.version).unwrap_or(0),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(prefix: &str) -> VaultProvider {
        VaultProvider::new(crate::migrate::test_support::offline_client(), prefix)
    }

    #[test]
    fn name_of_path_inverts_path_of_and_refuses_other_paths() {
        let p = provider("openclaw");
        for name in ["openai:manual", "agents/a1/openai:manual", "config/gateway"] {
            let path = p.path_of(name).unwrap();
            assert_eq!(p.name_of_path(&path).as_deref(), Some(name), "{path}");
        }
        for path in [
            "other/credentials/openai",
            "openclaw/teams/t/credentials/openai",
            "openclaw/credentials/",
            "openclaw/credentials/a/../b",
            "openclawx/credentials/openai",
            "openclaw/leases/openai",
        ] {
            assert_eq!(p.name_of_path(path), None, "{path}");
        }
    }
}
