//! The rules that keep a migration from lying or stalling, apart from the plan's layout:
//! - [`check_vault`], one `sys/health` question with a short deadline and no retries before
//!   anything is written: an unreachable, hung or sealed Vault fails the run in seconds with one
//!   error, whether there are 1 or 1,000 credentials (without it each credential waited out its
//!   own retries, one after another, behind the KV version detection);
//! - [`vault_gone`] / [`not_attempted`]: once Vault is lost mid-run, the items not started yet
//!   are not tried; [`past_deadline`]: what an item left unfinished at the run's deadline says;
//! - [`still_in_vault`]: the journal is a shortcut, never the truth: an item it calls done is
//!   read back from Vault, and migrated again when the value is no longer there;
//! - [`skip_reason`]: a name that cannot be a Vault path, or a value that is a redaction
//!   placeholder, skips that one credential with its reason instead of aborting the run.
//!
//! This is not a circuit breaker (the chain has its own): it only decides, once per run, that a
//! run cannot succeed.

use std::time::Duration;

use super::{Outcome, PlanItem};
use crate::credential::Credential;
use crate::error::{Error, ErrorCode, Result};
use crate::providers::vault::VaultProvider;

/// How long the preflight waits for `sys/health`. Vault answers it from memory; a healthy
/// server on a slow link still answers well within this.
pub const PREFLIGHT_DEADLINE: Duration = Duration::from_secs(3);

/// The deadline of a whole `migrate` run from the command line (`--deadline`). 1,000 credentials
/// take about 3 s against a local Vault; this leaves room for a slow remote one.
pub const DEFAULT_RUN_DEADLINE: Duration = Duration::from_secs(600);

/// A credential found but not planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The credential name, as its source lists it.
    pub name: String,
    /// The provider id it was read from.
    pub source_provider: &'static str,
    /// Where in that source (file and entry, variable, keychain item).
    pub source_location: String,
    /// Why, as an error code: `INVALID_ARGUMENT` for both reasons below.
    pub code: &'static str,
    /// Why, for a person: what is wrong and what to do. Never a value.
    pub reason: String,
}

/// Why `name` (read as `credential`) cannot be migrated, if it cannot:
/// - its name is not a Vault path the chain can read back under the same name: an empty, `.` or
///   `..` segment (`<prefix>/credentials/a/../b` would address another secret), or a control
///   character. Spaces and non-ASCII letters are fine: Vault paths are percent-encoded, and
///   `getCredential` reads the same path back;
/// - a secret field holds a redaction placeholder ([`crate::placeholder`]): it is not a secret,
///   and OpenClaw would refuse it anyway.
pub fn skip_reason(vault: &VaultProvider, name: &str, credential: &Credential) -> Option<Skipped> {
    let skipped = |reason: String| Skipped {
        name: name.to_string(),
        source_provider: credential.source.provider,
        source_location: credential.source.location.clone(),
        code: ErrorCode::InvalidArgument.as_str(),
        reason,
    };
    let path = vault.path_of(name).and_then(|p| {
        vault_client::path::ApiPath::parse(&p)
            .map(|_| p)
            .map_err(Error::from)
    });
    // Every name written must read back (`getCredential`, `get`): the same check as theirs.
    if path.is_err() || crate::chain::check_name(name).is_err() {
        let shown = if name.len() > 80 {
            let cut = (0..=60)
                .rev()
                .find(|i| name.is_char_boundary(*i))
                .unwrap_or(0);
            format!("{:?}... ({} bytes)", &name[..cut], name.len())
        } else {
            format!("{name:?}")
        };
        return Some(skipped(format!(
            "the name {shown} cannot be a credential name (at most {} bytes; no empty, `.` or `..` segment, no control character); rename it in its source ({}) and run migrate again",
            crate::chain::MAX_NAME_BYTES,
            credential.source.location
        )));
    }
    if let Err(e) =
        crate::placeholder::refuse_in_credential(credential, &credential.source.location)
    {
        return Some(skipped(e.message));
    }
    None
}

/// Asks Vault's `sys/health` once, without retries, then the token's `GET
/// /v1/auth/token/lookup-self`, both within `deadline`, before a run writes anything. A token
/// Vault calls invalid (401, or 403 "invalid token") fails here; a plain 403 "permission denied"
/// (a valid token whose policy lacks lookup-self) passes. `items` is the number of credentials
/// planned, for the message (0: not planned yet).
///
/// Errors: `NETWORK` (refused, DNS, reset), `TLS_ERROR`, `TIMEOUT` (no answer within `deadline`:
/// a hung Vault or a black-holed address), `SEALED`, `SERVER_ERROR` (not initialised, or a node
/// that does not serve), `INVALID_TOKEN`; each names the address and says that nothing was
/// written.
pub async fn check_vault(
    client: &vault_client::VaultClient,
    deadline: Duration,
    items: usize,
) -> Result<()> {
    let addr = client
        .config()
        .addr
        .as_str()
        .trim_end_matches('/')
        .to_string();
    let started = std::time::Instant::now();
    let nothing = if items == 0 {
        "nothing was written".to_string()
    } else {
        format!("nothing was written ({items} credential(s) planned)")
    };
    // A probe built from the same address, namespace, TLS and proxy settings, but with no token,
    // no login, no renewal, no retries and the short deadline as its timeout: the run's own
    // client keeps its settings for the real work.
    let mut config = client.config().clone();
    config.token = None;
    config.login = None;
    config.renew = false;
    config.retry.max_retries = 0;
    config.timeout = deadline;
    let probe = vault_client::VaultClient::new(config).map_err(Error::from)?;
    let timed_out = || {
        Error::new(
            ErrorCode::Timeout,
            format!(
                "Vault at {addr} did not answer sys/health within {} s; {nothing}",
                deadline.as_secs()
            ),
        )
    };
    // The probe's own timeout and this one are the same deadline: whichever fires first, one
    // message.
    let health = match tokio::time::timeout(deadline, probe.health()).await {
        Err(_) => return Err(timed_out()),
        Ok(Err(e)) if e.code == vault_client::ErrorCode::Timeout => return Err(timed_out()),
        Ok(Err(e)) => {
            let e = Error::from(e);
            return Err(Error::new(
                e.code,
                format!("Vault at {addr} is unreachable ({}); {nothing}", e.message),
            ));
        }
        Ok(Ok(h)) => h,
    };
    if health.sealed {
        return Err(Error::new(
            ErrorCode::Sealed,
            format!("Vault at {addr} is sealed; {nothing}"),
        ));
    }
    if !health.is_healthy() {
        return Err(Error::new(
            ErrorCode::ServerError,
            format!(
                "Vault at {addr} does not serve requests (sys/health status {}, initialized {}); {nothing}",
                health.status, health.initialized
            ),
        ));
    }
    // The token, within the same budget: a wrong token is one error here, not one per credential
    // (and no journal of failures). Only a token Vault calls invalid is fatal: a valid token whose
    // policy lacks `auth/token/lookup-self` gets a plain 403 "permission denied" and still works.
    let left = deadline.saturating_sub(started.elapsed());
    match tokio::time::timeout(left, client.lookup_self()).await {
        Err(_) => return Err(timed_out()),
        Ok(Err(e)) => match e.code {
            vault_client::ErrorCode::InvalidToken => {
                return Err(Error::new(
                    ErrorCode::InvalidToken,
                    format!(
                        "Vault at {addr} refused the token (auth/token/lookup-self: invalid, expired or revoked): set VAULT_TOKEN or `vault.auth` in openclaw-vault.json (docs/configuration-file.md); {nothing}"
                    ),
                ))
            }
            vault_client::ErrorCode::Timeout => return Err(timed_out()),
            vault_client::ErrorCode::Network
            | vault_client::ErrorCode::TlsError
            | vault_client::ErrorCode::Sealed => {
                let e = Error::from(e);
                return Err(Error::new(
                    e.code,
                    format!("Vault at {addr} is unreachable ({}); {nothing}", e.message),
                ));
            }
            // Permission denied and anything else: the token is not known to be bad; the writes
            // report their own errors.
            _ => {}
        },
        Ok(Ok(_)) => {}
    }
    Ok(())
}

/// True when `e` means Vault is gone for this run: the remaining items would each wait out the
/// same failure.
pub fn vault_gone(e: &Error) -> bool {
    matches!(
        e.code,
        ErrorCode::Network | ErrorCode::Timeout | ErrorCode::TlsError | ErrorCode::Sealed
    )
}

/// The outcome of an item not tried (or cut short) because Vault was lost earlier in the run.
pub fn not_attempted(lost: &Error) -> Outcome {
    Outcome::NotTried { code: lost.code() }
}

/// The outcome of an item unfinished at the run's deadline.
pub fn past_deadline(deadline: Duration) -> Outcome {
    Outcome::Failed {
        code: ErrorCode::Timeout.as_str(),
        message: format!(
            "not finished within the run's deadline of {} s; nothing is claimed for it: run migrate again (what was written is found, not written twice)",
            deadline.as_secs()
        ),
    }
}

/// True when Vault still holds `item`'s planned value (same fingerprint) at its path.
pub async fn still_in_vault(vault: &VaultProvider, item: &PlanItem) -> Result<bool> {
    let path = vault.path_of(&item.name)?;
    let now = vault.client().read(&path, None).await?;
    let fp = now.as_ref().and_then(|s| s.data.as_ref()).and_then(|d| {
        d.expose_secret()
            .as_object()
            .map(|d| item.fingerprint_of(d))
    });
    Ok(fp.as_deref() == Some(item.fingerprint.as_str()))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{apply, plan, Report};
    use super::*;
    use crate::credential::SourceGroup;
    use crate::providers::CredentialProvider;
    use secrecy::SecretString;
    use serde_json::{json, Value};
    use std::path::Path;
    use std::sync::Arc;
    use vault_client::{ClientConfig, ClientOptions, SecretData, VaultClient};

    const FAKE_OPENAI: &str = "sk-proj-FAKE-preflight-openai-0001";
    const FAKE_TELEGRAM: &str = "123456:FAKE-preflight-telegram";

    fn outcome<'a>(report: &'a Report, name: &str) -> &'a Outcome {
        &report
            .items
            .iter()
            .find(|r| r.item.name == name)
            .unwrap()
            .outcome
    }

    fn source(dir: &Path, value: &Value) -> Arc<dyn CredentialProvider> {
        let file = dir.join("source.json");
        write_source(&file, value);
        Arc::new(JsonFileSource::new(&file, "test-files", SourceGroup::Files))
    }

    /// A client as a user configures it: default retries (2, with backoff), no KV version.
    fn client_at(addr: &str) -> Arc<VaultClient> {
        let config = ClientConfig::from_options(ClientOptions {
            addr: Some(addr.to_string()),
            token: Some(SecretString::from("hvs.FAKE-preflight".to_string())),
            ..Default::default()
        })
        .unwrap();
        Arc::new(VaultClient::new(config).unwrap())
    }

    fn many(n: usize) -> Value {
        let mut map = serde_json::Map::new();
        for i in 0..n {
            map.insert(
                format!("k{i:04}"),
                json!({"apiKey": format!("sk-FAKE-preflight-{i:04}")}),
            );
        }
        Value::Object(map)
    }

    fn assert_unreachable_error(err: &Error, code: &str, addr: &str, journal: &Path) {
        assert_eq!(err.code(), code, "{}", err.message);
        assert!(err.message.contains(addr), "{}", err.message);
        assert!(
            err.message.contains("nothing was written"),
            "{}",
            err.message
        );
        assert!(!err.message.contains("sk-FAKE"), "{}", err.message);
        assert!(
            !journal.exists(),
            "the journal claims nothing: it is not even created"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_closed_port_fails_the_run_with_one_error_and_no_journal() {
        let dir = temp_dir("preflight-closed");
        let port = openclaw_vault_test_support::free_port();
        let addr = format!("http://127.0.0.1:{port}");
        for n in [1, 200] {
            let chain = chain_with(client_at(&addr), "pf", vec![source(&dir, &many(n))]);
            let plan = plan(&chain).await.unwrap();
            assert_eq!(plan.items.len(), n);
            let journal = dir.join(format!("closed-{n}.journal"));
            let err = apply(&chain, &plan, &options(&journal), &no_progress())
                .await
                .unwrap_err();
            assert_unreachable_error(&err, "NETWORK", &addr, &journal);
            assert!(err.message.contains(&format!("{n} credential(s)")));
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_hung_vault_fails_the_run_with_one_timeout_and_no_journal() {
        // Accepts connections and never answers, as a hung Vault (or a stuck proxy) does.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = format!("http://{}", listener.local_addr().unwrap());
        let held = std::thread::spawn(move || {
            let mut open = Vec::new();
            for stream in listener.incoming().take(8) {
                open.push(stream);
            }
            open
        });
        let dir = temp_dir("preflight-hung");
        let chain = chain_with(client_at(&addr), "pf", vec![source(&dir, &many(50))]);
        let plan = plan(&chain).await.unwrap();
        let journal = dir.join("hung.journal");
        let err = apply(&chain, &plan, &options(&journal), &no_progress())
            .await
            .unwrap_err();
        assert_unreachable_error(&err, "TIMEOUT", &addr, &journal);
        assert!(
            err.message.contains("did not answer sys/health within 3 s"),
            "{}",
            err.message
        );
        drop(held);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_rerun_checks_vault_and_migrates_again_what_was_deleted() {
        let server = start_vault().await;
        let dir = temp_dir("preflight-rerun");
        let chain = chain_with(
            server.client(None),
            "rerun",
            vec![source(
                &dir,
                &json!({"openai": {"apiKey": FAKE_OPENAI}, "telegram": {"botToken": FAKE_TELEGRAM}}),
            )],
        );
        let journal = dir.join("j");
        let planned = plan(&chain).await.unwrap();
        let first = apply(&chain, &planned, &options(&journal), &no_progress())
            .await
            .unwrap();
        assert_eq!(first.count("created"), 2);
        let client = server.client(None);
        // openai: every version and its metadata gone; telegram: its latest version deleted.
        client
            .delete_metadata("rerun/credentials/openai")
            .await
            .unwrap();
        client.delete("rerun/credentials/telegram").await.unwrap();
        let again = apply(&chain, &planned, &options(&journal), &no_progress())
            .await
            .unwrap();
        assert_eq!(
            outcome(&again, "openai"),
            &Outcome::Created { version: 1 },
            "the journal said done, Vault said gone: migrated again"
        );
        assert_eq!(
            outcome(&again, "telegram"),
            &Outcome::Created { version: 2 }
        );
        for (name, field, value) in [
            ("openai", "apiKey", FAKE_OPENAI),
            ("telegram", "token", FAKE_TELEGRAM),
        ] {
            let back = client
                .read(&format!("rerun/credentials/{name}"), None)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(back.data.unwrap().expose_secret()[field], value);
        }
        // And now the journal and Vault agree: done, nothing written.
        let third = apply(&chain, &planned, &options(&journal), &no_progress())
            .await
            .unwrap();
        assert_eq!(third.count("already_migrated"), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn odd_names_and_placeholders_are_skipped_per_item_the_rest_migrates() {
        let server = start_vault().await;
        let dir = temp_dir("preflight-odd");
        let chain = chain_with(
            server.client(None),
            "odd",
            vec![source(
                &dir,
                &json!({
                    "openai": {"apiKey": FAKE_OPENAI},
                    "..": {"apiKey": "sk-FAKE-dotdot"},
                    "openai/../escape": {"apiKey": "sk-FAKE-escape"},
                    "openai:my key": {"apiKey": "sk-FAKE-space"},
                    "openai:café": {"apiKey": "sk-FAKE-nonascii"},
                    "gateway": {"token": "__OPENCLAW_REDACTED__"},
                    "telegram": {"botToken": " [REDACTED] "},
                    format!("groq:{}", "y".repeat(2000)): {"apiKey": "sk-FAKE-long"},
                }),
            )],
        );
        let planned = plan(&chain).await.unwrap();
        let skipped: Vec<(&str, &str)> = planned
            .skipped
            .iter()
            .map(|s| (s.name.as_str(), s.code))
            .collect();
        assert_eq!(
            skipped,
            [
                ("..", "INVALID_ARGUMENT"),
                ("gateway", "INVALID_ARGUMENT"),
                (
                    format!("groq:{}", "y".repeat(2000)).as_str(),
                    "INVALID_ARGUMENT"
                ),
                ("openai/../escape", "INVALID_ARGUMENT"),
                ("telegram", "INVALID_ARGUMENT"),
            ]
        );
        // A name too long to read back is skipped, named by its start and length.
        let long = planned
            .skipped
            .iter()
            .find(|s| s.name.starts_with("groq:"))
            .unwrap();
        assert!(long.reason.contains("... (2005 bytes)"), "{}", long.reason);

        for s in &planned.skipped {
            assert!(s.reason.contains("source.json"), "{}", s.reason);
            assert!(!s.reason.contains("sk-FAKE"), "{}", s.reason);
        }
        let gateway = planned
            .skipped
            .iter()
            .find(|s| s.name == "gateway")
            .unwrap();
        assert!(
            gateway.reason.contains("redaction placeholder"),
            "{}",
            gateway.reason
        );
        let dotdot = planned.skipped.iter().find(|s| s.name == "..").unwrap();
        assert!(dotdot.reason.contains("rename it"), "{}", dotdot.reason);

        let report = apply(&chain, &planned, &options(&dir.join("j")), &no_progress())
            .await
            .unwrap();
        assert_eq!(report.count("created"), 3);
        let vault = chain.vault().unwrap();
        for (name, value) in [
            ("openai:my key", "sk-FAKE-space"),
            ("openai:café", "sk-FAKE-nonascii"),
        ] {
            let got = vault.get(name).await.unwrap().unwrap();
            assert_eq!(
                secrecy::ExposeSecret::expose_secret(got.primary().unwrap()),
                value
            );
        }
        let client = server.client(None);
        let mut keys = client.list("odd/credentials").await.unwrap();
        keys.sort();
        assert_eq!(keys, ["openai", "openai:café", "openai:my key"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_source_turning_into_a_placeholder_mid_run_is_not_written() {
        let server = start_vault().await;
        let dir = temp_dir("preflight-turning");
        let file = dir.join("source.json");
        write_source(
            &file,
            &json!({"gateway": {"token": "FAKE-gateway-token-0001"}}),
        );
        let path = file.clone();
        // The second read (after the write and read-back) finds the placeholder.
        let src =
            JsonFileSource::new(&file, "test-files", SourceGroup::Files).on_get(move |_, n| {
                if n == 2 {
                    write_source(
                        &path,
                        &json!({"gateway": {"token": "__OPENCLAW_REDACTED__"}}),
                    );
                }
            });
        let chain = chain_with(server.client(None), "turn", vec![Arc::new(src)]);
        let planned = plan(&chain).await.unwrap();
        let report = apply(&chain, &planned, &options(&dir.join("j")), &no_progress())
            .await
            .unwrap();
        let Outcome::Failed { code, message } = outcome(&report, "gateway") else {
            panic!("{:?}", outcome(&report, "gateway"));
        };
        assert_eq!(*code, "INVALID_ARGUMENT");
        assert!(message.contains("redaction placeholder"), "{message}");
        let client = server.client(None);
        let meta = client
            .read_metadata("turn/credentials/gateway")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(meta.current_version, 1, "the placeholder was never written");
        let v = client
            .read("turn/credentials/gateway", None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            v.data.unwrap().expose_secret()["token"],
            "FAKE-gateway-token-0001"
        );
        let _ = SecretData::from_object(Default::default());
    }
}
