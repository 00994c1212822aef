//! `watchCredential`: polls what identifies a credential's current state (each remote store's
//! version of the name, e.g. Vault's metadata `current_version`; a local file's modification time
//! and size; or the values themselves for sources with no version) and calls back when it
//! changes, until stopped.
//!
//! Each wait is the interval less up to a fifth of jitter (so many watchers do not poll in
//! step), never under [`MIN_WAIT`]; after failed checks (Vault away) it doubles per failure up to
//! [`MAX_BACKOFF`] (or the interval, when that is longer), and is back to the interval after the
//! next good check.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch as signal;

use crate::cache::Resolved;
use crate::chain::{CredentialChain, GetOptions};
use crate::credential::{CredentialVersion, SecretFields};
use crate::error::Result;
use crate::providers::ProviderKind;

/// Called with the new credential after each change, or with the error that stopped a check.
pub type WatchCallback = Arc<dyn Fn(Result<Arc<Resolved>>) + Send + Sync>;

/// Stops the watch when `stop` is called or the handle is dropped.
pub struct WatchHandle {
    stop: signal::Sender<bool>,
}

impl WatchHandle {
    /// Stops the watch; no callback runs after the check in progress, if any.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What the cheap part of a check reads, without any secret.
#[derive(Clone, PartialEq)]
struct Versions {
    /// Each remote store's version of the name, in chain order (`None` where a store cannot
    /// tell, e.g. a Vault KV v1 mount; Vault KV v2: `current_version`, 0 when absent).
    stores: Vec<Option<CredentialVersion>>,
    /// The version of the file the credential was read from, for a file source.
    file: Option<CredentialVersion>,
}

/// What a check compares.
#[derive(Clone)]
struct State {
    provider: &'static str,
    versions: Versions,
    /// Values, for sources with no version at all (env, keychain, KV v1).
    values: Option<SecretFields>,
}

impl State {
    fn of(resolved: &Resolved, versions: Versions) -> State {
        let credential = &resolved.credential;
        let versionless = matches!(
            credential.version,
            CredentialVersion::None | CredentialVersion::Vault(0)
        );
        State {
            provider: credential.source.provider,
            versions,
            values: versionless.then(|| credential.secrets.clone()),
        }
    }

    fn differs(&self, other: &State) -> bool {
        self.provider != other.provider
            || self.versions != other.versions
            || match (&self.values, &other.values) {
                (Some(a), Some(b)) => !a.same_as(b),
                (None, None) => false,
                _ => true,
            }
    }
}

/// The cheap part of a check: every remote store's version of the name (asked even when the
/// credential came from elsewhere, so a name newly written to Vault is noticed) and the source
/// file's version. No secret is read.
async fn versions(chain: &CredentialChain, name: &str, current: &Resolved) -> Result<Versions> {
    let mut stores = Vec::new();
    for store in chain
        .providers()
        .iter()
        .filter(|p| p.kind() == ProviderKind::RemoteStore)
    {
        // With a configured agent/team, every layer's version: a change in any of them may
        // change the answer.
        let layers = &chain.settings().layers;
        if store.has_layers() && !layers.is_empty() {
            for layer in layers.layers() {
                stores.push(store.current_version_in(name, &layer).await?);
            }
        } else {
            stores.push(store.current_version(name).await?);
        }
    }
    let file = current
        .credential
        .source
        .file
        .as_deref()
        .map(|f| crate::local_file::stat_version(f).unwrap_or(CredentialVersion::None));
    Ok(Versions { stores, file })
}

struct Baseline {
    resolved: Arc<Resolved>,
    state: State,
}

/// One check: `Some` with the new baseline when the credential changed.
async fn check(
    chain: &Arc<CredentialChain>,
    name: &str,
    before: &Baseline,
) -> Result<Option<Baseline>> {
    let fresh = GetOptions {
        no_cache: true,
        ..GetOptions::default()
    };
    let now = versions(chain, name, &before.resolved).await?;
    let versioned_and_same = before.state.values.is_none() && now == before.state.versions;
    if versioned_and_same {
        return Ok(None);
    }
    let resolved = chain.get(name, &fresh).await?;
    // The source may have moved (e.g. the name now exists in Vault): probe the new one.
    let state = State::of(&resolved, versions(chain, name, &resolved).await?);
    Ok(state
        .differs(&before.state)
        .then_some(Baseline { resolved, state }))
}

/// Starts watching `name`: reads the baseline (its error, e.g. `CREDENTIAL_NOT_FOUND`, is
/// returned), then every `interval` checks the source and calls `callback` with the newly read
/// credential after a change. Errors of later checks go to the callback and the watch goes on.
pub async fn watch(
    chain: Arc<CredentialChain>,
    name: String,
    interval: Duration,
    callback: WatchCallback,
) -> Result<WatchHandle> {
    watch_with_recovery(chain, name, interval, callback, None).await
}

/// Called after the first good check that follows failed ones.
pub type RecoveryCallback = Arc<dyn Fn() + Send + Sync>;

/// [`watch`], and `recovered` is called when a check succeeds after failed ones (whether or not
/// the credential changed), so a caller that reported the failure can report the recovery.
pub async fn watch_with_recovery(
    chain: Arc<CredentialChain>,
    name: String,
    interval: Duration,
    callback: WatchCallback,
    recovered: Option<RecoveryCallback>,
) -> Result<WatchHandle> {
    crate::chain::check_name(&name)?;
    let fresh = GetOptions {
        no_cache: true,
        ..GetOptions::default()
    };
    let resolved = chain.get(&name, &fresh).await?;
    let state = State::of(&resolved, versions(&chain, &name, &resolved).await?);
    let mut baseline = Baseline { resolved, state };
    let (stop, mut stopped) = signal::channel(false);
    tokio::spawn(async move {
        let mut failures: u32 = 0;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(next_wait(interval, failures)) => {}
                _ = stopped.changed() => return,
            }
            let result = check(&chain, &name, &baseline).await;
            if *stopped.borrow() {
                return;
            }
            if result.is_ok() && failures > 0 {
                if let Some(recovered) = &recovered {
                    recovered();
                }
            }
            match result {
                Ok(Some(next)) => {
                    failures = 0;
                    chain.invalidate(&name);
                    callback(Ok(next.resolved.clone()));
                    baseline = next;
                }
                Ok(None) => failures = 0,
                Err(e) => {
                    failures = failures.saturating_add(1);
                    callback(Err(e));
                }
            }
        }
    });
    Ok(WatchHandle { stop })
}

/// The shortest wait between two checks, whatever the interval and jitter: 10 ms.
pub const MIN_WAIT: Duration = Duration::from_millis(10);
/// The longest wait after failed checks (unless the interval itself is longer): 60 s.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// A factor in (0.8, 1.0]: how much of the wait is kept.
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    1.0 - (h.finish() % 2000) as f64 / 10_000.0
}

/// The wait before the next check after `failures` failed checks in a row: the interval less up
/// to a fifth of jitter, doubled per failure up to [`MAX_BACKOFF`] (or the interval, when longer),
/// never under [`MIN_WAIT`]. Shared by every polling loop of this crate.
pub fn next_wait(interval: Duration, failures: u32) -> Duration {
    let base = if failures == 0 {
        interval
    } else {
        interval
            .saturating_mul(1 << failures.min(16))
            .min(MAX_BACKOFF.max(interval))
    };
    base.mul_f64(jitter()).max(MIN_WAIT)
}

/// How often [`watch`] checks when the caller names no interval: every 5 seconds.
pub const DEFAULT_INTERVAL: Duration = Duration::from_millis(5000);

/// The check interval for a caller's value in milliseconds (JS numbers are `f64`): `None` is
/// [`DEFAULT_INTERVAL`]; a value must be from 10 ms to 24 h (86,400,000 ms).
///
/// Errors: `INVALID_ARGUMENT` for anything else (not finite, too short, too long), naming the
/// input as `what` (e.g. ``option `intervalMs` ``).
pub fn interval_from_ms(ms: Option<f64>, what: &str) -> Result<Duration> {
    let Some(ms) = ms else {
        return Ok(DEFAULT_INTERVAL);
    };
    if ms.is_finite() && (10.0..=86_400_000.0).contains(&ms) {
        Ok(Duration::from_millis(ms as u64))
    } else {
        Err(crate::error::Error::invalid_argument(format!(
            "{what} must be from 10 to 86400000, got {ms}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_jittered_have_a_floor_and_back_off_to_a_cap() {
        let second = Duration::from_secs(1);
        for _ in 0..50 {
            let w = next_wait(second, 0);
            assert!(w > second.mul_f64(0.79) && w <= second, "{w:?}");
            assert!(next_wait(Duration::ZERO, 0) >= MIN_WAIT);
        }
        let mut last = Duration::ZERO;
        for failures in 1..=5 {
            let w = next_wait(second, failures);
            let base = second * (1 << failures);
            assert!(w > base.mul_f64(0.79) && w <= base, "{failures}: {w:?}");
            assert!(w > last, "{failures}: {w:?}");
            last = w;
        }
        assert!(next_wait(second, 40) <= MAX_BACKOFF);
        assert!(next_wait(second, 40) > MAX_BACKOFF.mul_f64(0.79));
        // An interval longer than the cap is not shortened by failures.
        let hour = Duration::from_secs(3600);
        assert!(next_wait(hour, 3) > hour.mul_f64(0.79));
    }

    #[test]
    fn intervals_default_to_five_seconds_and_stay_between_10_ms_and_a_day() {
        assert_eq!(interval_from_ms(None, "x").unwrap(), DEFAULT_INTERVAL);
        assert_eq!(
            interval_from_ms(Some(50.0), "x").unwrap(),
            Duration::from_millis(50)
        );
        assert_eq!(
            interval_from_ms(Some(86_400_000.0), "x").unwrap(),
            Duration::from_secs(86_400)
        );
        for bad in [9.0, 86_400_001.0, f64::NAN, f64::INFINITY, -1.0] {
            let err = interval_from_ms(Some(bad), "option `intervalMs`").unwrap_err();
            assert_eq!(err.code(), "INVALID_ARGUMENT");
            assert!(
                err.message
                    .starts_with("option `intervalMs` must be from 10 to 86400000"),
                "{}",
                err.message
            );
        }
    }
}
