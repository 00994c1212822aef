//! Which variables the workspace `.env` may set.
//!
//! OpenClaw reads `./.env` (the directory a command starts in) and `<stateDir>/.env`. The first is
//! untrusted: anyone who can drop a file in a project directory writes it. OpenClaw therefore
//! drops from it provider API keys, proxy variables and the variables that steer OpenClaw itself
//! (its list: `BLOCKED_WORKSPACE_DOTENV_*` in the released `dist/dotenv-*.mjs`). This package's
//! rule is stricter, by category rather than by name: a workspace `.env` never sets
//!
//! - `VAULT_*` / `BAO_*` (where the Vault token goes, which token, how it is checked),
//! - `OPENCLAW_*` and the other names of OpenClaw (`fallback`, provider, prefix, state dir, ...),
//! - proxy variables (`*_PROXY`, `NO_PROXY`), TLS variables (`*_CA_*`, `*CERT*`, `*TLS*`, `*SSL*`),
//! - any credential (`*KEY*`, `*TOKEN*`, `*SECRET*`, `*PASSWORD*`, `*AUTH*`, cloud accounts, ...),
//! - endpoints (`*_URL`, `*_HOST`, `*_ADDR`, `*_ENDPOINT`: where requests and credentials go),
//! - locations of files and programs (`HOME`, `PATH`, `*_HOME`, `*_DIR`, `*_FILE`, `*_PATH`, ...),
//! - switches that weaken checks (`*DANGEROUSLY*`, `*DISABLE*`, `*SKIP*`, `*ALLOW*`, `*INSECURE*`)
//!   and process hooks (`LD_*`, `DYLD_*`, `NODE_*`).
//!
//! Only `<stateDir>/.env` (written by the user who owns the state) may set them. Variables are
//! compared case-insensitively, as OpenClaw compares them.

/// Why the workspace `.env` may not set a variable. Its `as_str()` is what `status` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// `VAULT_*`, `BAO_*`.
    Vault,
    /// `OPENCLAW_*`, `CLAWDBOT_*`, `MOLTBOT_*`, `MOLDBOT_*`, `CLAWHUB_*`.
    OpenClaw,
    /// `HTTP_PROXY`, `NO_PROXY`, `VAULT_HTTP_PROXY`, ...
    Proxy,
    /// CA bundles, client certificates, verification switches.
    Tls,
    /// API keys, tokens, secrets, passwords, cloud accounts.
    Credential,
    /// URLs, hosts and addresses requests go to.
    Endpoint,
    /// Where files and programs are found.
    Location,
    /// Switches that weaken checks, and hooks into how programs run.
    Process,
}

impl Refusal {
    /// A short name: `vault`, `openclaw`, `proxy`, `tls`, `credential`, `endpoint`, `location`,
    /// `process`.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Vault => "vault",
            Refusal::OpenClaw => "openclaw",
            Refusal::Proxy => "proxy",
            Refusal::Tls => "tls",
            Refusal::Credential => "credential",
            Refusal::Endpoint => "endpoint",
            Refusal::Location => "location",
            Refusal::Process => "process",
        }
    }

    /// What the category is, for a warning.
    pub fn describe(self) -> &'static str {
        match self {
            Refusal::Vault => "a Vault setting",
            Refusal::OpenClaw => "an OpenClaw setting",
            Refusal::Proxy => "a proxy setting",
            Refusal::Tls => "a TLS setting",
            Refusal::Credential => "a credential",
            Refusal::Endpoint => "an endpoint",
            Refusal::Location => "a file or program location",
            Refusal::Process => "a safety switch or process hook",
        }
    }
}

const VAULT_PREFIXES: &[&str] = &["VAULT_", "BAO_"];
const OPENCLAW_PREFIXES: &[&str] = &["OPENCLAW_", "CLAWDBOT_", "MOLTBOT_", "MOLDBOT_", "CLAWHUB_"];
const TLS_WORDS: &[&str] = &[
    "TLS",
    "SSL",
    "CA",
    "CACERT",
    "CACERTS",
    "CAPATH",
    "CERT",
    "CERTS",
    "CERTIFICATE",
    "CERTIFICATES",
    "VERIFY",
];
const CREDENTIAL_WORDS: &[&str] = &[
    "KEY",
    "KEYS",
    "APIKEY",
    "APIKEYS",
    "TOKEN",
    "TOKENS",
    "SECRET",
    "SECRETS",
    "PASSWORD",
    "PASSWORDS",
    "PASSWD",
    "PASS",
    "PASSPHRASE",
    "CREDENTIAL",
    "CREDENTIALS",
    "CREDS",
    "AUTH",
    "OAUTH",
    "JWT",
    "COOKIE",
    "COOKIES",
    "SESSION",
    "PAT",
    "PRIVATE",
    "SIGNING",
    "APPID",
    "REGION",
    "ACCOUNT",
    "USERS",
    "USER",
    "USERNAME",
];
/// Cloud SDKs whose every variable selects or holds an account.
const CREDENTIAL_PREFIXES: &[&str] = &["AWS_", "AZURE_", "GOOGLE_", "GCP_", "GCLOUD_", "CLOUDSDK_"];
const ENDPOINT_LAST_WORDS: &[&str] = &[
    "URL",
    "URLS",
    "URI",
    "URIS",
    "HOST",
    "HOSTS",
    "ADDR",
    "ADDRESS",
    "ENDPOINT",
    "ENDPOINTS",
    "HOMESERVER",
    "SERVER",
    "SERVERS",
    "ORIGIN",
];
const LOCATION_NAMES: &[&str] = &[
    "HOME",
    "PATH",
    "TMPDIR",
    "USERPROFILE",
    "APPDATA",
    "LOCALAPPDATA",
    "COMSPEC",
    "SHELL",
    "PROGRAMFILES",
    "PROGRAMFILES(X86)",
    "PROGRAMW6432",
];
const LOCATION_PREFIXES: &[&str] = &["XDG_", "HOMEBREW_", "NPM_", "PNPM_", "COREPACK_"];
const LOCATION_LAST_WORDS: &[&str] = &[
    "HOME",
    "DIR",
    "DIRS",
    "DIRECTORY",
    "PATH",
    "PATHS",
    "FILE",
    "FILES",
    "PREFIX",
    "EXECPATH",
    "EXECUTABLE",
    "BIN",
    "BINARY",
    "PYTHON",
    "MODULE",
];
const PROCESS_WORDS: &[&str] = &[
    "DANGEROUSLY",
    "DISABLE",
    "DISABLED",
    "SKIP",
    "ALLOW",
    "ALLOWED",
    "INSECURE",
    "UNSAFE",
    "BYPASS",
];
const PROCESS_PREFIXES: &[&str] = &["LD_", "DYLD_", "NODE_", "UV_", "PLAYWRIGHT_"];

/// Why a workspace `.env` may not set `name`, or `None` when it may (see the module docs).
pub fn workspace_refusal(name: &str) -> Option<Refusal> {
    let upper = name.to_ascii_uppercase();
    let words: Vec<&str> = upper.split('_').filter(|w| !w.is_empty()).collect();
    let has = |set: &[&str]| words.iter().any(|w| set.contains(w));
    let starts = |set: &[&str]| set.iter().any(|p| upper.starts_with(p));
    let last_in = |set: &[&str]| words.last().is_some_and(|w| set.contains(w));
    if starts(VAULT_PREFIXES) {
        return Some(Refusal::Vault);
    }
    if starts(OPENCLAW_PREFIXES) {
        return Some(Refusal::OpenClaw);
    }
    if words.contains(&"PROXY") {
        return Some(Refusal::Proxy);
    }
    if has(TLS_WORDS) {
        return Some(Refusal::Tls);
    }
    if has(CREDENTIAL_WORDS)
        || starts(CREDENTIAL_PREFIXES)
        || crate::providers::env::name_for_var(&upper).is_some()
    {
        return Some(Refusal::Credential);
    }
    if last_in(ENDPOINT_LAST_WORDS) || upper.ends_with("_BASE_URL") {
        return Some(Refusal::Endpoint);
    }
    if LOCATION_NAMES.contains(&upper.as_str())
        || starts(LOCATION_PREFIXES)
        || last_in(LOCATION_LAST_WORDS)
        || upper == "STATE_DIRECTORY"
    {
        return Some(Refusal::Location);
    }
    if has(PROCESS_WORDS) || starts(PROCESS_PREFIXES) {
        return Some(Refusal::Process);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_each_category_and_keeps_the_rest() {
        for (name, why) in [
            ("VAULT_ADDR", Refusal::Vault),
            ("vault_token", Refusal::Vault),
            ("VAULT_HTTP_PROXY", Refusal::Vault),
            ("VAULT_CACERT", Refusal::Vault),
            ("OPENCLAW_VAULT_FALLBACK", Refusal::OpenClaw),
            ("OPENCLAW_STATE_DIR", Refusal::OpenClaw),
            ("HTTPS_PROXY", Refusal::Proxy),
            ("no_proxy", Refusal::Proxy),
            ("NODE_EXTRA_CA_CERTS", Refusal::Tls),
            ("NODE_TLS_REJECT_UNAUTHORIZED", Refusal::Tls),
            ("SSL_CERT_FILE", Refusal::Tls),
            ("REQUESTS_CA_BUNDLE", Refusal::Tls),
            ("ANTHROPIC_API_KEY", Refusal::Credential),
            ("ANTHROPIC_API_KEYS", Refusal::Credential),
            ("OPENAI_API_KEY_1", Refusal::Credential),
            ("TELEGRAM_BOT_TOKEN", Refusal::Credential),
            ("RUNWAYML_API_SECRET", Refusal::Credential),
            ("AWS_PROFILE", Refusal::Credential),
            ("DISCORD_API_URL", Refusal::Endpoint),
            ("OLLAMA_BASE_URL", Refusal::Endpoint),
            ("HOME", Refusal::Location),
            ("CODEX_HOME", Refusal::Location),
            ("CLAUDE_CONFIG_DIR", Refusal::Location),
            ("LD_PRELOAD", Refusal::Process),
            ("NODE_OPTIONS", Refusal::Process),
            (
                "SMS_DANGEROUSLY_DISABLE_SIGNATURE_VALIDATION",
                Refusal::Process,
            ),
        ] {
            assert_eq!(workspace_refusal(name), Some(why), "{name}");
        }
        for name in [
            "DATABASE_NAME",
            "NODEENV",
            "LOG_LEVEL",
            "PORT",
            "DEBUG",
            "FOO",
        ] {
            assert_eq!(workspace_refusal(name), None, "{name}");
        }
    }
}
