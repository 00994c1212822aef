//! JS arguments. Exported functions take each argument as `Unknown` and convert it here, so a
//! value of the wrong type (or a missing one) becomes a `VaultError` with code
//! `INVALID_ARGUMENT` naming the argument or option, never napi's plain `Error`. Async functions
//! reject with it (`reject`), constructors and sync functions throw it. The message never quotes
//! the value: it can be a secret.

use napi::bindgen_prelude::*;
use vault_client::VaultError;

/// Converts the JS argument `name` to `T`. `expected` completes "argument `name` must be ...",
/// e.g. `"a string"`. For a `#[napi(object)]` options type, a bad field is named as
/// "option `timeoutMs`" (nested: "option `auth.method`").
pub fn arg<T: FromNapiValue>(
    value: Unknown,
    name: &str,
    expected: &str,
) -> std::result::Result<T, VaultError> {
    // SAFETY: `value` is a live handle of the current call's scope.
    unsafe { T::from_napi_value(value.value().env, value.raw()) }
        .map_err(|e| VaultError::invalid_argument(describe(&e.reason, name, expected)))
}

/// A `#[napi(object)]` argument: anything but an object is an error naming `name` (napi would
/// read a number's missing properties as all unset), a bad field is named as in [`arg`].
pub fn object<T: FromNapiValue>(value: Unknown, name: &str) -> std::result::Result<T, VaultError> {
    match value.get_type() {
        Ok(ValueType::Object) => arg(value, name, "an object"),
        _ => Err(VaultError::invalid_argument(format!(
            "argument `{name}` must be an object"
        ))),
    }
}

/// An optional `#[napi(object)]` argument: `undefined` and `null` are none, else as [`object`].
pub fn optional<T: FromNapiValue>(
    value: Option<Unknown>,
    name: &str,
) -> std::result::Result<Option<T>, VaultError> {
    match value {
        None => Ok(None),
        Some(v) => match v.get_type() {
            Ok(ValueType::Undefined | ValueType::Null) => Ok(None),
            _ => object(v, name).map(Some),
        },
    }
}

/// An optional options object: `undefined` and `null` are none, anything but an object is an
/// error naming `name`.
pub fn optional_object<'env>(
    value: Option<Unknown<'env>>,
    name: &str,
) -> std::result::Result<Option<Object<'env>>, VaultError> {
    let Some(value) = value else { return Ok(None) };
    match value.get_type() {
        Ok(ValueType::Undefined | ValueType::Null) => Ok(None),
        Ok(ValueType::Object) => arg(value, name, "an object").map(Some),
        _ => Err(VaultError::invalid_argument(format!(
            "argument `{name}` must be an object"
        ))),
    }
}

/// A function argument: anything else is an error naming `name`.
pub fn function<T: FromNapiValue>(
    value: Unknown,
    name: &str,
) -> std::result::Result<T, VaultError> {
    match value.get_type() {
        Ok(ValueType::Function) => arg(value, name, "a function"),
        _ => Err(VaultError::invalid_argument(format!(
            "argument `{name}` must be a function"
        ))),
    }
}

/// The message for napi's conversion error `reason`, keeping only what names the field:
/// "Missing field `x`" and the " on Struct.field" suffixes napi-derive appends.
fn describe(reason: &str, name: &str, expected: &str) -> String {
    let mut rest = reason;
    let mut fields = Vec::new();
    while let Some(i) = rest.rfind(" on ") {
        let tail = &rest[i + 4..];
        match tail.split_once('.') {
            Some((ty, field))
                if is_ident(ty)
                    && is_ident(field)
                    && ty.starts_with(|c: char| c.is_ascii_uppercase()) =>
            {
                fields.push(field.to_string());
                rest = &rest[..i];
            }
            _ => break,
        }
    }
    // Scanning from the end gives the outermost field first, as a JS path reads.
    let missing = rest
        .strip_prefix("Missing field `")
        .and_then(|r| r.strip_suffix('`'))
        .filter(|f| is_ident(f));
    if let Some(field) = missing {
        fields.push(field.to_string());
    }
    if fields.is_empty() {
        return format!("argument `{name}` must be {expected}");
    }
    let path = fields.join(".");
    if missing.is_some() {
        format!("option `{path}` of argument `{name}` is required")
    } else {
        format!("option `{path}` of argument `{name}` has the wrong type")
    }
}

fn is_ident(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A promise rejected with `err`: how an async function reports a bad argument.
pub fn reject<'env, E>(env: &'env Env, err: E) -> Result<PromiseRaw<'env, Unknown<'env>>>
where
    E: Clone + Into<openclaw_credentials::Error> + Send + 'static,
{
    super::error::spawn(env, async move { Err::<(), _>(err) }, |env, ()| {
        env.to_js_value(&())
    })
}

/// `take!(env, arg(...))`: the converted value, or return a rejected promise from the function.
macro_rules! take {
    ($env:expr, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(err) => return $crate::args::reject($env, err),
        }
    };
}
pub(crate) use take;

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn names_the_argument_or_field_and_never_the_value() {
        let secret = "sk-live-canary";
        assert_eq!(
            describe(
                &format!(
                    "Failed to convert JavaScript value `String \"{secret}\"` into rust type `f64`"
                ),
                "path",
                "a string"
            ),
            "argument `path` must be a string"
        );
        assert_eq!(
            describe("Missing field `addr`", "options", "an object"),
            "option `addr` of argument `options` is required"
        );
        let m = describe(
            &format!("Failed to convert JavaScript value `String \"{secret}\" ` into rust type `f64` on VaultClientOptions.timeoutMs"),
            "options",
            "an object",
        );
        assert_eq!(
            m,
            "option `timeoutMs` of argument `options` has the wrong type"
        );
        assert_eq!(
            describe(
                "Missing field `method` on VaultClientOptions.auth",
                "options",
                "an object"
            ),
            "option `auth.method` of argument `options` is required"
        );
        assert_eq!(
            describe(
                "bad on AuthOptions.roleId on VaultClientOptions.auth",
                "options",
                "an object"
            ),
            "option `auth.roleId` of argument `options` has the wrong type"
        );
    }
}
