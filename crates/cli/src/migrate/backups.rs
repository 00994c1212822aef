//! `migrate`'s report of the `openclaw.json` backups still holding migrated plaintext
//! ([`migrate::plaintext_backups`]) and `--remove-backups`. Paths and JSON paths only.

use std::io::Write;

use serde_json::{json, Value};

use super::super::CliIo;
use openclaw_credentials::migrate::{self, PlaintextBackup};
use openclaw_credentials::openclaw::paths::OpenClawPaths;

/// Finds the backups, prints them (or removes them with `remove`) and fills
/// `out["plaintextLeftBehind"]` / `out["removedBackups"]`. False when a removal failed.
pub(super) fn report(
    io: &mut CliIo,
    json_out: bool,
    paths: &OpenClawPaths,
    remove: bool,
    out: &mut Value,
) -> bool {
    let found: Vec<PlaintextBackup> = match migrate::plaintext_backups(paths) {
        Ok(f) => f,
        Err(e) => {
            if !json_out {
                let _ = writeln!(
                    io.stderr,
                    "warning: backups of openclaw.json not checked for plaintext: [{}] {}",
                    e.code(),
                    e.message
                );
            }
            out["plaintextLeftBehind"] = json!({"error": {"code": e.code(), "message": e.message}});
            return true;
        }
    };
    out["plaintextLeftBehind"] = Value::Array(
        found
            .iter()
            .map(|b| json!({"file": b.file, "jsonPaths": b.json_paths}))
            .collect(),
    );
    if found.is_empty() {
        return true;
    }
    if !remove {
        if !json_out {
            let _ = writeln!(
                io.stderr,
                "warning: {} backup(s) of openclaw.json still hold plaintext of secrets now in Vault (OpenClaw's rollback copies from its `secrets apply`; its audit does not scan them):",
                found.len()
            );
            for b in &found {
                let _ = writeln!(
                    io.stderr,
                    "  {} ({})",
                    b.file.display(),
                    b.json_paths.join(", ")
                );
            }
            let _ = writeln!(
                io.stderr,
                "hint: the values are in Vault; pass --remove-backups to delete exactly these files (you lose OpenClaw's rollback copies; see \"5. Rollback\" in docs/migration-guide.md)"
            );
        }
        return true;
    }
    let mut ok = true;
    let mut removed = Vec::new();
    for (file, result) in migrate::remove_backups(&found) {
        match result {
            Ok(()) => {
                if !json_out {
                    let _ = writeln!(
                        io.stdout,
                        "removed {} (an OpenClaw rollback copy holding plaintext; the values are in Vault)",
                        file.display()
                    );
                }
                removed.push(json!({"file": file}));
            }
            Err(e) => {
                ok = false;
                if !json_out {
                    let _ = writeln!(io.stderr, "error [{}]: {}", e.code(), e.message);
                }
                removed
                    .push(json!({"file": file, "error": {"code": e.code(), "message": e.message}}));
            }
        }
    }
    out["removedBackups"] = Value::Array(removed);
    ok
}
