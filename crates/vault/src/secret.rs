//! Secret values inside the core. A KV secret is a JSON object; it lives in a [`SecretData`], whose
//! strings are wiped on drop and which prints as `[REDACTED]`. The value leaves only through
//! `expose_secret()`, which callers use where the user explicitly asked for it.

use secrecy::{ExposeSecret, SecretBox};
use serde::Deserialize;
use serde_json::{Map, Value};
use zeroize::Zeroize;

/// A JSON value whose strings are zeroized when it is dropped.
///
/// Numbers and booleans cannot be wiped in place by serde_json; object keys are field names, not
/// secrets. Every string value, at any depth, is overwritten.
#[derive(Clone, Default, PartialEq)]
pub struct ZeroizingJson(pub Value);

impl Zeroize for ZeroizingJson {
    fn zeroize(&mut self) {
        wipe(&mut self.0);
        self.0 = Value::Null;
    }
}

fn wipe(value: &mut Value) {
    match value {
        Value::String(s) => s.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(wipe),
        Value::Object(map) => map.values_mut().for_each(wipe),
        _ => {}
    }
}

/// The data of one secret: a JSON object, redacted in `Debug`, wiped on drop.
pub struct SecretData(SecretBox<ZeroizingJson>);

impl SecretData {
    /// Wraps an object. Anything but an object is refused, because Vault stores maps.
    pub fn from_object(map: Map<String, Value>) -> Self {
        SecretData(SecretBox::new(Box::new(ZeroizingJson(Value::Object(map)))))
    }

    /// Wraps a value that must be a JSON object; `what` names it in the error.
    pub fn try_from_value(value: Value, what: &str) -> crate::Result<Self> {
        match value {
            Value::Object(map) => Ok(Self::from_object(map)),
            other => {
                let kind = json_kind(&other);
                let mut other = ZeroizingJson(other);
                other.zeroize();
                Err(crate::VaultError::invalid_argument(format!(
                    "{what} must be an object of fields, got {kind}"
                )))
            }
        }
    }

    /// The secret's JSON object. Call only where the caller asked for the value.
    pub fn expose_secret(&self) -> &Value {
        &self.0.expose_secret().0
    }

    /// Field names, which are not secret.
    pub fn keys(&self) -> Vec<String> {
        match self.expose_secret() {
            Value::Object(map) => map.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }
}

impl Clone for SecretData {
    fn clone(&self) -> Self {
        SecretData(SecretBox::new(Box::new(self.0.expose_secret().clone())))
    }
}

impl std::fmt::Debug for SecretData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretData([REDACTED])")
    }
}

impl<'de> Deserialize<'de> for SecretData {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Map::<String, Value>::deserialize(d).map(SecretData::from_object)
    }
}

/// The JSON type name of a value, for error messages that must not print the value.
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn debug_is_redacted() {
        let Value::Object(map) = json!({"apiKey": "sk-very-secret"}) else {
            unreachable!()
        };
        let data = SecretData::from_object(map);
        let shown = format!("{data:?}");
        assert!(!shown.contains("sk-very-secret"), "{shown}");
        assert!(shown.contains("REDACTED"));
    }

    #[test]
    fn zeroize_wipes_nested_strings() {
        let mut v = ZeroizingJson(json!({"a": "one", "b": {"c": ["two", 3]}}));
        let mut found = Vec::new();
        fn collect(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::String(s) => out.push(s.clone()),
                Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
                Value::Object(m) => m.values().for_each(|x| collect(x, out)),
                _ => {}
            }
        }
        wipe(&mut v.0);
        collect(&v.0, &mut found);
        // zeroize() on a String clears it: every string is empty afterwards.
        assert!(found.iter().all(|s| s.is_empty()), "{found:?}");
        v.zeroize();
        assert_eq!(v.0, Value::Null);
    }

    #[test]
    fn non_object_is_refused_without_the_value() {
        let err = SecretData::try_from_value(json!("hunter2"), "data").unwrap_err();
        assert_eq!(err.code(), "INVALID_ARGUMENT");
        assert!(!err.message.contains("hunter2"));
        assert!(err.message.contains("a string"));
    }
}
