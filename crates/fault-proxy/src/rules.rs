//! Fault rules: the JSON schema posted to `POST /__proxy/rules`, its
//! validation into a ready-to-run [`Action`], and the ordered rule list.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use hyper::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, StatusCode};
use regex::Regex;
use serde::{Deserialize, Serialize};

/// Largest body `oversized` and `close_mid_response` will produce (1 GiB),
/// so a typo cannot exhaust memory.
const MAX_BYTES: u64 = 1 << 30;

/// A rule as posted by a test. Unknown fields are rejected so that a typo
/// (say `time` for `times`) fails loudly instead of silently matching forever.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// HTTP method to match, case-insensitive; absent = any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Regex matched against the request path (no query string); absent = any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Applies to the next N matching requests; absent = forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
    pub action: ActionSpec,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ActionSpec {
    /// Answer without forwarding (an error, typically).
    Status(AnswerSpec),
    /// Same as `status`; the name documents a fixed success answer.
    Canned(AnswerSpec),
    /// Wait, then forward normally.
    Delay { ms: u64 },
    /// Status line and headers announcing more body than is sent, `bytes`
    /// bytes of body, then close. Nothing is forwarded upstream.
    CloseMidResponse {
        #[serde(default = "default_200")]
        status: u16,
        #[serde(default)]
        bytes: u64,
    },
    /// Close the connection without any response.
    Close,
    /// Forward the request upstream (so Vault runs it), then close the connection without
    /// sending the answer: a response lost on the way back.
    DropResponse,
    /// A valid JSON body of exactly `bytes` bytes.
    Oversized {
        bytes: u64,
        #[serde(default = "default_200")]
        status: u16,
    },
    /// Answer with a redirect to `location` (see [`redirect_location`]).
    Redirect {
        location: String,
        #[serde(default = "default_307")]
        status: u16,
    },
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerSpec {
    pub status: u16,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

fn default_200() -> u16 {
    200
}

fn default_307() -> u16 {
    307
}

impl ActionSpec {
    /// The `type` tag, as shown in the request log.
    pub fn name(&self) -> &'static str {
        match self {
            ActionSpec::Status(_) => "status",
            ActionSpec::Canned(_) => "canned",
            ActionSpec::Delay { .. } => "delay",
            ActionSpec::CloseMidResponse { .. } => "close_mid_response",
            ActionSpec::Close => "close",
            ActionSpec::DropResponse => "drop_response",
            ActionSpec::Oversized { .. } => "oversized",
            ActionSpec::Redirect { .. } => "redirect",
        }
    }
}

/// A validated action with everything precomputed (headers parsed, bodies
/// generated), so applying it per request is cheap.
#[derive(Debug)]
pub enum Action {
    /// `status`, `canned` and `oversized`: a complete response.
    Respond {
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
    },
    Delay(Duration),
    /// The raw bytes written before closing (the status is kept for the log).
    CloseMidResponse {
        status: StatusCode,
        raw: Bytes,
    },
    Close,
    DropResponse,
    Redirect {
        status: StatusCode,
        location: String,
    },
}

impl Action {
    fn compile(spec: &ActionSpec) -> Result<Action, String> {
        Ok(match spec {
            ActionSpec::Status(answer) | ActionSpec::Canned(answer) => {
                let mut headers = HeaderMap::new();
                for (name, value) in &answer.headers {
                    let name = HeaderName::from_bytes(name.as_bytes())
                        .map_err(|e| format!("header name {name:?}: {e}"))?;
                    let value = HeaderValue::from_str(value)
                        .map_err(|e| format!("header {name} value: {e}"))?;
                    headers.append(name, value);
                }
                if !headers.contains_key(CONTENT_TYPE) {
                    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                }
                let body = answer.body.as_deref().unwrap_or(r#"{"errors":[]}"#);
                Action::Respond {
                    status: status(answer.status)?,
                    headers,
                    body: Bytes::copy_from_slice(body.as_bytes()),
                }
            }
            ActionSpec::Delay { ms } => Action::Delay(Duration::from_millis(*ms)),
            ActionSpec::CloseMidResponse {
                status: code,
                bytes,
            } => {
                let status = status(*code)?;
                let sent = byte_count(*bytes)?;
                // Announce 1 KiB more than is sent; the announced body would
                // be the same padded JSON as `oversized` produces.
                let announced = sent + 1024;
                let mut raw = format!(
                    "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {announced}\r\n\r\n",
                    status.as_u16(),
                    status.canonical_reason().unwrap_or(""),
                )
                .into_bytes();
                raw.extend_from_slice(&padded_json(announced)[..sent]);
                Action::CloseMidResponse {
                    status,
                    raw: raw.into(),
                }
            }
            ActionSpec::Close => Action::Close,
            ActionSpec::DropResponse => Action::DropResponse,
            ActionSpec::Oversized {
                bytes,
                status: code,
            } => {
                let mut headers = HeaderMap::new();
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                Action::Respond {
                    status: status(*code)?,
                    headers,
                    body: padded_json(byte_count(*bytes)?).into(),
                }
            }
            ActionSpec::Redirect {
                location,
                status: code,
            } => {
                HeaderValue::from_str(location).map_err(|e| format!("location: {e}"))?;
                Action::Redirect {
                    status: status(*code)?,
                    location: location.clone(),
                }
            }
        })
    }
}

fn status(code: u16) -> Result<StatusCode, String> {
    StatusCode::from_u16(code).map_err(|_| format!("invalid status {code}"))
}

fn byte_count(bytes: u64) -> Result<usize, String> {
    if bytes > MAX_BYTES {
        return Err(format!("bytes {bytes} is over the limit of {MAX_BYTES}"));
    }
    Ok(bytes as usize)
}

/// `{"data":{"pad":"xxx…"}}` of exactly `len` bytes: one allocation and two
/// small copies. Below the 19 bytes of the empty document, a prefix of it
/// (not valid JSON).
pub fn padded_json(len: usize) -> Vec<u8> {
    const HEAD: &[u8] = br#"{"data":{"pad":""#;
    const TAIL: &[u8] = br#""}}"#;
    if len < HEAD.len() + TAIL.len() {
        return [HEAD, TAIL].concat()[..len].to_vec();
    }
    let mut body = vec![b'x'; len];
    body[..HEAD.len()].copy_from_slice(HEAD);
    body[len - TAIL.len()..].copy_from_slice(TAIL);
    body
}

/// The `Location` for a redirect rule, given the original request's path and
/// query (`/v1/x?y=1`). If `location` is a bare origin (`http://host:port`,
/// nothing after the authority) or ends with `/`, the original path and query
/// are appended (replacing that trailing `/`); otherwise it is used as is.
pub fn redirect_location(location: &str, path_and_query: &str) -> String {
    let bare_origin = location
        .split_once("://")
        .is_some_and(|(_, rest)| !rest.contains(['/', '?', '#']));
    if bare_origin {
        format!("{location}{path_and_query}")
    } else if let Some(base) = location.strip_suffix('/') {
        format!("{base}{path_and_query}")
    } else {
        location.to_owned()
    }
}

struct Rule {
    id: u64,
    spec: RuleSpec,
    /// Upper-cased.
    method: Option<String>,
    path: Option<Regex>,
    /// `None` = forever.
    remaining: Option<u64>,
    hits: u64,
    action: Arc<Action>,
}

impl Rule {
    fn matches(&self, method: &Method, path: &str) -> bool {
        self.remaining != Some(0)
            && self.method.as_deref().is_none_or(|m| m == method.as_str())
            && self.path.as_ref().is_none_or(|re| re.is_match(path))
    }
}

/// The rule that answered a request.
pub struct Matched {
    pub id: u64,
    pub name: &'static str,
    pub action: Arc<Action>,
}

/// Rules in insertion order. Ids start at 1 and are never reused, even after
/// the list is cleared, so an id in an old log entry stays unambiguous.
#[derive(Default)]
pub struct Rules {
    inner: Mutex<RulesInner>,
}

#[derive(Default)]
struct RulesInner {
    last_id: u64,
    list: Vec<Rule>,
}

impl Rules {
    /// Validates and appends a rule; returns its id.
    pub fn add(&self, spec: RuleSpec) -> Result<u64, String> {
        let action = Arc::new(Action::compile(&spec.action)?);
        let path = match &spec.path {
            Some(p) => Some(Regex::new(p).map_err(|e| format!("path regex: {e}"))?),
            None => None,
        };
        let method = spec.method.as_ref().map(|m| m.to_ascii_uppercase());
        let mut inner = self.inner.lock().unwrap();
        inner.last_id += 1;
        let id = inner.last_id;
        inner.list.push(Rule {
            id,
            remaining: spec.times,
            spec,
            method,
            path,
            hits: 0,
            action,
        });
        Ok(id)
    }

    pub fn clear(&self) {
        self.inner.lock().unwrap().list.clear();
    }

    /// Finds the first live rule matching the request and consumes one of
    /// its `times`.
    pub fn take_match(&self, method: &Method, path: &str) -> Option<Matched> {
        let mut inner = self.inner.lock().unwrap();
        let rule = inner.list.iter_mut().find(|r| r.matches(method, path))?;
        if let Some(n) = rule.remaining.as_mut() {
            *n -= 1;
        }
        rule.hits += 1;
        Some(Matched {
            id: rule.id,
            name: rule.spec.action.name(),
            action: rule.action.clone(),
        })
    }

    /// The rules as posted, with `id`, `remaining` (null = forever) and
    /// `hits` added.
    pub fn to_json(&self) -> serde_json::Value {
        let inner = self.inner.lock().unwrap();
        let rules = inner.list.iter().map(|r| {
            let mut v = serde_json::to_value(&r.spec).expect("rule spec serializes");
            v["id"] = r.id.into();
            v["remaining"] = r.remaining.into();
            v["hits"] = r.hits.into();
            v
        });
        serde_json::Value::Array(rules.collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_json_is_exact_and_valid() {
        for len in [19, 20, 1000] {
            let body = padded_json(len);
            assert_eq!(body.len(), len);
            serde_json::from_slice::<serde_json::Value>(&body).unwrap();
        }
        assert_eq!(padded_json(3), b"{\"d");
    }

    #[test]
    fn redirect_location_appends_only_to_origins_and_slashes() {
        let pq = "/v1/secret/data/foo?version=2";
        assert_eq!(
            redirect_location("http://127.0.0.1:1234", pq),
            "http://127.0.0.1:1234/v1/secret/data/foo?version=2"
        );
        assert_eq!(
            redirect_location("http://127.0.0.1:1234/", pq),
            "http://127.0.0.1:1234/v1/secret/data/foo?version=2"
        );
        assert_eq!(
            redirect_location("http://h/prefix/", pq),
            "http://h/prefix/v1/secret/data/foo?version=2"
        );
        assert_eq!(
            redirect_location("http://h/v1/other", pq),
            "http://h/v1/other"
        );
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let bad = r#"{"time":2,"action":{"type":"close"}}"#;
        assert!(serde_json::from_str::<RuleSpec>(bad).is_err());
        let bad = r#"{"action":{"type":"status","status":429,"bdy":"x"}}"#;
        assert!(serde_json::from_str::<RuleSpec>(bad).is_err());
        let bad = r#"{"action":{"type":"delay","ms":1,"extra":1}}"#;
        assert!(serde_json::from_str::<RuleSpec>(bad).is_err());
        let ok = r#"{"method":"get","times":1,"action":{"type":"canned","status":200}}"#;
        assert!(serde_json::from_str::<RuleSpec>(ok).is_ok());
    }
}
