//! The one error type of the Vault client. Every failure maps to a stable [`ErrorCode`] string that the
//! binding and the CLI expose unchanged. Messages are built only from Vault's `errors` strings,
//! paths and option names: never from a token or a secret value.

use std::fmt;

/// Stable, documented error codes. The string form (`code()`) is part of the public API.
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
    /// 400, 413, 415 and other 4xx refusals of the request itself; also a 404 "no handler for
    /// route" (no mount at the path).
    InvalidRequest,
    /// 405: the endpoint does not support the method.
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
    /// The TLS handshake failed: a certificate that is not trusted (unknown CA, wrong host name,
    /// expired), a refused client certificate, or no protocol in common. Permanent: not retried.
    TlsError,
    /// The request did not complete within the configured timeout.
    Timeout,
    /// Vault answered something that is not what its API promises (not JSON, too large, wrong shape).
    BadResponse,
    /// The caller passed a bad argument (path, data, version, ...). Raised before any request.
    InvalidArgument,
    /// The client's configuration (options or environment) is invalid. Raised before any request.
    InvalidConfig,
    /// A response-wrapping token (a wrapped AppRole secret id) that Vault does not know (already
    /// unwrapped, expired, revoked, mistyped), or one created by another endpoint than expected
    /// (`creation_path` is not `auth/<mount>/role/<role>/secret-id`). Never retried.
    WrappingTokenInvalid,
}

impl ErrorCode {
    /// The stable string form, e.g. `"NOT_FOUND"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::PermissionDenied => "PERMISSION_DENIED",
            ErrorCode::InvalidToken => "INVALID_TOKEN",
            ErrorCode::CasMismatch => "CAS_MISMATCH",
            ErrorCode::InvalidRequest => "INVALID_REQUEST",
            ErrorCode::UnsupportedOperation => "UNSUPPORTED_OPERATION",
            ErrorCode::PreconditionFailed => "PRECONDITION_FAILED",
            ErrorCode::Sealed => "SEALED",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::ServerError => "SERVER_ERROR",
            ErrorCode::Network => "NETWORK",
            ErrorCode::TlsError => "TLS_ERROR",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::BadResponse => "BAD_RESPONSE",
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::InvalidConfig => "INVALID_CONFIG",
            ErrorCode::WrappingTokenInvalid => "WRAPPING_TOKEN_INVALID",
        }
    }

    /// Every code, for documentation and exhaustive tests.
    pub const ALL: [ErrorCode; 17] = [
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
        ErrorCode::WrappingTokenInvalid,
    ];
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed Vault operation, or a refusal before one was attempted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultError {
    /// What kind of failure; its string form is stable.
    pub code: ErrorCode,
    /// What happened, for people: names paths, options and Vault's `errors`, never a secret.
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

/// A `Result` whose error is a [`VaultError`].
pub type Result<T, E = VaultError> = std::result::Result<T, E>;

impl VaultError {
    /// An error with `code` and `message` and nothing else.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        VaultError {
            code,
            message: message.into(),
            status: None,
            errors: Vec::new(),
            path: None,
            request_id: None,
        }
    }

    /// `INVALID_ARGUMENT`: a bad argument, refused before any request.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidArgument, message)
    }

    /// `INVALID_CONFIG`: a bad setting, refused before any request.
    pub fn invalid_config(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidConfig, message)
    }

    /// `BAD_RESPONSE`: Vault answered something its API does not promise.
    pub fn bad_response(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadResponse, message)
    }

    /// The same error, about the request to `path` (`/v1/...`).
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// The same error, with the HTTP status Vault answered.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// The stable code string.
    pub fn code(&self) -> &'static str {
        self.code.as_str()
    }

    /// Classifies an error answer from Vault by status and `errors` text.
    pub fn from_response(
        status: u16,
        errors: Vec<String>,
        path: &str,
        request_id: Option<String>,
    ) -> Self {
        let has = |needle: &str| {
            errors
                .iter()
                .any(|e| e.to_ascii_lowercase().contains(needle))
        };
        let code = match status {
            400 if has("check-and-set") => ErrorCode::CasMismatch,
            401 => ErrorCode::InvalidToken,
            403 if has("invalid token") || has("token is expired") => ErrorCode::InvalidToken,
            403 => ErrorCode::PermissionDenied,
            // No mount or handler at the path (a mistyped mount): the request is wrong, which
            // is not the same as "this secret does not exist".
            404 if has("no handler for route") => ErrorCode::InvalidRequest,
            404 => ErrorCode::NotFound,
            405 => ErrorCode::UnsupportedOperation,
            412 => ErrorCode::PreconditionFailed,
            429 => ErrorCode::RateLimited,
            503 if has("sealed") => ErrorCode::Sealed,
            500..=599 => ErrorCode::ServerError,
            _ => ErrorCode::InvalidRequest,
        };
        let detail = if errors.is_empty() {
            String::new()
        } else {
            let flat: Vec<&str> = errors.iter().flat_map(|e| multierror_items(e)).collect();
            format!(": {}", flat.join("; "))
        };
        VaultError {
            code,
            message: format!("Vault answered {status} for {path}{detail}"),
            status: Some(status),
            errors,
            path: Some(path.to_string()),
            request_id,
        }
    }
}

/// A parser error as text that never quotes the input: the category (not JSON, cut short, the
/// wrong shape), what was expected, the field named by a missing-field error, and the line and
/// column; never the value that was found. serde writes the offending string, number or key into
/// its message (`invalid type: string "sk-...", expected a map`), and that input can be a secret.
/// Every parse of a Vault answer in this crate goes through this function.
pub fn scrub_json_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let text = e.to_string();
    let text = if e.line() > 0 {
        let at = format!(" at line {} column {}", e.line(), e.column());
        text.strip_suffix(&at).unwrap_or(&text).to_string()
    } else {
        text
    };
    let detail = match e.classify() {
        // Syntax and end-of-input messages are fixed phrases ("expected value", "trailing
        // characters"), but cut at any quote all the same.
        Category::Syntax | Category::Eof | Category::Io => before_quote(&text).to_string(),
        Category::Data => scrub_data_message(&text),
    };
    let category = match e.classify() {
        Category::Syntax => "not valid JSON",
        Category::Eof => "cut short",
        Category::Data => "the wrong shape",
        Category::Io => "unreadable",
    };
    let detail = if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    };
    if e.line() > 0 {
        format!(
            "{category}{detail} (line {}, column {})",
            e.line(),
            e.column()
        )
    } else {
        format!("{category}{detail}")
    }
}

/// serde's data errors: `invalid type: <found>, expected <what>`, `invalid value: ...`,
/// `unknown field `<key>`, expected ...`, `missing field `<name>``. The part after the last
/// `, expected ` comes from this crate's types, and so do the names of missing or duplicate
/// fields; everything quoted before it is input and is dropped.
fn scrub_data_message(text: &str) -> String {
    if let Some(rest) = text
        .strip_prefix("missing field `")
        .or_else(|| text.strip_prefix("duplicate field `"))
    {
        // The name is a field of a struct declared here, not a key of the input.
        let what = text.split('`').next().unwrap_or_default().trim_end();
        if let Some(name) = rest.strip_suffix('`') {
            if !name.contains(['`', '"']) {
                return format!("{what} `{name}`");
            }
        }
        return what.to_string();
    }
    let (found, expected) = match text.rfind(", expected ") {
        Some(i) => (&text[..i], Some(&text[i + 2..])),
        None => (text, None),
    };
    let found = before_quote(found);
    match expected {
        Some(expected) => format!("{found}, {expected}"),
        None => found.to_string(),
    }
}

/// The text up to the first quote or backtick (where serde starts quoting input), trimmed.
fn before_quote(text: &str) -> &str {
    let end = text.find(['"', '`', '\'']).unwrap_or(text.len());
    text[..end].trim_end().trim_end_matches(':').trim_end()
}

/// Vault often answers one go-multierror string, `"2 errors occurred:\n\t* a\n\t* b\n\n"`, where
/// the API documentation shows `["a", "b"]`. The message lists the items; `errors` stays verbatim.
fn multierror_items(e: &str) -> Vec<&str> {
    let items: Vec<&str> = e
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("* "))
        .map(str::trim)
        .collect();
    if items.is_empty() {
        vec![e.trim()]
    } else {
        items
    }
}

impl fmt::Display for VaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for VaultError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(status: u16, errors: &[&str]) -> ErrorCode {
        let errors = errors.iter().map(|s| s.to_string()).collect();
        VaultError::from_response(status, errors, "/v1/x", None).code
    }

    #[test]
    fn classifies_vault_answers() {
        assert_eq!(classify(404, &[]), ErrorCode::NotFound);
        assert_eq!(
            classify(
                404,
                &["no handler for route \"typo/data/x\". route entry not found."]
            ),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            classify(403, &["permission denied"]),
            ErrorCode::PermissionDenied
        );
        assert_eq!(
            classify(403, &["permission denied", "invalid token"]),
            ErrorCode::InvalidToken
        );
        assert_eq!(
            classify(
                400,
                &["check-and-set parameter did not match the current version"]
            ),
            ErrorCode::CasMismatch
        );
        assert_eq!(
            classify(400, &["no data provided"]),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            classify(415, &["PATCH requires ..."]),
            ErrorCode::InvalidRequest
        );
        assert_eq!(classify(405, &[]), ErrorCode::UnsupportedOperation);
        assert_eq!(classify(412, &[]), ErrorCode::PreconditionFailed);
        assert_eq!(
            classify(429, &["rate limit quota exceeded"]),
            ErrorCode::RateLimited
        );
        assert_eq!(classify(503, &["Vault is sealed"]), ErrorCode::Sealed);
        assert_eq!(classify(503, &["upstream down"]), ErrorCode::ServerError);
        assert_eq!(classify(500, &[]), ErrorCode::ServerError);
    }

    #[test]
    fn multierror_strings_read_as_their_items() {
        let errors =
            vec!["2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n".to_string()];
        let err = VaultError::from_response(403, errors.clone(), "/v1/x", None);
        assert_eq!(err.code, ErrorCode::InvalidToken);
        assert_eq!(
            err.message,
            "Vault answered 403 for /v1/x: permission denied; invalid token"
        );
        assert_eq!(err.errors, errors);
        let plain = VaultError::from_response(400, vec!["no data provided".into()], "/v1/x", None);
        assert_eq!(
            plain.message,
            "Vault answered 400 for /v1/x: no data provided"
        );
    }

    #[test]
    fn codes_are_distinct() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
        }
    }
}
