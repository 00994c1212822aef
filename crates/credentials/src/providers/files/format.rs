//! What a credential file looks like, as data: a [`FileFormat`] says where the file is and which
//! credentials it holds where, field by field ([`Entry`], [`Field`]). One reader and one writer
//! serve every format; the rows are in [`formats`](super::formats).
//!
//! Reading checks every field a format names against its JSON type in the file's own key order,
//! so the first error is the one a serde layout of the same fields would give, and words it with
//! [`typed`]: the file, the JSON path and what was expected, never the value. Fields the table
//! does not name are not read (and are kept on rewrite). Writing changes the fields the table
//! owns, in place, adds the missing ones at the end of their object, and keeps every other key in
//! its order.

use std::path::PathBuf;
use std::time::SystemTime;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use super::json_file::{object_at, set};
use super::typed::{
    at_path, invalid_source, json_path, typed, EpochMs, EpochSeconds, OptionalSecretText,
    SecretText,
};
use crate::credential::{Credential, CredentialKind, ParsedFields, SecretFields};
use crate::error::{Error, ErrorCode, Result};
use crate::openclaw::paths::OpenClawPaths;
use vault_client::secret::json_kind;

/// One single-file credential format: a row of the table.
#[derive(Debug)]
pub struct FileFormat {
    /// The provider id (`source.provider`, audit lines, `listCredentials`): `claude-code`, ...
    pub id: &'static str,
    /// The file as messages name it, e.g. "Claude Code's credentials JSON". Claude Code's and
    /// Codex's keychain items hold the same JSON, so it names the layout, not a path.
    pub label: &'static str,
    /// Where the file is.
    pub location: Location,
    /// Root fields every credential of the file carries as metadata (Codex's `auth_mode`).
    pub shared: &'static [Field],
    /// The credentials the file holds, in the order `list` reports them.
    pub entries: &'static [Entry],
    /// A root field set to the time of every write-back, RFC 3339 with microseconds (Codex's
    /// `last_refresh`).
    pub write_stamp: Option<&'static str>,
    /// The OAuth access token is a JWT whose `exp` claim (epoch seconds) is the expiry, used when
    /// the entry has no expiry field of its own (Codex keeps none).
    pub expiry_from_jwt: bool,
    /// The command-line tool that owns the file's OAuth tokens, when one does: they are read,
    /// never refreshed or written back, and not migrated unless the user takes them over (see
    /// [`CliOwner`]). `None`: this package may refresh and write back the file's OAuth entries.
    pub owner: Option<&'static CliOwner>,
}

/// A command-line tool that owns OAuth tokens on this machine (Claude Code, Codex, ...).
///
/// Its refresh tokens work once: whoever trades a copy invalidates the one the tool holds, and
/// the user is logged out of it. So this package reads such tokens but never refreshes or
/// rewrites them; an expired one is `REFRESH_FAILED` naming [`CliOwner::renew`], and `migrate`
/// leaves them where they are unless told `--take-ownership <name>`.
#[derive(Debug, PartialEq, Eq)]
pub struct CliOwner {
    /// The tool as its users call it: `Claude Code`, `Codex`, `Qwen Code`, ...
    pub cli: &'static str,
    /// What the user runs to log the tool in again, in words a message can quote:
    /// `` `claude auth login` ``.
    pub renew: &'static str,
}

/// Where a format's file is, relative to a folder [`OpenClawPaths`] knows.
#[derive(Debug, Clone, Copy)]
pub enum Location {
    /// Under the user's home (`OPENCLAW_HOME`, else `HOME`): `.qwen/oauth_creds.json`.
    Home(&'static str),
    /// Under Claude Code's config folder (`CLAUDE_CONFIG_DIR`, default `~/.claude`).
    ClaudeConfigDir(&'static str),
    /// Under Codex's home (`CODEX_HOME`, default `~/.codex`).
    CodexHome(&'static str),
    /// Under OpenClaw's state directory (`OPENCLAW_STATE_DIR`, default `~/.openclaw`).
    StateDir(&'static str),
}

impl Location {
    /// The file for `paths`; `None` when the folder it is under is unknown (no home).
    pub fn resolve(self, paths: &OpenClawPaths) -> Option<PathBuf> {
        match self {
            Location::Home(rest) => paths.in_user_home(rest),
            Location::ClaudeConfigDir(rest) => {
                paths.claude_config_dir.as_ref().map(|d| d.join(rest))
            }
            Location::CodexHome(rest) => paths.codex_home.as_ref().map(|d| d.join(rest)),
            Location::StateDir(rest) => paths.state_dir.as_ref().map(|d| d.join(rest)),
        }
    }
}

/// One credential (or, with [`At::EveryRootKey`], one per key) a file holds.
#[derive(Debug)]
pub struct Entry {
    /// The names it answers to; the first is the one `list` reports. Empty with
    /// [`At::EveryRootKey`], where every key is a name.
    pub names: &'static [&'static str],
    /// The object in the file that holds it.
    pub at: At,
    /// What it is. Its primary secret field ([`CredentialKind::primary_field`]) must be one of
    /// `fields`: an object without it holds no credential (or, when the field is
    /// [`Presence::Required`], is broken).
    pub kind: CredentialKind,
    /// The fields of the object this table reads and writes, in the order a new object gets them.
    pub fields: &'static [Field],
    /// Which fields become metadata.
    pub metadata: Metadata,
    /// Whether `put` writes it back.
    pub write: Write,
}

/// Where an entry's object is in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    /// The root object itself.
    Root,
    /// The object under this root key. Absent or null: the file does not hold the credential.
    Key(&'static str),
    /// One object per root key, named after the key (OpenClaw's legacy `oauth.json`); the name
    /// is also metadata under `name_as` (`provider`).
    EveryRootKey {
        /// The metadata key the name is copied to.
        name_as: &'static str,
    },
}

/// Which fields of an entry's object become the credential's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metadata {
    /// Only the [`Role::Metadata`] fields, under their metadata names, in table order.
    Listed,
    /// Every field of the object that is not a secret or the expiry, under its own key and in
    /// file order (Claude Code's `scopes`, `subscriptionType`, `rateLimitTier`, ...).
    AllOtherFields,
}

/// Whether `put` writes an entry back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// Written back in place (OAuth refresh).
    Back,
    /// Never written; `put` is `UNSUPPORTED_OPERATION` with this reason.
    Never(&'static str),
}

/// One field of an entry's object (or of the root, for [`FileFormat::shared`]).
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Its key in the JSON object.
    pub key: &'static str,
    /// What it is to the credential.
    pub role: Role,
}

/// What a field is to the credential.
#[derive(Debug, Clone, Copy)]
pub enum Role {
    /// A secret field, `name` being the credential's name for it (`accessToken`, ...).
    Secret {
        /// The credential's field name ([`crate::credential::fields`]).
        name: &'static str,
        /// Whether it must be there, and what an empty string means.
        presence: Presence,
    },
    /// The expiry, in `unit` (the credential's `expiresAt` is always epoch milliseconds).
    Expiry(TimeUnit),
    /// Non-secret metadata under `name`.
    Metadata {
        /// The metadata key (`tokenType` for `token_type`).
        name: &'static str,
        /// Its JSON type.
        value: MetaType,
        /// What a write-back that creates the entry's object puts here.
        on_create: OnCreate,
    },
}

/// Whether a secret field must be present, and what empty means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// A non-empty string, always: missing, null or empty is `INVALID_SOURCE`.
    Required,
    /// A non-empty string when present; absent or null means none.
    Optional,
    /// A string or null; absent, null and `""` all mean none (Codex's `OPENAI_API_KEY` after a
    /// ChatGPT login).
    EmptyIsAbsent,
}

/// The unit of an expiry field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// Epoch milliseconds (Claude Code's `expiresAt`, the CLIs' `expiry_date`).
    EpochMs,
    /// Epoch seconds.
    EpochSeconds,
}

impl TimeUnit {
    /// The field's value for `at_ms` (epoch milliseconds).
    fn of_ms(self, at_ms: i64) -> i64 {
        match self {
            TimeUnit::EpochMs => at_ms,
            TimeUnit::EpochSeconds => at_ms.div_euclid(1000),
        }
    }
}

/// The JSON type of a metadata field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaType {
    /// A string (or null).
    Text,
    /// An array of strings (or null).
    TextList,
}

/// What a write-back that creates an entry's object puts in a metadata field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnCreate {
    /// Nothing.
    Skip,
    /// The credential's metadata value of that name, when it has one.
    Copy,
    /// The credential's metadata value, else this string (`token_type: "Bearer"`).
    CopyOr(&'static str),
}

impl Field {
    /// A secret that must be there: `Field::secret("accessToken", fields::ACCESS_TOKEN)`.
    pub const fn secret(key: &'static str, name: &'static str) -> Field {
        Field {
            key,
            role: Role::Secret {
                name,
                presence: Presence::Required,
            },
        }
    }

    /// A secret that may be absent or null.
    pub const fn optional_secret(key: &'static str, name: &'static str) -> Field {
        Field {
            key,
            role: Role::Secret {
                name,
                presence: Presence::Optional,
            },
        }
    }

    /// A secret where absent, null and `""` all mean none.
    pub const fn secret_or_empty(key: &'static str, name: &'static str) -> Field {
        Field {
            key,
            role: Role::Secret {
                name,
                presence: Presence::EmptyIsAbsent,
            },
        }
    }

    /// The expiry, in `unit`.
    pub const fn expiry(key: &'static str, unit: TimeUnit) -> Field {
        Field {
            key,
            role: Role::Expiry(unit),
        }
    }

    /// A string copied to metadata `name`; not written back.
    pub const fn text(key: &'static str, name: &'static str) -> Field {
        Field::metadata(key, name, MetaType::Text)
    }

    /// An array of strings copied to metadata `name`; not written back.
    pub const fn text_list(key: &'static str, name: &'static str) -> Field {
        Field::metadata(key, name, MetaType::TextList)
    }

    const fn metadata(key: &'static str, name: &'static str, value: MetaType) -> Field {
        Field {
            key,
            role: Role::Metadata {
                name,
                value,
                on_create: OnCreate::Skip,
            },
        }
    }

    /// This metadata field, filled as `on_create` says when a write-back creates its object.
    pub const fn on_create(self, on_create: OnCreate) -> Field {
        match self.role {
            Role::Metadata { name, value, .. } => Field {
                key: self.key,
                role: Role::Metadata {
                    name,
                    value,
                    on_create,
                },
            },
            _ => panic!("on_create applies to metadata fields only"),
        }
    }

    fn is_required(&self) -> bool {
        matches!(
            self.role,
            Role::Secret {
                presence: Presence::Required,
                ..
            }
        )
    }

    /// Whether the field is the credential's own data (a secret or the expiry), which metadata
    /// never repeats.
    fn is_credential_data(&self) -> bool {
        matches!(self.role, Role::Secret { .. } | Role::Expiry(_))
    }
}

/// A field's value, checked against its type.
enum FieldValue {
    Secret(SecretString),
    Expiry(i64),
    Metadata(Value),
}

/// Checks `value` (at JSON path `path` in `what`) against `field`'s type. `Ok(None)` for a field
/// that holds nothing (null, or empty where that means none).
fn read_value(field: &Field, value: &Value, what: &str, path: &str) -> Result<Option<FieldValue>> {
    Ok(match field.role {
        Role::Secret { presence, .. } => match presence {
            Presence::Required => Some(typed::<SecretText>(value, what, path)?.0),
            Presence::Optional => typed::<Option<SecretText>>(value, what, path)?.map(|s| s.0),
            Presence::EmptyIsAbsent => typed::<OptionalSecretText>(value, what, path)?.0,
        }
        .map(FieldValue::Secret),
        Role::Expiry(TimeUnit::EpochMs) => {
            typed::<Option<EpochMs>>(value, what, path)?.map(|e| FieldValue::Expiry(e.0))
        }
        Role::Expiry(TimeUnit::EpochSeconds) => typed::<Option<EpochSeconds>>(value, what, path)?
            .map(|e| FieldValue::Expiry(e.0.saturating_mul(1000))),
        Role::Metadata {
            value: MetaType::Text,
            ..
        } => typed::<Option<String>>(value, what, path)?.map(|s| FieldValue::Metadata(s.into())),
        Role::Metadata {
            value: MetaType::TextList,
            ..
        } => {
            typed::<Option<Vec<String>>>(value, what, path)?.map(|l| FieldValue::Metadata(l.into()))
        }
    })
}

/// What the table's fields of one JSON object held.
#[derive(Debug, Default)]
pub struct ObjectFields {
    /// The secret fields present, under the credential's names for them.
    pub secrets: SecretFields,
    /// The expiry, epoch milliseconds.
    pub expires_at: Option<i64>,
    /// The [`Role::Metadata`] fields present, under their metadata names, in table order.
    pub metadata: Map<String, Value>,
}

/// Reads `fields` from `object` (found at JSON path `base` in `what`, a file or keychain item).
/// Each present field is checked against its type in the object's key order, then the required
/// ones that are missing; the first failure is `INVALID_SOURCE` naming `what` and the field's
/// path (`claudeAiOauth.expiresAt`), never its value. Keys the table does not name are ignored.
pub fn read_object(
    fields: &[Field],
    object: &Map<String, Value>,
    what: &str,
    base: &str,
) -> Result<ObjectFields> {
    let mut found: Vec<Option<FieldValue>> = fields.iter().map(|_| None).collect();
    for (key, value) in object {
        if let Some(i) = fields.iter().position(|f| f.key == key) {
            found[i] = read_value(&fields[i], value, what, &json_path(base, key))?;
        }
    }
    if let Some(missing) = fields
        .iter()
        .find(|f| f.is_required() && !object.contains_key(f.key))
    {
        return Err(invalid_source(at_path(
            what,
            &json_path(base, missing.key),
            "missing",
        )));
    }
    let mut out = ObjectFields::default();
    for (field, value) in fields.iter().zip(found) {
        match (field.role, value) {
            (Role::Secret { name, .. }, Some(FieldValue::Secret(s))) => out.secrets.insert(name, s),
            (Role::Expiry(_), Some(FieldValue::Expiry(at))) => out.expires_at = Some(at),
            (Role::Metadata { name, .. }, Some(FieldValue::Metadata(v))) => {
                out.metadata.insert(name.to_string(), v);
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Writes `credential` into `object` as `fields` say: each secret the credential has (a
/// [`Presence::Required`] one it lacks is `INVALID_ARGUMENT`: "`target`: the credential needs
/// `accessToken`") and the expiry when it has one, in place; when `created` (the object is new),
/// the metadata fields [`OnCreate`] asks for. Everything else in `object` is kept, in order.
pub fn write_object(
    fields: &[Field],
    object: &mut Map<String, Value>,
    credential: &Credential,
    created: bool,
    target: &str,
) -> Result<()> {
    if let Some(Role::Secret { name, .. }) = fields
        .iter()
        .find(|f| f.is_required() && credential.secrets.get(secret_name(f)).is_none())
        .map(|f| f.role)
    {
        return Err(Error::invalid_argument(format!(
            "{target}: the credential needs `{name}`"
        )));
    }
    for field in fields {
        match field.role {
            Role::Secret { name, .. } => {
                if let Some(value) = credential.secrets.get(name) {
                    set(object, field.key, Value::from(value.expose_secret()));
                }
            }
            Role::Expiry(unit) => {
                if let Some(at) = credential.expires_at {
                    set(object, field.key, Value::from(unit.of_ms(at)));
                }
            }
            Role::Metadata {
                name, on_create, ..
            } if created => {
                let value = credential.metadata.get(name).cloned();
                match (on_create, value) {
                    (OnCreate::Copy | OnCreate::CopyOr(_), Some(v)) => set(object, field.key, v),
                    (OnCreate::CopyOr(default), None) => {
                        set(object, field.key, Value::from(default))
                    }
                    _ => {}
                }
            }
            Role::Metadata { .. } => {}
        }
    }
    Ok(())
}

fn secret_name(field: &Field) -> &'static str {
    match field.role {
        Role::Secret { name, .. } => name,
        _ => "",
    }
}

/// A credential a format found in a document.
#[derive(Debug)]
pub struct FoundEntry {
    /// Its parts.
    pub fields: ParsedFields,
    /// Where in the document it is (`tokens`, `anthropic`), when the file holds several
    /// credentials: the part of its location after `#`.
    pub json_path: Option<String>,
}

impl FileFormat {
    /// The entry that answers `name`, if any.
    pub fn entry_for(&self, name: &str) -> Option<&'static Entry> {
        self.entries.iter().find(|e| match e.at {
            At::EveryRootKey { .. } => !name.is_empty(),
            At::Root | At::Key(_) => e.names.contains(&name),
        })
    }

    /// Whether any of its credentials is written back: an entry marked [`Write::Back`] whose
    /// tokens no CLI owns ([`FileFormat::owner_of`]).
    pub fn writable(&self) -> bool {
        self.entries
            .iter()
            .any(|e| e.write == Write::Back && !self.owns(e))
    }

    /// The CLI that owns credential `name` of this format: [`FileFormat::owner`] for an OAuth
    /// entry, `None` for anything else (an API key a CLI keeps, such as Codex's
    /// `OPENAI_API_KEY`, is not single-use: copying it logs nobody out).
    pub fn owner_of(&self, name: &str) -> Option<&'static CliOwner> {
        self.entry_for(name).filter(|e| self.owns(e))?;
        self.owner
    }

    fn owns(&self, entry: &Entry) -> bool {
        self.owner.is_some() && entry.kind == CredentialKind::OAuth
    }

    /// The names `list` tries, in order: the first name of each entry, or every root key of `doc`.
    pub fn candidate_names(&self, doc: &Value) -> Vec<String> {
        let mut names = Vec::new();
        for entry in self.entries {
            match entry.at {
                At::EveryRootKey { .. } => {
                    if let Some(root) = doc.as_object() {
                        names.extend(root.keys().cloned());
                    }
                }
                At::Root | At::Key(_) => names.extend(entry.names.first().map(|n| n.to_string())),
            }
        }
        names
    }

    /// Reads credential `name` from `doc` (the file's JSON, named `what` in errors). `Ok(None)`
    /// when the format has no such name or the document does not hold it. The whole document
    /// is checked first (every field of every fixed entry and [`FileFormat::shared`], in the
    /// file's key order), so a broken field fails every name the file answers, as it would fail
    /// the tool that owns the file; an [`At::EveryRootKey`] entry is checked on its own.
    pub fn read(&self, doc: &Value, what: &str, name: &str) -> Result<Option<FoundEntry>> {
        let Some(entry) = self.entry_for(name) else {
            return Ok(None);
        };
        let Some(root) = doc.as_object() else {
            return Err(invalid_source(format!(
                "{what}: expected a JSON object at the top level, got {}",
                json_kind(doc)
            )));
        };
        self.check(root, what)?;
        self.read_entry(entry, root, what, name)
    }

    /// Checks every field the fixed entries and `shared` name, walking the root in key order.
    fn check(&self, root: &Map<String, Value>, what: &str) -> Result<()> {
        let root_fields = || {
            self.shared.iter().chain(
                self.entries
                    .iter()
                    .filter(|e| e.at == At::Root)
                    .flat_map(|e| e.fields),
            )
        };
        for (key, value) in root {
            for field in root_fields().filter(|f| f.key == key) {
                read_value(field, value, what, key)?;
            }
            for entry in self
                .entries
                .iter()
                .filter(|e| matches!(e.at, At::Key(k) if k == key))
            {
                if let Some(object) = container(value, what, key)? {
                    read_object(entry.fields, object, what, key)?;
                }
            }
        }
        if let Some(missing) = root_fields().find(|f| f.is_required() && !root.contains_key(f.key))
        {
            return Err(invalid_source(at_path(what, missing.key, "missing")));
        }
        Ok(())
    }

    fn read_entry(
        &self,
        entry: &Entry,
        root: &Map<String, Value>,
        what: &str,
        name: &str,
    ) -> Result<Option<FoundEntry>> {
        let (object, base) = match entry.at {
            At::Root => (Some(root), ""),
            At::Key(key) => (
                root.get(key)
                    .map(|v| container(v, what, key))
                    .transpose()?
                    .flatten(),
                key,
            ),
            At::EveryRootKey { .. } => (
                root.get(name)
                    .map(|v| container(v, what, name))
                    .transpose()?
                    .flatten(),
                name,
            ),
        };
        let Some(object) = object else {
            return Ok(None);
        };
        let mut read = read_object(entry.fields, object, what, base)?;
        if read.secrets.get(entry.kind.primary_field()).is_none() {
            return Ok(None);
        }
        if self.expiry_from_jwt && read.expires_at.is_none() {
            read.expires_at = read
                .secrets
                .get(crate::credential::fields::ACCESS_TOKEN)
                .and_then(|t| jwt_expiry_ms(t.expose_secret()));
        }
        let mut metadata = Map::new();
        if !self.shared.is_empty() {
            metadata.extend(read_object(self.shared, root, what, "")?.metadata);
        }
        if let At::EveryRootKey { name_as } = entry.at {
            metadata.insert(name_as.to_string(), Value::from(name));
        }
        match entry.metadata {
            Metadata::Listed => metadata.extend(read.metadata),
            Metadata::AllOtherFields => metadata.extend(
                object
                    .iter()
                    .filter(|(k, _)| {
                        !entry
                            .fields
                            .iter()
                            .any(|f| f.key == k.as_str() && f.is_credential_data())
                    })
                    .map(|(k, v)| (k.clone(), v.clone())),
            ),
        }
        let several = self.entries.len() > 1
            || self
                .entries
                .iter()
                .any(|e| matches!(e.at, At::EveryRootKey { .. }));
        let json_path = several.then(|| match entry.at {
            At::Root => entry
                .fields
                .iter()
                .find(|f| secret_name(f) == entry.kind.primary_field())
                .map_or("", |f| f.key)
                .to_string(),
            At::Key(key) => key.to_string(),
            At::EveryRootKey { .. } => name.to_string(),
        });
        Ok(Some(FoundEntry {
            fields: ParsedFields {
                kind: entry.kind,
                secrets: read.secrets,
                expires_at: read.expires_at,
                metadata,
            },
            json_path,
        }))
    }

    /// Why `name` cannot be written to this format, if it cannot: `INVALID_ARGUMENT` for a name
    /// the file does not hold, `UNSUPPORTED_OPERATION` (prefixed with `what`) for a read-only one
    /// or one a CLI owns ([`FileFormat::owner_of`]).
    pub fn check_writable(&self, name: &str, what: &str) -> Result<&'static Entry> {
        let Some(entry) = self.entry_for(name) else {
            let listed: Vec<String> = self
                .entries
                .iter()
                .filter_map(|e| e.names.first())
                .map(|n| format!("`{n}`"))
                .collect();
            return Err(Error::invalid_argument(match listed.as_slice() {
                [] => format!(
                    "{} holds one credential per name: the name is empty",
                    self.label
                ),
                [one] => format!("{} holds only {one}, not `{name}`", self.label),
                more => format!("{} holds {}, not `{name}`", self.label, more.join(" and ")),
            }));
        };
        if let Write::Never(reason) = entry.write {
            return Err(Error::new(
                ErrorCode::UnsupportedOperation,
                format!("{what}: {reason}"),
            ));
        }
        if let Some(owner) = self.owner_of(name) {
            return Err(Error::new(
                ErrorCode::UnsupportedOperation,
                format!(
                    "{what}: {} owns the tokens of `{name}`; this package reads them and never writes them (renew them with {})",
                    owner.cli, owner.renew
                ),
            ));
        }
        Ok(entry)
    }

    /// Writes `credential`'s secrets and expiry into the document `existing` (or a new one), as
    /// its entry's fields say (see [`write_object`]); its object is created at the end of the
    /// root when missing, and [`FileFormat::write_stamp`] set to `now`. Every other key is kept,
    /// in order. Errors as [`FileFormat::check_writable`] (with the label for `what`).
    pub fn merge(
        &self,
        existing: Option<&Value>,
        credential: &Credential,
        now: SystemTime,
    ) -> Result<Value> {
        let entry = self.check_writable(&credential.name, self.label)?;
        let mut root = match existing {
            Some(Value::Object(map)) => map.clone(),
            _ => Map::new(),
        };
        let target = format!(
            "{} holds `{}` as an {} credential",
            self.label,
            credential.name,
            entry.kind.as_str()
        );
        let key = match entry.at {
            At::Root => None,
            At::Key(key) => Some(key),
            At::EveryRootKey { .. } => Some(credential.name.as_str()),
        };
        match key {
            None => {
                let created = root.is_empty();
                write_object(entry.fields, &mut root, credential, created, &target)?;
            }
            Some(key) => {
                let created = !matches!(root.get(key), Some(Value::Object(_)));
                let object = object_at(&mut root, key);
                write_object(entry.fields, object, credential, created, &target)?;
            }
        }
        if let Some(stamp) = self.write_stamp {
            let at = humantime::format_rfc3339_micros(now).to_string();
            set(&mut root, stamp, Value::from(at));
        }
        Ok(Value::Object(root))
    }
}

/// `value` (at `path`) as an entry's object: `None` when null, an error when not an object.
fn container<'a>(
    value: &'a Value,
    what: &str,
    path: &str,
) -> Result<Option<&'a Map<String, Value>>> {
    match value {
        Value::Null => Ok(None),
        Value::Object(object) => Ok(Some(object)),
        other => Err(invalid_source(at_path(
            what,
            path,
            &format!("expected an object, got {}", json_kind(other)),
        ))),
    }
}

/// The `exp` claim of a JWT, in epoch milliseconds: the payload is base64url-decoded and read as
/// JSON, without checking the signature (the expiry only decides when to refresh). `None` for
/// anything that is not a JWT with a numeric `exp`.
pub fn jwt_expiry_ms(token: &str) -> Option<i64> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let claims: Value = serde_json::from_slice(&base64url_decode(payload)?).ok()?;
    let exp = claims.get("exp")?.as_f64()?;
    (exp.is_finite() && exp > 0.0 && exp < 1e13).then_some((exp * 1000.0) as i64)
}

/// Unpadded (or padded) base64url, as JWTs use; `None` on any other character.
fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}
