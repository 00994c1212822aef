//! `status` (alias `doctor`): prints `openclaw_credentials::status::check`'s findings (what
//! configuration was found, whether Vault answers and lets this token in, which local sources
//! exist; every problem with a hint) as text or JSON. Never prints a token.

use std::io::Write;

use clap::Args;
use serde_json::{json, Value};

use super::{exit, fail, CliIo};
use openclaw_credentials::error::Error;
use openclaw_credentials::status::{self, Level, SourceStatus, StatusReport, VaultStatus};

/// Arguments of `status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `status`.
pub async fn status(args: StatusArgs, io: &mut CliIo) -> i32 {
    let store = match io.open_store() {
        Ok(s) => s,
        Err(e) => return fail(io, args.json, &e),
    };
    let report = status::check(&store).await;
    if args.json {
        let _ = writeln!(io.stdout, "{}", report_json(&report));
    } else {
        // `open_store` has logged these to stderr already (once per process): a second copy
        // among the findings printed the same refused variable twice.
        let logged: Vec<String> = store
            .config
            .warnings
            .iter()
            .filter(|w| store.config.is_logged_once(w))
            .map(|w| w.to_string())
            .collect();
        for f in report
            .findings
            .iter()
            .filter(|f| !logged.contains(&f.message))
        {
            let mark = match f.level {
                Level::Ok => "ok   ",
                Level::Warn => "warn ",
                Level::Error => "ERROR",
            };
            let _ = writeln!(io.stdout, "{mark} {}", f.message);
            if let Some(h) = &f.hint {
                let _ = writeln!(io.stdout, "      hint: {h}");
            }
        }
    }
    if report.has_errors() {
        exit::UNHEALTHY
    } else {
        exit::OK
    }
}

fn error_json(e: &Error) -> Value {
    json!({"code": e.code(), "message": e.message})
}

fn report_json(report: &StatusReport) -> Value {
    json!({
        "configFile": report.config_file.as_ref().map(|p| p.display().to_string()),
        "settingsFile": report.settings_file.as_ref().map(|p| p.display().to_string()),
        "warnings": report.warnings,
        "config": report.config,
        "vault": report.vault.as_ref().map_or_else(|| json!({"configured": false}), vault_json),
        "sources": report.sources.iter().map(source_json).collect::<Vec<_>>(),
        "problems": report
            .findings
            .iter()
            .filter(|f| f.level != Level::Ok)
            .map(|f| json!({"level": f.level.as_str(), "message": f.message, "hint": f.hint}))
            .collect::<Vec<_>>(),
    })
}

fn vault_json(v: &VaultStatus) -> Value {
    let mut out = json!({
        "configured": true,
        "addr": v.addr,
        "namespace": v.namespace,
        "mount": v.mount,
        "prefix": v.prefix,
        "auth": v.auth,
        "tokenSet": v.token_set,
    });
    match &v.health {
        Ok(h) => {
            out["reachable"] = json!(true);
            out["version"] = json!(h.version);
            out["initialized"] = json!(h.initialized);
            out["sealed"] = json!(h.sealed);
        }
        Err(e) => {
            out["reachable"] = json!(false);
            out["error"] = error_json(e);
        }
    }
    if let Some(Ok(t)) = &v.token {
        out["token"] = json!({
            "ttlSeconds": t.ttl_secs,
            "renewable": t.renewable,
            "policies": t.policies,
            "displayName": t.display_name,
        });
    }
    if let Some(Ok(n)) = &v.kv_version {
        out["kvVersion"] = json!(n);
    }
    if !v.nodes.is_empty() {
        out["nodes"] = v
            .nodes
            .iter()
            .map(|n| {
                let mut node = json!({"addr": n.addr, "state": n.state, "canServe": n.can_serve()});
                match &n.health {
                    Ok(h) => {
                        node["version"] = json!(h.version);
                        node["sealed"] = json!(h.sealed);
                    }
                    Err(e) => node["error"] = error_json(e),
                }
                node
            })
            .collect();
    }
    out
}

fn source_json(s: &SourceStatus) -> Value {
    let mut out =
        json!({"provider": s.provider, "group": s.group.as_str(), "credentials": s.credentials});
    if !s.owned_by_cli.is_empty() {
        out["ownedByCli"] = s
            .owned_by_cli
            .iter()
            .map(|(name, o)| json!({"name": name, "cli": o.cli, "renew": o.renew}))
            .collect();
    }
    if let Some(e) = &s.error {
        out["error"] = error_json(e);
    }
    out
}
