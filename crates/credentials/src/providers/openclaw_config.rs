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
//! | any other path of [`SECRET_PATHS`] (OpenClaw's SecretRef surface) | the dotted path itself (`skills.entries.weather.apiKey`) | `apiKey` when the path ends in `apiKey`, else `token` |
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

/// Every `openclaw.json` path OpenClaw 2026.9.6 accepts a SecretRef at, as dot paths with `*`
/// for any map key: the `openclaw.json` rows of the released package's
/// `docs/reference/secretref-user-supplied-credentials-matrix.json` (OpenClaw's audit reports a
/// plaintext string at any of them as `PLAINTEXT_FOUND`). The pattern is also the target type
/// OpenClaw's `secrets apply` takes for the path. `tools.web.search.apiKey` (before 2026.9) is
/// read too, outside this table.
pub const SECRET_PATHS: &[&str] = &[
    "agents.entries.*.memory.search.remote.apiKey",
    "agents.entries.*.tts.personas.*.providers.*.apiKey",
    "agents.entries.*.tts.providers.*.apiKey",
    "channels.buzz.accounts.*.authTag",
    "channels.buzz.accounts.*.privateKey",
    "channels.buzz.authTag",
    "channels.buzz.privateKey",
    "channels.clickclack.accounts.*.token",
    "channels.clickclack.token",
    "channels.discord.accounts.*.pluralkit.token",
    "channels.discord.accounts.*.token",
    "channels.discord.accounts.*.voice.realtime.providers.*.apiKey",
    "channels.discord.accounts.*.voice.tts.personas.*.providers.*.apiKey",
    "channels.discord.accounts.*.voice.tts.providers.*.apiKey",
    "channels.discord.pluralkit.token",
    "channels.discord.token",
    "channels.discord.voice.realtime.providers.*.apiKey",
    "channels.discord.voice.tts.personas.*.providers.*.apiKey",
    "channels.discord.voice.tts.providers.*.apiKey",
    "channels.feishu.accounts.*.appSecret",
    "channels.feishu.accounts.*.encryptKey",
    "channels.feishu.accounts.*.verificationToken",
    "channels.feishu.appSecret",
    "channels.feishu.encryptKey",
    "channels.feishu.verificationToken",
    "channels.googlechat.accounts.*.serviceAccount",
    "channels.googlechat.serviceAccount",
    "channels.irc.accounts.*.nickserv.password",
    "channels.irc.accounts.*.password",
    "channels.irc.nickserv.password",
    "channels.irc.password",
    "channels.matrix.accessToken",
    "channels.matrix.accounts.*.accessToken",
    "channels.matrix.accounts.*.password",
    "channels.matrix.password",
    "channels.mattermost.accounts.*.botToken",
    "channels.mattermost.botToken",
    "channels.msteams.appPassword",
    "channels.nextcloud-talk.accounts.*.apiPassword",
    "channels.nextcloud-talk.accounts.*.botSecret",
    "channels.nextcloud-talk.apiPassword",
    "channels.nextcloud-talk.botSecret",
    "channels.nostr.privateKey",
    "channels.qqbot.accounts.*.clientSecret",
    "channels.qqbot.clientSecret",
    "channels.slack.accounts.*.appToken",
    "channels.slack.accounts.*.botToken",
    "channels.slack.accounts.*.relay.authToken",
    "channels.slack.accounts.*.signingSecret",
    "channels.slack.accounts.*.userToken",
    "channels.slack.appToken",
    "channels.slack.botToken",
    "channels.slack.relay.authToken",
    "channels.slack.signingSecret",
    "channels.slack.userToken",
    "channels.sms.accounts.*.authToken",
    "channels.sms.authToken",
    "channels.telegram.accounts.*.botToken",
    "channels.telegram.accounts.*.webhookSecret",
    "channels.telegram.botToken",
    "channels.telegram.webhookSecret",
    "channels.zalo.accounts.*.botToken",
    "channels.zalo.accounts.*.webhookSecret",
    "channels.zalo.botToken",
    "channels.zalo.webhookSecret",
    "cron.webhookToken",
    "gateway.auth.password",
    "gateway.auth.token",
    "gateway.remote.password",
    "gateway.remote.token",
    "memory.search.remote.apiKey",
    "models.providers.*.apiKey",
    "models.providers.*.headers.*",
    "models.providers.*.request.auth.token",
    "models.providers.*.request.auth.value",
    "models.providers.*.request.headers.*",
    "models.providers.*.request.proxy.tls.ca",
    "models.providers.*.request.proxy.tls.cert",
    "models.providers.*.request.proxy.tls.key",
    "models.providers.*.request.proxy.tls.passphrase",
    "models.providers.*.request.tls.ca",
    "models.providers.*.request.tls.cert",
    "models.providers.*.request.tls.key",
    "models.providers.*.request.tls.passphrase",
    "plugins.entries.acpx.config.mcpServers.*.env.*",
    "plugins.entries.brave.config.webSearch.apiKey",
    "plugins.entries.codex.config.appServer.authToken",
    "plugins.entries.codex.config.appServer.headers.*",
    "plugins.entries.comfy.config.headers.*",
    "plugins.entries.exa.config.webSearch.apiKey",
    "plugins.entries.facetime.config.realtime.providers.*.apiKey",
    "plugins.entries.firecrawl.config.webFetch.apiKey",
    "plugins.entries.firecrawl.config.webSearch.apiKey",
    "plugins.entries.google-meet.config.realtime.providers.*.apiKey",
    "plugins.entries.google.config.webSearch.apiKey",
    "plugins.entries.google.config.webSearch.headers.*",
    "plugins.entries.imap.config.accounts.*.password",
    "plugins.entries.minimax.config.webSearch.apiKey",
    "plugins.entries.moonshot.config.webSearch.apiKey",
    "plugins.entries.parallel.config.webSearch.apiKey",
    "plugins.entries.perplexity.config.webSearch.apiKey",
    "plugins.entries.tavily.config.webSearch.apiKey",
    "plugins.entries.team-reports.config.discord.token",
    "plugins.entries.team-reports.config.github.token",
    "plugins.entries.typesafe.config.apiKey",
    "plugins.entries.voice-call.config.realtime.providers.*.apiKey",
    "plugins.entries.voice-call.config.streaming.providers.*.apiKey",
    "plugins.entries.voice-call.config.tts.providers.*.apiKey",
    "plugins.entries.voice-call.config.twilio.authToken",
    "plugins.entries.webhooks.config.routes.*.secret",
    "plugins.entries.xai.config.webSearch.apiKey",
    "skills.entries.*.apiKey",
    "talk.providers.*.apiKey",
    "talk.realtime.providers.*.apiKey",
    "tts.personas.*.providers.*.apiKey",
    "tts.providers.*.apiKey",
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
    /// The [`SECRET_PATHS`] pattern it matched (`models.providers.*.apiKey`); `None` for
    /// `tools.web.search.apiKey`, which OpenClaw 2026.9 no longer reads.
    pub pattern: Option<&'static str>,
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

/// A `models.providers.*.apiKey` value that names an environment variable (`OPENAI_API_KEY`)
/// instead of holding a key: OpenClaw reads it as a marker, not a secret.
pub(crate) fn is_env_name_marker(s: &str) -> bool {
    let s = s.trim();
    s.len() > 1
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Header names OpenClaw treats as carrying credentials (its model-provider header policy):
/// exact names, or names containing one of the fragments.
pub(crate) fn is_sensitive_header(name: &str) -> bool {
    const EXACT: &[&str] = &[
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "apikey",
        "x-auth-token",
        "auth-token",
        "x-access-token",
        "access-token",
        "x-secret-key",
        "secret-key",
    ];
    const FRAGMENTS: &[&str] = &[
        "api-key",
        "apikey",
        "token",
        "secret",
        "password",
        "credential",
    ];
    let n = name.trim().to_ascii_lowercase();
    !n.is_empty() && (EXACT.contains(&n.as_str()) || FRAGMENTS.iter().any(|f| n.contains(f)))
}

fn at<'v>(doc: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(doc, |v, k| v.get(k))
}

/// Every concrete path under `doc` matching `pattern` (`*` = any key of an object), with its
/// value, in document order.
fn matches<'v>(doc: &'v Value, pattern: &[&str]) -> Vec<(Vec<String>, &'v Value)> {
    let mut out = Vec::new();
    let mut stack: Vec<(Vec<String>, &Value, usize)> = vec![(Vec::new(), doc, 0)];
    while let Some((path, value, i)) = stack.pop() {
        let Some(seg) = pattern.get(i) else {
            out.push((path, value));
            continue;
        };
        let Some(object) = value.as_object() else {
            continue;
        };
        if *seg == "*" {
            // Reversed onto the stack so they come off in document order.
            for (k, v) in object.iter().rev() {
                let mut p = path.clone();
                p.push(k.clone());
                stack.push((p, v, i + 1));
            }
        } else if let Some(v) = object.get(*seg) {
            let mut p = path;
            p.push((*seg).to_string());
            stack.push((p, v, i + 1));
        }
    }
    out
}

/// The credential name and field of a config path: the names of the fixed table above, the
/// provider id for `models.providers.<p>.apiKey`, else the dotted path itself with field
/// `apiKey` (last segment `apiKey`) or `token`.
fn name_of(path: &[String]) -> (String, String) {
    let segs: Vec<&str> = path.iter().map(String::as_str).collect();
    if let Some((_, name, field)) = FIXED_FIELDS.iter().find(|(p, _, _)| *p == segs.as_slice()) {
        return (name.to_string(), field.to_string());
    }
    if let ["models", "providers", p, "apiKey"] = segs.as_slice() {
        return (p.to_string(), fields::API_KEY.to_string());
    }
    let field = if segs.last() == Some(&"apiKey") {
        fields::API_KEY
    } else {
        fields::TOKEN
    };
    (path.join("."), field.to_string())
}

/// A `models.providers.<p>.apiKey` holding an exec SecretRef to this package's own provider
/// (what `migrate --rewrite-config` leaves for a shared auth profile): the bare provider name
/// `<p>` is read through it from Vault ([`OpenClawConfigProvider::get`]).
struct OwnRef {
    name: String,
    json_path: String,
    secret_ref: Value,
    id: String,
}

fn scan(doc: &Value) -> (Vec<PlaintextField>, Vec<BadField>) {
    let (found, bad, _, _) = scan_with_own_refs(doc);
    (found, bad)
}

/// A secret field that holds a SecretRef to anything but this package's own exec provider
/// (an `env`, `file`, `store` or other `exec` ref): OpenClaw reads the value there.
struct ForeignRef {
    name: String,
    /// `<json path> -> <source>:<provider>:<id>`.
    describe: String,
}

#[allow(clippy::type_complexity)]
fn scan_with_own_refs(
    doc: &Value,
) -> (
    Vec<PlaintextField>,
    Vec<BadField>,
    Vec<OwnRef>,
    Vec<ForeignRef>,
) {
    let mut found = Vec::new();
    let mut bad = Vec::new();
    let mut own_refs = Vec::new();
    let mut foreign_refs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut check = |value: &Value, path: Vec<String>, pattern: Option<&'static str>| {
        let (name, field) = name_of(&path);
        if is_secret_ref(value) {
            let s = |k: &str| value.get(k).and_then(Value::as_str).unwrap_or("");
            let own =
                s("source") == "exec" && crate::migrate::apply_plan::is_own_alias(s("provider"));
            if !own {
                foreign_refs.push(ForeignRef {
                    name: name.clone(),
                    describe: format!(
                        "{} -> {}:{}:{}",
                        path.join("."),
                        s("source"),
                        s("provider"),
                        s("id")
                    ),
                });
            }
        }
        if pattern == Some("models.providers.*.apiKey") && is_secret_ref(value) {
            let s = |k: &str| value.get(k).and_then(Value::as_str);
            if s("source") == Some("exec")
                && s("provider").is_some_and(crate::migrate::apply_plan::is_own_alias)
            {
                if let Some(id) = s("id") {
                    own_refs.push(OwnRef {
                        name: name.clone(),
                        json_path: path.join("."),
                        secret_ref: value.clone(),
                        id: id.to_string(),
                    });
                }
            }
        }
        let plaintext = match value {
            Value::String(s) => {
                let marker = pattern == Some("models.providers.*.apiKey") && is_env_name_marker(s);
                !s.trim().is_empty() && !is_env_template(s) && !marker
            }
            Value::Null => false,
            v if is_secret_ref(v) => false,
            // A non-empty object where a fixed credential is not expected (a service account
            // JSON): plaintext too, kept as the JSON it is.
            Value::Object(o)
                if !o.is_empty()
                    && pattern.is_some()
                    && !FIXED_FIELDS
                        .iter()
                        .any(|(p, _, _)| p.iter().eq(path.iter())) =>
            {
                true
            }
            other => {
                bad.push(BadField {
                    json_path: path,
                    name,
                    got: json_kind(other),
                });
                return;
            }
        };
        if plaintext && seen.insert(path.clone()) {
            found.push(PlaintextField {
                json_path: path,
                name,
                field,
                pattern,
            });
        }
    };
    for pattern in SECRET_PATHS {
        let segs: Vec<&str> = pattern.split('.').collect();
        for (path, value) in matches(doc, &segs) {
            if segs.len() >= 2
                && segs[segs.len() - 2] == "headers"
                && !is_sensitive_header(path.last().map(String::as_str).unwrap_or(""))
            {
                continue;
            }
            check(value, path, Some(pattern));
        }
    }
    let legacy = ["tools", "web", "search", "apiKey"];
    if let Some(v) = at(doc, &legacy) {
        check(v, legacy.map(String::from).to_vec(), None);
    }
    // The order the provider lists and rewrites in: models.providers first (by document order),
    // then the seed's fixed places in their table order, then the rest by path.
    let rank = |f: &PlaintextField| {
        let segs: Vec<&str> = f.json_path.iter().map(String::as_str).collect();
        if segs.len() == 4 && segs[0] == "models" && segs[1] == "providers" && segs[3] == "apiKey" {
            (0, 0)
        } else if let Some(i) = FIXED_FIELDS
            .iter()
            .position(|(p, _, _)| *p == segs.as_slice())
        {
            (1, i)
        } else {
            (2, 0)
        }
    };
    found.sort_by_key(rank);
    (found, bad, own_refs, foreign_refs)
}

/// Every plaintext secret field of an OpenClaw config document, in a stable order
/// (`models.providers.*` first, then the fixed places in the table above).
pub fn plaintext_fields(doc: &Value) -> Vec<PlaintextField> {
    scan(doc).0
}

/// Reads the plaintext secrets of one config file; a file changed since the last call (by its
/// inode, size, mtime or ctime) is read again, so edits are seen.
pub struct OpenClawConfigProvider {
    file: Option<PathBuf>,
    /// The last parse and scan, by the file's stamp: a plan asks `get` once per name, and
    /// parsing and scanning a 1,000-secret config per name made planning quadratic.
    cache: std::sync::Mutex<Option<([i128; 5], Arc<Scanned>)>>,
    /// Where a `models.providers.<p>.apiKey` holding this package's own exec ref is read.
    vault: Option<Arc<crate::providers::vault::VaultProvider>>,
}

/// One read of the config file: the document (wiped on drop) and its scan.
struct Scanned {
    path: PathBuf,
    doc: vault_client::secret::ZeroizingJson,
    version: CredentialVersion,
    found: Vec<PlaintextField>,
    bad: Vec<BadField>,
    own_refs: Vec<OwnRef>,
    foreign_refs: Vec<ForeignRef>,
}

/// What tells a changed file from an unchanged one without reading it.
fn file_stamp(path: &std::path::Path) -> Option<[i128; 5]> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some([
        i128::from(m.ino()),
        i128::from(m.size()),
        i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
        i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec()),
        i128::from(m.dev()),
    ])
}

impl OpenClawConfigProvider {
    /// `file` is the config file OpenClaw reads (`LoadedConfig::file`); `None` holds nothing.
    pub fn new(file: Option<PathBuf>) -> Self {
        OpenClawConfigProvider {
            file,
            cache: std::sync::Mutex::new(None),
            vault: None,
        }
    }

    /// Also answers a bare provider name `<p>` whose `models.providers.<p>.apiKey` holds an exec
    /// ref to this package's own provider, by reading that ref's path from `vault`, so the name
    /// answers after `migrate --rewrite-config` what the shared auth profile answered before it.
    pub fn with_vault(
        mut self,
        vault: Option<Arc<crate::providers::vault::VaultProvider>>,
    ) -> Self {
        self.vault = vault;
        self
    }

    /// The credential `name` read through the own exec ref `r` (see [`Self::with_vault`]):
    /// `GET <mount>/data/<prefix>/credentials/<profile name>`, named `name`, with `jsonPath` and
    /// `secretRef` in its metadata. `None` without a Vault, for a ref outside this Vault's prefix
    /// or when Vault holds nothing there (a rerun of `migrate` reports that ref as missing).
    async fn through_own_ref(&self, r: &OwnRef, name: &str) -> Result<Option<Credential>> {
        let Some(vault) = &self.vault else {
            return Ok(None);
        };
        let Some(mut credential) = vault.get_by_exec_id(&r.id, name).await? else {
            return Ok(None);
        };
        credential
            .metadata
            .insert("jsonPath".into(), Value::String(r.json_path.clone()));
        credential
            .metadata
            .insert("secretRef".into(), r.secret_ref.clone());
        Ok(Some(credential))
    }

    /// The parsed and scanned file, from the cache while its stamp is unchanged.
    fn scanned(&self) -> Result<Option<Arc<Scanned>>> {
        let Some(path) = &self.file else {
            return Ok(None);
        };
        let stamp = file_stamp(path);
        if let Some(stamp) = stamp {
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((s, scanned)) = cache.as_ref() {
                if *s == stamp {
                    return Ok(Some(scanned.clone()));
                }
            }
        }
        let Some((path, doc, version)) = self.read()? else {
            return Ok(None);
        };
        let (found, bad, own_refs, foreign_refs) = scan_with_own_refs(&doc);
        let scanned = Arc::new(Scanned {
            path,
            doc: vault_client::secret::ZeroizingJson(doc),
            version,
            found,
            bad,
            own_refs,
            foreign_refs,
        });
        // Cached only when the file did not change while it was read.
        if let Some(stamp) = stamp.filter(|s| file_stamp(&scanned.path).as_ref() == Some(s)) {
            *self.cache.lock().unwrap_or_else(|p| p.into_inner()) = Some((stamp, scanned.clone()));
        }
        Ok(Some(scanned))
    }

    fn read(&self) -> Result<Option<(PathBuf, Value, CredentialVersion)>> {
        let Some(path) = &self.file else {
            return Ok(None);
        };
        let Some(file) =
            local_file::read_credential_file(path, crate::openclaw::MAX_CONFIG_FILE_BYTES)?
        else {
            return Ok(None);
        };
        // As a credential source, a broken file is INVALID_SOURCE like every other one.
        let doc =
            parse_json5(&file).map_err(|e| Error::new(ErrorCode::InvalidSource, e.message))?;
        Ok(Some((path.clone(), doc, file.version)))
    }

    /// The credential `name` of a scanned file; `mine` are its plaintext fields.
    fn credential(
        scanned: &Scanned,
        mine: &[&PlaintextField],
        name: &str,
    ) -> Result<Option<Credential>> {
        let (path, doc, version) = (&scanned.path, &scanned.doc.0, &scanned.version);
        if let Some(b) = scanned.bad.iter().find(|b| b.name == name) {
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
        for f in mine {
            let json_path: Vec<&str> = f.json_path.iter().map(String::as_str).collect();
            match at(doc, &json_path) {
                Some(Value::String(s)) => secrets.insert_str(f.field.clone(), s.trim()),
                Some(v @ Value::Object(_)) => secrets.insert_json(f.field.clone(), v),
                _ => {}
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
                layer: None,
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
    /// OpenClaw reads it at run time and its own commands change it.
    fn live_in_openclaw(&self) -> bool {
        true
    }

    fn id(&self) -> &'static str {
        PROVIDER_ID
    }

    fn names_answered_when_readable(&self) -> Option<(super::NameScope, PathBuf)> {
        self.file.clone().map(|f| (super::NameScope::Plain, f))
    }

    fn group(&self) -> SourceGroup {
        SourceGroup::Files
    }

    /// The field of `name` holding a SecretRef to another source (`env`, `file`, `store`,
    /// another exec provider), described `<json path> -> <source>:<provider>:<id>`.
    async fn foreign_ref(&self, name: &str) -> Option<String> {
        let scanned = self.scanned().ok()??;
        let found = scanned
            .foreign_refs
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.describe.clone());
        found
    }

    async fn get(&self, name: &str) -> Result<Option<Credential>> {
        let Some(scanned) = self.scanned()? else {
            return Ok(None);
        };
        let mine: Vec<&PlaintextField> = scanned.found.iter().filter(|f| f.name == name).collect();
        if mine.is_empty() && self.vault.is_some() {
            if let Some(r) = scanned.own_refs.iter().find(|r| r.name == name) {
                return self.through_own_ref(r, name).await;
            }
        }
        Self::credential(&scanned, &mine, name)
    }

    async fn list(&self) -> Result<Vec<Listing>> {
        let Some(scanned) = self.scanned()? else {
            return Ok(Vec::new());
        };
        // One scan, grouped by name in first-seen order (not a scan per name).
        let mut order: Vec<&str> = Vec::new();
        let mut by_name: std::collections::HashMap<&str, Vec<&PlaintextField>> =
            std::collections::HashMap::new();
        for f in &scanned.found {
            by_name
                .entry(f.name.as_str())
                .or_insert_with(|| {
                    order.push(f.name.as_str());
                    Vec::new()
                })
                .push(f);
        }
        let mut out = Vec::new();
        for name in order {
            // Only names `get` answers; a wrong-typed field is reported by `get`.
            if let Ok(Some(c)) = Self::credential(&scanned, &by_name[name], name) {
                out.push(Listing {
                    name: name.to_string(),
                    location: c.source.location,
                });
            }
        }
        if self.vault.is_some() {
            for r in &scanned.own_refs {
                if !by_name.contains_key(r.name.as_str()) && !out.iter().any(|l| l.name == r.name) {
                    out.push(Listing {
                        name: r.name.clone(),
                        location: format!("{} {}", scanned.path.display(), r.json_path),
                    });
                }
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
    config_providers_with_vault(paths, loaded, None)
}

/// [`config_providers`], the config provider reading its own exec refs from `vault`
/// ([`OpenClawConfigProvider::with_vault`]).
pub fn config_providers_with_vault(
    paths: &OpenClawPaths,
    loaded: &LoadedConfig,
    vault: Option<Arc<crate::providers::vault::VaultProvider>>,
) -> Vec<Arc<dyn CredentialProvider>> {
    let file = loaded.file.clone().or_else(|| paths.config_file());
    vec![
        Arc::new(OpenClawConfigProvider::new(file).with_vault(vault)),
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
    async fn a_changed_file_is_read_again_after_the_cached_scan() {
        let (dir, p) = temp_config(
            "cache",
            r#"{channels: {telegram: {botToken: "1:FAKE-first"}}}"#,
        );
        let file = dir.join("openclaw.json");
        let first = p.get("telegram").await.unwrap().unwrap();
        assert_eq!(first.primary().unwrap().expose_secret(), "1:FAKE-first");
        // Same size, replaced atomically (as OpenClaw writes): the new value, not the cached one.
        local_file::write_atomic(
            &file,
            br#"{channels: {telegram: {botToken: "1:FAKE-other"}}}"#,
        )
        .unwrap();
        let second = p.get("telegram").await.unwrap().unwrap();
        assert_eq!(second.primary().unwrap().expose_secret(), "1:FAKE-other");
        assert_eq!(p.list().await.unwrap().len(), 1);
        fs::remove_dir_all(dir).unwrap();
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
