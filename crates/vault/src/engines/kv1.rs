//! KV version 1: unversioned key/value. No cas, no metadata; the data is stored as written.

use reqwest::{Method, StatusCode};

use crate::error::Result;
use crate::http::RequestBody;
use crate::path::ApiPath;
use crate::secret::SecretData;
use crate::session::Session;

/// `GET /v1/{mount}/{path}`: the secret's fields, `None` when missing. A 404 that names no
/// handler (no mount there) is an error, not `None`.
pub async fn read(session: &Session, mount: &str, path: &ApiPath) -> Result<Option<SecretData>> {
    let resp = session
        .send(Method::GET, &path.under(mount), &[], None)
        .await?;
    if resp.status == StatusCode::NOT_FOUND {
        return crate::engines::kv2::not_found_or_error(resp);
    }
    let resp = resp.success()?;
    Ok(resp.envelope::<SecretData>()?.and_then(|e| e.data))
}

/// `POST /v1/{mount}/{path}` with the fields themselves as the body (no `data` wrapper): replaces
/// the secret.
pub async fn write(
    session: &Session,
    mount: &str,
    path: &ApiPath,
    data: &SecretData,
) -> Result<()> {
    let body = RequestBody::json(data.expose_secret())?;
    session
        .send(Method::POST, &path.under(mount), &[], Some(body))
        .await?
        .success()?;
    Ok(())
}

/// `GET /v1/{mount}/{path}/?list=true`: the keys under a folder (sub-folders end in `/`), `[]` when none.
pub async fn list(session: &Session, mount: &str, path: &ApiPath) -> Result<Vec<String>> {
    let mut api = path.under(mount);
    api.push('/');
    crate::engines::kv2::list_keys(session, &api).await
}

/// `DELETE /v1/{mount}/{path}`; a missing secret is not an error.
pub async fn delete(session: &Session, mount: &str, path: &ApiPath) -> Result<()> {
    session
        .send(Method::DELETE, &path.under(mount), &[], None)
        .await?
        .success()?;
    Ok(())
}
