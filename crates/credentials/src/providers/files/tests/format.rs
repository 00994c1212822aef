//! The table machinery itself: a format written only as a row (epoch seconds, a nested object,
//! a read-only root key, a write stamp) gets reading, listing, type errors and write-back.

use serde_json::{json, Map, Value};

use super::support::*;
use crate::credential::{fields, CredentialKind};
use crate::providers::files::format::{
    read_object, write_object, At, Entry, Field, FileFormat, Location, Metadata, OnCreate,
    TimeUnit, Write,
};
use crate::providers::files::JsonFileProvider;
use crate::providers::CredentialProvider;

/// A made-up CLI: `~/.acme/session.json` = `{"user": "...", "session": {"token", "renew",
/// "expires_s", "region"}, "API_KEY": "..."}`.
static ACME: FileFormat = FileFormat {
    id: "acme",
    label: "Acme's session.json",
    location: Location::Home(".acme/session.json"),
    shared: &[Field::text("user", "user")],
    entries: &[
        Entry {
            names: &["acme", "acme-cli"],
            at: At::Key("session"),
            kind: CredentialKind::OAuth,
            fields: &[
                Field::secret("token", fields::ACCESS_TOKEN),
                Field::optional_secret("renew", fields::REFRESH_TOKEN),
                Field::expiry("expires_s", TimeUnit::EpochSeconds),
                Field::text("region", "region").on_create(OnCreate::CopyOr("eu")),
            ],
            metadata: Metadata::Listed,
            write: Write::Back,
        },
        Entry {
            names: &["acme-key"],
            at: At::Root,
            kind: CredentialKind::ApiKey,
            fields: &[Field::secret_or_empty("API_KEY", fields::API_KEY)],
            metadata: Metadata::Listed,
            write: Write::Never("Acme's API_KEY is not written back"),
        },
    ],
    write_stamp: Some("saved_at"),
    expiry_from_jwt: false,
    owner: None,
};

const SESSION: &str = r#"{
  "user": "ada",
  "session": {"region": "us", "token": "acme-FAKE-T", "renew": "acme-FAKE-R", "expires_s": 1700000000, "other": 1},
  "API_KEY": "acme-FAKE-KEY",
  "zzz": true
}
"#;

#[tokio::test]
async fn a_new_format_is_one_row() {
    let home = TempHome::new("format-row");
    let path = home.write(".acme/session.json", SESSION);
    let acme = JsonFileProvider::from_paths(&ACME, &home.paths()).unwrap();
    assert_eq!(acme.path(), path);
    assert_eq!(acme.id(), "acme");
    assert!(acme.writable());

    let got = acme.get("acme-cli").await.unwrap().unwrap();
    assert_eq!(got.name, "acme-cli");
    assert_eq!(got.kind, CredentialKind::OAuth);
    assert_eq!(secret(&got, "accessToken"), "acme-FAKE-T");
    assert_eq!(secret(&got, "refreshToken"), "acme-FAKE-R");
    // Seconds in the file, milliseconds on the credential.
    assert_eq!(got.expires_at, Some(1_700_000_000_000));
    let meta: Vec<_> = got.metadata.keys().cloned().collect();
    assert_eq!(meta, ["user", "region"]);
    assert_eq!(got.source.location, format!("{}#session", path.display()));
    let key = acme.get("acme-key").await.unwrap().unwrap();
    assert_eq!(key.kind, CredentialKind::ApiKey);
    assert_eq!(key.source.location, format!("{}#API_KEY", path.display()));
    assert!(acme.get("other").await.unwrap().is_none());
    let listed: Vec<_> = acme
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.name)
        .collect();
    assert_eq!(listed, ["acme", "acme-key"]);

    // Write-back: in place, seconds again, the stamp at the end, everything else kept.
    let version = acme
        .put(
            &refreshed(&got, "acme-NEW-T", "acme-NEW-R", 1_800_000_000_999),
            Some(&got.version),
        )
        .await
        .unwrap();
    let raw = read_value(&path);
    assert_eq!(
        keys(&raw),
        ["user", "session", "API_KEY", "zzz", "saved_at"]
    );
    assert_eq!(
        keys(&raw["session"]),
        ["region", "token", "renew", "expires_s", "other"]
    );
    assert_eq!(raw["session"]["token"], "acme-NEW-T");
    assert_eq!(raw["session"]["expires_s"], 1_800_000_000i64);
    assert_eq!(raw["session"]["region"], "us");
    assert!(humantime::parse_rfc3339(raw["saved_at"].as_str().unwrap()).is_ok());
    assert_eq!(mode(&path), 0o600);
    assert_eq!(acme.get("acme").await.unwrap().unwrap().version, version);

    // Read-only and unknown names.
    let err = acme.put(&key, None).await.unwrap_err();
    assert_error(
        &err,
        "UNSUPPORTED_OPERATION",
        &[&path.display().to_string(), "API_KEY is not written back"],
        &["acme-FAKE"],
    );
    let err = acme
        .put(&oauth("nope", "a", "r", 1), None)
        .await
        .unwrap_err();
    assert_error(
        &err,
        "INVALID_ARGUMENT",
        &["Acme's session.json holds `acme` and `acme-key`, not `nope`"],
        &[],
    );

    // A new object gets the seeded fields; a missing one its default.
    home.write(".acme/session.json", r#"{"user":"ada"}"#);
    let mut fresh = oauth("acme", "t", "r", 5_000);
    fresh.metadata.insert("ignored".into(), json!(1));
    assert!(acme.get("acme").await.unwrap().is_none());
    acme.put(&fresh, None).await.unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with(
            r#"{"user":"ada","session":{"token":"t","renew":"r","expires_s":5,"region":"eu"},"saved_at":"#
        ),
        "{text}"
    );
    let raw = read_value(&path);
    assert_eq!(
        keys(&raw["session"]),
        ["token", "renew", "expires_s", "region"]
    );
    assert_eq!(raw["session"]["region"], "eu");
}

#[tokio::test]
async fn the_first_error_in_file_order_is_reported_without_the_value() {
    let home = TempHome::new("format-errors");
    let acme = JsonFileProvider::from_paths(&ACME, &home.paths()).unwrap();
    let cases: &[(&str, &str)] = &[
        // Two broken fields: the one that comes first in the file is named.
        (
            r#"{"API_KEY":["SEKRIT"],"session":{"token":7}}"#,
            "`API_KEY`: expected a string or null, got an array",
        ),
        (
            r#"{"session":{"token":7},"API_KEY":["SEKRIT"]}"#,
            "`session.token`: expected a non-empty string, got a number",
        ),
        // Inside an object, a missing field after the present ones were checked.
        (
            r#"{"session":{"renew":"SEKRIT"},"user":5}"#,
            "`session.token`: missing",
        ),
        (
            r#"{"session":{"token":"SEKRIT","expires_s":"later"}}"#,
            "`session.expires_s`: expected epoch seconds (a number), got a string",
        ),
        (
            r#"{"session":"SEKRIT"}"#,
            "`session`: expected an object, got a string",
        ),
        (
            r#"{"session":{"token":"SEKRIT"},"user":["SEKRIT"]}"#,
            "`user`: expected a string, got an array",
        ),
    ];
    for (text, needle) in cases {
        let path = home.write(".acme/session.json", text);
        // A broken field fails every name the file answers.
        for name in ["acme", "acme-key"] {
            let err = acme.get(name).await.unwrap_err();
            assert_error(
                &err,
                "INVALID_SOURCE",
                &[needle, &path.display().to_string()],
                &["SEKRIT"],
            );
        }
        let err = acme
            .put(&oauth("acme", "NEWVAL", "r", 1), None)
            .await
            .unwrap_err();
        assert_error(&err, "INVALID_SOURCE", &[], &["SEKRIT", "NEWVAL"]);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), *text);
    }
    // Null is "none" for everything but a required secret; "" is none only where the table says.
    home.write(
        ".acme/session.json",
        r#"{"session":null,"API_KEY":"","user":null}"#,
    );
    assert!(acme.get("acme").await.unwrap().is_none());
    assert!(acme.get("acme-key").await.unwrap().is_none());
    assert!(acme.list().await.unwrap().is_empty());
    home.write(".acme/session.json", r#"{"session":{"token":null}}"#);
    let err = acme.get("acme").await.unwrap_err();
    assert_error(
        &err,
        "INVALID_SOURCE",
        &["`session.token`: expected a non-empty string, got null"],
        &[],
    );
}

#[test]
fn read_and_write_one_object() {
    const FIELDS: &[Field] = &[
        Field::secret("access", fields::ACCESS_TOKEN),
        Field::optional_secret("refresh", fields::REFRESH_TOKEN),
        Field::expiry("expires", TimeUnit::EpochMs),
        Field::text("kind_of", "kindOf").on_create(OnCreate::Copy),
    ];
    let object = |v: Value| v.as_object().unwrap().clone();
    let read = read_object(
        FIELDS,
        &object(
            json!({"kind_of": "x", "access": "A", "refresh": null, "expires": 12.7, "extra": 1}),
        ),
        "f.json",
        "p",
    )
    .unwrap();
    assert_eq!(read.secrets.names().collect::<Vec<_>>(), ["accessToken"]);
    assert_eq!(read.expires_at, Some(12));
    assert_eq!(read.metadata, object(json!({"kindOf": "x"})));
    let err =
        read_object(FIELDS, &object(json!({"refresh": "SEKRIT"})), "f.json", "p").unwrap_err();
    assert_error(
        &err,
        "INVALID_SOURCE",
        &["f.json at `p.access`: missing"],
        &["SEKRIT"],
    );

    let mut target = Map::new();
    let mut cred = oauth("x", "A2", "R2", 99);
    cred.metadata.insert("kindOf".into(), json!("y"));
    write_object(FIELDS, &mut target, &cred, false, "t").unwrap();
    assert_eq!(
        Value::Object(target.clone()),
        json!({"access": "A2", "refresh": "R2", "expires": 99})
    );
    let mut created = Map::new();
    write_object(FIELDS, &mut created, &cred, true, "t").unwrap();
    assert_eq!(created["kind_of"], "y");
    let mut no_access = cred.clone();
    no_access.secrets = crate::credential::SecretFields::new();
    let err = write_object(FIELDS, &mut target, &no_access, false, "the target").unwrap_err();
    assert_error(
        &err,
        "INVALID_ARGUMENT",
        &["the target: the credential needs `accessToken`"],
        &[],
    );
}
