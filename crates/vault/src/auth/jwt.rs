//! JWT/OIDC auth with a JWT from a file: `POST /v1/auth/{mount}/login` with `role` and `jwt`.

use futures_util::future::BoxFuture;
use secrecy::ExposeSecret;
use serde::Serialize;

use super::{
    check_mount, check_not_blank, login_path, post_login, read_secret_file, FieldReader,
    IssuedToken, LoginMethod,
};
use crate::error::Result;
use crate::http::{HttpClient, RequestBody};
use crate::tls::FileInput;

/// JWT login.
#[derive(Debug, Clone)]
pub struct Jwt {
    /// Where the method is mounted (default `jwt`).
    pub mount: String,
    /// The Vault role to log in as.
    pub role: String,
    /// The file holding the JWT, read at each login (it may be rotated).
    pub jwt: FileInput,
}

impl Jwt {
    /// Fields `mount`, `role` (required), `jwt_file` (required).
    pub(super) fn from_fields(f: &FieldReader<'_>) -> Result<Self> {
        Ok(Jwt {
            mount: f.mount()?,
            role: f.required("role")?,
            jwt: f.required_file("jwt_file")?,
        })
    }
}

/// The body of the JWT and Kubernetes logins, the JWT borrowed into the zeroizing request buffer.
#[derive(Serialize)]
pub(super) struct RoleJwt<'a> {
    pub(super) role: &'a str,
    pub(super) jwt: &'a str,
}

/// The JWT and Kubernetes login: the same request, another mount.
pub(super) async fn role_jwt_login(
    http: &HttpClient,
    method: &str,
    mount: &str,
    role: &str,
    jwt: &FileInput,
) -> Result<IssuedToken> {
    let path = login_path(mount)?;
    let token = read_secret_file(jwt)?;
    let body = RequestBody::json(&RoleJwt {
        role,
        jwt: token.expose_secret(),
    })?;
    post_login(http, method, &path, body).await
}

/// The JWT and Kubernetes check: mount, role, and the JWT file readable now.
pub(super) fn validate_role_jwt(
    method: &str,
    mount: &str,
    role: &str,
    jwt: &FileInput,
) -> Result<()> {
    check_mount(mount)?;
    check_not_blank(role, &format!("the {method} login's role"))?;
    read_secret_file(jwt).map(drop)
}

impl LoginMethod for Jwt {
    fn name(&self) -> &'static str {
        "jwt"
    }

    fn validate(&self) -> Result<()> {
        validate_role_jwt(self.name(), &self.mount, &self.role, &self.jwt)
    }

    fn login<'a>(&'a self, http: &'a HttpClient) -> BoxFuture<'a, Result<IssuedToken>> {
        Box::pin(role_jwt_login(
            http,
            self.name(),
            &self.mount,
            &self.role,
            &self.jwt,
        ))
    }
}
