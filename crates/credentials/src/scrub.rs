//! The one scrub for every parser error of this crate: what a parser said, without what it read.
//!
//! serde, JSON5 and dotenv errors quote their input (`invalid type: string "sk-...", expected a
//! map`, a dotenv line), and the input of this crate is credential files, OpenClaw's config,
//! keychain items, stdin, the migration journal and SQLite rows: any of it can be a secret. Every
//! parse whose error can reach a message, a log line or an audit line goes through [`scrub`]:
//!
//! ```ignore
//! let value: Value = serde_json::from_str(text).map_err(|e| {
//!     let s = crate::scrub::scrub(&e);
//!     Error::new(ErrorCode::InvalidSource, format!("{where}: is not valid JSON ({s})"))
//! })?;
//! ```
//!
//! JSON errors go through the Vault client's [`vault_client::error::scrub_json_error`] (the same
//! rules for Vault's answers and for local input); JSON5 keeps only the crate's error code and
//! position; dotenv only the kind of failure.

use std::fmt;

/// A parser error with nothing of the input left: what went wrong and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scrubbed {
    /// What the parser said, with every quoted piece of input cut out (`not valid JSON: expected
    /// value`, `the wrong shape: invalid type, expected a string`, `missing field `name``).
    pub detail: String,
    /// 1-based line, 0 when the parser gives none (a `serde_json::Value` converted to a type).
    pub line: usize,
    /// 1-based column (serde's column of the end of input can be 0), meaningful when `line > 0`.
    pub column: usize,
}

impl fmt::Display for Scrubbed {
    /// `<detail> (line L, column C)`, or `<detail>` without a position.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{} (line {}, column {})",
                self.detail, self.line, self.column
            )
        } else {
            f.write_str(&self.detail)
        }
    }
}

/// A parser's error that [`scrub`] knows how to clean.
pub trait ParserError {
    /// This error without any of its input.
    fn scrubbed(&self) -> Scrubbed;
}

/// `e` without any of the input it quotes.
pub fn scrub<E: ParserError + ?Sized>(e: &E) -> Scrubbed {
    e.scrubbed()
}

/// At most this many characters of another program's stderr go into an error message.
pub const STDERR_EXCERPT_CHARS: usize = 600;

/// At most this many (non-blank) lines of another program's stderr go into an error message.
pub const STDERR_EXCERPT_LINES: usize = 8;

/// The end of another program's stderr (the `openclaw` CLI's), fit for an error message, and
/// `""` when it said nothing:
/// - `redact` runs on the whole text first, so a cut can never split a value it knows;
/// - terminal escapes and control characters are removed, blank lines dropped;
/// - every word shaped like a token (16 or more characters of letters, digits and `-_.+=:~`
///   holding both letters and digits, no `/`, so paths survive; an AWS access key id is 20)
///   becomes `[hidden]`: the program may print a value this process never knew;
/// - the last [`STDERR_EXCERPT_LINES`] lines, joined with ` / `, then at most
///   [`STDERR_EXCERPT_CHARS`] characters, cut at the front at a word boundary and marked `…`.
pub fn stderr_excerpt(text: &str, redact: &dyn Fn(&str) -> String) -> String {
    let redacted = redact(text);
    let plain = strip_terminal_escapes(&redacted);
    let lines: Vec<String> = plain
        .lines()
        .map(|l| {
            l.split_whitespace()
                .map(hide_token)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|l| !l.is_empty())
        .collect();
    let start = lines.len().saturating_sub(STDERR_EXCERPT_LINES);
    let joined = lines[start..].join(" / ");
    let count = joined.chars().count();
    if count <= STDERR_EXCERPT_CHARS {
        return joined;
    }
    let tail: String = joined.chars().skip(count - STDERR_EXCERPT_CHARS).collect();
    // Whole words only: the first (cut) word goes.
    let tail = tail.split_once(' ').map_or(tail.as_str(), |(_, rest)| rest);
    format!("… {tail}")
}

/// `word`, or `[hidden]` when it is shaped like a token (see [`stderr_excerpt`]).
fn hide_token(word: &str) -> &str {
    let core = word.trim_matches(|c: char| "\"'`()[]{}<>,;".contains(c));
    if looks_like_a_token(core) {
        "[hidden]"
    } else {
        word
    }
}

/// True when `text` is shaped like a token rather than a name: 16 or more characters of
/// letters, digits and `-_.+=:~`, holding both letters and digits, no `/` and no space (an AWS
/// access key id is 20; `sk-...`, `ghp_...`, JWTs and Vault tokens all are). Credential names
/// such as `openai`, `openai:work`, `store/MY_SECRET` or `agents/bob/openai` are not. Used to
/// keep a secret pasted where a name was expected out of messages, logs and the audit log.
pub fn looks_like_a_token(text: &str) -> bool {
    let token_chars = |c: char| c.is_ascii_alphanumeric() || "-_.+=:~".contains(c);
    text.chars().count() >= 16
        && text.chars().all(token_chars)
        && text.chars().any(|c| c.is_ascii_alphabetic())
        && text.chars().any(|c| c.is_ascii_digit())
}

/// What stands for a credential name shaped like a token in messages, logs and the audit log.
pub const HIDDEN_NAME: &str = "[name hidden: it looks like a secret]";

/// `name` as a message, a log line or the audit log may show it: itself, or [`HIDDEN_NAME`]
/// when it [`looks_like_a_token`] (a value pasted in its place).
pub fn shown_name(name: &str) -> &str {
    if looks_like_a_token(name) {
        HIDDEN_NAME
    } else {
        name
    }
}

/// `error` of a lookup of `name`, without `name` in its message or its per-source `errors`
/// when the name [`looks_like_a_token`] (each occurrence becomes [`HIDDEN_NAME`]; the code
/// and everything else are kept). A normal name is left as it is.
pub fn hide_name_in_error(mut error: crate::error::Error, name: &str) -> crate::error::Error {
    if !looks_like_a_token(name) {
        return error;
    }
    error.message = error.message.replace(name, HIDDEN_NAME);
    for e in &mut error.errors {
        *e = e.replace(name, HIDDEN_NAME);
    }
    // The API path holds the name percent-encoded (`:` as `%3A`).
    let encoded = name.replace(':', "%3A");
    if let Some(path) = &error.path {
        error.path = Some(
            path.replace(name, HIDDEN_NAME)
                .replace(&encoded, HIDDEN_NAME),
        );
    }
    error.message = error.message.replace(&encoded, HIDDEN_NAME);
    error
}

/// `text` without ANSI/VT escape sequences (CSI `ESC [ ... final`, OSC `ESC ] ... BEL|ESC \\`,
/// two-byte `ESC x`) and without control characters other than line breaks and tabs.
fn strip_terminal_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            match chars.next() {
                Some('[') => {
                    // Parameters and intermediates, then one final byte in @..~.
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' {
                            break;
                        }
                        if c == '\u{1b}' {
                            chars.next_if_eq(&'\\');
                            break;
                        }
                    }
                }
                _ => {}
            }
        } else if c == '\n' || c == '\t' || !c.is_control() {
            out.push(c);
        } else if c == '\r' {
            out.push('\n');
        }
    }
    out
}

impl ParserError for serde_json::Error {
    fn scrubbed(&self) -> Scrubbed {
        let text = vault_client::error::scrub_json_error(self);
        let at = format!(" (line {}, column {})", self.line(), self.column());
        let detail = match text.strip_suffix(&at) {
            Some(d) if self.line() > 0 => d.to_string(),
            _ => text,
        };
        Scrubbed {
            detail,
            line: self.line(),
            column: self.column(),
        }
    }
}

impl ParserError for json5::Error {
    fn scrubbed(&self) -> Scrubbed {
        // Only the crate's own codes: a custom message could quote the input.
        let detail = self
            .code()
            .map(|c| c.to_string())
            .unwrap_or_else(|| "invalid value".into());
        let (line, column) = self
            .position()
            .map(|p| (p.line + 1, p.column + 1))
            .unwrap_or((0, 0));
        Scrubbed {
            detail,
            line,
            column,
        }
    }
}

impl ParserError for dotenvy::Error {
    fn scrubbed(&self) -> Scrubbed {
        // `LineParse` holds the whole line (`KEY=value`), `EnvVar` the variable's value.
        let detail = match self {
            dotenvy::Error::LineParse(_, at) => {
                format!("a line that is not KEY=value (at character {at})")
            }
            dotenvy::Error::EnvVar(_) => "a ${...} substitution that cannot be read".to_string(),
            dotenvy::Error::Io(e) => format!("unreadable ({})", e.kind()),
            _ => "unreadable".to_string(),
        };
        Scrubbed {
            detail,
            line: 0,
            column: 0,
        }
    }
}

impl<E: ParserError> ParserError for serde_path_to_error::Error<E> {
    /// The inner error's scrub; the JSON path is left to the caller, who knows which of its
    /// segments are field names and which are keys of the input.
    fn scrubbed(&self) -> Scrubbed {
        self.inner().scrubbed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::Value;
    use std::collections::HashMap;

    const CANARY: &str = "sk-live-CANARY-5c8e";

    /// Inputs of every broken or wrong shape, each carrying the canary somewhere (a value, a
    /// key, a bare word, a number-like token, cut short inside a string).
    fn inputs() -> Vec<String> {
        let c = CANARY;
        let mut out = vec![
            c.to_string(),
            format!("\"{c}\""),
            format!("\"{c}"),
            format!("[\"{c}\""),
            format!("{{\"{c}\""),
            format!("{{\"{c}\": }}"),
            format!("{{\"a\": {c}}}"),
            format!("{{\"a\": \"{c}"),
            format!("{{\"a\": \"x\", {c}}}"),
            format!("{{\"a\": \"x\"}} {c}"),
            format!("{{a: '{c}'"),
            format!("{{a: {c}}}"),
            format!("// {c}\n{{a:"),
            format!("1{c}"),
            format!("{{\"a\": 1{c}}}"),
            format!("{{\"a\": \"\\{c}\"}}"),
        ];
        for key in ["name", "token", "expires", "list", "map", c] {
            for value in [
                format!("\"{c}\""),
                format!("[\"{c}\"]"),
                format!("{{\"{c}\": \"{c}\"}}"),
                format!("{{\"{c}\": [1, \"{c}\"]}}"),
                "12345678901234567890123".to_string(),
                "true".to_string(),
                "null".to_string(),
            ] {
                out.push(format!("{{\"{key}\": {value}}}"));
                out.push(format!("{{\"{key}\": {value}, \"{key}\": {value}}}"));
            }
        }
        out
    }

    #[allow(dead_code)] // read through serde only
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Shape {
        name: String,
        token: Option<u32>,
        expires: Option<i64>,
        list: Option<Vec<u8>>,
        map: Option<HashMap<String, bool>>,
    }

    fn check(parser: &str, input: &str, s: &Scrubbed, seen: &mut usize) {
        *seen += 1;
        let shown = s.to_string();
        assert!(!shown.contains("CANARY"), "{parser}: {input}: {shown}");
        assert!(!s.detail.is_empty(), "{parser}: {input}: nothing said");
    }

    #[test]
    fn no_parser_error_quotes_its_input() {
        let mut seen = 0;
        for input in inputs() {
            if let Err(e) = serde_json::from_str::<Value>(&input) {
                check("serde_json Value", &input, &scrub(&e), &mut seen);
            }
            if let Err(e) = serde_json::from_str::<Shape>(&input) {
                check("serde_json struct", &input, &scrub(&e), &mut seen);
            }
            if let Err(e) = serde_json::from_str::<HashMap<String, u8>>(&input) {
                check("serde_json map", &input, &scrub(&e), &mut seen);
            }
            if let Ok(value) = serde_json::from_str::<Value>(&input) {
                if let Err(e) = serde_path_to_error::deserialize::<_, Shape>(&value) {
                    check("serde_path_to_error", &input, &scrub(&e), &mut seen);
                }
            }
            if let Err(e) = json5::from_str::<Value>(&input) {
                check("json5 Value", &input, &scrub(&e), &mut seen);
            }
            if let Err(e) = json5::from_str::<Shape>(&input) {
                check("json5 struct", &input, &scrub(&e), &mut seen);
            }
            for line in [
                format!("{CANARY} = x"),
                format!("K='{CANARY}"),
                format!("K=\"{CANARY}"),
                format!("K={CANARY} ${{"),
                format!("'{CANARY}'=1"),
            ] {
                for item in dotenvy::from_read_iter(line.as_bytes()) {
                    if let Err(e) = item {
                        check("dotenvy", &line, &scrub(&e), &mut seen);
                    }
                }
            }
        }
        assert!(seen > 300, "the inputs should mostly fail ({seen} errors)");
    }

    #[test]
    fn a_stderr_excerpt_is_bounded_redacted_and_hides_tokens() {
        let known = "sk-proj-FAKE-known-value";
        let redact = |t: &str| t.replace(known, "[REDACTED]");
        // A known value, a token it never knew, colours and a path.
        let text = format!(
            "\u{1b}[31mSecrets apply failed:\u{1b}[39m key {known} rejected\r\n\n  token=hvs.{CANARY}0123456789abcdef in /home/u/.openclaw/openclaw.json\n"
        );
        let e = stderr_excerpt(&text, &redact);
        assert_eq!(
            e,
            "Secrets apply failed: key [REDACTED] rejected / [hidden] in /home/u/.openclaw/openclaw.json"
        );
        assert!(!e.contains("CANARY") && !e.contains("FAKE-known"), "{e}");
        // An AWS access key id (20 characters) the program printed on its own (attack 7, 10f);
        // a version and a short id survive.
        let e = stderr_excerpt(
            "rejected AKIAIOSFODNN7FAKE123 for openclaw 2026.9.6 (run abc123)",
            &redact,
        );
        assert_eq!(e, "rejected [hidden] for openclaw 2026.9.6 (run abc123)");
        // Long output: the last lines, cut at the front at a word boundary, within the bound.
        let long: String = (0..200)
            .map(|i| format!("line {i} says something\n"))
            .collect();
        let e = stderr_excerpt(&long, &|t| t.to_string());
        assert!(e.chars().count() <= STDERR_EXCERPT_CHARS + 2, "{}", e.len());
        assert!(e.ends_with("line 199 says something"), "{e}");
        assert!(
            !e.contains("line 191 "),
            "at most {STDERR_EXCERPT_LINES} lines: {e}"
        );
        let wide = format!("{} {CANARY}", "word ".repeat(400));
        let e = stderr_excerpt(&wide, &|t| t.to_string());
        assert!(e.starts_with("… word "), "{e}");
        assert!(e.chars().count() <= STDERR_EXCERPT_CHARS + 2);
        // A known value cut by the bound is still redacted: redaction runs first.
        let edge = format!("{known}{}", " x".repeat(STDERR_EXCERPT_CHARS / 2 - 5));
        assert!(!stderr_excerpt(&edge, &redact).contains("known-value"));
        assert_eq!(stderr_excerpt("\n \n", &redact), "");
    }

    #[test]
    fn a_scrub_keeps_what_was_expected_and_where() {
        let e = serde_json::from_str::<Shape>("{\"name\": 5}").unwrap_err();
        let s = scrub(&e);
        assert_eq!((s.line, s.column), (1, 10));
        assert!(s.detail.contains("expected a string"), "{s}");
        let e = serde_json::from_str::<Value>("{\"a\": \"x").unwrap_err();
        assert!(scrub(&e).detail.starts_with("cut short"), "{}", scrub(&e));
        let e = json5::from_str::<Value>("{a: }").unwrap_err();
        assert_eq!(scrub(&e).line, 1);
        let value: Value = serde_json::from_str("{\"token\": 1}").unwrap();
        let e = serde_path_to_error::deserialize::<_, Shape>(&value).unwrap_err();
        assert_eq!(
            scrub(&e).to_string(),
            "the wrong shape: missing field `name`"
        );
    }

    #[test]
    fn a_name_shaped_like_a_token_is_hidden_and_a_normal_name_is_not() {
        for name in [
            "openai",
            "openai:manual",
            "store/MY_SECRET",
            "agents/bob/openai",
            "openai@dotenv",
            "anthropic:default",
        ] {
            assert!(!looks_like_a_token(name), "{name}");
            assert_eq!(shown_name(name), name);
        }
        for pasted in [
            "sk-proj-FAKEpasted0123456789abcdef",
            "AKIAFAKE1234567890AB",
            "hvs.FAKEtoken0123456789",
            "123456:FAKEtelegramTOKEN01",
        ] {
            assert!(looks_like_a_token(pasted), "{pasted}");
            assert_eq!(shown_name(pasted), HIDDEN_NAME);
        }
        let pasted = "sk-proj-FAKEpasted0123456789abcdef";
        let mut e = crate::error::Error::new(
            crate::error::ErrorCode::CredentialNotFound,
            format!("credential \"{pasted}\" was not found in any source; tried: vault: not found"),
        );
        e.errors = vec![format!("vault: at secret/openclaw/credentials/{pasted}")];
        e.path = Some(format!("/v1/secret/data/openclaw/credentials/{pasted}"));
        let e = hide_name_in_error(e, pasted);
        assert_eq!(e.code(), "CREDENTIAL_NOT_FOUND");
        let all = format!("{} {:?} {:?}", e.message, e.errors, e.path);
        assert!(!all.contains(pasted), "{all}");
        assert!(e.message.contains(HIDDEN_NAME), "{}", e.message);
        let normal = crate::error::Error::new(
            crate::error::ErrorCode::CredentialNotFound,
            "credential \"openai\" was not found in any source",
        );
        assert_eq!(
            hide_name_in_error(normal, "openai").message,
            "credential \"openai\" was not found in any source"
        );
    }
}
