//! The HTTP layer: one reqwest client (rustls), the headers every Vault request carries, a capped
//! body reader, and the mapping of transport failures to error codes. It knows nothing of KV.

use std::sync::Once;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use url::Url;
use zeroize::Zeroizing;

use super::config::ClientConfig;
use super::error::{ErrorCode, Result, VaultError};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const X_VAULT_TOKEN: HeaderName = HeaderName::from_static("x-vault-token");
const X_VAULT_NAMESPACE: HeaderName = HeaderName::from_static("x-vault-namespace");
const X_VAULT_REQUEST: HeaderName = HeaderName::from_static("x-vault-request");
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
    /// Built once: a sensitive header value (hidden from hyper's Debug output).
    token: Option<HeaderValue>,
    namespace: Option<HeaderValue>,
    max_response_bytes: usize,
}

fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Fails only when another provider is already installed, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl Transport {
    pub fn new(config: &ClientConfig) -> Result<Self> {
        install_crypto_provider();
        let mut headers = HeaderMap::new();
        headers.insert(X_VAULT_REQUEST, HeaderValue::from_static("true"));
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(config.timeout)
            .connect_timeout(CONNECT_TIMEOUT.min(config.timeout))
            // Vault's 307s are handled by the client, never by the HTTP library (it would
            // forward X-Vault-Token to whatever host the Location names).
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
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
        Ok(Transport {
            http,
            base,
            token,
            namespace,
            max_response_bytes: config.max_response_bytes,
        })
    }

    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// Sends `method` to `/v1/<api_path>` with optional query and body, and reads the answer.
    /// `api_path` must already be percent-encoded (see [`super::path::ApiPath`]).
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
        let mut request = self.http.request(method, url);
        if let Some(token) = &self.token {
            request = request.header(X_VAULT_TOKEN, token.clone());
        }
        if let Some(ns) = &self.namespace {
            request = request.header(X_VAULT_NAMESPACE, ns.clone());
        }
        if let Some(body) = body {
            // The owner is zeroized when hyper drops the last reference to the bytes.
            request = request
                .header(CONTENT_TYPE, body.content_type)
                .body(Bytes::from_owner(ZeroizingOwner(body.bytes)));
        }
        let mut response = request
            .send()
            .await
            .map_err(|e| transport_error(e, &path))?;
        let status = response.status();
        if let Some(len) = response.headers().get(CONTENT_LENGTH) {
            let len: Option<usize> = len.to_str().ok().and_then(|s| s.parse().ok());
            if len.is_some_and(|l| l > self.max_response_bytes) {
                return Err(self.too_large(&path, status));
            }
        }
        let mut body = Zeroizing::new(Vec::new());
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > self.max_response_bytes {
                        return Err(self.too_large(&path, status));
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
                Err(e) => return Err(transport_error(e, &path).with_status(status.as_u16())),
            }
        }
        Ok(RawResponse { status, body, path })
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
