//! KV version 2: the versioned secrets engine. Paths are relative to the mount; this module inserts
//! `data/`, `metadata/`, `delete/`, `undelete/`, `destroy/` and `subkeys/` itself. Every function
//! takes the mount (`secret`) and a checked [`ApiPath`]; timestamps are Vault's RFC 3339 strings.

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::error::{ErrorCode, Result, VaultError};
use crate::http::RequestBody;
use crate::path::ApiPath;
use crate::secret::SecretData;
use crate::session::Session;

/// Metadata of one version, as Vault gives it (`data.metadata` of a read, `data` of a write).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionMetadata {
    /// When the version was written (RFC 3339).
    pub created_time: String,
    /// The key's custom metadata, when set.
    #[serde(default)]
    pub custom_metadata: Option<BTreeMap<String, String>>,
    /// When it was soft-deleted (RFC 3339), or `""`.
    #[serde(default)]
    pub deletion_time: String,
    /// Whether its data was destroyed for good.
    #[serde(default)]
    pub destroyed: bool,
    /// The version number, from 1.
    pub version: u64,
}

/// A read: `data` is `None` when the version was soft-deleted or destroyed.
#[derive(Debug, Clone)]
pub struct KvSecret {
    /// The secret's fields.
    pub data: Option<SecretData>,
    /// The version's metadata; `None` on KV v1.
    pub metadata: Option<VersionMetadata>,
    /// Vault's `request_id` of the read, for audit lines.
    pub request_id: Option<String>,
}

#[derive(Deserialize)]
struct ReadData {
    #[serde(default)]
    data: Option<SecretData>,
    metadata: VersionMetadata,
}

/// One entry of `versions` in the key metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionState {
    /// When the version was written (RFC 3339).
    pub created_time: String,
    /// When it was soft-deleted (RFC 3339), or `""`.
    #[serde(default)]
    pub deletion_time: String,
    /// Whether its data was destroyed for good.
    #[serde(default)]
    pub destroyed: bool,
}

/// A key's metadata (`GET /v1/{mount}/metadata/{path}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyMetadata {
    /// Whether every write of this key must carry `cas`.
    #[serde(default)]
    pub cas_required: bool,
    /// When the key was first written (RFC 3339).
    pub created_time: String,
    /// The newest version.
    pub current_version: u64,
    /// How long after writing a version is soft-deleted (`"0s"`: never).
    #[serde(default)]
    pub delete_version_after: String,
    /// Versions kept (0: the engine's default, 10).
    #[serde(default)]
    pub max_versions: u64,
    /// The oldest version still kept.
    #[serde(default)]
    pub oldest_version: u64,
    /// When the key was last written (RFC 3339).
    pub updated_time: String,
    /// Non-secret string pairs set with the metadata endpoints.
    #[serde(default)]
    pub custom_metadata: Option<BTreeMap<String, String>>,
    /// Each kept version by its number.
    #[serde(default)]
    pub versions: BTreeMap<String, VersionState>,
}

/// The settings `writeMetadata` and `patchMetadata` send. `None` leaves a field out.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MetadataSettings {
    /// Versions kept per key; 0 means the engine's default (10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_versions: Option<u64>,
    /// Require `cas` on every write of the key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cas_required: Option<bool>,
    /// Soft-delete versions this long after writing (`"3h"`, `"30m"`; `"0s"` turns it off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_version_after: Option<String>,
    /// In a patch, a key mapped to `None` is removed (merge-patch null).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_metadata: Option<BTreeMap<String, Option<String>>>,
}

/// The structure of a secret without its values (`GET /v1/{mount}/subkeys/{path}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subkeys {
    /// The secret's keys, each value replaced by `null` (nested objects kept as objects);
    /// `None` when the version is deleted or destroyed.
    pub subkeys: Option<Value>,
    /// The version's metadata.
    pub metadata: VersionMetadata,
}

/// `data` of a list answer.
#[derive(Deserialize)]
struct Keys {
    #[serde(default)]
    keys: Vec<String>,
}

fn endpoint(mount: &str, kind: &str, path: &ApiPath) -> String {
    path.under(&format!("{mount}/{kind}"))
}

/// Checks a version number from a caller: a positive integer.
pub fn check_version(version: u64, what: &str) -> Result<u64> {
    if version == 0 {
        return Err(VaultError::invalid_argument(format!(
            "{what} must be a positive integer, got 0"
        )));
    }
    Ok(version)
}

fn versions_body(versions: &[u64], what: &str) -> Result<RequestBody> {
    if versions.is_empty() {
        return Err(VaultError::invalid_argument(format!(
            "{what} needs at least one version number"
        )));
    }
    for v in versions {
        check_version(*v, &format!("{what}: each version"))?;
    }
    RequestBody::json(&json!({ "versions": versions }))
}

/// `GET /v1/{mount}/data/{path}[?version=N]`: a version (default the newest). `None` when the key
/// or version does not exist; `data: None` with metadata when the version is deleted or destroyed.
pub async fn read(
    session: &Session,
    mount: &str,
    path: &ApiPath,
    version: Option<u64>,
) -> Result<Option<KvSecret>> {
    let query: Vec<(&str, String)> = match version {
        Some(v) => vec![("version", check_version(v, "version")?.to_string())],
        None => Vec::new(),
    };
    let resp = session
        .send(Method::GET, &endpoint(mount, "data", path), &query, None)
        .await?;
    if resp.status == StatusCode::NOT_FOUND {
        // A plain 404 is `{"errors":[]}`; a deleted or destroyed version is the whole envelope
        // with `data.data: null` and the version's metadata.
        if resp.is_empty() {
            return Ok(None);
        }
        let body: Value = resp.json()?;
        if body
            .get("data")
            .is_some_and(|d| d.get("metadata").is_some())
        {
            let env: crate::http::Envelope<ReadData> = resp.json()?;
            if let Some(d) = env.data {
                return Ok(Some(KvSecret {
                    data: None,
                    metadata: Some(d.metadata),
                    request_id: env.request_id,
                }));
            }
        }
        return not_found_or_error(resp);
    }
    let resp = resp.success()?;
    let env = resp.envelope::<ReadData>()?;
    let request_id = env.as_ref().and_then(|e| e.request_id.clone());
    match env.and_then(|e| e.data) {
        Some(d) => Ok(Some(KvSecret {
            data: d.data,
            metadata: Some(d.metadata),
            request_id,
        })),
        None => Err(VaultError::bad_response(format!(
            "Vault's answer to {} has no data",
            resp.path
        ))
        .with_path(resp.path.clone())),
    }
}

fn data_body(data: &SecretData, cas: Option<u64>) -> Result<RequestBody> {
    #[derive(Serialize)]
    struct Cas {
        cas: u64,
    }
    // Borrows the secret: serialised straight into the zeroizing request buffer, never copied.
    #[derive(Serialize)]
    struct WriteBody<'a> {
        data: &'a Value,
        #[serde(skip_serializing_if = "Option::is_none")]
        options: Option<Cas>,
    }
    RequestBody::json(&WriteBody {
        data: data.expose_secret(),
        options: cas.map(|cas| Cas { cas }),
    })
}

fn version_metadata(resp: crate::http::RawResponse) -> Result<VersionMetadata> {
    let resp = resp.success()?;
    resp.envelope::<VersionMetadata>()?
        .and_then(|e| e.data)
        .ok_or_else(|| {
            VaultError::bad_response(format!(
                "Vault's answer to {} has no version metadata",
                resp.path
            ))
            .with_path(resp.path.clone())
        })
}

/// `POST /v1/{mount}/data/{path}`: writes a new version, with optional check-and-set
/// (`cas: Some(0)` creates only if absent; a mismatch is `CAS_MISMATCH`).
///
/// Without `cas`, a write whose answer was lost is not sent again (it may have made a version
/// already; see [`HttpClient::send`](crate::http::HttpClient::send)). With `cas` it is retried
/// like a read: a second run cannot make a second version, it answers `CAS_MISMATCH`.
pub async fn write(
    session: &Session,
    mount: &str,
    path: &ApiPath,
    data: &SecretData,
    cas: Option<u64>,
) -> Result<VersionMetadata> {
    let mut request = session.http().request(
        Method::POST,
        &endpoint(mount, "data", path),
        &[],
        Some(data_body(data, cas)?),
    )?;
    if cas.is_some() {
        request = request.replay_safe();
    }
    let resp = session.send_prepared(&request).await?;
    version_metadata(resp)
}

/// `PATCH /v1/{mount}/data/{path}`: an RFC 7386 merge patch of the current version. When the
/// server or a proxy does not allow PATCH (405), falls back to read, merge and write with cas, as
/// the Vault CLI does. A missing or deleted secret is `NOT_FOUND`.
pub async fn patch(
    session: &Session,
    mount: &str,
    path: &ApiPath,
    data: &SecretData,
    cas: Option<u64>,
) -> Result<VersionMetadata> {
    let body = data_body(data, cas)?.merge_patch();
    let resp = session
        .send(
            Method::PATCH,
            &endpoint(mount, "data", path),
            &[],
            Some(body),
        )
        .await?;
    if resp.status == StatusCode::METHOD_NOT_ALLOWED {
        return patch_by_rewrite(session, mount, path, data, cas).await;
    }
    if resp.status == StatusCode::NOT_FOUND {
        let p = resp.path.clone();
        let mut err = resp.into_error();
        err.message = format!(
            "cannot patch {p}: the secret does not exist or its current version is deleted"
        );
        return Err(err);
    }
    version_metadata(resp)
}

async fn patch_by_rewrite(
    session: &Session,
    mount: &str,
    path: &ApiPath,
    patch: &SecretData,
    cas: Option<u64>,
) -> Result<VersionMetadata> {
    let current = read(session, mount, path, None).await?;
    let (current_data, metadata) = match current {
        Some(KvSecret { data: Some(d), metadata: Some(m), .. }) => (d, m),
        _ => {
            return Err(VaultError::new(
                ErrorCode::NotFound,
                format!("cannot patch {mount}/data/{path}: the secret does not exist or its current version is deleted"),
            )
            .with_path(format!("/v1/{}", endpoint(mount, "data", path)))
            .with_status(404))
        }
    };
    if let Some(cas) = cas {
        if cas != metadata.version {
            let mut err = VaultError::new(
                ErrorCode::CasMismatch,
                format!("check-and-set parameter did not match the current version of {mount}/data/{path}"),
            )
            .with_path(format!("/v1/{}", endpoint(mount, "data", path)))
            .with_status(400);
            err.errors = vec!["check-and-set parameter did not match the current version".into()];
            return Err(err);
        }
    }
    let mut merged = current_data.clone();
    // SAFETY of the secret: `merged` is a SecretData and wipes itself on drop.
    merge_into(&mut merged, patch);
    write(session, mount, path, &merged, Some(metadata.version)).await
}

fn merge_into(target: &mut SecretData, patch: &SecretData) {
    let mut value = target.expose_secret().clone();
    json_patch::merge(&mut value, patch.expose_secret());
    if let Value::Object(map) = value {
        *target = SecretData::from_object(map);
    }
}

/// `GET /v1/{mount}/metadata/{path}/?list=true`: the keys under a folder (sub-folders end in
/// `/`), `[]` when none.
pub async fn list(session: &Session, mount: &str, path: &ApiPath) -> Result<Vec<String>> {
    let mut api = endpoint(mount, "metadata", path);
    api.push('/');
    list_keys(session, &api).await
}

/// `GET /v1/{api_path}?list=true`: the `keys` of any list endpoint; both of Vault's answers for
/// "nothing" (404 and `data: {}`) are `[]`. `api_path` must be percent-encoded. Sent as GET, not
/// the `LIST` verb, because reverse proxies and load balancers answer unknown verbs with 400.
pub async fn list_keys(session: &Session, api_path: &str) -> Result<Vec<String>> {
    let resp = session
        .send(Method::GET, api_path, &list_query(), None)
        .await?;
    if resp.status == StatusCode::NOT_FOUND {
        return not_found_or_error(resp).map(|_: Option<()>| Vec::new());
    }
    let resp = resp.success()?;
    Ok(resp
        .envelope::<Keys>()?
        .and_then(|e| e.data)
        .map(|k| k.keys)
        .unwrap_or_default())
}

/// A 404 of a read or list: `Ok(None)` when it is a plain "nothing here" (`{"errors":[]}`),
/// else the classified error (`no handler for route`: no mount at the path, `INVALID_REQUEST`),
/// so a mistyped mount is never mistaken for a missing secret.
pub fn not_found_or_error<T>(resp: crate::http::RawResponse) -> Result<Option<T>> {
    if resp.is_plain_not_found() {
        Ok(None)
    } else {
        Err(resp.into_error())
    }
}

/// The query that makes a GET a list (`?list=true`), which Vault treats as the `LIST` verb.
pub fn list_query() -> Vec<(&'static str, String)> {
    vec![("list", "true".to_string())]
}

/// `DELETE /v1/{mount}/data/{path}`: soft-deletes the newest version. A missing key is not an
/// error.
pub async fn delete_latest(session: &Session, mount: &str, path: &ApiPath) -> Result<()> {
    session
        .send(Method::DELETE, &endpoint(mount, "data", path), &[], None)
        .await?
        .success()?;
    Ok(())
}

/// `POST /v1/{mount}/delete/{path}` with `{"versions": [...]}`: soft-deletes those versions.
pub async fn delete_versions(
    session: &Session,
    mount: &str,
    path: &ApiPath,
    versions: &[u64],
) -> Result<()> {
    let body = versions_body(versions, "deleting versions")?;
    session
        .send(
            Method::POST,
            &endpoint(mount, "delete", path),
            &[],
            Some(body),
        )
        .await?
        .success()?;
    Ok(())
}

/// `POST /v1/{mount}/undelete/{path}` with `{"versions": [...]}`: restores soft-deleted versions.
pub async fn undelete(
    session: &Session,
    mount: &str,
    path: &ApiPath,
    versions: &[u64],
) -> Result<()> {
    let body = versions_body(versions, "undeleting")?;
    session
        .send(
            Method::POST,
            &endpoint(mount, "undelete", path),
            &[],
            Some(body),
        )
        .await?
        .success()?;
    Ok(())
}

/// `POST /v1/{mount}/destroy/{path}` with `{"versions": [...]}`: removes those versions' data for
/// good.
pub async fn destroy(
    session: &Session,
    mount: &str,
    path: &ApiPath,
    versions: &[u64],
) -> Result<()> {
    let body = versions_body(versions, "destroying")?;
    session
        .send(
            Method::POST,
            &endpoint(mount, "destroy", path),
            &[],
            Some(body),
        )
        .await?
        .success()?;
    Ok(())
}

/// `GET /v1/{mount}/metadata/{path}`: the key's metadata and versions; `None` when the key does
/// not exist.
pub async fn read_metadata(
    session: &Session,
    mount: &str,
    path: &ApiPath,
) -> Result<Option<KeyMetadata>> {
    let resp = session
        .send(Method::GET, &endpoint(mount, "metadata", path), &[], None)
        .await?;
    if resp.status == StatusCode::NOT_FOUND {
        return not_found_or_error(resp);
    }
    let resp = resp.success()?;
    Ok(resp.envelope::<KeyMetadata>()?.and_then(|e| e.data))
}

/// `POST /v1/{mount}/metadata/{path}`: sets the given fields; creates the metadata when absent.
pub async fn write_metadata(
    session: &Session,
    mount: &str,
    path: &ApiPath,
    settings: &MetadataSettings,
) -> Result<()> {
    let body = RequestBody::json(settings)?;
    session
        .send(
            Method::POST,
            &endpoint(mount, "metadata", path),
            &[],
            Some(body),
        )
        .await?
        .success()?;
    Ok(())
}

/// `PATCH /v1/{mount}/metadata/{path}`: a merge patch of the fields; the key must exist.
pub async fn patch_metadata(
    session: &Session,
    mount: &str,
    path: &ApiPath,
    settings: &MetadataSettings,
) -> Result<()> {
    let body = RequestBody::json(settings)?.merge_patch();
    session
        .send(
            Method::PATCH,
            &endpoint(mount, "metadata", path),
            &[],
            Some(body),
        )
        .await?
        .success()?;
    Ok(())
}

/// `DELETE /v1/{mount}/metadata/{path}`: deletes the key and every version. A missing key is not
/// an error.
pub async fn delete_metadata(session: &Session, mount: &str, path: &ApiPath) -> Result<()> {
    session
        .send(
            Method::DELETE,
            &endpoint(mount, "metadata", path),
            &[],
            None,
        )
        .await?
        .success()?;
    Ok(())
}

/// `GET /v1/{mount}/subkeys/{path}[?version=N&depth=D]`: the structure without values. `None`
/// when the key does not exist; `subkeys: None` when the version is deleted or destroyed.
pub async fn subkeys(
    session: &Session,
    mount: &str,
    path: &ApiPath,
    version: Option<u64>,
    depth: Option<u64>,
) -> Result<Option<Subkeys>> {
    let mut query = Vec::new();
    if let Some(v) = version {
        query.push(("version", check_version(v, "version")?.to_string()));
    }
    if let Some(d) = depth {
        query.push(("depth", d.to_string()));
    }
    let resp = session
        .send(Method::GET, &endpoint(mount, "subkeys", path), &query, None)
        .await?;
    if resp.status == StatusCode::NOT_FOUND {
        if resp.is_empty() {
            return Ok(None);
        }
        if let Ok(crate::http::Envelope { data: Some(d), .. }) =
            resp.json::<crate::http::Envelope<Subkeys>>()
        {
            return Ok(Some(d));
        }
        return not_found_or_error(resp);
    }
    let resp = resp.success()?;
    Ok(resp.envelope::<Subkeys>()?.and_then(|e| e.data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::parse_property::assert_hides_input;
    use crate::http::Envelope;

    #[test]
    fn parse_errors_of_kv2_answers_never_quote_the_input() {
        let metadata = json!({"created_time": "2026-01-02T03:04:05Z", "custom_metadata": null,
            "deletion_time": "", "destroyed": false, "version": 1});
        assert_hides_input(
            json!({"request_id": "r", "data": {"data": {"apiKey": "v", "nested": {"a": "b"}}, "metadata": metadata}}),
            |r| r.envelope::<ReadData>(),
        );
        assert_hides_input(
            json!({"request_id": "r", "data": {"data": null, "metadata": metadata}}),
            |r| r.json::<Envelope<ReadData>>(),
        );
        assert_hides_input(json!({"data": {"keys": ["a", "dir/"]}}), |r| {
            r.envelope::<Keys>()
        });
    }

    #[test]
    fn list_query_is_get_list_true() {
        assert_eq!(list_query(), vec![("list", "true".to_string())]);
    }
}
