//! `openclaw-vault audit <log>`: who read which credential, and when, from a Vault file audit
//! device's log (`vault audit enable file file_path=...`: one JSON object per line, a
//! `request` and a `response` entry per request).
//!
//! Who is the token's identity as Vault logs it (`auth.entity_id`, `auth.display_name`,
//! `auth.metadata`: with `openclaw-vault setup`, one entity per gateway and agent); what is the
//! credential name and layer derived from `request.path` under the KV mount and prefix
//! (`<mount>/data/<prefix>/[agents/<id>/|teams/<t>/]credentials/<name>`, KV v1 without `data/`);
//! when is the first and last `time`. Only `response` entries are counted (one per request),
//! and only reads (`read` operations). Values never appear in the summary: it copies none of a
//! line's `request.data`/`response.data` (which Vault HMACs anyway).
//!
//! Memory is bounded whatever the log's size: the file is read line by line, a line longer than
//! [`MAX_LINE_BYTES`] is a bad line, and at most [`MAX_ROWS`] (reader, credential) rows are
//! kept (later new rows are counted in `dropped_rows`). A line that is not a Vault audit entry
//! is reported by its number and a reason, never quoted (it may hold anything).

use std::collections::BTreeMap;
use std::io::BufRead;

use serde::Deserialize;

use crate::error::{Error, ErrorCode, Result};

/// The longest line read whole; a longer one is a bad line (and skipped to its end).
pub const MAX_LINE_BYTES: usize = 1024 * 1024;
/// The most (reader, credential) rows kept.
pub const MAX_ROWS: usize = 100_000;
/// The most bad lines listed (all are counted).
pub const MAX_BAD_LINES_LISTED: usize = 100;

/// Who read: the identity Vault logged for the token. Tokens of one entity (every login of an
/// AppRole identity) are one reader; a token without an entity (root, a token made with
/// `vault token create`) is a reader of its own, told apart by its accessor and policies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reader {
    /// `auth.entity_id` (`""` for a token without an entity, such as root).
    pub entity_id: String,
    /// `auth.display_name` (`approle`, `token`, `root`, ...).
    pub display_name: String,
    /// `auth.metadata` (`role_name`, ...), sorted.
    pub metadata: BTreeMap<String, String>,
    /// For a token without an entity: `auth.accessor` as logged (Vault HMACs it unless the
    /// device has `hmac_accessor=false`: `hmac-sha256:...`, the same for every line of one
    /// token). Empty for an entity.
    pub accessor: String,
    /// For a token without an entity: `auth.policies`, sorted. Empty for an entity.
    pub policies: Vec<String>,
}

/// What was read: a credential in a layer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Read {
    /// The credential name.
    pub credential: String,
    /// `default`, `team:<name>` or `agent:<id>`.
    pub layer: String,
}

/// Counts and times of one reader's reads of one credential.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Reads Vault answered.
    pub count: u64,
    /// Reads Vault refused (`permission denied`).
    pub denied: u64,
    /// Other failed reads (not found included).
    pub failed: u64,
    /// The earliest `time` seen (RFC 3339, as Vault wrote it).
    pub first: String,
    /// The latest `time` seen.
    pub last: String,
    // `first` and `last` as instants: RFC 3339 text does not sort (`02Z` after `02.1Z`).
    first_at: Option<std::time::SystemTime>,
    last_at: Option<std::time::SystemTime>,
}

/// `auth.metadata` keys whose values name an identity (AppRole's `role_name`, userpass's
/// `username`, Kubernetes' service account, a certificate's common name): shown. Any other
/// key's value (a JWT claim mapped into metadata, anything a plugin put there) may be anything
/// a login carried, so it is shown as [`OMITTED`].
pub const SHOWN_METADATA: &[&str] = &[
    "role_name",
    "role",
    "username",
    "service_account_name",
    "service_account_namespace",
    "common_name",
    "name",
];

/// The value shown for an `auth.metadata` key not in [`SHOWN_METADATA`].
pub const OMITTED: &str = "(omitted)";

/// A line that is not a Vault audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based.
    pub line: u64,
    /// Why (never the line's content).
    pub reason: &'static str,
}

/// The summary of one log.
#[derive(Debug, Default)]
pub struct Summary {
    /// Lines read.
    pub lines: u64,
    /// Per reader, per credential.
    pub reads: BTreeMap<Reader, BTreeMap<Read, ReadStats>>,
    /// The first [`MAX_BAD_LINES_LISTED`] bad lines.
    pub bad_lines: Vec<BadLine>,
    /// Every bad line, counted.
    pub bad_line_count: u64,
    /// New rows not kept because [`MAX_ROWS`] were.
    pub dropped_rows: u64,
    rows: usize,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    time: String,
    #[serde(default)]
    auth: Option<Auth>,
    request: Option<Request>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize, Default)]
struct Auth {
    #[serde(default)]
    entity_id: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    metadata: Option<BTreeMap<String, String>>,
    #[serde(default)]
    accessor: String,
    #[serde(default)]
    policies: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Request {
    #[serde(default)]
    operation: String,
    #[serde(default)]
    path: String,
}

/// The credential and layer `path` (a request path as Vault logs it, without `/v1/`) stands
/// for under `mount` and `prefix`, or `None` for any other path (metadata, lists, other
/// engines, `config/` and `leases/` entries).
pub fn credential_of_path(path: &str, mount: &str, prefix: &str) -> Option<Read> {
    credential_or_impossible(path, mount, prefix)?.ok()
}

/// [`credential_of_path`], telling apart a path that cannot have been a read of a credential
/// under the layout (`Some(Err(why))`): a `.`, `..` or empty segment, or an agent or team name
/// no layer can have (docs/layers.md's id rule), which only a hand-made line can hold.
fn credential_or_impossible(
    path: &str,
    mount: &str,
    prefix: &str,
) -> Option<std::result::Result<Read, &'static str>> {
    let mount = mount.trim_matches('/');
    let prefix = prefix.trim_matches('/');
    let rest = path.strip_prefix(mount)?.strip_prefix('/')?;
    let rest = rest.strip_prefix("data/").unwrap_or(rest);
    let rest = rest.strip_prefix(prefix)?.strip_prefix('/')?;
    if rest
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Some(Err("a request path with an empty, `.` or `..` segment"));
    }
    let (layer, rest) = if let Some(r) = rest.strip_prefix("agents/") {
        let (id, r) = r.split_once('/')?;
        if !crate::layers::is_valid_id(id) {
            return Some(Err("an agent id no layer can have"));
        }
        (format!("agent:{id}"), r)
    } else if let Some(r) = rest.strip_prefix("teams/") {
        let (t, r) = r.split_once('/')?;
        if !crate::layers::is_valid_id(t) {
            return Some(Err("a team name no layer can have"));
        }
        (format!("team:{t}"), r)
    } else {
        ("default".to_string(), rest)
    };
    let name = rest.strip_prefix("credentials/")?;
    (!name.is_empty()).then(|| {
        Ok(Read {
            credential: name.to_string(),
            layer,
        })
    })
}

/// Vault's `time` (RFC 3339 with nanoseconds, UTC: `2026-11-30T03:11:02.123456789Z`).
fn parse_time(text: &str) -> Option<std::time::SystemTime> {
    humantime::parse_rfc3339_weak(text.trim_end_matches('Z')).ok()
}

impl Summary {
    fn bad(&mut self, line: u64, reason: &'static str) {
        self.bad_line_count += 1;
        if self.bad_lines.len() < MAX_BAD_LINES_LISTED {
            self.bad_lines.push(BadLine { line, reason });
        }
    }

    fn add(&mut self, line_no: u64, line: &[u8], mount: &str, prefix: &str) {
        let entry: Entry = match serde_json::from_slice(line) {
            Ok(e) => e,
            // The parser's message can quote the line: only its kind is kept.
            Err(_) => return self.bad(line_no, "not a JSON object of a Vault audit entry"),
        };
        let Some(request) = entry.request else {
            return self.bad(line_no, "no `request` object");
        };
        if entry.kind != "response" || request.operation != "read" {
            return;
        }
        let read = match credential_or_impossible(&request.path, mount, prefix) {
            None => return,
            Some(Err(why)) => return self.bad(line_no, why),
            Some(Ok(read)) => read,
        };
        let Some(at) = parse_time(&entry.time) else {
            return self.bad(line_no, "a `time` that is not an RFC 3339 time");
        };
        let auth = entry.auth.unwrap_or_default();
        let metadata = auth
            .metadata
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| {
                let shown = SHOWN_METADATA.contains(&k.as_str());
                (k, if shown { v } else { OMITTED.to_string() })
            })
            .collect();
        let (accessor, policies) = if auth.entity_id.is_empty() {
            let mut policies = auth.policies.unwrap_or_default();
            policies.sort();
            (auth.accessor, policies)
        } else {
            (String::new(), Vec::new())
        };
        let reader = Reader {
            entity_id: auth.entity_id,
            display_name: auth.display_name,
            metadata,
            accessor,
            policies,
        };
        let known = self
            .reads
            .get(&reader)
            .is_some_and(|r| r.contains_key(&read));
        if !known {
            if self.rows >= MAX_ROWS {
                self.dropped_rows += 1;
                return;
            }
            self.rows += 1;
        }
        let stats = self
            .reads
            .entry(reader)
            .or_default()
            .entry(read)
            .or_default();
        match entry.error.as_deref() {
            None | Some("") => stats.count += 1,
            Some(e) if e.contains("permission denied") => stats.denied += 1,
            Some(_) => stats.failed += 1,
        }
        if stats.first_at.is_none_or(|first| at < first) {
            stats.first_at = Some(at);
            stats.first = entry.time.clone();
        }
        if stats.last_at.is_none_or(|last| at > last) {
            stats.last_at = Some(at);
            stats.last = entry.time;
        }
    }
}

/// Summarises the log read from `input` (see the module doc); `mount` and `prefix` are the
/// KV mount and folder the credentials live under. `INVALID_ARGUMENT` only when `input` cannot
/// be read; bad lines are in the summary.
pub fn summarise(mut input: impl BufRead, mount: &str, prefix: &str) -> Result<Summary> {
    let mut summary = Summary::default();
    let mut line = Vec::with_capacity(4096);
    loop {
        line.clear();
        let mut too_long = false;
        // Read up to the newline, never holding more than MAX_LINE_BYTES of it.
        let ended = loop {
            let buf = input.fill_buf().map_err(|e| {
                Error::new(
                    ErrorCode::SourceUnavailable,
                    format!("the audit log cannot be read: {e}"),
                )
            })?;
            if buf.is_empty() {
                break line.is_empty() && !too_long;
            }
            let (chunk, found) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (&buf[..i], Some(i + 1)),
                None => (buf, None),
            };
            if !too_long && line.len() + chunk.len() <= MAX_LINE_BYTES {
                line.extend_from_slice(chunk);
            } else {
                too_long = true;
                line.clear();
            }
            let used = found.unwrap_or(buf.len());
            input.consume(used);
            if found.is_some() {
                break false;
            }
        };
        if ended {
            break;
        }
        summary.lines += 1;
        let n = summary.lines;
        if too_long {
            summary.bad(n, "longer than 1 MiB");
        } else if !line.iter().all(|b| b.is_ascii_whitespace()) {
            summary.add(n, &line, mount, prefix);
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_credentials_and_layers() {
        let r =
            |p: &str| credential_of_path(p, "secret", "openclaw").map(|r| (r.layer, r.credential));
        assert_eq!(
            r("secret/data/openclaw/credentials/anthropic"),
            Some(("default".into(), "anthropic".into()))
        );
        assert_eq!(
            r("secret/data/openclaw/teams/core/credentials/a:b"),
            Some(("team:core".into(), "a:b".into()))
        );
        assert_eq!(
            r("secret/openclaw/agents/ops/credentials/x"),
            Some(("agent:ops".into(), "x".into()))
        );
        assert_eq!(r("secret/metadata/openclaw/credentials/x"), None);
        assert_eq!(r("secret/data/openclaw/config/encryption"), None);
        assert_eq!(r("other/data/openclaw/credentials/x"), None);
    }

    #[test]
    fn readers_without_an_entity_are_told_apart_by_accessor_and_policies() {
        let line = |accessor: &str, policies: &str, error: &str| {
            format!(
                "{{\"type\":\"response\",\"time\":\"2026-11-30T03:11:02.5Z\",\"auth\":{{\"display_name\":\"token\",\"accessor\":\"{accessor}\",\"policies\":[{policies}]}},\"request\":{{\"operation\":\"read\",\"path\":\"secret/data/openclaw/credentials/a\"}}{error}}}\n"
            )
        };
        let input = [
            line("hmac-sha256:aa", "\"root\"", ""),
            line(
                "hmac-sha256:bb",
                "\"default\",\"openclaw-agent-alice\"",
                ",\"error\":\"1 error occurred:\\n\\t* permission denied\\n\\n\"",
            ),
            line("hmac-sha256:aa", "\"root\"", ""),
        ]
        .concat();
        let s = summarise(input.as_bytes(), "secret", "openclaw").unwrap();
        assert!(s.bad_lines.is_empty(), "{:?}", s.bad_lines);
        let rows: Vec<(&str, &[String], u64, u64)> = s
            .reads
            .iter()
            .map(|(r, reads)| {
                let st = reads.values().next().unwrap();
                (
                    r.accessor.as_str(),
                    r.policies.as_slice(),
                    st.count,
                    st.denied,
                )
            })
            .collect();
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert_eq!(rows[0].0, "hmac-sha256:aa");
        assert_eq!((rows[0].2, rows[0].3), (2, 0));
        assert_eq!(rows[1].1, ["default", "openclaw-agent-alice"]);
        assert_eq!((rows[1].2, rows[1].3), (0, 1));
    }

    #[test]
    fn bad_lines_are_numbered_never_quoted_and_long_lines_bounded() {
        let long = "x".repeat(MAX_LINE_BYTES + 10);
        let input = format!(
            "{{\"type\":\"response\",\"time\":\"2026-11-30T03:11:02Z\",\"auth\":{{\"entity_id\":\"e1\"}},\"request\":{{\"operation\":\"read\",\"path\":\"secret/data/openclaw/credentials/a\"}}}}\nsk-secret-line\n{long}\n\n{{\"type\":\"response\"}}\n"
        );
        let s = summarise(input.as_bytes(), "secret", "openclaw").unwrap();
        assert_eq!(s.lines, 5);
        assert_eq!(
            s.bad_lines,
            vec![
                BadLine {
                    line: 2,
                    reason: "not a JSON object of a Vault audit entry"
                },
                BadLine {
                    line: 3,
                    reason: "longer than 1 MiB"
                },
                BadLine {
                    line: 5,
                    reason: "no `request` object"
                },
            ]
        );
        let (reader, reads) = s.reads.iter().next().unwrap();
        assert_eq!(reader.entity_id, "e1");
        assert_eq!(reads.values().next().unwrap().count, 1);
    }

    // A crafted log gave impossible rows: layer `agent:..`, a 500-character team, `not-a-time`
    // printed as the last time, and metadata values (`k=sk-META-VALUE`) printed as they were
    // (attack 9, finding 11). They are bad lines now, and unknown metadata values are omitted.
    #[test]
    fn impossible_rows_are_bad_lines_and_unknown_metadata_values_are_omitted() {
        let line = |time: &str, path: &str| {
            format!(
                "{{\"type\":\"response\",\"time\":\"{time}\",\"auth\":{{\"entity_id\":\"e1\",\"metadata\":{{\"role_name\":\"gw1\",\"k\":\"sk-META-VALUE\"}}}},\"request\":{{\"operation\":\"read\",\"path\":\"{path}\"}}}}\n"
            )
        };
        let ok = "secret/data/openclaw/credentials/a";
        let input = [
            line("2026-11-30T03:11:02.123Z", ok),
            line("2026-11-30T03:11:02Z", ok),
            line("2026-11-30T03:11:03Z", ok),
            line("not-a-time", ok),
            line(
                "2026-11-30T03:11:04Z",
                "secret/data/openclaw/agents/../credentials/x",
            ),
            line(
                "2026-11-30T03:11:04Z",
                &format!(
                    "secret/data/openclaw/teams/{}/credentials/x",
                    "t".repeat(500)
                ),
            ),
            line(
                "2026-11-30T03:11:04Z",
                "secret/data/openclaw/teams/Ops/credentials/x",
            ),
            line(
                "2026-11-30T03:11:04Z",
                "secret/data/openclaw//credentials/x",
            ),
        ]
        .concat();
        let s = summarise(input.as_bytes(), "secret", "openclaw").unwrap();
        let bad: Vec<(u64, &str)> = s.bad_lines.iter().map(|b| (b.line, b.reason)).collect();
        assert_eq!(
            bad,
            [
                (4, "a `time` that is not an RFC 3339 time"),
                (5, "a request path with an empty, `.` or `..` segment"),
                (6, "a team name no layer can have"),
                (7, "a team name no layer can have"),
                (8, "a request path with an empty, `.` or `..` segment"),
            ]
        );
        assert_eq!(s.reads.len(), 1);
        let (reader, reads) = s.reads.iter().next().unwrap();
        assert_eq!(reader.metadata["role_name"], "gw1");
        assert_eq!(reader.metadata["k"], OMITTED);
        assert_eq!(reads.len(), 1, "{reads:?}");
        let stats = reads.values().next().unwrap();
        assert_eq!(stats.count, 3);
        // By instant: `02Z` is before `02.123Z`, though it sorts after it as text.
        assert_eq!(stats.first, "2026-11-30T03:11:02Z");
        assert_eq!(stats.last, "2026-11-30T03:11:03Z");
    }
}
