//! Vault's secrets engines and system backends: one module per engine, one function per endpoint
//! (its doc names the endpoint). They take the token [`Session`](crate::session::Session) and return
//! typed answers; the [`VaultClient`](crate::VaultClient) facade composes them.

pub mod acl;
pub mod identity;
pub mod kv1;
pub mod kv2;
pub mod sys;
pub mod token;
pub mod wrapping;
