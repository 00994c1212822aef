//! The renewal loop: renews a renewable token at about two thirds of its remaining TTL (with
//! jitter), logs in again when renewal stops extending the TTL or the token turns invalid, and
//! tells the session's subscribers. A fixed token that is not renewable is left alone.
//!
//! The loop holds the [`Session`] weakly: when the client is dropped it ends, and the session
//! never holds the loop. The [`VaultClient`](crate::VaultClient) facade starts it.

use std::sync::Weak;
use std::time::{Duration, Instant};

use crate::engines::token;
use crate::error::{ErrorCode, Result};
use crate::session::{Session, TokenEventKind, TokenTtl};

/// A factor in [0.9, 1.0) so that many clients do not renew in step.
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos() ^ std::process::id() as u128);
    0.9 + (h.finish() % 1000) as f64 / 10_000.0
}

/// When to act on a token: two thirds of its remaining TTL, less up to a tenth of jitter.
pub fn renew_at(ttl: &TokenTtl) -> Duration {
    ttl.remaining().mul_f64(2.0 / 3.0 * jitter())
}

/// The token's TTL: the one the session knows, or asked with `lookup-self` (and recorded).
/// `None` for a token that never expires (root).
pub async fn current_ttl(session: &Session) -> Result<Option<TokenTtl>> {
    if let Some(ttl) = session.token_ttl() {
        return Ok(Some(ttl));
    }
    let info = token::lookup_self(session).await?;
    if info.ttl <= 0 {
        return Ok(None);
    }
    let increment = if info.creation_ttl > 0 {
        info.creation_ttl
    } else {
        info.ttl
    };
    let ttl = TokenTtl {
        ttl: Duration::from_secs(info.ttl as u64),
        renewable: info.renewable,
        increment: Duration::from_secs(increment as u64),
        at: Instant::now(),
    };
    session.set_token_ttl(Some(ttl));
    Ok(Some(ttl))
}

/// `renew-self` asking for `increment`, recorded in the session; returns the new TTL.
pub async fn renew(session: &Session, increment: Duration) -> Result<Duration> {
    let renewed = token::renew_self(session, increment).await?;
    let ttl = Duration::from_secs(renewed.ttl_secs);
    let increment = session
        .token_ttl()
        .map(|t| t.increment)
        .unwrap_or(increment);
    session.set_token_ttl(Some(TokenTtl {
        ttl,
        renewable: renewed.renewable,
        increment,
        at: Instant::now(),
    }));
    Ok(ttl)
}

/// The renewal loop. Ends when the session is dropped or closed, when the token never expires,
/// or when it expired and nothing can replace it.
pub async fn run(session: Weak<Session>) {
    let mut failures: u32 = 0;
    loop {
        let Some(s) = session.upgrade() else { return };
        if s.is_closed() {
            return;
        }
        let ttl = match current_ttl(&s).await {
            Ok(Some(ttl)) => ttl,
            // Never expires (root), or no token: nothing to renew.
            Ok(None) => return,
            Err(e) => {
                s.emit(TokenEventKind::RenewalFailed, None, Some(e.message.clone()));
                drop(s);
                failures += 1;
                tokio::time::sleep(backoff(failures)).await;
                continue;
            }
        };
        if !ttl.renewable && !s.can_log_in() {
            return; // a static non-renewable token is left alone
        }
        let wait = if failures > 0 {
            backoff(failures).min(renew_at(&ttl))
        } else {
            renew_at(&ttl)
        };
        drop(s);
        tokio::time::sleep(wait).await;
        let Some(s) = session.upgrade() else { return };
        if s.is_closed() {
            return;
        }
        match step(&s, &ttl).await {
            Ok(()) => failures = 0,
            Err(e) => {
                failures += 1;
                if e.code == ErrorCode::InvalidToken && !s.can_log_in() {
                    s.emit(TokenEventKind::Expired, None, Some(e.message.clone()));
                    return;
                }
                s.emit(TokenEventKind::RenewalFailed, None, Some(e.message.clone()));
                if ttl.remaining().is_zero() && !s.can_log_in() {
                    s.emit(TokenEventKind::Expired, None, None);
                    return;
                }
            }
        }
    }
}

/// One renewal, or a login when renewal can no longer extend the token.
async fn step(s: &Session, ttl: &TokenTtl) -> Result<()> {
    if ttl.renewable {
        match renew(s, ttl.increment).await {
            Ok(new_ttl) => {
                // Capped by max TTL: the token will die however often it is renewed.
                let capped = new_ttl < ttl.increment;
                s.emit(TokenEventKind::Renewed, Some(new_ttl.as_secs()), None);
                if !capped || !s.can_log_in() {
                    return Ok(());
                }
            }
            Err(e) if e.code == ErrorCode::InvalidToken && s.can_log_in() => {}
            Err(e) => return Err(e),
        }
    }
    if s.can_log_in() {
        let new_ttl = s.relogin_now().await?;
        s.emit(
            TokenEventKind::Reauthenticated,
            Some(new_ttl.as_secs()),
            None,
        );
    }
    Ok(())
}

/// 2, 4, 8, 16, 32 s after consecutive failures, at most 30 s.
fn backoff(failures: u32) -> Duration {
    Duration::from_secs(1 << failures.min(5)).min(Duration::from_secs(30))
}
