//! JSON values into JS exactly as `JSON.parse` would give them. napi's own conversions turn every
//! positive integer from 2^32 up into a `BigInt` (serde_json keeps positive integers as `u64`),
//! which `JSON.stringify` and arithmetic refuse; here every JSON number becomes a JS number (a
//! double: integers above 2^53 lose precision, as with `JSON.parse`).

use napi::bindgen_prelude::*;
use serde::Serialize;
use serde_json::Value;

/// A JSON value on its way to JS (see the module doc).
pub struct JsonForJs(pub Value);

impl ToNapiValue for JsonForJs {
    unsafe fn to_napi_value(raw_env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        // SAFETY (every call below): `raw_env` is the live environment napi passed to this
        // conversion, and every value handed on was created in it.
        match val.0 {
            Value::Null => unsafe { Null::to_napi_value(raw_env, Null) },
            Value::Bool(b) => unsafe { bool::to_napi_value(raw_env, b) },
            Value::Number(n) => unsafe {
                f64::to_napi_value(raw_env, n.as_f64().unwrap_or(f64::NAN))
            },
            Value::String(s) => unsafe { String::to_napi_value(raw_env, s) },
            Value::Array(items) => {
                let items: Vec<JsonForJs> = items.into_iter().map(JsonForJs).collect();
                unsafe { Vec::<JsonForJs>::to_napi_value(raw_env, items) }
            }
            Value::Object(map) => {
                let env = Env::from_raw(raw_env);
                let mut object = Object::new(&env)?;
                for (key, value) in map {
                    object.set(key, JsonForJs(value))?;
                }
                unsafe { Object::to_napi_value(raw_env, object) }
            }
        }
    }
}

/// Any serializable value as a JS value, numbers as `JSON.parse` gives them.
pub fn to_js<'env, T: Serialize + ?Sized>(env: &'env Env, value: &T) -> Result<Unknown<'env>> {
    let value = serde_json::to_value(value)
        .map_err(|e| Error::from_reason(format!("cannot convert a result to a JS value: {e}")))?;
    // SAFETY: `env` is the current, live environment.
    let raw = unsafe { JsonForJs::to_napi_value(env.raw(), JsonForJs(value))? };
    Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), raw) })
}
