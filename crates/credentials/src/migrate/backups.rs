//! The backups of `openclaw.json` that still hold plaintext of secrets now in Vault.
//!
//! OpenClaw's `secrets apply` keeps rotating rollback copies of the config it rewrites
//! (`openclaw.json.bak`, `.bak.1` ... `.bak.4`), and `--rewrite-config-json5` keeps its own
//! `openclaw.json.bak-<time>`: each still holds the plaintext the rewrite replaced by a ref, and
//! OpenClaw's `secrets audit` does not scan them. [`plaintext_backups`] finds those holding a
//! plaintext value at a path the current config points at Vault (so the value was migrated);
//! [`remove_backups`] deletes exactly those files.

use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorCode, Result};
use crate::local_file::read_credential_file;
use crate::openclaw::config::parse_json5;
use crate::openclaw::paths::OpenClawPaths;
use crate::providers::openclaw_config::plaintext_fields;

/// One backup of `openclaw.json` holding migrated plaintext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaintextBackup {
    /// The backup file (next to `openclaw.json`).
    pub file: PathBuf,
    /// The JSON paths where it holds plaintext the current config keeps in Vault (never the
    /// values), sorted.
    pub json_paths: Vec<String>,
}

/// Every `<config>.bak*` file next to the config (OpenClaw's `openclaw.json.bak`, `.bak.<n>`,
/// this package's `.bak-<time>`) that holds plaintext at a JSON path where the current config
/// holds an exec ref to this package's provider. Sorted by file name. A backup that cannot be
/// read or parsed is not listed (it cannot be judged; nothing is deleted without a judgement).
pub fn plaintext_backups(paths: &OpenClawPaths) -> Result<Vec<PlaintextBackup>> {
    let Some(config) = paths.config_file().filter(|f| f.exists()) else {
        return Ok(Vec::new());
    };
    let Some(file) = read_credential_file(&config, crate::openclaw::MAX_CONFIG_FILE_BYTES)? else {
        return Ok(Vec::new());
    };
    let doc = parse_json5(&file)?;
    let mut refs = Vec::new();
    super::own_refs::walk(&doc, &mut Vec::new(), &mut refs);
    if refs.is_empty() {
        return Ok(Vec::new());
    }
    let (Some(dir), Some(name)) = (config.parent(), config.file_name().and_then(|n| n.to_str()))
    else {
        return Ok(Vec::new());
    };
    let prefix = format!("{name}.bak");
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::new(
            ErrorCode::SourceUnavailable,
            format!("{}: cannot be listed ({})", dir.display(), e.kind()),
        )
    })?;
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let n = entry.file_name();
        let Some(n) = n.to_str() else { continue };
        if !n.starts_with(&prefix) || !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.path();
        let Ok(Some(text)) = read_credential_file(&path, crate::openclaw::MAX_CONFIG_FILE_BYTES)
        else {
            continue;
        };
        let Ok(backup) = parse_json5(&text) else {
            continue;
        };
        let mut json_paths: Vec<String> = plaintext_fields(&backup)
            .into_iter()
            .map(|f| f.dotted())
            .filter(|p| refs.iter().any(|(r, _)| r == p))
            .collect();
        json_paths.sort();
        json_paths.dedup();
        if !json_paths.is_empty() {
            out.push(PlaintextBackup {
                file: path,
                json_paths,
            });
        }
    }
    out.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(out)
}

/// Deletes each of `backups` (found by [`plaintext_backups`]); one result per file.
pub fn remove_backups(backups: &[PlaintextBackup]) -> Vec<(PathBuf, Result<()>)> {
    backups
        .iter()
        .map(|b| {
            let r = remove(&b.file);
            (b.file.clone(), r)
        })
        .collect()
}

fn remove(file: &Path) -> Result<()> {
    match std::fs::remove_file(file) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::new(
            ErrorCode::SourceUnavailable,
            format!("{}: cannot be removed ({})", file.display(), e.kind()),
        )),
    }
}
