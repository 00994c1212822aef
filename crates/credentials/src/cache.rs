//! The credential cache: one slot per name (and source order), a TTL per entry, single flight
//! (concurrent misses for one key make one upstream read), refresh ahead of expiry, and the last
//! known good value kept for serving while Vault is unreachable.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::credential::Credential;

/// A credential as the chain resolved it.
#[derive(Debug)]
pub struct Resolved {
    pub credential: Credential,
    /// Served from the last known good value because the source could not be reached.
    pub stale: bool,
    /// When the source was read.
    pub fetched_at: Instant,
    /// Distinct for every upstream read; lets callers tell a new value from a cached one.
    pub generation: u64,
    /// The last moment this value may be served stale when it came from the last-known-good
    /// file (its `maxAgeMs` after the original read); `None`: only `maxStaleMs` limits it.
    pub stale_until: Option<Instant>,
}

/// What a slot holds between reads.
#[derive(Clone)]
struct Entry {
    resolved: Arc<Resolved>,
    fresh_until: Instant,
    refresh_after: Instant,
}

/// One cache key's state. `flight` serialises upstream reads for the key.
#[derive(Default)]
pub struct Slot {
    entry: Mutex<Option<Entry>>,
    pub(crate) flight: tokio::sync::Mutex<()>,
    refreshing: AtomicBool,
}

/// What a lookup found.
pub enum Lookup {
    /// Fresh; `refresh_due` says the entry is past its refresh-ahead point.
    Fresh {
        resolved: Arc<Resolved>,
        refresh_due: bool,
    },
    /// Expired or absent; `last_good` is the previous value if there was one.
    Miss { last_good: Option<Arc<Resolved>> },
}

/// TTLs for new entries.
#[derive(Debug, Clone, Copy)]
pub struct CachePolicy {
    /// How long a read is served without asking the source again. Zero disables caching.
    pub ttl: Duration,
    /// Start a background re-read when this fraction of the TTL is left (0 disables it).
    pub refresh_ahead_fraction: f64,
    /// The longest a last known good value is served, marked stale, while Vault is unreachable.
    pub max_stale: Duration,
}

impl Default for CachePolicy {
    fn default() -> Self {
        CachePolicy {
            ttl: Duration::from_secs(300),
            refresh_ahead_fraction: 0.2,
            max_stale: Duration::from_secs(3600),
        }
    }
}

/// The cache itself; shared by every `getCredential` of one chain.
pub struct Cache {
    slots: RwLock<HashMap<String, Arc<Slot>>>,
    policy: CachePolicy,
    generation: AtomicU64,
}

impl Cache {
    pub fn new(policy: CachePolicy) -> Self {
        Cache {
            slots: RwLock::new(HashMap::new()),
            policy,
            generation: AtomicU64::new(1),
        }
    }

    pub fn policy(&self) -> &CachePolicy {
        &self.policy
    }

    /// The next generation number for a fresh read.
    pub fn next_generation(&self) -> u64 {
        self.generation.fetch_add(1, Ordering::Relaxed)
    }

    /// The slot of `key`, created on first use.
    pub fn slot(&self, key: &str) -> Arc<Slot> {
        if let Some(slot) = self
            .slots
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
        {
            return slot.clone();
        }
        self.slots
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key.to_string())
            .or_default()
            .clone()
    }

    /// A synchronous lookup: the fast path of a cached read, with no allocation on a hit.
    pub fn lookup(&self, key: &str, now: Instant) -> Lookup {
        let slots = self.slots.read().unwrap_or_else(|p| p.into_inner());
        let Some(slot) = slots.get(key) else {
            return Lookup::Miss { last_good: None };
        };
        Self::lookup_slot(slot, now)
    }

    pub fn lookup_slot(slot: &Slot, now: Instant) -> Lookup {
        let entry = slot.entry.lock().unwrap_or_else(|p| p.into_inner());
        match entry.as_ref() {
            Some(e) if now < e.fresh_until => Lookup::Fresh {
                resolved: e.resolved.clone(),
                refresh_due: now >= e.refresh_after,
            },
            Some(e) => Lookup::Miss {
                last_good: Some(e.resolved.clone()),
            },
            None => Lookup::Miss { last_good: None },
        }
    }

    /// Stores a read. `ttl` is the policy TTL, shortened for credentials that expire sooner.
    pub fn store(&self, slot: &Slot, resolved: Arc<Resolved>, now: Instant) {
        let mut ttl = self.policy.ttl;
        if let Some(at) = resolved.credential.expires_at {
            let left_ms = at - crate::time::now_ms();
            ttl = ttl.min(Duration::from_millis(left_ms.max(0) as u64));
        }
        if resolved.stale {
            // A stale value is re-tried soon: the next call asks the source again.
            ttl = ttl.min(Duration::from_secs(1));
        }
        let ahead = ttl.mul_f64(self.policy.refresh_ahead_fraction.clamp(0.0, 1.0));
        let refresh_after = if ahead.is_zero() {
            now + ttl
        } else {
            now + ttl - ahead
        };
        *slot.entry.lock().unwrap_or_else(|p| p.into_inner()) = Some(Entry {
            resolved,
            fresh_until: now + ttl,
            refresh_after,
        });
        slot.refreshing.store(false, Ordering::Release);
    }

    /// True for the one caller that should start the background refresh of `slot`.
    pub fn claim_refresh(slot: &Slot) -> bool {
        !slot.refreshing.swap(true, Ordering::AcqRel)
    }

    /// Gives a claimed refresh back (the refresh failed; the next call may try again).
    pub fn release_refresh(slot: &Slot) {
        slot.refreshing.store(false, Ordering::Release);
    }

    /// Whether the last known good value may still be served at `now`.
    pub fn usable_when_stale(&self, last_good: &Resolved, now: Instant) -> bool {
        now.saturating_duration_since(last_good.fetched_at) <= self.policy.max_stale
            && last_good.stale_until.is_none_or(|until| now <= until)
    }

    /// Drops every entry whose key is for `name` (any source order).
    pub fn invalidate(&self, name: &str) {
        let slots = self.slots.read().unwrap_or_else(|p| p.into_inner());
        for (key, slot) in slots.iter() {
            if key_name(key) == name {
                *slot.entry.lock().unwrap_or_else(|p| p.into_inner()) = None;
            }
        }
    }

    /// Drops everything.
    pub fn clear(&self) {
        let slots = self.slots.read().unwrap_or_else(|p| p.into_inner());
        for slot in slots.values() {
            *slot.entry.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
    }
}

/// The cache key of a name read through `order` (a short signature of the groups).
pub fn key(name: &str, order_signature: &str) -> String {
    format!("{name}\u{0}{order_signature}")
}

fn key_name(key: &str) -> &str {
    key.split('\u{0}').next().unwrap_or(key)
}

/// One layer's answer for one name in a layered store (see [`crate::layers`]): the credential,
/// or `None` for "this layer does not hold it" (a miss is cached too, so a hit in the default
/// layer does not cost an agent and a team round trip every time), and when it was read.
#[derive(Clone)]
pub struct LayerAnswer {
    /// What the layer held.
    pub credential: Option<Credential>,
    /// When it was read.
    pub fetched_at: Instant,
}

/// One (store, layer, name)'s slot: its answer until `fresh_until`, and a single flight.
#[derive(Default)]
pub struct LayerSlot {
    entry: Mutex<Option<(LayerAnswer, Instant)>>,
    pub(crate) flight: tokio::sync::Mutex<()>,
}

/// The per-layer cache of a chain: shared by every agent and team context, so two agents of
/// one team read the team's credential once per TTL. Same TTL rules as [`Cache`]: the policy
/// TTL, shortened to a credential's expiry; zero disables it.
#[derive(Default)]
pub struct LayerCache {
    slots: RwLock<HashMap<String, Arc<LayerSlot>>>,
}

impl LayerCache {
    /// The slot of `name` in `layer` (a label) of `provider`, created on first use.
    pub fn slot(&self, provider: &str, layer: &str, name: &str) -> Arc<LayerSlot> {
        let key = format!("{name}\u{0}{provider}\u{0}{layer}");
        if let Some(slot) = self
            .slots
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return slot.clone();
        }
        self.slots
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key)
            .or_default()
            .clone()
    }

    /// The slot's answer while it is fresh at `now`.
    pub fn lookup(slot: &LayerSlot, now: Instant) -> Option<LayerAnswer> {
        let entry = slot.entry.lock().unwrap_or_else(|p| p.into_inner());
        entry
            .as_ref()
            .filter(|(_, until)| now < *until)
            .map(|(a, _)| a.clone())
    }

    /// Keeps `answer` for `policy.ttl` after it was read (shorter for a credential expiring
    /// sooner; not at all when the TTL is zero).
    pub fn store(slot: &LayerSlot, answer: LayerAnswer, policy: &CachePolicy) {
        let mut ttl = policy.ttl;
        if let Some(at) = answer.credential.as_ref().and_then(|c| c.expires_at) {
            let left_ms = at - crate::time::now_ms();
            ttl = ttl.min(Duration::from_millis(left_ms.max(0) as u64));
        }
        if ttl.is_zero() {
            return;
        }
        let until = answer.fetched_at + ttl;
        *slot.entry.lock().unwrap_or_else(|p| p.into_inner()) = Some((answer, until));
    }

    /// Drops the answers of `name` in every layer.
    pub fn invalidate(&self, name: &str) {
        let slots = self.slots.read().unwrap_or_else(|p| p.into_inner());
        for (key, slot) in slots.iter() {
            if key_name(key) == name {
                *slot.entry.lock().unwrap_or_else(|p| p.into_inner()) = None;
            }
        }
    }

    /// Drops everything.
    pub fn clear(&self) {
        let slots = self.slots.read().unwrap_or_else(|p| p.into_inner());
        for slot in slots.values() {
            *slot.entry.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
    }
}
