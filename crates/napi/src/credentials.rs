//! `getCredential` and friends: the `Credential` and `Secret` classes, `CredentialStore`, and the
//! module functions that use a default store opened from OpenClaw's config and the process env.
//! Secret values cross into JS only through `expose()`.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use super::args::{arg, function, optional, optional_object, reject, take};
use super::error::{spawn, to_js};
use openclaw_credentials::cache::Resolved;
use openclaw_credentials::chain::{
    refresh_callback_failed, GetOptions, RefreshAnswer, RefreshedTokens, Refresher,
};
use openclaw_credentials::credential::{CredentialVersion, SourceGroup};
use openclaw_credentials::layers::LayerContext;
use openclaw_credentials::providers::files::formats::cli_owner;
use openclaw_credentials::store::{open_store, Store, StoreOptions};
use openclaw_credentials::Error as CoreError;

const REDACTED: &str = "[REDACTED]";

/// One secret value. `String()`, template literals, `JSON.stringify` and `util.inspect` all show
/// `[REDACTED]`; `expose()` returns the value.
#[napi]
pub struct Secret {
    value: SecretString,
}

#[napi]
impl Secret {
    /// The secret value. Call it only where the value is needed.
    #[napi]
    pub fn expose(&self) -> String {
        self.value.expose_secret().to_string()
    }

    /// Always `[REDACTED]`.
    #[napi(js_name = "toString")]
    pub fn to_string_js(&self) -> &'static str {
        REDACTED
    }

    /// Always `[REDACTED]`.
    #[napi(js_name = "toJSON")]
    pub fn to_json(&self) -> &'static str {
        REDACTED
    }
}

/// Where a credential came from.
#[napi(object)]
pub struct CredentialSource {
    /// `vault`, `keychain`, `claude-code`, `codex`, `qwen`, `minimax`, `gemini`, `auth-profiles`,
    /// `openclaw-oauth`, `openclaw-config`, `dotenv` or `env`.
    pub provider: String,
    /// `vault`, `keychain`, `files` or `env`.
    #[napi(ts_type = "'vault' | 'keychain' | 'files' | 'env'")]
    pub group: String,
    /// The exact place: a Vault path, a file (with `#json.path`), a keychain item, a variable.
    pub location: String,
    /// The file, for file sources.
    pub file: Option<String>,
    /// The CLI that owns these OAuth tokens (Claude Code, Codex, Qwen Code, MiniMax, Gemini
    /// CLI), or absent. Such tokens are read but never refreshed or written back by this
    /// package: `getCredential` with `refresh` returns one that is still valid as it is, and
    /// rejects an expired one with `REFRESH_FAILED` naming `owner.renew`.
    pub owner: Option<CredentialOwner>,
    /// The Vault layer that answered (`agent:<id>`, `team:<name>` or `default`) when the lookup
    /// named an agent or a team (options or openclaw-vault.json); absent otherwise. See
    /// docs/layers.md.
    pub layer: Option<String>,
}

fn owner_of(provider: &str, name: &str) -> Option<CredentialOwner> {
    cli_owner(provider, name).map(|o| CredentialOwner {
        cli: o.cli.to_string(),
        renew: o.renew.to_string(),
    })
}

/// A CLI that owns a credential's OAuth tokens.
#[napi(object)]
pub struct CredentialOwner {
    /// The CLI: `Claude Code`, `Codex`, `Qwen Code`, `MiniMax` or `Gemini CLI`.
    pub cli: String,
    /// How to log it in again, e.g. `` `claude auth login` ``.
    pub renew: String,
}

/// A credential as `getCredential` returns it. Its secret fields (`apiKey`, `token`,
/// `accessToken`, `refreshToken`, `idToken`, and any other field of the source) are `Secret`s;
/// everything else is plain data. `JSON.stringify(credential)` and `util.inspect` show the
/// secrets as `[REDACTED]`.
#[napi]
pub struct Credential {
    inner: Arc<Resolved>,
}

fn secret_of(inner: &Resolved, field: &str) -> Option<Secret> {
    inner
        .credential
        .secrets
        .get(field)
        .map(|v| Secret { value: v.clone() })
}

#[napi]
impl Credential {
    /// The name asked for.
    #[napi(getter)]
    pub fn name(&self) -> String {
        self.inner.credential.name.clone()
    }

    /// `api_key`, `token` or `oauth`.
    #[napi(getter, ts_return_type = "'api_key' | 'token' | 'oauth'")]
    pub fn kind(&self) -> &'static str {
        self.inner.credential.kind.as_str()
    }

    /// Where it was found.
    #[napi(getter)]
    pub fn source(&self) -> CredentialSource {
        let s = &self.inner.credential.source;
        CredentialSource {
            provider: s.provider.to_string(),
            group: s.group.as_str().to_string(),
            location: s.location.clone(),
            file: s.file.as_ref().map(|f| f.display().to_string()),
            owner: owner_of(s.provider, &self.inner.credential.name),
            layer: s.layer.clone(),
        }
    }

    /// Expiry in epoch milliseconds, or null.
    #[napi(getter)]
    pub fn expires_at(&self) -> Option<f64> {
        self.inner.credential.expires_at.map(|v| v as f64)
    }

    /// Non-secret facts of the source (`scopes`, `subscriptionType`, `profileId`, ...).
    #[napi(getter, ts_return_type = "Record<string, unknown>")]
    pub fn metadata(&self) -> Value {
        Value::Object(self.inner.credential.metadata.clone())
    }

    /// True when Vault could not be reached and this is the last known good value.
    #[napi(getter)]
    pub fn stale(&self) -> bool {
        self.inner.stale
    }

    /// The Vault KV version it was read at (null for other sources and KV v1).
    #[napi(getter)]
    pub fn version(&self) -> Option<f64> {
        match self.inner.credential.version {
            CredentialVersion::Vault(v) if v > 0 => Some(v as f64),
            _ => None,
        }
    }

    /// Names of the secret fields.
    #[napi(getter)]
    pub fn fields(&self) -> Vec<String> {
        self.inner
            .credential
            .secrets
            .names()
            .map(str::to_string)
            .collect()
    }

    /// `apiKey` of an `api_key` credential.
    #[napi(getter)]
    pub fn api_key(&self) -> Option<Secret> {
        secret_of(&self.inner, "apiKey")
    }

    /// `token` of a `token` credential.
    #[napi(getter)]
    pub fn token(&self) -> Option<Secret> {
        secret_of(&self.inner, "token")
    }

    /// `accessToken` of an `oauth` credential.
    #[napi(getter)]
    pub fn access_token(&self) -> Option<Secret> {
        secret_of(&self.inner, "accessToken")
    }

    /// `refreshToken` of an `oauth` credential.
    #[napi(getter)]
    pub fn refresh_token(&self) -> Option<Secret> {
        secret_of(&self.inner, "refreshToken")
    }

    /// `idToken` of an `oauth` credential, when the source has one.
    #[napi(getter)]
    pub fn id_token(&self) -> Option<Secret> {
        secret_of(&self.inner, "idToken")
    }

    /// Any secret field by name (`appToken`, `signingSecret`, `apiKey2`, ...).
    #[napi(ts_args_type = "field: string")]
    pub fn secret(&self, env: Env, field: Unknown) -> Result<Option<Secret>> {
        let field: String = arg(field, "field", "a string").map_err(|e| to_js(&env, &e))?;
        Ok(secret_of(&self.inner, &field))
    }

    /// The value of `field`, or of the main field (`apiKey`, `token` or `accessToken`) when
    /// none is given. Throws `INVALID_ARGUMENT` for a field the credential does not have.
    #[napi(ts_args_type = "field?: string | undefined | null")]
    pub fn expose(&self, env: Env, field: Option<Unknown>) -> Result<String> {
        let field: Option<String> = match field {
            Some(f) => arg(f, "field", "a string").map_err(|e| to_js(&env, &e))?,
            None => None,
        };
        let c = &self.inner.credential;
        let field = field.unwrap_or_else(|| c.kind.primary_field().to_string());
        match c.secrets.get(&field) {
            Some(v) => Ok(v.expose_secret().to_string()),
            None => Err(to_js(
                &env,
                &CoreError::invalid_argument(format!(
                    "credential \"{}\" has no field `{field}` (it has: {})",
                    c.name,
                    c.secrets.names().collect::<Vec<_>>().join(", ")
                )),
            )),
        }
    }

    /// Every secret field with its value.
    #[napi]
    pub fn expose_all(&self) -> HashMap<String, String> {
        self.inner
            .credential
            .secrets
            .iter()
            .map(|(k, v)| (k.to_string(), v.expose_secret().to_string()))
            .collect()
    }

    /// The credential without its values: secrets appear as `[REDACTED]`.
    #[napi(js_name = "toJSON", ts_return_type = "Record<string, unknown>")]
    pub fn to_json(&self) -> Value {
        let c = &self.inner.credential;
        let mut out = Map::new();
        out.insert("name".into(), Value::String(c.name.clone()));
        out.insert("kind".into(), Value::String(c.kind.as_str().into()));
        out.insert(
            "source".into(),
            serde_json::json!({
                "provider": c.source.provider,
                "group": c.source.group.as_str(),
                "location": c.source.location,
                "owner": cli_owner(c.source.provider, &c.name)
                    .map(|o| serde_json::json!({"cli": o.cli, "renew": o.renew})),
            }),
        );
        out.insert(
            "expiresAt".into(),
            c.expires_at.map(Value::from).unwrap_or(Value::Null),
        );
        out.insert("stale".into(), Value::Bool(self.inner.stale));
        out.insert("metadata".into(), Value::Object(c.metadata.clone()));
        for name in c.secrets.names() {
            out.insert(name.to_string(), Value::String(REDACTED.into()));
        }
        Value::Object(out)
    }

    /// `[Credential <name> (<kind>) from <provider>]`.
    #[napi(js_name = "toString")]
    pub fn to_string_js(&self) -> String {
        let c = &self.inner.credential;
        format!(
            "[Credential {} ({}) from {}]",
            c.name,
            c.kind.as_str(),
            c.source.provider
        )
    }
}

/// Gives both classes their `util.inspect` and `Symbol.toPrimitive` behaviour.
const SETUP: &str = r#"(function (Credential, Secret) {
  const inspect = Symbol.for('nodejs.util.inspect.custom');
  Object.defineProperty(Secret.prototype, inspect, { value: function () { return '[REDACTED]'; } });
  Object.defineProperty(Secret.prototype, Symbol.toPrimitive, { value: function () { return '[REDACTED]'; } });
  Object.defineProperty(Credential.prototype, inspect, {
    value: function (depth, options, inspectFn) {
      const shown = inspectFn ? inspectFn(this.toJSON(), options) : JSON.stringify(this.toJSON());
      return 'Credential ' + shown;
    },
  });
  Object.defineProperty(Credential.prototype, Symbol.toPrimitive, { value: function () { return this.toString(); } });
})"#;

/// Called once per module instance from the module's init hook.
pub fn init(exports: &Object, env: &Env) -> Result<()> {
    let credential: Unknown = exports.get_named_property("Credential")?;
    let secret: Unknown = exports.get_named_property("Secret")?;
    let setup: Function<FnArgs<(Unknown, Unknown)>, Unknown> = env.run_script(SETUP)?;
    setup.call(FnArgs::from((credential, secret)))?;
    Ok(())
}

/// What the JS `refresh` callback resolves to.
#[napi(object)]
pub struct RefreshResult {
    /// The new access token (required).
    pub access_token: String,
    /// The new refresh token; omit it to keep the old one.
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    /// Expiry in epoch milliseconds.
    pub expires_at: Option<f64>,
    /// Or: seconds from now (OAuth's `expires_in`).
    pub expires_in: Option<f64>,
}

impl From<RefreshResult> for RefreshAnswer {
    fn from(r: RefreshResult) -> Self {
        RefreshAnswer {
            access_token: r.access_token,
            refresh_token: r.refresh_token,
            id_token: r.id_token,
            expires_at_ms: r.expires_at,
            expires_in_secs: r.expires_in,
        }
    }
}

type RefreshCallback =
    ThreadsafeFunction<Credential, Promise<RefreshResult>, Credential, Status, false>;

/// Calls the JS `refresh` callback from the core and waits for its promise.
struct JsRefresher {
    callback: RefreshCallback,
}

#[async_trait::async_trait]
impl Refresher for JsRefresher {
    async fn refresh(
        &self,
        credential: &openclaw_credentials::credential::Credential,
    ) -> openclaw_credentials::Result<RefreshedTokens> {
        let arg = Credential {
            inner: Arc::new(Resolved {
                credential: credential.clone(),
                stale: false,
                fetched_at: std::time::Instant::now(),
                generation: 0,
                stale_until: None,
            }),
        };
        let failed = |e: napi::Error| refresh_callback_failed(credential, &e.reason);
        let promise = self.callback.call_async_catch(arg).await.map_err(failed)?;
        let result = promise.await.map_err(failed)?;
        RefreshAnswer::from(result).into_tokens(credential, openclaw_credentials::time::now_ms())
    }
}

/// Options of `new CredentialStore(options)`.
#[napi(object)]
pub struct CredentialStoreOptions {
    /// Environment to read instead of `process.env` (HOME, OPENCLAW_*, VAULT_*, API key
    /// variables). Variables not listed are unset.
    pub env: Option<HashMap<String, String>>,
    /// The directory whose `.env` is read (OpenClaw's working directory). Default: `process.cwd()`.
    pub cwd: Option<String>,
    /// Settings whose keys replace `openclaw-vault.json`'s (same shape and checks).
    #[napi(ts_type = "CredentialsConfig")]
    pub config: Option<Value>,
}

/// A credential listed by `listCredentials`: where it exists, never its value.
#[napi(object)]
pub struct CredentialListing {
    pub name: String,
    pub sources: Vec<CredentialListingSource>,
}

#[napi(object)]
pub struct CredentialListingSource {
    pub provider: String,
    pub location: String,
    /// The CLI that owns the tokens listed here, or absent (see `CredentialSource.owner`).
    pub owner: Option<CredentialOwner>,
    /// The Vault layer (`agent:<id>`, `team:<name>`, `default`) when the listing named an agent
    /// or a team; absent otherwise.
    pub layer: Option<String>,
}

/// The store options a JS `CredentialStoreOptions` (or none) stands for.
/// The optional `options` argument of `new CredentialStore` and `loadConfig`.
fn store_options_arg(
    options: Option<Unknown>,
) -> vault_client::Result<Option<CredentialStoreOptions>> {
    optional(options, "options")
}

fn store_options(options: Option<CredentialStoreOptions>) -> StoreOptions {
    {
        let mut store_options = StoreOptions::from_process();
        if let Some(o) = options {
            if let Some(vars) = o.env {
                let vars = Arc::new(vars);
                store_options.env = Arc::new(move |name| vars.get(name).cloned());
                store_options.process_env = false;
            }
            if let Some(cwd) = o.cwd {
                store_options.cwd = Some(cwd.into());
            }
            store_options.overrides = o.config;
        }
        store_options
    }
}

/// The effective credentials configuration, as `getCredential` would use it: OpenClaw's config
/// file (found as OpenClaw finds it; JSON5) merged with the environment (env wins), or `options`.
/// Never contains a token: `vault.tokenSet` says whether one is configured. Throws
/// `INVALID_CONFIG` naming the file, JSON path or variable at fault.
#[napi(
    js_name = "loadConfig",
    ts_args_type = "options?: CredentialStoreOptions | undefined | null",
    ts_return_type = "LoadedCredentialsConfig"
)]
pub fn load_config_js(env: Env, options: Option<Unknown>) -> Result<Value> {
    let options = store_options_arg(options).map_err(|e| to_js(&env, &e))?;
    openclaw_credentials::store::load_store_config(&store_options(options))
        .map(|loaded| loaded.describe())
        .map_err(|e| to_js(&env, &e))
}

/// A running `watchCredential`; `stop()` ends it. Like `setInterval`, it keeps Node alive until stopped.
#[napi]
pub struct CredentialWatch {
    handle: Option<openclaw_credentials::watch::WatchHandle>,
}

#[napi]
impl CredentialWatch {
    /// Stops watching; no callback runs after this returns.
    #[napi]
    pub fn stop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.stop();
        }
    }
}

/// `(error, credential)`, Node style: one of the two is null.
type WatchCallback =
    ThreadsafeFunction<WatchEvent, (), FnArgs<(ErrorArg, Option<Credential>)>, Status, false>;

/// A watch result on its way to the JS thread.
pub struct WatchEvent(openclaw_credentials::Result<Arc<Resolved>>);

/// A `VaultError` (or null) as a callback argument.
pub struct ErrorArg(Option<CoreError>);

impl ToNapiValue for ErrorArg {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        match val.0 {
            // SAFETY: `env` is the live environment napi passed to this conversion.
            None => unsafe { ToNapiValue::to_napi_value(env, Null) },
            Some(e) => {
                let env = Env::from_raw(env);
                Ok(super::error::error_value(&env, &e)?.raw())
            }
        }
    }
}

/// The default store behind the module functions: opened once from OpenClaw's config and the
/// process environment. A configuration error is kept and raised by every call.
static DEFAULT_STORE: OnceLock<openclaw_credentials::Result<Arc<Store>>> = OnceLock::new();

fn default_store() -> openclaw_credentials::Result<Arc<Store>> {
    DEFAULT_STORE
        .get_or_init(|| open_store(&StoreOptions::from_process()).map(Arc::new))
        .clone()
}

fn parse_order(order: Vec<String>) -> openclaw_credentials::Result<Vec<SourceGroup>> {
    order
        .iter()
        .map(|g| {
            SourceGroup::parse(g).ok_or_else(|| {
                CoreError::invalid_argument(format!(
                    "option `order` has {g:?}; expected \"vault\", \"keychain\", \"files\" or \"env\""
                ))
            })
        })
        .collect()
}

/// Reads `{ agent, team }` from a JS options object (see docs/layers.md); errors name the option.
fn layer_options(options: &Object) -> openclaw_credentials::Result<LayerContext> {
    let string = |key: &str| {
        options
            .get::<String>(key)
            .map_err(|_| CoreError::invalid_argument(format!("option `{key}` must be a string")))
    };
    LayerContext::new(
        string("agent")?,
        string("team")?,
        "option `agent`",
        "option `team`",
    )
}

/// Reads `{ order, noCache, refresh, agent, team }` from the JS options object.
fn get_options(options: Option<Object>) -> openclaw_credentials::Result<GetOptions> {
    let mut out = GetOptions::default();
    let Some(options) = options else {
        return Ok(out);
    };
    let bad = |what: &str| CoreError::invalid_argument(what.to_string());
    if let Some(order) = options
        .get::<Vec<String>>("order")
        .map_err(|_| bad("option `order` must be an array of strings"))?
    {
        out.order = Some(parse_order(order)?);
    }
    if let Some(no_cache) = options
        .get::<bool>("noCache")
        .map_err(|_| bad("option `noCache` must be a boolean"))?
    {
        out.no_cache = no_cache;
    }
    out.layers = layer_options(&options)?;
    let refresh: Option<Function<Credential, Promise<RefreshResult>>> = options
        .get("refresh")
        .map_err(|_| bad("option `refresh` must be a function returning a promise"))?;
    if let Some(f) = refresh {
        let callback: RefreshCallback = f
            .build_threadsafe_function()
            .callee_handled::<false>()
            .build()
            .map_err(|e| bad(&format!("option `refresh` could not be used: {}", e.reason)))?;
        out.refresher = Some(Arc::new(JsRefresher { callback }));
    }
    Ok(out)
}

/// Per store: name -> the value last returned and its JS object.
/// Per name: the value last shown, and the already-resolved promise of its JS object (handing
/// back the same settled promise skips building an object and a promise on every cache hit).
type ShownByName = HashMap<String, (Arc<Resolved>, ObjectRef<false>)>;

thread_local! {
    /// The JS object last returned for each (store, name), so a cache hit hands back the same
    /// object instead of building a new one. Per thread: one Node environment per thread.
    static SHOWN: std::cell::RefCell<HashMap<usize, ShownByName>> =
        std::cell::RefCell::new(HashMap::new());
}

/// The settled promise for a cache hit: the one returned last time when the value is the same.
fn cached_to_js<'env>(
    env: &'env Env,
    store: &Arc<Store>,
    name: &str,
    r: Arc<Resolved>,
) -> Result<PromiseRaw<'env, Unknown<'env>>> {
    let key = Arc::as_ptr(store) as usize;
    SHOWN.with(|shown| {
        let mut shown = shown.borrow_mut();
        let per_store = shown.entry(key).or_default();
        if let Some((last, promise)) = per_store.get(name) {
            if Arc::ptr_eq(last, &r) {
                let value = promise.get_value(env)?;
                return Ok(PromiseRaw::new(env.raw(), value.raw()));
            }
        }
        let obj = credential_object(env, r.clone())?.to_unknown();
        let promise = PromiseRaw::resolve(env, obj)?;
        // SAFETY: a promise is an object; the raw handle is valid in this scope.
        let as_object = unsafe { Object::from_napi_value(env.raw(), promise.raw())? };
        let reference = as_object.create_ref::<false>()?;
        if let Some((_, old)) = per_store.insert(name.to_string(), (r, reference)) {
            old.unref(env)?;
        }
        Ok(promise)
    })
}

fn credential_to_js<'env>(env: &'env Env, r: Arc<Resolved>) -> Result<Unknown<'env>> {
    Ok(credential_object(env, r)?.to_unknown())
}

/// A `Credential` whose plain facts (`name`, `kind`, `source`, `expiresAt`, `metadata`, `stale`,
/// `version`) are also own data properties, set once: a cached credential is handed back many
/// times, and a data property is read without crossing into Rust. The getters stay for objects
/// made elsewhere (watch callbacks). Secrets remain behind `expose()`.
fn credential_object<'env>(env: &'env Env, r: Arc<Resolved>) -> Result<Object<'env>> {
    let c = Credential { inner: r };
    let (name, kind, source, expires_at, metadata, stale, version) = (
        c.name(),
        c.kind(),
        c.source(),
        c.expires_at(),
        c.metadata(),
        c.stale(),
        c.version(),
    );
    let mut obj = c.into_instance(env)?.as_object(env);
    let values = [
        ("name", to_unknown(env, name)?),
        ("kind", to_unknown(env, kind)?),
        ("source", to_unknown(env, source)?),
        ("expiresAt", to_unknown(env, expires_at)?),
        ("metadata", to_unknown(env, metadata)?),
        ("stale", to_unknown(env, stale)?),
        ("version", to_unknown(env, version)?),
    ];
    // Defined, not assigned: an assignment would hit the class's setter-less accessors and fail.
    let properties = values
        .iter()
        .map(|(name, value)| {
            Ok(Property::new()
                .with_utf8_name(name)?
                .with_value(value)
                .with_property_attributes(PropertyAttributes::Enumerable))
        })
        .collect::<Result<Vec<_>>>()?;
    obj.define_properties(&properties)?;
    Ok(obj)
}

fn to_unknown<T: ToNapiValue>(env: &Env, value: T) -> Result<Unknown<'_>> {
    // SAFETY: the handle was just created in `env`'s current scope.
    unsafe { Unknown::from_napi_value(env.raw(), T::to_napi_value(env.raw(), value)?) }
}

/// True when the fast path may answer: no per-call order and the cache allowed.
fn fast_path_ok(options: &Option<Object>) -> Result<bool> {
    let Some(o) = options else { return Ok(true) };
    Ok(!o.has_named_property("order")?
        && !o.has_named_property("noCache")?
        && !o.has_named_property("agent")?
        && !o.has_named_property("team")?)
}

fn get_impl<'env>(
    env: &'env Env,
    store: openclaw_credentials::Result<Arc<Store>>,
    name: Unknown,
    options: Option<Unknown>,
) -> Result<PromiseRaw<'env, Unknown<'env>>> {
    let name: String = take!(env, arg(name, "name", "a string"));
    let options = take!(env, optional_object(options, "options"));
    let store = match store {
        Ok(s) => s,
        Err(e) => return reject(env, e),
    };
    let chain = store.chain.clone();
    if fast_path_ok(&options)? {
        let with_refresher = options
            .as_ref()
            .is_some_and(|o| o.has_named_property("refresh").unwrap_or(false));
        if let Some(hit) = chain.get_cached(&name, with_refresher) {
            return cached_to_js(env, &store, &name, hit);
        }
    }
    let get_options = match get_options(options) {
        Ok(o) => o,
        Err(e) => return reject(env, e),
    };
    spawn(
        env,
        async move {
            // A value pasted in place of the name is not repeated in the rejection.
            chain
                .get(&name, &get_options)
                .await
                .map_err(|e| openclaw_credentials::scrub::hide_name_in_error(e, &name))
        },
        credential_to_js,
    )
}

fn list_impl<'env>(
    env: &'env Env,
    store: openclaw_credentials::Result<Arc<Store>>,
    options: Option<Unknown>,
) -> Result<PromiseRaw<'env, Unknown<'env>>> {
    let options = take!(env, optional_object(options, "options"));
    let layers = match options.as_ref().map(layer_options).transpose() {
        Ok(l) => l.unwrap_or_default(),
        Err(e) => return reject(env, e),
    };
    let order = match options
        .map(|o| o.get::<Option<Vec<String>>>("order"))
        .transpose()
        .map(|o| o.flatten().flatten())
        .map_err(|_| {
            CoreError::invalid_argument("option `order` must be an array of strings".to_string())
        })
        .and_then(|order| order.map(parse_order).transpose())
    {
        Ok(o) => o,
        Err(e) => return reject(env, e),
    };
    spawn(
        env,
        async move {
            let store = store?;
            let list = store.chain.list_for(order.as_deref(), &layers).await;
            // An unreachable Vault rejects, naming it, instead of resolving to fewer names.
            match store.chain.remote_list_failure(&list) {
                Some(e) => Err(e),
                None => Ok::<_, CoreError>(list),
            }
        },
        |env, list| {
            let out: Vec<CredentialListing> = list
                .credentials
                .into_iter()
                .map(|c| {
                    let sources = c
                        .sources
                        .into_iter()
                        .map(|s| CredentialListingSource {
                            owner: owner_of(s.provider, &c.name),
                            provider: s.provider.to_string(),
                            location: s.location,
                            layer: s.layer,
                        })
                        .collect();
                    CredentialListing {
                        name: c.name,
                        sources,
                    }
                })
                .collect();
            let value = unsafe { ToNapiValue::to_napi_value(env.raw(), out)? };
            Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), value) })
        },
    )
}

fn watch_impl<'env>(
    env: &'env Env,
    store: openclaw_credentials::Result<Arc<Store>>,
    name: Unknown,
    callback: Unknown,
    options: Option<Unknown>,
) -> Result<PromiseRaw<'env, Unknown<'env>>> {
    let name: String = take!(env, arg(name, "name", "a string"));
    let callback: Function<FnArgs<(ErrorArg, Option<Credential>)>, ()> =
        take!(env, function(callback, "callback"));
    let options = take!(env, optional_object(options, "options"));
    let store = match store {
        Ok(s) => s,
        Err(e) => return reject(env, e),
    };
    let interval_ms = match options
        .map(|o| o.get::<Option<f64>>("intervalMs"))
        .transpose()
    {
        Ok(ms) => ms.flatten().flatten(),
        Err(_) => {
            return reject(
                env,
                CoreError::invalid_argument("option `intervalMs` must be a number".to_string()),
            )
        }
    };
    let interval =
        match openclaw_credentials::watch::interval_from_ms(interval_ms, "option `intervalMs`") {
            Ok(i) => i,
            Err(e) => return reject(env, e),
        };
    let tsfn: WatchCallback = callback
        .build_threadsafe_function()
        .callee_handled::<false>()
        .build_callback(
            |ctx: napi::threadsafe_function::ThreadsafeCallContext<WatchEvent>| {
                Ok(FnArgs::from(match ctx.value.0 {
                    Ok(r) => (ErrorArg(None), Some(Credential { inner: r })),
                    Err(e) => (ErrorArg(Some(e)), None),
                }))
            },
        )?;
    let tsfn = Arc::new(tsfn);
    let chain = store.chain.clone();
    spawn(
        env,
        async move {
            openclaw_credentials::watch::watch(
                chain,
                name,
                interval,
                Arc::new(move |event| {
                    tsfn.call(WatchEvent(event), ThreadsafeFunctionCallMode::NonBlocking);
                }),
            )
            .await
        },
        |env, handle| {
            Ok(CredentialWatch {
                handle: Some(handle),
            }
            .into_instance(env)?
            .as_object(env)
            .to_unknown())
        },
    )
}

/// Resolves a credential: Vault first when configured, then the keychain, local files and env
/// (or `options.order`), cached. `options.refresh(credential)` trades the refresh token of an
/// expired or expiring OAuth credential for new tokens; exactly one process refreshes and the
/// new tokens are written back where they came from. Rejects with `CREDENTIAL_NOT_FOUND` (the
/// sources tried are in `errors`), or with Vault's error when `fallback` is `"none"`.
#[napi(ts_return_type = "Promise<Credential>")]
pub fn get_credential<'env>(
    env: &'env Env,
    #[napi(ts_arg_type = "string")] name: Unknown,
    #[napi(ts_arg_type = "GetCredentialOptions")] options: Option<Unknown>,
) -> Result<PromiseRaw<'env, Unknown<'env>>> {
    get_impl(env, default_store(), name, options)
}

/// Which credential names exist in which sources, without values.
#[napi(ts_return_type = "Promise<CredentialListing[]>")]
pub fn list_credentials<'env>(
    env: &'env Env,
    #[napi(ts_arg_type = "{ order?: CredentialSourceGroup[]; agent?: string; team?: string }")]
    options: Option<Unknown>,
) -> Result<PromiseRaw<'env, Unknown<'env>>> {
    list_impl(env, default_store(), options)
}

/// Calls `callback(null, credential)` whenever the credential changes at its source (Vault's
/// `current_version`, the file's modification), `callback(error, null)` when a check fails.
/// Resolves once the current value has been read (rejecting as `getCredential` would), then
/// checks every `intervalMs` (default 5000) until `stop()`.
#[napi(ts_return_type = "Promise<CredentialWatch>")]
pub fn watch_credential<'env>(
    env: &'env Env,
    #[napi(ts_arg_type = "string")] name: Unknown,
    #[napi(ts_arg_type = "(error: VaultError | null, credential: Credential | null) => void")]
    callback: Unknown,
    #[napi(ts_arg_type = "{ intervalMs?: number }")] options: Option<Unknown>,
) -> Result<PromiseRaw<'env, Unknown<'env>>> {
    watch_impl(env, default_store(), name, callback, options)
}

/// A credential chain with its own configuration: the environment, working directory and
/// settings (`config`) given here instead of the process's. The module functions use one
/// opened from the process environment.
#[napi]
pub struct CredentialStore {
    store: Arc<Store>,
}

impl Drop for CredentialStore {
    /// A collected store's kept credentials go with it. (Its JS promise references cannot be
    /// released here, with no `Env`; they are small and were kept alive before this too.)
    fn drop(&mut self) {
        let key = Arc::as_ptr(&self.store) as usize;
        // `try_with`: the thread's locals may already be gone at thread exit.
        let _ = SHOWN.try_with(|shown| {
            if let Ok(mut shown) = shown.try_borrow_mut() {
                shown.remove(&key);
            }
        });
    }
}

#[napi]
impl CredentialStore {
    /// Opens the chain. Throws `INVALID_CONFIG` naming the file, JSON path or variable at fault.
    #[napi(
        constructor,
        ts_args_type = "options?: CredentialStoreOptions | undefined | null"
    )]
    pub fn new(env: Env, options: Option<Unknown>) -> Result<Self> {
        let options = store_options_arg(options).map_err(|e| to_js(&env, &e))?;
        open_store(&store_options(options))
            .map(|store| CredentialStore {
                store: Arc::new(store),
            })
            .map_err(|e| to_js(&env, &e))
    }

    /// The config file that was read, if any.
    #[napi(getter)]
    pub fn config_file(&self) -> Option<String> {
        self.store
            .config_file
            .as_ref()
            .map(|p| p.display().to_string())
    }

    /// Warnings about the configuration (unknown keys, plaintext tokens, open permissions).
    #[napi(getter)]
    pub fn warnings(&self) -> Vec<String> {
        self.store.warnings.clone()
    }

    /// As the module's `getCredential`, on this store.
    #[napi(ts_return_type = "Promise<Credential>")]
    pub fn get_credential<'env>(
        &self,
        env: &'env Env,
        #[napi(ts_arg_type = "string")] name: Unknown,
        #[napi(ts_arg_type = "GetCredentialOptions")] options: Option<Unknown>,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        get_impl(env, Ok(self.store.clone()), name, options)
    }

    /// As the module's `listCredentials`, on this store.
    #[napi(ts_return_type = "Promise<CredentialListing[]>")]
    pub fn list_credentials<'env>(
        &self,
        env: &'env Env,
        #[napi(ts_arg_type = "{ order?: CredentialSourceGroup[]; agent?: string; team?: string }")]
        options: Option<Unknown>,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        list_impl(env, Ok(self.store.clone()), options)
    }

    /// As the module's `watchCredential`, on this store.
    #[napi(ts_return_type = "Promise<CredentialWatch>")]
    pub fn watch_credential<'env>(
        &self,
        env: &'env Env,
        #[napi(ts_arg_type = "string")] name: Unknown,
        #[napi(ts_arg_type = "(error: VaultError | null, credential: Credential | null) => void")]
        callback: Unknown,
        #[napi(ts_arg_type = "{ intervalMs?: number }")] options: Option<Unknown>,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        watch_impl(env, Ok(self.store.clone()), name, callback, options)
    }

    /// Drops every cached value.
    #[napi]
    pub fn clear_cache(&self, env: Env) -> Result<()> {
        self.store.chain.clear_cache();
        // The settled promises kept for cache hits hold credentials too: drop this store's.
        let key = Arc::as_ptr(&self.store) as usize;
        let kept = SHOWN.with(|shown| shown.borrow_mut().remove(&key));
        for (_, (_, reference)) in kept.into_iter().flatten() {
            reference.unref(&env)?;
        }
        Ok(())
    }
}
