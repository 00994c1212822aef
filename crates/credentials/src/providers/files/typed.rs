//! The field types of credential files and the one place their errors are worded.
//!
//! Every type here says what it expected in serde's `expecting`, and every error passes through
//! [`typed`], which rebuilds the message from the file, the JSON path and the JSON *type* of what
//! was found: serde's own messages quote the value, and a value in a credential file is a secret.

use std::fmt;

use secrecy::SecretString;
use serde::de::{self, Deserialize, Deserializer, Unexpected, Visitor};
use serde_json::Value;

use crate::error::{Error, ErrorCode, Result};
use vault_client::secret::json_kind;

/// A non-empty JSON string holding a secret: wiped on drop, redacted in `Debug`.
#[derive(Debug, Clone)]
pub struct SecretText(pub SecretString);

impl<'de> Deserialize<'de> for SecretText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = SecretText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a non-empty string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<SecretText, E> {
                if s.is_empty() {
                    return Err(E::invalid_value(Unexpected::Str(""), &self));
                }
                Ok(SecretText(SecretString::from(s.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// A JSON string holding a secret that may be empty or null (both read as `None`), e.g. Codex's
/// `OPENAI_API_KEY` when logged in with ChatGPT. Use with `#[serde(default)]`.
#[derive(Debug, Clone, Default)]
pub struct OptionalSecretText(pub Option<SecretString>);

impl<'de> Deserialize<'de> for OptionalSecretText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = OptionalSecretText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or null")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<Self::Value, E> {
                Ok(OptionalSecretText(
                    (!s.is_empty()).then(|| SecretString::from(s.to_owned())),
                ))
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<Self::Value, E> {
                Ok(OptionalSecretText(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// A time as epoch milliseconds (a JSON number; fractions are dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochMs(pub i64);

/// A time as epoch seconds (a JSON number; fractions are dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochSeconds(pub i64);

impl<'de> Deserialize<'de> for EpochMs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(EpochNumber("epoch milliseconds (a number)"))
            .map(EpochMs)
    }
}

impl<'de> Deserialize<'de> for EpochSeconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(EpochNumber("epoch seconds (a number)"))
            .map(EpochSeconds)
    }
}

/// Reads a JSON number as a whole `i64`; its `.0` is what an error says was expected.
struct EpochNumber(&'static str);

impl Visitor<'_> for EpochNumber {
    type Value = i64;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.0)
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> std::result::Result<i64, E> {
        Ok(n)
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> std::result::Result<i64, E> {
        i64::try_from(n).map_err(|_| E::invalid_value(Unexpected::Unsigned(n), &self))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> std::result::Result<i64, E> {
        if n.is_finite() && n.abs() < 9.0e18 {
            Ok(n as i64)
        } else {
            Err(E::invalid_value(Unexpected::Float(n), &self))
        }
    }
}

/// Reads `value` (found at JSON path `base` in `what`, a file) as `T`. Errors are
/// `INVALID_SOURCE` and say `<what> at `<path>`: expected <x>, got <json type>`: serde's own
/// messages quote the value, so they are never passed on.
pub fn typed<'a, T: Deserialize<'a>>(value: &'a Value, what: &str, base: &str) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let mut path = base.to_string();
        let mut at = Some(value);
        for segment in err.path() {
            match segment {
                serde_path_to_error::Segment::Map { key } => {
                    path = json_path(&path, key);
                    at = at.and_then(|v| v.get(key));
                }
                serde_path_to_error::Segment::Seq { index } => {
                    path.push_str(&format!("[{index}]"));
                    at = at.and_then(|v| v.get(index));
                }
                serde_path_to_error::Segment::Enum { .. }
                | serde_path_to_error::Segment::Unknown => {}
            }
        }
        // serde's own text quotes the value; only the scrubbed one is read here.
        let inner = crate::scrub::scrub(&err).detail;
        let detail = if let Some((_, rest)) = inner.split_once("missing field `") {
            path = json_path(&path, rest.split('`').next().unwrap_or_default());
            "missing".to_string()
        } else if let Some(i) = inner.rfind(", expected ") {
            let got = match at {
                Some(Value::String(s)) if s.is_empty() => "an empty string",
                Some(v) => json_kind(v),
                None => "something else",
            };
            format!("expected {}, got {got}", &inner[i + ", expected ".len()..])
        } else {
            "does not have the expected layout".to_string()
        };
        invalid_source(at_path(what, &path, &detail))
    })
}

/// The JSON path of `key` inside the object at `parent` (`""` for the root), for messages.
pub fn json_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// `<what> at `<path>`: <detail>`, or `<what>: <detail>` for the root.
pub fn at_path(what: &str, path: &str, detail: &str) -> String {
    if path.is_empty() {
        format!("{what}: {detail}")
    } else {
        format!("{what} at `{path}`: {detail}")
    }
}

/// An `INVALID_SOURCE` error: a source holds something this package cannot use.
pub fn invalid_source(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidSource, message)
}
