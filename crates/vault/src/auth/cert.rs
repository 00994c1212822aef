//! TLS certificate auth: `POST /v1/auth/{mount}/login`, optionally naming the certificate role.
//! The credential is the client certificate of the TLS settings, presented by the HTTP client.

use futures_util::future::BoxFuture;
use serde::Serialize;

use super::{check_mount, login_path, post_login, FieldReader, IssuedToken, LoginMethod};
use crate::error::Result;
use crate::http::{HttpClient, RequestBody};

/// Certificate login.
#[derive(Debug, Clone)]
pub struct Cert {
    /// Where the method is mounted (default `cert`).
    pub mount: String,
    /// The certificate role to match; `None` lets Vault try every role.
    pub name: Option<String>,
}

impl Cert {
    /// Fields `mount`, `name` (else `role`), both optional.
    pub(super) fn from_fields(f: &FieldReader<'_>) -> Result<Self> {
        Ok(Cert {
            mount: f.mount()?,
            name: f.text("name").or_else(|| f.text("role")),
        })
    }
}

impl LoginMethod for Cert {
    fn name(&self) -> &'static str {
        "cert"
    }

    fn validate(&self) -> Result<()> {
        check_mount(&self.mount)
    }

    fn login<'a>(&'a self, http: &'a HttpClient) -> BoxFuture<'a, Result<IssuedToken>> {
        Box::pin(async move {
            #[derive(Serialize)]
            struct Body<'s> {
                #[serde(skip_serializing_if = "Option::is_none")]
                name: Option<&'s str>,
            }
            let body = RequestBody::json(&Body {
                name: self.name.as_deref(),
            })?;
            post_login(http, self.name(), &login_path(&self.mount)?, body).await
        })
    }
}
