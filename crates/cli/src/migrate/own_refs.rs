//! `migrate`'s report of the refs an earlier `--rewrite-config` left in OpenClaw's state
//! ([`migrate::check_own_refs`]): how many still resolve, and each one whose secret is gone
//! from Vault, with what points at it and how to restore it. Names and paths only, never a value.

use std::io::Write;

use serde_json::{json, Value};

use super::super::CliIo;
use openclaw_credentials::migrate::{OwnRef, RefState};

/// The stable code of a ref whose Vault secret is gone.
const MISSING_CODE: &str = "CREDENTIAL_NOT_FOUND";

/// The Vault secret's name for `get`/`put` (`<prefix>/credentials/<name>` paths), if it is one.
fn name_of(r: &OwnRef) -> Option<&str> {
    let rel = r.vault_path.split_once('/')?.1;
    let i = rel.find("credentials/")?;
    (i == 0 || rel.as_bytes()[i - 1] == b'/').then(|| &rel[i + "credentials/".len()..])
}

/// The `vault kv` path form: `-mount=<mount> <path>`.
fn kv_args(r: &OwnRef) -> String {
    match r.vault_path.split_once('/') {
        Some((mount, rel)) => format!("-mount={mount} {rel}"),
        None => r.vault_path.clone(),
    }
}

fn target(r: &OwnRef) -> String {
    match &r.agent_id {
        Some(a) => format!("{} {} (agent {a})", r.file.display(), r.json_path),
        None => format!("{} {}", r.file.display(), r.json_path),
    }
}

/// How to get the secret of a missing ref back.
fn restore_hint(r: &OwnRef) -> String {
    match &r.state {
        RefState::SoftDeleted { version } => format!(
            "it was soft-deleted: restore it with `vault kv undelete -versions={version} {}`",
            kv_args(r)
        ),
        _ => {
            let put = name_of(r)
                .map(|n| format!("`openclaw-vault put {n}`"))
                .unwrap_or_else(|| "`vault kv put`".into());
            format!(
                "nothing to undelete: write the value back with {put} (openclaw.json.bak* and the agent stores' backups hold pre-migration copies), or follow \"5. Rollback\" in docs/migration-guide.md"
            )
        }
    }
}

/// One line per problem on stderr, one summary line on stdout.
pub(super) fn print(io: &mut CliIo, refs: &[OwnRef]) {
    if refs.is_empty() {
        return;
    }
    let ok = refs.iter().filter(|r| r.state == RefState::InVault).count();
    let _ = writeln!(
        io.stdout,
        "{ok} of {} OpenClaw refs to Vault (written by an earlier --rewrite-config) verified in Vault",
        refs.len()
    );
    for r in refs {
        match &r.state {
            RefState::InVault => {}
            RefState::Unchecked { code, message } => {
                let _ = writeln!(
                    io.stderr,
                    "error [{code}]: {} points at Vault ({}), which could not be checked: {message}",
                    target(r),
                    r.id
                );
            }
            _ => {
                let _ = writeln!(
                    io.stderr,
                    "error [{MISSING_CODE}]: {} points at {} field {}, which is not in Vault: OpenClaw cannot resolve it; {}",
                    target(r),
                    r.vault_path,
                    r.field,
                    restore_hint(r)
                );
            }
        }
    }
}

/// The `refsInVault` part of `--json`: counts and every ref that does not resolve.
pub(super) fn to_json(refs: &[OwnRef]) -> Value {
    let problems: Vec<Value> = refs
        .iter()
        .filter(|r| r.state != RefState::InVault)
        .map(|r| {
            let (code, state, detail) = match &r.state {
                RefState::SoftDeleted { .. } => (MISSING_CODE, "soft_deleted", restore_hint(r)),
                RefState::Missing => (MISSING_CODE, "missing", restore_hint(r)),
                RefState::Unchecked { code, message } => (*code, "unchecked", message.clone()),
                RefState::InVault => unreachable!("filtered out"),
            };
            json!({
                "code": code,
                "state": state,
                "name": name_of(r),
                "vaultPath": r.vault_path,
                "field": r.field,
                "file": r.file,
                "jsonPath": r.json_path,
                "agentId": r.agent_id,
                "restore": detail,
            })
        })
        .collect();
    // Every ref, for scripts (the rollback in docs/migration-guide.md walks them).
    let all: Vec<Value> = refs
        .iter()
        .map(|r| {
            json!({
                "name": name_of(r),
                "vaultPath": r.vault_path,
                "field": r.field,
                "file": r.file,
                "jsonPath": r.json_path,
                "agentId": r.agent_id,
                "inVault": r.state == RefState::InVault,
            })
        })
        .collect();
    json!({
        "total": refs.len(),
        "verified": refs.iter().filter(|r| r.state == RefState::InVault).count(),
        "problems": problems,
        "refs": all,
    })
}

/// True when a ref does not resolve (or could not be checked): the run fails.
pub(super) fn failed(refs: &[OwnRef]) -> bool {
    refs.iter().any(|r| r.state != RefState::InVault)
}
