//! A token read from a file, as Vault Agent's sink writes it. No request: the "login" reads the
//! file, and the session re-reads it whenever it changes.

use std::path::Path;

use futures_util::future::BoxFuture;
use secrecy::SecretString;

use super::{read_secret_file, FieldReader, IssuedToken, LoginMethod};
use crate::error::Result;
use crate::http::HttpClient;
use crate::tls::FileInput;

/// A token file.
#[derive(Debug, Clone)]
pub struct TokenFile {
    /// The file; its content, trimmed, is the token.
    pub file: FileInput,
}

impl TokenFile {
    /// Field `token_file` (required).
    pub(super) fn from_fields(f: &FieldReader<'_>) -> Result<Self> {
        Ok(TokenFile {
            file: f.required_file("token_file")?,
        })
    }
}

impl LoginMethod for TokenFile {
    fn name(&self) -> &'static str {
        "token_file"
    }

    fn validate(&self) -> Result<()> {
        read_secret_file(&self.file).map(drop)
    }

    fn login<'a>(&'a self, _http: &'a HttpClient) -> BoxFuture<'a, Result<IssuedToken>> {
        Box::pin(async move {
            Ok(IssuedToken {
                token: read_secret_file(&self.file)?,
                // The TTL is unknown until `lookup-self`.
                lease_duration: 0,
                renewable: false,
            })
        })
    }

    fn watched_file(&self) -> Option<&Path> {
        Some(&self.file.path)
    }

    /// The token in the file now: it changes when Vault Agent re-authenticates.
    fn stable_secret(&self) -> Option<Result<SecretString>> {
        Some(read_secret_file(&self.file))
    }
}
