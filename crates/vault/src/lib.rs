//! An async HashiCorp Vault client.
//!
//! - [`VaultClient`]: KV v2 and KV v1 behind the same methods (the version detected once through
//!   `sys/internal/ui/mounts`), `sys/health`, `sys/seal-status`, the token's own endpoints and raw
//!   requests to any endpoint.
//! - [`ClientConfig`]: the address, token or login method, namespace, mount, timeouts, retries,
//!   proxy and TLS, built from options ([`ClientConfig::from_options`]) or from the standard
//!   `VAULT_*` variables ([`ClientConfig::from_env`]).
//! - Logins ([`auth`]): AppRole, userpass, JWT, Kubernetes, TLS certificate and token files, built
//!   by one builder from any settings source; background renewal and re-login ([`session`]).
//! - Every failure is a [`VaultError`] with a stable [`ErrorCode`]; no message ever holds a token or
//!   a secret value.
//! - Secrets live in `secrecy` types ([`SecretData`]); every string in them is wiped on drop.
//!
//! ```no_run
//! # async fn demo() -> vault_client::Result<()> {
//! use vault_client::{ClientConfig, VaultClient};
//!
//! let client = VaultClient::new(ClientConfig::from_env(|k| std::env::var(k).ok(), None)?)?;
//! if let Some(secret) = client.read("app/config", None).await? {
//!     let fields = secret.data.map(|d| d.keys()).unwrap_or_default();
//!     println!("fields: {fields:?}");
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Layers, each importing only those below it: [`error`], [`path`], [`secret`], [`tls`] ->
//! [`http`] (requests, retries, redirects, limits; no token) -> [`auth`] (one file per login
//! method) -> [`config`] -> [`session`] (the token, logins, TTL, events) -> [`engines`] (one
//! function per endpoint) -> [`renewal`] (the renewal loop, holding the session) ->
//! [`client`] (the facade, which starts renewal).

#![warn(missing_docs)]

pub mod auth;
pub mod client;
pub mod config;
pub mod engines;
pub mod error;
pub mod http;
pub mod path;
pub mod renewal;
pub mod secret;
pub mod session;
pub mod tls;

pub use auth::{AuthFields, Login, LoginMethod, SecretInput};
pub use client::VaultClient;
pub use config::{ClientConfig, ClientOptions, FieldNames, KvVersion, RetryConfig};
pub use engines::kv2::{KeyMetadata, KvSecret, MetadataSettings, Subkeys, VersionMetadata};
pub use engines::sys::{Health, SealStatus};
pub use engines::token::TokenInfo;
pub use error::{ErrorCode, Result, VaultError};
pub use secret::SecretData;
pub use session::{TokenEvent, TokenEventKind, TokenListener};
pub use tls::{FileInput, TlsSettings};
