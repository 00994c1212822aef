//! An async HashiCorp Vault client.
//!
//! - [`VaultClient`]: KV v2 and KV v1 behind the same methods (the version detected once through
//!   `sys/internal/ui/mounts`), `sys/health`, `sys/seal-status`, `auth/token/lookup-self` and raw
//!   requests to any endpoint.
//! - [`ClientConfig`]: the address, token or login method, namespace, mount, timeouts, retries,
//!   proxy and TLS, built from options or from the standard `VAULT_*` variables.
//! - Every failure is a [`VaultError`] with a stable [`ErrorCode`]; no message ever holds a token or
//!   a secret value.
//! - Secrets live in `secrecy` types ([`SecretData`]); every string in them is wiped on drop.
//!
//! Layers, each importing only those below it: [`error`], [`path`], [`secret`], [`tls`] ->
//! [`config`], [`auth`] -> [`http`] (requests, retries, redirects, the token) and
//! [`session`] (renewal) -> [`engines`] (one function per endpoint) -> [`client`] (the facade).

pub mod auth;
pub mod client;
pub mod config;
pub mod engines;
pub mod error;
pub mod http;
pub mod path;
pub mod secret;
pub mod session;
pub mod tls;

pub use client::VaultClient;
pub use config::{ClientConfig, ClientOptions, KvVersion};
pub use error::{ErrorCode, Result, VaultError};
pub use secret::SecretData;
