//! Credential files other tools and OpenClaw itself keep on the user's machine, one module per
//! source, each named in the source's own words:
//!
//! - [`claude_code`]: Claude Code's `~/.claude/.credentials.json` (`anthropic`).
//! - [`codex`]: Codex CLI's `$CODEX_HOME/auth.json` (`codex`, `openai`).
//! - [`cli_oauth`]: the `oauth_creds.json` of Qwen Code, MiniMax and Gemini CLI.
//! - [`auth_profiles`]: OpenClaw's per-agent `auth-profiles.json`.
//! - [`legacy_oauth`]: OpenClaw's legacy `credentials/oauth.json`.
//!
//! Every file is read through [`local_file`](crate::local_file) (size cap, no symlinks,
//! world-readable warning) and checked against a typed serde layout; a file that does not fit is
//! `INVALID_SOURCE` with the file, the JSON path and what was expected, never the value. OAuth
//! sources are written back under the file's lock, only when the file is unchanged since it was
//! read (`CAS_MISMATCH` otherwise), keeping every field they do not own, in the file's key order
//! and indentation, atomically with mode 0600. A file that does not parse is never rewritten.

pub mod auth_profiles;
pub mod claude_code;
pub mod cli_oauth;
pub mod codex;
pub mod legacy_oauth;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use secrecy::SecretString;
use serde::de::{self, Deserialize, Deserializer, Unexpected, Visitor};
use serde_json::{Map, Value};
use zeroize::{Zeroize, Zeroizing};

use super::CredentialProvider;
use crate::credential::{
    Credential, CredentialSource, CredentialVersion, ParsedFields, SourceGroup,
};
use crate::error::{Error, ErrorCode, Result};
use crate::local_file::{self, FileLock, MAX_CREDENTIAL_FILE_BYTES};
use crate::openclaw::paths::OpenClawPaths;
use vault_client::secret::{json_kind, ZeroizingJson};

/// How long a write-back waits for another process holding the file's lock.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);

/// Every file provider for `paths`, in the order the chain asks them: `claude-code`, `codex`,
/// `qwen`, `minimax`, `gemini-cli`, `auth-profiles`, `openclaw-oauth`. A source whose home is
/// unknown (no `HOME`) is left out.
pub fn file_providers(paths: &OpenClawPaths) -> Vec<Arc<dyn CredentialProvider>> {
    let mut providers: Vec<Arc<dyn CredentialProvider>> = Vec::new();
    if let Some(p) = claude_code::ClaudeCodeFileProvider::from_paths(paths) {
        providers.push(Arc::new(p));
    }
    if let Some(p) = codex::CodexAuthFileProvider::from_paths(paths) {
        providers.push(Arc::new(p));
    }
    for cli in cli_oauth::CliOAuth::ALL {
        if let Some(p) = cli_oauth::CliOAuthFileProvider::from_paths(cli, paths) {
            providers.push(Arc::new(p));
        }
    }
    if let Some(p) = auth_profiles::AuthProfilesProvider::from_paths(paths) {
        providers.push(Arc::new(p));
    }
    if let Some(p) = legacy_oauth::LegacyOAuthFileProvider::from_paths(paths) {
        providers.push(Arc::new(p));
    }
    providers
}

// ---------------------------------------------------------------------------------------------
// Field types for the serde layouts: their errors say what was expected, and every error passes
// through `typed`, which rebuilds the message from the JSON path and the value's type only.
// ---------------------------------------------------------------------------------------------

/// A non-empty JSON string holding a secret: wiped on drop, redacted in `Debug`.
#[derive(Debug, Clone)]
pub struct SecretText(pub SecretString);

impl<'de> Deserialize<'de> for SecretText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = SecretText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a non-empty string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<SecretText, E> {
                if s.is_empty() {
                    return Err(E::invalid_value(Unexpected::Str(""), &self));
                }
                Ok(SecretText(SecretString::from(s.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// A JSON string holding a secret that may be empty or null (both read as `None`), e.g. Codex's
/// `OPENAI_API_KEY` when logged in with ChatGPT. Use with `#[serde(default)]`.
#[derive(Debug, Clone, Default)]
pub struct OptionalSecretText(pub Option<SecretString>);

impl<'de> Deserialize<'de> for OptionalSecretText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = OptionalSecretText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or null")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<Self::Value, E> {
                Ok(OptionalSecretText(
                    (!s.is_empty()).then(|| SecretString::from(s.to_owned())),
                ))
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<Self::Value, E> {
                Ok(OptionalSecretText(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// A time as epoch milliseconds (a JSON number; fractions are dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochMs(pub i64);

impl<'de> Deserialize<'de> for EpochMs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = EpochMs;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("epoch milliseconds (a number)")
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> std::result::Result<EpochMs, E> {
                Ok(EpochMs(n))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> std::result::Result<EpochMs, E> {
                i64::try_from(n)
                    .map(EpochMs)
                    .map_err(|_| E::invalid_value(Unexpected::Unsigned(n), &self))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> std::result::Result<EpochMs, E> {
                if n.is_finite() && n.abs() < 9.0e18 {
                    Ok(EpochMs(n as i64))
                } else {
                    Err(E::invalid_value(Unexpected::Float(n), &self))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// Reads `value` (found at JSON path `base` in `what`, a file) as `T`. Errors are
/// `INVALID_SOURCE` and say `<what> at `<path>`: expected <x>, got <json type>`: serde's own
/// messages quote the value, so they are never passed on.
pub(crate) fn typed<'a, T: Deserialize<'a>>(value: &'a Value, what: &str, base: &str) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let mut path = base.to_string();
        let mut at = Some(value);
        for segment in err.path() {
            match segment {
                serde_path_to_error::Segment::Map { key } => {
                    path = json_path(&path, key);
                    at = at.and_then(|v| v.get(key));
                }
                serde_path_to_error::Segment::Seq { index } => {
                    path.push_str(&format!("[{index}]"));
                    at = at.and_then(|v| v.get(index));
                }
                serde_path_to_error::Segment::Enum { .. }
                | serde_path_to_error::Segment::Unknown => {}
            }
        }
        let inner = err.inner().to_string();
        let detail = if let Some(rest) = inner.strip_prefix("missing field `") {
            path = json_path(&path, rest.split('`').next().unwrap_or_default());
            "missing".to_string()
        } else if let Some(i) = inner.rfind(", expected ") {
            let got = match at {
                Some(Value::String(s)) if s.is_empty() => "an empty string",
                Some(v) => json_kind(v),
                None => "something else",
            };
            format!("expected {}, got {got}", &inner[i + ", expected ".len()..])
        } else {
            "does not have the expected layout".to_string()
        };
        invalid_source(at_path(what, &path, &detail))
    })
}

/// The JSON path of `key` inside the object at `parent` (`""` for the root), for messages.
pub(crate) fn json_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// `<what> at `<path>`: <detail>`, or `<what>: <detail>` for the root.
pub(crate) fn at_path(what: &str, path: &str, detail: &str) -> String {
    if path.is_empty() {
        format!("{what}: {detail}")
    } else {
        format!("{what} at `{path}`: {detail}")
    }
}

pub(crate) fn invalid_source(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidSource, message)
}

/// Non-secret fields of `object`: everything but `secret_keys`, for a credential's metadata.
pub(crate) fn other_fields(
    object: &Map<String, Value>,
    secret_keys: &[&str],
) -> Map<String, Value> {
    object
        .iter()
        .filter(|(k, _)| !secret_keys.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Reading and rewriting one JSON file.
// ---------------------------------------------------------------------------------------------

/// A credential file read and parsed: its JSON (wiped on drop), the version it was read at, the
/// warnings `local_file` gave about it, and its indentation (kept on rewrite).
pub struct JsonFile {
    pub path: PathBuf,
    pub json: ZeroizingJson,
    pub version: CredentialVersion,
    pub warnings: Vec<String>,
    style: Style,
}

impl fmt::Debug for JsonFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonFile")
            .field("path", &self.path)
            .field("version", &self.version)
            .finish()
    }
}

impl Drop for JsonFile {
    fn drop(&mut self) {
        self.json.zeroize();
    }
}

impl JsonFile {
    /// The top-level object (`read_json` refuses anything else).
    pub fn root(&self) -> &Map<String, Value> {
        self.json.0.as_object().expect("read_json checked the root")
    }

    /// The file's path as written in messages.
    pub fn what(&self) -> String {
        self.path.display().to_string()
    }

    /// `warnings` as the array a credential's metadata carries, when there are any.
    pub fn add_warnings(&self, metadata: &mut Map<String, Value>) {
        if !self.warnings.is_empty() {
            metadata.insert(
                "warnings".into(),
                Value::from(
                    self.warnings
                        .iter()
                        .map(|w| Value::from(w.as_str()))
                        .collect::<Vec<_>>(),
                ),
            );
        }
    }

    /// The source of a credential read from this file; `json_path` (e.g. `profiles.anthropic:work`)
    /// is appended to the location after `#` when the file holds several credentials.
    pub fn source(&self, provider: &'static str, json_path: Option<&str>) -> CredentialSource {
        let location = match json_path {
            Some(p) => format!("{}#{p}", self.path.display()),
            None => self.path.display().to_string(),
        };
        CredentialSource {
            provider,
            group: SourceGroup::Files,
            location,
            file: Some(self.path.clone()),
        }
    }

    /// The credential `name` read from this file: `parsed` is what the source's parser found,
    /// `json_path` as in [`JsonFile::source`]. Carries the file's version (for cas write-back)
    /// and its warnings (in `metadata.warnings`).
    pub fn credential(
        &self,
        provider: &'static str,
        json_path: Option<&str>,
        name: &str,
        mut parsed: ParsedFields,
    ) -> Credential {
        self.add_warnings(&mut parsed.metadata);
        parsed.into_credential(name, self.source(provider, json_path), self.version.clone())
    }
}

/// How a file was indented, so a rewrite looks like what the tool that owns it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Compact,
    Pretty { trailing_newline: bool },
}

impl Style {
    fn of(bytes: &[u8]) -> Style {
        let trimmed = bytes.trim_ascii_end();
        if trimmed.contains(&b'\n') {
            Style::Pretty {
                trailing_newline: trimmed.len() < bytes.len(),
            }
        } else {
            Style::Compact
        }
    }

    fn write(self, value: &Value) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::new());
        let written = match self {
            Style::Compact => serde_json::to_writer(&mut *out, value),
            Style::Pretty { .. } => serde_json::to_writer_pretty(&mut *out, value),
        };
        written.expect("a JSON value always serializes");
        if let Style::Pretty {
            trailing_newline: true,
        } = self
        {
            out.push(b'\n');
        }
        out
    }
}

/// Parsed files by path, reused while the file's modification time, length and mode stay the
/// same: a 1,000-profile `auth-profiles.json` is parsed once, not once per credential asked for.
/// The values stay in zeroizing memory and are wiped when replaced.
type ParsedFiles = HashMap<PathBuf, (CredentialVersion, u32, Arc<JsonFile>)>;
static PARSED: LazyLock<Mutex<ParsedFiles>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// Reads and parses the JSON object at `path` (see [`read_json_uncached`]), from the parse cache
/// when the file has not changed since it was last parsed.
pub fn read_json(path: &Path) -> Result<Option<Arc<JsonFile>>> {
    use std::os::unix::fs::PermissionsExt;
    let key = std::fs::symlink_metadata(path)
        .ok()
        .filter(|m| m.file_type().is_file())
        .map(|m| (local_file::version_of(&m), m.permissions().mode()));
    let mut cache = PARSED.lock().unwrap_or_else(|p| p.into_inner());
    if let (Some((version, mode)), Some((v, m, file))) = (&key, cache.get(path)) {
        if v == version && m == mode {
            return Ok(Some(file.clone()));
        }
    }
    cache.remove(path);
    drop(cache);
    let parsed = read_json_uncached(path)?.map(Arc::new);
    if let (Some(file), Some((version, mode))) = (&parsed, key) {
        if file.version == version {
            PARSED
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(path.to_path_buf(), (version, mode, file.clone()));
        }
    }
    Ok(parsed)
}

/// Reads and parses the JSON object at `path`. `Ok(None)` when there is no file.
pub fn read_json_uncached(path: &Path) -> Result<Option<JsonFile>> {
    let Some(file) = local_file::read_credential_file(path, MAX_CREDENTIAL_FILE_BYTES)? else {
        return Ok(None);
    };
    let json = ZeroizingJson(local_file::parse_json(&file)?);
    let style = Style::of(&file.bytes);
    let parsed = JsonFile {
        path: file.path.clone(),
        json,
        version: file.version.clone(),
        warnings: file.warnings.clone(),
        style,
    };
    if !parsed.json.0.is_object() {
        return Err(invalid_source(format!(
            "{}: expected a JSON object at the top level, got {}",
            path.display(),
            json_kind(&parsed.json.0)
        )));
    }
    Ok(Some(parsed))
}

/// Rewrites the JSON file at `path` under its lock: reads it again, refuses when its version is
/// not `expected` (`CAS_MISMATCH`; a file that appeared or vanished counts as changed), hands
/// the current file (or `None`) to `merge`, and writes what `merge` returns atomically with
/// mode 0600 in the file's own indentation. A file that does not parse, or that `merge`
/// refuses, is left as it is. Runs on the blocking pool (the lock may wait).
pub(crate) async fn rewrite<F>(
    path: PathBuf,
    expected: Option<CredentialVersion>,
    merge: F,
) -> Result<CredentialVersion>
where
    F: FnOnce(Option<&JsonFile>) -> Result<Value> + Send + 'static,
{
    tokio::task::spawn_blocking(move || rewrite_blocking(&path, expected.as_ref(), merge))
        .await
        .map_err(|_| Error::new(ErrorCode::SourceUnavailable, "the file write task failed"))?
}

fn rewrite_blocking<F>(
    path: &Path,
    expected: Option<&CredentialVersion>,
    merge: F,
) -> Result<CredentialVersion>
where
    F: FnOnce(Option<&JsonFile>) -> Result<Value>,
{
    let expected = match expected {
        None | Some(CredentialVersion::None) => None,
        Some(v @ CredentialVersion::File { .. }) => Some(v),
        Some(other) => {
            return Err(Error::invalid_argument(format!(
                "{}: a file write expects a file version, got {other:?}",
                path.display()
            )))
        }
    };
    let _lock = FileLock::acquire(path, LOCK_WAIT)?;
    let current = read_json_uncached(path)?;
    if let Some(expected) = expected {
        let changed = match &current {
            Some(file) => &file.version != expected,
            None => true,
        };
        if changed {
            return Err(Error::new(
                ErrorCode::CasMismatch,
                format!(
                    "{}: the file changed since the credential was read; read it again and retry",
                    path.display()
                ),
            ));
        }
    }
    let style = current.as_ref().map_or(
        Style::Pretty {
            trailing_newline: true,
        },
        |f| f.style,
    );
    let mut merged = ZeroizingJson(merge(current.as_ref())?);
    let bytes = style.write(&merged.0);
    merged.zeroize();
    drop(current);
    local_file::write_atomic(path, &bytes)?;
    local_file::stat_version(path).ok_or_else(|| {
        Error::new(
            ErrorCode::SourceUnavailable,
            format!("{}: disappeared right after being written", path.display()),
        )
    })
}

/// Sets `key` in `object` to `value`, in place when it exists (key order is kept), else at the end.
pub(crate) fn set(object: &mut Map<String, Value>, key: &str, value: Value) {
    match object.get_mut(key) {
        Some(slot) => {
            if let Value::String(old) = slot {
                old.zeroize();
            }
            *slot = value;
        }
        None => {
            object.insert(key.to_string(), value);
        }
    }
}

/// The object at `key` in `object`, created empty at the end when missing or not an object.
pub(crate) fn object_at<'a>(
    object: &'a mut Map<String, Value>,
    key: &str,
) -> &'a mut Map<String, Value> {
    if !matches!(object.get(key), Some(Value::Object(_))) {
        set(object, key, Value::Object(Map::new()));
    }
    match object.get_mut(key) {
        Some(Value::Object(o)) => o,
        _ => unreachable!("just set to an object"),
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use crate::credential::CredentialKind;

    /// `examples/sample-home` through every provider, in the chain's order (read-only).
    #[tokio::test]
    async fn sample_home_reads_through_every_provider() {
        let sample = openclaw_vault_test_support::workspace_root().join("examples/sample-home");
        let paths = OpenClawPaths::from_env(&openclaw_vault_test_support::env_of(&[(
            "HOME",
            sample.to_str().unwrap(),
        )]));
        let providers = file_providers(&paths);
        let ids: Vec<_> = providers.iter().map(|p| p.id()).collect();
        assert_eq!(
            ids,
            [
                "claude-code",
                "codex",
                "qwen",
                "minimax",
                "gemini-cli",
                "auth-profiles",
                "openclaw-oauth"
            ]
        );
        assert!(providers
            .iter()
            .all(|p| p.group() == SourceGroup::Files && p.writable()));
        let mut listed = Vec::new();
        for p in &providers {
            for l in p.list().await.unwrap() {
                assert!(
                    !l.location.contains("FAKE") && !l.name.contains("FAKE"),
                    "{l:?}"
                );
                listed.push(format!("{}:{}", p.id(), l.name));
            }
        }
        assert_eq!(
            listed,
            [
                "claude-code:anthropic",
                "codex:codex",
                "codex:openai",
                "qwen:qwen",
                "gemini-cli:gemini",
                "auth-profiles:openai:default",
                "auth-profiles:anthropic:work",
                "auth-profiles:minimax:default",
                "auth-profiles:openai",
                "auth-profiles:anthropic",
                "auth-profiles:minimax",
                "openclaw-oauth:anthropic",
            ]
        );
        let claude = providers[0].get("anthropic").await.unwrap().unwrap();
        assert!(secret(&claude, "accessToken").starts_with("sk-ant-oat01-FAKE-demo"));
        let gemini = providers[4].get("gemini").await.unwrap().unwrap();
        assert!(
            gemini.expires_within(1_767_225_600_000, 0),
            "the sample Gemini token is expired"
        );
        let work = providers[5].get("anthropic").await.unwrap().unwrap();
        assert_eq!(work.kind, CredentialKind::OAuth);
        assert_eq!(work.metadata["profileId"], "anthropic:work");
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Real files in a temporary HOME, one per test.

    use std::fs;
    use std::os::unix::fs::PermissionsExt;
    use std::path::{Path, PathBuf};

    use secrecy::ExposeSecret;
    use serde_json::{Map, Value};

    use crate::credential::{
        fields, Credential, CredentialKind, CredentialSource, CredentialVersion, SecretFields,
        SourceGroup,
    };
    use crate::openclaw::paths::OpenClawPaths;
    use openclaw_vault_test_support::env_of;

    /// A temporary HOME, removed on drop.
    pub struct TempHome(pub PathBuf);

    impl TempHome {
        pub fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!("ocv-files-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            TempHome(dir)
        }

        /// Paths with only `HOME` set.
        pub fn paths(&self) -> OpenClawPaths {
            self.paths_with(&[])
        }

        pub fn paths_with(&self, extra: &[(&str, &str)]) -> OpenClawPaths {
            let mut env = vec![("HOME", self.0.to_str().unwrap())];
            env.extend_from_slice(extra);
            OpenClawPaths::from_env(&env_of(&env))
        }

        /// Writes `text` at `rest` under the home, mode 0600, creating directories.
        pub fn write(&self, rest: &str, text: &str) -> PathBuf {
            let path = self.0.join(rest);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, text).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
            path
        }
    }

    impl Drop for TempHome {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    pub fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    pub fn read_value(path: &Path) -> Value {
        serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
    }

    /// Top-level keys in file order.
    pub fn keys(value: &Value) -> Vec<String> {
        value.as_object().unwrap().keys().cloned().collect()
    }

    pub fn secret<'a>(cred: &'a Credential, field: &str) -> &'a str {
        cred.secrets.get(field).unwrap().expose_secret()
    }

    /// Refreshed OAuth tokens, as the chain hands them to `put` (built from what `get` returned).
    pub fn refreshed(
        from: &Credential,
        access: &str,
        refresh: &str,
        expires_at: i64,
    ) -> Credential {
        let mut cred = from.clone();
        cred.secrets.insert_str(fields::ACCESS_TOKEN, access);
        cred.secrets.insert_str(fields::REFRESH_TOKEN, refresh);
        cred.expires_at = Some(expires_at);
        cred
    }

    /// An OAuth credential from elsewhere (e.g. Vault), with no metadata.
    pub fn oauth(name: &str, access: &str, refresh: &str, expires_at: i64) -> Credential {
        let mut secrets = SecretFields::new();
        secrets.insert_str(fields::ACCESS_TOKEN, access);
        secrets.insert_str(fields::REFRESH_TOKEN, refresh);
        Credential {
            name: name.into(),
            kind: CredentialKind::OAuth,
            source: CredentialSource {
                provider: "vault",
                group: SourceGroup::Vault,
                location: "secret/openclaw/credentials/x".into(),
                file: None,
            },
            expires_at: Some(expires_at),
            metadata: Map::new(),
            secrets,
            version: CredentialVersion::Vault(1),
            request_id: None,
        }
    }

    /// Makes `path` look changed to a version check: a different length.
    pub fn touch_changed(path: &Path) {
        let mut text = fs::read_to_string(path).unwrap();
        text.push(' ');
        fs::write(path, text).unwrap();
    }

    /// Asserts an error's code and that none of `secrets` appears in its message.
    pub fn assert_error(err: &crate::error::Error, code: &str, needles: &[&str], secrets: &[&str]) {
        assert_eq!(err.code(), code, "{}", err.message);
        for n in needles {
            assert!(err.message.contains(n), "{:?} lacks {n:?}", err.message);
        }
        for s in secrets {
            assert!(!err.message.contains(s), "{:?} leaks {s:?}", err.message);
        }
    }
}
