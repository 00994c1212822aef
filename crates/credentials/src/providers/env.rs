//! Credentials in environment variables: `env` (the process env, and the config's `env` block,
//! which OpenClaw applies to it) and `dotenv` (`<cwd>/.env`, then `<stateDir>/.env`, re-read on
//! every call). A variable the process env sets is never taken from a `.env` file, as in OpenClaw.
//!
//! Names come from [`ENV_MAPPING`], else the generic rule `<NAME>_API_KEY` -> `<name>` (lower
//! case; a `-` in a name asked for is `_` in the variable).
//!
//! Rotation lists, for every `*_API_KEY`: `<X>_API_KEYS` (comma-separated) and `<X>_API_KEY_1`,
//! `_2`, ... (consecutive from 1). The keys, in the order `<X>_API_KEY`, `<X>_API_KEYS`,
//! `<X>_API_KEY_<n>`, duplicates dropped, fill `apiKey` (the first), then `apiKey1`, `apiKey2`, ...
//! (the rest); metadata `rotationCount` is the number of keys when there is more than one.
//!
//! An empty variable is not set: no credential, and [`EnvProvider::warnings`] /
//! [`DotenvProvider::warnings`] name it. Values never appear in messages.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use super::{CredentialProvider, Listing};
use crate::credential::{
    fields, Credential, CredentialKind, CredentialSource, CredentialVersion, SecretFields,
    SourceGroup,
};
use crate::error::Result;
use crate::local_file;
use crate::openclaw::config::{parse_dotenv, refuse_workspace_vars, EffectiveEnv, EnvOrigin};

/// One well-known variable: the credential it fills and the secret field it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvMapping {
    /// The variable, e.g. `TELEGRAM_BOT_TOKEN`.
    pub var: &'static str,
    /// The credential it fills, e.g. `telegram`.
    pub name: &'static str,
    /// The credential's kind.
    pub kind: CredentialKind,
    /// `apiKey` / `token` for the main value; other fields are extras of the same credential.
    pub field: &'static str,
}

const fn map(
    var: &'static str,
    name: &'static str,
    kind: CredentialKind,
    field: &'static str,
) -> EnvMapping {
    EnvMapping {
        var,
        name,
        kind,
        field,
    }
}

/// The variables OpenClaw and its channels read, and the credentials they become.
pub const ENV_MAPPING: &[EnvMapping] = &[
    map(
        "ANTHROPIC_API_KEY",
        "anthropic",
        CredentialKind::ApiKey,
        fields::API_KEY,
    ),
    map(
        "OPENAI_API_KEY",
        "openai",
        CredentialKind::ApiKey,
        fields::API_KEY,
    ),
    map(
        "GEMINI_API_KEY",
        "gemini",
        CredentialKind::ApiKey,
        fields::API_KEY,
    ),
    map(
        "OPENROUTER_API_KEY",
        "openrouter",
        CredentialKind::ApiKey,
        fields::API_KEY,
    ),
    map(
        "TELEGRAM_BOT_TOKEN",
        "telegram",
        CredentialKind::Token,
        fields::TOKEN,
    ),
    map(
        "DISCORD_BOT_TOKEN",
        "discord",
        CredentialKind::Token,
        fields::TOKEN,
    ),
    map(
        "SLACK_BOT_TOKEN",
        "slack",
        CredentialKind::Token,
        fields::TOKEN,
    ),
    map(
        "SLACK_APP_TOKEN",
        "slack",
        CredentialKind::Token,
        "appToken",
    ),
    map(
        "SLACK_SIGNING_SECRET",
        "slack",
        CredentialKind::Token,
        "signingSecret",
    ),
    map(
        "BRAVE_API_KEY",
        "brave",
        CredentialKind::ApiKey,
        fields::API_KEY,
    ),
    map(
        "ELEVENLABS_API_KEY",
        "elevenlabs",
        CredentialKind::ApiKey,
        fields::API_KEY,
    ),
    map(
        "OPENCLAW_GATEWAY_TOKEN",
        "gateway",
        CredentialKind::Token,
        fields::TOKEN,
    ),
    map(
        "OPENCLAW_GATEWAY_PASSWORD",
        "gateway-password",
        CredentialKind::Token,
        fields::TOKEN,
    ),
];

/// OpenClaw's other known secret variables (`listKnownSecretEnvVarNames` in 2026.9.6, the names
/// that are not `<X>_API_KEY`): its `secrets audit` reports each one set in `<stateDir>/.env` as
/// `PLAINTEXT_FOUND` at `$env.<VAR>`, so the `dotenv` provider finds them there too, one
/// credential each, named after the variable. The process environment is not searched for
/// them (OpenClaw's audit does not look there, and `GH_TOKEN` or `GITHUB_TOKEN` in a shell is
/// usually not OpenClaw's).
pub const DOTENV_MAPPING: &[EnvMapping] = &[
    map("GH_TOKEN", "gh-token", CredentialKind::Token, fields::TOKEN),
    map(
        "GITHUB_TOKEN",
        "github-token",
        CredentialKind::Token,
        fields::TOKEN,
    ),
    map(
        "ANTHROPIC_OAUTH_TOKEN",
        "anthropic-oauth-token",
        CredentialKind::Token,
        fields::TOKEN,
    ),
    map(
        "AZURE_SPEECH_KEY",
        "azure-speech-key",
        CredentialKind::ApiKey,
        fields::API_KEY,
    ),
    map(
        "SPEECH_KEY",
        "speech-key",
        CredentialKind::ApiKey,
        fields::API_KEY,
    ),
    map(
        "AZURE_SPEECH_REGION",
        "azure-speech-region",
        CredentialKind::Token,
        fields::TOKEN,
    ),
    map(
        "SPEECH_REGION",
        "speech-region",
        CredentialKind::Token,
        fields::TOKEN,
    ),
    map(
        "FAL_KEY",
        "fal-key",
        CredentialKind::ApiKey,
        fields::API_KEY,
    ),
    map(
        "COPILOT_GITHUB_TOKEN",
        "copilot-github-token",
        CredentialKind::Token,
        fields::TOKEN,
    ),
    map(
        "HUGGINGFACE_HUB_TOKEN",
        "huggingface-hub-token",
        CredentialKind::Token,
        fields::TOKEN,
    ),
    map("HF_TOKEN", "hf-token", CredentialKind::Token, fields::TOKEN),
    map(
        "LM_API_TOKEN",
        "lm-api-token",
        CredentialKind::Token,
        fields::TOKEN,
    ),
    map(
        "MINIMAX_OAUTH_TOKEN",
        "minimax-oauth-token",
        CredentialKind::Token,
        fields::TOKEN,
    ),
    map(
        "RUNWAYML_API_SECRET",
        "runwayml-api-secret",
        CredentialKind::ApiKey,
        fields::API_KEY,
    ),
    map(
        "MINIMAX_CODE_PLAN_KEY",
        "minimax-code-plan-key",
        CredentialKind::ApiKey,
        fields::API_KEY,
    ),
    map(
        "ANTHROPIC_ADMIN_KEY",
        "anthropic-admin-key",
        CredentialKind::ApiKey,
        fields::API_KEY,
    ),
    map(
        "OPENAI_ADMIN_KEY",
        "openai-admin-key",
        CredentialKind::ApiKey,
        fields::API_KEY,
    ),
];

/// The most `<X>_API_KEY_<n>` variables read.
const MAX_NUMBERED: usize = 100;

/// A value and where it was found.
type Found = (String, EnvOrigin);

/// The main variable of a credential.
struct MainVar {
    var: String,
    kind: CredentialKind,
    field: &'static str,
}

/// The main variable of `name`: from the table, else the generic `<NAME>_API_KEY`.
fn primary_of(name: &str) -> Option<MainVar> {
    if let Some(m) = ENV_MAPPING
        .iter()
        .chain(DOTENV_MAPPING)
        .find(|m| m.name == name && m.field == m.kind.primary_field())
    {
        return Some(MainVar {
            var: m.var.to_string(),
            kind: m.kind,
            field: m.field,
        });
    }
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !valid {
        return None;
    }
    let var = format!("{}_API_KEY", name.to_ascii_uppercase().replace('-', "_"));
    // A table variable belongs to its own name (`gateway` is not `OPENCLAW_GATEWAY_...`).
    if ENV_MAPPING.iter().any(|m| m.var == var && m.name != name) {
        return None;
    }
    Some(MainVar {
        var,
        kind: CredentialKind::ApiKey,
        field: fields::API_KEY,
    })
}

/// The credential name a variable gives, if any (table first, then `<NAME>_API_KEY`,
/// `<NAME>_API_KEYS`, `<NAME>_API_KEY_<n>`).
pub fn name_for_var(var: &str) -> Option<String> {
    if let Some(m) = ENV_MAPPING
        .iter()
        .chain(DOTENV_MAPPING)
        .find(|m| m.var == var)
    {
        return Some(m.name.to_string());
    }
    let base = var
        .strip_suffix("_API_KEYS")
        .or_else(|| var.strip_suffix("_API_KEY"))
        .or_else(|| {
            let (head, n) = var.rsplit_once("_API_KEY_")?;
            (!n.is_empty() && n.chars().all(|c| c.is_ascii_digit())).then_some(head)
        })?;
    if base.is_empty()
        || !base
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let table = ENV_MAPPING
        .iter()
        .find(|m| m.var == format!("{base}_API_KEY"));
    Some(match table {
        Some(m) => m.name.to_string(),
        None => base.to_ascii_lowercase(),
    })
}

/// Builds the credential `name` from a variable lookup (value and origin).
fn build(
    provider: &'static str,
    name: &str,
    lookup: &dyn Fn(&str) -> Option<Found>,
) -> Option<Credential> {
    let main = primary_of(name)?;
    let mut values: Vec<Found> = Vec::new();
    let mut origin_var = main.var.clone();
    let push = |values: &mut Vec<Found>, found: Found| {
        if !values.iter().any(|(v, _)| *v == found.0) {
            values.push(found);
        }
    };
    if let Some(f) = lookup(&main.var) {
        push(&mut values, f);
    }
    if main.kind == CredentialKind::ApiKey {
        if let Some((list, origin)) = lookup(&format!("{}S", main.var)) {
            for key in list.split(',').map(str::trim).filter(|k| !k.is_empty()) {
                push(&mut values, (key.to_string(), origin.clone()));
            }
            if lookup(&main.var).is_none() {
                origin_var = format!("{}S", main.var);
            }
        }
        for n in 1..=MAX_NUMBERED {
            let var = format!("{}_{n}", main.var);
            match lookup(&var) {
                Some(f) => {
                    if values.is_empty() {
                        origin_var = var;
                    }
                    push(&mut values, f)
                }
                None => break,
            }
        }
    }
    let mut iter = values.into_iter();
    let (first, origin) = iter.next()?;
    let mut secrets = SecretFields::new();
    secrets.insert(main.field, SecretString::from(first));
    let mut count = 1;
    for (i, (value, _)) in iter.enumerate() {
        secrets.insert(
            format!("{}{}", main.field, i + 1),
            SecretString::from(value),
        );
        count += 1;
    }
    for extra in ENV_MAPPING
        .iter()
        .filter(|m| m.name == name && m.field != main.field)
    {
        if let Some((value, _)) = lookup(extra.var) {
            secrets.insert(extra.field, SecretString::from(value));
        }
    }
    let mut metadata = Map::new();
    metadata.insert("variable".into(), Value::String(origin_var.clone()));
    if count > 1 {
        metadata.insert("rotationCount".into(), Value::from(count));
    }
    let (location, file, version) = match &origin {
        EnvOrigin::Process => (format!("env {origin_var}"), None, CredentialVersion::None),
        EnvOrigin::DotEnv(f) => (
            format!("{} {origin_var}", f.display()),
            Some(f.clone()),
            local_file::stat_version(f).unwrap_or(CredentialVersion::None),
        ),
        EnvOrigin::ConfigEnv(f) => (
            format!("{} env.{origin_var}", f.display()),
            Some(f.clone()),
            local_file::stat_version(f).unwrap_or(CredentialVersion::None),
        ),
    };
    Some(Credential {
        name: name.to_string(),
        kind: main.kind,
        source: CredentialSource {
            provider,
            group: SourceGroup::Env,
            location,
            file,
            layer: None,
        },
        expires_at: None,
        metadata,
        secrets,
        version,
        request_id: None,
    })
}

/// Names found in `vars`, each once, in first-seen order.
fn names_in<'a>(vars: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for var in vars {
        if let Some(name) = name_for_var(var) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

/// The `env` provider: the process environment (and the config's `env` block, which OpenClaw
/// applies to it). Values in `.env` files belong to [`DotenvProvider`].
pub struct EnvProvider {
    env: EffectiveEnv,
}

impl EnvProvider {
    /// Reads `env` (from `LoadedConfig::env`): its process lookup and config `env` block.
    pub fn new(env: EffectiveEnv) -> Self {
        EnvProvider { env }
    }

    fn lookup(&self, var: &str) -> Option<Found> {
        if DOTENV_MAPPING.iter().any(|m| m.var == var) {
            return None; // `.env` files only (see DOTENV_MAPPING).
        }
        self.env
            .lookup(var)
            .filter(|(_, o)| !matches!(o, EnvOrigin::DotEnv(_)))
    }

    /// Well-known variables that are set but empty (so treated as not set).
    pub fn warnings(&self) -> Vec<String> {
        ENV_MAPPING
            .iter()
            .filter(|m| (self.env.process())(m.var).is_some_and(|v| v.trim().is_empty()))
            .map(|m| format!("{} is set but empty; treated as not set", m.var))
            .collect()
    }
}

#[async_trait]
impl CredentialProvider for EnvProvider {
    fn id(&self) -> &'static str {
        "env"
    }

    fn group(&self) -> SourceGroup {
        SourceGroup::Env
    }

    async fn get(&self, name: &str) -> Result<Option<Credential>> {
        Ok(build("env", name, &|v| self.lookup(v)))
    }

    async fn list(&self) -> Result<Vec<Listing>> {
        // A lookup cannot enumerate the process env: the table, plus every name known.
        let known = self.env.names();
        let vars = ENV_MAPPING
            .iter()
            .map(|m| m.var)
            .chain(known.iter().map(String::as_str));
        Ok(names_in(vars)
            .into_iter()
            .filter_map(|name| {
                build("env", &name, &|v| self.lookup(v)).map(|c| Listing {
                    name,
                    location: c.source.location,
                })
            })
            .collect())
    }
}

/// The `dotenv` provider: `<cwd>/.env` then `<stateDir>/.env`, read on every call.
pub struct DotenvProvider {
    env: EffectiveEnv,
}

/// One `.env` file's variables.
struct DotenvFile {
    path: PathBuf,
    vars: std::collections::BTreeMap<String, SecretString>,
}

impl DotenvProvider {
    /// Reads the `.env` files `env` names (`EffectiveEnv::dotenv_files`), deferring to its
    /// process lookup.
    pub fn new(env: EffectiveEnv) -> Self {
        DotenvProvider { env }
    }

    /// The files this provider reads, in precedence order.
    pub fn files(&self) -> &[PathBuf] {
        self.env.dotenv_files()
    }

    /// Reads the files again; from the workspace `.env`, only what it may set (the variables
    /// it may not set were reported when the config was loaded).
    fn read(&self) -> Result<Vec<DotenvFile>> {
        let mut out = Vec::new();
        for path in self.env.dotenv_files() {
            if let Some(mut f) = read_one(path)? {
                if self.env.is_workspace_dotenv(path) {
                    refuse_workspace_vars(path, &mut f.vars);
                }
                out.push(f);
            }
        }
        Ok(out)
    }

    fn lookup(&self, files: &[DotenvFile], var: &str) -> Option<Found> {
        // The process env wins over every .env file.
        if (self.env.process())(var).is_some_and(|v| !v.trim().is_empty()) {
            return None;
        }
        files.iter().find_map(|f| {
            let v = f.vars.get(var)?.expose_secret();
            (!v.trim().is_empty()).then(|| (v.to_string(), EnvOrigin::DotEnv(f.path.clone())))
        })
    }

    /// Well-known variables that a `.env` file sets to an empty value.
    pub fn warnings(&self) -> Vec<String> {
        let Ok(files) = self.read() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for f in &files {
            for (var, value) in &f.vars {
                if value.expose_secret().trim().is_empty() && name_for_var(var).is_some() {
                    out.push(format!(
                        "{}: {var} is set but empty; treated as not set",
                        f.path.display()
                    ));
                }
            }
        }
        out
    }
}

fn read_one(path: &Path) -> Result<Option<DotenvFile>> {
    let Some(file) = local_file::read_credential_file(path, local_file::MAX_CREDENTIAL_FILE_BYTES)?
    else {
        return Ok(None);
    };
    let vars = parse_dotenv(&file, &mut |w| {
        tracing::warn!("{}: {w}", path.display());
    });
    Ok(Some(DotenvFile {
        path: path.to_path_buf(),
        vars,
    }))
}

#[async_trait]
impl CredentialProvider for DotenvProvider {
    /// OpenClaw reads it at run time and its own commands change it.
    fn live_in_openclaw(&self) -> bool {
        true
    }

    fn id(&self) -> &'static str {
        "dotenv"
    }

    fn group(&self) -> SourceGroup {
        SourceGroup::Env
    }

    async fn get(&self, name: &str) -> Result<Option<Credential>> {
        let files = self.read()?;
        Ok(build("dotenv", name, &|v| self.lookup(&files, v)))
    }

    async fn list(&self) -> Result<Vec<Listing>> {
        let files = self.read()?;
        let vars: Vec<&str> = files
            .iter()
            .flat_map(|f| f.vars.keys().map(String::as_str))
            .collect();
        Ok(names_in(vars.into_iter())
            .into_iter()
            .filter_map(|name| {
                build("dotenv", &name, &|v| self.lookup(&files, v)).map(|c| Listing {
                    name,
                    location: c.source.location,
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openclaw::config::{load_config, EnvLookup};
    use crate::openclaw::paths::OpenClawPaths;
    use openclaw_vault_test_support::env_of;
    use std::fs;
    use std::sync::Arc;

    fn secret<'a>(c: &'a Credential, field: &str) -> &'a str {
        c.secrets.get(field).unwrap().expose_secret()
    }

    fn process(pairs: &[(&str, &str)]) -> EffectiveEnv {
        let lookup: EnvLookup = Arc::new(env_of(pairs));
        EffectiveEnv::process_only(lookup)
    }

    #[test]
    fn variable_names() {
        assert_eq!(
            name_for_var("ANTHROPIC_API_KEY").as_deref(),
            Some("anthropic")
        );
        assert_eq!(
            name_for_var("ANTHROPIC_API_KEYS").as_deref(),
            Some("anthropic")
        );
        assert_eq!(
            name_for_var("ANTHROPIC_API_KEY_2").as_deref(),
            Some("anthropic")
        );
        assert_eq!(name_for_var("MISTRAL_API_KEY").as_deref(), Some("mistral"));
        assert_eq!(name_for_var("SLACK_APP_TOKEN").as_deref(), Some("slack"));
        assert_eq!(
            name_for_var("OPENCLAW_GATEWAY_TOKEN").as_deref(),
            Some("gateway")
        );
        assert_eq!(name_for_var("PATH"), None);
        assert_eq!(name_for_var("_API_KEY"), None);
        assert_eq!(name_for_var("X_API_KEY_two"), None);
        assert_eq!(
            primary_of("google-vertex").unwrap().var,
            "GOOGLE_VERTEX_API_KEY"
        );
        assert!(primary_of("Bad Name").is_none());
    }

    #[tokio::test]
    async fn env_mapping_and_generic_rule() {
        let p = EnvProvider::new(process(&[
            ("ANTHROPIC_API_KEY", "sk-ant-FAKE"),
            ("TELEGRAM_BOT_TOKEN", "123:FAKE"),
            ("SLACK_BOT_TOKEN", "xoxb-FAKE"),
            ("SLACK_APP_TOKEN", "xapp-FAKE"),
            ("MISTRAL_API_KEY", "mistral-FAKE"),
            ("OPENAI_API_KEY", ""),
        ]));
        let a = p.get("anthropic").await.unwrap().unwrap();
        assert_eq!(a.kind, CredentialKind::ApiKey);
        assert_eq!(secret(&a, "apiKey"), "sk-ant-FAKE");
        assert_eq!(a.source.location, "env ANTHROPIC_API_KEY");
        assert_eq!(a.source.group, SourceGroup::Env);
        assert!(a.metadata.get("rotationCount").is_none());
        let t = p.get("telegram").await.unwrap().unwrap();
        assert_eq!(t.kind, CredentialKind::Token);
        assert_eq!(secret(&t, "token"), "123:FAKE");
        let s = p.get("slack").await.unwrap().unwrap();
        assert_eq!(secret(&s, "appToken"), "xapp-FAKE");
        assert_eq!(
            secret(&p.get("mistral").await.unwrap().unwrap(), "apiKey"),
            "mistral-FAKE"
        );
        // Empty is not set, and is reported by name only.
        assert!(p.get("openai").await.unwrap().is_none());
        assert_eq!(
            p.warnings(),
            vec!["OPENAI_API_KEY is set but empty; treated as not set"]
        );
        let listed: Vec<String> = p
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.name)
            .collect();
        // Without process names, the generic rule's variables cannot be listed.
        assert_eq!(listed, vec!["anthropic", "telegram", "slack"]);
        let p = EnvProvider::new(
            process(&[("MISTRAL_API_KEY", "m")])
                .with_process_names(vec!["MISTRAL_API_KEY".into(), "PATH".into()]),
        );
        let listed: Vec<String> = p
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.name)
            .collect();
        assert_eq!(listed, vec!["mistral"]);
    }

    #[tokio::test]
    async fn rotation_lists() {
        let p = EnvProvider::new(process(&[
            ("ANTHROPIC_API_KEY", "k0"),
            ("ANTHROPIC_API_KEYS", "k1, k2,,k0"),
            ("ANTHROPIC_API_KEY_1", "k3"),
            ("ANTHROPIC_API_KEY_2", "k4"),
            ("ANTHROPIC_API_KEY_4", "skipped-after-gap"),
            ("OPENAI_API_KEYS", "o1,o2"),
        ]));
        let a = p.get("anthropic").await.unwrap().unwrap();
        let got: Vec<(&str, &str)> = a
            .secrets
            .iter()
            .map(|(k, v)| (k, v.expose_secret()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("apiKey", "k0"),
                ("apiKey1", "k1"),
                ("apiKey2", "k2"),
                ("apiKey3", "k3"),
                ("apiKey4", "k4")
            ]
        );
        assert_eq!(a.metadata["rotationCount"], 5);
        let o = p.get("openai").await.unwrap().unwrap();
        assert_eq!(secret(&o, "apiKey"), "o1");
        assert_eq!(secret(&o, "apiKey1"), "o2");
        assert_eq!(o.metadata["variable"], "OPENAI_API_KEYS");
        assert!(!format!("{a:?}").contains("k0"));
    }

    #[tokio::test]
    async fn openclaw_known_secret_variables_come_from_the_state_dotenv_only() {
        let home = std::env::temp_dir().join(format!("ocv-envknown-{}", std::process::id()));
        let _ = fs::remove_dir_all(&home);
        fs::create_dir_all(home.join(".openclaw")).unwrap();
        // What `openclaw secrets audit` reports here: $env.GH_TOKEN, $env.HF_TOKEN,
        // $env.RUNWAYML_API_SECRET (OpenClaw's list; PATH-like variables are not secrets).
        local_file::write_atomic(
            &home.join(".openclaw/.env"),
            b"GH_TOKEN=ghp_FAKE_state\nexport HF_TOKEN=\"hf_FAKE_state\"\nRUNWAYML_API_SECRET=rw-FAKE\nEDITOR=vim\n",
        )
        .unwrap();
        let h = home.to_str().unwrap();
        let lookup: EnvLookup =
            Arc::new(env_of(&[("HOME", h), ("GITHUB_TOKEN", "ghp_FAKE_shell")]));
        let paths = OpenClawPaths::from_env(&*lookup);
        let loaded = load_config(&paths, &lookup, None, None).unwrap();
        let providers = crate::providers::openclaw_config::config_providers(&paths, &loaded);
        let (dotenv, env) = (&providers[1], &providers[2]);
        let listed: Vec<String> = dotenv
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.name)
            .collect();
        assert_eq!(listed, vec!["gh-token", "hf-token", "runwayml-api-secret"]);
        let gh = dotenv.get("gh-token").await.unwrap().unwrap();
        assert_eq!(secret(&gh, "token"), "ghp_FAKE_state");
        assert_eq!(gh.metadata["variable"], "GH_TOKEN");
        assert_eq!(
            secret(&dotenv.get("hf-token").await.unwrap().unwrap(), "token"),
            "hf_FAKE_state"
        );
        assert_eq!(
            secret(
                &dotenv.get("runwayml-api-secret").await.unwrap().unwrap(),
                "apiKey"
            ),
            "rw-FAKE"
        );
        // A shell's GITHUB_TOKEN is not OpenClaw's: the env provider neither lists nor answers it.
        assert!(env.get("github-token").await.unwrap().is_none());
        assert!(!env
            .list()
            .await
            .unwrap()
            .iter()
            .any(|l| l.name == "github-token"));
        fs::remove_dir_all(&home).unwrap();
    }

    #[tokio::test]
    async fn dotenv_files_and_process_precedence() {
        let home = std::env::temp_dir().join(format!("ocv-envprov-{}", std::process::id()));
        let _ = fs::remove_dir_all(&home);
        fs::create_dir_all(home.join(".openclaw")).unwrap();
        fs::create_dir_all(home.join("work")).unwrap();
        local_file::write_atomic(
            &home.join("work/.env"),
            b"OPENROUTER_API_KEY=or-cwd\nBRAVE_API_KEY=\n",
        )
        .unwrap();
        local_file::write_atomic(
            &home.join(".openclaw/.env"),
            b"OPENROUTER_API_KEY=or-state\nBRAVE_API_KEY=brave-state\nANTHROPIC_API_KEY=dotenv-loses\n",
        )
        .unwrap();
        local_file::write_atomic(
            &home.join(".openclaw/openclaw.json"),
            br#"{env: {ELEVENLABS_API_KEY: "el-config"}}"#,
        )
        .unwrap();
        let h = home.to_str().unwrap();
        let lookup: EnvLookup = Arc::new(env_of(&[
            ("HOME", h),
            ("ANTHROPIC_API_KEY", "process-wins"),
        ]));
        let paths = OpenClawPaths::from_env(&*lookup);
        let loaded = load_config(&paths, &lookup, Some(&home.join("work")), None).unwrap();
        let providers = crate::providers::openclaw_config::config_providers(&paths, &loaded);
        let ids: Vec<&str> = providers.iter().map(|p| p.id()).collect();
        assert_eq!(ids, vec!["openclaw-config", "dotenv", "env"]);
        let dotenv = &providers[1];
        let env = &providers[2];

        // The workspace .env (cwd) supplies no credential: the state dir's answers.
        let or = dotenv.get("openrouter").await.unwrap().unwrap();
        assert_eq!(secret(&or, "apiKey"), "or-state");
        assert_eq!(or.source.file, Some(home.join(".openclaw/.env")));
        assert!(matches!(or.version, CredentialVersion::File { .. }));
        let brave = dotenv.get("brave").await.unwrap().unwrap();
        assert_eq!(brave.source.file, Some(home.join(".openclaw/.env")));
        // The process env wins: dotenv does not answer, env does.
        assert!(dotenv.get("anthropic").await.unwrap().is_none());
        assert_eq!(
            secret(&env.get("anthropic").await.unwrap().unwrap(), "apiKey"),
            "process-wins"
        );
        assert!(env.get("openrouter").await.unwrap().is_none());
        // The config env block is served by env, with the config file as its source.
        let el = env.get("elevenlabs").await.unwrap().unwrap();
        assert_eq!(el.source.file, Some(home.join(".openclaw/openclaw.json")));
        assert!(el.source.location.ends_with("env.ELEVENLABS_API_KEY"));

        let listed: Vec<String> = dotenv
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.name)
            .collect();
        assert_eq!(listed, vec!["brave", "openrouter"]);
        // Files are re-read: an edit is seen without reloading the config; one in the
        // workspace .env still supplies nothing.
        local_file::write_atomic(
            &home.join(".openclaw/.env"),
            b"OPENROUTER_API_KEY=or-rotated\n",
        )
        .unwrap();
        local_file::write_atomic(
            &home.join("work/.env"),
            b"OPENROUTER_API_KEY=or-cwd-2\nDEEPSEEK_API_KEY=ds-cwd\n",
        )
        .unwrap();
        assert_eq!(
            secret(&dotenv.get("openrouter").await.unwrap().unwrap(), "apiKey"),
            "or-rotated"
        );
        assert!(dotenv.get("deepseek").await.unwrap().is_none());
        assert_eq!(
            loaded
                .dotenv_refused
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>(),
            vec!["BRAVE_API_KEY", "OPENROUTER_API_KEY"]
        );
        fs::remove_dir_all(&home).unwrap();
    }
}
