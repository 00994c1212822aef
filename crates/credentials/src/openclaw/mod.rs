//! What OpenClaw itself does that this package must match: where its state directory and config
//! file are, how it reads them, and the variables it gives the Vault client.

pub mod config;
pub mod dotenv_trust;
pub mod paths;
pub mod vault_env;
