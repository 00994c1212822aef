//! The napi-rs layer. It converts JS values into core types and core results into JS values, and
//! nothing else: every rule lives in `crate::core`.
//!
//! Layout by direction: `options` (JS -> Rust input types), `error` (core errors -> `VaultError`),
//! `client` (the `VaultClient` class).

mod client;
mod error;
mod options;
