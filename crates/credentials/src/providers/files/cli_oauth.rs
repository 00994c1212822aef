//! The `oauth_creds.json` that Qwen Code (`~/.qwen/`), MiniMax (`~/.minimax/`) and Gemini CLI
//! (`~/.gemini/`) keep: `access_token`, `refresh_token`, `token_type`, `expiry_date` (epoch ms),
//! and optionally `resource_url`, `id_token`, `scope`.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{read_json, rewrite, set, typed, EpochMs, JsonFile, SecretText};
use crate::credential::{
    fields, Credential, CredentialKind, CredentialVersion, ParsedFields, SecretFields, SourceGroup,
};
use crate::error::{Error, Result};
use crate::openclaw::paths::OpenClawPaths;
use crate::providers::{CredentialProvider, Listing};

/// Which CLI's file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CliOAuth {
    /// Qwen Code: `~/.qwen/oauth_creds.json`, credential `qwen`.
    Qwen,
    /// MiniMax: `~/.minimax/oauth_creds.json`, credential `minimax`.
    MiniMax,
    /// Gemini CLI: `~/.gemini/oauth_creds.json`, credential `gemini` (alias `gemini-cli`).
    GeminiCli,
}

impl CliOAuth {
    /// Every CLI, in the chain's order.
    pub const ALL: [CliOAuth; 3] = [CliOAuth::Qwen, CliOAuth::MiniMax, CliOAuth::GeminiCli];

    /// The provider id: `qwen`, `minimax`, `gemini-cli`.
    pub fn id(self) -> &'static str {
        match self {
            CliOAuth::Qwen => "qwen",
            CliOAuth::MiniMax => "minimax",
            CliOAuth::GeminiCli => "gemini-cli",
        }
    }

    /// The credential name: `qwen`, `minimax`, `gemini`.
    pub fn credential_name(self) -> &'static str {
        match self {
            CliOAuth::Qwen => "qwen",
            CliOAuth::MiniMax => "minimax",
            CliOAuth::GeminiCli => "gemini",
        }
    }

    /// The CLI's folder in the user's home.
    pub fn home_dir(self) -> &'static str {
        match self {
            CliOAuth::Qwen => ".qwen",
            CliOAuth::MiniMax => ".minimax",
            CliOAuth::GeminiCli => ".gemini",
        }
    }

    /// The CLI's name, for messages.
    pub fn tool(self) -> &'static str {
        match self {
            CliOAuth::Qwen => "Qwen Code",
            CliOAuth::MiniMax => "MiniMax",
            CliOAuth::GeminiCli => "Gemini CLI",
        }
    }

    fn answers(self, name: &str) -> bool {
        name == self.credential_name() || name == self.id()
    }
}

/// The layout of `oauth_creds.json`. Unknown fields are not read and are kept on rewrite.
#[derive(Debug, Deserialize)]
#[serde(expecting = "an object")]
pub struct OAuthCredsFile {
    pub access_token: SecretText,
    pub refresh_token: Option<SecretText>,
    /// `Bearer`.
    pub token_type: Option<String>,
    /// Epoch milliseconds.
    pub expiry_date: Option<EpochMs>,
    /// Qwen's API host for this account (`portal.qwen.ai`).
    pub resource_url: Option<String>,
    pub id_token: Option<SecretText>,
    /// Space-separated OAuth scopes (Gemini CLI).
    pub scope: Option<String>,
}

/// Reads an `oauth_creds.json` document (named `what` in errors) as an OAuth credential, with
/// `tokenType`, `resourceUrl` and `scope` as metadata.
pub fn parse_oauth_creds(doc: &Value, what: &str) -> Result<ParsedFields> {
    let file: OAuthCredsFile = typed(doc, what, "")?;
    let mut secrets = SecretFields::new();
    secrets.insert(fields::ACCESS_TOKEN, file.access_token.0);
    if let Some(refresh) = file.refresh_token {
        secrets.insert(fields::REFRESH_TOKEN, refresh.0);
    }
    if let Some(id) = file.id_token {
        secrets.insert(fields::ID_TOKEN, id.0);
    }
    let mut metadata = Map::new();
    for (key, value) in [
        ("tokenType", file.token_type),
        ("resourceUrl", file.resource_url),
        ("scope", file.scope),
    ] {
        if let Some(v) = value {
            metadata.insert(key.into(), Value::from(v));
        }
    }
    Ok(ParsedFields {
        kind: CredentialKind::OAuth,
        secrets,
        expires_at: file.expiry_date.map(|e| e.0),
        metadata,
    })
}

/// Writes `credential`'s tokens into an `oauth_creds.json` document (`existing`, or a new one):
/// `access_token`, and `refresh_token`, `id_token`, `expiry_date` when the credential has them,
/// change in place; every other field is kept. A new file also gets `token_type: "Bearer"` and
/// `resource_url` from the metadata.
pub fn merge_oauth_creds(existing: Option<&Value>, credential: &Credential) -> Result<Value> {
    let access = credential
        .secrets
        .get(fields::ACCESS_TOKEN)
        .ok_or_else(|| {
            Error::invalid_argument(format!(
                "oauth_creds.json holds OAuth tokens: the credential needs `{}`",
                fields::ACCESS_TOKEN
            ))
        })?;
    let mut root = match existing {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    };
    let is_new = root.is_empty();
    set(
        &mut root,
        "access_token",
        Value::from(access.expose_secret()),
    );
    if let Some(refresh) = credential.secrets.get(fields::REFRESH_TOKEN) {
        set(
            &mut root,
            "refresh_token",
            Value::from(refresh.expose_secret()),
        );
    }
    if let Some(id) = credential.secrets.get(fields::ID_TOKEN) {
        set(&mut root, "id_token", Value::from(id.expose_secret()));
    }
    if let Some(at) = credential.expires_at {
        set(&mut root, "expiry_date", Value::from(at));
    }
    if is_new {
        let token_type = credential
            .metadata
            .get("tokenType")
            .cloned()
            .unwrap_or_else(|| Value::from("Bearer"));
        set(&mut root, "token_type", token_type);
        if let Some(url) = credential.metadata.get("resourceUrl") {
            set(&mut root, "resource_url", url.clone());
        }
    }
    Ok(Value::Object(root))
}

/// One CLI's `oauth_creds.json` as an OAuth credential. Writable.
#[derive(Debug, Clone)]
pub struct CliOAuthFileProvider {
    cli: CliOAuth,
    path: PathBuf,
}

impl CliOAuthFileProvider {
    /// `cli`'s file at `path`.
    pub fn new(cli: CliOAuth, path: impl Into<PathBuf>) -> Self {
        CliOAuthFileProvider {
            cli,
            path: path.into(),
        }
    }

    /// `~/<cli dir>/oauth_creds.json`; `None` without a home.
    pub fn from_paths(cli: CliOAuth, paths: &OpenClawPaths) -> Option<Self> {
        paths
            .in_user_home(cli.home_dir())
            .map(|d| Self::new(cli, d.join("oauth_creds.json")))
    }

    /// Which CLI this file belongs to.
    pub fn cli(&self) -> CliOAuth {
        self.cli
    }

    /// The file this provider reads and writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn credential(&self, file: &JsonFile, name: &str) -> Result<Credential> {
        let parsed = parse_oauth_creds(&file.json.0, &file.what())?;
        Ok(file.credential(self.cli.id(), None, name, parsed))
    }
}

#[async_trait]
impl CredentialProvider for CliOAuthFileProvider {
    fn id(&self) -> &'static str {
        self.cli.id()
    }

    fn group(&self) -> SourceGroup {
        SourceGroup::Files
    }

    async fn get(&self, name: &str) -> Result<Option<Credential>> {
        if !self.cli.answers(name) {
            return Ok(None);
        }
        match read_json(&self.path)? {
            Some(file) => self.credential(&file, name).map(Some),
            None => Ok(None),
        }
    }

    async fn list(&self) -> Result<Vec<Listing>> {
        let Some(file) = read_json(&self.path)? else {
            return Ok(Vec::new());
        };
        self.credential(&file, self.cli.credential_name())?;
        Ok(vec![Listing {
            name: self.cli.credential_name().to_string(),
            location: self.path.display().to_string(),
        }])
    }

    fn writable(&self) -> bool {
        true
    }

    /// Rewrites the tokens (see [`merge_oauth_creds`]) when the file is still at `expected`.
    async fn put(
        &self,
        credential: &Credential,
        expected: Option<&CredentialVersion>,
    ) -> Result<CredentialVersion> {
        if !self.cli.answers(&credential.name) {
            return Err(Error::invalid_argument(format!(
                "{}'s oauth_creds.json holds only `{}`, not `{}`",
                self.cli.tool(),
                self.cli.credential_name(),
                credential.name
            )));
        }
        let credential = credential.clone();
        rewrite(self.path.clone(), expected.cloned(), move |current| {
            if let Some(file) = current {
                parse_oauth_creds(&file.json.0, &file.what())?;
            }
            merge_oauth_creds(current.map(|f| &f.json.0), &credential)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    const QWEN: &str = r#"{
  "access_token": "qwen-FAKE-ACCESS",
  "token_type": "Bearer",
  "refresh_token": "qwen-FAKE-REFRESH",
  "resource_url": "portal.qwen.ai",
  "expiry_date": 4102444800000,
  "extra_field": {"kept": true}
}"#;

    const GEMINI: &str = r#"{"access_token":"ya29.FAKE","refresh_token":"1//FAKE","scope":"openid https://www.googleapis.com/auth/cloud-platform","token_type":"Bearer","id_token":"eyJFAKE","expiry_date":1700000000000}"#;

    fn provider(home: &TempHome, cli: CliOAuth) -> CliOAuthFileProvider {
        CliOAuthFileProvider::from_paths(cli, &home.paths()).unwrap()
    }

    #[tokio::test]
    async fn each_cli_is_read_under_its_names() {
        let home = TempHome::new("cli-read");
        home.write(".qwen/oauth_creds.json", QWEN);
        home.write(
            ".minimax/oauth_creds.json",
            QWEN.replace("qwen", "minimax").as_str(),
        );
        let gemini_path = home.write(".gemini/oauth_creds.json", GEMINI);

        let qwen = provider(&home, CliOAuth::Qwen)
            .get("qwen")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(qwen.kind, CredentialKind::OAuth);
        assert_eq!(secret(&qwen, "accessToken"), "qwen-FAKE-ACCESS");
        assert_eq!(secret(&qwen, "refreshToken"), "qwen-FAKE-REFRESH");
        assert_eq!(qwen.expires_at, Some(4_102_444_800_000));
        assert_eq!(qwen.metadata["resourceUrl"], "portal.qwen.ai");
        assert_eq!(qwen.metadata["tokenType"], "Bearer");
        assert!(qwen.metadata.get("extra_field").is_none());
        assert_eq!(qwen.source.provider, "qwen");

        let minimax = provider(&home, CliOAuth::MiniMax)
            .get("minimax")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(secret(&minimax, "accessToken"), "minimax-FAKE-ACCESS");
        assert_eq!(minimax.source.provider, "minimax");

        let gemini = provider(&home, CliOAuth::GeminiCli);
        for name in ["gemini", "gemini-cli"] {
            let got = gemini.get(name).await.unwrap().unwrap();
            assert_eq!(got.name, name);
            assert_eq!(secret(&got, "idToken"), "eyJFAKE");
            assert_eq!(got.source.provider, "gemini-cli");
            assert_eq!(got.source.location, gemini_path.display().to_string());
            // Expired tokens are still read; the chain decides to refresh.
            assert_eq!(got.expires_at, Some(1_700_000_000_000));
        }
        assert!(gemini.get("qwen").await.unwrap().is_none());
        assert!(provider(&home, CliOAuth::Qwen)
            .get("gemini")
            .await
            .unwrap()
            .is_none());

        let listed = gemini.list().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].name, "gemini");
        assert_eq!(listed[0].location, gemini_path.display().to_string());
        let empty = TempHome::new("cli-empty");
        assert!(provider(&empty, CliOAuth::Qwen)
            .list()
            .await
            .unwrap()
            .is_empty());
        assert!(provider(&empty, CliOAuth::Qwen)
            .get("qwen")
            .await
            .unwrap()
            .is_none());
    }

    #[tokio::test]
    async fn write_back_keeps_unknown_fields_order_and_mode() {
        let home = TempHome::new("cli-write");
        let path = home.write(".qwen/oauth_creds.json", QWEN);
        let qwen = provider(&home, CliOAuth::Qwen);
        let got = qwen.get("qwen").await.unwrap().unwrap();
        let version = qwen
            .put(
                &refreshed(&got, "qwen-NEW", "qwen-NEW-R", 4_200_000_000_000),
                Some(&got.version),
            )
            .await
            .unwrap();
        let raw = read_value(&path);
        assert_eq!(
            keys(&raw),
            [
                "access_token",
                "token_type",
                "refresh_token",
                "resource_url",
                "expiry_date",
                "extra_field"
            ]
        );
        assert_eq!(raw["access_token"], "qwen-NEW");
        assert_eq!(raw["refresh_token"], "qwen-NEW-R");
        assert_eq!(raw["expiry_date"], 4_200_000_000_000i64);
        assert_eq!(raw["extra_field"]["kept"], true);
        assert_eq!(mode(&path), 0o600);
        // Written a second time with the stale version: refused, file unchanged.
        let before = std::fs::read(&path).unwrap();
        let err = qwen
            .put(&refreshed(&got, "qwen-X", "y", 1), Some(&got.version))
            .await
            .unwrap_err();
        assert_error(&err, "CAS_MISMATCH", &["oauth_creds.json"], &["qwen-X"]);
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert_eq!(qwen.get("qwen").await.unwrap().unwrap().version, version);

        // A new file for a CLI that had none.
        let minimax = provider(&home, CliOAuth::MiniMax);
        minimax
            .put(&oauth("minimax", "mm-A", "mm-R", 9), None)
            .await
            .unwrap();
        let raw = read_value(minimax.path());
        assert_eq!(
            keys(&raw),
            ["access_token", "refresh_token", "expiry_date", "token_type"]
        );
        assert_eq!(raw["token_type"], "Bearer");
        let err = minimax
            .put(&oauth("qwen", "a", "r", 1), None)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "INVALID_ARGUMENT");
    }

    #[tokio::test]
    async fn bad_files_name_the_field_and_are_never_rewritten() {
        let home = TempHome::new("cli-bad");
        let gemini = provider(&home, CliOAuth::GeminiCli);
        let cases: &[(&str, &str)] = &[
            (
                r#"{"access_token":"x","expiry_date":"SEKRIT"}"#,
                "`expiry_date`: expected epoch milliseconds (a number), got a string",
            ),
            (r#"{"refresh_token":"SEKRIT"}"#, "`access_token`: missing"),
            (
                r#"{"access_token":["SEKRIT"]}"#,
                "`access_token`: expected a non-empty string, got an array",
            ),
            (
                r#"{"access_token":"x","id_token":{"SEKRIT":1}}"#,
                "`id_token`: expected a non-empty string, got an object",
            ),
            (
                r#"{"access_token":"SEKRIT","token_type":5}"#,
                "`token_type`: expected a string, got a number",
            ),
            (
                r#""SEKRIT""#,
                "expected a JSON object at the top level, got a string",
            ),
            (r#"{"access_token": SEKRIT}"#, "is not valid JSON"),
        ];
        for (text, needle) in cases {
            let path = home.write(".gemini/oauth_creds.json", text);
            let err = gemini.get("gemini").await.unwrap_err();
            assert_error(
                &err,
                "INVALID_SOURCE",
                &[needle, &path.display().to_string()],
                &["SEKRIT"],
            );
            let err = gemini
                .put(&oauth("gemini", "NEWVAL", "r", 1), None)
                .await
                .unwrap_err();
            assert_error(&err, "INVALID_SOURCE", &[], &["SEKRIT", "NEWVAL"]);
            assert_eq!(std::fs::read_to_string(&path).unwrap(), *text);
        }
    }
}
