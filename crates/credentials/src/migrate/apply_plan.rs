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
}

impl ApplyPlan {
    /// True when there is nothing for OpenClaw to apply: no target and no provider to upgrade.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty() && self.provider_entry.is_none()
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
                        keep(&mut out, format!("the shared auth store holds different keys for provider `{provider}`; OpenClaw 2026.9.6's apply can only point the provider's config key at one of them (each is in Vault under its own name)"));
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
                        });
                    }
                }
            }
        }
    }
    let ours = super::rewrite_config::provider_entry(resolver);
    out.provider = provider_change(
        doc.pointer(&format!("/secrets/providers/{EXEC_PROVIDER_ALIAS}")),
        &ours,
    );
    let upsert = match out.provider {
        ProviderChange::Added => !out.targets.is_empty(),
        ProviderChange::Upgraded { .. } => true,
        ProviderChange::Unchanged | ProviderChange::Foreign { .. } => false,
    };
    let mut upserts = Map::new();
    if upsert {
        upserts.insert(EXEC_PROVIDER_ALIAS.into(), ours.clone());
        out.provider_entry = Some(ours);
    }
    out.plan = json!({
        "version": 1,
        "protocolVersion": 1,
        "providerUpserts": upserts,
        "targets": targets,
    });
    Ok(out)
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
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut command = Command::new(cli);
    command
        .args(args)
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
            return Err(cli_error(
                &self.command,
                "secrets apply failed",
                &format!(
                    "{}{message} (plan {})",
                    run.ending(deadline),
                    plan_file.display()
                ),
                &run.stderr,
                redact,
            ));
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
