//! `VaultError`: every rejection of this package. It is a real `Error` (stack, `instanceof Error`)
//! whose prototype is the exported `VaultError` class, built in JS so that `code` and the other
//! fields are own, enumerable properties.

use std::cell::RefCell;
use std::future::Future;
use std::mem::ManuallyDrop;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use openclaw_credentials::Error as CoreError;
use serde::Serialize;

/// The error every `VaultClient` method rejects with. `code` is stable (see `VaultErrorCode`);
/// `status`, `errors` and `requestId` are Vault's; `path` is the API path of the request. No
/// property ever holds a token or a secret value.
#[napi]
pub struct VaultError {}

#[napi]
impl VaultError {
    /// Errors are created by the client; constructing one directly is supported for tests and
    /// `instanceof` checks only.
    #[napi(constructor)]
    pub fn new() -> Self {
        VaultError {}
    }
}

/// Patches the exported class into an `Error` subclass and returns the factory that builds
/// instances: `Reflect.construct(Error, ...)` gives a true Error with a stack.
const SETUP: &str = r#"(function (VaultError) {
  Object.setPrototypeOf(VaultError.prototype, Error.prototype);
  Object.setPrototypeOf(VaultError, Error);
  Object.defineProperty(VaultError.prototype, 'name', { value: 'VaultError', writable: true, configurable: true });
  return function makeVaultError(message, propsJson) {
    const props = JSON.parse(propsJson);
    const err = Reflect.construct(Error, [message], VaultError);
    for (const key of Object.keys(props)) {
      Object.defineProperty(err, key, { value: props[key], enumerable: true, writable: true, configurable: true });
    }
    return err;
  };
})"#;

type MakeError = FunctionRef<FnArgs<(String, String)>, Unknown<'static>>;

thread_local! {
    // One Node environment per thread (main or worker). Never dropped: dropping a reference after
    // its environment is gone would touch a dead isolate.
    static MAKE_ERROR: RefCell<Option<ManuallyDrop<MakeError>>> = const { RefCell::new(None) };
}

/// Patches the exported `VaultError` class into an `Error` subclass and keeps the factory that
/// builds instances for this thread's Node environment. Called once by the module init.
pub fn install_error_class(exports: &Object, env: &Env) -> Result<()> {
    let class: Unknown = exports.get_named_property("VaultError")?;
    let setup: Function<Unknown, Function<FnArgs<(String, String)>, Unknown<'static>>> =
        env.run_script(SETUP)?;
    let make: MakeError = setup.call(class)?.create_ref()?;
    MAKE_ERROR.with(|slot| *slot.borrow_mut() = Some(ManuallyDrop::new(make)));
    Ok(())
}

/// Log lines to stderr (`OPENCLAW_VAULT_LOG`); the command line's own setup, shared with the
/// native executable.
pub fn init_logging() {
    openclaw_vault_cli::init_logging();
}

#[derive(Serialize)]
struct ErrorProps<'a> {
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    errors: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    #[serde(rename = "requestId", skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
}

/// The JS `VaultError` for a core error, as a `napi::Error` that rejects or throws that object.
pub fn to_js<E: Clone + Into<CoreError>>(env: &Env, err: &E) -> Error {
    match build(env, &err.clone().into()) {
        Ok(value) => Error::from(value),
        Err(e) => e,
    }
}

/// The JS `VaultError` object for a core error, as a value (for callback arguments).
pub fn error_value<'env, E: Clone + Into<CoreError>>(
    env: &'env Env,
    err: &E,
) -> Result<Unknown<'env>> {
    build(env, &err.clone().into())
}

fn build<'env>(env: &'env Env, err: &CoreError) -> Result<Unknown<'env>> {
    let props = serde_json::to_string(&ErrorProps {
        code: err.code(),
        status: err.status,
        errors: &err.errors,
        path: err.path.as_deref(),
        request_id: err.request_id.as_deref(),
    })
    .map_err(|e| Error::from_reason(e.to_string()))?;
    MAKE_ERROR.with(|slot| {
        let slot = slot.borrow();
        let make = slot
            .as_ref()
            .ok_or_else(|| Error::from_reason(format!("{}: {}", err.code(), err.message)))?;
        let made = make
            .borrow_back(env)?
            .call(FnArgs::from((err.message.clone(), props)))?;
        // The value belongs to the current handle scope, which is `'env`.
        Ok(unsafe { std::mem::transmute::<Unknown<'static>, Unknown<'env>>(made) })
    })
}

/// Runs a core future on napi's tokio runtime and settles a promise: resolved with `to_js` of the
/// value, or rejected with a `VaultError`.
pub fn spawn<'env, T, E, F, R>(
    env: &'env Env,
    fut: F,
    to_js_value: R,
) -> Result<PromiseRaw<'env, Unknown<'env>>>
where
    T: Send + 'static,
    E: Clone + Into<CoreError> + Send + 'static,
    F: Future<Output = std::result::Result<T, E>> + Send + 'static,
    R: FnOnce(&'env Env, T) -> Result<Unknown<'env>> + 'static,
{
    env.spawn_future_with_callback(
        async move { Ok(fut.await) },
        move |env, result| match result {
            Ok(value) => to_js_value(env, value),
            Err(err) => Err(to_js(env, &err)),
        },
    )
}
