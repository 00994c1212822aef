//! Token lifecycle: background renewal of renewable tokens at about two thirds of the remaining
//! TTL (with jitter), a new login when renewal stops extending the TTL or the token turns invalid,
//! and events for subscribers. A fixed token that is not renewable is left alone.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, Result};
use crate::http::Transport;

/// What happened to the client's token. Never carries the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenEventKind {
    /// `renew-self` extended the token.
    Renewed,
    /// A new login replaced the token (after max TTL, expiry or revocation).
    Reauthenticated,
    /// A renewal or login attempt failed; it is retried.
    RenewalFailed,
    /// The token expired or was revoked and no login method is configured to replace it.
    Expired,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenEvent {
    pub kind: TokenEventKind,
    /// Seconds the token has left after the event, when known.
    pub ttl: Option<u64>,
    /// What went wrong, for failures (an error message: no token, no secret).
    pub error: Option<String>,
}

/// A subscriber to token events.
pub type TokenListener = Arc<dyn Fn(&TokenEvent) + Send + Sync>;

/// The current token's lease, as the last login, renewal or lookup reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub ttl: Duration,
    pub renewable: bool,
    /// The TTL asked for at each renewal: the token's original TTL.
    pub increment: Duration,
    pub at: Instant,
}

impl Lease {
    pub fn remaining(&self) -> Duration {
        self.ttl.saturating_sub(self.at.elapsed())
    }
}

#[derive(Deserialize)]
struct RenewAuth {
    #[serde(default)]
    lease_duration: u64,
    #[serde(default)]
    renewable: bool,
}

#[derive(Deserialize)]
pub(crate) struct RenewAnswer {
    auth: Option<RenewAuth>,
}

impl RenewAnswer {
    pub(crate) fn lease(&self) -> (u64, bool) {
        self.auth
            .as_ref()
            .map(|a| (a.lease_duration, a.renewable))
            .unwrap_or((0, false))
    }
}

/// A factor in [0.9, 1.0) so that many clients do not renew in step.
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos() ^ std::process::id() as u128);
    0.9 + (h.finish() % 1000) as f64 / 10_000.0
}

/// When to act on a lease: two thirds of what is left.
pub fn renew_at(lease: &Lease) -> Duration {
    lease.remaining().mul_f64(2.0 / 3.0 * jitter())
}

/// The renewal loop. Holds the transport weakly: when the client is dropped or closed, it ends.
pub(crate) async fn run(transport: Weak<Transport>) {
    let mut failures: u32 = 0;
    loop {
        let Some(t) = transport.upgrade() else { return };
        if t.is_closed() {
            return;
        }
        let lease = match t.lease().await {
            Ok(Some(lease)) => lease,
            // Never expires (root), or no token: nothing to renew.
            Ok(None) => return,
            Err(e) => {
                t.emit(TokenEventKind::RenewalFailed, None, Some(e.message.clone()));
                drop(t);
                failures += 1;
                tokio::time::sleep(backoff(failures)).await;
                continue;
            }
        };
        if !lease.renewable && !t.can_log_in() {
            return; // a static non-renewable token is left alone
        }
        let wait = if failures > 0 {
            backoff(failures).min(renew_at(&lease))
        } else {
            renew_at(&lease)
        };
        drop(t);
        tokio::time::sleep(wait).await;
        let Some(t) = transport.upgrade() else { return };
        if t.is_closed() {
            return;
        }
        match step(&t, &lease).await {
            Ok(()) => failures = 0,
            Err(e) => {
                failures += 1;
                if e.code == ErrorCode::InvalidToken && !t.can_log_in() {
                    t.emit(TokenEventKind::Expired, None, Some(e.message.clone()));
                    return;
                }
                t.emit(TokenEventKind::RenewalFailed, None, Some(e.message.clone()));
                if lease.remaining().is_zero() && !t.can_log_in() {
                    t.emit(TokenEventKind::Expired, None, None);
                    return;
                }
            }
        }
    }
}

/// One renewal, or a login when renewal can no longer extend the token.
async fn step(t: &Transport, lease: &Lease) -> Result<()> {
    if lease.renewable {
        let renewed = t.renew_self(lease.increment).await;
        match renewed {
            Ok(new_ttl) => {
                // Capped by max TTL: the token will die however often it is renewed.
                let capped = new_ttl < lease.increment;
                t.emit(TokenEventKind::Renewed, Some(new_ttl.as_secs()), None);
                if !capped || !t.can_log_in() {
                    return Ok(());
                }
            }
            Err(e) if e.code == ErrorCode::InvalidToken && t.can_log_in() => {}
            Err(e) => return Err(e),
        }
    }
    if t.can_log_in() {
        let ttl = t.relogin_now().await?;
        t.emit(TokenEventKind::Reauthenticated, Some(ttl.as_secs()), None);
    }
    Ok(())
}

fn backoff(failures: u32) -> Duration {
    Duration::from_secs(1 << failures.min(5)).min(Duration::from_secs(30))
}
