//! OpenClaw's exec SecretRef provider protocol, answered from Vault.
//!
//! OpenClaw runs one resolver process per provider and resolution pass, writes
//! `{"protocolVersion":1,"provider":"vault","ids":[...]}` to its stdin and reads one JSON object
//! from its stdout. This module is that resolver's logic, with no I/O of its own: [`ExecRequest`]
//! parses stdin, [`resolve`] answers it through a [`SecretSource`] (Vault) and an optional
//! [`LocalFallback`], and [`ExecResponse::render`] produces the bytes to print.
//!
//! It is compatible with OpenClaw's bundled resolver (same ids, same environment variables, the
//! same split between per-id and provider-wide failures) and differs where that one is slow or
//! fragile: one read per secret path instead of one per id, bounded concurrency, retries of
//! transient answers, every auth method of [`vault_client::auth`], `<path>#<field>` ids, a capped
//! output, an opt-in local fallback, and a circuit breaker ([`crate::breaker`]): once a read
//! times out or cannot connect, the remaining ids fail over at once (to the local fallback, or
//! to a provider-wide failure) instead of each waiting out its own timeout, so a hung Vault ends
//! the resolution within OpenClaw's provider timeout.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::stream::{self, StreamExt};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Map, Value};
use zeroize::Zeroizing;

use crate::audit::{AuditEvent, AuditLog, AuditRecord};
use crate::breaker::{BreakerPolicy, CircuitBreaker, Probe};
use crate::chain::{CredentialChain, GetOptions};
use crate::credential::SourceGroup;
use crate::error::{Error, ErrorCode, Result};
use crate::last_known_good::{LastKnownGood, LastKnownGoodSettings, Served};
use crate::layers::{Layer, LayerContext};
use crate::openclaw::vault_env;
use vault_client::config::{ClientConfig, KvVersion};
use vault_client::secret::SecretData;
use vault_client::VaultClient;

/// The only protocol version OpenClaw speaks.
pub const PROTOCOL_VERSION: u64 = 1;
/// OpenClaw refuses to send more ids than this to one exec provider (`maxRefsPerProvider`).
pub const MAX_IDS: usize = 512;
/// OpenClaw's default `maxOutputBytes` for an exec provider.
pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 1024 * 1024;
/// The largest request read from stdin. OpenClaw's own cap is 256 KiB (`maxBatchBytes`).
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;
/// Reads in flight at once: enough to hide latency, few enough not to trip rate limits.
pub const MAX_CONCURRENT_READS: usize = 16;
/// Per-request timeout when `VAULT_CLIENT_TIMEOUT` is unset (the bundled resolver's 5 s).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest whole-resolution deadline the exec provider entry `migrate --rewrite-config`
/// writes is sized for (its `timeoutMs` is 3 s above): below the 15 s OpenClaw gives Vault
/// integrations. Not the default: see [`DEFAULT_RUN_DEADLINE`].
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(12);
/// Whole-resolution deadline when `OPENCLAW_VAULT_RESOLVE_TIMEOUT_MS` is unset (4.5 s): below
/// OpenClaw's default exec provider `timeoutMs` (5000), so a provider configured with the
/// defaults gets a clear error (or the local values) rather than a killed process. A provider
/// whose `timeoutMs` is larger may raise it with `OPENCLAW_VAULT_RESOLVE_TIMEOUT_MS`.
pub const DEFAULT_RUN_DEADLINE: Duration = Duration::from_millis(4500);
/// The exec SecretRef id grammar's length limit (`^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,255}$`).
const MAX_ID_LEN: usize = 256;
/// The key OpenClaw's bundled resolver uses for a provider-wide failure.
pub const REQUEST_ERROR_KEY: &str = "request";

/// A provider-wide failure: OpenClaw fails every ref of the provider with this message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderFailure {
    pub message: String,
}

impl ProviderFailure {
    fn new(message: impl Into<String>) -> Self {
        ProviderFailure {
            message: message.into(),
        }
    }
}

/// What OpenClaw wrote to stdin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRequest {
    /// The provider alias OpenClaw resolves for (informational).
    pub provider: Option<String>,
    /// Distinct ids in the order given; non-string entries are skipped, as the bundled resolver does.
    pub ids: Vec<String>,
}

impl ExecRequest {
    /// Parses the request. Unparsable input, a protocolVersion other than 1, `ids` that is not
    /// an array, or more than [`MAX_IDS`] ids fail the whole provider.
    pub fn parse(input: &[u8]) -> std::result::Result<Self, ProviderFailure> {
        if input.len() > MAX_REQUEST_BYTES {
            return Err(ProviderFailure::new(format!(
                "the exec request on stdin is larger than {MAX_REQUEST_BYTES} bytes"
            )));
        }
        let value: Value = serde_json::from_slice(input).map_err(|e| {
            let s = crate::scrub::scrub(&e);
            // serde_json stops at 128 levels by itself (no stack overflow); say so.
            if e.to_string().starts_with("recursion limit exceeded") {
                return ProviderFailure::new(format!(
                    "the exec request on stdin is nested deeper than 128 levels (line {}, column {}); expected {{\"protocolVersion\":1,\"ids\":[...]}}",
                    s.line, s.column
                ));
            }
            ProviderFailure::new(format!(
                "the exec request on stdin is not JSON (line {}, column {}); expected {{\"protocolVersion\":1,\"ids\":[...]}}",
                s.line, s.column
            ))
        })?;
        let Value::Object(object) = value else {
            return Err(ProviderFailure::new(
                "the exec request on stdin must be a JSON object",
            ));
        };
        match object.get("protocolVersion") {
            Some(v) if v.as_u64() == Some(PROTOCOL_VERSION) => {}
            Some(_) => {
                return Err(ProviderFailure::new(
                    "the exec request's \"protocolVersion\" must be 1 (the version this resolver speaks)",
                ))
            }
            None => {
                return Err(ProviderFailure::new(
                    "the exec request has no protocolVersion (expected 1)",
                ))
            }
        }
        let Some(Value::Array(raw_ids)) = object.get("ids") else {
            return Err(ProviderFailure::new(
                "the exec request's \"ids\" must be an array of strings",
            ));
        };
        let mut ids: Vec<String> = Vec::with_capacity(raw_ids.len());
        for id in raw_ids.iter().filter_map(Value::as_str) {
            // An empty id is kept: it gets an error of its own rather than no answer at all.
            if !ids.iter().any(|seen| seen == id) {
                ids.push(id.to_string());
            }
        }
        if ids.len() > MAX_IDS {
            return Err(ProviderFailure::new(format!(
                "the exec request has {} ids; OpenClaw's limit per provider is {MAX_IDS}",
                ids.len()
            )));
        }
        let provider = object
            .get("provider")
            .and_then(Value::as_str)
            .map(str::to_string);
        Ok(ExecRequest { provider, ids })
    }
}

/// An id split into the secret's path (relative to the KV mount) and the field to return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretId {
    pub path: String,
    pub field: String,
}

impl SecretId {
    /// `<path>/<field>` (the last segment is the field, as in the bundled resolver),
    /// `<path>#<field>` (the field may then contain any allowed character but `/`), or the
    /// escaped form written by `migrate` (a `/` after the last `#`: see [`crate::exec_id`]).
    pub fn parse(id: &str) -> std::result::Result<Self, String> {
        let grammar_ok = id.len() <= MAX_ID_LEN
            && id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._:/#-".contains(c));
        if !grammar_ok {
            return Err(
                "the SecretRef id must match ^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,255}$".to_string(),
            );
        }
        if crate::exec_id::is_escaped(id) {
            let (path, field) = crate::exec_id::decode(id)?;
            if path
                .split('/')
                .any(|s| s.is_empty() || s == "." || s == "..")
            {
                return Err(
                    "the SecretRef id must not contain empty, \".\" or \"..\" path segments"
                        .to_string(),
                );
            }
            return Ok(SecretId { path, field });
        }
        let (path, field) = match id.rsplit_once('#') {
            Some((path, field)) => {
                if field.is_empty() || field.contains('/') {
                    return Err(
                        "the SecretRef id must use \"<path>#<field>\" with a field that has no \"/\"".to_string(),
                    );
                }
                (path, field)
            }
            None => match id.rsplit_once('/') {
                Some(split) => split,
                None => {
                    return Err(
                        "the SecretRef id must use \"<path>/<field>\", for example \"providers/openai/apiKey\"".to_string(),
                    )
                }
            },
        };
        let segments: Vec<&str> = path.split('/').collect();
        if segments.iter().any(|s| s.is_empty()) || (!id.contains('#') && field.is_empty()) {
            return Err("the SecretRef id must not contain empty path segments".to_string());
        }
        if segments.iter().any(|s| *s == "." || *s == "..") || field == "." || field == ".." {
            return Err("the SecretRef id must not contain \".\" or \"..\" segments".to_string());
        }
        if segments.iter().any(|s| s.contains('#')) {
            return Err(
                "the SecretRef id may contain \"#\" only once, before the field".to_string(),
            );
        }
        Ok(SecretId {
            path: path.to_string(),
            field: field.to_string(),
        })
    }
}

/// A per-id failure in the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdError {
    pub message: String,
    /// `NOT_FOUND` (OpenClaw's SECRET_REF_NOT_FOUND) when the secret or field does not exist,
    /// or holds a redaction placeholder instead of a secret. OpenClaw 2026.9 keeps only
    /// `NOT_FOUND` and `AMBIGUOUS_DUPLICATE_KEY` and turns every other code into
    /// SECRET_REF_PROVIDER_ERROR ("secret provider failed").
    pub code: Option<&'static str>,
}

/// Where secrets are read from: Vault in production, a fake in unit tests.
#[async_trait]
pub trait SecretSource: Send + Sync {
    /// The secret at `path`: `Ok(None)` when Vault has nothing there (404, or a deleted version).
    async fn read(&self, path: &str) -> Result<Option<SecretData>>;

    /// Asked only when every read got a plain 403: whether the token itself is invalid, which
    /// makes the failure provider-wide (as the bundled resolver's `lookup-self` probe).
    async fn token_is_invalid(&self) -> bool;

    /// One cheap request that shows whether the source answers at all, for the circuit breaker
    /// while it is open (Vault: `sys/health`). `Ok` closes the breaker.
    async fn probe(&self) -> Result<()>;

    /// `NETWORK` or `TLS_ERROR` when the newest attempt at or after `since` got no answer (see
    /// [`crate::providers::CredentialProvider::connection_failure_since`]); `None` by default.
    fn connection_failure_since(&self, since: std::time::Instant) -> Option<ErrorCode> {
        let _ = since;
        None
    }
}

#[async_trait]
impl SecretSource for VaultClient {
    async fn read(&self, path: &str) -> Result<Option<SecretData>> {
        Ok(VaultClient::read(self, path, None)
            .await?
            .and_then(|secret| secret.data))
    }

    async fn token_is_invalid(&self) -> bool {
        matches!(self.lookup_self().await, Err(e) if e.code == vault_client::ErrorCode::InvalidToken)
    }

    /// `GET /v1/sys/health?standbyok=true&perfstandbyok=true` once, without a token: `Ok` for
    /// any answer that shows Vault is there ([`VaultClient::probe`]).
    async fn probe(&self) -> Result<()> {
        Ok(VaultClient::probe(self).await?)
    }

    fn connection_failure_since(&self, since: std::time::Instant) -> Option<ErrorCode> {
        VaultClient::connection_failure_since(self, since).map(Into::into)
    }
}

/// Local credential sources that may answer an id Vault could not, when the user opted in with
/// `OPENCLAW_VAULT_RESOLVE_FALLBACK=local`.
#[async_trait]
pub trait LocalFallback: Send + Sync {
    /// The field `field` of the local credential `name`, or `None` when no local source has it.
    async fn lookup(&self, name: &str, field: &str) -> Option<SecretString>;
}

/// The credential chain's local groups (keychain, files, env), never Vault.
pub struct ChainFallback {
    pub chain: Arc<CredentialChain>,
}

#[async_trait]
impl LocalFallback for ChainFallback {
    async fn lookup(&self, name: &str, field: &str) -> Option<SecretString> {
        let options = GetOptions {
            order: Some(vec![
                SourceGroup::Keychain,
                SourceGroup::Files,
                SourceGroup::Env,
            ]),
            ..GetOptions::default()
        };
        let resolved = self.chain.get(name, &options).await.ok()?;
        resolved.credential.secrets.get(field).cloned()
    }
}

/// The local credential name an id's path stands for: `credentials/<name>` or
/// `<prefix>/credentials/<name>` (the layout of OpenClaw issue 4727).
pub fn fallback_name<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = path
        .strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('/'))
        .unwrap_or(path);
    let name = rest.strip_prefix("credentials/")?;
    (!name.is_empty() && !name.contains('/')).then_some(name)
}

/// How [`resolve`] runs.
pub struct ResolveSettings {
    /// `None`: Vault is not configured (only the fallback can answer).
    pub source: Option<Arc<dyn SecretSource>>,
    /// Asked for ids Vault could not answer; `None` unless the user opted in.
    pub fallback: Option<Arc<dyn LocalFallback>>,
    /// Prefix stripped before `credentials/<name>` for the fallback (`OPENCLAW_VAULT_PREFIX`).
    pub prefix: String,
    /// Reads in flight at once.
    pub concurrency: usize,
    /// The deadline of one path's read (login and retries included), after which it is a
    /// `TIMEOUT` (or the `NETWORK`/`TLS_ERROR` its attempts ran into) and opens the run's
    /// breaker; `None`: the client's own timeout bounds each request.
    pub read_timeout: Option<Duration>,
    /// The encrypted last-known-good file (`credentials.lastKnownGood`): every path read is
    /// kept there, and a path Vault could not be reached for is answered from it (stale,
    /// audited, within its maximum age). `None` unless the user opted in.
    pub last_known_good: Option<Arc<LastKnownGood>>,
    /// Where a value served from the last-known-good file is recorded (outcome `stale`).
    pub audit: Option<Arc<AuditLog>>,
    /// The agent and team of this provider (`resolve --agent <id> --team <name>`): an id whose
    /// path is `<prefix>/credentials/<name>` is read from the agent's layer, then the team's,
    /// then that path itself (see [`crate::layers`]); every other path is read as it is. Empty:
    /// every id is read as it is (earlier versions).
    pub layers: LayerContext,
}

/// The Vault paths read, in order, for the id path `path`: the agent's and team's layer paths
/// before `path` when it is `<prefix>/credentials/<name>` and `layers` names either; otherwise
/// `path` alone.
pub fn layered_paths(path: &str, prefix: &str, layers: &LayerContext) -> Vec<String> {
    let prefix = prefix.trim_matches('/');
    let name = path
        .strip_prefix(prefix)
        .and_then(|r| r.strip_prefix("/credentials/"))
        .filter(|n| !n.is_empty());
    match name {
        Some(name) if !layers.is_empty() => layers
            .layers()
            .iter()
            .map(|l| match l {
                Layer::Default => path.to_string(),
                other => format!("{}/credentials/{name}", other.folder(prefix)),
            })
            .collect(),
        _ => vec![path.to_string()],
    }
}

/// The exec provider's response to print (`{"protocolVersion": 1, "values", "errors"}`): values
/// and per-id errors, or one provider-wide failure. Named after OpenClaw's protocol, like
/// [`ExecRequest`]; `migrate::Outcome` is a different thing (one item's migration result).
pub enum ExecResponse {
    /// Values by id, and the ids that failed alone.
    Answered {
        /// The secret of every id that resolved.
        values: BTreeMap<String, SecretString>,
        /// Why each other id failed (`NOT_FOUND`, ...), never a value.
        errors: BTreeMap<String, IdError>,
    },
    /// The whole provider failed (exit 1 with `errors.request`).
    Failed(ProviderFailure),
}

/// The bytes to print and the exit code.
pub struct Rendered {
    pub stdout: Zeroizing<Vec<u8>>,
    pub exit_code: i32,
}

impl ExecResponse {
    /// One JSON line. An answer longer than `max_output_bytes` is replaced by a provider-wide
    /// failure, so OpenClaw never receives a truncated object.
    pub fn render(&self, max_output_bytes: usize) -> Rendered {
        match self {
            ExecResponse::Failed(failure) => render_failure(failure),
            ExecResponse::Answered { values, errors } => {
                let mut value_map = Map::new();
                for (id, value) in values {
                    value_map.insert(id.clone(), Value::String(value.expose_secret().to_string()));
                }
                let mut error_map = Map::new();
                for (id, e) in errors {
                    let mut entry = json!({ "message": e.message });
                    if let Some(code) = e.code {
                        entry["code"] = json!(code);
                    }
                    error_map.insert(id.clone(), entry);
                }
                let mut body = vault_client::secret::ZeroizingJson(json!({
                    "protocolVersion": PROTOCOL_VERSION,
                    "values": Value::Object(value_map),
                    "errors": Value::Object(error_map),
                }));
                let mut bytes = Zeroizing::new(serde_json::to_vec(&body.0).unwrap_or_default());
                zeroize::Zeroize::zeroize(&mut body);
                bytes.push(b'\n');
                if bytes.len() > max_output_bytes {
                    return render_failure(&ProviderFailure::new(format!(
                        "the answer for {} ids would be {} bytes, more than maxOutputBytes ({max_output_bytes}); split the refs across providers or raise OPENCLAW_VAULT_RESOLVE_MAX_OUTPUT_BYTES with the provider's maxOutputBytes",
                        values.len() + errors.len(),
                        bytes.len()
                    )));
                }
                Rendered {
                    stdout: bytes,
                    exit_code: 0,
                }
            }
        }
    }
}

fn render_failure(failure: &ProviderFailure) -> Rendered {
    let body = json!({
        "protocolVersion": PROTOCOL_VERSION,
        "values": {},
        "errors": { REQUEST_ERROR_KEY: { "message": failure.message } },
    });
    let mut bytes = serde_json::to_vec(&body).unwrap_or_default();
    bytes.push(b'\n');
    Rendered {
        stdout: Zeroizing::new(bytes),
        exit_code: 1,
    }
}

/// How a failed read counts, after the bundled resolver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// Vault or the token is unusable (network, 401, invalid token, 408/412/425/429/472/473,
    /// >= 500, a failed login): provider-wide when every id failed so.
    Provider,
    /// A plain 403 (ACL): per-id, unless every id got one and the token proves invalid.
    Forbidden,
    /// Anything else (other 4xx, bad answers): per-id.
    PerId,
}

fn classify(e: &Error) -> Failure {
    if e.path
        .as_deref()
        .is_some_and(|p| p.starts_with("/v1/auth/"))
    {
        return Failure::Provider; // a login: provider-wide, like the bundled resolver's auth step
    }
    match e.code {
        ErrorCode::Network
        | ErrorCode::TlsError
        | ErrorCode::Timeout
        | ErrorCode::InvalidToken
        | ErrorCode::Sealed
        | ErrorCode::ServerError
        | ErrorCode::RateLimited
        | ErrorCode::PreconditionFailed
        | ErrorCode::CircuitOpen
        | ErrorCode::InvalidConfig => Failure::Provider,
        ErrorCode::PermissionDenied => Failure::Forbidden,
        _ => match e.status {
            Some(408 | 412 | 425 | 429 | 472 | 473) => Failure::Provider,
            Some(s) if s >= 500 => Failure::Provider,
            _ => Failure::PerId,
        },
    }
}

/// A short message for a failed read: the status and Vault's own words, never a value.
fn read_failure_message(path: &str, e: &Error) -> String {
    match e.status {
        Some(status) => format!("Vault read of \"{path}\" failed ({status}): {}", e.message),
        None => format!("Vault read of \"{path}\" failed: {}", e.message),
    }
}

/// What one id came to before the provider-wide decision.
type IdAnswer = std::result::Result<SecretString, (Failure, IdError)>;

/// Resolves every id of `request`: one read per secret path, at most `concurrency` at a time.
pub async fn resolve(request: &ExecRequest, settings: &ResolveSettings) -> ExecResponse {
    let mut values: BTreeMap<String, SecretString> = BTreeMap::new();
    let mut errors: BTreeMap<String, IdError> = BTreeMap::new();
    // Valid ids grouped by secret path, in first-seen order.
    let mut by_path: Vec<(String, Vec<(String, SecretId)>)> = Vec::new();
    for id in &request.ids {
        match SecretId::parse(id) {
            Ok(parsed) => match by_path.iter_mut().find(|(p, _)| *p == parsed.path) {
                Some((_, ids)) => ids.push((id.clone(), parsed)),
                None => by_path.push((parsed.path.clone(), vec![(id.clone(), parsed)])),
            },
            Err(message) => {
                errors.insert(
                    id.clone(),
                    IdError {
                        message,
                        code: None,
                    },
                );
            }
        }
    }
    if by_path.is_empty() {
        return ExecResponse::Answered { values, errors };
    }

    let mut reads: Vec<Option<Result<Option<SecretData>>>> =
        (0..by_path.len()).map(|_| None).collect();
    // The layer path (`<prefix>/agents/<id>/credentials/<name>`) that answered each read.
    let mut answered_by: Vec<Option<String>> = vec![None; by_path.len()];
    if let Some(source) = &settings.source {
        // One breaker for this resolution: after a read that timed out or could not connect,
        // the other paths are not read (each would wait out the same timeout).
        let mut policy = BreakerPolicy::default();
        if let Some(limit) = settings.read_timeout {
            policy.probe_timeout = limit;
        }
        let breaker = Arc::new(CircuitBreaker::new("Vault", policy));
        let read_timeout = settings.read_timeout;
        // Boxed futures of owned inputs: a stream mapping through a closure is not provably
        // `Send` for every lifetime, which napi's async functions require.
        // Each read also says which layer's path answered, for messages about its fields.
        type Read = std::pin::Pin<
            Box<
                dyn std::future::Future<
                        Output = (usize, Result<Option<SecretData>>, Option<String>),
                    > + Send,
            >,
        >;
        let jobs: Vec<Read> = by_path
            .iter()
            .enumerate()
            .map(|(i, (path, _))| {
                let (source, breaker) = (source.clone(), breaker.clone());
                let candidates = layered_paths(path, &settings.prefix, &settings.layers);
                Box::pin(async move {
                    let probe = {
                        let source = source.clone();
                        move || Box::pin(async move { source.probe().await }) as Probe
                    };
                    let cause = |since| source.connection_failure_since(since);
                    // Layer by layer; the first that holds the path answers. A layer that fails
                    // (a 403 included) ends the walk: a refusal is never skipped for the next.
                    // The id's own path, last of a layered walk, refusing is a miss (an agent's
                    // identity is not meant to read the default layer; nothing comes after it).
                    let layered = candidates.len() > 1;
                    let answered = std::sync::Mutex::new(None::<String>);
                    let walk = async {
                        for (n, candidate) in candidates.iter().enumerate() {
                            match source.read(candidate).await {
                                Ok(None) => continue,
                                Ok(Some(data)) => {
                                    *answered.lock().unwrap_or_else(|e| e.into_inner()) =
                                        Some(candidate.clone());
                                    return Ok(Some(data));
                                }
                                Err(e)
                                    if layered
                                        && n + 1 == candidates.len()
                                        && e.code == ErrorCode::PermissionDenied =>
                                {
                                    return Ok(None)
                                }
                                other => return other,
                            }
                        }
                        Ok(None)
                    };
                    let read = breaker
                        .run_with_cause(read_timeout, walk, probe, cause)
                        .await;
                    let answered = answered.into_inner().unwrap_or_else(|e| e.into_inner());
                    (i, read, answered)
                }) as Read
            })
            .collect();
        let done: Vec<(usize, Result<Option<SecretData>>, Option<String>)> = stream::iter(jobs)
            .buffer_unordered(settings.concurrency.max(1))
            .collect()
            .await;
        for (i, result, layer) in done {
            if matches!(result, Ok(Some(_))) {
                answered_by[i] = layer;
            }
            reads[i] = Some(result);
        }
    }

    if let Some(file) = &settings.last_known_good {
        // A layered run keeps its reads under the id path plus its layers, so a value read for
        // one agent is never served stale to another or to the default reader.
        let signature = settings.layers.signature();
        let keyed: Vec<(String, Vec<(String, SecretId)>)>;
        let kept_by = if signature.is_empty() {
            &by_path
        } else {
            keyed = by_path
                .iter()
                .map(|(p, ids)| (format!("{p}{signature}"), ids.clone()))
                .collect();
            &keyed
        };
        keep_and_serve(file, settings.audit.as_ref(), kept_by, &mut reads).await;
    }

    let mut outcomes: Vec<(String, IdAnswer)> = Vec::new();
    for (((path, ids), read), layer) in by_path.iter().zip(&reads).zip(&answered_by) {
        // The path whose secret is judged: the layer that answered (an agent's or team's),
        // else the id's own path (a miss, a failure, a value served from the file).
        let path = layer.as_deref().unwrap_or(path);
        for (id, parsed) in ids {
            let mut outcome = field_of(path, &parsed.field, read.as_ref());
            if outcome.is_err() {
                // A placeholder kept locally is no more a secret than one in Vault.
                if let Some(found) = fall_back(settings, parsed).await.filter(|v| {
                    crate::placeholder::is_redaction_placeholder(v.expose_secret()).is_none()
                }) {
                    outcome = Ok(found);
                }
            }
            outcomes.push((id.clone(), outcome));
        }
    }
    drop(reads);

    // Provider-wide only when every id failed that way (mixed results keep their values).
    let every = |kind: Failure| {
        errors.is_empty()
            && outcomes
                .iter()
                .all(|(_, o)| matches!(o, Err((f, _)) if *f == kind))
    };
    if every(Failure::Provider) {
        let first = outcomes.iter().find_map(|(_, o)| o.as_ref().err());
        let message = first.map(|(_, e)| e.message.clone()).unwrap_or_default();
        return ExecResponse::Failed(ProviderFailure::new(message));
    }
    if every(Failure::Forbidden) {
        if let Some(source) = &settings.source {
            if source.token_is_invalid().await {
                return ExecResponse::Failed(ProviderFailure::new(
                    "the Vault token is invalid or expired (auth/token/lookup-self refused it)",
                ));
            }
        }
    }
    for (id, outcome) in outcomes {
        match outcome {
            Ok(value) => {
                values.insert(id, value);
            }
            Err((_, e)) => {
                errors.insert(id, e);
            }
        }
    }
    ExecResponse::Answered { values, errors }
}

/// Keeps every successful read in the last-known-good file, then answers each path Vault could
/// not be reached for (network, timeout, sealed, 5xx, 429, breaker open: never a denial or a
/// not-found) from it. A value from the file is audited and logged as stale; a file that cannot
/// be used, or a value past its maximum age, leaves the read failed with the reason (and its
/// code) added to the message.
async fn keep_and_serve(
    file: &Arc<LastKnownGood>,
    audit: Option<&Arc<AuditLog>>,
    by_path: &[(String, Vec<(String, SecretId)>)],
    reads: &mut [Option<Result<Option<SecretData>>>],
) {
    let read_ok: Vec<(String, SecretData)> = by_path
        .iter()
        .zip(reads.iter())
        .filter_map(|((path, _), read)| match read {
            Some(Ok(Some(data))) => Some((path.clone(), data.clone())),
            _ => None,
        })
        .collect();
    let unreachable: Vec<usize> = reads
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r, Some(Err(e)) if crate::chain::unreachable(e)))
        .map(|(i, _)| i)
        .collect();
    // Vault's "not found" or "denied" stands over a kept value: it is dropped.
    let refused: Vec<String> = by_path
        .iter()
        .zip(reads.iter())
        .filter_map(|((path, _), read)| match read {
            Some(Ok(None)) => Some(path.clone()),
            Some(Err(e)) if e.code == ErrorCode::PermissionDenied => Some(path.clone()),
            _ => None,
        })
        .collect();
    if !read_ok.is_empty() || !refused.is_empty() {
        let keeper = file.clone();
        let kept = tokio::task::spawn_blocking(move || {
            let items: Vec<(&str, &SecretData, Option<u64>)> =
                read_ok.iter().map(|(p, d)| (p.as_str(), d, None)).collect();
            let refused: Vec<&str> = refused.iter().map(String::as_str).collect();
            let recorded = if items.is_empty() {
                Ok(())
            } else {
                keeper.record(&items)
            };
            recorded.and(keeper.forget(&refused))
        })
        .await;
        if let Ok(Err(e)) = kept {
            tracing::warn!(error = %e.message, "could not update the last-known-good file");
        }
    }
    if unreachable.is_empty() {
        return;
    }
    let paths: Vec<String> = unreachable.iter().map(|&i| by_path[i].0.clone()).collect();
    let reader = file.clone();
    let found = tokio::task::spawn_blocking(move || {
        let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
        reader.lookup_many(&paths)
    })
    .await
    .unwrap_or_else(|_| {
        Err(Error::new(
            ErrorCode::SourceUnavailable,
            "the last-known-good lookup did not finish",
        ))
    });
    let answers: Vec<Result<Option<Served>>> = match found {
        Ok(answers) => answers,
        Err(e) => unreachable.iter().map(|_| Err(e.clone())).collect(),
    };
    for (i, answer) in unreachable.into_iter().zip(answers) {
        let Some(Err(cause)) = &mut reads[i] else {
            continue;
        };
        let path = &by_path[i].0;
        match answer {
            Ok(Some(served)) => {
                tracing::warn!(
                    path = path.as_str(),
                    code = cause.code(),
                    age_ms = served.age.as_millis() as u64,
                    "Vault unreachable; answering from the last-known-good file (stale)"
                );
                if let Some(log) = audit {
                    let detail = format!(
                        "{} ({}); served from the last-known-good file {}, {} s old",
                        cause.message,
                        cause.code(),
                        file.path().display(),
                        served.age.as_secs()
                    );
                    log.record(
                        &AuditRecord::new(AuditEvent::Get, path)
                            .source("vault", Some(path))
                            .outcome("stale")
                            .detail(&detail),
                    );
                }
                reads[i] = Some(Ok(Some(served.data)));
            }
            Ok(None) => {}
            Err(kept) => {
                // Still a provider-wide failure kind (the Vault code is kept), with the
                // file's reason and code for whoever reads the message.
                cause.message =
                    format!("{}; and {} ({})", cause.message, kept.message, kept.code());
                if let Some(log) = audit {
                    log.record(
                        &AuditRecord::new(AuditEvent::Get, path)
                            .source("vault", Some(path))
                            .failed(&kept),
                    );
                }
            }
        }
    }
}

/// The field of one read, or why there is none. Messages name the path and field, never a value.
fn field_of(path: &str, field: &str, read: Option<&Result<Option<SecretData>>>) -> IdAnswer {
    let not_found = |message: String| {
        Err((
            Failure::PerId,
            IdError {
                message,
                code: Some("NOT_FOUND"),
            },
        ))
    };
    match read {
        None => Err((
            Failure::Provider,
            IdError {
                message: "Vault is not configured (VAULT_ADDR is unset)".to_string(),
                code: None,
            },
        )),
        Some(Err(e)) => Err((
            classify(e),
            IdError {
                message: read_failure_message(path, e),
                code: None,
            },
        )),
        Some(Ok(None)) => not_found(format!("Vault has no secret at \"{path}\"")),
        Some(Ok(Some(data))) => match data.expose_secret().get(field) {
            Some(Value::String(s)) => match crate::placeholder::is_redaction_placeholder(s) {
                // A redaction placeholder is no secret: OpenClaw would refuse the value
                // (SECRET_REF_REDACTED_VALUE) and fail its start. Refused per id as NOT_FOUND,
                // the one per-id code OpenClaw maps to a missing secret (SECRET_REF_NOT_FOUND).
                Some(placeholder) => not_found(format!(
                    "Vault secret \"{path}\" field \"{field}\" holds the redaction placeholder \"{placeholder}\", not a secret; store the real value"
                )),
                None if s.is_empty() => Err((
                    Failure::PerId,
                    IdError {
                        message: format!("Vault secret \"{path}\" field \"{field}\" is empty"),
                        code: None,
                    },
                )),
                None => Ok(SecretString::from(s.clone())),
            },
            Some(other) => Err((
                Failure::PerId,
                IdError {
                    message: format!(
                        "Vault secret \"{path}\" field \"{field}\" is {}, not a string",
                        vault_client::secret::json_kind(other)
                    ),
                    code: None,
                },
            )),
            None => not_found(format!("Vault secret \"{path}\" has no field \"{field}\"")),
        },
    }
}

async fn fall_back(settings: &ResolveSettings, id: &SecretId) -> Option<SecretString> {
    let fallback = settings.fallback.as_ref()?;
    let name = fallback_name(&id.path, &settings.prefix)?;
    fallback.lookup(name, &id.field).await
}

/// Everything the resolver reads from its environment, validated.
pub struct ResolveConfig {
    /// `None` when neither `VAULT_ADDR` nor `VAULT_AGENT_ADDR` is set.
    pub client: Option<ClientConfig>,
    /// `OPENCLAW_VAULT_RESOLVE_FALLBACK=local`.
    pub fallback_local: bool,
    /// `OPENCLAW_VAULT_PREFIX` (default `openclaw`), for the fallback's `credentials/<name>`.
    pub prefix: String,
    /// `OPENCLAW_VAULT_RESOLVE_MAX_OUTPUT_BYTES` (default 1 MiB, OpenClaw's default).
    pub max_output_bytes: usize,
    /// `OPENCLAW_VAULT_RESOLVE_TIMEOUT_MS` (default [`DEFAULT_RUN_DEADLINE`], 4.5 s): the whole
    /// resolution.
    pub deadline: Duration,
    /// The deadline of one path's read: `OPENCLAW_VAULT_LOOKUP_TIMEOUT_MS` when set; else the
    /// lookup default (1.5 s) unless `VAULT_CLIENT_TIMEOUT` is set (then `None`: that timeout
    /// bounds each request, as the user asked).
    pub read_timeout: Option<Duration>,
    /// `OPENCLAW_VAULT_RESOLVE_CONCURRENCY` (default 16).
    pub concurrency: usize,
}

/// Reads the same variables as OpenClaw's bundled resolver (`VAULT_ADDR`, `VAULT_TOKEN`,
/// `VAULT_TOKEN_FILE`, `VAULT_NAMESPACE`, `OPENCLAW_VAULT_AUTH_*`, `OPENCLAW_VAULT_JWT_FILE`,
/// `OPENCLAW_VAULT_KV_MOUNT`, `OPENCLAW_VAULT_KV_VERSION`, `NODE_EXTRA_CA_CERTS`) plus the rest
/// of [`vault_env::client_config_from_env`]. KV v2 is assumed unless `OPENCLAW_VAULT_KV_VERSION` says
/// otherwise (as the bundled resolver; `auto` detects). `HOME`, when passed, is only for
/// `~/.vault-token`; nothing needs it.
pub fn config_from_env(
    env: &dyn Fn(&str) -> Option<String>,
) -> std::result::Result<ResolveConfig, ProviderFailure> {
    config_from(env, None)
}

/// [`config_from_env`], with `settings`: Vault as this package's settings file
/// (`openclaw-vault.json`, `vault.*`) describes it, used only when the environment names no
/// address (`VAULT_ADDR`, `VAULT_AGENT_ADDR`), so a provider configured by variables behaves as
/// OpenClaw's bundled resolver. The prefix is the file's unless `OPENCLAW_VAULT_PREFIX` is set,
/// as every other command reads it.
pub fn config_from(
    env: &dyn Fn(&str) -> Option<String>,
    settings: Option<&SettingsVault>,
) -> std::result::Result<ResolveConfig, ProviderFailure> {
    let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let number = |name: &str,
                  default: u64,
                  min: u64,
                  max: u64|
     -> std::result::Result<u64, ProviderFailure> {
        match get(name) {
            None => Ok(default),
            Some(raw) => match raw.trim().parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(ProviderFailure::new(format!(
                    "{name} must be a whole number from {min} to {max}"
                ))),
            },
        }
    };
    let fallback_local = match get("OPENCLAW_VAULT_RESOLVE_FALLBACK")
        .as_deref()
        .map(str::trim)
    {
        None | Some("none") | Some("off") => false,
        Some("local") => true,
        Some(_) => {
            return Err(ProviderFailure::new(
                "OPENCLAW_VAULT_RESOLVE_FALLBACK must be \"local\" or \"none\"",
            ))
        }
    };
    let max_output_bytes = number(
        "OPENCLAW_VAULT_RESOLVE_MAX_OUTPUT_BYTES",
        DEFAULT_MAX_OUTPUT_BYTES as u64,
        1024,
        20 * 1024 * 1024,
    )? as usize;
    let deadline = Duration::from_millis(number(
        "OPENCLAW_VAULT_RESOLVE_TIMEOUT_MS",
        DEFAULT_RUN_DEADLINE.as_millis() as u64,
        100,
        120_000,
    )?);
    let concurrency = number(
        "OPENCLAW_VAULT_RESOLVE_CONCURRENCY",
        MAX_CONCURRENT_READS as u64,
        1,
        128,
    )? as usize;
    let lookup =
        crate::store::lookup_timeout_of(&get).map_err(|e| ProviderFailure::new(e.message))?;
    let read_timeout = match lookup {
        Some(limit) => Some(limit),
        None if get("VAULT_CLIENT_TIMEOUT").is_some() => None,
        None => Some(crate::breaker::DEFAULT_LOOKUP_TIMEOUT),
    };
    let has_addr = get("VAULT_ADDR").is_some() || get("VAULT_AGENT_ADDR").is_some();
    let from_file = settings.filter(|_| !has_addr);
    let prefix = get("OPENCLAW_VAULT_PREFIX")
        .map(|p| p.trim().trim_matches('/').to_string())
        .or_else(|| settings.map(|f| f.prefix.clone()))
        .unwrap_or_else(|| "openclaw".to_string());
    if !has_addr && from_file.is_none() && !fallback_local {
        return Err(ProviderFailure::new(
            "VAULT_ADDR is required (add it to the provider's passEnv or env, or set `vault.addr` \
             in openclaw-vault.json next to openclaw.json and pass HOME or OPENCLAW_STATE_DIR)",
        ));
    }
    let client = if has_addr || from_file.is_some() {
        let mut config = match from_file {
            Some(file) => file.client.clone(),
            None => {
                let home = get("HOME").map(std::path::PathBuf::from);
                vault_env::client_config_from_env(&get, home.as_deref())
                    .map_err(|e| ProviderFailure::new(e.message))?
            }
        };
        // KV v2 unless a variable or the file (`vault.kvVersion` 1 or 2) says otherwise, as
        // OpenClaw's bundled resolver assumes.
        if get("OPENCLAW_VAULT_KV_VERSION").is_none() && config.kv_version.is_none() {
            config.kv_version = Some(KvVersion::V2);
        }
        if get("VAULT_CLIENT_TIMEOUT").is_none() {
            // Each request ends with the read's deadline at the latest.
            config.timeout = read_timeout.map_or(DEFAULT_REQUEST_TIMEOUT, |t| {
                t.min(DEFAULT_REQUEST_TIMEOUT)
                    .max(Duration::from_millis(100))
            });
        }
        // A one-shot process: no background renewal; short retries that fit the exec timeout.
        config.renew = false;
        config.retry.backoff = Duration::from_millis(200);
        config.retry.max_wait = Duration::from_secs(2);
        let explicit_token_method = get("OPENCLAW_VAULT_AUTH_METHOD")
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("token"));
        if config.login.is_none()
            && (config.token.is_none() || (explicit_token_method && get("VAULT_TOKEN").is_none()))
        {
            return Err(ProviderFailure::new(
                "no Vault token: set VAULT_TOKEN, VAULT_TOKEN_FILE or OPENCLAW_VAULT_AUTH_METHOD (and list it in the provider's passEnv)",
            ));
        }
        Some(config)
    } else {
        None
    };
    Ok(ResolveConfig {
        client,
        fallback_local,
        prefix,
        max_output_bytes,
        deadline,
        read_timeout,
        concurrency,
    })
}

/// What the resolver takes from OpenClaw's config file (the `credentials` section) rather than
/// its environment; `Default` is nothing.
#[derive(Debug, Clone, Default)]
pub struct ResolveExtras {
    /// Vault as the settings file (`openclaw-vault.json`) and OpenClaw's config describe it,
    /// used when the environment names no Vault address (see [`config_from`]).
    pub vault: Option<SettingsVault>,
    /// `credentials.lastKnownGood`, when enabled.
    pub last_known_good: Option<LastKnownGoodSettings>,
    /// The audit log (`credentials.audit.path`, `OPENCLAW_VAULT_AUDIT_LOG`), for values served
    /// from the last-known-good file.
    pub audit: Option<std::path::PathBuf>,
    /// `--agent`, unchecked (checked by [`run`], which fails the provider naming the flag).
    pub agent: Option<String>,
    /// `--team`, unchecked.
    pub team: Option<String>,
}

/// Vault as this package's settings file describes it, for a resolver run without `VAULT_ADDR`.
#[derive(Debug, Clone)]
pub struct SettingsVault {
    /// The client configuration `load_config` built (address, token or auth method, TLS, mount).
    pub client: ClientConfig,
    /// `vault.prefix` (default `openclaw`).
    pub prefix: String,
}

/// The whole-run deadline `OPENCLAW_VAULT_RESOLVE_TIMEOUT_MS` names, or [`DEFAULT_RUN_DEADLINE`]
/// when it is unset or invalid (`run` reports an invalid value as a provider-wide error).
pub fn run_deadline_of(env: &dyn Fn(&str) -> Option<String>) -> Duration {
    env("OPENCLAW_VAULT_RESOLVE_TIMEOUT_MS")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|ms| (100..=120_000).contains(ms))
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_RUN_DEADLINE)
}

/// Reads OpenClaw's request from `stdin` until it is closed, at most [`MAX_REQUEST_BYTES`] + 1
/// bytes (enough for `run` to refuse a larger one), waiting at most `deadline`. OpenClaw writes
/// the request at once and closes stdin; a writer that never closes it gets, at the deadline,
/// the provider-wide answer to print (`Err`), instead of a resolver that waits forever. A read
/// error gives empty input (which `run` answers as "not JSON").
pub fn read_request(
    stdin: Box<dyn std::io::Read + Send>,
    deadline: Duration,
) -> std::result::Result<Zeroizing<Vec<u8>>, Rendered> {
    use std::io::Read;
    let (tx, rx) = std::sync::mpsc::channel();
    // A thread, not the runtime: a blocking read cannot be cancelled, and a thread stuck on a
    // never-closed pipe ends with the process.
    let spawned = std::thread::Builder::new()
        .name("resolve-stdin".into())
        .spawn(move || {
            let mut input = Zeroizing::new(Vec::new());
            if stdin
                .take(MAX_REQUEST_BYTES as u64 + 1)
                .read_to_end(&mut input)
                .is_err()
            {
                input.clear();
            }
            let _ = tx.send(input);
        });
    if spawned.is_err() {
        return Err(render_failure(&ProviderFailure::new(
            "cannot start a thread to read the exec request from stdin",
        )));
    }
    rx.recv_timeout(deadline).map_err(|_| {
        render_failure(&ProviderFailure::new(format!(
            "no complete exec request on stdin within {} ms (stdin was not closed; \
             OPENCLAW_VAULT_RESOLVE_TIMEOUT_MS)",
            deadline.as_millis()
        )))
    })
}

/// The whole resolver: parse `input`, read `env`, resolve within the deadline, render.
/// `fallback` is built only when the configuration asks for it (it opens local stores).
pub async fn run(
    input: &[u8],
    env: &(dyn Fn(&str) -> Option<String> + Send + Sync),
    fallback: impl FnOnce() -> Option<Arc<dyn LocalFallback>> + Send,
    extras: ResolveExtras,
) -> Rendered {
    let request = match ExecRequest::parse(input) {
        Ok(r) => r,
        Err(failure) => return render_failure(&failure),
    };
    if request.ids.is_empty() {
        return ExecResponse::Answered {
            values: BTreeMap::new(),
            errors: BTreeMap::new(),
        }
        .render(DEFAULT_MAX_OUTPUT_BYTES);
    }
    let config = match config_from(env, extras.vault.as_ref()) {
        Ok(c) => c,
        Err(failure) => return render_failure(&failure),
    };
    let layers = match LayerContext::new(
        extras.agent.clone(),
        extras.team.clone(),
        "--agent",
        "--team",
    ) {
        Ok(l) => l,
        Err(e) => return render_failure(&ProviderFailure::new(e.message)),
    };
    let last_known_good = match (&extras.last_known_good, &config.client) {
        (Some(lkg), Some(client)) => match LastKnownGood::new(lkg.clone(), client) {
            Ok(file) => Some(Arc::new(file)),
            Err(e) => {
                // The resolver still answers from Vault; the operator sees why nothing is kept.
                tracing::warn!(error = %e.message, "the last-known-good file is off for this run");
                None
            }
        },
        _ => None,
    };
    let audit = match (&last_known_good, &extras.audit) {
        (Some(_), Some(path)) => match AuditLog::open(path) {
            Ok(log) => Some(Arc::new(log)),
            Err(e) => {
                tracing::warn!(error = %e.message, "the audit log cannot be opened");
                None
            }
        },
        _ => None,
    };
    let source: Option<Arc<dyn SecretSource>> = match config.client {
        Some(client) => match VaultClient::new(client) {
            Ok(c) => Some(Arc::new(c)),
            Err(e) => return render_failure(&ProviderFailure::new(e.message)),
        },
        None => None,
    };
    let settings = ResolveSettings {
        source,
        fallback: if config.fallback_local {
            fallback()
        } else {
            None
        },
        prefix: config.prefix,
        concurrency: config.concurrency,
        read_timeout: config.read_timeout,
        last_known_good,
        audit,
        layers,
    };
    let outcome = match tokio::time::timeout(config.deadline, resolve(&request, &settings)).await {
        Ok(outcome) => outcome,
        Err(_) => ExecResponse::Failed(ProviderFailure::new(format!(
            "Vault did not answer within {} ms (OPENCLAW_VAULT_RESOLVE_TIMEOUT_MS)",
            config.deadline.as_millis()
        ))),
    };
    outcome.render(config.max_output_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use openclaw_vault_test_support::env_of;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    const SECRET: &str = "sk-resolve-FAKE-value-1234";

    /// A Vault stand-in: fixed answers per path, and a log of the paths read.
    #[derive(Default)]
    struct Fake {
        answers: BTreeMap<String, std::result::Result<Value, Error>>,
        reads: Mutex<Vec<String>>,
        token_invalid: bool,
        probes: AtomicUsize,
    }

    impl Fake {
        fn with(mut self, path: &str, answer: std::result::Result<Value, Error>) -> Self {
            self.answers.insert(path.to_string(), answer);
            self
        }
    }

    #[async_trait]
    impl SecretSource for Fake {
        async fn read(&self, path: &str) -> Result<Option<SecretData>> {
            self.reads.lock().unwrap().push(path.to_string());
            match self.answers.get(path) {
                None => Ok(None),
                Some(Ok(v)) => Ok(Some(SecretData::try_from_value(v.clone(), "fake")?)),
                Some(Err(e)) => Err(e.clone()),
            }
        }
        async fn token_is_invalid(&self) -> bool {
            self.probes.fetch_add(1, Ordering::SeqCst);
            self.token_invalid
        }
        async fn probe(&self) -> Result<()> {
            Ok(())
        }
    }

    struct Local(BTreeMap<(String, String), String>);

    #[async_trait]
    impl LocalFallback for Local {
        async fn lookup(&self, name: &str, field: &str) -> Option<SecretString> {
            self.0
                .get(&(name.to_string(), field.to_string()))
                .map(|v| SecretString::from(v.clone()))
        }
    }

    /// A reader that blocks until its sender is dropped: stdin that a writer never closes.
    struct NeverClosed(std::sync::mpsc::Receiver<()>);

    impl std::io::Read for NeverClosed {
        fn read(&mut self, _buf: &mut [u8]) -> std::io::Result<usize> {
            let _ = self.0.recv();
            Ok(0)
        }
    }

    #[test]
    fn stdin_never_closed_gets_a_provider_wide_answer_at_the_deadline() {
        let (keep_open, rx) = std::sync::mpsc::channel::<()>();
        let Err(err) = read_request(Box::new(NeverClosed(rx)), Duration::from_millis(150)) else {
            panic!("a request from a stdin that was never closed");
        };
        let v: Value = serde_json::from_slice(&err.stdout).unwrap();
        assert_eq!(v["protocolVersion"], 1);
        let message = v["errors"][REQUEST_ERROR_KEY]["message"].as_str().unwrap();
        assert!(message.contains("stdin was not closed"), "{message}");
        assert!(message.contains("150 ms"), "{message}");
        drop(keep_open);

        let Ok(input) = read_request(Box::new(&b"{\"ids\":[]}"[..]), Duration::from_secs(5)) else {
            panic!("no request from a closed stdin");
        };
        assert_eq!(&input[..], b"{\"ids\":[]}");
        let env = env_of(&[("OPENCLAW_VAULT_RESOLVE_TIMEOUT_MS", "250")]);
        assert_eq!(run_deadline_of(&env), Duration::from_millis(250));
        let env = env_of(&[("OPENCLAW_VAULT_RESOLVE_TIMEOUT_MS", "5")]);
        assert_eq!(run_deadline_of(&env), DEFAULT_RUN_DEADLINE);
    }

    fn request(ids: &[&str]) -> ExecRequest {
        ExecRequest {
            provider: Some("vault".into()),
            ids: ids.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn settings(fake: Arc<Fake>) -> ResolveSettings {
        ResolveSettings {
            source: Some(fake),
            fallback: None,
            prefix: "openclaw".into(),
            concurrency: 4,
            read_timeout: None,
            last_known_good: None,
            audit: None,
            layers: LayerContext::default(),
        }
    }

    fn status(status: u16, errors: &[&str]) -> Error {
        Error::from_response(
            status,
            errors.iter().map(|s| s.to_string()).collect(),
            "/v1/secret/data/x",
            None,
        )
    }

    fn network() -> Error {
        Error::new(ErrorCode::Network, "cannot connect to http://127.0.0.1:1")
    }

    fn answered(outcome: ExecResponse) -> (BTreeMap<String, String>, BTreeMap<String, IdError>) {
        match outcome {
            ExecResponse::Answered { values, errors } => (
                values
                    .into_iter()
                    .map(|(k, v)| (k, v.expose_secret().to_string()))
                    .collect(),
                errors,
            ),
            ExecResponse::Failed(f) => panic!("provider-wide failure: {}", f.message),
        }
    }

    fn failed(outcome: ExecResponse) -> ProviderFailure {
        match outcome {
            ExecResponse::Failed(f) => f,
            ExecResponse::Answered { .. } => panic!("expected a provider-wide failure"),
        }
    }

    #[test]
    fn layered_paths_only_for_default_layer_credentials() {
        let ctx = LayerContext::new(Some("ops".into()), Some("core".into()), "a", "t").unwrap();
        assert_eq!(
            layered_paths("openclaw/credentials/anthropic", "openclaw", &ctx),
            [
                "openclaw/agents/ops/credentials/anthropic",
                "openclaw/teams/core/credentials/anthropic",
                "openclaw/credentials/anthropic",
            ]
        );
        // Other paths, and every path without a context, are read as they are.
        assert_eq!(
            layered_paths("openclaw/providers/openai", "openclaw", &ctx),
            ["openclaw/providers/openai"]
        );
        assert_eq!(
            layered_paths(
                "openclaw/credentials/anthropic",
                "openclaw",
                &LayerContext::default()
            ),
            ["openclaw/credentials/anthropic"]
        );
    }

    #[test]
    fn parses_the_request_openclaw_sends() {
        let r = ExecRequest::parse(
            br#"{"protocolVersion":1,"provider":"vault","ids":["providers/openai/apiKey","a/b",7,"a/b",""]}"#,
        )
        .unwrap();
        assert_eq!(r.provider.as_deref(), Some("vault"));
        assert_eq!(r.ids, ["providers/openai/apiKey", "a/b", ""]);
    }

    #[tokio::test]
    async fn an_empty_id_is_answered_with_an_error() {
        let settings = ResolveSettings {
            source: None,
            fallback: None,
            prefix: "openclaw".into(),
            concurrency: 4,
            read_timeout: None,
            last_known_good: None,
            audit: None,
            layers: LayerContext::default(),
        };
        let ExecResponse::Answered { values, errors } = resolve(&request(&[""]), &settings).await
        else {
            panic!("the whole provider failed");
        };
        assert!(values.is_empty());
        assert!(errors.contains_key(""), "{errors:?}");
    }

    #[test]
    fn bad_requests_fail_the_provider() {
        let too_many: Vec<String> = (0..=MAX_IDS).map(|i| format!("p/{i}")).collect();
        let too_many = json!({"protocolVersion":1,"ids":too_many}).to_string();
        let cases: [(&[u8], &str); 7] = [
            (b"", "not JSON"),
            (b"{nope", "not JSON"),
            (b"[1]", "object"),
            (
                br#"{"protocolVersion":2,"ids":[]}"#,
                "\"protocolVersion\" must be 1",
            ),
            (br#"{"ids":[]}"#, "protocolVersion"),
            (br#"{"protocolVersion":1,"ids":"a/b"}"#, "array"),
            (too_many.as_bytes(), "512"),
        ];
        for (input, needle) in cases {
            let err = ExecRequest::parse(input).unwrap_err();
            assert!(err.message.contains(needle), "{needle}: {}", err.message);
        }
        // A request field is named, never quoted.
        for input in [
            br#"{"protocolVersion":"sk-CANARY-77","ids":[]}"#.as_slice(),
            br#"{"protocolVersion":{"k":"sk-CANARY-77"},"ids":[]}"#,
        ] {
            let err = ExecRequest::parse(input).unwrap_err();
            assert!(err.message.contains("protocolVersion"), "{}", err.message);
            assert!(!err.message.contains("CANARY"), "{}", err.message);
        }
        for id in [
            "sk-CANARY-77\u{1}",
            "sk-CANARY-77",
            "a//sk-CANARY-77",
            "a/../sk-CANARY-77",
        ] {
            let err = SecretId::parse(id).unwrap_err();
            assert!(
                err.contains("SecretRef id") && !err.contains("CANARY"),
                "{err}"
            );
        }
        let exactly = (0..MAX_IDS).map(|i| format!("p/{i}")).collect::<Vec<_>>();
        let ok = json!({"protocolVersion":1,"ids":exactly}).to_string();
        assert_eq!(
            ExecRequest::parse(ok.as_bytes()).unwrap().ids.len(),
            MAX_IDS
        );
    }

    #[test]
    fn id_grammar() {
        let ok = |id: &str, path: &str, field: &str| {
            assert_eq!(
                SecretId::parse(id).unwrap(),
                SecretId {
                    path: path.into(),
                    field: field.into()
                },
                "{id}"
            );
        };
        ok("providers/openai/apiKey", "providers/openai", "apiKey");
        ok("a/b", "a", "b");
        ok("app#api-key", "app", "api-key");
        ok("team/app#key.v2", "team/app", "key.v2");
        ok("x:y/z_1-2.3", "x:y", "z_1-2.3");
        // Escaped paths (what `migrate` writes for names OpenClaw's grammar cannot hold).
        ok(
            "openclaw/credentials/openai:a2#20spaced/apiKey",
            "openclaw/credentials/openai:a2 spaced",
            "apiKey",
        );
        ok("c/mistral:#C3#BCn#C3#AF/key", "c/mistral:ünï", "key");
        ok("c/a#23b/key", "c/a#b", "key");
        for bad in [
            "single",
            "/lead",
            "trail/",
            "a//b",
            "a/./b",
            "a/../b",
            "../a/b",
            "a/b/..",
            ".hidden/x",
            "a b/c",
            "a/b\n",
            "a#",
            "#a",
            "a#b/c",
            "a#b#c",
            "ünï/code",
            "a#2/c",
            "a#2e/c",
            "a#2E#2E/c",
            "a/#2E#2E/c",
        ] {
            assert!(SecretId::parse(bad).is_err(), "{bad:?} should be refused");
        }
        let long = format!("a/{}", "b".repeat(255));
        assert!(SecretId::parse(&long).is_err());
        let fits = format!("a/{}", "b".repeat(254));
        assert!(SecretId::parse(&fits).is_ok());
    }

    #[tokio::test]
    async fn one_read_per_path_and_per_id_errors() {
        let fake = Arc::new(
            Fake::default()
                .with(
                    "providers/openai",
                    Ok(json!({"apiKey": SECRET, "org": "o-1", "n": 3})),
                )
                .with("denied", Err(status(403, &["permission denied"])))
                .with("weird", Err(status(400, &["bad"]))),
        );
        let ids = [
            "providers/openai/apiKey",
            "providers/openai/org",
            "providers/openai#n",
            "providers/openai/missing",
            "absent/key",
            "denied/key",
            "weird/key",
            "bad//id",
        ];
        let (values, errors) = answered(resolve(&request(&ids), &settings(fake.clone())).await);
        assert_eq!(values["providers/openai/apiKey"], SECRET);
        assert_eq!(values["providers/openai/org"], "o-1");
        assert_eq!(values.len(), 2);
        assert!(errors["providers/openai#n"].message.contains("a number"));
        assert_eq!(errors["providers/openai/missing"].code, Some("NOT_FOUND"));
        assert_eq!(errors["absent/key"].code, Some("NOT_FOUND"));
        assert!(errors["denied/key"].message.contains("403"));
        assert!(errors["weird/key"].message.contains("400"));
        assert!(errors["bad//id"].message.contains("empty"));
        let mut reads = fake.reads.lock().unwrap().clone();
        reads.sort();
        assert_eq!(reads, ["absent", "denied", "providers/openai", "weird"]);
        for e in errors.values() {
            assert!(!e.message.contains(SECRET), "{}", e.message);
        }
    }

    #[tokio::test]
    async fn provider_wide_only_when_every_id_fails_so() {
        for e in [
            network(),
            status(401, &[]),
            status(403, &["permission denied", "invalid token"]),
            status(503, &["Vault is sealed"]),
            status(500, &[]),
            status(429, &["rate limit quota exceeded"]),
            status(412, &[]),
            status(408, &[]),
            status(425, &[]),
            status(472, &[]),
            status(473, &[]),
        ] {
            let fake = Arc::new(
                Fake::default()
                    .with("a", Err(e.clone()))
                    .with("b", Err(e.clone())),
            );
            let f = failed(resolve(&request(&["a/x", "b/y"]), &settings(fake)).await);
            assert!(!f.message.is_empty(), "{e:?}");
            // Mixed with a success: per-id. (The success is read first: after a failure that
            // opens the breaker, the paths not yet read are not read at all.)
            let fake = Arc::new(
                Fake::default()
                    .with("a", Err(e.clone()))
                    .with("b", Ok(json!({"y": "v"}))),
            );
            let (values, errors) =
                answered(resolve(&request(&["b/y", "a/x"]), &settings(fake)).await);
            assert_eq!(values["b/y"], "v");
            assert!(errors.contains_key("a/x"), "{e:?}");
        }
        // A login failure is provider-wide even though its status is a 400.
        let login =
            Error::from_response(400, vec!["invalid role".into()], "/v1/auth/jwt/login", None);
        let fake = Arc::new(Fake::default().with("a", Err(login)));
        failed(resolve(&request(&["a/x"]), &settings(fake)).await);
    }

    /// A source whose reads of `hang/*` paths take `timeout` and then fail with `TIMEOUT`, as
    /// the Vault client's own request timeout does against a Vault that never answers.
    struct Hung {
        timeout: Duration,
        reads: AtomicUsize,
    }

    #[async_trait]
    impl SecretSource for Hung {
        async fn read(&self, _path: &str) -> Result<Option<SecretData>> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(self.timeout).await;
            Err(Error::new(
                ErrorCode::Timeout,
                "no answer within the request timeout",
            ))
        }
        async fn token_is_invalid(&self) -> bool {
            false
        }
        async fn probe(&self) -> Result<()> {
            std::future::pending().await
        }
    }

    // Issue 11 kind 9: tokio's clock is paused, the timeouts pass without sleeping.
    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_hung_vault_costs_one_timeout_not_one_per_wave_of_reads() {
        let hung = Arc::new(Hung {
            timeout: DEFAULT_REQUEST_TIMEOUT,
            reads: AtomicUsize::new(0),
        });
        let names: Vec<String> = (0..200).map(|i| format!("svc{i}")).collect();
        let ids: Vec<String> = names
            .iter()
            .map(|n| format!("openclaw/credentials/{n}/apiKey"))
            .collect();
        let local = Local(
            names
                .iter()
                .map(|n| ((n.clone(), "apiKey".to_string()), format!("local-{n}")))
                .collect(),
        );
        let settings = ResolveSettings {
            source: Some(hung.clone()),
            fallback: Some(Arc::new(local)),
            prefix: "openclaw".into(),
            concurrency: MAX_CONCURRENT_READS,
            read_timeout: None,
            last_known_good: None,
            audit: None,
            layers: LayerContext::default(),
        };
        let started = tokio::time::Instant::now();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        // Within the whole-resolution deadline, as `run` applies it.
        let outcome = tokio::time::timeout(DEFAULT_DEADLINE, resolve(&request(&ids), &settings))
            .await
            .expect("resolved within the default deadline");
        let took = started.elapsed();
        let (values, errors) = answered(outcome);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(values.len(), 200);
        assert_eq!(values["openclaw/credentials/svc7/apiKey"], "local-svc7");
        // One wave of reads timed out; the rest were never sent.
        assert!(
            took < DEFAULT_REQUEST_TIMEOUT + Duration::from_millis(100),
            "{took:?}"
        );
        assert_eq!(hung.reads.load(Ordering::SeqCst), MAX_CONCURRENT_READS);
    }

    /// A source that accepts every read and never answers, as a hung Vault with a long client
    /// timeout (`VAULT_CLIENT_TIMEOUT` unset gave 5 s; a proxy may hold longer).
    struct Silent;

    #[async_trait]
    impl SecretSource for Silent {
        async fn read(&self, _path: &str) -> Result<Option<SecretData>> {
            std::future::pending().await
        }
        async fn token_is_invalid(&self) -> bool {
            false
        }
        async fn probe(&self) -> Result<()> {
            std::future::pending().await
        }
    }

    // The review's finding: 512 ids against a hung Vault took ~5.6 s, over OpenClaw's default
    // exec `timeoutMs` (5000). With the default settings the run ends at the lookup deadline.
    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn with_the_default_settings_512_ids_against_a_hung_vault_end_well_within_5_s() {
        let names: Vec<String> = (0..MAX_IDS).map(|i| format!("svc{i}")).collect();
        let ids: Vec<String> = names
            .iter()
            .map(|n| format!("openclaw/credentials/{n}/apiKey"))
            .collect();
        let local = Local(
            names
                .iter()
                .take(500)
                .map(|n| ((n.clone(), "apiKey".to_string()), format!("local-{n}")))
                .collect(),
        );
        let config = config_from_env(&env_of(&[
            ("VAULT_ADDR", "http://v:8200"),
            ("VAULT_TOKEN", "hvs.FAKE"),
        ]))
        .unwrap();
        let settings = ResolveSettings {
            source: Some(Arc::new(Silent)),
            fallback: Some(Arc::new(local)),
            prefix: "openclaw".into(),
            concurrency: config.concurrency,
            read_timeout: config.read_timeout,
            last_known_good: None,
            audit: None,
            layers: LayerContext::default(),
        };
        let started = tokio::time::Instant::now();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let outcome = tokio::time::timeout(config.deadline, resolve(&request(&ids), &settings))
            .await
            .expect("resolved within the default whole-run deadline");
        let took = started.elapsed();
        let (values, errors) = answered(outcome);
        assert_eq!(values.len(), 500);
        assert_eq!(values["openclaw/credentials/svc7/apiKey"], "local-svc7");
        // The ids no local source holds: a per-id error naming Vault's state, never a value.
        assert_eq!(errors.len(), 12, "{errors:?}");
        for e in errors.values() {
            assert!(
                e.message.contains("did not answer within 1500 ms")
                    || e.message.contains("circuit breaker is open after TIMEOUT"),
                "{}",
                e.message
            );
            assert!(!e.message.contains("local-"), "{}", e.message);
        }
        assert!(
            took <= crate::breaker::DEFAULT_LOOKUP_TIMEOUT + Duration::from_millis(100),
            "{took:?}"
        );
    }

    #[tokio::test]
    async fn after_a_refused_connection_the_other_paths_are_not_read() {
        let fake = Arc::new(
            Fake::default()
                .with("a", Err(network()))
                .with("b", Ok(json!({"y": "v"}))),
        );
        let mut s = settings(fake.clone());
        s.concurrency = 1;
        let f = failed(resolve(&request(&["a/x", "b/y", "c/z"]), &s).await);
        assert!(f.message.contains("cannot connect"), "{}", f.message);
        assert_eq!(*fake.reads.lock().unwrap(), ["a"]);
    }

    #[tokio::test]
    async fn all_forbidden_probes_the_token() {
        let denied = || Err(status(403, &["permission denied"]));
        let fake = Arc::new(
            Fake {
                token_invalid: true,
                ..Fake::default()
            }
            .with("a", denied())
            .with("b", denied()),
        );
        let f = failed(resolve(&request(&["a/x", "b/y"]), &settings(fake.clone())).await);
        assert!(f.message.contains("invalid"), "{}", f.message);
        assert_eq!(fake.probes.load(Ordering::SeqCst), 1);
        let fake = Arc::new(Fake::default().with("a", denied()).with("b", denied()));
        let (_, errors) =
            answered(resolve(&request(&["a/x", "b/y"]), &settings(fake.clone())).await);
        assert_eq!(errors.len(), 2);
        assert_eq!(fake.probes.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn fallback_answers_only_credentials_paths() {
        let local = Local(BTreeMap::from([
            (
                ("anthropic".into(), "accessToken".into()),
                "sk-ant-oat01-FAKE".into(),
            ),
            (("other".into(), "k".into()), "nope".into()),
        ]));
        let fake = Arc::new(Fake::default().with("x", Err(network())));
        let mut s = settings(fake);
        s.fallback = Some(Arc::new(local));
        let (values, errors) = answered(
            resolve(
                &request(&[
                    "openclaw/credentials/anthropic/accessToken",
                    "x/k",
                    "other/k",
                ]),
                &s,
            )
            .await,
        );
        assert_eq!(
            values["openclaw/credentials/anthropic/accessToken"],
            "sk-ant-oat01-FAKE"
        );
        assert!(errors.contains_key("x/k") && errors.contains_key("other/k"));
        assert_eq!(
            fallback_name("credentials/telegram", "openclaw"),
            Some("telegram")
        );
        assert_eq!(fallback_name("openclaw/credentials/a/b", "openclaw"), None);
        assert_eq!(fallback_name("providers/openai", "openclaw"), None);
    }

    #[test]
    fn output_is_capped_and_failures_render_as_request_errors() {
        let values = BTreeMap::from([("a/b".to_string(), SecretString::from("x".repeat(2000)))]);
        let outcome = ExecResponse::Answered {
            values,
            errors: BTreeMap::new(),
        };
        let big = outcome.render(DEFAULT_MAX_OUTPUT_BYTES);
        assert_eq!(big.exit_code, 0);
        let capped = outcome.render(1024);
        assert_eq!(capped.exit_code, 1);
        assert!(capped.stdout.len() <= 1024);
        let text = String::from_utf8(capped.stdout.to_vec()).unwrap();
        let parsed: Value = serde_json::from_str(&text).unwrap();
        assert!(parsed["errors"]["request"]["message"]
            .as_str()
            .unwrap()
            .contains("maxOutputBytes"));
        assert!(!text.contains("xxxx"));
    }

    #[test]
    fn the_settings_file_answers_only_when_no_variable_names_an_address() {
        let file_client = vault_env::client_config_from_env(
            &|n: &str| match n {
                "VAULT_ADDR" => Some("http://from-file:8200".to_string()),
                "VAULT_TOKEN" => Some("hvs.FAKE-file".to_string()),
                _ => None,
            },
            None,
        )
        .unwrap();
        let settings = SettingsVault {
            client: file_client,
            prefix: "team-a".into(),
        };
        let c = config_from(&env_of(&[]), Some(&settings)).unwrap();
        let client = c.client.unwrap();
        assert_eq!(client.addr.host_str(), Some("from-file"));
        assert_eq!(client.kv_version, Some(KvVersion::V2));
        assert!(!client.renew, "a one-shot process never renews");
        assert_eq!(c.prefix, "team-a");
        // A variable still wins, as with OpenClaw's bundled resolver.
        let c = config_from(
            &env_of(&[("OPENCLAW_VAULT_PREFIX", "env-prefix")]),
            Some(&settings),
        )
        .unwrap();
        assert_eq!(c.prefix, "env-prefix");
        let c = config_from(
            &env_of(&[
                ("VAULT_ADDR", "http://from-env:8200"),
                ("VAULT_TOKEN", "hvs.FAKE-env"),
            ]),
            Some(&settings),
        )
        .unwrap();
        assert_eq!(c.client.unwrap().addr.host_str(), Some("from-env"));
        assert_eq!(c.prefix, "team-a", "as every other command reads it");
        // Without either, the error names both places.
        let err = config_from(&env_of(&[]), None).err().unwrap();
        assert!(
            err.message.contains("openclaw-vault.json"),
            "{}",
            err.message
        );
    }

    #[test]
    fn config_needs_an_address_and_a_token() {
        let err = config_from_env(&env_of(&[])).err().unwrap();
        assert!(err.message.contains("VAULT_ADDR"));
        let err = config_from_env(&env_of(&[("VAULT_ADDR", "http://v:8200")]))
            .err()
            .unwrap();
        assert!(err.message.contains("VAULT_TOKEN"), "{}", err.message);
        let c = config_from_env(&env_of(&[
            ("VAULT_ADDR", "http://v:8200"),
            ("VAULT_TOKEN", "hvs.FAKE"),
        ]))
        .unwrap();
        let client = c.client.unwrap();
        assert_eq!(client.kv_version, Some(KvVersion::V2));
        // Each request ends with the lookup deadline (1.5 s), the whole run well under 5 s.
        assert_eq!(client.timeout, crate::breaker::DEFAULT_LOOKUP_TIMEOUT);
        assert_eq!(c.read_timeout, Some(crate::breaker::DEFAULT_LOOKUP_TIMEOUT));
        assert_eq!(c.deadline, DEFAULT_RUN_DEADLINE);
        assert!(c.deadline < Duration::from_millis(5000));
        assert!(!client.renew);
        let c = config_from_env(&env_of(&[
            ("VAULT_ADDR", "http://v:8200"),
            ("OPENCLAW_VAULT_AUTH_METHOD", "kubernetes"),
            ("OPENCLAW_VAULT_AUTH_ROLE", "gw"),
            ("OPENCLAW_VAULT_KV_VERSION", "1"),
        ]))
        .unwrap();
        assert_eq!(c.client.unwrap().kv_version, Some(KvVersion::V1));
        let only_local =
            config_from_env(&env_of(&[("OPENCLAW_VAULT_RESOLVE_FALLBACK", "local")])).unwrap();
        assert!(only_local.client.is_none() && only_local.fallback_local);
        for (var, value) in [
            ("OPENCLAW_VAULT_RESOLVE_FALLBACK", "vault"),
            ("OPENCLAW_VAULT_RESOLVE_MAX_OUTPUT_BYTES", "12"),
            ("OPENCLAW_VAULT_RESOLVE_TIMEOUT_MS", "soon"),
            ("OPENCLAW_VAULT_LOOKUP_TIMEOUT_MS", "soon"),
        ] {
            let err = config_from_env(&env_of(&[
                ("VAULT_ADDR", "http://v:8200"),
                ("VAULT_TOKEN", "hvs.FAKE"),
                (var, value),
            ]))
            .err()
            .unwrap();
            assert!(err.message.contains(var), "{}", err.message);
            assert!(!err.message.contains(value), "{}", err.message);
        }
        // OPENCLAW_VAULT_LOOKUP_TIMEOUT_MS bounds each read and request.
        let c = config_from_env(&env_of(&[
            ("VAULT_ADDR", "http://v:8200"),
            ("VAULT_TOKEN", "hvs.FAKE"),
            ("OPENCLAW_VAULT_LOOKUP_TIMEOUT_MS", "700"),
        ]))
        .unwrap();
        assert_eq!(c.read_timeout, Some(Duration::from_millis(700)));
        assert_eq!(c.client.unwrap().timeout, Duration::from_millis(700));
        // The token never appears in a configuration error.
        let err = config_from_env(&env_of(&[
            ("VAULT_ADDR", "http://v:8200"),
            ("VAULT_TOKEN", "hvs.FAKE with space"),
        ]))
        .err()
        .unwrap();
        assert!(!err.message.contains("FAKE"), "{}", err.message);
    }

    #[tokio::test]
    async fn run_without_ids_needs_no_config() {
        let out = run(
            br#"{"protocolVersion":1,"provider":"v","ids":[]}"#,
            &env_of(&[]),
            || None,
            ResolveExtras::default(),
        )
        .await;
        assert_eq!(out.exit_code, 0);
        assert_eq!(
            String::from_utf8(out.stdout.to_vec()).unwrap(),
            "{\"protocolVersion\":1,\"values\":{},\"errors\":{}}\n"
        );
    }

    // Review finding: a redaction placeholder stored in Vault was returned as a value, and
    // OpenClaw then refused it (SECRET_REF_REDACTED_VALUE) and failed its start. A real dev
    // server: each placeholder id is refused alone as NOT_FOUND, the real value still served.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_placeholder_in_vault_is_refused_per_id_as_not_found() {
        let server = tokio::task::spawn_blocking(|| {
            openclaw_vault_test_support::start_dev_vault("resolve-placeholder")
        })
        .await
        .unwrap();
        let config = ClientConfig::from_options(vault_client::ClientOptions {
            addr: Some(server.addr.clone()),
            token: Some(SecretString::from(server.token.clone())),
            ..Default::default()
        })
        .unwrap();
        let client = VaultClient::new(config).unwrap();
        let data: Map<String, Value> = serde_json::from_value(json!({
            "token": "[REDACTED]",
            "botToken": " __OPENCLAW_REDACTED__\n",
            "stars": "***",
            "apiKey": "sk-FAKE-real-REDACTED-but-real",
        }))
        .unwrap();
        client
            .write(
                "providers/gateway",
                &vault_client::secret::SecretData::from_object(data),
                None,
            )
            .await
            .unwrap();
        let env = env_of(&[("VAULT_ADDR", &server.addr), ("VAULT_TOKEN", &server.token)]);
        let out = run(
            br#"{"protocolVersion":1,"provider":"vault","ids":["providers/gateway/token","providers/gateway/botToken","providers/gateway/stars","providers/gateway/apiKey"]}"#,
            &env,
            || None,
            ResolveExtras::default(),
        )
        .await;
        assert_eq!(out.exit_code, 0);
        let body: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            body["values"],
            json!({"providers/gateway/apiKey": "sk-FAKE-real-REDACTED-but-real"})
        );
        for (id, placeholder) in [
            ("providers/gateway/token", "[REDACTED]"),
            ("providers/gateway/botToken", "__OPENCLAW_REDACTED__"),
            ("providers/gateway/stars", "***"),
        ] {
            let e = &body["errors"][id];
            assert_eq!(e["code"], "NOT_FOUND", "{body}");
            let message = e["message"].as_str().unwrap();
            assert!(message.contains("redaction placeholder"), "{message}");
            assert!(message.contains(placeholder), "{message}");
            assert!(!message.contains("sk-FAKE"), "{message}");
        }
    }
}
