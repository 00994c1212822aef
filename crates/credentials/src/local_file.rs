//! Reading and writing local credential files safely: no symlinks followed, size-capped reads
//! into wiped buffers, a warning for group/world-readable files, atomic 0600 writes, OpenClaw's
//! sidecar lock ([`FileLock`]) for files OpenClaw also writes, and a private `flock`
//! ([`PrivateLock`]) for what only this package uses.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, UNIX_EPOCH};

use serde_json::Value;
use zeroize::Zeroizing;

use crate::credential::CredentialVersion;
use crate::error::{Error, ErrorCode, Result};

/// Credential files are small; anything larger is refused rather than read.
pub const MAX_CREDENTIAL_FILE_BYTES: u64 = 1024 * 1024;

/// A credential file's bytes (wiped on drop), its version, and any warnings about it.
pub struct LocalFile {
    pub path: PathBuf,
    pub bytes: Zeroizing<Vec<u8>>,
    pub version: CredentialVersion,
    /// e.g. "is readable by other users (mode 0644); run chmod 600 <path>".
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for LocalFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalFile")
            .field("path", &self.path)
            .field("len", &self.bytes.len())
            .finish()
    }
}

fn invalid(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorCode::InvalidSource,
        format!("{}: {what}", path.display()),
    )
}

fn unavailable(path: &Path, e: &io::Error) -> Error {
    Error::new(
        ErrorCode::SourceUnavailable,
        format!("{}: cannot be read ({})", path.display(), e.kind()),
    )
}

/// The version a file's metadata gives: device, inode, mtime and ctime (nanoseconds) and length,
/// all compared together, so a same-length rewrite that keeps the mtime is still a change.
pub fn version_of(meta: &fs::Metadata) -> CredentialVersion {
    let modified_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    #[cfg(unix)]
    let (dev, ino, ctime_ns) = {
        use std::os::unix::fs::MetadataExt;
        (
            meta.dev(),
            meta.ino(),
            i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
        )
    };
    #[cfg(not(unix))]
    let (dev, ino, ctime_ns) = (0, 0, 0);
    CredentialVersion::File {
        modified_ns,
        len: meta.len(),
        dev,
        ino,
        ctime_ns,
    }
}

/// The current version of `path` without reading it; `None` when it does not exist.
pub fn stat_version(path: &Path) -> Option<CredentialVersion> {
    fs::symlink_metadata(path).ok().map(|m| version_of(&m))
}

/// Reads a credential file. `Ok(None)` when it does not exist. Refuses symlinks, non-regular
/// files and files over `max_bytes`; warns (in `warnings` and the log) when group or others can
/// read it.
pub fn read_credential_file(path: &Path, max_bytes: u64) -> Result<Option<LocalFile>> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => return Ok(None),
        Err(e) => return Err(unavailable(path, &e)),
    };
    if meta.file_type().is_symlink() {
        return Err(invalid(
            path,
            "is a symbolic link; credential files are not followed through links (replace it with the file itself)",
        ));
    }
    if !meta.is_file() {
        return Err(invalid(path, "is not a regular file"));
    }
    if meta.len() > max_bytes {
        return Err(invalid(
            path,
            format!(
                "is {} bytes; a credential file may be at most {max_bytes} bytes",
                meta.len()
            ),
        ));
    }
    let mut warnings = Vec::new();
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        let w = format!(
            "{} is readable by other users (mode {mode:04o}); run `chmod 600 {}`",
            path.display(),
            path.display()
        );
        // Once per file and mode per process: the config loader and the `.env` source read the
        // same file, and a CLI command opens the store more than once.
        static WARNED: std::sync::Mutex<Option<std::collections::HashSet<(PathBuf, u32)>>> =
            std::sync::Mutex::new(None);
        let first = WARNED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(Default::default)
            .insert((path.to_path_buf(), mode));
        if first {
            tracing::warn!("{w}");
        }
        warnings.push(w);
    }
    // O_NOFOLLOW closes the race between the lstat above and the open.
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc_o_nofollow())
        .open(path)
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => invalid(path, "disappeared while being read"),
            _ => unavailable(path, &e),
        })?;
    let mut bytes = Zeroizing::new(Vec::with_capacity(meta.len() as usize));
    (&mut file)
        .take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| unavailable(path, &e))?;
    if bytes.len() as u64 > max_bytes {
        return Err(invalid(
            path,
            format!("grew past {max_bytes} bytes while being read"),
        ));
    }
    let version = file
        .metadata()
        .map(|m| version_of(&m))
        .unwrap_or_else(|_| version_of(&meta));
    Ok(Some(LocalFile {
        path: path.to_path_buf(),
        bytes,
        version,
        warnings,
    }))
}

const fn libc_o_nofollow() -> i32 {
    libc::O_NOFOLLOW
}

/// Parses a credential file as JSON. The error gives the line, column and what the parser
/// expected ([`crate::scrub`]), never the content.
pub fn parse_json(file: &LocalFile) -> Result<Value> {
    serde_json::from_slice(&file.bytes).map_err(|e| {
        let s = crate::scrub::scrub(&e);
        invalid(
            &file.path,
            format!(
                "is not valid JSON (line {}, column {}: {})",
                s.line, s.column, s.detail
            ),
        )
    })
}

/// Writes `bytes` to `path` atomically with mode 0600: a temporary file in the same directory
/// (created 0600, exclusive), fsync, rename over the target, fsync the directory. A crash at any
/// point leaves either the old file or the new one. Missing parent directories are created 0700.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let fail = |what: &str, e: io::Error| {
        Error::new(
            ErrorCode::SourceUnavailable,
            format!("{}: {what} failed ({})", path.display(), e.kind()),
        )
    };
    if !dir.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| fail("creating the directory", e))?;
    }
    if let Ok(meta) = fs::symlink_metadata(path) {
        if meta.file_type().is_symlink() {
            return Err(invalid(path, "is a symbolic link; refusing to replace it"));
        }
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let mut attempt = 0u32;
    let (tmp, mut file) = loop {
        let tmp = dir.join(format!(
            ".{name}.{}.{}.tmp",
            std::process::id(),
            unique_suffix(attempt)
        ));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc_o_nofollow())
            .open(&tmp)
        {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 16 => attempt += 1,
            Err(e) => return Err(fail("creating a temporary file", e)),
        }
    };
    let result = (|| {
        file.write_all(bytes).map_err(|e| fail("writing", e))?;
        // The umask may have narrowed the mode; make it exactly 0600.
        file.set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(|e| fail("setting permissions", e))?;
        file.sync_all().map_err(|e| fail("syncing", e))?;
        drop(file);
        fs::rename(&tmp, path).map_err(|e| fail("renaming into place", e))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    } else {
        remove_stale_temps(dir, &name);
    }
    result
}

/// How old a temporary file of [`write_atomic`] must be before a later write of the same file
/// removes it: a writer finishes within milliseconds, so one this old was left by a process
/// killed between its create and its rename (`kill -9`).
const STALE_TEMP_AGE: Duration = Duration::from_secs(60);

/// Removes the temporary files [`write_atomic`] left for `name` in `dir` (`.<name>.<pid>.<hex>.tmp`,
/// regular files owned by this user, older than [`STALE_TEMP_AGE`]). Best effort: errors are
/// ignored (the next write tries again).
fn remove_stale_temps(dir: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{name}.");
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(middle) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|n| n.strip_suffix(".tmp"))
        else {
            continue;
        };
        let ours = middle.split_once('.').is_some_and(|(pid, suffix)| {
            !pid.is_empty()
                && pid.bytes().all(|b| b.is_ascii_digit())
                && !suffix.is_empty()
                && suffix.bytes().all(|b| b.is_ascii_hexdigit())
        });
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        let old = meta
            .modified()
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_some_and(|age| age >= STALE_TEMP_AGE);
        if ours && old && meta.file_type().is_file() && meta.uid() == uid {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn unique_suffix(attempt: u32) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{nanos:x}{attempt}")
}

pub use crate::sidecar_lock::FileLock;

/// An exclusive `flock` for files and operations only this package knows about (the refresh lock
/// per credential), on `<target>.flock`: never `<target>.lock`, which OpenClaw reads as its own
/// sidecar lock (see [`FileLock`]). The kernel drops the lock when its holder dies; the empty
/// `.flock` file that stays behind excludes nobody.
#[derive(Debug)]
pub struct PrivateLock {
    file: File,
    path: PathBuf,
}

/// The file next to `target` named `<target's file name><suffix>` (`auth.json` and `.lock`:
/// `auth.json.lock`): where both lock kinds keep their lock file.
pub fn sidecar_path(target: &Path, suffix: &str) -> PathBuf {
    let mut name = target
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(suffix);
    target.with_file_name(name)
}

impl PrivateLock {
    /// The lock file used for `target`: `<target>.flock`.
    pub fn lock_path(target: &Path) -> PathBuf {
        sidecar_path(target, ".flock")
    }

    /// Takes the lock, waiting up to `wait`. `LOCK_TIMEOUT` when another process holds it longer;
    /// `SOURCE_UNAVAILABLE` when the lock file cannot be opened.
    pub fn acquire(target: &Path, wait: Duration) -> Result<PrivateLock> {
        let path = Self::lock_path(target);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                let _ = fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir);
            }
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc_o_nofollow())
            .open(&path)
            .map_err(|e| {
                Error::new(
                    ErrorCode::SourceUnavailable,
                    format!(
                        "{}: cannot open the lock file ({})",
                        path.display(),
                        e.kind()
                    ),
                )
            })?;
        let deadline = Instant::now() + wait;
        let mut pause = Duration::from_millis(2);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(PrivateLock { file, path }),
                Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(
                        pause.min(deadline.saturating_duration_since(Instant::now())),
                    );
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(Error::new(
                        ErrorCode::LockTimeout,
                        format!(
                            "{}: another process held the lock for more than {} ms",
                            path.display(),
                            wait.as_millis()
                        ),
                    ))
                }
                Err(fs::TryLockError::Error(e)) => {
                    return Err(Error::new(
                        ErrorCode::SourceUnavailable,
                        format!("{}: cannot lock ({})", path.display(), e.kind()),
                    ))
                }
            }
        }
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PrivateLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`openclaw_vault_test_support::temp_dir`] under this module's prefix (removed on drop).
    fn temp_dir(name: &str) -> openclaw_vault_test_support::TempDir {
        openclaw_vault_test_support::temp_dir(&format!("lf-{name}"))
    }

    #[test]
    fn a_same_length_rewrite_with_the_old_mtime_is_a_new_version() {
        let dir = temp_dir("version");
        let f = dir.join("token");
        fs::write(&f, "token-aaaa").unwrap();
        let before = stat_version(&f).unwrap();
        let mtime = fs::metadata(&f).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        // In place, same length, mtime put back: the ctime still moves.
        fs::write(&f, "token-bbbb").unwrap();
        let file = fs::OpenOptions::new().write(true).open(&f).unwrap();
        file.set_modified(mtime).unwrap();
        drop(file);
        let in_place = stat_version(&f).unwrap();
        assert_ne!(before, in_place);
        // Replaced by rename, same length and mtime: a new inode.
        let tmp = dir.join("token.tmp");
        fs::write(&tmp, "token-cccc").unwrap();
        fs::OpenOptions::new()
            .write(true)
            .open(&tmp)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        fs::rename(&tmp, &f).unwrap();
        assert_ne!(in_place, stat_version(&f).unwrap());
        // Unchanged: the same version.
        assert_eq!(stat_version(&f), stat_version(&f));
    }

    #[test]
    fn reads_and_refuses_what_it_must() {
        let dir = temp_dir("read");
        let f = dir.join("creds.json");
        assert!(read_credential_file(&f, 100).unwrap().is_none());
        fs::write(&f, br#"{"k":"sekrit"}"#).unwrap();
        fs::set_permissions(&f, fs::Permissions::from_mode(0o644)).unwrap();
        let file = read_credential_file(&f, 100).unwrap().unwrap();
        assert_eq!(&file.bytes[..], br#"{"k":"sekrit"}"#);
        assert_eq!(file.warnings.len(), 1);
        assert!(file.warnings[0].contains("chmod 600"));
        assert!(!format!("{file:?}").contains("sekrit"));

        let err = read_credential_file(&f, 5).unwrap_err();
        assert_eq!(err.code(), "INVALID_SOURCE");
        assert!(err.message.contains("at most 5 bytes"));

        let link = dir.join("link.json");
        std::os::unix::fs::symlink(&f, &link).unwrap();
        let err = read_credential_file(&link, 100).unwrap_err();
        assert_eq!(err.code(), "INVALID_SOURCE");
        assert!(err.message.contains("symbolic link"));
        assert!(!err.message.contains("sekrit"));

        fs::write(&f, b"{\"k\": \"sekrit\"").unwrap();
        let file = read_credential_file(&f, 100).unwrap().unwrap();
        let err = parse_json(&file).unwrap_err();
        assert_eq!(err.code(), "INVALID_SOURCE");
        assert!(err.message.contains("line 1"), "{}", err.message);
        assert!(!err.message.contains("sekrit"));
    }

    #[test]
    fn writes_atomically_with_0600() {
        let dir = temp_dir("write");
        let f = dir.join("sub/creds.json");
        write_atomic(&f, b"one").unwrap();
        assert_eq!(fs::read(&f).unwrap(), b"one");
        assert_eq!(fs::metadata(&f).unwrap().mode() & 0o777, 0o600);
        assert_eq!(fs::metadata(dir.join("sub")).unwrap().mode() & 0o777, 0o700);
        fs::set_permissions(&f, fs::Permissions::from_mode(0o644)).unwrap();
        write_atomic(&f, b"two").unwrap();
        assert_eq!(fs::read(&f).unwrap(), b"two");
        assert_eq!(fs::metadata(&f).unwrap().mode() & 0o777, 0o600);
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(dir.join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        // A symlink target is refused, and the file it points to is untouched.
        let link = dir.join("link.json");
        std::os::unix::fs::symlink(&f, &link).unwrap();
        assert_eq!(
            write_atomic(&link, b"three").unwrap_err().code(),
            "INVALID_SOURCE"
        );
        assert_eq!(fs::read(&f).unwrap(), b"two");
    }

    // Attack 8 finding 7: temporary files of writers killed with SIGKILL were never removed.
    #[test]
    fn a_write_removes_its_own_stale_temporary_files_only() {
        let dir = temp_dir("stale-temps");
        let f = dir.join("lkg.bin");
        let old = std::time::SystemTime::now() - Duration::from_secs(300);
        let make = |name: &str, aged: bool| {
            let p = dir.join(name);
            let file = File::create(&p).unwrap();
            if aged {
                file.set_modified(old).unwrap();
            }
            p
        };
        let stale = make(".lkg.bin.4242.1a2b3c0.tmp", true);
        let fresh = make(".lkg.bin.4243.1a2b3c0.tmp", false);
        let other_file = make(".other.bin.4242.1a2b3c0.tmp", true);
        let not_ours = make(".lkg.bin.backup.tmp", true);
        write_atomic(&f, b"one").unwrap();
        assert!(!stale.exists(), "the stale temporary file is removed");
        for kept in [&fresh, &other_file, &not_ours] {
            assert!(kept.exists(), "{}", kept.display());
        }
        assert_eq!(fs::read(&f).unwrap(), b"one");
    }

    #[test]
    fn private_lock_excludes_a_second_holder_and_never_uses_the_sidecar_name() {
        let dir = temp_dir("lock");
        let f = dir.join("refresh-x");
        let held = PrivateLock::acquire(&f, Duration::from_millis(10)).unwrap();
        assert_eq!(held.path(), dir.join("refresh-x.flock"));
        let err = PrivateLock::acquire(&f, Duration::from_millis(20)).unwrap_err();
        assert_eq!(err.code(), "LOCK_TIMEOUT");
        drop(held);
        PrivateLock::acquire(&f, Duration::from_millis(10)).unwrap();
        assert!(!dir.join("refresh-x.lock").exists());
    }
}
