//! The rules that keep a migration from lying or stalling, apart from the plan's layout:
//! - [`check_vault`], one `sys/health` question with a short deadline and no retries before
//!   anything is written: an unreachable, hung or sealed Vault fails the run in seconds with one
//!   error, whether there are 1 or 1,000 credentials (without it each credential waited out its
//!   own retries, one after another, behind the KV version detection);
//! - [`vault_gone`] / [`not_attempted`]: once Vault is lost mid-run, the items not started yet
//!   are not tried; [`past_deadline`]: what an item left unfinished at the run's deadline says;
//! - [`still_in_vault`]: the journal is a shortcut, never the truth: an item it calls done is
//!   read back from Vault, and migrated again when the value is no longer there;
//! - [`skip_reason`]: a name that cannot be a Vault path, or a value that is a redaction
//!   placeholder, skips that one credential with its reason instead of aborting the run.
//!
//! This is not a circuit breaker (the chain has its own): it only decides, once per run, that a
//! run cannot succeed.

use std::time::Duration;

use super::{fingerprint, Outcome, PlanItem};
use crate::credential::Credential;
use crate::error::{Error, ErrorCode, Result};
use crate::providers::vault::VaultProvider;

/// How long the preflight waits for `sys/health`. Vault answers it from memory; a healthy
/// server on a slow link still answers well within this.
pub const PREFLIGHT_DEADLINE: Duration = Duration::from_secs(3);

/// The deadline of a whole `migrate` run from the command line (`--deadline`). 1,000 credentials
/// take about 3 s against a local Vault; this leaves room for a slow remote one.
pub const DEFAULT_RUN_DEADLINE: Duration = Duration::from_secs(600);

/// A credential found but not planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The credential name, as its source lists it.
    pub name: String,
    /// The provider id it was read from.
    pub source_provider: &'static str,
    /// Where in that source (file and entry, variable, keychain item).
    pub source_location: String,
    /// Why, as an error code: `INVALID_ARGUMENT` for both reasons below.
    pub code: &'static str,
    /// Why, for a person: what is wrong and what to do. Never a value.
    pub reason: String,
}

/// Why `name` (read as `credential`) cannot be migrated, if it cannot:
/// - its name is not a Vault path the chain can read back under the same name: an empty, `.` or
///   `..` segment (`<prefix>/credentials/a/../b` would address another secret), or a control
///   character. Spaces and non-ASCII letters are fine: Vault paths are percent-encoded, and
///   `getCredential` reads the same path back;
/// - a secret field holds a redaction placeholder ([`crate::placeholder`]): it is not a secret,
///   and OpenClaw would refuse it anyway.
pub fn skip_reason(vault: &VaultProvider, name: &str, credential: &Credential) -> Option<Skipped> {
    let skipped = |reason: String| Skipped {
        name: name.to_string(),
        source_provider: credential.source.provider,
        source_location: credential.source.location.clone(),
        code: ErrorCode::InvalidArgument.as_str(),
        reason,
    };
    let path = vault.path_of(name).and_then(|p| {
        vault_client::path::ApiPath::parse(&p)
            .map(|_| p)
            .map_err(Error::from)
    });
    if path.is_err() {
        return Some(skipped(format!(
            "the name {name:?} cannot be a Vault path (an empty, `.` or `..` segment, or a control character); rename it in its source ({}) and run migrate again",
            credential.source.location
        )));
    }
    if let Err(e) =
        crate::placeholder::refuse_in_credential(credential, &credential.source.location)
    {
        return Some(skipped(e.message));
    }
    None
}

/// Asks Vault's `sys/health` once, without retries, within `deadline`, before a run writes
/// anything. Unauthenticated: it checks that Vault is there and serving, not the token (a denied
/// write fails at once anyway, without retries). `items` is the number of credentials planned,
/// for the message.
///
/// Errors: `NETWORK` (refused, DNS, reset), `TLS_ERROR`, `TIMEOUT` (no answer within `deadline`:
/// a hung Vault or a black-holed address), `SEALED`, `SERVER_ERROR` (not initialised, or a node
/// that does not serve); each names the address and says that nothing was written.
pub async fn check_vault(
    client: &vault_client::VaultClient,
    deadline: Duration,
    items: usize,
) -> Result<()> {
    let addr = client
        .config()
        .addr
        .as_str()
        .trim_end_matches('/')
        .to_string();
    let nothing = format!("nothing was written ({items} credential(s) planned)");
    // A probe built from the same address, namespace, TLS and proxy settings, but with no token,
    // no login, no renewal, no retries and the short deadline as its timeout: the run's own
    // client keeps its settings for the real work.
    let mut config = client.config().clone();
    config.token = None;
    config.login = None;
    config.renew = false;
    config.retry.max_retries = 0;
    config.timeout = deadline;
    let probe = vault_client::VaultClient::new(config).map_err(Error::from)?;
    let health = match tokio::time::timeout(deadline, probe.health()).await {
        Err(_) => {
            return Err(Error::new(
                ErrorCode::Timeout,
                format!(
                    "Vault at {addr} did not answer sys/health within {} s; {nothing}",
                    deadline.as_secs()
                ),
            ))
        }
        Ok(Err(e)) => {
            let e = Error::from(e);
            return Err(Error::new(
                e.code,
                format!("Vault at {addr} is unreachable ({}); {nothing}", e.message),
            ));
        }
        Ok(Ok(h)) => h,
    };
    if health.sealed {
        return Err(Error::new(
            ErrorCode::Sealed,
            format!("Vault at {addr} is sealed; {nothing}"),
        ));
    }
    if !health.is_healthy() {
        return Err(Error::new(
            ErrorCode::ServerError,
            format!(
                "Vault at {addr} does not serve requests (sys/health status {}, initialized {}); {nothing}",
                health.status, health.initialized
            ),
        ));
    }
    Ok(())
}

/// True when `e` means Vault is gone for this run: the remaining items would each wait out the
/// same failure.
pub fn vault_gone(e: &Error) -> bool {
    matches!(
        e.code,
        ErrorCode::Network | ErrorCode::Timeout | ErrorCode::TlsError | ErrorCode::Sealed
    )
}

/// The outcome of an item not tried because Vault was lost earlier in the run.
pub fn not_attempted(lost: &Error) -> Outcome {
    Outcome::Failed {
        code: lost.code(),
        message: format!(
            "not attempted: Vault was lost earlier in this run ({}); run migrate again once it is back",
            lost.message
        ),
    }
}

/// The outcome of an item unfinished at the run's deadline.
pub fn past_deadline(deadline: Duration) -> Outcome {
    Outcome::Failed {
        code: ErrorCode::Timeout.as_str(),
        message: format!(
            "not finished within the run's deadline of {} s; nothing is claimed for it: run migrate again (what was written is found, not written twice)",
            deadline.as_secs()
        ),
    }
}

/// True when Vault still holds `item`'s planned value (same fingerprint) at its path.
pub async fn still_in_vault(vault: &VaultProvider, item: &PlanItem) -> Result<bool> {
    let path = vault.path_of(&item.name)?;
    let now = vault.client().read(&path, None).await?;
    let fp = now
        .as_ref()
        .and_then(|s| s.data.as_ref())
        .and_then(|d| d.expose_secret().as_object().map(fingerprint));
    Ok(fp.as_deref() == Some(item.fingerprint.as_str()))
}
