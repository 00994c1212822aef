//! OpenClaw's auth profiles, one file per agent: `<stateDir>/agents/<agentId>/agent/auth-profiles.json`
//! (`{"version": 1, "profiles": {"<provider>:<name>": {...}}, "order", "lastGood", "usageStats"}`).
//!
//! A profile is `{"type": "api_key", "provider", "key"}`, `{"type": "token", "provider", "token",
//! "expires"}` or `{"type": "oauth", "provider", "access", "refresh", "expires"}`. Names: the
//! profile id (`anthropic:work`), and the bare provider (`anthropic`), which resolves, per agent,
//! to `lastGood[provider]`, else the first of `order[provider]` that exists, else the first
//! profile of that provider. Agents are searched `main` first, then the others by name.
//!
//! Read-only: since mid-2026 OpenClaw keeps the live store in SQLite and imports this JSON once
//! (`openclaw doctor --fix`); it owns the tokens there. This package never refreshes or writes
//! the copy here (an OAuth refresh would spend the refresh token OpenClaw's store still holds).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::format::{read_object, Field, TimeUnit};
use super::formats::OPENCLAW_LEGACY_READ_ONLY;
use super::json_file::{read_json, JsonFile};
use super::typed::{at_path, invalid_source, json_path, typed};
use crate::credential::{
    fields, Credential, CredentialKind, CredentialVersion, ParsedFields, SecretFields, SourceGroup,
};
use crate::error::{Error, ErrorCode, Result};
use crate::openclaw::paths::OpenClawPaths;
use crate::providers::{CredentialProvider, Listing};

/// The agent OpenClaw uses when none is named.
pub const DEFAULT_AGENT: &str = "main";
/// The file's name inside `<stateDir>/agents/<agentId>/agent/`.
pub const FILE_NAME: &str = "auth-profiles.json";

/// The layout of `auth-profiles.json`. Profiles are read one by one (a broken profile fails only
/// itself); `usageStats` and unknown keys are not read and are kept on rewrite.
#[derive(Debug, Deserialize)]
#[serde(expecting = "an object")]
pub struct AuthProfilesFile {
    /// The file's format version (1).
    pub version: Option<u64>,
    /// Profile id (`anthropic:work`) to profile, unread until asked for (see [`PROFILE_TYPES`]).
    #[serde(default)]
    pub profiles: Map<String, Value>,
    /// Provider to profile ids, in the order OpenClaw tries them.
    pub order: Option<HashMap<String, Vec<String>>>,
    /// Provider to the profile id that last worked.
    #[serde(rename = "lastGood")]
    pub last_good: Option<HashMap<String, String>>,
}

/// What every profile has: its type and provider.
#[derive(Debug, Deserialize)]
#[serde(expecting = "an object")]
struct ProfileHead {
    #[serde(rename = "type")]
    kind: String,
    provider: Option<String>,
}

/// A profile type: its `type` string, the credential kind and its fields (read through the same
/// table machinery as the single-file formats).
#[derive(Debug)]
pub struct ProfileType {
    /// `api_key`, `token` or `oauth`.
    pub name: &'static str,
    /// The credential it is.
    pub kind: CredentialKind,
    /// Its fields besides `type` and `provider`.
    pub fields: &'static [Field],
}

/// Every profile type: `{"type": "api_key", "provider", "key"}`, `{"type": "token", "provider",
/// "token", "expires"}`, `{"type": "oauth", "provider", "access", "refresh", "expires"}`
/// (expiries in epoch milliseconds). Other fields (`email`, ...) are not read and are kept.
pub static PROFILE_TYPES: [ProfileType; 3] = [
    ProfileType {
        name: "api_key",
        kind: CredentialKind::ApiKey,
        fields: &[Field::secret("key", fields::API_KEY)],
    },
    ProfileType {
        name: "token",
        kind: CredentialKind::Token,
        fields: &[
            Field::secret("token", fields::TOKEN),
            Field::expiry("expires", TimeUnit::EpochMs),
        ],
    },
    ProfileType {
        name: "oauth",
        kind: CredentialKind::OAuth,
        fields: &[
            Field::secret("access", fields::ACCESS_TOKEN),
            Field::optional_secret("refresh", fields::REFRESH_TOKEN),
            Field::expiry("expires", TimeUnit::EpochMs),
        ],
    },
];

fn profile_type(name: &str) -> Option<&'static ProfileType> {
    PROFILE_TYPES.iter().find(|t| t.name == name)
}

/// One profile, read: its kind, provider, secrets, expiry.
#[derive(Debug)]
pub struct AuthProfile {
    /// What the profile's `type` makes it.
    pub kind: CredentialKind,
    /// Its `provider`, else the part of its id before `:`.
    pub provider: String,
    /// Its secret fields under the credential's names (`apiKey`, `token`, `accessToken`, ...).
    pub secrets: SecretFields,
    /// Its `expires`, epoch milliseconds.
    pub expires_at: Option<i64>,
}

/// The provider a profile belongs to: its `provider` field, else the id's part before `:`.
pub(crate) fn provider_of<'a>(id: &'a str, profile: &'a Value) -> &'a str {
    profile
        .get("provider")
        .and_then(Value::as_str)
        .unwrap_or_else(|| id.split(':').next().unwrap_or(id))
}

/// Reads profile `id` of an auth-profiles document (`doc`, named `what` in errors).
/// `Ok(None)` when there is no such profile.
pub fn parse_auth_profile(doc: &Value, what: &str, id: &str) -> Result<Option<AuthProfile>> {
    let Some(profile) = doc.get("profiles").and_then(|p| p.get(id)) else {
        return Ok(None);
    };
    let base = json_path("profiles", id);
    let head: ProfileHead = typed(profile, what, &base)?;
    let provider = head
        .provider
        .unwrap_or_else(|| provider_of(id, profile).to_string());
    let Some(profile_type) = profile_type(&head.kind) else {
        return Err(invalid_source(at_path(
            what,
            &json_path(&base, "type"),
            "expected `api_key`, `token` or `oauth`, got another string",
        )));
    };
    let object = profile.as_object().expect("ProfileHead checked an object");
    let read = read_object(profile_type.fields, object, what, &base)?;
    Ok(Some(AuthProfile {
        kind: profile_type.kind,
        provider,
        secrets: read.secrets,
        expires_at: read.expires_at,
    }))
}

/// The profile id a bare provider name resolves to in one agent's document:
/// `lastGood[provider]`, else the first existing id in `order[provider]`, else the first profile
/// whose provider it is. `None` when the agent has no profile of that provider.
pub fn resolve_provider(file: &AuthProfilesFile, provider: &str) -> Option<String> {
    let exists = |id: &String| file.profiles.contains_key(id);
    if let Some(id) = file
        .last_good
        .as_ref()
        .and_then(|g| g.get(provider))
        .filter(|id| exists(id))
    {
        return Some(id.clone());
    }
    if let Some(id) = file
        .order
        .as_ref()
        .and_then(|o| o.get(provider))
        .and_then(|ids| ids.iter().find(|id| exists(id)))
    {
        return Some(id.clone());
    }
    file.profiles
        .iter()
        .find(|(id, profile)| provider_of(id, profile) == provider)
        .map(|(id, _)| id.clone())
}

/// Every agent's `auth-profiles.json`, read-only ([`OPENCLAW_LEGACY_READ_ONLY`]).
#[derive(Debug, Clone)]
pub struct AuthProfilesProvider {
    state_dir: PathBuf,
    /// The typed layout of each agent's file, kept while the parse cache hands back the same
    /// parsed file: a 1,000-profile file is not deserialized again for every name asked for.
    layouts: Arc<Mutex<LayoutsByAgent>>,
}

/// Per agent: the typed layout of its file, and the parsed file it was read from.
type LayoutsByAgent = HashMap<String, AgentFile>;

/// One agent's `auth-profiles.json`: the parsed file and its typed layout.
#[derive(Debug, Clone)]
struct AgentFile {
    file: Arc<JsonFile>,
    layout: Arc<AuthProfilesFile>,
}

/// A profile found for a name: in which agent's file, under which id.
struct Found {
    agent: String,
    id: String,
    file: Arc<JsonFile>,
}

impl AuthProfilesProvider {
    /// The agents under `state_dir`.
    pub fn new(state_dir: impl Into<PathBuf>) -> Self {
        AuthProfilesProvider {
            state_dir: state_dir.into(),
            layouts: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The agents under `<stateDir>`; `None` without a state directory.
    pub fn from_paths(paths: &OpenClawPaths) -> Option<Self> {
        paths.state_dir.as_ref().map(Self::new)
    }

    /// The file of `agent`.
    pub fn file_of(&self, agent: &str) -> PathBuf {
        self.state_dir
            .join("agents")
            .join(agent)
            .join("agent")
            .join(FILE_NAME)
    }

    /// Agent ids with a folder under `<stateDir>/agents`: `main` first, then the others by name.
    pub fn agents(&self) -> Vec<String> {
        let mut agents: Vec<String> = std::fs::read_dir(self.state_dir.join("agents"))
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
                    .filter_map(|e| e.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
        agents.sort_by(|a, b| (a != DEFAULT_AGENT, a).cmp(&(b != DEFAULT_AGENT, b)));
        agents
    }

    fn read_agent(&self, agent: &str) -> Result<Option<AgentFile>> {
        let Some(file) = read_json(&self.file_of(agent))? else {
            return Ok(None);
        };
        let mut layouts = self.layouts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(seen) = layouts.get(agent) {
            if Arc::ptr_eq(&seen.file, &file) {
                return Ok(Some(seen.clone()));
            }
        }
        let layout: Arc<AuthProfilesFile> = Arc::new(typed(&file.json.0, &file.what(), "")?);
        let read = AgentFile { file, layout };
        layouts.insert(agent.to_string(), read.clone());
        Ok(Some(read))
    }

    /// The profile `name` is: an id in some agent, else a bare provider, agent by agent.
    fn find(&self, name: &str) -> Result<Option<Found>> {
        for agent in self.agents() {
            let Some(AgentFile { file, layout }) = self.read_agent(&agent)? else {
                continue;
            };
            let id = if layout.profiles.contains_key(name) {
                Some(name.to_string())
            } else {
                resolve_provider(&layout, name)
            };
            if let Some(id) = id {
                return Ok(Some(Found { agent, id, file }));
            }
        }
        Ok(None)
    }

    fn credential(&self, found: &Found, name: &str) -> Result<Credential> {
        let file = &found.file;
        let profile = parse_auth_profile(&file.json.0, &file.what(), &found.id)?
            .expect("find() returned an existing profile");
        let mut metadata = Map::new();
        metadata.insert("agent".into(), Value::from(found.agent.as_str()));
        metadata.insert("profileId".into(), Value::from(found.id.as_str()));
        metadata.insert("provider".into(), Value::from(profile.provider));
        let parsed = ParsedFields {
            kind: profile.kind,
            secrets: profile.secrets,
            expires_at: profile.expires_at,
            metadata,
        };
        let at = json_path("profiles", &found.id);
        Ok(file.credential(self.id(), Some(&at), name, parsed))
    }
}

#[async_trait]
impl CredentialProvider for AuthProfilesProvider {
    fn id(&self) -> &'static str {
        "auth-profiles"
    }

    fn group(&self) -> SourceGroup {
        SourceGroup::Files
    }

    async fn get(&self, name: &str) -> Result<Option<Credential>> {
        match self.find(name)? {
            Some(found) => self.credential(&found, name).map(Some),
            None => Ok(None),
        }
    }

    /// Every profile id, then every bare provider name, each once, where `get` would find it.
    /// Profiles are not checked here: a broken one fails when it is asked for.
    async fn list(&self) -> Result<Vec<Listing>> {
        let mut ids = Vec::new();
        let mut providers = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for agent in self.agents() {
            let Some(AgentFile { file, layout }) = self.read_agent(&agent)? else {
                continue;
            };
            let location =
                |id: &str| format!("{}#{}", file.path.display(), json_path("profiles", id));
            for (id, profile) in &layout.profiles {
                if seen.insert(id.clone()) {
                    ids.push(Listing {
                        name: id.clone(),
                        location: location(id),
                    });
                }
                let provider = provider_of(id, profile);
                if !layout.profiles.contains_key(provider) && !seen.contains(provider) {
                    if let Some(resolved) = resolve_provider(&layout, provider) {
                        seen.insert(provider.to_string());
                        providers.push(Listing {
                            name: provider.to_string(),
                            location: location(&resolved),
                        });
                    }
                }
            }
        }
        ids.extend(providers);
        Ok(ids)
    }

    /// Never: OpenClaw's retired file ([`OPENCLAW_LEGACY_READ_ONLY`]). `UNSUPPORTED_OPERATION`
    /// naming the credential, nothing written.
    async fn put(
        &self,
        credential: &Credential,
        _expected: Option<&CredentialVersion>,
    ) -> Result<CredentialVersion> {
        Err(Error::new(
            ErrorCode::UnsupportedOperation,
            format!(
                "credential \"{}\" in {FILE_NAME}: {OPENCLAW_LEGACY_READ_ONLY}",
                credential.name
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::support::*;
    use super::*;

    const MAIN: &str = r#"{
  "version": 1,
  "profiles": {
    "openai:default": {"type": "api_key", "provider": "openai", "key": "sk-proj-FAKE-main"},
    "anthropic:default": {"type": "oauth", "provider": "anthropic", "access": "sk-ant-oat01-FAKE-default", "refresh": "sk-ant-ort01-FAKE-default", "expires": 4102444800000},
    "anthropic:work": {"type": "oauth", "provider": "anthropic", "access": "sk-ant-oat01-FAKE-work", "refresh": "sk-ant-ort01-FAKE-work", "expires": 4102444800000, "email": "w@example.com"},
    "minimax:default": {"type": "token", "provider": "minimax", "token": "mm-FAKE-token", "expires": 4102444800000}
  },
  "order": {"anthropic": ["anthropic:gone", "anthropic:work", "anthropic:default"]},
  "lastGood": {},
  "usageStats": {"anthropic:work": {"lastUsed": 1767225600000, "errorCount": 0}}
}
"#;

    const OTHER: &str = r#"{
  "version": 1,
  "profiles": {
    "openai:default": {"type": "api_key", "provider": "openai", "key": "sk-proj-FAKE-other"},
    "openrouter:default": {"type": "api_key", "provider": "openrouter", "key": "sk-or-FAKE"}
  }
}"#;

    fn setup(name: &str) -> (TempHome, AuthProfilesProvider) {
        let home = TempHome::new(name);
        home.write(".openclaw/agents/main/agent/auth-profiles.json", MAIN);
        home.write(".openclaw/agents/alpha/agent/auth-profiles.json", OTHER);
        std::fs::create_dir_all(home.0.join(".openclaw/agents/empty")).unwrap();
        let provider = AuthProfilesProvider::from_paths(&home.paths()).unwrap();
        (home, provider)
    }

    #[tokio::test]
    async fn reads_profiles_by_id_and_by_provider() {
        let (home, provider) = setup("ap-read");
        assert_eq!(provider.agents(), ["main", "alpha", "empty"]);
        let main_file = home
            .0
            .join(".openclaw/agents/main/agent/auth-profiles.json");

        let work = provider.get("anthropic:work").await.unwrap().unwrap();
        assert_eq!(work.kind, CredentialKind::OAuth);
        assert_eq!(secret(&work, "accessToken"), "sk-ant-oat01-FAKE-work");
        assert_eq!(work.metadata["agent"], "main");
        assert_eq!(work.metadata["profileId"], "anthropic:work");
        assert_eq!(work.metadata["provider"], "anthropic");
        assert_eq!(
            work.source.location,
            format!("{}#profiles.anthropic:work", main_file.display())
        );
        assert_eq!(work.source.provider, "auth-profiles");

        // Bare provider: the first existing id of `order` (no lastGood).
        let bare = provider.get("anthropic").await.unwrap().unwrap();
        assert_eq!(bare.name, "anthropic");
        assert_eq!(bare.metadata["profileId"], "anthropic:work");
        // lastGood wins over order.
        let text = MAIN.replace(
            r#""lastGood": {}"#,
            r#""lastGood": {"anthropic": "anthropic:default"}"#,
        );
        home.write(".openclaw/agents/main/agent/auth-profiles.json", &text);
        let bare = provider.get("anthropic").await.unwrap().unwrap();
        assert_eq!(secret(&bare, "accessToken"), "sk-ant-oat01-FAKE-default");

        // Neither: the first profile of the provider. Main first for a provider both agents have.
        let key = provider.get("openai").await.unwrap().unwrap();
        assert_eq!(key.kind, CredentialKind::ApiKey);
        assert_eq!(secret(&key, "apiKey"), "sk-proj-FAKE-main");
        let token = provider.get("minimax").await.unwrap().unwrap();
        assert_eq!(token.kind, CredentialKind::Token);
        assert_eq!(secret(&token, "token"), "mm-FAKE-token");
        assert_eq!(token.expires_at, Some(4_102_444_800_000));
        // Only in another agent.
        let or = provider.get("openrouter").await.unwrap().unwrap();
        assert_eq!(or.metadata["agent"], "alpha");
        assert_eq!(or.metadata["profileId"], "openrouter:default");
        assert!(provider.get("qwen").await.unwrap().is_none());
        assert!(provider.get("anthropic:gone").await.unwrap().is_none());

        let listed = provider.list().await.unwrap();
        let names: Vec<_> = listed.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "openai:default",
                "anthropic:default",
                "anthropic:work",
                "minimax:default",
                "openrouter:default",
                "openai",
                "anthropic",
                "minimax",
                "openrouter"
            ]
        );
        let anthropic = listed.iter().find(|l| l.name == "anthropic").unwrap();
        assert!(
            anthropic.location.ends_with("#profiles.anthropic:default"),
            "{}",
            anthropic.location
        );
        assert!(!format!("{listed:?}").contains("FAKE"));

        // No agents at all.
        let empty = TempHome::new("ap-none");
        let none = AuthProfilesProvider::from_paths(&empty.paths()).unwrap();
        assert!(none.get("anthropic").await.unwrap().is_none());
        assert!(none.list().await.unwrap().is_empty());
    }

    // Review finding: legacy OAuth profiles were refreshed and written back in place, spending
    // the refresh token OpenClaw's SQLite store still holds. The file is read-only now.
    #[tokio::test]
    async fn the_retired_file_is_never_written() {
        let (home, provider) = setup("ap-readonly");
        let path = home
            .0
            .join(".openclaw/agents/main/agent/auth-profiles.json");
        let before = std::fs::read(&path).unwrap();
        assert!(!provider.writable());
        let got = provider.get("anthropic").await.unwrap().unwrap();
        for credential in [
            refreshed(&got, "sk-ant-oat01-NEW", "sk-ant-ort01-NEW", 5),
            provider.get("minimax:default").await.unwrap().unwrap(),
            oauth("nobody", "NEWVAL", "r", 1),
        ] {
            let err = provider
                .put(&credential, Some(&got.version))
                .await
                .unwrap_err();
            assert_error(
                &err,
                "UNSUPPORTED_OPERATION",
                &["auth-profiles.json", "openclaw models auth login"],
                &["sk-ant", "NEWVAL", "mm-"],
            );
        }
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }

    #[tokio::test]
    async fn bad_profiles_name_the_profile_and_field() {
        let home = TempHome::new("ap-bad");
        let provider = AuthProfilesProvider::from_paths(&home.paths()).unwrap();
        let file = ".openclaw/agents/main/agent/auth-profiles.json";
        let cases: &[(&str, &str)] = &[
            (r#"{"profiles":{"anthropic:work":{"type":"oauth","provider":"anthropic","access":"SEKRIT","expires":"soon"}}}"#,
             "`profiles.anthropic:work.expires`: expected epoch milliseconds (a number), got a string"),
            (r#"{"profiles":{"anthropic:work":{"type":"oauth","provider":"anthropic","refresh":"SEKRIT"}}}"#,
             "`profiles.anthropic:work.access`: missing"),
            (r#"{"profiles":{"anthropic:work":{"type":"sekrit-type","provider":"anthropic","access":"SEKRIT"}}}"#,
             "`profiles.anthropic:work.type`: expected `api_key`, `token` or `oauth`"),
            (r#"{"profiles":{"anthropic:work":{"provider":"anthropic","access":"SEKRIT"}}}"#,
             "`profiles.anthropic:work.type`: missing"),
            (r#"{"profiles":{"anthropic:work":"SEKRIT"}}"#, "`profiles.anthropic:work`: expected an object, got a string"),
            (r#"{"profiles":["SEKRIT"]}"#, "`profiles`: expected a map, got an array"),
            (r#"{"profiles":{"anthropic:work":{"type":"oauth","access":"SEKRIT"}},"lastGood":{"anthropic":3}}"#,
             "`lastGood.anthropic`: expected a string, got a number"),
        ];
        for (text, needle) in cases {
            let path = home.write(file, text);
            let err = provider.get("anthropic:work").await.unwrap_err();
            assert_error(
                &err,
                "INVALID_SOURCE",
                &[needle, &path.display().to_string()],
                &["SEKRIT", "sekrit"],
            );
            assert_eq!(std::fs::read_to_string(&path).unwrap(), *text);
        }
        // A broken profile fails only itself.
        home.write(
            file,
            r#"{"profiles":{"anthropic:work":{"type":"oauth","access":7},"openai:default":{"type":"api_key","key":"sk-x"}}}"#,
        );
        assert!(provider.get("openai").await.unwrap().is_some());
        assert_eq!(provider.list().await.unwrap().len(), 4);
    }
}
