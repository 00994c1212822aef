//! Reading and rewriting one JSON credential file: parsed once per file version (a cache keyed
//! by path), rewritten under the file's OpenClaw-compatible lock only when unchanged since it was
//! read (`CAS_MISMATCH` otherwise), atomically with mode 0600, in the file's own indentation and
//! key order. A file that does not parse is never rewritten.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use serde_json::{Map, Value};
use zeroize::{Zeroize, Zeroizing};

use super::typed::invalid_source;
use crate::credential::{
    Credential, CredentialSource, CredentialVersion, ParsedFields, SourceGroup,
};
use crate::error::{Error, ErrorCode, Result};
use crate::local_file::{self, FileLock, MAX_CREDENTIAL_FILE_BYTES};
use vault_client::secret::{json_kind, ZeroizingJson};

/// How long a write-back waits for another process holding the file's lock.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);

/// A credential file read and parsed: its JSON (wiped on drop), the version it was read at, the
/// warnings `local_file` gave about it, and its indentation (kept on rewrite).
pub struct JsonFile {
    /// The file.
    pub path: PathBuf,
    /// Its JSON; the root is always an object.
    pub json: ZeroizingJson,
    /// Its modification time and length when it was read: what a write-back's cas compares.
    pub version: CredentialVersion,
    /// What `local_file` noticed (e.g. readable by other users), for `metadata.warnings`.
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
            layer: None,
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
static PARSED: LazyLock<Mutex<HashMap<PathBuf, CachedParse>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// One entry of the parse cache: the file's version and mode when it was parsed, and the result.
struct CachedParse {
    version: CredentialVersion,
    mode: u32,
    file: Arc<JsonFile>,
}

/// Reads and parses the JSON object at `path` (see [`read_json_uncached`]), from the parse cache
/// when the file has not changed since it was last parsed.
pub fn read_json(path: &Path) -> Result<Option<Arc<JsonFile>>> {
    use std::os::unix::fs::PermissionsExt;
    let key = std::fs::symlink_metadata(path)
        .ok()
        .filter(|m| m.file_type().is_file())
        .map(|m| (local_file::version_of(&m), m.permissions().mode()));
    let mut cache = PARSED.lock().unwrap_or_else(|p| p.into_inner());
    if let (Some((version, mode)), Some(cached)) = (&key, cache.get(path)) {
        if &cached.version == version && &cached.mode == mode {
            return Ok(Some(cached.file.clone()));
        }
    }
    cache.remove(path);
    drop(cache);
    let parsed = read_json_uncached(path)?.map(Arc::new);
    if let (Some(file), Some((version, mode))) = (&parsed, key) {
        if file.version == version {
            PARSED.lock().unwrap_or_else(|p| p.into_inner()).insert(
                path.to_path_buf(),
                CachedParse {
                    version,
                    mode,
                    file: file.clone(),
                },
            );
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
pub async fn rewrite<F>(
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
pub fn set(object: &mut Map<String, Value>, key: &str, value: Value) {
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
pub fn object_at<'a>(object: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    if !matches!(object.get(key), Some(Value::Object(_))) {
        set(object, key, Value::Object(Map::new()));
    }
    match object.get_mut(key) {
        Some(Value::Object(o)) => o,
        _ => unreachable!("just set to an object"),
    }
}
