//! The one error type of the credentials layer and everything above it. It carries the Vault
//! client's errors unchanged ([`From<VaultError>`]) and adds the codes of credential sources,
//! refresh and migration. The string form of every code (`code()`) is part of the public API: the
//! binding and the CLI expose it unchanged. Messages are built from paths, option names and Vault's
//! `errors` strings: never from a token or a secret value.

use std::fmt;

use vault_client::{ErrorCode as VaultCode, VaultError};

/// Stable, documented error codes: the Vault client's, then this layer's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 404: nothing at the path (for reads this usually becomes `null` instead).
    NotFound,
    /// 403 for a token that lacks the capability.
    PermissionDenied,
    /// 403 (or 401) whose errors say the token is invalid, expired or revoked.
    InvalidToken,
    /// 400: the `cas` option did not match the current version, or cas is required.
    CasMismatch,
    /// 400, 413, 415 and other 4xx refusals of the request itself.
    InvalidRequest,
    /// 405, or an operation the source or engine does not support.
    UnsupportedOperation,
    /// 412: a required consistency state is missing (X-Vault-Index).
    PreconditionFailed,
    /// 503 "Vault is sealed".
    Sealed,
    /// 429 from a rate-limit or lease-count quota.
    RateLimited,
    /// 5xx other than a seal.
    ServerError,
    /// The connection could not be made or broke (DNS, refused, reset, mid-body close).
    Network,
    /// The TLS handshake with Vault failed (untrusted certificate, wrong host name, expired).
    TlsError,
    /// The request did not complete within the configured timeout.
    Timeout,
    /// Vault answered something that is not what its API promises (not JSON, too large, wrong shape).
    BadResponse,
    /// The caller passed a bad argument (path, data, version, name, ...). Raised before any request.
    InvalidArgument,
    /// The configuration (options, environment, config file) is invalid. Raised before any request.
    InvalidConfig,
    /// `getCredential`: no source holds the credential. The message lists the sources tried.
    CredentialNotFound,
    /// A local credential source exists but is unusable: malformed JSON, wrong types, a symlink,
    /// too large; or a source (Vault included) holds a redaction placeholder (`[REDACTED]`, ...)
    /// where a secret belongs. The message names the file and field.
    InvalidSource,
    /// A source could not be asked at all (keychain daemon absent, file unreadable).
    SourceUnavailable,
    /// The OAuth refresh callback failed or returned unusable tokens; or the expiring token
    /// cannot be refreshed here (a read-only source, or a token a CLI owns: the message names
    /// the CLI's login command).
    RefreshFailed,
    /// Another process held a refresh claim or lock longer than the wait allowed.
    LockTimeout,
    /// A write would replace a different existing value (migration without `--overwrite`).
    Conflict,
    /// A remote store (Vault) is not being asked: a recent lookup timed out or could not connect,
    /// and its circuit breaker is open until a background probe gets an answer. Under
    /// `fallback: "none"` this is what a lookup fails with; otherwise the next source answers.
    CircuitOpen,
    /// Vault could not be reached and the value in the encrypted last-known-good file
    /// (`credentials.lastKnownGood`) is older than its `maxAgeMs`: not served (fail closed).
    LastKnownGoodExpired,
    /// A wrapped AppRole secret id that Vault does not know (used, expired) or that another
    /// endpoint created (Vault client code `WRAPPING_TOKEN_INVALID`).
    WrappingTokenInvalid,
}

impl ErrorCode {
    /// The stable string form, e.g. `"CREDENTIAL_NOT_FOUND"`.
    pub fn as_str(self) -> &'static str {
        match self.vault_code() {
            Some(code) => code.as_str(),
            None => match self {
                ErrorCode::CredentialNotFound => "CREDENTIAL_NOT_FOUND",
                ErrorCode::InvalidSource => "INVALID_SOURCE",
                ErrorCode::SourceUnavailable => "SOURCE_UNAVAILABLE",
                ErrorCode::RefreshFailed => "REFRESH_FAILED",
                ErrorCode::LockTimeout => "LOCK_TIMEOUT",
                ErrorCode::CircuitOpen => "CIRCUIT_OPEN",
                ErrorCode::LastKnownGoodExpired => "LAST_KNOWN_GOOD_EXPIRED",
                _ => "CONFLICT",
            },
        }
    }

    /// The Vault client's code this one stands for, or `None` for this layer's own codes.
    pub fn vault_code(self) -> Option<VaultCode> {
        Some(match self {
            ErrorCode::NotFound => VaultCode::NotFound,
            ErrorCode::PermissionDenied => VaultCode::PermissionDenied,
            ErrorCode::InvalidToken => VaultCode::InvalidToken,
            ErrorCode::CasMismatch => VaultCode::CasMismatch,
            ErrorCode::InvalidRequest => VaultCode::InvalidRequest,
            ErrorCode::UnsupportedOperation => VaultCode::UnsupportedOperation,
            ErrorCode::PreconditionFailed => VaultCode::PreconditionFailed,
            ErrorCode::Sealed => VaultCode::Sealed,
            ErrorCode::RateLimited => VaultCode::RateLimited,
            ErrorCode::ServerError => VaultCode::ServerError,
            ErrorCode::Network => VaultCode::Network,
            ErrorCode::TlsError => VaultCode::TlsError,
            ErrorCode::Timeout => VaultCode::Timeout,
            ErrorCode::BadResponse => VaultCode::BadResponse,
            ErrorCode::InvalidArgument => VaultCode::InvalidArgument,
            ErrorCode::InvalidConfig => VaultCode::InvalidConfig,
            ErrorCode::WrappingTokenInvalid => VaultCode::WrappingTokenInvalid,
            ErrorCode::CredentialNotFound
            | ErrorCode::InvalidSource
            | ErrorCode::SourceUnavailable
            | ErrorCode::RefreshFailed
            | ErrorCode::LockTimeout
            | ErrorCode::Conflict
            | ErrorCode::CircuitOpen
            | ErrorCode::LastKnownGoodExpired => return None,
        })
    }

    /// Every code, for documentation and exhaustive tests.
    pub const ALL: [ErrorCode; 25] = [
        ErrorCode::NotFound,
        ErrorCode::PermissionDenied,
        ErrorCode::InvalidToken,
        ErrorCode::CasMismatch,
        ErrorCode::InvalidRequest,
        ErrorCode::UnsupportedOperation,
        ErrorCode::PreconditionFailed,
        ErrorCode::Sealed,
        ErrorCode::RateLimited,
        ErrorCode::ServerError,
        ErrorCode::Network,
        ErrorCode::TlsError,
        ErrorCode::Timeout,
        ErrorCode::BadResponse,
        ErrorCode::InvalidArgument,
        ErrorCode::InvalidConfig,
        ErrorCode::CredentialNotFound,
        ErrorCode::InvalidSource,
        ErrorCode::SourceUnavailable,
        ErrorCode::RefreshFailed,
        ErrorCode::LockTimeout,
        ErrorCode::Conflict,
        ErrorCode::CircuitOpen,
        ErrorCode::LastKnownGoodExpired,
        ErrorCode::WrappingTokenInvalid,
    ];
}

impl From<VaultCode> for ErrorCode {
    fn from(code: VaultCode) -> Self {
        ErrorCode::ALL
            .into_iter()
            .find(|c| c.vault_code() == Some(code))
            .expect("every Vault code has a counterpart")
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed operation of this layer, or a Vault error it passed on (fields kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What went wrong, as a stable code.
    pub code: ErrorCode,
    /// A readable sentence naming where (file, JSON path, variable, Vault path). Never a secret.
    pub message: String,
    /// The HTTP status Vault answered, when there was an answer.
    pub status: Option<u16>,
    /// Vault's own `errors` strings, verbatim.
    pub errors: Vec<String>,
    /// The API path of the request (`/v1/secret/data/app`), when a request was made.
    pub path: Option<String>,
    /// Vault's `request_id`, when the answer carried one.
    pub request_id: Option<String>,
}

/// This layer's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with `code` and `message` and no Vault fields.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            status: None,
            errors: Vec::new(),
            path: None,
            request_id: None,
        }
    }

    /// `INVALID_ARGUMENT`.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidArgument, message)
    }

    /// `INVALID_CONFIG`.
    pub fn invalid_config(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidConfig, message)
    }

    /// `BAD_RESPONSE`.
    pub fn bad_response(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadResponse, message)
    }

    /// Sets the API path.
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Sets the HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// The stable code string.
    pub fn code(&self) -> &'static str {
        self.code.as_str()
    }

    /// A next step for a person, for the common failures (an invalid token, a denied path, a
    /// sealed or unreachable Vault, a bad config, a credential found nowhere); `None` otherwise.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self.code {
            ErrorCode::InvalidToken => "the Vault token is invalid or expired: set VAULT_TOKEN or `vault.auth` in openclaw-vault.json",
            ErrorCode::PermissionDenied => "the token's policy does not allow this path: see docs/migration-guide.md for least-privilege policies",
            ErrorCode::Sealed => "unseal Vault (vault operator unseal) and try again",
            ErrorCode::Network | ErrorCode::Timeout | ErrorCode::CircuitOpen => "check VAULT_ADDR / `vault.addr` in openclaw-vault.json and that Vault is running",
            ErrorCode::TlsError => "check VAULT_CACERT / tls.caCert and VAULT_TLS_SERVER_NAME against the certificate Vault presents",
            ErrorCode::InvalidConfig => "fix the named file or variable; `openclaw-vault status` shows the config found",
            ErrorCode::CredentialNotFound => "`openclaw-vault list` shows the names each source holds",
            _ => return None,
        })
    }

    /// Classifies an error answer from Vault by status and `errors` text (see
    /// [`VaultError::from_response`]).
    pub fn from_response(
        status: u16,
        errors: Vec<String>,
        path: &str,
        request_id: Option<String>,
    ) -> Self {
        VaultError::from_response(status, errors, path, request_id).into()
    }
}

impl From<VaultError> for Error {
    fn from(e: VaultError) -> Self {
        Error {
            code: e.code.into(),
            message: e.message,
            status: e.status,
            errors: e.errors,
            path: e.path,
            request_id: e.request_id,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_vault_codes_map_both_ways() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            if let Some(v) = code.vault_code() {
                assert_eq!(ErrorCode::from(v), code);
                assert_eq!(v.as_str(), code.as_str());
            }
        }
        for v in vault_client::ErrorCode::ALL {
            assert_eq!(ErrorCode::from(v).as_str(), v.as_str());
        }
    }
}
