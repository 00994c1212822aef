//! `migrate --rewrite-config` through OpenClaw's own contract: an `openclaw secrets apply` plan.
//!
//! After the values are verified in Vault, [`build_apply_plan`] writes a plan (`version 1,
//! protocolVersion 1`) that upserts this package's exec provider (`secrets.providers.openclaw-vault`,
//! built by [`provider_entry`](super::rewrite_config::provider_entry), the one builder) and has one target per plaintext secret OpenClaw keeps,
//! each pointing an exec SecretRef at the Vault path holding that value. OpenClaw's `secrets apply`
//! then validates the plan, checks that every ref resolves (through our resolver), writes the refs
//! and scrubs the plaintext from its own files and SQLite stores; this package never writes them.
//!
//! | plaintext in | target |
//! |---|---|
//! | `openclaw.json`, any path of [`SECRET_PATHS`](crate::providers::openclaw_config::SECRET_PATHS) | its pattern as `type`, the concrete `path` and `pathSegments` |
//! | an agent's `openclaw-agent.sqlite` profile | `auth-profiles.api_key.key` / `auth-profiles.token.token`, `profiles.<id>.key`, `agentId` |
//! | the shared store (`state/openclaw.sqlite`) | `models.providers.apiKey` at `models.providers.<provider>.apiKey` (`providerId`): OpenClaw 2026.9.6 resolves auth-profile targets to agent databases only, and scrubs a provider's static profiles from every store, the shared one included, when that provider's config key becomes a ref |
//!
//! A shared-store profile is only planned that way when it is lossless: every static shared
//! profile of the provider holds the same value, no agent store has a static profile of that
//! provider (OpenClaw would report the config ref as shadowed), and the config's own
//! `models.providers.<provider>.apiKey` is absent or holds that same value. For the same
//! reason the config's `models.providers.<provider>.apiKey` is no target while a shared profile
//! of that provider holds another key (apply would delete it). Anything else is kept in place
//! with the reason (its value is in Vault all the same); `docs/migration-guide.md` lists what
//! `openclaw secrets audit` still reports then.

use std::path::{Path, PathBuf};

use secrecy::ExposeSecret;
use serde_json::{json, Map, Value};

use super::rewrite_config::{ResolverCommand, EXEC_PROVIDER_ALIAS};
use super::{PlanItem, SourceTarget, VerifiedInVault};
use crate::chain::CredentialChain;
use crate::error::{Error, Result};
use crate::local_file::read_credential_file;
use crate::openclaw::config::parse_json5;
use crate::openclaw::paths::OpenClawPaths;
use crate::providers::openclaw_config::{is_secret_ref, plaintext_fields};
use crate::providers::openclaw_sqlite::{auth_store_profiles, AuthStoreKind};

/// One target of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyTarget {
    /// The file OpenClaw keeps the plaintext in (the target's source, for reports).
    pub file: PathBuf,
    /// The audit's JSON path of that plaintext (`channels.telegram.botToken`,
    /// `profiles.openai:default.key`).
    pub json_path: String,
    /// The target `type` (`channels.telegram.botToken`, `auth-profiles.api_key.key`, ...).
    pub target_type: String,
    /// The target `path` OpenClaw writes the ref at.
    pub path: String,
    /// The agent, for agent auth store targets.
    pub agent_id: Option<String>,
    /// The exec SecretRef id: `<prefix>/credentials/<name>/<field>`.
    pub id: String,
    /// The exec provider alias the ref names (`openclaw-vault`, `openclaw-vault-2`, ...; see
    /// [`MAX_REFS_PER_PROVIDER`]).
    pub provider: String,
}

/// OpenClaw 2026.9.6 hands one exec provider at most this many distinct ids per resolution
/// (`DEFAULT_MAX_REFS_PER_PROVIDER` in its `dist/resolve-*.mjs`, not configurable) and fails that
/// provider, every ref on it, above it. A plan spreads its ids over aliases of the same provider
/// definition: `openclaw-vault`, then `openclaw-vault-2`, `openclaw-vault-3`, ...
pub const MAX_REFS_PER_PROVIDER: usize = 512;

/// The largest request (`{"protocolVersion":1,"provider":..,"ids":[..]}`, UTF-8 bytes) OpenClaw
/// 2026.9.6 writes to one exec provider (`DEFAULT_MAX_BATCH_BYTES`, 256 KiB). 512 ids of the
/// longest valid exec id (256 characters) need about 135 KB, so [`MAX_REFS_PER_PROVIDER`] binds
/// first; the byte count is kept as well so that no alias is ever planned past either limit.
pub const MAX_BATCH_BYTES: usize = 262_144;

/// The exec provider alias number `n` (0-based): `openclaw-vault`, `openclaw-vault-2`, ...
pub fn provider_alias(n: usize) -> String {
    if n == 0 {
        EXEC_PROVIDER_ALIAS.to_string()
    } else {
        format!("{EXEC_PROVIDER_ALIAS}-{}", n + 1)
    }
}

/// True when `alias` is one of the names [`provider_alias`] gives (`openclaw-vault`,
/// `openclaw-vault-2`, ...): a ref to it is one this package's apply plans write.
pub fn is_own_alias(alias: &str) -> bool {
    alias_number(alias).is_some()
}

/// The number of `alias` when it is one of [`provider_alias`]'s names.
fn alias_number(alias: &str) -> Option<usize> {
    if alias == EXEC_PROVIDER_ALIAS {
        return Some(0);
    }
    let n: usize = alias
        .strip_prefix(EXEC_PROVIDER_ALIAS)?
        .strip_prefix('-')?
        .parse()
        .ok()?;
    (n >= 2 && provider_alias(n - 1) == alias).then(|| n - 1)
}

/// One exec provider alias of this package in the plan, and what the plan does with its entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasChange {
    /// `secrets.providers.<alias>`.
    pub alias: String,
    /// What happens to its entry.
    pub change: ProviderChange,
    /// The entry the plan upserts for it, when it upserts one.
    pub entry: Option<Value>,
    /// Distinct ids that name it after apply (refs already in `openclaw.json` and the plan's).
    pub ids: usize,
}

/// A plaintext secret the plan leaves where it is, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptTarget {
    /// Its file.
    pub file: PathBuf,
    /// Its JSON path, as the audit names it.
    pub json_path: String,
    /// Why it is not in the plan.
    pub reason: String,
}

/// What the plan does with the exec provider `secrets.providers.openclaw-vault` of
/// `openclaw.json`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ProviderChange {
    /// There is none: the plan adds it (when it has targets; refs need it).
    #[default]
    Added,
    /// An entry this package wrote earlier for another command (the Node route's
    /// `<node> .../bin/openclaw-vault-resolve.mjs`, an executable at another path, older
    /// settings): the plan replaces it with the current one, even without targets.
    Upgraded {
        /// Its `command` before.
        command: String,
        /// Its `args` before.
        args: Vec<String>,
    },
    /// Already what this run would write: not in the plan.
    Unchanged,
    /// An entry this package did not write (a `pluginIntegration`, other keys, another
    /// command): left exactly as it is; the plan's refs name it.
    Foreign {
        /// Why it is not recognised as ours.
        reason: String,
    },
}

/// What [`build_apply_plan`] made.
#[derive(Debug, Clone, Default)]
pub struct ApplyPlan {
    /// The plan file's content (no secret in it: refs and the provider definition only).
    pub plan: Value,
    /// The targets, in plan order.
    pub targets: Vec<ApplyTarget>,
    /// Plaintext secrets left in place.
    pub kept: Vec<KeptTarget>,
    /// What happens to the exec provider entry.
    pub provider: ProviderChange,
    /// The provider entry the plan upserts, when it upserts one.
    pub provider_entry: Option<Value>,
    /// Every alias of this package the plan names or finds in `openclaw.json`, in alias order
    /// (the first is `openclaw-vault`, whose change and entry are also `provider` and
    /// `provider_entry`).
    pub aliases: Vec<AliasChange>,
}

impl ApplyPlan {
    /// True when there is nothing for OpenClaw to apply: no target and no provider to upgrade.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
            && self.provider_entry.is_none()
            && self.aliases.iter().all(|a| a.entry.is_none())
    }
}

/// Whether `existing` (the current `secrets.providers.openclaw-vault`) is an entry this package
/// writes, recognised exactly: only our keys, `source` `exec`, `jsonOnly` true when present,
/// `passEnv` a list of variable names, and one of our two commands: an executable named
/// `openclaw-vault` with `args` `["resolve"]`, or a `node` with `args` one absolute path to
/// `bin/openclaw-vault-resolve.mjs`. `Err` says why not.
fn written_by_us(existing: &Value) -> std::result::Result<(), &'static str> {
    let Some(o) = existing.as_object() else {
        return Err("it is not an object");
    };
    if o.keys()
        .any(|k| !super::rewrite_config::PROVIDER_KEYS.contains(&k.as_str()))
    {
        return Err(
            "it has keys this package never writes (a pluginIntegration, env, trustedDirs, ...)",
        );
    }
    if o.get("source") != Some(&json!("exec")) {
        return Err("its source is not exec");
    }
    if o.get("jsonOnly").is_some_and(|v| v != &json!(true)) {
        return Err("its jsonOnly is not true");
    }
    let names_ok = o.get("passEnv").is_none_or(|v| {
        v.as_array().is_some_and(|a| {
            a.iter().all(|n| {
                n.as_str().is_some_and(|n| {
                    !n.is_empty()
                        && n.chars()
                            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                })
            })
        })
    });
    if !names_ok {
        return Err("its passEnv is not a list of variable names");
    }
    let command = o.get("command").and_then(Value::as_str).map(Path::new);
    let args: Option<Vec<&str>> = o
        .get("args")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().map(Value::as_str).collect());
    let (Some(command), Some(args)) = (command, args) else {
        return Err("its command or args are not ours");
    };
    let file_name = |p: &Path| {
        p.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string()
    };
    let native = matches!(
        file_name(command).as_str(),
        "openclaw-vault" | "openclaw-vault.exe"
    ) && args == ["resolve"];
    let node = matches!(file_name(command).as_str(), "node" | "node.exe" | "nodejs")
        && args.len() == 1
        && Path::new(args[0]).is_absolute()
        && file_name(Path::new(args[0])) == "openclaw-vault-resolve.mjs"
        && Path::new(args[0])
            .parent()
            .is_some_and(|d| file_name(d) == "bin");
    if command.is_absolute() && (native || node) {
        Ok(())
    } else {
        Err("its command is not this package's resolver")
    }
}

/// What to do with the existing entry `existing` when this run would write `ours`.
fn provider_change(existing: Option<&Value>, ours: &Value) -> ProviderChange {
    let Some(existing) = existing.filter(|v| !v.is_null()) else {
        return ProviderChange::Added;
    };
    if existing == ours {
        return ProviderChange::Unchanged;
    }
    match written_by_us(existing) {
        Ok(()) => ProviderChange::Upgraded {
            command: existing["command"].as_str().unwrap_or_default().to_string(),
            args: existing["args"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default(),
        },
        Err(why) => ProviderChange::Foreign {
            reason: format!("{why}; it is left as it is and the plan's refs name it"),
        },
    }
}

/// The verified item holding `target`'s value, and the field holding it: the item whose own
/// targets include it first, then any verified item holding exactly that value.
fn holder<'a>(
    verified: &VerifiedInVault<'a>,
    file: &Path,
    json_path: &str,
    value: &str,
) -> Option<(&'a PlanItem, String)> {
    let field_of = |item: &PlanItem| {
        item.credential()
            .secrets
            .iter()
            .find(|(_, v)| v.expose_secret() == value)
            .map(|(k, _)| k.to_string())
    };
    let own = verified.items.iter().find(|item| {
        item.targets
            .iter()
            .any(|t: &SourceTarget| t.file == file && t.json_path.as_deref() == Some(json_path))
    });
    if let Some(item) = own {
        if let Some(field) = field_of(item) {
            return Some((item, field));
        }
    }
    verified
        .items
        .iter()
        .find_map(|item| field_of(item).map(|f| (*item, f)))
}

/// Builds the `openclaw secrets apply` plan for every plaintext secret OpenClaw keeps whose value
/// is verified in Vault (see the module documentation). Reads `openclaw.json` and the SQLite
/// auth stores; writes nothing.
///
/// Errors: `INVALID_CONFIG` without a Vault or for an `openclaw.json` that cannot be parsed.
pub fn build_apply_plan(
    paths: &OpenClawPaths,
    chain: &CredentialChain,
    verified: &VerifiedInVault<'_>,
    resolver: &ResolverCommand,
) -> Result<ApplyPlan> {
    let vault = chain
        .vault()
        .ok_or_else(|| Error::invalid_config("no Vault configured"))?;
    let mut out = ApplyPlan::default();
    let mut targets: Vec<Value> = Vec::new();
    // The id is escaped where the Vault path breaks OpenClaw's id grammar (crate::exec_id);
    // the error is the per-item reason.
    let ref_id = |item: &PlanItem, field: &str| -> std::result::Result<String, String> {
        let path = vault.path_of(&item.name).map_err(|e| e.message)?;
        crate::exec_id::encode(&path, field)
            .map_err(|why| format!("no exec SecretRef id for `{}`: {why}", item.name))
    };
    let push = |out: &mut ApplyPlan,
                targets: &mut Vec<Value>,
                file: &Path,
                json_path: String,
                target_type: &str,
                segments: Vec<String>,
                agent_id: Option<String>,
                provider_id: Option<String>,
                value: &str| {
        let Some((item, field)) = holder(verified, file, &json_path, value) else {
            out.kept.push(KeptTarget {
                file: file.to_path_buf(),
                json_path,
                reason: "no credential with this value was verified in Vault".into(),
            });
            return;
        };
        let id = match ref_id(item, &field) {
            Ok(id) => id,
            Err(reason) => {
                out.kept.push(KeptTarget {
                    file: file.to_path_buf(),
                    json_path,
                    reason,
                });
                return;
            }
        };
        let path = segments.join(".");
        let mut t = Map::new();
        t.insert("type".into(), json!(target_type));
        t.insert("path".into(), json!(path));
        t.insert("pathSegments".into(), json!(segments));
        if let Some(a) = &agent_id {
            t.insert("agentId".into(), json!(a));
        }
        if let Some(p) = &provider_id {
            t.insert("providerId".into(), json!(p));
        }
        t.insert(
            "ref".into(),
            json!({"source": "exec", "provider": EXEC_PROVIDER_ALIAS, "id": id}),
        );
        targets.push(Value::Object(t));
        out.targets.push(ApplyTarget {
            file: file.to_path_buf(),
            json_path,
            target_type: target_type.to_string(),
            path,
            agent_id,
            id,
            provider: EXEC_PROVIDER_ALIAS.to_string(),
        });
    };

    // openclaw.json
    let config_file = paths.config_file().filter(|f| f.exists());
    let doc = match &config_file {
        Some(f) => match read_credential_file(f, crate::openclaw::MAX_CONFIG_FILE_BYTES)? {
            Some(file) => parse_json5(&file)?,
            None => Value::Null,
        },
        None => Value::Null,
    };
    let config_path = config_file.clone().unwrap_or_default();
    let config_value = |segments: &[String]| -> Option<Value> {
        segments.iter().try_fold(&doc, |v, k| v.get(k)).cloned()
    };
    // The SQLite auth stores (read before the config: a provider's config key can only be a
    // target when OpenClaw's scrub of that provider's shared profiles loses nothing).
    let stores = auth_store_profiles(paths);
    // A `models.providers.<p>.apiKey` target makes OpenClaw's apply delete the plaintext of every
    // static profile of `<p>` in every store. An agent's profile has its own target (apply
    // writes its `keyRef` first and the scrub keeps refs); a shared-store profile has none, so a
    // shared profile holding another key would be lost from OpenClaw (each agent reading it
    // would switch to the config key).
    let shared_differs = |provider: &str, value: &str| -> bool {
        stores
            .iter()
            .filter(|s| s.kind == AuthStoreKind::Shared)
            .filter_map(|s| s.profiles.as_ref().ok())
            .flatten()
            .filter(|p| p.provider.eq_ignore_ascii_case(provider))
            .filter_map(|p| p.plaintext.as_ref())
            .any(|(_, v)| v.expose_secret().trim() != value)
    };
    for field in plaintext_fields(&doc) {
        let Some(pattern) = field.pattern else {
            out.kept.push(KeptTarget {
                file: config_path.clone(),
                json_path: field.dotted(),
                reason: "OpenClaw 2026.9 no longer reads this path; move it to plugins.entries.brave.config.webSearch.apiKey".into(),
            });
            continue;
        };
        let Some(Value::String(value)) = config_value(&field.json_path) else {
            out.kept.push(KeptTarget {
                file: config_path.clone(),
                json_path: field.dotted(),
                reason: "not a string (OpenClaw's apply writes refs for strings)".into(),
            });
            continue;
        };
        let value = zeroize::Zeroizing::new(value.trim().to_string());
        let provider_id =
            (pattern == "models.providers.*.apiKey").then(|| field.json_path[2].clone());
        if let Some(provider) = provider_id.as_deref().filter(|p| shared_differs(p, &value)) {
            out.kept.push(KeptTarget {
                file: config_path.clone(),
                json_path: field.dotted(),
                reason: format!("the shared auth store holds another key for provider `{provider}`; OpenClaw 2026.9.6's apply would delete that profile's key when this becomes a ref, and it cannot target the shared store (both values are in Vault)"),
            });
            continue;
        }
        push(
            &mut out,
            &mut targets,
            &config_path,
            field.dotted(),
            pattern,
            field.json_path.clone(),
            None,
            provider_id,
            &value,
        );
    }

    let agent_providers: std::collections::HashSet<String> = stores
        .iter()
        .filter(|s| matches!(s.kind, AuthStoreKind::Agent(_)))
        .filter_map(|s| s.profiles.as_ref().ok())
        .flatten()
        .map(|p| p.provider.clone())
        .collect();
    for store in &stores {
        let Ok(profiles) = &store.profiles else {
            continue; // Reported by the plan's source errors.
        };
        match &store.kind {
            AuthStoreKind::Agent(agent) => {
                for p in profiles {
                    let Some((field, value)) = &p.plaintext else {
                        continue;
                    };
                    let target_type = if p.profile_type == "api_key" {
                        "auth-profiles.api_key.key"
                    } else {
                        "auth-profiles.token.token"
                    };
                    push(
                        &mut out,
                        &mut targets,
                        &store.file,
                        format!("profiles.{}.{field}", p.id),
                        target_type,
                        vec!["profiles".into(), p.id.clone(), (*field).into()],
                        Some(agent.clone()),
                        None,
                        value.expose_secret(),
                    );
                }
            }
            AuthStoreKind::Shared => {
                let mut providers: Vec<&str> = profiles
                    .iter()
                    .filter(|p| p.plaintext.is_some())
                    .map(|p| p.provider.as_str())
                    .collect();
                providers.dedup();
                providers.sort();
                providers.dedup();
                for provider in providers {
                    let mine: Vec<_> = profiles.iter().filter(|p| p.provider == provider).collect();
                    let plain: Vec<_> = mine
                        .iter()
                        .filter_map(|p| p.plaintext.as_ref().map(|(f, v)| (p, *f, v)))
                        .collect();
                    let keep = |out: &mut ApplyPlan, reason: String| {
                        for (p, f, _) in &plain {
                            out.kept.push(KeptTarget {
                                file: store.file.clone(),
                                json_path: format!("profiles.{}.{f}", p.id),
                                reason: reason.clone(),
                            });
                        }
                    };
                    let first = plain[0].2.expose_secret();
                    if plain.iter().any(|(_, _, v)| v.expose_secret() != first) {
                        keep(&mut out, format!("the shared auth store holds different keys for provider `{provider}`; OpenClaw 2026.9.6's apply can only point the provider's config key at one of them (each migrated one is in Vault under its own name; see the plan for those skipped)"));
                        continue;
                    }
                    if agent_providers.contains(provider) {
                        keep(&mut out, format!("an agent auth store also has a profile for provider `{provider}`; OpenClaw would report the provider's config ref as shadowed"));
                        continue;
                    }
                    let segments: Vec<String> = ["models", "providers", provider, "apiKey"]
                        .map(String::from)
                        .to_vec();
                    match config_value(&segments) {
                        None | Some(Value::Null) => {}
                        Some(Value::String(s)) if s.trim() == first => continue, // Planned above.
                        Some(v) if is_secret_ref(&v) => {
                            keep(&mut out, format!("models.providers.{provider}.apiKey is already a SecretRef; OpenClaw's apply would replace it"));
                            continue;
                        }
                        Some(_) => {
                            keep(&mut out, format!("models.providers.{provider}.apiKey holds a different key; OpenClaw's apply would drop the profile's key for it"));
                            continue;
                        }
                    }
                    let (p, f, v) = &plain[0];
                    let json_path = format!("profiles.{}.{f}", p.id);
                    // The target is the config key, its source the shared profile: found by the
                    // profile's own target, written where OpenClaw will look.
                    let Some((item, field)) =
                        holder(verified, &store.file, &json_path, v.expose_secret())
                    else {
                        keep(
                            &mut out,
                            "no credential with this value was verified in Vault".into(),
                        );
                        continue;
                    };
                    let id = match ref_id(item, &field) {
                        Ok(id) => id,
                        Err(reason) => {
                            keep(&mut out, reason);
                            continue;
                        }
                    };
                    targets.push(json!({
                        "type": "models.providers.apiKey",
                        "path": segments.join("."),
                        "pathSegments": segments,
                        "providerId": provider,
                        "ref": {"source": "exec", "provider": EXEC_PROVIDER_ALIAS, "id": id},
                    }));
                    for (p, f, _) in &plain {
                        out.targets.push(ApplyTarget {
                            file: store.file.clone(),
                            json_path: format!("profiles.{}.{f}", p.id),
                            target_type: "models.providers.apiKey".into(),
                            path: segments.join("."),
                            agent_id: None,
                            id: id.clone(),
                            provider: EXEC_PROVIDER_ALIAS.to_string(),
                        });
                    }
                }
            }
        }
    }
    let ours = super::rewrite_config::provider_entry(resolver);
    assign_aliases(&doc, &ours, &mut targets, &mut out);
    let mut upserts = Map::new();
    for a in &out.aliases {
        if let Some(entry) = &a.entry {
            upserts.insert(a.alias.clone(), entry.clone());
        }
    }
    out.plan = json!({
        "version": 1,
        "protocolVersion": 1,
        "providerUpserts": upserts,
        "targets": targets,
    });
    Ok(out)
}

/// Every exec SecretRef id in `doc` (any depth) naming `alias`.
fn config_ref_ids(doc: &Value, alias: &str, out: &mut std::collections::BTreeSet<String>) {
    match doc {
        Value::Object(o) => {
            if o.get("source").and_then(Value::as_str) == Some("exec")
                && o.get("provider").and_then(Value::as_str) == Some(alias)
            {
                if let Some(id) = o.get("id").and_then(Value::as_str) {
                    out.insert(id.trim().to_string());
                }
            }
            for v in o.values() {
                config_ref_ids(v, alias, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| config_ref_ids(v, alias, out)),
        _ => {}
    }
}

/// One alias while [`assign_aliases`] fills it.
struct Slot {
    alias: String,
    change: ProviderChange,
    /// False for an alias other than `openclaw-vault` whose entry this package did not write.
    usable: bool,
    ids: std::collections::BTreeSet<String>,
    /// The request OpenClaw would write to it, in bytes.
    bytes: usize,
    /// True when a plan target names it.
    planned: bool,
}

/// The bytes one id adds to an exec request: its JSON string and a comma.
fn id_bytes(id: &str) -> usize {
    Value::from(id).to_string().len() + 1
}

impl Slot {
    fn new(doc: &Value, ours: &Value, n: usize) -> Slot {
        let alias = provider_alias(n);
        let change = provider_change(doc.pointer(&format!("/secrets/providers/{alias}")), ours);
        let usable = n == 0 || !matches!(change, ProviderChange::Foreign { .. });
        let mut ids = std::collections::BTreeSet::new();
        if usable {
            config_ref_ids(doc, &alias, &mut ids);
        }
        let empty = json!({"protocolVersion": 1, "provider": alias, "ids": []})
            .to_string()
            .len();
        let bytes = empty + ids.iter().map(|i| id_bytes(i)).sum::<usize>();
        Slot {
            alias,
            change,
            usable,
            ids,
            bytes,
            planned: false,
        }
    }

    fn has_room_for(&self, id: &str) -> bool {
        self.usable
            && self.ids.len() < MAX_REFS_PER_PROVIDER
            && self.bytes + id_bytes(id) <= MAX_BATCH_BYTES
    }
}

/// Spreads the plan's refs over this package's aliases so that none is handed more than
/// [`MAX_REFS_PER_PROVIDER`] distinct ids or [`MAX_BATCH_BYTES`] of request: an id already named
/// by a ref in `openclaw.json` stays on its alias, and those refs count against it; a new id goes
/// to the first alias with room. An alias other than `openclaw-vault` whose entry this package
/// did not write is never given ids (`openclaw-vault` itself keeps its old rule: its refs name it
/// as it is). Sets each target's `ref.provider`, `out.targets[..].provider`, `out.aliases`, and
/// `out.provider`/`provider_entry` (those of `openclaw-vault`).
fn assign_aliases(doc: &Value, ours: &Value, targets: &mut [Value], out: &mut ApplyPlan) {
    let highest = doc
        .pointer("/secrets/providers")
        .and_then(Value::as_object)
        .and_then(|p| p.keys().filter_map(|k| alias_number(k)).max())
        .unwrap_or(0);
    let mut slots: Vec<Slot> = (0..=highest).map(|n| Slot::new(doc, ours, n)).collect();
    let mut alias_of = std::collections::HashMap::<String, String>::new();
    for t in targets.iter_mut() {
        let id = t["ref"]["id"].as_str().unwrap_or_default().to_string();
        let at = match slots.iter().position(|s| s.usable && s.ids.contains(&id)) {
            Some(i) => i,
            None => {
                let i = match slots.iter().position(|s| s.has_room_for(&id)) {
                    Some(i) => i,
                    None => {
                        let mut n = slots.len();
                        // A fresh alias: one of ours that is foreign is skipped.
                        loop {
                            let s = Slot::new(doc, ours, n);
                            let fits = s.has_room_for(&id);
                            slots.push(s);
                            if fits {
                                break;
                            }
                            n += 1;
                        }
                        slots.len() - 1
                    }
                };
                slots[i].bytes += id_bytes(&id);
                slots[i].ids.insert(id.clone());
                i
            }
        };
        let s = &mut slots[at];
        s.planned = true;
        t["ref"]["provider"] = json!(s.alias);
        alias_of.insert(id, s.alias.clone());
    }
    for t in &mut out.targets {
        if let Some(a) = alias_of.get(&t.id) {
            t.provider = a.clone();
        }
    }
    out.aliases = slots
        .into_iter()
        .enumerate()
        .filter(|(n, s)| *n == 0 || s.planned || !matches!(s.change, ProviderChange::Added))
        .map(|(_, s)| {
            let upsert = match s.change {
                ProviderChange::Added => s.planned,
                ProviderChange::Upgraded { .. } => true,
                ProviderChange::Unchanged | ProviderChange::Foreign { .. } => false,
            };
            AliasChange {
                alias: s.alias,
                change: s.change,
                entry: upsert.then(|| ours.clone()),
                ids: s.ids.len(),
            }
        })
        .collect();
    out.provider = out.aliases[0].change.clone();
    out.provider_entry = out.aliases[0].entry.clone();
}

// ---- running `openclaw secrets apply` --------------------------------------------------------

/// The oldest OpenClaw whose stores and apply contract this step fits (SQLite auth stores,
/// auth-profile targets with `agentId`).
pub const MIN_OPENCLAW_VERSION: (u32, u32, u32) = (2026, 9, 0);

/// How long `openclaw --version` and `openclaw secrets apply` may take before they are killed.
/// Apply starts OpenClaw (about 2 s here) and runs our resolver once per provider.
pub const OPENCLAW_CLI_DEADLINE: std::time::Duration = std::time::Duration::from_secs(180);

/// The `openclaw` command this step runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenClawCli {
    /// An absolute path, or a path as given.
    pub command: PathBuf,
}

/// What `openclaw secrets apply --json` reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppliedPlan {
    /// The files OpenClaw changed (`changedFiles`).
    pub changed_files: Vec<PathBuf>,
    /// OpenClaw's warnings.
    pub warnings: Vec<String>,
}

/// Where the failing step of a CLI run is: the error for a process that could not be run,
/// exited non-zero or printed what is not expected, naming the executable. `redact` removes
/// secrets from OpenClaw's text before it becomes a message; `stderr`, when OpenClaw said
/// something there, is added as a bounded excerpt ([`crate::scrub::stderr_excerpt`]).
fn cli_error(
    cli: &Path,
    what: &str,
    detail: &str,
    stderr: &str,
    redact: &dyn Fn(&str) -> String,
) -> Error {
    let excerpt = crate::scrub::stderr_excerpt(stderr, redact);
    let said = if excerpt.is_empty() {
        String::new()
    } else {
        format!("; its stderr: {excerpt}")
    };
    Error::new(
        crate::error::ErrorCode::InvalidConfig,
        format!(
            "openclaw CLI {}: {what}: {}{said}",
            cli.display(),
            redact(detail)
        ),
    )
}

/// How a run of the `openclaw` CLI ended.
#[derive(Debug)]
pub(crate) struct CliRun {
    /// Its exit code; `None` when a signal ended it, or it was killed at the deadline.
    pub(crate) code: Option<i32>,
    /// True when it was still running at the deadline and was killed.
    pub(crate) timed_out: bool,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// How long the output of a finished (or killed) run is waited for: a grandchild that escaped
/// the process group and still holds the pipes must not hang this step.
const OUTPUT_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Runs `cli args...` with the deadline `deadline`, its output read on threads of their own (so
/// a full pipe never stalls it). A child still running at the deadline is killed, with its
/// process group on Linux.
///
/// On Linux the child also dies with this process: it runs in a process group of its own (so
/// the deadline kill reaches whatever it started) and with `PR_SET_PDEATHSIG` = `SIGKILL`, so a
/// `migrate` killed by any signal, `SIGKILL` included, takes `openclaw secrets apply` with it
/// instead of leaving it to write OpenClaw's files after the run that asked for it is gone.
/// (The death signal follows the thread that spawned the child; this function waits for the
/// child on that same thread, so the thread outlives it.) Elsewhere the child stays in this
/// process's group, so a terminal's Ctrl-C still reaches both.
pub(crate) fn run_with_deadline(
    cli: &Path,
    args: &[&std::ffi::OsStr],
    deadline: std::time::Duration,
) -> std::io::Result<CliRun> {
    run_with_deadline_env(cli, args, &[], deadline)
}

/// [`run_with_deadline`] with `env` added to the child's environment (values that must not be
/// on its command line, such as a gateway token).
pub(crate) fn run_with_deadline_env(
    cli: &Path,
    args: &[&std::ffi::OsStr],
    env: &[(String, String)],
    deadline: std::time::Duration,
) -> std::io::Result<CliRun> {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut command = Command::new(cli);
    command
        .args(args)
        // OpenClaw's launcher re-executes itself in a detached process (its own group) to add
        // Node flags (`dist/entry.respawn-*.mjs`), or to move a compile cache `NODE_COMPILE_CACHE`
        // names (`openclaw.mjs`). That second process would escape both the group kill and the
        // death signal below and go on writing OpenClaw's files after migrate is gone (found by
        // a kill -9 during apply). `OPENCLAW_NO_RESPAWN=1` is OpenClaw's own switch for the first;
        // without `NODE_COMPILE_CACHE` the second never triggers (OpenClaw then enables its
        // packaged cache in-process).
        .env("OPENCLAW_NO_RESPAWN", "1")
        .env_remove("NODE_COMPILE_CACHE")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
        // SAFETY: getpid has no preconditions.
        let parent = unsafe { libc::getpid() };
        // SAFETY: the closure runs in the forked child before exec and calls only
        // async-signal-safe functions (prctl, getppid, _exit), allocating nothing.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The parent died between fork and prctl: the signal will never come.
                if libc::getppid() != parent {
                    libc::_exit(137);
                }
                Ok(())
            });
        }
    }
    let mut child = command.spawn()?;
    let reader = |mut pipe: Box<dyn Read + Send>| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            let _ = tx.send(String::from_utf8_lossy(&bytes).into_owned());
        });
        rx
    };
    let out_rx = reader(Box::new(child.stdout.take().expect("piped")));
    let err_rx = reader(Box::new(child.stderr.take().expect("piped")));
    let started = std::time::Instant::now();
    let mut wait = std::time::Duration::from_millis(20);
    let (status, timed_out) = loop {
        if let Some(status) = child.try_wait()? {
            break (Some(status), false);
        }
        if started.elapsed() > deadline {
            #[cfg(target_os = "linux")]
            // SAFETY: kill has no memory preconditions; the group is the child's own (its pid),
            // and the child is not reaped yet, so the id cannot have been reused.
            unsafe {
                libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL);
            }
            let _ = child.kill();
            let _ = child.wait();
            break (None, true);
        }
        std::thread::sleep(wait);
        wait = (wait * 2).min(std::time::Duration::from_millis(250));
    };
    Ok(CliRun {
        code: status.and_then(|s| s.code()),
        timed_out,
        stdout: out_rx.recv_timeout(OUTPUT_GRACE).unwrap_or_default(),
        stderr: err_rx.recv_timeout(OUTPUT_GRACE).unwrap_or_default(),
    })
}

impl CliRun {
    /// `exit code 1`, `killed by a signal`, `did not finish within 180s and was killed`.
    fn ending(&self, deadline: std::time::Duration) -> String {
        match (self.timed_out, self.code) {
            (true, _) => format!("did not finish within {deadline:?} and was killed"),
            (false, Some(code)) => format!("exit code {code}"),
            (false, None) => "killed by a signal".to_string(),
        }
    }
}

/// `OpenClaw 2026.9.6 (eb377ac)` -> `(2026, 9, 6)`.
fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    text.split_whitespace().find_map(|word| {
        let mut parts = word.trim_start_matches('v').split('.');
        let y = parts.next()?.parse().ok()?;
        let m = parts.next()?.parse().ok()?;
        let d = parts
            .next()?
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()?;
        Some((y, m, d))
    })
}

impl OpenClawCli {
    /// `explicit` (the `--openclaw` option), else the first `openclaw` on `PATH` (from `env`).
    ///
    /// Errors: `INVALID_CONFIG` naming what was looked for when there is none.
    pub fn locate(explicit: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        if let Some(p) = explicit {
            if p.is_file() {
                return Ok(OpenClawCli {
                    command: p.to_path_buf(),
                });
            }
            return Err(Error::invalid_config(format!(
                "--openclaw {}: no such file",
                p.display()
            )));
        }
        let path = env("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .map(|d| d.join("openclaw"))
            .find(|c| c.is_file())
            .map(|command| OpenClawCli { command })
            .ok_or_else(|| {
                Error::invalid_config(
                    "the openclaw CLI was not found on PATH: pass --openclaw <path to openclaw>, or --plan-out <file> to apply the plan yourself with `openclaw secrets apply --from <file> --allow-exec`",
                )
            })
    }

    /// Checks `openclaw --version` is at least [`MIN_OPENCLAW_VERSION`].
    ///
    /// Errors: `INVALID_CONFIG` naming the executable when it cannot be run, fails, prints no
    /// version (with an excerpt of its stderr, `redact` applied) or is older.
    pub fn check_version(&self, redact: &dyn Fn(&str) -> String) -> Result<(u32, u32, u32)> {
        let deadline = OPENCLAW_CLI_DEADLINE;
        let run = run_with_deadline(&self.command, &["--version".as_ref()], deadline)
            .map_err(|e| cli_error(&self.command, "--version", &e.to_string(), "", redact))?;
        let text = format!("{}\n{}", run.stdout, run.stderr);
        let Some(version) = (run.code == Some(0))
            .then(|| parse_version(&text))
            .flatten()
        else {
            return Err(cli_error(
                &self.command,
                "--version",
                &format!("{}, no OpenClaw version printed", run.ending(deadline)),
                &run.stderr,
                redact,
            ));
        };
        if version < MIN_OPENCLAW_VERSION {
            let (y, m, d) = version;
            let (ry, rm, rd) = MIN_OPENCLAW_VERSION;
            return Err(cli_error(
                &self.command,
                "too old",
                &format!("OpenClaw {y}.{m}.{d}; this step needs {ry}.{rm}.{rd} or newer (its SQLite stores and secrets apply contract)"),
                "",
                redact,
            ));
        }
        Ok(version)
    }

    /// Runs `openclaw secrets apply --from <plan_file> --allow-exec --json`, killed after
    /// `deadline` (the command line uses [`OPENCLAW_CLI_DEADLINE`]); on Linux it dies with this
    /// process (see `run_with_deadline`).
    ///
    /// Errors: `INVALID_CONFIG` naming the executable and the plan when it cannot be run, times
    /// out, exits non-zero (OpenClaw's own message and an excerpt of its stderr, with every value
    /// `redact` knows removed) or prints what is not its report. OpenClaw validates the whole
    /// plan before it writes anything.
    pub fn apply(
        &self,
        plan_file: &Path,
        deadline: std::time::Duration,
        redact: &dyn Fn(&str) -> String,
    ) -> Result<AppliedPlan> {
        let args: [&std::ffi::OsStr; 6] = [
            "secrets".as_ref(),
            "apply".as_ref(),
            "--from".as_ref(),
            plan_file.as_os_str(),
            "--allow-exec".as_ref(),
            "--json".as_ref(),
        ];
        let run = run_with_deadline(&self.command, &args, deadline).map_err(|e| {
            cli_error(
                &self.command,
                "secrets apply",
                &format!("{e} (plan {})", plan_file.display()),
                "",
                redact,
            )
        })?;
        let report: Option<Value> = run
            .stdout
            .find('{')
            .and_then(|start| serde_json::from_str(&run.stdout[start..]).ok());
        if run.code != Some(0) {
            let message = report
                .as_ref()
                .and_then(|r| r.pointer("/error/message"))
                .and_then(Value::as_str)
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            let mut e = cli_error(
                &self.command,
                "secrets apply failed",
                &format!(
                    "{}{message} (plan {})",
                    run.ending(deadline),
                    plan_file.display()
                ),
                &run.stderr,
                redact,
            );
            // Another writer changed openclaw.json while OpenClaw applied: nothing is wrong with
            // the plan or the setup, and a rerun applies it (attack 10, F8f).
            if message.contains("ConfigMutationConflict")
                || run.stderr.contains("ConfigMutationConflict")
            {
                e.code = crate::error::ErrorCode::Conflict;
                e.message.push_str("; openclaw.json changed while OpenClaw's apply ran (another writer): run migrate again");
            }
            return Err(e);
        }
        let Some(report) = report else {
            return Err(cli_error(
                &self.command,
                "secrets apply",
                &format!("printed no JSON report (plan {})", plan_file.display()),
                &run.stderr,
                redact,
            ));
        };
        let strings = |k: &str| -> Vec<String> {
            report
                .get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok(AppliedPlan {
            changed_files: strings("changedFiles")
                .into_iter()
                .map(PathBuf::from)
                .collect(),
            warnings: strings("warnings"),
        })
    }
}

/// Writes `plan` to `file` atomically with mode 0600 (a plan holds no secret, but names where
/// every secret lives).
pub fn write_plan_file(file: &Path, plan: &ApplyPlan) -> Result<()> {
    let text = serde_json::to_vec_pretty(&plan.plan)
        .map_err(|e| Error::invalid_argument(format!("apply plan: {e}")))?;
    crate::local_file::write_atomic(file, &text)
}

/// The plan file handed to `openclaw secrets apply`: a private temporary file, removed when
/// this value is dropped, so on every way the step ends (applied, OpenClaw failed or timed
/// out, an error of ours, a panic). Only `--plan-out` files ([`write_plan_file`]) persist.
///
/// It is not in OpenClaw's state directory: nothing there should outlive the run, and a run
/// killed with `SIGKILL` (which no cleanup survives) then leaves its plan in the system's
/// temporary directory, not among the files OpenClaw's backups and `doctor` see. The file is
/// created exclusively with mode 0600 and written completely before OpenClaw is started: it
/// holds refs only, but names where every secret lives.
#[derive(Debug)]
pub struct TempPlanFile(tempfile::TempPath);

impl TempPlanFile {
    /// Writes `plan` to a new `openclaw-vault-apply-plan-*.json` in `std::env::temp_dir()`.
    ///
    /// Errors: `INVALID_CONFIG` naming the directory when the file cannot be created or written.
    pub fn write(plan: &ApplyPlan) -> Result<TempPlanFile> {
        use std::io::Write;
        let dir = std::env::temp_dir();
        let fail = |e: std::io::Error| {
            Error::invalid_config(format!(
                "cannot write the apply plan in {} ({})",
                dir.display(),
                e.kind()
            ))
        };
        let text = serde_json::to_vec_pretty(&plan.plan)
            .map_err(|e| Error::invalid_argument(format!("apply plan: {e}")))?;
        let mut file = tempfile::Builder::new()
            .prefix("openclaw-vault-apply-plan-")
            .suffix(".json")
            .tempfile_in(&dir)
            .map_err(fail)?;
        file.write_all(&text).map_err(fail)?;
        file.as_file().sync_all().map_err(fail)?;
        Ok(TempPlanFile(file.into_temp_path()))
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::test_support::*;
    use std::os::unix::fs::PermissionsExt;

    /// An executable shell script `body` at `dir/name`.
    fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
        let file = dir.join(name);
        std::fs::write(&file, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o700)).unwrap();
        file
    }

    /// Paths of a HOME whose `openclaw.json` is `config`, and a chain that never reaches Vault.
    fn home_with(
        name: &str,
        config: &Value,
    ) -> (
        openclaw_vault_test_support::TempDir,
        OpenClawPaths,
        std::sync::Arc<CredentialChain>,
    ) {
        let home = temp_dir(name);
        let file = home.join(".openclaw/openclaw.json");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, config.to_string()).unwrap();
        let h = home.to_string_lossy().into_owned();
        let paths = OpenClawPaths::from_env(&move |k| (k == "HOME").then(|| h.clone()));
        (home, paths, chain_with(offline_client(), "ap", vec![]))
    }

    const REF: &str = r#"{"source": "exec", "provider": "openclaw-vault", "id": "ap/credentials/telegram/token"}"#;

    #[test]
    fn an_entry_this_package_wrote_for_node_is_upgraded_even_without_targets() {
        let native = ResolverCommand::Native {
            exe: PathBuf::from("/opt/pkg/openclaw-vault"),
        };
        let ours_now = crate::migrate::rewrite_config::provider_entry(&native);
        let node_route = crate::migrate::rewrite_config::provider_entry(&ResolverCommand::Node {
            node: PathBuf::from("/usr/local/bin/node"),
            script: PathBuf::from(
                "/usr/lib/node_modules/@openclaw/vault/bin/openclaw-vault-resolve.mjs",
            ),
        });
        // An older version of ours: another executable path, fewer variables, no timeouts.
        let older = json!({"source": "exec", "command": "/old/openclaw-vault", "args": ["resolve"], "passEnv": ["VAULT_ADDR", "VAULT_TOKEN"], "jsonOnly": true});
        for (case, existing) in [("node", &node_route), ("older", &older)] {
            let config = json!({
                "channels": {"telegram": {"botToken": serde_json::from_str::<Value>(REF).unwrap()}},
                "secrets": {"providers": {EXEC_PROVIDER_ALIAS: existing}},
            });
            let (home, paths, chain) = home_with(&format!("ap-upgrade-{case}"), &config);
            let plan =
                build_apply_plan(&paths, &chain, &VerifiedInVault::default(), &native).unwrap();
            assert!(plan.targets.is_empty());
            assert!(
                !plan.is_empty(),
                "{case}: the provider upgrade is something to apply"
            );
            assert_eq!(
                plan.provider,
                ProviderChange::Upgraded {
                    command: existing["command"].as_str().unwrap().into(),
                    args: serde_json::from_value(existing["args"].clone()).unwrap(),
                },
                "{case}"
            );
            assert_eq!(plan.plan["providerUpserts"][EXEC_PROVIDER_ALIAS], ours_now);
            assert_eq!(plan.plan["targets"], json!([]));
            std::fs::remove_dir_all(home).unwrap();
        }
    }

    #[test]
    fn a_provider_someone_else_wrote_is_never_touched() {
        let native = ResolverCommand::Native {
            exe: PathBuf::from("/opt/pkg/openclaw-vault"),
        };
        let ours = crate::migrate::rewrite_config::provider_entry(&native);
        let with = |k: &str, v: Value| {
            let mut e = ours.clone();
            e[k] = v;
            e
        };
        let foreign = [
            json!({"source": "exec", "pluginIntegration": {"pluginId": "openclaw-vault", "integrationId": "openclaw-vault"}}),
            with("env", json!({"VAULT_ADDR": "http://127.0.0.1:8200"})),
            with("command", json!("/usr/local/bin/my-vault-helper")),
            with("command", json!("relative/openclaw-vault")),
            with("args", json!(["resolve", "--verbose"])),
            with("source", json!("file")),
            with("jsonOnly", json!(false)),
            with("passEnv", json!(["VAULT TOKEN"])),
            json!({"source": "exec", "command": "/usr/bin/node", "args": ["/home/u/my-resolver.mjs"]}),
            json!({"source": "exec", "command": "/usr/bin/node", "args": ["bin/openclaw-vault-resolve.mjs"]}),
        ];
        for existing in foreign {
            assert!(
                matches!(
                    provider_change(Some(&existing), &ours),
                    ProviderChange::Foreign { .. }
                ),
                "{existing}"
            );
        }
        assert_eq!(
            provider_change(Some(&ours), &ours),
            ProviderChange::Unchanged
        );
        assert_eq!(provider_change(None, &ours), ProviderChange::Added);

        // In a plan: no upsert, nothing to apply without targets.
        let config = json!({
            "channels": {"telegram": {"botToken": serde_json::from_str::<Value>(REF).unwrap()}},
            "secrets": {"providers": {EXEC_PROVIDER_ALIAS: with("env", json!({"A": "b"}))}},
        });
        let (home, paths, chain) = home_with("ap-foreign", &config);
        let plan = build_apply_plan(&paths, &chain, &VerifiedInVault::default(), &native).unwrap();
        assert!(
            matches!(plan.provider, ProviderChange::Foreign { ref reason } if reason.contains("keys this package never writes"))
        );
        assert!(plan.is_empty());
        assert_eq!(plan.plan["providerUpserts"], json!({}));
        std::fs::remove_dir_all(home).unwrap();
    }

    /// OpenClaw 2026.9.6 reports another writer of openclaw.json during its apply as a
    /// `ConfigMutationConflictError` (seen with `config set` in a loop, attack 10 F8f): a
    /// `CONFLICT` that says to run again, not a setup error.
    #[test]
    fn a_config_mutation_conflict_during_apply_is_a_conflict_to_retry() {
        let dir = temp_dir("ap-cli-conflict");
        let cli = OpenClawCli {
            command: script(
                &dir,
                "openclaw",
                "echo '{\"ok\":false,\"error\":{\"message\":\"ConfigMutationConflictError: config changed since it was read\"}}'; exit 1",
            ),
        };
        let plan = dir.join("plan.json");
        std::fs::write(&plan, "{}").unwrap();
        let err = cli
            .apply(&plan, std::time::Duration::from_secs(30), &|t: &str| {
                t.to_string()
            })
            .unwrap_err();
        assert_eq!(err.code(), "CONFLICT", "{}", err.message);
        assert!(err.message.contains("run migrate again"), "{}", err.message);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_failing_cli_is_named_with_a_bounded_scrubbed_excerpt_of_its_stderr() {
        let dir = temp_dir("ap-cli-stderr");
        let secret = "sk-proj-FAKE-apply-stderr-1234";
        let noise = "x".repeat(5000);
        let cli = OpenClawCli {
            command: script(
                &dir,
                "openclaw",
                &format!("echo '{noise}' >&2; echo 'openclaw: Node 20.20.2: node:sqlite is unavailable; key {secret}' >&2; exit 1"),
            ),
        };
        let redact = |t: &str| t.replace(secret, "[REDACTED]");
        let err = cli.check_version(&redact).unwrap_err();
        assert_eq!(err.code(), "INVALID_CONFIG");
        assert!(
            err.message.contains(&cli.command.display().to_string()),
            "{}",
            err.message
        );
        assert!(
            err.message
                .contains("exit code 1, no OpenClaw version printed; its stderr: ")
                && err
                    .message
                    .contains("node:sqlite is unavailable; key [REDACTED]"),
            "{}",
            err.message
        );
        assert!(!err.message.contains("FAKE-apply"), "{}", err.message);
        assert!(err.message.len() < 1000, "bounded: {}", err.message.len());

        let plan = dir.join("plan.json");
        std::fs::write(&plan, "{}").unwrap();
        let err = cli
            .apply(&plan, OPENCLAW_CLI_DEADLINE, &redact)
            .unwrap_err();
        assert!(
            err.message
                .contains("secrets apply failed: exit code 1 (plan ")
                && err.message.contains(&plan.display().to_string())
                && err.message.contains("[REDACTED]"),
            "{}",
            err.message
        );
        assert!(!err.message.contains("FAKE-apply"), "{}", err.message);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn at_the_deadline_the_cli_and_everything_it_started_are_killed() {
        let dir = temp_dir("ap-cli-deadline");
        let pid_file = dir.join("grandchild.pid");
        // A CLI that starts a child of its own and hangs: both must be gone after the deadline.
        let cli = OpenClawCli {
            command: script(
                &dir,
                "openclaw",
                &format!(
                    "sleep 300 & echo $! > {}; echo 'waiting for the file lock' >&2; wait",
                    pid_file.display()
                ),
            ),
        };
        let plan = dir.join("plan.json");
        std::fs::write(&plan, "{}").unwrap();
        let deadline = std::time::Duration::from_millis(500);
        let err = cli.apply(&plan, deadline, &|t| t.to_string()).unwrap_err();
        assert!(
            err.message
                .contains("did not finish within 500ms and was killed")
                && err
                    .message
                    .contains("its stderr: waiting for the file lock"),
            "{}",
            err.message
        );
        let pid: i32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // Killed with its group; a zombie (not reaped: its parent is gone) counts as gone.
        let alive = || {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| {
                    s.rsplit(')')
                        .next()
                        .map(|r| !r.trim_start().starts_with('Z'))
                })
                .unwrap_or(false)
        };
        let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while alive() && std::time::Instant::now() < until {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(!alive(), "the CLI's own child {pid} outlived the deadline");
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A plan's json targets and report targets for `ids`, as build_apply_plan leaves them
    /// before aliases are assigned.
    fn unassigned(ids: &[String]) -> (Vec<Value>, ApplyPlan) {
        let targets = ids
            .iter()
            .map(|id| json!({"type": "skills.entries.apiKey", "path": id, "ref": {"source": "exec", "provider": EXEC_PROVIDER_ALIAS, "id": id}}))
            .collect();
        let out = ApplyPlan {
            targets: ids
                .iter()
                .map(|id| ApplyTarget {
                    file: PathBuf::from("/s/openclaw.json"),
                    json_path: id.clone(),
                    target_type: "skills.entries.apiKey".into(),
                    path: id.clone(),
                    agent_id: None,
                    id: id.clone(),
                    provider: EXEC_PROVIDER_ALIAS.into(),
                })
                .collect(),
            ..Default::default()
        };
        (targets, out)
    }

    fn ids(prefix: &str, n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("p/credentials/{prefix}{i}/apiKey"))
            .collect()
    }

    /// Distinct ids per alias as OpenClaw groups refs (by source and provider).
    fn per_alias(
        targets: &[Value],
        doc: &Value,
    ) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
        let mut m = std::collections::BTreeMap::<String, std::collections::BTreeSet<String>>::new();
        for t in targets {
            m.entry(t["ref"]["provider"].as_str().unwrap().into())
                .or_default()
                .insert(t["ref"]["id"].as_str().unwrap().into());
        }
        for (alias, set) in m.iter_mut() {
            config_ref_ids(doc, alias, set);
        }
        m
    }

    #[test]
    fn more_ids_than_one_exec_provider_takes_are_spread_over_aliases() {
        let ours =
            json!({"source": "exec", "command": "/opt/pkg/openclaw-vault", "args": ["resolve"]});
        let all = ids("k", 1100);
        let (mut targets, mut out) = unassigned(&all);
        assign_aliases(&Value::Null, &ours, &mut targets, &mut out);
        let m = per_alias(&targets, &Value::Null);
        let sizes: Vec<(String, usize)> = m.iter().map(|(a, s)| (a.clone(), s.len())).collect();
        assert_eq!(
            sizes,
            vec![
                ("openclaw-vault".into(), 512),
                ("openclaw-vault-2".into(), 512),
                ("openclaw-vault-3".into(), 76)
            ]
        );
        let aliases: Vec<_> = out
            .aliases
            .iter()
            .map(|a| (a.alias.as_str(), a.ids, a.entry.is_some()))
            .collect();
        assert_eq!(
            aliases,
            vec![
                ("openclaw-vault", 512, true),
                ("openclaw-vault-2", 512, true),
                ("openclaw-vault-3", 76, true)
            ]
        );
        assert_eq!(out.provider_entry, Some(ours));
        // The report's targets name the same alias as the plan's refs.
        for (t, j) in out.targets.iter().zip(&targets) {
            assert_eq!(j["ref"]["provider"], json!(t.provider));
        }
    }

    #[test]
    fn refs_already_in_the_config_count_and_keep_their_alias() {
        let ours =
            json!({"source": "exec", "command": "/opt/pkg/openclaw-vault", "args": ["resolve"]});
        let old = ids("old", 510);
        let refs: Map<String, Value> = old
            .iter()
            .enumerate()
            .map(|(i, id)| {
                (
                    format!("s{i}"),
                    json!({"apiKey": {"source": "exec", "provider": "openclaw-vault", "id": id}}),
                )
            })
            .collect();
        // `openclaw-vault-2` is somebody else's: never given ids; `-3` is ours, one ref on it.
        let doc = json!({
            "skills": {"entries": refs},
            "channels": {"x": {"token": {"source": "exec", "provider": "openclaw-vault-3", "id": "p/credentials/x/token"}}},
            "secrets": {"providers": {
                "openclaw-vault": ours,
                "openclaw-vault-2": {"source": "exec", "command": "/usr/bin/other"},
                "openclaw-vault-3": ours,
            }},
        });
        let mut plan_ids = ids("new", 5);
        plan_ids.push(old[3].clone());
        plan_ids.push("p/credentials/x/token".into());
        let (mut targets, mut out) = unassigned(&plan_ids);
        assign_aliases(&doc, &ours, &mut targets, &mut out);
        let provider = |i: usize| targets[i]["ref"]["provider"].as_str().unwrap().to_string();
        assert_eq!(
            (0..7).map(provider).collect::<Vec<_>>(),
            vec![
                "openclaw-vault",
                "openclaw-vault",
                "openclaw-vault-3",
                "openclaw-vault-3",
                "openclaw-vault-3",
                "openclaw-vault",
                "openclaw-vault-3"
            ]
        );
        let m = per_alias(&targets, &doc);
        assert_eq!(m["openclaw-vault"].len(), 512);
        assert!(!m.contains_key("openclaw-vault-2"));
        let aliases: Vec<_> = out
            .aliases
            .iter()
            .map(|a| {
                (
                    a.alias.as_str(),
                    a.ids,
                    a.entry.is_some(),
                    matches!(a.change, ProviderChange::Foreign { .. }),
                )
            })
            .collect();
        assert_eq!(
            aliases,
            vec![
                ("openclaw-vault", 512, false, false),
                ("openclaw-vault-2", 0, false, true),
                ("openclaw-vault-3", 4, false, false)
            ]
        );
        assert_eq!(out.provider, ProviderChange::Unchanged);
    }

    #[test]
    fn alias_names_round_trip() {
        assert_eq!(provider_alias(0), "openclaw-vault");
        assert_eq!(provider_alias(1), "openclaw-vault-2");
        assert_eq!(alias_number("openclaw-vault-2"), Some(1));
        assert_eq!(alias_number("openclaw-vault-1"), None);
        assert_eq!(alias_number("openclaw-vault-02"), None);
        assert_eq!(alias_number("openclaw-vaultx"), None);
        // The longest valid exec id, 512 times, stays within OpenClaw's request limit.
        let long = "a".repeat(256);
        let worst = json!({"protocolVersion": 1, "provider": provider_alias(999), "ids": vec![long; MAX_REFS_PER_PROVIDER]});
        assert!(worst.to_string().len() < MAX_BATCH_BYTES);
    }

    #[test]
    fn the_temporary_plan_file_is_private_and_removed_when_dropped() {
        let plan = ApplyPlan {
            plan: json!({"version": 1, "protocolVersion": 1, "targets": []}),
            ..Default::default()
        };
        let file = TempPlanFile::write(&plan).unwrap();
        let path = file.path().to_path_buf();
        assert!(!path.starts_with(std::env::temp_dir().join(".openclaw")));
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let read: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(read, plan.plan);
        drop(file);
        assert!(!path.exists());
    }
}
