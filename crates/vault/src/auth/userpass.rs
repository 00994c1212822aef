//! Userpass: `POST /v1/auth/{mount}/login/{username}` with `password`.

use futures_util::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::{
    check_mount, check_not_blank, login_path, post_login, FieldReader, IssuedToken, LoginMethod,
    SecretInput,
};
use crate::error::{Result, VaultError};
use crate::http::{HttpClient, RequestBody};
use crate::path::ApiPath;

/// Userpass login.
#[derive(Debug, Clone)]
pub struct UserPass {
    /// Where the method is mounted (default `userpass`).
    pub mount: String,
    /// The user name (part of the login path, not secret).
    pub username: String,
    /// The password.
    pub password: SecretInput,
}

impl UserPass {
    /// Fields `mount`, `username` (required), `password` or `password_file` (required).
    pub(super) fn from_fields(f: &FieldReader<'_>) -> Result<Self> {
        Ok(UserPass {
            mount: f.mount()?,
            username: f.required("username")?,
            password: f.required_secret("password", "password_file")?,
        })
    }

    fn path(&self) -> Result<String> {
        let user = ApiPath::parse(&self.username).map_err(|e| {
            VaultError::invalid_config(format!("userpass user name: {}", e.message))
        })?;
        Ok(format!("{}/{}", login_path(&self.mount)?, user.encoded()))
    }
}

impl LoginMethod for UserPass {
    fn name(&self) -> &'static str {
        "userpass"
    }

    fn validate(&self) -> Result<()> {
        check_mount(&self.mount)?;
        check_not_blank(&self.username, "the userpass user name")?;
        self.password.read().map(drop)
    }

    /// The password.
    fn stable_secret(&self) -> Option<Result<SecretString>> {
        Some(self.password.read())
    }

    fn login<'a>(&'a self, http: &'a HttpClient) -> BoxFuture<'a, Result<IssuedToken>> {
        Box::pin(async move {
            #[derive(Serialize)]
            struct Body<'s> {
                password: &'s str,
            }
            let path = self.path()?;
            let password = self.password.read()?;
            let body = RequestBody::json(&Body {
                password: password.expose_secret(),
            })?;
            post_login(http, self.name(), &path, body).await
        })
    }
}
