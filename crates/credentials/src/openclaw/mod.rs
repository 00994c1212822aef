//! What OpenClaw itself does that this package must match: where its state directory and config
//! file are, how it reads them, and the variables it gives the Vault client.

pub mod config;
pub mod dotenv_trust;
pub mod paths;
pub mod vault_env;

/// Largest `openclaw.json` this package reads, in bytes: OpenClaw 2026.9's own limit for its
/// config file (`CONFIG_MUTATION_FILE_MAX_BYTES`, 8 MiB, in the released `dist/config-io-*.mjs`),
/// so every config OpenClaw accepts is read here too. Larger files are `INVALID_CONFIG`.
pub const MAX_CONFIG_FILE_BYTES: u64 = 8 * 1024 * 1024;
