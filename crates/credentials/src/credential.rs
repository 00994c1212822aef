//! A credential as `getCredential` returns it: what it is, where it came from, and its secret
//! fields, which stay in `SecretString`s (redacted in `Debug`, wiped on drop) until a caller asks
//! for them by name.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// What a credential is used as. Field names of the secret parts follow from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialKind {
    /// A static API key: secret field `apiKey`.
    ApiKey,
    /// A bearer or bot token: secret field `token`.
    Token,
    /// OAuth tokens: `accessToken`, usually `refreshToken`, sometimes `idToken`; `expiresAt`.
    OAuth,
}

impl CredentialKind {
    /// `api_key`, `token` or `oauth`: the names OpenClaw's auth profiles use.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::ApiKey => "api_key",
            CredentialKind::Token => "token",
            CredentialKind::OAuth => "oauth",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "api_key" => Some(CredentialKind::ApiKey),
            "token" => Some(CredentialKind::Token),
            "oauth" => Some(CredentialKind::OAuth),
            _ => None,
        }
    }

    /// The secret field that holds the credential's main value.
    pub fn primary_field(self) -> &'static str {
        match self {
            CredentialKind::ApiKey => fields::API_KEY,
            CredentialKind::Token => fields::TOKEN,
            CredentialKind::OAuth => fields::ACCESS_TOKEN,
        }
    }
}

/// Canonical secret field names (camelCase, as JS reads them).
pub mod fields {
    pub const API_KEY: &str = "apiKey";
    pub const TOKEN: &str = "token";
    pub const ACCESS_TOKEN: &str = "accessToken";
    pub const REFRESH_TOKEN: &str = "refreshToken";
    pub const ID_TOKEN: &str = "idToken";
}

/// What happens when a remote store (Vault) is configured but fails (unreachable, denied, sealed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// Go on to the local sources (and say so in the audit log).
    Local,
    /// Fail: a remote store's failure is an error, never a silent fallback.
    None,
}

/// The group a provider belongs to; `order` in the config and per call is written in these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceGroup {
    Vault,
    Keychain,
    Files,
    Env,
}

impl SourceGroup {
    pub const DEFAULT_ORDER: [SourceGroup; 4] = [
        SourceGroup::Vault,
        SourceGroup::Keychain,
        SourceGroup::Files,
        SourceGroup::Env,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SourceGroup::Vault => "vault",
            SourceGroup::Keychain => "keychain",
            SourceGroup::Files => "files",
            SourceGroup::Env => "env",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "vault" => Some(SourceGroup::Vault),
            "keychain" => Some(SourceGroup::Keychain),
            "files" => Some(SourceGroup::Files),
            "env" => Some(SourceGroup::Env),
            _ => None,
        }
    }
}

/// Where a credential was found: the provider (`vault`, `claude-code`, `env`, ...) and the exact
/// place inside it (a file path, a Vault path, a keychain service, a variable name, a JSON path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialSource {
    pub provider: &'static str,
    pub group: SourceGroup,
    /// Human-readable place, e.g. `/home/u/.claude/.credentials.json` or `secret/openclaw/credentials/anthropic`.
    pub location: String,
    /// The file, when the source is one; watched for rotation and locked for refresh.
    pub file: Option<PathBuf>,
    /// The Vault layer that answered (`agent:<id>`, `team:<name>` or `default`), when the
    /// read named an agent or a team (see [`crate::layers`]); `None` otherwise.
    pub layer: Option<String>,
}

/// What identifies one state of a credential at its source, for cas write-back and rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialVersion {
    /// KV v2 `version` of the secret (0 on KV v1, which has none).
    Vault(u64),
    /// A local file's identity and change stamps: device, inode, modification and status-change
    /// times (ns since the epoch) and length. All of them together: a same-length rewrite with
    /// the old mtime (restored by `touch -d`/`utimes`) still changes the ctime, and a file
    /// replaced by rename has a new inode.
    File {
        /// Modification time, ns since the epoch.
        modified_ns: u128,
        /// Length in bytes.
        len: u64,
        /// Device and inode (0 where the platform has none).
        dev: u64,
        /// Inode number.
        ino: u64,
        /// Status-change time, ns since the epoch (0 where the platform has none).
        ctime_ns: i128,
    },
    /// Sources with no notion of version (env, keychain).
    None,
}

/// Secret fields by name. `Debug` lists names only. A field may hold the JSON text of a
/// non-string value (an object like `oauthClient: {clientSecret}`): it stays secret, and a write
/// back restores it as the JSON value it was ([`SecretFields::is_json`]).
#[derive(Clone, Default)]
pub struct SecretFields(BTreeMap<String, SecretString>, BTreeSet<String>);

impl SecretFields {
    pub fn new() -> Self {
        SecretFields::default()
    }

    pub fn insert(&mut self, name: impl Into<String>, value: SecretString) {
        let name = name.into();
        self.1.remove(&name);
        self.0.insert(name, value);
    }

    /// Keeps a non-string value (object, array, number, bool) as a secret field holding its JSON.
    pub fn insert_json(&mut self, name: impl Into<String>, value: &Value) {
        let name = name.into();
        self.0
            .insert(name.clone(), SecretString::from(value.to_string()));
        self.1.insert(name);
    }

    /// Whether `name` holds the JSON text of a non-string value.
    pub fn is_json(&self, name: &str) -> bool {
        self.1.contains(name)
    }

    pub fn insert_str(&mut self, name: impl Into<String>, value: &str) {
        self.insert(name, SecretString::from(value.to_string()));
    }

    pub fn get(&self, name: &str) -> Option<&SecretString> {
        self.0.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &SecretString)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// True when both hold the same fields with the same values (the JSON-ness of a field
    /// included): the same secret, whatever the non-secret metadata around it.
    pub fn same_values(&self, other: &SecretFields) -> bool {
        self.0.len() == other.0.len()
            && self.1 == other.1
            && self.0.iter().all(|(k, v)| {
                other
                    .0
                    .get(k)
                    .is_some_and(|o| o.expose_secret() == v.expose_secret())
            })
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when both hold the same names with the same values (compared without copying out).
    pub fn same_as(&self, other: &SecretFields) -> bool {
        self.0.len() == other.0.len()
            && self.1 == other.1
            && self
                .0
                .iter()
                .zip(other.0.iter())
                .all(|((ka, va), (kb, vb))| ka == kb && va.expose_secret() == vb.expose_secret())
    }
}

impl fmt::Debug for SecretFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, "[REDACTED]")))
            .finish()
    }
}

/// A credential's value as a person gives it, for [`Credential::from_input`]. No `Debug`: it
/// holds the value.
#[derive(Clone, Copy)]
pub enum CredentialInput<'a> {
    /// The text of a JSON object of fields, in any spelling [`from_fields`] reads
    /// (`{"accessToken": ..., "refreshToken": ..., "expiresAt": ...}`, and `kind`).
    Fields(&'a str),
    /// One raw value: the main field of `kind` (`apiKey`, `token` or `accessToken`).
    Value {
        /// What the value is.
        kind: CredentialKind,
        /// The value itself.
        value: &'a str,
    },
}

/// One credential. Everything but `secrets` is safe to log.
#[derive(Debug, Clone)]
pub struct Credential {
    /// The name asked for (`anthropic`, `telegram`, `openai`, `anthropic:work`, ...).
    pub name: String,
    pub kind: CredentialKind,
    pub source: CredentialSource,
    /// Epoch milliseconds, for tokens that expire.
    pub expires_at: Option<i64>,
    /// Non-secret facts (`scopes`, `subscriptionType`, `provider`, `accountId`, ...).
    pub metadata: Map<String, Value>,
    pub secrets: SecretFields,
    pub version: CredentialVersion,
    /// Vault's `request_id` of the read that produced it, for the audit log.
    pub request_id: Option<String>,
}

impl Credential {
    /// The main secret value (`apiKey`, `token` or `accessToken`).
    pub fn primary(&self) -> Option<&SecretString> {
        self.secrets.get(self.kind.primary_field())
    }

    /// True when the credential expires within `margin_ms` of `now_ms` (or has expired).
    pub fn expires_within(&self, now_ms: i64, margin_ms: i64) -> bool {
        matches!(self.expires_at, Some(at) if at - margin_ms <= now_ms)
    }

    /// `text` with every secret value of this credential (of 4 characters or more) replaced by
    /// `[REDACTED]`: for text from outside the core, such as a refresh callback's error, that
    /// may quote them.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (_, value) in self.secrets.iter() {
            let v = value.expose_secret();
            if v.len() >= 4 {
                out = out.replace(v, "[REDACTED]");
            }
        }
        out
    }

    /// The credential `name` as a person gave it (`openclaw-vault put`), to be written with
    /// `CredentialChain::put`: its source is `cli`, located at `what` (the file or `stdin`), with
    /// no version.
    ///
    /// Errors: `INVALID_ARGUMENT` naming `what` (never the value) for text that is not a JSON
    /// object; `from_fields`' `INVALID_SOURCE` for a field of the wrong type or without the
    /// kind's main field.
    pub fn from_input(name: &str, input: CredentialInput<'_>, what: &str) -> Result<Credential> {
        let parsed = match input {
            CredentialInput::Fields(text) => {
                let parsed: Value = serde_json::from_str(text).map_err(|e| {
                    // The position only: the text is the secret being stored.
                    let s = crate::scrub::scrub(&e);
                    Error::invalid_argument(format!(
                        "{what}: not a JSON object of fields (line {}, column {})",
                        s.line, s.column
                    ))
                })?;
                let Value::Object(object) = parsed else {
                    return Err(Error::invalid_argument(format!(
                        "{what}: expected a JSON object of fields"
                    )));
                };
                from_fields(&object, what)?
            }
            CredentialInput::Value { kind, value } => {
                let mut secrets = SecretFields::new();
                secrets.insert_str(kind.primary_field(), value);
                ParsedFields {
                    kind,
                    secrets,
                    expires_at: None,
                    metadata: Map::new(),
                }
            }
        };
        Ok(parsed.into_credential(
            name,
            CredentialSource {
                provider: "cli",
                group: SourceGroup::Vault,
                location: what.to_string(),
                file: None,
                layer: None,
            },
            CredentialVersion::None,
        ))
    }

    /// The data written to Vault for this credential (the layout `VaultProvider` reads back):
    /// `kind`, every secret field, `expiresAt` when set, non-secret `metadata` as an object.
    pub fn to_vault_data(&self) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("kind".into(), Value::String(self.kind.as_str().into()));
        for (name, value) in self.secrets.iter() {
            let text = value.expose_secret();
            let value = match self.secrets.is_json(name) {
                // Written back as the JSON value it was read as (the secret's layout is kept).
                true => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.into())),
                false => Value::String(text.to_string()),
            };
            map.insert(name.into(), value);
        }
        if let Some(at) = self.expires_at {
            map.insert("expiresAt".into(), Value::from(at));
        }
        if !self.metadata.is_empty() {
            map.insert("metadata".into(), Value::Object(self.metadata.clone()));
        }
        map
    }
}

/// A credential's parts as a source's parser read them: everything but its name, where it was
/// found and its version. [`from_fields`] and the local file formats produce it.
#[derive(Debug, Clone)]
pub struct ParsedFields {
    /// What the credential is used as.
    pub kind: CredentialKind,
    /// Its secret fields under their canonical names ([`fields`]).
    pub secrets: SecretFields,
    /// When it expires, epoch milliseconds; `None` when the source records no expiry.
    pub expires_at: Option<i64>,
    /// Non-secret facts (`scopes`, `provider`, `accountId`, ...).
    pub metadata: Map<String, Value>,
}

impl ParsedFields {
    /// The credential `name`, found at `source` in state `version` (no Vault `request_id`).
    pub fn into_credential(
        self,
        name: &str,
        source: CredentialSource,
        version: CredentialVersion,
    ) -> Credential {
        Credential {
            name: name.to_string(),
            kind: self.kind,
            source,
            expires_at: self.expires_at,
            metadata: self.metadata,
            secrets: self.secrets,
            version,
            request_id: None,
        }
    }
}

/// Builds the secret fields and kind of a credential from a JSON object that uses any of the
/// spellings found in the wild: this package's own (`apiKey`, `token`, `accessToken`, ...),
/// OpenClaw auth profiles (`key`, `access`, `refresh`, `expires`), OAuth files (`access_token`,
/// `refresh_token`, `expiry_date`) and the community client (`botToken`).
///
/// `what` names the object in errors (a file and JSON path, or a Vault path); values never appear
/// in them: a field of the wrong type is `INVALID_SOURCE` naming the field and the type it has.
pub fn from_fields(object: &Map<String, Value>, what: &str) -> Result<ParsedFields> {
    const ALIASES: &[(&str, &str)] = &[
        ("apiKey", fields::API_KEY),
        ("api_key", fields::API_KEY),
        ("key", fields::API_KEY),
        ("token", fields::TOKEN),
        ("botToken", fields::TOKEN),
        ("accessToken", fields::ACCESS_TOKEN),
        ("access_token", fields::ACCESS_TOKEN),
        ("access", fields::ACCESS_TOKEN),
        ("refreshToken", fields::REFRESH_TOKEN),
        ("refresh_token", fields::REFRESH_TOKEN),
        ("refresh", fields::REFRESH_TOKEN),
        ("idToken", fields::ID_TOKEN),
        ("id_token", fields::ID_TOKEN),
    ];
    const EXPIRY: &[&str] = &["expiresAt", "expires", "expiry_date", "expires_at"];
    const NOT_SECRET: &[&str] = &["kind", "type", "metadata", "provider"];
    // Top-level objects and arrays that are facts, not secrets; any other a secret store returns
    // stays secret.
    const KNOWN_METADATA: &[&str] = &[
        "email",
        "label",
        "scopes",
        "scope",
        "subscriptionType",
        "tokenType",
        "token_type",
        "accountId",
        "account_id",
        "profileId",
        "rateLimitTier",
        "authMode",
        "lastRefresh",
        "resourceUrl",
        "resource_url",
    ];

    let mut secrets = SecretFields::new();
    let mut metadata = Map::new();
    let mut expires_at = None;
    for (key, value) in object {
        if let Some((_, canonical)) = ALIASES.iter().find(|(alias, _)| alias == key) {
            match value {
                Value::String(s) if !s.is_empty() => secrets.insert_str(*canonical, s),
                Value::String(_) => {
                    return Err(Error::new(
                        crate::error::ErrorCode::InvalidSource,
                        format!("{what}: field `{key}` is an empty string"),
                    ))
                }
                Value::Null => {}
                other => {
                    return Err(Error::new(
                        crate::error::ErrorCode::InvalidSource,
                        format!(
                            "{what}: field `{key}` must be a string, got {}",
                            vault_client::secret::json_kind(other)
                        ),
                    ))
                }
            }
        } else if EXPIRY.contains(&key.as_str()) {
            expires_at = match value {
                Value::Null => None,
                Value::Number(n) => n.as_f64().map(|f| f as i64),
                Value::String(s) => s.parse::<i64>().ok(),
                _ => None,
            };
            if expires_at.is_none() && !value.is_null() {
                return Err(Error::new(
                    crate::error::ErrorCode::InvalidSource,
                    format!(
                        "{what}: field `{key}` must be epoch milliseconds, got {}",
                        vault_client::secret::json_kind(value)
                    ),
                ));
            }
        } else if key == "metadata" {
            if let Value::Object(m) = value {
                metadata.extend(m.clone());
            }
        } else if key == "provider" {
            metadata.insert(key.clone(), value.clone());
        } else if !NOT_SECRET.contains(&key.as_str()) {
            // Unknown string fields are kept as secrets (slack's appToken, signingSecret, ...), and
            // so are objects and arrays (an `oauthClient` object holds a client secret) unless
            // they are known facts (`scopes`); numbers, booleans and null are facts (`chatId`).
            match value {
                Value::String(s) => secrets.insert_str(key.clone(), s),
                Value::Object(_) | Value::Array(_) if !KNOWN_METADATA.contains(&key.as_str()) => {
                    secrets.insert_json(key.clone(), value)
                }
                other => {
                    metadata.insert(key.clone(), other.clone());
                }
            }
        }
    }
    let declared = object
        .get("kind")
        .or_else(|| object.get("type"))
        .and_then(Value::as_str)
        .and_then(CredentialKind::parse);
    let kind = declared.unwrap_or(if secrets.get(fields::ACCESS_TOKEN).is_some() {
        CredentialKind::OAuth
    } else if secrets.get(fields::API_KEY).is_some() {
        CredentialKind::ApiKey
    } else {
        CredentialKind::Token
    });
    if secrets.get(kind.primary_field()).is_none() {
        return Err(Error::new(
            crate::error::ErrorCode::InvalidSource,
            format!(
                "{what}: a {} credential needs a string field `{}`",
                kind.as_str(),
                kind.primary_field()
            ),
        ));
    }
    Ok(ParsedFields {
        kind,
        secrets,
        expires_at,
        metadata,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn reads_every_spelling() {
        let ParsedFields {
            kind,
            secrets: s,
            expires_at: exp,
            metadata: meta,
        } = from_fields(
            &obj(json!({"type": "oauth", "provider": "anthropic", "access": "a1", "refresh": "r1", "expires": 17})),
            "x",
        )
        .unwrap();
        assert_eq!(kind, CredentialKind::OAuth);
        assert_eq!(s.get("accessToken").unwrap().expose_secret(), "a1");
        assert_eq!(s.get("refreshToken").unwrap().expose_secret(), "r1");
        assert_eq!(exp, Some(17));
        assert_eq!(meta["provider"], "anthropic");

        let parsed = from_fields(&obj(json!({"botToken": "123:abc"})), "x").unwrap();
        assert_eq!(parsed.kind, CredentialKind::Token);
        assert_eq!(
            parsed.secrets.get("token").unwrap().expose_secret(),
            "123:abc"
        );

        let parsed = from_fields(&obj(json!({"key": "sk-1"})), "x").unwrap();
        assert_eq!(parsed.kind, CredentialKind::ApiKey);
    }

    #[test]
    fn errors_name_the_field_not_the_value() {
        let err = from_fields(&obj(json!({"apiKey": 12})), "file f.json at `a.b`").unwrap_err();
        assert_eq!(err.code(), "INVALID_SOURCE");
        assert!(err
            .message
            .contains("f.json at `a.b`: field `apiKey` must be a string"));
        let err =
            from_fields(&obj(json!({"type": "oauth", "refresh": "sekrit"})), "v").unwrap_err();
        assert!(err.message.contains("accessToken"), "{}", err.message);
        assert!(!err.message.contains("sekrit"));
    }

    #[test]
    fn nested_and_non_string_fields_stay_secret_and_keep_their_layout() {
        let canary = "client-secret-canary";
        let input = obj(json!({
            "apiKey": "sk-1",
            "oauthClient": {"clientSecret": canary},
            "pins": [1, 2],
            "port": 5432,
            "scopes": ["a"],
        }));
        let parsed = from_fields(&input, "x").unwrap();
        let shown = serde_json::to_string(&parsed.metadata).unwrap();
        assert!(!shown.contains(canary), "{shown}");
        assert!(!shown.contains("pins"), "{shown}");
        assert_eq!(parsed.metadata["scopes"], json!(["a"]));
        assert!(parsed.secrets.is_json("oauthClient"));
        assert!(!format!("{:?}", parsed.secrets).contains(canary));
        let cred = parsed.into_credential(
            "k11",
            CredentialSource {
                provider: "vault",
                group: SourceGroup::Vault,
                location: "secret/openclaw/credentials/k11".into(),
                file: None,
                layer: None,
            },
            CredentialVersion::Vault(1),
        );
        let data = cred.to_vault_data();
        assert_eq!(data["oauthClient"], json!({"clientSecret": canary}));
        assert_eq!(data["pins"], json!([1, 2]));
        assert_eq!(cred.metadata["port"], json!(5432));
        assert!(data
            .get("metadata")
            .is_some_and(|m| m.get("oauthClient").is_none()));
        let again = from_fields(&data, "x").unwrap();
        assert!(again.secrets.same_as(&cred.secrets));
    }

    #[test]
    fn vault_data_round_trips() {
        let cred = from_fields(
            &obj(json!({"accessToken": "a", "refreshToken": "r", "expiresAt": 5, "metadata": {"scopes": ["x"]}})),
            "x",
        )
        .unwrap()
        .into_credential(
            "anthropic",
            CredentialSource {
                provider: "vault",
                group: SourceGroup::Vault,
                location: "secret/openclaw/credentials/anthropic".into(),
                file: None,
                layer: None,
            },
            CredentialVersion::Vault(1),
        );
        let data = cred.to_vault_data();
        let again = from_fields(&data, "x").unwrap();
        assert_eq!(again.kind, CredentialKind::OAuth);
        assert!(again.secrets.same_as(&cred.secrets));
        assert_eq!(again.expires_at, Some(5));
        assert_eq!(again.metadata["scopes"], json!(["x"]));
        assert!(!format!("{cred:?}").contains("\"a\""));
    }

    #[test]
    fn redact_hides_every_secret_value_of_four_characters_or_more() {
        let mut secrets = SecretFields::new();
        secrets.insert_str(fields::ACCESS_TOKEN, "sk-ant-oat01-FAKE");
        secrets.insert_str(fields::REFRESH_TOKEN, "rt-9");
        secrets.insert_str(fields::ID_TOKEN, "abc");
        let credential = Credential {
            name: "anthropic".into(),
            kind: CredentialKind::OAuth,
            source: CredentialSource {
                provider: "claude-code",
                group: SourceGroup::Files,
                location: "memory".into(),
                file: None,
                layer: None,
            },
            expires_at: None,
            metadata: Map::new(),
            secrets,
            version: CredentialVersion::None,
            request_id: None,
        };
        assert_eq!(
            credential.redact("got sk-ant-oat01-FAKE, sk-ant-oat01-FAKE and rt-9; abc stays"),
            "got [REDACTED], [REDACTED] and [REDACTED]; abc stays"
        );
    }

    #[test]
    fn input_becomes_a_cli_credential_and_errors_never_hold_the_value() {
        let c = Credential::from_input(
            "anthropic",
            CredentialInput::Fields(
                r#"{"kind": "oauth", "access_token": "at-FAKE", "refresh": "rt-FAKE", "expiresAt": 5, "scopes": ["x"]}"#,
            ),
            "stdin",
        )
        .unwrap();
        assert_eq!(c.kind, CredentialKind::OAuth);
        assert_eq!(c.primary().unwrap().expose_secret(), "at-FAKE");
        assert_eq!(c.expires_at, Some(5));
        assert_eq!(c.source.provider, "cli");
        assert_eq!(c.source.location, "stdin");
        assert_eq!(c.version, CredentialVersion::None);
        // An unknown `kind` is ignored.
        let c = Credential::from_input(
            "x",
            CredentialInput::Fields(r#"{"kind": "bogus", "apiKey": "k-FAKE"}"#),
            "f",
        )
        .unwrap();
        assert_eq!(c.kind, CredentialKind::ApiKey);
        // A raw value is the kind's main field.
        let c = Credential::from_input(
            "telegram",
            CredentialInput::Value {
                kind: CredentialKind::Token,
                value: "123:FAKE",
            },
            "/tmp/v",
        )
        .unwrap();
        assert_eq!(c.secrets.get("token").unwrap().expose_secret(), "123:FAKE");
        assert_eq!(c.secrets.len(), 1);

        for (text, code, says) in [
            (
                "{\"apiKey\": \"sk-FAKE\"",
                "INVALID_ARGUMENT",
                "not a JSON object of fields (line 1",
            ),
            (
                "[\"sk-FAKE\"]",
                "INVALID_ARGUMENT",
                "expected a JSON object of fields",
            ),
            (
                "{\"note\": \"sk-FAKE\"}",
                "INVALID_SOURCE",
                "needs a string field `token`",
            ),
            ("{\"apiKey\": 5}", "INVALID_SOURCE", "must be a string"),
        ] {
            let err =
                Credential::from_input("x", CredentialInput::Fields(text), "in.json").unwrap_err();
            assert_eq!(err.code(), code, "{text}");
            assert!(err.message.starts_with("in.json: "), "{}", err.message);
            assert!(err.message.contains(says), "{}", err.message);
            assert!(!err.message.contains("sk-FAKE"), "{}", err.message);
        }
    }
}
