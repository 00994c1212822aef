//! Claude Code's `.credentials.json`.

use super::support::*;
use crate::credential::{CredentialKind, SourceGroup};
use crate::providers::files::formats;
use crate::providers::files::JsonFileProvider;
use crate::providers::CredentialProvider;
use serde_json::json;

const ANTHROPIC: &str = "anthropic";
const ALIAS: &str = "claude-code";

const FILE: &str = ".claude/.credentials.json";
const CLAUDE_JSON: &str = r#"{
  "claudeAiOauth": {
    "accessToken": "sk-ant-oat01-OLDACCESS",
    "refreshToken": "sk-ant-ort01-OLDREFRESH",
    "expiresAt": 1767225600000,
    "scopes": ["user:inference", "user:profile"],
    "subscriptionType": "max",
    "rateLimitTier": "default_claude_max_20x"
  },
  "mcpOAuth": {"github|abc": {"accessToken": "gho_MCPSECRET", "expiresAt": 0}},
  "zzzLast": true
}
"#;

#[tokio::test]
async fn reads_the_tokens_under_both_names() {
    let home = TempHome::new("claude-read");
    let path = home.write(FILE, CLAUDE_JSON);
    let provider = JsonFileProvider::from_paths(&formats::CLAUDE_CODE, &home.paths()).unwrap();
    assert_eq!(provider.path(), path);
    for name in [ANTHROPIC, ALIAS] {
        let got = provider.get(name).await.unwrap().unwrap();
        assert_eq!(got.name, name);
        assert_eq!(got.kind, CredentialKind::OAuth);
        assert_eq!(secret(&got, "accessToken"), "sk-ant-oat01-OLDACCESS");
        assert_eq!(secret(&got, "refreshToken"), "sk-ant-ort01-OLDREFRESH");
        assert_eq!(got.expires_at, Some(1_767_225_600_000));
        assert_eq!(got.metadata["subscriptionType"], "max");
        assert_eq!(
            got.metadata["scopes"],
            json!(["user:inference", "user:profile"])
        );
        assert_eq!(got.metadata["rateLimitTier"], "default_claude_max_20x");
        assert!(got.metadata.get("accessToken").is_none());
        assert!(got.metadata.get("warnings").is_none());
        assert_eq!(got.source.provider, "claude-code");
        assert_eq!(got.source.group, SourceGroup::Files);
        assert_eq!(got.source.file.as_deref(), Some(path.as_path()));
        assert_eq!(got.version, crate::local_file::stat_version(&path).unwrap());
    }
    assert!(provider.get("openai").await.unwrap().is_none());
    let listed = provider.list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "anthropic");
    assert_eq!(listed[0].location, path.display().to_string());
    assert!(!format!("{listed:?}").contains("OLDACCESS"));
}

#[tokio::test]
async fn claude_config_dir_moves_the_file_and_missing_is_none() {
    let home = TempHome::new("claude-dir");
    let paths = home.paths_with(&[("CLAUDE_CONFIG_DIR", "~/work-claude")]);
    let provider = JsonFileProvider::from_paths(&formats::CLAUDE_CODE, &paths).unwrap();
    assert!(provider.get(ANTHROPIC).await.unwrap().is_none());
    assert!(provider.list().await.unwrap().is_empty());
    home.write("work-claude/.credentials.json", CLAUDE_JSON);
    assert!(provider.get(ANTHROPIC).await.unwrap().is_some());
    // A file with only MCP tokens holds no `anthropic`.
    home.write("work-claude/.credentials.json", r#"{"mcpOAuth": {}}"#);
    assert!(provider.get(ANTHROPIC).await.unwrap().is_none());
    assert!(provider.list().await.unwrap().is_empty());
}

/// Claude Code owns its tokens: `put` (what a refresh write-back would call) is refused
/// whatever the file's state, naming Claude Code's login command and never a value, and the file
/// is left byte for byte as it was. No file is created where there is none.
#[tokio::test]
async fn claude_code_owns_its_tokens_and_they_are_never_written() {
    let home = TempHome::new("claude-owned");
    let path = home.write(FILE, CLAUDE_JSON);
    let provider = JsonFileProvider::new(&formats::CLAUDE_CODE, &path);
    assert!(!provider.writable());
    assert_eq!(
        formats::CLAUDE_CODE.owner_of(ANTHROPIC),
        Some(&formats::CLAUDE_CODE_CLI)
    );
    assert_eq!(
        formats::cli_owner("claude-code", ALIAS),
        Some(&formats::CLAUDE_CODE_CLI)
    );
    let got = provider.get(ANTHROPIC).await.unwrap().unwrap();
    let before = std::fs::read(&path).unwrap();
    let updated = refreshed(
        &got,
        "sk-ant-oat01-NEW",
        "sk-ant-ort01-NEW",
        1_900_000_000_000,
    );
    for expected in [Some(&got.version), None] {
        let err = provider.put(&updated, expected).await.unwrap_err();
        assert_error(
            &err,
            "UNSUPPORTED_OPERATION",
            &[
                &path.display().to_string(),
                "Claude Code owns the tokens of `anthropic`",
                "`claude auth login`",
            ],
            &["sk-ant-oat01", "sk-ant-ort01"],
        );
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(crate::local_file::stat_version(&path).unwrap(), got.version);
    let err = provider
        .put(&oauth("openai", "a", "r", 1), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_ARGUMENT");

    let empty = TempHome::new("claude-owned-none");
    let provider = JsonFileProvider::from_paths(&formats::CLAUDE_CODE, &empty.paths()).unwrap();
    let err = provider.put(&updated, None).await.unwrap_err();
    assert_eq!(err.code(), "UNSUPPORTED_OPERATION");
    assert!(!empty.0.join(".claude").exists());
}

#[tokio::test]
async fn bad_files_are_invalid_source_naming_the_field_not_the_value() {
    let home = TempHome::new("claude-bad");
    let provider = JsonFileProvider::from_paths(&formats::CLAUDE_CODE, &home.paths()).unwrap();
    let cases: &[(&str, &str)] = &[
        (
            r#"{"claudeAiOauth":{"accessToken":"SEKRIT","expiresAt":"soon"}}"#,
            "`claudeAiOauth.expiresAt`: expected epoch milliseconds (a number), got a string",
        ),
        (
            r#"{"claudeAiOauth":{"accessToken":12,"refreshToken":"SEKRIT"}}"#,
            "`claudeAiOauth.accessToken`: expected a non-empty string, got a number",
        ),
        (
            r#"{"claudeAiOauth":{"accessToken":"","refreshToken":"SEKRIT"}}"#,
            "`claudeAiOauth.accessToken`: expected a non-empty string, got an empty string",
        ),
        (
            r#"{"claudeAiOauth":{"refreshToken":"SEKRIT"}}"#,
            "`claudeAiOauth.accessToken`: missing",
        ),
        (
            r#"{"claudeAiOauth":"SEKRIT"}"#,
            "`claudeAiOauth`: expected an object, got a string",
        ),
        (
            r#"{"claudeAiOauth":{"accessToken":"SEKRIT","scopes":["a",7]}}"#,
            "`claudeAiOauth.scopes[1]`: expected a string, got a number",
        ),
        (
            r#"["SEKRIT"]"#,
            "expected a JSON object at the top level, got an array",
        ),
        (
            r#"{"claudeAiOauth":{"accessToken":"SEKRIT""#,
            "is not valid JSON (line 1",
        ),
        ("", "is not valid JSON"),
    ];
    for (text, needle) in cases {
        let path = home.write(FILE, text);
        let err = provider.get(ANTHROPIC).await.unwrap_err();
        assert_error(
            &err,
            "INVALID_SOURCE",
            &[needle, &path.display().to_string()],
            &["SEKRIT"],
        );
        assert_error(
            &provider.list().await.unwrap_err(),
            "INVALID_SOURCE",
            &[],
            &["SEKRIT"],
        );
        // Never rewritten (Claude Code owns it; a broken file would not be rewritten anyway).
        let err = provider
            .put(&oauth("anthropic", "NEW", "NEW", 1), None)
            .await
            .unwrap_err();
        assert_error(&err, "UNSUPPORTED_OPERATION", &[], &["SEKRIT", "NEW"]);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), *text);
    }
}

#[tokio::test]
async fn symlinks_huge_and_unreadable_files_are_refused() {
    let home = TempHome::new("claude-refuse");
    let real = home.write("elsewhere.json", CLAUDE_JSON);
    std::fs::create_dir_all(home.0.join(".claude")).unwrap();
    let link = home.0.join(FILE);
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let provider = JsonFileProvider::new(&formats::CLAUDE_CODE, &link);
    let err = provider.get(ANTHROPIC).await.unwrap_err();
    assert_error(&err, "INVALID_SOURCE", &["symbolic link"], &["OLDACCESS"]);
    let err = provider
        .put(&oauth("anthropic", "NEW", "r", 1), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "UNSUPPORTED_OPERATION");
    assert_eq!(std::fs::read_to_string(&real).unwrap(), CLAUDE_JSON);
    std::fs::remove_file(&link).unwrap();

    let huge = format!(
        r#"{{"claudeAiOauth":{{"accessToken":"SEKRIT","pad":"{}"}}}}"#,
        "x".repeat(crate::local_file::MAX_CREDENTIAL_FILE_BYTES as usize)
    );
    home.write(FILE, &huge);
    let err = provider.get(ANTHROPIC).await.unwrap_err();
    assert_error(&err, "INVALID_SOURCE", &["at most"], &["SEKRIT"]);

    // Something that is not a regular file where the file should be.
    std::fs::remove_file(&link).unwrap();
    std::fs::create_dir_all(&link).unwrap();
    let err = provider.get(ANTHROPIC).await.unwrap_err();
    assert_error(&err, "INVALID_SOURCE", &["not a regular file"], &[]);
}
