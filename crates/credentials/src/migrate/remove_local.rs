//! Removes migrated secrets from the files OpenClaw itself keeps (`migrate --remove-local`):
//! `<stateDir>/agents/<agentId>/agent/auth-profiles.json` (entries under `profiles`) and the
//! legacy `<stateDir>/credentials/oauth.json` (entries at the top level).
//!
//! Only for credentials verified in Vault, and only an entry whose secret values are exactly the
//! verified ones: an entry that changed since the plan stays. Each file is rewritten once, under
//! OpenClaw's lock on it, atomically (0600), after a byte-for-byte 0600 backup next to it; every
//! other key (`version`, `order`, `usageStats`, other profiles) is kept. Other tools' files
//! (`~/.claude/.credentials.json`, `~/.codex/auth.json`), the keychain and env variables are never
//! touched: those credentials are reported as kept.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use secrecy::ExposeSecret;
use serde_json::{Map, Value};

use super::{backup_path, PlanItem, VerifiedInVault, LOCK_WAIT, MAX_LOCAL_FILE_BYTES};
use crate::credential::{from_fields, SecretFields};
use crate::error::{Error, ErrorCode, Result};
use crate::local_file::{parse_json, read_credential_file, write_atomic, FileLock};
use crate::openclaw::paths::OpenClawPaths;

/// What [`remove_local`] did for one verified credential.
#[derive(Debug, Clone)]
pub struct LocalRemoval {
    /// The credential name.
    pub name: String,
    /// Where the plan read it (file and entry, variable, keychain item).
    pub location: String,
    /// The file entries removed for it: `profiles.<id>` in an auth-profiles.json, `<provider>` in
    /// oauth.json. Empty when none was.
    pub removed: Vec<String>,
    /// The 0600 copy of its file as it was (`<file>.bak-<UTC stamp>`), when that file was
    /// rewritten (for every credential of the file, also one whose entry was kept).
    pub backup: Option<PathBuf>,
    /// Why nothing was removed for it: not a file OpenClaw owns, or its entry changed since the
    /// plan (or is gone).
    pub kept: Option<String>,
    /// Why its file could not be changed (lock, read, parse or write); the file is unchanged.
    pub error: Option<Error>,
}

/// How OpenClaw lays out the entries of a file it owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OwnedLayout {
    /// An auth-profiles.json: entries under `profiles`.
    AuthProfiles,
    /// The legacy oauth.json: entries at the top level.
    LegacyOAuth,
}

/// Removes the local copy of every `verified` credential that lives in a file OpenClaw owns
/// (under `paths.state_dir`), one row per credential: first those kept because another tool owns
/// their file (in `verified` order), then file by file (by path). Errors are per file, in the
/// rows; a failing file does not stop the others.
pub fn remove_local(paths: &OpenClawPaths, verified: &VerifiedInVault<'_>) -> Vec<LocalRemoval> {
    let mut rows = Vec::new();
    let mut by_file: BTreeMap<PathBuf, (OwnedLayout, Vec<&PlanItem>)> = BTreeMap::new();
    let imported = imported_profiles(paths);
    for item in &verified.items {
        let owned = match (&paths.state_dir, &item.source_file) {
            (Some(state), Some(file)) => {
                openclaw_owned(state, file).map(|layout| (file.clone(), layout))
            }
            _ => None,
        };
        // A retired auth-profiles.json is OpenClaw's input: `openclaw doctor` imports it into
        // the SQLite stores once. A profile not imported yet lives only here for OpenClaw, so
        // removing it would lose it (no ref replaces it): kept.
        if let Some((file, OwnedLayout::AuthProfiles)) = &owned {
            let id = item
                .credential()
                .metadata
                .get("profileId")
                .and_then(Value::as_str)
                // A source that does not say: its entry key under `profiles` is the name's tail.
                .unwrap_or_else(|| item.name.rsplit('/').next().unwrap_or_default());
            let agent = agent_of(paths, file);
            let in_store = imported
                .iter()
                .any(|(a, p)| p == id && (a.is_none() || a.as_deref() == agent.as_deref()));
            if !in_store {
                rows.push(LocalRemoval {
                    name: item.name.clone(),
                    location: item.source_location.clone(),
                    removed: Vec::new(),
                    backup: None,
                    kept: Some(format!(
                        "profile {id:?} is not in OpenClaw's SQLite auth store yet: OpenClaw reads this retired file only through `openclaw doctor --fix`, which imports it; removing it here would lose it for OpenClaw. Run the doctor, then `migrate --rewrite-config`"
                    )),
                    error: None,
                });
                continue;
            }
        }
        // The legacy oauth.json likewise: `openclaw doctor` imports each `<provider>` entry as a
        // `<provider>:default` OAuth profile of the shared store. An entry not imported yet is
        // OpenClaw's only copy of that login (no ref can hold OAuth material): kept.
        if let Some((_, OwnedLayout::LegacyOAuth)) = &owned {
            let provider = item
                .source_location
                .rsplit_once('#')
                .map(|(_, key)| key.to_string())
                .unwrap_or_else(|| item.name.split('@').next().unwrap_or_default().to_string());
            let profile_prefix = format!("{provider}:");
            let in_store = imported
                .iter()
                .any(|(agent, id)| agent.is_none() && id.starts_with(&profile_prefix));
            if !in_store {
                rows.push(LocalRemoval {
                    name: item.name.clone(),
                    location: item.source_location.clone(),
                    removed: Vec::new(),
                    backup: None,
                    kept: Some(format!(
                        "the OAuth login {provider:?} is not in OpenClaw's SQLite auth store yet (no `{provider}:...` profile): OpenClaw reads this legacy file only through `openclaw doctor --fix`, which imports it, and no ref can stand for OAuth tokens; removing it here would log OpenClaw out. Run the doctor first"
                    )),
                    error: None,
                });
                continue;
            }
        }
        match owned {
            Some((file, layout)) => by_file
                .entry(file)
                .or_insert((layout, Vec::new()))
                .1
                .push(item),
            None => rows.push(LocalRemoval {
                name: item.name.clone(),
                location: item.source_location.clone(),
                removed: Vec::new(),
                backup: None,
                kept: Some(not_removed_here(item.source_provider)),
                error: None,
            }),
        }
    }
    for (file, (layout, items)) in by_file {
        match remove_entries(&file, layout, &items) {
            Ok(done) => {
                for item in items {
                    let mine: Vec<String> = done
                        .removed
                        .iter()
                        .filter(|r| r.name == item.name)
                        .map(|r| r.entry.clone())
                        .collect();
                    rows.push(LocalRemoval {
                        name: item.name.clone(),
                        location: item.source_location.clone(),
                        kept: mine.is_empty().then(|| {
                            "its entry changed since the plan (or is gone); kept".to_string()
                        }),
                        removed: mine,
                        backup: done.backup.clone(),
                        error: None,
                    });
                }
            }
            Err(e) => {
                for item in items {
                    rows.push(LocalRemoval {
                        name: item.name.clone(),
                        location: item.source_location.clone(),
                        removed: Vec::new(),
                        backup: None,
                        kept: None,
                        error: Some(e.clone()),
                    });
                }
            }
        }
    }
    rows
}

/// Why `--remove-local` leaves a credential of source `provider` where it is.
fn not_removed_here(provider: &str) -> String {
    use crate::providers::openclaw_sqlite::{
        AGENT_AUTH_STORE_ID, SECRET_STORE_ID, SHARED_AUTH_STORE_ID,
    };
    if provider == SECRET_STORE_ID {
        format!("{provider} is OpenClaw's own team secret store, which this package never writes, and no ref replaces its entries: OpenClaw keeps serving this value from there. Change or remove it with OpenClaw's own `secrets store` commands")
    } else if [SHARED_AUTH_STORE_ID, AGENT_AUTH_STORE_ID].contains(&provider) {
        format!("{provider} is OpenClaw's own SQLite store, which this package never writes: `--rewrite-config` has OpenClaw's apply replace the value with a ref")
    } else if provider == crate::providers::openclaw_config::PROVIDER_ID {
        "openclaw.json: `--rewrite-config` has OpenClaw's apply replace the value with a ref".into()
    } else if provider == "dotenv" {
        "the state-dir .env is loaded by OpenClaw into its environment and no ref replaces a line of it: remove the line yourself once OpenClaw reads the value another way".into()
    } else {
        format!(
            "{provider} is not a file OpenClaw owns; remove it yourself once nothing else reads it"
        )
    }
}

/// Every profile id held by OpenClaw's SQLite auth stores: `(None, id)` for the shared store,
/// `(Some(agent), id)` for an agent's.
fn imported_profiles(paths: &OpenClawPaths) -> Vec<(Option<String>, String)> {
    use crate::providers::openclaw_sqlite::{auth_store_profile_ids, AuthStoreKind};
    let mut out = Vec::new();
    for (kind, ids) in auth_store_profile_ids(paths) {
        let agent = match kind {
            AuthStoreKind::Shared => None,
            AuthStoreKind::Agent(a) => Some(a),
        };
        out.extend(ids.into_iter().map(|id| (agent.clone(), id)));
    }
    out
}

/// The agent id of `<stateDir>/agents/<agentId>/agent/auth-profiles.json`.
fn agent_of(paths: &OpenClawPaths, file: &Path) -> Option<String> {
    let state = paths.state_dir.as_ref()?;
    let rel = file.strip_prefix(state.join("agents")).ok()?;
    rel.components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
}

/// Which OpenClaw-owned file `file` is, if any: `<stateDir>/credentials/oauth.json` or
/// `<stateDir>/agents/<agentId>/agent/auth-profiles.json`.
fn openclaw_owned(state_dir: &Path, file: &Path) -> Option<OwnedLayout> {
    if file == state_dir.join("credentials").join("oauth.json") {
        return Some(OwnedLayout::LegacyOAuth);
    }
    let rel = file.strip_prefix(state_dir.join("agents")).ok()?;
    let parts: Vec<_> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    (parts.len() == 3 && parts[1] == "agent" && parts[2] == "auth-profiles.json")
        .then_some(OwnedLayout::AuthProfiles)
}

/// One entry removed from a file for a credential.
struct RemovedEntry {
    /// The credential name.
    name: String,
    /// The entry's path in the file (`profiles.<id>` or `<provider>`).
    entry: String,
}

/// What happened to one file.
struct FileRemoval {
    removed: Vec<RemovedEntry>,
    /// Set when the file was rewritten.
    backup: Option<PathBuf>,
}

/// Removes from `file` every entry whose secret values are exactly a verified credential's (the
/// entry named like the credential first, then any other holding the same values). The file is
/// written only when something was removed.
fn remove_entries(file: &Path, layout: OwnedLayout, items: &[&PlanItem]) -> Result<FileRemoval> {
    let nothing = FileRemoval {
        removed: Vec::new(),
        backup: None,
    };
    let _lock = FileLock::acquire(file, LOCK_WAIT)?;
    let Some(original) = read_credential_file(file, MAX_LOCAL_FILE_BYTES)? else {
        return Ok(nothing);
    };
    let mut root = parse_json(&original)?;
    let container = match layout {
        OwnedLayout::AuthProfiles => root.get_mut("profiles"),
        OwnedLayout::LegacyOAuth => Some(&mut root),
    };
    let Some(Value::Object(entries)) = container else {
        return Ok(nothing);
    };
    let mut removed = Vec::new();
    for item in items {
        let secrets = &item.credential().secrets;
        let mut keys: Vec<String> = entries.keys().cloned().collect();
        keys.sort_by_key(|k| *k != item.name);
        let same = keys.into_iter().find(|key| match entries.get(key) {
            Some(Value::Object(o)) => holds_exactly(o, secrets),
            _ => false,
        });
        if let Some(key) = same {
            entries.remove(&key);
            removed.push(RemovedEntry {
                name: item.name.clone(),
                entry: match layout {
                    OwnedLayout::AuthProfiles => format!("profiles.{key}"),
                    OwnedLayout::LegacyOAuth => key,
                },
            });
        }
    }
    if removed.is_empty() {
        return Ok(nothing);
    }
    let mut bytes = zeroize::Zeroizing::new(
        serde_json::to_vec_pretty(&root)
            .map_err(|e| Error::new(ErrorCode::InvalidSource, e.to_string()))?,
    );
    bytes.push(b'\n');
    let backup = backup_path(file);
    write_atomic(&backup, &original.bytes)?;
    write_atomic(file, &bytes)?;
    Ok(FileRemoval {
        removed,
        backup: Some(backup),
    })
}

/// True when the file entry `entry` holds every migrated secret field of `secrets` with the same
/// value, in any of the spellings `from_fields` reads. Only the fields migrated are compared:
/// an entry's other fields (`email`, `label`, ...) were not read by its source, are not in Vault
/// and do not make the entry "changed" (the file's backup keeps them). An entry that cannot be
/// read, or lacks a migrated field, holds nothing.
fn holds_exactly(entry: &Map<String, Value>, secrets: &SecretFields) -> bool {
    let Ok(parsed) = from_fields(entry, "entry") else {
        return false;
    };
    !secrets.is_empty()
        && secrets.iter().all(|(name, value)| {
            parsed.secrets.is_json(name) == secrets.is_json(name)
                && parsed
                    .secrets
                    .get(name)
                    .is_some_and(|v| v.expose_secret() == value.expose_secret())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::SourceGroup;
    use crate::migrate::plan;
    use crate::migrate::test_support::*;
    use crate::providers::CredentialProvider;
    use serde_json::json;
    use std::os::unix::fs::PermissionsExt;
    use std::sync::Arc;

    const FAKE_OPENAI: &str = "sk-proj-FAKE-remove-openai";
    const FAKE_ACCESS: &str = "sk-ant-oat01-FAKE-remove-access";
    const FAKE_REFRESH: &str = "sk-ant-ort01-FAKE-remove-refresh";

    #[test]
    fn only_openclaws_own_files_are_owned() {
        let state = Path::new("/h/.openclaw");
        assert_eq!(
            openclaw_owned(state, &state.join("credentials/oauth.json")),
            Some(OwnedLayout::LegacyOAuth)
        );
        assert_eq!(
            openclaw_owned(state, &state.join("agents/main/agent/auth-profiles.json")),
            Some(OwnedLayout::AuthProfiles)
        );
        for other in [
            "agents/main/auth-profiles.json",
            "agents/main/agent/x/auth-profiles.json",
            "agents/main/agent/models.json",
            "credentials/other.json",
        ] {
            assert_eq!(openclaw_owned(state, &state.join(other)), None, "{other}");
        }
        assert_eq!(
            openclaw_owned(state, Path::new("/h/.claude/.credentials.json")),
            None
        );
    }

    #[tokio::test]
    async fn a_profile_openclaw_has_not_imported_yet_stays_in_the_retired_file() {
        let home = temp_dir("remove-not-imported");
        let state = home.join(".openclaw");
        let profiles = state.join("agents/main/agent/auth-profiles.json");
        write_source(
            &profiles,
            &json!({"version": 1, "profiles": {
                "xai:legacy": {"type": "api_key", "provider": "xai", "key": "xai-FAKE-legacy"}}}),
        );
        let before = std::fs::read(&profiles).unwrap();
        let sources: Vec<Arc<dyn CredentialProvider>> = vec![Arc::new(
            JsonFileSource::new(&profiles, "auth-profiles", SourceGroup::Files).under("profiles"),
        )];
        let chain = chain_with(offline_client(), "rm", sources);
        let plan = plan(&chain).await.unwrap();
        let h = home.to_string_lossy().into_owned();
        let paths = OpenClawPaths::from_env(&move |k| (k == "HOME").then(|| h.clone()));
        let verified = VerifiedInVault {
            items: plan.items.iter().collect(),
        };
        assert!(!verified.items.is_empty());
        let rows = remove_local(&paths, &verified);
        for row in &rows {
            assert!(row.removed.is_empty(), "{row:?}");
            assert!(
                row.kept
                    .as_deref()
                    .unwrap()
                    .contains("not in OpenClaw's SQLite auth store yet"),
                "{row:?}"
            );
        }
        assert_eq!(std::fs::read(&profiles).unwrap(), before);
    }

    #[tokio::test]
    async fn a_legacy_oauth_login_not_imported_by_openclaws_doctor_is_kept() {
        let home = temp_dir("remove-oauth-kept");
        let state = home.join(".openclaw");
        let oauth = state.join("credentials/oauth.json");
        write_source(
            &oauth,
            &json!({"qwen-portal": {"access": "FAKE-qwen-access", "refresh": "FAKE-qwen-refresh"},
                    "anthropic": {"access": FAKE_ACCESS, "refresh": FAKE_REFRESH}}),
        );
        // The doctor imported anthropic only (another store's profile does not count).
        import_into_shared_store(
            &state,
            &json!({"version": 1, "profiles": {"anthropic:default": {"type": "oauth",
                "provider": "anthropic", "access": FAKE_ACCESS, "refresh": FAKE_REFRESH}}}),
        );
        import_into_agent_store(
            &state,
            "main",
            &json!({"version": 1, "profiles": {"qwen-portal:default": {"type": "oauth",
                "provider": "qwen-portal", "access": "FAKE-qwen-access"}}}),
        );
        let sources: Vec<Arc<dyn CredentialProvider>> = vec![Arc::new(JsonFileSource::new(
            &oauth,
            "openclaw-oauth",
            SourceGroup::Files,
        ))];
        let chain = chain_with(offline_client(), "rm", sources);
        let plan = plan(&chain).await.unwrap();
        let h = home.to_string_lossy().into_owned();
        let paths = OpenClawPaths::from_env(&move |k| (k == "HOME").then(|| h.clone()));
        let verified = VerifiedInVault {
            items: plan.items.iter().collect(),
        };
        let rows = remove_local(&paths, &verified);
        let row = |name: &str| rows.iter().find(|r| r.name == name).unwrap();
        assert!(row("qwen-portal").removed.is_empty());
        let why = row("qwen-portal").kept.as_deref().unwrap();
        assert!(
            why.contains("not in OpenClaw's SQLite auth store yet"),
            "{why}"
        );
        assert!(why.contains("openclaw doctor --fix"), "{why}");
        assert!(!why.contains("FAKE-qwen"), "{why}");
        assert_eq!(row("anthropic").removed, ["anthropic"]);
        let after: Value = serde_json::from_slice(&std::fs::read(&oauth).unwrap()).unwrap();
        assert_eq!(
            after,
            json!({"qwen-portal": {"access": "FAKE-qwen-access", "refresh": "FAKE-qwen-refresh"}})
        );
    }

    #[tokio::test]
    async fn removes_verified_entries_from_openclaws_files_only_keeping_the_rest() {
        let home = temp_dir("remove-lib");
        let state = home.join(".openclaw");
        let profiles = state.join("agents/main/agent/auth-profiles.json");
        let oauth = state.join("credentials/oauth.json");
        let claude = home.join(".claude/.credentials.json");
        let profiles_json = json!({
            "version": 1,
            "profiles": {
                "openai:default": {"type": "api_key", "provider": "openai", "key": FAKE_OPENAI},
                "openai:work": {"type": "api_key", "provider": "openai", "key": "sk-FAKE-work"},
            },
            "order": {"openai": ["openai:default", "openai:work"]},
        });
        write_source(&profiles, &profiles_json);
        // OpenClaw's doctor imported openai:default into the agent's SQLite store (the live
        // one); a profile only in the retired file is kept (see the next test).
        import_into_agent_store(
            &state,
            "main",
            &json!({"version": 1, "profiles": {
                "openai:default": {"type": "api_key", "provider": "openai", "key": FAKE_OPENAI}}}),
        );
        write_source(
            &oauth,
            &json!({"anthropic": {"access": FAKE_ACCESS, "refresh": FAKE_REFRESH}}),
        );
        // ... and the legacy oauth.json's anthropic login as `anthropic:default`.
        import_into_shared_store(
            &state,
            &json!({"version": 1, "profiles": {"anthropic:default": {"type": "oauth",
                "provider": "anthropic", "access": FAKE_ACCESS, "refresh": FAKE_REFRESH}}}),
        );
        write_source(
            &claude,
            &json!({"claude-code": {"accessToken": "sk-ant-oat01-FAKE-claude"}}),
        );
        let claude_before = std::fs::read(&claude).unwrap();
        let sources: Vec<Arc<dyn CredentialProvider>> = vec![
            Arc::new(
                JsonFileSource::new(&profiles, "auth-profiles", SourceGroup::Files)
                    .under("profiles"),
            ),
            Arc::new(JsonFileSource::new(
                &oauth,
                "openclaw-oauth",
                SourceGroup::Files,
            )),
            Arc::new(JsonFileSource::new(
                &claude,
                "claude-code",
                SourceGroup::Files,
            )),
        ];
        let chain = chain_with(offline_client(), "rm", sources);
        let plan = plan(&chain).await.unwrap();
        let h = home.to_string_lossy().into_owned();
        let paths = OpenClawPaths::from_env(&move |k| (k == "HOME").then(|| h.clone()));

        // openai:work is not verified; anthropic's entry changes after the plan.
        write_source(
            &oauth,
            &json!({"anthropic": {"access": "sk-ant-oat01-FAKE-newer", "refresh": FAKE_REFRESH}}),
        );
        let oauth_before = std::fs::read(&oauth).unwrap();
        let verified = VerifiedInVault {
            items: plan
                .items
                .iter()
                .filter(|i| i.name != "openai:work")
                .collect(),
        };
        let rows = remove_local(&paths, &verified);
        let row = |name: &str| rows.iter().find(|r| r.name == name).unwrap();
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["claude-code", "openai:default", "anthropic"]);
        assert!(row("claude-code")
            .kept
            .as_deref()
            .unwrap()
            .contains("not a file OpenClaw owns"));
        assert_eq!(row("openai:default").removed, ["profiles.openai:default"]);
        assert!(row("openai:default").kept.is_none() && row("openai:default").error.is_none());
        assert!(row("anthropic").removed.is_empty());
        assert!(row("anthropic")
            .kept
            .as_deref()
            .unwrap()
            .contains("changed since the plan"));
        assert!(
            row("anthropic").backup.is_none(),
            "oauth.json was not rewritten"
        );

        let after: Value = serde_json::from_slice(&std::fs::read(&profiles).unwrap()).unwrap();
        assert_eq!(
            after,
            json!({
                "version": 1,
                "profiles": {"openai:work": {"type": "api_key", "provider": "openai", "key": "sk-FAKE-work"}},
                "order": {"openai": ["openai:default", "openai:work"]},
            })
        );
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&profiles), 0o600);
        let backup = row("openai:default").backup.clone().unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&std::fs::read(&backup).unwrap()).unwrap(),
            profiles_json
        );
        assert_eq!(mode(&backup), 0o600);
        assert_eq!(std::fs::read(&oauth).unwrap(), oauth_before);
        assert_eq!(std::fs::read(&claude).unwrap(), claude_before);

        // A file that became unreadable: an error in its rows, nothing else changes.
        std::fs::write(&profiles, "{not json").unwrap();
        let rows = remove_local(&paths, &verified);
        let bad = rows.iter().find(|r| r.name == "openai:default").unwrap();
        assert_eq!(bad.error.as_ref().unwrap().code(), "INVALID_SOURCE");
        assert!(bad.removed.is_empty() && bad.backup.is_none());
        assert_eq!(std::fs::read_to_string(&profiles).unwrap(), "{not json");
    }
}
