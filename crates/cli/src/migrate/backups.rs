//! `migrate`'s report of the `openclaw.json` backups still holding migrated plaintext
//! ([`migrate::plaintext_backups`]) and `--remove-backups`. Paths and JSON paths only.

use std::io::Write;

use serde_json::{json, Value};

use super::super::CliIo;
use openclaw_credentials::migrate::{self, PlaintextBackup};

/// Finds the backups, checks them against Vault, prints them (or removes the removable ones
/// with `remove`) and fills `out["plaintextLeftBehind"]` / `out["removedBackups"]` /
/// `out["keptBackups"]`. False when a removal failed or `remove` had to keep a backup holding
/// a secret not in Vault. `refs_failed`: an own ref did not resolve this run, so the hint that
/// "the values are in Vault" is not printed.
pub(super) async fn report(
    io: &mut CliIo,
    json_out: bool,
    store: &openclaw_credentials::store::Store,
    remove: bool,
    refs_failed: bool,
    out: &mut Value,
) -> bool {
    let archives_ok = archives(io, json_out, store, remove, out).await;
    config_backups(io, json_out, store, remove, refs_failed, out).await && archives_ok
}

/// `openclaw doctor --fix`'s archives of the retired credential files it imported
/// ([`migrate::legacy_archives`]): a warning per archive saying whether its plaintext is in
/// Vault; with `remove`, the archives whose every secret is in Vault are deleted and the others
/// kept with the warning (not a failure: OpenClaw imported their content into its own store, so
/// they are not the last copy, and an OAuth login it owns is never in Vault). False only when a
/// removal failed. Fills `out["legacyArchives"]` (and `out["removedArchives"]`).
async fn archives(
    io: &mut CliIo,
    json_out: bool,
    store: &openclaw_credentials::store::Store,
    remove: bool,
    out: &mut Value,
) -> bool {
    let mut found = migrate::legacy_archives(&store.paths);
    if found.is_empty() {
        return true;
    }
    migrate::check_archives_against_vault(&store.chain, &mut found).await;
    out["legacyArchives"] = Value::Array(
        found
            .iter()
            .map(|a| json!({"file": a.file, "secrets": a.secrets, "notInVault": a.not_in_vault}))
            .collect(),
    );
    let mut ok = true;
    if !json_out {
        for a in &found {
            let what = match (a.is_removable(), remove) {
                (true, true) => continue,
                (true, false) => {
                    "every one of them is in Vault; --remove-backups deletes it".to_string()
                }
                (false, _) => format!(
                    "{} of them in no version in Vault (an OAuth login OpenClaw keeps refreshing in its own store is never migrated); kept, delete it yourself once you no longer need it",
                    a.not_in_vault
                ),
            };
            let _ = writeln!(
                io.stderr,
                "warning: {} is an archive `openclaw doctor --fix` left of a retired credential file; it holds {} plaintext secret value(s), {what}",
                a.file.display(),
                a.secrets
            );
        }
    }
    if remove {
        let mut removed = Vec::new();
        for (file, result) in migrate::remove_archives(&found) {
            match result {
                Ok(()) => {
                    if !json_out {
                        let _ = writeln!(
                            io.stdout,
                            "removed {} (an `openclaw doctor` archive holding plaintext; the values are in Vault)",
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
                    removed.push(
                        json!({"file": file, "error": {"code": e.code(), "message": e.message}}),
                    );
                }
            }
        }
        out["removedArchives"] = Value::Array(removed);
    }
    ok
}

/// The `openclaw.json` backups part of [`report`].
async fn config_backups(
    io: &mut CliIo,
    json_out: bool,
    store: &openclaw_credentials::store::Store,
    remove: bool,
    refs_failed: bool,
    out: &mut Value,
) -> bool {
    let paths = &store.paths;
    let found = match migrate::plaintext_backups(paths) {
        Ok(mut f) => migrate::check_backups_against_vault(paths, &store.chain, &mut f)
            .await
            .map(|()| f),
        Err(e) => Err(e),
    };
    let found: Vec<PlaintextBackup> = match found {
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
            .map(|b| json!({"file": b.file, "jsonPaths": b.json_paths, "notInVault": b.not_in_vault}))
            .collect(),
    );
    if found.is_empty() {
        return true;
    }
    let kept: Vec<&PlaintextBackup> = found.iter().filter(|b| !b.is_removable()).collect();
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
            print_kept(io, &kept, "warning");
            if kept.is_empty() && !refs_failed {
                let _ = writeln!(
                    io.stderr,
                    "hint: the values are in Vault; pass --remove-backups to delete exactly these files (you lose OpenClaw's rollback copies; see \"5. Rollback\" in docs/migration-guide.md)"
                );
            }
        }
        return true;
    }
    let mut ok = kept.is_empty();
    if !json_out {
        print_kept(io, &kept, "error");
    }
    out["keptBackups"] = Value::Array(
        kept.iter()
            .map(|b| json!({"file": b.file, "code": KEPT_CODE, "notInVault": b.not_in_vault}))
            .collect(),
    );
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

/// The code of a backup `--remove-backups` keeps because it holds a secret not in Vault.
const KEPT_CODE: &str = "CREDENTIAL_NOT_FOUND";

/// One line per backup holding a secret no version in Vault has (byte for byte): a warning
/// while nothing is removed, an error when `--remove-backups` must keep it (exit 1).
fn print_kept(io: &mut CliIo, kept: &[&PlaintextBackup], level: &str) {
    for b in kept {
        let _ = writeln!(
            io.stderr,
            "{level} [{KEPT_CODE}]: {} is kept: its plaintext at {} is in no version in Vault (deleted or destroyed there, or never written); it may be the last copy of that value. If it is a value you still need, `openclaw-vault put` it; if Vault's value is newer, delete this file yourself",
            b.file.display(),
            b.not_in_vault.join(", ")
        );
    }
}
