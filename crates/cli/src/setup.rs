//! `setup`: configures a Vault for OpenClaw (the KV v2 mount and the role table's policies) via
//! `openclaw_credentials::setup`; `--dry-run` prints every change and each policy's HCL without
//! writing. Prints names, paths and policies, never a token.

use std::io::Write;

use std::time::Duration;

use clap::Args;
use secrecy::ExposeSecret;
use serde_json::json;

use super::{fail, CliIo};
use openclaw_credentials::error::{Error, ErrorCode};
use openclaw_credentials::setup::{
    self, Action, AppRoleRequest, Bootstrap, SetupPlan, SetupRequest, Target,
};

fn duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| e.to_string())
}

/// Arguments of `setup`.
#[derive(Debug, Args)]
pub struct SetupArgs {
    /// The team the gateways and agents belong to (its layer: `<prefix>/teams/<team>/credentials`).
    #[arg(long)]
    pub team: Option<String>,
    /// A gateway to make a policy for (repeatable); it reads the team's and every --agent's layer.
    #[arg(long = "gateway", value_name = "NAME")]
    pub gateways: Vec<String>,
    /// An agent id to make a policy for (repeatable): its own layer and its team's.
    #[arg(long = "agent", value_name = "ID")]
    pub agents: Vec<String>,
    /// The KV v2 mount (default: the configured one, `secret`).
    #[arg(long)]
    pub mount: Option<String>,
    /// The prefix under the mount (default: the configured one, `openclaw`).
    #[arg(long)]
    pub prefix: Option<String>,
    /// Also make one AppRole role per gateway and agent (named like its policy), enabling
    /// AppRole at --approle-mount if needed.
    #[arg(long)]
    pub approle: bool,
    /// Where AppRole is enabled.
    #[arg(long, default_value = "approle", value_name = "MOUNT")]
    pub approle_mount: String,
    /// Token TTL of the AppRole roles.
    #[arg(long, default_value = "1h", value_parser = duration)]
    pub token_ttl: Duration,
    /// Token max TTL of the AppRole roles.
    #[arg(long, default_value = "24h", value_parser = duration)]
    pub token_max_ttl: Duration,
    /// Secret id TTL (0s: no expiry).
    #[arg(long, default_value = "0s", value_parser = duration)]
    pub secret_id_ttl: Duration,
    /// Logins per secret id (0: unlimited).
    #[arg(long, default_value_t = 0)]
    pub secret_id_uses: u64,
    /// A CIDR the secret ids may log in from and the tokens may be used from (repeatable).
    #[arg(long = "cidr", value_name = "CIDR")]
    pub cidrs: Vec<String>,
    /// After applying, print each role's role id and a secret id response-wrapped for this long
    /// (single use, 1s to 24h; implies --approle).
    #[arg(long, value_parser = duration)]
    pub wrap_ttl: Option<Duration>,
    /// Print every change and the policies' HCL; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Take over policies, AppRole roles and entities of the wanted names that setup did not
    /// make (another deployment's, or made by hand); without it they are a CONFLICT.
    #[arg(long)]
    pub force: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `setup`.
pub async fn setup(args: SetupArgs, io: &mut CliIo) -> i32 {
    let store = match io.open_store() {
        Ok(s) => s,
        Err(e) => return fail(io, args.json, &e),
    };
    let Some(vault) = store.chain.vault().cloned() else {
        let e = Error::new(
            ErrorCode::InvalidConfig,
            "setup needs a Vault: set VAULT_ADDR and a token (VAULT_TOKEN or vault.auth)",
        );
        return fail(io, args.json, &e);
    };
    let client = vault.client().clone();
    let request = SetupRequest {
        mount: args
            .mount
            .clone()
            .unwrap_or_else(|| client.mount().to_string()),
        prefix: args
            .prefix
            .clone()
            .unwrap_or_else(|| vault.prefix().to_string()),
        team: args.team.clone(),
        gateways: args.gateways.clone(),
        agents: args.agents.clone(),
        approle: (args.approle || args.wrap_ttl.is_some()).then(|| AppRoleRequest {
            mount: args.approle_mount.clone(),
            token_ttl: args.token_ttl.as_secs(),
            token_max_ttl: args.token_max_ttl.as_secs(),
            secret_id_ttl: args.secret_id_ttl.as_secs(),
            secret_id_num_uses: args.secret_id_uses,
            bound_cidrs: args.cidrs.clone(),
            wrap_ttl: args.wrap_ttl,
        }),
        force: args.force,
    };
    let plan = match setup::plan(&client, request).await {
        Ok(p) => p,
        Err(e) => return fail(io, args.json, &e),
    };
    if args.dry_run {
        print_plan(io, &plan, args.json, true);
        return super::exit::OK;
    }
    let shown = plan.clone();
    match setup::apply(&client, plan).await {
        Ok(report) if args.json => {
            // One JSON object: the plan as done, with the bootstrap material inside it.
            let mut body = plan_json(&shown, false);
            if !report.bootstrap.is_empty() {
                body["bootstrap"] = bootstrap_json(&report.bootstrap);
            }
            let _ = writeln!(io.stdout, "{body}");
            super::exit::OK
        }
        Ok(report) => {
            print_plan(io, &shown, false, false);
            print_bootstrap(io, &report.bootstrap);
            super::exit::OK
        }
        Err(e) => fail(io, args.json, &e),
    }
}

/// The plan as JSON: `{"dryRun", "changes", "steps": [...]}`.
fn plan_json(plan: &SetupPlan, dry_run: bool) -> serde_json::Value {
    let steps: Vec<_> = plan
            .steps
            .iter()
            .map(|s| match &s.target {
                Target::Mount(m) => {
                    json!({"kind": "mount", "name": m, "path": s.api_path(), "action": s.action.as_str()})
                }
                Target::AuthMount(m) => {
                    json!({"kind": "auth", "name": m, "path": s.api_path(), "action": s.action.as_str()})
                }
                Target::Entity { name, metadata, .. } => json!({
                    "kind": "entity", "name": name, "path": s.api_path(),
                    "action": s.action.as_str(), "metadata": metadata, "note": s.note,
                }),
                Target::AppRole { name, settings, .. } => json!({
                    "kind": "approle", "name": name, "path": s.api_path(),
                    "action": s.action.as_str(), "settings": settings, "note": s.note,
                }),
                Target::Policy { name, role, hcl } => json!({
                    "kind": "policy", "name": name, "role": role, "path": s.api_path(),
                    "action": s.action.as_str(), "policy": hcl, "note": s.note,
                }),
            })
            .collect();
    json!({"dryRun": dry_run, "changes": plan.changes(), "steps": steps})
}

fn print_plan(io: &mut CliIo, plan: &SetupPlan, json: bool, dry_run: bool) {
    if json {
        let _ = writeln!(io.stdout, "{}", plan_json(plan, dry_run));
        return;
    }
    let verb = |a: Action| match (a, dry_run) {
        (Action::Create, true) => "would create",
        (Action::Update, true) => "would update",
        (Action::Create, false) => "created",
        (Action::Update, false) => "updated",
        (Action::Unchanged, _) => "unchanged",
    };
    for step in &plan.steps {
        match &step.target {
            Target::Mount(m) => {
                let _ = writeln!(
                    io.stdout,
                    "{:<12} mount {m}/ (kv version 2)",
                    verb(step.action)
                );
            }
            Target::AuthMount(m) => {
                let _ = writeln!(io.stdout, "{:<12} auth {m}/ (approle)", verb(step.action));
            }
            Target::AppRole { name, settings, .. } => {
                let _ = writeln!(
                    io.stdout,
                    "{:<12} approle role {name} (token ttl {}s, max {}s; secret id ttl {}s, uses {}; cidrs [{}])",
                    verb(step.action),
                    settings.token_ttl,
                    settings.token_max_ttl,
                    settings.secret_id_ttl,
                    settings.secret_id_num_uses,
                    settings.secret_id_bound_cidrs.join(", ")
                );
                if let Some(note) = &step.note {
                    let _ = writeln!(io.stdout, "    note: {note}");
                }
            }
            Target::Entity { name, metadata, .. } => {
                let meta: Vec<String> = metadata.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let _ = writeln!(
                    io.stdout,
                    "{:<12} entity {name} ({})",
                    verb(step.action),
                    meta.join(", ")
                );
                if let Some(note) = &step.note {
                    let _ = writeln!(io.stdout, "    note: {note}");
                }
            }
            Target::Policy { name, role, hcl } => {
                let _ = writeln!(
                    io.stdout,
                    "{:<12} policy {name} (role {role})",
                    verb(step.action)
                );
                if let Some(note) = &step.note {
                    let _ = writeln!(io.stdout, "    note: {note}");
                }
                if dry_run && step.action != Action::Unchanged {
                    for line in hcl.lines() {
                        let _ = writeln!(io.stdout, "    {line}");
                    }
                }
            }
        }
    }
    let _ = writeln!(
        io.stdout,
        "{} change(s){}",
        plan.changes(),
        if dry_run {
            "; nothing written (--dry-run)"
        } else {
            ""
        }
    );
}

/// The bootstrap material `--wrap-ttl` asked for: role ids and single-use wrapping tokens (the
/// secret ids themselves are never printed).
fn print_bootstrap(io: &mut CliIo, issued: &[Bootstrap]) {
    for b in issued {
        let _ = writeln!(
            io.stdout,
            "bootstrap {}: role_id={} wrapped_secret_id={} (single use, {}s, from {})",
            b.role,
            b.role_id.expose_secret(),
            b.wrapped_secret_id.expose_secret(),
            b.ttl,
            b.creation_path
        );
    }
}

/// `--json`'s `bootstrap` array: role ids and single-use wrapping tokens.
fn bootstrap_json(issued: &[Bootstrap]) -> serde_json::Value {
    issued
        .iter()
        .map(|b| {
            json!({"role": b.role, "roleId": b.role_id.expose_secret(),
                "wrappedSecretId": b.wrapped_secret_id.expose_secret(),
                "ttl": b.ttl, "creationPath": b.creation_path})
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::exit;
    use crate::test_io::run_with;

    #[tokio::test]
    async fn dry_run_prints_every_change_then_apply_is_idempotent() {
        let vault = openclaw_vault_test_support::start_dev_vault("cli-setup");
        let home = openclaw_vault_test_support::temp_dir("cli-setup-home");
        let env = [
            ("HOME", home.to_str().unwrap()),
            ("VAULT_ADDR", vault.addr.as_str()),
            ("VAULT_TOKEN", vault.token.as_str()),
        ];
        let args = [
            "setup",
            "--mount",
            "teamkv",
            "--team",
            "ops",
            "--gateway",
            "gw1",
            "--agent",
            "alice",
        ];
        let dry: Vec<&str> = args.iter().copied().chain(["--dry-run"]).collect();
        let (code, out, err) = run_with(&dry, "", &env).await;
        assert_eq!(code, exit::OK, "{out}{err}");
        assert!(out.contains("would create mount teamkv/"), "{out}");
        assert!(
            out.contains("would create policy openclaw_mteamkv-gateway-gw1 (role gateway)"),
            "{out}"
        );
        assert!(
            out.contains(r#"path "teamkv/data/openclaw/agents/alice/credentials/*""#),
            "{out}"
        );
        assert!(out.contains("6 change(s); nothing written"), "{out}");
        assert!(!(out.clone() + &err).contains(&vault.token));

        let (code, out, err) = run_with(&args, "", &env).await;
        assert_eq!(code, exit::OK, "{out}{err}");
        assert!(
            out.contains("created      policy openclaw_mteamkv-agent-alice"),
            "{out}"
        );
        let json: Vec<&str> = args
            .iter()
            .copied()
            .chain(["--dry-run", "--json"])
            .collect();
        let (code, out, _) = run_with(&json, "", &env).await;
        assert_eq!(code, exit::OK);
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["changes"], 0, "{v}");
        assert_eq!(v["steps"][0]["action"], "unchanged");

        // AppRole per identity, and a wrapped secret id to bootstrap it.
        let approle = [
            "setup",
            "--mount",
            "teamkv",
            "--team",
            "ops",
            "--gateway",
            "gw1",
            "--agent",
            "alice",
            "--approle",
            "--cidr",
            "127.0.0.0/8",
            "--wrap-ttl",
            "2m",
        ];
        let (code, out, err) = run_with(&approle, "", &env).await;
        assert_eq!(code, exit::OK, "{out}{err}");
        assert!(
            out.contains("created      auth approle/ (approle)"),
            "{out}"
        );
        assert!(
            out.contains("created      approle role openclaw_mteamkv-gateway-gw1 (token ttl 3600s, max 86400s; secret id ttl 0s, uses 0; cidrs [127.0.0.0/8])"),
            "{out}"
        );
        assert!(
            out.contains("bootstrap openclaw_mteamkv-agent-alice: role_id=")
                && out.contains(
                    "(single use, 120s, from auth/approle/role/openclaw_mteamkv-agent-alice/secret-id)"
                ),
            "{out}"
        );

        // A name Vault would refuse: exit 2, named, not echoed.
        let (code, out, err) = run_with(&["setup", "--agent", "Sk-Canary/x"], "", &env).await;
        assert_eq!(code, exit::USAGE, "{out}{err}");
        assert!(
            err.contains("an --agent is not a name Vault accepts"),
            "{err}"
        );
        assert!(!(out + &err).contains("Canary"));
    }
}
