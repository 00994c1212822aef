//! The HTTP layer: one reqwest client (rustls), the headers every Vault request carries, retries,
//! the one 307 hop Vault may ask for, a capped body reader, and the mapping of transport failures
//! to error codes. It holds no token: the caller passes one per request (the token session does).
//! It knows nothing of KV or of logins.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};
use std::time::Duration;

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

use crate::error::{scrub_json_error, ErrorCode, Result, VaultError};
use crate::tls::TlsSettings;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long choosing the next node waits for each node's `sys/health`.
const HEALTH_PROBE_TIMEOUT: Duration = Duration::from_millis(500);
/// The floor between two rounds of `sys/health` probes while no node is active.
const HEALTH_POLL_INTERVAL: Duration = Duration::from_millis(250);
/// Put in a transport error's `errors` when the connection could not be made at all.
const CONNECT_FAILED: &str = "connection failed";
const X_VAULT_TOKEN: HeaderName = HeaderName::from_static("x-vault-token");
const X_VAULT_NAMESPACE: HeaderName = HeaderName::from_static("x-vault-namespace");
const X_VAULT_REQUEST: HeaderName = HeaderName::from_static("x-vault-request");
const X_VAULT_INDEX: HeaderName = HeaderName::from_static("x-vault-index");
const X_VAULT_WRAP_TTL: HeaderName = HeaderName::from_static("x-vault-wrap-ttl");
/// Asks a standby to answer 307 at once instead of forwarding to the active node.
const X_VAULT_NO_REQUEST_FORWARDING: HeaderName =
    HeaderName::from_static("x-vault-no-request-forwarding");
/// What the message of an error says when a write that may have run was not sent again
/// (see [`HttpClient::send`]): callers that undo their own writes look for it.
pub const MAY_HAVE_BEEN_APPLIED: &str = "the write may have been applied";
/// The content type of a JSON merge patch (RFC 7386), which Vault's `PATCH` endpoints require.
pub const MERGE_PATCH: &str = "application/merge-patch+json";

/// What the HTTP client needs of the configuration (`ClientConfig::http_settings` gives it).
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Vault's address; requests go to `<addr>/v1/...`.
    pub addr: Url,
    /// Further nodes of the same cluster, tried in order after `addr` (see
    /// [`HttpClient::send`]). Empty: one address, and the behaviour of a single-node client.
    pub addrs: Vec<Url>,
    /// Enterprise namespace, sent as `X-Vault-Namespace`.
    pub namespace: Option<String>,
    /// Per request, reading the body included; connecting is capped at 10 s (or this, if lower).
    pub timeout: Duration,
    /// The largest response body accepted.
    pub max_response_bytes: usize,
    /// When and how long to retry.
    pub retry: RetryConfig,
    /// Follow a 307 to another origin, with the token.
    pub redirect_to_other_origin: bool,
    /// CA certificates, client certificate, server name.
    pub tls: TlsSettings,
    /// The proxy every request goes through, if any.
    pub proxy: Option<ProxySetting>,
}

/// Where requests go through, and which hosts bypass it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxySetting {
    /// The proxy, `http` or `https`.
    pub url: Url,
    /// The variable or option it came from, for errors.
    pub from: String,
    /// `NO_PROXY` (comma-separated hosts, domains, IPs or CIDRs), when set.
    pub no_proxy: Option<String>,
}

/// When and how long to retry, after HashiCorp's Go client: connection errors, 412, 429 and 5xx
/// except 501; wait `attempt x U(1.0, 1.5) x backoff`, or what `Retry-After` says, capped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryConfig {
    /// Retries after the first attempt (`VAULT_MAX_RETRIES`, default 2). 0 turns retrying off.
    pub max_retries: u32,
    /// Base of the linear backoff (default 1 s, as the Go client's minimum wait).
    pub backoff: Duration,
    /// Upper bound of any single wait, `Retry-After` included (default 30 s).
    pub max_wait: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_retries: 2,
            backoff: Duration::from_secs(1),
            max_wait: Duration::from_secs(30),
        }
    }
}

/// What a request sends as its body: JSON bytes the client wipes once sent.
pub struct RequestBody {
    bytes: Zeroizing<Vec<u8>>,
    content_type: &'static str,
}

impl RequestBody {
    /// Serialises `value` as JSON. The buffer is zeroized when the request is done with it.
    pub fn json(value: &impl serde::Serialize) -> Result<Self> {
        let bytes = serde_json::to_vec(value).map_err(|e| {
            VaultError::invalid_argument(format!(
                "request body is not JSON: {}",
                scrub_json_error(&e)
            ))
        })?;
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

/// A Vault token as the `X-Vault-Token` header value. Marked sensitive, so neither this type's
/// nor hyper's `Debug` output shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenHeader(HeaderValue);

impl TokenHeader {
    /// The header for `token`; `None` when the token holds characters a header cannot carry.
    pub fn new(token: &SecretString) -> Option<Self> {
        let mut value = HeaderValue::from_str(token.expose_secret()).ok()?;
        value.set_sensitive(true);
        Some(TokenHeader(value))
    }
}

impl std::fmt::Debug for TokenHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenHeader([REDACTED])")
    }
}

/// A request ready to send, and to send again (a retry, a redirect, a new login): the body is
/// shared between attempts, not copied, and wiped when the last attempt drops it.
pub struct Request {
    method: Method,
    /// `v1/<api_path>?<query>`, joined to whichever node address the attempt goes to.
    relative: String,
    path: String,
    body: Option<PreparedBody>,
    wrap_ttl: Option<HeaderValue>,
    /// Whether sending it twice does no harm: reads, logins and token lookups or renewals, and
    /// writes the caller made safe (a KV v2 write with `cas`). Anything else is sent again only
    /// when the first attempt surely never ran (see [`HttpClient::send`]).
    replay_safe: bool,
}

struct PreparedBody {
    content_type: &'static str,
    bytes: Bytes,
}

impl Request {
    /// The `/v1/...` path, as errors name it.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Asks Vault to response-wrap the answer (`X-Vault-Wrap-TTL: <secs>s`): the answer's
    /// `wrap_info.token` is a single-use token that `sys/wrapping/unwrap` exchanges for it,
    /// valid for `ttl` (whole seconds, at least 1).
    pub fn with_wrap_ttl(mut self, ttl: Duration) -> Self {
        let secs = ttl.as_secs().max(1);
        self.wrap_ttl = HeaderValue::from_str(&format!("{secs}s")).ok();
        self
    }

    /// Marks a write whose repetition cannot apply it twice, such as a KV v2 write carrying
    /// `cas` (a second run answers `CAS_MISMATCH` instead of making another version): it is
    /// retried and sent to another node like a read.
    pub fn replay_safe(mut self) -> Self {
        self.replay_safe = true;
        self
    }
}

/// Whether a request to `api_path` (no `/v1/`, no query) with `method` may be sent twice: reads,
/// and the `POST`s that change nothing a second run would duplicate (a login only mints another
/// token, a renewal renews again, a lookup looks again).
fn replay_safe_by_default(method: &Method, api_path: &str) -> bool {
    if matches!(method.as_str(), "GET" | "HEAD" | "LIST") {
        return true;
    }
    let path = api_path.split('?').next().unwrap_or_default();
    let login = path.starts_with("auth/")
        && (path.ends_with("/login") || path.rsplit('/').nth(1) == Some("login"));
    login
        || matches!(
            path,
            "auth/token/renew-self"
                | "auth/token/lookup-self"
                | "auth/token/lookup"
                | "sys/wrapping/lookup"
                | "sys/capabilities-self"
        )
}

/// One answer from Vault: the status and the whole body (wiped on drop).
pub struct RawResponse {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body, at most the configured response limit.
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
    /// Vault's id of the request, for its audit log.
    #[serde(default)]
    pub request_id: Option<String>,
    /// The endpoint's answer; `None` when Vault sent `null` or nothing.
    #[serde(default = "Option::default")]
    pub data: Option<T>,
    /// Warnings Vault attached (a capped TTL, a deprecated parameter).
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
    /// 2xx.
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// No body, or only whitespace (a 204).
    pub fn is_empty(&self) -> bool {
        self.body.iter().all(u8::is_ascii_whitespace)
    }

    /// A 404 that means "nothing at this path": an empty body, or `errors` empty or absent (a
    /// plain `{"errors":[]}`, or an envelope). A 404 whose errors say something, such as
    /// `no handler for route` (no mount there), or whose body is not JSON (a proxy's page), is
    /// not: the caller turns it into an error instead of an empty result.
    pub fn is_plain_not_found(&self) -> bool {
        if self.status != StatusCode::NOT_FOUND {
            return false;
        }
        if self.is_empty() {
            return true;
        }
        serde_json::from_slice::<ErrorBody>(&self.body)
            .is_ok_and(|b| b.errors.is_none_or(|e| e.is_empty()))
    }

    /// A 503 whose errors say the node is sealed (`{"errors":["Vault is sealed"]}`).
    pub fn is_sealed(&self) -> bool {
        let needle = b"sealed";
        self.status == StatusCode::SERVICE_UNAVAILABLE
            && self
                .body
                .windows(needle.len())
                .any(|w| w.eq_ignore_ascii_case(needle))
    }

    /// A standby that knows of no active node (an election): Vault's
    /// `local node not active but active cluster node not found`, a 500 (or 503) it answers in
    /// its request-forwarding handler before running anything. Safe to send anywhere again.
    pub fn is_standby_without_leader(&self) -> bool {
        let needle = b"active cluster node not found";
        matches!(self.status.as_u16(), 500 | 503)
            && self
                .body
                .windows(needle.len())
                .any(|w| w.eq_ignore_ascii_case(needle))
    }

    /// A 5xx that asking again cannot change: Vault's 500 "past the max TTL, cannot renew".
    pub fn is_permanent(&self) -> bool {
        let needle = b"past the max ttl";
        self.status == StatusCode::INTERNAL_SERVER_ERROR
            && self
                .body
                .windows(needle.len())
                .any(|w| w.eq_ignore_ascii_case(needle))
    }

    /// Parses the body as `T`; a body that is not the expected JSON is `BAD_RESPONSE`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            // serde quotes the value it found, which can be a secret: scrubbed.
            VaultError::bad_response(format!(
                "Vault's answer to {} ({}) is not the expected JSON: {}",
                self.path,
                self.status.as_u16(),
                scrub_json_error(&e)
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

/// The HTTP client bound to one Vault address and namespace. Cheap to share behind an `Arc`;
/// every method takes `&self`.
pub struct HttpClient {
    http: reqwest::Client,
    /// Every node address, `addr` first; each ends in `/`.
    bases: Vec<Url>,
    /// The index in `bases` of the node that answered last: where the next request goes first.
    current: AtomicUsize,
    namespace: Option<HeaderValue>,
    max_response_bytes: usize,
    retry: RetryConfig,
    redirect_to_other_origin: bool,
    /// The newest `X-Vault-Index` seen (Enterprise and OpenBao send it; community Vault does not).
    index: Mutex<Option<HeaderValue>>,
    /// The code and time of the newest attempt that got no answer (`NETWORK`, `TLS_ERROR`),
    /// cleared by any answer: what a caller's own deadline reports when it cuts the retries.
    last_failure: Mutex<Option<(ErrorCode, std::time::Instant)>>,
}

fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Fails only when another provider is already installed, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl HttpClient {
    /// The client for these settings. Every TLS file is read here: a bad one is `INVALID_CONFIG`
    /// before any request.
    pub fn new(config: &HttpSettings) -> Result<Self> {
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
            // Vault's 307s are handled here, never by the HTTP library (it would forward
            // X-Vault-Token to whatever host the Location names).
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
        let bases = std::iter::once(&config.addr)
            .chain(&config.addrs)
            .map(|addr| {
                let mut base = addr.clone();
                if !base.path().ends_with('/') {
                    let p = format!("{}/", base.path());
                    base.set_path(&p);
                }
                base
            })
            .collect();
        Ok(HttpClient {
            http,
            bases,
            current: AtomicUsize::new(0),
            namespace,
            max_response_bytes: config.max_response_bytes,
            retry: config.retry,
            redirect_to_other_origin: config.redirect_to_other_origin,
            index: Mutex::new(None),
            last_failure: Mutex::new(None),
        })
    }

    /// `method` on `/v1/<api_path>` with optional query and body, ready to send. `api_path` must
    /// already be percent-encoded ([`ApiPath::encoded`](crate::path::ApiPath::encoded)).
    pub fn request(
        &self,
        method: Method,
        api_path: &str,
        query: &[(&str, String)],
        body: Option<RequestBody>,
    ) -> Result<Request> {
        let path = format!("/v1/{api_path}");
        let mut url = self.bases[0].join(&format!("v1/{api_path}")).map_err(|e| {
            VaultError::invalid_argument(format!("cannot build a URL for {path}: {e}"))
        })?;
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        // What follows the base, so that any node's base gives the same request.
        let relative = url.as_str()[self.bases[0].as_str().len()..].to_string();
        // The owner is zeroized when the last clone of the bytes (one per attempt) is dropped.
        let body = body.map(|b| PreparedBody {
            content_type: b.content_type,
            bytes: Bytes::from_owner(ZeroizingOwner(b.bytes)),
        });
        Ok(Request {
            replay_safe: replay_safe_by_default(&method, api_path),
            method,
            relative,
            path,
            body,
            wrap_ttl: None,
        })
    }

    /// Sends `request` with `token` (none for a login) and reads the answer. Retries connection
    /// errors, 412, 429 and 5xx except 501 (see [`RetryConfig`]); follows one 307 to the same
    /// scheme, and to another origin only when the configuration allows it (or the origin is
    /// one of the configured node addresses).
    ///
    /// With several node addresses, an attempt that one node cannot serve goes at once to the
    /// next node (the one `sys/health` says is active or a standby, else the next in order):
    /// any request when the node surely did not run it (connection refused, 503 sealed or
    /// without an active node, 530 removed), and reads (`GET`, `LIST`, `HEAD`) also after a
    /// timeout, a broken connection or any other 5xx. Only when every node failed in turn does
    /// the client wait its backoff, and the error then names each address and what it answered.
    ///
    /// A write that is not [replay-safe](Request::replay_safe) is sent again (to any node) only
    /// when the attempt surely never ran; after a broken connection, a timeout, a 5xx other than
    /// 501/503/530 or a refused 307 it may have been applied, so the error comes back at once,
    /// its code unchanged and its message saying the write may have been applied.
    pub async fn send(
        &self,
        request: &Request,
        token: Option<&TokenHeader>,
    ) -> Result<RawResponse> {
        let mut retries = 0;
        // What each node answered since the last backoff, for the error when all failed.
        let mut round: Vec<(usize, String)> = Vec::new();
        // This request's node. `current` is only a hint shared between requests: following it
        // inside a round could send two requests back and forth between failed nodes forever.
        let mut at = self.current.load(Ordering::Relaxed) % self.bases.len();
        loop {
            let outcome = self.send_following_redirect(request, at, token).await;
            self.note_outcome(&outcome);
            if !request.replay_safe {
                if let Some(why) = may_have_run(&outcome) {
                    // Sending it again (here or to another node) could apply it twice: a second
                    // KV version, a second secret id. The caller decides, knowing that.
                    let mut err = match outcome {
                        Ok(resp) => resp.into_error(),
                        Err(e) => unmark(e),
                    };
                    err.message = format!(
                        "{} ({why}); {MAY_HAVE_BEEN_APPLIED}, so it was not sent again: read {} \
                         back before repeating it",
                        err.message, request.path
                    );
                    return Err(err);
                }
            }
            if self.bases.len() > 1 {
                if let Some(why) = self.failover_reason(&outcome, request) {
                    // `next_node` never picks a node of this round, so a round has at most
                    // one attempt per node.
                    round.push((at, why));
                    if round.len() < self.bases.len() {
                        let next = self.next_node(at, &round).await;
                        self.current.store(next, Ordering::Relaxed);
                        tracing::debug!(path = %request.path, from = %self.bases[at], to = %self.bases[next], "trying the next Vault node");
                        at = next;
                        continue;
                    }
                } else {
                    round.clear();
                }
            }
            let retry_after = match &outcome {
                Ok(resp) if is_retryable_status(resp.status) && !resp.is_permanent() => {
                    Some(resp.retry_after)
                }
                Err(e) if e.code == ErrorCode::Network => Some(None),
                // Every node a standby (an election): wait for an active one.
                Ok(resp)
                    if resp.status == StatusCode::TEMPORARY_REDIRECT
                        && self.no_forward(request) =>
                {
                    Some(None)
                }
                // A standby that could not forward (no active node yet) points at a leader the
                // client will not follow: it forwards again once a node is active.
                Err(e) if e.status == Some(307) && request.replay_safe => Some(None),
                _ => None,
            };
            match retry_after {
                Some(after) if retries < self.retry.max_retries => {
                    retries += 1;
                    let wait = self.retry_wait(retries, after);
                    tracing::debug!(path = %request.path, retries, wait_ms = wait.as_millis() as u64, "retrying Vault request");
                    if round.len() == self.bases.len() {
                        // Every node failed (an election, say): wait at most the backoff, but
                        // go on as soon as a node says it is active.
                        round.clear();
                        at = self
                            .wait_for_active(wait)
                            .await
                            .unwrap_or((at + 1) % self.bases.len());
                        self.current.store(at, Ordering::Relaxed);
                    } else {
                        tokio::time::sleep(wait).await;
                    }
                }
                _ if round.len() > 1 => return Err(unmark(self.all_nodes_failed(outcome, &round))),
                _ => return outcome.map_err(unmark),
            }
        }
    }

    /// Why `outcome` of node `at` sends the request to the next node, or `None` when it does not
    /// (an answer, or a failure a write must not be replayed after).
    fn failover_reason(&self, outcome: &Result<RawResponse>, request: &Request) -> Option<String> {
        // Reads, and what is as safe to send twice (logins, lookups, writes with cas).
        let read = request.replay_safe;
        match outcome {
            Ok(resp) => {
                let code = resp.status.as_u16();
                if code == 307 && self.no_forward(request) {
                    // Told not to forward, the standby ran nothing.
                    Some("a standby (307)".into())
                } else if resp.is_standby_without_leader() {
                    // An election: this standby knows no active node and ran nothing.
                    Some(format!("a standby without an active node ({code})"))
                } else if resp.is_sealed() {
                    Some("sealed (503)".into())
                } else if code == 503 || code == 530 {
                    // 503: a standby that cannot reach an active node; 530: removed from the
                    // cluster. Vault answers both before running the request.
                    Some(format!("cannot serve requests ({code})"))
                } else if read && code >= 500 && code != 501 && !resp.is_permanent() {
                    Some(format!("server error ({code})"))
                } else {
                    None
                }
            }
            Err(e) if e.status == Some(307) && read => Some("redirected (307) elsewhere".into()),
            Err(e) if e.status.is_some() => None,
            Err(e)
                if e.code == ErrorCode::Network && e.errors.iter().any(|x| x == CONNECT_FAILED) =>
            {
                Some("connection failed".into())
            }
            Err(e) if read && matches!(e.code, ErrorCode::Network | ErrorCode::Timeout) => {
                Some(if e.code == ErrorCode::Timeout {
                    "timed out".into()
                } else {
                    "connection broken".into()
                })
            }
            Err(_) => None,
        }
    }

    /// The node to try after `at`: the first node not failed in this round whose `sys/health`
    /// says active (200), else a standby (429, 473), else the next not failed in order. The
    /// probes run together and each is cut at 500 ms (or the request timeout, if lower).
    async fn next_node(&self, at: usize, failed: &[(usize, String)]) -> usize {
        let n = self.bases.len();
        let candidates: Vec<usize> = (1..n)
            .map(|k| (at + k) % n)
            .filter(|i| failed.iter().all(|(f, _)| f != i))
            .collect();
        let probes = candidates.iter().map(|&i| async move {
            let url = self.bases[i].join("v1/sys/health").ok()?;
            let probe = self.http.get(url).timeout(HEALTH_PROBE_TIMEOUT).send();
            probe.await.ok().map(|r| r.status().as_u16())
        });
        let statuses = futures_util::future::join_all(probes).await;
        let pick = |want: &[u16]| {
            candidates
                .iter()
                .zip(&statuses)
                .find(|(_, s)| s.is_some_and(|s| want.contains(&s)))
                .map(|(i, _)| *i)
        };
        pick(&[200])
            .or_else(|| pick(&[429, 473]))
            .or_else(|| candidates.first().copied())
            .unwrap_or((at + 1) % n)
    }

    /// Polls every node's `sys/health` every 250 ms (each probe capped at 500 ms) until one
    /// answers 200 (active), for at most `wait`: the index of that node, or `None` after `wait`.
    async fn wait_for_active(&self, wait: Duration) -> Option<usize> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return None;
            }
            // Sleep first: the round that just failed was the first look.
            tokio::time::sleep(HEALTH_POLL_INTERVAL.min(left)).await;
            let probes = (0..self.bases.len()).map(|i| async move {
                let url = self.bases[i].join("v1/sys/health").ok()?;
                let probe = self.http.get(url).timeout(HEALTH_PROBE_TIMEOUT.min(left));
                let status = probe.send().await.ok()?.status().as_u16();
                (status == 200).then_some(i)
            });
            let found = futures_util::future::join_all(probes).await;
            if let Some(i) = found.into_iter().flatten().next() {
                return Some(i);
            }
        }
    }

    /// The last failure, its message extended with what every node answered in this round.
    fn all_nodes_failed(
        &self,
        outcome: Result<RawResponse>,
        round: &[(usize, String)],
    ) -> VaultError {
        let mut err = match outcome {
            Ok(resp) => resp.into_error(),
            Err(e) => e,
        };
        let tried: Vec<String> = round
            .iter()
            .map(|(i, why)| format!("{} {why}", self.bases[*i].as_str().trim_end_matches('/')))
            .collect();
        err.message = format!(
            "{}; no node of the cluster could serve it ({})",
            err.message,
            tried.join("; ")
        );
        err
    }

    fn note_outcome(&self, outcome: &Result<RawResponse>) {
        let failure = match outcome {
            // A sealed node answers at once, but every retry gets the same 503: a caller whose
            // deadline cut the retries says SEALED, not TIMEOUT.
            Ok(resp) if resp.is_sealed() => Some((ErrorCode::Sealed, std::time::Instant::now())),
            Ok(_) => None,
            Err(e) if matches!(e.code, ErrorCode::Network | ErrorCode::TlsError) => {
                Some((e.code, std::time::Instant::now()))
            }
            Err(_) => return,
        };
        *self.last_failure.lock().unwrap_or_else(|e| e.into_inner()) = failure;
    }

    /// The code of the newest attempt that got no usable answer (`NETWORK` or `TLS_ERROR`, or
    /// `SEALED` for a 503 "Vault is sealed"), when it happened at or after `since` and no other
    /// answer came after it. A caller whose own deadline cut
    /// the retries reports this instead of a bare `TIMEOUT` (a closed port is not a hang).
    pub fn connection_failure_since(&self, since: std::time::Instant) -> Option<ErrorCode> {
        let last = *self.last_failure.lock().unwrap_or_else(|e| e.into_inner());
        last.filter(|(_, at)| *at >= since).map(|(code, _)| code)
    }

    /// Sends `request` once with `token`: no retry (one 307 is followed as in [`Self::send`]).
    /// For a probe, which must say what the server answers now, not after a backoff.
    pub async fn send_without_retry(
        &self,
        request: &Request,
        token: Option<&TokenHeader>,
    ) -> Result<RawResponse> {
        let at = self.current.load(Ordering::Relaxed) % self.bases.len();
        let outcome = self.send_following_redirect(request, at, token).await;
        self.note_outcome(&outcome);
        outcome.map_err(unmark)
    }

    /// Every configured node address, `addr` first (each ends in `/`).
    pub fn node_addrs(&self) -> &[Url] {
        &self.bases
    }

    /// Sends `request` once to node `node` (an index into [`Self::node_addrs`]): no retry, no
    /// failover, and the shared "node that answered last" left as it was. For a look at every
    /// node (`status`), which must say what each one answers now.
    pub async fn send_to_node(
        &self,
        request: &Request,
        node: usize,
        token: Option<&TokenHeader>,
    ) -> Result<RawResponse> {
        if node >= self.bases.len() {
            return Err(VaultError::invalid_argument(format!(
                "no node {node}: {} configured",
                self.bases.len()
            )));
        }
        self.send_following_redirect(request, node, token)
            .await
            .map_err(unmark)
    }

    /// `attempt x U(1.0, 1.5) x backoff`, or `Retry-After`; never more than `max_wait`.
    fn retry_wait(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let wait =
            retry_after.unwrap_or_else(|| self.retry.backoff.mul_f64(attempt as f64 * jitter()));
        wait.min(self.retry.max_wait)
    }

    async fn send_following_redirect(
        &self,
        request: &Request,
        at: usize,
        token: Option<&TokenHeader>,
    ) -> Result<RawResponse> {
        let url = self.bases[at].join(&request.relative).map_err(|e| {
            VaultError::invalid_argument(format!("cannot build a URL for {}: {e}", request.path))
        })?;
        // A write to a cluster asks a standby not to forward it: a standby whose forward to the
        // active node fails answers 307 too, and then the write may or may not have run there.
        // Told not to forward, its 307 says for certain that nothing ran, and the client goes
        // to the active node itself (the 307's target is one of the configured nodes).
        let no_forward = self.no_forward(request);
        let first = self
            .send_once(request, url.clone(), token, no_forward)
            .await?;
        if first.status != StatusCode::TEMPORARY_REDIRECT {
            return Ok(first);
        }
        let Some(location) = first.location.clone() else {
            return Ok(first);
        };
        if !request.replay_safe && !no_forward {
            // A write the node was allowed to forward: its 307 means the forward failed, maybe
            // after the active node ran it. Never followed (that would send it again); the
            // error's 307 makes `may_have_run` say so.
            return Err(VaultError::new(
                ErrorCode::BadResponse,
                format!(
                    "Vault redirected {} (307) after it may have forwarded it to the active node",
                    request.path
                ),
            )
            .with_path(request.path.clone())
            .with_status(307));
        }
        let next = match self.follow_redirect(&url, &location, &request.path) {
            Ok(next) => next,
            // Nothing ran, but the active node is not one the client may go to: let the standby
            // forward it after all (as a client with one address would). A 307 to that is a
            // forward that failed, perhaps after the active node ran it: an error that
            // `may_have_run` keeps from being sent anywhere again.
            Err(e) if no_forward => {
                let forwarded = self.send_once(request, url, token, false).await?;
                if forwarded.status == StatusCode::TEMPORARY_REDIRECT {
                    let mut err = e;
                    err.message = format!(
                        "{}; sent again to that standby with forwarding allowed, it answered \
                         307 again (its forward to the active node failed)",
                        err.message
                    );
                    return Err(err);
                }
                return Ok(forwarded);
            }
            Err(e) => return Err(e),
        };
        // One hop only: a second redirect comes back as an error answer. Only reads and other
        // replay-safe requests get here without the header (writes were sent back above).
        self.send_once(request, next, token, no_forward).await
    }

    /// Whether `request` goes out with `X-Vault-No-Request-Forwarding`: writes that are not
    /// replay-safe, when the client knows several nodes (so it can go to the active one).
    fn no_forward(&self, request: &Request) -> bool {
        !request.replay_safe && self.bases.len() > 1
    }

    /// Where a 307 may take the request: the same scheme only (never https to http), and another
    /// origin only when the configuration allows it, since the token goes along.
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
        // The user named every configured node, so the token may go to any of them.
        let configured = self.bases.iter().any(|b| b.origin() == to.origin());
        if to.origin() != from.origin() && !self.redirect_to_other_origin && !configured {
            return Err(refuse(format!(
                "to another origin ({}); the token goes along, so this is followed only to a \
                 node listed in `addrs` (OPENCLAW_VAULT_ADDRS) or when the client is configured \
                 to redirect to other origins",
                to.origin().ascii_serialization()
            )));
        }
        Ok(to)
    }

    async fn send_once(
        &self,
        request: &Request,
        url: Url,
        token: Option<&TokenHeader>,
        no_forward: bool,
    ) -> Result<RawResponse> {
        let path = request.path.as_str();
        let mut builder = self.http.request(request.method.clone(), url);
        if no_forward {
            builder = builder.header(
                X_VAULT_NO_REQUEST_FORWARDING,
                HeaderValue::from_static("true"),
            );
        }
        if let Some(token) = token {
            builder = builder.header(X_VAULT_TOKEN, token.0.clone());
        }
        if let Some(ns) = &self.namespace {
            builder = builder.header(X_VAULT_NAMESPACE, ns.clone());
        }
        if let Some(index) = self.last_index() {
            builder = builder.header(X_VAULT_INDEX, index);
        }
        if let Some(ttl) = &request.wrap_ttl {
            builder = builder.header(X_VAULT_WRAP_TTL, ttl.clone());
        }
        if let Some(body) = &request.body {
            builder = builder
                .header(CONTENT_TYPE, body.content_type)
                .body(body.bytes.clone());
        }
        let mut response = builder.send().await.map_err(|e| {
            let connect = e.is_connect();
            let mut err = transport_error(e, path);
            if connect {
                // Marks a request that never reached Vault: safe to send to another node.
                err.errors.push(CONNECT_FAILED.to_string());
            }
            err
        })?;
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
            "Vault's answer to {path} is larger than the {} byte limit set for responses",
            self.max_response_bytes
        ))
        .with_path(path)
        .with_status(status.as_u16())
    }
}

/// Removes the internal connect-failure mark before an error leaves this module.
fn unmark(mut e: VaultError) -> VaultError {
    if e.status.is_none() {
        e.errors.retain(|x| x != CONNECT_FAILED);
    }
    e
}

/// Why a failed attempt may have run on Vault, or `None` when it surely did not: connection
/// refused, or an answer Vault gives before running anything (412 index not yet replicated, 429
/// quota, 503 sealed or standby without an active node, 530 removed, 501 not initialised).
/// Client errors (4xx) and definite refusals are not failures of delivery, so `None` too.
fn may_have_run(outcome: &Result<RawResponse>) -> Option<&'static str> {
    match outcome {
        Ok(resp) => {
            let code = resp.status.as_u16();
            (code >= 500
                && !matches!(code, 501 | 503 | 530)
                && !resp.is_permanent()
                && !resp.is_standby_without_leader())
            .then_some("the server failed while handling it")
        }
        Err(e) if e.errors.iter().any(|x| x == CONNECT_FAILED) => None,
        // Vault answers 307 when forwarding to the active node failed, perhaps after it ran.
        Err(e) if e.status == Some(307) => Some("the node that got it could not forward it"),
        Err(e) if e.code == ErrorCode::Timeout => Some("no answer in time"),
        Err(e) if e.code == ErrorCode::Network => Some("the connection broke before the answer"),
        Err(_) => None,
    }
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

/// Whether a rustls error is anywhere in the chain of causes: a certificate that is not trusted,
/// a wrong host name, an expired certificate, a handshake alert. None of these changes by asking
/// again, so they are not retried. `io::Error::source` skips the error it wraps, so each
/// `io::Error` is opened with `get_ref` as well.
fn is_tls_failure(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        if let Some(inner) = s
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            if is_tls_failure(inner) {
                return true;
            }
        }
        source = s.source();
    }
    false
}

fn transport_error(e: reqwest::Error, path: &str) -> VaultError {
    let e = e.without_url();
    let code = if e.is_timeout() {
        ErrorCode::Timeout
    } else if is_tls_failure(&e) {
        ErrorCode::TlsError
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
    let what = match code {
        ErrorCode::Timeout => "timed out",
        ErrorCode::TlsError => "failed in the TLS handshake",
        _ => "failed",
    };
    VaultError::new(code, format!("request to {path} {what}: {detail}")).with_path(path)
}

/// The property every response parser must keep: whatever wrong shape Vault answers, the error
/// never quotes the input. Each test module feeds its parsers' valid sample through this.
#[cfg(test)]
pub(crate) mod parse_property {
    use super::*;
    use serde_json::{json, Value};

    pub(crate) const CANARY: &str = "sk-canary-7f3a9c";

    /// Every node of `sample` (the root included) replaced in turn by canary-bearing values of
    /// every JSON type, plus bodies that are not JSON around the canary.
    pub(crate) fn wrong_shapes(sample: &Value) -> Vec<Vec<u8>> {
        let replacements = [
            json!(CANARY),
            json!({ CANARY: CANARY }),
            json!([CANARY, { "x": CANARY }]),
            json!({ CANARY: {} }),
            json!(true),
            json!(-1),
            json!(1.5),
            Value::Null,
        ];
        let mut pointers = Vec::new();
        collect_pointers(sample, String::new(), &mut pointers);
        let mut bodies = Vec::new();
        for pointer in &pointers {
            for r in &replacements {
                let mut v = sample.clone();
                if pointer.is_empty() {
                    v = r.clone();
                } else if let Some(slot) = v.pointer_mut(pointer) {
                    *slot = r.clone();
                }
                bodies.push(serde_json::to_vec(&v).unwrap());
            }
        }
        let text = serde_json::to_string(sample).unwrap();
        for broken in [
            format!("{{\"data\": \"{CANARY}"),
            format!("{{\"data\": {CANARY}}}"),
            CANARY.to_string(),
            format!("{text}{CANARY}"),
            format!("{{\"{CANARY}\" 1}}"),
            format!("[\"{CANARY}\\q\"]"),
        ] {
            bodies.push(broken.into_bytes());
        }
        bodies
    }

    fn collect_pointers(v: &Value, at: String, out: &mut Vec<String>) {
        out.push(at.clone());
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    collect_pointers(
                        child,
                        format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                        out,
                    );
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    collect_pointers(child, format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }

    /// A 200 answer with `body`, as `send` returns it.
    pub(crate) fn answer(body: &[u8]) -> RawResponse {
        RawResponse {
            status: StatusCode::OK,
            body: Zeroizing::new(body.to_vec()),
            path: "/v1/test".into(),
            retry_after: None,
            location: None,
        }
    }

    /// Parses every wrong shape of `sample` with `parse`; asserts at least one fails and that no
    /// failure shows the canary. Returns how many failed.
    pub(crate) fn assert_hides_input<T>(
        sample: Value,
        parse: impl Fn(&RawResponse) -> Result<T>,
    ) -> usize {
        let mut failed = 0;
        for body in wrong_shapes(&sample) {
            if let Err(e) = parse(&answer(&body)) {
                failed += 1;
                let shown = format!("{e} {e:?}");
                assert!(
                    !shown.contains(CANARY) && !shown.contains("canary"),
                    "{} quoted its input: {shown}",
                    String::from_utf8_lossy(&body)
                );
                assert_eq!(e.code, ErrorCode::BadResponse, "{shown}");
            }
        }
        assert!(failed > 0, "no wrong shape of {sample} was refused");
        failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(other_origin: bool) -> HttpClient {
        HttpClient::new(&HttpSettings {
            addr: Url::parse("https://vault.example:8200").unwrap(),
            namespace: None,
            timeout: Duration::from_secs(60),
            max_response_bytes: 1 << 20,
            retry: RetryConfig {
                max_retries: 2,
                backoff: Duration::from_millis(100),
                max_wait: Duration::from_secs(5),
            },
            redirect_to_other_origin: other_origin,
            tls: TlsSettings::default(),
            proxy: None,
            addrs: Vec::new(),
        })
        .unwrap()
    }

    #[test]
    fn parse_errors_of_public_answers_never_quote_the_input() {
        use crate::engines::kv2::{KeyMetadata, Subkeys, VersionMetadata};
        use crate::engines::sys::{Health, SealStatus};
        use crate::engines::token::TokenInfo;
        use parse_property::assert_hides_input;
        use serde_json::json;
        let version = json!({"created_time": "2026-01-02T03:04:05Z", "custom_metadata": {"a": "b"},
            "deletion_time": "", "destroyed": false, "version": 3});
        let envelope =
            |data: serde_json::Value| json!({"request_id": "r", "data": data, "warnings": ["w"]});
        assert_hides_input(envelope(version.clone()), |r| {
            r.envelope::<VersionMetadata>()
        });
        assert_hides_input(
            envelope(
                json!({"cas_required": false, "created_time": "t", "current_version": 2,
                "delete_version_after": "0s", "max_versions": 0, "oldest_version": 0, "updated_time": "t",
                "custom_metadata": {"k": "v"}, "versions": {"1": {"created_time": "t", "deletion_time": "", "destroyed": false}}}),
            ),
            |r| r.envelope::<KeyMetadata>(),
        );
        assert_hides_input(
            envelope(json!({"subkeys": {"a": null, "b": {"c": null}}, "metadata": version})),
            |r| r.envelope::<Subkeys>(),
        );
        assert_hides_input(
            envelope(
                json!({"accessor": "a", "creation_time": 1, "creation_ttl": 2, "display_name": "d",
                "entity_id": "e", "expire_time": null, "explicit_max_ttl": 0, "issue_time": "t",
                "meta": {"k": "v"}, "num_uses": 0, "orphan": true, "path": "p", "policies": ["root"],
                "renewable": false, "ttl": 0, "type": "service"}),
            ),
            |r| r.envelope::<TokenInfo>(),
        );
        assert_hides_input(
            json!({"initialized": true, "sealed": false, "standby": false, "performance_standby": false,
                "replication_performance_mode": "disabled", "replication_dr_mode": "disabled",
                "server_time_utc": 1767261600, "version": "1.21.2", "cluster_name": "c", "cluster_id": "i"}),
            |r| r.json::<Health>(),
        );
        assert_hides_input(
            json!({"type": "shamir", "initialized": true, "sealed": false, "t": 1, "n": 1, "progress": 0,
                "nonce": "", "version": "1.21.4", "build_date": "d", "migration": false, "cluster_name": "c",
                "cluster_id": "i", "recovery_seal": false, "storage_type": "inmem"}),
            |r| r.json::<SealStatus>(),
        );
        assert_hides_input(envelope(json!({"apiKey": "v"})), |r| {
            r.envelope::<crate::SecretData>()
        });
    }

    #[test]
    fn scrubbed_parse_errors_keep_category_expectation_and_position() {
        let e = serde_json::from_str::<std::collections::BTreeMap<String, String>>("{\"a\": 1}")
            .unwrap_err();
        assert_eq!(
            scrub_json_error(&e),
            "the wrong shape: invalid type: integer, expected a string (line 1, column 7)"
        );
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Needs {
            version: u64,
        }
        let e = serde_json::from_str::<Needs>("{}").unwrap_err();
        assert_eq!(
            scrub_json_error(&e),
            "the wrong shape: missing field `version` (line 1, column 2)"
        );
        let e = serde_json::from_str::<Needs>("{\"version\": \"sk-1\"}").unwrap_err();
        let shown = scrub_json_error(&e);
        assert!(!shown.contains("sk-1"), "{shown}");
        assert!(
            shown.contains("invalid type: string, expected u64"),
            "{shown}"
        );
        let e = serde_json::from_str::<Needs>("{\"version\": ").unwrap_err();
        assert!(
            scrub_json_error(&e).starts_with("cut short"),
            "{}",
            scrub_json_error(&e)
        );
        let e = serde_json::from_str::<Needs>("sk-2").unwrap_err();
        assert!(scrub_json_error(&e).starts_with("not valid JSON"));
    }

    #[test]
    fn tls_failures_are_found_in_the_chain() {
        use rustls::{CertificateError, Error as TlsError};
        let unknown = TlsError::InvalidCertificate(CertificateError::UnknownIssuer);
        assert!(is_tls_failure(&unknown));
        let wrapped = std::io::Error::new(std::io::ErrorKind::InvalidData, unknown);
        assert!(is_tls_failure(&wrapped));
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("client error (Connect)")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let expired = TlsError::InvalidCertificate(CertificateError::Expired);
        let outer = Outer(std::io::Error::other(expired));
        assert!(is_tls_failure(&outer));
        let refused = Outer(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(!is_tls_failure(&refused));
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
        let c = client(false);
        for attempt in 1..=3 {
            let w = c.retry_wait(attempt, None);
            let base = Duration::from_millis(100) * attempt;
            assert!(w >= base && w < base.mul_f64(1.5), "{attempt}: {w:?}");
        }
        assert_eq!(
            c.retry_wait(1, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(
            c.retry_wait(1, Some(Duration::from_secs(3600))),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn redirects_keep_scheme_and_origin() {
        let from = Url::parse("https://vault.example:8200/v1/secret/data/a").unwrap();
        let c = client(false);
        assert_eq!(
            c.follow_redirect(&from, "/v1/secret/data/a?x=1", "/v1/p")
                .unwrap()
                .as_str(),
            "https://vault.example:8200/v1/secret/data/a?x=1"
        );
        let down = c
            .follow_redirect(&from, "http://vault.example:8200/v1/secret/data/a", "/v1/p")
            .unwrap_err();
        assert_eq!(down.code, ErrorCode::BadResponse);
        assert!(down.message.contains("scheme"), "{}", down.message);
        let other = c
            .follow_redirect(
                &from,
                "https://active.example:8200/v1/secret/data/a",
                "/v1/p",
            )
            .unwrap_err();
        assert!(
            other.message.contains("another origin"),
            "{}",
            other.message
        );
        let allowed = client(true);
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

    #[test]
    fn token_header_is_redacted_and_checked() {
        let t = TokenHeader::new(&SecretString::from("hvs.secret-value")).unwrap();
        assert!(!format!("{t:?}").contains("hvs."));
        assert!(TokenHeader::new(&SecretString::from("bad\ntoken")).is_none());
    }
}
