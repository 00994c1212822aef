//! JS -> Rust input types. Each `#[napi(object)]` is converted at the edge with `TryFrom`, or by a
//! small function, into the core's types; range checks raise `VaultError`s inside the promise.

use std::collections::{BTreeMap, HashMap};

use napi_derive::napi;
use secrecy::SecretString;

use vault_client::auth::{self, AuthFields};
use vault_client::config::FieldNames;
use vault_client::engines::kv2::MetadataSettings;
use vault_client::tls::{FileInput, ServerNameInput, TlsSettings};
use vault_client::ClientOptions;
use vault_client::VaultError;

/// Options of `new VaultClient(options)`. `addr` is required; everything else has a default.
#[napi(object)]
pub struct VaultClientOptions {
    /// Vault's address, `http://` or `https://`, e.g. `"https://vault.example.com:8200"`.
    pub addr: String,
    /// Further nodes of the same HA cluster, tried in order after `addr` when a node cannot
    /// serve (connection refused, sealed, no active node; reads also after a timeout or 5xx).
    /// Default none. See docs/high-availability.md.
    pub addrs: Option<Vec<String>>,
    /// The Vault token. Kept in Rust memory that is wiped on drop; never shown in errors.
    pub token: Option<String>,
    /// Enterprise namespace, sent as `X-Vault-Namespace`.
    pub namespace: Option<String>,
    /// KV mount that paths are relative to. Default `"secret"`.
    pub mount: Option<String>,
    /// KV engine version of the mount: 1 or 2. Default: detected once through
    /// `sys/internal/ui/mounts` and cached.
    pub kv_version: Option<u32>,
    /// Request timeout in milliseconds, including reading the body. Default 60000.
    pub timeout_ms: Option<f64>,
    /// Largest response body accepted, in bytes. Default 33554432 (32 MiB).
    pub max_response_bytes: Option<f64>,
    /// Retries after the first attempt on connection errors, 412, 429 and 5xx except 501.
    /// Default 2 (`VAULT_MAX_RETRIES` in `fromEnv`); 0 turns retrying off.
    pub max_retries: Option<f64>,
    /// Base of the linear, jittered backoff between retries, in milliseconds. Default 1000.
    pub retry_backoff_ms: Option<f64>,
    /// Longest single wait between retries (`Retry-After` included), in milliseconds. Default 30000.
    pub max_retry_wait_ms: Option<f64>,
    /// Follow a 307 to another origin (e.g. an HA active node) and send the token there.
    /// Default false: such a redirect is an error.
    pub redirect_to_other_origin: Option<bool>,
    /// TLS settings for an `https://` address. Default: the system's CA certificates.
    pub tls: Option<TlsOptions>,
    /// An HTTP proxy for every request, e.g. `"http://proxy:3128"`. Default: none (`fromEnv`
    /// reads `VAULT_HTTP_PROXY`, then `HTTPS_PROXY`/`HTTP_PROXY` with `NO_PROXY`).
    pub proxy: Option<String>,
    /// How to get a token other than `token`: AppRole, userpass, JWT, Kubernetes, TLS
    /// certificate or a token file. The client logs in before its first request and again when
    /// Vault says the token is invalid.
    pub auth: Option<AuthOptions>,
    /// Renew the token in the background at about two thirds of its TTL, and log in again when
    /// renewal can no longer extend it. Default true. A fixed non-renewable token is left alone.
    pub renew: Option<bool>,
}

/// A login method. Secrets may be given as values or as files (read at each login, trimmed).
#[napi(object)]
pub struct AuthOptions {
    /// `"token"` (a fixed token: no login), `"token_file"`, `"approle"`, `"userpass"`, `"jwt"`, `"kubernetes"` or `"cert"`.
    #[napi(
        ts_type = "'token' | 'token_file' | 'approle' | 'userpass' | 'jwt' | 'kubernetes' | 'cert'"
    )]
    pub method: String,
    /// Where the method is mounted. Default: the method's name (`approle`, `userpass`, ...).
    pub mount: Option<String>,
    /// token_file: the file Vault Agent writes the token to; re-read when it changes.
    pub token_file: Option<String>,
    /// approle: the role id, or `roleIdFile`.
    pub role_id: Option<String>,
    pub role_id_file: Option<String>,
    /// approle: the secret id, or `secretIdFile` (omit both for roles without `bind_secret_id`).
    pub secret_id: Option<String>,
    pub secret_id_file: Option<String>,
    /// approle: a response-wrapped secret id (the wrapping token), or `wrappedSecretIdFile`;
    /// unwrapped once at the first login after checking that Vault made it at
    /// `auth/<mount>/role/<role>/secret-id` (`role`, the role's name, is required with it).
    /// Single use: a token already unwrapped, expired or made elsewhere is
    /// `WRAPPING_TOKEN_INVALID`.
    pub wrapped_secret_id: Option<String>,
    pub wrapped_secret_id_file: Option<String>,
    /// userpass: the user name.
    pub username: Option<String>,
    /// userpass: the password, or `passwordFile`.
    pub password: Option<String>,
    pub password_file: Option<String>,
    /// jwt and kubernetes: the Vault role (required); cert: the certificate role name (optional);
    /// approle with `wrappedSecretId`: the role's name (required).
    pub role: Option<String>,
    /// jwt: the JWT file (required); kubernetes: default
    /// `/var/run/secrets/kubernetes.io/serviceaccount/token`.
    pub jwt_file: Option<String>,
}

/// `max_response_bytes` -> `maxResponseBytes`: a Rust field as the JS option spells it.
fn camel_case(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut upper = false;
    for c in field.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Names `VaultClientOptions` fields in errors as JS writes them: "option `maxResponseBytes`".
pub struct JsOptionNames;

impl FieldNames for JsOptionNames {
    fn name_of(&self, field: &str) -> String {
        format!("option `{}`", camel_case(field))
    }
}

/// The `auth` option as the core's one login builder reads it.
struct JsAuthFields<'a>(&'a AuthOptions);

impl AuthFields for JsAuthFields<'_> {
    fn get(&self, field: &str) -> Option<String> {
        let a = self.0;
        match field {
            "method" => Some(a.method.clone()),
            "mount" => a.mount.clone(),
            "token_file" => a.token_file.clone(),
            "role_id" => a.role_id.clone(),
            "role_id_file" => a.role_id_file.clone(),
            "secret_id" => a.secret_id.clone(),
            "secret_id_file" => a.secret_id_file.clone(),
            "wrapped_secret_id" => a.wrapped_secret_id.clone(),
            "wrapped_secret_id_file" => a.wrapped_secret_id_file.clone(),
            "username" => a.username.clone(),
            "password" => a.password.clone(),
            "password_file" => a.password_file.clone(),
            "role" => a.role.clone(),
            "jwt_file" => a.jwt_file.clone(),
            _ => None,
        }
    }

    fn name_of(&self, field: &str) -> String {
        format!("option `auth.{}`", camel_case(field))
    }
}

/// TLS settings. Paths are read when the client is built; a bad file throws `INVALID_CONFIG`.
#[napi(object)]
pub struct TlsOptions {
    /// PEM file of CA certificates to trust instead of the system's (as `VAULT_CACERT`).
    pub ca_cert: Option<String>,
    /// Directory of PEM CA certificates to trust instead of the system's (as `VAULT_CAPATH`).
    pub ca_path: Option<String>,
    /// PEM client certificate for mutual TLS (as `VAULT_CLIENT_CERT`); needs `clientKey`.
    pub client_cert: Option<String>,
    /// PEM private key of `clientCert` (as `VAULT_CLIENT_KEY`).
    pub client_key: Option<String>,
    /// Name the server certificate must carry, when the address' host differs (as `VAULT_TLS_SERVER_NAME`).
    pub server_name: Option<String>,
    /// Accept any server certificate (as `VAULT_SKIP_VERIFY`). Logs a warning; development only.
    pub skip_verify: Option<bool>,
}

impl From<TlsOptions> for TlsSettings {
    fn from(o: TlsOptions) -> Self {
        let file = |p: Option<String>, name: &str| {
            p.map(|p| FileInput::new(p, format!("option `tls.{name}`")))
        };
        TlsSettings {
            ca_cert: file(o.ca_cert, "caCert"),
            ca_path: file(o.ca_path, "caPath"),
            extra_ca: None,
            client_cert: file(o.client_cert, "clientCert"),
            client_key: file(o.client_key, "clientKey"),
            server_name: o
                .server_name
                .map(|n| ServerNameInput::new(n, "option `tls.serverName`")),
            skip_verify: o.skip_verify.unwrap_or(false),
        }
    }
}

impl TryFrom<VaultClientOptions> for ClientOptions {
    type Error = VaultError;

    fn try_from(o: VaultClientOptions) -> vault_client::Result<Self> {
        Ok(ClientOptions {
            addr: Some(o.addr),
            addrs: o.addrs,
            token: o.token.map(SecretString::from),
            namespace: o.namespace,
            mount: o.mount,
            kv_version: o.kv_version,
            timeout_ms: o.timeout_ms,
            max_response_bytes: o.max_response_bytes,
            max_retries: o.max_retries,
            retry_backoff_ms: o.retry_backoff_ms,
            max_retry_wait_ms: o.max_retry_wait_ms,
            redirect_to_other_origin: o.redirect_to_other_origin,
            tls: o.tls.map(TlsSettings::from).unwrap_or_default(),
            proxy: o.proxy,
            login: match &o.auth {
                Some(a) => auth::login_from(&JsAuthFields(a))?,
                None => None,
            },
            renew: o.renew,
        })
    }
}

/// Options of `read`.
#[napi(object)]
pub struct ReadOptions {
    /// A KV v2 version number (a positive integer). Default: the current version.
    pub version: Option<f64>,
}

/// Options of `write` and `patch`.
#[napi(object)]
pub struct WriteOptions {
    /// Check-and-set: the version the secret must currently have; `0` means "create only if absent".
    pub cas: Option<f64>,
}

/// Options of `subkeys`.
#[napi(object)]
pub struct SubkeysOptions {
    /// A KV v2 version number. Default: the current version.
    pub version: Option<f64>,
    /// How deep to descend; 0 (default) means no limit.
    pub depth: Option<f64>,
}

/// Key metadata settings for `writeMetadata` and `patchMetadata`.
#[napi(object)]
pub struct MetadataOptions {
    /// Versions kept per key; 0 means the engine default (10).
    pub max_versions: Option<f64>,
    /// Require `cas` on every write of this key.
    pub cas_required: Option<bool>,
    /// Soft-delete versions this long after they are written: `"3h"`, `"30m"`, or seconds as a
    /// string. `"0s"` turns it off.
    pub delete_version_after: Option<String>,
    /// Up to 64 string pairs of non-secret metadata. In `patchMetadata`, a key set to `null`
    /// removes it.
    pub custom_metadata: Option<HashMap<String, Option<String>>>,
}

/// A JS number as a non-negative whole number; `what` names the argument in the error.
pub fn whole_number(value: f64, what: &str) -> vault_client::Result<u64> {
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= 9_007_199_254_740_991.0
    {
        Ok(value as u64)
    } else {
        Err(VaultError::invalid_argument(format!(
            "{what} must be a whole number of 0 or more, got {value}"
        )))
    }
}

/// A JS number as a KV version: a positive integer.
pub fn version_number(value: f64, what: &str) -> vault_client::Result<u64> {
    match whole_number(value, what) {
        Ok(0) | Err(_) => Err(VaultError::invalid_argument(format!(
            "{what} must be a positive integer, got {value}"
        ))),
        Ok(v) => Ok(v),
    }
}

pub fn version_list(values: &[f64], what: &str) -> vault_client::Result<Vec<u64>> {
    if values.is_empty() {
        return Err(VaultError::invalid_argument(format!(
            "{what} must list at least one version"
        )));
    }
    values
        .iter()
        .enumerate()
        .map(|(i, v)| version_number(*v, &format!("{what}[{i}]")))
        .collect()
}

impl TryFrom<MetadataOptions> for MetadataSettings {
    type Error = VaultError;

    fn try_from(o: MetadataOptions) -> vault_client::Result<Self> {
        Ok(MetadataSettings {
            max_versions: o
                .max_versions
                .map(|v| whole_number(v, "maxVersions"))
                .transpose()?,
            cas_required: o.cas_required,
            delete_version_after: o.delete_version_after,
            custom_metadata: o
                .custom_metadata
                .map(|m| m.into_iter().collect::<BTreeMap<_, _>>()),
        })
    }
}
