//! `status` (alias `doctor`): what configuration was found, whether Vault answers and lets this
//! token in, and which local sources exist; every problem with a hint. Never prints a token.

use std::io::Write;

use clap::Args;
use serde_json::{json, Value};

use super::{exit, fail, hint_for, CliIo};
use openclaw_credentials::error::{Error, ErrorCode};
use vault_client::KvVersion;

/// Arguments of `status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// One finding: `ok`, `warn` or `error`, with a hint for the last two.
struct Finding {
    level: &'static str,
    what: String,
    hint: Option<String>,
}

fn finding(level: &'static str, what: impl Into<String>, hint: Option<&str>) -> Finding {
    Finding {
        level,
        what: what.into(),
        hint: hint.map(str::to_string),
    }
}

/// `status`.
pub async fn status(args: StatusArgs, io: &mut CliIo) -> i32 {
    let store = match io.open_store() {
        Ok(s) => s,
        Err(e) => return fail(io, args.json, &e),
    };
    let mut findings = Vec::new();
    let mut report = serde_json::Map::new();
    report.insert(
        "configFile".into(),
        json!(store.config_file.as_ref().map(|p| p.display().to_string())),
    );
    report.insert("warnings".into(), json!(store.warnings));
    report.insert("config".into(), store.config.describe());
    match &store.config_file {
        Some(p) => findings.push(finding("ok", format!("config: {}", p.display()), None)),
        None => findings.push(finding(
            "ok",
            "config: no OpenClaw config file found (defaults and env apply)",
            None,
        )),
    }
    for w in &store.warnings {
        findings.push(finding("warn", w.clone(), None));
    }

    let mut vault = serde_json::Map::new();
    match store.chain.vault() {
        None => {
            vault.insert("configured".into(), json!(false));
            findings.push(finding(
                "warn",
                "vault: not configured; credentials come from local sources only",
                Some("set VAULT_ADDR (and VAULT_TOKEN or an auth method), or credentials.provider = \"vault\" with credentials.vault.addr in openclaw.json"),
            ));
        }
        Some(provider) => {
            let client = provider.client();
            let config = client.config();
            vault.insert("configured".into(), json!(true));
            vault.insert("addr".into(), json!(config.addr.as_str()));
            vault.insert("namespace".into(), json!(config.namespace));
            vault.insert("mount".into(), json!(client.mount()));
            vault.insert("prefix".into(), json!(provider.prefix()));
            vault.insert(
                "auth".into(),
                json!(config.login.as_ref().map(|l| l.name()).unwrap_or("token")),
            );
            vault.insert(
                "tokenSet".into(),
                json!(config.token.is_some() || config.login.is_some()),
            );
            match client.health().await {
                Ok(h) => {
                    vault.insert("reachable".into(), json!(true));
                    vault.insert("version".into(), json!(h.version));
                    vault.insert("initialized".into(), json!(h.initialized));
                    vault.insert("sealed".into(), json!(h.sealed));
                    if h.sealed {
                        findings.push(finding(
                            "error",
                            format!("vault: {} is sealed", config.addr),
                            hint_for(&openclaw_credentials::Error::new(ErrorCode::Sealed, "")),
                        ));
                    } else if !h.initialized {
                        findings.push(finding(
                            "error",
                            format!("vault: {} is not initialized", config.addr),
                            Some("run `vault operator init`"),
                        ));
                    } else {
                        findings.push(finding(
                            "ok",
                            format!(
                                "vault: {} reachable, unsealed (version {})",
                                config.addr,
                                h.version.as_deref().unwrap_or("unknown")
                            ),
                            None,
                        ));
                    }
                }
                Err(e) => {
                    vault.insert("reachable".into(), json!(false));
                    vault.insert(
                        "error".into(),
                        json!({"code": e.code(), "message": e.message}),
                    );
                    findings.push(finding(
                        "error",
                        format!("vault: {} unreachable: {}", config.addr, e.message),
                        hint_for(&Error::from(e.clone())),
                    ));
                }
            }
            if vault.get("reachable") == Some(&json!(true)) {
                match client.lookup_self().await {
                    Ok(info) => {
                        vault.insert(
                            "token".into(),
                            json!({
                                "ttlSeconds": info.ttl,
                                "renewable": info.renewable,
                                "policies": info.policies,
                                "displayName": info.display_name,
                            }),
                        );
                        let ttl = if info.ttl == 0 {
                            "no expiry".to_string()
                        } else {
                            format!("TTL {} s", info.ttl)
                        };
                        if info.ttl > 0 && info.ttl < 3600 && !info.renewable {
                            findings.push(finding(
                                "warn",
                                format!("token: {ttl}, not renewable"),
                                Some("use an auth method (approle, kubernetes, jwt) so the token can be renewed or re-issued"),
                            ));
                        } else {
                            findings.push(finding(
                                "ok",
                                format!("token: {ttl}, policies {}", info.policies.join(", ")),
                                None,
                            ));
                        }
                    }
                    Err(e) => findings.push(finding(
                        "error",
                        format!("token: {}", e.message),
                        hint_for(&Error::from(e.clone())),
                    )),
                }
                match client.kv_version().await {
                    Ok(v) => {
                        let n = match v {
                            KvVersion::V1 => 1,
                            KvVersion::V2 => 2,
                        };
                        vault.insert("kvVersion".into(), json!(n));
                        findings.push(finding(
                            "ok",
                            format!("kv: mount {} is KV v{n}", client.mount()),
                            None,
                        ));
                    }
                    Err(e) => findings.push(finding(
                        "error",
                        format!("kv: mount {}: {}", client.mount(), e.message),
                        Some("enable it (`vault secrets enable -path=secret kv-v2`) or set credentials.vault.mount / OPENCLAW_VAULT_KV_MOUNT"),
                    )),
                }
            }
        }
    }
    report.insert("vault".into(), Value::Object(vault));

    let mut sources = Vec::new();
    for provider in store.chain.providers() {
        if provider.id() == "vault" {
            continue;
        }
        let (count, error) = match provider.list().await {
            Ok(l) => (l.len(), None),
            Err(e) => (0, Some(e)),
        };
        let entry = match &error {
            None => {
                json!({"provider": provider.id(), "group": provider.group().as_str(), "credentials": count})
            }
            Some(e) => {
                json!({"provider": provider.id(), "group": provider.group().as_str(), "credentials": 0, "error": {"code": e.code(), "message": e.message}})
            }
        };
        sources.push(entry);
        match error {
            None if count > 0 => findings.push(finding(
                "ok",
                format!("source {}: {count} credential(s)", provider.id()),
                None,
            )),
            None => {}
            Some(e) if e.code == ErrorCode::SourceUnavailable => findings.push(finding(
                "ok",
                format!(
                    "source {}: not available here ({})",
                    provider.id(),
                    e.message
                ),
                None,
            )),
            Some(e) => findings.push(finding(
                "warn",
                format!("source {}: {}", provider.id(), e.message),
                Some("fix or remove the named file; the other sources are still used"),
            )),
        }
    }
    report.insert("sources".into(), json!(sources));
    let problems = findings.iter().filter(|f| f.level == "error").count();
    report.insert(
        "problems".into(),
        json!(findings
            .iter()
            .filter(|f| f.level != "ok")
            .map(|f| json!({"level": f.level, "message": f.what, "hint": f.hint}))
            .collect::<Vec<_>>()),
    );
    if args.json {
        let _ = writeln!(io.stdout, "{}", Value::Object(report));
    } else {
        for f in &findings {
            let mark = match f.level {
                "ok" => "ok   ",
                "warn" => "warn ",
                _ => "ERROR",
            };
            let _ = writeln!(io.stdout, "{mark} {}", f.what);
            if let Some(h) = &f.hint {
                let _ = writeln!(io.stdout, "      hint: {h}");
            }
        }
    }
    if problems > 0 {
        exit::UNHEALTHY
    } else {
        exit::OK
    }
}
