//! Codex CLI's `auth.json`.

use super::support::*;
use crate::credential::CredentialKind;
use crate::providers::files::formats;
use crate::providers::files::JsonFileProvider;
use crate::providers::CredentialProvider;

const CODEX: &str = "codex";
const OPENAI_CODEX: &str = "openai-codex";
const OPENAI: &str = "openai";

const AUTH: &str = r#"{
  "auth_mode": "chatgpt",
  "OPENAI_API_KEY": "sk-proj-FAKE-KEY",
  "tokens": {
    "id_token": "eyJFAKE.ID.TOKEN",
    "access_token": "eyJFAKE.ACCESS",
    "refresh_token": "rt_FAKE",
    "account_id": "acct-123"
  },
  "last_refresh": "2026-01-02T03:04:05.678901Z",
  "agent_identity": {"kept": 1}
}"#;

#[tokio::test]
async fn reads_tokens_and_the_api_key() {
    let home = TempHome::new("codex-read");
    let path = home.write(".codex/auth.json", AUTH);
    let provider = JsonFileProvider::from_paths(&formats::CODEX, &home.paths()).unwrap();
    assert_eq!(provider.path(), path);
    for name in [CODEX, OPENAI_CODEX] {
        let got = provider.get(name).await.unwrap().unwrap();
        assert_eq!(got.name, name);
        assert_eq!(got.kind, CredentialKind::OAuth);
        assert_eq!(secret(&got, "accessToken"), "eyJFAKE.ACCESS");
        assert_eq!(secret(&got, "refreshToken"), "rt_FAKE");
        assert_eq!(secret(&got, "idToken"), "eyJFAKE.ID.TOKEN");
        assert_eq!(got.metadata["accountId"], "acct-123");
        assert_eq!(got.metadata["authMode"], "chatgpt");
        assert_eq!(got.metadata["lastRefresh"], "2026-01-02T03:04:05.678901Z");
        assert_eq!(got.source.location, format!("{}#tokens", path.display()));
        assert_eq!(got.source.provider, "codex");
    }
    let key = provider.get(OPENAI).await.unwrap().unwrap();
    assert_eq!(key.kind, CredentialKind::ApiKey);
    assert_eq!(secret(&key, "apiKey"), "sk-proj-FAKE-KEY");
    assert_eq!(key.source.provider, "codex");
    assert!(provider.get("anthropic").await.unwrap().is_none());
    let names: Vec<_> = provider
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.name)
        .collect();
    assert_eq!(names, ["codex", "openai"]);

    // CODEX_HOME moves the file; an empty or null key and absent tokens hold nothing.
    let paths = home.paths_with(&[("CODEX_HOME", "~/other-codex")]);
    let provider = JsonFileProvider::from_paths(&formats::CODEX, &paths).unwrap();
    home.write(
        "other-codex/auth.json",
        r#"{"auth_mode":"chatgpt","OPENAI_API_KEY":"","tokens":null}"#,
    );
    assert!(provider.get(OPENAI).await.unwrap().is_none());
    assert!(provider.get(CODEX).await.unwrap().is_none());
    assert!(provider.list().await.unwrap().is_empty());
    home.write("other-codex/auth.json", r#"{"OPENAI_API_KEY":null}"#);
    assert!(provider.get(OPENAI).await.unwrap().is_none());
}

/// Codex owns its tokens: never written (neither `tokens` nor `last_refresh`); its API key is
/// not written back either, for its own reason, and is not "owned" (copying a key logs nobody
/// out).
#[tokio::test]
async fn codex_owns_its_tokens_and_the_file_is_never_written() {
    let home = TempHome::new("codex-owned");
    let path = home.write(".codex/auth.json", AUTH);
    let provider = JsonFileProvider::new(&formats::CODEX, &path);
    assert!(!provider.writable());
    assert_eq!(formats::CODEX.owner_of(CODEX), Some(&formats::CODEX_CLI));
    assert_eq!(
        formats::CODEX.owner_of("openai-codex"),
        Some(&formats::CODEX_CLI)
    );
    assert_eq!(formats::CODEX.owner_of(OPENAI), None);
    let got = provider.get(CODEX).await.unwrap().unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = provider
        .put(
            &refreshed(&got, "eyJNEW.ACCESS", "rt_NEW", 1),
            Some(&got.version),
        )
        .await
        .unwrap_err();
    assert_error(
        &err,
        "UNSUPPORTED_OPERATION",
        &["Codex owns the tokens of `codex`", "`codex login`"],
        &["eyJ", "rt_"],
    );
    let key = provider.get(OPENAI).await.unwrap().unwrap();
    let err = provider.put(&key, Some(&key.version)).await.unwrap_err();
    assert_error(
        &err,
        "UNSUPPORTED_OPERATION",
        &["OPENAI_API_KEY"],
        &["sk-proj"],
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[tokio::test]
async fn bad_files_name_the_field() {
    let home = TempHome::new("codex-bad");
    let provider = JsonFileProvider::from_paths(&formats::CODEX, &home.paths()).unwrap();
    let cases: &[(&str, &str)] = &[
        (
            r#"{"tokens":{"access_token":"SEKRIT","refresh_token":7}}"#,
            "`tokens.refresh_token`: expected a non-empty string, got a number",
        ),
        (
            r#"{"tokens":{"refresh_token":"SEKRIT"}}"#,
            "`tokens.access_token`: missing",
        ),
        (
            r#"{"tokens":"SEKRIT"}"#,
            "`tokens`: expected an object, got a string",
        ),
        (
            r#"{"OPENAI_API_KEY":["SEKRIT"]}"#,
            "`OPENAI_API_KEY`: expected a string or null, got an array",
        ),
        (
            r#"{"tokens":{"access_token":"SEKRIT"},"last_refresh":1}"#,
            "`last_refresh`: expected a string, got a number",
        ),
    ];
    for (text, needle) in cases {
        let path = home.write(".codex/auth.json", text);
        for name in [CODEX, OPENAI] {
            let err = provider.get(name).await.unwrap_err();
            assert_error(
                &err,
                "INVALID_SOURCE",
                &[needle, &path.display().to_string()],
                &["SEKRIT"],
            );
        }
        let err = provider
            .put(&oauth(CODEX, "NEWVAL", "r", 1), None)
            .await
            .unwrap_err();
        assert_error(&err, "UNSUPPORTED_OPERATION", &[], &["SEKRIT", "NEWVAL"]);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), *text);
    }
}

#[tokio::test]
async fn a_jwt_access_token_gives_its_exp_as_expires_at() {
    use crate::providers::files::format::jwt_expiry_ms;
    // {"alg":"none"} . {"sub":"u","exp":1900000000} . (no signature check)
    let jwt = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1IiwiZXhwIjoxOTAwMDAwMDAwfQ.sig";
    assert_eq!(jwt_expiry_ms(jwt), Some(1_900_000_000_000));
    for not_a_jwt in [
        "eyJFAKE.ACCESS",
        "a.b.c",
        "sk-live-x",
        "a.e30.c",
        "a.b.c.d",
        "",
    ] {
        assert_eq!(jwt_expiry_ms(not_a_jwt), None, "{not_a_jwt}");
    }
    let home = TempHome::new("codex-jwt-exp");
    home.write(".codex/auth.json", &AUTH.replace("eyJFAKE.ACCESS", jwt));
    let provider = JsonFileProvider::from_paths(&formats::CODEX, &home.paths()).unwrap();
    let got = provider.get(CODEX).await.unwrap().unwrap();
    assert_eq!(got.expires_at, Some(1_900_000_000_000));
    // Not a JWT: no expiry, as before.
    let home = TempHome::new("codex-no-jwt");
    home.write(".codex/auth.json", AUTH);
    let provider = JsonFileProvider::from_paths(&formats::CODEX, &home.paths()).unwrap();
    assert_eq!(provider.get(CODEX).await.unwrap().unwrap().expires_at, None);
}
