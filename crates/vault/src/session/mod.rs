//! The token session: the token requests carry, the login method that gets a new one, and what is
//! known of the token's TTL. It logs in before the first request (one login at a time), re-reads
//! a token file when it changes, and after a 403 "invalid token" logs in again and repeats the
//! request once. Subscribers hear of every new token ([`TokenEvent`]).
//!
//! The session never renews on its own and never holds the renewal task: [`crate::renewal`]
//! holds the session (weakly), as HashiCorp's LifetimeWatcher holds the client. (It sits beside
//! the session, not inside it, because it calls the token engine, which sends through the session.)

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde::Serialize;

use crate::auth::{IssuedToken, Login};
use crate::config::ClientConfig;
use crate::error::{Result, VaultError};
use crate::http::{HttpClient, RawResponse, RequestBody, TokenHeader};

/// What happened to the client's token. Never carries the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenEventKind {
    /// `renew-self` extended the token.
    Renewed,
    /// A new login replaced the token (after max TTL, expiry or revocation).
    Reauthenticated,
    /// A renewal or login attempt failed; it is retried.
    RenewalFailed,
    /// The token expired or was revoked and no login method is configured to replace it.
    Expired,
}

/// One token event, as subscribers receive it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenEvent {
    /// What happened.
    pub kind: TokenEventKind,
    /// Seconds the token has left after the event, when known.
    pub ttl: Option<u64>,
    /// What went wrong, for failures (an error message: no token, no secret).
    pub error: Option<String>,
}

/// A subscriber to token events. Called on the task that caused the event: keep it short.
pub type TokenListener = Arc<dyn Fn(&TokenEvent) + Send + Sync>;

/// The current token's TTL, as the last login, renewal or `lookup-self` reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenTtl {
    /// The TTL when it was reported.
    pub ttl: Duration,
    /// Whether `renew-self` can extend the token.
    pub renewable: bool,
    /// The TTL asked for at each renewal: the token's original TTL.
    pub increment: Duration,
    /// When it was reported.
    pub at: Instant,
}

impl TokenTtl {
    /// The TTL left now.
    pub fn remaining(&self) -> Duration {
        self.ttl.saturating_sub(self.at.elapsed())
    }

    /// What a login reported, or `None` when it did not say (a token file).
    fn issued(token: &IssuedToken) -> Option<Self> {
        (token.lease_duration > 0).then(|| TokenTtl {
            ttl: Duration::from_secs(token.lease_duration),
            renewable: token.renewable,
            increment: Duration::from_secs(token.lease_duration),
            at: Instant::now(),
        })
    }
}

/// A token file's identity, to notice when Vault Agent rewrites it: device, inode, nanosecond
/// mtime and ctime and length on unix (a same-length token written with the old mtime still moves
/// the ctime, and a rename brings a new inode); modified time and length elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    #[cfg(unix)]
    dev: u64,
    #[cfg(unix)]
    ino: u64,
    #[cfg(unix)]
    mtime: (i64, i64),
    #[cfg(unix)]
    ctime: (i64, i64),
    #[cfg(not(unix))]
    modified: Option<std::time::SystemTime>,
    len: u64,
}

impl FileStamp {
    fn of(path: &Path) -> Option<Self> {
        let meta = std::fs::metadata(path).ok()?;
        Some(Self::from_metadata(&meta))
    }

    #[cfg(unix)]
    fn from_metadata(meta: &std::fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        FileStamp {
            dev: meta.dev(),
            ino: meta.ino(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
            len: meta.len(),
        }
    }

    #[cfg(not(unix))]
    fn from_metadata(meta: &std::fs::Metadata) -> Self {
        FileStamp {
            modified: meta.modified().ok(),
            len: meta.len(),
        }
    }
}

/// The token session over one [`HttpClient`].
pub struct Session {
    http: HttpClient,
    /// Replaced by logins; `None` before the first login, or when no token is configured.
    token: RwLock<Option<TokenHeader>>,
    /// How to get a token when there is none or it turned invalid; `None` for a fixed token.
    login: Option<Login>,
    /// One login at a time; holds the token file's stamp when the token comes from a file.
    login_state: tokio::sync::Mutex<Option<FileStamp>>,
    /// `None`: unknown (ask Vault with `lookup-self`).
    ttl: Mutex<Option<TokenTtl>>,
    listeners: RwLock<Vec<TokenListener>>,
    closed: AtomicBool,
}

impl Session {
    /// The session for `config`: its HTTP client, fixed token and login method. Every file the
    /// login method names is read now, so a bad one is `INVALID_CONFIG` before any request.
    pub fn new(config: &ClientConfig) -> Result<Self> {
        let http = HttpClient::new(&config.http_settings())?;
        if let Some(login) = &config.login {
            login.validate()?;
        }
        let token = match &config.token {
            Some(token) => Some(TokenHeader::new(token).ok_or_else(|| {
                VaultError::invalid_config("token contains characters not allowed in a header")
            })?),
            None => None,
        };
        Ok(Session {
            http,
            token: RwLock::new(token),
            login: config.login.clone(),
            login_state: tokio::sync::Mutex::new(None),
            ttl: Mutex::new(None),
            listeners: RwLock::new(Vec::new()),
            closed: AtomicBool::new(false),
        })
    }

    /// The HTTP client, for requests that carry no token.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// Sends `method` to `/v1/<api_path>` with the session's token (logging in first when there
    /// is none yet) and reads the answer. After a 403 that says the token is invalid, logs in
    /// again and repeats the request once. See [`HttpClient::send`] for retries and redirects.
    pub async fn send(
        &self,
        method: Method,
        api_path: &str,
        query: &[(&str, String)],
        body: Option<RequestBody>,
    ) -> Result<RawResponse> {
        let request = self.http.request(method, api_path, query, body)?;
        self.send_prepared(&request).await
    }

    /// Sends a request built with [`HttpClient::request`] (one asking for a wrapped answer, say)
    /// with the session's token, as [`Session::send`] does.
    pub async fn send_prepared(&self, request: &crate::http::Request) -> Result<RawResponse> {
        self.ensure_token().await?;
        let used = self.current_token();
        let resp = self.http.send(request, used.as_ref()).await?;
        if self.login.is_some() && resp.status == StatusCode::FORBIDDEN && says_invalid_token(&resp)
        {
            // Expired or revoked: log in again once and repeat the request once.
            if self.relogin(used).await? {
                let ttl = self.token_ttl().map(|t| t.ttl.as_secs());
                self.emit(TokenEventKind::Reauthenticated, ttl, None);
            }
            return self.http.send(request, self.current_token().as_ref()).await;
        }
        Ok(resp)
    }

    /// Whether requests can carry a token: a fixed one, or one the login method will get.
    pub fn has_token(&self) -> bool {
        self.login.is_some() || self.current_token().is_some()
    }

    /// Whether a token is held right now (fixed, or from a login that happened).
    pub fn holds_token(&self) -> bool {
        self.current_token().is_some()
    }

    /// Whether a login method can replace the token.
    pub fn can_log_in(&self) -> bool {
        self.login.is_some()
    }

    /// The current token's TTL, when a login, renewal or lookup reported it.
    pub fn token_ttl(&self) -> Option<TokenTtl> {
        *self.ttl.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records what a renewal or lookup reported of the current token.
    pub(crate) fn set_token_ttl(&self, ttl: Option<TokenTtl>) {
        *self.ttl.lock().unwrap_or_else(|e| e.into_inner()) = ttl;
    }

    /// A login now, whatever the token's state; returns the new token's TTL (zero when unknown).
    /// Without a login method, does nothing.
    pub async fn relogin_now(&self) -> Result<Duration> {
        let Some(login) = &self.login else {
            return Ok(Duration::ZERO);
        };
        let mut state = self.login_state.lock().await;
        self.log_in(login, &mut state).await?;
        Ok(self.token_ttl().map(|t| t.ttl).unwrap_or_default())
    }

    /// Subscribes to token events.
    pub fn subscribe(&self, listener: TokenListener) {
        self.listeners
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(listener);
    }

    /// Tells every subscriber.
    pub(crate) fn emit(&self, kind: TokenEventKind, ttl: Option<u64>, error: Option<String>) {
        let event = TokenEvent { kind, ttl, error };
        tracing::debug!(?event, "token event");
        let listeners = self
            .listeners
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for listener in listeners {
            listener(&event);
        }
    }

    /// Marks the session closed (renewal stops at its next step) and drops every subscriber.
    /// Requests still work afterwards.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.listeners
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Whether [`Session::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    fn current_token(&self) -> Option<TokenHeader> {
        self.token.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set_token(&self, token: &SecretString) -> Result<()> {
        let header = TokenHeader::new(token).ok_or_else(|| {
            VaultError::bad_response("the token Vault issued is not a valid header value")
        })?;
        *self.token.write().unwrap_or_else(|e| e.into_inner()) = Some(header);
        Ok(())
    }

    /// Before a request: a login when there is no token yet, or a re-read of a changed token file.
    async fn ensure_token(&self) -> Result<()> {
        let Some(login) = &self.login else {
            return Ok(());
        };
        if let Some(path) = login.watched_file() {
            let now = FileStamp::of(path);
            let mut last = self.login_state.lock().await;
            if self.current_token().is_none() || *last != now || now.is_none() {
                self.log_in(login, &mut last).await?;
            }
            return Ok(());
        }
        if self.current_token().is_some() {
            return Ok(());
        }
        let mut state = self.login_state.lock().await;
        if self.current_token().is_some() {
            return Ok(()); // another request logged in while this one waited
        }
        self.log_in(login, &mut state).await
    }

    /// After a 403 "invalid token": a new login, unless another request already did one.
    /// `true` when this call replaced the token.
    async fn relogin(&self, stale: Option<TokenHeader>) -> Result<bool> {
        let Some(login) = &self.login else {
            return Ok(false);
        };
        let mut state = self.login_state.lock().await;
        if self.current_token() != stale {
            return Ok(false);
        }
        self.log_in(login, &mut state).await?;
        Ok(true)
    }

    /// One login; the caller holds the login lock (`state`).
    async fn log_in(&self, login: &Login, state: &mut Option<FileStamp>) -> Result<()> {
        // Stamped before reading, so a rewrite during the read is noticed next time.
        let stamp = login.watched_file().and_then(FileStamp::of);
        let issued = login.login(&self.http).await?;
        self.set_token(&issued.token)?;
        self.set_token_ttl(TokenTtl::issued(&issued));
        *state = stamp;
        Ok(())
    }
}

/// Vault >= 1.17 says `invalid token` next to `permission denied` for an expired or revoked token.
fn says_invalid_token(resp: &RawResponse) -> bool {
    let needle = b"invalid token";
    resp.body
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(all(test, unix))]
mod file_stamp_tests {
    use super::FileStamp;
    use std::fs;

    #[test]
    fn same_length_and_mtime_is_still_a_change() {
        let dir = std::env::temp_dir().join(format!("vault-stamp-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let f = dir.join("token");
        fs::write(&f, "token-aaaa").unwrap();
        let mtime = fs::metadata(&f).unwrap().modified().unwrap();
        let before = FileStamp::of(&f).unwrap();
        assert_eq!(before, FileStamp::of(&f).unwrap());
        std::thread::sleep(std::time::Duration::from_millis(20));
        // Replaced by rename, same length, old mtime put back.
        let tmp = dir.join("token.tmp");
        fs::write(&tmp, "token-bbbb").unwrap();
        fs::OpenOptions::new()
            .write(true)
            .open(&tmp)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        fs::rename(&tmp, &f).unwrap();
        let after = FileStamp::of(&f).unwrap();
        assert_eq!(before.len, after.len);
        assert_eq!(before.mtime, after.mtime);
        assert_ne!(before, after);
        fs::remove_dir_all(&dir).unwrap();
    }
}
