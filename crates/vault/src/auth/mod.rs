//! Auth methods: how the client gets its token. A static token needs nothing here; every other
//! method is a [`Login`] the transport performs before the first request and again when Vault says
//! the token is invalid. Secrets from files are read when needed, so a rotated file is picked up.

use std::path::Path;

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::error::{Result, VaultError};
use crate::http::{HttpClient, RequestBody};
use crate::path::ApiPath;
use crate::tls::FileInput;

/// Kubernetes' service-account token, as OpenClaw's resolver defaults to.
pub const KUBERNETES_JWT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/// A secret given as a value or as a file to read (trimmed; must not be empty).
#[derive(Debug, Clone)]
pub enum SecretInput {
    Value { value: SecretString, from: String },
    File(FileInput),
}

impl PartialEq for SecretInput {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (
                SecretInput::Value { value: a, from: fa },
                SecretInput::Value { value: b, from: fb },
            ) => a.expose_secret() == b.expose_secret() && fa == fb,
            (SecretInput::File(a), SecretInput::File(b)) => a == b,
            _ => false,
        }
    }
}

impl SecretInput {
    pub fn read(&self) -> Result<SecretString> {
        match self {
            SecretInput::Value { value, from } => {
                if value.expose_secret().trim().is_empty() {
                    return Err(VaultError::invalid_config(format!("{from} is empty")));
                }
                Ok(SecretString::from(value.expose_secret().trim().to_string()))
            }
            SecretInput::File(source) => read_secret_file(source),
        }
    }
}

fn read_secret_file(source: &FileInput) -> Result<SecretString> {
    let text = std::fs::read_to_string(&source.path)
        .map_err(|e| source.problem(format!("cannot be read: {e}")))?;
    let text = SecretString::from(text);
    let trimmed = text.expose_secret().trim();
    if trimmed.is_empty() {
        return Err(source.problem("is empty"));
    }
    Ok(SecretString::from(trimmed.to_string()))
}

/// How to get a token other than a fixed one.
#[derive(Debug, Clone, PartialEq)]
pub enum Login {
    /// A file holding the token (Vault Agent's sink); re-read when it changes.
    TokenFile(FileInput),
    AppRole {
        mount: String,
        role_id: SecretInput,
        secret_id: Option<SecretInput>,
    },
    UserPass {
        mount: String,
        username: String,
        password: SecretInput,
    },
    /// JWT/OIDC auth with a JWT from a file.
    Jwt {
        mount: String,
        role: String,
        jwt: FileInput,
    },
    /// Kubernetes auth with the service-account token file.
    Kubernetes {
        mount: String,
        role: String,
        jwt: FileInput,
    },
    /// TLS certificate auth: the client certificate of the TLS settings is the credential.
    Cert { mount: String, name: Option<String> },
}

/// What a login returned; the TTL fields feed renewal.
#[derive(Debug)]
pub struct IssuedToken {
    pub token: SecretString,
    pub lease_duration: u64,
    pub renewable: bool,
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
pub(crate) struct LoginAnswer {
    auth: Option<AuthBlock>,
}

impl LoginAnswer {
    pub(crate) fn into_token(self, path: &str) -> Result<IssuedToken> {
        let auth = self.auth.ok_or_else(|| {
            VaultError::bad_response(format!("Vault's answer to {path} has no auth block"))
                .with_path(path)
        })?;
        Ok(IssuedToken {
            token: auth.client_token,
            lease_duration: auth.lease_duration,
            renewable: auth.renewable,
        })
    }
}

#[derive(Serialize)]
struct RoleJwt<'a> {
    role: &'a str,
    jwt: &'a str,
}

impl Login {
    /// The method's name as in `OPENCLAW_VAULT_AUTH_METHOD`.
    pub fn name(&self) -> &'static str {
        match self {
            Login::TokenFile(_) => "token_file",
            Login::AppRole { .. } => "approle",
            Login::UserPass { .. } => "userpass",
            Login::Jwt { .. } => "jwt",
            Login::Kubernetes { .. } => "kubernetes",
            Login::Cert { .. } => "cert",
        }
    }

    /// Reads every file and checks every value, so configuration errors surface when the client
    /// is built rather than at the first request.
    pub fn validate(&self) -> Result<()> {
        match self {
            Login::TokenFile(source) => read_secret_file(source).map(drop),
            Login::AppRole {
                role_id,
                secret_id,
                mount,
            } => {
                check_mount(mount)?;
                role_id.read()?;
                secret_id
                    .as_ref()
                    .map(SecretInput::read)
                    .transpose()
                    .map(drop)
            }
            Login::UserPass {
                mount,
                username,
                password,
            } => {
                check_mount(mount)?;
                if username.trim().is_empty() {
                    return Err(VaultError::invalid_config(
                        "the userpass user name is empty",
                    ));
                }
                password.read().map(drop)
            }
            Login::Jwt { mount, role, jwt } | Login::Kubernetes { mount, role, jwt } => {
                check_mount(mount)?;
                if role.trim().is_empty() {
                    return Err(VaultError::invalid_config(format!(
                        "{} login needs a role (OPENCLAW_VAULT_AUTH_ROLE / auth.role)",
                        self.name()
                    )));
                }
                read_secret_file(jwt).map(drop)
            }
            Login::Cert { mount, .. } => check_mount(mount),
        }
    }

    /// The login request: API path and JSON body (secrets serialised straight into the body).
    /// `None` for a token file, which needs no request.
    pub fn request(&self) -> Result<Option<(String, crate::secret::SecretData)>> {
        use serde_json::json;
        let req = match self {
            Login::TokenFile(_) => return Ok(None),
            Login::AppRole {
                mount,
                role_id,
                secret_id,
            } => {
                let role_id = role_id.read()?;
                let mut body = json!({ "role_id": role_id.expose_secret() });
                if let Some(s) = secret_id {
                    body["secret_id"] = json!(s.read()?.expose_secret());
                }
                (format!("auth/{mount}/login"), body)
            }
            Login::UserPass {
                mount,
                username,
                password,
            } => {
                let user = ApiPath::parse(username).map_err(|e| {
                    VaultError::invalid_config(format!("userpass user name: {}", e.message))
                })?;
                (
                    format!("auth/{mount}/login/{}", user.encoded()),
                    json!({ "password": password.read()?.expose_secret() }),
                )
            }
            Login::Jwt { mount, role, jwt } | Login::Kubernetes { mount, role, jwt } => {
                let token = read_secret_file(jwt)?;
                (
                    format!("auth/{mount}/login"),
                    serde_json::to_value(RoleJwt {
                        role,
                        jwt: token.expose_secret(),
                    })
                    .unwrap_or_default(),
                )
            }
            Login::Cert { mount, name } => {
                let body = match name {
                    Some(n) => json!({ "name": n }),
                    None => json!({}),
                };
                (format!("auth/{mount}/login"), body)
            }
        };
        let (path, body) = req;
        Ok(Some((
            path,
            crate::secret::SecretData::try_from_value(body, "login body")?,
        )))
    }
}

fn check_mount(mount: &str) -> Result<()> {
    ApiPath::parse(mount)
        .map(drop)
        .map_err(|e| VaultError::invalid_config(format!("auth mount: {}", e.message)))
}

impl Login {
    /// The file the session re-reads when it changes (a token file), if any.
    pub fn watched_file(&self) -> Option<&Path> {
        match self {
            Login::TokenFile(source) => Some(&source.path),
            _ => None,
        }
    }

    /// Logs in: reads the token file, or sends the login request (without a token).
    pub async fn login(&self, http: &HttpClient) -> Result<IssuedToken> {
        if let Login::TokenFile(source) = self {
            return Ok(IssuedToken {
                token: read_secret_file(source)?,
                lease_duration: 0,
                renewable: false,
            });
        }
        let Some((api_path, body)) = self.request()? else {
            return Err(VaultError::invalid_config("login method sends no request"));
        };
        let body = RequestBody::json(body.expose_secret())?;
        let request = http.request(Method::POST, &api_path, &[], Some(body))?;
        let resp = http.send(&request, None).await?;
        let resp = resp.success().map_err(|mut e| {
            e.message = format!("{} login failed: {}", self.name(), e.message);
            e
        })?;
        let answer: LoginAnswer = resp.json()?;
        let issued = answer.into_token(&resp.path)?;
        tracing::debug!(
            method = self.name(),
            lease_duration = issued.lease_duration,
            renewable = issued.renewable,
            "logged in to Vault"
        );
        Ok(issued)
    }
}

/// The auth settings from OpenClaw's variables (compatible with its bundled resolver) plus
/// `VAULT_TOKEN_FILE` and the AppRole and userpass variables this package adds.
pub fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Option<Login>> {
    let method = get("OPENCLAW_VAULT_AUTH_METHOD").map(|m| m.trim().to_ascii_lowercase());
    let method = match method.as_deref() {
        None | Some("") => {
            // OpenClaw's resolver: a token file is used when VAULT_TOKEN is not set.
            return Ok(match (get("VAULT_TOKEN"), get("VAULT_TOKEN_FILE")) {
                (None, Some(file)) => {
                    Some(Login::TokenFile(FileInput::new(file, "VAULT_TOKEN_FILE")))
                }
                _ => None,
            });
        }
        Some(m) => m.to_string(),
    };
    let mount =
        |default: &str| get("OPENCLAW_VAULT_AUTH_MOUNT").unwrap_or_else(|| default.to_string());
    let secret = |value_var: &str, file_var: &str| -> Option<SecretInput> {
        match (get(value_var), get(file_var)) {
            (Some(v), _) => Some(SecretInput::Value {
                value: SecretString::from(v),
                from: value_var.to_string(),
            }),
            (None, Some(f)) => Some(SecretInput::File(FileInput::new(f, file_var))),
            (None, None) => None,
        }
    };
    let required = |what: Option<SecretInput>, value_var: &str, file_var: &str| {
        what.ok_or_else(|| {
            VaultError::invalid_config(format!(
                "OPENCLAW_VAULT_AUTH_METHOD={method} needs {value_var} or {file_var}"
            ))
        })
    };
    let role = || {
        get("OPENCLAW_VAULT_AUTH_ROLE").ok_or_else(|| {
            VaultError::invalid_config(format!(
                "OPENCLAW_VAULT_AUTH_METHOD={method} needs OPENCLAW_VAULT_AUTH_ROLE"
            ))
        })
    };
    let login = match method.as_str() {
        "token" => return Ok(None),
        "token_file" => Login::TokenFile(FileInput::new(
            get("VAULT_TOKEN_FILE").ok_or_else(|| {
                VaultError::invalid_config("OPENCLAW_VAULT_AUTH_METHOD=token_file needs VAULT_TOKEN_FILE")
            })?,
            "VAULT_TOKEN_FILE",
        )),
        "approle" => Login::AppRole {
            mount: mount("approle"),
            role_id: required(
                secret("OPENCLAW_VAULT_APPROLE_ROLE_ID", "OPENCLAW_VAULT_APPROLE_ROLE_ID_FILE"),
                "OPENCLAW_VAULT_APPROLE_ROLE_ID",
                "OPENCLAW_VAULT_APPROLE_ROLE_ID_FILE",
            )?,
            secret_id: secret("OPENCLAW_VAULT_APPROLE_SECRET_ID", "OPENCLAW_VAULT_APPROLE_SECRET_ID_FILE"),
        },
        "userpass" => Login::UserPass {
            mount: mount("userpass"),
            username: get("OPENCLAW_VAULT_USERNAME").ok_or_else(|| {
                VaultError::invalid_config("OPENCLAW_VAULT_AUTH_METHOD=userpass needs OPENCLAW_VAULT_USERNAME")
            })?,
            password: required(
                secret("OPENCLAW_VAULT_PASSWORD", "OPENCLAW_VAULT_PASSWORD_FILE"),
                "OPENCLAW_VAULT_PASSWORD",
                "OPENCLAW_VAULT_PASSWORD_FILE",
            )?,
        },
        "jwt" => Login::Jwt {
            mount: mount("jwt"),
            role: role()?,
            jwt: FileInput::new(
                get("OPENCLAW_VAULT_JWT_FILE").ok_or_else(|| {
                    VaultError::invalid_config("OPENCLAW_VAULT_AUTH_METHOD=jwt needs OPENCLAW_VAULT_JWT_FILE")
                })?,
                "OPENCLAW_VAULT_JWT_FILE",
            ),
        },
        "kubernetes" => Login::Kubernetes {
            mount: mount("kubernetes"),
            role: role()?,
            jwt: FileInput::new(
                get("OPENCLAW_VAULT_JWT_FILE").unwrap_or_else(|| KUBERNETES_JWT_PATH.to_string()),
                "OPENCLAW_VAULT_JWT_FILE",
            ),
        },
        "cert" => Login::Cert { mount: mount("cert"), name: get("OPENCLAW_VAULT_AUTH_ROLE") },
        other => {
            return Err(VaultError::invalid_config(format!(
                "OPENCLAW_VAULT_AUTH_METHOD must be one of token, token_file, approle, userpass, jwt, kubernetes, cert; got \"{other}\""
            )))
        }
    };
    Ok(Some(login))
}

#[cfg(test)]
mod tests {
    use super::*;
    use openclaw_vault_test_support::env_of as env;

    #[test]
    fn methods_from_env() {
        let l = from_env(&env(&[
            ("OPENCLAW_VAULT_AUTH_METHOD", "approle"),
            ("OPENCLAW_VAULT_APPROLE_ROLE_ID", "r"),
            ("OPENCLAW_VAULT_AUTH_MOUNT", "ar2"),
        ]))
        .unwrap()
        .unwrap();
        assert!(matches!(&l, Login::AppRole { mount, secret_id: None, .. } if mount == "ar2"));
        let k = from_env(&env(&[
            ("OPENCLAW_VAULT_AUTH_METHOD", "kubernetes"),
            ("OPENCLAW_VAULT_AUTH_ROLE", "gw"),
        ]))
        .unwrap()
        .unwrap();
        assert!(
            matches!(&k, Login::Kubernetes { jwt, mount, .. } if jwt.path == std::path::Path::new(KUBERNETES_JWT_PATH) && mount == "kubernetes")
        );
        let tf = from_env(&env(&[("VAULT_TOKEN_FILE", "/run/token")]))
            .unwrap()
            .unwrap();
        assert_eq!(tf.name(), "token_file");
        assert!(from_env(&env(&[
            ("VAULT_TOKEN", "t"),
            ("VAULT_TOKEN_FILE", "/run/token")
        ]))
        .unwrap()
        .is_none());
    }

    #[test]
    fn env_errors_name_the_variable() {
        let cases: [(&[(&str, &str)], &str); 5] = [
            (
                &[("OPENCLAW_VAULT_AUTH_METHOD", "magic")],
                "OPENCLAW_VAULT_AUTH_METHOD",
            ),
            (
                &[("OPENCLAW_VAULT_AUTH_METHOD", "approle")],
                "OPENCLAW_VAULT_APPROLE_ROLE_ID",
            ),
            (
                &[
                    ("OPENCLAW_VAULT_AUTH_METHOD", "jwt"),
                    ("OPENCLAW_VAULT_JWT_FILE", "/x"),
                ],
                "OPENCLAW_VAULT_AUTH_ROLE",
            ),
            (
                &[("OPENCLAW_VAULT_AUTH_METHOD", "userpass")],
                "OPENCLAW_VAULT_USERNAME",
            ),
            (
                &[("OPENCLAW_VAULT_AUTH_METHOD", "token_file")],
                "VAULT_TOKEN_FILE",
            ),
        ];
        for (pairs, var) in cases {
            let err = from_env(&env(pairs)).unwrap_err();
            assert_eq!(err.code(), "INVALID_CONFIG");
            assert!(err.message.contains(var), "{var}: {}", err.message);
        }
    }

    #[test]
    fn validation_reads_files_and_names_them() {
        let dir = std::env::temp_dir().join(format!("ocv-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("empty"), "  \n").unwrap();
        let empty = Login::AppRole {
            mount: "approle".into(),
            role_id: SecretInput::File(FileInput::new(
                dir.join("empty"),
                "option `auth.roleIdFile`",
            )),
            secret_id: None,
        };
        let err = empty.validate().unwrap_err();
        assert!(
            err.message.contains("auth.roleIdFile") && err.message.contains("empty"),
            "{}",
            err.message
        );
        let value = Login::AppRole {
            mount: "approle".into(),
            role_id: SecretInput::Value {
                value: SecretString::from(""),
                from: "option `auth.roleId`".into(),
            },
            secret_id: None,
        };
        assert!(value
            .validate()
            .unwrap_err()
            .message
            .contains("auth.roleId"));
        let jwt = Login::Jwt {
            mount: "jwt".into(),
            role: "r".into(),
            jwt: FileInput::new("/nonexistent/jwt", "OPENCLAW_VAULT_JWT_FILE"),
        };
        assert!(jwt
            .validate()
            .unwrap_err()
            .message
            .contains("OPENCLAW_VAULT_JWT_FILE"));
    }
}
