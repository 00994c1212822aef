//! The `oauth_creds.json` of Qwen Code, MiniMax and Gemini CLI.

use super::support::*;
use crate::credential::CredentialKind;
use crate::providers::files::format::FileFormat;
use crate::providers::files::formats;
use crate::providers::files::JsonFileProvider;
use crate::providers::CredentialProvider;

const QWEN: &str = r#"{
  "access_token": "qwen-FAKE-ACCESS",
  "token_type": "Bearer",
  "refresh_token": "qwen-FAKE-REFRESH",
  "resource_url": "portal.qwen.ai",
  "expiry_date": 4102444800000,
  "extra_field": {"kept": true}
}"#;

const GEMINI: &str = r#"{"access_token":"ya29.FAKE","refresh_token":"1//FAKE","scope":"openid https://www.googleapis.com/auth/cloud-platform","token_type":"Bearer","id_token":"eyJFAKE","expiry_date":1700000000000}"#;

fn provider(home: &TempHome, format: &'static FileFormat) -> JsonFileProvider {
    JsonFileProvider::from_paths(format, &home.paths()).unwrap()
}

#[tokio::test]
async fn each_cli_is_read_under_its_names() {
    let home = TempHome::new("cli-read");
    home.write(".qwen/oauth_creds.json", QWEN);
    home.write(
        ".minimax/oauth_creds.json",
        QWEN.replace("qwen", "minimax").as_str(),
    );
    let gemini_path = home.write(".gemini/oauth_creds.json", GEMINI);

    let qwen = provider(&home, &formats::QWEN)
        .get("qwen")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(qwen.kind, CredentialKind::OAuth);
    assert_eq!(secret(&qwen, "accessToken"), "qwen-FAKE-ACCESS");
    assert_eq!(secret(&qwen, "refreshToken"), "qwen-FAKE-REFRESH");
    assert_eq!(qwen.expires_at, Some(4_102_444_800_000));
    assert_eq!(qwen.metadata["resourceUrl"], "portal.qwen.ai");
    assert_eq!(qwen.metadata["tokenType"], "Bearer");
    assert!(qwen.metadata.get("extra_field").is_none());
    assert_eq!(qwen.source.provider, "qwen");

    let minimax = provider(&home, &formats::MINIMAX)
        .get("minimax")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(secret(&minimax, "accessToken"), "minimax-FAKE-ACCESS");
    assert_eq!(minimax.source.provider, "minimax");

    let gemini = provider(&home, &formats::GEMINI_CLI);
    for name in ["gemini", "gemini-cli"] {
        let got = gemini.get(name).await.unwrap().unwrap();
        assert_eq!(got.name, name);
        assert_eq!(secret(&got, "idToken"), "eyJFAKE");
        assert_eq!(got.source.provider, "gemini-cli");
        assert_eq!(got.source.location, gemini_path.display().to_string());
        // Expired tokens are still read; the chain decides to refresh.
        assert_eq!(got.expires_at, Some(1_700_000_000_000));
    }
    assert!(gemini.get("qwen").await.unwrap().is_none());
    assert!(provider(&home, &formats::QWEN)
        .get("gemini")
        .await
        .unwrap()
        .is_none());

    let listed = gemini.list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "gemini");
    assert_eq!(listed[0].location, gemini_path.display().to_string());
    let empty = TempHome::new("cli-empty");
    assert!(provider(&empty, &formats::QWEN)
        .list()
        .await
        .unwrap()
        .is_empty());
    assert!(provider(&empty, &formats::QWEN)
        .get("qwen")
        .await
        .unwrap()
        .is_none());
}

/// Qwen Code, MiniMax and Gemini CLI own their tokens: never written, each refusal naming the
/// CLI and how to log it in again; no file is created for a CLI that has none.
#[tokio::test]
async fn each_cli_owns_its_tokens_and_they_are_never_written() {
    let home = TempHome::new("cli-owned");
    let path = home.write(".qwen/oauth_creds.json", QWEN);
    let qwen = provider(&home, &formats::QWEN);
    let got = qwen.get("qwen").await.unwrap().unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = qwen
        .put(
            &refreshed(&got, "qwen-NEW", "qwen-NEW-R", 4_200_000_000_000),
            Some(&got.version),
        )
        .await
        .unwrap_err();
    assert_error(
        &err,
        "UNSUPPORTED_OPERATION",
        &["Qwen Code owns the tokens of `qwen`", "`/auth`"],
        &["qwen-NEW"],
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);

    for (format, name, cli) in [
        (&formats::QWEN, "qwen", &formats::QWEN_CODE_CLI),
        (&formats::MINIMAX, "minimax", &formats::MINIMAX_CLI),
        (&formats::GEMINI_CLI, "gemini", &formats::GEMINI_CLI_OWNER),
        (
            &formats::GEMINI_CLI,
            "gemini-cli",
            &formats::GEMINI_CLI_OWNER,
        ),
    ] {
        let p = provider(&home, format);
        assert!(!p.writable(), "{name}");
        assert_eq!(format.owner_of(name), Some(cli), "{name}");
        assert_eq!(formats::cli_owner(format.id, name), Some(cli), "{name}");
        let err = p
            .put(&oauth(name, "mm-A", "mm-R", 9), None)
            .await
            .unwrap_err();
        assert_error(
            &err,
            "UNSUPPORTED_OPERATION",
            &[cli.cli, cli.renew],
            &["mm-A", "mm-R"],
        );
    }
    assert!(!home.0.join(".minimax").exists());
    assert!(!home.0.join(".gemini").exists());
}

#[tokio::test]
async fn bad_files_name_the_field_and_are_never_rewritten() {
    let home = TempHome::new("cli-bad");
    let gemini = provider(&home, &formats::GEMINI_CLI);
    let cases: &[(&str, &str)] = &[
        (
            r#"{"access_token":"x","expiry_date":"SEKRIT"}"#,
            "`expiry_date`: expected epoch milliseconds (a number), got a string",
        ),
        (r#"{"refresh_token":"SEKRIT"}"#, "`access_token`: missing"),
        (
            r#"{"access_token":["SEKRIT"]}"#,
            "`access_token`: expected a non-empty string, got an array",
        ),
        (
            r#"{"access_token":"x","id_token":{"SEKRIT":1}}"#,
            "`id_token`: expected a non-empty string, got an object",
        ),
        (
            r#"{"access_token":"SEKRIT","token_type":5}"#,
            "`token_type`: expected a string, got a number",
        ),
        (
            r#""SEKRIT""#,
            "expected a JSON object at the top level, got a string",
        ),
        (r#"{"access_token": SEKRIT}"#, "is not valid JSON"),
    ];
    for (text, needle) in cases {
        let path = home.write(".gemini/oauth_creds.json", text);
        let err = gemini.get("gemini").await.unwrap_err();
        assert_error(
            &err,
            "INVALID_SOURCE",
            &[needle, &path.display().to_string()],
            &["SEKRIT"],
        );
        let err = gemini
            .put(&oauth("gemini", "NEWVAL", "r", 1), None)
            .await
            .unwrap_err();
        assert_error(&err, "UNSUPPORTED_OPERATION", &[], &["SEKRIT", "NEWVAL"]);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), *text);
    }
}
