//! JSON values into JS exactly as `JSON.parse` would give them. napi's own conversions turn every
//! positive integer from 2^32 up into a `BigInt` (serde_json keeps positive integers as `u64`),
//! which `JSON.stringify` and arithmetic refuse; here every JSON number becomes a JS number (a
//! double: integers above 2^53 lose precision, as with `JSON.parse`).
//!
//! Secret JSON is converted from a borrow ([`secret_to_js`]): no unwiped Rust copy of a secret is
//! made on the way (the JS strings themselves are, unavoidably, the caller's).

use napi::bindgen_prelude::*;
use serde::Serialize;
use serde_json::Value;

/// A borrowed JSON value on its way to JS (see the module doc).
pub struct JsonForJs<'a>(pub &'a Value);

impl ToNapiValue for JsonForJs<'_> {
    unsafe fn to_napi_value(raw_env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        // SAFETY (every call below): `raw_env` is the live environment napi passed to this
        // conversion, and every value handed on was created in it.
        match val.0 {
            Value::Null => unsafe { Null::to_napi_value(raw_env, Null) },
            Value::Bool(b) => unsafe { bool::to_napi_value(raw_env, *b) },
            Value::Number(n) => unsafe {
                f64::to_napi_value(raw_env, n.as_f64().unwrap_or(f64::NAN))
            },
            Value::String(s) => unsafe { <&str>::to_napi_value(raw_env, s.as_str()) },
            Value::Array(items) => {
                let env = Env::from_raw(raw_env);
                let mut array = env.create_array(items.len() as u32)?;
                for (i, item) in items.iter().enumerate() {
                    array.set(i as u32, JsonForJs(item))?;
                }
                unsafe { Array::to_napi_value(raw_env, array) }
            }
            Value::Object(map) => {
                let env = Env::from_raw(raw_env);
                let mut object = Object::new(&env)?;
                for (key, value) in map {
                    object.set(key.as_str(), JsonForJs(value))?;
                }
                unsafe { Object::to_napi_value(raw_env, object) }
            }
        }
    }
}

/// A JSON value that may hold secrets, converted from the borrow (no Rust copy).
pub fn secret_to_js<'env>(env: &'env Env, value: &Value) -> Result<Unknown<'env>> {
    // SAFETY: `env` is the current, live environment; the value was created in it.
    unsafe {
        let raw = JsonForJs::to_napi_value(env.raw(), JsonForJs(value))?;
        Ok(Unknown::from_raw_unchecked(env.raw(), raw))
    }
}

/// A serializable value that holds no secret (metadata, health, keys) as a JS value, numbers as
/// `JSON.parse` gives them. It goes through a `serde_json::Value` copy: never use it for secrets.
pub fn to_js<'env, T: Serialize + ?Sized>(env: &'env Env, value: &T) -> Result<Unknown<'env>> {
    let value = serde_json::to_value(value)
        .map_err(|e| Error::from_reason(format!("cannot convert a result to a JS value: {e}")))?;
    secret_to_js(env, &value)
}
