//! The Node-API binding of `@openclaw/vault`. It converts JS values into the core crates' types and
//! their results into JS values, and nothing else: every rule lives in `vault_client` (the Vault
//! client), `openclaw_credentials` (credentials, migrate, resolve) and `openclaw_vault_cli`.
//!
//! Layout by direction: `options` (JS -> Rust input types), `error` (core errors -> `VaultError`),
//! `client` (the `VaultClient` class), `credentials` (`getCredential` and friends), `cli`
//! (`runCli`). Module init is here, so no module reaches into another to set itself up.

// napi-derive compiles its registration code out under `cfg(test)`, which leaves the module
// hook and its script unused in `cargo test` builds only.
#![cfg_attr(test, allow(dead_code))]

mod args;
mod cli;
mod client;
mod credentials;
mod error;
mod json;
mod options;

use napi::bindgen_prelude::{Env, Object, Result};
use napi_derive::napi;

/// Module init: logging, the `VaultError` class, the credential classes' prototypes.
#[napi(module_exports)]
pub fn init(exports: Object, env: Env) -> Result<()> {
    error::init_logging();
    error::install_error_class(&exports, &env)?;
    credentials::init(&exports, &env)?;
    Ok(())
}
