//! The log of every non-control request, served at `GET /__proxy/requests`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use hyper::http::request::Parts;
use serde::Serialize;

/// Headers whose values are replaced by this in the log, so a test can see
/// that a token was sent without the log holding it.
const REDACTED_HEADERS: [&str; 2] = ["x-vault-token", "authorization"];
const REDACTED: &str = "<redacted>";

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    #[serde(skip)]
    seq: u64,
    pub method: String,
    pub path: String,
    /// The raw query string without `?`; null when the URI had none.
    pub query: Option<String>,
    /// Lower-cased names; repeated headers joined with ", ".
    pub headers: BTreeMap<String, String>,
    pub body_len: usize,
    /// Id of the rule that matched, or null when forwarded untouched.
    pub rule: Option<u64>,
    /// The matched rule's action `type`, or null.
    pub action: Option<&'static str>,
    /// Status answered (for `close_mid_response`, the status line that was
    /// sent); null while still in flight or when the connection was closed
    /// without a status line.
    pub status: Option<u16>,
}

impl Entry {
    pub fn new(parts: &Parts, body_len: usize) -> Entry {
        let mut headers = BTreeMap::<String, String>::new();
        for (name, value) in &parts.headers {
            let value = if REDACTED_HEADERS.contains(&name.as_str()) {
                REDACTED.into()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            headers
                .entry(name.as_str().to_owned())
                .and_modify(|v| {
                    v.push_str(", ");
                    v.push_str(&value);
                })
                .or_insert(value);
        }
        Entry {
            seq: 0,
            method: parts.method.to_string(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().map(str::to_owned),
            headers,
            body_len,
            rule: None,
            action: None,
            status: None,
        }
    }
}

#[derive(Default)]
pub struct Log {
    inner: Mutex<LogInner>,
}

#[derive(Default)]
struct LogInner {
    next_seq: u64,
    entries: Vec<Entry>,
}

impl Log {
    /// Appends an entry; returns a handle for [`Log::set_status`].
    pub fn push(&self, mut entry: Entry) -> u64 {
        let mut inner = self.inner.lock().unwrap();
        entry.seq = inner.next_seq;
        inner.next_seq += 1;
        inner.entries.push(entry);
        inner.next_seq - 1
    }

    /// Records the answer of an earlier entry (a no-op if the log was cleared
    /// in between).
    pub fn set_status(&self, seq: u64, status: u16) {
        let mut inner = self.inner.lock().unwrap();
        // Entries are in `seq` order.
        if let Ok(i) = inner.entries.binary_search_by_key(&seq, |e| e.seq) {
            inner.entries[i].status = Some(status);
        }
    }

    pub fn clear(&self) {
        self.inner.lock().unwrap().entries.clear();
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.inner.lock().unwrap().entries).expect("log serializes")
    }
}
