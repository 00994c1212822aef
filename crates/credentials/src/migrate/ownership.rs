//! Which planned credentials a CLI owns, and which of them the user hands to the gateway.
//!
//! A token that Claude Code, Codex, Qwen Code, MiniMax or Gemini CLI keeps (see
//! [`cli_owner`]) is not migrated by default: its refresh token works once, so a copy in Vault
//! that the gateway refreshes logs the CLI out, and a refresh by the CLI leaves the Vault copy
//! dead. [`set_aside_owned`] takes such items out of a [`Plan`] and reports each with why;
//! `--take-ownership <name>` keeps one in, for a deployment where the gateway (through
//! `getCredential` with coordinated refresh in Vault) becomes the token's only owner.
//!
//! OpenClaw's own OAuth profiles (type `oauth` in its live SQLite auth stores, such as the
//! `qwen-portal:default` that `openclaw doctor --fix` imports from a legacy
//! `credentials/oauth.json`) are set aside the same way, owner [`OPENCLAW_OWNER`]: OpenClaw
//! refreshes them in its own store, and no SecretRef can stand for OAuth material, so a copy in
//! Vault would only go stale. `--take-ownership` cannot move one (OpenClaw keeps refreshing its
//! copy whatever this package does). Nothing here writes: it is a filter between `plan` and
//! `apply`.

use super::{Plan, PlanItem};
use crate::credential::CredentialKind;
use crate::error::{Error, Result};
use crate::providers::files::format::CliOwner;
use crate::providers::files::formats::cli_owner;
use crate::providers::openclaw_sqlite::{AGENT_AUTH_STORE_ID, SHARED_AUTH_STORE_ID};

/// OpenClaw itself, as the owner of the OAuth profiles in its SQLite auth stores.
pub static OPENCLAW_OWNER: CliOwner = CliOwner {
    cli: "OpenClaw",
    renew: "`openclaw models auth login --provider <provider>`",
};

/// True when `item` is an OAuth profile of OpenClaw's own live auth stores (the shared
/// `state/openclaw.sqlite` row `authProfiles.store`, or an agent's `openclaw-agent.sqlite`):
/// OpenClaw refreshes those tokens there.
fn openclaw_owns(item: &PlanItem) -> bool {
    item.kind == CredentialKind::OAuth
        && matches!(
            item.source_provider,
            SHARED_AUTH_STORE_ID | AGENT_AUTH_STORE_ID
        )
}

/// The owner of `item`: a CLI ([`cli_owner`]) or OpenClaw ([`OPENCLAW_OWNER`]).
fn owner_of(item: &PlanItem) -> Option<&'static CliOwner> {
    if openclaw_owns(item) {
        return Some(&OPENCLAW_OWNER);
    }
    cli_owner(item.source_provider, &item.name)
}

/// A planned credential whose tokens a CLI (or OpenClaw itself) owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedByCli {
    /// The credential name (`anthropic`, `codex`, ...).
    pub name: String,
    /// The provider it was read from (`claude-code`, `codex-keychain`, ...).
    pub source_provider: &'static str,
    /// Where in that source (file or keychain item).
    pub source_location: String,
    /// The CLI that owns it ([`OPENCLAW_OWNER`] for OpenClaw's own OAuth profiles).
    pub owner: &'static CliOwner,
    /// True when `--take-ownership` named it: it stays in the plan and is migrated.
    pub taken: bool,
}

impl OwnedByCli {
    /// True when OpenClaw itself owns it (an OAuth profile of its SQLite auth stores).
    pub fn by_openclaw(&self) -> bool {
        std::ptr::eq(self.owner, &OPENCLAW_OWNER)
    }

    /// The owner's id for `--json`: `openclaw`, or the CLI's source format (`claude-code`,
    /// `codex`, `qwen`, `minimax`, `gemini-cli`).
    pub fn owner_id(&self) -> &'static str {
        if self.by_openclaw() {
            "openclaw"
        } else {
            self.source_provider
                .strip_suffix("-keychain")
                .unwrap_or(self.source_provider)
        }
    }

    /// Why it is not migrated by default, for the plan (text and JSON).
    pub fn reason(&self) -> String {
        if self.by_openclaw() {
            return "OpenClaw owns this OAuth login: OpenClaw refreshes it in its own store; a copy in Vault would go stale (no ref can stand for OAuth tokens). It stays where it is, and `get`/getCredential answer it from OpenClaw's store".to_string();
        }
        let cli = self.owner.cli;
        format!(
            "{cli} owns this login: its refresh token works once, so a copy in Vault refreshed by the gateway would log {cli} out (and a refresh by {cli} would leave the copy dead). It stays where it is; `--take-ownership {}` moves it",
            self.name
        )
    }

    /// What taking it over means, said before anything is written.
    pub fn warning(&self) -> String {
        let cli = self.owner.cli;
        format!(
            "--take-ownership {}: from now on the gateway owns this token in Vault and refreshes it there; {cli} on this machine will be logged out at its next refresh (if {cli} refreshes first, the copy in Vault stops working instead). Keep {cli} off this login, or log it in again with {} for a separate session",
            self.name, self.owner.renew
        )
    }
}

/// Takes the items a CLI owns out of `plan.items`, except those named in `take`, and returns
/// every owned item (taken or not) in plan order. An item is owned when the source it was read
/// from holds it as an OAuth token of a CLI ([`cli_owner`]), or when it is an OAuth profile of
/// OpenClaw's own SQLite auth stores ([`OPENCLAW_OWNER`]; never taken); API keys never are.
///
/// Errors: `INVALID_ARGUMENT` when a name in `take` is an OpenClaw-owned OAuth profile, or is
/// not an owned item of the plan (a name
/// of the plan that no CLI owns is named; any other is not quoted, since a mistyped argument may
/// be a pasted secret). `plan` is unchanged on error.
pub fn set_aside_owned(plan: &mut Plan, take: &[String]) -> Result<Vec<OwnedByCli>> {
    for name in take {
        match plan.items.iter().find(|i| &i.name == name) {
            Some(item) if openclaw_owns(item) => {
                return Err(Error::invalid_argument(format!(
                    "--take-ownership {}: OpenClaw owns this OAuth login and keeps refreshing it in its own store ({}) whatever migrate does, and no ref can stand for OAuth tokens, so a copy in Vault would only go stale; it is never migrated",
                    item.name, item.source_provider
                )))
            }
            Some(item) if owner_of(item).is_some() => {}
            Some(item) => {
                return Err(Error::invalid_argument(format!(
                    "--take-ownership {}: no CLI owns this credential (it is read from {}); it is migrated anyway",
                    item.name, item.source_provider
                )))
            }
            None => {
                let owned: Vec<&str> = plan
                    .items
                    .iter()
                    .filter(|i| owner_of(i).is_some() && !openclaw_owns(i))
                    .map(|i| i.name.as_str())
                    .collect();
                return Err(Error::invalid_argument(format!(
                    "--take-ownership: a name given is not in the plan; the tokens a CLI owns here are: {}",
                    if owned.is_empty() {
                        "none".to_string()
                    } else {
                        owned.join(", ")
                    }
                )));
            }
        }
    }
    let mut owned = Vec::new();
    plan.items.retain(|item| {
        let Some(owner) = owner_of(item) else {
            return true;
        };
        let taken = take.contains(&item.name) && !std::ptr::eq(owner, &OPENCLAW_OWNER);
        owned.push(OwnedByCli {
            name: item.name.clone(),
            source_provider: item.source_provider,
            source_location: item.source_location.clone(),
            owner,
            taken,
        });
        taken
    });
    Ok(owned)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use async_trait::async_trait;
    use secrecy::{ExposeSecret, SecretString};
    use serde_json::{json, Value};

    use super::super::test_support::*;
    use super::super::{apply, plan, Outcome};
    use super::*;
    use crate::chain::{GetOptions, RefreshedTokens, Refresher};
    use crate::credential::{fields, Credential, SourceGroup};
    use crate::openclaw::paths::OpenClawPaths;
    use crate::providers::files::{formats, JsonFileProvider};
    use crate::providers::CredentialProvider;
    use crate::time::now_ms;

    const ACCESS: &str = "sk-ant-oat01-FAKE-owned-access";
    const REFRESH: &str = "sk-ant-ort01-FAKE-owned-refresh";

    struct Counting(AtomicUsize);

    #[async_trait]
    impl Refresher for Counting {
        async fn refresh(&self, credential: &Credential) -> crate::Result<RefreshedTokens> {
            assert_eq!(
                credential
                    .secrets
                    .get(fields::REFRESH_TOKEN)
                    .unwrap()
                    .expose_secret(),
                REFRESH
            );
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(RefreshedTokens {
                access_token: SecretString::from("sk-ant-oat01-FAKE-gateway-new".to_string()),
                refresh_token: Some(SecretString::from(
                    "sk-ant-ort01-FAKE-gateway-new".to_string(),
                )),
                id_token: None,
                expires_at: Some(now_ms() + 3_600_000),
            })
        }
    }

    /// A HOME with an expired Claude Code login and a Telegram token in a plain source, and a
    /// chain of Vault, Claude Code's real file provider and that source.
    fn setup(
        server: &DevVault,
        tag: &str,
    ) -> (
        openclaw_vault_test_support::TempDir,
        Arc<crate::chain::CredentialChain>,
    ) {
        let home = temp_dir(tag);
        let claude = home.join(".claude/.credentials.json");
        std::fs::create_dir_all(claude.parent().unwrap()).unwrap();
        write_source(
            &claude,
            &json!({"claudeAiOauth": {"accessToken": ACCESS, "refreshToken": REFRESH, "expiresAt": now_ms() - 60_000, "scopes": ["user:inference"]}, "mcpOAuth": {}}),
        );
        let other = home.join("other.json");
        write_source(
            &other,
            &json!({"telegram": {"botToken": "123:FAKE-owned-telegram"}}),
        );
        let paths = OpenClawPaths::from_env(&openclaw_vault_test_support::env_of(&[(
            "HOME",
            home.to_str().unwrap(),
        )]));
        let sources: Vec<Arc<dyn CredentialProvider>> = vec![
            Arc::new(JsonFileProvider::from_paths(&formats::CLAUDE_CODE, &paths).unwrap()),
            Arc::new(JsonFileSource::new(
                &other,
                "test-files",
                SourceGroup::Files,
            )),
        ];
        (home, chain_with(server.client(None), tag, sources))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn owned_tokens_are_set_aside_unless_taken_and_a_taken_one_is_the_gateways() {
        let server = start_vault().await;
        let (home, chain) = setup(&server, "owned");
        let claude = home.join(".claude/.credentials.json");
        let before = std::fs::read(&claude).unwrap();

        // By default: set aside, with why.
        let mut default_plan = plan(&chain).await.unwrap();
        let owned = set_aside_owned(&mut default_plan, &[]).unwrap();
        let names: Vec<_> = default_plan.items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["telegram"]);
        assert_eq!(owned.len(), 1);
        assert_eq!(owned[0].name, "anthropic");
        assert_eq!(owned[0].source_provider, "claude-code");
        assert_eq!(owned[0].owner, &formats::CLAUDE_CODE_CLI);
        assert!(!owned[0].taken);
        assert_eq!(owned[0].source_location, claude.display().to_string());
        let reason = owned[0].reason();
        assert!(reason.contains("works once") && reason.contains("log Claude Code out"));
        assert!(reason.contains("--take-ownership anthropic"));

        // Names that are not owned items are refused, the plan left as it was.
        let mut p = plan(&chain).await.unwrap();
        let err = set_aside_owned(&mut p, &["telegram".into()]).unwrap_err();
        assert_eq!(err.code(), "INVALID_ARGUMENT");
        assert!(err.message.contains("no CLI owns this credential"));
        let err = set_aside_owned(&mut p, &["sk-ant-oat01-FAKE-pasted".into()]).unwrap_err();
        assert_eq!(err.code(), "INVALID_ARGUMENT");
        assert!(!err.message.contains("FAKE-pasted"), "{}", err.message);
        assert!(
            err.message.contains("here are: anthropic"),
            "{}",
            err.message
        );
        assert_eq!(p.items.len(), 2);

        // Taken: stays in the plan and is migrated.
        let mut taken_plan = plan(&chain).await.unwrap();
        let owned = set_aside_owned(&mut taken_plan, &["anthropic".into()]).unwrap();
        assert!(owned[0].taken);
        let warning = owned[0].warning();
        assert!(
            warning.contains("Claude Code on this machine will be logged out at its next refresh")
        );
        assert!(warning.contains("`claude auth login`"));
        for text in [&reason, &warning] {
            assert!(!text.contains(ACCESS) && !text.contains(REFRESH));
        }
        let journal = home.join("journal");
        let report = apply(&chain, &taken_plan, &options(&journal), &no_progress())
            .await
            .unwrap();
        let outcomes: Vec<_> = report
            .items
            .iter()
            .map(|r| (r.item.name.as_str(), r.outcome.clone()))
            .collect();
        assert!(
            matches!(outcomes[0], ("anthropic", Outcome::Created { .. })),
            "{outcomes:?}"
        );
        let client = server.client(None);
        let path = "owned/credentials/anthropic";
        let stored = |v: Option<vault_client::KvSecret>| -> Value {
            v.unwrap().data.unwrap().expose_secret().clone()
        };
        assert_eq!(
            stored(client.read(path, None).await.unwrap())["accessToken"],
            ACCESS
        );

        // The gateway now owns it: a refresh trades it once, in Vault, and never writes the
        // CLI's file.
        let refresher = Arc::new(Counting(AtomicUsize::new(0)));
        let options = GetOptions {
            refresher: Some(refresher.clone()),
            ..Default::default()
        };
        let got = chain.get("anthropic", &options).await.unwrap();
        assert_eq!(got.credential.source.provider, "vault");
        assert_eq!(
            got.credential.primary().unwrap().expose_secret(),
            "sk-ant-oat01-FAKE-gateway-new"
        );
        assert_eq!(refresher.0.load(Ordering::SeqCst), 1);
        assert_eq!(
            stored(client.read(path, None).await.unwrap())["refreshToken"],
            "sk-ant-ort01-FAKE-gateway-new"
        );
        assert_eq!(std::fs::read(&claude).unwrap(), before);

        // The CLI's own copy, asked for directly, is still never refreshed.
        let only_files = GetOptions {
            order: Some(vec![SourceGroup::Files]),
            refresher: Some(refresher.clone()),
            ..Default::default()
        };
        let err = chain.get("anthropic", &only_files).await.unwrap_err();
        assert_eq!(err.code(), "REFRESH_FAILED");
        assert_eq!(refresher.0.load(Ordering::SeqCst), 1);
        assert_eq!(std::fs::read(&claude).unwrap(), before);
    }

    /// An OAuth profile of OpenClaw's shared SQLite store (as `openclaw doctor --fix` imports a
    /// legacy oauth.json) is OpenClaw's: set aside with owner OpenClaw, never taken over; an API
    /// key profile of the same store is migrated.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn openclaws_own_oauth_profiles_are_set_aside_and_never_taken() {
        let home = temp_dir("owned-openclaw");
        let state = home.join(".openclaw");
        import_into_shared_store(
            &state,
            &json!({"version": 1, "profiles": {
                "qwen-portal:default": {"type": "oauth", "provider": "qwen-portal",
                    "access": "FAKE-owned-qwen-access", "refresh": "FAKE-owned-qwen-refresh",
                    "expires": now_ms() + 3_600_000},
                "openai:default": {"type": "api_key", "provider": "openai", "key": "sk-FAKE-owned-openai"}}}),
        );
        let h = home.to_string_lossy().into_owned();
        let paths = OpenClawPaths::from_env(&move |k| (k == "HOME").then(|| h.clone()));
        let no_env: crate::store::EnvLookup = Arc::new(|_| None);
        let sources =
            crate::providers::openclaw_sqlite::sqlite_providers(&paths, no_env, None, None);
        let chain = chain_with(offline_client(), "owned-oc", sources);
        let mut p = plan(&chain).await.unwrap();
        let before: Vec<String> = p.items.iter().map(|i| i.name.clone()).collect();
        assert!(
            before.iter().any(|n| n.starts_with("qwen-portal")),
            "{before:?}"
        );

        let err = set_aside_owned(&mut p, &["qwen-portal:default".into()]).unwrap_err();
        assert_eq!(err.code(), "INVALID_ARGUMENT");
        assert!(
            err.message.contains("OpenClaw owns this OAuth login"),
            "{}",
            err.message
        );
        assert_eq!(p.items.len(), before.len(), "unchanged on error");

        let owned = set_aside_owned(&mut p, &[]).unwrap();
        let names: Vec<_> = p.items.iter().map(|i| i.name.as_str()).collect();
        assert!(
            names.iter().all(|n| !n.starts_with("qwen-portal")),
            "{names:?}"
        );
        assert!(names.contains(&"openai:default"), "{names:?}");
        let q = owned
            .iter()
            .find(|o| o.name == "qwen-portal:default")
            .unwrap();
        assert!(q.by_openclaw() && !q.taken);
        assert_eq!(q.owner_id(), "openclaw");
        assert_eq!(q.owner, &OPENCLAW_OWNER);
        assert!(q
            .reason()
            .contains("OpenClaw refreshes it in its own store; a copy in Vault would go stale"));
        assert!(owned.iter().all(|o| o.by_openclaw()));
    }
}
