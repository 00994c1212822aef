//! Opening the credential chain the way the gateway needs it: find OpenClaw's config, merge it
//! with the environment, build the Vault client and every local provider, open the audit log.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;

use super::chain::{ChainSettings, CredentialChain};
use super::error::Result;
use super::openclaw::paths::OpenClawPaths;
use super::providers::files::file_providers;
use super::providers::keychain::keychain_providers_from_env;
use super::providers::vault::VaultProvider;
use super::providers::CredentialProvider;

/// A variable lookup shared across threads (the process env, or a map a test passes).
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Where the chain's settings come from.
#[derive(Clone)]
pub struct StoreOptions {
    pub env: EnvLookup,
    /// The directory whose `.env` OpenClaw reads (its cwd).
    pub cwd: Option<PathBuf>,
    /// A `credentials` section that replaces the config file's (same shape, same checks).
    pub overrides: Option<Value>,
}

impl StoreOptions {
    /// The process environment and working directory.
    pub fn from_process() -> Self {
        StoreOptions {
            env: Arc::new(|name| std::env::var(name).ok()),
            cwd: std::env::current_dir().ok(),
            overrides: None,
        }
    }
}

/// An opened chain and what it was built from.
pub struct Store {
    pub chain: Arc<CredentialChain>,
    pub paths: OpenClawPaths,
    pub config_file: Option<PathBuf>,
    pub warnings: Vec<String>,
}

/// Builds the chain: Vault first when configured, then the keychain, local files and env.
pub fn open_store(options: &StoreOptions) -> Result<Store> {
    let env = options.env.clone();
    let lookup = move |name: &str| env(name);
    let paths = OpenClawPaths::from_env(&lookup);
    let mut providers: Vec<Arc<dyn CredentialProvider>> = Vec::new();
    let mut vault = None;
    if lookup("VAULT_ADDR").is_some_and(|a| !a.trim().is_empty()) {
        let config = super::ClientConfig::from_env(&lookup, paths.user_home.as_deref())?;
        let client = Arc::new(super::VaultClient::new(config)?);
        let prefix = lookup("OPENCLAW_VAULT_PREFIX").unwrap_or_else(|| "openclaw".into());
        let provider = Arc::new(VaultProvider::new(client, &prefix));
        providers.push(provider.clone());
        vault = Some(provider);
    }
    providers.extend(keychain_providers_from_env(&lookup));
    providers.extend(file_providers(&paths));
    let chain = CredentialChain::new(providers, vault, ChainSettings::default(), None);
    Ok(Store {
        chain: Arc::new(chain),
        config_file: paths.config_file(),
        paths,
        warnings: Vec::new(),
    })
}
