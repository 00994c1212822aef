//! KV version 1: unversioned key/value. No cas, no metadata; the data is stored as written.

use reqwest::{Method, StatusCode};

use crate::error::Result;
use crate::http::{RequestBody, Transport};
use crate::path::ApiPath;
use crate::secret::SecretData;

/// `GET :mount/:path`, `None` when missing.
pub async fn read(t: &Transport, mount: &str, path: &ApiPath) -> Result<Option<SecretData>> {
    let resp = t.send(Method::GET, &path.under(mount), &[], None).await?;
    if resp.status == StatusCode::NOT_FOUND {
        return Ok(None);
    }
    let resp = resp.success()?;
    Ok(resp.envelope::<SecretData>()?.and_then(|e| e.data))
}

/// `POST :mount/:path` with the fields themselves as the body (no `data` wrapper).
pub async fn write(t: &Transport, mount: &str, path: &ApiPath, data: &SecretData) -> Result<()> {
    let body = RequestBody::json(data.expose_secret())?;
    t.send(Method::POST, &path.under(mount), &[], Some(body))
        .await?
        .success()?;
    Ok(())
}

/// `LIST :mount/:path/`.
pub async fn list(t: &Transport, mount: &str, path: &ApiPath) -> Result<Vec<String>> {
    let mut api = path.under(mount);
    api.push('/');
    crate::engines::kv2::list_keys(t, &api).await
}

/// `DELETE :mount/:path`; missing is not an error.
pub async fn delete(t: &Transport, mount: &str, path: &ApiPath) -> Result<()> {
    t.send(Method::DELETE, &path.under(mount), &[], None)
        .await?
        .success()?;
    Ok(())
}
