//! Real files in a temporary HOME, one per test.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use secrecy::ExposeSecret;
use serde_json::{Map, Value};

use crate::credential::{
    fields, Credential, CredentialKind, CredentialSource, CredentialVersion, SecretFields,
    SourceGroup,
};
use crate::openclaw::paths::OpenClawPaths;
use openclaw_vault_test_support::env_of;

/// A temporary HOME, removed on drop.
pub struct TempHome(pub PathBuf);

impl TempHome {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("ocv-files-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempHome(dir)
    }

    /// Paths with only `HOME` set.
    pub fn paths(&self) -> OpenClawPaths {
        self.paths_with(&[])
    }

    pub fn paths_with(&self, extra: &[(&str, &str)]) -> OpenClawPaths {
        let mut env = vec![("HOME", self.0.to_str().unwrap())];
        env.extend_from_slice(extra);
        OpenClawPaths::from_env(&env_of(&env))
    }

    /// Writes `text` at `rest` under the home, mode 0600, creating directories.
    pub fn write(&self, rest: &str, text: &str) -> PathBuf {
        let path = self.0.join(rest);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        path
    }
}

impl Drop for TempHome {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

pub fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

pub fn read_value(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

/// Top-level keys in file order.
pub fn keys(value: &Value) -> Vec<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

pub fn secret<'a>(cred: &'a Credential, field: &str) -> &'a str {
    cred.secrets.get(field).unwrap().expose_secret()
}

/// Refreshed OAuth tokens, as the chain hands them to `put` (built from what `get` returned).
pub fn refreshed(from: &Credential, access: &str, refresh: &str, expires_at: i64) -> Credential {
    let mut cred = from.clone();
    cred.secrets.insert_str(fields::ACCESS_TOKEN, access);
    cred.secrets.insert_str(fields::REFRESH_TOKEN, refresh);
    cred.expires_at = Some(expires_at);
    cred
}

/// An OAuth credential from elsewhere (e.g. Vault), with no metadata.
pub fn oauth(name: &str, access: &str, refresh: &str, expires_at: i64) -> Credential {
    let mut secrets = SecretFields::new();
    secrets.insert_str(fields::ACCESS_TOKEN, access);
    secrets.insert_str(fields::REFRESH_TOKEN, refresh);
    Credential {
        name: name.into(),
        kind: CredentialKind::OAuth,
        source: CredentialSource {
            provider: "vault",
            group: SourceGroup::Vault,
            location: "secret/openclaw/credentials/x".into(),
            file: None,
            layer: None,
        },
        expires_at: Some(expires_at),
        metadata: Map::new(),
        secrets,
        version: CredentialVersion::Vault(1),
        request_id: None,
    }
}

/// Makes `path` look changed to a version check: a different length.
pub fn touch_changed(path: &Path) {
    let mut text = fs::read_to_string(path).unwrap();
    text.push(' ');
    fs::write(path, text).unwrap();
}

/// Asserts an error's code and that none of `secrets` appears in its message.
pub fn assert_error(err: &crate::error::Error, code: &str, needles: &[&str], secrets: &[&str]) {
    assert_eq!(err.code(), code, "{}", err.message);
    for n in needles {
        assert!(err.message.contains(n), "{:?} lacks {n:?}", err.message);
    }
    for s in secrets {
        assert!(!err.message.contains(s), "{:?} leaks {s:?}", err.message);
    }
}
