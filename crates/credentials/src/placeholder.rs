//! Redaction placeholders: the strings that stand where a secret was hidden (`[REDACTED]`,
//! `__OPENCLAW_REDACTED__`, `***`, ...). They are never credentials: OpenClaw refuses to use one
//! (a placeholder stored as the gateway token once locked every paired device out), and this
//! package's own `Secret` prints `[REDACTED]`, so a value copied from a log, an `inspect()` or a
//! `JSON.stringify` of a credential is exactly one of them. Every write path refuses them with
//! `INVALID_ARGUMENT` before anything is written: `CredentialChain::put` (the CLI's and
//! `CredentialStore`'s `put`, into Vault, the keychain or a file), the OAuth refresh write-back,
//! `migrate`, and the binding's `VaultClient.write`/`patch`.
//!
//! Why the check lives here and not in the `vault_client` crate: that crate is a generic KV
//! client, and `vault kv put` stores `***` for whoever wants it; which strings are placeholders is
//! OpenClaw's rule, so the table is this layer's, and the binding's `VaultClient` (OpenClaw's Vault
//! client) asks [`refuse_in_data`] before each write. A Rust user of `vault_client` alone is not
//! second-guessed.

use serde_json::Value;

use crate::credential::Credential;
use crate::error::{Error, Result};

/// OpenClaw's redaction placeholders, copied as a list (not code) from the released
/// `openclaw@2026.9.6` package, `dist/redact-sentinel-*.mjs` (`REDACTED_SECRET_VALUES`, source
/// `src/config/redact-sentinel.ts`: "Display markers are never credential material. Match whole
/// values, not substrings."). Compare with [`is_redaction_placeholder`], which matches as
/// OpenClaw's `isRedactedSecretValue` does. Recheck this list when OpenClaw's changes.
pub const REDACTION_PLACEHOLDERS: [&str; 10] = [
    "__OPENCLAW_REDACTED__",
    "REDACTED",
    "xoxb-REDACTED",
    "xapp-REDACTED",
    "***",
    "[redacted]",
    "[REDACTED]",
    "<redacted>",
    "[REDACTED_PRIVATE_KEY]",
    "[REDACTED CREDENTIAL]",
];

/// The placeholder `value` is, if it is one: the whole value, after trimming white space at both
/// ends, equals an entry of [`REDACTION_PLACEHOLDERS`] exactly (case counts: `[redacted]` and
/// `[REDACTED]` are both listed, `Redacted` is not). That is OpenClaw's own test
/// (`REDACTED_SECRET_VALUES.has(value.trim())`), so what this package refuses to store is exactly
/// what OpenClaw refuses to use, no more: a real key that merely contains `REDACTED` is stored.
pub fn is_redaction_placeholder(value: &str) -> Option<&'static str> {
    // JavaScript's trim(): Unicode white space, line terminators and the BOM.
    let trimmed = value.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    REDACTION_PLACEHOLDERS
        .iter()
        .find(|p| **p == trimmed)
        .copied()
}

fn refused(what: &str, field: &str, placeholder: &str) -> Error {
    Error::invalid_argument(format!(
        "{what}: {field} holds the redaction placeholder \"{placeholder}\", not a secret; {WRITE_REFUSED}"
    ))
}

const WRITE_REFUSED: &str = "nothing was written (supply the real value)";

/// Refuses `credential` when one of its secret fields is a redaction placeholder.
///
/// Errors: `INVALID_ARGUMENT` naming `what` (the credential or target), the field and the
/// placeholder (a constant of [`REDACTION_PLACEHOLDERS`], never the input itself).
pub fn refuse_in_credential(credential: &Credential, what: &str) -> Result<()> {
    for (name, value) in credential.secrets.iter() {
        let text = secrecy::ExposeSecret::expose_secret(value);
        if credential.secrets.is_json(name) {
            // A nested secret (an `oauthClient` object): its strings, at any depth.
            if let Ok(nested) = serde_json::from_str::<Value>(text) {
                let nested = vault_client::secret::ZeroizingJson(nested);
                refuse_in_value(&nested.0, what, &format!("$.{name}"))?;
            }
        } else if let Some(p) = is_redaction_placeholder(text) {
            return Err(refused(what, &format!("field `{name}`"), p));
        }
    }
    Ok(())
}

/// Refuses a credential a source answered with (`getCredential`, the chain's `get`) when one of
/// its secret fields is a redaction placeholder: it is no secret, and OpenClaw would refuse it
/// (`SECRET_REF_REDACTED_VALUE`). The chain fails instead of falling through to the next source,
/// so `list`'s first source for a name stays the one `get` answers from.
///
/// Errors: `INVALID_SOURCE` naming the credential, its source and location, the field and the
/// placeholder (a constant of [`REDACTION_PLACEHOLDERS`], never the stored value).
pub fn refuse_stored(credential: &Credential) -> Result<()> {
    let what = format!(
        "credential \"{}\" from {} ({})",
        credential.name, credential.source.provider, credential.source.location
    );
    refuse_in_credential(credential, &what).map_err(|e| {
        Error::new(
            crate::error::ErrorCode::InvalidSource,
            e.message.replace(
                WRITE_REFUSED,
                "it is not served (store the real value there)",
            ),
        )
    })
}

/// Refuses secret data (a KV secret's fields, as `VaultClient.write`/`patch` take them) when any
/// string in it, at any depth, is a redaction placeholder. Field names are not values and are
/// not checked.
///
/// Errors: `INVALID_ARGUMENT` naming `what` (the Vault path) and the JSON path of the field
/// (`$.apiKey`, `$.oauth.clientSecret`, `$.keys[1]`).
pub fn refuse_in_data(data: &Value, what: &str) -> Result<()> {
    refuse_in_value(data, what, "$")
}

fn refuse_in_value(value: &Value, what: &str, at: &str) -> Result<()> {
    match value {
        Value::String(s) => match is_redaction_placeholder(s) {
            Some(p) => Err(refused(what, &format!("`{at}`"), p)),
            None => Ok(()),
        },
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| refuse_in_value(v, what, &format!("{at}[{i}]"))),
        Value::Object(map) => map
            .iter()
            .try_for_each(|(k, v)| refuse_in_value(v, what, &format!("{at}.{k}"))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::{CredentialInput, CredentialKind};
    use serde_json::json;

    #[test]
    fn matches_whole_trimmed_values_case_sensitively_like_openclaw() {
        for p in REDACTION_PLACEHOLDERS {
            assert_eq!(is_redaction_placeholder(p), Some(p));
            assert_eq!(is_redaction_placeholder(&format!("  {p}\n")), Some(p));
            assert_eq!(is_redaction_placeholder(&format!("\u{feff}{p}\t")), Some(p));
        }
        for real in [
            "sk-REDACTED-but-real-0001",
            "redacted",
            "[Redacted]",
            "****",
            "**",
            "xoxb-123-REDACTED",
            "",
            "REDACTED REDACTED",
        ] {
            assert_eq!(is_redaction_placeholder(real), None, "{real}");
        }
    }

    #[test]
    fn data_is_checked_at_every_depth_and_the_error_names_the_field() {
        let ok = json!({"apiKey": "sk-FAKE-placeholder-test", "n": 3, "nested": {"a": ["x"]}});
        refuse_in_data(&ok, "secret/app").unwrap();
        for (data, field) in [
            (json!({"apiKey": "[REDACTED]"}), "$.apiKey"),
            (json!({"a": {"clientSecret": " *** "}}), "$.a.clientSecret"),
            (
                json!({"keys": ["k1", "__OPENCLAW_REDACTED__"]}),
                "$.keys[1]",
            ),
        ] {
            let err = refuse_in_data(&data, "secret/app").unwrap_err();
            assert_eq!(err.code(), "INVALID_ARGUMENT");
            assert!(err.message.contains("secret/app"), "{}", err.message);
            assert!(err.message.contains(field), "{}", err.message);
        }
    }

    #[test]
    fn credentials_are_checked_field_by_field_nested_too() {
        let good = Credential::from_input(
            "openai",
            CredentialInput::Value {
                kind: CredentialKind::ApiKey,
                value: "sk-FAKE-not-a-placeholder",
            },
            "stdin",
        )
        .unwrap();
        refuse_in_credential(&good, "openai").unwrap();
        let bad = Credential::from_input(
            "gw",
            CredentialInput::Value {
                kind: CredentialKind::Token,
                value: "__OPENCLAW_REDACTED__",
            },
            "stdin",
        )
        .unwrap();
        let err = refuse_in_credential(&bad, "credential \"gw\"").unwrap_err();
        assert_eq!(err.code(), "INVALID_ARGUMENT");
        assert!(err.message.contains("field `token`"), "{}", err.message);
        let nested = Credential::from_input(
            "slack",
            CredentialInput::Fields(
                r#"{"token": "xoxb-FAKE-real-one", "oauthClient": {"clientSecret": "<redacted>"}}"#,
            ),
            "stdin",
        )
        .unwrap();
        let err = refuse_in_credential(&nested, "slack").unwrap_err();
        assert!(
            err.message.contains("`$.oauthClient.clientSecret`"),
            "{}",
            err.message
        );
    }

    /// Every route into a source's `put` refuses a placeholder before anything is written:
    /// `CredentialChain::put` into Vault and into the keychain, and the OAuth refresh write-back.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn put_and_refresh_write_back_refuse_placeholders_and_write_nothing() {
        use crate::chain::{GetOptions, RefreshedTokens, Refresher};
        use crate::migrate::test_support::*;
        use crate::providers::keychain::KeychainProvider;
        use crate::providers::CredentialProvider;
        use secrecy::SecretString;
        use std::sync::Arc;

        let server = start_vault().await;
        let client = server.client(None);
        let keychain = Arc::new(KeychainProvider::new(format!(
            "openclaw-vault-placeholder-test-{}",
            std::process::id()
        )));
        let chain = chain_with(client.clone(), "ph", vec![keychain.clone()]);
        for (name, value) in [
            ("gateway", "__OPENCLAW_REDACTED__"),
            ("openai", "[REDACTED]"),
        ] {
            let credential = Credential::from_input(
                name,
                CredentialInput::Value {
                    kind: CredentialKind::Token,
                    value,
                },
                "stdin",
            )
            .unwrap();
            for to in [None, Some("keychain")] {
                let err = chain.put(&credential, to).await.unwrap_err();
                assert_eq!(err.code(), "INVALID_ARGUMENT", "{to:?}: {}", err.message);
                assert!(
                    err.message.contains("redaction placeholder"),
                    "{}",
                    err.message
                );
            }
            assert!(client
                .read(&format!("ph/credentials/{name}"), None)
                .await
                .unwrap()
                .is_none());
            // Nothing in the keychain either (or no keychain on this machine at all).
            match keychain.get(name).await {
                Ok(found) => assert!(found.is_none()),
                Err(e) => assert_eq!(e.code(), "SOURCE_UNAVAILABLE"),
            }
        }

        // A refresh answering a placeholder: INVALID_ARGUMENT, Vault keeps its version 1.
        struct Redacting;
        #[async_trait::async_trait]
        impl Refresher for Redacting {
            async fn refresh(&self, _: &Credential) -> Result<RefreshedTokens> {
                Ok(RefreshedTokens {
                    access_token: SecretString::from("[REDACTED]".to_string()),
                    refresh_token: None,
                    id_token: None,
                    expires_at: Some(crate::time::now_ms() + 3_600_000),
                })
            }
        }
        let expired = serde_json::json!({
            "kind": "oauth",
            "accessToken": "sk-ant-oat01-FAKE-placeholder-old",
            "refreshToken": "sk-ant-ort01-FAKE-placeholder-refresh",
            "expiresAt": crate::time::now_ms() - 1000,
        });
        client
            .write(
                "ph/credentials/anthropic",
                &vault_client::SecretData::try_from_value(expired.clone(), "x").unwrap(),
                None,
            )
            .await
            .unwrap();
        let options = GetOptions {
            refresher: Some(Arc::new(Redacting)),
            ..Default::default()
        };
        let err = chain.get("anthropic", &options).await.unwrap_err();
        assert_eq!(err.code(), "INVALID_ARGUMENT", "{}", err.message);
        assert!(!err.message.contains("FAKE-placeholder"), "{}", err.message);
        let stored = client
            .read("ph/credentials/anthropic", None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.metadata.unwrap().version, 1, "nothing written back");
        assert_eq!(stored.data.unwrap().expose_secret(), &expired);
    }
}
