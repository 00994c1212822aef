//! The audit log: one JSON line per credential access, appended to a file opened 0600. It records
//! who asked for what, where it came from and how it went; never a value or a token.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use serde::Serialize;

use crate::error::{Error, ErrorCode, Result};

/// What happened to a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditEvent {
    /// A read through the chain (`outcome` says how it went).
    Get,
    /// A write (refresh write-back, `put`, migration).
    Put,
    /// An OAuth refresh performed by this process.
    Refresh,
    /// A source failed and the chain moved on to the next one.
    Fallback,
    /// Vault refused the token or the path (403).
    Denial,
}

/// One line of the audit log.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord<'a> {
    pub event: AuditEvent,
    pub credential: &'a str,
    /// Provider id (`vault`, `claude-code`, ...), when one was involved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<&'a str>,
    /// Where inside the provider (file, Vault path, variable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<&'a str>,
    /// `ok`, `cached`, `stale`, `not_found` or an error code.
    pub outcome: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<&'a str>,
    /// A short, value-free reason (error message) when the outcome is not `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<&'a str>,
}

#[derive(Serialize)]
struct Line<'a> {
    time: String,
    #[serde(flatten)]
    record: &'a AuditRecord<'a>,
    pid: u32,
    user: &'a str,
    host: &'a str,
}

/// An open audit log. Lines are written with one `write` on an `O_APPEND` descriptor, so lines
/// from several processes sharing the file do not interleave.
pub struct AuditLog {
    path: PathBuf,
    file: Mutex<File>,
    user: String,
    host: String,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("path", &self.path)
            .finish()
    }
}

impl AuditLog {
    /// Opens (creating 0600, parents 0700) the log at `path` for appending. An existing file with
    /// wider permissions is narrowed to 0600.
    pub fn open(path: &Path) -> Result<AuditLog> {
        let fail = |what: &str, e: std::io::Error| {
            Error::new(
                ErrorCode::InvalidConfig,
                format!("audit log {}: {what} ({})", path.display(), e.kind()),
            )
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                use std::os::unix::fs::DirBuilderExt;
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(|e| fail("cannot create its directory", e))?;
            }
        }
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .map_err(|e| fail("cannot be opened for appending", e))?;
        let meta = file.metadata().map_err(|e| fail("cannot be read", e))?;
        if meta.permissions().mode() & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(|e| fail("cannot be made private (chmod 600)", e))?;
        }
        Ok(AuditLog {
            path: path.to_path_buf(),
            file: Mutex::new(file),
            user: current_user(),
            host: host_name(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line. A failing audit write is logged, never raised: it must not turn a
    /// credential read into an outage.
    pub fn record(&self, record: &AuditRecord<'_>) {
        let line = Line {
            time: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
            record,
            pid: std::process::id(),
            user: &self.user,
            host: &self.host,
        };
        let mut bytes = match serde_json::to_vec(&line) {
            Ok(b) => b,
            Err(_) => return,
        };
        bytes.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = file.write_all(&bytes) {
            tracing::error!(path = %self.path.display(), error = %e.kind(), "audit log write failed");
        }
    }
}

fn current_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        // SAFETY: getuid has no preconditions and cannot fail.
        .unwrap_or_else(|| format!("uid:{}", unsafe { libc::getuid() }))
}

/// This machine's host name (`gethostname`), `unknown` if it cannot be read.
pub fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates on success.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn appends_json_lines_with_0600() {
        let dir = std::env::temp_dir().join(format!("ocv-audit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("logs/audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        log.record(&AuditRecord {
            event: AuditEvent::Get,
            credential: "anthropic",
            source: Some("vault"),
            location: Some("secret/openclaw/credentials/anthropic"),
            outcome: "ok",
            request_id: Some("req-1"),
            detail: None,
        });
        log.record(&AuditRecord {
            event: AuditEvent::Fallback,
            credential: "anthropic",
            source: Some("vault"),
            location: None,
            outcome: "NETWORK",
            request_id: None,
            detail: Some("connection refused"),
        });
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["event"], "get");
        assert_eq!(lines[0]["credential"], "anthropic");
        assert_eq!(lines[0]["request_id"], "req-1");
        assert_eq!(lines[0]["pid"], std::process::id());
        assert!(lines[0]["time"].as_str().unwrap().ends_with('Z'));
        assert!(lines[0]["host"].as_str().is_some_and(|h| !h.is_empty()));
        assert_eq!(lines[1]["event"], "fallback");
        assert_eq!(lines[1]["outcome"], "NETWORK");
        assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
