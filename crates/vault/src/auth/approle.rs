//! AppRole: `POST /v1/auth/{mount}/login` with `role_id` and, for roles that bind one, `secret_id`.
//! The secret id may come response-wrapped (`vault write -wrap-ttl=5m -f
//! auth/approle/role/<role>/secret-id`, or `openclaw-vault setup --wrap-ttl`): the first login
//! looks the wrapping token up, refuses it unless Vault made it at
//! `auth/<mount>/role/<role>/secret-id`, unwraps it (which consumes it) and keeps the secret id in
//! memory for the logins after.

use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{
    check_mount, login_path, post_login, FieldReader, IssuedToken, LoginMethod, SecretInput,
};
use crate::engines::wrapping;
use crate::error::{ErrorCode, Result, VaultError};
use crate::http::{HttpClient, RequestBody};

/// AppRole login.
#[derive(Debug, Clone)]
pub struct AppRole {
    /// Where the method is mounted (default `approle`).
    pub mount: String,
    /// The role id.
    pub role_id: SecretInput,
    /// The secret id; `None` for roles without `bind_secret_id` (or when it comes wrapped).
    pub secret_id: Option<SecretInput>,
    /// A response-wrapped secret id, unwrapped at the first login.
    pub wrapped_secret_id: Option<WrappedSecretId>,
}

/// A wrapping token holding an AppRole secret id, and the role it must have been made for.
#[derive(Clone)]
pub struct WrappedSecretId {
    /// The wrapping token (a value or a file).
    pub token: SecretInput,
    /// The role's name: the token's `creation_path` must be `auth/<mount>/role/<role>/secret-id`.
    pub role: String,
    unwrapped: Arc<Mutex<Option<SecretString>>>,
}

impl WrappedSecretId {
    /// A wrapped secret id for `role`, not unwrapped yet.
    pub fn new(token: SecretInput, role: impl Into<String>) -> Self {
        WrappedSecretId {
            token,
            role: role.into(),
            unwrapped: Arc::new(Mutex::new(None)),
        }
    }

    fn cached(&self) -> Option<SecretString> {
        self.unwrapped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn given_by(&self) -> String {
        match &self.token {
            SecretInput::Value { from, .. } => from.clone(),
            SecretInput::File(f) => f.from.clone(),
        }
    }

    /// The secret id: unwrapped once (lookup, creation path check, unwrap), then from memory.
    async fn secret_id(&self, http: &HttpClient, mount: &str) -> Result<SecretString> {
        if let Some(s) = self.cached() {
            return Ok(s);
        }
        let token = self.token.read()?;
        let what = self.given_by();
        let info = wrapping::lookup(http, &token, &what).await?;
        let expected = wrapping::secret_id_creation_path(mount, &self.role);
        if info.creation_path != expected {
            return Err(VaultError::new(
                ErrorCode::WrappingTokenInvalid,
                format!(
                    "the wrapped secret id ({what}) was created at \"{}\", not at \"{expected}\": refused without unwrapping",
                    info.creation_path
                ),
            ));
        }
        #[derive(Deserialize)]
        struct Data {
            secret_id: SecretString,
        }
        let data: Data = wrapping::unwrap(http, &token, &what).await?;
        *self.unwrapped.lock().unwrap_or_else(|e| e.into_inner()) = Some(data.secret_id.clone());
        Ok(data.secret_id)
    }
}

impl std::fmt::Debug for WrappedSecretId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WrappedSecretId")
            .field("token", &self.token)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl AppRole {
    /// Fields `mount`, `role_id` or `role_id_file` (required), `secret_id` or `secret_id_file`,
    /// or `wrapped_secret_id` or `wrapped_secret_id_file` with `role` (the role's name).
    pub(super) fn from_fields(f: &FieldReader<'_>) -> Result<Self> {
        let wrapped = match f.secret("wrapped_secret_id", "wrapped_secret_id_file") {
            None => None,
            Some(token) => Some(WrappedSecretId::new(token, f.required("role")?)),
        };
        let secret_id = f.secret("secret_id", "secret_id_file");
        if secret_id.is_some() && wrapped.is_some() {
            return Err(VaultError::invalid_config(format!(
                "{} and {} cannot both be given",
                f.fields.name_of("secret_id"),
                f.fields.name_of("wrapped_secret_id")
            )));
        }
        Ok(AppRole {
            mount: f.mount()?,
            role_id: f.required_secret("role_id", "role_id_file")?,
            secret_id,
            wrapped_secret_id: wrapped,
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
        if let Some(wrapped) = &self.wrapped_secret_id {
            wrapped.token.read()?;
            if wrapped.role.trim().is_empty() {
                return Err(VaultError::invalid_config(
                    "a wrapped secret id needs the role's name",
                ));
            }
        }
        Ok(())
    }

    /// The secret id (the role id when the role binds no secret id, or when the secret id comes
    /// wrapped: a wrapping token is single use, so each process start gets a new one), which
    /// outlives every token it logs in.
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
            // Unwrapped by this login (not a re-login with the secret id kept in memory).
            let fresh = self
                .wrapped_secret_id
                .as_ref()
                .filter(|w| w.cached().is_none());
            let secret_id = match &self.wrapped_secret_id {
                Some(w) => Some(w.secret_id(http, &self.mount).await?),
                None => self.secret_id.as_ref().map(SecretInput::read).transpose()?,
            };
            let body = RequestBody::json(&Body {
                role_id: role_id.expose_secret(),
                secret_id: secret_id.as_ref().map(|s| s.expose_secret()),
            })?;
            let login = post_login(http, self.name(), &login_path(&self.mount)?, body).await;
            match (login, fresh) {
                // Vault refused the pair (a role id of another role, say) after the single-use
                // wrapping token was spent: a retry with the same token can only say "already
                // unwrapped", which reads like an interception. Say so now.
                (Err(mut e), Some(w)) if matches!(e.status, Some(400 | 403)) => {
                    e.message = format!(
                        "{}; the wrapped secret id ({}) was unwrapped for this login, so its \
                         single-use wrapping token is now spent: check that the role id is role \
                         \"{}\"'s, then issue a new wrapped secret id (`openclaw-vault setup ... \
                         --wrap-ttl`)",
                        e.message,
                        w.given_by(),
                        w.role
                    );
                    Err(e)
                }
                (login, _) => login,
            }
        })
    }
}
