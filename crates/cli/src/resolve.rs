//! `resolve`: OpenClaw's exec SecretRef provider. Reads one request from stdin, prints one JSON
//! object, exits 0 (per-id errors are inside the object) or 1 (a provider-wide failure).

use std::io::Write;
use std::sync::Arc;

use clap::Args;

use super::{exit, CliIo};
use openclaw_credentials::resolve::{self, ChainFallback, LocalFallback};

/// Environment variables, shown by `openclaw-vault resolve --help`.
const ENV_HELP: &str = "\
Run by OpenClaw as an exec secrets provider; see docs/openclaw-exec-provider.md.
stdin:  {\"protocolVersion\":1,\"provider\":\"vault\",\"ids\":[\"providers/openai/apiKey\", \"app#token\"]}
stdout: {\"protocolVersion\":1,\"values\":{...},\"errors\":{\"<id>\":{\"message\":...,\"code\":\"NOT_FOUND\"}}}
An id is <path>/<field> or <path>#<field>; the path is read from the KV mount once, whatever the
number of its fields asked for. Exit 0, or 1 with errors.request for a provider-wide failure.

Environment (list the ones you use in the provider's passEnv; nothing needs HOME or PATH):
  VAULT_ADDR                     Vault address (else `vault` in openclaw-vault.json next to
                                 openclaw.json, found through OPENCLAW_STATE_DIR,
                                 OPENCLAW_CONFIG_PATH or HOME)
  VAULT_TOKEN                    token (auth method `token`, the default)
  VAULT_TOKEN_FILE               file holding the token (used when VAULT_TOKEN is unset)
  VAULT_NAMESPACE                Enterprise / HCP namespace
  OPENCLAW_VAULT_AUTH_METHOD     token | token_file | jwt | kubernetes | approle | userpass | cert
  OPENCLAW_VAULT_AUTH_MOUNT      auth mount (default: the method's name)
  OPENCLAW_VAULT_AUTH_ROLE       role for jwt and kubernetes (cert: the certificate role name)
  OPENCLAW_VAULT_JWT_FILE        JWT file (kubernetes default: the service-account token)
  OPENCLAW_VAULT_APPROLE_ROLE_ID[_FILE], OPENCLAW_VAULT_APPROLE_SECRET_ID[_FILE]   approle
  OPENCLAW_VAULT_USERNAME, OPENCLAW_VAULT_PASSWORD[_FILE]                          userpass
  OPENCLAW_VAULT_KV_MOUNT        KV mount (default secret)
  OPENCLAW_VAULT_KV_VERSION      2 (default), 1, or auto
  NODE_EXTRA_CA_CERTS, VAULT_CACERT, VAULT_CAPATH, VAULT_CLIENT_CERT, VAULT_CLIENT_KEY,
  VAULT_TLS_SERVER_NAME, VAULT_SKIP_VERIFY    TLS (system roots are always trusted)
  VAULT_MAX_RETRIES (2), VAULT_CLIENT_TIMEOUT (5s per request), VAULT_HTTP_PROXY
  OPENCLAW_VAULT_RESOLVE_TIMEOUT_MS          whole run (default 12000; keep below timeoutMs)
  OPENCLAW_VAULT_RESOLVE_MAX_OUTPUT_BYTES    output cap (default 1048576, OpenClaw's maxOutputBytes)
  OPENCLAW_VAULT_RESOLVE_CONCURRENCY         reads in flight (default 16)
  OPENCLAW_VAULT_RESOLVE_FALLBACK=local      answer credentials/<name>/<field> ids Vault cannot
                                             from local sources (keychain, files, env); off by default
  OPENCLAW_VAULT_PREFIX                      prefix before credentials/<name> (default openclaw)
  OPENCLAW_STATE_DIR (or OPENCLAW_CONFIG_PATH, HOME)   where OpenClaw's config is: its
                                             credentials.lastKnownGood keeps every read in an
                                             encrypted file and answers from it, stale, while
                                             Vault is unreachable (docs/last-known-good.md)";

/// Arguments of `resolve` (the request itself comes on stdin). OpenClaw passes these from the
/// provider's `args`, e.g. `["resolve", "--agent", "ops", "--team", "core"]`: one provider per
/// agent, each with its own identity.
#[derive(Debug, Args)]
#[command(after_long_help = ENV_HELP, after_help = ENV_HELP)]
pub struct ResolveArgs {
    /// Read `<prefix>/credentials/<name>` ids from this agent's layer first
    /// (`<prefix>/agents/<id>/credentials/<name>`); over `agent` in openclaw-vault.json. The ids
    /// stay the default layer's. See docs/layers.md.
    #[arg(long)]
    pub agent: Option<String>,
    /// Then from this team's layer (`<prefix>/teams/<team>/credentials/<name>`); over `team`.
    #[arg(long)]
    pub team: Option<String>,
}

/// The last-known-good and audit settings from OpenClaw's config, found through the variables
/// the provider passes (`OPENCLAW_STATE_DIR`, `OPENCLAW_CONFIG_PATH` or `HOME`). A config or
/// environment that is not usable leaves them off (said on stderr, which OpenClaw never reads
/// but an operator running the command does): the resolver answers from Vault as before.
fn resolve_extras(
    options: &openclaw_credentials::store::StoreOptions,
    stderr: &mut dyn Write,
) -> resolve::ResolveExtras {
    match openclaw_credentials::store::load_store_config(options) {
        Ok(loaded) => {
            // A last-known-good setting that is off or misspelt is said at each run, on stderr:
            // otherwise it is found out in the outage.
            for w in loaded.warnings.iter().map(ToString::to_string) {
                if w.contains("lastKnownGood") {
                    let _ = writeln!(stderr, "openclaw-vault resolve: warning: {w}");
                }
            }
            resolve_extras_of(loaded)
        }
        Err(e) => {
            let _ = writeln!(
                stderr,
                "openclaw-vault resolve: OpenClaw's config or environment is not usable ({}: {}); no last-known-good file for this run",
                e.code(),
                e.message
            );
            resolve::ResolveExtras::default()
        }
    }
}

fn resolve_extras_of(
    loaded: openclaw_credentials::openclaw::config::LoadedConfig,
) -> resolve::ResolveExtras {
    resolve::ResolveExtras {
        vault: loaded
            .credentials
            .vault
            .clone()
            .map(|client| resolve::SettingsVault {
                client,
                prefix: loaded.credentials.prefix.clone(),
            }),
        last_known_good: loaded.credentials.last_known_good,
        audit: loaded.credentials.audit,
        agent: loaded.credentials.layers.agent,
        team: loaded.credentials.layers.team,
    }
}

/// `resolve`.
pub async fn resolve(args: ResolveArgs, io: &mut CliIo) -> i32 {
    let stdin = std::mem::replace(&mut io.stdin, Box::new(std::io::empty()));
    let deadline = resolve::run_deadline_of(&*io.env);
    let input = match resolve::read_request(stdin, deadline) {
        Ok(input) => input,
        Err(rendered) => {
            let _ = io.stdout.write_all(&rendered.stdout);
            let _ = io.stdout.flush();
            return exit::FAILURE;
        }
    };
    let env = io.env.clone();
    let options = io.store_options();
    let fallback = move || -> Option<Arc<dyn LocalFallback>> {
        let store = openclaw_credentials::store::open_store(&options).ok()?;
        Some(Arc::new(ChainFallback { chain: store.chain }))
    };
    let mut extras = resolve_extras(&io.store_options(), &mut io.stderr);
    if args.agent.is_some() {
        extras.agent = args.agent;
    }
    if args.team.is_some() {
        extras.team = args.team;
    }
    let rendered = resolve::run(&input, &*env, fallback, extras).await;
    let _ = io.stdout.write_all(&rendered.stdout);
    let _ = io.stdout.flush();
    if rendered.exit_code == 0 {
        exit::OK
    } else {
        exit::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_io::run_with;

    #[tokio::test]
    async fn bad_stdin_is_one_provider_wide_json_answer() {
        let (code, out, err) = run_with(&["resolve"], "not json", &[]).await;
        assert_eq!(code, 1);
        assert_eq!(out.lines().count(), 1, "{out}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["protocolVersion"], 1);
        assert!(v["errors"]["request"]["message"]
            .as_str()
            .unwrap()
            .contains("not JSON"));
        assert!(err.is_empty(), "{err}");
    }

    #[tokio::test]
    async fn missing_address_is_provider_wide_and_help_lists_the_variables() {
        let (code, out, _) = run_with(
            &["resolve"],
            r#"{"protocolVersion":1,"provider":"vault","ids":["a/b"]}"#,
            &[("VAULT_TOKEN", "hvs.FAKE-token")],
        )
        .await;
        assert_eq!(code, 1);
        assert!(out.contains("VAULT_ADDR") && !out.contains("FAKE"), "{out}");
        let (code, out, _) = run_with(&["resolve", "--help"], "", &[]).await;
        assert_eq!(code, 0);
        for var in [
            "VAULT_ADDR",
            "OPENCLAW_VAULT_AUTH_METHOD",
            "OPENCLAW_VAULT_RESOLVE_FALLBACK",
        ] {
            assert!(out.contains(var), "{var}: {out}");
        }
    }

    // Attack 8 finding 15: a last-known-good setting that leaves the file off was said by
    // `status` only; the resolver wrote nothing and said nothing (found out in the outage).
    #[tokio::test]
    async fn a_last_known_good_setting_that_is_off_or_misspelt_is_said_at_each_resolve() {
        let home = openclaw_vault_test_support::temp_dir("cli-resolve-lkg");
        let h = home.to_str().unwrap();
        let state = home.join(".openclaw");
        std::fs::create_dir_all(&state).unwrap();
        let settings = state.join("openclaw-vault.json");
        let env = [
            ("HOME", h),
            ("VAULT_ADDR", "http://127.0.0.1:9"),
            ("VAULT_TOKEN", "hvs.FAKE-lkg-token"),
            ("OPENCLAW_VAULT_RESOLVE_TIMEOUT_MS", "300"),
        ];
        let request = r#"{"protocolVersion":1,"provider":"v","ids":["a/b/c"]}"#;
        for (doc, said) in [
            (
                r#"{lastKnownGood: {enabled: true, key: "keychain"}}"#,
                "`lastKnownGood.key` must be \"auth\"",
            ),
            (
                r#"{lastKnownGood: {enabled: true, maxAgMs: 5}}"#,
                "lastKnownGood.maxAgMs",
            ),
            (r#"{lastKnownGood: {maxAgeMs: 5}}"#, "`enabled` is not true"),
        ] {
            std::fs::write(&settings, doc).unwrap();
            std::fs::set_permissions(
                &settings,
                std::os::unix::fs::PermissionsExt::from_mode(0o600),
            )
            .unwrap();
            let (_, out, err) = run_with(&["resolve"], request, &env).await;
            assert!(err.contains("openclaw-vault resolve: "), "{doc}: {err}");
            assert!(err.contains(said), "{doc}: {err}");
            assert!(!format!("{out}{err}").contains("FAKE"), "{out}{err}");
        }
        std::fs::remove_dir_all(home).unwrap();
    }
}
