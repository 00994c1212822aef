//! OpenClaw 2026.9's SQLite stores, read-only. OpenClaw keeps its live auth profiles and its team
//! secret store in SQLite (WAL mode); `auth-profiles.json` is retired input it imports once.
//!
//! | store | file | table, row | credential names |
//! |---|---|---|---|
//! | shared auth profiles | `<stateDir>/state/openclaw.sqlite` | `config_machine_state`, `authProfiles.store` (order and lastGood: `authProfiles.state`) | the profile id (`anthropic:default`); a bare provider (`anthropic`) resolves to one of its profiles |
//! | an agent's auth profiles | `<stateDir>/agents/<agentId>/agent/openclaw-agent.sqlite` | `auth_profile_store`, `primary` (`auth_profile_state` likewise) | `agents/<agentId>/<profileId>`; `agents/<agentId>/<provider>` resolves |
//! | team secret store | `<stateDir>/state/openclaw.sqlite` | `secret_store_entries`, `scope_kind = 'team'`, both kinds (`secret`, `env`), soft-deleted rows skipped | `store/<NAME>` |
//!
//! Every database is opened with `SQLITE_OPEN_READ_ONLY` (this package never writes them), waits
//! up to [`BUSY_TIMEOUT`] for OpenClaw's writers (OpenClaw's own busy timeout), and reads each
//! store's rows in one read transaction, so a write OpenClaw commits meanwhile is seen whole or
//! not at all. A database whose `PRAGMA user_version` is newer than the schemas this package
//! knows is refused (OpenClaw refuses those too). Each database (and in the shared one, each of
//! its two stores) is its own provider: a broken one fails alone, the others are still read.
//!
//! A profile holding a `keyRef` / `tokenRef` (a SecretRef) is not plaintext: env refs are read
//! from OpenClaw's environment, file refs from the file provider in `secrets.providers`, and store
//! refs (`{"source":"store","id":"NAME"}`) from the team secret store's live row `NAME` (as
//! OpenClaw's own store provider does: team scope, soft-deleted rows never); exec refs are
//! reported as such (`UNSUPPORTED_OPERATION`), never run. Errors name the
//! file, table, row and JSON path; a row that is not valid JSON is reported with its position
//! and the parser's category only (the row holds secrets).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde_json::{Map, Value};

use super::files::auth_profiles::{parse_auth_profile, resolve_provider, AuthProfilesFile};
use super::files::typed::json_path;
use super::{CredentialProvider, Listing};
use crate::credential::{
    fields, Credential, CredentialKind, CredentialSource, CredentialVersion, SecretFields,
    SourceGroup,
};
use crate::error::{Error, ErrorCode, Result};
use crate::openclaw::config::EnvLookup;
use crate::openclaw::paths::OpenClawPaths;
use vault_client::secret::ZeroizingJson;

/// Provider id of the shared auth profile store (`state/openclaw.sqlite`).
pub const SHARED_AUTH_STORE_ID: &str = "openclaw-auth-store";
/// Provider id of an agent's auth profile store (`openclaw-agent.sqlite`).
pub const AGENT_AUTH_STORE_ID: &str = "openclaw-agent-auth-store";
/// Provider id of the team secret store (`secret_store_entries`).
pub const SECRET_STORE_ID: &str = "openclaw-secret-store";

/// How long a read waits for OpenClaw's writers: OpenClaw's own `OPENCLAW_SQLITE_BUSY_TIMEOUT_MS`.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// The newest shared state schema (`PRAGMA user_version`) this package reads (OpenClaw 2026.9.6).
pub const STATE_SCHEMA_MAX: i64 = 18;
/// The newest agent schema this package reads (OpenClaw 2026.9.6).
pub const AGENT_SCHEMA_MAX: i64 = 23;
/// The `config_machine_state` row holding the shared auth profiles.
pub const SHARED_STORE_KEY: &str = "authProfiles.store";
/// The `config_machine_state` row holding the shared profiles' order and lastGood.
pub const SHARED_STATE_KEY: &str = "authProfiles.state";
/// The `auth_profile_store` / `auth_profile_state` row of an agent database.
pub const AGENT_ROW: &str = "primary";
/// The prefix of team secret store names (`store/<NAME>`).
pub const STORE_NAME_PREFIX: &str = "store/";

/// `<stateDir>/state/openclaw.sqlite`.
pub fn state_db_path(state_dir: &Path) -> PathBuf {
    state_dir.join("state").join("openclaw.sqlite")
}

/// `<stateDir>/agents/<agentId>/agent/openclaw-agent.sqlite`.
pub fn agent_db_path(state_dir: &Path, agent: &str) -> PathBuf {
    state_dir
        .join("agents")
        .join(agent)
        .join("agent")
        .join("openclaw-agent.sqlite")
}

/// The credential name prefix of an agent's profiles: `agents/<agentId>/`.
pub fn agent_prefix(agent: &str) -> String {
    format!("agents/{agent}/")
}

/// Agents with an `openclaw-agent.sqlite` under `<stateDir>/agents`, sorted by id.
pub fn agents_with_db(state_dir: &Path) -> Vec<String> {
    let mut agents: Vec<String> = std::fs::read_dir(state_dir.join("agents"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|a| agent_db_path(state_dir, a).exists())
                .collect()
        })
        .unwrap_or_default();
    agents.sort();
    agents
}

/// The largest config file read for its agent roster (OpenClaw's own config limit is larger, but
/// a roster lives near the top of any real file).
const MAX_ROSTER_CONFIG: u64 = 16 * 1024 * 1024;

/// `(agentId, agentDir)` of every agent in the config's roster that names its own `agentDir`
/// (`agents.entries.<id>.agentDir`, or `agents.list[].agentDir` with its `id`), the dir resolved
/// as OpenClaw does (`~` is the OpenClaw home). A config that cannot be read or parsed names no
/// agent: `migrate --rewrite-config` asks OpenClaw's own audit before applying, so a store
/// missed here is still caught there.
pub fn configured_agent_dirs(
    paths: &OpenClawPaths,
    config_file: Option<&Path>,
) -> Vec<(String, PathBuf)> {
    let Some(file) = config_file else {
        return Vec::new();
    };
    let text = match std::fs::File::open(file).and_then(|f| {
        use std::io::Read;
        let mut text = String::new();
        f.take(MAX_ROSTER_CONFIG)
            .read_to_string(&mut text)
            .map(|_| text)
    }) {
        Ok(t) => zeroize::Zeroizing::new(t),
        Err(_) => return Vec::new(),
    };
    if crate::nesting::check(&text).is_err() {
        return Vec::new();
    }
    let Ok(config) = json5::from_str::<Value>(&text) else {
        return Vec::new();
    };
    // The config holds plaintext secrets: wiped when dropped.
    let config = ZeroizingJson(config);
    let agents = config.0.get("agents");
    let entries: Vec<(String, &Value)> = match (
        agents.and_then(|a| a.get("entries")),
        agents.and_then(|a| a.get("list")),
    ) {
        (Some(Value::Object(m)), _) => m.iter().map(|(id, e)| (id.clone(), e)).collect(),
        (None, Some(Value::Array(list))) => list
            .iter()
            .filter_map(|e| Some((e.get("id")?.as_str()?.to_string(), e)))
            .collect(),
        _ => Vec::new(),
    };
    entries
        .into_iter()
        .filter_map(|(id, e)| {
            let dir = e.get("agentDir")?.as_str()?.trim();
            let id = id.trim().to_lowercase();
            (!dir.is_empty() && !id.is_empty()).then(|| (id, paths.user_path(dir)))
        })
        .collect()
}

/// Every agent auth store OpenClaw reads: `<stateDir>/agents/<id>/agent/openclaw-agent.sqlite`
/// of each agent the config's roster does not move elsewhere, then `<agentDir>/openclaw-agent.sqlite`
/// of each agent in the roster with an `agentDir` of its own. `(agentId, file)`, one per file
/// and one per agent, only files that exist. An agent with a roster `agentDir` is answered from
/// that store alone, as OpenClaw does: an older store left at the state-dir place is stale
/// (see [`shadowed_agent_stores`]) and never read.
pub fn agent_stores(paths: &OpenClawPaths, config_file: Option<&Path>) -> Vec<(String, PathBuf)> {
    stores_and_shadowed(paths, config_file).0
}

/// The stores at `<stateDir>/agents/<id>/agent/openclaw-agent.sqlite` whose agent's roster
/// entry (`agents.list[].agentDir` / `agents.entries.<id>.agentDir` of openclaw.json) points at
/// another directory: stale copies OpenClaw no longer reads for that agent. `(agentId, file)`.
pub fn shadowed_agent_stores(
    paths: &OpenClawPaths,
    config_file: Option<&Path>,
) -> Vec<(String, PathBuf)> {
    stores_and_shadowed(paths, config_file).1
}

type AgentFiles = Vec<(String, PathBuf)>;

fn stores_and_shadowed(
    paths: &OpenClawPaths,
    config_file: Option<&Path>,
) -> (AgentFiles, AgentFiles) {
    let canon = |f: &Path| std::fs::canonicalize(f).unwrap_or_else(|_| f.to_path_buf());
    let roster: Vec<(String, PathBuf)> = configured_agent_dirs(paths, config_file)
        .into_iter()
        .map(|(agent, dir)| (agent, dir.join("openclaw-agent.sqlite")))
        .collect();
    let mut out: Vec<(String, PathBuf)> = Vec::new();
    let mut shadowed = Vec::new();
    let mut seen = std::collections::HashSet::new();
    if let Some(state_dir) = &paths.state_dir {
        for agent in agents_with_db(state_dir) {
            let file = agent_db_path(state_dir, &agent);
            if !file.exists() {
                continue;
            }
            let moved = roster
                .iter()
                .any(|(a, f)| *a == agent && canon(f) != canon(&file));
            if moved {
                shadowed.push((agent, file));
            } else if seen.insert(canon(&file)) {
                out.push((agent, file));
            }
        }
    }
    for (agent, file) in roster {
        if file.exists() && seen.insert(canon(&file)) {
            out.push((agent, file));
        }
    }
    (out, shadowed)
}

/// Every SQLite store provider under `paths`' state directory: the shared auth profiles, each
/// agent's auth profiles, the team secret store. `env` answers env SecretRefs; `config_file`
/// is read for file SecretRef providers. Empty without a state directory.
///
/// `vault`: where a bare provider name (`openai`) is read when the profile it resolves to holds
/// this package's own exec ref (what `migrate --rewrite-config` leaves), so the bare name answers
/// the same value after the migration as before it.
pub fn sqlite_providers(
    paths: &OpenClawPaths,
    env: EnvLookup,
    config_file: Option<PathBuf>,
    vault: Option<Arc<crate::providers::vault::VaultProvider>>,
) -> Vec<Arc<dyn CredentialProvider>> {
    let Some(state_dir) = &paths.state_dir else {
        return Vec::new();
    };
    let refs = RefContext {
        env,
        config_file,
        state_db: state_db_path(state_dir),
        vault,
    };
    let mut out: Vec<Arc<dyn CredentialProvider>> =
        vec![Arc::new(AuthStoreProvider::shared(state_dir, refs.clone()))];
    for (agent, file) in agent_stores(paths, refs.config_file.as_deref()) {
        out.push(Arc::new(AuthStoreProvider::agent(
            file,
            &agent,
            refs.clone(),
        )));
    }
    out.push(Arc::new(SecretStoreProvider::new(state_dir)));
    out
}

// ---- opening and reading ---------------------------------------------------------------------

/// Which schema a database has, for the version check and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbRole {
    /// `state/openclaw.sqlite`.
    State,
    /// `openclaw-agent.sqlite`.
    Agent,
}

impl DbRole {
    fn max_schema(self) -> i64 {
        match self {
            DbRole::State => STATE_SCHEMA_MAX,
            DbRole::Agent => AGENT_SCHEMA_MAX,
        }
    }
}

/// An SQLite error as this package reports it: what happened to which file, never row data.
fn sqlite_error(file: &Path, what: &str, e: &rusqlite::Error) -> Error {
    use rusqlite::ErrorCode as C;
    let code = match e {
        rusqlite::Error::SqliteFailure(f, _) => Some(f.code),
        _ => None,
    };
    let (code, detail) = match code {
        Some(C::DatabaseBusy) | Some(C::DatabaseLocked) => (
            ErrorCode::LockTimeout,
            format!(
                "is locked by another process for more than {} s",
                BUSY_TIMEOUT.as_secs()
            ),
        ),
        Some(C::NotADatabase) => (
            ErrorCode::InvalidSource,
            "is not an SQLite database".to_string(),
        ),
        Some(C::DatabaseCorrupt) => (
            ErrorCode::InvalidSource,
            "is corrupt or truncated (SQLite: database disk image is malformed)".to_string(),
        ),
        Some(C::CannotOpen) | Some(C::PermissionDenied) | Some(C::ReadOnly) => (
            ErrorCode::SourceUnavailable,
            "cannot be opened for reading".to_string(),
        ),
        // Other failures: SQLite's own category, which never quotes row data.
        Some(other) => (
            ErrorCode::InvalidSource,
            format!("cannot be read ({other:?})"),
        ),
        None => (ErrorCode::InvalidSource, "cannot be read".to_string()),
    };
    Error::new(code, format!("{} {what}: {detail}", file.display()))
}

/// `<file>-wal`.
fn wal_of(file: &Path) -> PathBuf {
    let mut wal = file.as_os_str().to_owned();
    wal.push("-wal");
    PathBuf::from(wal)
}

/// True when `file`'s header says WAL mode (bytes 18 and 19 are 2).
fn is_wal_mode(file: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 20];
    std::fs::File::open(file)
        .and_then(|mut f| f.read_exact(&mut head))
        .map(|_| head[18] == 2 && head[19] == 2)
        .unwrap_or(false)
}

/// `file:<path>?immutable=1`, the path percent-encoded as SQLite's URI rules ask.
fn immutable_uri(file: &Path) -> String {
    let mut uri = String::from("file:");
    for b in file.as_os_str().as_encoded_bytes() {
        match *b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                uri.push(*b as char)
            }
            other => uri.push_str(&format!("%{other:02X}")),
        }
    }
    uri.push_str("?immutable=1");
    uri
}

/// Runs `read` on `file` opened read-only, or `Ok(None)` when the file does not exist. Checks
/// that it is an SQLite database of a schema this package reads.
///
/// A read-only connection to a WAL database creates its `-wal` and `-shm` files when they are
/// missing (no OpenClaw process has it open). This package never creates files in OpenClaw's
/// state, so such a database is read as `immutable` (no locks, no side files); if a `-wal`
/// appeared meanwhile (OpenClaw opened it and may be writing), the read is done again the
/// ordinary way, which now finds the side files OpenClaw made.
fn with_db<T>(
    file: &Path,
    role: DbRole,
    read: impl Fn(&Connection) -> Result<T>,
) -> Result<Option<T>> {
    match std::fs::symlink_metadata(file) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::new(
                ErrorCode::SourceUnavailable,
                format!("{}: cannot be read ({})", file.display(), e.kind()),
            ))
        }
    }
    let wal = wal_of(file);
    let immutable = !wal.exists() && is_wal_mode(file);
    let conn = open_read_only(file, role, immutable)?;
    let value = read(&conn)?;
    drop(conn);
    if immutable && wal.exists() {
        let conn = open_read_only(file, role, false)?;
        return read(&conn).map(Some);
    }
    Ok(Some(value))
}

/// Opens `file` (which exists) read-only, `immutable` or not, and checks its schema version.
fn open_read_only(file: &Path, role: DbRole, immutable: bool) -> Result<Connection> {
    // NO_MUTEX: one connection per read, on one thread. Never create, never read-write.
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = if immutable {
        Connection::open_with_flags(immutable_uri(file), flags | OpenFlags::SQLITE_OPEN_URI)
    } else {
        Connection::open_with_flags(file, flags)
    }
    .map_err(|e| sqlite_error(file, "", &e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| sqlite_error(file, "", &e))?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|e| sqlite_error(file, "", &e))?;
    if version > role.max_schema() {
        return Err(Error::new(
            ErrorCode::InvalidSource,
            format!(
                "{}: has a newer schema version ({version}) than this package reads (up to {}); update @openclaw/vault",
                file.display(),
                role.max_schema()
            ),
        ));
    }
    Ok(conn)
}

/// The JSON text of one row, parsed. The one place a row's parser error becomes a message:
/// only its position and category, never the text (which holds secrets).
fn parse_row_json(text: &str, file: &Path, row: &str) -> Result<Value> {
    serde_json::from_str::<Value>(text).map_err(|e| {
        let category = match e.classify() {
            serde_json::error::Category::Eof => "truncated",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "unexpected data",
            serde_json::error::Category::Io => "read error",
        };
        Error::new(
            ErrorCode::InvalidSource,
            format!(
                "{} {row}: is not valid JSON (line {}, column {}: {category})",
                file.display(),
                e.line(),
                e.column()
            ),
        )
    })
}

/// Whether `table` exists: a database too old (or too new) for a store simply lacks it.
fn has_table(conn: &Connection, table: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [table],
        |_| Ok(()),
    )
    .optional()
    .map(|r| r.is_some())
}

/// A database file's change stamp: the file's and its WAL's length and mtime. A commit OpenClaw
/// makes changes one of them; the parse cache is keyed on it.
fn stamp(file: &Path) -> Option<[u128; 4]> {
    let of = |p: &Path| {
        std::fs::metadata(p).ok().map(|m| {
            let t = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            (m.len() as u128, t)
        })
    };
    let (len, t) = of(file)?;
    let mut wal = file.as_os_str().to_owned();
    wal.push("-wal");
    let (wlen, wt) = of(Path::new(&wal)).unwrap_or((0, 0));
    Some([len, t, wlen, wt])
}

fn version_of(file: &Path) -> CredentialVersion {
    std::fs::metadata(file)
        .map(|m| crate::local_file::version_of(&m))
        .unwrap_or(CredentialVersion::None)
}

// ---- SecretRefs in profiles ------------------------------------------------------------------

/// What SecretRefs in profiles are resolved with: OpenClaw's environment, its config file (for
/// `secrets.providers.<alias>` of source `file`) and its shared state database (for store refs).
#[derive(Clone)]
struct RefContext {
    env: EnvLookup,
    config_file: Option<PathBuf>,
    state_db: PathBuf,
    /// Where a bare provider name whose profile holds this package's own exec ref is read
    /// (see [`AuthStoreProvider::get`]); `None` without a Vault.
    vault: Option<Arc<crate::providers::vault::VaultProvider>>,
}

impl RefContext {
    /// The value of `secret_ref` (`{source, provider, id}`), read for profile `at` of `what`.
    fn resolve(&self, secret_ref: &Value, what: &str, at: &str) -> Result<String> {
        let s = |k: &str| secret_ref.get(k).and_then(Value::as_str).unwrap_or("");
        let (source, provider, id) = (s("source"), s("provider"), s("id"));
        let provider = if provider.is_empty() {
            "default"
        } else {
            provider
        };
        match source {
            "env" => (self.env)(id).filter(|v| !v.is_empty()).ok_or_else(|| {
                Error::new(
                    ErrorCode::CredentialNotFound,
                    format!("{what} at `{at}`: an env SecretRef to {id}, which is not set"),
                )
            }),
            "file" => self.resolve_file(provider, id, what, at),
            "store" => self.resolve_store(id, what, at),
            other => Err(Error::new(
                ErrorCode::UnsupportedOperation,
                format!(
                    "{what} at `{at}`: a SecretRef to the {other:?} provider {provider:?} (not plaintext; OpenClaw resolves it)"
                ),
            )),
        }
    }

    /// A store SecretRef: the team secret store's live entry `id` (both kinds), read as
    /// OpenClaw's store provider reads it. A name outside OpenClaw's grammar is `INVALID_SOURCE`;
    /// a missing or soft-deleted entry is `CREDENTIAL_NOT_FOUND`.
    fn resolve_store(&self, id: &str, what: &str, at: &str) -> Result<String> {
        if !is_store_name(id) {
            return Err(Error::new(
                ErrorCode::InvalidSource,
                format!(
                    "{what} at `{at}`: a store SecretRef whose id is not a secret store name (expected ^[A-Z][A-Z0-9_]{{0,127}}$)"
                ),
            ));
        }
        let store = SecretStoreProvider {
            file: self.state_db.clone(),
        };
        let entry = store.entries(Some(id))?.into_iter().next();
        match entry {
            Some(e) if !e.value.is_empty() => Ok(e.value.as_str().to_string()),
            _ => Err(Error::new(
                ErrorCode::CredentialNotFound,
                format!(
                    "{what} at `{at}`: a store SecretRef to {id}, which is not in the team secret store of {}",
                    self.state_db.display()
                ),
            )),
        }
    }

    /// A file SecretRef: `secrets.providers.<alias> = {source: "file", path, mode}`; mode
    /// `singleValue` (id `value`) is the whole file, `json` (the default) reads the JSON pointer
    /// `id`.
    fn resolve_file(&self, provider: &str, id: &str, what: &str, at: &str) -> Result<String> {
        let unresolvable = |why: &str| {
            Error::new(
                ErrorCode::InvalidSource,
                format!("{what} at `{at}`: a file SecretRef to provider {provider:?}: {why}"),
            )
        };
        let config = self
            .config_file
            .as_deref()
            .and_then(|f| {
                crate::local_file::read_credential_file(
                    f,
                    crate::local_file::MAX_CREDENTIAL_FILE_BYTES,
                )
                .ok()
                .flatten()
            })
            .and_then(|f| crate::openclaw::config::parse_json5(&f).ok())
            .ok_or_else(|| unresolvable("the OpenClaw config cannot be read"))?;
        let entry = config
            .pointer(&format!(
                "/secrets/providers/{}",
                provider.replace('~', "~0").replace('/', "~1")
            ))
            .filter(|p| p.get("source").and_then(Value::as_str) == Some("file"))
            .ok_or_else(|| unresolvable("no such file provider in secrets.providers"))?;
        let path = entry
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| unresolvable("the provider has no path"))?;
        let file = crate::local_file::read_credential_file(
            Path::new(path),
            crate::local_file::MAX_CREDENTIAL_FILE_BYTES,
        )?
        .ok_or_else(|| unresolvable("its file does not exist"))?;
        let text = String::from_utf8(file.bytes.to_vec())
            .map_err(|_| unresolvable("its file is not UTF-8"))?;
        let text = zeroize::Zeroizing::new(text);
        if entry.get("mode").and_then(Value::as_str) == Some("singleValue") {
            return Ok(text.trim_end_matches(['\r', '\n']).to_string());
        }
        let doc = ZeroizingJson(
            serde_json::from_str::<Value>(&text)
                .map_err(|_| unresolvable("its file is not valid JSON"))?,
        );
        doc.0
            .pointer(id)
            .and_then(Value::as_str)
            .map(String::from)
            .ok_or_else(|| unresolvable("the id names no string in its file"))
    }
}

/// OpenClaw's secret store name grammar: `^[A-Z][A-Z0-9_]{0,127}$`.
fn is_store_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && b[0].is_ascii_uppercase()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
}

/// The ref field of a profile type and the plaintext field it replaces.
fn ref_field(profile: &Value) -> Option<(&'static str, &'static str, &'static str)> {
    match profile.get("type").and_then(Value::as_str)? {
        "api_key" => Some(("keyRef", "key", fields::API_KEY)),
        "token" => Some(("tokenRef", "token", fields::TOKEN)),
        _ => None,
    }
}

/// True for a static profile (`api_key`, `token`) that holds neither its value nor a ref: what
/// OpenClaw's `secrets apply` leaves when it scrubs a provider's profiles after pointing the
/// provider's config key at a ref. Nothing secret is kept there, so it is not a credential (and
/// not an error: a rerun after a complete migration must stay quiet).
fn holds_no_secret(profile: &Value) -> bool {
    let Some((ref_key, field, _)) = ref_field(profile) else {
        return false;
    };
    let empty = |k: &str| match profile.get(k) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(_) => false,
    };
    empty(field) && empty(ref_key)
}

/// The exec SecretRef id of a static profile that holds no plaintext and whose `keyRef` /
/// `tokenRef` points at this package's own exec provider
/// ([`EXEC_PROVIDER_ALIAS`](crate::migrate::EXEC_PROVIDER_ALIAS)): what `migrate
/// --rewrite-config` left there. Its value lives in Vault, not in this store, so the store
/// answers no name for it (a rerun checks the ref against Vault instead).
pub fn own_exec_ref_id(profile: &Value) -> Option<&str> {
    let (ref_key, _, _) = ref_field(profile)?;
    if plaintext_static_field(profile).is_some() {
        return None;
    }
    let r = profile.get(ref_key).filter(|v| is_ref(v))?;
    let s = |k: &str| r.get(k).and_then(Value::as_str);
    (s("source") == Some("exec")
        && s("provider").is_some_and(crate::migrate::apply_plan::is_own_alias))
    .then(|| s("id"))
    .flatten()
}

/// True for `{source, id}` objects.
fn is_ref(v: &Value) -> bool {
    crate::providers::openclaw_config::is_secret_ref(v)
}

/// The plaintext field of a static profile (`key` of `api_key`, `token` of `token`) when it
/// holds a non-empty string, not a ref: what OpenClaw's audit reports as `PLAINTEXT_FOUND`.
pub fn plaintext_static_field(profile: &Value) -> Option<&'static str> {
    let (_, field, _) = ref_field(profile)?;
    profile
        .get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(|_| field)
}

// ---- auth profile stores -------------------------------------------------------------------

/// Which auth store a provider reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthStoreKind {
    /// The shared store in `state/openclaw.sqlite`.
    Shared,
    /// One agent's `openclaw-agent.sqlite`.
    Agent(String),
}

/// One auth store, read: the profiles document and its order/lastGood layout.
struct StoreDoc {
    doc: ZeroizingJson,
    layout: AuthProfilesFile,
    version: CredentialVersion,
}

/// The auth profiles of one SQLite auth store (see the module table for names).
pub struct AuthStoreProvider {
    file: PathBuf,
    kind: AuthStoreKind,
    refs: RefContext,
    cache: Mutex<Option<([u128; 4], Arc<StoreDoc>)>>,
}

impl AuthStoreProvider {
    fn shared(state_dir: &Path, refs: RefContext) -> Self {
        AuthStoreProvider {
            file: state_db_path(state_dir),
            kind: AuthStoreKind::Shared,
            refs,
            cache: Mutex::new(None),
        }
    }

    fn agent(file: PathBuf, agent: &str, refs: RefContext) -> Self {
        AuthStoreProvider {
            file,
            kind: AuthStoreKind::Agent(agent.to_string()),
            refs,
            cache: Mutex::new(None),
        }
    }

    /// The database file.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Which store it is.
    pub fn kind(&self) -> &AuthStoreKind {
        &self.kind
    }

    fn prefix(&self) -> String {
        match &self.kind {
            AuthStoreKind::Shared => String::new(),
            AuthStoreKind::Agent(a) => agent_prefix(a),
        }
    }

    /// `<file> table <t> row <r>`, for errors.
    fn row_label(&self) -> String {
        match self.kind {
            AuthStoreKind::Shared => format!("table config_machine_state row {SHARED_STORE_KEY}"),
            AuthStoreKind::Agent(_) => format!("table auth_profile_store row {AGENT_ROW}"),
        }
    }

    fn read(&self) -> Result<Option<Arc<StoreDoc>>> {
        let Some(stamp) = stamp(&self.file) else {
            return Ok(None);
        };
        {
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((s, doc)) = cache.as_ref() {
                if *s == stamp {
                    return Ok(Some(doc.clone()));
                }
            }
        }
        let Some(doc) = self.read_uncached()? else {
            return Ok(None);
        };
        let doc = Arc::new(doc);
        *self.cache.lock().unwrap_or_else(|p| p.into_inner()) = Some((stamp, doc.clone()));
        Ok(Some(doc))
    }

    fn read_uncached(&self) -> Result<Option<StoreDoc>> {
        let (role, table, key_col, value_col, store_key, state_key) = match self.kind {
            AuthStoreKind::Shared => (
                DbRole::State,
                "config_machine_state",
                "state_key",
                "value_json",
                SHARED_STORE_KEY,
                Some(("config_machine_state", SHARED_STATE_KEY)),
            ),
            AuthStoreKind::Agent(_) => (
                DbRole::Agent,
                "auth_profile_store",
                "store_key",
                "store_json",
                AGENT_ROW,
                Some(("auth_profile_state", AGENT_ROW)),
            ),
        };
        let label = self.row_label();
        let cells = with_db(&self.file, role, |conn| {
            let err = |e: rusqlite::Error| sqlite_error(&self.file, &label, &e);
            // One read transaction: the store and its state row from the same commit.
            let tx = conn.unchecked_transaction().map_err(err)?;
            let read_cell =
                |table: &str, key: &str| -> Result<Option<zeroize::Zeroizing<String>>> {
                    let (kc, vc) = if table == "auth_profile_state" {
                        ("state_key", "state_json")
                    } else {
                        (key_col, value_col)
                    };
                    if !has_table(&tx, table).map_err(err)? {
                        return Ok(None);
                    }
                    tx.query_row(
                        &format!("SELECT {vc} FROM {table} WHERE {kc} = ?1"),
                        [key],
                        |r| r.get::<_, Option<String>>(0),
                    )
                    .optional()
                    .map(|v| v.flatten().map(zeroize::Zeroizing::new))
                    .map_err(|e| sqlite_error(&self.file, &format!("table {table} row {key}"), &e))
                };
            let Some(text) = read_cell(table, store_key)? else {
                return Ok(None);
            };
            // The state row (order, lastGood) only steers which profile a bare provider name
            // means; a broken one is ignored rather than hiding every profile.
            let state = state_key.and_then(|(t, k)| read_cell(t, k).ok().flatten());
            Ok(Some((text, state)))
        })?;
        let Some((text, state_text)) = cells.flatten() else {
            return Ok(None);
        };
        let doc = ZeroizingJson(parse_row_json(&text, &self.file, &label)?);
        let what = format!("{} {label}", self.file.display());
        let Some(profiles) = doc.0.get("profiles") else {
            return Err(Error::new(
                ErrorCode::InvalidSource,
                format!("{what}: expected an object with `profiles`"),
            ));
        };
        let Some(profiles) = profiles.as_object().cloned() else {
            return Err(Error::new(
                ErrorCode::InvalidSource,
                format!("{what} at `profiles`: expected an object"),
            ));
        };
        let state = state_text
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .unwrap_or(Value::Null);
        let order = state
            .get("order")
            .or_else(|| doc.0.get("order"))
            .and_then(|v| serde_json::from_value(v.clone()).ok());
        let last_good = state
            .get("lastGood")
            .or_else(|| doc.0.get("lastGood"))
            .and_then(|v| serde_json::from_value(v.clone()).ok());
        let layout = AuthProfilesFile {
            version: doc.0.get("version").and_then(Value::as_u64),
            profiles,
            order,
            last_good,
        };
        Ok(Some(StoreDoc {
            doc,
            layout,
            version: version_of(&self.file),
        }))
    }

    /// A bare provider name `name` that resolves to profile `id`, which holds this package's own
    /// exec ref `ref_id` (`migrate --rewrite-config` moved its value into Vault): read from Vault
    /// (`GET <mount>/data/<prefix>/credentials/<profile name>`), so the bare name answers after
    /// the migration what it answered before. The credential is named `name` and carries the
    /// profile's `profileId`, `provider` and `secretRef` in its metadata (`migrate` sees a ref,
    /// not plaintext). `None` without a Vault, for a ref outside this Vault's prefix, or when
    /// Vault holds nothing there (a rerun of `migrate` reports that ref as missing).
    async fn through_own_ref(
        &self,
        store: &StoreDoc,
        id: &str,
        ref_id: &str,
        name: &str,
    ) -> Result<Option<Credential>> {
        let Some(vault) = &self.refs.vault else {
            return Ok(None);
        };
        let Some(mut credential) = vault.get_by_exec_id(ref_id, name).await? else {
            return Ok(None);
        };
        let profile = store.doc.0.get("profiles").and_then(|p| p.get(id));
        if let AuthStoreKind::Agent(agent) = &self.kind {
            credential
                .metadata
                .insert("agent".into(), Value::from(agent.as_str()));
        }
        credential
            .metadata
            .insert("profileId".into(), Value::from(id));
        if let Some(provider) = profile
            .and_then(|p| p.get("provider"))
            .and_then(Value::as_str)
        {
            credential
                .metadata
                .insert("provider".into(), Value::from(provider));
        }
        if let Some(secret_ref) = profile
            .and_then(|p| ref_field(p).and_then(|(key, _, _)| p.get(key)))
            .cloned()
        {
            credential.metadata.insert("secretRef".into(), secret_ref);
        }
        Ok(Some(credential))
    }

    fn credential(&self, store: &StoreDoc, id: &str, name: &str) -> Result<Credential> {
        let what = format!("{} {}", self.file.display(), self.row_label());
        let at = json_path("profiles", id);
        let profile = store.doc.0.get("profiles").and_then(|p| p.get(id));
        let mut metadata = Map::new();
        if let AuthStoreKind::Agent(agent) = &self.kind {
            metadata.insert("agent".into(), Value::from(agent.as_str()));
        }
        metadata.insert("profileId".into(), Value::from(id));
        // A static profile holding a ref instead of its value: resolve env and file refs.
        if let Some(profile) = profile {
            if let Some((ref_key, field, secret_field)) = ref_field(profile) {
                let plaintext = profile.get(field).and_then(Value::as_str);
                if let (None, Some(secret_ref)) =
                    (plaintext, profile.get(ref_key).filter(|v| is_ref(v)))
                {
                    let value = self
                        .refs
                        .resolve(secret_ref, &what, &json_path(&at, ref_key))?;
                    let provider = profile
                        .get("provider")
                        .and_then(Value::as_str)
                        .unwrap_or_else(|| id.split(':').next().unwrap_or(id));
                    metadata.insert("provider".into(), Value::from(provider));
                    metadata.insert("secretRef".into(), secret_ref.clone());
                    let mut secrets = SecretFields::new();
                    secrets.insert_str(secret_field, &value);
                    let kind = if secret_field == fields::API_KEY {
                        CredentialKind::ApiKey
                    } else {
                        CredentialKind::Token
                    };
                    return Ok(self.build(name, &at, kind, secrets, None, metadata, store));
                }
            }
        }
        let profile = parse_auth_profile(&store.doc.0, &what, id)?.ok_or_else(|| {
            Error::new(
                ErrorCode::CredentialNotFound,
                format!("{what}: no profile `{id}`"),
            )
        })?;
        metadata.insert("provider".into(), Value::from(profile.provider));
        Ok(self.build(
            name,
            &at,
            profile.kind,
            profile.secrets,
            profile.expires_at,
            metadata,
            store,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        &self,
        name: &str,
        at: &str,
        kind: CredentialKind,
        secrets: SecretFields,
        expires_at: Option<i64>,
        metadata: Map<String, Value>,
        store: &StoreDoc,
    ) -> Credential {
        Credential {
            name: name.to_string(),
            kind,
            source: CredentialSource {
                provider: self.id(),
                group: SourceGroup::Files,
                location: format!("{} {}#{at}", self.file.display(), self.row_label()),
                file: Some(self.file.clone()),
                layer: None,
            },
            expires_at,
            metadata,
            secrets,
            version: store.version.clone(),
            request_id: None,
        }
    }
}

#[async_trait]
impl CredentialProvider for AuthStoreProvider {
    /// OpenClaw reads it at run time and its own commands change it.
    fn live_in_openclaw(&self) -> bool {
        true
    }

    fn id(&self) -> &'static str {
        match self.kind {
            AuthStoreKind::Shared => SHARED_AUTH_STORE_ID,
            AuthStoreKind::Agent(_) => AGENT_AUTH_STORE_ID,
        }
    }

    fn names_answered_when_readable(&self) -> Option<(super::NameScope, PathBuf)> {
        let scope = match &self.kind {
            AuthStoreKind::Shared => super::NameScope::Bare,
            AuthStoreKind::Agent(a) => super::NameScope::Prefix(agent_prefix(a)),
        };
        Some((scope, self.file.clone()))
    }

    fn group(&self) -> SourceGroup {
        SourceGroup::Files
    }

    async fn get(&self, name: &str) -> Result<Option<Credential>> {
        let prefix = self.prefix();
        let Some(rest) = name.strip_prefix(prefix.as_str()) else {
            return Ok(None);
        };
        let Some(store) = self.read()? else {
            return Ok(None);
        };
        match answered_names(&store.layout, self.refs.vault.is_some())
            .into_iter()
            .find(|(answered, _)| answered == rest)
        {
            Some((_, id)) => {
                let own_ref = store
                    .doc
                    .0
                    .get("profiles")
                    .and_then(|p| p.get(&id))
                    .and_then(own_exec_ref_id)
                    .map(str::to_string);
                match own_ref {
                    Some(ref_id) => self.through_own_ref(&store, &id, &ref_id, name).await,
                    None => self.credential(&store, &id, name).map(Some),
                }
            }
            None => Ok(None),
        }
    }

    /// Every name `get` answers ([`answered_names`], with the agent prefix), at the profile it
    /// reads: profile ids, and bare provider names, which resolve to one of them.
    async fn list(&self) -> Result<Vec<Listing>> {
        let Some(store) = self.read()? else {
            return Ok(Vec::new());
        };
        let prefix = self.prefix();
        Ok(answered_names(&store.layout, self.refs.vault.is_some())
            .into_iter()
            .map(|(name, id)| Listing {
                name: format!("{prefix}{name}"),
                location: format!(
                    "{} {}#{}",
                    self.file.display(),
                    self.row_label(),
                    json_path("profiles", &id)
                ),
            })
            .collect())
    }
}

/// The names an auth store answers and the profile id each one reads, in the store's order:
/// every profile id holding a secret (a value or a ref), then every bare provider name that is
/// not itself a profile id, resolved as OpenClaw resolves it (`lastGood`, `order`, first
/// profile; [`resolve_provider`]) to a profile holding a secret. The one mapping both `get`
/// and `list` use, so `list` never shows a name `get` answers from elsewhere.
///
/// With `own_refs_in_vault`, a bare provider name may also resolve to a profile holding this
/// package's own exec ref: its value is read from Vault ([`AuthStoreProvider::get`]). The
/// profile id itself is never answered for such a profile (Vault answers it under its own name).
fn answered_names(layout: &AuthProfilesFile, own_refs_in_vault: bool) -> Vec<(String, String)> {
    let holds = |id: &str| {
        layout
            .profiles
            .get(id)
            .is_some_and(|p| !holds_no_secret(p) && own_exec_ref_id(p).is_none())
    };
    let holds_or_own_ref = |id: &str| {
        holds(id)
            || (own_refs_in_vault
                && layout
                    .profiles
                    .get(id)
                    .is_some_and(|p| own_exec_ref_id(p).is_some()))
    };
    let mut out: Vec<(String, String)> = layout
        .profiles
        .keys()
        .filter(|id| holds(id))
        .map(|id| (id.clone(), id.clone()))
        .collect();
    let mut providers: Vec<String> = Vec::new();
    for (id, profile) in &layout.profiles {
        let provider = super::files::auth_profiles::provider_of(id, profile).to_string();
        if !layout.profiles.contains_key(&provider) && !providers.contains(&provider) {
            providers.push(provider);
        }
    }
    for provider in providers {
        if let Some(id) = resolve_provider(layout, &provider).filter(|id| holds_or_own_ref(id)) {
            out.push((provider, id));
        }
    }
    out
}

// ---- team secret store -----------------------------------------------------------------------

/// The live entries of OpenClaw's team secret store (`secret_store_entries`, `scope_kind =
/// 'team'`, `deleted_at_ms IS NULL`), both kinds, as token credentials `store/<NAME>` with
/// metadata `{storeName, storeKind}`. Identity-scoped rows (per-person GitHub connections and
/// model accounts, which OpenClaw refreshes itself) are not read.
pub struct SecretStoreProvider {
    file: PathBuf,
}

/// One live team secret store entry.
struct StoreEntry {
    name: String,
    kind: String,
    value: zeroize::Zeroizing<String>,
}

impl SecretStoreProvider {
    fn new(state_dir: &Path) -> Self {
        SecretStoreProvider {
            file: state_db_path(state_dir),
        }
    }

    fn entries(&self, only: Option<&str>) -> Result<Vec<StoreEntry>> {
        let label = "table secret_store_entries";
        let entries = with_db(&self.file, DbRole::State, |conn| {
            let err = |e: rusqlite::Error| sqlite_error(&self.file, label, &e);
            if !has_table(conn, "secret_store_entries").map_err(err)? {
                return Ok(Vec::new());
            }
            let mut stmt = conn
                .prepare(
                    "SELECT name, kind, value FROM secret_store_entries
                     WHERE scope_kind = 'team' AND deleted_at_ms IS NULL AND (?1 IS NULL OR name = ?1)
                     ORDER BY name",
                )
                .map_err(err)?;
            let rows = stmt
                .query_map([only], |r| {
                    Ok(StoreEntry {
                        name: r.get(0)?,
                        kind: r.get(1)?,
                        value: zeroize::Zeroizing::new(r.get::<_, String>(2)?),
                    })
                })
                .map_err(err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(err)
        })?;
        Ok(entries.unwrap_or_default())
    }

    fn location(&self, name: &str) -> String {
        format!(
            "{} table secret_store_entries name {name}",
            self.file.display()
        )
    }
}

#[async_trait]
impl CredentialProvider for SecretStoreProvider {
    /// OpenClaw reads it at run time and its own commands change it.
    fn live_in_openclaw(&self) -> bool {
        true
    }

    fn id(&self) -> &'static str {
        SECRET_STORE_ID
    }

    fn group(&self) -> SourceGroup {
        SourceGroup::Files
    }

    async fn get(&self, name: &str) -> Result<Option<Credential>> {
        let Some(store_name) = name.strip_prefix(STORE_NAME_PREFIX) else {
            return Ok(None);
        };
        let Some(entry) = self.entries(Some(store_name))?.into_iter().next() else {
            return Ok(None);
        };
        if entry.value.is_empty() {
            return Ok(None);
        }
        let mut secrets = SecretFields::new();
        secrets.insert_str(fields::TOKEN, &entry.value);
        let mut metadata = Map::new();
        metadata.insert("storeName".into(), Value::from(entry.name.as_str()));
        metadata.insert("storeKind".into(), Value::from(entry.kind.as_str()));
        Ok(Some(Credential {
            name: name.to_string(),
            kind: CredentialKind::Token,
            source: CredentialSource {
                provider: SECRET_STORE_ID,
                group: SourceGroup::Files,
                location: self.location(&entry.name),
                file: Some(self.file.clone()),
                layer: None,
            },
            expires_at: None,
            metadata,
            secrets,
            version: version_of(&self.file),
            request_id: None,
        }))
    }

    async fn list(&self) -> Result<Vec<Listing>> {
        Ok(self
            .entries(None)?
            .into_iter()
            .filter(|e| !e.value.is_empty())
            .map(|e| Listing {
                name: format!("{STORE_NAME_PREFIX}{}", e.name),
                location: self.location(&e.name),
            })
            .collect())
    }
}

// ---- what `secrets apply` targets ------------------------------------------------------------

/// One static profile (`api_key` or `token`) of an auth store, as OpenClaw's audit sees it.
#[derive(Debug, Clone)]
pub struct StaticProfile {
    /// The profile id (`openai:default`).
    pub id: String,
    /// Its provider (`openai`).
    pub provider: String,
    /// `api_key` or `token`.
    pub profile_type: &'static str,
    /// The plaintext field (`key`, `token`) and its value, when it holds one.
    pub plaintext: Option<(&'static str, secrecy::SecretString)>,
    /// True when it holds a `keyRef` / `tokenRef`.
    pub has_ref: bool,
    /// The id of its ref to this package's exec provider, when that is all it holds
    /// ([`own_exec_ref_id`]).
    pub own_ref_id: Option<String>,
    /// Its `keyRef` / `tokenRef` when that is an exec ref: `(key, provider alias, id)`, e.g.
    /// `("keyRef", "openclaw-vault", "openclaw/credentials/openai/apiKey")`.
    pub exec_ref: Option<(&'static str, String, String)>,
}

/// One auth store and its static profiles (or why it could not be read).
pub struct AuthStoreProfiles {
    /// The shared store or an agent's.
    pub kind: AuthStoreKind,
    /// The database file.
    pub file: PathBuf,
    /// Its static profiles, in the store's order.
    pub profiles: Result<Vec<StaticProfile>>,
}

/// Every SQLite auth store OpenClaw walks: the shared one first, then agents (see
/// [`agent_stores`]), each resolving no ref (nothing is read through them here).
fn auth_stores(paths: &OpenClawPaths) -> Vec<AuthStoreProvider> {
    let Some(state_dir) = &paths.state_dir else {
        return Vec::new();
    };
    let refs = RefContext {
        env: Arc::new(|_| None),
        config_file: None,
        state_db: state_db_path(state_dir),
        vault: None,
    };
    let mut stores = vec![AuthStoreProvider::shared(state_dir, refs.clone())];
    stores.extend(
        agent_stores(paths, paths.config_file().as_deref())
            .into_iter()
            .map(|(a, file)| AuthStoreProvider::agent(file, &a, refs.clone())),
    );
    stores
}

/// Every SQLite auth store OpenClaw walks (the shared one first, then agents: see
/// [`agent_stores`]) with its static profiles. Stores that do not exist are left out.
pub fn auth_store_profiles(paths: &OpenClawPaths) -> Vec<AuthStoreProfiles> {
    auth_stores(paths)
        .into_iter()
        .filter_map(|store| {
            let profiles = match store.read() {
                Ok(None) => return None,
                Ok(Some(doc)) => Ok(static_profiles(&doc.layout.profiles)),
                Err(e) => Err(e),
            };
            Some(AuthStoreProfiles {
                kind: store.kind.clone(),
                file: store.file.clone(),
                profiles,
            })
        })
        .collect()
}

/// Every profile id (all types) of every SQLite auth store OpenClaw walks, by store; a store that
/// cannot be read is left out. What `migrate --remove-local` asks to tell an imported profile of a
/// retired auth-profiles.json from one that lives only there.
pub fn auth_store_profile_ids(paths: &OpenClawPaths) -> Vec<(AuthStoreKind, Vec<String>)> {
    auth_stores(paths)
        .into_iter()
        .filter_map(|store| {
            let doc = store.read().ok()??;
            Some((
                store.kind.clone(),
                doc.layout.profiles.keys().cloned().collect(),
            ))
        })
        .collect()
}

fn static_profiles(profiles: &Map<String, Value>) -> Vec<StaticProfile> {
    profiles
        .iter()
        .filter_map(|(id, p)| {
            let (ref_key, field, _) = ref_field(p)?;
            let profile_type = if field == "key" { "api_key" } else { "token" };
            let plaintext = plaintext_static_field(p).and_then(|f| {
                p.get(f)
                    .and_then(Value::as_str)
                    .map(|v| (f, secrecy::SecretString::from(v.to_string())))
            });
            Some(StaticProfile {
                id: id.clone(),
                provider: p
                    .get("provider")
                    .and_then(Value::as_str)
                    .unwrap_or_else(|| id.split(':').next().unwrap_or(id))
                    .to_string(),
                profile_type,
                plaintext,
                has_ref: p.get(ref_key).is_some_and(is_ref),
                own_ref_id: own_exec_ref_id(p).map(String::from),
                exec_ref: p.get(ref_key).filter(|r| is_ref(r)).and_then(|r| {
                    let s = |k: &str| r.get(k).and_then(Value::as_str);
                    (s("source") == Some("exec"))
                        .then(|| Some((ref_key, s("provider")?.to_string(), s("id")?.to_string())))
                        .flatten()
                }),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use openclaw_vault_test_support::temp_dir;
    use secrecy::ExposeSecret;

    // The two tables as OpenClaw 2026.9.6 creates them (`.schema` of a state made by
    // `openclaw onboard`); the JS end-to-end tests read states the real CLI made.
    const STATE_DDL: &str = "
        CREATE TABLE config_machine_state (state_key TEXT NOT NULL PRIMARY KEY,
          value_json TEXT NOT NULL, updated_at_ms INTEGER NOT NULL) STRICT;
        CREATE TABLE secret_store_entries (
          scope_kind TEXT NOT NULL CHECK (scope_kind IN ('team', 'identity')),
          scope_id TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
          kind TEXT NOT NULL CHECK (kind IN ('secret', 'env')),
          created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL, updated_by TEXT,
          deleted_at_ms INTEGER, allowed_hosts TEXT,
          PRIMARY KEY (scope_kind, scope_id, name)) STRICT;
        PRAGMA user_version = 18;";
    const AGENT_DDL: &str = "
        CREATE TABLE auth_profile_store (store_key TEXT NOT NULL PRIMARY KEY,
          store_json TEXT NOT NULL, updated_at INTEGER NOT NULL) STRICT;
        PRAGMA user_version = 23;";

    const SHARED: &str = r#"{"version":1,"profiles":{
        "anthropic:default":{"type":"api_key","provider":"anthropic","key":"sk-ant-FAKE-shared"},
        "openai:manual":{"type":"api_key","provider":"openai","key":"sk-FAKE-openai-manual"},
        "openai:ref":{"type":"api_key","provider":"openai","keyRef":{"source":"env","provider":"default","id":"OCV_TEST_OPENAI"}},
        "groq:exec":{"type":"api_key","provider":"groq","keyRef":{"source":"exec","provider":"vault","id":"a/b"}}}}"#;

    struct State {
        dir: openclaw_vault_test_support::TempDir,
    }

    fn write_db(file: &Path, ddl: &str, rows: &[(&str, &[&dyn rusqlite::ToSql])]) {
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        let conn = Connection::open(file).unwrap();
        conn.pragma_update(None, "journal_mode", "wal").unwrap();
        conn.execute_batch(ddl).unwrap();
        for (sql, params) in rows {
            conn.execute(sql, *params).unwrap();
        }
    }

    fn state(name: &str, shared: &str) -> State {
        let dir = temp_dir(name);
        write_db(
            &state_db_path(&dir),
            STATE_DDL,
            &[
                ("INSERT INTO config_machine_state VALUES ('authProfiles.store', ?1, 1)", &[&shared]),
                ("INSERT INTO config_machine_state VALUES ('authProfiles.state', '{\"lastGood\":{\"openai\":\"openai:manual\"}}', 1)", &[]),
                ("INSERT INTO secret_store_entries VALUES ('team','','TEAM_TOKEN','store-FAKE-1','secret',1,1,NULL,NULL,NULL)", &[]),
                ("INSERT INTO secret_store_entries VALUES ('team','','TEAM_ENV','store-FAKE-env','env',1,1,NULL,NULL,NULL)", &[]),
                ("INSERT INTO secret_store_entries VALUES ('team','','GONE','store-FAKE-gone','secret',1,1,NULL,5,NULL)", &[]),
                ("INSERT INTO secret_store_entries VALUES ('identity','p1','github-connection','store-FAKE-id','secret',1,1,NULL,NULL,NULL)", &[]),
            ],
        );
        write_db(
            &agent_db_path(&dir, "work"),
            AGENT_DDL,
            &[(
                "INSERT INTO auth_profile_store VALUES ('primary', ?1, 1)",
                &[
                    &r#"{"version":1,"profiles":{"anthropic:default":{"type":"token","provider":"anthropic","token":"sk-ant-FAKE-agent-token"}}}"#,
                ],
            )],
        );
        State { dir }
    }

    fn providers(s: &State) -> Vec<Arc<dyn CredentialProvider>> {
        let dir = s.dir.to_str().unwrap().to_string();
        let paths = OpenClawPaths::from_env(&move |k: &str| {
            (k == "OPENCLAW_STATE_DIR").then(|| dir.clone())
        });
        let env: EnvLookup =
            Arc::new(|k| (k == "OCV_TEST_OPENAI").then(|| "sk-FAKE-from-env".to_string()));
        sqlite_providers(&paths, env, None, None)
    }

    async fn names(p: &Arc<dyn CredentialProvider>) -> Vec<String> {
        p.list()
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.name)
            .collect()
    }

    async fn value(p: &Arc<dyn CredentialProvider>, name: &str) -> String {
        let c = p.get(name).await.unwrap().unwrap();
        c.primary().unwrap().expose_secret().to_string()
    }

    #[tokio::test]
    async fn reads_every_store_read_only() {
        let s = state("sq-read", SHARED);
        let stamp_before: Vec<_> = [state_db_path(&s.dir), agent_db_path(&s.dir, "work")]
            .iter()
            .map(|f| {
                (
                    std::fs::read(f).unwrap(),
                    std::fs::metadata(f).unwrap().modified().unwrap(),
                )
            })
            .collect();
        let ps = providers(&s);
        let ids: Vec<_> = ps.iter().map(|p| p.id()).collect();
        assert_eq!(
            ids,
            [SHARED_AUTH_STORE_ID, AGENT_AUTH_STORE_ID, SECRET_STORE_ID]
        );
        let (shared, agent, store) = (&ps[0], &ps[1], &ps[2]);

        assert_eq!(
            names(shared).await,
            [
                "anthropic:default",
                "openai:manual",
                "openai:ref",
                "groq:exec",
                "anthropic",
                "openai",
                "groq"
            ]
        );
        assert_eq!(
            value(shared, "anthropic:default").await,
            "sk-ant-FAKE-shared"
        );
        // A bare provider resolves (lastGood from authProfiles.state), and is listed at the
        // profile `get` reads.
        let openai = shared.get("openai").await.unwrap().unwrap();
        assert_eq!(openai.metadata["profileId"], "openai:manual");
        let listed = shared.list().await.unwrap();
        let bare = listed.iter().find(|l| l.name == "openai").unwrap();
        assert_eq!(bare.location, openai.source.location);
        // An env ref resolves; an exec ref is reported, never run.
        let by_ref = shared.get("openai:ref").await.unwrap().unwrap();
        assert_eq!(
            by_ref.primary().unwrap().expose_secret(),
            "sk-FAKE-from-env"
        );
        assert!(by_ref.metadata.contains_key("secretRef"));
        let err = shared.get("groq:exec").await.unwrap_err();
        assert_eq!(err.code(), "UNSUPPORTED_OPERATION");
        assert!(
            err.message.contains("profiles.groq:exec.keyRef"),
            "{}",
            err.message
        );

        assert_eq!(
            names(agent).await,
            ["agents/work/anthropic:default", "agents/work/anthropic"]
        );
        let c = agent
            .get("agents/work/anthropic:default")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c.kind, CredentialKind::Token);
        assert_eq!(
            c.primary().unwrap().expose_secret(),
            "sk-ant-FAKE-agent-token"
        );
        assert_eq!(c.metadata["agent"], "work");
        assert!(agent.get("anthropic:default").await.unwrap().is_none());

        // Both kinds; soft-deleted and identity-scoped rows are not read.
        assert_eq!(names(store).await, ["store/TEAM_ENV", "store/TEAM_TOKEN"]);
        assert_eq!(value(store, "store/TEAM_TOKEN").await, "store-FAKE-1");
        assert!(store.get("store/GONE").await.unwrap().is_none());

        // Nothing written: same bytes, same mtime, and no side file created (the databases were
        // closed, so a plain read-only open would have made `-wal` and `-shm`).
        for f in [state_db_path(&s.dir), agent_db_path(&s.dir, "work")] {
            for side in ["-wal", "-shm"] {
                let mut p = f.as_os_str().to_owned();
                p.push(side);
                assert!(!Path::new(&p).exists(), "{p:?} was created");
            }
        }
        for ((bytes, mtime), f) in stamp_before
            .iter()
            .zip([state_db_path(&s.dir), agent_db_path(&s.dir, "work")])
        {
            assert_eq!(&std::fs::read(&f).unwrap(), bytes);
            assert_eq!(&std::fs::metadata(&f).unwrap().modified().unwrap(), mtime);
        }
    }

    #[test]
    fn agent_dirs_of_the_config_roster_are_walked_like_openclaw() {
        let s = state("roster", "{}");
        let elsewhere = s.dir.join("elsewhere");
        fs_write_agent(&elsewhere.join("bot"));
        fs_write_agent(&elsewhere.join("listed"));
        let paths = OpenClawPaths::from_env(&|n: &str| match n {
            "HOME" => Some(s.dir.display().to_string()),
            "OPENCLAW_STATE_DIR" => Some(s.dir.display().to_string()),
            _ => None,
        });
        let cfg = s.dir.join("openclaw.json");
        // `agents.entries` (OpenClaw 2026.9's roster), `~` being the OpenClaw home; a roster entry
        // without agentDir and one whose dir has no store add nothing.
        std::fs::write(
            &cfg,
            r#"{agents: {entries: {Bot: {agentDir: "~/elsewhere/bot"}, main: {}, ghost: {agentDir: "/nonexistent"}}}}"#,
        )
        .unwrap();
        let found = agent_stores(&paths, Some(&cfg));
        assert_eq!(
            found,
            vec![
                ("work".to_string(), agent_db_path(&s.dir, "work")),
                (
                    "bot".to_string(),
                    elsewhere.join("bot/openclaw-agent.sqlite")
                ),
            ]
        );
        // `agents.list` (the older roster shape).
        let listed = elsewhere.join("listed");
        std::fs::write(
            &cfg,
            format!(
                r#"{{"agents": {{"list": [{{"id": "listed", "agentDir": "{}"}}]}}}}"#,
                listed.display()
            ),
        )
        .unwrap();
        let found = agent_stores(&paths, Some(&cfg));
        assert_eq!(
            found[1],
            ("listed".to_string(), listed.join("openclaw-agent.sqlite"))
        );
        // An agent the roster moves elsewhere is read there alone, as OpenClaw does: its store at
        // the state-dir place is stale, never read, and named once.
        let moved = elsewhere.join("work");
        fs_write_agent(&moved);
        std::fs::write(
            &cfg,
            format!(
                r#"{{"agents": {{"list": [{{"id": "work", "agentDir": "{}"}}]}}}}"#,
                moved.display()
            ),
        )
        .unwrap();
        assert_eq!(
            agent_stores(&paths, Some(&cfg)),
            vec![("work".to_string(), moved.join("openclaw-agent.sqlite"))]
        );
        assert_eq!(
            shadowed_agent_stores(&paths, Some(&cfg)),
            vec![("work".to_string(), agent_db_path(&s.dir, "work"))]
        );
        // A config that does not parse names no agent (the audit before apply still sees them).
        std::fs::write(&cfg, "{agents: ").unwrap();
        assert_eq!(agent_stores(&paths, Some(&cfg)).len(), 1);
    }

    fn fs_write_agent(dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        write_db(&dir.join("openclaw-agent.sqlite"), AGENT_DDL, &[]);
    }

    #[tokio::test]
    async fn a_store_ref_reads_the_live_team_entry_never_a_deleted_one() {
        let shared = r#"{"version":1,"profiles":{
            "openai:store":{"type":"api_key","provider":"openai","keyRef":{"source":"store","provider":"default","id":"TEAM_TOKEN"}},
            "groq:env":{"type":"token","provider":"groq","tokenRef":{"source":"store","id":"TEAM_ENV"}},
            "xai:gone":{"type":"api_key","provider":"xai","keyRef":{"source":"store","provider":"default","id":"GONE"}},
            "mistral:who":{"type":"api_key","provider":"mistral","keyRef":{"source":"store","provider":"default","id":"github-connection"}},
            "cohere:none":{"type":"api_key","provider":"cohere","keyRef":{"source":"store","provider":"default","id":"NO_SUCH"}}}}"#;
        let s = state("sq-storeref", shared);
        let ps = providers(&s);
        let store_ref = ps[0].get("openai:store").await.unwrap().unwrap();
        assert_eq!(store_ref.primary().unwrap().expose_secret(), "store-FAKE-1");
        assert_eq!(store_ref.metadata["secretRef"]["source"], "store");
        // Both kinds of entry answer a ref, as OpenClaw's store provider reads them.
        assert_eq!(value(&ps[0], "groq:env").await, "store-FAKE-env");
        // A soft-deleted row and a missing name are not found; the message names the profile
        // and the store name, never a value.
        for (id, name) in [("xai:gone", "GONE"), ("cohere:none", "NO_SUCH")] {
            let err = ps[0].get(id).await.unwrap_err();
            assert_eq!(err.code(), "CREDENTIAL_NOT_FOUND", "{id}");
            assert!(
                err.message.contains(&format!("profiles.{id}.keyRef")),
                "{}",
                err.message
            );
            assert!(err.message.contains(name), "{}", err.message);
            assert!(!err.message.contains("store-FAKE"), "{}", err.message);
        }
        // Identity-scoped rows are never read, and their names are not store names.
        let err = ps[0].get("mistral:who").await.unwrap_err();
        assert_eq!(err.code(), "INVALID_SOURCE");
        assert!(!err.message.contains("store-FAKE-id"), "{}", err.message);
    }

    #[tokio::test]
    async fn a_row_with_invalid_json_fails_alone_and_is_not_quoted() {
        let s = state(
            "sq-badjson",
            r#"{"version":1,"profiles":{"a:b":{"type":"api_key","key":"sk-FAKE-leak-me"#,
        );
        let ps = providers(&s);
        let err = ps[0].list().await.unwrap_err();
        assert_eq!(err.code(), "INVALID_SOURCE");
        assert!(err.message.contains("openclaw.sqlite"), "{}", err.message);
        assert!(
            err.message.contains("row authProfiles.store"),
            "{}",
            err.message
        );
        assert!(err.message.contains("truncated"), "{}", err.message);
        assert!(!err.message.contains("sk-FAKE-leak-me"));
        // The other stores still read.
        assert_eq!(names(&ps[1]).await.len(), 2);
        assert_eq!(names(&ps[2]).await.len(), 2);
    }

    #[tokio::test]
    async fn a_profile_of_an_unknown_type_fails_alone() {
        let s = state(
            "sq-type",
            r#"{"version":1,"profiles":{"x:y":{"type":"magic","provider":"x","key":"sk-FAKE-magic"},
                "ok:1":{"type":"api_key","provider":"ok","key":"sk-FAKE-ok"}}}"#,
        );
        let ps = providers(&s);
        let err = ps[0].get("x:y").await.unwrap_err();
        assert_eq!(err.code(), "INVALID_SOURCE");
        assert!(err.message.contains("profiles.x:y.type"), "{}", err.message);
        assert!(!err.message.contains("sk-FAKE-magic"));
        assert_eq!(value(&ps[0], "ok:1").await, "sk-FAKE-ok");
    }

    /// What `openclaw secrets apply` leaves after scrubbing a provider's profiles (its config
    /// key now a ref): `{type, provider}` with neither value nor ref. Not a credential and not an
    /// error, so a rerun after a complete migration finds nothing and fails nothing.
    #[tokio::test]
    async fn a_profile_openclaw_scrubbed_is_no_credential_and_no_error() {
        let s = state(
            "sq-scrubbed",
            r#"{"version":1,"profiles":{"anthropic:default":{"type":"api_key","provider":"anthropic"},
                "openai:tok":{"type":"token","provider":"openai","token":""},
                "ok:1":{"type":"api_key","provider":"ok","key":"sk-FAKE-ok"}}}"#,
        );
        let ps = providers(&s);
        let names: Vec<String> = ps[0]
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.name)
            .collect();
        // The bare `ok` answers from `ok:1`; the scrubbed profiles answer nothing, bare or not.
        assert_eq!(names, ["ok:1", "ok"]);
        assert!(ps[0].get("anthropic:default").await.unwrap().is_none());
        assert!(ps[0].get("anthropic").await.unwrap().is_none());
        assert!(ps[0].get("openai:tok").await.unwrap().is_none());
        assert_eq!(value(&ps[0], "ok:1").await, "sk-FAKE-ok");
    }

    #[tokio::test]
    async fn newer_schema_corrupt_and_truncated_files_are_named() {
        let s = state("sq-bad", SHARED);
        let ps = providers(&s);
        // A newer agent schema.
        Connection::open(agent_db_path(&s.dir, "work"))
            .unwrap()
            .pragma_update(None, "user_version", AGENT_SCHEMA_MAX + 1)
            .unwrap();
        let err = ps[1].list().await.unwrap_err();
        assert_eq!(err.code(), "INVALID_SOURCE");
        assert!(
            err.message.contains("openclaw-agent.sqlite"),
            "{}",
            err.message
        );
        assert!(
            err.message.contains("newer schema version (24)"),
            "{}",
            err.message
        );
        // The shared database truncated to half, then not a database at all.
        let file = state_db_path(&s.dir);
        {
            let conn = Connection::open(&file).unwrap();
            conn.pragma_update(None, "journal_mode", "delete").unwrap();
        }
        let bytes = std::fs::read(&file).unwrap();
        std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
        for p in [&ps[0], &ps[2]] {
            let err = p.list().await.unwrap_err();
            assert_eq!(err.code(), "INVALID_SOURCE", "{}", err.message);
            assert!(
                err.message.contains(file.to_str().unwrap()),
                "{}",
                err.message
            );
        }
        std::fs::write(
            &file,
            b"sk-FAKE-not-a-database but a secret, 100 bytes of it .........................",
        )
        .unwrap();
        let err = ps[2].list().await.unwrap_err();
        assert_eq!(err.code(), "INVALID_SOURCE");
        assert!(
            err.message.contains("not an SQLite database"),
            "{}",
            err.message
        );
        assert!(!err.message.contains("sk-FAKE"));
    }

    #[tokio::test]
    async fn a_locked_database_is_a_lock_timeout() {
        let s = state("sq-lock", SHARED);
        let file = state_db_path(&s.dir);
        // A rollback-journal database under an exclusive lock (WAL readers are never blocked).
        let holder = Connection::open(&file).unwrap();
        holder
            .pragma_update(None, "journal_mode", "delete")
            .unwrap();
        holder
            .execute_batch("BEGIN EXCLUSIVE; UPDATE config_machine_state SET updated_at_ms = 2;")
            .unwrap();
        let ps = providers(&s);
        let err = ps[2].list().await.unwrap_err();
        assert_eq!(err.code(), "LOCK_TIMEOUT");
        assert!(
            err.message.contains(file.to_str().unwrap()),
            "{}",
            err.message
        );
        holder.execute_batch("ROLLBACK").unwrap();
        assert_eq!(names(&ps[2]).await.len(), 2);
    }

    #[tokio::test]
    async fn reads_while_a_writer_commits() {
        use std::sync::atomic::{AtomicU64, Ordering};
        let s = state("sq-concurrent", SHARED);
        let file = state_db_path(&s.dir);
        let commits = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = {
            let (stop, commits) = (stop.clone(), commits.clone());
            std::thread::spawn(move || {
                let conn = Connection::open(&file).unwrap();
                conn.busy_timeout(Duration::from_secs(5)).unwrap();
                while !stop.load(Ordering::Relaxed) {
                    let n = commits.load(Ordering::Relaxed) + 1;
                    let doc = format!(
                        r#"{{"version":1,"profiles":{{"anthropic:default":{{"type":"api_key","provider":"anthropic","key":"sk-ant-FAKE-{n}"}},"pad":{{"type":"api_key","provider":"p","key":"{}"}}}}}}"#,
                        "x".repeat((n % 50) as usize * 100)
                    );
                    conn.execute(
                        "UPDATE config_machine_state SET value_json = ?1 WHERE state_key = 'authProfiles.store'",
                        [&doc],
                    )
                    .unwrap();
                    commits.store(n, Ordering::Relaxed);
                }
            })
        };
        let ps = providers(&s);
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut reads = 0;
        // Read until the writer has committed many times meanwhile: every read is whole.
        while commits.load(Ordering::Relaxed) < 200 || reads < 200 {
            assert!(
                std::time::Instant::now() < deadline,
                "writer or reader stalled"
            );
            let v = value(&ps[0], "anthropic:default").await;
            assert!(v.starts_with("sk-ant-FAKE-"), "{v}");
            reads += 1;
        }
        stop.store(true, Ordering::Relaxed);
        writer.join().unwrap();
    }
}
