//! Request handling: the control API, rule actions, and forwarding.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue, LOCATION};
use hyper::http::uri::{Authority, PathAndQuery, Scheme};
use hyper::{Method, Request, Response, StatusCode, Uri, Version};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::log::{Entry, Log};
use crate::rules::{Action, RuleSpec, Rules, redirect_location};

const CONTROL_PREFIX: &str = "/__proxy/";

/// Hands raw bytes to the connection task, which then closes the socket
/// (see `serve_connection` in main.rs).
pub type Hijack = Arc<Mutex<Option<oneshot::Sender<Vec<u8>>>>>;

type Body = Full<Bytes>;

pub struct State {
    upstream: Option<(Scheme, Authority)>,
    client: Client<HttpConnector, Body>,
    rules: Rules,
    log: Log,
}

impl State {
    pub fn new(upstream: Option<(Scheme, Authority)>) -> State {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .http1_preserve_header_case(true)
            .build(connector);
        State {
            upstream,
            client,
            rules: Rules::default(),
            log: Log::default(),
        }
    }
}

/// Accepts an `http://host:port` origin (a trailing `/` is tolerated).
pub fn parse_upstream(s: &str) -> Result<(Scheme, Authority), String> {
    let uri: Uri = s.parse().map_err(|e| format!("{s:?}: {e}"))?;
    let parts = uri.into_parts();
    match (parts.scheme, parts.authority, parts.path_and_query) {
        (Some(scheme), Some(authority), pq)
            if scheme == Scheme::HTTP && pq.as_ref().is_none_or(|pq| pq == "/") =>
        {
            Ok((scheme, authority))
        }
        _ => Err(format!(
            "{s:?}: expected an origin like http://127.0.0.1:8200"
        )),
    }
}

/// What a request ends in.
enum Outcome {
    Respond(Response<Body>),
    /// Write these bytes (maybe none) and close; `status` is for the log.
    Hijack {
        raw: Vec<u8>,
        status: Option<u16>,
    },
}

/// The hyper service: every request on every connection comes here.
pub async fn handle(
    state: Arc<State>,
    hijack: Hijack,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    if req.uri().path().starts_with(CONTROL_PREFIX) {
        return Ok(control(&state, req).await);
    }

    // Buffer the body: its length goes in the log, and reading it all before
    // any fault means a close leaves no unread input (which would turn the
    // FIN into a RST and could discard what we sent).
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            return Ok(error(
                StatusCode::BAD_REQUEST,
                &format!("reading body: {e}"),
            ));
        }
    };

    let matched = state.rules.take_match(&parts.method, parts.uri.path());
    let mut entry = Entry::new(&parts, body.len());
    entry.rule = matched.as_ref().map(|m| m.id);
    entry.action = matched.as_ref().map(|m| m.name);
    let seq = state.log.push(entry);

    let outcome = match matched.as_ref().map(|m| &*m.action) {
        None => Outcome::Respond(forward(&state, Request::from_parts(parts, body)).await),
        Some(Action::Delay(duration)) => {
            tokio::time::sleep(*duration).await;
            Outcome::Respond(forward(&state, Request::from_parts(parts, body)).await)
        }
        Some(Action::Respond {
            status,
            headers,
            body,
        }) => {
            let mut resp = Response::new(Full::new(body.clone()));
            *resp.status_mut() = *status;
            *resp.headers_mut() = headers.clone();
            Outcome::Respond(resp)
        }
        Some(Action::Redirect { status, location }) => {
            let pq = parts.uri.path_and_query().map_or("/", PathAndQuery::as_str);
            let location = redirect_location(location, pq);
            let mut resp = Response::new(Full::default());
            *resp.status_mut() = *status;
            // Valid: the rule's location was checked, and a URI's path and
            // query are visible ASCII.
            let value = HeaderValue::from_str(&location).expect("valid Location");
            resp.headers_mut().insert(LOCATION, value);
            Outcome::Respond(resp)
        }
        Some(Action::CloseMidResponse { status, raw }) => Outcome::Hijack {
            raw: raw.to_vec(),
            status: Some(status.as_u16()),
        },
        Some(Action::Close) => Outcome::Hijack {
            raw: Vec::new(),
            status: None,
        },
        Some(Action::DropResponse) => {
            let resp = forward(&state, Request::from_parts(parts, body)).await;
            Outcome::Hijack {
                raw: Vec::new(),
                status: Some(resp.status().as_u16()),
            }
        }
    };

    match outcome {
        Outcome::Respond(resp) => {
            state.log.set_status(seq, resp.status().as_u16());
            Ok(resp)
        }
        Outcome::Hijack { raw, status } => {
            if let Some(status) = status {
                state.log.set_status(seq, status);
            }
            // hyper serves one request at a time per connection, so the
            // sender is always there; the connection task drops this future.
            if let Some(tx) = hijack.lock().unwrap().take() {
                let _ = tx.send(raw);
            }
            std::future::pending().await
        }
    }
}

/// Forwards a request upstream unchanged (except for the URI's origin) and
/// buffers the answer.
async fn forward(state: &State, req: Request<Bytes>) -> Response<Body> {
    let Some((scheme, authority)) = &state.upstream else {
        return error(StatusCode::BAD_GATEWAY, "no upstream");
    };
    let (mut parts, body) = req.into_parts();
    let pq = parts.uri.path_and_query().cloned();
    parts.uri = Uri::builder()
        .scheme(scheme.clone())
        .authority(authority.clone())
        .path_and_query(pq.unwrap_or_else(|| PathAndQuery::from_static("/")))
        .build()
        .expect("origin plus a parsed path is a valid URI");
    // The client keeps the Host header the client sent (it only adds one
    // when missing) and the header-case map that hyper put in `extensions`.
    let resp = match state
        .client
        .request(Request::from_parts(parts, Full::new(body)))
        .await
    {
        Ok(resp) => resp,
        Err(e) => return error(StatusCode::BAD_GATEWAY, &format!("upstream: {}", chain(&e))),
    };
    let (parts, body) = resp.into_parts();
    match body.collect().await {
        // Framing headers stay consistent: the body is the same bytes, so an
        // upstream Content-Length is still right, and an upstream
        // `Transfer-Encoding: chunked` makes hyper re-chunk it.
        Ok(body) => {
            let mut resp = Response::from_parts(parts, Full::new(body.to_bytes()));
            // An intermediary speaks its own protocol version to the client
            // (hyper then matches the client's); don't relay an upstream's.
            *resp.version_mut() = Version::HTTP_11;
            resp
        }
        Err(e) => error(StatusCode::BAD_GATEWAY, &format!("upstream body: {e}")),
    }
}

/// The control API under `/__proxy/`. Never forwarded, never logged.
async fn control(state: &State, req: Request<Incoming>) -> Response<Body> {
    let endpoint = &req.uri().path()[CONTROL_PREFIX.len()..];
    match (req.method(), endpoint) {
        (&Method::GET, "health") => json_response(StatusCode::OK, &json!({ "ok": true })),
        (&Method::POST, "rules") => {
            let body = match req.into_body().collect().await {
                Ok(b) => b.to_bytes(),
                Err(e) => return error(StatusCode::BAD_REQUEST, &format!("reading body: {e}")),
            };
            let spec: RuleSpec = match serde_json::from_slice(&body) {
                Ok(spec) => spec,
                Err(e) => return error(StatusCode::BAD_REQUEST, &format!("invalid rule: {e}")),
            };
            match state.rules.add(spec) {
                Ok(id) => json_response(StatusCode::OK, &json!({ "id": id })),
                Err(e) => error(StatusCode::BAD_REQUEST, &format!("invalid rule: {e}")),
            }
        }
        (&Method::GET, "rules") => json_response(StatusCode::OK, &state.rules.to_json()),
        (&Method::DELETE, "rules") => {
            state.rules.clear();
            json_response(StatusCode::OK, &json!({ "ok": true }))
        }
        (&Method::GET, "requests") => json_response(StatusCode::OK, &state.log.to_json()),
        (&Method::DELETE, "requests") => {
            state.log.clear();
            json_response(StatusCode::OK, &json!({ "ok": true }))
        }
        (_, "health" | "rules" | "requests") => {
            error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
        }
        _ => error(StatusCode::NOT_FOUND, "unknown control endpoint"),
    }
}

fn json_response(status: StatusCode, value: &Value) -> Response<Body> {
    let mut resp = Response::new(Full::new(Bytes::from(value.to_string())));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// An error and its sources, `: `-separated (hyper's own messages are terse,
/// e.g. "client error (Connect)", with the cause in the source).
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        source = cause.source();
    }
    s
}

/// A Vault-style error body: `{"errors":["fault-proxy: …"]}`.
fn error(status: StatusCode, message: &str) -> Response<Body> {
    json_response(
        status,
        &json!({ "errors": [format!("fault-proxy: {message}")] }),
    )
}

#[cfg(test)]
mod tests {
    use super::parse_upstream;

    #[test]
    fn upstream_must_be_an_http_origin() {
        for ok in [
            "http://127.0.0.1:8200",
            "http://127.0.0.1:8200/",
            "http://vault",
        ] {
            assert!(parse_upstream(ok).is_ok(), "{ok}");
        }
        for bad in [
            "https://vault:8200",
            "http://vault/v1",
            "127.0.0.1:8200",
            "http://h/?q",
        ] {
            assert!(parse_upstream(bad).is_err(), "{bad}");
        }
    }
}
