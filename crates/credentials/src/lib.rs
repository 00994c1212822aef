//! OpenClaw's credentials over the Vault client: every place a credential lives behind one trait
//! ([`providers`]), asked in order by the [`chain`] with a [`cache`], an [`audit`] log, coordinated
//! OAuth refresh and [`watch`]; what OpenClaw itself does ([`openclaw`]: paths, env, config);
//! [`migrate`] (local secrets into Vault) and [`resolve`] (OpenClaw's exec SecretRef provider).
//! [`store`] opens the whole chain from OpenClaw's config; [`status`] checks it.
//!
//! It depends on `vault_client` and nothing above it: no napi, no clap, no printing.

pub mod audit;
pub mod breaker;
pub mod cache;
pub mod chain;
pub mod credential;
pub mod error;
pub mod exec_id;
pub mod gateway_reload;
pub mod last_known_good;
pub mod layers;
pub mod local_file;
pub mod migrate;
pub mod nesting;
pub mod openclaw;
pub mod placeholder;
pub mod providers;
pub mod resolve;
pub mod run;
pub mod scrub;
pub mod setup;
pub mod sidecar_lock;
pub mod status;
pub mod store;
pub mod time;
pub mod vault_audit;
pub mod watch;

pub use error::{Error, ErrorCode, Result};
