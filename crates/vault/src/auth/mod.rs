//! Auth methods: how the session gets a token other than a fixed one. Each method is one file
//! with one type implementing [`LoginMethod`] (vaultrs-login's shape): its fields, a check of them,
//! and its login. [`Login`] holds any of them.
//!
//! One builder, [`login_from`], turns settings into a [`Login`] for every caller: it reads named
//! fields through an [`AuthFields`] lookup (environment variables, a config file, JS options),
//! and errors name each field the way that lookup's user wrote it. Adding a method (AWS IAM,
//! which signs its request) is one file and one row of the table below.
//!
//! Secrets given as files are read at each login, so a rotated file is picked up; every file is
//! also read once when the client is built ([`Login::validate`]), so a bad one fails early.
//!
//! ```no_run
//! use vault_client::auth::{AppRole, SecretInput};
//! use vault_client::{ClientConfig, FileInput, Login, VaultClient};
//!
//! fn approle_client() -> vault_client::Result<VaultClient> {
//!     let mut config = ClientConfig::new("https://vault.example.com:8200")?;
//!     let file = |path: &str, from: &str| SecretInput::File(FileInput::new(path, from));
//!     config.login = Some(Login::new(AppRole {
//!         mount: "approle".into(),
//!         role_id: file("/run/secrets/role-id", "the role id file"),
//!         secret_id: Some(file("/run/secrets/secret-id", "the secret id file")),
//!         wrapped_secret_id: None,
//!     }));
//!     VaultClient::new(config) // reads both files now: a bad one fails here
//! }
//! ```

mod approle;
mod cert;
mod jwt;
mod kubernetes;
mod token_file;
mod userpass;

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

pub use approle::{AppRole, WrappedSecretId};
pub use cert::Cert;
pub use jwt::Jwt;
pub use kubernetes::{Kubernetes, KUBERNETES_JWT_PATH};
pub use token_file::TokenFile;
pub use userpass::UserPass;

use crate::error::{Result, VaultError};
use crate::http::{HttpClient, RequestBody};
use crate::path::ApiPath;
use crate::tls::FileInput;

/// One way to get a token. Implementations hold their settings, check them without a request,
/// and log in with one request sent without a token.
pub trait LoginMethod: fmt::Debug + Send + Sync {
    /// The method's name, as the `method` field spells it (`"approle"`).
    fn name(&self) -> &'static str;

    /// Reads every file and checks every value, so configuration errors surface when the client
    /// is built rather than at the first request.
    fn validate(&self) -> Result<()>;

    /// Logs in. `http` carries no token; the method sends its own credentials.
    fn login<'a>(&'a self, http: &'a HttpClient) -> BoxFuture<'a, Result<IssuedToken>>;

    /// A file the session re-reads before a request when it has changed (a token file), if any.
    fn watched_file(&self) -> Option<&Path> {
        None
    }

    /// A secret this method logs in with that stays the same from one login to the next (an
    /// AppRole secret id, a password, the content of a token file), read now; for callers that
    /// derive a local encryption key from the auth material the process holds anyway. `None`
    /// (the default) for methods whose credentials rotate on their own (JWT and Kubernetes
    /// service-account tokens) or live outside the process (a TLS client certificate's key).
    fn stable_secret(&self) -> Option<Result<SecretString>> {
        None
    }
}

/// A configured login method. Cheap to clone.
#[derive(Clone)]
pub struct Login(Arc<dyn LoginMethod>);

impl Login {
    /// Wraps a method.
    pub fn new(method: impl LoginMethod + 'static) -> Self {
        Login(Arc::new(method))
    }

    /// A token read from a file (Vault Agent's sink), re-read when it changes.
    pub fn token_file(file: FileInput) -> Self {
        Login::new(TokenFile { file })
    }

    /// The method's name (`"approle"`, `"token_file"`, ...).
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// See [`LoginMethod::validate`].
    pub fn validate(&self) -> Result<()> {
        self.0.validate()
    }

    /// See [`LoginMethod::login`].
    pub async fn login(&self, http: &HttpClient) -> Result<IssuedToken> {
        self.0.login(http).await
    }

    /// See [`LoginMethod::watched_file`].
    pub fn watched_file(&self) -> Option<&Path> {
        self.0.watched_file()
    }

    /// See [`LoginMethod::stable_secret`].
    pub fn stable_secret(&self) -> Option<Result<SecretString>> {
        self.0.stable_secret()
    }
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a login returned; the TTL fields feed renewal.
#[derive(Debug)]
pub struct IssuedToken {
    /// The new token.
    pub token: SecretString,
    /// Its TTL in seconds; 0 when the login did not say (a token file).
    pub lease_duration: u64,
    /// Whether `renew-self` can extend it.
    pub renewable: bool,
}

/// A secret given as a value or as a file to read (trimmed; must not be empty).
#[derive(Debug, Clone)]
pub enum SecretInput {
    /// The secret itself, and the variable or option that gave it.
    Value {
        /// The secret.
        value: SecretString,
        /// Where it was set, for errors (never the value).
        from: String,
    },
    /// A file holding the secret, read at each use.
    File(FileInput),
}

impl SecretInput {
    /// The secret, trimmed: the value, or the file's content now.
    pub fn read(&self) -> Result<SecretString> {
        match self {
            SecretInput::Value { value, from } => {
                if value.expose_secret().trim().is_empty() {
                    return Err(VaultError::invalid_config(format!("{from} is empty")));
                }
                Ok(SecretString::from(value.expose_secret().trim().to_string()))
            }
            SecretInput::File(file) => read_secret_file(file),
        }
    }
}

/// Reads a file holding a secret (a token, a JWT, a secret id): trimmed, must not be empty.
pub fn read_secret_file(file: &FileInput) -> Result<SecretString> {
    let text = std::fs::read_to_string(&file.path)
        .map_err(|e| file.problem(format!("cannot be read: {e}")))?;
    let text = SecretString::from(text);
    let trimmed = text.expose_secret().trim();
    if trimmed.is_empty() {
        return Err(file.problem("is empty"));
    }
    Ok(SecretString::from(trimmed.to_string()))
}

/// Where [`login_from`] reads a login's settings: environment variables, a config file's
/// object, JS options. Fields are named in snake case: `method`, `mount`, `role`, `role_id`,
/// `role_id_file`, `secret_id`, `secret_id_file`, `wrapped_secret_id`, `wrapped_secret_id_file`, `username`, `password`, `password_file`,
/// `jwt_file`, `token_file`, `name`.
pub trait AuthFields {
    /// The value of `field`, or `None` when it is not given.
    fn get(&self, field: &str) -> Option<String>;

    /// How the user wrote `field`, for errors and for the files it names:
    /// `APP_VAULT_ROLE`, "option `auth.role`", "`vault.auth.role` in config.json".
    fn name_of(&self, field: &str) -> String;
}

/// One row of the method table: a name and how to build the method from fields.
struct MethodEntry {
    name: &'static str,
    /// `None` for `token`: a fixed token needs no login.
    build: Option<fn(&FieldReader<'_>) -> Result<Login>>,
}

const METHODS: &[MethodEntry] = &[
    MethodEntry {
        name: "token",
        build: None,
    },
    MethodEntry {
        name: "token_file",
        build: Some(|f| TokenFile::from_fields(f).map(Login::new)),
    },
    MethodEntry {
        name: "approle",
        build: Some(|f| AppRole::from_fields(f).map(Login::new)),
    },
    MethodEntry {
        name: "userpass",
        build: Some(|f| UserPass::from_fields(f).map(Login::new)),
    },
    MethodEntry {
        name: "jwt",
        build: Some(|f| Jwt::from_fields(f).map(Login::new)),
    },
    MethodEntry {
        name: "kubernetes",
        build: Some(|f| Kubernetes::from_fields(f).map(Login::new)),
    },
    MethodEntry {
        name: "cert",
        build: Some(|f| Cert::from_fields(f).map(Login::new)),
    },
];

/// Every method name [`login_from`] accepts, `token` (no login) first.
pub fn method_names() -> Vec<&'static str> {
    METHODS.iter().map(|m| m.name).collect()
}

/// The login the `method` field asks for, built from the other fields. `Ok(None)` when no method
/// is given or it is `token` (a fixed token needs no login). A missing field, an unknown method or
/// a bad mount is `INVALID_CONFIG` naming the field as the lookup's user wrote it. Files are not
/// read here; [`Login::validate`] reads them.
pub fn login_from(fields: &dyn AuthFields) -> Result<Option<Login>> {
    let Some(method) = fields.get("method") else {
        return Ok(None);
    };
    let method = method.trim().to_ascii_lowercase();
    let Some(entry) = METHODS.iter().find(|m| m.name == method) else {
        // Never the value: a token pasted into the wrong variable must not reach the message.
        return Err(VaultError::invalid_config(format!(
            "{} must be one of {}",
            fields.name_of("method"),
            method_names().join(", ")
        )));
    };
    let Some(build) = entry.build else {
        return Ok(None);
    };
    build(&FieldReader {
        fields,
        method: entry.name,
    })
    .map(Some)
}

/// Reads one method's fields, with errors that name them.
struct FieldReader<'a> {
    fields: &'a dyn AuthFields,
    method: &'static str,
}

impl FieldReader<'_> {
    fn text(&self, field: &str) -> Option<String> {
        self.fields.get(field)
    }

    /// "the approle login needs A or B".
    fn needs(&self, fields: &[&str]) -> VaultError {
        let names: Vec<String> = fields.iter().map(|f| self.fields.name_of(f)).collect();
        VaultError::invalid_config(format!(
            "the {} login needs {}",
            self.method,
            names.join(" or ")
        ))
    }

    /// A plain (not secret) value that must be given and not blank.
    fn required(&self, field: &str) -> Result<String> {
        let value = self.text(field).ok_or_else(|| self.needs(&[field]))?;
        if value.trim().is_empty() {
            return Err(VaultError::invalid_config(format!(
                "{} is empty",
                self.fields.name_of(field)
            )));
        }
        Ok(value)
    }

    /// A secret given as `value_field`, else as a file in `file_field`.
    fn secret(&self, value_field: &str, file_field: &str) -> Option<SecretInput> {
        match self.text(value_field) {
            Some(value) => Some(SecretInput::Value {
                value: SecretString::from(value),
                from: self.fields.name_of(value_field),
            }),
            None => self.file(file_field).map(SecretInput::File),
        }
    }

    fn required_secret(&self, value_field: &str, file_field: &str) -> Result<SecretInput> {
        self.secret(value_field, file_field)
            .ok_or_else(|| self.needs(&[value_field, file_field]))
    }

    fn file(&self, field: &str) -> Option<FileInput> {
        self.text(field)
            .map(|path| FileInput::new(path, self.fields.name_of(field)))
    }

    fn required_file(&self, field: &str) -> Result<FileInput> {
        self.file(field).ok_or_else(|| self.needs(&[field]))
    }

    /// Where the method is mounted: the `mount` field, else the method's name.
    fn mount(&self) -> Result<String> {
        match self.text("mount") {
            None => Ok(self.method.to_string()),
            Some(mount) => {
                ApiPath::parse(&mount).map_err(|e| {
                    VaultError::invalid_config(format!(
                        "{}: {}",
                        self.fields.name_of("mount"),
                        e.message
                    ))
                })?;
                Ok(mount)
            }
        }
    }
}

/// `auth/<mount>/login`, the mount checked and percent-encoded.
fn login_path(mount: &str) -> Result<String> {
    let mount = ApiPath::parse(mount)
        .map_err(|e| VaultError::invalid_config(format!("auth mount: {}", e.message)))?;
    Ok(format!("{}/login", mount.under("auth")))
}

fn check_mount(mount: &str) -> Result<()> {
    login_path(mount).map(drop)
}

fn check_not_blank(value: &str, what: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(VaultError::invalid_config(format!("{what} is empty")));
    }
    Ok(())
}

#[derive(Deserialize)]
struct AuthBlock {
    client_token: SecretString,
    #[serde(default)]
    lease_duration: u64,
    #[serde(default)]
    renewable: bool,
}

#[derive(Deserialize)]
struct LoginAnswer {
    auth: Option<AuthBlock>,
}

/// `POST /v1/<api_path>` with `body` and no token, as every login endpoint takes it; the answer's
/// `auth` block is the new token. A refusal is the classified error, its message prefixed with
/// "`<method>` login failed".
pub async fn post_login(
    http: &HttpClient,
    method: &str,
    api_path: &str,
    body: RequestBody,
) -> Result<IssuedToken> {
    let request = http.request(Method::POST, api_path, &[], Some(body))?;
    let resp = http.send(&request, None).await?;
    let resp = resp.success().map_err(|mut e| {
        e.message = format!("{method} login failed: {}", e.message);
        e
    })?;
    let answer: LoginAnswer = resp.json()?;
    let auth = answer.auth.ok_or_else(|| {
        VaultError::bad_response(format!("Vault's answer to {} has no auth block", resp.path))
            .with_path(resp.path.clone())
    })?;
    tracing::debug!(
        method,
        lease_duration = auth.lease_duration,
        renewable = auth.renewable,
        "logged in to Vault"
    );
    Ok(IssuedToken {
        token: auth.client_token,
        lease_duration: auth.lease_duration,
        renewable: auth.renewable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_of_login_answers_never_quote_the_input() {
        use crate::http::parse_property::assert_hides_input;
        assert_hides_input(
            serde_json::json!({"data": null, "auth": {"client_token": "hvs.x", "accessor": "a",
                "policies": ["default"], "lease_duration": 60, "renewable": true}}),
            |r| r.json::<LoginAnswer>(),
        );
    }
    use std::collections::HashMap;

    /// Fields named as Rust writes them, for tests.
    struct Map(HashMap<&'static str, &'static str>);

    impl AuthFields for Map {
        fn get(&self, field: &str) -> Option<String> {
            self.0.get(field).map(|v| v.to_string())
        }
        fn name_of(&self, field: &str) -> String {
            format!("`auth.{field}`")
        }
    }

    fn build(pairs: &[(&'static str, &'static str)]) -> Result<Option<Login>> {
        login_from(&Map(pairs.iter().copied().collect()))
    }

    #[test]
    fn one_table_for_every_method() {
        assert!(build(&[]).unwrap().is_none());
        assert!(build(&[("method", "token")]).unwrap().is_none());
        assert_eq!(
            method_names(),
            [
                "token",
                "token_file",
                "approle",
                "userpass",
                "jwt",
                "kubernetes",
                "cert"
            ]
        );
        let l = build(&[("method", " AppRole "), ("role_id", "r"), ("mount", "ar2")])
            .unwrap()
            .unwrap();
        assert_eq!(l.name(), "approle");
        assert!(format!("{l:?}").contains("ar2"));
        let k = build(&[("method", "kubernetes"), ("role", "gw")])
            .unwrap()
            .unwrap();
        assert!(format!("{k:?}").contains(KUBERNETES_JWT_PATH));
        let c = build(&[("method", "cert"), ("role", "web")])
            .unwrap()
            .unwrap();
        assert!(format!("{c:?}").contains("web"), "cert falls back to role");
        let t = build(&[("method", "token_file"), ("token_file", "/run/t")])
            .unwrap()
            .unwrap();
        assert_eq!(t.watched_file(), Some(Path::new("/run/t")));
    }

    #[test]
    fn errors_name_the_fields() {
        let cases: [(&[(&str, &str)], &str); 7] = [
            (&[("method", "magic")], "`auth.method`"),
            (
                &[("method", "approle")],
                "`auth.role_id` or `auth.role_id_file`",
            ),
            (&[("method", "jwt"), ("jwt_file", "/x")], "`auth.role`"),
            (&[("method", "jwt"), ("role", "r")], "`auth.jwt_file`"),
            (&[("method", "userpass")], "`auth.username`"),
            (&[("method", "token_file")], "`auth.token_file`"),
            (
                &[("method", "approle"), ("role_id", "r"), ("mount", "a/../b")],
                "`auth.mount`",
            ),
        ];
        for (pairs, name) in cases {
            let err = build(pairs).unwrap_err();
            assert_eq!(err.code(), "INVALID_CONFIG");
            assert!(err.message.contains(name), "{name}: {}", err.message);
        }
        // Neither a token pasted into the method field nor a typo is quoted back.
        for value in ["hvs.CAAAAAFAKE-token-pasted-here.abc", "apprleFAKE"] {
            let err = build(&[("method", value)]).unwrap_err();
            assert_eq!(err.code(), "INVALID_CONFIG");
            assert!(!err.message.contains("FAKE"), "{}", err.message);
            assert!(err.message.contains("must be one of"), "{}", err.message);
        }
        let blank = build(&[("method", "jwt"), ("role", " "), ("jwt_file", "/x")]).unwrap_err();
        assert!(
            blank.message.contains("`auth.role` is empty"),
            "{}",
            blank.message
        );
    }

    #[test]
    fn validation_reads_files_and_names_them() {
        let dir = std::env::temp_dir().join(format!("ocv-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("empty"), "  \n").unwrap();
        let empty = Login::new(AppRole {
            mount: "approle".into(),
            role_id: SecretInput::File(FileInput::new(
                dir.join("empty"),
                "option `auth.roleIdFile`",
            )),
            secret_id: None,
            wrapped_secret_id: None,
        });
        let err = empty.validate().unwrap_err();
        assert!(
            err.message.contains("auth.roleIdFile") && err.message.contains("empty"),
            "{}",
            err.message
        );
        let value = Login::new(AppRole {
            mount: "approle".into(),
            role_id: SecretInput::Value {
                value: SecretString::from(""),
                from: "option `auth.roleId`".into(),
            },
            secret_id: None,
            wrapped_secret_id: None,
        });
        assert!(value
            .validate()
            .unwrap_err()
            .message
            .contains("auth.roleId"));
        let jwt = Login::new(Jwt {
            mount: "jwt".into(),
            role: "r".into(),
            jwt: FileInput::new("/nonexistent/jwt", "JWT_FILE"),
        });
        assert!(jwt.validate().unwrap_err().message.contains("JWT_FILE"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_wrapped_secret_id_needs_the_role_and_excludes_a_plain_one() {
        let ok = build(&[
            ("method", "approle"),
            ("role_id", "r"),
            ("wrapped_secret_id", "hvs.FAKEwrap"),
            ("role", "gw1"),
        ])
        .unwrap()
        .unwrap();
        let shown = format!("{ok:?}");
        assert!(
            shown.contains("gw1") && !shown.contains("FAKEwrap"),
            "{shown}"
        );
        let err = build(&[
            ("method", "approle"),
            ("role_id", "r"),
            ("wrapped_secret_id_file", "/run/w"),
        ])
        .unwrap_err();
        assert!(err.message.contains("`auth.role`"), "{}", err.message);
        let err = build(&[
            ("method", "approle"),
            ("role_id", "r"),
            ("role", "gw1"),
            ("secret_id", "s"),
            ("wrapped_secret_id", "hvs.FAKEwrap"),
        ])
        .unwrap_err();
        assert_eq!(err.code(), "INVALID_CONFIG");
        assert!(
            err.message
                .contains("`auth.secret_id` and `auth.wrapped_secret_id`")
                && !err.message.contains("FAKE"),
            "{}",
            err.message
        );
    }

    #[test]
    fn login_paths_are_encoded() {
        assert_eq!(login_path("approle").unwrap(), "auth/approle/login");
        assert_eq!(login_path("/team a/").unwrap(), "auth/team%20a/login");
        assert!(login_path("a/../b").is_err());
    }
}
