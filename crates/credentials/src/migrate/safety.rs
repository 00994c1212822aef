//! Checks around OpenClaw's `secrets apply` that do not trust this package's own discovery:
//! before, OpenClaw's audit is asked which plaintext profiles a `models.providers.<p>.apiKey`
//! target would scrub (apply strips the key from every profile of that provider, in every auth
//! store it walks); after, openclaw.json and the SQLite auth stores are read back (read-only) to
//! see that every target holds its ref.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::apply_plan::{run_with_deadline, ApplyPlan, OpenClawCli};
use super::VerifiedInVault;
use crate::error::{Error, ErrorCode, Result};
use crate::openclaw::paths::OpenClawPaths;
use crate::providers::openclaw_sqlite::{auth_store_profiles, AuthStoreKind};

/// One `PLAINTEXT_FOUND` auth profile finding of `openclaw secrets audit --json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaintextProfile {
    /// The store file (`file`).
    pub file: PathBuf,
    /// `profiles.<profileId>.<field>` (`jsonPath`).
    pub json_path: String,
    /// The profile's provider (`provider`).
    pub provider: String,
    /// The profile id (`profileId`).
    pub profile_id: String,
}

/// Runs `openclaw secrets audit --json` and returns its plaintext auth profile findings.
/// `INVALID_CONFIG` naming the CLI when it cannot be run or prints no report.
pub fn audit_plaintext_profiles(cli: &OpenClawCli) -> Result<Vec<PlaintextProfile>> {
    let args: [&std::ffi::OsStr; 3] = ["secrets".as_ref(), "audit".as_ref(), "--json".as_ref()];
    let fail = |detail: String| {
        Error::new(
            ErrorCode::InvalidConfig,
            format!(
                "openclaw CLI {}: secrets audit: {detail}; nothing was applied",
                cli.command.display()
            ),
        )
    };
    let run = run_with_deadline(
        &cli.command,
        &args,
        super::apply_plan::OPENCLAW_CLI_DEADLINE,
    )
    .map_err(|e| fail(e.to_string()))?;
    let out = run.stdout;
    let code = match (run.code, run.timed_out) {
        (_, true) => "killed at the deadline".to_string(),
        (Some(c), _) => format!("exit code {c}"),
        (None, _) => "killed by a signal".to_string(),
    };
    // The report carries no secret values (paths, codes and messages only).
    let report: Value = out
        .find('{')
        .and_then(|start| serde_json::from_str(&out[start..]).ok())
        .ok_or_else(|| fail(format!("{code}, printed no JSON report")))?;
    let findings = report
        .get("findings")
        .and_then(Value::as_array)
        .ok_or_else(|| fail("the report has no `findings` list".into()))?;
    Ok(findings
        .iter()
        .filter(|f| f.get("code").and_then(Value::as_str) == Some("PLAINTEXT_FOUND"))
        .filter_map(|f| {
            let s = |k: &str| f.get(k).and_then(Value::as_str).map(String::from);
            Some(PlaintextProfile {
                file: PathBuf::from(s("file")?),
                json_path: s("jsonPath")?,
                provider: s("provider")?,
                profile_id: s("profileId")?,
            })
        })
        .collect())
}

fn same_file(a: &Path, b: &Path) -> bool {
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    canon(a) == canon(b)
}

/// The plaintext profiles OpenClaw's apply of `plan` would scrub without this run having put
/// their value in Vault: for every `models.providers.<p>.apiKey` target, each plaintext profile
/// of provider `<p>` (as the audit found them) that no verified item was read from, or whose item
/// is not the one the target's ref points at (a different value). `path_of` is the Vault path of
/// a credential name (`VaultProvider::path_of`), the ref id being `<path>/<field>` escaped as
/// `migrate` writes it ([`crate::exec_id::encode`]).
pub fn unmigrated_profiles_scrubbed(
    plan: &ApplyPlan,
    audit: &[PlaintextProfile],
    verified: &VerifiedInVault<'_>,
    path_of: &dyn Fn(&str) -> Option<String>,
) -> Vec<PlaintextProfile> {
    let mut out = Vec::new();
    for target in plan
        .targets
        .iter()
        .filter(|t| t.target_type == "models.providers.apiKey")
    {
        let provider = target
            .path
            .strip_prefix("models.providers.")
            .and_then(|p| p.strip_suffix(".apiKey"))
            .unwrap_or_default();
        for found in audit.iter().filter(|f| f.provider == provider) {
            // Covered: read by a verified item (its value is in Vault, read back), and that item
            // is the one the ref points at (same value: one value is one item).
            let covered = verified.items.iter().any(|item| {
                let read_here = item.targets.iter().any(|st| {
                    st.json_path.as_deref() == Some(found.json_path.as_str())
                        && same_file(&st.file, &found.file)
                });
                read_here
                    && path_of(&item.name).is_some_and(|p| {
                        item.fields
                            .iter()
                            .any(|f| crate::exec_id::encode(&p, f).is_ok_and(|id| id == target.id))
                    })
            });
            if !covered && !out.contains(found) {
                out.push(found.clone());
            }
        }
    }
    out
}

/// The error for [`unmigrated_profiles_scrubbed`]'s findings: `UNSAFE_APPLY`-style refusal
/// (code `CONFLICT`), naming every file and profile.
pub fn refuse_scrub(found: &[PlaintextProfile]) -> Error {
    let list = found
        .iter()
        .map(|f| {
            format!(
                "{} profile {} ({})",
                f.file.display(),
                f.profile_id,
                f.json_path
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    Error::new(
        ErrorCode::Conflict,
        format!(
            "refusing to apply: OpenClaw's apply of models.providers.<provider>.apiKey scrubs the key from every profile of that provider, and these plaintext profiles were not migrated to Vault with that value: {list}. Nothing was applied; migrate those profiles first (see docs/migration-guide.md, \"Safety checks around apply\")"
        ),
    )
}

/// Reads openclaw.json and the SQLite auth stores back (read-only) and returns the `path` of
/// every plan target that does not hold its ref: a config path whose value is not the planned
/// SecretRef, or an auth profile without a ref or still holding plaintext.
pub fn targets_not_applied(paths: &OpenClawPaths, plan: &ApplyPlan) -> Vec<String> {
    let config: Option<Value> = paths
        .config_file()
        .and_then(|f| std::fs::read_to_string(f).ok())
        .map(zeroize::Zeroizing::new)
        .filter(|t| crate::nesting::check(t).is_ok())
        .and_then(|t| json5::from_str::<Value>(&t).ok());
    let config = config.map(vault_client::secret::ZeroizingJson);
    let stores = auth_store_profiles(paths);
    let mut missing = Vec::new();
    let Some(targets) = plan.plan.get("targets").and_then(Value::as_array) else {
        return missing;
    };
    for t in targets {
        let path = t.get("path").and_then(Value::as_str).unwrap_or_default();
        let segments: Vec<&str> = t
            .get("pathSegments")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let kind = t.get("type").and_then(Value::as_str).unwrap_or_default();
        let applied = if kind.starts_with("auth-profiles.") {
            let agent = t.get("agentId").and_then(Value::as_str);
            let profile = segments.get(1).copied().unwrap_or_default();
            stores
                .iter()
                .filter(|s| match (&s.kind, agent) {
                    (AuthStoreKind::Agent(a), Some(want)) => a == want,
                    (AuthStoreKind::Shared, None) => true,
                    _ => false,
                })
                .filter_map(|s| s.profiles.as_ref().ok())
                .flatten()
                .any(|p| p.id == profile && p.has_ref && p.plaintext.is_none())
        } else {
            let mut at = config.as_ref().map(|c| &c.0);
            for s in &segments {
                at = at.and_then(|v| v.get(*s));
            }
            at.is_some() && at == t.get("ref")
        };
        if !applied {
            missing.push(path.to_string());
        }
    }
    missing
}

/// An openclaw.json target whose plaintext changed between migrate's Vault write and OpenClaw's
/// apply: the ref OpenClaw wrote points at the older value. Seen in `openclaw.json.bak`, the copy
/// of the config OpenClaw's apply rotates aside at the moment it writes.
pub struct ChangedBeforeApply {
    /// The target's dot path in openclaw.json (`channels.telegram.botToken`).
    pub path: String,
    /// The Vault path of the ref (relative to the mount) and the field.
    pub vault_path: String,
    /// The field of that secret.
    pub field: String,
    /// The value that was there when OpenClaw wrote (newer than what migrate put in Vault).
    pub newer: secrecy::SecretString,
}

impl std::fmt::Debug for ChangedBeforeApply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangedBeforeApply")
            .field("path", &self.path)
            .field("vault_path", &self.vault_path)
            .field("field", &self.field)
            .finish_non_exhaustive()
    }
}

/// The SQLite auth-store targets of `plan` whose plaintext, read now (just before OpenClaw's
/// apply), differs from the value `verified` holds for the ref's Vault path and field: a profile
/// changed (`paste-api-key`) after this run wrote it to Vault. OpenClaw's apply keeps no backup
/// of its stores, so this is the last moment to see the newer value (attack 10, F7); the caller
/// writes it to Vault as a new version of the path the ref reads. A change in the few seconds
/// OpenClaw itself takes to start its apply after this read is still not seen (documented).
pub fn changed_in_stores_before_apply(
    paths: &OpenClawPaths,
    plan: &ApplyPlan,
    verified: &VerifiedInVault<'_>,
) -> Vec<ChangedBeforeApply> {
    use secrecy::ExposeSecret;
    let mut out = Vec::new();
    let Some(targets) = plan.plan.get("targets").and_then(Value::as_array) else {
        return out;
    };
    let stores = auth_store_profiles(paths);
    for t in targets {
        let kind = t.get("type").and_then(Value::as_str).unwrap_or_default();
        if !kind.starts_with("auth-profiles.") {
            continue;
        }
        let agent = t.get("agentId").and_then(Value::as_str);
        let segments: Vec<&str> = t
            .get("pathSegments")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let Some(profile) = segments.get(1).copied() else {
            continue;
        };
        let Some(now) = stores
            .iter()
            .filter(|s| match (&s.kind, agent) {
                (AuthStoreKind::Agent(a), Some(want)) => a == want,
                (AuthStoreKind::Shared, None) => true,
                _ => false,
            })
            .filter_map(|s| s.profiles.as_ref().ok())
            .flatten()
            .find(|p| p.id == profile)
            .and_then(|p| p.plaintext.as_ref().map(|(_, v)| v.clone()))
        else {
            continue;
        };
        let Some(secret_id) = t
            .pointer("/ref/id")
            .and_then(Value::as_str)
            .and_then(|id| crate::resolve::SecretId::parse(id).ok())
        else {
            continue;
        };
        let migrated = verified.items.iter().find_map(|i| {
            let (_, rel) = i.vault_path.split_once('/')?;
            (rel == secret_id.path)
                .then(|| i.credential().secrets.get(&secret_id.field))
                .flatten()
        });
        let now_value = now.expose_secret().trim();
        if let Some(migrated) = migrated {
            if !now_value.is_empty() && migrated.expose_secret() != now_value {
                let path = t.get("path").and_then(Value::as_str).unwrap_or_default();
                out.push(ChangedBeforeApply {
                    path: match agent {
                        Some(a) => format!("agent {a} {path}"),
                        None => path.to_string(),
                    },
                    vault_path: secret_id.path.clone(),
                    field: secret_id.field.clone(),
                    newer: secrecy::SecretString::from(now_value.to_string()),
                });
            }
        }
    }
    out
}

/// The openclaw.json targets of `plan` whose plaintext in `openclaw.json.bak` (written by
/// OpenClaw's apply just before it wrote the refs; read only when `changed_files` holds the
/// config) differs from the value `verified` holds for the ref's Vault path and field.
pub fn changed_before_apply(
    paths: &OpenClawPaths,
    plan: &ApplyPlan,
    verified: &VerifiedInVault<'_>,
    changed_files: &[PathBuf],
) -> Vec<ChangedBeforeApply> {
    use secrecy::ExposeSecret;
    let mut out = Vec::new();
    let Some(config) = paths.config_file() else {
        return out;
    };
    if !changed_files.iter().any(|f| same_file(f, &config)) {
        return out;
    }
    let bak = config.with_file_name(format!(
        "{}.bak",
        config
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    let doc: Option<Value> = std::fs::read_to_string(&bak)
        .ok()
        .map(zeroize::Zeroizing::new)
        .filter(|t| crate::nesting::check(t).is_ok())
        .and_then(|t| json5::from_str::<Value>(&t).ok());
    let Some(doc) = doc.map(vault_client::secret::ZeroizingJson) else {
        return out;
    };
    let Some(targets) = plan.plan.get("targets").and_then(Value::as_array) else {
        return out;
    };
    for t in targets {
        let kind = t.get("type").and_then(Value::as_str).unwrap_or_default();
        if kind.starts_with("auth-profiles.") {
            continue;
        }
        let mut at = Some(&doc.0);
        for s in t
            .get("pathSegments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            at = at.and_then(|v| v.get(s));
        }
        let Some(Value::String(then)) = at else {
            continue;
        };
        let then = then.trim();
        let Some(id) = t.pointer("/ref/id").and_then(Value::as_str) else {
            continue;
        };
        let Ok(secret_id) = crate::resolve::SecretId::parse(id) else {
            continue;
        };
        let migrated = verified.items.iter().find_map(|i| {
            let (_, rel) = i.vault_path.split_once('/')?;
            (rel == secret_id.path)
                .then(|| i.credential().secrets.get(&secret_id.field))
                .flatten()
        });
        if let Some(migrated) = migrated {
            if !then.is_empty() && migrated.expose_secret() != then {
                out.push(ChangedBeforeApply {
                    path: t
                        .get("path")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    vault_path: secret_id.path.clone(),
                    field: secret_id.field.clone(),
                    newer: secrecy::SecretString::from(then.to_string()),
                });
            }
        }
    }
    out
}
