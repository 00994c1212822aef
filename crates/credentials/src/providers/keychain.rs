//! The system keychain: the macOS Keychain, the Secret Service on Linux (GNOME Keyring, KWallet,
//! KeePassXC) and the Windows Credential Manager, through the `keyring` crate.
//!
//! Three providers read it:
//! - [`KeychainProvider`] (`keychain`): this package's own items, service `openclaw-vault`,
//!   account = credential name, secret = the JSON of [`Credential::to_vault_data`]. Writable.
//! - [`ClaudeCodeKeychainProvider`] (`claude-code-keychain`): Claude Code's item, service
//!   `Claude Code-credentials`, the same JSON as `~/.claude/.credentials.json`. Name `anthropic`.
//!   Read-only: Claude Code owns these tokens ([`CLAUDE_CODE_CLI`]); refreshing or rewriting a
//!   copy would log it out.
//! - [`CodexKeychainProvider`] (`codex-keychain`): Codex CLI's item, service `Codex Auth`, the same
//!   JSON as `~/.codex/auth.json`. Names `openai` and `openai-codex`. Read-only: Codex owns its
//!   tokens ([`CODEX_CLI`]).
//!
//! Keychain calls block (D-Bus round-trips, Security.framework calls), so they run on tokio's
//! blocking pool, each bounded by [`CALL_TIMEOUT`]. On the Secret Service the bus is first asked
//! whether anything provides `org.freedesktop.secrets`, so a machine without one answers
//! `SOURCE_UNAVAILABLE` at once with what is missing, and the chain moves on.
//!
//! The keychain has no versions: `put` is last writer wins and every credential carries
//! [`CredentialVersion::None`].

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use super::files::formats::{CLAUDE_CODE, CODEX};
#[cfg(doc)]
use super::files::formats::{CLAUDE_CODE_CLI, CODEX_CLI};
use super::{CredentialProvider, Listing};
use crate::credential::{
    from_fields, Credential, CredentialSource, CredentialVersion, SourceGroup,
};
use crate::error::{Error, ErrorCode, Result};
use crate::openclaw::paths::OpenClawPaths;
use vault_client::secret::{json_kind, ZeroizingJson};

/// Service of this package's own items.
pub const OWN_SERVICE: &str = "openclaw-vault";
/// Service Claude Code stores its OAuth tokens under (without `CLAUDE_CONFIG_DIR`).
pub const CLAUDE_CODE_SERVICE: &str = "Claude Code-credentials";
/// Service Codex CLI stores its `auth.json` under when its credential store is the keyring.
pub const CODEX_SERVICE: &str = "Codex Auth";
/// The other account Claude Code's item is said to use (OpenClaw's notes); tried after the login
/// name, which is what Claude Code's own `security -a $USER` writes and what tools read.
pub const CLAUDE_CODE_LEGACY_ACCOUNT: &str = "Claude Code";
/// Account of the name index kept where the keychain cannot be searched (macOS, Windows). Never a
/// credential name: `get` answers `None` for it and `put` refuses it.
pub const INDEX_ACCOUNT: &str = "__index__";
/// Longest a single keychain call may take before the provider answers `SOURCE_UNAVAILABLE`
/// (a locked keyring waiting on an unlock prompt, a daemon that does not answer). The call itself
/// cannot be cancelled; it finishes on its blocking thread and its result is dropped.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);

const ANTHROPIC: &str = "anthropic";
const OPENAI: &str = "openai";
const OPENAI_CODEX: &str = "openai-codex";

/// How [`KeychainProvider::list`] finds the names it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListStrategy {
    /// Search items by their `service` attribute (Secret Service).
    Search,
    /// Read the index item (account [`INDEX_ACCOUNT`]) that `put` keeps up to date: the macOS
    /// Keychain and the Windows Credential Manager cannot be searched through `keyring`.
    Index,
}

impl ListStrategy {
    /// The strategy this platform's keychain supports.
    pub fn platform_default() -> Self {
        if cfg!(any(target_os = "linux", target_os = "freebsd")) {
            ListStrategy::Search
        } else {
            ListStrategy::Index
        }
    }
}

/// The three keychain providers with the real service names: this package's items, Claude Code's
/// and Codex's. Reads `USER`/`LOGNAME`, `CLAUDE_CONFIG_DIR`, `HOME` and `CODEX_HOME` from the
/// process environment.
pub fn keychain_providers() -> Vec<Arc<dyn CredentialProvider>> {
    keychain_providers_from_env(&|name| std::env::var(name).ok())
}

/// [`keychain_providers`] with an injected environment lookup for the names. The session bus is
/// always the process's own: zbus (under `keyring`) reads `DBUS_SESSION_BUS_ADDRESS` itself.
pub fn keychain_providers_from_env(
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<Arc<dyn CredentialProvider>> {
    let mut providers: Vec<Arc<dyn CredentialProvider>> =
        vec![Arc::new(KeychainProvider::new(OWN_SERVICE))];
    providers.push(Arc::new(ClaudeCodeKeychainProvider::new(
        claude_code_service(env),
        claude_code_accounts(env),
    )));
    if let Some(home) = OpenClawPaths::from_env(env).codex_home {
        providers.push(Arc::new(CodexKeychainProvider::for_codex_home(
            CODEX_SERVICE,
            &home,
        )));
    }
    providers
}

/// Claude Code's service: `Claude Code-credentials`, or with `CLAUDE_CONFIG_DIR` set,
/// `Claude Code-credentials-<first 8 hex digits of SHA-256 of the variable as written>` (each config
/// directory has its own item; a trailing slash makes a different one).
pub fn claude_code_service(env: &dyn Fn(&str) -> Option<String>) -> String {
    match env("CLAUDE_CONFIG_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => format!("{CLAUDE_CODE_SERVICE}-{}", &sha256_hex(&dir)[..8]),
        None => CLAUDE_CODE_SERVICE.to_string(),
    }
}

/// Accounts tried for Claude Code's item, in order: the login name (what current Claude Code
/// writes, like `security add-generic-password -a $USER`), then `Claude Code`.
pub fn claude_code_accounts(env: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    let mut accounts: Vec<String> = ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .filter_map(|v| env(v).filter(|u| !u.is_empty()))
        .take(1)
        .collect();
    accounts.push(CLAUDE_CODE_LEGACY_ACCOUNT.to_string());
    accounts
}

/// Codex CLI's account for a home: `cli|` and the first 16 hex digits of the SHA-256 of the
/// canonical home path (the path itself when it cannot be canonicalized).
pub fn codex_account(codex_home: &Path) -> String {
    let canonical = std::fs::canonicalize(codex_home).unwrap_or_else(|_| codex_home.to_path_buf());
    format!("cli|{}", &sha256_hex(&canonical.to_string_lossy())[..16])
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn location(service: &str, account: &str) -> String {
    format!("keychain:{service}/{account}")
}

fn source(provider: &'static str, service: &str, account: &str) -> CredentialSource {
    CredentialSource {
        provider,
        group: SourceGroup::Keychain,
        location: location(service, account),
        file: None,
        layer: None,
    }
}

/// How the message of every "there is no keychain on this machine" error starts (no D-Bus
/// session bus, nothing on it provides a Secret Service, or an OS without a supported keychain).
/// [`is_absent`] keys on it.
const ABSENT_PREFIXES: [&str; 2] = ["no Secret Service", "no system keychain"];

/// True when `error` (from a keychain provider) says this machine has no keychain at all: no
/// D-Bus session bus, nothing on it providing `org.freedesktop.secrets`, or an OS `keyring` does
/// not support. That is every headless server, and not news: callers print it once (`status`)
/// or not at all (`list`, `migrate`), instead of once per keychain source. A keychain that is
/// there but failed (locked, not answering, a malformed item) is not absent.
pub fn is_absent(error: &Error) -> bool {
    error.code == ErrorCode::SourceUnavailable
        && ABSENT_PREFIXES.iter().any(|p| error.message.starts_with(p))
}

fn unavailable(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::SourceUnavailable, message)
}

fn invalid_source(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidSource, message)
}

// ---------------------------------------------------------------------------------------------
// Keychain access: blocking keyring calls on the blocking pool, with a reachability check first.
// ---------------------------------------------------------------------------------------------

/// Maps a keyring error for the item at `service/account`. Only the error's kind and the platform's
/// own message are used: `BadEncoding` carries the item's bytes and is never printed.
fn keyring_error(err: keyring::Error, service: &str, account: &str) -> Error {
    let at = location(service, account);
    match err {
        keyring::Error::NoStorageAccess(e) => unavailable(format!(
            "{at}: the keychain refused access (locked, or the unlock prompt was dismissed): {e}"
        )),
        keyring::Error::PlatformFailure(e) => {
            unavailable(format!("{at}: the keychain failed: {e}"))
        }
        keyring::Error::BadEncoding(mut bytes) => {
            bytes.zeroize();
            invalid_source(format!("{at}: the item's secret is not UTF-8 text"))
        }
        keyring::Error::Ambiguous(items) => invalid_source(format!(
            "{at}: {} keychain items match this service and account; remove all but one",
            items.len()
        )),
        keyring::Error::TooLong(attr, limit) => Error::invalid_argument(format!(
            "{at}: the {attr} is longer than the keychain's limit of {limit} characters"
        )),
        keyring::Error::Invalid(attr, reason) => {
            Error::invalid_argument(format!("{at}: the {attr} is invalid: {reason}"))
        }
        keyring::Error::NoEntry => unavailable(format!("{at}: no such keychain item")),
        other => unavailable(format!("{at}: the keychain failed: {other}")),
    }
}

/// Runs a blocking keyring call for `service/account` on the blocking pool, bounded by
/// [`CALL_TIMEOUT`]. `NoEntry` becomes `Ok(None)`.
async fn blocking_call<T, F>(service: &str, account: &str, call: F) -> Result<Option<T>>
where
    T: Send + 'static,
    F: FnOnce(&keyring::Entry) -> keyring::Result<T> + Send + 'static,
{
    ensure_reachable().await?;
    let (s, a) = (service.to_string(), account.to_string());
    let task = tokio::task::spawn_blocking(move || {
        keyring::Entry::new(&s, &a).and_then(|entry| call(&entry))
    });
    let outcome = tokio::time::timeout(CALL_TIMEOUT, task)
        .await
        .map_err(|_| {
            unavailable(format!(
                "{}: the keychain did not answer within {} s (locked and waiting for an unlock prompt?)",
                location(service, account),
                CALL_TIMEOUT.as_secs()
            ))
        })?
        .map_err(|e| {
            unavailable(format!(
                "{}: the keychain call did not complete ({e})",
                location(service, account)
            ))
        })?;
    match outcome {
        Ok(value) => Ok(Some(value)),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(keyring_error(e, service, account)),
    }
}

/// The item's secret text, or `None` when there is no such item.
async fn read_item(service: &str, account: &str) -> Result<Option<Zeroizing<String>>> {
    blocking_call(service, account, |entry| {
        entry.get_password().map(Zeroizing::new)
    })
    .await
}

/// Creates or replaces the item's secret.
async fn write_item(service: &str, account: &str, secret: Zeroizing<String>) -> Result<()> {
    blocking_call(service, account, move |entry| entry.set_password(&secret))
        .await
        .map(|_| ())
}

/// Removes the item; `false` when there was none.
async fn delete_item(service: &str, account: &str) -> Result<bool> {
    blocking_call(service, account, |entry| entry.delete_credential())
        .await
        .map(|done| done.is_some())
}

/// An item holding a bare token (stored with `secret-tool` or Keychain Access, not as JSON): one
/// line, no spaces, not starting like JSON. It is read as a `token` credential.
fn bare_token(secret: &str) -> Option<&str> {
    let t = secret.trim();
    let json_like = t.starts_with(['{', '[', '"']);
    (!t.is_empty() && !json_like && !t.contains(char::is_whitespace)).then_some(t)
}

/// Parses an item's secret as a JSON object. Errors name the item and the position, never the text.
fn parse_object(secret: &str, service: &str, account: &str) -> Result<ZeroizingJson> {
    let at = location(service, account);
    let value: Value = serde_json::from_str(secret).map_err(|e| {
        let s = crate::scrub::scrub(&e);
        invalid_source(format!(
            "{at}: the item is not valid JSON (line {}, column {}: {})",
            s.line, s.column, s.detail
        ))
    })?;
    let mut value = ZeroizingJson(value);
    if !value.0.is_object() {
        let kind = json_kind(&value.0);
        value.zeroize();
        return Err(invalid_source(format!(
            "{at}: expected a JSON object at `$`, got {kind}"
        )));
    }
    Ok(value)
}

/// Fails fast with what is missing when no keychain can be asked.
#[cfg(any(target_os = "linux", target_os = "freebsd"))]
async fn ensure_reachable() -> Result<()> {
    secret_service::probe().await
}

#[cfg(any(target_os = "macos", target_os = "ios", target_os = "windows"))]
async fn ensure_reachable() -> Result<()> {
    Ok(())
}

/// `keyring` falls back to an in-memory mock elsewhere; never let a credential go there.
#[cfg(not(any(
    target_os = "linux",
    target_os = "freebsd",
    target_os = "macos",
    target_os = "ios",
    target_os = "windows"
)))]
async fn ensure_reachable() -> Result<()> {
    Err(unavailable(format!(
        "no system keychain is supported on {}",
        std::env::consts::OS
    )))
}

/// The Secret Service side: what `keyring` does not offer (a reachability check, search).
#[cfg(any(target_os = "linux", target_os = "freebsd"))]
mod secret_service {
    use std::collections::HashMap;
    use std::time::Duration;

    use super::{unavailable, Result, CALL_TIMEOUT};

    /// The well-known bus name of a Secret Service.
    const SECRETS_NAME: &str = "org.freedesktop.secrets";
    /// Connecting and asking the bus is local and quick; anything slower means no usable bus.
    const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

    /// Where the session bus is expected, for messages.
    fn bus_description() -> String {
        match std::env::var("DBUS_SESSION_BUS_ADDRESS") {
            Ok(addr) if !addr.is_empty() => format!("DBUS_SESSION_BUS_ADDRESS={addr}"),
            _ => {
                let runtime = std::env::var("XDG_RUNTIME_DIR")
                    .ok()
                    .filter(|d| !d.is_empty());
                match runtime {
                    Some(dir) => format!("DBUS_SESSION_BUS_ADDRESS unset, and no bus at {dir}/bus"),
                    None => "DBUS_SESSION_BUS_ADDRESS and XDG_RUNTIME_DIR unset".to_string(),
                }
            }
        }
    }

    /// Connects to the session bus (zbus reads `DBUS_SESSION_BUS_ADDRESS`, else
    /// `$XDG_RUNTIME_DIR/bus`, from the process environment, as `keyring` does: the check and the
    /// real calls always look at the same bus).
    async fn session_bus() -> Result<zbus::Connection> {
        match tokio::time::timeout(PROBE_TIMEOUT, zbus::Connection::session()).await {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(e)) => Err(unavailable(format!(
                "no Secret Service: cannot reach the D-Bus session bus ({}): {e}",
                bus_description()
            ))),
            Err(_) => Err(unavailable(format!(
                "no Secret Service: the D-Bus session bus did not answer within {} s ({})",
                PROBE_TIMEOUT.as_secs(),
                bus_description()
            ))),
        }
    }

    /// Succeeds when a Secret Service runs on the session bus or the bus can start one.
    pub(super) async fn probe() -> Result<()> {
        let conn = session_bus().await?;
        let ask = async {
            let bus = zbus::fdo::DBusProxy::new(&conn).await?;
            let name = zbus::names::BusName::try_from(SECRETS_NAME)
                .map_err(|e| zbus::fdo::Error::Failed(e.to_string()))?;
            if bus.name_has_owner(name).await? {
                return Ok::<bool, zbus::fdo::Error>(true);
            }
            // Desktop sessions start gnome-keyring or KWallet on first use.
            let activatable = bus.list_activatable_names().await?;
            Ok(activatable.iter().any(|n| n.as_str() == SECRETS_NAME))
        };
        match tokio::time::timeout(PROBE_TIMEOUT, ask).await {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err(unavailable(format!(
                "no Secret Service on the session bus ({}): nothing provides {SECRETS_NAME}; \
                 start gnome-keyring-daemon, KWallet or KeePassXC",
                bus_description()
            ))),
            Ok(Err(e)) => Err(unavailable(format!(
                "no Secret Service: the D-Bus session bus refused the query ({e})"
            ))),
            Err(_) => Err(unavailable(format!(
                "no Secret Service: the D-Bus session bus did not answer within {} s",
                PROBE_TIMEOUT.as_secs()
            ))),
        }
    }

    /// The `username` attribute of every item of `service` that `keyring` would find with the
    /// default target (items it wrote, and older ones without a `target`). Reading attributes needs
    /// no unlock and no secret.
    pub(super) async fn accounts(service: &str) -> Result<Vec<String>> {
        use secret_service::{EncryptionType, SecretService};
        probe().await?;
        let search = async {
            // Plain: no secret crosses the bus, so no session key is negotiated.
            let ss = SecretService::connect(EncryptionType::Plain).await?;
            let found = ss
                .search_items(HashMap::from([("service", service)]))
                .await?;
            let mut names = Vec::new();
            for item in found.unlocked.iter().chain(found.locked.iter()) {
                let attrs = item.get_attributes().await?;
                let default_target = attrs.get("target").is_none_or(|t| t == "default");
                if let (true, Some(user)) = (default_target, attrs.get("username")) {
                    names.push(user.clone());
                }
            }
            Ok::<_, secret_service::Error>(names)
        };
        match tokio::time::timeout(CALL_TIMEOUT, search).await {
            Ok(Ok(names)) => Ok(names),
            Ok(Err(e)) => Err(unavailable(format!(
                "keychain:{service}: searching the Secret Service failed: {e}"
            ))),
            Err(_) => Err(unavailable(format!(
                "keychain:{service}: the Secret Service did not answer within {} s",
                CALL_TIMEOUT.as_secs()
            ))),
        }
    }
}

#[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
mod secret_service {
    use super::{unavailable, Result};

    pub(super) async fn accounts(service: &str) -> Result<Vec<String>> {
        Err(unavailable(format!(
            "keychain:{service}: this keychain cannot be searched; use the index"
        )))
    }
}

// ---------------------------------------------------------------------------------------------
// This package's own items.
// ---------------------------------------------------------------------------------------------

/// This package's own keychain items: account = credential name, secret = the Vault layout's JSON.
#[derive(Debug, Clone)]
pub struct KeychainProvider {
    service: String,
    listing: ListStrategy,
}

impl KeychainProvider {
    /// Items under `service` (`openclaw-vault` in production; tests use a unique one), listed the
    /// way this platform allows.
    pub fn new(service: impl Into<String>) -> Self {
        Self::with_list_strategy(service, ListStrategy::platform_default())
    }

    /// Items under `service`, listed with `listing` (tests run the index strategy on Linux too).
    pub fn with_list_strategy(service: impl Into<String>, listing: ListStrategy) -> Self {
        KeychainProvider {
            service: service.into(),
            listing,
        }
    }

    /// The service name items are stored under.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Removes the item `name` (and its index entry); `false` when there was none.
    pub async fn delete(&self, name: &str) -> Result<bool> {
        check_name(name)?;
        let existed = delete_item(&self.service, name).await?;
        if self.listing == ListStrategy::Index {
            self.update_index(|names| names.retain(|n| n != name))
                .await?;
        }
        Ok(existed)
    }

    async fn read_index(&self) -> Result<Vec<String>> {
        let Some(text) = read_item(&self.service, INDEX_ACCOUNT).await? else {
            return Ok(Vec::new());
        };
        serde_json::from_str::<Vec<String>>(&text).map_err(|_| {
            invalid_source(format!(
                "{}: the name index is not a JSON array of strings",
                location(&self.service, INDEX_ACCOUNT)
            ))
        })
    }

    /// Read-modify-write of the index. Two processes writing at once can drop a name from it (the
    /// keychain has no compare-and-swap); the item itself is never lost, only its listing.
    async fn update_index(&self, change: impl FnOnce(&mut Vec<String>)) -> Result<()> {
        let mut names = self.read_index().await?;
        let before = names.clone();
        change(&mut names);
        names.sort();
        names.dedup();
        if names == before {
            return Ok(());
        }
        let text = serde_json::to_string(&names).unwrap_or_else(|_| "[]".into());
        write_item(&self.service, INDEX_ACCOUNT, Zeroizing::new(text)).await
    }
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::invalid_argument(
            "a keychain credential needs a non-empty name",
        ));
    }
    if name == INDEX_ACCOUNT {
        return Err(Error::invalid_argument(format!(
            "`{INDEX_ACCOUNT}` is reserved for the keychain's name index"
        )));
    }
    Ok(())
}

#[async_trait]
impl CredentialProvider for KeychainProvider {
    fn id(&self) -> &'static str {
        "keychain"
    }

    fn group(&self) -> SourceGroup {
        SourceGroup::Keychain
    }

    async fn get(&self, name: &str) -> Result<Option<Credential>> {
        if name.is_empty() || name == INDEX_ACCOUNT {
            return Ok(None);
        }
        let Some(text) = read_item(&self.service, name).await? else {
            return Ok(None);
        };
        let what = location(&self.service, name);
        if let Some(token) = bare_token(&text) {
            let mut object = Map::new();
            object.insert("token".into(), Value::String(token.to_string()));
            let mut object = ZeroizingJson(Value::Object(object));
            let parsed = from_fields(object.0.as_object().expect("built as an object"), &what);
            object.zeroize();
            return Ok(Some(parsed?.into_credential(
                name,
                source(self.id(), &self.service, name),
                CredentialVersion::None,
            )));
        }
        let json = parse_object(&text, &self.service, name)?;
        let object = json.0.as_object().expect("parse_object checked");
        Ok(Some(from_fields(object, &what)?.into_credential(
            name,
            source(self.id(), &self.service, name),
            CredentialVersion::None,
        )))
    }

    async fn list(&self) -> Result<Vec<Listing>> {
        let mut names = match self.listing {
            ListStrategy::Search => secret_service::accounts(&self.service).await?,
            ListStrategy::Index => self.read_index().await?,
        };
        names.retain(|n| n != INDEX_ACCOUNT && !n.is_empty());
        names.sort();
        names.dedup();
        Ok(names
            .into_iter()
            .map(|name| Listing {
                location: location(&self.service, &name),
                name,
            })
            .collect())
    }

    fn writable(&self) -> bool {
        true
    }

    /// Stores `credential` under its name. The keychain has no versions: `expected` is not
    /// checked and the last writer wins.
    async fn put(
        &self,
        credential: &Credential,
        _expected: Option<&CredentialVersion>,
    ) -> Result<CredentialVersion> {
        check_name(&credential.name)?;
        let mut data = ZeroizingJson(Value::Object(credential.to_vault_data()));
        let text = Zeroizing::new(serde_json::to_string(&data.0).unwrap_or_default());
        data.zeroize();
        write_item(&self.service, &credential.name, text).await?;
        if self.listing == ListStrategy::Index {
            let name = credential.name.clone();
            if let Err(e) = self.update_index(|names| names.push(name)).await {
                // The credential is stored; only `list` may miss it until the next put.
                tracing::warn!(
                    service = %self.service,
                    name = %credential.name,
                    "keychain name index not updated: {}",
                    e.message
                );
            }
        }
        Ok(CredentialVersion::None)
    }
}

// ---------------------------------------------------------------------------------------------
// Claude Code's item.
// ---------------------------------------------------------------------------------------------

/// Claude Code's keychain item (`{"claudeAiOauth": {...}, ...}`), as the `anthropic` OAuth
/// credential.
#[derive(Debug, Clone)]
pub struct ClaudeCodeKeychainProvider {
    service: String,
    accounts: Vec<String>,
}

/// Claude Code's item found under one of the candidate accounts.
struct ClaudeCodeItem {
    account: String,
    json: ZeroizingJson,
}

impl ClaudeCodeKeychainProvider {
    /// The item under `service`, looked up under each of `accounts` in order (see
    /// [`claude_code_accounts`]); `put` creates it under the first when there is none.
    pub fn new(service: impl Into<String>, accounts: Vec<String>) -> Self {
        ClaudeCodeKeychainProvider {
            service: service.into(),
            accounts,
        }
    }

    /// The first candidate account holding an item with a `claudeAiOauth` key. An item without one
    /// (Claude Code also keeps MCP-only items) is passed over.
    async fn find(&self) -> Result<Option<ClaudeCodeItem>> {
        for account in &self.accounts {
            let Some(text) = read_item(&self.service, account).await? else {
                continue;
            };
            let json = parse_object(&text, &self.service, account)?;
            if !matches!(json.0.get("claudeAiOauth"), None | Some(Value::Null)) {
                return Ok(Some(ClaudeCodeItem {
                    account: account.clone(),
                    json,
                }));
            }
        }
        Ok(None)
    }
}

/// Reads `claudeAiOauth` into an OAuth credential (the layout is the file's: see
/// [`CLAUDE_CODE`]).
fn claude_code_credential(
    item: &ClaudeCodeItem,
    service: &str,
    provider: &'static str,
) -> Result<Credential> {
    let here = location(service, &item.account);
    let found = CLAUDE_CODE
        .read(&item.json.0, &here, ANTHROPIC)?
        .ok_or_else(|| invalid_source(format!("{here}: holds no `claudeAiOauth`")))?;
    Ok(found.fields.into_credential(
        ANTHROPIC,
        source(provider, service, &item.account),
        CredentialVersion::None,
    ))
}

#[async_trait]
impl CredentialProvider for ClaudeCodeKeychainProvider {
    fn id(&self) -> &'static str {
        "claude-code-keychain"
    }

    fn group(&self) -> SourceGroup {
        SourceGroup::Keychain
    }

    async fn get(&self, name: &str) -> Result<Option<Credential>> {
        if name != ANTHROPIC {
            return Ok(None);
        }
        match self.find().await? {
            Some(item) => claude_code_credential(&item, &self.service, self.id()).map(Some),
            None => Ok(None),
        }
    }

    async fn list(&self) -> Result<Vec<Listing>> {
        Ok(self
            .find()
            .await?
            .map(|item| Listing {
                name: ANTHROPIC.to_string(),
                location: location(&self.service, &item.account),
            })
            .into_iter()
            .collect())
    }

    /// Refused: Claude Code owns these tokens, and a refresh token written here by anyone but
    /// Claude Code would be one it can no longer use. `UNSUPPORTED_OPERATION` naming Claude
    /// Code's login command (`INVALID_ARGUMENT` for a name the item does not hold).
    async fn put(
        &self,
        credential: &Credential,
        _expected: Option<&CredentialVersion>,
    ) -> Result<CredentialVersion> {
        let what = format!("Claude Code's keychain item (service {})", self.service);
        Err(CLAUDE_CODE
            .check_writable(&credential.name, &what)
            .err()
            .unwrap_or_else(|| {
                Error::new(
                    ErrorCode::UnsupportedOperation,
                    format!("{what} is read-only"),
                )
            }))
    }
}

// ---------------------------------------------------------------------------------------------
// Codex's item.
// ---------------------------------------------------------------------------------------------

/// Codex CLI's keychain item (the JSON of `auth.json`, read through the same [`CODEX`] format):
/// `openai` from `OPENAI_API_KEY`, `openai-codex` from `tokens`. Read-only: Codex refreshes its
/// own tokens.
#[derive(Debug, Clone)]
pub struct CodexKeychainProvider {
    service: String,
    account: String,
}

impl CodexKeychainProvider {
    /// The item at `service/account`.
    pub fn new(service: impl Into<String>, account: impl Into<String>) -> Self {
        CodexKeychainProvider {
            service: service.into(),
            account: account.into(),
        }
    }

    /// The item Codex keeps for `codex_home` (see [`codex_account`]).
    pub fn for_codex_home(service: impl Into<String>, codex_home: &Path) -> Self {
        Self::new(service, codex_account(codex_home))
    }

    async fn read(&self) -> Result<Option<ZeroizingJson>> {
        match read_item(&self.service, &self.account).await? {
            Some(text) => parse_object(&text, &self.service, &self.account).map(Some),
            None => Ok(None),
        }
    }

    /// `name` (`openai` or `openai-codex`) read through Codex's `auth.json` layout ([`CODEX`]).
    fn credential(&self, json: &ZeroizingJson, name: &str) -> Result<Option<Credential>> {
        let here = location(&self.service, &self.account);
        Ok(CODEX.read(&json.0, &here, name)?.map(|found| {
            found.fields.into_credential(
                name,
                source(self.id(), &self.service, &self.account),
                CredentialVersion::None,
            )
        }))
    }
}

#[async_trait]
impl CredentialProvider for CodexKeychainProvider {
    fn id(&self) -> &'static str {
        "codex-keychain"
    }

    fn group(&self) -> SourceGroup {
        SourceGroup::Keychain
    }

    async fn get(&self, name: &str) -> Result<Option<Credential>> {
        if name != OPENAI && name != OPENAI_CODEX {
            return Ok(None);
        }
        match self.read().await? {
            Some(json) => self.credential(&json, name),
            None => Ok(None),
        }
    }

    async fn list(&self) -> Result<Vec<Listing>> {
        let Some(json) = self.read().await? else {
            return Ok(Vec::new());
        };
        let mut listings = Vec::new();
        for name in [OPENAI, OPENAI_CODEX] {
            if self.credential(&json, name)?.is_some() {
                listings.push(Listing {
                    name: name.to_string(),
                    location: location(&self.service, &self.account),
                });
            }
        }
        Ok(listings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::{fields, CredentialKind, SecretFields};

    #[test]
    fn a_keychain_that_is_there_but_failed_is_not_absent() {
        let locked = keyring_error(
            keyring::Error::NoStorageAccess("locked".into()),
            OWN_SERVICE,
            "openai",
        );
        assert_eq!(locked.code(), "SOURCE_UNAVAILABLE");
        assert!(!is_absent(&locked), "{}", locked.message);
        assert!(!is_absent(&invalid_source(
            "no Secret Service: a lookalike"
        )));
        assert!(is_absent(&unavailable(
            "no Secret Service: cannot reach the D-Bus session bus"
        )));
    }

    #[test]
    fn item_parse_errors_never_quote_the_item() {
        let c = "sk-live-CANARY-k3y";
        let inputs = [
            format!("{{\"token\": {c}}}"),
            format!("{{\"token\": \"{c}"),
            format!("[\"{c}\"]"),
            format!("\"{c}\""),
            format!("{{\"apiKey\": [\"{c}\"]}}"),
            format!("{{\"accessToken\": {{\"{c}\": 1}}}}"),
            format!("{{\"expiresAt\": \"{c}\", \"token\": \"x\"}}"),
            format!("{{\"kind\": \"oauth\", \"refresh\": \"{c}\"}}"),
            format!("{{\"apiKey\": \"\", \"x\": \"{c}\"}}"),
        ];
        for input in &inputs {
            let message = match parse_object(input, "svc", "acct") {
                Err(e) => e.message,
                Ok(json) => match from_fields(json.0.as_object().unwrap(), "keychain:svc/acct") {
                    Err(e) => e.message,
                    Ok(_) => continue,
                },
            };
            assert!(!message.contains("CANARY"), "{input}: {message}");
        }
    }

    #[test]
    fn a_bare_token_is_recognised_and_json_is_not() {
        assert_eq!(bare_token("ghp_abc123\n"), Some("ghp_abc123"));
        assert_eq!(bare_token("  sk-live-x  "), Some("sk-live-x"));
        for not_bare in [
            "",
            "  ",
            "{\"token\":\"x\"}",
            "[1]",
            "\"x\"",
            "two words",
            "a\nb",
        ] {
            assert_eq!(bare_token(not_bare), None, "{not_bare:?}");
        }
    }
    use openclaw_vault_test_support::env_of;
    use secrecy::ExposeSecret;
    use serde_json::{json, Map};

    fn oauth_credential(name: &str, access: &str, refresh: &str, expires_at: i64) -> Credential {
        let mut secrets = SecretFields::new();
        secrets.insert_str(fields::ACCESS_TOKEN, access);
        secrets.insert_str(fields::REFRESH_TOKEN, refresh);
        let mut metadata = Map::new();
        metadata.insert("scopes".into(), json!(["user:inference"]));
        Credential {
            name: name.into(),
            kind: CredentialKind::OAuth,
            source: CredentialSource {
                provider: "vault",
                group: SourceGroup::Vault,
                location: "secret/openclaw/credentials/x".into(),
                file: None,
                layer: None,
            },
            expires_at: Some(expires_at),
            metadata,
            secrets,
            version: CredentialVersion::Vault(3),
            request_id: None,
        }
    }

    fn token_credential(name: &str, token: &str) -> Credential {
        let mut secrets = SecretFields::new();
        secrets.insert_str(fields::TOKEN, token);
        Credential {
            name: name.into(),
            kind: CredentialKind::Token,
            source: source("vault", "x", "y"),
            expires_at: None,
            metadata: Map::new(),
            secrets,
            version: CredentialVersion::None,
            request_id: None,
        }
    }

    fn secret<'a>(cred: &'a Credential, field: &str) -> &'a str {
        cred.secrets.get(field).unwrap().expose_secret()
    }

    const CLAUDE_JSON: &str = r#"{
        "claudeAiOauth": {
            "accessToken": "sk-ant-oat01-OLDACCESS",
            "refreshToken": "sk-ant-ort01-OLDREFRESH",
            "expiresAt": 1767225600000,
            "scopes": ["user:inference", "user:profile"],
            "subscriptionType": "max",
            "rateLimitTier": "default_claude_max_20x"
        },
        "mcpOAuth": {"github|abc": {"accessToken": "gho_MCPSECRET", "expiresAt": 0}}
    }"#;

    #[test]
    fn claude_code_service_follows_claude_config_dir() {
        assert_eq!(claude_code_service(&env_of(&[])), "Claude Code-credentials");
        assert_eq!(
            claude_code_service(&env_of(&[("CLAUDE_CONFIG_DIR", "")])),
            "Claude Code-credentials"
        );
        // Vectors: `printf %s <dir> | sha256sum | cut -c1-8`; the raw string, not a normalized path.
        assert_eq!(
            claude_code_service(&env_of(&[(
                "CLAUDE_CONFIG_DIR",
                "/Users/test/.claude-work"
            )])),
            "Claude Code-credentials-03abf0ee"
        );
        assert_eq!(
            claude_code_service(&env_of(&[(
                "CLAUDE_CONFIG_DIR",
                "/Users/test/.claude-work/"
            )])),
            "Claude Code-credentials-8bd6f0f5"
        );
    }

    #[test]
    fn claude_code_accounts_try_the_login_name_first() {
        assert_eq!(
            claude_code_accounts(&env_of(&[("USER", "ada"), ("LOGNAME", "other")])),
            vec!["ada".to_string(), "Claude Code".to_string()]
        );
        assert_eq!(
            claude_code_accounts(&env_of(&[("LOGNAME", "bob")])),
            vec!["bob".to_string(), "Claude Code".to_string()]
        );
        assert_eq!(claude_code_accounts(&env_of(&[])), vec!["Claude Code"]);
    }

    #[test]
    fn codex_account_is_codex_clis_hash_of_its_home() {
        // `printf %s /nonexistent/codex-home | sha256sum | cut -c1-16`; a missing home is hashed
        // as written, like Codex does.
        assert_eq!(
            codex_account(Path::new("/nonexistent/codex-home")),
            "cli|b5d85b424b15c4d9"
        );
        // An existing home is canonicalized first: a symlink hashes like its target.
        #[cfg(unix)]
        {
            let dir = std::env::temp_dir().join(format!("ocv-codex-home-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let link = dir.with_extension("link");
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(&dir, &link).unwrap();
            assert_eq!(codex_account(&link), codex_account(&dir));
            let _ = std::fs::remove_file(&link);
            let _ = std::fs::remove_dir(&dir);
        }
    }

    #[test]
    fn claude_code_and_codex_items_have_their_clis_as_owner() {
        use super::super::files::formats::{cli_owner, CLAUDE_CODE_CLI, CODEX_CLI};
        let claude = ClaudeCodeKeychainProvider::new("s", vec!["a".into()]);
        let codex = CodexKeychainProvider::new("s", "a");
        assert_eq!(cli_owner(claude.id(), "anthropic"), Some(&CLAUDE_CODE_CLI));
        assert_eq!(cli_owner(codex.id(), "openai-codex"), Some(&CODEX_CLI));
        // Codex's API key is not single-use: nobody owns it in this sense.
        assert_eq!(cli_owner(codex.id(), "openai"), None);
        assert_eq!(
            cli_owner(KeychainProvider::new("s").id(), "anthropic"),
            None
        );
        assert!(!claude.writable() && !codex.writable());
        // The layout's writer refuses the owned entry, whoever calls it.
        let existing: Value = serde_json::from_str(CLAUDE_JSON).unwrap();
        let cred = oauth_credential("anthropic", "NEWACCESS", "NEWREFRESH", 42);
        let err = CLAUDE_CODE
            .merge(Some(&existing), &cred, std::time::SystemTime::now())
            .unwrap_err();
        assert_eq!(err.code(), "UNSUPPORTED_OPERATION");
        assert!(
            err.message.contains("`claude auth login`"),
            "{}",
            err.message
        );
        assert!(!err.message.contains("NEWACCESS") && !err.message.contains("NEWREFRESH"));
    }

    /// Everything that needs a session bus: the unavailable cases (no bus, a bus without a
    /// Secret Service, a locked keyring) and the real-daemon tests.
    #[cfg(any(target_os = "linux", target_os = "freebsd"))]
    mod on_secret_service {
        use super::*;
        use std::time::{Instant, SystemTime, UNIX_EPOCH};

        /// Set by `scripts/with-secret-service.sh` when a real Secret Service is on the session bus.
        const DAEMON_FLAG: &str = "OPENCLAW_VAULT_TEST_SECRET_SERVICE";
        /// Tells a re-executed test binary that it is the child of a no-daemon test.
        const CHILD_FLAG: &str = "OPENCLAW_VAULT_KEYCHAIN_CHILD";

        /// Tells the parent test, which reads this child's output, that the child's checks ran.
        #[allow(clippy::print_stdout)] // stdout is the channel the parent reads.
        fn report_child_ran() {
            println!("child-check-ran");
        }

        fn daemon(test: &str) -> bool {
            if std::env::var(DAEMON_FLAG).as_deref() == Ok("1") {
                return true;
            }
            // CI asks for the daemon explicitly: a skip there would hide the keychain tests.
            assert_ne!(
                std::env::var("CI_REQUIRE_SECRET_SERVICE").as_deref(),
                Ok("1"),
                "{test}: CI_REQUIRE_SECRET_SERVICE=1 but no Secret Service was set up"
            );
            eprintln!(
                "SKIPPED keychain::{test}: needs a real Secret Service; run under scripts/with-secret-service.sh"
            );
            false
        }

        /// A service no real item uses, so tests never touch a user's items.
        fn unique_service(tag: &str) -> String {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            format!("openclaw-vault-test-{}-{nanos}-{tag}", std::process::id())
        }

        /// Writes an item straight through keyring, the way Claude Code's or Codex's would exist.
        async fn raw_set(service: &str, account: &str, text: &str) {
            let (s, a, t) = (service.to_string(), account.to_string(), text.to_string());
            tokio::task::spawn_blocking(move || {
                keyring::Entry::new(&s, &a)
                    .and_then(|e| e.set_password(&t))
                    .expect("raw keyring write")
            })
            .await
            .unwrap();
        }

        /// Reads an item straight through keyring; `None` when absent.
        async fn raw_get(service: &str, account: &str) -> Option<String> {
            let (s, a) = (service.to_string(), account.to_string());
            tokio::task::spawn_blocking(move || {
                match keyring::Entry::new(&s, &a).and_then(|e| e.get_password()) {
                    Ok(text) => Some(text),
                    Err(keyring::Error::NoEntry) => None,
                    Err(e) => panic!("raw keyring read failed: {e}"),
                }
            })
            .await
            .unwrap()
        }

        async fn raw_delete(service: &str, account: &str) {
            delete_item(service, account).await.expect("cleanup");
        }

        /// Runs this test binary again as a child, running only `test` with `set` added to and
        /// `unset` removed from its environment; returns its output after checking it passed and that
        /// the child's check really ran (it prints `child-check-ran`).
        fn run_child(test: &str, set: &[(&str, String)], unset: &[&str]) -> String {
            let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
            cmd.args([
                "--exact",
                &format!("providers::keychain::tests::on_secret_service::{test}"),
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_FLAG, "1");
            for (k, v) in set {
                cmd.env(k, v);
            }
            for k in unset {
                cmd.env_remove(k);
            }
            let out = cmd.output().expect("re-run the test binary");
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.status.success(), "child {test} failed:\n{text}");
            assert!(
                text.contains("child-check-ran"),
                "child {test} did not run its check:\n{text}"
            );
            text
        }

        /// In the child: every provider answers SOURCE_UNAVAILABLE fast, with `expect` in the message.
        async fn assert_unavailable_everywhere(expect: &str) {
            let providers: Vec<Arc<dyn CredentialProvider>> = vec![
                Arc::new(KeychainProvider::new(unique_service("down"))),
                Arc::new(ClaudeCodeKeychainProvider::new(
                    unique_service("down-claude"),
                    vec!["someone".into()],
                )),
                Arc::new(CodexKeychainProvider::new(
                    unique_service("down-codex"),
                    "cli|0",
                )),
            ];
            for provider in providers {
                let name = if provider.id() == "codex-keychain" {
                    "openai"
                } else {
                    "anthropic"
                };
                let started = Instant::now();
                let err = provider.get(name).await.unwrap_err();
                let took = started.elapsed();
                assert_eq!(err.code(), "SOURCE_UNAVAILABLE", "{}", err.message);
                assert!(err.message.contains(expect), "{}", err.message);
                assert!(took < Duration::from_secs(1), "took {took:?}");
                let err = provider.list().await.unwrap_err();
                assert_eq!(err.code(), "SOURCE_UNAVAILABLE", "{}", err.message);
                assert!(is_absent(&err), "{}", err.message);
            }
            let err = KeychainProvider::new(unique_service("down"))
                .put(&token_credential("telegram", "123:abc"), None)
                .await
                .unwrap_err();
            assert_eq!(err.code(), "SOURCE_UNAVAILABLE");
            report_child_ran();
        }

        #[tokio::test]
        async fn unavailable_when_the_bus_address_is_dead() {
            if std::env::var(CHILD_FLAG).is_ok() {
                assert_unavailable_everywhere("DBUS_SESSION_BUS_ADDRESS=unix:path=").await;
                return;
            }
            let socket = std::env::temp_dir().join(format!("ocv-no-bus-{}", std::process::id()));
            let out = run_child(
                "unavailable_when_the_bus_address_is_dead",
                &[(
                    "DBUS_SESSION_BUS_ADDRESS",
                    format!("unix:path={}", socket.display()),
                )],
                &[],
            );
            assert!(out.contains("1 passed"), "{out}");
        }

        #[tokio::test]
        async fn unavailable_when_no_bus_is_configured() {
            if std::env::var(CHILD_FLAG).is_ok() {
                assert_unavailable_everywhere("DBUS_SESSION_BUS_ADDRESS unset, and no bus at")
                    .await;
                return;
            }
            let runtime =
                std::env::temp_dir().join(format!("ocv-no-runtime-{}", std::process::id()));
            run_child(
                "unavailable_when_no_bus_is_configured",
                &[("XDG_RUNTIME_DIR", runtime.display().to_string())],
                &["DBUS_SESSION_BUS_ADDRESS"],
            );
        }

        /// A real session bus (a private dbus-daemon) on which nothing provides or can activate a
        /// Secret Service.
        #[tokio::test]
        async fn unavailable_when_the_bus_has_no_secret_service() {
            if std::env::var(CHILD_FLAG).is_ok() {
                assert_unavailable_everywhere("nothing provides org.freedesktop.secrets").await;
                return;
            }
            let Ok(dbus_daemon) = which("dbus-daemon") else {
                eprintln!(
                    "SKIPPED keychain::unavailable_when_the_bus_has_no_secret_service: no dbus-daemon"
                );
                return;
            };
            let dir = std::env::temp_dir().join(format!("ocv-bare-bus-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let config = dir.join("session.conf");
            // No <servicedir>: nothing can be activated, unlike a desktop session.
            std::fs::write(
                &config,
                format!(
                    r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
     "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
    <busconfig>
      <type>session</type>
      <listen>unix:path={}/bus</listen>
      <auth>EXTERNAL</auth>
      <policy context="default">
        <allow send_destination="*" eavesdrop="true"/>
        <allow eavesdrop="true"/>
        <allow own="*"/>
      </policy>
    </busconfig>
    "#,
                    dir.display()
                ),
            )
            .unwrap();
            let mut daemon = std::process::Command::new(dbus_daemon)
                .args(["--nofork", "--print-address=1"])
                .arg(format!("--config-file={}", config.display()))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("start dbus-daemon");
            // The daemon prints its address once it listens.
            let mut address = String::new();
            std::io::BufRead::read_line(
                &mut std::io::BufReader::new(daemon.stdout.take().unwrap()),
                &mut address,
            )
            .unwrap();
            let result = std::panic::catch_unwind(|| {
                run_child(
                    "unavailable_when_the_bus_has_no_secret_service",
                    &[("DBUS_SESSION_BUS_ADDRESS", address.trim().to_string())],
                    &[],
                )
            });
            let _ = daemon.kill();
            let _ = daemon.wait();
            let _ = std::fs::remove_dir_all(&dir);
            if let Err(panic) = result {
                std::panic::resume_unwind(panic);
            }
        }

        fn which(program: &str) -> std::result::Result<std::path::PathBuf, ()> {
            std::env::var_os("PATH")
                .and_then(|paths| {
                    std::env::split_paths(&paths)
                        .map(|dir| dir.join(program))
                        .find(|p| p.is_file())
                })
                .ok_or(())
        }

        // Real Secret Service (the daemon started by scripts/with-secret-service.sh).

        #[tokio::test]
        async fn own_items_round_trip() {
            if !daemon("own_items_round_trip") {
                return;
            }
            let service = unique_service("roundtrip");
            let provider = KeychainProvider::new(&service);
            let cred = oauth_credential(
                "anthropic",
                "sk-ant-oat01-AAA",
                "sk-ant-ort01-RRR",
                1_767_225_600_000,
            );
            assert_eq!(
                provider.put(&cred, None).await.unwrap(),
                CredentialVersion::None
            );

            let got = provider.get("anthropic").await.unwrap().expect("stored");
            assert_eq!(got.kind, CredentialKind::OAuth);
            assert!(got.secrets.same_as(&cred.secrets));
            assert_eq!(secret(&got, "accessToken"), "sk-ant-oat01-AAA");
            assert_eq!(got.expires_at, Some(1_767_225_600_000));
            assert_eq!(got.metadata["scopes"], json!(["user:inference"]));
            assert_eq!(got.version, CredentialVersion::None);
            assert_eq!(got.source.provider, "keychain");
            assert_eq!(got.source.group, SourceGroup::Keychain);
            assert_eq!(got.source.location, format!("keychain:{service}/anthropic"));

            // The item holds the Vault layout's JSON.
            let raw: Value =
                serde_json::from_str(&raw_get(&service, "anthropic").await.unwrap()).unwrap();
            assert_eq!(raw, Value::Object(cred.to_vault_data()));

            // Last writer wins.
            provider
                .put(
                    &token_credential("anthropic", "second-token"),
                    Some(&CredentialVersion::Vault(1)),
                )
                .await
                .unwrap();
            let got = provider.get("anthropic").await.unwrap().unwrap();
            assert_eq!(got.kind, CredentialKind::Token);
            assert_eq!(secret(&got, "token"), "second-token");
            assert_eq!(got.expires_at, None);

            assert!(provider.delete("anthropic").await.unwrap());
            assert!(provider.get("anthropic").await.unwrap().is_none());
            assert!(!provider.delete("anthropic").await.unwrap());
        }

        #[tokio::test]
        async fn own_items_are_listed_by_search_and_by_index() {
            if !daemon("own_items_are_listed_by_search_and_by_index") {
                return;
            }
            // Search (the Secret Service way).
            let service = unique_service("list-search");
            let provider = KeychainProvider::with_list_strategy(&service, ListStrategy::Search);
            assert!(provider.list().await.unwrap().is_empty());
            for name in ["telegram", "anthropic"] {
                provider
                    .put(&token_credential(name, "t"), None)
                    .await
                    .unwrap();
            }
            // An item of another service is not listed.
            let other = unique_service("list-other");
            raw_set(&other, "discord", "{\"token\":\"x\"}").await;
            let listed = provider.list().await.unwrap();
            assert_eq!(
                listed,
                vec![
                    Listing {
                        name: "anthropic".into(),
                        location: format!("keychain:{service}/anthropic")
                    },
                    Listing {
                        name: "telegram".into(),
                        location: format!("keychain:{service}/telegram")
                    },
                ]
            );

            // Index (the macOS and Windows way), run against the same real keychain.
            let indexed = unique_service("list-index");
            let provider_ix = KeychainProvider::with_list_strategy(&indexed, ListStrategy::Index);
            assert!(provider_ix.list().await.unwrap().is_empty());
            for name in ["telegram", "anthropic", "telegram"] {
                provider_ix
                    .put(&token_credential(name, "t"), None)
                    .await
                    .unwrap();
            }
            let names: Vec<String> = provider_ix
                .list()
                .await
                .unwrap()
                .into_iter()
                .map(|l| l.name)
                .collect();
            assert_eq!(names, ["anthropic", "telegram"]);
            let index: Vec<String> =
                serde_json::from_str(&raw_get(&indexed, INDEX_ACCOUNT).await.expect("index item"))
                    .unwrap();
            assert_eq!(index, ["anthropic", "telegram"]);
            // The index is never a credential, and a search-listing of the same service hides it.
            assert!(provider_ix.get(INDEX_ACCOUNT).await.unwrap().is_none());
            let err = provider_ix
                .put(&token_credential(INDEX_ACCOUNT, "t"), None)
                .await
                .unwrap_err();
            assert_eq!(err.code(), "INVALID_ARGUMENT");
            let searched: Vec<String> =
                KeychainProvider::with_list_strategy(&indexed, ListStrategy::Search)
                    .list()
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|l| l.name)
                    .collect();
            assert_eq!(searched, ["anthropic", "telegram"]);
            assert!(provider_ix.delete("telegram").await.unwrap());
            let names: Vec<String> = provider_ix
                .list()
                .await
                .unwrap()
                .into_iter()
                .map(|l| l.name)
                .collect();
            assert_eq!(names, ["anthropic"]);

            for name in ["telegram", "anthropic"] {
                raw_delete(&service, name).await;
            }
            raw_delete(&other, "discord").await;
            raw_delete(&indexed, "anthropic").await;
            raw_delete(&indexed, INDEX_ACCOUNT).await;
        }

        #[tokio::test]
        async fn claude_code_item_is_read_and_never_written() {
            if !daemon("claude_code_item_is_read_and_never_written") {
                return;
            }
            let service = unique_service("claude");
            raw_set(&service, "ada", CLAUDE_JSON).await;
            let provider =
                ClaudeCodeKeychainProvider::new(&service, vec!["nobody".into(), "ada".into()]);

            assert!(provider.get("openai").await.unwrap().is_none());
            let got = provider
                .get("anthropic")
                .await
                .unwrap()
                .expect("found under the second account");
            assert_eq!(got.kind, CredentialKind::OAuth);
            assert_eq!(secret(&got, "accessToken"), "sk-ant-oat01-OLDACCESS");
            assert_eq!(secret(&got, "refreshToken"), "sk-ant-ort01-OLDREFRESH");
            assert_eq!(got.expires_at, Some(1_767_225_600_000));
            assert_eq!(got.metadata["subscriptionType"], "max");
            assert_eq!(
                got.metadata["scopes"],
                json!(["user:inference", "user:profile"])
            );
            assert!(got.metadata.get("accessToken").is_none());
            assert_eq!(got.source.provider, "claude-code-keychain");
            assert_eq!(got.source.location, format!("keychain:{service}/ada"));
            assert_eq!(
                provider.list().await.unwrap(),
                vec![Listing {
                    name: "anthropic".into(),
                    location: format!("keychain:{service}/ada")
                }]
            );

            // Claude Code owns the item: put is refused and nothing is written.
            let refreshed = oauth_credential(
                "anthropic",
                "sk-ant-oat01-NEW",
                "sk-ant-ort01-NEW",
                1_800_000_000_000,
            );
            let err = provider.put(&refreshed, None).await.unwrap_err();
            assert_eq!(err.code(), "UNSUPPORTED_OPERATION");
            assert!(
                err.message.contains("`claude auth login`"),
                "{}",
                err.message
            );
            assert_eq!(raw_get(&service, "ada").await.unwrap(), CLAUDE_JSON);
            assert!(raw_get(&service, "nobody").await.is_none());

            // An item without claudeAiOauth (MCP tokens only) is passed over, and never given one.
            let fresh = unique_service("claude-fresh");
            raw_set(&fresh, "ada", r#"{"mcpOAuth":{}}"#).await;
            let provider = ClaudeCodeKeychainProvider::new(&fresh, vec!["ada".into()]);
            assert!(provider.get("anthropic").await.unwrap().is_none());
            assert!(provider.list().await.unwrap().is_empty());
            assert!(provider.put(&refreshed, None).await.is_err());
            assert_eq!(raw_get(&fresh, "ada").await.unwrap(), r#"{"mcpOAuth":{}}"#);

            raw_delete(&service, "ada").await;
            raw_delete(&fresh, "ada").await;
        }

        #[tokio::test]
        async fn codex_item_is_read_only() {
            if !daemon("codex_item_is_read_only") {
                return;
            }
            let service = unique_service("codex");
            let provider = CodexKeychainProvider::for_codex_home(
                &service,
                Path::new("/nonexistent/codex-home"),
            );
            let account = "cli|b5d85b424b15c4d9";
            raw_set(
                &service,
                account,
                r#"{"auth_mode":"chatgpt","OPENAI_API_KEY":"sk-proj-KEY",
                    "tokens":{"id_token":"eyJ.ID","access_token":"eyJ.ACCESS","refresh_token":"rt_REFRESH","account_id":"acct-1"},
                    "last_refresh":"2026-11-01T10:00:00Z"}"#,
            )
            .await;

            let key = provider.get("openai").await.unwrap().unwrap();
            assert_eq!(key.kind, CredentialKind::ApiKey);
            assert_eq!(secret(&key, "apiKey"), "sk-proj-KEY");
            assert_eq!(key.source.location, format!("keychain:{service}/{account}"));
            let oauth = provider.get("openai-codex").await.unwrap().unwrap();
            assert_eq!(oauth.kind, CredentialKind::OAuth);
            assert_eq!(secret(&oauth, "accessToken"), "eyJ.ACCESS");
            assert_eq!(secret(&oauth, "refreshToken"), "rt_REFRESH");
            assert_eq!(secret(&oauth, "idToken"), "eyJ.ID");
            assert_eq!(oauth.metadata["accountId"], "acct-1");
            assert_eq!(oauth.metadata["authMode"], "chatgpt");
            assert_eq!(oauth.source.provider, "codex-keychain");
            let names: Vec<String> = provider
                .list()
                .await
                .unwrap()
                .into_iter()
                .map(|l| l.name)
                .collect();
            assert_eq!(names, ["openai", "openai-codex"]);

            assert!(!provider.writable());
            let err = provider.put(&oauth, None).await.unwrap_err();
            assert_eq!(err.code(), "UNSUPPORTED_OPERATION");

            // A ChatGPT login without an API key holds only the OAuth credential.
            raw_set(
                &service,
                account,
                r#"{"OPENAI_API_KEY":null,"tokens":{"access_token":"eyJ.A"}}"#,
            )
            .await;
            assert!(provider.get("openai").await.unwrap().is_none());
            assert!(provider.get("openai-codex").await.unwrap().is_some());
            raw_delete(&service, account).await;
        }

        #[tokio::test]
        async fn malformed_items_are_invalid_source_without_the_value() {
            if !daemon("malformed_items_are_invalid_source_without_the_value") {
                return;
            }
            let service = unique_service("malformed");
            let check = |err: Error, place: &str, path: Option<&str>| {
                assert_eq!(err.code(), "INVALID_SOURCE", "{}", err.message);
                assert!(err.message.contains(place), "{}", err.message);
                if let Some(path) = path {
                    assert!(
                        err.message.contains(&format!("`{path}`")),
                        "{}",
                        err.message
                    );
                }
                assert!(!err.message.contains("SEKRIT"), "{}", err.message);
            };

            // Own item: not JSON, and JSON of the wrong shape.
            let own = KeychainProvider::new(&service);
            raw_set(&service, "broken", r#"{"apiKey": "sk-SEKRIT-1", "#).await;
            let err = own.get("broken").await.unwrap_err();
            check(err, &format!("keychain:{service}/broken"), None);
            raw_set(&service, "array", r#"["sk-SEKRIT-2"]"#).await;
            check(
                own.get("array").await.unwrap_err(),
                &format!("keychain:{service}/array"),
                Some("$"),
            );
            raw_set(&service, "typed", r#"{"apiKey": ["sk-SEKRIT-3"]}"#).await;
            let err = own.get("typed").await.unwrap_err();
            assert!(err.message.contains("apiKey"), "{}", err.message);
            check(err, &format!("keychain:{service}/typed"), None);

            // Claude Code's item: a token of the wrong type, and a wrong claudeAiOauth.
            raw_set(
                &service,
                "claude",
                r#"{"claudeAiOauth":{"accessToken":12,"refreshToken":"SEKRIT"}}"#,
            )
            .await;
            let claude = ClaudeCodeKeychainProvider::new(&service, vec!["claude".into()]);
            check(
                claude.get("anthropic").await.unwrap_err(),
                &format!("keychain:{service}/claude"),
                Some("claudeAiOauth.accessToken"),
            );
            raw_set(&service, "claude", r#"{"claudeAiOauth":"SEKRIT"}"#).await;
            check(
                claude.get("anthropic").await.unwrap_err(),
                "claude",
                Some("claudeAiOauth"),
            );
            // put never writes Claude Code's item, broken or not.
            let err = claude
                .put(&oauth_credential("anthropic", "a", "r", 1), None)
                .await
                .unwrap_err();
            assert_eq!(err.code(), "UNSUPPORTED_OPERATION");
            assert!(!err.message.contains("SEKRIT"), "{}", err.message);
            assert_eq!(
                raw_get(&service, "claude").await.unwrap(),
                r#"{"claudeAiOauth":"SEKRIT"}"#
            );

            // Codex's item.
            raw_set(
                &service,
                "codex",
                r#"{"tokens":{"access_token":{"v":"SEKRIT"}}}"#,
            )
            .await;
            let codex = CodexKeychainProvider::new(&service, "codex");
            check(
                codex.get("openai-codex").await.unwrap_err(),
                "codex",
                Some("tokens.access_token"),
            );
            raw_set(&service, "codex", r#"{"OPENAI_API_KEY":"sk-SEKRIT" "#).await;
            check(codex.get("openai").await.unwrap_err(), "codex", None);

            for account in ["broken", "array", "typed", "claude", "codex"] {
                raw_delete(&service, account).await;
            }
        }

        /// A locked collection whose unlock prompt cannot be shown (no display, as on a server):
        /// `SOURCE_UNAVAILABLE` at once, and listing still works (attributes need no unlock). Runs in
        /// its own throwaway keyring, since locking the shared one would disturb the other tests.
        #[tokio::test]
        async fn locked_keyring_is_unavailable_fast() {
            if std::env::var(CHILD_FLAG).is_ok() {
                let service = unique_service("locked");
                let provider = KeychainProvider::new(&service);
                provider
                    .put(&token_credential("telegram", "123:SEKRIT"), None)
                    .await
                    .unwrap();
                let ss = ::secret_service::SecretService::connect(
                    ::secret_service::EncryptionType::Plain,
                )
                .await
                .unwrap();
                ss.get_default_collection()
                    .await
                    .unwrap()
                    .lock()
                    .await
                    .unwrap();
                let started = Instant::now();
                let err = provider.get("telegram").await.unwrap_err();
                assert_eq!(err.code(), "SOURCE_UNAVAILABLE", "{}", err.message);
                assert!(err.message.contains("locked"), "{}", err.message);
                assert!(!err.message.contains("SEKRIT"), "{}", err.message);
                assert!(
                    started.elapsed() < Duration::from_secs(2),
                    "{:?}",
                    started.elapsed()
                );
                let names: Vec<String> = provider
                    .list()
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|l| l.name)
                    .collect();
                assert_eq!(names, ["telegram"]);
                report_child_ran();
                return;
            }
            if !daemon("locked_keyring_is_unavailable_fast") {
                return;
            }
            let script = openclaw_vault_test_support::workspace_root()
                .join("scripts/with-secret-service.sh");
            let mut cmd = std::process::Command::new("sh");
            cmd.arg(script)
                .arg(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "providers::keychain::tests::on_secret_service::locked_keyring_is_unavailable_fast",
                    "--nocapture",
                ])
                .env(CHILD_FLAG, "1")
                .env("CI_REQUIRE_SECRET_SERVICE", "1")
                // Without a session bus the script starts a private one with a fresh keyring.
                .env_remove("DBUS_SESSION_BUS_ADDRESS");
            let out = cmd.output().expect("run the child under its own keyring");
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.status.success(), "{text}");
            assert!(text.contains("child-check-ran"), "{text}");
        }

        #[tokio::test]
        async fn missing_items_are_none() {
            if !daemon("missing_items_are_none") {
                return;
            }
            let service = unique_service("missing");
            let own = KeychainProvider::new(&service);
            assert!(own.get("anthropic").await.unwrap().is_none());
            assert!(own.list().await.unwrap().is_empty());
            let claude =
                ClaudeCodeKeychainProvider::new(&service, vec!["ada".into(), "Claude Code".into()]);
            assert!(claude.get("anthropic").await.unwrap().is_none());
            assert!(claude.list().await.unwrap().is_empty());
            let codex = CodexKeychainProvider::new(&service, "cli|0");
            assert!(codex.get("openai").await.unwrap().is_none());
            assert!(codex.get("openai-codex").await.unwrap().is_none());
            assert!(codex.list().await.unwrap().is_empty());
        }
    }
}
