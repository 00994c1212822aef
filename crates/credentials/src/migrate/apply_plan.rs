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
//! `models.providers.<provider>.apiKey` is absent or holds that same value. Anything else is
//! kept in place with the reason (its value is in Vault all the same).

use std::path::{Path, PathBuf};

use secrecy::ExposeSecret;
use serde_json::{json, Map, Value};

use super::rewrite_config::{exec_id_ok, ResolverCommand, EXEC_PROVIDER_ALIAS};
use super::{PlanItem, SourceTarget, VerifiedInVault};
use crate::chain::CredentialChain;
use crate::error::{Error, Result};
use crate::local_file::{read_credential_file, MAX_CREDENTIAL_FILE_BYTES};
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

/// What [`build_apply_plan`] made.
#[derive(Debug, Clone, Default)]
pub struct ApplyPlan {
    /// The plan file's content (no secret in it: refs and the provider definition only).
    pub plan: Value,
    /// The targets, in plan order.
    pub targets: Vec<ApplyTarget>,
    /// Plaintext secrets left in place.
    pub kept: Vec<KeptTarget>,
}

impl ApplyPlan {
    /// True when there is nothing for OpenClaw to apply.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
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
    let ref_id = |item: &PlanItem, field: &str| -> Result<String> {
        Ok(format!("{}/{field}", vault.path_of(&item.name)?))
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
            Ok(id) if exec_id_ok(&id) => id,
            _ => {
                out.kept.push(KeptTarget {
                    file: file.to_path_buf(),
                    json_path,
                    reason: format!(
                        "the Vault path of `{}` is not a valid exec SecretRef id",
                        item.name
                    ),
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
        Some(f) => match read_credential_file(f, MAX_CREDENTIAL_FILE_BYTES)? {
            Some(file) => parse_json5(&file)?,
            None => Value::Null,
        },
        None => Value::Null,
    };
    let config_path = config_file.clone().unwrap_or_default();
    let config_value = |segments: &[String]| -> Option<Value> {
        segments.iter().try_fold(&doc, |v, k| v.get(k)).cloned()
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

    // The SQLite auth stores.
    let stores = auth_store_profiles(paths);
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
                        Ok(id) if exec_id_ok(&id) => id,
                        _ => {
                            keep(
                                &mut out,
                                format!(
                                    "the Vault path of `{}` is not a valid exec SecretRef id",
                                    item.name
                                ),
                            );
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
    let mut upserts = Map::new();
    upserts.insert(
        EXEC_PROVIDER_ALIAS.into(),
        super::rewrite_config::provider_entry(resolver),
    );
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
/// exited non-zero or printed what is not expected. `redact` removes secrets from OpenClaw's
/// text before it becomes a message.
fn cli_error(cli: &Path, what: &str, detail: &str, redact: &dyn Fn(&str) -> String) -> Error {
    Error::new(
        crate::error::ErrorCode::InvalidConfig,
        format!("openclaw CLI {}: {what}: {}", cli.display(), redact(detail)),
    )
}

/// Runs `cli args...` with a deadline; `(exit code, stdout, stderr)`. A child still running at
/// the deadline is killed.
pub(crate) fn run_with_deadline(
    cli: &Path,
    args: &[&std::ffi::OsStr],
) -> std::io::Result<(i32, String, String)> {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut child = Command::new(cli)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Readers on their own threads, so a full pipe never stalls the child.
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let started = std::time::Instant::now();
    let mut wait = std::time::Duration::from_millis(20);
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > OPENCLAW_CLI_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "did not finish within {} s",
                    OPENCLAW_CLI_DEADLINE.as_secs()
                ),
            ));
        }
        std::thread::sleep(wait);
        wait = (wait * 2).min(std::time::Duration::from_millis(250));
    };
    let stdout = out_t.join().unwrap_or_default();
    let stderr = err_t.join().unwrap_or_default();
    Ok((status.code().unwrap_or(-1), stdout, stderr))
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
    /// Errors: `INVALID_CONFIG` when it cannot be run, prints no version, or is older.
    pub fn check_version(&self) -> Result<(u32, u32, u32)> {
        let none = |s: &str| s.to_string();
        let (code, out, err) = run_with_deadline(&self.command, &["--version".as_ref()])
            .map_err(|e| cli_error(&self.command, "--version", &e.to_string(), &none))?;
        let text = format!("{out}\n{err}");
        let Some(version) = (code == 0).then(|| parse_version(&text)).flatten() else {
            return Err(cli_error(
                &self.command,
                "--version",
                &format!("exit code {code}, no OpenClaw version printed"),
                &none,
            ));
        };
        if version < MIN_OPENCLAW_VERSION {
            let (y, m, d) = version;
            let (ry, rm, rd) = MIN_OPENCLAW_VERSION;
            return Err(cli_error(
                &self.command,
                "too old",
                &format!("OpenClaw {y}.{m}.{d}; this step needs {ry}.{rm}.{rd} or newer (its SQLite stores and secrets apply contract)"),
                &none,
            ));
        }
        Ok(version)
    }

    /// Runs `openclaw secrets apply --from <plan_file> --allow-exec --json`.
    ///
    /// Errors: `INVALID_CONFIG` when it cannot be run, times out, exits non-zero (OpenClaw's
    /// own message, with every value `redact` knows removed) or prints what is not its report.
    /// OpenClaw validates the whole plan before it writes anything.
    pub fn apply(&self, plan_file: &Path, redact: &dyn Fn(&str) -> String) -> Result<AppliedPlan> {
        let args: [&std::ffi::OsStr; 6] = [
            "secrets".as_ref(),
            "apply".as_ref(),
            "--from".as_ref(),
            plan_file.as_os_str(),
            "--allow-exec".as_ref(),
            "--json".as_ref(),
        ];
        let (code, out, err) = run_with_deadline(&self.command, &args)
            .map_err(|e| cli_error(&self.command, "secrets apply", &e.to_string(), redact))?;
        let report: Option<Value> = out
            .find('{')
            .and_then(|start| serde_json::from_str(&out[start..]).ok());
        if code != 0 {
            let message = report
                .as_ref()
                .and_then(|r| r.pointer("/error/message"))
                .and_then(Value::as_str)
                .map(String::from)
                .unwrap_or_else(|| {
                    let tail: Vec<&str> = err.lines().rev().take(3).collect();
                    tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
                });
            return Err(cli_error(
                &self.command,
                "secrets apply failed",
                &format!("exit code {code}: {message} (plan {})", plan_file.display()),
                redact,
            ));
        }
        let Some(report) = report else {
            return Err(cli_error(
                &self.command,
                "secrets apply",
                "printed no JSON report",
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
