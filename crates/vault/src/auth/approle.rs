//! AppRole: `POST /v1/auth/{mount}/login` with `role_id` and, for roles that bind one, `secret_id`.

use futures_util::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::{
    check_mount, login_path, post_login, FieldReader, IssuedToken, LoginMethod, SecretInput,
};
use crate::error::Result;
use crate::http::{HttpClient, RequestBody};

/// AppRole login.
#[derive(Debug, Clone)]
pub struct AppRole {
    /// Where the method is mounted (default `approle`).
    pub mount: String,
    /// The role id.
    pub role_id: SecretInput,
    /// The secret id; `None` for roles without `bind_secret_id`.
    pub secret_id: Option<SecretInput>,
}

impl AppRole {
    /// Fields `mount`, `role_id` or `role_id_file` (required), `secret_id` or `secret_id_file`.
    pub(super) fn from_fields(f: &FieldReader<'_>) -> Result<Self> {
        Ok(AppRole {
            mount: f.mount()?,
            role_id: f.required_secret("role_id", "role_id_file")?,
            secret_id: f.secret("secret_id", "secret_id_file"),
        })
    }
}

impl LoginMethod for AppRole {
    fn name(&self) -> &'static str {
        "approle"
    }

    fn validate(&self) -> Result<()> {
        check_mount(&self.mount)?;
        self.role_id.read()?;
        if let Some(secret_id) = &self.secret_id {
            secret_id.read()?;
        }
        Ok(())
    }

    /// The secret id (the role id when the role binds no secret id), which outlives every
    /// token it logs in.
    fn stable_secret(&self) -> Option<Result<SecretString>> {
        Some(self.secret_id.as_ref().unwrap_or(&self.role_id).read())
    }

    fn login<'a>(&'a self, http: &'a HttpClient) -> BoxFuture<'a, Result<IssuedToken>> {
        Box::pin(async move {
            // Borrowed secrets, serialised straight into the zeroizing request buffer.
            #[derive(Serialize)]
            struct Body<'s> {
                role_id: &'s str,
                #[serde(skip_serializing_if = "Option::is_none")]
                secret_id: Option<&'s str>,
            }
            let role_id = self.role_id.read()?;
            let secret_id = self.secret_id.as_ref().map(SecretInput::read).transpose()?;
            let body = RequestBody::json(&Body {
                role_id: role_id.expose_secret(),
                secret_id: secret_id.as_ref().map(|s| s.expose_secret()),
            })?;
            post_login(http, self.name(), &login_path(&self.mount)?, body).await
        })
    }
}
