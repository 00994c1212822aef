//! The exec SecretRefs an earlier `migrate --rewrite-config` left in OpenClaw's state, checked
//! against Vault on every rerun.
//!
//! Once OpenClaw's `secrets apply` replaced a plaintext value by a ref to this package's exec
//! provider (`secrets.providers.openclaw-vault`), Vault holds the only copy: a rerun finds no
//! local value to migrate there, so it reads each ref's Vault path instead. A ref whose secret
//! is gone (`vault kv delete`, `vault kv metadata delete`, a destroyed version) is reported with
//! what points at it and how to get it back; nothing here writes.

use std::path::PathBuf;

use serde_json::Value;

use crate::chain::CredentialChain;
use crate::error::Result;
use crate::local_file::read_credential_file;
use crate::openclaw::config::parse_json5;
use crate::openclaw::paths::OpenClawPaths;
use crate::providers::openclaw_config::is_secret_ref;
use crate::providers::openclaw_sqlite::{auth_store_profiles, AuthStoreKind};
use crate::resolve::SecretId;

/// One ref to this package's exec provider found in OpenClaw's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnRef {
    /// The file holding the ref (`openclaw.json`, an `openclaw-agent.sqlite`, the shared
    /// `state/openclaw.sqlite`).
    pub file: PathBuf,
    /// Where in it, as OpenClaw's audit names it (`channels.telegram.botToken`,
    /// `profiles.anthropic:work.keyRef`).
    pub json_path: String,
    /// The agent, for an agent auth store.
    pub agent_id: Option<String>,
    /// The ref's id (`<prefix>/credentials/<name>/<field>`).
    pub id: String,
    /// The Vault path it reads, with the mount (`secret/openclaw/credentials/<name>`); empty
    /// when the id is not one the resolver accepts.
    pub vault_path: String,
    /// The field of that secret.
    pub field: String,
    /// What Vault says.
    pub state: RefState,
}

/// What Vault holds for one [`OwnRef`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefState {
    /// The live version has the field: OpenClaw's ref resolves.
    InVault,
    /// The latest version was soft-deleted (`vault kv delete`): `vault kv undelete` brings it
    /// back.
    SoftDeleted {
        /// The deleted version.
        version: u64,
    },
    /// Nothing to undelete: the key's metadata was deleted, its version destroyed, or the live
    /// version lacks the field.
    Missing,
    /// Vault could not be asked (or the id is not one the resolver reads).
    Unchecked {
        /// The error code.
        code: &'static str,
        /// Why (no secret value in it).
        message: String,
    },
}

impl OwnRef {
    /// True when OpenClaw's ref no longer resolves because its secret is gone from Vault.
    pub fn is_missing(&self) -> bool {
        matches!(self.state, RefState::SoftDeleted { .. } | RefState::Missing)
    }
}

/// Every ref to [`EXEC_PROVIDER_ALIAS`] in `openclaw.json` (any JSON path) and in the static
/// profiles of every SQLite auth store, each checked against Vault (one KV read per ref:
/// `GET <mount>/data/<path>`). A config that cannot be read is an error; an auth store that
/// cannot be read is skipped (`plan` reports it as a source error already).
pub async fn check_own_refs(paths: &OpenClawPaths, chain: &CredentialChain) -> Result<Vec<OwnRef>> {
    let Some(vault) = chain.vault() else {
        return Ok(Vec::new());
    };
    let mut found: Vec<(PathBuf, String, Option<String>, String)> = Vec::new();
    if let Some(f) = paths.config_file().filter(|f| f.exists()) {
        if let Some(file) = read_credential_file(&f, crate::openclaw::MAX_CONFIG_FILE_BYTES)? {
            let doc = parse_json5(&file)?;
            let mut refs = Vec::new();
            walk(&doc, &mut Vec::new(), &mut refs);
            found.extend(refs.into_iter().map(|(p, id)| (f.clone(), p, None, id)));
        }
    }
    for store in auth_store_profiles(paths) {
        let Ok(profiles) = store.profiles else {
            continue;
        };
        let agent = match &store.kind {
            AuthStoreKind::Agent(a) => Some(a.clone()),
            AuthStoreKind::Shared => None,
        };
        for p in profiles {
            if let Some(id) = p.own_ref_id {
                let key = if p.profile_type == "api_key" {
                    "keyRef"
                } else {
                    "tokenRef"
                };
                found.push((
                    store.file.clone(),
                    format!("profiles.{}.{key}", p.id),
                    agent.clone(),
                    id,
                ));
            }
        }
    }
    let client = vault.client();
    let mut out = Vec::with_capacity(found.len());
    for (file, json_path, agent_id, id) in found {
        let (vault_path, field, state) = match SecretId::parse(&id) {
            Err(why) => (
                String::new(),
                String::new(),
                RefState::Unchecked {
                    code: "INVALID_CONFIG",
                    message: why,
                },
            ),
            Ok(sid) => {
                let state = match client.read(&sid.path, None).await {
                    Err(e) => {
                        let e = crate::error::Error::from(e);
                        RefState::Unchecked {
                            code: e.code(),
                            message: e.message,
                        }
                    }
                    Ok(None) => RefState::Missing,
                    Ok(Some(s)) => match (&s.data, &s.metadata) {
                        (Some(d), _) => {
                            let has = d
                                .expose_secret()
                                .get(&sid.field)
                                .is_some_and(|v| !v.is_null());
                            if has {
                                RefState::InVault
                            } else {
                                RefState::Missing
                            }
                        }
                        (None, Some(m)) if !m.destroyed && !m.deletion_time.is_empty() => {
                            RefState::SoftDeleted { version: m.version }
                        }
                        (None, _) => RefState::Missing,
                    },
                };
                (format!("{}/{}", client.mount(), sid.path), sid.field, state)
            }
        };
        out.push(OwnRef {
            file,
            json_path,
            agent_id,
            id,
            vault_path,
            field,
            state,
        });
    }
    Ok(out)
}

/// Collects `(dotted JSON path, id)` of every exec ref to our alias under `v`.
pub(crate) fn walk(v: &Value, at: &mut Vec<String>, out: &mut Vec<(String, String)>) {
    if is_secret_ref(v) {
        let s = |k: &str| v.get(k).and_then(Value::as_str);
        if s("source") == Some("exec") && s("provider").is_some_and(super::apply_plan::is_own_alias)
        {
            if let Some(id) = s("id") {
                out.push((at.join("."), id.to_string()));
            }
        }
        return;
    }
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                // The provider definitions themselves hold no refs to check.
                if at.is_empty() && k == "secrets" {
                    continue;
                }
                at.push(k.clone());
                walk(child, at, out);
                at.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                at.push(i.to_string());
                walk(child, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}
