//! Credential files other tools and OpenClaw itself keep on the user's machine.
//!
//! Single-file formats are rows of one table ([`formats`]: Claude Code's `.credentials.json`,
//! Codex CLI's `auth.json`, the `oauth_creds.json` of Qwen Code, MiniMax and Gemini CLI, and
//! OpenClaw's legacy `credentials/oauth.json`), each served by the one [`JsonFileProvider`].
//! OpenClaw's per-agent `auth-profiles.json` ([`auth_profiles`]) holds many typed profiles in many
//! files and keeps its own lookup rules, on the same machinery.
//!
//! Every file is read through [`local_file`](crate::local_file) (size cap, no symlinks,
//! world-readable warning) and checked against its format ([`format`]); a file that does not fit
//! is `INVALID_SOURCE` with the file, the JSON path and what was expected, never the value. OAuth
//! sources are written back under the file's lock, only when the file is unchanged since it was
//! read (`CAS_MISMATCH` otherwise), keeping every field they do not own, in the file's key order
//! and indentation, atomically with mode 0600 ([`json_file`]). A file that does not parse is
//! never rewritten.

pub mod auth_profiles;
pub mod format;
pub mod formats;
pub mod json_file;
pub mod provider;
pub mod typed;

#[cfg(test)]
mod tests;

use std::sync::Arc;

pub use format::FileFormat;
pub use json_file::LOCK_WAIT;
pub use provider::JsonFileProvider;

use super::CredentialProvider;
use crate::openclaw::paths::OpenClawPaths;

/// Every file provider for `paths`, in the order the chain asks them: `claude-code`, `codex`,
/// `qwen`, `minimax`, `gemini-cli`, `auth-profiles`, `openclaw-oauth`. A source whose home is
/// unknown (no `HOME`) is left out.
pub fn file_providers(paths: &OpenClawPaths) -> Vec<Arc<dyn CredentialProvider>> {
    let single = |format: &'static FileFormat| {
        JsonFileProvider::from_paths(format, paths)
            .map(|p| Arc::new(p) as Arc<dyn CredentialProvider>)
    };
    let mut providers: Vec<Arc<dyn CredentialProvider>> = [
        &formats::CLAUDE_CODE,
        &formats::CODEX,
        &formats::QWEN,
        &formats::MINIMAX,
        &formats::GEMINI_CLI,
    ]
    .into_iter()
    .filter_map(single)
    .collect();
    if let Some(p) = auth_profiles::AuthProfilesProvider::from_paths(paths) {
        providers.push(Arc::new(p));
    }
    providers.extend(single(&formats::OPENCLAW_OAUTH));
    providers
}
