//! The renewal loop: renews a renewable token at about two thirds of its remaining TTL (with
//! jitter), logs in again when renewal stops extending the TTL, reaches the max TTL or the token
//! turns invalid, and tells the session's subscribers. A fixed token that is not renewable is
//! left alone; a fixed token that turns invalid (or was never valid) ends the loop with one
//! `expired`. Every wait is at least a second, and failures back off exponentially with jitter.
//!
//! The loop holds the [`Session`] weakly: when the client is dropped it ends, and the session
//! never holds the loop. The [`VaultClient`](crate::VaultClient) facade starts it.

use std::sync::Weak;
use std::time::{Duration, Instant};

use crate::engines::token;
use crate::error::{ErrorCode, Result, VaultError};
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
                if ends_the_token(&e) && !s.can_log_in() {
                    // Invalid from the start (or revoked): no answer will change that.
                    s.emit(TokenEventKind::Expired, None, Some(e.message.clone()));
                    return;
                }
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
        let wait = next_wait(failures, renew_at(&ttl));
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
                if ends_the_token(&e) && !s.can_log_in() {
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
            // Invalid, or at its max TTL: only a new login helps.
            Err(e) if ends_the_token(&e) && s.can_log_in() => {}
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

/// The shortest wait between two rounds of the loop, whatever the TTL or the failures say.
const MIN_WAIT: Duration = Duration::from_secs(1);
/// The longest wait after failures (before jitter).
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// After `failures` consecutive failures: 1, 2, 4, 8, 16, 30 s, each times U(1.0, 1.25).
fn backoff(failures: u32) -> Duration {
    let base = Duration::from_secs(1 << failures.saturating_sub(1).min(5)).min(MAX_BACKOFF);
    base.mul_f64(1.0 + (jitter() - 0.9) * 2.5)
}

/// How long to sleep before the next step: the renewal point, but never less than [`MIN_WAIT`];
/// after failures the backoff, cut short by a renewal point still ahead (so a token with TTL
/// left is renewed in time), never by one already past (an expired token while Vault is down
/// must not turn the loop into a busy one).
fn next_wait(failures: u32, renew_at: Duration) -> Duration {
    if failures == 0 {
        return renew_at.max(MIN_WAIT);
    }
    let backoff = backoff(failures);
    if renew_at >= MIN_WAIT {
        backoff.min(renew_at)
    } else {
        backoff
    }
}

/// Errors after which this token can never be used again: invalid (expired, revoked, never
/// valid), or a renewal refused at the max TTL (Vault answers 500 "past the max TTL, cannot
/// renew"). A login replaces the token; without one the token is `expired`.
fn ends_the_token(e: &VaultError) -> bool {
    e.code == ErrorCode::InvalidToken || past_max_ttl(e)
}

/// Vault's 500 for a renewal at the max TTL; not transient.
pub(crate) fn past_max_ttl(e: &VaultError) -> bool {
    e.errors
        .iter()
        .any(|m| m.to_ascii_lowercase().contains("past the max ttl"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wait_has_a_floor() {
        for failures in 0..10 {
            for renew_at in [
                Duration::ZERO,
                Duration::from_millis(10),
                Duration::from_secs(5),
            ] {
                let w = next_wait(failures, renew_at);
                assert!(
                    w >= MIN_WAIT,
                    "{failures} failures, renew at {renew_at:?}: {w:?}"
                );
            }
        }
        assert_eq!(
            next_wait(0, Duration::from_secs(40)),
            Duration::from_secs(40)
        );
    }

    #[test]
    fn backoff_grows_with_jitter_to_a_cap() {
        let mut last = Duration::ZERO;
        for failures in 1..=6 {
            let base = Duration::from_secs(1 << (failures - 1)).min(MAX_BACKOFF);
            let w = backoff(failures);
            assert!(w >= base && w < base.mul_f64(1.25), "{failures}: {w:?}");
            assert!(
                w >= last.mul_f64(0.9) || base == MAX_BACKOFF,
                "{failures}: {w:?}"
            );
            last = w;
        }
        assert!(backoff(100) < MAX_BACKOFF.mul_f64(1.25));
        // An expired token (renewal point past) backs off instead of spinning.
        assert!(next_wait(5, Duration::ZERO) >= Duration::from_secs(16));
        // TTL left: the renewal point still cuts the backoff short.
        assert_eq!(next_wait(5, Duration::from_secs(3)), Duration::from_secs(3));
    }

    #[test]
    fn invalid_and_max_ttl_end_the_token() {
        let invalid = VaultError::from_response(
            403,
            vec!["permission denied".into(), "invalid token".into()],
            "/v1/auth/token/lookup-self",
            None,
        );
        assert!(ends_the_token(&invalid));
        let capped = VaultError::from_response(
            500,
            vec!["1 error occurred:\n\t* past the max TTL, cannot renew\n\n".into()],
            "/v1/auth/token/renew-self",
            None,
        );
        assert!(ends_the_token(&capped));
        let down = VaultError::from_response(503, vec!["upstream".into()], "/v1/x", None);
        assert!(!ends_the_token(&down));
    }
}
