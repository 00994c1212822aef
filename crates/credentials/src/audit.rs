//! The audit log: one JSON line per credential access, appended to a file opened 0600. It records
//! who asked for what, where it came from and how it went; never a value or a token.
//!
//! Every record is built here, through [`AuditRecord::new`] and its setters: a record can only
//! carry a provider id, a location, an outcome (an error *code*), a Vault request id and an
//! error's message (error messages never hold values), so no caller can put a secret in a line.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use serde::Serialize;

use crate::credential::Credential;
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

/// One line of the audit log (before `time`, `pid`, `user` and `host` are added). Built with
/// [`AuditRecord::new`] and the setters below; the fields are read-only outside this module.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord<'a> {
    event: AuditEvent,
    credential: &'a str,
    /// Provider id (`vault`, `claude-code`, ...), when one was involved.
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a str>,
    /// Where inside the provider (file, Vault path, variable).
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<&'a str>,
    /// `ok`, `cached`, `stale` or an error code.
    outcome: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
    /// A short, value-free reason (error message) when the outcome is not `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
    /// The Vault identity entity of this process's token (`entity_id` of
    /// `auth/token/lookup-self`), on lines about Vault, when the token has one: the same id
    /// Vault's own audit device logs as `auth.entity_id`, so the two logs can be joined.
    #[serde(skip_serializing_if = "Option::is_none")]
    entity_id: Option<&'a str>,
}

impl<'a> AuditRecord<'a> {
    /// `event` on the credential `name`, outcome `ok`, nothing else set yet.
    pub fn new(event: AuditEvent, name: &'a str) -> Self {
        AuditRecord {
            event,
            credential: name,
            source: None,
            location: None,
            outcome: "ok",
            request_id: None,
            detail: None,
            entity_id: None,
        }
    }

    /// The provider id this record names, if any.
    pub fn provider(&self) -> Option<&'a str> {
        self.source
    }

    /// The Vault identity entity the read went through (see the field).
    pub fn entity(mut self, entity_id: &'a str) -> Self {
        self.entity_id = Some(entity_id);
        self
    }

    /// Involving the provider `provider` (its id), at `location` inside it when known.
    pub fn source(mut self, provider: &'a str, location: Option<&'a str>) -> Self {
        self.source = Some(provider);
        self.location = location;
        self
    }

    /// About `credential` as it was read: its provider, location and Vault request id.
    pub fn read(mut self, credential: &'a Credential) -> Self {
        self.source = Some(credential.source.provider);
        self.location = Some(&credential.source.location);
        self.request_id = credential.request_id.as_deref();
        self
    }

    /// The outcome: `ok` (the default), `cached`, `stale`, or an error code.
    pub fn outcome(mut self, outcome: &'a str) -> Self {
        self.outcome = outcome;
        self
    }

    /// A value-free reason (an error message).
    pub fn detail(mut self, detail: &'a str) -> Self {
        self.detail = Some(detail);
        self
    }

    /// Failed with `error`: its code is the outcome, its message the detail, its Vault path the
    /// location (when none was set) and its Vault request id the request id.
    pub fn failed(mut self, error: &'a Error) -> Self {
        self.outcome = error.code();
        self.detail = Some(&error.message);
        self.location = self.location.or(error.path.as_deref());
        self.request_id = error.request_id.as_deref();
        self
    }

    /// `ok`, or [`AuditRecord::failed`] with the error of `result`.
    pub fn result<T>(self, result: &'a Result<T>) -> Self {
        match result {
            Ok(_) => self.outcome("ok"),
            Err(e) => self.failed(e),
        }
    }
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

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line. A failing audit write is logged, never raised: it must not turn a
    /// credential read into an outage.
    pub fn record(&self, record: &AuditRecord<'_>) {
        // A failed lookup of a name shaped like a token is most likely a value pasted where a
        // name belongs: the line keeps the event, source and code, never that "name".
        let hide = !matches!(record.outcome, "ok" | "cached" | "stale")
            && crate::scrub::looks_like_a_token(record.credential);
        let hide_in =
            |t: Option<&str>| t.map(|t| t.replace(record.credential, crate::scrub::HIDDEN_NAME));
        let (detail, location) = if hide {
            (hide_in(record.detail), hide_in(record.location))
        } else {
            (None, None)
        };
        let hidden = hide.then(|| AuditRecord {
            credential: crate::scrub::HIDDEN_NAME,
            detail: detail.as_deref(),
            location: location.as_deref(),
            ..record.clone()
        });
        let record = hidden.as_ref().unwrap_or(record);
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
        let mut read = crate::credential::ParsedFields {
            kind: crate::credential::CredentialKind::Token,
            secrets: Default::default(),
            expires_at: None,
            metadata: Default::default(),
        }
        .into_credential(
            "anthropic",
            crate::credential::CredentialSource {
                provider: "vault",
                group: crate::credential::SourceGroup::Vault,
                location: "secret/openclaw/credentials/anthropic".into(),
                file: None,
                layer: None,
            },
            crate::credential::CredentialVersion::Vault(1),
        );
        read.request_id = Some("req-1".into());
        log.record(&AuditRecord::new(AuditEvent::Get, "anthropic").read(&read));
        let refused = Error::new(ErrorCode::Network, "connection refused");
        log.record(
            &AuditRecord::new(AuditEvent::Fallback, "anthropic")
                .source("vault", None)
                .failed(&refused),
        );
        let denied = Error::new(ErrorCode::PermissionDenied, "permission denied");
        let write: Result<()> = Err(denied);
        log.record(&AuditRecord::new(AuditEvent::Put, "telegram").result(&write));
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0]["event"], "get");
        assert_eq!(lines[0]["credential"], "anthropic");
        assert_eq!(lines[0]["source"], "vault");
        assert_eq!(
            lines[0]["location"],
            "secret/openclaw/credentials/anthropic"
        );
        assert_eq!(lines[0]["outcome"], "ok");
        assert_eq!(lines[0]["request_id"], "req-1");
        assert!(lines[0].get("detail").is_none());
        assert_eq!(lines[0]["pid"], std::process::id());
        assert!(lines[0]["time"].as_str().unwrap().ends_with('Z'));
        assert!(lines[0]["host"].as_str().is_some_and(|h| !h.is_empty()));
        assert_eq!(lines[1]["event"], "fallback");
        assert_eq!(lines[1]["outcome"], "NETWORK");
        assert_eq!(lines[1]["detail"], "connection refused");
        assert!(lines[1].get("location").is_none());
        assert_eq!(lines[2]["event"], "put");
        assert_eq!(lines[2]["outcome"], "PERMISSION_DENIED");
        assert!(lines[2].get("source").is_none());
        assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failed_lookup_of_a_name_shaped_like_a_token_never_records_it() {
        let dir = std::env::temp_dir().join(format!("ocv-audit-pasted-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        let pasted = "sk-proj-FAKEpasted0123456789abcdef";
        let err = Error::new(
            ErrorCode::CredentialNotFound,
            format!("credential \"{pasted}\" was not found"),
        );
        log.record(&AuditRecord::new(AuditEvent::Get, pasted).failed(&err));
        log.record(
            &AuditRecord::new(AuditEvent::Fallback, pasted)
                .source(
                    "vault",
                    Some(&format!("secret/openclaw/credentials/{pasted}")),
                )
                .outcome("NETWORK"),
        );
        log.record(&AuditRecord::new(AuditEvent::Get, "openai").outcome("CREDENTIAL_NOT_FOUND"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(pasted), "{text}");
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["credential"], crate::scrub::HIDDEN_NAME);
        assert_eq!(lines[0]["outcome"], "CREDENTIAL_NOT_FOUND");
        assert_eq!(lines[1]["outcome"], "NETWORK");
        assert_eq!(lines[2]["credential"], "openai");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
