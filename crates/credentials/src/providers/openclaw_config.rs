//! Plaintext secrets in OpenClaw's own config file (`openclaw.json`, JSON5). Read-only: the
//! migration moves them to Vault and rewrites the fields as SecretRefs using [`plaintext_fields`].
//!
//! | JSON path | credential | secret field |
//! |---|---|---|
//! | `models.providers.<p>.apiKey` | `<p>` (api_key) | `apiKey` |
//! | `channels.telegram.botToken` | `telegram` (token) | `token` |
//! | `channels.discord.token` | `discord` (token) | `token` |
//! | `channels.slack.botToken` / `appToken` / `signingSecret` | `slack` (token) | `token` / `appToken` / `signingSecret` |
//! | `gateway.auth.token` | `gateway` (token) | `token` |
//! | `gateway.auth.password` | `gateway-password` (token) | `token` |
//! | `tools.web.search.apiKey` | `brave` (api_key) | `apiKey` |
//!
//! `tools.web.search.apiKey` is named `brave`: Brave is OpenClaw's web search provider and
//! `BRAVE_API_KEY` is the same key from the environment, so both sources answer one name. The
//! gateway password is its own credential (`gateway-password`) because a credential's main field
//! must be there, and a gateway may use a password without a token.
//!
//! Not plaintext, so skipped: SecretRef objects (`{source, provider, id}`) and strings that are
//! `${VAR}` templates, which OpenClaw fills from the environment.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::{CredentialProvider, Listing};
use crate::credential::{
    fields, Credential, CredentialKind, CredentialSource, CredentialVersion, SecretFields,
    SourceGroup,
};
use crate::error::{Error, ErrorCode, Result};
use crate::local_file;
use crate::openclaw::config::{parse_json5, LoadedConfig};
use crate::openclaw::paths::OpenClawPaths;
use vault_client::secret::json_kind;

/// The provider id, in `source.provider` and audit lines.
pub const PROVIDER_ID: &str = "openclaw-config";

/// Fixed places of plaintext secrets: JSON path, credential name, secret field.
const FIXED_FIELDS: &[(&[&str], &str, &str)] = &[
    (
        &["channels", "telegram", "botToken"],
        "telegram",
        fields::TOKEN,
    ),
    (&["channels", "discord", "token"], "discord", fields::TOKEN),
    (&["channels", "slack", "botToken"], "slack", fields::TOKEN),
    (&["channels", "slack", "appToken"], "slack", "appToken"),
    (
        &["channels", "slack", "signingSecret"],
        "slack",
        "signingSecret",
    ),
    (&["gateway", "auth", "token"], "gateway", fields::TOKEN),
    (
        &["gateway", "auth", "password"],
        "gateway-password",
        fields::TOKEN,
    ),
    (
        &["tools", "web", "search", "apiKey"],
        "brave",
        fields::API_KEY,
    ),
];

/// One plaintext secret in the config: where it is, and the credential field it fills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaintextField {
    /// e.g. `["models", "providers", "openai", "apiKey"]`.
    pub json_path: Vec<String>,
    /// The credential name (`openai`, `telegram`, ...).
    pub name: String,
    /// The secret field of that credential (`apiKey`, `token`, `appToken`, ...).
    pub field: String,
}

impl PlaintextField {
    /// `models.providers.openai.apiKey`.
    pub fn dotted(&self) -> String {
        self.json_path.join(".")
    }
}

/// A field at a known place that is neither a string, a SecretRef nor null.
struct BadField {
    json_path: Vec<String>,
    name: String,
    got: &'static str,
}

/// True for `{source, provider?, id}` objects: a reference, not a secret.
pub fn is_secret_ref(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|o| o.get("source").is_some_and(Value::is_string) && o.contains_key("id"))
}

/// True for strings holding a `${VAR}` template, which OpenClaw substitutes from the env.
fn is_env_template(s: &str) -> bool {
    s.find("${").is_some_and(|start| {
        let rest = &s[start + 2..];
        rest.find('}').is_some_and(|end| {
            let var = &rest[..end];
            !var.is_empty()
                && var
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        })
    })
}

fn at<'v>(doc: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(doc, |v, k| v.get(k))
}

fn scan(doc: &Value) -> (Vec<PlaintextField>, Vec<BadField>) {
    let mut found = Vec::new();
    let mut bad = Vec::new();
    let mut check = |value: &Value, path: Vec<String>, name: &str, field: &str| match value {
        Value::String(s) if !s.trim().is_empty() && !is_env_template(s) => {
            found.push(PlaintextField {
                json_path: path,
                name: name.to_string(),
                field: field.to_string(),
            })
        }
        Value::String(_) | Value::Null => {}
        v if is_secret_ref(v) => {}
        other => bad.push(BadField {
            json_path: path,
            name: name.to_string(),
            got: json_kind(other),
        }),
    };
    if let Some(Value::Object(providers)) = at(doc, &["models", "providers"]) {
        for (p, entry) in providers {
            if let Some(v) = entry.get("apiKey") {
                let path = ["models", "providers", p.as_str(), "apiKey"]
                    .map(String::from)
                    .to_vec();
                check(v, path, p, fields::API_KEY);
            }
        }
    }
    for (path, name, field) in FIXED_FIELDS {
        if let Some(v) = at(doc, path) {
            check(v, path.iter().map(|s| s.to_string()).collect(), name, field);
        }
    }
    (found, bad)
}

/// Every plaintext secret field of an OpenClaw config document, in a stable order
/// (`models.providers.*` first, then the fixed places in the table above).
pub fn plaintext_fields(doc: &Value) -> Vec<PlaintextField> {
    scan(doc).0
}

/// Reads the plaintext secrets of one config file on every call, so edits are seen.
pub struct OpenClawConfigProvider {
    file: Option<PathBuf>,
}

impl OpenClawConfigProvider {
    /// `file` is the config file OpenClaw reads (`LoadedConfig::file`); `None` holds nothing.
    pub fn new(file: Option<PathBuf>) -> Self {
        OpenClawConfigProvider { file }
    }

    fn read(&self) -> Result<Option<(PathBuf, Value, CredentialVersion)>> {
        let Some(path) = &self.file else {
            return Ok(None);
        };
        let Some(file) =
            local_file::read_credential_file(path, local_file::MAX_CREDENTIAL_FILE_BYTES)?
        else {
            return Ok(None);
        };
        // As a credential source, a broken file is INVALID_SOURCE like every other one.
        let doc =
            parse_json5(&file).map_err(|e| Error::new(ErrorCode::InvalidSource, e.message))?;
        Ok(Some((path.clone(), doc, file.version)))
    }

    fn credential(
        path: &std::path::Path,
        doc: &Value,
        version: &CredentialVersion,
        name: &str,
    ) -> Result<Option<Credential>> {
        let (found, bad) = scan(doc);
        if let Some(b) = bad.iter().find(|b| b.name == name) {
            return Err(Error::new(
                ErrorCode::InvalidSource,
                format!(
                    "{}: `{}` must be a string or a SecretRef object ({{source, provider, id}}), got {}",
                    path.display(),
                    b.json_path.join("."),
                    b.got
                ),
            ));
        }
        let mine: Vec<&PlaintextField> = found.iter().filter(|f| f.name == name).collect();
        let kind = if mine.iter().any(|f| f.field == fields::API_KEY) {
            CredentialKind::ApiKey
        } else if mine.iter().any(|f| f.field == fields::TOKEN) {
            CredentialKind::Token
        } else {
            // Only extras (a Slack appToken without a botToken): not a usable credential.
            return Ok(None);
        };
        let mut secrets = SecretFields::new();
        let mut primary_path = String::new();
        let mut paths = Map::new();
        for f in &mine {
            let json_path: Vec<&str> = f.json_path.iter().map(String::as_str).collect();
            if let Some(Value::String(s)) = at(doc, &json_path) {
                secrets.insert_str(f.field.clone(), s.trim());
            }
            if f.field == kind.primary_field() {
                primary_path = f.dotted();
            }
            paths.insert(f.field.clone(), Value::String(f.dotted()));
        }
        let mut metadata = Map::new();
        metadata.insert("jsonPath".into(), Value::String(primary_path.clone()));
        if paths.len() > 1 {
            metadata.insert("jsonPaths".into(), Value::Object(paths));
        }
        Ok(Some(Credential {
            name: name.to_string(),
            kind,
            source: CredentialSource {
                provider: PROVIDER_ID,
                group: SourceGroup::Files,
                location: format!("{} {primary_path}", path.display()),
                file: Some(path.to_path_buf()),
            },
            expires_at: None,
            metadata,
            secrets,
            version: version.clone(),
            request_id: None,
        }))
    }
}

#[async_trait]
impl CredentialProvider for OpenClawConfigProvider {
    fn id(&self) -> &'static str {
        PROVIDER_ID
    }

    fn group(&self) -> SourceGroup {
        SourceGroup::Files
    }

    async fn get(&self, name: &str) -> Result<Option<Credential>> {
        let Some((path, doc, version)) = self.read()? else {
            return Ok(None);
        };
        Self::credential(&path, &doc, &version, name)
    }

    async fn list(&self) -> Result<Vec<Listing>> {
        let Some((path, doc, version)) = self.read()? else {
            return Ok(Vec::new());
        };
        let mut names: Vec<String> = plaintext_fields(&doc).into_iter().map(|f| f.name).collect();
        names.dedup();
        let mut out = Vec::new();
        for name in names {
            if out.iter().any(|l: &Listing| l.name == name) {
                continue;
            }
            // Only names `get` answers; a wrong-typed field is reported by `get`.
            if let Ok(Some(c)) = Self::credential(&path, &doc, &version, &name) {
                out.push(Listing {
                    name,
                    location: c.source.location,
                });
            }
        }
        Ok(out)
    }
}

/// The config-derived local providers, in chain order: `openclaw-config`, `dotenv`, `env`.
pub fn config_providers(
    paths: &OpenClawPaths,
    loaded: &LoadedConfig,
) -> Vec<Arc<dyn CredentialProvider>> {
    let file = loaded.file.clone().or_else(|| paths.config_file());
    vec![
        Arc::new(OpenClawConfigProvider::new(file)),
        Arc::new(super::env::DotenvProvider::new(loaded.env.clone())),
        Arc::new(super::env::EnvProvider::new(loaded.env.clone())),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use serde_json::json;
    use std::fs;

    const SAMPLE: &str = r#"{
      // plaintext secrets, as many users have them
      models: { providers: {
        openai: { apiKey: "sk-FAKE-openai-plaintext" },
        anthropic: { apiKey: { source: "exec", provider: "vault", id: "providers/anthropic/apiKey" } },
        groq: { apiKey: "${GROQ_API_KEY}" },
        empty: { apiKey: "" },
      } },
      channels: {
        telegram: { botToken: "123456789:AAFAKE-telegram-demo-token" },
        discord: { token: 42 },
        slack: { botToken: "xoxb-FAKE", appToken: "xapp-FAKE", signingSecret: "FAKE-signing" },
      },
      gateway: { auth: { token: "FAKE-gateway-token", password: "FAKE-gw-pass" } },
      tools: { web: { search: { apiKey: "BSA-FAKE-brave" } } },
    }"#;

    fn doc() -> Value {
        json5::from_str(SAMPLE).unwrap()
    }

    #[test]
    fn finds_plaintext_fields_and_skips_refs_and_templates() {
        let f = plaintext_fields(&doc());
        let got: Vec<(String, &str, &str)> = f
            .iter()
            .map(|f| (f.dotted(), f.name.as_str(), f.field.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("models.providers.openai.apiKey".into(), "openai", "apiKey"),
                ("channels.telegram.botToken".into(), "telegram", "token"),
                ("channels.slack.botToken".into(), "slack", "token"),
                ("channels.slack.appToken".into(), "slack", "appToken"),
                (
                    "channels.slack.signingSecret".into(),
                    "slack",
                    "signingSecret"
                ),
                ("gateway.auth.token".into(), "gateway", "token"),
                ("gateway.auth.password".into(), "gateway-password", "token"),
                ("tools.web.search.apiKey".into(), "brave", "apiKey"),
            ]
        );
        assert!(is_env_template("${GROQ_API_KEY}"));
        assert!(!is_env_template("sk-${lower"));
        assert!(plaintext_fields(&json!(null)).is_empty());
        assert!(plaintext_fields(&json!({"models": []})).is_empty());
    }

    fn temp_config(name: &str, text: &str) -> (PathBuf, OpenClawConfigProvider) {
        let dir = std::env::temp_dir().join(format!("ocv-occfg-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join("openclaw.json");
        local_file::write_atomic(&file, text.as_bytes()).unwrap();
        (dir, OpenClawConfigProvider::new(Some(file)))
    }

    #[tokio::test]
    async fn reads_credentials_with_source_locations() {
        let (dir, p) = temp_config("get", SAMPLE);
        let file = dir.join("openclaw.json");
        let tg = p.get("telegram").await.unwrap().unwrap();
        assert_eq!(tg.kind, CredentialKind::Token);
        assert_eq!(
            tg.primary().unwrap().expose_secret(),
            "123456789:AAFAKE-telegram-demo-token"
        );
        assert_eq!(
            tg.source.location,
            format!("{} channels.telegram.botToken", file.display())
        );
        assert_eq!(tg.source.file.as_deref(), Some(file.as_path()));
        assert_eq!(tg.source.provider, "openclaw-config");
        assert!(matches!(tg.version, CredentialVersion::File { .. }));

        let openai = p.get("openai").await.unwrap().unwrap();
        assert_eq!(openai.kind, CredentialKind::ApiKey);
        assert_eq!(
            openai.metadata["jsonPath"],
            "models.providers.openai.apiKey"
        );

        let slack = p.get("slack").await.unwrap().unwrap();
        let names: Vec<&str> = slack.secrets.names().collect();
        assert_eq!(names, vec!["appToken", "signingSecret", "token"]);

        // A SecretRef and a template are not plaintext: nothing here.
        assert!(p.get("anthropic").await.unwrap().is_none());
        assert!(p.get("groq").await.unwrap().is_none());
        assert!(p.get("nope").await.unwrap().is_none());
        assert_eq!(
            p.get("brave").await.unwrap().unwrap().kind,
            CredentialKind::ApiKey
        );

        // A wrong type is an error naming the file and path, not the value.
        let err = p.get("discord").await.unwrap_err();
        assert_eq!(err.code(), "INVALID_SOURCE");
        assert!(
            err.message.contains("channels.discord.token"),
            "{}",
            err.message
        );
        assert!(err.message.contains(file.to_str().unwrap()));

        let listed: Vec<String> = p
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.name)
            .collect();
        assert_eq!(
            listed,
            vec![
                "openai",
                "telegram",
                "slack",
                "gateway",
                "gateway-password",
                "brave"
            ]
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn missing_or_broken_file() {
        let p = OpenClawConfigProvider::new(None);
        assert!(p.get("openai").await.unwrap().is_none());
        assert!(p.list().await.unwrap().is_empty());
        let (dir, p) = temp_config(
            "broken",
            "{ models: { providers: { openai: { apiKey: \"sk-FAKE-leak\" ",
        );
        let err = p.get("openai").await.unwrap_err();
        assert_eq!(err.code(), "INVALID_SOURCE");
        assert!(err.message.contains("line 1"), "{}", err.message);
        assert!(!err.message.contains("sk-FAKE-leak"));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn sample_home_end_to_end() {
        let home = openclaw_vault_test_support::workspace_root().join("examples/sample-home");
        let h = home.to_str().unwrap().to_string();
        let lookup: crate::openclaw::config::EnvLookup =
            Arc::new(move |k: &str| (k == "HOME").then(|| h.clone()));
        let paths = OpenClawPaths::from_env(&*lookup);
        let loaded = crate::openclaw::config::load_config(&paths, &lookup, None, None).unwrap();
        assert_eq!(loaded.file, Some(home.join(".openclaw/openclaw.json")));
        assert_eq!(
            loaded.credentials.provider,
            crate::openclaw::config::ProviderMode::Local
        );
        assert_eq!(
            loaded.credentials.order,
            vec![SourceGroup::Keychain, SourceGroup::Files, SourceGroup::Env]
        );
        // Only permission warnings (a checkout may be 0644); no unknown keys.
        assert!(
            loaded
                .warnings
                .iter()
                .all(|w| w.message.contains("chmod 600")),
            "{:?}",
            loaded.warnings
        );
        let providers = config_providers(&paths, &loaded);
        let config = &providers[0];
        let listed: Vec<String> = config
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.name)
            .collect();
        assert_eq!(listed, vec!["openai", "telegram", "discord", "gateway"]);
        let tg = config.get("telegram").await.unwrap().unwrap();
        assert_eq!(
            tg.primary().unwrap().expose_secret(),
            "123456789:AAFAKE-telegram-demo-token"
        );
        assert!(config.get("anthropic").await.unwrap().is_none());
        let dotenv = &providers[1];
        let listed: Vec<String> = dotenv
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.name)
            .collect();
        assert_eq!(listed, vec!["brave", "openrouter"]);
        let or = dotenv.get("openrouter").await.unwrap().unwrap();
        assert_eq!(or.source.file, Some(home.join(".openclaw/.env")));
    }
}
