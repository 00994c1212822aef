//! After `openclaw secrets apply`: agents' generated `models.json` still hold the plaintext keys
//! OpenClaw copied there, and its audit reports them. OpenClaw 2026.9.6 only rewrites a
//! `models.json` when it materialises an agent's model catalog (`ensureOpenClawModelsJson`),
//! which none of `openclaw secrets apply`, `secrets reload`, `models list`, `agent --local` or
//! a gateway start did on the states we measured, and it has no command for it. So this step
//! writes what that generation writes for a provider whose config key is a SecretRef: the
//! non-secret marker `secretref-managed` (`enforceSourceManagedProviderSecrets`), and nothing
//! else.
//!
//! An entry is only settled when it is lossless: `models.providers.<id>.apiKey` (or
//! `.headers.<name>`) in `openclaw.json` is now a SecretRef, and a credential verified in Vault
//! holds exactly the entry's value. Each file is rewritten under OpenClaw's sidecar lock
//! ([`FileLock`]), atomically, 0600, its other content unchanged; no plaintext backup is kept
//! (OpenClaw's apply keeps none either).

use std::path::PathBuf;

use secrecy::ExposeSecret;
use serde_json::Value;

use super::VerifiedInVault;
use crate::error::Result;
use crate::local_file::{read_credential_file, write_atomic, FileLock, MAX_CREDENTIAL_FILE_BYTES};
use crate::openclaw::config::parse_json5;
use crate::openclaw::paths::OpenClawPaths;
use crate::providers::files::json_file::LOCK_WAIT;
use crate::providers::openclaw_config::is_secret_ref;
use crate::providers::openclaw_models_json::{
    models_json_path, plaintext_entries, read_models_json, HEADER_FIELD_PREFIX,
};

/// The marker OpenClaw writes for a provider value managed by a non-env SecretRef.
pub const SECRETREF_MANAGED: &str = "secretref-managed";

/// One `models.json` this step rewrote, and the JSON paths it settled there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettledModelsJson {
    /// The file.
    pub file: PathBuf,
    /// `providers.<id>.apiKey`, `providers.<id>.headers.<name>`.
    pub json_paths: Vec<String>,
}

/// Replaces, in every agent's `models.json`, each plaintext value whose config source is now a
/// SecretRef and whose value is verified in Vault by [`SECRETREF_MANAGED`] (see the module
/// documentation). Returns the files changed.
///
/// Errors: `LOCK_TIMEOUT` when OpenClaw holds a file's lock longer than 10 s;
/// `INVALID_SOURCE` for a file that is not JSON; I/O errors naming the file. Files done before
/// an error stay done (each is written whole).
pub fn settle_models_json(
    paths: &OpenClawPaths,
    verified: &VerifiedInVault<'_>,
) -> Result<Vec<SettledModelsJson>> {
    let Some(state_dir) = &paths.state_dir else {
        return Ok(Vec::new());
    };
    let config = match paths.config_file().filter(|f| f.exists()) {
        Some(f) => match read_credential_file(&f, MAX_CREDENTIAL_FILE_BYTES)? {
            Some(file) => parse_json5(&file)?,
            None => Value::Null,
        },
        None => Value::Null,
    };
    let config_is_ref = |id: &str, field: &str| -> bool {
        let mut at = config.get("models").and_then(|m| m.get("providers"));
        at = at.and_then(|p| p.get(id));
        let value = match field.strip_prefix(HEADER_FIELD_PREFIX) {
            Some(name) => at.and_then(|p| p.get("headers")).and_then(|h| h.get(name)),
            None => at.and_then(|p| p.get(field)),
        };
        value.is_some_and(is_secret_ref)
    };
    let in_vault = |value: &str| {
        verified.items.iter().any(|item| {
            item.credential()
                .secrets
                .iter()
                .any(|(_, v)| v.expose_secret() == value)
        })
    };
    let mut agents: Vec<String> = std::fs::read_dir(state_dir.join("agents"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    agents.sort();
    let mut out = Vec::new();
    for agent in agents {
        let file = models_json_path(state_dir, &agent);
        if !file.is_file() {
            continue;
        }
        let _lock = FileLock::acquire(&file, LOCK_WAIT)?;
        let Some(mut doc) = read_models_json(&file)? else {
            continue;
        };
        let settle: Vec<(String, String)> = plaintext_entries(&doc.0)
            .into_iter()
            .filter(|(id, field, value)| config_is_ref(id, field) && in_vault(value))
            .map(|(id, field, value)| {
                drop(zeroize::Zeroizing::new(value));
                (id, field)
            })
            .collect();
        if settle.is_empty() {
            continue;
        }
        for (id, field) in &settle {
            let provider = &mut doc.0["providers"][id.as_str()];
            let slot = match field.strip_prefix(HEADER_FIELD_PREFIX) {
                Some(name) => &mut provider["headers"][name],
                None => &mut provider[field.as_str()],
            };
            *slot = Value::from(SECRETREF_MANAGED);
        }
        // As OpenClaw writes it: JSON.stringify(doc, null, 2) and a newline.
        let mut text = zeroize::Zeroizing::new(
            serde_json::to_string_pretty(&doc.0).expect("a JSON value serialises"),
        );
        text.push('\n');
        write_atomic(&file, text.as_bytes())?;
        out.push(SettledModelsJson {
            file: file.clone(),
            json_paths: settle
                .iter()
                .map(|(id, field)| format!("providers.{id}.{field}"))
                .collect(),
        });
    }
    Ok(out)
}
