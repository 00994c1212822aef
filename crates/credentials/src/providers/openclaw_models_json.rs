//! Agents' generated `models.json`, read-only: `<stateDir>/agents/<agentId>/agent/models.json`.
//!
//! OpenClaw materialises each agent's model providers there (`ensureOpenClawModelsJson`), and
//! a provider whose config key was plaintext keeps that key there in plaintext. OpenClaw's
//! `secrets audit` reports `providers.<id>.apiKey` and sensitive `providers.<id>.headers.<name>`
//! of every such file as `PLAINTEXT_FOUND`; this provider finds the same values.
//!
//! | file | credential name | fields |
//! |---|---|---|
//! | `<stateDir>/agents/<agentId>/agent/models.json` | `agents/<agentId>/models/<providerId>` | `apiKey`; `headers.<name>` for each sensitive header |
//!
//! Values OpenClaw writes as non-secret markers (`secretref-managed`, `secretref-env:...`,
//! `oauth:<provider>`, `custom-local`, `ollama-local`, an environment variable's name, ...)
//! are not secrets and are skipped, as OpenClaw's audit skips them. Files larger than OpenClaw's
//! own audit limit (5 MiB) or not valid JSON are errors naming the file, never quoting it.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::{CredentialProvider, Listing};
use crate::credential::{
    fields, Credential, CredentialKind, CredentialSource, SecretFields, SourceGroup,
};
use crate::error::{Error, ErrorCode, Result};
use vault_client::secret::ZeroizingJson;

/// Provider id of agents' `models.json` files.
pub const PROVIDER_ID: &str = "openclaw-models-json";
/// OpenClaw's audit reads at most this many bytes of a `models.json`.
pub const MAX_MODELS_JSON_BYTES: u64 = 5 * 1024 * 1024;
/// The prefix of a header field: `headers.<name>`.
pub const HEADER_FIELD_PREFIX: &str = "headers.";

/// `<stateDir>/agents/<agentId>/agent/models.json`.
pub fn models_json_path(state_dir: &Path, agent: &str) -> PathBuf {
    state_dir
        .join("agents")
        .join(agent)
        .join("agent")
        .join("models.json")
}

/// The credential name of provider `provider` in agent `agent`'s `models.json`.
pub fn credential_name(agent: &str, provider: &str) -> String {
    format!("agents/{agent}/models/{provider}")
}

/// Values OpenClaw 2026.9.6 writes in place of a key (`isNonSecretApiKeyMarker` and
/// `isSecretRefHeaderValueMarker`): never secrets.
pub fn is_non_secret_marker(value: &str) -> bool {
    const MARKERS: &[&str] = &[
        "secretref-managed",
        "custom-local",
        "codex-app-server",
        "gcp-vertex-credentials",
        "ollama-local",
        "minimax-oauth",
    ];
    let v = value.trim();
    MARKERS.contains(&v)
        || v.starts_with("secretref-env:")
        || v.starts_with("oauth:")
        || crate::providers::openclaw_config::is_env_name_marker(v)
}

/// The plaintext secrets of one `models.json` document: `(providerId, field, value)` in file
/// order, `field` being `apiKey` or `headers.<name>`.
pub fn plaintext_entries(doc: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let Some(providers) = doc.get("providers").and_then(Value::as_object) else {
        return out;
    };
    for (id, provider) in providers {
        if let Some(key) = provider.get("apiKey").and_then(Value::as_str) {
            if !key.trim().is_empty() && !is_non_secret_marker(key) {
                out.push((id.clone(), fields::API_KEY.to_string(), key.to_string()));
            }
        }
        let Some(headers) = provider.get("headers").and_then(Value::as_object) else {
            continue;
        };
        for (name, value) in headers {
            let Some(v) = value.as_str() else { continue };
            let marker = v.trim() == "secretref-managed" || v.trim().starts_with("secretref-env:");
            if v.trim().is_empty()
                || marker
                || !crate::providers::openclaw_config::is_sensitive_header(name)
            {
                continue;
            }
            out.push((
                id.clone(),
                format!("{HEADER_FIELD_PREFIX}{name}"),
                v.to_string(),
            ));
        }
    }
    out
}

/// Reads one `models.json`: `None` when it does not exist.
pub fn read_models_json(file: &Path) -> Result<Option<ZeroizingJson>> {
    let Some(bytes) = crate::local_file::read_credential_file(file, MAX_MODELS_JSON_BYTES)? else {
        return Ok(None);
    };
    let doc = serde_json::from_slice::<Value>(&bytes.bytes).map_err(|e| {
        Error::new(
            ErrorCode::InvalidSource,
            format!(
                "{}: not valid JSON (line {}, column {}, {:?})",
                file.display(),
                e.line(),
                e.column(),
                e.classify()
            ),
        )
    })?;
    Ok(Some(ZeroizingJson(doc)))
}

/// Every agent's `models.json` under `<stateDir>/agents` (see the module documentation).
pub struct ModelsJsonProvider {
    state_dir: PathBuf,
}

impl ModelsJsonProvider {
    /// The provider for `state_dir`.
    pub fn new(state_dir: &Path) -> Self {
        ModelsJsonProvider {
            state_dir: state_dir.to_path_buf(),
        }
    }

    /// Agents with a `models.json`, sorted by id.
    fn agents(&self) -> Vec<String> {
        let mut agents: Vec<String> = std::fs::read_dir(self.state_dir.join("agents"))
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter(|a| models_json_path(&self.state_dir, a).is_file())
                    .collect()
            })
            .unwrap_or_default();
        agents.sort();
        agents
    }
}

#[async_trait]
impl CredentialProvider for ModelsJsonProvider {
    fn id(&self) -> &'static str {
        PROVIDER_ID
    }

    fn group(&self) -> SourceGroup {
        SourceGroup::Files
    }

    async fn get(&self, name: &str) -> Result<Option<Credential>> {
        let Some(rest) = name.strip_prefix("agents/") else {
            return Ok(None);
        };
        let Some((agent, provider)) = rest.split_once("/models/") else {
            return Ok(None);
        };
        if agent.is_empty() || agent.contains('/') || agent.starts_with('.') {
            return Ok(None);
        }
        let file = models_json_path(&self.state_dir, agent);
        let Some(doc) = read_models_json(&file)? else {
            return Ok(None);
        };
        let mut secrets = SecretFields::new();
        for (id, field, value) in plaintext_entries(&doc.0) {
            if id == provider {
                secrets.insert_str(field, &value);
                let _ = zeroize::Zeroizing::new(value);
            }
        }
        if secrets.names().next().is_none() {
            return Ok(None);
        }
        let mut metadata = Map::new();
        metadata.insert("agent".into(), Value::from(agent));
        metadata.insert("providerId".into(), Value::from(provider));
        let kind = if secrets.names().any(|n| n == fields::API_KEY) {
            CredentialKind::ApiKey
        } else {
            CredentialKind::Token
        };
        Ok(Some(Credential {
            name: name.to_string(),
            kind,
            source: CredentialSource {
                provider: PROVIDER_ID,
                group: SourceGroup::Files,
                location: format!("{} providers.{provider}", file.display()),
                file: Some(file.clone()),
                layer: None,
            },
            expires_at: None,
            metadata,
            secrets,
            version: crate::local_file::stat_version(&file)
                .unwrap_or(crate::credential::CredentialVersion::None),
            request_id: None,
        }))
    }

    async fn list(&self) -> Result<Vec<Listing>> {
        let mut out = Vec::new();
        for agent in self.agents() {
            let file = models_json_path(&self.state_dir, &agent);
            let Some(doc) = read_models_json(&file)? else {
                continue;
            };
            let mut seen: Vec<String> = Vec::new();
            for (id, _, _) in plaintext_entries(&doc.0) {
                if !seen.contains(&id) {
                    out.push(Listing {
                        name: credential_name(&agent, &id),
                        location: format!("{} providers.{id}", file.display()),
                    });
                    seen.push(id);
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openclaw_vault_test_support::temp_dir;
    use secrecy::ExposeSecret;

    #[tokio::test]
    async fn finds_what_the_audit_reports_and_skips_markers() {
        let dir = temp_dir("models-json");
        let file = models_json_path(&dir, "main");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(
            &file,
            r#"{"providers":{
              "mystub":{"baseUrl":"http://127.0.0.1:9","apiKey":"sk-FAKE-mj-1",
                "headers":{"X-Api-Key":"hdr-FAKE-2","X-Trace":"plain","Authorization":"secretref-managed"}},
              "openai":{"apiKey":"secretref-managed"},
              "ollama":{"apiKey":"ollama-local"},
              "groq":{"apiKey":"GROQ_API_KEY"},
              "codex":{"apiKey":"oauth:openai-codex"}}}"#,
        )
        .unwrap();
        let p = ModelsJsonProvider::new(&dir);
        let names: Vec<_> = p
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.name)
            .collect();
        assert_eq!(names, ["agents/main/models/mystub"]);
        let c = p.get("agents/main/models/mystub").await.unwrap().unwrap();
        let got: Vec<(String, String)> = c
            .secrets
            .iter()
            .map(|(k, v)| (k.to_string(), v.expose_secret().to_string()))
            .collect();
        assert_eq!(
            got,
            [
                ("apiKey".to_string(), "sk-FAKE-mj-1".to_string()),
                ("headers.X-Api-Key".to_string(), "hdr-FAKE-2".to_string())
            ]
        );
        assert_eq!(c.source.file.as_deref(), Some(file.as_path()));
        assert!(p.get("agents/main/models/openai").await.unwrap().is_none());
        assert!(p.get("agents/../models/x").await.unwrap().is_none());
        // Not JSON: the file is named, its content never quoted.
        std::fs::write(&file, "{\"providers\":{\"x\":{\"apiKey\":\"sk-FAKE-torn").unwrap();
        let err = p.list().await.unwrap_err();
        assert_eq!(err.code(), "INVALID_SOURCE");
        assert!(err.message.contains("models.json"), "{}", err.message);
        assert!(!err.message.contains("sk-FAKE"), "{}", err.message);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
