//! Codex CLI's `$CODEX_HOME/auth.json` (default `~/.codex/auth.json`): `auth_mode`,
//! `OPENAI_API_KEY`, `tokens: {id_token, access_token, refresh_token, account_id}`,
//! `last_refresh` (ISO 8601).
//!
//! Two credentials: `codex` (alias `openai-codex`, the name the keychain provider uses), the
//! ChatGPT OAuth tokens, writable; and `openai`, the API key when `OPENAI_API_KEY` is a non-empty
//! string, read-only.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use async_trait::async_trait;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{object_at, read_json, rewrite, set, typed, JsonFile, OptionalSecretText, SecretText};
use crate::credential::{
    fields, Credential, CredentialKind, CredentialVersion, ParsedFields, SecretFields, SourceGroup,
};
use crate::error::{Error, ErrorCode, Result};
use crate::openclaw::paths::OpenClawPaths;
use crate::providers::{CredentialProvider, Listing};

/// The OAuth tokens' name.
pub const CODEX: &str = "codex";
/// The tokens' other name (the one the Codex keychain provider answers to).
pub const OPENAI_CODEX: &str = "openai-codex";
/// The API key's name.
pub const OPENAI: &str = "openai";

/// The layout of `auth.json`. Unknown fields are not read and are kept on rewrite.
#[derive(Debug, Deserialize)]
#[serde(expecting = "an object")]
pub struct CodexAuthFile {
    /// `chatgpt` or `apikey`.
    pub auth_mode: Option<String>,
    #[serde(rename = "OPENAI_API_KEY", default)]
    pub openai_api_key: OptionalSecretText,
    pub tokens: Option<CodexTokens>,
    /// When Codex last refreshed the tokens (ISO 8601).
    pub last_refresh: Option<String>,
}

/// `tokens`: the ChatGPT login.
#[derive(Debug, Deserialize)]
#[serde(expecting = "an object")]
pub struct CodexTokens {
    pub id_token: Option<SecretText>,
    pub access_token: SecretText,
    pub refresh_token: Option<SecretText>,
    pub account_id: Option<String>,
}

/// Reads `auth.json` (`doc`, named `what` in errors) for `name` (`codex`/`openai-codex`: the
/// tokens; `openai`: the API key). `Ok(None)` when the file does not hold that credential.
/// The metadata is `authMode`, `lastRefresh`, `accountId`; there is no expiry (Codex keeps none).
pub fn parse_codex_auth(doc: &Value, what: &str, name: &str) -> Result<Option<ParsedFields>> {
    let file: CodexAuthFile = typed(doc, what, "")?;
    let mut metadata = Map::new();
    for (key, value) in [
        ("authMode", &file.auth_mode),
        ("lastRefresh", &file.last_refresh),
    ] {
        if let Some(v) = value {
            metadata.insert(key.into(), Value::from(v.as_str()));
        }
    }
    let mut secrets = SecretFields::new();
    let kind = if name == OPENAI {
        let Some(key) = file.openai_api_key.0 else {
            return Ok(None);
        };
        secrets.insert(fields::API_KEY, key);
        CredentialKind::ApiKey
    } else {
        let Some(tokens) = file.tokens else {
            return Ok(None);
        };
        secrets.insert(fields::ACCESS_TOKEN, tokens.access_token.0);
        if let Some(refresh) = tokens.refresh_token {
            secrets.insert(fields::REFRESH_TOKEN, refresh.0);
        }
        if let Some(id) = tokens.id_token {
            secrets.insert(fields::ID_TOKEN, id.0);
        }
        if let Some(account) = tokens.account_id {
            metadata.insert("accountId".into(), Value::from(account));
        }
        CredentialKind::OAuth
    };
    Ok(Some(ParsedFields {
        kind,
        secrets,
        expires_at: None,
        metadata,
    }))
}

/// Writes `credential`'s tokens into `auth.json` (`existing`, or a new one): `tokens.access_token`,
/// and `tokens.refresh_token` / `tokens.id_token` when the credential has them, change in place,
/// `last_refresh` becomes `now` (ISO 8601); every other field is kept. New `tokens` also get
/// `account_id` from the metadata's `accountId`.
pub fn merge_codex_auth(
    existing: Option<&Value>,
    credential: &Credential,
    now: SystemTime,
) -> Result<Value> {
    let access = credential
        .secrets
        .get(fields::ACCESS_TOKEN)
        .ok_or_else(|| {
            Error::invalid_argument(format!(
                "Codex's tokens are OAuth tokens: the credential needs `{}`",
                fields::ACCESS_TOKEN
            ))
        })?;
    let mut root = match existing {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    };
    let is_new = !matches!(root.get("tokens"), Some(Value::Object(_)));
    let tokens = object_at(&mut root, "tokens");
    if let Some(id) = credential.secrets.get(fields::ID_TOKEN) {
        set(tokens, "id_token", Value::from(id.expose_secret()));
    }
    set(tokens, "access_token", Value::from(access.expose_secret()));
    if let Some(refresh) = credential.secrets.get(fields::REFRESH_TOKEN) {
        set(
            tokens,
            "refresh_token",
            Value::from(refresh.expose_secret()),
        );
    }
    if is_new {
        if let Some(account) = credential.metadata.get("accountId") {
            set(tokens, "account_id", account.clone());
        }
    }
    set(
        &mut root,
        "last_refresh",
        Value::from(humantime::format_rfc3339_micros(now).to_string()),
    );
    Ok(Value::Object(root))
}

/// Codex CLI's `auth.json`: `codex` (OAuth, writable) and `openai` (API key, read-only).
#[derive(Debug, Clone)]
pub struct CodexAuthFileProvider {
    path: PathBuf,
}

impl CodexAuthFileProvider {
    /// The file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        CodexAuthFileProvider { path: path.into() }
    }

    /// `<codex home>/auth.json`; `None` without a home.
    pub fn from_paths(paths: &OpenClawPaths) -> Option<Self> {
        paths
            .codex_home
            .as_ref()
            .map(|d| Self::new(d.join("auth.json")))
    }

    /// The file this provider reads and writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn credential(&self, file: &JsonFile, name: &str) -> Result<Option<Credential>> {
        let Some(parsed) = parse_codex_auth(&file.json.0, &file.what(), name)? else {
            return Ok(None);
        };
        let json_path = if parsed.kind == CredentialKind::ApiKey {
            "OPENAI_API_KEY"
        } else {
            "tokens"
        };
        Ok(Some(file.credential(
            self.id(),
            Some(json_path),
            name,
            parsed,
        )))
    }
}

#[async_trait]
impl CredentialProvider for CodexAuthFileProvider {
    fn id(&self) -> &'static str {
        CODEX
    }

    fn group(&self) -> SourceGroup {
        SourceGroup::Files
    }

    async fn get(&self, name: &str) -> Result<Option<Credential>> {
        if ![CODEX, OPENAI_CODEX, OPENAI].contains(&name) {
            return Ok(None);
        }
        match read_json(&self.path)? {
            Some(file) => self.credential(&file, name),
            None => Ok(None),
        }
    }

    async fn list(&self) -> Result<Vec<Listing>> {
        let Some(file) = read_json(&self.path)? else {
            return Ok(Vec::new());
        };
        let mut listings = Vec::new();
        for name in [CODEX, OPENAI] {
            if let Some(cred) = self.credential(&file, name)? {
                listings.push(Listing {
                    name: name.to_string(),
                    location: cred.source.location,
                });
            }
        }
        Ok(listings)
    }

    fn writable(&self) -> bool {
        true
    }

    /// Rewrites the tokens (see [`merge_codex_auth`]) when the file is still at `expected`. The
    /// API key is not written back.
    async fn put(
        &self,
        credential: &Credential,
        expected: Option<&CredentialVersion>,
    ) -> Result<CredentialVersion> {
        if credential.name == OPENAI {
            return Err(Error::new(
                ErrorCode::UnsupportedOperation,
                format!(
                    "{}: Codex's OPENAI_API_KEY is not written back; only its tokens (`{CODEX}`) are",
                    self.path.display()
                ),
            ));
        }
        if credential.name != CODEX && credential.name != OPENAI_CODEX {
            return Err(Error::invalid_argument(format!(
                "Codex's auth.json holds `{CODEX}` and `{OPENAI}`, not `{}`",
                credential.name
            )));
        }
        let credential = credential.clone();
        rewrite(self.path.clone(), expected.cloned(), move |current| {
            if let Some(file) = current {
                typed::<CodexAuthFile>(&file.json.0, &file.what(), "")?;
            }
            merge_codex_auth(current.map(|f| &f.json.0), &credential, SystemTime::now())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    const AUTH: &str = r#"{
  "auth_mode": "chatgpt",
  "OPENAI_API_KEY": "sk-proj-FAKE-KEY",
  "tokens": {
    "id_token": "eyJFAKE.ID.TOKEN",
    "access_token": "eyJFAKE.ACCESS",
    "refresh_token": "rt_FAKE",
    "account_id": "acct-123"
  },
  "last_refresh": "2026-01-02T03:04:05.678901Z",
  "agent_identity": {"kept": 1}
}"#;

    #[tokio::test]
    async fn reads_tokens_and_the_api_key() {
        let home = TempHome::new("codex-read");
        let path = home.write(".codex/auth.json", AUTH);
        let provider = CodexAuthFileProvider::from_paths(&home.paths()).unwrap();
        assert_eq!(provider.path(), path);
        for name in [CODEX, OPENAI_CODEX] {
            let got = provider.get(name).await.unwrap().unwrap();
            assert_eq!(got.name, name);
            assert_eq!(got.kind, CredentialKind::OAuth);
            assert_eq!(secret(&got, "accessToken"), "eyJFAKE.ACCESS");
            assert_eq!(secret(&got, "refreshToken"), "rt_FAKE");
            assert_eq!(secret(&got, "idToken"), "eyJFAKE.ID.TOKEN");
            assert_eq!(got.metadata["accountId"], "acct-123");
            assert_eq!(got.metadata["authMode"], "chatgpt");
            assert_eq!(got.metadata["lastRefresh"], "2026-01-02T03:04:05.678901Z");
            assert_eq!(got.source.location, format!("{}#tokens", path.display()));
            assert_eq!(got.source.provider, "codex");
        }
        let key = provider.get(OPENAI).await.unwrap().unwrap();
        assert_eq!(key.kind, CredentialKind::ApiKey);
        assert_eq!(secret(&key, "apiKey"), "sk-proj-FAKE-KEY");
        assert_eq!(key.source.provider, "codex");
        assert!(provider.get("anthropic").await.unwrap().is_none());
        let names: Vec<_> = provider
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.name)
            .collect();
        assert_eq!(names, ["codex", "openai"]);

        // CODEX_HOME moves the file; an empty or null key and absent tokens hold nothing.
        let paths = home.paths_with(&[("CODEX_HOME", "~/other-codex")]);
        let provider = CodexAuthFileProvider::from_paths(&paths).unwrap();
        home.write(
            "other-codex/auth.json",
            r#"{"auth_mode":"chatgpt","OPENAI_API_KEY":"","tokens":null}"#,
        );
        assert!(provider.get(OPENAI).await.unwrap().is_none());
        assert!(provider.get(CODEX).await.unwrap().is_none());
        assert!(provider.list().await.unwrap().is_empty());
        home.write("other-codex/auth.json", r#"{"OPENAI_API_KEY":null}"#);
        assert!(provider.get(OPENAI).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn write_back_rewrites_tokens_and_last_refresh_only() {
        let home = TempHome::new("codex-write");
        let path = home.write(".codex/auth.json", AUTH);
        let provider = CodexAuthFileProvider::new(&path);
        let got = provider.get(CODEX).await.unwrap().unwrap();
        provider
            .put(
                &refreshed(&got, "eyJNEW.ACCESS", "rt_NEW", 1),
                Some(&got.version),
            )
            .await
            .unwrap();
        let raw = read_value(&path);
        assert_eq!(
            keys(&raw),
            [
                "auth_mode",
                "OPENAI_API_KEY",
                "tokens",
                "last_refresh",
                "agent_identity"
            ]
        );
        assert_eq!(
            keys(&raw["tokens"]),
            ["id_token", "access_token", "refresh_token", "account_id"]
        );
        assert_eq!(raw["tokens"]["access_token"], "eyJNEW.ACCESS");
        assert_eq!(raw["tokens"]["refresh_token"], "rt_NEW");
        assert_eq!(raw["tokens"]["account_id"], "acct-123");
        assert_eq!(raw["OPENAI_API_KEY"], "sk-proj-FAKE-KEY");
        assert_eq!(raw["agent_identity"]["kept"], 1);
        let last = raw["last_refresh"].as_str().unwrap();
        assert_ne!(last, "2026-01-02T03:04:05.678901Z");
        assert!(humantime::parse_rfc3339(last).is_ok(), "{last}");
        assert_eq!(mode(&path), 0o600);

        let err = provider.put(&got, Some(&got.version)).await.unwrap_err();
        assert_error(&err, "CAS_MISMATCH", &["auth.json"], &["eyJ"]);
        let key = provider.get(OPENAI).await.unwrap().unwrap();
        let err = provider.put(&key, Some(&key.version)).await.unwrap_err();
        assert_error(
            &err,
            "UNSUPPORTED_OPERATION",
            &["OPENAI_API_KEY"],
            &["sk-proj"],
        );
    }

    #[tokio::test]
    async fn bad_files_name_the_field() {
        let home = TempHome::new("codex-bad");
        let provider = CodexAuthFileProvider::from_paths(&home.paths()).unwrap();
        let cases: &[(&str, &str)] = &[
            (
                r#"{"tokens":{"access_token":"SEKRIT","refresh_token":7}}"#,
                "`tokens.refresh_token`: expected a non-empty string, got a number",
            ),
            (
                r#"{"tokens":{"refresh_token":"SEKRIT"}}"#,
                "`tokens.access_token`: missing",
            ),
            (
                r#"{"tokens":"SEKRIT"}"#,
                "`tokens`: expected an object, got a string",
            ),
            (
                r#"{"OPENAI_API_KEY":["SEKRIT"]}"#,
                "`OPENAI_API_KEY`: expected a string or null, got an array",
            ),
            (
                r#"{"tokens":{"access_token":"SEKRIT"},"last_refresh":1}"#,
                "`last_refresh`: expected a string, got a number",
            ),
        ];
        for (text, needle) in cases {
            let path = home.write(".codex/auth.json", text);
            for name in [CODEX, OPENAI] {
                let err = provider.get(name).await.unwrap_err();
                assert_error(
                    &err,
                    "INVALID_SOURCE",
                    &[needle, &path.display().to_string()],
                    &["SEKRIT"],
                );
            }
            let err = provider
                .put(&oauth(CODEX, "NEWVAL", "r", 1), None)
                .await
                .unwrap_err();
            assert_error(&err, "INVALID_SOURCE", &[], &["SEKRIT", "NEWVAL"]);
            assert_eq!(std::fs::read_to_string(&path).unwrap(), *text);
        }
    }
}
