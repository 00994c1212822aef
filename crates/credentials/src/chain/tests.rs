//! The chain with in-memory sources: order, single flight, the remote-store rules (stale, `fallback: "none"`, denials) by kind, refresh under a lock file or a store's claim, audit lines.

use super::*;
use crate::credential::{fields, CredentialKind, CredentialSource, SecretFields};
use crate::providers::{RefreshClaim, RefreshCoordinator};
use crate::time::now_ms;
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// An in-memory source: a map of credentials, a read counter, an optional failure, a gate that
/// holds reads until opened, its kind (a source in the `vault` group is a remote store unless
/// made otherwise), and optionally an in-memory refresh claim.
struct Memory {
    id: &'static str,
    group: SourceGroup,
    kind: ProviderKind,
    items: Mutex<HashMap<String, Credential>>,
    reads: AtomicUsize,
    /// Probes asked by the circuit breaker; they wait at the gate like reads.
    probes: AtomicUsize,
    fail: Mutex<Option<ErrorCode>>,
    gate: tokio::sync::Semaphore,
    claim: Option<Arc<MemoryClaim>>,
    /// When set, the next `put` loses a cas race: this (token, expiresAt) is stored instead and
    /// the put fails with `CAS_MISMATCH`.
    race: Mutex<Option<(&'static str, Option<i64>)>>,
    /// What `last_known_good` answers: the item as kept `Ok(fetched_at_ms)` ago, or an error.
    kept: Mutex<Option<std::result::Result<i64, ErrorCode>>>,
}

impl Memory {
    fn new(id: &'static str, group: SourceGroup) -> Arc<Memory> {
        let kind = if group == SourceGroup::Vault {
            ProviderKind::RemoteStore
        } else {
            ProviderKind::Local
        };
        Memory::with(id, group, kind, None)
    }

    fn with(
        id: &'static str,
        group: SourceGroup,
        kind: ProviderKind,
        claim: Option<Arc<MemoryClaim>>,
    ) -> Arc<Memory> {
        Arc::new(Memory {
            id,
            group,
            kind,
            items: Mutex::new(HashMap::new()),
            reads: AtomicUsize::new(0),
            probes: AtomicUsize::new(0),
            fail: Mutex::new(None),
            gate: tokio::sync::Semaphore::new(tokio::sync::Semaphore::MAX_PERMITS),
            claim,
            race: Mutex::new(None),
            kept: Mutex::new(None),
        })
    }

    fn insert(&self, name: &str, token: &str, expires_at: Option<i64>) {
        let mut secrets = SecretFields::new();
        let kind = if expires_at.is_some() {
            secrets.insert_str(fields::ACCESS_TOKEN, token);
            secrets.insert_str(fields::REFRESH_TOKEN, "refresh-1");
            CredentialKind::OAuth
        } else {
            secrets.insert_str(fields::TOKEN, token);
            CredentialKind::Token
        };
        self.items.lock().unwrap().insert(
            name.into(),
            Credential {
                name: name.into(),
                kind,
                source: CredentialSource {
                    provider: self.id,
                    group: self.group,
                    location: format!("memory:{name}"),
                    file: None,
                    layer: None,
                },
                expires_at,
                metadata: Default::default(),
                secrets,
                version: CredentialVersion::Vault(1),
                request_id: None,
            },
        );
    }

    fn fail_with(&self, code: Option<ErrorCode>) {
        *self.fail.lock().unwrap() = code;
    }
}

#[async_trait]
impl CredentialProvider for Memory {
    fn id(&self) -> &'static str {
        self.id
    }
    fn group(&self) -> SourceGroup {
        self.group
    }
    fn kind(&self) -> ProviderKind {
        self.kind
    }
    fn refresh_coordinator(&self) -> Option<&dyn RefreshCoordinator> {
        self.claim.as_ref().map(|_| self as &dyn RefreshCoordinator)
    }
    async fn get(&self, name: &str) -> Result<Option<Credential>> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        let _permit = self.gate.acquire().await.unwrap();
        if let Some(code) = *self.fail.lock().unwrap() {
            return Err(Error::new(code, "memory source failed"));
        }
        Ok(self.items.lock().unwrap().get(name).cloned())
    }
    async fn last_known_good(&self, name: &str) -> Result<Option<KeptCredential>> {
        match *self.kept.lock().unwrap() {
            None => Ok(None),
            Some(Err(code)) => Err(Error::new(code, "the kept value cannot be served")),
            Some(Ok(fetched_at_ms)) => {
                Ok(self
                    .items
                    .lock()
                    .unwrap()
                    .get(name)
                    .cloned()
                    .map(|credential| KeptCredential {
                        credential,
                        fetched_at_ms,
                        max_age: Duration::from_secs(3600),
                    }))
            }
        }
    }
    async fn probe(&self) -> Result<()> {
        self.probes.fetch_add(1, Ordering::SeqCst);
        let _permit = self.gate.acquire().await.unwrap();
        // Like sys/health: a store that refuses reads (403) still answers its probe.
        match *self.fail.lock().unwrap() {
            Some(code) if crate::breaker::trips(&Error::new(code, "")) => {
                Err(Error::new(code, "memory source failed"))
            }
            _ => Ok(()),
        }
    }
    async fn list(&self) -> Result<Vec<Listing>> {
        Ok(self
            .items
            .lock()
            .unwrap()
            .keys()
            .map(|k| Listing {
                name: k.clone(),
                location: format!("memory:{k}"),
            })
            .collect())
    }
    fn writable(&self) -> bool {
        true
    }
    async fn put(
        &self,
        credential: &Credential,
        _expected: Option<&CredentialVersion>,
    ) -> Result<CredentialVersion> {
        if let Some((token, expires_at)) = self.race.lock().unwrap().take() {
            self.insert(&credential.name, token, expires_at);
            return Err(Error::new(ErrorCode::CasMismatch, "memory cas lost"));
        }
        self.items
            .lock()
            .unwrap()
            .insert(credential.name.clone(), credential.clone());
        Ok(CredentialVersion::Vault(2))
    }
}

/// Closes an open breaker the way the chain does: with a zero cool-down the next request (a
/// listing, which writes no audit line) starts the probe, the in-memory sources answer it, and
/// then the next lookup asks the remote store again.
async fn settle_breakers(chain: &CredentialChain) {
    chain.list(None).await;
    for _ in 0..100 {
        if chain
            .breaker_status()
            .iter()
            .all(|(_, s)| s.state == crate::breaker::BreakerState::Closed)
        {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("the breaker did not close: {:?}", chain.breaker_status());
}

fn chain_of(providers: Vec<Arc<Memory>>, settings: ChainSettings) -> Arc<CredentialChain> {
    chain_with_audit(providers, settings, None)
}

fn chain_with_audit(
    providers: Vec<Arc<Memory>>,
    settings: ChainSettings,
    audit: Option<AuditLog>,
) -> Arc<CredentialChain> {
    let providers = providers
        .into_iter()
        .map(|p| p as Arc<dyn CredentialProvider>)
        .collect();
    Arc::new(CredentialChain::new(providers, None, settings, audit))
}

/// An in-memory refresh claim: taken at most once at a time; counts how often it was taken.
#[derive(Default)]
struct MemoryClaim {
    held: AtomicBool,
    taken: AtomicUsize,
    released: AtomicUsize,
}

impl RefreshCoordinator for Memory {
    fn refresh_claim(&self, _name: &str, _ttl: Duration) -> Result<Box<dyn RefreshClaim>> {
        let claim = self.claim.clone().expect("only offered with a claim");
        Ok(Box::new(MemoryClaimHandle(claim)))
    }
}

/// One caller's handle on the shared [`MemoryClaim`].
struct MemoryClaimHandle(Arc<MemoryClaim>);

#[async_trait]
impl RefreshClaim for MemoryClaimHandle {
    async fn try_acquire(&self) -> Result<bool> {
        let free = !self.0.held.swap(true, Ordering::SeqCst);
        if free {
            self.0.taken.fetch_add(1, Ordering::SeqCst);
        }
        Ok(free)
    }
    async fn release(&self) {
        self.0.released.fetch_add(1, Ordering::SeqCst);
        self.0.held.store(false, Ordering::SeqCst);
    }
}

/// The audit lines written to `path`.
fn audit_lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn token_of(r: &Resolved) -> String {
    r.credential.primary().unwrap().expose_secret().to_string()
}

#[tokio::test]
async fn walks_the_order_and_lists_what_it_tried() {
    let vault = Memory::new("vault", SourceGroup::Vault);
    let files = Memory::new("local-files", SourceGroup::Files);
    let env = Memory::new("env", SourceGroup::Env);
    files.insert("telegram", "from-files", None);
    env.insert("telegram", "from-env", None);
    let chain = chain_of(vec![vault.clone(), files, env], ChainSettings::default());
    let r = chain.get("telegram", &GetOptions::default()).await.unwrap();
    assert_eq!(token_of(&r), "from-files");
    assert_eq!(r.credential.source.provider, "local-files");
    // A per-call order skips groups.
    let r = chain
        .get(
            "telegram",
            &GetOptions {
                order: Some(vec![SourceGroup::Env]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(token_of(&r), "from-env");
    let err = chain
        .get("discord", &GetOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "CREDENTIAL_NOT_FOUND");
    assert_eq!(
        err.errors,
        vec![
            "vault: not found",
            "local-files: not found",
            "env: not found"
        ]
    );
    assert_eq!(
        chain
            .get("../x", &GetOptions::default())
            .await
            .unwrap_err()
            .code(),
        "INVALID_ARGUMENT"
    );
    let listed = chain.list(None).await;
    assert_eq!(listed.credentials.len(), 1);
    assert_eq!(listed.credentials[0].sources.len(), 2);
}

#[tokio::test(flavor = "current_thread")]
async fn concurrent_misses_make_one_read_and_hits_make_none() {
    let vault = Memory::new("vault", SourceGroup::Vault);
    vault.insert("anthropic", "v1", None);
    let held = vault
        .gate
        .acquire_many(tokio::sync::Semaphore::MAX_PERMITS as u32)
        .await
        .unwrap();
    let chain = chain_of(vec![vault.clone()], ChainSettings::default());
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let chain = chain.clone();
            tokio::spawn(async move { chain.get("anthropic", &GetOptions::default()).await })
        })
        .collect();
    // Let every task reach the gate or the flight lock, then open the gate.
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
    drop(held);
    for t in tasks {
        assert_eq!(token_of(&t.await.unwrap().unwrap()), "v1");
    }
    assert_eq!(vault.reads.load(Ordering::SeqCst), 1);
    assert!(chain.get_cached("anthropic", false).is_some());
    chain
        .get("anthropic", &GetOptions::default())
        .await
        .unwrap();
    assert_eq!(vault.reads.load(Ordering::SeqCst), 1);
    chain.invalidate("anthropic");
    assert!(chain.get_cached("anthropic", false).is_none());
}

#[tokio::test]
async fn serves_last_known_good_while_vault_is_unreachable() {
    let vault = Memory::new("vault", SourceGroup::Vault);
    let files = Memory::new("local-files", SourceGroup::Files);
    vault.insert("anthropic", "from-vault", None);
    files.insert("anthropic", "from-files", None);
    let mut settings = ChainSettings::default();
    settings.cache.ttl = Duration::ZERO;
    settings.breaker.cool_down = Duration::ZERO;
    let chain = chain_of(vec![vault.clone(), files.clone()], settings.clone());
    assert!(
        !chain
            .get("anthropic", &GetOptions::default())
            .await
            .unwrap()
            .stale
    );
    vault.fail_with(Some(ErrorCode::Network));
    let r = chain
        .get("anthropic", &GetOptions::default())
        .await
        .unwrap();
    assert!(r.stale);
    assert_eq!(token_of(&r), "from-vault");
    // Denied is not "unreachable": the chain falls back instead.
    vault.fail_with(Some(ErrorCode::PermissionDenied));
    settle_breakers(&chain).await;
    let r = chain
        .get("anthropic", &GetOptions::default())
        .await
        .unwrap();
    assert_eq!(token_of(&r), "from-files");

    // Past the maximum age, the fallback is used.
    settings.cache.max_stale = Duration::ZERO;
    let chain = chain_of(vec![vault.clone(), files.clone()], settings.clone());
    vault.fail_with(None);
    chain
        .get("anthropic", &GetOptions::default())
        .await
        .unwrap();
    vault.fail_with(Some(ErrorCode::Network));
    let r = chain
        .get("anthropic", &GetOptions::default())
        .await
        .unwrap();
    assert!(!r.stale);
    assert_eq!(token_of(&r), "from-files");

    // fallback: none turns a Vault failure into an error.
    settings.fallback = Fallback::None;
    let chain = chain_of(vec![vault.clone(), files], settings);
    let err = chain
        .get("anthropic", &GetOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "NETWORK");
}

struct CountingRefresher {
    calls: AtomicUsize,
}

#[async_trait]
impl Refresher for CountingRefresher {
    async fn refresh(&self, credential: &Credential) -> Result<RefreshedTokens> {
        assert_eq!(
            credential
                .secrets
                .get(fields::REFRESH_TOKEN)
                .unwrap()
                .expose_secret(),
            "refresh-1"
        );
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::task::yield_now().await;
        Ok(RefreshedTokens {
            access_token: SecretString::from(format!("access-{n}")),
            refresh_token: None,
            id_token: None,
            expires_at: Some(now_ms() + 3_600_000),
        })
    }
}

/// A refresh whose write-back loses the cas to another writer returns the winner's tokens when
/// they are still valid, and leaves them stored; an expired winner leaves `CAS_MISMATCH`.
#[tokio::test]
async fn a_lost_write_back_returns_the_valid_winner() {
    for (with_claim, winner_expiry, wins) in [
        (false, now_ms() + 3_600_000, true),
        (true, now_ms() + 3_600_000, true),
        (false, now_ms() - 1, false),
    ] {
        let claim = with_claim.then(|| Arc::new(MemoryClaim::default()));
        let source = Memory::with(
            "local-files",
            SourceGroup::Files,
            ProviderKind::Local,
            claim,
        );
        source.insert("anthropic", "old", Some(now_ms() - 1));
        *source.race.lock().unwrap() = Some(("winner", Some(winner_expiry)));
        let dir = std::env::temp_dir().join(format!("ocv-chain-race-{}", std::process::id()));
        let settings = ChainSettings {
            lock_dir: dir.clone(),
            ..ChainSettings::default()
        };
        let chain = chain_of(vec![source.clone()], settings);
        let options = GetOptions {
            refresher: Some(Arc::new(CountingRefresher {
                calls: AtomicUsize::new(0),
            })),
            ..Default::default()
        };
        let result = chain.get("anthropic", &options).await;
        let stored = source.items.lock().unwrap()["anthropic"].clone();
        assert_eq!(stored.primary().unwrap().expose_secret(), "winner");
        if wins {
            assert_eq!(token_of(&result.unwrap()), "winner");
        } else {
            assert_eq!(result.unwrap_err().code(), "CAS_MISMATCH");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[tokio::test]
async fn an_expiring_local_credential_is_refreshed_once() {
    let files = Memory::new("local-files", SourceGroup::Files);
    files.insert("anthropic", "old", Some(now_ms() - 1));
    let dir = std::env::temp_dir().join(format!("ocv-chain-lock-{}", std::process::id()));
    let settings = ChainSettings {
        lock_dir: dir.clone(),
        ..ChainSettings::default()
    };
    let chain = chain_of(vec![files.clone()], settings);
    let refresher = Arc::new(CountingRefresher {
        calls: AtomicUsize::new(0),
    });
    let options = GetOptions {
        refresher: Some(refresher.clone()),
        ..Default::default()
    };
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let chain = chain.clone();
            let options = options.clone();
            tokio::spawn(async move { chain.get("anthropic", &options).await })
        })
        .collect();
    for t in tasks {
        let r = t.await.unwrap().unwrap();
        assert_eq!(token_of(&r), "access-1");
    }
    assert_eq!(refresher.calls.load(Ordering::SeqCst), 1);
    // Written back to the source, refresh token kept.
    let stored = files.items.lock().unwrap()["anthropic"].clone();
    assert_eq!(stored.primary().unwrap().expose_secret(), "access-1");
    assert_eq!(
        stored
            .secrets
            .get(fields::REFRESH_TOKEN)
            .unwrap()
            .expose_secret(),
        "refresh-1"
    );
    // Without a refresher the expired credential is returned as it is.
    files.insert("anthropic", "old", Some(now_ms() - 1));
    chain.invalidate("anthropic");
    let r = chain
        .get("anthropic", &GetOptions::default())
        .await
        .unwrap();
    assert_eq!(token_of(&r), "old");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn remote_store_rules_follow_the_kind_not_the_id() {
    // A second remote store (say Bitwarden), in the `files` group, and a source in the `vault`
    // group that is local: the rules follow the kind.
    let dir = std::env::temp_dir().join(format!("ocv-chain-kind-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let audit_path = dir.join("audit.jsonl");
    let bitwarden = Memory::with(
        "bitwarden",
        SourceGroup::Files,
        ProviderKind::RemoteStore,
        None,
    );
    let odd_local = Memory::with("odd-local", SourceGroup::Vault, ProviderKind::Local, None);
    let env = Memory::new("env", SourceGroup::Env);
    bitwarden.insert("anthropic", "from-bitwarden", None);
    env.insert("anthropic", "from-env", None);
    let mut settings = ChainSettings::default();
    settings.cache.ttl = Duration::ZERO;
    settings.breaker.cool_down = Duration::ZERO;
    let chain = chain_with_audit(
        vec![odd_local.clone(), bitwarden.clone(), env.clone()],
        settings.clone(),
        Some(AuditLog::open(&audit_path).unwrap()),
    );
    let r = chain
        .get("anthropic", &GetOptions::default())
        .await
        .unwrap();
    assert_eq!(token_of(&r), "from-bitwarden");

    // Unreachable remote store: its last value, stale, audited with its id.
    bitwarden.fail_with(Some(ErrorCode::Network));
    let r = chain
        .get("anthropic", &GetOptions::default())
        .await
        .unwrap();
    assert!(r.stale);
    assert_eq!(token_of(&r), "from-bitwarden");
    // Denied: audited as a denial, then the fallback.
    bitwarden.fail_with(Some(ErrorCode::PermissionDenied));
    settle_breakers(&chain).await;
    let r = chain
        .get("anthropic", &GetOptions::default())
        .await
        .unwrap();
    assert_eq!(token_of(&r), "from-env");
    // A local source that fails, even in the `vault` group: skipped, never stale or denial.
    odd_local.fail_with(Some(ErrorCode::PermissionDenied));
    bitwarden.fail_with(None);
    chain
        .get("anthropic", &GetOptions::default())
        .await
        .unwrap();

    let lines = audit_lines(&audit_path);
    let seen: Vec<(String, String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["event"].as_str().unwrap().to_string(),
                l["source"].as_str().unwrap_or("").to_string(),
                l["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expect = |e: &str, s: &str, o: &str| (e.to_string(), s.to_string(), o.to_string());
    assert_eq!(
        seen,
        [
            expect("get", "bitwarden", "ok"),
            expect("get", "bitwarden", "stale"),
            expect("denial", "bitwarden", "PERMISSION_DENIED"),
            expect("fallback", "bitwarden", "PERMISSION_DENIED"),
            expect("get", "env", "ok"),
            expect("fallback", "odd-local", "PERMISSION_DENIED"),
            expect("get", "bitwarden", "ok"),
        ]
    );
    assert!(lines.iter().all(|l| !l.to_string().contains("from-")));

    // fallback: none applies to every remote store, and only to them.
    settings.fallback = Fallback::None;
    let strict = chain_of(vec![odd_local.clone(), bitwarden.clone(), env], settings);
    let r = strict
        .get("anthropic", &GetOptions::default())
        .await
        .unwrap();
    assert_eq!(token_of(&r), "from-bitwarden");
    // (Unreachable, it would still serve its last value stale; refused, it is an error.)
    bitwarden.fail_with(Some(ErrorCode::PermissionDenied));
    let err = strict
        .get("anthropic", &GetOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "PERMISSION_DENIED");

    // put without a target writes to the first writable remote store.
    let mut written = r.credential.clone();
    written.name = "telegram".into();
    bitwarden.fail_with(None);
    strict.put(&written, None).await.unwrap();
    assert!(bitwarden.items.lock().unwrap().contains_key("telegram"));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_source_with_a_coordinator_refreshes_under_its_claim() {
    let claim = Arc::new(MemoryClaim::default());
    let store = Memory::with(
        "store",
        SourceGroup::Vault,
        ProviderKind::RemoteStore,
        Some(claim.clone()),
    );
    store.insert("anthropic", "old", Some(now_ms() - 1));
    let dir = std::env::temp_dir().join(format!("ocv-chain-claim-{}", std::process::id()));
    let settings = ChainSettings {
        lock_dir: dir.clone(),
        ..ChainSettings::default()
    };
    let chain = chain_of(vec![store.clone()], settings);
    let refresher = Arc::new(CountingRefresher {
        calls: AtomicUsize::new(0),
    });
    let options = GetOptions {
        refresher: Some(refresher.clone()),
        ..Default::default()
    };
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let chain = chain.clone();
            let options = options.clone();
            tokio::spawn(async move { chain.get("anthropic", &options).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(token_of(&t.await.unwrap().unwrap()), "access-1");
    }
    assert_eq!(refresher.calls.load(Ordering::SeqCst), 1);
    // A waiter may take the claim after the refresh and find fresh tokens: every take is
    // released, and the refresher ran once.
    let taken = claim.taken.load(Ordering::SeqCst);
    assert!(taken >= 1);
    assert_eq!(claim.released.load(Ordering::SeqCst), taken);
    // No lock file was needed: the claim coordinated.
    assert!(!dir.exists());
}

#[tokio::test]
async fn the_fast_path_leaves_a_due_oauth_credential_to_get_when_a_refresher_is_given() {
    let files = Memory::new("local-files", SourceGroup::Files);
    files.insert("expiring", "access-old", Some(now_ms() + 1_000));
    files.insert("lasting", "access-ok", Some(now_ms() + 3_600_000));
    files.insert("telegram", "token", None);
    let chain = chain_of(vec![files], ChainSettings::default());
    for name in ["expiring", "lasting", "telegram"] {
        assert!(
            chain.get_cached(name, false).is_none(),
            "nothing cached yet"
        );
        chain.get(name, &GetOptions::default()).await.unwrap();
        assert!(chain.get_cached(name, false).is_some(), "{name}");
    }
    assert!(chain.get_cached("expiring", true).is_none());
    assert!(chain.get_cached("lasting", true).is_some());
    assert!(chain.get_cached("telegram", true).is_some());
    let expiring = chain.get_cached("expiring", false).unwrap();
    assert!(chain.should_refresh(&expiring.credential));
    // The rule is the kind and the margin: a token credential never refreshes.
    let mut token = expiring.credential.clone();
    token.kind = CredentialKind::Token;
    assert!(!chain.should_refresh(&token));
    token.kind = CredentialKind::OAuth;
    token.expires_at = None;
    assert!(!chain.should_refresh(&token));
}

fn oauth_credential() -> Credential {
    let memory = Memory::new("local-files", SourceGroup::Files);
    memory.insert("anthropic", "sk-ant-oat01-FAKE-access", Some(1));
    let credential = memory.items.lock().unwrap()["anthropic"].clone();
    credential
}

#[test]
fn refresh_answers_become_tokens_with_an_expiry_in_epoch_ms() {
    let credential = oauth_credential();
    let answer = |at: Option<f64>, secs: Option<f64>| RefreshAnswer {
        access_token: "sk-ant-oat01-FAKE-new".into(),
        refresh_token: Some("sk-ant-ort01-FAKE-new".into()),
        id_token: None,
        expires_at_ms: at,
        expires_in_secs: secs,
    };
    let tokens = answer(Some(1_900_000_000_000.0), Some(60.0))
        .into_tokens(&credential, 5_000)
        .unwrap();
    assert_eq!(tokens.expires_at, Some(1_900_000_000_000), "expiresAt wins");
    assert_eq!(tokens.access_token.expose_secret(), "sk-ant-oat01-FAKE-new");
    assert_eq!(
        tokens.refresh_token.unwrap().expose_secret(),
        "sk-ant-ort01-FAKE-new"
    );
    let tokens = answer(None, Some(3600.0))
        .into_tokens(&credential, 5_000)
        .unwrap();
    assert_eq!(
        tokens.expires_at,
        Some(3_605_000),
        "expiresIn is seconds from now"
    );
    let tokens = answer(None, None).into_tokens(&credential, 5_000).unwrap();
    assert_eq!(tokens.expires_at, None);
    for (at, secs) in [
        (Some(-1.0), None),
        (Some(f64::NAN), None),
        (None, Some(0.0)),
        (None, Some(f64::INFINITY)),
        (Some(0.0), Some(-5.0)),
    ] {
        let Err(err) = answer(at, secs).into_tokens(&credential, 5_000) else {
            panic!("{at:?} {secs:?} accepted");
        };
        assert_eq!(err.code(), "REFRESH_FAILED", "{at:?} {secs:?}");
        assert!(err.message.contains("expiresAt must be epoch milliseconds"));
        assert!(err.message.contains("\"anthropic\""));
    }
}

#[test]
fn a_failed_callback_is_refresh_failed_without_the_tokens() {
    let credential = oauth_credential();
    let err = refresh_callback_failed(
        &credential,
        "token endpoint said no to sk-ant-oat01-FAKE-access (refresh refresh-1)",
    );
    assert_eq!(err.code(), "REFRESH_FAILED");
    assert_eq!(
        err.message,
        "the refresh callback for credential \"anthropic\" failed: token endpoint said no to [REDACTED] (refresh [REDACTED])"
    );
    // Long reasons are cut after redaction, so no secret survives half-cut.
    let long = format!("{}sk-ant-oat01-FAKE-access", "x".repeat(290));
    let err = refresh_callback_failed(&credential, &long);
    assert!(!err.message.contains("sk-ant"), "{}", err.message);
    assert!(err.message.ends_with("[REDACTED]"));
    let reason = err.message.split(": ").nth(1).unwrap();
    assert_eq!(reason.chars().count(), 300);
}

/// Tokens a CLI owns (here read through Claude Code's provider id) are never refreshed: one
/// inside the margin is returned as it is, an expired one is `REFRESH_FAILED` naming Claude
/// Code's login command. Either way the refresher is never called and nothing is written back.
#[tokio::test]
async fn a_token_a_cli_owns_is_never_refreshed() {
    let claude = Memory::new("claude-code", SourceGroup::Files);
    claude.insert(
        "anthropic",
        "sk-ant-oat01-FAKE-soon",
        Some(now_ms() + 1_000),
    );
    let dir = std::env::temp_dir().join(format!("ocv-chain-owned-{}", std::process::id()));
    let settings = ChainSettings {
        lock_dir: dir.clone(),
        ..ChainSettings::default()
    };
    let chain = chain_of(vec![claude.clone()], settings);
    let refresher = Arc::new(CountingRefresher {
        calls: AtomicUsize::new(0),
    });
    let options = GetOptions {
        refresher: Some(refresher.clone()),
        ..Default::default()
    };
    // Within the margin, still valid: returned unchanged (Claude Code renews it when it runs).
    let r = chain.get("anthropic", &options).await.unwrap();
    assert_eq!(token_of(&r), "sk-ant-oat01-FAKE-soon");
    assert!(!chain.should_refresh(&r.credential));
    assert!(chain.get_cached("anthropic", true).is_some());

    claude.insert("anthropic", "sk-ant-oat01-FAKE-expired", Some(now_ms() - 1));
    chain.invalidate("anthropic");
    let err = chain.get("anthropic", &options).await.unwrap_err();
    assert_eq!(err.code(), "REFRESH_FAILED");
    assert!(
        err.message.contains("`claude auth login`"),
        "{}",
        err.message
    );
    assert!(err.message.contains("Claude Code owns this login"));
    assert!(err
        .message
        .contains("openclaw-vault migrate --take-ownership anthropic"));
    assert!(err.message.contains("memory:anthropic"), "names where");
    for secret in ["sk-ant-oat01-FAKE", "refresh-1"] {
        assert!(!err.message.contains(secret), "{}", err.message);
    }
    assert_eq!(refresher.calls.load(Ordering::SeqCst), 0);
    let stored = claude.items.lock().unwrap()["anthropic"].clone();
    assert_eq!(
        stored.primary().unwrap().expose_secret(),
        "sk-ant-oat01-FAKE-expired"
    );
    assert!(!dir.exists(), "not even a refresh lock was taken");

    // Without a refresher the expired token is returned as it is, as from any source.
    let r = chain
        .get("anthropic", &GetOptions::default())
        .await
        .unwrap();
    assert_eq!(token_of(&r), "sk-ant-oat01-FAKE-expired");

    // The same name from a source nobody owns (Vault, after `migrate --take-ownership`) is
    // refreshed as usual.
    let vault = Memory::new("vault", SourceGroup::Vault);
    vault.insert("anthropic", "sk-ant-oat01-FAKE-expired", Some(now_ms() - 1));
    let settings = ChainSettings {
        lock_dir: dir.clone(),
        ..ChainSettings::default()
    };
    let chain = chain_of(vec![vault.clone(), claude.clone()], settings);
    let r = chain.get("anthropic", &options).await.unwrap();
    assert_eq!(token_of(&r), "access-1");
    assert_eq!(refresher.calls.load(Ordering::SeqCst), 1);
    let stored = claude.items.lock().unwrap()["anthropic"].clone();
    assert_eq!(
        stored.primary().unwrap().expose_secret(),
        "sk-ant-oat01-FAKE-expired",
        "the CLI's copy is never written"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// The breaker tests' chain: a remote store `vault` (its own breaker) before a local `env`, with
/// `settings` and an optional audit log. Items are inserted (and the store hung) afterwards.
fn vault_then_env(
    settings: ChainSettings,
    audit: Option<AuditLog>,
) -> (Arc<Memory>, Arc<Memory>, Arc<CredentialChain>) {
    let vault = Memory::new("vault", SourceGroup::Vault);
    let env = Memory::new("env", SourceGroup::Env);
    let chain = chain_with_audit(vec![vault.clone(), env.clone()], settings, audit);
    (vault, env, chain)
}

/// `n` names held by the env source only, each with its own value.
fn env_names(env: &Memory, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let name = format!("svc-{i}");
            env.insert(&name, &format!("local-{i}"), None);
            name
        })
        .collect()
}

/// Makes `store` accept and never answer (every permit of its gate taken away) until the
/// returned guard is dropped.
async fn hung(store: &Memory) -> Reopen<'_> {
    store
        .gate
        .forget_permits(tokio::sync::Semaphore::MAX_PERMITS);
    assert_eq!(store.gate.available_permits(), 0);
    Reopen(store)
}

struct Reopen<'a>(&'a Memory);

impl Drop for Reopen<'_> {
    fn drop(&mut self) {
        self.0.gate.add_permits(tokio::sync::Semaphore::MAX_PERMITS);
    }
}

// Issue 11 kind 9. Tokio's clock is paused: the deadlines pass without sleeping.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_hung_remote_store_costs_one_deadline_not_one_per_name() {
    let (vault, env, chain) = vault_then_env(ChainSettings::default(), None);
    let names = env_names(&env, 100);
    let _held = hung(&vault).await;
    let started = tokio::time::Instant::now();
    let all = async {
        for (i, name) in names.iter().enumerate() {
            let r = chain.get(name, &GetOptions::default()).await.unwrap();
            assert_eq!(token_of(&r), format!("local-{i}"));
            assert_eq!(r.credential.source.provider, "env");
        }
    };
    tokio::time::timeout(Duration::from_secs(600), all)
        .await
        .expect("100 names within 600 s of (virtual) time");
    let took = started.elapsed();
    assert!(
        took >= DEFAULT_LOOKUP_TIMEOUT
            && took < DEFAULT_LOOKUP_TIMEOUT + Duration::from_millis(100),
        "{took:?}"
    );
    // Only the first name asked the hung store; the breaker sent the other 99 on at once.
    assert_eq!(vault.reads.load(Ordering::SeqCst), 1);
    let status = chain.breaker_status();
    assert_eq!(status[0].0, "vault");
    assert_eq!(status[0].1.state, crate::breaker::BreakerState::Open);
    assert_eq!(status[0].1.cause, Some(ErrorCode::Timeout));
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn concurrent_names_on_a_hung_store_all_fail_over_at_the_first_deadline() {
    let settings = ChainSettings {
        lookup_timeout: Duration::from_secs(2),
        ..ChainSettings::default()
    };
    let (vault, env, chain) = vault_then_env(settings, None);
    let names = env_names(&env, 100);
    let _held = hung(&vault).await;
    let started = tokio::time::Instant::now();
    // Staggered starts: each lookup still ends when the first deadline opens the breaker.
    let tasks: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let (chain, name) = (chain.clone(), name.clone());
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(10 * i as u64)).await;
                chain.get(&name, &GetOptions::default()).await
            })
        })
        .collect();
    let all = async {
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(token_of(&t.await.unwrap().unwrap()), format!("local-{i}"));
        }
    };
    tokio::time::timeout(Duration::from_secs(600), all)
        .await
        .expect("100 names within 600 s of (virtual) time");
    let took = started.elapsed();
    assert!(took < Duration::from_millis(2100), "{took:?}");
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn an_open_breaker_sends_one_probe_and_under_fallback_none_fails_fast() {
    let settings = ChainSettings {
        fallback: Fallback::None,
        // The cool-down ends at once: every later lookup would be allowed to start a probe.
        breaker: BreakerPolicy {
            cool_down: Duration::ZERO,
            probe_timeout: Duration::from_secs(3600),
            ..BreakerPolicy::default()
        },
        ..ChainSettings::default()
    };
    let (vault, env, chain) = vault_then_env(settings, None);
    vault.insert("anthropic", "from-vault", None);
    env.insert("anthropic", "from-env-CANARY", None);
    let held = hung(&vault).await;
    let err = tokio::time::timeout(
        Duration::from_secs(600),
        chain.get("anthropic", &GetOptions::default()),
    )
    .await
    .expect("an answer within 600 s of (virtual) time")
    .unwrap_err();
    assert_eq!(err.code(), "TIMEOUT");
    for _ in 0..50 {
        let started = tokio::time::Instant::now();
        let err = chain
            .get("anthropic", &GetOptions::default())
            .await
            .unwrap_err();
        assert_eq!(started.elapsed(), Duration::ZERO, "failed fast");
        assert_eq!(err.code(), "CIRCUIT_OPEN", "{}", err.message);
        assert!(err.message.contains("vault") && err.message.contains("TIMEOUT"));
        assert!(!err.message.contains("CANARY") && !err.message.contains("from-"));
        tokio::task::yield_now().await;
    }
    assert_eq!(vault.reads.load(Ordering::SeqCst), 1);
    assert_eq!(
        vault.probes.load(Ordering::SeqCst),
        1,
        "one probe at a time"
    );
    // Vault answers again: the probe in flight gets its answer and closes the breaker.
    drop(held);
    settle_breakers(&chain).await;
    let r = chain
        .get("anthropic", &GetOptions::default())
        .await
        .unwrap();
    assert_eq!(token_of(&r), "from-vault");
    assert_eq!(vault.probes.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn an_open_breaker_serves_the_last_value_stale_and_audits_circuit_open() {
    let dir = std::env::temp_dir().join(format!("ocv-chain-breaker-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let audit_path = dir.join("audit.jsonl");
    let mut settings = ChainSettings::default();
    settings.cache.ttl = Duration::ZERO;
    let (vault, env, chain) = vault_then_env(settings, Some(AuditLog::open(&audit_path).unwrap()));
    vault.insert("anthropic", "from-vault", None);
    env.insert("openai", "from-env", None);
    chain
        .get("anthropic", &GetOptions::default())
        .await
        .unwrap();
    let _held = hung(&vault).await;
    // The hung read times out: the last value, stale; the breaker opens.
    let r = tokio::time::timeout(
        Duration::from_secs(600),
        chain.get("anthropic", &GetOptions::default()),
    )
    .await
    .expect("an answer within 600 s of (virtual) time")
    .unwrap();
    assert!(r.stale);
    // Open: still the last value, without asking; another name falls back at once.
    let r = chain
        .get("anthropic", &GetOptions::default())
        .await
        .unwrap();
    assert!(r.stale);
    assert_eq!(token_of(&r), "from-vault");
    let r = chain.get("openai", &GetOptions::default()).await.unwrap();
    assert_eq!(token_of(&r), "from-env");
    assert_eq!(vault.reads.load(Ordering::SeqCst), 2);
    let seen: Vec<(String, String, String)> = audit_lines(&audit_path)
        .iter()
        .map(|l| {
            (
                l["event"].as_str().unwrap().to_string(),
                l["credential"].as_str().unwrap().to_string(),
                l["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expect = |e: &str, c: &str, o: &str| (e.to_string(), c.to_string(), o.to_string());
    assert_eq!(
        seen,
        [
            expect("get", "anthropic", "ok"),
            expect("get", "anthropic", "stale"),
            expect("get", "anthropic", "stale"),
            expect("fallback", "openai", "CIRCUIT_OPEN"),
            expect("get", "openai", "ok"),
        ]
    );
    drop(chain); // closes the audit log before its directory goes
    let _ = std::fs::remove_dir_all(&dir);
}

/// The lines a `fmt` subscriber writes, for counting log noise.
#[derive(Clone, Default)]
struct LogLines(Arc<Mutex<Vec<u8>>>);

thread_local! {
    /// Where this thread's log lines go, while a test captures them.
    static CAPTURE: std::cell::RefCell<Option<LogLines>> = const { std::cell::RefCell::new(None) };
}

/// The test binary's one global subscriber (warn level): it writes each line to the capture of
/// the thread that logs it, and drops it when that thread captures nothing. A global one, since
/// a scoped default misses callsites whose interest another test thread cached first.
struct ThreadCapture;

impl std::io::Write for ThreadCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|c| {
            if let Some(lines) = c.borrow_mut().as_mut() {
                lines.0.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct CaptureGuard;

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        CAPTURE.with(|c| *c.borrow_mut() = None);
    }
}

impl LogLines {
    /// Captures this thread's warn-level lines until the guard drops (the current-thread
    /// runtime runs every task of the test on this thread).
    fn install(&self) -> CaptureGuard {
        static GLOBAL: std::sync::Once = std::sync::Once::new();
        GLOBAL.call_once(|| {
            let subscriber = tracing_subscriber::fmt()
                .with_writer(|| ThreadCapture)
                .with_max_level(tracing::Level::WARN)
                .with_ansi(false)
                .finish();
            tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        });
        CAPTURE.with(|c| *c.borrow_mut() = Some(self.clone()));
        CaptureGuard
    }

    fn lines(&self) -> Vec<String> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

// Review finding: 120 names waiting on a hung Vault logged 150 warnings. One per transition.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_hung_store_logs_one_warning_when_its_breaker_opens_not_one_per_name() {
    let logs = LogLines::default();
    let _guard = logs.install();
    let (vault, env, chain) = vault_then_env(ChainSettings::default(), None);
    let names = env_names(&env, 120);
    let _held = hung(&vault).await;
    let tasks: Vec<_> = names
        .iter()
        .map(|name| {
            let (chain, name) = (chain.clone(), name.clone());
            tokio::spawn(async move { chain.get(&name, &GetOptions::default()).await })
        })
        .collect();
    let all = async {
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(token_of(&t.await.unwrap().unwrap()), format!("local-{i}"));
        }
    };
    tokio::time::timeout(Duration::from_secs(600), all)
        .await
        .expect("120 names within 600 s of (virtual) time");
    let lines = logs.lines();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].contains("WARN") && lines[0].contains("vault") && lines[0].contains("TIMEOUT")
    );
    assert!(!lines[0].contains("local-"));
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn stale_serving_warns_once_per_name_per_open_period() {
    let logs = LogLines::default();
    let _guard = logs.install();
    let settings = ChainSettings {
        // Probes fail at once and reopen: several open periods within the calls below.
        breaker: BreakerPolicy {
            probe_timeout: Duration::from_millis(100),
            ..BreakerPolicy::default()
        },
        ..ChainSettings::default()
    };
    let (vault, _env, chain) = vault_then_env(settings, None);
    vault.insert("anthropic", "from-vault-CANARY", None);
    let r = chain
        .get("anthropic", &GetOptions::default())
        .await
        .unwrap();
    assert_eq!(token_of(&r), "from-vault-CANARY");
    let _held = hung(&vault).await;
    let fresh = GetOptions {
        no_cache: true,
        ..GetOptions::default()
    };
    for _ in 0..50 {
        let r = tokio::time::timeout(Duration::from_secs(600), chain.get("anthropic", &fresh))
            .await
            .expect("an answer within 600 s of (virtual) time")
            .unwrap();
        assert!(r.stale);
        tokio::task::yield_now().await;
    }
    let lines = logs.lines();
    let stale: Vec<_> = lines
        .iter()
        .filter(|l| l.contains("last known good"))
        .collect();
    // One breaker opening (the probes that fail keep it open: the same period).
    assert_eq!(stale.len(), 1, "{lines:#?}");
    assert_eq!(lines.len(), 2, "opened + one stale warning: {lines:#?}");
    assert!(lines.iter().all(|l| !l.contains("CANARY")), "{lines:#?}");
}

/// A new process (nothing in memory): a remote store that cannot be reached answers from its
/// kept value, marked stale and audited; a denial never does; a kept value that cannot be served
/// fails closed with its own code under `fallback: "none"`. A new chain per case: a new process,
/// and no breaker opened by the case before.
#[tokio::test]
async fn the_kept_value_is_served_only_when_the_remote_store_is_unreachable() {
    let audit_path =
        std::env::temp_dir().join(format!("ocv-chain-kept-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&audit_path);
    let new_process = |fail: ErrorCode, kept: std::result::Result<i64, ErrorCode>| {
        let vault = Memory::new("vault", SourceGroup::Vault);
        vault.insert("openai", "sk-kept-FAKE", None);
        vault.fail_with(Some(fail));
        *vault.kept.lock().unwrap() = Some(kept);
        let settings = ChainSettings {
            fallback: Fallback::None,
            ..ChainSettings::default()
        };
        let providers: Vec<Arc<dyn CredentialProvider>> = vec![vault];
        Arc::new(CredentialChain::new(
            providers,
            None,
            settings,
            Some(AuditLog::open(&audit_path).unwrap()),
        ))
    };
    let options = GetOptions::default();

    let chain = new_process(ErrorCode::Network, Ok(now_ms() - 5_000));
    let got = chain.get("openai", &options).await.unwrap();
    assert!(got.stale);
    assert_eq!(got.credential.source.provider, "vault");
    assert_eq!(
        got.credential.primary().unwrap().expose_secret(),
        "sk-kept-FAKE"
    );
    let lines = std::fs::read_to_string(&audit_path).unwrap();
    assert!(
        lines.contains("\"outcome\":\"stale\"") && lines.contains("last-known-good file"),
        "{lines}"
    );
    assert!(!lines.contains("sk-kept-FAKE"));

    for refused in [
        ErrorCode::PermissionDenied,
        ErrorCode::NotFound,
        ErrorCode::InvalidToken,
    ] {
        let chain = new_process(refused, Ok(now_ms() - 5_000));
        let e = chain.get("openai", &options).await.unwrap_err();
        assert_eq!(e.code, refused, "{}", e.message);
    }

    let chain = new_process(ErrorCode::Sealed, Err(ErrorCode::LastKnownGoodExpired));
    let e = chain.get("openai", &options).await.unwrap_err();
    assert_eq!(e.code(), "LAST_KNOWN_GOOD_EXPIRED");
    assert!(e.message.contains("SEALED"), "{}", e.message);
    let _ = std::fs::remove_file(&audit_path);
}

// Review finding: OAuth entries of OpenClaw's retired JSON stores (`credentials/oauth.json`,
// legacy `auth-profiles.json`) were refreshed and written back in place, spending the single-use
// refresh token OpenClaw imported into its SQLite store. Real files, real providers: an expired
// one is `REFRESH_FAILED` naming `openclaw models auth login`, the refresher is never called and
// neither file changes.
#[tokio::test]
async fn openclaws_retired_oauth_entries_are_never_refreshed() {
    use crate::openclaw::paths::OpenClawPaths;
    use crate::providers::files::{auth_profiles::AuthProfilesProvider, formats, JsonFileProvider};
    let home = openclaw_vault_test_support::temp_dir("chain-legacy-oauth");
    let state = home.join(".openclaw");
    let expired = now_ms() - 1_000;
    let oauth_json = state.join("credentials/oauth.json");
    let profiles_json = state.join("agents/work/agent/auth-profiles.json");
    for (file, text) in [
        (
            &oauth_json,
            format!(
                r#"{{"chutes":{{"access":"sk-FAKE-chutes-old","refresh":"refresh-1","expires":{expired}}}}}"#
            ),
        ),
        (
            &profiles_json,
            format!(
                r#"{{"version":1,"profiles":{{"anthropic:work":{{"type":"oauth","provider":"anthropic","access":"sk-ant-oat01-FAKE-old","refresh":"refresh-1","expires":{expired}}}}}}}"#
            ),
        ),
    ] {
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        crate::local_file::write_atomic(file, text.as_bytes()).unwrap();
    }
    let before = [
        std::fs::read(&oauth_json).unwrap(),
        std::fs::read(&profiles_json).unwrap(),
    ];
    let dir = state.to_str().unwrap().to_string();
    let paths =
        OpenClawPaths::from_env(&move |k: &str| (k == "OPENCLAW_STATE_DIR").then(|| dir.clone()));
    let providers: Vec<Arc<dyn CredentialProvider>> = vec![
        Arc::new(AuthProfilesProvider::from_paths(&paths).unwrap()),
        Arc::new(JsonFileProvider::from_paths(&formats::OPENCLAW_OAUTH, &paths).unwrap()),
    ];
    let settings = ChainSettings {
        lock_dir: home.join("locks"),
        ..ChainSettings::default()
    };
    let chain = Arc::new(CredentialChain::new(providers, None, settings, None));
    let refresher = Arc::new(CountingRefresher {
        calls: AtomicUsize::new(0),
    });
    let options = GetOptions {
        refresher: Some(refresher.clone()),
        ..Default::default()
    };
    for (name, command, secret) in [
        (
            "chutes",
            "`openclaw models auth login --provider chutes`",
            "sk-FAKE-chutes-old",
        ),
        (
            "anthropic:work",
            "`openclaw models auth login --provider anthropic --agent work`",
            "sk-ant-oat01-FAKE-old",
        ),
    ] {
        let err = chain.get(name, &options).await.unwrap_err();
        assert_eq!(err.code(), "REFRESH_FAILED", "{}", err.message);
        assert!(err.message.contains(command), "{}", err.message);
        assert!(
            err.message.contains("retired JSON store"),
            "{}",
            err.message
        );
        for s in [secret, "refresh-1"] {
            assert!(!err.message.contains(s), "{}", err.message);
        }
    }
    assert_eq!(refresher.calls.load(Ordering::SeqCst), 0);
    assert_eq!(std::fs::read(&oauth_json).unwrap(), before[0]);
    assert_eq!(std::fs::read(&profiles_json).unwrap(), before[1]);
    assert!(
        !home.join("locks").exists(),
        "not even a refresh lock was taken"
    );
}

#[tokio::test]
async fn a_name_nowhere_while_vault_cannot_be_asked_is_vaults_failure_not_not_found() {
    let vault = Memory::new("vault", SourceGroup::Vault);
    let files = Memory::new("local-files", SourceGroup::Files);
    files.insert("other", "from-files", None);
    for code in [
        ErrorCode::Network,
        ErrorCode::InvalidToken,
        ErrorCode::Sealed,
    ] {
        // A chain per failure: an open breaker would answer CIRCUIT_OPEN for the next one.
        let chain = chain_of(vec![vault.clone(), files.clone()], ChainSettings::default());
        vault.fail_with(Some(code));
        let err = chain
            .get(
                &format!("telegram-{}", code.as_str()),
                &GetOptions::default(),
            )
            .await
            .unwrap_err();
        assert_eq!(err.code, code, "{}", err.message);
        assert!(err.message.contains("could not be read"), "{}", err.message);
        assert!(
            err.errors.iter().any(|e| e == "local-files: not found"),
            "{:?}",
            err.errors
        );
    }
    // Denied is an answer: the name is not found (the chain fell back and found nothing).
    let chain = chain_of(vec![vault.clone(), files], ChainSettings::default());
    vault.fail_with(Some(ErrorCode::PermissionDenied));
    let err = chain
        .get("telegram-denied", &GetOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "CREDENTIAL_NOT_FOUND");
}

#[tokio::test]
async fn names_migrate_writes_are_names_get_reads() {
    let files = Memory::new("local-files", SourceGroup::Files);
    let long = format!("groq:{}", "x".repeat(300));
    for name in [
        "groq:my key",
        "mistral:café",
        long.as_str(),
        "agents/a1/openai:a2 spaced",
    ] {
        files.insert(name, "sk-FAKE-odd-name", None);
    }
    let chain = chain_of(vec![files], ChainSettings::default());
    for name in [
        "groq:my key",
        "mistral:café",
        long.as_str(),
        "agents/a1/openai:a2 spaced",
    ] {
        let r = chain.get(name, &GetOptions::default()).await.unwrap();
        assert_eq!(token_of(&r), "sk-FAKE-odd-name", "{name}");
    }
    for bad in [
        "",
        "a/../b",
        "a//b",
        "./a",
        "tab\there",
        "esc\u{1b}]0;x\u{7}",
        &"y".repeat(1025),
    ] {
        let err = chain.get(bad, &GetOptions::default()).await.unwrap_err();
        assert_eq!(err.code(), "INVALID_ARGUMENT");
        assert!(
            bad.is_empty() || !err.message.contains(bad),
            "{}",
            err.message
        );
    }
}
