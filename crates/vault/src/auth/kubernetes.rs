//! Kubernetes auth with the pod's service-account token: `POST /v1/auth/{mount}/login` with
//! `role` and `jwt`.

use futures_util::future::BoxFuture;

use super::jwt::{role_jwt_login, validate_role_jwt};
use super::{FieldReader, IssuedToken, LoginMethod};
use crate::error::Result;
use crate::http::HttpClient;
use crate::tls::FileInput;

/// Where Kubernetes mounts a pod's service-account token; the default JWT file.
pub const KUBERNETES_JWT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/// Kubernetes login.
#[derive(Debug, Clone)]
pub struct Kubernetes {
    /// Where the method is mounted (default `kubernetes`).
    pub mount: String,
    /// The Vault role to log in as.
    pub role: String,
    /// The service-account token file, read at each login (Kubernetes rotates it).
    pub jwt: FileInput,
}

impl Kubernetes {
    /// Fields `mount`, `role` (required), `jwt_file` (default [`KUBERNETES_JWT_PATH`]).
    pub(super) fn from_fields(f: &FieldReader<'_>) -> Result<Self> {
        Ok(Kubernetes {
            mount: f.mount()?,
            role: f.required("role")?,
            jwt: f.file("jwt_file").unwrap_or_else(|| {
                FileInput::new(KUBERNETES_JWT_PATH, f.fields.name_of("jwt_file"))
            }),
        })
    }
}

impl LoginMethod for Kubernetes {
    fn name(&self) -> &'static str {
        "kubernetes"
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
