//! OpenClaw's legacy OAuth file, `<stateDir>/credentials/oauth.json`:
//! `{"<provider>": {"access", "refresh", "expires"}}`, one OAuth credential per provider, named
//! after it.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{object_at, read_json, rewrite, set, typed, EpochMs, JsonFile, SecretText};
use crate::credential::{
    fields, Credential, CredentialKind, CredentialVersion, ParsedFields, SecretFields, SourceGroup,
};
use crate::error::{Error, Result};
use crate::openclaw::paths::OpenClawPaths;
use crate::providers::{CredentialProvider, Listing};

/// One provider's entry. Unknown fields are not read and are kept on rewrite.
#[derive(Debug, Deserialize)]
#[serde(expecting = "an object")]
pub struct LegacyOAuthEntry {
    pub access: SecretText,
    pub refresh: Option<SecretText>,
    /// Epoch milliseconds.
    pub expires: Option<EpochMs>,
}

/// Reads the entry of `provider` in the file's JSON (`doc`, named `what` in errors) as an OAuth
/// credential: `(secrets, expires_at)`. `Ok(None)` when there is no entry.
pub fn parse_legacy_oauth(
    doc: &Value,
    what: &str,
    provider: &str,
) -> Result<Option<(SecretFields, Option<i64>)>> {
    let Some(entry) = doc.get(provider).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let entry: LegacyOAuthEntry = typed(entry, what, provider)?;
    let mut secrets = SecretFields::new();
    secrets.insert(fields::ACCESS_TOKEN, entry.access.0);
    if let Some(refresh) = entry.refresh {
        secrets.insert(fields::REFRESH_TOKEN, refresh.0);
    }
    Ok(Some((secrets, entry.expires.map(|e| e.0))))
}

/// Writes `credential`'s tokens into the entry named after it (`access`, and `refresh` /
/// `expires` when the credential has them, in place), adding the entry when there is none and
/// keeping every other entry and field.
pub fn merge_legacy_oauth(existing: Option<&Value>, credential: &Credential) -> Result<Value> {
    let access = credential
        .secrets
        .get(fields::ACCESS_TOKEN)
        .ok_or_else(|| {
            Error::invalid_argument(format!(
                "oauth.json holds OAuth tokens: the credential needs `{}`",
                fields::ACCESS_TOKEN
            ))
        })?;
    let mut root = match existing {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    };
    let entry = object_at(&mut root, &credential.name);
    set(entry, "access", Value::from(access.expose_secret()));
    if let Some(refresh) = credential.secrets.get(fields::REFRESH_TOKEN) {
        set(entry, "refresh", Value::from(refresh.expose_secret()));
    }
    if let Some(at) = credential.expires_at {
        set(entry, "expires", Value::from(at));
    }
    Ok(Value::Object(root))
}

/// `<stateDir>/credentials/oauth.json`, one OAuth credential per provider. Writable.
#[derive(Debug, Clone)]
pub struct LegacyOAuthFileProvider {
    path: PathBuf,
}

impl LegacyOAuthFileProvider {
    /// The file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        LegacyOAuthFileProvider { path: path.into() }
    }

    /// `<stateDir>/credentials/oauth.json`; `None` without a state directory.
    pub fn from_paths(paths: &OpenClawPaths) -> Option<Self> {
        paths
            .state_dir
            .as_ref()
            .map(|d| Self::new(d.join("credentials").join("oauth.json")))
    }

    /// The file this provider reads and writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn credential(&self, file: &JsonFile, name: &str) -> Result<Option<Credential>> {
        let Some((secrets, expires_at)) = parse_legacy_oauth(&file.json.0, &file.what(), name)?
        else {
            return Ok(None);
        };
        let mut metadata = Map::new();
        metadata.insert("provider".into(), Value::from(name));
        let parsed = ParsedFields {
            kind: CredentialKind::OAuth,
            secrets,
            expires_at,
            metadata,
        };
        Ok(Some(file.credential(self.id(), Some(name), name, parsed)))
    }
}

#[async_trait]
impl CredentialProvider for LegacyOAuthFileProvider {
    fn id(&self) -> &'static str {
        "openclaw-oauth"
    }

    fn group(&self) -> SourceGroup {
        SourceGroup::Files
    }

    async fn get(&self, name: &str) -> Result<Option<Credential>> {
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
        for name in file.root().keys() {
            if let Some(cred) = self.credential(&file, name)? {
                listings.push(Listing {
                    name: name.clone(),
                    location: cred.source.location,
                });
            }
        }
        Ok(listings)
    }

    fn writable(&self) -> bool {
        true
    }

    /// Rewrites the entry named after the credential (see [`merge_legacy_oauth`]) when the file
    /// is still at `expected`.
    async fn put(
        &self,
        credential: &Credential,
        expected: Option<&CredentialVersion>,
    ) -> Result<CredentialVersion> {
        if credential.name.is_empty() {
            return Err(Error::invalid_argument(
                "oauth.json entries are named after a provider: the name is empty",
            ));
        }
        let credential = credential.clone();
        rewrite(self.path.clone(), expected.cloned(), move |current| {
            if let Some(file) = current {
                parse_legacy_oauth(&file.json.0, &file.what(), &credential.name)?;
            }
            merge_legacy_oauth(current.map(|f| &f.json.0), &credential)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    const OAUTH: &str = r#"{
  "anthropic": {"access": "sk-ant-oat01-FAKE-A", "refresh": "sk-ant-ort01-FAKE-R", "expires": 4102444800000, "email": "a@example.com"},
  "openai-codex": {"access": "eyJFAKE", "refresh": "rt_FAKE", "expires": 4102444800000}
}"#;

    #[tokio::test]
    async fn reads_each_provider_and_lists_them() {
        let home = TempHome::new("legacy-read");
        let path = home.write(".openclaw/credentials/oauth.json", OAUTH);
        let provider = LegacyOAuthFileProvider::from_paths(&home.paths()).unwrap();
        let got = provider.get("anthropic").await.unwrap().unwrap();
        assert_eq!(got.kind, CredentialKind::OAuth);
        assert_eq!(secret(&got, "accessToken"), "sk-ant-oat01-FAKE-A");
        assert_eq!(secret(&got, "refreshToken"), "sk-ant-ort01-FAKE-R");
        assert_eq!(got.expires_at, Some(4_102_444_800_000));
        assert_eq!(got.metadata["provider"], "anthropic");
        assert_eq!(got.source.provider, "openclaw-oauth");
        assert_eq!(got.source.location, format!("{}#anthropic", path.display()));
        assert!(provider.get("openai-codex").await.unwrap().is_some());
        assert!(provider.get("qwen").await.unwrap().is_none());
        let listed = provider.list().await.unwrap();
        let names: Vec<_> = listed.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["anthropic", "openai-codex"]);
        assert!(!format!("{listed:?}").contains("FAKE-A"));
    }

    #[tokio::test]
    async fn write_back_touches_one_entry() {
        let home = TempHome::new("legacy-write");
        let path = home.write(".openclaw/credentials/oauth.json", OAUTH);
        let provider = LegacyOAuthFileProvider::new(&path);
        let got = provider.get("anthropic").await.unwrap().unwrap();
        let v = provider
            .put(
                &refreshed(&got, "sk-ant-oat01-NEW", "sk-ant-ort01-NEW", 7),
                Some(&got.version),
            )
            .await
            .unwrap();
        let raw = read_value(&path);
        assert_eq!(keys(&raw), ["anthropic", "openai-codex"]);
        assert_eq!(
            keys(&raw["anthropic"]),
            ["access", "refresh", "expires", "email"]
        );
        assert_eq!(raw["anthropic"]["access"], "sk-ant-oat01-NEW");
        assert_eq!(raw["anthropic"]["expires"], 7);
        assert_eq!(raw["anthropic"]["email"], "a@example.com");
        assert_eq!(raw["openai-codex"]["access"], "eyJFAKE");
        assert_eq!(mode(&path), 0o600);
        // A new provider is added at the end.
        provider
            .put(&oauth("qwen", "q-A", "q-R", 8), Some(&v))
            .await
            .unwrap();
        assert_eq!(
            keys(&read_value(&path)),
            ["anthropic", "openai-codex", "qwen"]
        );
        let err = provider.put(&got, Some(&v)).await.unwrap_err();
        assert_error(&err, "CAS_MISMATCH", &["oauth.json"], &["sk-ant"]);
    }

    #[tokio::test]
    async fn bad_entries_name_the_provider_and_field() {
        let home = TempHome::new("legacy-bad");
        let provider = LegacyOAuthFileProvider::from_paths(&home.paths()).unwrap();
        let cases: &[(&str, &str)] = &[
            (
                r#"{"anthropic":{"access":"SEKRIT","expires":"soon"}}"#,
                "`anthropic.expires`: expected epoch milliseconds (a number), got a string",
            ),
            (
                r#"{"anthropic":{"refresh":"SEKRIT"}}"#,
                "`anthropic.access`: missing",
            ),
            (
                r#"{"anthropic":"SEKRIT"}"#,
                "`anthropic`: expected an object, got a string",
            ),
        ];
        for (text, needle) in cases {
            let path = home.write(".openclaw/credentials/oauth.json", text);
            let err = provider.get("anthropic").await.unwrap_err();
            assert_error(
                &err,
                "INVALID_SOURCE",
                &[needle, &path.display().to_string()],
                &["SEKRIT"],
            );
            assert_error(
                &provider.list().await.unwrap_err(),
                "INVALID_SOURCE",
                &[needle],
                &["SEKRIT"],
            );
            let err = provider
                .put(&oauth("anthropic", "NEWVAL", "r", 1), None)
                .await
                .unwrap_err();
            assert_error(&err, "INVALID_SOURCE", &[], &["SEKRIT", "NEWVAL"]);
            assert_eq!(std::fs::read_to_string(&path).unwrap(), *text);
        }
    }
}
