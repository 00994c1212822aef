//! Credential providers: every place a credential can live, behind one trait. The chain in
//! `credentials` asks them in order; each answers for itself and never reaches back up.

pub mod env;
pub mod files;
pub mod keychain;
pub mod openclaw_config;

use async_trait::async_trait;

pub mod vault;

use super::credential::{Credential, CredentialVersion, SourceGroup};
use super::error::{Error, ErrorCode, Result};

/// One name a provider holds, without its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub name: String,
    /// Where it lives (file path, Vault path, variable, keychain service).
    pub location: String,
}

/// A source of credentials. `get` answers `Ok(None)` when the source simply does not hold the
/// name; `Err` means the source holds something unusable or could not be asked, and the chain
/// records that and moves on to the next source.
#[async_trait]
pub trait CredentialProvider: Send + Sync {
    /// Stable id used in `source.provider`, audit lines and `listCredentials` (`vault`,
    /// `claude-code`, `qwen`, `codex`, `auth-profiles`, `openclaw-config`, `dotenv`, `env`, ...).
    fn id(&self) -> &'static str;

    /// The group `order` refers to.
    fn group(&self) -> SourceGroup;

    async fn get(&self, name: &str) -> Result<Option<Credential>>;

    async fn list(&self) -> Result<Vec<Listing>>;

    /// Whether `put` writes back (used for OAuth refresh and migration).
    fn writable(&self) -> bool {
        false
    }

    /// Writes `credential` back to this source. `expected` is the version it was read at: the
    /// write fails with `CAS_MISMATCH` when the source changed since. Sources keep every field
    /// they do not own (e.g. `mcpOAuth` in Claude Code's file).
    async fn put(
        &self,
        credential: &Credential,
        expected: Option<&CredentialVersion>,
    ) -> Result<CredentialVersion> {
        let _ = (credential, expected);
        Err(Error::new(
            ErrorCode::UnsupportedOperation,
            format!("the {} source is read-only", self.id()),
        ))
    }
}
