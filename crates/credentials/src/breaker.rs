//! A circuit breaker per remote store: after a lookup that timed out or could not connect, the
//! store is not asked again for a cool-down, so every further lookup fails over at once instead
//! of waiting out its own deadline (a hung Vault would otherwise cost each new name the full
//! wait). While it is open, one probe at a time checks the store in the background; when the
//! probe is answered the breaker closes.
//!
//! States: `closed` (every lookup goes through) -> `open` (a timeout or a connection failure:
//! nothing goes through until the cool-down ends) -> `probing` (one probe in flight, lookups still
//! fail over) -> `closed` when the probe is answered, or `open` again for a longer cool-down when
//! it is not. The cool-down starts at [`BreakerPolicy::cool_down`] (the floor), doubles with each
//! failed probe up to [`BreakerPolicy::max_cool_down`] (the cap), and is jittered by up to ±20 %
//! so that many processes sharing one Vault do not probe in step. It drops back to the floor only
//! when a real lookup is answered, so a store whose probe passes while its reads still hang backs
//! off too.
//!
//! An answer, even a refusal (403, 404, 400), proves the store reachable and never opens the
//! breaker. The state machine's methods take the time (`now`) from their caller, so tests drive
//! it without sleeping; [`CircuitBreaker::run`] puts one lookup through it, and is what the chain
//! ([`crate::chain`], for every remote store) and the exec resolver ([`crate::resolve`]) call.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorCode};

/// The breaker's timing. `BreakerPolicy::default()`: floor 1 s, cap 30 s, probe deadline 1.5 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// The first cool-down after the breaker opens, and the floor of every later one.
    pub cool_down: Duration,
    /// The longest cool-down, however often the probe fails.
    pub max_cool_down: Duration,
    /// How long one probe may take before it counts as failed.
    pub probe_timeout: Duration,
}

/// The default deadline of one remote-store lookup by the credential chain (1.5 s): a Vault read,
/// even with a login and the KV version detection before it, answers well within it on a working
/// network, and a gateway starting while Vault hangs waits this long once, not once per name.
pub const DEFAULT_LOOKUP_TIMEOUT: Duration = Duration::from_millis(1500);

impl Default for BreakerPolicy {
    fn default() -> Self {
        BreakerPolicy {
            cool_down: Duration::from_secs(1),
            max_cool_down: Duration::from_secs(30),
            probe_timeout: DEFAULT_LOOKUP_TIMEOUT,
        }
    }
}

/// Where the breaker is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Lookups go to the store.
    Closed,
    /// The store timed out or could not be reached: lookups fail over until the cool-down ends.
    Open,
    /// One probe is in flight; lookups still fail over.
    Probing,
}

impl BreakerState {
    /// `closed`, `open` or `probing`.
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::Probing => "probing",
        }
    }
}

/// What a lookup may do now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Ask the store.
    Pass,
    /// Do not ask the store; fail over with [`CircuitBreaker::open_error`]. `probe` is true for
    /// exactly one caller when the cool-down has ended: that caller starts the probe (in the
    /// background, without waiting for it) and reports its end with
    /// [`CircuitBreaker::probe_finished`].
    Reject {
        /// This caller must start the one probe.
        probe: bool,
    },
}

/// How a lookup or a probe ended, as far as the breaker cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The store answered (a value, nothing, or a refusal): it is reachable.
    Answered,
    /// No answer: a timeout, a connection that failed, or a store that cannot serve at all
    /// (sealed, 502 to 504). Carries the code for messages.
    Unreachable(ErrorCode),
}

impl Verdict {
    /// The verdict of a lookup's result: an error that says the store cannot be reached
    /// ([`trips`]) is `Unreachable`, anything else (a value, nothing, a refusal) is an answer.
    pub fn of<T>(result: &Result<T, Error>) -> Verdict {
        match result {
            Err(e) if trips(e) => Verdict::Unreachable(e.code),
            _ => Verdict::Answered,
        }
    }
}

/// The errors that open the breaker: no answer in time or no connection (`TIMEOUT`, `NETWORK`,
/// `TLS_ERROR`), or an answer that the whole store cannot serve now (`SEALED`; `SERVER_ERROR`
/// with 502, 503 or 504, what a load balancer or a standby says). A 403, 404, 400, 429 or 500
/// is an answer about one request and never opens it.
pub fn trips(e: &Error) -> bool {
    match e.code {
        ErrorCode::Timeout | ErrorCode::Network | ErrorCode::TlsError | ErrorCode::Sealed => true,
        ErrorCode::ServerError => matches!(e.status, None | Some(502..=504)),
        _ => false,
    }
}

/// A snapshot for status lines and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakerStatus {
    /// Where it is.
    pub state: BreakerState,
    /// While open: how long until the next probe may start.
    pub retry_in: Option<Duration>,
    /// The code that last opened it (or kept it open), when it is not closed.
    pub cause: Option<ErrorCode>,
    /// Cool-downs in a row without an answered lookup (0 when closed after an answer).
    pub level: u32,
}

#[derive(Debug)]
enum State {
    Closed,
    Open { until: Instant },
    Probing,
}

#[derive(Debug)]
struct Inner {
    state: State,
    /// Cool-downs in a row with no answered lookup between them: the backoff's exponent.
    level: u32,
    cause: Option<ErrorCode>,
}

/// One remote store's breaker. Cheap to share behind an `Arc`; every method takes `&self`.
pub struct CircuitBreaker {
    /// The store's name for messages (`vault`).
    store: String,
    policy: BreakerPolicy,
    inner: Mutex<Inner>,
    /// A number in [0, 1) per cool-down, for the jitter.
    jitter: Box<dyn Fn() -> f64 + Send + Sync>,
    /// Counts the openings, so lookups in flight when it opens can fail over at once.
    opened: tokio::sync::watch::Sender<u64>,
}

impl std::fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("store", &self.store)
            .field("policy", &self.policy)
            .field("inner", &self.inner)
            .finish()
    }
}

impl CircuitBreaker {
    /// A closed breaker for the store called `store` (used in messages).
    pub fn new(store: &str, policy: BreakerPolicy) -> Self {
        Self::with_jitter(store, policy, random_unit)
    }

    /// As [`CircuitBreaker::new`], with the jitter's source given (tests pass a constant).
    pub fn with_jitter(
        store: &str,
        policy: BreakerPolicy,
        jitter: impl Fn() -> f64 + Send + Sync + 'static,
    ) -> Self {
        CircuitBreaker {
            store: store.to_string(),
            policy,
            inner: Mutex::new(Inner {
                state: State::Closed,
                level: 0,
                cause: None,
            }),
            jitter: Box::new(jitter),
            opened: tokio::sync::watch::Sender::new(0),
        }
    }

    /// A receiver that changes each time the breaker opens: a lookup admitted while it was
    /// closed waits on it beside its own deadline and fails over as soon as another lookup of
    /// the same store found it unreachable.
    pub fn opened(&self) -> tokio::sync::watch::Receiver<u64> {
        self.opened.subscribe()
    }

    /// How many times it has opened from closed: a new value starts a new open period.
    pub fn openings(&self) -> u64 {
        *self.opened.borrow()
    }

    /// The policy it runs by.
    pub fn policy(&self) -> &BreakerPolicy {
        &self.policy
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The state is a few plain fields, valid after any panic: keep using it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cool-down for `level`: floor * 2^level, capped, jittered by ±20 %, never below the
    /// floor nor above the cap.
    fn cool_down(&self, level: u32) -> Duration {
        let floor = self.policy.cool_down;
        let cap = self.policy.max_cool_down.max(floor);
        let base = floor.saturating_mul(1u32 << level.min(16)).min(cap);
        let factor = 0.8 + 0.4 * (self.jitter)().clamp(0.0, 1.0);
        base.mul_f64(factor).clamp(floor, cap)
    }

    fn open(&self, inner: &mut Inner, now: Instant, cause: ErrorCode) {
        let wait = self.cool_down(inner.level);
        inner.level = inner.level.saturating_add(1);
        inner.cause = Some(cause);
        let from_closed = matches!(inner.state, State::Closed);
        inner.state = State::Open { until: now + wait };
        if from_closed {
            self.opened.send_modify(|n| *n += 1);
        }
    }

    /// Whether a lookup may ask the store now (see [`Admission`]).
    pub fn admit(&self, now: Instant) -> Admission {
        let mut inner = self.lock();
        match inner.state {
            State::Closed => Admission::Pass,
            State::Open { until } if now >= until => {
                inner.state = State::Probing;
                Admission::Reject { probe: true }
            }
            State::Open { .. } | State::Probing => Admission::Reject { probe: false },
        }
    }

    /// Records how a lookup that was admitted ended. An unreachable store opens a closed breaker;
    /// an answer closes an open one (a lookup admitted before it opened came back late, but it
    /// came back) and resets the backoff. A probe in flight decides for itself.
    pub fn record(&self, now: Instant, verdict: Verdict) {
        let mut inner = self.lock();
        match (&inner.state, verdict) {
            (State::Closed, Verdict::Unreachable(code)) => {
                self.open(&mut inner, now, code);
                tracing::warn!(
                    store = %self.store,
                    code = code.as_str(),
                    "remote store unreachable; failing over at once until a probe succeeds"
                );
            }
            (State::Closed | State::Open { .. }, Verdict::Answered) => {
                if matches!(inner.state, State::Open { .. }) {
                    tracing::info!(store = %self.store, "remote store answered a lookup; circuit breaker closed");
                }
                inner.state = State::Closed;
                inner.level = 0;
                inner.cause = None;
            }
            (State::Open { .. } | State::Probing, Verdict::Unreachable(_))
            | (State::Probing, Verdict::Answered) => {}
        }
    }

    /// Records how the probe started by an [`Admission::Reject`] with `probe: true` ended:
    /// answered closes the breaker (the backoff stays until a lookup is answered), unreachable
    /// opens it for the next, longer cool-down.
    pub fn probe_finished(&self, now: Instant, verdict: Verdict) {
        let mut inner = self.lock();
        if !matches!(inner.state, State::Probing) {
            return;
        }
        match verdict {
            Verdict::Answered => {
                inner.state = State::Closed;
                tracing::info!(store = %self.store, "remote store answered the probe; circuit breaker closed");
            }
            Verdict::Unreachable(code) => {
                self.open(&mut inner, now, code);
                let next = match inner.state {
                    State::Open { until } => until.saturating_duration_since(now),
                    _ => Duration::ZERO,
                };
                tracing::warn!(
                    store = %self.store,
                    code = code.as_str(),
                    next_probe_ms = next.as_millis() as u64,
                    "remote store still unreachable (probe failed); circuit breaker stays open"
                );
            }
        }
    }

    /// A snapshot of the state at `now`.
    pub fn status(&self, now: Instant) -> BreakerStatus {
        let inner = self.lock();
        let (state, retry_in) = match inner.state {
            State::Closed => (BreakerState::Closed, None),
            State::Open { until } => (
                BreakerState::Open,
                Some(until.saturating_duration_since(now)),
            ),
            State::Probing => (BreakerState::Probing, None),
        };
        BreakerStatus {
            state,
            retry_in,
            cause: (state != BreakerState::Closed)
                .then_some(inner.cause)
                .flatten(),
            level: inner.level,
        }
    }

    /// The error a rejected lookup fails with: `CIRCUIT_OPEN`, naming the store, what opened
    /// the breaker and when the next probe may start.
    pub fn open_error(&self, now: Instant) -> Error {
        let status = self.status(now);
        let cause = status
            .cause
            .map(|c| format!(" after {c}"))
            .unwrap_or_default();
        let when = match status.retry_in {
            Some(d) => format!("the next probe starts in {} ms", d.as_millis()),
            None => "a probe is checking it".to_string(),
        };
        Error::new(
            ErrorCode::CircuitOpen,
            format!(
                "{} is not being asked: its circuit breaker is open{cause} ({when})",
                self.store
            ),
        )
    }
}

/// A probe of a store, ready to run in the background.
pub type Probe = Pin<Box<dyn Future<Output = Result<(), Error>> + Send + 'static>>;

impl CircuitBreaker {
    /// Runs one lookup through the breaker. Closed: `ask` runs, cut off with `TIMEOUT` after
    /// `deadline` (when given) or with `CIRCUIT_OPEN` as soon as another lookup opens the
    /// breaker, and its outcome is recorded. Open: `CIRCUIT_OPEN` at once, without running
    /// `ask`; when the cool-down has ended, this caller also starts `probe()` on the current
    /// tokio runtime, with [`BreakerPolicy::probe_timeout`], and does not wait for it.
    pub async fn run<T>(
        self: &Arc<Self>,
        deadline: Option<Duration>,
        ask: impl Future<Output = Result<T, Error>>,
        probe: impl FnOnce() -> Probe,
    ) -> Result<T, Error> {
        self.run_with_cause(deadline, ask, probe, |_| None).await
    }

    /// As [`CircuitBreaker::run`]; when the deadline cuts `ask`, `cause(started)` may name what
    /// its attempts since `started` ran into (`NETWORK`, `TLS_ERROR`: a closed port, not a
    /// hang), and the lookup fails, and the breaker opens, with that code instead of `TIMEOUT`.
    pub async fn run_with_cause<T>(
        self: &Arc<Self>,
        deadline: Option<Duration>,
        ask: impl Future<Output = Result<T, Error>>,
        probe: impl FnOnce() -> Probe,
        cause: impl FnOnce(Instant) -> Option<ErrorCode>,
    ) -> Result<T, Error> {
        let started = Instant::now();
        match self.admit(started) {
            Admission::Pass => {}
            Admission::Reject { probe: start } => {
                if start {
                    self.spawn_probe(probe());
                }
                return Err(self.open_error(Instant::now()));
            }
        }
        let mut opened = self.opened();
        let limit = deadline.unwrap_or(Duration::MAX);
        let result = tokio::select! {
            // An answer that is already there wins over a breaker that opened meanwhile.
            biased;
            r = tokio::time::timeout(limit, ask) => r.unwrap_or_else(|_| Err(match cause(started) {
                Some(ErrorCode::Sealed) => Error::new(
                    ErrorCode::Sealed,
                    format!(
                        "{} answered that it is sealed (HTTP 503) until the credential lookup \
                         deadline of {} ms; unseal it (`vault operator unseal`)",
                        self.store,
                        limit.as_millis()
                    ),
                ),
                Some(code) => Error::new(
                    code,
                    format!(
                        "{} could not be reached within {} ms (the credential lookup deadline); \
                         the last attempt failed with {code}",
                        self.store,
                        limit.as_millis()
                    ),
                ),
                None => Error::new(
                    ErrorCode::Timeout,
                    format!(
                        "{} did not answer within {} ms (the credential lookup deadline)",
                        self.store,
                        limit.as_millis()
                    ),
                ),
            })),
            // Another lookup found the store unreachable: stop waiting for this one.
            Ok(()) = opened.changed() => return Err(self.open_error(Instant::now())),
        };
        self.record(Instant::now(), Verdict::of(&result));
        result
    }

    /// Runs the one probe in the background; its verdict closes the breaker or opens it for
    /// the next cool-down. Without a runtime to run it on, the breaker stays open for another
    /// cool-down.
    fn spawn_probe(self: &Arc<Self>, probe: Probe) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            self.probe_finished(Instant::now(), Verdict::Unreachable(ErrorCode::Timeout));
            return;
        };
        let breaker = self.clone();
        handle.spawn(async move {
            let verdict = match tokio::time::timeout(breaker.policy.probe_timeout, probe).await {
                Ok(Ok(())) => Verdict::Answered,
                // A probe is one known request: any failure of it means the store is not back.
                Ok(Err(e)) => Verdict::Unreachable(e.code),
                Err(_) => Verdict::Unreachable(ErrorCode::Timeout),
            };
            tracing::debug!(store = %breaker.store, verdict = ?verdict, "circuit breaker probe finished");
            breaker.probe_finished(Instant::now(), verdict);
        });
    }
}

/// A number in [0, 1) that differs between calls and processes, for the jitter: the standard
/// library's randomly keyed hasher over a counter (no random-number crate needed for this).
fn random_unit() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn breaker(jitter: f64) -> CircuitBreaker {
        CircuitBreaker::with_jitter("vault", BreakerPolicy::default(), move || jitter)
    }

    /// Opens `b` at `t` with a timeout; returns the instant its cool-down ends.
    fn trip(b: &CircuitBreaker, t: Instant) -> Instant {
        assert_eq!(b.admit(t), Admission::Pass);
        b.record(t, Verdict::Unreachable(ErrorCode::Timeout));
        t + b.status(t).retry_in.expect("open")
    }

    #[test]
    fn closed_passes_and_answers_never_open_it() {
        let b = breaker(0.5);
        let t = Instant::now();
        for code in [
            ErrorCode::PermissionDenied,
            ErrorCode::NotFound,
            ErrorCode::InvalidRequest,
            ErrorCode::InvalidToken,
            ErrorCode::BadResponse,
            ErrorCode::RateLimited,
            ErrorCode::ServerError,
        ] {
            assert_eq!(b.admit(t), Admission::Pass);
            let answered: Result<(), Error> = Err(Error::new(code, "x").with_status(match code {
                ErrorCode::RateLimited => 429,
                ErrorCode::ServerError => 500,
                _ => 400,
            }));
            b.record(t, Verdict::of(&answered));
            assert_eq!(b.status(t).state, BreakerState::Closed, "{code}");
        }
        b.record(t, Verdict::of(&Ok::<(), Error>(())));
        assert_eq!(b.status(t).state, BreakerState::Closed);
    }

    #[test]
    fn every_unreachable_code_opens_it_and_rejects_without_a_probe_until_the_cool_down_ends() {
        for (code, status) in [
            (ErrorCode::Timeout, None),
            (ErrorCode::Network, None),
            (ErrorCode::TlsError, None),
            (ErrorCode::Sealed, Some(503)),
            (ErrorCode::ServerError, Some(503)),
            (ErrorCode::ServerError, Some(502)),
        ] {
            let b = breaker(0.5);
            let t = Instant::now();
            let mut e = Error::new(code, "x");
            e.status = status;
            b.record(t, Verdict::of(&Err::<(), _>(e)));
            let status = b.status(t);
            assert_eq!(status.state, BreakerState::Open, "{code}");
            assert_eq!(status.cause, Some(code));
            // Jitter 0.5 is the middle: exactly the floor.
            assert_eq!(status.retry_in, Some(S));
            for ms in [0, 1, 500, 999] {
                assert_eq!(
                    b.admit(t + Duration::from_millis(ms)),
                    Admission::Reject { probe: false }
                );
            }
            let err = b.open_error(t);
            assert_eq!(err.code(), "CIRCUIT_OPEN");
            assert!(err.message.contains("vault") && err.message.contains(code.as_str()));
        }
    }

    #[test]
    fn one_probe_at_a_time_and_lookups_fail_over_while_it_runs() {
        let b = breaker(0.5);
        let t = Instant::now();
        let end = trip(&b, t);
        assert_eq!(b.admit(end), Admission::Reject { probe: true });
        assert_eq!(b.status(end).state, BreakerState::Probing);
        for ms in [0, 10, 60_000] {
            assert_eq!(
                b.admit(end + Duration::from_millis(ms)),
                Admission::Reject { probe: false },
                "a second probe at +{ms} ms"
            );
        }
        b.probe_finished(end, Verdict::Answered);
        assert_eq!(b.status(end).state, BreakerState::Closed);
        assert_eq!(b.admit(end), Admission::Pass);
    }

    #[test]
    fn lookups_in_flight_learn_that_it_opened() {
        let b = breaker(0.5);
        let t = Instant::now();
        let mut in_flight = b.opened();
        assert!(!in_flight.has_changed().unwrap());
        let end = trip(&b, t);
        assert!(in_flight.has_changed().unwrap());
        in_flight.mark_unchanged();
        // A failed probe keeps it open: not a new opening.
        assert_eq!(b.admit(end), Admission::Reject { probe: true });
        b.probe_finished(end, Verdict::Unreachable(ErrorCode::Timeout));
        assert!(!in_flight.has_changed().unwrap());
    }

    #[test]
    fn failed_probes_back_off_from_the_floor_to_the_cap() {
        let b = breaker(0.5);
        let mut t = Instant::now();
        t = trip(&b, t);
        let mut waits = Vec::new();
        for _ in 0..8 {
            assert_eq!(b.admit(t), Admission::Reject { probe: true });
            b.probe_finished(t, Verdict::Unreachable(ErrorCode::Timeout));
            let wait = b.status(t).retry_in.unwrap();
            waits.push(wait.as_secs());
            // Not a moment early.
            assert_eq!(
                b.admit(t + wait - Duration::from_millis(1)),
                Admission::Reject { probe: false }
            );
            t += wait;
        }
        assert_eq!(waits, [2, 4, 8, 16, 30, 30, 30, 30]);
    }

    #[test]
    fn jitter_stays_within_the_floor_and_the_cap() {
        for (jitter, expected_ms) in [
            // -20 %: the first cool-down is held at the floor; at the cap waits still spread.
            (0.0, [1000, 1600, 3200, 6400, 12800, 24000, 24000]),
            // +20 %: never above the cap.
            (1.0, [1200, 2400, 4800, 9600, 19200, 30000, 30000]),
        ] {
            let b = breaker(jitter);
            let t0 = Instant::now();
            let mut t = trip(&b, t0);
            let mut got = vec![(t - t0).as_millis()];
            while got.len() < expected_ms.len() {
                assert_eq!(b.admit(t), Admission::Reject { probe: true });
                b.probe_finished(t, Verdict::Unreachable(ErrorCode::Network));
                let wait = b.status(t).retry_in.unwrap();
                got.push(wait.as_millis());
                t += wait;
            }
            assert_eq!(got, expected_ms, "jitter {jitter}");
        }
    }

    #[test]
    fn the_backoff_resets_only_when_a_lookup_is_answered() {
        let b = breaker(0.5);
        let mut t = Instant::now();
        t = trip(&b, t);
        // The probe passes, but the next read hangs again: the cool-down grows.
        assert_eq!(b.admit(t), Admission::Reject { probe: true });
        b.probe_finished(t, Verdict::Answered);
        let end = trip(&b, t);
        assert_eq!(end - t, 2 * S);
        t = end;
        assert_eq!(b.admit(t), Admission::Reject { probe: true });
        b.probe_finished(t, Verdict::Answered);
        assert_eq!(b.admit(t), Admission::Pass);
        b.record(t, Verdict::Answered);
        assert_eq!(b.status(t).level, 0);
        assert_eq!(trip(&b, t) - t, S);
    }

    #[test]
    fn late_results_of_lookups_admitted_before_it_opened() {
        let b = breaker(0.5);
        let t = Instant::now();
        let end = trip(&b, t);
        // Another lookup admitted at t also times out: the cool-down is not extended.
        b.record(t + S / 2, Verdict::Unreachable(ErrorCode::Timeout));
        assert_eq!(b.status(t).retry_in, Some(S));
        // One answers late: the store is reachable after all.
        b.record(t + S / 2, Verdict::Answered);
        assert_eq!(b.status(t + S / 2).state, BreakerState::Closed);
        assert_eq!(b.admit(end), Admission::Pass);
        // A late answer while a probe runs leaves the decision to the probe.
        let end = trip(&b, t + S);
        assert_eq!(b.admit(end), Admission::Reject { probe: true });
        b.record(end, Verdict::Answered);
        assert_eq!(b.status(end).state, BreakerState::Probing);
        // A probe result that arrives when no probe runs changes nothing.
        b.probe_finished(end, Verdict::Answered);
        b.probe_finished(end, Verdict::Unreachable(ErrorCode::Timeout));
        assert_eq!(b.status(end).state, BreakerState::Closed);
    }
}
