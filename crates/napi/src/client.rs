//! The `VaultClient` class: each method converts its arguments, calls one core method inside a
//! promise, and converts the result. Vault's field names (`created_time`, ...) are kept as Vault
//! writes them, as the community client did.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde::Serialize;
use serde_json::Value;

use super::args::{arg, function, object, optional, take};
use super::error::{spawn, to_js};
use super::options::{
    version_list, version_number, whole_number, JsOptionNames, MetadataOptions, ReadOptions,
    SubkeysOptions, VaultClientOptions, WriteOptions,
};
use vault_client::engines::kv2::MetadataSettings;
use vault_client::{ClientConfig, SecretData};

type Promise<'env> = Result<PromiseRaw<'env, Unknown<'env>>>;

/// Token events reach JS through a weak threadsafe function: it never keeps Node alive, and
/// errors stay in JS (`CalleeHandled = false`).
type TokenEventCallback = ThreadsafeFunction<TokenEvent, (), TokenEvent, Status, false, true>;

/// A token event. Never holds the token.
#[napi(object)]
pub struct TokenEvent {
    /// `renewed`, `reauthenticated`, `renewal_failed` or `expired`.
    #[napi(ts_type = "'renewed' | 'reauthenticated' | 'renewal_failed' | 'expired'")]
    pub kind: String,
    /// Seconds the token has left, when known.
    pub ttl: Option<f64>,
    /// What failed, for `renewal_failed` and `expired`.
    pub error: Option<String>,
}

impl From<&vault_client::session::TokenEvent> for TokenEvent {
    fn from(e: &vault_client::session::TokenEvent) -> Self {
        use vault_client::session::TokenEventKind::*;
        let kind = match e.kind {
            Renewed => "renewed",
            Reauthenticated => "reauthenticated",
            RenewalFailed => "renewal_failed",
            Expired => "expired",
        };
        TokenEvent {
            kind: kind.to_string(),
            ttl: e.ttl.map(|t| t as f64),
            error: e.error.clone(),
        }
    }
}

/// A HashiCorp Vault client (KV v2 and v1, sys, token). Every method returns a promise that
/// rejects with a `VaultError`.
#[napi]
pub struct VaultClient {
    inner: Arc<vault_client::VaultClient>,
}

fn js<'env, T: Serialize>(env: &'env Env, value: &T) -> Result<Unknown<'env>> {
    crate::json::to_js(env, value)
}

fn null(env: &Env) -> Result<Unknown<'_>> {
    env.to_js_value(&())
}

fn secret_to_js<'env>(
    env: &'env Env,
    secret: Option<vault_client::engines::kv2::KvSecret>,
) -> Result<Unknown<'env>> {
    match secret {
        None => null(env),
        Some(s) => {
            // `{ data, metadata }`: the data converted from the borrow (no unwiped copy), the
            // metadata (no secrets) through serde.
            let mut out = Object::new(env)?;
            match s.data.as_ref() {
                Some(data) => out.set(
                    "data",
                    crate::json::secret_to_js(env, data.expose_secret())?,
                )?,
                None => out.set("data", Null)?,
            }
            match s.metadata.as_ref() {
                Some(m) => out.set("metadata", js(env, m)?)?,
                None => out.set("metadata", Null)?,
            }
            Ok(out.to_unknown())
        }
    }
}

/// The `path` argument of every KV method.
fn path_arg(path: Unknown) -> vault_client::Result<String> {
    arg(path, "path", "a string")
}

/// An optional options object (`undefined` and `null` mean none).
fn options_arg<T: FromNapiValue>(options: Option<Unknown>) -> vault_client::Result<Option<T>> {
    optional(options, "options")
}

fn versions_arg(versions: Unknown) -> vault_client::Result<Vec<f64>> {
    arg(versions, "versions", "an array of numbers")
}

fn data_arg(data: Value) -> vault_client::Result<SecretData> {
    SecretData::try_from_value(data, "data")
}

/// The data of a `write` or `patch` to `path`, refused (`INVALID_ARGUMENT`, nothing sent) when a
/// value is a redaction placeholder: this is OpenClaw's Vault client, and the rule is
/// OpenClaw's, kept in the credentials layer (`openclaw_credentials::placeholder`); the generic
/// `vault_client` crate stores whatever it is given.
fn write_data(
    data: Value,
    path: &str,
) -> std::result::Result<SecretData, openclaw_credentials::Error> {
    let data = data_arg(data)?;
    openclaw_credentials::placeholder::refuse_in_data(data.expose_secret(), path)?;
    Ok(data)
}

#[napi]
impl VaultClient {
    /// `new VaultClient({ addr, token, namespace, mount, kvVersion, timeoutMs })`. Throws a
    /// `VaultError` with code `INVALID_CONFIG` for a bad option, before any request.
    #[napi(constructor, ts_args_type = "options: VaultClientOptions")]
    pub fn new(env: Env, options: Unknown) -> Result<Self> {
        let client = object::<VaultClientOptions>(options, "options")
            .and_then(vault_client::ClientOptions::try_from)
            .and_then(|o| ClientConfig::from_named_options(o, &JsOptionNames))
            .and_then(vault_client::VaultClient::new);
        client
            .map(|c| VaultClient { inner: Arc::new(c) })
            .map_err(|e| to_js(&env, &e))
    }

    /// A client from `VAULT_ADDR`, `VAULT_TOKEN` (else `~/.vault-token`), `VAULT_NAMESPACE`,
    /// `OPENCLAW_VAULT_KV_MOUNT`, `OPENCLAW_VAULT_KV_VERSION` and `VAULT_CLIENT_TIMEOUT`.
    #[napi(factory)]
    pub fn from_env(env: Env) -> Result<Self> {
        let client = openclaw_credentials::openclaw::vault_env::client_config_from_process_env()
            .and_then(vault_client::VaultClient::new);
        client
            .map(|c| VaultClient { inner: Arc::new(c) })
            .map_err(|e| to_js(&env, &e))
    }

    /// The Vault address in use.
    #[napi(getter)]
    pub fn addr(&self) -> String {
        self.inner
            .config()
            .addr
            .as_str()
            .trim_end_matches('/')
            .to_string()
    }

    /// The KV mount paths are relative to.
    #[napi(getter)]
    pub fn mount(&self) -> String {
        self.inner.mount().to_string()
    }

    /// The KV version of the mount (1 or 2), detecting it if needed.
    #[napi(ts_return_type = "Promise<1 | 2>")]
    pub fn kv_version<'env>(&self, env: &'env Env) -> Promise<'env> {
        let c = self.inner.clone();
        spawn(env, async move { c.kv_version().await }, |env, v| {
            js(env, &v.number())
        })
    }

    /// Reads a secret. Resolves to `{ data, metadata }`, `null` when it does not exist, and
    /// `{ data: null, metadata }` when the version is soft-deleted or destroyed.
    #[napi(
        ts_args_type = "path: string, options?: ReadOptions | undefined | null",
        ts_return_type = "Promise<KvSecret | null>"
    )]
    pub fn read<'env>(
        &self,
        env: &'env Env,
        path: Unknown,
        options: Option<Unknown>,
    ) -> Promise<'env> {
        let path: String = take!(env, path_arg(path));
        let options: Option<ReadOptions> = take!(env, options_arg(options));
        let c = self.inner.clone();
        let version = options.and_then(|o| o.version);
        spawn(
            env,
            async move {
                let version = version.map(|v| version_number(v, "version")).transpose()?;
                c.read(&path, version).await
            },
            secret_to_js,
        )
    }

    /// Writes a secret (a new version on KV v2). `cas: 0` creates only if absent. Resolves to the
    /// new version's metadata on KV v2, `null` on KV v1.
    #[napi(
        ts_args_type = "path: string, data: Record<string, unknown>, options?: WriteOptions",
        ts_return_type = "Promise<VersionMetadata | null>"
    )]
    pub fn write<'env>(
        &self,
        env: &'env Env,
        path: Unknown,
        data: Unknown,
        options: Option<Unknown>,
    ) -> Promise<'env> {
        let path: String = take!(env, path_arg(path));
        let data: Value = take!(env, arg(data, "data", "an object"));
        let options: Option<WriteOptions> = take!(env, options_arg(options));
        let c = self.inner.clone();
        let cas = options.and_then(|o| o.cas);
        spawn(
            env,
            async move {
                let data = write_data(data, &path)?;
                let cas = cas.map(|v| whole_number(v, "cas")).transpose()?;
                Ok::<_, openclaw_credentials::Error>(c.write(&path, &data, cas).await?)
            },
            |env, m| js(env, &m),
        )
    }

    /// Merge-patches a KV v2 secret (RFC 7386: `null` removes a field). Falls back to read and
    /// write with cas when the server answers 405 to PATCH.
    #[napi(
        ts_args_type = "path: string, data: Record<string, unknown>, options?: WriteOptions",
        ts_return_type = "Promise<VersionMetadata>"
    )]
    pub fn patch<'env>(
        &self,
        env: &'env Env,
        path: Unknown,
        data: Unknown,
        options: Option<Unknown>,
    ) -> Promise<'env> {
        let path: String = take!(env, path_arg(path));
        let data: Value = take!(env, arg(data, "data", "an object"));
        let options: Option<WriteOptions> = take!(env, options_arg(options));
        let c = self.inner.clone();
        let cas = options.and_then(|o| o.cas);
        spawn(
            env,
            async move {
                let data = write_data(data, &path)?;
                let cas = cas.map(|v| whole_number(v, "cas")).transpose()?;
                Ok::<_, openclaw_credentials::Error>(c.patch(&path, &data, cas).await?)
            },
            |env, m| js(env, &m),
        )
    }

    /// Keys under a folder (sub-folders end in `/`); `[]` when there are none.
    #[napi(ts_args_type = "path?: string", ts_return_type = "Promise<string[]>")]
    pub fn list<'env>(&self, env: &'env Env, path: Option<Unknown>) -> Promise<'env> {
        let path: Option<String> = match path {
            Some(p) => take!(env, arg(p, "path", "a string")),
            None => None,
        };
        let c = self.inner.clone();
        spawn(
            env,
            async move { c.list(path.as_deref().unwrap_or("")).await },
            |env, keys| js(env, &keys),
        )
    }

    /// Deletes a secret: KV v2 soft-deletes the latest version. A missing secret is not an error.
    #[napi(ts_args_type = "path: string", ts_return_type = "Promise<void>")]
    pub fn delete<'env>(&self, env: &'env Env, path: Unknown) -> Promise<'env> {
        let path: String = take!(env, path_arg(path));
        let c = self.inner.clone();
        spawn(env, async move { c.delete(&path).await }, |env, ()| {
            null(env)
        })
    }

    /// Soft-deletes the given versions (KV v2).
    #[napi(
        ts_args_type = "path: string, versions: Array<number>",
        ts_return_type = "Promise<void>"
    )]
    pub fn delete_versions<'env>(
        &self,
        env: &'env Env,
        path: Unknown,
        versions: Unknown,
    ) -> Promise<'env> {
        let path: String = take!(env, path_arg(path));
        let versions: Vec<f64> = take!(env, versions_arg(versions));
        let c = self.inner.clone();
        spawn(
            env,
            async move {
                c.delete_versions(&path, &version_list(&versions, "versions")?)
                    .await
            },
            |env, ()| null(env),
        )
    }

    /// Restores soft-deleted versions (KV v2).
    #[napi(
        ts_args_type = "path: string, versions: Array<number>",
        ts_return_type = "Promise<void>"
    )]
    pub fn undelete<'env>(
        &self,
        env: &'env Env,
        path: Unknown,
        versions: Unknown,
    ) -> Promise<'env> {
        let path: String = take!(env, path_arg(path));
        let versions: Vec<f64> = take!(env, versions_arg(versions));
        let c = self.inner.clone();
        spawn(
            env,
            async move {
                c.undelete(&path, &version_list(&versions, "versions")?)
                    .await
            },
            |env, ()| null(env),
        )
    }

    /// Permanently removes the data of the given versions (KV v2).
    #[napi(
        ts_args_type = "path: string, versions: Array<number>",
        ts_return_type = "Promise<void>"
    )]
    pub fn destroy<'env>(&self, env: &'env Env, path: Unknown, versions: Unknown) -> Promise<'env> {
        let path: String = take!(env, path_arg(path));
        let versions: Vec<f64> = take!(env, versions_arg(versions));
        let c = self.inner.clone();
        spawn(
            env,
            async move {
                c.destroy(&path, &version_list(&versions, "versions")?)
                    .await
            },
            |env, ()| null(env),
        )
    }

    /// The key's metadata and version history (KV v2); `null` when it does not exist.
    #[napi(
        ts_args_type = "path: string",
        ts_return_type = "Promise<KeyMetadata | null>"
    )]
    pub fn read_metadata<'env>(&self, env: &'env Env, path: Unknown) -> Promise<'env> {
        let path: String = take!(env, path_arg(path));
        let c = self.inner.clone();
        spawn(
            env,
            async move { c.read_metadata(&path).await },
            |env, m| js(env, &m),
        )
    }

    /// Sets key metadata (KV v2); creates it when absent.
    #[napi(
        ts_args_type = "path: string, metadata: MetadataOptions",
        ts_return_type = "Promise<void>"
    )]
    pub fn write_metadata<'env>(
        &self,
        env: &'env Env,
        path: Unknown,
        metadata: Unknown,
    ) -> Promise<'env> {
        let path: String = take!(env, path_arg(path));
        let metadata: MetadataOptions = take!(env, object(metadata, "metadata"));
        let c = self.inner.clone();
        spawn(
            env,
            async move {
                c.write_metadata(&path, &MetadataSettings::try_from(metadata)?)
                    .await
            },
            |env, ()| null(env),
        )
    }

    /// Merge-patches key metadata (KV v2); the key must exist.
    #[napi(
        ts_args_type = "path: string, metadata: MetadataOptions",
        ts_return_type = "Promise<void>"
    )]
    pub fn patch_metadata<'env>(
        &self,
        env: &'env Env,
        path: Unknown,
        metadata: Unknown,
    ) -> Promise<'env> {
        let path: String = take!(env, path_arg(path));
        let metadata: MetadataOptions = take!(env, object(metadata, "metadata"));
        let c = self.inner.clone();
        spawn(
            env,
            async move {
                c.patch_metadata(&path, &MetadataSettings::try_from(metadata)?)
                    .await
            },
            |env, ()| null(env),
        )
    }

    /// Deletes the key with every version and its metadata (KV v2). Missing is not an error.
    #[napi(ts_args_type = "path: string", ts_return_type = "Promise<void>")]
    pub fn delete_metadata<'env>(&self, env: &'env Env, path: Unknown) -> Promise<'env> {
        let path: String = take!(env, path_arg(path));
        let c = self.inner.clone();
        spawn(
            env,
            async move { c.delete_metadata(&path).await },
            |env, ()| null(env),
        )
    }

    /// The secret's structure without its values (KV v2); `null` when it does not exist.
    #[napi(
        ts_args_type = "path: string, options?: SubkeysOptions | undefined | null",
        ts_return_type = "Promise<Subkeys | null>"
    )]
    pub fn subkeys<'env>(
        &self,
        env: &'env Env,
        path: Unknown,
        options: Option<Unknown>,
    ) -> Promise<'env> {
        let path: String = take!(env, path_arg(path));
        let options: Option<SubkeysOptions> = take!(env, options_arg(options));
        let c = self.inner.clone();
        let (version, depth) = options
            .map(|o| (o.version, o.depth))
            .unwrap_or((None, None));
        spawn(
            env,
            async move {
                let version = version.map(|v| version_number(v, "version")).transpose()?;
                let depth = depth.map(|v| whole_number(v, "depth")).transpose()?;
                c.subkeys(&path, version, depth).await
            },
            |env, s| js(env, &s),
        )
    }

    /// `sys/health`, whatever the node's state (standby, sealed, ...): `status` is the HTTP status.
    #[napi(ts_return_type = "Promise<Health>")]
    pub fn health<'env>(&self, env: &'env Env) -> Promise<'env> {
        let c = self.inner.clone();
        spawn(env, async move { c.health().await }, |env, h| js(env, &h))
    }

    /// `true` when Vault answers, is initialised and unsealed; `false` otherwise. Never rejects.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn health_check<'env>(&self, env: &'env Env) -> Promise<'env> {
        let c = self.inner.clone();
        spawn(
            env,
            async move { Ok::<_, vault_client::VaultError>(c.health_check().await) },
            |env, ok| js(env, &ok),
        )
    }

    /// `sys/seal-status`.
    #[napi(ts_return_type = "Promise<SealStatus>")]
    pub fn seal_status<'env>(&self, env: &'env Env) -> Promise<'env> {
        let c = self.inner.clone();
        spawn(env, async move { c.seal_status().await }, |env, s| {
            js(env, &s)
        })
    }

    /// `{ sealed, initialized }`, as the community client's `getSealStatus()`.
    #[napi(ts_return_type = "Promise<{ sealed: boolean; initialized: boolean }>")]
    pub fn get_seal_status<'env>(&self, env: &'env Env) -> Promise<'env> {
        #[derive(Serialize)]
        struct Short {
            sealed: bool,
            initialized: bool,
        }
        let c = self.inner.clone();
        spawn(env, async move { c.seal_status().await }, |env, s| {
            js(
                env,
                &Short {
                    sealed: s.sealed,
                    initialized: s.initialized,
                },
            )
        })
    }

    /// Renews the token now (`auth/token/renew-self`, by its original TTL); resolves to the new
    /// TTL in seconds. Background renewal does this by itself unless `renew: false`.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn renew_self<'env>(&self, env: &'env Env) -> Promise<'env> {
        let c = self.inner.clone();
        spawn(env, async move { c.renew_self().await }, |env, ttl| {
            js(env, &ttl)
        })
    }

    /// Calls `callback` on token events: `renewed`, `reauthenticated`, `renewal_failed`,
    /// `expired`. The subscription never keeps Node running; `close()` ends it.
    #[napi(ts_args_type = "callback: (event: TokenEvent) => void")]
    pub fn on_token_event(&self, env: Env, callback: Unknown) -> Result<()> {
        let callback: TokenEventCallback =
            function(callback, "callback").map_err(|e| to_js(&env, &e))?;
        self.inner.on_token_event(std::sync::Arc::new(
            move |event: &vault_client::session::TokenEvent| {
                callback.call(
                    TokenEvent::from(event),
                    ThreadsafeFunctionCallMode::NonBlocking,
                );
            },
        ));
        Ok(())
    }

    /// Stops background renewal and drops event subscribers, so nothing of this client keeps
    /// running. Requests still work afterwards.
    #[napi]
    pub fn close(&self) {
        self.inner.close();
    }

    /// `auth/token/lookup-self`, without the token itself (`id` is left out).
    #[napi(ts_return_type = "Promise<TokenInfo>")]
    pub fn lookup_self<'env>(&self, env: &'env Env) -> Promise<'env> {
        let c = self.inner.clone();
        spawn(env, async move { c.lookup_self().await }, |env, t| {
            js(env, &t)
        })
    }

    /// Any other Vault endpoint: `method` (GET, POST, PUT, PATCH, DELETE, LIST) on `/v1/<path>`
    /// (a query string is allowed) with an optional JSON object body. `LIST` is sent as
    /// `GET ?list=true`, which Vault treats the same and proxies pass. Resolves to Vault's whole
    /// answer, or `null` for 204.
    #[napi(
        ts_args_type = "method: string, path: string, body?: Record<string, unknown> | null",
        ts_return_type = "Promise<Record<string, any> | null>"
    )]
    pub fn request<'env>(
        &self,
        env: &'env Env,
        method: Unknown,
        path: Unknown,
        body: Option<Unknown>,
    ) -> Promise<'env> {
        let method: String = take!(env, arg(method, "method", "a string"));
        let path: String = take!(env, path_arg(path));
        let body: Option<Value> = match body {
            Some(b) => take!(env, arg(b, "body", "an object or null")),
            None => None,
        };
        let c = self.inner.clone();
        spawn(
            env,
            async move {
                let body = match body {
                    None | Some(Value::Null) => None,
                    Some(b) => Some(SecretData::try_from_value(b, "body")?),
                };
                c.request(&method, &path, body).await
            },
            |env, answer| match answer {
                Some(a) => crate::json::secret_to_js(env, a.expose_secret()),
                None => null(env),
            },
        )
    }
}
