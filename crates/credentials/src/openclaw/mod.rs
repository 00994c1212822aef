//! What OpenClaw itself does that this package must match: where its state directory and config
//! file are, and how it reads them.

pub mod config;
pub mod paths;
