//! `@openclaw/vault`: a HashiCorp Vault client for OpenClaw. `core` is plain Rust; `binding` is the
//! napi-rs layer that only converts values and errors for Node.

mod binding;
pub mod core;
