//! OpenClaw's legacy `credentials/oauth.json`.

use super::support::*;
use crate::credential::fields::{ACCESS_TOKEN, REFRESH_TOKEN};
use crate::credential::CredentialKind;
use crate::providers::files::format::{
    At, Entry, Field, FileFormat, Location, Metadata, TimeUnit, Write,
};
use crate::providers::files::formats;
use crate::providers::files::JsonFileProvider;
use crate::providers::CredentialProvider;

/// `oauth.json`'s layout, written back: the generic write-back (cas, atomic 0600 rewrites that
/// keep every other field) tested on a format of the test's own, since OpenClaw's retired file
/// itself is read-only ([`formats::OPENCLAW_LEGACY_READ_ONLY`]).
static WRITABLE_OAUTH: FileFormat = FileFormat {
    id: "test-writable-oauth",
    label: "a writable oauth.json",
    location: Location::StateDir("credentials/oauth.json"),
    shared: &[],
    entries: &[Entry {
        names: &[],
        at: At::EveryRootKey {
            name_as: "provider",
        },
        kind: CredentialKind::OAuth,
        fields: &[
            Field::secret("access", ACCESS_TOKEN),
            Field::optional_secret("refresh", REFRESH_TOKEN),
            Field::expiry("expires", TimeUnit::EpochMs),
        ],
        metadata: Metadata::Listed,
        write: Write::Back,
    }],
    write_stamp: None,
    expiry_from_jwt: false,
    owner: None,
};

const OAUTH: &str = r#"{
  "anthropic": {"access": "sk-ant-oat01-FAKE-A", "refresh": "sk-ant-ort01-FAKE-R", "expires": 4102444800000, "email": "a@example.com"},
  "openai-codex": {"access": "eyJFAKE", "refresh": "rt_FAKE", "expires": 4102444800000}
}"#;

#[tokio::test]
async fn reads_each_provider_and_lists_them() {
    let home = TempHome::new("legacy-read");
    let path = home.write(".openclaw/credentials/oauth.json", OAUTH);
    let provider = JsonFileProvider::from_paths(&formats::OPENCLAW_OAUTH, &home.paths()).unwrap();
    let got = provider.get("anthropic").await.unwrap().unwrap();
    assert_eq!(got.kind, CredentialKind::OAuth);
    assert_eq!(secret(&got, "accessToken"), "sk-ant-oat01-FAKE-A");
    assert_eq!(secret(&got, "refreshToken"), "sk-ant-ort01-FAKE-R");
    assert_eq!(got.expires_at, Some(4_102_444_800_000));
    assert_eq!(got.metadata["provider"], "anthropic");
    assert_eq!(got.source.provider, "openclaw-oauth");
    assert_eq!(got.source.location, format!("{}#anthropic", path.display()));
    assert!(provider.get("openai-codex").await.unwrap().is_some());
    assert!(provider.get("qwen").await.unwrap().is_none());
    let listed = provider.list().await.unwrap();
    let names: Vec<_> = listed.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["anthropic", "openai-codex"]);
    assert!(!format!("{listed:?}").contains("FAKE-A"));
}

#[tokio::test]
async fn write_back_touches_one_entry() {
    let home = TempHome::new("legacy-write");
    let path = home.write(".openclaw/credentials/oauth.json", OAUTH);
    let provider = JsonFileProvider::new(&WRITABLE_OAUTH, &path);
    let got = provider.get("anthropic").await.unwrap().unwrap();
    let v = provider
        .put(
            &refreshed(&got, "sk-ant-oat01-NEW", "sk-ant-ort01-NEW", 7),
            Some(&got.version),
        )
        .await
        .unwrap();
    let raw = read_value(&path);
    assert_eq!(keys(&raw), ["anthropic", "openai-codex"]);
    assert_eq!(
        keys(&raw["anthropic"]),
        ["access", "refresh", "expires", "email"]
    );
    assert_eq!(raw["anthropic"]["access"], "sk-ant-oat01-NEW");
    assert_eq!(raw["anthropic"]["expires"], 7);
    assert_eq!(raw["anthropic"]["email"], "a@example.com");
    assert_eq!(raw["openai-codex"]["access"], "eyJFAKE");
    assert_eq!(mode(&path), 0o600);
    // A new provider is added at the end.
    provider
        .put(&oauth("qwen", "q-A", "q-R", 8), Some(&v))
        .await
        .unwrap();
    assert_eq!(
        keys(&read_value(&path)),
        ["anthropic", "openai-codex", "qwen"]
    );
    let err = provider.put(&got, Some(&v)).await.unwrap_err();
    assert_error(&err, "CAS_MISMATCH", &["oauth.json"], &["sk-ant"]);
}

/// A file changed since it was read (same length, only its times moved) or deleted since is not
/// overwritten: `CAS_MISMATCH` naming the file, the file as it was.
#[tokio::test]
async fn a_file_changed_since_read_is_not_overwritten() {
    let home = TempHome::new("legacy-cas");
    let path = home.write(".openclaw/credentials/oauth.json", OAUTH);
    let provider = JsonFileProvider::new(&WRITABLE_OAUTH, &path);
    let got = provider.get("anthropic").await.unwrap().unwrap();
    touch_changed(&path);
    let before = std::fs::read(&path).unwrap();
    let err = provider
        .put(
            &refreshed(&got, "sk-ant-oat01-NEW", "r", 1),
            Some(&got.version),
        )
        .await
        .unwrap_err();
    assert_error(
        &err,
        "CAS_MISMATCH",
        &[&path.display().to_string()],
        &["sk-ant-oat01"],
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    std::fs::remove_file(&path).unwrap();
    let err = provider.put(&got, Some(&got.version)).await.unwrap_err();
    assert_eq!(err.code(), "CAS_MISMATCH");
    assert!(!path.exists());
}

/// `put` creates a missing file (directory 0700, file 0600) and a compact file stays compact.
#[tokio::test]
async fn put_creates_a_missing_file_and_compact_files_stay_compact() {
    let home = TempHome::new("legacy-create");
    let provider = JsonFileProvider::from_paths(&WRITABLE_OAUTH, &home.paths()).unwrap();
    assert!(provider.writable());
    provider
        .put(
            &oauth("anthropic", "sk-ant-oat01-A", "sk-ant-ort01-R", 5),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        read_value(provider.path())["anthropic"]["access"],
        "sk-ant-oat01-A"
    );
    assert_eq!(mode(provider.path()), 0o600);
    assert_eq!(mode(provider.path().parent().unwrap()), 0o700);

    home.write(
        ".openclaw/credentials/oauth.json",
        r#"{"qwen":{"access":"q"},"anthropic":{"access":"a","expires":1}}"#,
    );
    let got = provider.get("anthropic").await.unwrap().unwrap();
    provider
        .put(&refreshed(&got, "b", "c", 2), Some(&got.version))
        .await
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(provider.path()).unwrap(),
        r#"{"qwen":{"access":"q"},"anthropic":{"access":"b","expires":2,"refresh":"c"}}"#
    );
}

#[tokio::test]
async fn bad_entries_name_the_provider_and_field() {
    let home = TempHome::new("legacy-bad");
    let provider = JsonFileProvider::from_paths(&formats::OPENCLAW_OAUTH, &home.paths()).unwrap();
    let writer = JsonFileProvider::from_paths(&WRITABLE_OAUTH, &home.paths()).unwrap();
    let cases: &[(&str, &str)] = &[
        (
            r#"{"anthropic":{"access":"SEKRIT","expires":"soon"}}"#,
            "`anthropic.expires`: expected epoch milliseconds (a number), got a string",
        ),
        (
            r#"{"anthropic":{"refresh":"SEKRIT"}}"#,
            "`anthropic.access`: missing",
        ),
        (
            r#"{"anthropic":"SEKRIT"}"#,
            "`anthropic`: expected an object, got a string",
        ),
    ];
    for (text, needle) in cases {
        let path = home.write(".openclaw/credentials/oauth.json", text);
        let err = provider.get("anthropic").await.unwrap_err();
        assert_error(
            &err,
            "INVALID_SOURCE",
            &[needle, &path.display().to_string()],
            &["SEKRIT"],
        );
        assert_error(
            &provider.list().await.unwrap_err(),
            "INVALID_SOURCE",
            &[needle],
            &["SEKRIT"],
        );
        let err = writer
            .put(&oauth("anthropic", "NEWVAL", "r", 1), None)
            .await
            .unwrap_err();
        assert_error(&err, "INVALID_SOURCE", &[], &["SEKRIT", "NEWVAL"]);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), *text);
    }
}

// Review finding: OpenClaw's retired oauth.json was refreshed in place, spending the single-use
// refresh token of the copy OpenClaw imported into its SQLite store. Never written now.
#[tokio::test]
async fn openclaws_retired_file_is_never_written() {
    let home = TempHome::new("legacy-readonly");
    let path = home.write(".openclaw/credentials/oauth.json", OAUTH);
    let provider = JsonFileProvider::from_paths(&formats::OPENCLAW_OAUTH, &home.paths()).unwrap();
    assert!(!provider.writable());
    assert_eq!(formats::cli_owner("openclaw-oauth", "anthropic"), None);
    let got = provider.get("anthropic").await.unwrap().unwrap();
    for credential in [
        refreshed(&got, "sk-ant-oat01-NEW", "sk-ant-ort01-NEW", 7),
        oauth("qwen", "q-NEW", "q-R", 8),
    ] {
        let err = provider
            .put(&credential, Some(&got.version))
            .await
            .unwrap_err();
        assert_error(
            &err,
            "UNSUPPORTED_OPERATION",
            &["openclaw models auth login"],
            &["sk-ant", "q-NEW"],
        );
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), OAUTH);
}
