//! The pure Rust core: no napi types. Data flows config -> transport -> engines -> client.

pub mod audit;
pub mod auth;
pub mod cache;
pub mod chain;
pub mod cli;
pub mod client;
pub mod config;
pub mod credential;
pub mod credentials;
pub mod error;
pub mod kv1;
pub mod kv2;
pub mod lifecycle;
pub mod local_file;
pub mod migrate;
pub mod openclaw;
pub mod path;
pub mod providers;
pub mod refresh_lease;
pub mod resolve;
pub mod secret;
pub mod sys;
pub mod tls;
pub mod token;
pub mod transport;
pub mod watch;

pub use client::VaultClient;
pub use config::{ClientConfig, ClientOptions, KvVersion};
pub use error::{ErrorCode, Result, VaultError};
pub use secret::SecretData;

/// Test support shared by the core's unit tests.
#[cfg(test)]
pub(crate) mod test_env {
    use std::collections::HashMap;

    /// An environment lookup over fixed pairs, for the `from_env` parsers.
    pub fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }
}
