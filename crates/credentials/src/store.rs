//! Opening the credential chain the way the gateway needs it: find OpenClaw's config, merge it
//! with the environment, build the Vault client and every local provider, open the audit log.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;

use crate::audit::AuditLog;
use crate::chain::{ChainSettings, CredentialChain};
use crate::error::Result;
use crate::last_known_good::LastKnownGood;
use crate::layers::{Layer, LayerContext};
use crate::openclaw::config::{load_config, LoadedConfig};
use crate::openclaw::paths::OpenClawPaths;
use crate::providers::files::file_providers;
use crate::providers::keychain::keychain_providers_from_env;
use crate::providers::openclaw_config::config_providers_with_vault;
use crate::providers::openclaw_sqlite::sqlite_providers;
use crate::providers::vault::VaultProvider;
use crate::providers::CredentialProvider;

pub use crate::openclaw::config::EnvLookup;

/// Where the chain's settings come from.
#[derive(Clone)]
pub struct StoreOptions {
    pub env: EnvLookup,
    /// The directory whose `.env` OpenClaw reads (its cwd).
    pub cwd: Option<PathBuf>,
    /// A `credentials` section that replaces the config file's (same shape, same checks).
    pub overrides: Option<Value>,
    /// `env` is the real process environment: `listCredentials` may enumerate its variable
    /// names (the generic `<NAME>_API_KEY` rule).
    pub process_env: bool,
}

impl StoreOptions {
    /// The process environment and working directory.
    pub fn from_process() -> Self {
        StoreOptions {
            env: Arc::new(|name| std::env::var(name).ok()),
            cwd: std::env::current_dir().ok(),
            overrides: None,
            process_env: true,
        }
    }
}

/// An opened chain and what it was built from.
pub struct Store {
    pub chain: Arc<CredentialChain>,
    pub paths: OpenClawPaths,
    pub config_file: Option<PathBuf>,
    pub warnings: Vec<String>,
    /// The configuration it was built from (`describe()` gives the non-secret view).
    pub config: LoadedConfig,
}

/// OpenClaw's paths as `options.env` sets them.
fn paths_of(options: &StoreOptions) -> OpenClawPaths {
    let process = options.env.clone();
    let lookup = move |name: &str| process(name);
    OpenClawPaths::from_env(&lookup)
}

fn load_at(paths: &OpenClawPaths, options: &StoreOptions) -> Result<LoadedConfig> {
    load_config(
        paths,
        &options.env,
        options.cwd.as_deref(),
        options.overrides.as_ref(),
    )
}

/// The configuration `open_store(options)` would build the chain from, without building it:
/// OpenClaw's config file (found as OpenClaw finds it, JSON5) merged with the environment (env
/// wins), or `options.overrides`. Reads the config file and the `.env` files; opens nothing.
///
/// Errors: `INVALID_CONFIG` naming the file, JSON path or variable at fault.
pub fn load_store_config(options: &StoreOptions) -> Result<LoadedConfig> {
    load_at(&paths_of(options), options)
}

/// Logs each unknown-key warning and each variable a workspace `.env` may not set (`tracing` warn,
/// stderr in the binding and the CLI) the first time this process sees it, so a typo in
/// `openclaw.json` or a refused variable is not silent and not repeated per store. (File-mode
/// warnings are logged where the file is read.)
fn log_warnings_once(loaded: &LoadedConfig) {
    static LOGGED: std::sync::Mutex<Option<std::collections::HashSet<String>>> =
        std::sync::Mutex::new(None);
    let mut logged = LOGGED.lock().unwrap_or_else(|e| e.into_inner());
    let logged = logged.get_or_insert_with(Default::default);
    for w in loaded.warnings.iter().filter(|w| loaded.is_logged_once(w)) {
        let text = w.to_string();
        if logged.insert(text.clone()) {
            tracing::warn!("config: {text}");
        }
    }
}

/// `OPENCLAW_VAULT_LOOKUP_TIMEOUT_MS`: the deadline of one remote-store lookup (and of the
/// breaker's probe), whole milliseconds from 100 to 600000; `None` when unset (the default,
/// [`crate::breaker::DEFAULT_LOOKUP_TIMEOUT`]). `INVALID_CONFIG` naming the variable otherwise.
fn lookup_timeout(env: &EnvLookup) -> Result<Option<std::time::Duration>> {
    lookup_timeout_of(&|name: &str| env(name))
}

/// [`lookup_timeout`] over any variable lookup (the exec resolver reads it too).
pub(crate) fn lookup_timeout_of(
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<std::time::Duration>> {
    const NAME: &str = "OPENCLAW_VAULT_LOOKUP_TIMEOUT_MS";
    let Some(raw) = env(NAME).filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    match raw.trim().parse::<u64>() {
        Ok(ms) if (100..=600_000).contains(&ms) => Ok(Some(std::time::Duration::from_millis(ms))),
        _ => Err(crate::error::Error::invalid_config(format!(
            "{NAME} must be a whole number of milliseconds from 100 to 600000"
        ))),
    }
}

/// Builds the chain: Vault first when configured, then the keychain, local files and env, in the
/// configured order; cache, fallback and audit settings from the config.
pub fn open_store(options: &StoreOptions) -> Result<Store> {
    open_store_at(options, None)
}

/// [`open_store`] with the Vault provider moved into one layer of [`crate::layers`] (for
/// `migrate --layer`): its prefix becomes the layer's folder (`<prefix>/teams/<team>`,
/// `<prefix>/agents/<agentId>`), so every path the Vault tools derive from a name
/// (`VaultProvider::path_of`: writes, read-backs, SecretRef ids, the journal's prefix) is in
/// that layer. The configured `agent`/`team` context is dropped: this chain reads one layer.
/// `Layer::Default` is exactly [`open_store`].
pub fn open_store_in_layer(options: &StoreOptions, layer: &Layer) -> Result<Store> {
    open_store_at(options, Some(layer))
}

fn open_store_at(options: &StoreOptions, layer: Option<&Layer>) -> Result<Store> {
    let paths = paths_of(options);
    let mut loaded = load_at(&paths, options)?;
    log_warnings_once(&loaded);
    if options.process_env {
        loaded.env = loaded.env.with_process_names(
            std::env::vars_os()
                .filter_map(|(k, _)| k.into_string().ok())
                .collect(),
        );
    }
    let credentials = &loaded.credentials;
    let effective = loaded.env.as_lookup();

    let mut providers: Vec<Arc<dyn CredentialProvider>> = Vec::new();
    let mut vault = None;
    if let Some(config) = &credentials.vault {
        let client = Arc::new(vault_client::VaultClient::new(config.clone())?);
        let prefix = match layer {
            Some(layer) => layer.folder(credentials.prefix.trim_matches('/')),
            None => credentials.prefix.clone(),
        };
        let mut provider = VaultProvider::new(client, &prefix);
        if let Some(settings) = &credentials.last_known_good {
            provider = provider
                .with_last_known_good(Arc::new(LastKnownGood::new(settings.clone(), config)?));
        }
        let provider = Arc::new(provider);
        providers.push(provider.clone());
        vault = Some(provider);
    }
    let keychain_env = effective.clone();
    providers.extend(keychain_providers_from_env(&move |n: &str| keychain_env(n)));
    // OpenClaw's live SQLite stores answer before its retired auth-profiles.json.
    let mut files = file_providers(&paths);
    let live = files
        .iter()
        .position(|p| p.id() == "auth-profiles")
        .unwrap_or(files.len());
    let sqlite = sqlite_providers(
        &paths,
        effective.clone(),
        loaded.file.clone().or_else(|| paths.config_file()),
        vault.clone(),
    );
    files.splice(live..live, sqlite);
    // Agents' generated models.json (OpenClaw's audit scans them too).
    if let Some(state_dir) = &paths.state_dir {
        files.push(Arc::new(
            crate::providers::openclaw_models_json::ModelsJsonProvider::new(state_dir),
        ));
    }
    providers.extend(files);
    providers.extend(config_providers_with_vault(&paths, &loaded, vault.clone()));

    let mut settings = ChainSettings {
        order: credentials.order.clone(),
        fallback: credentials.fallback,
        layers: match layer {
            Some(_) => LayerContext::default(),
            None => credentials.layers.clone(),
        },
        migrate_journal: crate::migrate::default_journal(&paths),
        ..ChainSettings::default()
    };
    if let Some(ttl) = credentials.cache_ttl {
        settings.cache.ttl = ttl;
    }
    if let Some(max_stale) = credentials.max_stale {
        settings.cache.max_stale = max_stale;
    }
    if let Some(ahead) = credentials.refresh_ahead {
        settings.refresh_margin = ahead;
    }
    if let Some(deadline) = lookup_timeout(&effective)? {
        settings.lookup_timeout = deadline;
        settings.breaker.probe_timeout = deadline;
    }
    let audit = match &credentials.audit {
        Some(path) => Some(AuditLog::open(path)?),
        None => None,
    };
    let chain = CredentialChain::new(providers, vault, settings, audit);
    Ok(Store {
        chain: Arc::new(chain),
        config_file: loaded.file.clone(),
        warnings: loaded.warnings.iter().map(|w| w.to_string()).collect(),
        paths,
        config: loaded,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use openclaw_vault_test_support::env_of;

    /// Every `VAULT_*` and `OPENCLAW_VAULT_*` variable the crates read, but those that name a
    /// file (an error names the file it could not use) and the test hooks.
    const VARIABLES: &[&str] = &[
        "OPENCLAW_VAULT_APPROLE_ROLE_ID",
        "OPENCLAW_VAULT_APPROLE_SECRET_ID",
        "OPENCLAW_VAULT_AUTH_METHOD",
        "OPENCLAW_VAULT_AUTH_MOUNT",
        "OPENCLAW_VAULT_AUTH_ROLE",
        "OPENCLAW_VAULT_FALLBACK",
        "OPENCLAW_VAULT_KV_MOUNT",
        "OPENCLAW_VAULT_KV_VERSION",
        "OPENCLAW_VAULT_LOOKUP_TIMEOUT_MS",
        "OPENCLAW_VAULT_PASSWORD",
        "OPENCLAW_VAULT_PREFIX",
        "OPENCLAW_VAULT_PROVIDER",
        "OPENCLAW_VAULT_RESOLVE_CONCURRENCY",
        "OPENCLAW_VAULT_RESOLVE_FALLBACK",
        "OPENCLAW_VAULT_RESOLVE_MAX_OUTPUT_BYTES",
        "OPENCLAW_VAULT_RESOLVE_TIMEOUT_MS",
        "OPENCLAW_VAULT_USERNAME",
        "VAULT_ADDR",
        "VAULT_AGENT_ADDR",
        "VAULT_CLIENT_TIMEOUT",
        "VAULT_HTTP_PROXY",
        "VAULT_MAX_RETRIES",
        "VAULT_NAMESPACE",
        "VAULT_PROXY_ADDR",
        "VAULT_SKIP_VERIFY",
        "VAULT_TLS_SERVER_NAME",
        "VAULT_TOKEN",
    ];

    // Review finding: VAULT_MAX_RETRIES, VAULT_CLIENT_TIMEOUT and VAULT_SKIP_VERIFY errors quoted
    // the value. An error names the variable and what was expected, never what it holds.
    #[test]
    fn no_variable_value_reaches_an_error() {
        let home = std::env::temp_dir().join(format!("ocv-store-canary-{}", std::process::id()));
        std::fs::create_dir_all(&home).unwrap();
        let mut failed = 0;
        for canary in ["sk-CANARY-k9 \u{1}", "sk-CANARY-k9", "../sk-CANARY-k9//x"] {
            for var in VARIABLES {
                let env = env_of(&[
                    ("HOME", home.to_str().unwrap()),
                    ("VAULT_ADDR", "http://127.0.0.1:1"),
                    ("VAULT_TOKEN", "hvs.FAKE-k9"),
                    (var, canary),
                ]);
                let env: EnvLookup = Arc::new(env);
                let options = StoreOptions {
                    env: env.clone(),
                    cwd: Some(home.clone()),
                    overrides: None,
                    process_env: false,
                };
                let mut messages = Vec::new();
                if let Err(e) = open_store(&options) {
                    messages.push(e.message);
                }
                if let Err(e) = crate::resolve::config_from_env(&|n: &str| env(n)) {
                    messages.push(e.message);
                }
                failed += messages.len();
                for m in messages {
                    assert!(!m.contains("CANARY"), "{var}: {m}");
                    assert!(m.contains(var) || !m.contains("sk-"), "{var}: {m}");
                }
            }
        }
        // The canaries are bad values for most variables: the errors were there to check.
        assert!(failed > 20, "{failed} errors");
        std::fs::remove_dir_all(&home).unwrap();
    }

    // Review finding: getCredential served a redaction placeholder stored in Vault as the value.
    // A real dev server and the real env source: INVALID_SOURCE naming Vault's path and the
    // field, never the env's value (no silent fall-through), and `list` shows Vault answering.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_placeholder_in_vault_is_refused_by_get_not_served() {
        let server = tokio::task::spawn_blocking(|| {
            openclaw_vault_test_support::start_dev_vault("store-placeholder")
        })
        .await
        .unwrap();
        let home = openclaw_vault_test_support::temp_dir("store-placeholder");
        let h = home.to_string_lossy().into_owned();
        let store = open_store(&StoreOptions {
            env: Arc::new(env_of(&[
                ("HOME", &h),
                ("VAULT_ADDR", &server.addr),
                ("VAULT_TOKEN", &server.token),
                ("TELEGRAM_BOT_TOKEN", "123:FAKE-env-telegram"),
            ])),
            cwd: None,
            overrides: None,
            process_env: false,
        })
        .unwrap();
        let data: serde_json::Map<String, Value> =
            serde_json::from_value(serde_json::json!({"kind": "token", "token": "[REDACTED]"}))
                .unwrap();
        store
            .chain
            .vault()
            .unwrap()
            .client()
            .write(
                "openclaw/credentials/telegram",
                &vault_client::secret::SecretData::from_object(data),
                None,
            )
            .await
            .unwrap();
        let err = store
            .chain
            .get("telegram", &crate::chain::GetOptions::default())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "INVALID_SOURCE", "{}", err.message);
        for needle in [
            "vault",
            "openclaw/credentials/telegram",
            "field `token`",
            "\"[REDACTED]\"",
        ] {
            assert!(err.message.contains(needle), "{needle}: {}", err.message);
        }
        assert!(!err.message.contains("FAKE-env"), "{}", err.message);
        let listed = store.chain.list(None).await;
        let telegram = listed
            .credentials
            .iter()
            .find(|c| c.name == "telegram")
            .unwrap();
        assert_eq!(telegram.answered_by().provider, "vault");
        assert_eq!(telegram.sources.len(), 2);
    }
}
