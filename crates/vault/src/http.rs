//! The HTTP layer: one reqwest client (rustls), the headers every Vault request carries, a capped
//! body reader, and the mapping of transport failures to error codes. It knows nothing of KV.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once, RwLock, Weak};
use std::time::Duration;
use std::time::Instant;

use bytes::Bytes;
use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, LOCATION, RETRY_AFTER,
};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use url::Url;
use zeroize::Zeroizing;

use crate::auth::{self, FileStamp, Login};
use crate::config::{ClientConfig, RetryConfig};
use crate::error::{ErrorCode, Result, VaultError};
use crate::session::renewal::{Lease, TokenEvent, TokenEventKind, TokenListener};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const X_VAULT_TOKEN: HeaderName = HeaderName::from_static("x-vault-token");
const X_VAULT_NAMESPACE: HeaderName = HeaderName::from_static("x-vault-namespace");
const X_VAULT_REQUEST: HeaderName = HeaderName::from_static("x-vault-request");
const X_VAULT_INDEX: HeaderName = HeaderName::from_static("x-vault-index");
pub const MERGE_PATCH: &str = "application/merge-patch+json";

/// What a request sends as its body: JSON bytes the transport wipes once sent.
pub struct RequestBody {
    bytes: Zeroizing<Vec<u8>>,
    content_type: &'static str,
}

impl RequestBody {
    /// Serialises `value` as JSON. The buffer is zeroized when the request is done with it.
    pub fn json(value: &impl serde::Serialize) -> Result<Self> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| VaultError::invalid_argument(format!("request body is not JSON: {e}")))?;
        Ok(RequestBody {
            bytes: Zeroizing::new(bytes),
            content_type: "application/json",
        })
    }

    /// The same body sent as a JSON merge patch (RFC 7386), as Vault's PATCH endpoints require.
    pub fn merge_patch(mut self) -> Self {
        self.content_type = MERGE_PATCH;
        self
    }
}

/// One answer from Vault: the status and the whole body (wiped on drop).
pub struct RawResponse {
    pub status: StatusCode,
    pub body: Zeroizing<Vec<u8>>,
    /// The `/v1/...` path that was requested, for errors.
    pub path: String,
    /// `Retry-After`, in seconds or as an HTTP date, when the server sent it.
    pub retry_after: Option<Duration>,
    /// `Location` of a redirect.
    pub location: Option<String>,
}

/// The parts of Vault's envelope every answer may carry.
#[derive(Deserialize)]
pub struct Envelope<T> {
    #[serde(default)]
    pub request_id: Option<String>,
    #[serde(default = "Option::default")]
    pub data: Option<T>,
    #[serde(default)]
    pub warnings: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    errors: Option<Vec<String>>,
    #[serde(default)]
    request_id: Option<String>,
}

impl RawResponse {
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    pub fn is_empty(&self) -> bool {
        self.body.iter().all(u8::is_ascii_whitespace)
    }

    /// Parses the body as `T`; a body that is not the expected JSON is `BAD_RESPONSE`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            // serde's message names the line and column and the expected type, never the input.
            VaultError::bad_response(format!(
                "Vault's answer to {} ({}) is not the expected JSON: {e}",
                self.path,
                self.status.as_u16()
            ))
            .with_path(self.path.clone())
            .with_status(self.status.as_u16())
        })
    }

    /// Parses the success envelope, `Ok(None)` when the answer has no body (204).
    pub fn envelope<T: DeserializeOwned>(&self) -> Result<Option<Envelope<T>>> {
        if self.is_empty() {
            return Ok(None);
        }
        self.json().map(Some)
    }

    /// The error for a non-success answer: Vault's `errors` strings, classified.
    pub fn into_error(self) -> VaultError {
        let status = self.status.as_u16();
        let parsed: ErrorBody = if self.is_empty() {
            ErrorBody::default()
        } else {
            match serde_json::from_slice(&self.body) {
                Ok(body) => body,
                // Not JSON at all: a proxy or load balancer answered, not Vault.
                Err(_) => ErrorBody {
                    errors: Some(vec![format!(
                        "non-JSON error body of {} bytes (not from Vault?)",
                        self.body.len()
                    )]),
                    request_id: None,
                },
            }
        };
        if (300..400).contains(&status) {
            let mut err = VaultError::new(
                ErrorCode::BadResponse,
                format!(
                    "Vault answered a {status} redirect for {}; redirects are not followed",
                    self.path
                ),
            )
            .with_path(self.path);
            err.status = Some(status);
            return err;
        }
        VaultError::from_response(
            status,
            parsed.errors.unwrap_or_default(),
            &self.path,
            parsed.request_id,
        )
    }

    /// `Ok(self)` for 2xx, else the classified error.
    pub fn success(self) -> Result<Self> {
        if self.is_success() {
            Ok(self)
        } else {
            Err(self.into_error())
        }
    }
}

/// The HTTP client bound to one Vault address, token and namespace.
pub struct Transport {
    http: reqwest::Client,
    base: Url,
    /// A sensitive header value (hidden from hyper's Debug output); replaced by logins.
    token: RwLock<Option<HeaderValue>>,
    /// How to get a token when there is none or it turned invalid; `None` for a fixed token.
    login: Option<Login>,
    /// One login at a time; holds the token file's stamp when the token came from a file.
    login_state: tokio::sync::Mutex<Option<FileStamp>>,
    /// The current token's lease, from the last login or renewal (`None`: unknown, ask Vault).
    lease: Mutex<Option<Lease>>,
    listeners: RwLock<Vec<TokenListener>>,
    renew: bool,
    renewal: Mutex<Option<tokio::task::JoinHandle<()>>>,
    closed: AtomicBool,
    /// Lets `send` hand the renewal task a weak reference to this transport.
    this: Weak<Transport>,
    namespace: Option<HeaderValue>,
    max_response_bytes: usize,
    retry: RetryConfig,
    redirect_to_other_origin: bool,
    /// The newest `X-Vault-Index` seen (Enterprise and OpenBao send it; community Vault does not).
    index: Mutex<Option<HeaderValue>>,
}

fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Fails only when another provider is already installed, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl Transport {
    pub fn new(config: &ClientConfig) -> Result<Arc<Self>> {
        install_crypto_provider();
        let mut headers = HeaderMap::new();
        headers.insert(X_VAULT_REQUEST, HeaderValue::from_static("true"));
        let mut builder = reqwest::Client::builder();
        if config.addr.scheme() == "https" || config.tls != Default::default() {
            builder = builder.tls_backend_preconfigured(config.tls.client_config()?);
        }
        builder = match &config.proxy {
            // The environment was read into the config already; reqwest must not read it again.
            None => builder.no_proxy(),
            Some(p) => {
                let proxy = reqwest::Proxy::all(p.url.as_str())
                    .map_err(|e| VaultError::invalid_config(format!("{}: {e}", p.from)))?
                    .no_proxy(
                        p.no_proxy
                            .as_deref()
                            .and_then(reqwest::NoProxy::from_string),
                    );
                builder.proxy(proxy)
            }
        };
        let http = builder
            .default_headers(headers)
            .timeout(config.timeout)
            .connect_timeout(CONNECT_TIMEOUT.min(config.timeout))
            // Vault's 307s are handled by the client, never by the HTTP library (it would
            // forward X-Vault-Token to whatever host the Location names).
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                VaultError::invalid_config(format!("cannot build the HTTP client: {e}"))
            })?;
        let namespace = match &config.namespace {
            Some(ns) => Some(HeaderValue::from_str(ns).map_err(|_| {
                VaultError::invalid_config("namespace contains characters not allowed in a header")
            })?),
            None => None,
        };
        if let Some(login) = &config.login {
            login.validate()?;
        }
        let token = match &config.token {
            Some(token) => {
                let mut value = HeaderValue::from_str(token.expose_secret()).map_err(|_| {
                    VaultError::invalid_config("token contains characters not allowed in a header")
                })?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let mut base = config.addr.clone();
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        Ok(Arc::new_cyclic(|this| Transport {
            this: this.clone(),
            lease: Mutex::new(None),
            listeners: RwLock::new(Vec::new()),
            renew: config.renew,
            renewal: Mutex::new(None),
            closed: AtomicBool::new(false),
            http,
            base,
            token: RwLock::new(token),
            login: config.login.clone(),
            login_state: tokio::sync::Mutex::new(None),
            namespace,
            max_response_bytes: config.max_response_bytes,
            retry: config.retry,
            redirect_to_other_origin: config.redirect_to_other_origin,
            index: Mutex::new(None),
        }))
    }

    /// Subscribes to token events.
    pub fn subscribe(&self, listener: TokenListener) {
        self.listeners
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(listener);
    }

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

    /// Stops the renewal task and drops every subscriber. Requests still work afterwards.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        if let Some(task) = self
            .renewal
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            task.abort();
        }
        self.listeners
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    pub(crate) fn can_log_in(&self) -> bool {
        self.login.is_some()
    }

    /// Starts the renewal task once, from inside the runtime, after the first request got a token.
    fn start_renewal(&self) {
        if !self.renew || self.is_closed() {
            return;
        }
        let mut slot = self.renewal.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_some() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            *slot = Some(runtime.spawn(crate::session::renewal::run(self.this.clone())));
        }
    }

    /// The current lease: known from a login or renewal, or asked with `lookup-self`.
    /// `None` for a token that never expires.
    pub(crate) async fn lease(&self) -> Result<Option<Lease>> {
        if let Some(lease) = *self.lease.lock().unwrap_or_else(|e| e.into_inner()) {
            return Ok(Some(lease));
        }
        let info = crate::engines::token::lookup_self(self).await?;
        if info.ttl <= 0 {
            return Ok(None);
        }
        let increment = if info.creation_ttl > 0 {
            info.creation_ttl
        } else {
            info.ttl
        };
        let lease = Lease {
            ttl: Duration::from_secs(info.ttl as u64),
            renewable: info.renewable,
            increment: Duration::from_secs(increment as u64),
            at: Instant::now(),
        };
        *self.lease.lock().unwrap_or_else(|e| e.into_inner()) = Some(lease);
        Ok(Some(lease))
    }

    /// `auth/token/renew-self` asking for `increment`; returns the new TTL.
    pub(crate) async fn renew_self(&self, increment: Duration) -> Result<Duration> {
        let body = RequestBody::json(
            &serde_json::json!({ "increment": format!("{}s", increment.as_secs()) }),
        )?;
        let resp = self
            .send(Method::POST, "auth/token/renew-self", &[], Some(body))
            .await?
            .success()?;
        let answer: crate::session::renewal::RenewAnswer = resp.json()?;
        let (ttl, renewable) = answer.lease();
        let mut lease = self.lease.lock().unwrap_or_else(|e| e.into_inner());
        let increment = lease.map(|l| l.increment).unwrap_or(increment);
        *lease = Some(Lease {
            ttl: Duration::from_secs(ttl),
            renewable,
            increment,
            at: Instant::now(),
        });
        Ok(Duration::from_secs(ttl))
    }

    /// A login now, whatever the token's state; returns the new token's TTL (0 when unknown).
    pub(crate) async fn relogin_now(&self) -> Result<Duration> {
        let Some(login) = &self.login else {
            return Ok(Duration::ZERO);
        };
        let mut state = self.login_state.lock().await;
        if let Login::TokenFile(source) = login {
            self.set_token(&auth::read_token_file(source)?)?;
            *state = auth::stamp(&source.path);
            *self.lease.lock().unwrap_or_else(|e| e.into_inner()) = None;
            return Ok(Duration::ZERO);
        }
        self.log_in(login).await?;
        Ok(self
            .lease
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map(|l| l.ttl)
            .unwrap_or_default())
    }

    /// Whether requests can carry a token: a fixed one, or one a login method will get.
    pub fn has_token(&self) -> bool {
        self.login.is_some() || self.current_token().is_some()
    }

    fn current_token(&self) -> Option<HeaderValue> {
        self.token.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set_token(&self, token: &SecretString) -> Result<()> {
        let mut value = HeaderValue::from_str(token.expose_secret()).map_err(|_| {
            VaultError::bad_response("the token Vault issued is not a valid header value")
        })?;
        value.set_sensitive(true);
        *self.token.write().unwrap_or_else(|e| e.into_inner()) = Some(value);
        Ok(())
    }

    /// Before a request: a login when there is no token yet, or a re-read of a changed token file.
    async fn ensure_token(&self) -> Result<()> {
        let Some(login) = &self.login else {
            return Ok(());
        };
        if let Login::TokenFile(source) = login {
            let now = auth::stamp(&source.path);
            let mut last = self.login_state.lock().await;
            if self.current_token().is_none() || *last != now || now.is_none() {
                self.set_token(&auth::read_token_file(source)?)?;
                *last = now;
            }
            return Ok(());
        }
        if self.current_token().is_some() {
            return Ok(());
        }
        let _one_at_a_time = self.login_state.lock().await;
        if self.current_token().is_some() {
            return Ok(()); // another request logged in while this one waited
        }
        self.log_in(login).await
    }

    /// After a 403 "invalid token": a new login, unless another request already did one.
    /// `true` when this call replaced the token.
    async fn relogin(&self, stale: Option<HeaderValue>) -> Result<bool> {
        let Some(login) = &self.login else {
            return Ok(false);
        };
        let mut state = self.login_state.lock().await;
        if self.current_token() != stale {
            return Ok(false);
        }
        match login {
            Login::TokenFile(source) => {
                self.set_token(&auth::read_token_file(source)?)?;
                *state = auth::stamp(&source.path);
                *self.lease.lock().unwrap_or_else(|e| e.into_inner()) = None;
            }
            _ => self.log_in(login).await?,
        }
        Ok(true)
    }

    async fn log_in(&self, login: &Login) -> Result<()> {
        let Some((api_path, body)) = login.request()? else {
            return Ok(());
        };
        let body = RequestBody::json(body.expose_secret())?;
        let path = format!("/v1/{api_path}");
        let url = self.base.join(&format!("v1/{api_path}")).map_err(|e| {
            VaultError::invalid_config(format!("cannot build a URL for {path}: {e}"))
        })?;
        let bytes = (
            body.content_type,
            Bytes::from_owner(ZeroizingOwner(body.bytes)),
        );
        let resp = self
            .send_with_retries(&Method::POST, &url, &path, Some(&bytes), false)
            .await?;
        let resp = resp.success().map_err(|mut e| {
            e.message = format!("{} login failed: {}", login.name(), e.message);
            e
        })?;
        let answer: auth::LoginAnswer = resp.json()?;
        let issued = answer.into_token(&resp.path)?;
        tracing::debug!(
            method = login.name(),
            lease_duration = issued.lease_duration,
            renewable = issued.renewable,
            "logged in to Vault"
        );
        self.set_token(&issued.token)?;
        let lease = (issued.lease_duration > 0).then(|| Lease {
            ttl: Duration::from_secs(issued.lease_duration),
            renewable: issued.renewable,
            increment: Duration::from_secs(issued.lease_duration),
            at: Instant::now(),
        });
        *self.lease.lock().unwrap_or_else(|e| e.into_inner()) = lease;
        Ok(())
    }

    /// Sends `method` to `/v1/<api_path>` with optional query and body, and reads the answer.
    /// Retries connection errors, 412, 429 and 5xx except 501 (see [`RetryConfig`]); follows one
    /// 307 (see [`Transport::follow_redirect`]). `api_path` must already be percent-encoded.
    pub async fn send(
        &self,
        method: Method,
        api_path: &str,
        query: &[(&str, String)],
        body: Option<RequestBody>,
    ) -> Result<RawResponse> {
        let path = format!("/v1/{api_path}");
        let mut url = self.base.join(&format!("v1/{api_path}")).map_err(|e| {
            VaultError::invalid_argument(format!("cannot build a URL for {path}: {e}"))
        })?;
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        // The owner is zeroized when the last clone of the bytes (one per attempt) is dropped.
        let body = body.map(|b| (b.content_type, Bytes::from_owner(ZeroizingOwner(b.bytes))));
        self.ensure_token().await?;
        self.start_renewal();
        let used = self.current_token();
        let resp = self
            .send_with_retries(&method, &url, &path, body.as_ref(), true)
            .await?;
        if self.login.is_some() && resp.status == StatusCode::FORBIDDEN && says_invalid_token(&resp)
        {
            // Expired or revoked: log in again once and repeat the request once.
            if self.relogin(used).await? {
                let ttl = self
                    .lease
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .map(|l| l.ttl.as_secs());
                self.emit(TokenEventKind::Reauthenticated, ttl, None);
            }
            return self
                .send_with_retries(&method, &url, &path, body.as_ref(), true)
                .await;
        }
        Ok(resp)
    }

    async fn send_with_retries(
        &self,
        method: &Method,
        url: &Url,
        path: &str,
        body: Option<&(&'static str, Bytes)>,
        with_token: bool,
    ) -> Result<RawResponse> {
        let mut retries = 0;
        loop {
            let outcome = self
                .send_following_redirect(method, url.clone(), path, body, with_token)
                .await;
            let retry_after = match &outcome {
                Ok(resp) if is_retryable_status(resp.status) => Some(resp.retry_after),
                Err(e) if e.code == ErrorCode::Network => Some(None),
                _ => None,
            };
            match retry_after {
                Some(after) if retries < self.retry.max_retries => {
                    retries += 1;
                    let wait = self.retry_wait(retries, after);
                    tracing::debug!(path = %path, retries, wait_ms = wait.as_millis() as u64, "retrying Vault request");
                    tokio::time::sleep(wait).await;
                }
                _ => return outcome,
            }
        }
    }

    /// `attempt x U(1.0, 1.5) x backoff`, or `Retry-After`; never more than `max_wait`.
    fn retry_wait(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let wait =
            retry_after.unwrap_or_else(|| self.retry.backoff.mul_f64(attempt as f64 * jitter()));
        wait.min(self.retry.max_wait)
    }

    async fn send_following_redirect(
        &self,
        method: &Method,
        url: Url,
        path: &str,
        body: Option<&(&'static str, Bytes)>,
        with_token: bool,
    ) -> Result<RawResponse> {
        let first = self
            .send_once(method, url.clone(), path, body, with_token)
            .await?;
        if first.status != StatusCode::TEMPORARY_REDIRECT {
            return Ok(first);
        }
        let Some(location) = first.location.clone() else {
            return Ok(first);
        };
        let next = self.follow_redirect(&url, &location, path)?;
        // One hop only: a second redirect comes back as an error answer.
        self.send_once(method, next, path, body, with_token).await
    }

    /// Where a 307 may take the request: the same scheme only (never https to http), and another
    /// origin only when the user allowed it, since the token goes along.
    fn follow_redirect(&self, from: &Url, location: &str, path: &str) -> Result<Url> {
        let refuse = |why: String| {
            VaultError::new(
                ErrorCode::BadResponse,
                format!("Vault redirected {path} (307) {why}"),
            )
            .with_path(path)
            .with_status(307)
        };
        let to = from
            .join(location)
            .map_err(|e| refuse(format!("to an invalid location: {e}")))?;
        if to.scheme() != from.scheme() {
            return Err(refuse(format!(
                "from {} to {}; the scheme must not change",
                from.scheme(),
                to.scheme()
            )));
        }
        if to.origin() != from.origin() && !self.redirect_to_other_origin {
            return Err(refuse(format!(
                "to another origin ({}); set redirectToOtherOrigin to follow it with the token",
                to.origin().ascii_serialization()
            )));
        }
        Ok(to)
    }

    async fn send_once(
        &self,
        method: &Method,
        url: Url,
        path: &str,
        body: Option<&(&'static str, Bytes)>,
        with_token: bool,
    ) -> Result<RawResponse> {
        let mut request = self.http.request(method.clone(), url);
        if let Some(token) = self.current_token().filter(|_| with_token) {
            request = request.header(X_VAULT_TOKEN, token);
        }
        if let Some(ns) = &self.namespace {
            request = request.header(X_VAULT_NAMESPACE, ns.clone());
        }
        if let Some(index) = self.last_index() {
            request = request.header(X_VAULT_INDEX, index);
        }
        if let Some((content_type, bytes)) = body {
            request = request
                .header(CONTENT_TYPE, *content_type)
                .body(bytes.clone());
        }
        let mut response = request.send().await.map_err(|e| transport_error(e, path))?;
        let status = response.status();
        let headers = response.headers();
        if let Some(index) = headers.get(X_VAULT_INDEX) {
            // Read-after-write: later requests carry the newest index this client has seen.
            *self.index.lock().unwrap_or_else(|e| e.into_inner()) = Some(index.clone());
        }
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let location = headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if let Some(len) = headers.get(CONTENT_LENGTH) {
            let len: Option<usize> = len.to_str().ok().and_then(|s| s.parse().ok());
            if len.is_some_and(|l| l > self.max_response_bytes) {
                return Err(self.too_large(path, status));
            }
        }
        let mut body = Zeroizing::new(Vec::new());
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > self.max_response_bytes {
                        return Err(self.too_large(path, status));
                    }
                    // Grow by hand so the old allocation is wiped rather than freed with data in it.
                    if body.capacity() < body.len() + chunk.len() {
                        let mut bigger = Zeroizing::new(Vec::with_capacity(
                            (body.len() + chunk.len()).max(body.capacity() * 2),
                        ));
                        bigger.extend_from_slice(&body);
                        body = bigger;
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(transport_error(e, path).with_status(status.as_u16())),
            }
        }
        Ok(RawResponse {
            status,
            body,
            path: path.to_string(),
            retry_after,
            location,
        })
    }

    fn last_index(&self) -> Option<HeaderValue> {
        self.index.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn too_large(&self, path: &str, status: StatusCode) -> VaultError {
        VaultError::bad_response(format!(
            "Vault's answer to {path} is larger than the {} byte limit (maxResponseBytes)",
            self.max_response_bytes
        ))
        .with_path(path)
        .with_status(status.as_u16())
    }
}

/// Vault >= 1.17 says `invalid token` next to `permission denied` for an expired or revoked token.
fn says_invalid_token(resp: &RawResponse) -> bool {
    let needle = b"invalid token";
    resp.body
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// The Go client's rule: 412 (index not yet replicated), 429, and 5xx except 501 (not initialised).
fn is_retryable_status(status: StatusCode) -> bool {
    let code = status.as_u16();
    code == 412 || code == 429 || (500..=599).contains(&code) && code != 501
}

/// `Retry-After` as integer seconds, or an HTTP date (older Vaults write the zone as `UTC`).
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let date = match value.strip_suffix("UTC") {
        Some(rest) => format!("{rest}GMT"),
        None => value.to_string(),
    };
    let at = httpdate::parse_http_date(&date).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// A factor in [1.0, 1.5) that spreads retries of many clients apart. Not for cryptography.
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    1.0 + (h.finish() % 1000) as f64 / 2000.0
}

/// Lets `Bytes` own a zeroizing buffer, so the request body is wiped after sending.
struct ZeroizingOwner(Zeroizing<Vec<u8>>);

impl AsRef<[u8]> for ZeroizingOwner {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

fn transport_error(e: reqwest::Error, path: &str) -> VaultError {
    let e = e.without_url();
    let code = if e.is_timeout() {
        ErrorCode::Timeout
    } else {
        ErrorCode::Network
    };
    // The chain of causes says what broke (refused, reset, TLS); the URL is left out, the path
    // is kept separately.
    let mut detail = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(&e);
    while let Some(s) = source {
        let text = s.to_string();
        if !detail.contains(&text) {
            if !detail.is_empty() {
                detail.push_str(": ");
            }
            detail.push_str(&text);
        }
        source = s.source();
    }
    let what = if code == ErrorCode::Timeout {
        "timed out"
    } else {
        "failed"
    };
    VaultError::new(code, format!("request to {path} {what}: {detail}")).with_path(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport(other_origin: bool) -> Arc<Transport> {
        let mut config = ClientConfig::new("https://vault.example:8200").unwrap();
        config.redirect_to_other_origin = other_origin;
        config.retry = RetryConfig {
            max_retries: 2,
            backoff: Duration::from_millis(100),
            max_wait: Duration::from_secs(5),
        };
        Transport::new(&config).unwrap()
    }

    #[test]
    fn retryable_statuses() {
        for code in [412, 429, 500, 502, 503, 504] {
            assert!(
                is_retryable_status(StatusCode::from_u16(code).unwrap()),
                "{code}"
            );
        }
        for code in [200, 204, 307, 400, 403, 404, 405, 501] {
            assert!(
                !is_retryable_status(StatusCode::from_u16(code).unwrap()),
                "{code}"
            );
        }
    }

    #[test]
    fn retry_after_in_seconds_and_dates() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("0"), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 UTC"),
            Some(Duration::ZERO)
        );
        let later =
            httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(120));
        let wait = parse_retry_after(&later.replace("GMT", "UTC")).unwrap();
        assert!(
            wait > Duration::from_secs(100) && wait <= Duration::from_secs(120),
            "{wait:?}"
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn waits_grow_linearly_with_jitter_and_are_capped() {
        let t = transport(false);
        for attempt in 1..=3 {
            let w = t.retry_wait(attempt, None);
            let base = Duration::from_millis(100) * attempt;
            assert!(w >= base && w < base.mul_f64(1.5), "{attempt}: {w:?}");
        }
        assert_eq!(
            t.retry_wait(1, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(
            t.retry_wait(1, Some(Duration::from_secs(3600))),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn redirects_keep_scheme_and_origin() {
        let from = Url::parse("https://vault.example:8200/v1/secret/data/a").unwrap();
        let t = transport(false);
        assert_eq!(
            t.follow_redirect(&from, "/v1/secret/data/a?x=1", "/v1/p")
                .unwrap()
                .as_str(),
            "https://vault.example:8200/v1/secret/data/a?x=1"
        );
        let down = t
            .follow_redirect(&from, "http://vault.example:8200/v1/secret/data/a", "/v1/p")
            .unwrap_err();
        assert_eq!(down.code, ErrorCode::BadResponse);
        assert!(down.message.contains("scheme"), "{}", down.message);
        let other = t
            .follow_redirect(
                &from,
                "https://active.example:8200/v1/secret/data/a",
                "/v1/p",
            )
            .unwrap_err();
        assert!(
            other.message.contains("redirectToOtherOrigin"),
            "{}",
            other.message
        );
        let allowed = transport(true);
        assert!(allowed
            .follow_redirect(
                &from,
                "https://active.example:8200/v1/secret/data/a",
                "/v1/p"
            )
            .is_ok());
        assert!(allowed
            .follow_redirect(&from, "http://active.example:8200/v1/x", "/v1/p")
            .is_err());
    }
}
