//! OpenClaw's file lock, spoken by this package: the sidecar `<file>.lock` of `@openclaw/fs-safe`
//! as OpenClaw 2026.9 uses it for every file it writes (`openclaw.json`, auth stores, ...).
//!
//! The protocol (learned from fs-safe's docs and OpenClaw's released `dist/`, implemented here):
//!
//! - **Acquire**: create `<file>.lock` exclusively (`O_CREAT|O_EXCL`, mode 0600) and write a JSON
//!   object `{"pid", "createdAt", "starttime"}`: the owner's process id, an ISO 8601 time and, on
//!   Linux, the owner's start time in clock ticks (field 22 of `/proc/<pid>/stat`), which tells a
//!   reused pid from the owner. The JSON is followed by a line of tabs and spaces (fs-safe's
//!   "ownership token": random bits only the creator knows; `JSON.parse` ignores the whitespace).
//! - **Held**: a `<file>.lock` that exists is a held lock, whatever it contains. Acquirers wait.
//! - **Stale**: a holder whose `pid` is dead (or a zombie), or whose recorded `starttime` differs
//!   from that pid's current one, is stale at once; a sidecar without a `pid` is stale when its
//!   `createdAt` is older than [`STALE_AFTER`] (30 s, OpenClaw's config lock). This is exactly
//!   OpenClaw's rule, so each side reclaims the other's dead holders. Beyond OpenClaw's rule,
//!   a sidecar with no payload at all (empty or not JSON) is stale once its mtime is older than
//!   [`STALE_AFTER`]: that is what older versions of this package (which used `flock` on the
//!   same name) left behind, and what made OpenClaw time out.
//! - **Reclaim**: create the guard directory `<file>.lock.reclaim` exclusively, check that the
//!   sidecar is still the exact one judged stale (bytes and inode), delete it, remove the guard.
//!   Every acquirer (OpenClaw's and ours) waits while a guard exists.
//! - **Release**: delete the sidecar if it is still ours (same bytes and inode); a sidecar that
//!   changed is left alone.
//!
//! A holder killed with SIGKILL leaves its sidecar; its pid is then dead, so the next acquirer,
//! OpenClaw or this package, reclaims it at once. Files only this package writes use
//! [`crate::local_file::PrivateLock`] instead.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};

use crate::error::{Error, ErrorCode, Result};

/// A sidecar without a `pid` is stale once its `createdAt` (or, without one, its mtime) is older
/// than this: OpenClaw's config lock uses 30 s.
pub const STALE_AFTER: Duration = Duration::from_secs(30);

/// fs-safe refuses sidecars larger than this; so do we.
const MAX_SIDECAR_BYTES: u64 = 1024 * 1024;

/// Retry pauses: OpenClaw's config lock waits 25 ms, then 1.2 times longer each time, at most
/// 250 ms, with jitter.
const FIRST_PAUSE: Duration = Duration::from_millis(25);
const MAX_PAUSE: Duration = Duration::from_millis(250);

/// OpenClaw's lock on `<file>` (the sidecar `<file>.lock`), held until dropped.
#[derive(Debug)]
pub struct FileLock {
    path: PathBuf,
    raw: Vec<u8>,
    dev: u64,
    ino: u64,
}

/// What a sidecar held when it was read: its bytes and identity.
#[derive(Debug)]
struct Snapshot {
    raw: Vec<u8>,
    dev: u64,
    ino: u64,
    modified: SystemTime,
}

impl Snapshot {
    fn same_as(&self, other: &Snapshot) -> bool {
        self.raw == other.raw && self.dev == other.dev && self.ino == other.ino
    }
}

/// Whether the holder of a sidecar may be displaced, and why.
#[derive(Debug, PartialEq, Eq)]
enum Holder {
    /// Alive, or too young to judge: wait.
    Live { pid: Option<u32> },
    /// Dead or expired: reclaim.
    Stale(String),
}

fn unavailable(path: &Path, what: &str, e: &io::Error) -> Error {
    Error::new(
        ErrorCode::SourceUnavailable,
        format!("{}: {what} ({})", path.display(), e.kind()),
    )
}

impl FileLock {
    /// The sidecar used for `target`: `<target>.lock`, as OpenClaw names it.
    pub fn lock_path(target: &Path) -> PathBuf {
        crate::local_file::sidecar_path(target, ".lock")
    }

    /// Takes OpenClaw's lock on `target`, waiting up to `wait` for a live holder and reclaiming a
    /// stale one (see the module docs). Creates `target`'s directory (0700) when missing.
    ///
    /// Errors: `LOCK_TIMEOUT` when a live holder (named by pid), a reclaim guard or something
    /// that is not a regular file at `<target>.lock` (a directory, a symlink) outlasts `wait`;
    /// `SOURCE_UNAVAILABLE` when the sidecar cannot be created or read.
    pub fn acquire(target: &Path, wait: Duration) -> Result<FileLock> {
        let path = Self::lock_path(target);
        let guard = reclaim_guard_path(&path);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                let _ = fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir);
            }
        }
        let deadline = Instant::now() + wait;
        let mut pause = FIRST_PAUSE;
        let mut last_holder = None;
        let mut immediate_retries = 0u32;
        loop {
            let mut blocked_by_guard = false;
            let mut not_a_file = false;
            // Set when the sidecar went away (released, or reclaimed by us): try again at once.
            let mut retry_now = false;
            if fs::symlink_metadata(&guard).is_ok() {
                // Someone is reclaiming a stale sidecar right now: fs-safe's acquirers wait.
                blocked_by_guard = true;
            } else if let Some(lock) = try_create(&path)? {
                return Ok(lock);
            } else {
                match read_snapshot(&path) {
                    Ok(None) => retry_now = true,
                    Ok(Some(held)) => match judge(&held, SystemTime::now()) {
                        Holder::Stale(why) => {
                            if reclaim(&path, &guard, &held)? {
                                tracing::info!(lock = %path.display(), "reclaimed a stale lock ({why})");
                                retry_now = true;
                            }
                        }
                        Holder::Live { pid } => last_holder = pid,
                    },
                    // A directory or symlink at the sidecar's name (another tool's lock, such as
                    // proper-lockfile's directory): fs-safe waits on it like a held lock; so do we.
                    Err(e) if e.code == ErrorCode::InvalidSource => not_a_file = true,
                    Err(e) => return Err(e),
                }
            }
            // Bounded, so that a sidecar that keeps changing under us cannot spin forever; a
            // reclaim near the deadline still gets its one more try.
            if retry_now && immediate_retries < 16 {
                immediate_retries += 1;
                continue;
            }
            let now = Instant::now();
            if now >= deadline {
                let who = match (blocked_by_guard, last_holder) {
                    _ if not_a_file => "it is not a regular file (a directory or symbolic link: another tool's lock?); remove it if nothing uses it".to_string(),
                    (true, _) => format!(
                        "a stale-lock reclaim ({}) is in progress; if it stays, no OpenClaw process is running and it is empty, remove it",
                        guard.display()
                    ),
                    (false, Some(pid)) => format!("process {pid} holds it"),
                    (false, None) => "another process holds it".to_string(),
                };
                return Err(Error::new(
                    ErrorCode::LockTimeout,
                    format!(
                        "{}: not acquired within {} ms: {who}",
                        path.display(),
                        wait.as_millis()
                    ),
                ));
            }
            std::thread::sleep(jittered(pause).min(deadline - now));
            pause = pause.mul_f32(1.2).min(MAX_PAUSE);
        }
    }

    /// The sidecar's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        match read_snapshot(&self.path) {
            Ok(Some(now)) if now.raw == self.raw && now.dev == self.dev && now.ino == self.ino => {
                if let Err(e) = fs::remove_file(&self.path) {
                    if e.kind() != io::ErrorKind::NotFound {
                        tracing::warn!(lock = %self.path.display(), "the lock could not be removed ({})", e.kind());
                    }
                }
            }
            Ok(None) => {
                tracing::warn!(lock = %self.path.display(), "the lock disappeared while held");
            }
            _ => {
                tracing::warn!(lock = %self.path.display(), "the lock changed while held; left in place");
            }
        }
    }
}

fn reclaim_guard_path(lock: &Path) -> PathBuf {
    let mut name = lock
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".reclaim");
    lock.with_file_name(name)
}

/// Creates the sidecar exclusively with our payload. `None` when it already exists.
fn try_create(path: &Path) -> Result<Option<FileLock>> {
    let raw = payload();
    let mut file = match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(None),
        Err(e) => return Err(unavailable(path, "cannot create the lock file", &e)),
    };
    let meta = file
        .metadata()
        .map_err(|e| unavailable(path, "cannot inspect the lock file", &e))?;
    if let Err(e) = file.write_all(&raw) {
        // A partial sidecar would hold the lock until judged stale: remove ours by identity.
        if let Ok(m) = fs::symlink_metadata(path) {
            if m.dev() == meta.dev() && m.ino() == meta.ino() {
                let _ = fs::remove_file(path);
            }
        }
        return Err(unavailable(path, "cannot write the lock file", &e));
    }
    Ok(Some(FileLock {
        path: path.to_path_buf(),
        raw,
        dev: meta.dev(),
        ino: meta.ino(),
    }))
}

/// Our sidecar's bytes: pretty JSON as fs-safe writes it, then the ownership-token line.
fn payload() -> Vec<u8> {
    let mut p = json!({
        "pid": std::process::id(),
        "createdAt": humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
    });
    if let Some(start) = process_start_time(std::process::id()) {
        p["starttime"] = json!(start);
    }
    let mut raw = serde_json::to_string_pretty(&p).unwrap_or_default();
    raw.push('\n');
    raw.push_str(&ownership_token());
    raw.push('\n');
    raw.into_bytes()
}

/// Eight tabs, then 128 tabs or spaces for 16 random bytes (a tab is a 1 bit): fs-safe's token
/// shape, so its parser recognises it; `JSON.parse` reads it as trailing whitespace.
fn ownership_token() -> String {
    let mut bytes = [0u8; 16];
    if File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_err()
    {
        // Uniqueness is all that matters here (the bytes also hold pid and time).
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        bytes = nanos.to_le_bytes();
    }
    let mut token = "\t".repeat(8);
    for byte in bytes {
        for bit in (0..8).rev() {
            token.push(if byte & (1 << bit) != 0 { '\t' } else { ' ' });
        }
    }
    token
}

/// Reads the sidecar without following a symlink. `None` when it is missing or was replaced
/// while being read. `INVALID_SOURCE` when it is not a regular file (a symlink, a directory).
fn read_snapshot(path: &Path) -> Result<Option<Snapshot>> {
    let mut file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(Error::new(
                ErrorCode::InvalidSource,
                format!(
                    "{}: the lock file is a symbolic link; remove it",
                    path.display()
                ),
            ))
        }
        Err(e) => return Err(unavailable(path, "cannot read the lock file", &e)),
    };
    let meta = file
        .metadata()
        .map_err(|e| unavailable(path, "cannot inspect the lock file", &e))?;
    if !meta.is_file() {
        return Err(Error::new(
            ErrorCode::InvalidSource,
            format!(
                "{}: the lock file is not a regular file; remove it",
                path.display()
            ),
        ));
    }
    let mut raw = Vec::new();
    (&mut file)
        .take(MAX_SIDECAR_BYTES)
        .read_to_end(&mut raw)
        .map_err(|e| unavailable(path, "cannot read the lock file", &e))?;
    match fs::symlink_metadata(path) {
        Ok(now) if now.dev() == meta.dev() && now.ino() == meta.ino() => Ok(Some(Snapshot {
            raw,
            dev: meta.dev(),
            ino: meta.ino(),
            modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        })),
        _ => Ok(None),
    }
}

/// OpenClaw's stale rule (see the module docs), plus the mtime rule for payload-less sidecars.
fn judge(held: &Snapshot, now: SystemTime) -> Holder {
    let payload: Option<Value> = serde_json::from_slice(&held.raw)
        .ok()
        .filter(Value::is_object);
    let older_than_limit = |t: SystemTime| now.duration_since(t).is_ok_and(|age| age > STALE_AFTER);
    let Some(payload) = payload else {
        return if older_than_limit(held.modified) {
            Holder::Stale(format!(
                "no owner recorded and older than {} s",
                STALE_AFTER.as_secs()
            ))
        } else {
            Holder::Live { pid: None }
        };
    };
    let pid = payload
        .get("pid")
        .and_then(Value::as_u64)
        .filter(|p| *p > 0);
    if let Some(pid) = pid {
        let Ok(pid) = u32::try_from(pid) else {
            return Holder::Stale(format!("owner pid {pid} cannot exist"));
        };
        let recorded = payload.get("starttime").and_then(Value::as_u64);
        if let (Some(recorded), Some(observed)) = (recorded, process_start_time(pid)) {
            if recorded != observed {
                return Holder::Stale(format!("owner pid {pid} was reused by another process"));
            }
        }
        if pid_definitely_dead(pid) {
            return Holder::Stale(format!("owner pid {pid} exited"));
        }
        return Holder::Live { pid: Some(pid) };
    }
    match payload.get("createdAt").and_then(Value::as_str) {
        Some(created) => match humantime::parse_rfc3339_weak(created) {
            Ok(t) if !older_than_limit(t) => Holder::Live { pid: None },
            Ok(_) => Holder::Stale(format!("created more than {} s ago", STALE_AFTER.as_secs())),
            Err(_) => Holder::Stale("its createdAt is not a time".into()),
        },
        // OpenClaw never reclaims these; an object without owner or time is ours to judge by
        // age like a payload-less one.
        None if older_than_limit(held.modified) => Holder::Stale(format!(
            "no owner recorded and older than {} s",
            STALE_AFTER.as_secs()
        )),
        None => Holder::Live { pid: None },
    }
}

/// Removes the sidecar `observed` if it is still exactly that one, under the reclaim guard.
/// `false` when another process is reclaiming or the sidecar changed.
fn reclaim(lock: &Path, guard: &Path, observed: &Snapshot) -> Result<bool> {
    match fs::DirBuilder::new().mode(0o700).create(guard) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(unavailable(guard, "cannot create the reclaim guard", &e)),
    }
    struct RemoveGuard<'a>(&'a Path);
    impl Drop for RemoveGuard<'_> {
        fn drop(&mut self) {
            let _ = fs::remove_dir(self.0);
        }
    }
    let _guard = RemoveGuard(guard);
    match read_snapshot(lock)? {
        Some(current) if current.same_as(observed) => match fs::remove_file(lock) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(unavailable(lock, "cannot remove the stale lock file", &e)),
        },
        _ => Ok(false),
    }
}

/// True only when `pid` is known to be gone: no such process, or a zombie (Linux).
fn pid_definitely_dead(pid: u32) -> bool {
    let Ok(pid_t) = libc::pid_t::try_from(pid) else {
        return true;
    };
    // SAFETY: kill with signal 0 only checks for existence and permission.
    if unsafe { libc::kill(pid_t, 0) } != 0 {
        return io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
    }
    is_zombie(pid)
}

#[cfg(target_os = "linux")]
fn is_zombie(pid: u32) -> bool {
    let Ok(status) = fs::read_to_string(format!("/proc/{pid}/status")) else {
        return false;
    };
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .map(str::to_owned)
    };
    field("State:").is_some_and(|s| s.starts_with('Z')) && field("Threads:").as_deref() == Some("1")
}

#[cfg(not(target_os = "linux"))]
fn is_zombie(_pid: u32) -> bool {
    false
}

/// The process' start time in clock ticks since boot (field 22 of `/proc/<pid>/stat`), as
/// OpenClaw records it on Linux. `None` elsewhere or when unreadable.
#[cfg(target_os = "linux")]
fn process_start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(not(target_os = "linux"))]
fn process_start_time(_pid: u32) -> Option<u64> {
    None
}

/// `pause` scaled by a factor in [0.5, 1.5), so that waiters do not retry in step.
fn jittered(pause: Duration) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    pause.mul_f64(0.5 + f64::from(nanos % 1000) / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// [`openclaw_vault_test_support::temp_dir`] under this module's prefix (removed on drop).
    fn temp_dir(name: &str) -> openclaw_vault_test_support::TempDir {
        openclaw_vault_test_support::temp_dir(&format!("sidecar-{name}"))
    }

    const SHORT: Duration = Duration::from_millis(60);

    /// A pid that belonged to a process which has exited and been reaped.
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    fn write_sidecar(target: &Path, text: &str, age: Option<Duration>) {
        let path = FileLock::lock_path(target);
        fs::write(&path, text).unwrap();
        if let Some(age) = age {
            let f = OpenOptions::new().write(true).open(&path).unwrap();
            f.set_modified(SystemTime::now() - age).unwrap();
        }
    }

    fn iso(t: SystemTime) -> String {
        humantime::format_rfc3339_millis(t).to_string()
    }

    #[test]
    fn writes_the_payload_fs_safe_reads_and_removes_it_on_release() {
        let dir = temp_dir("payload");
        let target = dir.join("openclaw.json");
        let lock = FileLock::acquire(&target, SHORT).unwrap();
        assert_eq!(lock.path(), dir.join("openclaw.json.lock"));
        let raw = fs::read_to_string(lock.path()).unwrap();
        assert_eq!(
            fs::metadata(lock.path()).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // What JSON.parse would see: the object, with the token line as trailing whitespace.
        let v: Value = serde_json::from_str(&raw).unwrap();
        assert_eq!(v["pid"], json!(std::process::id()));
        let created = humantime::parse_rfc3339_weak(v["createdAt"].as_str().unwrap()).unwrap();
        assert!(SystemTime::now().duration_since(created).unwrap() < Duration::from_secs(60));
        assert_eq!(
            v["starttime"].as_u64(),
            process_start_time(std::process::id())
        );
        // fs-safe's token shape: "\n" + 8 tabs + 128 tabs/spaces + "\n" at the end.
        let token = raw.trim_end_matches('\n').rsplit('\n').next().unwrap();
        assert_eq!(token.len(), 136, "{token:?}");
        assert!(token.starts_with("\t\t\t\t\t\t\t\t"));
        assert!(token.chars().all(|c| c == '\t' || c == ' '));
        drop(lock);
        assert!(!dir.join("openclaw.json.lock").exists());
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            0,
            "nothing left behind"
        );
    }

    #[test]
    fn a_live_holder_excludes_and_is_named() {
        let dir = temp_dir("live");
        let target = dir.join("openclaw.json");
        let held = FileLock::acquire(&target, SHORT).unwrap();
        let err = FileLock::acquire(&target, SHORT).unwrap_err();
        assert_eq!(err.code(), "LOCK_TIMEOUT");
        assert!(
            err.message
                .contains(&format!("process {} holds it", std::process::id())),
            "{}",
            err.message
        );
        drop(held);
        drop(FileLock::acquire(&target, SHORT).unwrap());
        // A live pid is never displaced, however old its createdAt (OpenClaw's rule).
        let old = iso(SystemTime::now() - Duration::from_secs(3600));
        write_sidecar(
            &target,
            &format!(r#"{{"pid": {}, "createdAt": "{old}"}}"#, std::process::id()),
            Some(Duration::from_secs(3600)),
        );
        assert_eq!(
            FileLock::acquire(&target, SHORT).unwrap_err().code(),
            "LOCK_TIMEOUT"
        );
        assert!(FileLock::lock_path(&target).exists());
    }

    #[test]
    fn reclaims_dead_reused_and_expired_holders() {
        let dir = temp_dir("stale");
        let target = dir.join("openclaw.json");
        let now = iso(SystemTime::now());
        let cases = [
            // OpenClaw's own payload shape, its owner gone.
            format!(
                "{{\n  \"pid\": {},\n  \"createdAt\": \"{now}\",\n  \"starttime\": 1\n}}\n",
                dead_pid()
            ),
            // A live pid whose start time is not the recorded one: the pid was reused.
            format!(
                r#"{{"pid": {}, "createdAt": "{now}", "starttime": {}}}"#,
                std::process::id(),
                process_start_time(std::process::id()).unwrap() + 1
            ),
            // No pid, created long ago.
            format!(
                r#"{{"createdAt": "{}"}}"#,
                iso(SystemTime::now() - Duration::from_secs(120))
            ),
        ];
        for text in cases {
            write_sidecar(&target, &text, None);
            let lock = FileLock::acquire(&target, SHORT).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert!(!fs::read_to_string(lock.path()).unwrap().contains(&text));
            drop(lock);
            assert!(!FileLock::lock_path(&target).exists());
            assert!(!dir.join("openclaw.json.lock.reclaim").exists());
        }
    }

    #[test]
    fn a_payload_less_sidecar_is_held_while_young_and_reclaimed_when_old() {
        let dir = temp_dir("empty");
        let target = dir.join("auth-profiles.json");
        // What the flock of older versions left, or a sidecar whose creator is still writing.
        write_sidecar(&target, "", None);
        assert_eq!(
            FileLock::acquire(&target, SHORT).unwrap_err().code(),
            "LOCK_TIMEOUT"
        );
        write_sidecar(&target, r#"{"createdAt": "not a time"}"#, None);
        drop(FileLock::acquire(&target, SHORT).unwrap());
        write_sidecar(&target, "", Some(STALE_AFTER + Duration::from_secs(5)));
        drop(FileLock::acquire(&target, SHORT).unwrap());
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
    }

    #[test]
    fn waits_while_a_reclaim_guard_exists() {
        let dir = temp_dir("guard");
        let target = dir.join("openclaw.json");
        write_sidecar(&target, &format!(r#"{{"pid": {}}}"#, dead_pid()), None);
        fs::create_dir(dir.join("openclaw.json.lock.reclaim")).unwrap();
        let err = FileLock::acquire(&target, SHORT).unwrap_err();
        assert_eq!(err.code(), "LOCK_TIMEOUT");
        assert!(
            err.message.contains("openclaw.json.lock.reclaim"),
            "{}",
            err.message
        );
        assert!(
            FileLock::lock_path(&target).exists(),
            "not reclaimed under another's guard"
        );
        fs::remove_dir(dir.join("openclaw.json.lock.reclaim")).unwrap();
        drop(FileLock::acquire(&target, SHORT).unwrap());
    }

    #[test]
    fn waits_on_a_symlink_or_directory_and_leaves_a_changed_sidecar_alone() {
        let dir = temp_dir("odd");
        let target = dir.join("openclaw.json");
        std::os::unix::fs::symlink(dir.join("elsewhere"), FileLock::lock_path(&target)).unwrap();
        let err = FileLock::acquire(&target, SHORT).unwrap_err();
        assert_eq!(err.code(), "LOCK_TIMEOUT");
        assert!(
            err.message.contains("not a regular file"),
            "{}",
            err.message
        );
        assert!(!dir.join("elsewhere").exists());
        fs::remove_file(FileLock::lock_path(&target)).unwrap();
        // Another tool's lock directory (proper-lockfile's shape) is waited on, not removed.
        fs::create_dir(FileLock::lock_path(&target)).unwrap();
        let err = FileLock::acquire(&target, SHORT).unwrap_err();
        assert_eq!(err.code(), "LOCK_TIMEOUT");
        assert!(FileLock::lock_path(&target).is_dir());
        fs::remove_dir(FileLock::lock_path(&target)).unwrap();

        let lock = FileLock::acquire(&target, SHORT).unwrap();
        // Someone replaced our sidecar (outside the protocol): release must not delete theirs.
        fs::remove_file(lock.path()).unwrap();
        fs::write(lock.path(), r#"{"pid": 1}"#).unwrap();
        drop(lock);
        assert_eq!(
            fs::read_to_string(FileLock::lock_path(&target)).unwrap(),
            r#"{"pid": 1}"#
        );
    }

    /// Run as a child by `a_killed_holder_is_reclaimed_at_once`: takes the lock on the target
    /// it is given, says so, and waits to be killed.
    #[test]
    #[ignore = "a helper process for a_killed_holder_is_reclaimed_at_once"]
    fn child_holds_the_lock_until_killed() {
        let Some(target) = std::env::var_os("OCV_SIDECAR_CHILD_TARGET") else {
            return;
        };
        let lock = FileLock::acquire(Path::new(&target), Duration::from_secs(10)).unwrap();
        let mut out = std::io::stdout();
        writeln!(out, "held {}", lock.path().display()).unwrap();
        out.flush().unwrap();
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        drop(lock);
    }

    #[test]
    fn a_killed_holder_is_reclaimed_at_once() {
        use std::io::BufRead;
        let dir = temp_dir("killed");
        let target = dir.join("openclaw.json");
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "sidecar_lock::tests::child_holds_the_lock_until_killed",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("OCV_SIDECAR_CHILD_TARGET", &target)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        // libtest writes "test <name> ... " before it on the same line.
        while !line.contains("held ") {
            line.clear();
            assert!(out.read_line(&mut line).unwrap() > 0, "the child ended");
        }
        let err = FileLock::acquire(&target, SHORT).unwrap_err();
        assert_eq!(err.code(), "LOCK_TIMEOUT");
        assert!(err.message.contains(&format!("process {}", child.id())));
        child.kill().unwrap(); // SIGKILL: no destructor runs
        child.wait().unwrap();
        let v: Value =
            serde_json::from_slice(&fs::read(FileLock::lock_path(&target)).unwrap()).unwrap();
        assert_eq!(
            v["pid"],
            json!(child.id()),
            "the killed holder's sidecar stays"
        );
        drop(FileLock::acquire(&target, SHORT).unwrap());
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
    }
}
