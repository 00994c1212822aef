//! Points OpenClaw's `openclaw.json` at Vault after a migration (`migrate --rewrite-config`).
//!
//! Each plaintext secret field of the config (the config provider's own list, so the two never
//! disagree) whose value a credential verified in Vault holds becomes an exec SecretRef,
//! `{source: "exec", provider: "openclaw-vault", id: "<prefix>/credentials/<name>/<field>"}`,
//! answered by this package's resolver; the provider entry `secrets.providers.openclaw-vault` is
//! added when missing. The file is edited through jsonc-parser's CST, so comments, quoting and
//! layout survive. Under OpenClaw's lock on the file, the edit is checked by parsing the result
//! again (exactly the intended values changed, nothing else), refused when the file changed while
//! it was being rewritten, and written atomically (0600) after a byte-for-byte 0600 backup next to
//! it. A value no verified credential holds stays where it is and is reported. On any error the
//! file is left unchanged. Error messages name the file, never a value.
//!
//! This package's deprecated `credentials` key (which OpenClaw 2026.9 rejects as an unrecognized
//! key) is moved out in the same write: its text, comments included, becomes
//! `openclaw-vault.json` next to the config (0600, written first, only when that file does not
//! exist yet), and the key is deleted from `openclaw.json`. The tool never writes the old key.

use std::path::{Path, PathBuf};

use jsonc_parser::cst::{CstInputValue, CstObject, CstObjectProp, CstRootNode};
use jsonc_parser::ParseOptions;
use serde_json::{json, Map, Value};
use zeroize::Zeroizing;

use super::{backup_path, PlanItem, VerifiedInVault, LOCK_WAIT, MAX_LOCAL_FILE_BYTES};
use crate::chain::CredentialChain;
use crate::error::{Error, ErrorCode, Result};
use crate::local_file::{read_credential_file, write_atomic, FileLock};
use crate::openclaw::paths::OpenClawPaths;
use crate::providers::openclaw_config::plaintext_fields;

/// The exec provider alias written into `openclaw.json` (`secrets.providers.openclaw-vault`) and
/// named by every SecretRef `rewrite_config` writes.
pub const EXEC_PROVIDER_ALIAS: &str = "openclaw-vault";

/// The provider entry's `passEnv`: every variable the resolver reads (the plugin manifest's
/// list, `openclaw.plugin.json`), plus what finds OpenClaw's config and `~/.vault-token` (`HOME`).
/// OpenClaw passes an exec provider nothing else: no `PATH`, and no `HOME` unless listed.
pub const RESOLVER_PASS_ENV: &[&str] = &[
    "VAULT_ADDR",
    "VAULT_AGENT_ADDR",
    "VAULT_TOKEN",
    "VAULT_TOKEN_FILE",
    "VAULT_NAMESPACE",
    "VAULT_CACERT",
    "VAULT_CAPATH",
    "VAULT_CLIENT_CERT",
    "VAULT_CLIENT_KEY",
    "VAULT_TLS_SERVER_NAME",
    "VAULT_SKIP_VERIFY",
    "VAULT_MAX_RETRIES",
    "VAULT_CLIENT_TIMEOUT",
    "VAULT_HTTP_PROXY",
    "OPENCLAW_VAULT_AUTH_METHOD",
    "OPENCLAW_VAULT_AUTH_MOUNT",
    "OPENCLAW_VAULT_AUTH_ROLE",
    "OPENCLAW_VAULT_JWT_FILE",
    "OPENCLAW_VAULT_APPROLE_ROLE_ID",
    "OPENCLAW_VAULT_APPROLE_ROLE_ID_FILE",
    "OPENCLAW_VAULT_APPROLE_SECRET_ID",
    "OPENCLAW_VAULT_APPROLE_SECRET_ID_FILE",
    "OPENCLAW_VAULT_USERNAME",
    "OPENCLAW_VAULT_PASSWORD",
    "OPENCLAW_VAULT_PASSWORD_FILE",
    "OPENCLAW_VAULT_KV_MOUNT",
    "OPENCLAW_VAULT_KV_VERSION",
    "OPENCLAW_VAULT_PREFIX",
    "OPENCLAW_VAULT_RESOLVE_FALLBACK",
    "OPENCLAW_VAULT_RESOLVE_TIMEOUT_MS",
    "OPENCLAW_VAULT_RESOLVE_MAX_OUTPUT_BYTES",
    "OPENCLAW_VAULT_RESOLVE_CONCURRENCY",
    "NODE_EXTRA_CA_CERTS",
    "NODE_USE_SYSTEM_CA",
    "OPENCLAW_HOME",
    "OPENCLAW_STATE_DIR",
    "OPENCLAW_CONFIG_PATH",
    "HOME",
];

/// How OpenClaw runs this package's resolver: `command` and `args` of the exec provider entry.
/// Every path is absolute with every symlink resolved: OpenClaw runs the command directly and
/// refuses symlinks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolverCommand {
    /// The native `openclaw-vault` executable of the per-platform npm package, run as
    /// `<exe> resolve`. Nothing of Node is named, so a Node upgrade cannot break the provider.
    Native {
        /// The executable (`command`).
        exe: PathBuf,
    },
    /// Node and this package's `bin/openclaw-vault-resolve.mjs`: only when the command runs in
    /// the Node addon (no native executable for this platform). It pins that Node binary.
    Node {
        /// The Node executable (`command`).
        node: PathBuf,
        /// The resolver script (the only `args` entry).
        script: PathBuf,
    },
}

impl ResolverCommand {
    /// The command for the provider entry. `native_exe` is the native executable running this
    /// command (`None` in the Node addon); when it is there it is the command. Otherwise Node
    /// (`OPENCLAW_VAULT_NODE`, else the first `node` on `PATH`) and the resolver script
    /// `bin/openclaw-vault-resolve.mjs` under `OPENCLAW_VAULT_PACKAGE_DIR` (which the
    /// `openclaw-vault` command's shim sets), through `env`, a variable lookup.
    ///
    /// The command passes the checks OpenClaw makes before running it (`assertSecureExecCommandPath`):
    /// a regular file, not group- or world-writable, owned by the user running this (who is
    /// expected to run the gateway).
    ///
    /// Errors: `INVALID_CONFIG` when Node cannot be found or resolved, the variable is unset, the
    /// script does not exist, or the command fails OpenClaw's checks (a SecretRef to a resolver
    /// OpenClaw will not run would make the gateway fail closed at start).
    pub fn locate(
        env: &dyn Fn(&str) -> Option<String>,
        native_exe: Option<&Path>,
    ) -> Result<ResolverCommand> {
        let command = match native_exe {
            Some(exe) => ResolverCommand::Native {
                exe: std::fs::canonicalize(exe).map_err(|e| {
                    Error::invalid_config(format!(
                        "{}: cannot be resolved ({})",
                        exe.display(),
                        e.kind()
                    ))
                })?,
            },
            None => ResolverCommand::Node {
                node: node_command(env)?,
                script: resolver_script(env)?,
            },
        };
        check_exec_command(command.command())?;
        Ok(command)
    }

    /// The provider entry's `command`.
    pub fn command(&self) -> &Path {
        match self {
            ResolverCommand::Native { exe } => exe,
            ResolverCommand::Node { node, .. } => node,
        }
    }

    /// The provider entry's `args`.
    pub fn args(&self) -> Vec<String> {
        match self {
            ResolverCommand::Native { .. } => vec!["resolve".to_string()],
            ResolverCommand::Node { script, .. } => vec![script.to_string_lossy().into_owned()],
        }
    }
}

/// The provider entry's `timeoutMs` and `noOutputTimeoutMs`: above the resolver's own deadline
/// (`resolve::DEFAULT_DEADLINE`), so a slow Vault gets the resolver's clear provider-wide error
/// instead of OpenClaw killing it; the bundled Vault integration's 15 s.
pub const PROVIDER_TIMEOUT_MS: u64 = crate::resolve::DEFAULT_DEADLINE.as_millis() as u64 + 3000;

/// A config field now holding an exec SecretRef.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplacedField {
    /// Its dotted JSON path (`models.providers.openai.apiKey`).
    pub json_path: String,
    /// The SecretRef id: `<prefix>/credentials/<name>/<field>` under the KV mount.
    pub id: String,
}

/// A plaintext config field left as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptField {
    /// Its dotted JSON path (`gateway.auth.token`).
    pub json_path: String,
    /// Why it was kept (no verified credential holds its value, or the id would not be valid).
    pub reason: String,
}

/// What [`rewrite_config`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigRewrite {
    /// The config file OpenClaw reads; `None` when there is none (nothing to rewrite).
    pub file: Option<PathBuf>,
    /// The 0600 copy of the file as it was, next to it (`openclaw.json.bak-<UTC stamp>`); `None`
    /// when nothing was replaced and the file was not written.
    pub backup: Option<PathBuf>,
    /// Fields now holding SecretRefs, in the config provider's order.
    pub replaced: Vec<ReplacedField>,
    /// Plaintext fields left as they were, with the reason.
    pub kept: Vec<KeptField>,
    /// True when `secrets.providers.openclaw-vault` was added (it was missing).
    pub provider_added: bool,
    /// The settings file (`openclaw-vault.json`) the deprecated `credentials` key was moved to.
    pub settings_moved_to: Option<PathBuf>,
    /// Why the deprecated `credentials` key was left in place (`openclaw-vault.json` exists).
    pub settings_kept: Option<String>,
}

/// Replaces the plaintext secrets of OpenClaw's config file (`paths.config_file()`) that a
/// `verified` credential holds with exec SecretRefs to this package's resolver, and adds the
/// resolver's provider entry when it is missing; see the module documentation for the checks.
/// `resolver` is asked only when the entry must be added. Nothing happens (and `Ok` says so)
/// when there is no config file or no field to replace.
///
/// Errors (the file is then unchanged): `INVALID_CONFIG` without a Vault, for a file that cannot
/// be parsed or rewritten without losing its formatting, that is not UTF-8 or whose top level
/// (or `secrets`, `secrets.providers`) is not an object, and `resolver`'s errors; `CONFLICT`
/// when the file changed while it was being rewritten; the lock's and the writes' errors.
pub fn rewrite_config(
    paths: &OpenClawPaths,
    chain: &CredentialChain,
    verified: &VerifiedInVault<'_>,
    resolver: &dyn Fn() -> Result<ResolverCommand>,
) -> Result<ConfigRewrite> {
    let mut result = ConfigRewrite::default();
    let Some(file) = paths.config_file().filter(|f| f.exists()) else {
        return Ok(result);
    };
    result.file = Some(file.clone());
    let vault = chain
        .vault()
        .ok_or_else(|| Error::invalid_config("no Vault configured"))?;
    let _lock = FileLock::acquire(&file, LOCK_WAIT)?;
    let original = read_credential_file(&file, MAX_LOCAL_FILE_BYTES)?.ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidConfig,
            format!("{}: disappeared", file.display()),
        )
    })?;
    let text = std::str::from_utf8(&original.bytes)
        .map_err(|_| {
            Error::new(
                ErrorCode::InvalidConfig,
                format!("{}: is not UTF-8", file.display()),
            )
        })?
        .to_string();
    let text = Zeroizing::new(text);
    // jsonc-parser recurses per level without a limit: a deep file would abort the process.
    crate::nesting::check(&text).map_err(|deep| {
        Error::new(
            ErrorCode::InvalidConfig,
            format!(
                "{}: {}; nothing was changed",
                file.display(),
                deep.describe()
            ),
        )
    })?;
    let options = ParseOptions::default();
    let root = CstRootNode::parse(&text, &options).map_err(|e| parse_error(&file, &e))?;
    if root.to_string() != *text {
        return Err(Error::new(
            ErrorCode::InvalidConfig,
            format!(
                "{}: cannot rewrite without losing formatting; nothing was changed",
                file.display()
            ),
        ));
    }
    let Some(object) = root.object_value() else {
        return Err(Error::new(
            ErrorCode::InvalidConfig,
            format!(
                "{}: the top level is not an object; nothing was changed",
                file.display()
            ),
        ));
    };
    let candidates: Vec<(&PlanItem, Map<String, Value>)> = verified
        .items
        .iter()
        .map(|item| (*item, item.credential().to_vault_data()))
        .collect();
    let mut expected: Value =
        jsonc_parser::parse_to_serde_value(&text, &options).map_err(|e| parse_error(&file, &e))?;
    for (json_path, prop) in plaintext_props(&object, &expected) {
        let Some(value) = prop.value().and_then(|v| v.as_string_lit()) else {
            continue; // Already a SecretRef (an object), or not a string.
        };
        let Ok(secret) = value.decoded_value().map(Zeroizing::new) else {
            continue;
        };
        if secret.is_empty() {
            continue;
        }
        let Some((item, field)) = holder_of(&candidates, &secret) else {
            result.kept.push(KeptField {
                json_path,
                reason: "no credential with this value was verified in Vault".into(),
            });
            continue;
        };
        let id = match crate::exec_id::encode(&vault.path_of(&item.name)?, &field) {
            Ok(id) => id,
            Err(why) => {
                result.kept.push(KeptField {
                    json_path,
                    reason: format!("no exec SecretRef id for `{}`: {why}", item.name),
                });
                continue;
            }
        };
        let secret_ref = json!({"source": "exec", "provider": EXEC_PROVIDER_ALIAS, "id": id});
        prop.set_value(ordered(&secret_ref, &["source", "provider", "id"]));
        if let Some(slot) = expected.pointer_mut(&pointer_of(&json_path)) {
            *slot = secret_ref;
        }
        result.replaced.push(ReplacedField { json_path, id });
    }
    // The deprecated `credentials` key: moved to our own file, never written here.
    let mut settings_text = None;
    if let Some(prop) = object.get("credentials") {
        match paths.settings_file() {
            Some(target) if !target.exists() && target.symlink_metadata().is_err() => {
                let value_text = prop.value().map(|v| v.to_string()).unwrap_or_default();
                let text = Zeroizing::new(format!(
                    "// @openclaw/vault's settings (docs/configuration-file.md), moved here from the\n\
                     // `credentials` key of {} by `openclaw-vault migrate`.\n\
                     {value_text}\n",
                    file.display()
                ));
                // It must read back (as this package reads it) as exactly what the key held.
                let moved: Option<Value> = crate::nesting::check(&text)
                    .ok()
                    .and_then(|_| json5::from_str(&text).ok());
                let held = expected
                    .as_object_mut()
                    .and_then(|o| o.remove("credentials"));
                if moved.is_none() || moved != held {
                    return Err(Error::new(
                        ErrorCode::InvalidConfig,
                        format!(
                            "{}: the `credentials` key would not read back as intended from {}; nothing was changed",
                            file.display(),
                            target.display()
                        ),
                    ));
                }
                prop.remove();
                settings_text = Some((target, text));
            }
            Some(target) => {
                result.settings_kept = Some(format!(
                    "{} already exists: merge the deprecated `credentials` key of {} into it by hand, then delete the key (OpenClaw rejects it)",
                    target.display(),
                    file.display()
                ));
            }
            None => {}
        }
    }
    if result.replaced.is_empty() && settings_text.is_none() {
        return Ok(result);
    }
    let has_provider = object
        .object_value("secrets")
        .and_then(|s| s.object_value("providers"))
        .and_then(|p| p.get(EXEC_PROVIDER_ALIAS))
        .is_some();
    if !has_provider && !result.replaced.is_empty() {
        let entry = provider_entry(&resolver()?);
        let secrets = object.object_value_or_create("secrets").ok_or_else(|| {
            Error::invalid_config(format!("{}: `secrets` is not an object", file.display()))
        })?;
        let providers = secrets.object_value_or_create("providers").ok_or_else(|| {
            Error::invalid_config(format!(
                "{}: `secrets.providers` is not an object",
                file.display()
            ))
        })?;
        providers.append(EXEC_PROVIDER_ALIAS, ordered(&entry, PROVIDER_KEYS));
        let slot = expected
            .as_object_mut()
            .map(|o| o.entry("secrets").or_insert_with(|| json!({})))
            .and_then(|s| s.as_object_mut())
            .map(|s| s.entry("providers").or_insert_with(|| json!({})));
        if let Some(Value::Object(p)) = slot {
            p.insert(EXEC_PROVIDER_ALIAS.into(), entry);
        }
        result.provider_added = true;
    }
    let new_text = Zeroizing::new(root.to_string());
    // The edit must change exactly the replaced values and the provider entry, nothing else.
    let reparsed: Value = jsonc_parser::parse_to_serde_value(&new_text, &options)
        .map_err(|e| parse_error(&file, &e))?;
    if reparsed != expected {
        return Err(Error::new(
            ErrorCode::InvalidConfig,
            format!(
                "{}: the rewritten file would not read back as intended; nothing was changed",
                file.display()
            ),
        ));
    }
    // Changed since it was read (an editor saved it): start over rather than lose that edit.
    let now = read_credential_file(&file, MAX_LOCAL_FILE_BYTES)?;
    if now
        .map(|f| f.bytes.as_slice() != original.bytes.as_slice())
        .unwrap_or(true)
    {
        return Err(Error::new(
            ErrorCode::Conflict,
            format!(
                "{}: changed while being rewritten; nothing was changed, run it again",
                file.display()
            ),
        ));
    }
    let backup = backup_path(&file);
    write_atomic(&backup, &original.bytes)?;
    // Our file first: should the config write fail, both hold the same settings (ours wins).
    if let Some((target, text)) = &settings_text {
        if target.symlink_metadata().is_ok() {
            return Err(Error::new(
                ErrorCode::Conflict,
                format!(
                    "{}: appeared while {} was being rewritten; nothing was changed, run it again",
                    target.display(),
                    file.display()
                ),
            ));
        }
        write_atomic(target, text.as_bytes())?;
        result.settings_moved_to = Some(target.clone());
    }
    write_atomic(&file, new_text.as_bytes())?;
    result.backup = Some(backup);
    Ok(result)
}

/// The verified credential holding exactly `secret`, and the field holding it: the config's
/// own source (`openclaw-config`) first, then report order.
fn holder_of<'a>(
    candidates: &[(&'a PlanItem, Map<String, Value>)],
    secret: &str,
) -> Option<(&'a PlanItem, String)> {
    let mut matches: Vec<(&PlanItem, String)> = candidates
        .iter()
        .flat_map(|(item, data)| {
            data.iter()
                .filter(|(k, v)| *k != "kind" && v.as_str() == Some(secret))
                .map(move |(k, _)| (*item, k.clone()))
        })
        .collect();
    matches.sort_by_key(|(item, _)| item.source_provider != "openclaw-config");
    matches.into_iter().next()
}

/// The keys of [`provider_entry`], in the order OpenClaw's documentation writes them.
pub(super) const PROVIDER_KEYS: &[&str] = &[
    "source",
    "command",
    "args",
    "passEnv",
    "timeoutMs",
    "noOutputTimeoutMs",
    "maxOutputBytes",
    "jsonOnly",
];

/// The exec provider entry `secrets.providers.openclaw-vault` for `resolver`: `command`, `args`,
/// `passEnv` ([`RESOLVER_PASS_ENV`]), `timeoutMs` and `noOutputTimeoutMs`
/// ([`PROVIDER_TIMEOUT_MS`]), `maxOutputBytes` (the resolver's own output cap) and `jsonOnly`.
/// The one builder of this entry: whatever writes this provider (`--rewrite-config`, a plan for
/// `openclaw secrets apply`) uses it, so they never disagree.
pub fn provider_entry(resolver: &ResolverCommand) -> Value {
    json!({
        "source": "exec",
        "command": resolver.command(),
        "args": resolver.args(),
        "passEnv": RESOLVER_PASS_ENV,
        "timeoutMs": PROVIDER_TIMEOUT_MS,
        "noOutputTimeoutMs": PROVIDER_TIMEOUT_MS,
        "maxOutputBytes": crate::resolve::DEFAULT_MAX_OUTPUT_BYTES,
        "jsonOnly": true,
    })
}

/// The checks OpenClaw 2026.9 makes on an exec provider's command before it runs it
/// (`assertSecureExecCommandPath`): a regular file, not a symlink, not group- or world-writable,
/// owned by the current user (exactly: root-owned is refused too).
fn check_exec_command(command: &Path) -> Result<()> {
    let meta = std::fs::symlink_metadata(command).map_err(|e| {
        Error::invalid_config(format!(
            "the resolver command {} cannot be read ({}); nothing was rewritten",
            command.display(),
            e.kind()
        ))
    })?;
    if !meta.is_file() {
        return Err(Error::invalid_config(format!(
            "the resolver command {} is not a regular file, which OpenClaw refuses to run; nothing was rewritten",
            command.display()
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.mode() & 0o022 != 0 {
            return Err(Error::invalid_config(format!(
                "the resolver command {} is group- or world-writable (mode {:o}), which OpenClaw refuses to run; `chmod go-w` it, then run again; nothing was rewritten",
                command.display(),
                meta.mode() & 0o7777
            )));
        }
        // SAFETY: getuid has no preconditions and cannot fail.
        let uid = unsafe { libc::getuid() };
        if meta.uid() != uid {
            return Err(Error::invalid_config(format!(
                "the resolver command {} is owned by uid {}, and OpenClaw runs an exec provider command only when the user running it (uid {uid}) owns it; install it as that user (for the native executable: install @openclaw/vault as that user), then run again; nothing was rewritten",
                command.display(),
                meta.uid()
            )));
        }
    }
    Ok(())
}

/// The plaintext secret fields of `openclaw.json` (the config provider's own list, so the two
/// never disagree), as `(dotted JSON path, CST property)`.
fn plaintext_props(root: &CstObject, doc: &Value) -> Vec<(String, CstObjectProp)> {
    plaintext_fields(doc)
        .into_iter()
        .filter_map(|f| {
            let (last, parents) = f.json_path.split_last()?;
            let mut obj = root.clone();
            for p in parents {
                obj = obj.object_value(p)?;
            }
            Some((f.dotted(), obj.get(last)?))
        })
        .collect()
}

fn parse_error(file: &Path, e: &jsonc_parser::errors::ParseError) -> Error {
    // Only the position: the parser's message kinds could quote the text.
    Error::new(
        ErrorCode::InvalidConfig,
        format!(
            "{}: cannot rewrite without losing formatting (cannot parse it at line {} column {}); nothing was changed",
            file.display(),
            e.line_display(),
            e.column_display()
        ),
    )
}

/// The absolute path of the Node that runs this package (OpenClaw runs the command directly and
/// refuses symlinks, so links are resolved).
fn node_command(env: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf> {
    let candidate = match env("OPENCLAW_VAULT_NODE").filter(|v| !v.trim().is_empty()) {
        Some(p) => Some(PathBuf::from(p)),
        None => env("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|d| d.join("node"))
                .find(|p| p.is_file())
        }),
    };
    let node = candidate.ok_or_else(|| {
        Error::invalid_config(
            "cannot find node for the resolver's provider entry (set OPENCLAW_VAULT_NODE to its absolute path)",
        )
    })?;
    std::fs::canonicalize(&node).map_err(|e| {
        Error::invalid_config(format!(
            "node at {} cannot be resolved ({})",
            node.display(),
            e.kind()
        ))
    })
}

/// The resolver script of the package in `OPENCLAW_VAULT_PACKAGE_DIR`, resolved.
fn resolver_script(env: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf> {
    let dir = env("OPENCLAW_VAULT_PACKAGE_DIR").filter(|v| !v.trim().is_empty()).ok_or_else(|| {
        Error::invalid_config("OPENCLAW_VAULT_PACKAGE_DIR is unset (run it through the openclaw-vault command, which sets it)")
    })?;
    let script = Path::new(&dir)
        .join("bin")
        .join("openclaw-vault-resolve.mjs");
    // A SecretRef to a resolver that is not there would make the gateway fail closed at start.
    if !script.is_file() {
        return Err(Error::invalid_config(format!(
            "the resolver {} does not exist; nothing was rewritten",
            script.display()
        )));
    }
    std::fs::canonicalize(&script).map_err(|e| {
        Error::invalid_config(format!(
            "{}: cannot be resolved ({})",
            script.display(),
            e.kind()
        ))
    })
}

/// `a.b.c` as a JSON pointer (OpenClaw's field names hold no `.`, `/` or `~`, provider names might).
fn pointer_of(path: &str) -> String {
    path.split('.')
        .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// An object's keys in the order OpenClaw's documentation writes them, whatever `object`'s order.
fn ordered(object: &Value, keys: &[&str]) -> CstInputValue {
    CstInputValue::Object(
        keys.iter()
            .filter_map(|k| object.get(*k).map(|v| (k.to_string(), input_of(v))))
            .collect(),
    )
}

fn input_of(value: &Value) -> CstInputValue {
    match value {
        Value::Null => CstInputValue::Null,
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Number(n) => CstInputValue::Number(n.to_string()),
        Value::String(s) => CstInputValue::String(s.clone()),
        Value::Array(a) => CstInputValue::Array(a.iter().map(input_of).collect()),
        Value::Object(o) => {
            CstInputValue::Object(o.iter().map(|(k, v)| (k.clone(), input_of(v))).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::SourceGroup;
    use crate::migrate::plan;
    use crate::migrate::test_support::*;
    use std::os::unix::fs::PermissionsExt;
    use std::sync::Arc;

    const FAKE_OPENAI: &str = "sk-proj-FAKE-rewrite-openai";
    const FAKE_TELEGRAM: &str = "123456:FAKE-rewrite-telegram";

    const CONFIG: &str = r#"// OpenClaw config (JSON5)
{
  models: {
    providers: {
      openai: {
        baseUrl: 'https://api.openai.com/v1', // single quotes, unquoted keys
        apiKey: "sk-proj-FAKE-rewrite-openai",
      },
    },
  },
  /* channels */
  channels: {
    telegram: { botToken: "123456:FAKE-rewrite-telegram", enabled: true },
    discord: { token: { source: "env", provider: "default", id: "DISCORD_BOT_TOKEN" } },
  },
  gateway: { auth: { token: "FAKE-gateway-token-in-no-source" } },
  agents: { list: [1, 2, 3,], },
}
"#;

    /// A HOME with `openclaw.json` (`config`) and a source file holding openai and telegram;
    /// the HOME (removed when dropped), the config file, its paths and a chain (Vault never
    /// reached) under prefix `rw`.
    fn home_with(
        name: &str,
        config: &str,
    ) -> (
        openclaw_vault_test_support::TempDir,
        PathBuf,
        OpenClawPaths,
        Arc<crate::chain::CredentialChain>,
    ) {
        let home = temp_dir(name);
        let file = home.join(".openclaw/openclaw.json");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, config).unwrap();
        let source = home.join("source.json");
        write_source(
            &source,
            &json!({"openai": {"apiKey": FAKE_OPENAI}, "telegram": {"botToken": FAKE_TELEGRAM}}),
        );
        let h = home.to_string_lossy().into_owned();
        let paths = OpenClawPaths::from_env(&move |k| (k == "HOME").then(|| h.clone()));
        let chain = chain_with(
            offline_client(),
            "rw",
            vec![Arc::new(JsonFileSource::new(
                &source,
                "test-files",
                SourceGroup::Files,
            ))],
        );
        (home, file, paths, chain)
    }

    fn resolver(home: &Path) -> ResolverCommand {
        ResolverCommand::Native {
            exe: home.join("openclaw-vault"),
        }
    }

    fn backups(file: &Path) -> Vec<PathBuf> {
        let prefix = format!("{}.bak-", file.file_name().unwrap().to_string_lossy());
        std::fs::read_dir(file.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&prefix)
            })
            .collect()
    }

    #[tokio::test]
    async fn verified_values_become_secret_refs_the_rest_is_kept_and_reported() {
        let (_home, file, paths, chain) = home_with("rewrite-lib", CONFIG);
        let plan = plan(&chain).await.unwrap();
        // Only openai is verified: telegram's value must stay in the file.
        let verified = VerifiedInVault {
            items: plan.items.iter().filter(|i| i.name == "openai").collect(),
        };
        let home = file.parent().unwrap().parent().unwrap().to_path_buf();
        let done = rewrite_config(&paths, &chain, &verified, &|| Ok(resolver(&home))).unwrap();
        assert_eq!(done.file.as_deref(), Some(file.as_path()));
        assert_eq!(
            done.replaced,
            [ReplacedField {
                json_path: "models.providers.openai.apiKey".into(),
                id: "rw/credentials/openai/apiKey".into(),
            }]
        );
        let kept: Vec<&str> = done.kept.iter().map(|k| k.json_path.as_str()).collect();
        assert_eq!(kept, ["channels.telegram.botToken", "gateway.auth.token"]);
        assert!(done.kept[0].reason.contains("verified in Vault"));
        assert!(done.provider_added);

        let text = std::fs::read_to_string(&file).unwrap();
        for kept in [
            "// OpenClaw config (JSON5)",
            "/* channels */",
            "baseUrl: 'https://api.openai.com/v1', // single quotes, unquoted keys",
            "list: [1, 2, 3,]",
            FAKE_TELEGRAM,
        ] {
            assert!(text.contains(kept), "lost {kept:?}:\n{text}");
        }
        assert!(!text.contains(FAKE_OPENAI), "{text}");
        let v: Value = jsonc_parser::parse_to_serde_value(&text, &ParseOptions::default()).unwrap();
        assert_eq!(
            v["models"]["providers"]["openai"]["apiKey"],
            json!({"source": "exec", "provider": EXEC_PROVIDER_ALIAS, "id": "rw/credentials/openai/apiKey"})
        );
        let entry = &v["secrets"]["providers"][EXEC_PROVIDER_ALIAS];
        assert_eq!(entry, &provider_entry(&resolver(&home)));
        assert_eq!(entry["command"], json!(home.join("openclaw-vault")));
        assert_eq!(entry["args"], json!(["resolve"]));
        assert_eq!(entry["timeoutMs"], 15000);
        assert_eq!(
            entry["passEnv"].as_array().unwrap().len(),
            RESOLVER_PASS_ENV.len()
        );
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600);
        let backup = done.backup.unwrap();
        assert_eq!(backups(&file), std::slice::from_ref(&backup));
        assert_eq!(std::fs::read_to_string(&backup).unwrap(), CONFIG);
        assert_eq!(mode(&backup), 0o600);

        // Everything verified now, the provider entry already there: the resolver is not asked
        // for, telegram is replaced, the backup is a second, distinct file.
        let all = VerifiedInVault {
            items: plan.items.iter().collect(),
        };
        let again = rewrite_config(&paths, &chain, &all, &|| panic!("not needed")).unwrap();
        let replaced: Vec<&str> = again.replaced.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(replaced, ["rw/credentials/telegram/token"]);
        assert!(!again.provider_added);
        assert_eq!(backups(&file).len(), 2);
        // Nothing left to replace: the file is not written, no backup.
        let third = rewrite_config(&paths, &chain, &all, &|| panic!("not needed")).unwrap();
        assert!(third.replaced.is_empty() && third.backup.is_none());
        assert_eq!(backups(&file).len(), 2);
    }

    #[tokio::test]
    async fn the_deprecated_credentials_key_moves_to_openclaw_vault_json() {
        let legacy = CONFIG.replacen(
            "{\n",
            "{\n  // our settings\n  credentials: {\n    provider: \"vault\", // keep me\n    vault: { addr: \"http://127.0.0.1:8200\", mount: 'kv' },\n    cacheTtlMs: 60000,\n  },\n",
            1,
        );
        let (_home, file, paths, chain) = home_with("rewrite-lib-move", &legacy);
        let settings = file.with_file_name("openclaw-vault.json");
        let plan = plan(&chain).await.unwrap();
        // Nothing verified: the move alone is a reason to write.
        let none = VerifiedInVault { items: Vec::new() };
        let done = rewrite_config(&paths, &chain, &none, &|| panic!("not needed")).unwrap();
        assert!(done.replaced.is_empty() && !done.provider_added);
        assert_eq!(done.settings_moved_to.as_deref(), Some(settings.as_path()));
        assert_eq!(done.settings_kept, None);
        let text = std::fs::read_to_string(&file).unwrap();
        let v: Value = jsonc_parser::parse_to_serde_value(&text, &ParseOptions::default()).unwrap();
        assert!(v.get("credentials").is_none(), "{text}");
        assert!(
            v.get("secrets").is_none(),
            "no provider entry without a ref: {text}"
        );
        assert_eq!(v["models"]["providers"]["openai"]["apiKey"], FAKE_OPENAI);
        assert_eq!(
            std::fs::read_to_string(done.backup.as_ref().unwrap()).unwrap(),
            legacy
        );
        let moved = std::fs::read_to_string(&settings).unwrap();
        assert!(moved.contains("// keep me"), "{moved}");
        let mode = std::fs::metadata(&settings).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // This package reads the same settings back from the new file, with no deprecation.
        let env: crate::openclaw::config::EnvLookup = {
            let h = file
                .parent()
                .unwrap()
                .parent()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            Arc::new(move |k: &str| (k == "HOME").then(|| h.clone()))
        };
        let loaded = crate::openclaw::config::load_config(&paths, &env, None, None).unwrap();
        assert_eq!(loaded.settings_file.as_deref(), Some(settings.as_path()));
        assert_eq!(loaded.credentials.vault.as_ref().unwrap().mount, "kv");
        assert_eq!(
            loaded.credentials.cache_ttl,
            Some(std::time::Duration::from_millis(60000))
        );
        assert!(!loaded.warnings.iter().any(|w| w.is_deprecated_key()));

        // The key again while openclaw-vault.json exists: kept and reported, our file untouched.
        std::fs::write(&file, &legacy).unwrap();
        let all = VerifiedInVault {
            items: plan.items.iter().collect(),
        };
        let again = rewrite_config(&paths, &chain, &all, &|| Ok(resolver(&file))).unwrap();
        assert!(again.settings_moved_to.is_none());
        assert!(again
            .settings_kept
            .as_deref()
            .unwrap()
            .contains("already exists"));
        assert_eq!(std::fs::read_to_string(&settings).unwrap(), moved);
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains("credentials: {"), "{text}");
        assert_eq!(again.replaced.len(), 2, "the secrets are still replaced");
    }

    #[tokio::test]
    async fn refuses_what_it_cannot_keep_and_changes_nothing() {
        let broken = "{ models: { providers: { openai: { apiKey: \"sk-proj-FAKE-rewrite-openai\" ";
        let (_home, file, paths, chain) = home_with("rewrite-lib-bad", broken);
        let plan = plan(&chain).await.unwrap();
        let all = VerifiedInVault {
            items: plan.items.iter().collect(),
        };
        let err = rewrite_config(&paths, &chain, &all, &|| panic!("not reached")).unwrap_err();
        assert_eq!(err.code(), "INVALID_CONFIG");
        assert!(err.message.contains("openclaw.json"), "{}", err.message);
        assert!(err
            .message
            .contains("cannot rewrite without losing formatting"));
        assert!(!err.message.contains("FAKE"), "{}", err.message);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), broken);
        assert!(backups(&file).is_empty());

        // The resolver cannot be found: an error, the file untouched.
        std::fs::write(&file, CONFIG).unwrap();
        let missing = || Err(Error::invalid_config("the resolver X does not exist"));
        let err = rewrite_config(&paths, &chain, &all, &missing).unwrap_err();
        assert!(err.message.contains("does not exist"));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), CONFIG);
        assert!(backups(&file).is_empty());

        // No config file: nothing to do.
        std::fs::remove_file(&file).unwrap();
        let none = rewrite_config(&paths, &chain, &all, &|| panic!("not reached")).unwrap();
        assert_eq!(none, ConfigRewrite::default());
    }

    #[test]
    fn locate_resolves_node_and_the_script_and_names_what_is_missing() {
        let dir = temp_dir("rewrite-locate");
        std::fs::create_dir_all(dir.join("pkg/bin")).unwrap();
        std::fs::write(dir.join("pkg/bin/openclaw-vault-resolve.mjs"), "").unwrap();
        std::fs::create_dir_all(dir.join("path")).unwrap();
        std::fs::write(dir.join("real-node"), "").unwrap();
        std::os::unix::fs::symlink(dir.join("real-node"), dir.join("path/node")).unwrap();
        let d = dir.to_string_lossy().into_owned();
        let env = move |k: &str| match k {
            "PATH" => Some(format!("/nonexistent:{d}/path")),
            "OPENCLAW_VAULT_PACKAGE_DIR" => Some(format!("{d}/pkg")),
            _ => None,
        };
        let found = ResolverCommand::locate(&env, None).unwrap();
        let real = std::fs::canonicalize(&dir).unwrap();
        assert_eq!(
            found,
            ResolverCommand::Node {
                node: real.join("real-node"),
                script: real.join("pkg/bin/openclaw-vault-resolve.mjs"),
            },
            "the symlink is resolved"
        );
        assert_eq!(
            found.args(),
            [real
                .join("pkg/bin/openclaw-vault-resolve.mjs")
                .to_string_lossy()]
        );

        let no_node = ResolverCommand::locate(
            &|k| (k == "OPENCLAW_VAULT_PACKAGE_DIR").then(|| "/x".to_string()),
            None,
        )
        .unwrap_err();
        assert!(
            no_node.message.contains("OPENCLAW_VAULT_NODE"),
            "{}",
            no_node.message
        );
        let env2 = {
            let d = dir.to_string_lossy().into_owned();
            move |k: &str| (k == "OPENCLAW_VAULT_NODE").then(|| format!("{d}/real-node"))
        };
        let no_dir = ResolverCommand::locate(&env2, None).unwrap_err();
        assert!(
            no_dir.message.contains("OPENCLAW_VAULT_PACKAGE_DIR"),
            "{}",
            no_dir.message
        );
        let env3 = {
            let d = dir.to_string_lossy().into_owned();
            move |k: &str| match k {
                "OPENCLAW_VAULT_NODE" => Some(format!("{d}/real-node")),
                "OPENCLAW_VAULT_PACKAGE_DIR" => Some(format!("{d}/nowhere")),
                _ => None,
            }
        };
        let no_script = ResolverCommand::locate(&env3, None).unwrap_err();
        assert!(
            no_script
                .message
                .contains("openclaw-vault-resolve.mjs does not exist"),
            "{}",
            no_script.message
        );
    }

    #[test]
    fn the_native_executable_is_the_command_when_it_runs_and_must_pass_openclaws_checks() {
        let dir = temp_dir("rewrite-locate-native");
        let exe = dir.join("openclaw-vault");
        std::fs::write(&exe, "").unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink(&exe, dir.join("link")).unwrap();
        // Node is never asked for: no variable is set.
        let none = |_: &str| None;
        let found = ResolverCommand::locate(&none, Some(&dir.join("link"))).unwrap();
        let real = std::fs::canonicalize(&exe).unwrap();
        assert_eq!(found, ResolverCommand::Native { exe: real.clone() });
        let entry = provider_entry(&found);
        assert_eq!(entry["command"], json!(real));
        assert_eq!(entry["args"], json!(["resolve"]));
        assert!(
            entry["timeoutMs"].as_u64().unwrap()
                > crate::resolve::DEFAULT_DEADLINE.as_millis() as u64
        );
        assert_eq!(entry["noOutputTimeoutMs"], entry["timeoutMs"]);
        assert_eq!(
            entry["maxOutputBytes"],
            crate::resolve::DEFAULT_MAX_OUTPUT_BYTES
        );

        for mode in [0o775, 0o757] {
            std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(mode)).unwrap();
            let err = ResolverCommand::locate(&none, Some(&exe)).unwrap_err();
            assert_eq!(err.code(), "INVALID_CONFIG");
            assert!(
                err.message.contains("group- or world-writable")
                    && err.message.contains("openclaw-vault"),
                "{}",
                err.message
            );
        }
        // Owned by another user (only root can give a file away, so only then is this checked).
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        // SAFETY: getuid has no preconditions.
        if unsafe { libc::getuid() } == 0 {
            std::os::unix::fs::chown(&exe, Some(4242), None).unwrap();
            let err = ResolverCommand::locate(&none, Some(&exe)).unwrap_err();
            assert!(err.message.contains("owned by uid 4242"), "{}", err.message);
        }
        let err = ResolverCommand::locate(&none, Some(&dir)).unwrap_err();
        assert!(
            err.message.contains("not a regular file"),
            "{}",
            err.message
        );
        let err = ResolverCommand::locate(&none, Some(&dir.join("gone"))).unwrap_err();
        assert!(
            err.message.contains("cannot be resolved"),
            "{}",
            err.message
        );
    }

    #[test]
    fn pass_env_holds_every_variable_the_plugin_manifest_passes() {
        let manifest: Value =
            serde_json::from_str(include_str!("../../../../openclaw.plugin.json")).unwrap();
        let listed = manifest["secretProviderIntegrations"][EXEC_PROVIDER_ALIAS]["passEnv"]
            .as_array()
            .unwrap();
        assert!(!listed.is_empty());
        for name in listed {
            assert!(
                RESOLVER_PASS_ENV.contains(&name.as_str().unwrap()),
                "{name} is missing from RESOLVER_PASS_ENV"
            );
        }
        assert!(!RESOLVER_PASS_ENV.contains(&"PATH"));
    }

    #[test]
    fn pointers() {
        assert_eq!(pointer_of("a.b/c.d~e"), "/a/b~1c/d~0e");
    }
}
