//! `migrate`: moves every local credential into Vault, then, on request, points `openclaw.json`
//! at Vault (`--rewrite-config`) and removes the copies OpenClaw itself keeps (`--remove-local`).
//! The work and its guarantees are `openclaw_credentials::migrate`'s, one library call per step;
//! this module parses the flags, asks for confirmation, shows progress, prints the plan and each
//! step's report (as text, or as one JSON object) and picks the exit code.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use serde_json::{json, Value};

mod backups;
mod own_refs;

use super::{exit, fail, CliIo};
use openclaw_credentials::error::{Error, ErrorCode};
use openclaw_credentials::layers::Layer;
use openclaw_credentials::migrate::{
    self, ConfigRewrite, LocalRemoval, MigrateOptions, Outcome, OwnedByCli, Plan, Progress, Report,
    ReportItem, ResolverCommand, EXEC_PROVIDER_ALIAS,
};
use openclaw_credentials::providers::keychain;
use openclaw_credentials::store::Store;

/// In test builds: a hook that dies at checkpoint `OPENCLAW_VAULT_TEST_ABORT_AFTER` as a SIGKILL
/// would (no destructors, no atexit handlers, no flushing; unlike abort(), no core dump).
#[cfg(any(test, feature = "test-abort-hook"))]
fn abort_hook(io: &CliIo) -> Option<migrate::CheckpointHook> {
    let at = (io.env)(ABORT_AFTER_VAR).and_then(|v| v.trim().parse::<u64>().ok())?;
    Some(std::sync::Arc::new(move |n| {
        if n == at {
            // SAFETY: _exit has no preconditions. 137 is the shell's code for SIGKILL.
            unsafe { libc::_exit(137) };
        }
    }))
}

/// Shipped builds have no abort hook.
#[cfg(not(any(test, feature = "test-abort-hook")))]
fn abort_hook(_io: &CliIo) -> Option<migrate::CheckpointHook> {
    None
}

/// The test hook that kills the process at a checkpoint (see `MigrateOptions::on_checkpoint`).
/// Read only in builds with the `test-abort-hook` feature (tests); never in a shipped build.
#[cfg(any(test, feature = "test-abort-hook"))]
const ABORT_AFTER_VAR: &str = "OPENCLAW_VAULT_TEST_ABORT_AFTER";

/// Arguments of `migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Show the plan (what goes to which Vault path, sizes, fingerprints; never values) and stop.
    #[arg(long)]
    pub dry_run: bool,
    /// Replace a different value already in Vault (KV v2 keeps the old one as a version).
    #[arg(long)]
    pub overwrite: bool,
    /// The resume journal (default `<stateDir>/vault-migrate.journal`).
    #[arg(long)]
    pub journal: Option<PathBuf>,
    /// Point OpenClaw at Vault through its own contract: build an `openclaw secrets apply` plan
    /// (this package's exec provider; one target per migrated plaintext secret in openclaw.json
    /// and the SQLite auth stores), show it, and run `openclaw secrets apply --from <plan>
    /// --allow-exec`, which writes the refs and scrubs the plaintext itself.
    #[arg(long)]
    pub rewrite_config: bool,
    /// The openclaw CLI `--rewrite-config` runs (default: `openclaw` on PATH).
    #[arg(long, value_name = "PATH")]
    pub openclaw: Option<PathBuf>,
    /// With `--rewrite-config`: only write the apply plan to this file (0600), do not run it.
    #[arg(long, value_name = "FILE")]
    pub plan_out: Option<PathBuf>,
    /// Rewrite openclaw.json's plaintext fields in place (JSON5, comments and layout kept, a
    /// 0600 backup next to it) instead of OpenClaw's apply: for OpenClaw before 2026.9, or where
    /// its CLI cannot run. Never touches OpenClaw's SQLite stores. Moves this package's
    /// deprecated `credentials` key out of openclaw.json into openclaw-vault.json (when that file
    /// does not exist yet).
    #[arg(long, conflicts_with = "rewrite_config")]
    pub rewrite_config_json5: bool,
    /// Remove migrated entries from OpenClaw's own credential files (auth-profiles.json,
    /// credentials/oauth.json), with a backup. Other tools' files are never touched.
    #[arg(long)]
    pub remove_local: bool,
    /// Delete the backups of openclaw.json that still hold plaintext of secrets now in Vault
    /// (`openclaw.json.bak`, `.bak.1`..: OpenClaw's rollback copies from its `secrets apply`;
    /// `.bak-<time>` from `--rewrite-config-json5`), and the archives `openclaw doctor --fix`
    /// left of the retired files it imported (`<file>.migrated-<time>-<uuid>`) whose every value
    /// is in Vault. Without it they are only listed.
    #[arg(long)]
    pub remove_backups: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
    /// Seconds the whole run may take; credentials not finished by then are reported as
    /// `TIMEOUT` and left to the next run (default 600).
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub deadline: Option<u64>,
    /// Migrate this OAuth token although a CLI (Claude Code, Codex, Qwen Code, MiniMax, Gemini
    /// CLI) owns it: the gateway becomes its only owner, and the CLI on this machine is logged
    /// out at its next refresh. Repeatable.
    #[arg(long = "take-ownership", value_name = "NAME")]
    pub take_ownership: Vec<String>,
    /// The Vault layer to migrate into: `default` (the default, `<prefix>/credentials/<name>`),
    /// `team:<name>` (`<prefix>/teams/<name>/credentials/<name>`) or `agent:<id>`
    /// (`<prefix>/agents/<id>/credentials/<name>`). Names are mapped as in the default layer;
    /// only the folder changes (docs/layers.md).
    #[arg(long, value_name = "LAYER")]
    pub layer: Option<String>,
}

/// `migrate`: opens the configured chain and runs [`run_with_store`].
pub async fn migrate(args: MigrateArgs, io: &mut CliIo) -> i32 {
    let layer = match args.layer.as_deref().map(|l| Layer::parse(l, "--layer")) {
        None => None,
        Some(Ok(l)) => Some(l),
        Some(Err(e)) => return fail(io, args.json, &e),
    };
    let store = match io.open_store_in(layer.as_ref().filter(|l| **l != Layer::Default)) {
        Ok(s) => s,
        Err(e) => return fail(io, args.json, &e),
    };
    run_with_store(args, io, &store).await
}

/// `migrate` on an opened store (tests pass a chain of their own sources).
pub(crate) async fn run_with_store(args: MigrateArgs, io: &mut CliIo, store: &Store) -> i32 {
    if args.remove_local && !args.yes && !args.dry_run && !io.stderr_is_terminal {
        return fail(
            io,
            args.json,
            &Error::invalid_argument(
                "--remove-local deletes local copies: pass --yes when not running on a terminal",
            ),
        );
    }
    // One migrate run per state directory at a time (this package's own lock file, never
    // OpenClaw's `.lock` sidecar name): a second run fails at once instead of interleaving its
    // journal and its `secrets apply` with the first.
    let _run_lock = if args.dry_run {
        None
    } else {
        match run_lock(store, &args) {
            Ok(l) => l,
            Err(e) => return fail(io, args.json, &e),
        }
    };
    // Vault first: an unreachable, sealed or wrongly authenticated Vault fails in seconds,
    // before the (possibly long) planning of a large config.
    if !args.dry_run {
        if let Err(e) = migrate::check_vault_first(&store.chain).await {
            return fail(io, args.json, &e);
        }
    }
    let mut plan = match migrate::plan(&store.chain).await {
        Ok(p) => p,
        Err(e) => return fail(io, args.json, &e),
    };
    // An agent moved elsewhere by the roster (`agentDir`) is read from there alone, as OpenClaw
    // does; the store left at its old place is stale: named once, never migrated.
    let config_file = store.paths.config_file();
    for (agent, file) in openclaw_credentials::providers::openclaw_sqlite::shadowed_agent_stores(
        &store.paths,
        config_file.as_deref(),
    ) {
        plan.source_errors.push(openclaw_credentials::chain::SourceError {
            provider: "openclaw-agent-auth-store",
            error: Error::new(
                ErrorCode::SourceUnavailable,
                format!(
                    "{}: not read and not migrated: agent {agent} has its own agentDir in openclaw.json's agents roster, which OpenClaw reads instead (this older store is stale; remove it once you no longer need it)",
                    file.display()
                ),
            ),
        });
    }
    // Tokens a CLI owns stay where they are unless taken over (a separate step: see `ownership`).
    let owned = match migrate::set_aside_owned(&mut plan, &args.take_ownership) {
        Ok(o) => o,
        Err(e) => return fail(io, args.json, &e),
    };
    let mut out = json!({"dryRun": args.dry_run, "plan": plan_json(&plan)});
    if let Some(layer) = &args.layer {
        // Only when asked for: the default output stays byte for byte what it was.
        out["plan"]["layer"] = Value::String(layer.clone());
    }
    out["plan"]["ownedByCli"] = owned_json(&owned);
    if !args.json {
        if let Some(layer) = &args.layer {
            let _ = writeln!(io.stdout, "Vault layer: {layer}");
        }
    }
    // With nothing to confirm (`--yes`, or no terminal), the plan is shown after the run, and
    // only when the run did something: a rerun that finds everything in Vault stays quiet.
    let defer_plan = !args.json && !args.dry_run && (args.yes || !io.stderr_is_terminal);
    let plan_text = if args.json {
        Vec::new()
    } else {
        let buffer = Captured::default();
        let stdout = std::mem::replace(&mut io.stdout, Box::new(buffer.clone()));
        print_plan(io, &plan);
        print_owned(io, &owned);
        io.stdout = stdout;
        buffer.take()
    };
    if !defer_plan {
        let _ = io.stdout.write_all(&plan_text);
    }
    // What an earlier --rewrite-config pointed at Vault: Vault holds the only copy now, so a
    // rerun checks that it is still there.
    let refs = if args.dry_run {
        Vec::new()
    } else {
        match migrate::check_own_refs(&store.paths, &store.chain).await {
            Ok(r) => r,
            Err(e) => {
                // An unreadable config is reported by the step that needs it; not twice here.
                if !args.json {
                    let _ = writeln!(
                        io.stderr,
                        "warning: refs to Vault not checked: [{}] {}",
                        e.code(),
                        e.message
                    );
                }
                out["refsInVault"] = json!({"error": {"code": e.code(), "message": e.message}});
                Vec::new()
            }
        }
    };
    let refs_failed = own_refs::failed(&refs);
    if !refs.is_empty() {
        out["refsInVault"] = own_refs::to_json(&refs);
    }
    if !args.json {
        own_refs::print(io, &refs);
    }
    if defer_plan && plan.items.is_empty() {
        let _ = io.stdout.write_all(&plan_text);
    }
    if args.dry_run || plan.items.is_empty() {
        let mut failed = plan.has_hard_source_errors() || !plan.skipped.is_empty() || refs_failed;
        if !args.json {
            let _ = if plan.items.is_empty() {
                writeln!(io.stdout, "Nothing to migrate.")
            } else {
                // The one write a dry run may make: the migration fingerprint key, created once
                // under the prefix so the fingerprints shown match the real run's.
                writeln!(
                    io.stdout,
                    "Dry run: no credential was written and no local file changed (only the migration fingerprint key in Vault, if it did not exist yet)."
                )
            };
        }
        // Nothing left to move, but the provider entry an earlier run wrote may need upgrading.
        if plan.items.is_empty() && !args.dry_run && args.rewrite_config {
            failed |=
                !rewrite_through_openclaw(&args, io, store, &Default::default(), &mut out).await;
        }
        let remove = args.remove_backups && !args.dry_run;
        if !args.dry_run {
            failed |= !write_unwritten_before_apply(args.json, io, store, &mut out).await;
        }
        failed |= !backups::report(io, args.json, store, remove, refs_failed, &mut out).await;
        if args.json {
            let _ = writeln!(io.stdout, "{out}");
        }
        return if failed { exit::FAILURE } else { exit::OK };
    }
    if !args.yes && io.stderr_is_terminal && !confirm(io, plan.items.len()) {
        let _ = writeln!(io.stderr, "Cancelled; nothing was written.");
        return exit::OK;
    }
    let Some(journal) = args
        .journal
        .clone()
        .or_else(|| migrate::default_journal(&store.paths))
    else {
        return fail(
            io,
            args.json,
            &Error::invalid_config(
                "no OpenClaw state directory (HOME and OPENCLAW_STATE_DIR are unset): pass --journal <path>",
            ),
        );
    };
    let options = MigrateOptions {
        overwrite: args.overwrite,
        journal,
        concurrency: migrate::DEFAULT_CONCURRENCY,
        on_checkpoint: abort_hook(io),
        deadline: args
            .deadline
            .map_or(migrate::DEFAULT_RUN_DEADLINE, Duration::from_secs),
    };
    let bar = (io.stderr_is_terminal && !args.json).then(|| progress_bar(plan.items.len()));
    let on_progress = |p: Progress<'_>| {
        if let Some(bar) = &bar {
            bar.set_message(p.name.to_string());
            bar.inc(1);
        }
    };
    let report = migrate::apply(&store.chain, &plan, &options, &on_progress).await;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let report = match report {
        Ok(r) => r,
        Err(e) => return fail(io, args.json, &e),
    };
    out["report"] = report_json(&report);
    let nothing_new = report.items.iter().all(|r| {
        matches!(
            r.outcome,
            Outcome::AlreadyPresent | Outcome::AlreadyMigrated
        )
    });
    if defer_plan && nothing_new {
        let _ = writeln!(
            io.stdout,
            "Already in Vault: all {} planned credential(s), verified; nothing was written (`--dry-run` shows the plan{}).",
            plan.items.len(),
            if owned.is_empty() {
                String::new()
            } else {
                format!(
                    ", and the {} owned by a CLI or by OpenClaw",
                    owned.len()
                )
            }
        );
        print_counts(io, &report, &options.journal);
    } else if !args.json {
        if defer_plan {
            let _ = io.stdout.write_all(&plan_text);
        }
        print_report(io, &report, &options.journal);
    }

    // Local files change only for credentials verified in Vault now.
    let verified = if args.rewrite_config || args.rewrite_config_json5 || args.remove_local {
        migrate::verified_in_vault(&store.chain, &report).await
    } else {
        Default::default()
    };
    let mut failed = report.counts().failed > 0
        || report.counts().not_tried > 0
        || plan.has_hard_source_errors()
        || !plan.skipped.is_empty()
        || refs_failed;
    if args.rewrite_config {
        failed |= !rewrite_through_openclaw(&args, io, store, &verified, &mut out).await;
    }
    if args.rewrite_config_json5 {
        let env = io.env.clone();
        let native_exe = io.native_exe.clone();
        let locate = || ResolverCommand::locate(&*env, native_exe.as_deref());
        match migrate::rewrite_config(&store.paths, &store.chain, &verified, &locate) {
            Ok(done) => {
                if !args.json {
                    print_config_rewrite(io, &done);
                }
                out["rewriteConfig"] = config_rewrite_json(&done);
            }
            Err(e) => {
                failed = true;
                out["rewriteConfig"] = json!({});
                rewrite_failed(
                    io,
                    args.json,
                    &mut out["rewriteConfig"],
                    "--rewrite-config-json5",
                    &e,
                    "hint: the config file was left unchanged; fix the cause and run migrate again (nothing is written twice), or rerun without --rewrite-config-json5",
                );
            }
        }
    }
    if args.remove_local {
        let removed = migrate::remove_local(&store.paths, &verified);
        if removed.iter().any(|r| r.error.is_some()) {
            failed = true;
        }
        if !args.json {
            print_removed(io, &removed);
        }
        out["removeLocal"] = Value::Array(removed.iter().map(removal_json).collect());
    }
    failed |= !write_unwritten_before_apply(args.json, io, store, &mut out).await;
    failed |= !backups::report(
        io,
        args.json,
        store,
        args.remove_backups,
        refs_failed,
        &mut out,
    )
    .await;
    if args.json {
        let _ = writeln!(io.stdout, "{out}");
    }
    if failed {
        exit::FAILURE
    } else if report.counts().conflict > 0 {
        exit::CONFLICT
    } else {
        exit::OK
    }
}

/// What `--rewrite-config` says after a failure of OpenClaw's apply step.
const APPLY_HINT: &str = "hint: OpenClaw validates a plan before writing anything; its files and stores are as they were, the values are in Vault (see the journal). Fix the cause and run migrate again (nothing is written to Vault twice), or pass --plan-out <file> to keep the plan and apply it yourself";

/// A failed `--rewrite-config*` step: its error in the JSON report's part `part`, and, unless
/// the output is JSON, on stderr with `hint`.
fn rewrite_failed(io: &mut CliIo, json: bool, part: &mut Value, flag: &str, e: &Error, hint: &str) {
    part["error"] = json!({"code": e.code(), "message": e.message});
    if !json {
        let _ = writeln!(io.stderr, "error [{}]: {flag}: {}", e.code(), e.message);
        let _ = writeln!(io.stderr, "{hint}");
    }
}

/// `--rewrite-config` for `verified`: its part of the JSON report in `out["rewriteConfig"]`, a
/// failure printed; false when it failed.
async fn rewrite_through_openclaw(
    args: &MigrateArgs,
    io: &mut CliIo,
    store: &Store,
    verified: &migrate::VerifiedInVault<'_>,
    out: &mut Value,
) -> bool {
    let (part, error, changed) = apply_through_openclaw(args, io, store, verified);
    out["rewriteConfig"] = part;
    if !changed.is_empty() {
        let mut rows = Vec::new();
        let mut all_written = true;
        for c in &changed {
            let row = match write_newer_value(store, c).await {
                Ok(version) => {
                    if !args.json {
                        let _ = writeln!(
                            io.stdout,
                            "--rewrite-config: {} changed while OpenClaw's apply ran: its ref now resolves to the newer value, version {version} of {}/{} (field {})",
                            c.path,
                            store.chain.vault().map(|v| v.client().mount().to_string()).unwrap_or_default(),
                            c.vault_path,
                            c.field
                        );
                    }
                    json!({"path": c.path, "vaultPath": c.vault_path, "field": c.field, "version": version})
                }
                Err(e) => {
                    all_written = false;
                    let _ = writeln!(
                        io.stderr,
                        "error [{}]: {} changed while OpenClaw's apply ran, and the newer value could not be written to Vault: {}; it is in openclaw.json.bak: `openclaw-vault put` it to {}",
                        e.code(),
                        c.path,
                        e.message,
                        c.vault_path
                    );
                    json!({"path": c.path, "vaultPath": c.vault_path, "field": c.field, "error": {"code": e.code(), "message": e.message}})
                }
            };
            rows.push(row);
        }
        out["rewriteConfig"]["changedBeforeApply"] = json!(rows);
        if !all_written && error.is_none() {
            return false;
        }
    }
    let Some(mut e) = error else {
        // The backup of this apply is checked and every newer value written.
        migrate::clear_apply_pending(&store.paths);
        return true;
    };
    // OpenClaw's apply runs this package's resolver for every ref before it writes, and reports
    // a Vault that went away meanwhile only as `Exec provider "openclaw-vault" exited with code
    // 1`: ask Vault again and say what it answers now (attack 4, finding 9).
    if out["rewriteConfig"].get("planFile").is_none() {
        if let Err(now) = migrate::check_vault_first(&store.chain).await {
            e = Error::new(
                now.code,
                format!(
                    "{}; Vault now: [{}] {} (OpenClaw resolves every ref through Vault before it writes; run migrate again once Vault answers)",
                    e.message,
                    now.code(),
                    now.message
                ),
            );
        }
    }
    rewrite_failed(
        io,
        args.json,
        &mut out["rewriteConfig"],
        "--rewrite-config",
        &e,
        APPLY_HINT,
    );
    false
}

/// A value an earlier run left behind: changed before OpenClaw's apply, in a run that died
/// before writing it to Vault, so it is only in `openclaw.json.bak` while the ref reads an older
/// value ([`migrate::unwritten_before_apply`]). Each is written as a new version and reported
/// (`unwrittenBeforeApply` in `--json`). False when one could not be written.
async fn write_unwritten_before_apply(
    json_out: bool,
    io: &mut CliIo,
    store: &Store,
    out: &mut Value,
) -> bool {
    let found = match migrate::unwritten_before_apply(&store.paths, &store.chain).await {
        Ok(found) => found,
        Err(e) => {
            if !json_out {
                let _ = writeln!(
                    io.stderr,
                    "warning: openclaw.json.bak not checked for a value changed before an earlier apply: [{}] {}",
                    e.code(),
                    e.message
                );
            }
            return true;
        }
    };
    if found.is_empty() {
        migrate::clear_apply_pending(&store.paths);
        return true;
    }
    let mut ok = true;
    let mut rows = Vec::new();
    for c in &found {
        match write_newer_value(store, c).await {
            Ok(version) => {
                if !json_out {
                    let _ = writeln!(
                        io.stdout,
                        "{} changed before OpenClaw's apply of an earlier run, which ended before writing it to Vault: the newer value (from openclaw.json.bak) is now version {version} of {} (field {}), and the ref resolves to it",
                        c.path, c.vault_path, c.field
                    );
                }
                rows.push(json!({"path": c.path, "vaultPath": c.vault_path, "field": c.field, "version": version}));
            }
            Err(e) => {
                ok = false;
                let _ = writeln!(
                    io.stderr,
                    "error [{}]: {} changed before OpenClaw's apply of an earlier run; the newer value is only in openclaw.json.bak and could not be written to Vault: {}; `openclaw-vault put` it to {}",
                    e.code(),
                    c.path,
                    e.message,
                    c.vault_path
                );
                rows.push(json!({"path": c.path, "vaultPath": c.vault_path, "field": c.field, "error": {"code": e.code(), "message": e.message}}));
            }
        }
    }
    out["unwrittenBeforeApply"] = json!(rows);
    if ok {
        migrate::clear_apply_pending(&store.paths);
    }
    ok
}

/// Writes `c.newer` as a new version of `c.vault_path` (field `c.field`, the other fields kept),
/// with `cas` on the version read, and reads it back. The version written.
async fn write_newer_value(
    store: &Store,
    c: &migrate::safety::ChangedBeforeApply,
) -> std::result::Result<u64, Error> {
    use secrecy::ExposeSecret;
    let vault = store
        .chain
        .vault()
        .ok_or_else(|| Error::invalid_config("no Vault configured"))?;
    let client = vault.client();
    let current = client.read(&c.vault_path, None).await?;
    let version = current
        .as_ref()
        .and_then(|s| s.metadata.as_ref())
        .map(|m| m.version);
    let mut data = current
        .and_then(|s| s.data)
        .and_then(|d| d.expose_secret().as_object().cloned())
        .unwrap_or_default();
    data.insert(
        c.field.clone(),
        Value::String(c.newer.expose_secret().to_string()),
    );
    // SecretData wipes its fields when dropped.
    let data = vault_client::secret::SecretData::from_object(data);
    let written = client.write(&c.vault_path, &data, version).await?;
    let back = client.read(&c.vault_path, None).await?;
    let holds = back
        .and_then(|s| s.data)
        .and_then(|d| d.expose_secret().get(&c.field).cloned())
        .is_some_and(|v| v.as_str() == Some(c.newer.expose_secret()));
    if !holds {
        return Err(Error::new(
            openclaw_credentials::ErrorCode::Conflict,
            format!(
                "{} does not hold the newer value when read back",
                c.vault_path
            ),
        ));
    }
    Ok(written.map(|m| m.version).unwrap_or(0))
}

/// How long a second `migrate` waits for the run lock before it gives up.
const RUN_LOCK_WAIT: Duration = Duration::from_millis(500);

/// The exclusive per-state-directory run lock, `<stateDir>/vault-migrate.flock` (or, without a
/// state directory, next to `--journal`). `LOCK_TIMEOUT` naming the lock file when another
/// migrate holds it.
fn run_lock(
    store: &Store,
    args: &MigrateArgs,
) -> std::result::Result<Option<openclaw_credentials::local_file::PrivateLock>, Error> {
    let target = match (&store.paths.state_dir, &args.journal) {
        (Some(dir), _) => dir.join("vault-migrate"),
        (None, Some(journal)) => journal.clone(),
        (None, None) => return Ok(None),
    };
    openclaw_credentials::local_file::PrivateLock::acquire(&target, RUN_LOCK_WAIT)
        .map(Some)
        .map_err(|e| {
            if e.code() == "LOCK_TIMEOUT" {
                Error::new(
                    e.code,
                    format!(
                        "another `openclaw-vault migrate` is running on this OpenClaw state (lock {}); nothing was done: wait for it to finish, then run migrate again",
                        openclaw_credentials::local_file::PrivateLock::lock_path(&target).display()
                    ),
                )
            } else {
                e
            }
        })
}

/// `--rewrite-config`: builds the apply plan, shows it, and writes it (`--plan-out`) or has the
/// openclaw CLI apply it. The JSON report part, and the error when a step failed.
fn apply_through_openclaw(
    args: &MigrateArgs,
    io: &mut CliIo,
    store: &Store,
    verified: &migrate::VerifiedInVault<'_>,
) -> (
    Value,
    Option<Error>,
    Vec<migrate::safety::ChangedBeforeApply>,
) {
    match apply_steps(args, io, store, verified) {
        Ok((done, changed)) => (done, None, changed),
        Err(boxed) => {
            let (e, partial) = *boxed;
            (partial, Some(e), Vec::new())
        }
    }
}

/// What [`apply_steps`] did: its JSON report part, and the targets whose value changed before
/// OpenClaw applied.
type AppliedSteps = (Value, Vec<migrate::safety::ChangedBeforeApply>);

/// The steps of [`apply_through_openclaw`]; an error carries what was done before it.
fn apply_steps(
    args: &MigrateArgs,
    io: &mut CliIo,
    store: &Store,
    verified: &migrate::VerifiedInVault<'_>,
) -> std::result::Result<AppliedSteps, Box<(Error, Value)>> {
    let env = io.env.clone();
    let resolver = ResolverCommand::locate(&*env, io.native_exe.as_deref())
        .map_err(|e| Box::new((e, json!({}))))?;
    let plan = migrate::build_apply_plan(&store.paths, &store.chain, verified, &resolver)
        .map_err(|e| Box::new((e, json!({}))))?;
    let mut out = apply_plan_json(&plan);
    if !args.json {
        print_apply_plan(io, &plan);
    }
    if let Some(file) = &args.plan_out {
        migrate::apply_plan::write_plan_file(file, &plan)
            .map_err(|e| Box::new((e, out.clone())))?;
        out["planFile"] = json!(file);
        if !args.json {
            let _ = writeln!(
                io.stdout,
                "--rewrite-config: wrote the plan to {}; apply it with `openclaw secrets apply --from {} --allow-exec`.",
                file.display(),
                file.display()
            );
        }
        return Ok((out, Vec::new()));
    }
    // This package's deprecated `credentials` key in openclaw.json makes every `openclaw` command
    // (its apply included) fail: move it to openclaw-vault.json first, under OpenClaw's lock,
    // as `--rewrite-config-json5` does (nothing else in the file changes).
    // Only when the key is there: the move takes OpenClaw's lock on openclaw.json, which
    // OpenClaw's own apply must be the one to wait for.
    let has_old_key = store.config.warnings.iter().any(|w| w.is_deprecated_key());
    let moved = if has_old_key {
        let no_items = migrate::VerifiedInVault { items: Vec::new() };
        migrate::rewrite_config(&store.paths, &store.chain, &no_items, &|| {
            Ok(resolver.clone())
        })
        .map_err(|e| Box::new((e, out.clone())))?
    } else {
        migrate::ConfigRewrite::default()
    };
    if let Some(to) = &moved.settings_moved_to {
        out["settingsMovedTo"] = json!(to);
        out["settingsBackup"] = json!(moved.backup);
        if !args.json {
            let _ = writeln!(
                io.stdout,
                "--rewrite-config: moved the deprecated `credentials` key of openclaw.json to {} (OpenClaw rejects it; backup: {})",
                to.display(),
                moved.backup.as_ref().map(|b| b.display().to_string()).unwrap_or_default()
            );
        }
    }
    if let Some(why) = &moved.settings_kept {
        return Err(Box::new((
            Error::new(
                openclaw_credentials::ErrorCode::InvalidConfig,
                format!("OpenClaw's apply cannot read openclaw.json while it holds the deprecated `credentials` key: {why}"),
            ),
            out,
        )));
    }
    if plan.is_empty() {
        if !args.json {
            let _ = writeln!(
                io.stdout,
                "--rewrite-config: nothing for OpenClaw to apply."
            );
        }
        return Ok((out, Vec::new()));
    }
    // Every value this run knows of, and the Vault token: none may reach a message through
    // what OpenClaw prints.
    let vault_token = env("VAULT_TOKEN").filter(|t| t.len() >= 8);
    let redact = |text: &str| {
        let text = verified
            .items
            .iter()
            .fold(text.to_string(), |t, item| item.credential().redact(&t));
        match &vault_token {
            Some(token) => text.replace(token.as_str(), "[REDACTED]"),
            None => text,
        }
    };
    let cli = migrate::apply_plan::OpenClawCli::locate(args.openclaw.as_deref(), &*env)
        .map_err(|e| Box::new((e, out.clone())))?;
    cli.check_version(&redact)
        .map_err(|e| Box::new((e, out.clone())))?;
    // OpenClaw's own audit, not this package's discovery, says which plaintext profiles a
    // `models.providers.<p>.apiKey` target would scrub: refuse when one of them is not in Vault.
    let audit =
        migrate::safety::audit_plaintext_profiles(&cli).map_err(|e| Box::new((e, out.clone())))?;
    let path_of = |name: &str| store.chain.vault().and_then(|v| v.path_of(name).ok());
    let unsafe_scrubs =
        migrate::safety::unmigrated_profiles_scrubbed(&plan, &audit, verified, &path_of);
    if !unsafe_scrubs.is_empty() {
        return Err(Box::new((
            migrate::safety::refuse_scrub(&unsafe_scrubs),
            out,
        )));
    }
    // Removed when this scope ends, however it ends (see `TempPlanFile`).
    let plan_file =
        migrate::apply_plan::TempPlanFile::write(&plan).map_err(|e| Box::new((e, out.clone())))?;
    // OpenClaw's stores keep no backup: a profile changed since this run's Vault write is seen
    // now or never (the caller writes each newer value as a new version of the ref's path).
    let changed_in_stores =
        migrate::safety::changed_in_stores_before_apply(&store.paths, &plan, verified);
    // Until this run has checked the backup the apply writes (the caller clears it), a run
    // killed meanwhile leaves the marker for the next one to check (`unwritten_before_apply`).
    if let Err(e) = migrate::mark_apply_pending(&store.paths) {
        let _ = writeln!(
            io.stderr,
            "warning: the apply-pending marker was not written ([{}] {}): if this run is killed during OpenClaw's apply, the next one does not check openclaw.json.bak for a value changed meanwhile",
            e.code(),
            e.message
        );
    }
    let applied = cli
        .apply(
            plan_file.path(),
            migrate::apply_plan::OPENCLAW_CLI_DEADLINE,
            &redact,
        )
        .map_err(|e| Box::new((e, out.clone())))?;
    drop(plan_file);
    // A value changed between this run's Vault write and OpenClaw's write: the ref points at the
    // older one (`rewrite_through_openclaw` writes the newer value to Vault).
    let mut changed = migrate::safety::changed_before_apply(
        &store.paths,
        &plan,
        verified,
        &applied.changed_files,
    );
    changed.extend(changed_in_stores);
    // OpenClaw's exit 0 is not the proof: read back that every target holds its ref (a
    // concurrent writer can make OpenClaw roll back, or change the files after).
    let missing = migrate::safety::targets_not_applied(&store.paths, &plan);
    if !missing.is_empty() {
        out["notApplied"] = json!(missing);
        return Err(Box::new((
            Error::new(
                openclaw_credentials::ErrorCode::Conflict,
                format!(
                    "OpenClaw's apply finished, but {} of {} target(s) do not hold their ref when read back: {}; run migrate again (nothing is written to Vault twice)",
                    missing.len(),
                    plan.targets.len(),
                    missing.join(", ")
                ),
            ),
            out,
        )));
    }
    out["applied"] = json!({
        "openclaw": cli.command,
        "changedFiles": applied.changed_files,
        "warnings": applied.warnings,
    });
    // Agents' models.json keep OpenClaw's copies of the keys that are refs now: what OpenClaw's
    // own generation would write there (no OpenClaw command does it).
    let settled = migrate::models_json::settle_models_json(&store.paths, verified)
        .map_err(|e| Box::new((e, out.clone())))?;
    out["modelsJson"] = json!(settled
        .iter()
        .map(|s| json!({"file": s.file, "jsonPaths": s.json_paths}))
        .collect::<Vec<_>>());
    if !args.json {
        for s in &settled {
            let _ = writeln!(
                io.stdout,
                "--rewrite-config: {}: {} set to `secretref-managed` (as OpenClaw generates it for a ref)",
                s.file.display(),
                s.json_paths.join(", ")
            );
        }
        let _ = writeln!(
            io.stdout,
            "--rewrite-config: OpenClaw applied {} target(s){}; changed: {}",
            plan.targets.len(),
            match plan.provider {
                migrate::ProviderChange::Upgraded { .. } => " and upgraded the provider",
                _ => "",
            },
            applied
                .changed_files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        for w in &applied.warnings {
            let _ = writeln!(io.stdout, "  openclaw warning: {}", redact(w));
        }
    }
    Ok((out, changed))
}

fn provider_json(plan: &migrate::ApplyPlan) -> Value {
    use migrate::ProviderChange as P;
    let mut o = match &plan.provider {
        P::Added => json!({"action": "add"}),
        P::Upgraded { command, args } => {
            json!({"action": "upgrade", "from": {"command": command, "args": args}})
        }
        P::Unchanged => json!({"action": "unchanged"}),
        P::Foreign { reason } => json!({"action": "keep", "reason": reason}),
    };
    o["alias"] = json!(EXEC_PROVIDER_ALIAS);
    if let Some(entry) = &plan.provider_entry {
        o["command"] = entry["command"].clone();
        o["args"] = entry["args"].clone();
    } else if matches!(plan.provider, P::Added) {
        o["action"] = json!("none");
    }
    // Every alias of ours (more than one when the plan has more ids than OpenClaw hands one
    // exec provider).
    o["aliases"] = json!(plan
        .aliases
        .iter()
        .map(|a| {
            let action = match (&a.change, &a.entry) {
                (migrate::ProviderChange::Added, Some(_)) => "add",
                (migrate::ProviderChange::Added, None) => "none",
                (migrate::ProviderChange::Upgraded { .. }, _) => "upgrade",
                (migrate::ProviderChange::Unchanged, _) => "unchanged",
                (migrate::ProviderChange::Foreign { .. }, _) => "keep",
            };
            json!({"alias": a.alias, "action": action, "ids": a.ids})
        })
        .collect::<Vec<_>>());
    o
}

fn apply_plan_json(plan: &migrate::ApplyPlan) -> Value {
    json!({
        "provider": provider_json(plan),
        "targets": plan.targets.iter().map(|t| {
            let mut o = json!({"file": t.file, "jsonPath": t.json_path, "type": t.target_type, "path": t.path, "id": t.id, "provider": t.provider});
            if let Some(a) = &t.agent_id {
                o["agentId"] = json!(a);
            }
            o
        }).collect::<Vec<_>>(),
        "kept": plan.kept.iter().map(|k| json!({"file": k.file, "jsonPath": k.json_path, "reason": k.reason})).collect::<Vec<_>>(),
    })
}

fn print_apply_plan(io: &mut CliIo, plan: &migrate::ApplyPlan) {
    let _ = writeln!(
        io.stdout,
        "--rewrite-config: OpenClaw secrets apply plan ({} target(s), provider `{EXEC_PROVIDER_ALIAS}`):",
        plan.targets.len()
    );
    let words = |v: &Value| {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default()
    };
    let entry = plan.provider_entry.as_ref();
    let now = entry
        .map(|e| {
            format!(
                "{} {}",
                e["command"].as_str().unwrap_or_default(),
                words(&e["args"])
            )
        })
        .unwrap_or_default();
    match &plan.provider {
        migrate::ProviderChange::Added if entry.is_some() => {
            let _ = writeln!(
                io.stdout,
                "  provider {EXEC_PROVIDER_ALIAS}: add, runs {now}"
            );
        }
        migrate::ProviderChange::Upgraded { command, args } => {
            let _ = writeln!(
                io.stdout,
                "  provider {EXEC_PROVIDER_ALIAS}: upgrade (written by this package earlier), runs {now} instead of {command} {}",
                args.join(" ")
            );
        }
        migrate::ProviderChange::Foreign { reason } => {
            let _ = writeln!(
                io.stdout,
                "  provider {EXEC_PROVIDER_ALIAS}: not written by this package ({reason})"
            );
        }
        _ => {}
    }
    for a in plan.aliases.iter().skip(1) {
        let what = match &a.change {
            migrate::ProviderChange::Added if a.entry.is_some() => "add",
            migrate::ProviderChange::Upgraded { .. } => "upgrade",
            migrate::ProviderChange::Foreign { .. } => "not written by this package, not used",
            _ => "unchanged",
        };
        let _ = writeln!(
            io.stdout,
            "  provider {}: {what}, {} id(s) (OpenClaw hands one exec provider at most {})",
            a.alias,
            a.ids,
            migrate::MAX_REFS_PER_PROVIDER
        );
    }
    for t in &plan.targets {
        let agent = t
            .agent_id
            .as_ref()
            .map(|a| format!(" agent {a}"))
            .unwrap_or_default();
        let _ = writeln!(
            io.stdout,
            "  {} {} -> {} {}{agent} = exec:{}:{}",
            t.file.display(),
            t.json_path,
            t.target_type,
            t.path,
            t.provider,
            t.id
        );
    }
    for k in &plan.kept {
        let _ = writeln!(
            io.stdout,
            "  kept {} {}: {}",
            k.file.display(),
            k.json_path,
            k.reason
        );
    }
}

fn confirm(io: &mut CliIo, count: usize) -> bool {
    let _ = write!(io.stderr, "Write {count} credential(s) to Vault? [y/N] ");
    let _ = io.stderr.flush();
    let mut line = String::new();
    let mut reader = std::io::BufReader::new(&mut io.stdin);
    if reader.read_line(&mut line).is_err() {
        return false;
    }
    matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes")
}

fn progress_bar(len: usize) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {per_sec} {wide_msg}")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

// ---- output -------------------------------------------------------------------------------

fn plan_json(plan: &Plan) -> Value {
    json!({
        "items": plan.items.iter().map(|i| json!({
            "name": i.name,
            "kind": i.kind.as_str(),
            "source": {"provider": i.source_provider, "location": i.source_location},
            "vaultPath": i.vault_path,
            "fields": i.fields,
            "size": i.size,
            "fingerprint": i.fingerprint,
            "shadowed": i.shadowed.iter().map(|s| json!({"provider": s.provider, "location": s.location, "sameValue": s.same_value})).collect::<Vec<_>>(),
            "targets": i.targets.iter().map(target_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "sourceErrors": plan.source_errors.iter().map(|s| json!({"provider": s.provider, "code": s.error.code(), "message": s.error.message})).collect::<Vec<_>>(),
        "skipped": plan.skipped.iter().map(|s| json!({"name": s.name, "source": {"provider": s.source_provider, "location": s.source_location}, "code": s.code, "reason": s.reason})).collect::<Vec<_>>(),
        // `vault`: keyed by Vault's `<prefix>/migrate/fingerprint-key`, comparable across runs;
        // `run`: a key for this run only (Vault could not be read).
        "fingerprintScope": if plan.fingerprints_from_vault { "vault" } else { "run" },
    })
}

fn owned_json(owned: &[OwnedByCli]) -> Value {
    Value::Array(
        owned
            .iter()
            .map(|o| {
                let mut row = json!({
                    "name": o.name,
                    "source": {"provider": o.source_provider, "location": o.source_location},
                    "owner": {"id": o.owner_id(), "cli": o.owner.cli, "renew": o.owner.renew},
                    "taken": o.taken,
                    "reason": o.reason(),
                });
                if o.taken {
                    row["warning"] = json!(o.warning());
                }
                row
            })
            .collect(),
    )
}

/// The tokens a CLI owns: set aside with the reason, or taken over with a plain warning (on
/// stderr, before the confirmation).
fn print_owned(io: &mut CliIo, owned: &[OwnedByCli]) {
    let kept: Vec<&OwnedByCli> = owned
        .iter()
        .filter(|o| !o.taken && !o.by_openclaw())
        .collect();
    let openclaws: Vec<&OwnedByCli> = owned.iter().filter(|o| o.by_openclaw()).collect();
    for (rows, heading) in [
        (kept, "Owned by a CLI, not migrated"),
        (openclaws, "Owned by OpenClaw, not migrated"),
    ] {
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(io.stdout, "{heading} ({} credential(s)):", rows.len());
        for o in rows {
            let _ = writeln!(
                io.stdout,
                "  {}  {} ({}): {}",
                o.name,
                o.source_provider,
                o.source_location,
                o.reason()
            );
        }
    }
    for o in owned.iter().filter(|o| o.taken) {
        let _ = writeln!(io.stderr, "warning: {}", o.warning());
    }
}

/// One OpenClaw target as `--json` shows it: `{file, jsonPath?, agentId?, profileId?,
/// storeName?}` (the audit's own field names).
fn target_json(t: &migrate::SourceTarget) -> Value {
    let mut o = serde_json::Map::new();
    o.insert("file".into(), json!(t.file));
    for (k, v) in [
        ("jsonPath", &t.json_path),
        ("agentId", &t.agent_id),
        ("profileId", &t.profile_id),
        ("storeName", &t.store_name),
    ] {
        if let Some(v) = v {
            o.insert(k.into(), json!(v));
        }
    }
    Value::Object(o)
}

/// `openclaw.json channels.telegram.botToken`, `openclaw.sqlite profiles.openai:default.key
/// (agent work)`, `openclaw.sqlite store TEAM_TOKEN`: a target in one line.
fn target_text(t: &migrate::SourceTarget) -> String {
    let file = t
        .file
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut out = file;
    if let Some(p) = &t.json_path {
        out.push(' ');
        out.push_str(p);
    }
    if let Some(n) = &t.store_name {
        out.push_str(" store ");
        out.push_str(n);
    }
    if let Some(a) = &t.agent_id {
        out.push_str(&format!(" (agent {a})"));
    }
    out
}

fn print_plan(io: &mut CliIo, plan: &Plan) {
    if !plan.items.is_empty() {
        let _ = writeln!(
            io.stdout,
            "Plan ({} credential(s); values never shown):",
            plan.items.len()
        );
        let name_w = plan
            .items
            .iter()
            .map(|i| i.name.len())
            .max()
            .unwrap_or(4)
            .max(4);
        let path_w = plan
            .items
            .iter()
            .map(|i| i.vault_path.len())
            .max()
            .unwrap_or(10)
            .max(10);
        let _ = writeln!(
            io.stdout,
            "  {:<name_w$}  {:<7}  {:<path_w$}  {:>7}  {:<16}  SOURCE",
            "NAME", "KIND", "VAULT PATH", "SIZE", "FINGERPRINT"
        );
        for i in &plan.items {
            let _ = writeln!(
                io.stdout,
                "  {:<name_w$}  {:<7}  {:<path_w$}  {:>5} B  {:<16}  {} ({})",
                i.name,
                i.kind.as_str(),
                i.vault_path,
                i.size,
                i.fingerprint,
                i.source_provider,
                i.source_location
            );
            for s in &i.shadowed {
                let _ = writeln!(
                    io.stdout,
                    "  {:<name_w$}    also in {} ({}): {}",
                    "",
                    s.provider,
                    s.location,
                    if s.same_value {
                        "same value, written once"
                    } else {
                        "a different value, planned under its own name"
                    }
                );
            }
            for t in &i.targets {
                let _ = writeln!(io.stdout, "  {:<name_w$}    from {}", "", target_text(t));
            }
        }
        if !plan.fingerprints_from_vault {
            let _ = writeln!(
                io.stdout,
                "  (fingerprints are keyed for this run only: Vault's fingerprint key could not be read, so they compare only within this run)"
            );
        }
    }
    for s in &plan.skipped {
        let _ = writeln!(
            io.stderr,
            "skipped {} ({}): [{}] {}",
            s.name, s.source_location, s.code, s.reason
        );
    }
    // A keychain this machine does not have (a headless server) is not news: `status` says so.
    for s in plan
        .source_errors
        .iter()
        .filter(|s| !keychain::is_absent(&s.error))
    {
        let _ = writeln!(
            io.stderr,
            "warning: source {} not migrated: [{}] {}",
            s.provider,
            s.error.code(),
            s.error.message
        );
    }
}

fn counts_json(report: &Report) -> Value {
    let c = report.counts();
    json!({
        "created": c.created,
        "overwritten": c.overwritten,
        "alreadyThere": c.already_there,
        "conflict": c.conflict,
        "verified": c.verified,
        "failed": c.failed,
        "notTried": c.not_tried,
    })
}

fn outcome_json(r: &ReportItem) -> Value {
    let mut row = json!({
        "name": r.item.name,
        "outcome": r.outcome.label(),
        "vaultPath": r.item.vault_path,
        "fingerprint": r.item.fingerprint,
    });
    match &r.outcome {
        Outcome::Created { version } => {
            row["version"] = json!(version);
        }
        Outcome::Overwritten { version, previous } => {
            row["version"] = json!(version);
            row["previousVersion"] = json!(previous);
        }
        Outcome::UpdatedDuringRun {
            version,
            fingerprint,
        } => {
            row["version"] = json!(version);
            row["fingerprint"] = json!(fingerprint);
        }
        Outcome::Conflict {
            existing_fingerprint,
            older_version,
            vault_written_since,
        } => {
            row["existingFingerprint"] = json!(existing_fingerprint);
            if let Some(v) = older_version {
                row["olderThanVault"] = json!(v);
            }
            if *vault_written_since {
                row["vaultWrittenSince"] = json!(true);
            }
        }
        Outcome::Failed { code, message } => {
            row["error"] = json!({"code": code, "message": message});
        }
        Outcome::NotTried { code } => {
            row["error"] = json!({"code": code, "message": NOT_TRIED});
        }
        Outcome::AlreadyPresent | Outcome::AlreadyMigrated => {}
    }
    row
}

fn report_json(report: &Report) -> Value {
    json!({
        "counts": counts_json(report),
        "items": report.items.iter().map(outcome_json).collect::<Vec<_>>(),
    })
}

/// Output held back (the plan, until the run shows whether it did anything).
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Captured {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn print_report(io: &mut CliIo, report: &Report, journal: &Path) {
    let name_w = report
        .items
        .iter()
        .map(|r| r.item.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(io.stdout, "Result:");
    for ReportItem { item, outcome } in &report.items {
        let detail = match outcome {
            Outcome::Created { version } => format!("written and verified (version {version})"),
            Outcome::Overwritten { version, previous } => format!("overwritten and verified (version {version}; the old value is version {previous})"),
            Outcome::UpdatedDuringRun { version, .. } => format!("the source changed during the run; its newest value was written and verified (version {version})"),
            Outcome::AlreadyPresent => "Vault already holds this value".to_string(),
            Outcome::AlreadyMigrated => "migrated by an earlier run (journal)".to_string(),
            Outcome::Conflict { existing_fingerprint, older_version: None, vault_written_since: false } => format!("Vault holds a different value (fingerprint {existing_fingerprint}); left alone, rerun with --overwrite to replace it"),
            Outcome::Conflict { older_version: None, vault_written_since: true, .. } => "Vault was written since migrate copied this very value (its journal says so): the local value is the older one; left alone, even with --overwrite; set OpenClaw's copy to Vault's value with OpenClaw's own command (reading it from `openclaw-vault get <name> --reveal`)".to_string(),
            Outcome::Conflict { older_version: Some(v), .. } => format!("the local value is version {v} of Vault's, which holds a newer one (rotated since): left alone, even with --overwrite; set OpenClaw's copy to Vault's value with OpenClaw's own command (reading it from `openclaw-vault get <name> --reveal`)"),
            Outcome::Failed { code, message } => format!("[{code}] {message}"),
            Outcome::NotTried { .. } => NOT_TRIED.to_string(),
        };
        let _ = writeln!(
            io.stdout,
            "  {:<name_w$}  {:<18}  {detail}",
            item.name,
            outcome.label()
        );
    }
    print_counts(io, report, journal);
    let c = report.counts();
    if c.not_tried > 0 {
        let lost_code = report.items.iter().find_map(|r| match &r.outcome {
            Outcome::NotTried { code } => Some(*code),
            _ => None,
        });
        if let Some(lost) = report.items.iter().find_map(|r| match &r.outcome {
            Outcome::Failed { code, message } if Some(*code) == lost_code => Some((code, message)),
            _ => None,
        }) {
            let _ = writeln!(
                io.stderr,
                "error [{}]: Vault was lost during the run: {}; {} credential(s) not tried. Nothing is claimed for them; run migrate again once Vault is back (what was written is found, not written twice)",
                lost.0, lost.1, c.not_tried
            );
        }
    }
}

/// What a credential not tried after a loss of Vault says (text and `--json`).
const NOT_TRIED: &str = "not tried: Vault was lost earlier in this run (see the error); run migrate again once it is back";

/// The closing line of a run: its counts and the journal.
fn print_counts(io: &mut CliIo, report: &Report, journal: &Path) {
    let c = report.counts();
    let _ = writeln!(
        io.stdout,
        "{} created, {} overwritten, {} already there, {} conflict, {} verified, {} failed{} (journal: {})",
        c.created,
        c.overwritten,
        c.already_there,
        c.conflict,
        c.verified,
        c.failed,
        if c.not_tried > 0 {
            format!(", {} not tried", c.not_tried)
        } else {
            String::new()
        },
        journal.display()
    );
}

fn config_rewrite_json(r: &ConfigRewrite) -> Value {
    json!({
        "file": r.file,
        "backup": r.backup,
        "providerAdded": r.provider_added,
        "replaced": r.replaced.iter().map(|f| json!({"path": f.json_path, "id": f.id})).collect::<Vec<_>>(),
        "kept": r.kept.iter().map(|f| json!({"path": f.json_path, "reason": f.reason})).collect::<Vec<_>>(),
        "settingsMovedTo": r.settings_moved_to,
        "settingsKept": r.settings_kept,
    })
}

fn print_config_rewrite(io: &mut CliIo, r: &ConfigRewrite) {
    let Some(file) = &r.file else {
        let _ = writeln!(
            io.stdout,
            "--rewrite-config-json5: no openclaw.json found; nothing to rewrite."
        );
        return;
    };
    if let Some(to) = &r.settings_moved_to {
        let _ = writeln!(
            io.stdout,
            "--rewrite-config-json5: moved the deprecated `credentials` key of {} to {} (backup: {})",
            file.display(),
            to.display(),
            r.backup.as_ref().map(|b| b.display().to_string()).unwrap_or_default()
        );
    }
    if let Some(why) = &r.settings_kept {
        let _ = writeln!(io.stdout, "  kept credentials: {why}");
    }
    if r.replaced.is_empty() {
        if r.settings_moved_to.is_none() {
            let _ = writeln!(
                io.stdout,
                "--rewrite-config-json5: {} left unchanged.",
                file.display()
            );
        }
    } else {
        let _ = writeln!(
            io.stdout,
            "--rewrite-config-json5: {} now reads {} secret(s) from Vault through the `{EXEC_PROVIDER_ALIAS}` exec provider (backup: {}):",
            file.display(),
            r.replaced.len(),
            r.backup.as_ref().map(|b| b.display().to_string()).unwrap_or_default()
        );
        for f in &r.replaced {
            let _ = writeln!(
                io.stdout,
                "  {} -> exec {EXEC_PROVIDER_ALIAS} {}",
                f.json_path, f.id
            );
        }
        if r.provider_added {
            let _ = writeln!(io.stdout, "  added secrets.providers.{EXEC_PROVIDER_ALIAS}");
        }
        let _ = writeln!(
            io.stdout,
            "  check it with: openclaw secrets audit --check --allow-exec"
        );
    }
    for f in &r.kept {
        let _ = writeln!(io.stdout, "  kept {}: {}", f.json_path, f.reason);
    }
}

fn removal_json(r: &LocalRemoval) -> Value {
    json!({
        "name": r.name,
        "location": r.location,
        "removed": r.removed,
        "backup": r.backup,
        "kept": r.kept,
        "error": r.error.as_ref().map(|e| json!({"code": e.code(), "message": e.message})),
    })
}

fn print_removed(io: &mut CliIo, rows: &[LocalRemoval]) {
    let _ = writeln!(io.stdout, "--remove-local (only OpenClaw's own files; other tools' files such as ~/.claude/.credentials.json or ~/.codex/auth.json, the keychain and env variables are never touched):");
    for r in rows {
        if let Some(e) = &r.error {
            let _ = writeln!(
                io.stdout,
                "  {}: error [{}] {}",
                r.name,
                e.code(),
                e.message
            );
        } else if !r.removed.is_empty() {
            let _ = writeln!(
                io.stdout,
                "  {}: removed {} from {} (backup: {})",
                r.name,
                r.removed.join(", "),
                r.location,
                r.backup
                    .as_ref()
                    .map(|b| b.display().to_string())
                    .unwrap_or_default()
            );
        } else if let Some(why) = &r.kept {
            let _ = writeln!(io.stdout, "  {}: kept ({}): {why}", r.name, r.location);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_io::Buffer;
    use crate::{Cli, Command};
    use clap::Parser;
    use jsonc_parser::ParseOptions;
    use openclaw_credentials::credential::{from_fields, SourceGroup};
    use openclaw_credentials::migrate::test_support::*;
    use openclaw_credentials::openclaw::paths::OpenClawPaths;
    use openclaw_credentials::providers::CredentialProvider;
    use serde_json::Map;
    use std::collections::HashMap;
    use std::os::unix::fs::PermissionsExt;
    use std::sync::Arc;
    use vault_client::SecretData;

    const FAKE_OPENAI: &str = "sk-proj-FAKE-cli-migrate-openai";
    const FAKE_TELEGRAM: &str = "123456:FAKE-cli-migrate-telegram";
    const FAKE_ACCESS: &str = "sk-ant-oat01-FAKE-cli-migrate-access";
    const FAKE_REFRESH: &str = "sk-ant-ort01-FAKE-cli-migrate-refresh";
    const ALL_FAKES: [&str; 4] = [FAKE_OPENAI, FAKE_TELEGRAM, FAKE_ACCESS, FAKE_REFRESH];

    fn sources_json() -> Value {
        json!({
            "openai": {"apiKey": FAKE_OPENAI},
            "telegram": {"botToken": FAKE_TELEGRAM},
            "anthropic": {"type": "oauth", "access": FAKE_ACCESS, "refresh": FAKE_REFRESH, "expires": 1_900_000_000_000i64},
        })
    }

    fn store(
        client: Arc<vault_client::VaultClient>,
        home: &Path,
        prefix: &str,
        sources: Vec<Arc<dyn CredentialProvider>>,
    ) -> Store {
        let home_s = home.to_string_lossy().into_owned();
        let lookup_home = home_s.clone();
        let env: openclaw_credentials::store::EnvLookup =
            Arc::new(move |k: &str| (k == "HOME").then(|| lookup_home.clone()));
        let paths = OpenClawPaths::from_env(&|k| (k == "HOME").then(|| home_s.clone()));
        let config = openclaw_credentials::openclaw::config::load_config(&paths, &env, None, None)
            .expect("the test HOME's config loads");
        Store {
            chain: chain_with(client, prefix, sources),
            config_file: paths.config_file(),
            paths,
            warnings: Vec::new(),
            config,
        }
    }

    /// Runs `openclaw-vault migrate <args>` on `store` with env `pairs`.
    async fn run(store: &Store, args: &[&str], pairs: &[(&str, &str)]) -> (i32, String, String) {
        let argv = ["openclaw-vault", "migrate"].iter().chain(args.iter());
        let Command::Migrate(parsed) = Cli::try_parse_from(argv).unwrap().command else {
            unreachable!()
        };
        let out = Buffer::default();
        let err = Buffer::default();
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut io = CliIo {
            stdout: Box::new(out.clone()),
            stderr: Box::new(err.clone()),
            stdin: Box::new(std::io::empty()),
            stderr_is_terminal: false,
            env: Arc::new(move |k| map.get(k).cloned()),
            cwd: None,
            process_env: false,
            native_exe: None,
        };
        let code = run_with_store(parsed, &mut io, store).await;
        (code, out.text(), err.text())
    }

    fn no_secrets(text: &str) {
        for s in ALL_FAKES {
            assert!(!text.contains(s), "{s} leaked: {text}");
        }
    }

    fn files_source(home: &Path, value: &Value) -> Arc<dyn CredentialProvider> {
        let file = home.join("source.json");
        write_source(&file, value);
        Arc::new(JsonFileSource::new(&file, "test-files", SourceGroup::Files))
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dry_run_shows_the_plan_and_writes_nothing() {
        let server = start_vault().await;
        let home = temp_dir("cli-dry");
        let s = store(
            server.client(None),
            &home,
            "dry",
            vec![files_source(&home, &sources_json())],
        );
        let (code, out, err) = run(&s, &["--dry-run"], &[]).await;
        assert_eq!(code, exit::OK, "{err}");
        assert!(out.contains("secret/dry/credentials/openai"), "{out}");
        let fp = migrate::plan(&s.chain).await.unwrap().items[2]
            .fingerprint
            .clone();
        assert!(
            out.contains(&fp) && out.contains("Dry run: no credential was written"),
            "{out}"
        );
        no_secrets(&out);
        no_secrets(&err);
        let (code, out, _) = run(&s, &["--dry-run", "--json"], &[]).await;
        assert_eq!(code, exit::OK);
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["dryRun"], true);
        assert_eq!(
            v["plan"]["items"][1]["vaultPath"],
            "secret/dry/credentials/openai"
        );
        assert_eq!(v["plan"]["items"][1]["fields"], json!(["apiKey"]));
        assert!(v["plan"]["items"][1]["size"].as_u64().unwrap() > 0);
        assert!(v.get("report").is_none());
        no_secrets(&out);
        assert!(server
            .client(None)
            .list("dry/credentials")
            .await
            .unwrap()
            .is_empty());
        assert!(!home.join(".openclaw/vault-migrate.journal").exists());
    }

    /// A Claude Code login in its own file: listed as owned and left out of the plan (text and
    /// JSON); `--take-ownership anthropic` migrates it after a plain warning; a name that is not
    /// an owned token is refused before anything is written.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tokens_a_cli_owns_are_set_aside_unless_taken_over() {
        let server = start_vault().await;
        let home = temp_dir("cli-owned");
        let claude = home.join(".claude/.credentials.json");
        std::fs::create_dir_all(claude.parent().unwrap()).unwrap();
        write_source(
            &claude,
            &json!({"claudeAiOauth": {"accessToken": FAKE_ACCESS, "refreshToken": FAKE_REFRESH, "expiresAt": 1_900_000_000_000i64}}),
        );
        let home_s = home.to_string_lossy().into_owned();
        let paths = OpenClawPaths::from_env(&|k| (k == "HOME").then(|| home_s.clone()));
        let claude_provider: Arc<dyn CredentialProvider> = Arc::new(
            openclaw_credentials::providers::files::JsonFileProvider::from_paths(
                &openclaw_credentials::providers::files::formats::CLAUDE_CODE,
                &paths,
            )
            .unwrap(),
        );
        let s = store(
            server.client(None),
            &home,
            "owned",
            vec![
                claude_provider,
                files_source(&home, &json!({"telegram": {"botToken": FAKE_TELEGRAM}})),
            ],
        );
        let before = std::fs::read(&claude).unwrap();

        let (code, out, err) = run(&s, &["--dry-run"], &[]).await;
        assert_eq!(code, exit::OK, "{err}");
        assert!(out.contains("Plan (1 credential(s)"), "{out}");
        assert!(
            out.contains("Owned by a CLI, not migrated (1 credential(s)):"),
            "{out}"
        );
        assert!(
            out.contains(&format!("  anthropic  claude-code ({})", claude.display())),
            "{out}"
        );
        assert!(out.contains("Claude Code owns this login"), "{out}");
        assert!(out.contains("--take-ownership anthropic"), "{out}");
        no_secrets(&out);
        no_secrets(&err);
        let (code, out, _) = run(&s, &["--dry-run", "--json"], &[]).await;
        assert_eq!(code, exit::OK);
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        let names: Vec<_> = v["plan"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["telegram"]);
        let owned = &v["plan"]["ownedByCli"][0];
        assert_eq!(owned["name"], "anthropic");
        assert_eq!(owned["source"]["provider"], "claude-code");
        assert_eq!(owned["owner"]["cli"], "Claude Code");
        assert_eq!(owned["owner"]["renew"], "`claude auth login`");
        assert_eq!(owned["taken"], false);
        assert!(owned["reason"].as_str().unwrap().contains("works once"));
        assert!(owned.get("warning").is_none());
        no_secrets(&out);

        // Not an owned token: refused, nothing written, the argument not quoted.
        let (code, out, err) = run(&s, &["--yes", "--take-ownership", "sk-FAKE-typo"], &[]).await;
        assert_eq!(code, exit::USAGE, "{out}{err}");
        assert!(
            err.contains("INVALID_ARGUMENT") && !err.contains("sk-FAKE-typo"),
            "{err}"
        );
        assert!(server
            .client(None)
            .list("owned/credentials")
            .await
            .unwrap()
            .is_empty());

        let (code, out, err) = run(&s, &["--yes", "--take-ownership", "anthropic"], &[]).await;
        assert_eq!(code, exit::OK, "{out}{err}");
        assert!(
            err.contains("warning: --take-ownership anthropic: from now on the gateway owns this token in Vault"),
            "{err}"
        );
        assert!(err.contains("Claude Code on this machine will be logged out at its next refresh"));
        assert!(!out.contains("Owned by a CLI, not migrated"), "{out}");
        no_secrets(&out);
        no_secrets(&err);
        let stored = server
            .client(None)
            .read("owned/credentials/anthropic", None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.data.unwrap().expose_secret()["accessToken"],
            FAKE_ACCESS
        );
        assert_eq!(
            std::fs::read(&claude).unwrap(),
            before,
            "the CLI's file is left alone"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn applies_reports_and_exits_by_outcome() {
        let server = start_vault().await;
        let home = temp_dir("cli-apply");
        let s = store(
            server.client(None),
            &home,
            "app",
            vec![files_source(&home, &sources_json())],
        );
        let client = server.client(None);
        let theirs = SecretData::try_from_value(json!({"apiKey": "sk-FAKE-theirs"}), "x").unwrap();
        client
            .write("app/credentials/openai", &theirs, None)
            .await
            .unwrap();

        let (code, out, err) = run(&s, &["--yes"], &[]).await;
        assert_eq!(code, exit::CONFLICT, "{out}{err}");
        assert!(
            out.contains(
                "2 created, 0 overwritten, 0 already there, 1 conflict, 2 verified, 0 failed"
            ),
            "{out}"
        );
        assert!(out.contains("--overwrite"), "{out}");
        no_secrets(&out);
        // The default journal lives in the state directory.
        let journal = home.join(".openclaw/vault-migrate.journal");
        assert_eq!(mode(&journal), 0o600);

        let (code, out, _) = run(&s, &["--yes", "--json"], &[]).await;
        assert_eq!(code, exit::CONFLICT);
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(
            v["report"]["counts"],
            json!({"created": 0, "overwritten": 0, "alreadyThere": 2, "conflict": 1, "verified": 2, "failed": 0, "notTried": 0})
        );
        let openai = v["report"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "openai")
            .unwrap();
        assert_eq!(openai["outcome"], "conflict");
        assert!(openai["existingFingerprint"].as_str().unwrap().len() == 16);
        no_secrets(&out);

        let (code, out, _) = run(&s, &["--yes", "--overwrite"], &[]).await;
        assert_eq!(code, exit::OK, "{out}");
        assert!(
            out.contains(
                "0 created, 1 overwritten, 2 already there, 0 conflict, 3 verified, 0 failed"
            ),
            "{out}"
        );
        assert!(
            out.contains("overwritten and verified (version 2; the old value is version 1)"),
            "{out}"
        );
        assert_eq!(
            client
                .read("app/credentials/openai", None)
                .await
                .unwrap()
                .unwrap()
                .data
                .unwrap()
                .expose_secret()["apiKey"],
            FAKE_OPENAI
        );
        // The plan was shown with that run (it wrote something).
        assert!(out.contains("Plan (3 credential(s)"), "{out}");

        // A rerun that finds everything in Vault is quiet: one line and the counts, no plan.
        let (code, out, err) = run(&s, &["--yes"], &[]).await;
        assert_eq!(code, exit::OK, "{out}{err}");
        assert!(
            out.starts_with(
                "Already in Vault: all 3 planned credential(s), verified; nothing was written"
            ),
            "{out}"
        );
        assert!(
            out.contains(
                "0 created, 0 overwritten, 3 already there, 0 conflict, 3 verified, 0 failed"
            ),
            "{out}"
        );
        assert!(!out.contains("Plan (") && !out.contains("Result:"), "{out}");
        assert_eq!(out.lines().count(), 2, "{out}");

        // Vault unreachable: the run fails before anything with one error (not one per item),
        // exit FAILURE, and no journal is started.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dead = Arc::new(
            vault_client::VaultClient::new(
                vault_client::ClientConfig::from_options(vault_client::ClientOptions {
                    addr: Some(format!("http://127.0.0.1:{port}")),
                    token: Some(secrecy::SecretString::from("hvs.FAKE-unused")),
                    kv_version: Some(2),
                    max_retries: Some(0.0),
                    ..Default::default()
                })
                .unwrap(),
            )
            .unwrap(),
        );
        let s2 = store(
            dead,
            &home,
            "app",
            vec![files_source(&home, &sources_json())],
        );
        let dead_journal = home.join("dead.journal");
        let (code, out, err) = run(
            &s2,
            &["--yes", "--journal", dead_journal.to_str().unwrap()],
            &[],
        )
        .await;
        assert_eq!(code, exit::FAILURE, "{out}{err}");
        assert_eq!(err.matches("error [NETWORK]").count(), 1, "{err}");
        assert!(
            err.contains(&format!("127.0.0.1:{port}")) && err.contains("nothing was written"),
            "{err}"
        );
        assert!(!out.contains("Result:"), "no per-item report: {out}");
        assert!(!dead_journal.exists());
        no_secrets(&out);
        no_secrets(&err);
    }

    const CONFIG: &str = r#"// OpenClaw config (JSON5)
{
  models: {
    providers: {
      openai: {
        baseUrl: 'https://api.openai.com/v1', // single quotes, unquoted keys
        apiKey: "sk-proj-FAKE-cli-migrate-openai",
      },
    },
  },
  /* channels */
  channels: {
    telegram: { botToken: "123456:FAKE-cli-migrate-telegram", enabled: true },
    discord: { token: { source: "env", provider: "default", id: "DISCORD_BOT_TOKEN" } },
  },
  gateway: { auth: { token: "FAKE-gateway-token-not-in-any-source" } },
  agents: { list: [1, 2, 3,], },
}
"#;

    fn config_env(home: &Path) -> (PathBuf, PathBuf, Vec<(String, String)>) {
        let pkg = home.join("pkg");
        std::fs::create_dir_all(pkg.join("bin")).unwrap();
        std::fs::write(pkg.join("bin/openclaw-vault-resolve.mjs"), "// resolver\n").unwrap();
        let node = home.join("fake-node");
        std::fs::write(&node, "#!/bin/sh\n").unwrap();
        let vars = vec![
            (
                "OPENCLAW_VAULT_NODE".to_string(),
                node.to_string_lossy().into_owned(),
            ),
            (
                "OPENCLAW_VAULT_PACKAGE_DIR".to_string(),
                pkg.to_string_lossy().into_owned(),
            ),
        ];
        (node, pkg, vars)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rewrite_config_keeps_comments_and_layout_and_backs_up() {
        let server = start_vault().await;
        let home = temp_dir("cli-config");
        let config = home.join(".openclaw/openclaw.json");
        std::fs::create_dir_all(config.parent().unwrap()).unwrap();
        std::fs::write(&config, CONFIG).unwrap();
        let s = store(
            server.client(None),
            &home,
            "cfg",
            vec![files_source(&home, &sources_json())],
        );
        let (node, pkg, vars) = config_env(&home);
        let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();

        let (code, out, err) = run(&s, &["--yes", "--rewrite-config-json5"], &pairs).await;
        assert_eq!(code, exit::OK, "{out}{err}");
        no_secrets(&out);
        let text = std::fs::read_to_string(&config).unwrap();
        // Comments, quoting style and other keys survive.
        for kept in [
            "// OpenClaw config (JSON5)",
            "/* channels */",
            "baseUrl: 'https://api.openai.com/v1', // single quotes, unquoted keys",
            "enabled: true",
            "FAKE-gateway-token-not-in-any-source",
            "list: [1, 2, 3,]",
        ] {
            assert!(text.contains(kept), "lost {kept:?}:\n{text}");
        }
        assert!(
            !text.contains(FAKE_OPENAI) && !text.contains(FAKE_TELEGRAM),
            "{text}"
        );
        let v: Value = jsonc_parser::parse_to_serde_value(&text, &ParseOptions::default()).unwrap();
        assert_eq!(
            v["models"]["providers"]["openai"]["apiKey"],
            json!({"source": "exec", "provider": "openclaw-vault", "id": "cfg/credentials/openai/apiKey"})
        );
        assert_eq!(
            v["channels"]["telegram"]["botToken"],
            json!({"source": "exec", "provider": "openclaw-vault", "id": "cfg/credentials/telegram/token"})
        );
        assert_eq!(v["channels"]["discord"]["token"]["source"], "env");
        let provider = &v["secrets"]["providers"]["openclaw-vault"];
        assert_eq!(provider["source"], "exec");
        assert_eq!(
            provider["command"],
            json!(std::fs::canonicalize(&node).unwrap())
        );
        assert_eq!(
            provider["args"],
            json!([std::fs::canonicalize(pkg.join("bin/openclaw-vault-resolve.mjs")).unwrap()])
        );
        assert!(provider["passEnv"]
            .as_array()
            .unwrap()
            .contains(&json!("VAULT_TOKEN")));
        assert!(
            out.contains("gateway.auth.token"),
            "the kept field is reported: {out}"
        );
        assert_eq!(mode(&config), 0o600);
        // The backup is the original, byte for byte, 0600.
        let backups: Vec<PathBuf> = std::fs::read_dir(config.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("openclaw.json.bak-")
            })
            .collect();
        assert_eq!(backups.len(), 1);
        assert_eq!(std::fs::read_to_string(&backups[0]).unwrap(), CONFIG);
        assert_eq!(mode(&backups[0]), 0o600);

        // A second run finds nothing left to replace and leaves the file alone.
        let (code, _, _) = run(&s, &["--yes", "--rewrite-config-json5"], &pairs).await;
        assert_eq!(code, exit::OK);
        assert_eq!(std::fs::read_to_string(&config).unwrap(), text);
    }

    /// An `openclaw.json.bak` that cannot be read (here a symbolic link, which credential files
    /// never are followed through) cannot be checked for a value changed before an earlier
    /// apply: a warning naming it and why, never silence; the run itself goes on.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unreadable_openclaw_json_bak_is_named_in_a_warning() {
        let server = start_vault().await;
        let home = temp_dir("cli-bak-unreadable");
        let config = home.join(".openclaw/openclaw.json");
        std::fs::create_dir_all(config.parent().unwrap()).unwrap();
        std::fs::write(&config, CONFIG).unwrap();
        let s = store(
            server.client(None),
            &home,
            "bakunread",
            vec![files_source(&home, &sources_json())],
        );
        let (_, _, vars) = config_env(&home);
        let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (code, out, err) = run(&s, &["--yes", "--rewrite-config-json5"], &pairs).await;
        assert_eq!(code, exit::OK, "{out}{err}");
        assert!(!err.contains("openclaw.json.bak not checked"), "{err}");
        // OpenClaw's rollback copy, replaced by a link to a copy holding a plaintext.
        let elsewhere = home.join("elsewhere.json");
        std::fs::write(&elsewhere, CONFIG).unwrap();
        std::os::unix::fs::symlink(&elsewhere, config.with_file_name("openclaw.json.bak")).unwrap();
        // As a run killed during OpenClaw's apply leaves it: only then is the backup checked.
        std::fs::write(config.with_file_name("vault-migrate.apply-pending"), "{}\n").unwrap();
        let (code, out, err) = run(&s, &["--yes"], &[]).await;
        assert_eq!(code, exit::OK, "{out}{err}");
        assert!(
            err.contains("warning: openclaw.json.bak not checked for a value changed before an earlier apply: [INVALID_SOURCE]")
                && err.contains("openclaw.json.bak: is a symbolic link"),
            "{err}"
        );
        no_secrets(&out);
        no_secrets(&err);
    }

    /// `--rewrite-config` with this package's deprecated `credentials` key in openclaw.json
    /// while openclaw-vault.json already exists: the key cannot be moved, so OpenClaw's apply
    /// (which rejects the key) is never run: INVALID_CONFIG naming both files, nothing changed,
    /// exit 1; the values are in Vault.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rewrite_config_refuses_the_deprecated_key_when_openclaw_vault_json_exists() {
        let server = start_vault().await;
        let home = temp_dir("cli-deprecated-both");
        let config = home.join(".openclaw/openclaw.json");
        std::fs::create_dir_all(config.parent().unwrap()).unwrap();
        let text = format!(
            "{{\n  credentials: {{ provider: \"local\" }},\n  channels: {{ telegram: {{ botToken: \"{FAKE_TELEGRAM}\" }} }},\n}}\n"
        );
        std::fs::write(&config, &text).unwrap();
        let settings = config.with_file_name("openclaw-vault.json");
        std::fs::write(&settings, "{\"provider\": \"local\"}\n").unwrap();
        let s = store(
            server.client(None),
            &home,
            "deprecated",
            vec![files_source(&home, &sources_json())],
        );
        let (_, _, vars) = config_env(&home);
        // The openclaw CLI must not be run at all: it leaves a mark if it is.
        let mark = home.join("openclaw-ran");
        let openclaw = home.join("openclaw");
        std::fs::write(
            &openclaw,
            format!("#!/bin/sh\ntouch {}\nexit 0\n", mark.display()),
        )
        .unwrap();
        std::fs::set_permissions(&openclaw, std::fs::Permissions::from_mode(0o700)).unwrap();
        let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let openclaw_s = openclaw.to_string_lossy().into_owned();
        let (code, out, err) = run(
            &s,
            &[
                "--yes",
                "--json",
                "--rewrite-config",
                "--openclaw",
                &openclaw_s,
            ],
            &pairs,
        )
        .await;
        assert_eq!(code, exit::FAILURE, "{out}{err}");
        no_secrets(&out);
        no_secrets(&err);
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        let e = &v["rewriteConfig"]["error"];
        assert_eq!(e["code"], "INVALID_CONFIG", "{v}");
        let message = e["message"].as_str().unwrap();
        assert!(
            message.contains("OpenClaw's apply cannot read openclaw.json while it holds the deprecated `credentials` key")
                && message.contains(&format!("{} already exists", settings.display())),
            "{message}"
        );
        assert!(!mark.exists(), "the openclaw CLI was run");
        assert_eq!(std::fs::read_to_string(&config).unwrap(), text);
        assert_eq!(
            std::fs::read_to_string(&settings).unwrap(),
            "{\"provider\": \"local\"}\n"
        );
        // The values themselves are in Vault.
        assert_eq!(v["report"]["counts"]["failed"], 0, "{v}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rewrite_config_only_for_verified_values_and_refuses_what_it_cannot_keep() {
        let server = start_vault().await;
        let home = temp_dir("cli-config-bad");
        let config = home.join(".openclaw/openclaw.json");
        std::fs::create_dir_all(config.parent().unwrap()).unwrap();
        std::fs::write(&config, CONFIG).unwrap();
        let client = server.client(None);
        // openai is a conflict: Vault holds another value, so the config must keep its own.
        let theirs = SecretData::try_from_value(json!({"apiKey": "sk-FAKE-theirs"}), "x").unwrap();
        client
            .write("bad/credentials/openai", &theirs, None)
            .await
            .unwrap();
        let s = store(
            client,
            &home,
            "bad",
            vec![files_source(&home, &sources_json())],
        );
        let (_, _, vars) = config_env(&home);
        let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (code, out, _) = run(&s, &["--yes", "--rewrite-config-json5", "--json"], &pairs).await;
        assert_eq!(code, exit::CONFLICT, "{out}");
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        let replaced: Vec<&str> = v["rewriteConfig"]["replaced"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["path"].as_str().unwrap())
            .collect();
        assert_eq!(replaced, ["channels.telegram.botToken"]);
        let text = std::fs::read_to_string(&config).unwrap();
        assert!(text.contains(FAKE_OPENAI), "an unverified value must stay");

        // Unparsable: a clear error, the file untouched, no backup.
        let broken =
            "{ models: { providers: { openai: { apiKey: \"sk-proj-FAKE-cli-migrate-openai\" ";
        std::fs::write(&config, broken).unwrap();
        let before = std::fs::read_dir(config.parent().unwrap()).unwrap().count();
        let (code, out, err) = run(
            &s,
            &["--yes", "--overwrite", "--rewrite-config-json5"],
            &pairs,
        )
        .await;
        assert_eq!(code, exit::FAILURE, "{out}{err}");
        assert!(
            err.contains("cannot rewrite without losing formatting")
                && err.contains("rerun without --rewrite-config"),
            "{err}"
        );
        assert!(err.contains("openclaw.json"), "{err}");
        no_secrets(&err);
        assert_eq!(std::fs::read_to_string(&config).unwrap(), broken);
        assert_eq!(
            std::fs::read_dir(config.parent().unwrap()).unwrap().count(),
            before
        );

        // No resolver installed: refused, since the gateway would fail closed at start.
        std::fs::write(&config, CONFIG).unwrap();
        let (code, _, err) = run(
            &s,
            &["--yes", "--rewrite-config-json5"],
            &[
                ("OPENCLAW_VAULT_NODE", pairs[0].1),
                (
                    "OPENCLAW_VAULT_PACKAGE_DIR",
                    home.join("nowhere").to_str().unwrap(),
                ),
            ],
        )
        .await;
        assert_eq!(code, exit::FAILURE);
        assert!(
            err.contains("openclaw-vault-resolve.mjs does not exist"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&config).unwrap(), CONFIG);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn remove_local_touches_only_openclaws_own_files() {
        let server = start_vault().await;
        let home = temp_dir("cli-remove");
        let state = home.join(".openclaw");
        let profiles = state.join("agents/main/agent/auth-profiles.json");
        let oauth = state.join("credentials/oauth.json");
        let claude = home.join(".claude/.credentials.json");
        let profiles_json = json!({
            "version": 1,
            "profiles": {
                "openai:default": {"type": "api_key", "provider": "openai", "key": FAKE_OPENAI},
                "openai:work": {"type": "api_key", "provider": "openai", "key": "sk-FAKE-work-local"},
            },
            "order": {"openai": ["openai:default", "openai:work"]},
            "usageStats": {"openai:default": {"lastUsed": 1}},
        });
        write_source(&profiles, &profiles_json);
        // OpenClaw's doctor imported them (else --remove-local keeps them: see remove_local).
        import_into_agent_store(&state, "main", &profiles_json);
        // ... and the legacy oauth.json's login (else --remove-local keeps it too).
        import_into_shared_store(
            &state,
            &json!({"version": 1, "profiles": {"anthropic:default": {"type": "oauth",
                "provider": "anthropic", "access": FAKE_ACCESS, "refresh": FAKE_REFRESH}}}),
        );
        write_source(
            &oauth,
            &json!({"anthropic": {"access": FAKE_ACCESS, "refresh": FAKE_REFRESH, "expires": 1_900_000_000_000i64}}),
        );
        write_source(
            &claude,
            &json!({"claude-code": {"accessToken": "sk-ant-oat01-FAKE-claude-file"}}),
        );
        let claude_before = std::fs::read(&claude).unwrap();
        let oauth_before = std::fs::read_to_string(&oauth).unwrap();
        let client = server.client(None);
        // openai:work conflicts with Vault: it stays local.
        let theirs = SecretData::try_from_value(json!({"apiKey": "sk-FAKE-theirs"}), "x").unwrap();
        client
            .write("rm/credentials/openai:work", &theirs, None)
            .await
            .unwrap();
        let s = store(
            client.clone(),
            &home,
            "rm",
            vec![
                Arc::new(
                    JsonFileSource::new(&profiles, "auth-profiles", SourceGroup::Files)
                        .under("profiles"),
                ),
                Arc::new(JsonFileSource::new(
                    &oauth,
                    "openclaw-oauth",
                    SourceGroup::Files,
                )),
                Arc::new(JsonFileSource::new(
                    &claude,
                    "claude-code",
                    SourceGroup::Files,
                )),
            ],
        );
        // Not on a terminal: --remove-local needs --yes.
        let (code, _, err) = run(&s, &["--remove-local"], &[]).await;
        assert_eq!(code, exit::USAGE, "{err}");
        assert!(err.contains("--yes"), "{err}");
        assert!(client.list("rm/credentials").await.unwrap() == vec!["openai:work".to_string()]);

        // Taken over, so it is migrated and `--remove-local` meets it: still never touched.
        let (code, out, err) = run(
            &s,
            &["--yes", "--remove-local", "--take-ownership", "claude-code"],
            &[],
        )
        .await;
        assert_eq!(code, exit::CONFLICT, "{out}{err}");
        assert!(out.contains("never touched"), "{out}");
        assert!(
            out.contains("claude-code is not a file OpenClaw owns"),
            "{out}"
        );
        no_secrets(&out);
        let after: Value = serde_json::from_slice(&std::fs::read(&profiles).unwrap()).unwrap();
        assert!(after["profiles"].get("openai:default").is_none());
        assert_eq!(
            after["profiles"]["openai:work"]["key"],
            "sk-FAKE-work-local"
        );
        assert_eq!(after["version"], 1);
        assert_eq!(after["order"], profiles_json["order"]);
        assert_eq!(after["usageStats"], profiles_json["usageStats"]);
        let oauth_after: Value = serde_json::from_slice(&std::fs::read(&oauth).unwrap()).unwrap();
        assert_eq!(oauth_after, json!({}));
        assert_eq!(
            std::fs::read(&claude).unwrap(),
            claude_before,
            "another tool's file"
        );
        for (file, original) in [
            (&profiles, profiles_json.to_string()),
            (&oauth, oauth_before.clone()),
        ] {
            assert_eq!(mode(file), 0o600);
            let prefix = format!("{}.bak-", file.file_name().unwrap().to_string_lossy());
            let backup = std::fs::read_dir(file.parent().unwrap())
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| {
                    p.file_name()
                        .unwrap()
                        .to_string_lossy()
                        .starts_with(&prefix)
                })
                .unwrap();
            assert_eq!(std::fs::read_to_string(&backup).unwrap(), original);
            assert_eq!(mode(&backup), 0o600);
        }
        // Everything removed is in Vault.
        for name in ["openai:default", "anthropic", "claude-code"] {
            assert!(
                s.chain.vault().unwrap().get(name).await.unwrap().is_some(),
                "{name}"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn journal_entries_are_read_back_before_local_files_change() {
        let server = start_vault().await;
        let home = temp_dir("cli-stale");
        let profiles = home.join(".openclaw/agents/main/agent/auth-profiles.json");
        write_source(
            &profiles,
            &json!({"version": 1, "profiles": {
                "openai:default": {"type": "api_key", "provider": "openai", "key": FAKE_OPENAI},
                "telegram:default": {"type": "token", "provider": "telegram", "token": FAKE_TELEGRAM},
            }}),
        );
        import_into_agent_store(
            &home.join(".openclaw"),
            "main",
            &serde_json::from_slice(&std::fs::read(&profiles).unwrap()).unwrap(),
        );
        let client = server.client(None);
        let s = store(
            client.clone(),
            &home,
            "stale",
            vec![Arc::new(
                JsonFileSource::new(&profiles, "auth-profiles", SourceGroup::Files)
                    .under("profiles"),
            )],
        );
        let (code, _, _) = run(&s, &["--yes"], &[]).await;
        assert_eq!(code, exit::OK);
        // Someone changes openai in Vault after the run: the journal still says "migrated", but
        // the rerun checks Vault and reports a conflict.
        let other =
            SecretData::try_from_value(json!({"apiKey": "sk-FAKE-changed-in-vault"}), "x").unwrap();
        client
            .write("stale/credentials/openai:default", &other, None)
            .await
            .unwrap();
        let (code, out, _) = run(&s, &["--yes", "--remove-local", "--json"], &[]).await;
        assert_eq!(code, exit::CONFLICT, "{out}");
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["report"]["counts"]["alreadyThere"], 1);
        assert_eq!(v["report"]["counts"]["conflict"], 1);
        let after: Value = serde_json::from_slice(&std::fs::read(&profiles).unwrap()).unwrap();
        assert_eq!(
            after["profiles"]["openai:default"]["key"], FAKE_OPENAI,
            "not in Vault any more: kept"
        );
        assert!(
            after["profiles"].get("telegram:default").is_none(),
            "read back and removed"
        );
    }

    /// `--remove-local` compares only the secret fields it migrated: an OAuth profile's `email`
    /// and `label` (which the auth-profiles source does not read, so are not in Vault) do not
    /// make it "changed"; the backup keeps them. A profile whose migrated value changed stays.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn remove_local_ignores_fields_it_did_not_migrate() {
        use openclaw_credentials::providers::files::auth_profiles::AuthProfilesProvider;
        let server = start_vault().await;
        let home = temp_dir("cli-remove-email");
        let state = home.join(".openclaw");
        let profiles = state.join("agents/main/agent/auth-profiles.json");
        let original = json!({
            "version": 1,
            "profiles": {
                "anthropic:work": {"type": "oauth", "provider": "anthropic", "access": FAKE_ACCESS, "refresh": FAKE_REFRESH, "expires": 1_900_000_000_000i64, "email": "someone@example.com", "label": "Work account"},
                "openai:default": {"type": "api_key", "provider": "openai", "key": FAKE_OPENAI, "label": "Main key"},
            },
        });
        write_source(&profiles, &original);
        import_into_agent_store(&state, "main", &original);
        let s = store(
            server.client(None),
            &home,
            "email",
            vec![Arc::new(AuthProfilesProvider::new(&state))],
        );
        let (code, out, err) = run(&s, &["--yes", "--remove-local", "--json"], &[]).await;
        assert_eq!(code, exit::OK, "{out}{err}");
        no_secrets(&out);
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        let removed: Vec<&str> = v["removeLocal"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r["removed"].as_array().unwrap().iter())
            .map(|e| e.as_str().unwrap())
            .collect();
        assert!(removed.contains(&"profiles.anthropic:work"), "{out}");
        assert!(removed.contains(&"profiles.openai:default"), "{out}");
        let after: Value = serde_json::from_slice(&std::fs::read(&profiles).unwrap()).unwrap();
        assert_eq!(after["profiles"], json!({}), "{after}");
    }

    /// What `bench/migrate.mjs` measures, without Node and before `open_store` reads
    /// auth-profiles.json: 1,000 API keys from one auth-profiles file, written and verified.
    /// Ignored by default (timing, not correctness): `cargo test ... thousand -- --ignored`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore]
    async fn thousand_secrets_timing() {
        let server = start_vault().await;
        let home = temp_dir("cli-thousand");
        let profiles = home.join(".openclaw/agents/main/agent/auth-profiles.json");
        let mut map = Map::new();
        for i in 1..=1000 {
            map.insert(
                format!("bench:k{i:04}"),
                json!({"type": "api_key", "provider": "bench", "key": format!("sk-bench-FAKE-{i}-{}", "x".repeat(40))}),
            );
        }
        write_source(&profiles, &json!({"version": 1, "profiles": map}));
        let s = store(
            server.client(None),
            &home,
            "thousand",
            vec![Arc::new(
                JsonFileSource::new(&profiles, "auth-profiles", SourceGroup::Files)
                    .under("profiles"),
            )],
        );
        let started = std::time::Instant::now();
        let planned = migrate::plan(&s.chain).await.unwrap();
        eprintln!(
            "plan alone: {:?} ({} items)",
            started.elapsed(),
            planned.items.len()
        );
        let started = std::time::Instant::now();
        let (code, out, _) = run(&s, &["--yes", "--json"], &[]).await;
        let took = started.elapsed();
        assert_eq!(code, exit::OK);
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["report"]["counts"]["verified"], 1000);
        eprintln!("1000 secrets migrated and verified in {took:?}");
    }

    /// Not a test on its own: the child process of the kill test. It runs the CLI's migrate on
    /// the chain described by `OCV_MIGRATE_CHILD` and exits with its code.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn child_migration_process() {
        let Ok(spec) = std::env::var("OCV_MIGRATE_CHILD") else {
            return;
        };
        let spec: Value = serde_json::from_str(&spec).unwrap();
        let config = vault_client::ClientConfig::from_options(vault_client::ClientOptions {
            addr: Some(spec["addr"].as_str().unwrap().into()),
            token: Some(secrecy::SecretString::from(
                spec["token"].as_str().unwrap().to_string(),
            )),
            ..Default::default()
        })
        .unwrap();
        let client = Arc::new(vault_client::VaultClient::new(config).unwrap());
        let source = PathBuf::from(spec["source"].as_str().unwrap());
        let home = PathBuf::from(spec["home"].as_str().unwrap());
        let s = store(
            client,
            &home,
            spec["prefix"].as_str().unwrap(),
            vec![Arc::new(JsonFileSource::new(
                &source,
                "test-files",
                SourceGroup::Files,
            ))],
        );
        let abort = std::env::var(ABORT_AFTER_VAR).unwrap_or_default();
        let (code, _, _) = run(
            &s,
            &["--yes", "--json"],
            &[(ABORT_AFTER_VAR, abort.as_str())],
        )
        .await;
        std::process::exit(code);
    }

    /// Kills the migration (a real process, `_exit` at checkpoint N: no cleanup at all) at every
    /// checkpoint of a six-credential run, once more early in the resumed run, then lets it
    /// finish: Vault ends with exactly the right data, every secret written exactly once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn killed_at_every_checkpoint_then_resumed_nothing_lost_nothing_duplicated() {
        let server = start_vault().await;
        let home = temp_dir("cli-kill");
        let mut sources = sources_json();
        sources["discord"] = json!({"token": "FAKE-discord-kill"});
        sources["present"] = json!({"apiKey": "sk-FAKE-present"});
        sources["conflicting"] = json!({"apiKey": "sk-FAKE-local-side"});
        let source = home.join("source.json");
        write_source(&source, &sources);
        let client = server.client(None);
        // 4 new items x (write, verify, journal) + present (journal) + conflict (journal).
        const CHECKPOINTS: u64 = 4 * 3 + 1 + 1;
        let exe = std::env::current_exe().unwrap();
        let child = |prefix: &str, abort: Option<u64>| {
            let spec = json!({"addr": server.addr, "token": server.token, "prefix": prefix, "source": source, "home": home.join(prefix)});
            let mut cmd = std::process::Command::new(&exe);
            cmd.args([
                "migrate::tests::child_migration_process",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("OCV_MIGRATE_CHILD", spec.to_string())
            .env_remove(ABORT_AFTER_VAR)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
            if let Some(n) = abort {
                cmd.env(ABORT_AFTER_VAR, n.to_string());
            }
            cmd.status().unwrap().code()
        };
        let expected_new = ["anthropic", "discord", "openai", "telegram"];
        for n in 1..=CHECKPOINTS + 1 {
            let prefix = format!("kill{n}");
            let present = SecretData::try_from_value(
                json!({"kind": "api_key", "apiKey": "sk-FAKE-present"}),
                "x",
            )
            .unwrap();
            client
                .write(&format!("{prefix}/credentials/present"), &present, Some(0))
                .await
                .unwrap();
            let theirs =
                SecretData::try_from_value(json!({"apiKey": "sk-FAKE-vault-side"}), "x").unwrap();
            client
                .write(
                    &format!("{prefix}/credentials/conflicting"),
                    &theirs,
                    Some(0),
                )
                .await
                .unwrap();

            let first = child(&prefix, Some(n));
            if n <= CHECKPOINTS {
                assert_eq!(first, Some(137), "run killed at checkpoint {n}");
                // Killed again at the first checkpoint of the resumed run (there is always
                // one: the conflict's journal line).
                assert_eq!(child(&prefix, Some(1)), Some(137), "resume killed, n={n}");
            } else {
                assert_eq!(
                    first,
                    Some(exit::CONFLICT),
                    "the run has only {CHECKPOINTS} checkpoints"
                );
            }
            assert_eq!(
                child(&prefix, None),
                Some(exit::CONFLICT),
                "final run, n={n}"
            );

            // Exactly the expected keys, each at version 1, with the source's data.
            let mut keys = client.list(&format!("{prefix}/credentials")).await.unwrap();
            keys.sort();
            assert_eq!(
                keys,
                [
                    "anthropic",
                    "conflicting",
                    "discord",
                    "openai",
                    "present",
                    "telegram"
                ],
                "n={n}"
            );
            for name in expected_new.iter().chain(["present", "conflicting"].iter()) {
                let path = format!("{prefix}/credentials/{name}");
                let meta = client.read_metadata(&path).await.unwrap().unwrap();
                assert_eq!(
                    meta.current_version, 1,
                    "{name} written more than once (n={n})"
                );
            }
            for name in expected_new {
                let got = s_vault(&client, &format!("{prefix}/credentials/{name}")).await;
                let secrets = from_fields(sources[name].as_object().unwrap(), "x")
                    .unwrap()
                    .secrets;
                let in_vault = from_fields(got.as_object().unwrap(), "x").unwrap().secrets;
                assert!(in_vault.same_as(&secrets), "{name} differs (n={n})");
            }
            assert_eq!(
                s_vault(&client, &format!("{prefix}/credentials/conflicting")).await["apiKey"],
                "sk-FAKE-vault-side",
                "the conflict is never overwritten (n={n})"
            );
            // The journal reads whole after the kills.
            let journal = home.join(&prefix).join(".openclaw/vault-migrate.journal");
            let text = std::fs::read_to_string(&journal).unwrap();
            assert!(
                text.lines()
                    .all(|l| serde_json::from_str::<Value>(l).is_ok()),
                "n={n}: {text}"
            );
        }
    }

    async fn s_vault(client: &vault_client::VaultClient, path: &str) -> Value {
        client
            .read(path, None)
            .await
            .unwrap()
            .unwrap()
            .data
            .unwrap()
            .expose_secret()
            .clone()
    }
}
