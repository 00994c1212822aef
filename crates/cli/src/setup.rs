//! `setup`: configures a Vault for OpenClaw (the KV v2 mount and the role table's policies) via
//! `openclaw_credentials::setup`; `--dry-run` prints every change and each policy's HCL without
//! writing. Prints names, paths and policies, never a token.

use std::io::Write;

use clap::Args;
use serde_json::json;

use super::{fail, CliIo};
use openclaw_credentials::error::{Error, ErrorCode};
use openclaw_credentials::setup::{self, Action, SetupPlan, SetupRequest, Target};

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
    /// Print every change and the policies' HCL; write nothing.
    #[arg(long)]
    pub dry_run: bool,
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
        Ok(_) => {
            print_plan(io, &shown, args.json, false);
            super::exit::OK
        }
        Err(e) => fail(io, args.json, &e),
    }
}

fn print_plan(io: &mut CliIo, plan: &SetupPlan, json: bool, dry_run: bool) {
    if json {
        let steps: Vec<_> = plan
            .steps
            .iter()
            .map(|s| match &s.target {
                Target::Mount(m) => {
                    json!({"kind": "mount", "name": m, "path": s.api_path(), "action": s.action.as_str()})
                }
                Target::Policy { name, role, hcl } => json!({
                    "kind": "policy", "name": name, "role": role, "path": s.api_path(),
                    "action": s.action.as_str(), "policy": hcl,
                }),
            })
            .collect();
        let body = json!({"dryRun": dry_run, "changes": plan.changes(), "steps": steps});
        let _ = writeln!(io.stdout, "{body}");
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
            Target::Policy { name, role, hcl } => {
                let _ = writeln!(
                    io.stdout,
                    "{:<12} policy {name} (role {role})",
                    verb(step.action)
                );
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
            out.contains("would create policy openclaw-gateway-gw1 (role gateway)"),
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
            out.contains("created      policy openclaw-agent-alice"),
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
