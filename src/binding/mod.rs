//! The napi-rs layer. It converts JS values into core types and core results into JS values, and
//! nothing else: every rule lives in `crate::core`.
//!
//! Layout by direction: `options` (JS -> Rust input types), `error` (core errors -> `VaultError`),
//! `client` (the `VaultClient` class).

// napi-derive compiles its registration code out under `cfg(test)`, which leaves the module
// hook and its script unused in `cargo test` builds only.
#![cfg_attr(test, allow(dead_code))]

mod cli;
mod client;
mod credentials;
mod error;
mod options;
