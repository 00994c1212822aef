//! The pure Rust core: no napi types. Data flows config -> transport -> engines -> client.

pub mod auth;
pub mod client;
pub mod config;
pub mod error;
pub mod kv1;
pub mod kv2;
pub mod lifecycle;
pub mod path;
pub mod secret;
pub mod sys;
pub mod tls;
pub mod token;
pub mod transport;

pub use client::VaultClient;
pub use config::{ClientConfig, ClientOptions, KvVersion};
pub use error::{ErrorCode, Result, VaultError};
pub use secret::SecretData;
