//! `watch --reload`: the rotation companion of a running OpenClaw gateway (see
//! `openclaw_credentials::gateway_reload`). Parsing and printing only.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use secrecy::SecretString;

use super::{exit, fail, CliIo};
use openclaw_credentials::gateway_reload::{
    self as core, Current, Ending, OpenClawReloader, Reloader, WatchEvent, WatchSettings,
};
use openclaw_credentials::migrate::apply_plan::OpenClawCli;
use openclaw_credentials::openclaw::paths::OpenClawPaths;
use openclaw_credentials::Error;

const HELP: &str = "\
Examples:
  openclaw-vault watch --reload
  openclaw-vault watch --reload --interval-ms 10000 --openclaw /usr/local/bin/openclaw
  openclaw-vault watch --reload --gateway-url ws://127.0.0.1:18789 --gateway-token-file /run/secrets/gw

Polls the Vault versions (KV v2 metadata, never a value) of every secret the gateway's
openclaw.json refers to through this package's resolver, and on a change runs
`openclaw secrets reload --json` (the gateway's secrets.reload RPC). Vault's event notifications
are Enterprise-only, so this polls. One log line per rotation: path, old and new version.
A reload that fails (gateway down, RPC error) stays pending and is retried with backoff.
Vault and the gateway are found like the resolver and OpenClaw find them: VAULT_ADDR,
VAULT_TOKEN, ... and OPENCLAW_CONFIG_PATH / OPENCLAW_STATE_DIR.
Exit code: 0 stopped by SIGTERM/SIGINT (or --max-reloads reached), 5 failing without a break
for longer than --unhealthy-after-ms, 2 bad arguments, 1 cannot start (no config, no refs).";

/// Arguments of `watch`.
#[derive(Debug, Args)]
#[command(after_help = HELP, after_long_help = HELP)]
pub struct WatchArgs {
    /// Run `openclaw secrets reload` after a rotation (without it, rotations are only logged).
    #[arg(long)]
    pub reload: bool,
    /// Milliseconds between checks (jittered down by up to a fifth, longer while Vault or the
    /// gateway is away), 100 to 86400000. Default 5000.
    #[arg(long, value_name = "MS")]
    pub interval_ms: Option<u64>,
    /// The gateway's openclaw.json. Default: OpenClaw's own (OPENCLAW_CONFIG_PATH, else the state
    /// directory's).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The openclaw CLI to run. Default: `openclaw` on PATH.
    #[arg(long, value_name = "PATH")]
    pub openclaw: Option<PathBuf>,
    /// The gateway's WebSocket URL (given to OpenClaw as OPENCLAW_GATEWAY_URL). Default: the
    /// local gateway OpenClaw's config names.
    #[arg(long, value_name = "URL")]
    pub gateway_url: Option<String>,
    /// A file holding the gateway token (given to OpenClaw as OPENCLAW_GATEWAY_TOKEN, never on
    /// a command line). Needs --gateway-url: for the local gateway of its config OpenClaw uses
    /// gateway.auth.token over OPENCLAW_GATEWAY_TOKEN. Default: OpenClaw's own.
    #[arg(long, value_name = "FILE")]
    pub gateway_token_file: Option<PathBuf>,
    /// Milliseconds one reload may take, Node's start included (the openclaw CLI is killed
    /// past it), 1000 to 600000. Default 30000.
    #[arg(long, value_name = "MS")]
    pub reload_timeout_ms: Option<u64>,
    /// Milliseconds one secret's metadata read from Vault may take (login and retries
    /// included), 100 to 600000. Default 5000. A Vault that accepts connections and never
    /// answers is reported after this and retried with backoff.
    #[arg(long, value_name = "MS")]
    pub vault_timeout_ms: Option<u64>,
    /// Exit 5 after Vault or the gateway failed without a break this many milliseconds (0:
    /// never). Default 600000 (10 min).
    #[arg(long, value_name = "MS")]
    pub unhealthy_after_ms: Option<u64>,
    /// Do not reload once at start (by default it does, so a rotation made while this
    /// companion was down is not lost).
    #[arg(long)]
    pub no_initial_reload: bool,
    /// Also treat this `secrets.providers` alias as this package's resolver. Repeatable.
    #[arg(long = "provider", value_name = "ALIAS")]
    pub providers: Vec<String>,
    /// Stop after this many successful reloads (for tests and benchmarks).
    #[arg(long, value_name = "N", hide = true)]
    pub max_reloads: Option<u64>,
}

fn ms_in(
    value: Option<u64>,
    default: u64,
    min: u64,
    max: u64,
    flag: &str,
) -> Result<Duration, Error> {
    match value {
        None => Ok(Duration::from_millis(default)),
        Some(ms) if (min..=max).contains(&ms) => Ok(Duration::from_millis(ms)),
        Some(_) => Err(Error::invalid_argument(format!(
            "{flag} must be from {min} to {max}"
        ))),
    }
}

/// Reads the token file: its first line, trimmed. `INVALID_ARGUMENT` naming the file (never
/// its content) when it cannot be read or is empty.
fn read_token(file: &std::path::Path) -> Result<SecretString, Error> {
    let bytes = std::fs::read(file).map_err(|e| {
        Error::invalid_argument(format!(
            "--gateway-token-file {}: cannot be read ({})",
            file.display(),
            e.kind()
        ))
    })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::invalid_argument(format!(
            "--gateway-token-file {}: is not UTF-8 text",
            file.display()
        ))
    })?;
    let token = text.lines().next().unwrap_or("").trim().to_string();
    if token.is_empty() {
        return Err(Error::invalid_argument(format!(
            "--gateway-token-file {}: is empty",
            file.display()
        )));
    }
    Ok(SecretString::from(token))
}

/// The settings and the reloader for `args`.
fn prepare(args: &WatchArgs, io: &CliIo) -> Result<(WatchSettings, Arc<dyn Reloader>), Error> {
    let interval = ms_in(args.interval_ms, 5000, 100, 86_400_000, "--interval-ms")?;
    let timeout = ms_in(
        args.reload_timeout_ms,
        30_000,
        1000,
        600_000,
        "--reload-timeout-ms",
    )?;
    let vault_timeout = ms_in(
        args.vault_timeout_ms,
        5000,
        100,
        600_000,
        "--vault-timeout-ms",
    )?;
    if args.gateway_token_file.is_some() && args.gateway_url.is_none() {
        // OpenClaw's CLI takes the local gateway's token from its config (gateway.auth.token)
        // over OPENCLAW_GATEWAY_TOKEN: the file would be silently ignored.
        return Err(Error::invalid_argument(
            "--gateway-token-file needs --gateway-url: for the local gateway of its config OpenClaw uses gateway.auth.token, not the token file; pass --gateway-url ws://127.0.0.1:<gateway.port> too",
        ));
    }
    let unhealthy_after = match args.unhealthy_after_ms {
        Some(0) => None,
        other => Some(ms_in(
            other,
            600_000,
            1000,
            86_400_000 * 7,
            "--unhealthy-after-ms",
        )?),
    };
    let env = io.env.clone();
    let config_file = match &args.config {
        Some(f) => f.clone(),
        None => OpenClawPaths::from_env(&|k| env(k))
            .config_file()
            .ok_or_else(|| {
                Error::invalid_config(
                    "no openclaw.json found (OPENCLAW_CONFIG_PATH, or the state directory's); pass --config",
                )
            })?,
    };
    let reloader: Arc<dyn Reloader> = if args.reload {
        let cli = OpenClawCli::locate(args.openclaw.as_deref(), &|k| env(k)).map_err(|e| {
            if args.openclaw.is_some() {
                e
            } else {
                Error::invalid_config(
                    "the openclaw CLI was not found on PATH: pass --openclaw <path to openclaw>",
                )
            }
        })?;
        let token = args
            .gateway_token_file
            .as_deref()
            .map(read_token)
            .transpose()?;
        // When gateway.auth.token is a ref of ours, a reload authenticates with the token the
        // running gateway holds, which needs a URL override (OpenClaw takes
        // OPENCLAW_GATEWAY_TOKEN only then): --gateway-url, else the local gateway's.
        let tracked_token_url = args.gateway_url.clone().or_else(|| {
            let read =
                openclaw_credentials::local_file::read_credential_file(&config_file, 16 << 20)
                    .ok()??;
            let config = openclaw_credentials::openclaw::config::parse_json5(&read).ok()?;
            core::local_gateway_url(&config, &|k| env(k))
        });
        Arc::new(OpenClawReloader {
            cli,
            url: args.gateway_url.clone(),
            token,
            tracked_token_url,
            timeout,
        })
    } else {
        Arc::new(core::LogOnly)
    };
    Ok((
        WatchSettings {
            config_file,
            extra_aliases: args.providers.clone(),
            state: Some(OpenClawPaths::from_env(&|k| env(k))),
            interval,
            vault_timeout,
            initial_reload: args.reload && !args.no_initial_reload,
            unhealthy_after,
            max_reloads: args.max_reloads,
            last_known_good: None,
        },
        reloader,
    ))
}

/// One log line (stderr) for an event; never a value or the token.
pub fn line_of(event: &WatchEvent) -> String {
    match event {
        WatchEvent::Watching {
            refs,
            paths,
            config,
        } => format!(
            "watching {refs} ref(s) over {paths} Vault secret(s) from {}",
            config.display()
        ),
        WatchEvent::Warning { message } => format!("warning: {message}"),
        WatchEvent::Rotated { path, old, new } => {
            format!("rotated {path}: version {old} -> {new}")
        }
        WatchEvent::Deleted { path, now } => match now {
            Current::Deleted(v) => {
                format!("deleted {path}: version {v} deleted in Vault (not found from now on)")
            }
            Current::Destroyed(v) => {
                format!("deleted {path}: version {v} destroyed in Vault (not found from now on)")
            }
            Current::Absent => format!(
                "removed {path}: no version left in Vault (metadata deleted; not found from now on)"
            ),
            Current::Live(v) => format!("{path}: version {v}"),
        },
        WatchEvent::Restored { path, version } => {
            format!("restored {path}: version {version} is readable again")
        }
        WatchEvent::Forgotten { paths, file } => format!(
            "dropped {} from the last-known-good file {}",
            paths.join(", "),
            file.display()
        ),
        WatchEvent::GatewayTokenRotated {
            json_path,
            path,
            old,
            new,
        } => format!(
            "the gateway token ({json_path}, {path}) rotated: version {old} -> {new}; the reload authenticates with the token the running gateway holds, then the gateway holds the new one"
        ),
        WatchEvent::NotReloaded { why } => format!(
            "seen ({why}); nothing reloaded (without --reload the gateway keeps its values until it restarts or `openclaw secrets reload` runs)"
        ),
        WatchEvent::Reloaded {
            why,
            elapsed,
            warning_count,
        } => {
            let what = why.to_string();
            let warnings = if *warning_count > 0 {
                format!(", {warning_count} warning(s): some owners kept stale or cold values")
            } else {
                String::new()
            };
            format!(
                "gateway reloaded ({what}) in {} ms{warnings}",
                elapsed.as_millis()
            )
        }
        WatchEvent::VaultFailing {
            code,
            message,
            retry_in,
        } => format!(
            "cannot read versions from Vault ({code}: {message}); retrying in {} ms",
            retry_in.as_millis()
        ),
        WatchEvent::ReloadFailing {
            why,
            message,
            retry_in,
        } => format!(
            "gateway reload failed ({message}); pending: {why}; retrying in {} ms",
            retry_in.as_millis()
        ),
        WatchEvent::Recovered { after } => {
            format!("recovered after {} ms of failures", after.as_millis())
        }
    }
}

/// `watch`.
pub async fn watch(args: WatchArgs, io: &mut CliIo) -> i32 {
    // Handlers first: a SIGTERM during the first (possibly hanging) Vault check must stop the
    // companion cleanly (exit 0), not kill it with the default action.
    let stop = stop_signal();
    let (mut settings, reloader) = match prepare(&args, io) {
        Ok(p) => p,
        Err(e) => return fail(io, false, &e),
    };
    let env = io.env.clone();
    let home = env("HOME").map(PathBuf::from);
    let config = openclaw_credentials::openclaw::vault_env::client_config_from_env(
        &|k| env(k),
        home.as_deref(),
    )
    .map_err(Error::from)
    .and_then(|mut config| {
        if env("OPENCLAW_VAULT_KV_VERSION").is_none() {
            config.kv_version = Some(vault_client::config::KvVersion::V2);
        }
        if config.token.is_none() && config.login.is_none() {
            // Without a token every check is a 403, retried forever: refuse to start instead.
            let why = match env("VAULT_TOKEN") {
                Some(t) if t.trim().is_empty() => "VAULT_TOKEN is set but empty",
                _ => "VAULT_TOKEN is not set",
            };
            return Err(Error::invalid_argument(format!(
                "no Vault token: {why} (and no VAULT_TOKEN_FILE, OPENCLAW_VAULT_AUTH_METHOD or ~/.vault-token); set VAULT_TOKEN as the resolver gets it"
            )));
        }
        Ok(config)
    });
    let config = match config {
        Ok(c) => c,
        Err(e) => return fail(io, false, &e),
    };
    // The resolver's last-known-good file, so a deleted secret is dropped from it at once.
    // A file it cannot open (another key: this companion's Vault auth material differs from
    // the resolver's) is said loudly at start, and again at each deletion it cannot drop.
    match openclaw_credentials::store::load_store_config(&io.store_options()) {
        Ok(loaded) => {
            if let Some(lkg) = loaded.credentials.last_known_good {
                let path = lkg.path.clone();
                match openclaw_credentials::last_known_good::LastKnownGood::new(lkg, &config) {
                    Ok(file) => {
                        if let Err(e) = file.check() {
                            let _ = writeln!(
                                io.stderr,
                                "openclaw-vault watch: warning: cannot open the last-known-good file {} ({}); a secret deleted in Vault is not dropped from it and may be served in a Vault outage: run this companion with the resolver's Vault auth material (VAULT_TOKEN, VAULT_TOKEN_FILE or login)",
                                path.display(),
                                e.message
                            );
                        }
                        settings.last_known_good = Some(Arc::new(file));
                    }
                    Err(e) => {
                        let _ = writeln!(
                            io.stderr,
                            "openclaw-vault watch: warning: the last-known-good file {} cannot be used ({}); deleted secrets are dropped from it only by the resolver",
                            path.display(),
                            e.message
                        );
                    }
                }
            }
        }
        Err(e) => {
            let _ = writeln!(
                io.stderr,
                "openclaw-vault watch: warning: the settings cannot be read ({}); a last-known-good file is not kept in step with deletions",
                e.message
            );
        }
    }
    let client = match vault_client::VaultClient::new(config).map_err(Error::from) {
        Ok(c) => c,
        Err(e) => return fail(io, false, &e),
    };
    let stderr = &mut io.stderr;
    let mut on_event = |event: WatchEvent| {
        let _ = writeln!(stderr, "openclaw-vault watch: {}", line_of(&event));
        let _ = stderr.flush();
    };
    let ended = core::run(settings, Arc::new(client), reloader, &mut on_event, stop).await;
    match ended {
        Ok(Ending::Stopped) | Ok(Ending::Done) => exit::OK,
        Ok(Ending::Unhealthy { for_, last_error }) => {
            let _ = writeln!(
                io.stderr,
                "error [UNHEALTHY]: failing for {} s without a break; last error: {last_error}",
                for_.as_secs()
            );
            exit::UNHEALTHY
        }
        Err(e) => fail(io, false, &e),
    }
}

/// Resolves at SIGTERM or SIGINT (Ctrl-C). The handlers are installed when this is called,
/// not when the future is first polled.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let streams = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        );
        async move {
            match streams {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
                _ => std::future::pending::<()>().await,
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_io::run_with;
    use super::*;

    #[tokio::test]
    async fn bad_arguments_exit_2_and_a_missing_config_or_cli_exits_1_naming_it() {
        let home = openclaw_vault_test_support::temp_dir("cli-watch-args");
        let h = home.to_str().unwrap();
        let env = [
            ("HOME", h),
            ("PATH", "/nonexistent"),
            ("VAULT_ADDR", "http://127.0.0.1:1"),
            ("VAULT_TOKEN", "hvs.CANARY-watch-token"),
        ];
        let (code, _, err) = run_with(&["watch", "--interval-ms", "5"], "", &env).await;
        assert_eq!(code, exit::USAGE, "{err}");
        assert!(err.contains("--interval-ms must be from 100"), "{err}");
        let missing = home.join("missing.json");
        let m = missing.to_str().unwrap();
        let (code, _, err) = run_with(&["watch", "--config", m], "", &env).await;
        assert_eq!(code, exit::FAILURE, "{err}");
        assert!(
            err.contains("error [INVALID_CONFIG]") && err.contains("missing.json: no such file"),
            "{err}"
        );
        let (code, _, err) = run_with(&["watch", "--reload", "--config", m], "", &env).await;
        assert_eq!(code, exit::FAILURE, "{err}");
        assert!(err.contains("openclaw CLI was not found on PATH"), "{err}");
        assert!(!err.contains("CANARY"), "{err}");
        // A token file without the URL would be ignored by OpenClaw: refused, naming the flag.
        let tok = home.join("gw-token");
        std::fs::write(&tok, "gw-CANARY-token\n").unwrap();
        let (code, _, err) = run_with(
            &[
                "watch",
                "--reload",
                "--gateway-token-file",
                tok.to_str().unwrap(),
                "--config",
                m,
            ],
            "",
            &env,
        )
        .await;
        assert_eq!(code, exit::USAGE, "{err}");
        assert!(
            err.contains("error [INVALID_ARGUMENT]: --gateway-token-file needs --gateway-url"),
            "{err}"
        );
        assert!(!err.contains("CANARY"), "{err}");
        // An empty VAULT_TOKEN is refused before anything is sent.
        let config = home.join("openclaw.json");
        std::fs::write(
            &config,
            r#"{secrets: {providers: {v: {source: "exec", command: "/x/openclaw-vault", args: ["resolve"]}}},
                models: {providers: {s: {apiKey: {source: "exec", provider: "v", id: "a/b/apiKey"}}}}}"#,
        )
        .unwrap();
        let c = config.to_str().unwrap();
        let empty = [
            ("HOME", h),
            ("PATH", "/nonexistent"),
            ("VAULT_ADDR", "http://127.0.0.1:1"),
            ("VAULT_TOKEN", ""),
        ];
        let (code, _, err) = run_with(&["watch", "--config", c], "", &empty).await;
        assert_eq!(code, exit::USAGE, "{err}");
        assert!(
            err.contains("error [INVALID_ARGUMENT]: no Vault token: VAULT_TOKEN is set but empty"),
            "{err}"
        );
        std::fs::remove_dir_all(home).unwrap();
    }

    #[tokio::test]
    async fn a_deeply_nested_config_or_request_is_a_clear_error_in_watch_and_resolve() {
        let home = openclaw_vault_test_support::temp_dir("cli-watch-deep");
        let h = home.to_str().unwrap();
        let deep = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
        let config = home.join("openclaw.json");
        std::fs::write(
            &config,
            format!(
                r#"{{"secrets": {{"providers": {{"v": {{"source": "exec", "command": "/x/openclaw-vault", "args": ["resolve"]}}}}}},
"models": {{"providers": {{"s": {{"apiKey": {{"source": "exec", "provider": "v", "id": "a/b/apiKey"}}}}}}}},
"zzdeep": {}}}"#,
                deep(50_000)
            ),
        )
        .unwrap();
        let env = [
            ("HOME", h),
            ("OPENCLAW_STATE_DIR", h),
            ("PATH", "/nonexistent"),
            ("VAULT_ADDR", "http://127.0.0.1:1"),
            ("VAULT_TOKEN", "hvs.CANARY-deep-token"),
            ("OPENCLAW_VAULT_RESOLVE_TIMEOUT_MS", "300"),
        ];
        let (code, _, err) = run_with(&["watch"], "", &env).await;
        assert_eq!(code, exit::FAILURE, "{err}");
        assert!(
            err.contains("error [INVALID_CONFIG]")
                && err.contains("openclaw.json: is not usable JSON5 (nested deeper than 256 levels under `zzdeep` (line 3, column"),
            "{err}"
        );
        // resolve reads the same config for its last-known-good settings: it answers without it.
        let request = r#"{"protocolVersion":1,"provider":"v","ids":["a/b"]}"#;
        let (code, out, err) = run_with(&["resolve"], request, &env).await;
        assert_eq!(code, exit::FAILURE, "{out}{err}");
        assert!(err.contains("nested deeper than 256 levels"), "{err}");
        assert!(out.contains("\"request\""), "{out}");
        // A deep request on stdin: one provider-wide error saying why.
        let request = format!(
            r#"{{"protocolVersion":1,"provider":"v","ids":["a/b"],"x":{}}}"#,
            deep(50_000)
        );
        let (code, out, err) = run_with(&["resolve"], &request, &env).await;
        assert_eq!(code, exit::FAILURE, "{out}{err}");
        assert!(
            out.contains("the exec request on stdin is nested deeper than 128 levels"),
            "{out}"
        );
        for text in [&out, &err] {
            assert!(!text.contains("CANARY"), "{text}");
        }
        std::fs::remove_dir_all(home).unwrap();
    }

    #[test]
    fn a_rotation_is_one_line_with_the_path_and_versions() {
        let line = line_of(&WatchEvent::Rotated {
            path: "openclaw/credentials/anthropic".into(),
            old: 4,
            new: 5,
        });
        assert_eq!(
            line,
            "rotated openclaw/credentials/anthropic: version 4 -> 5"
        );
    }
}
