//! `audit <vault-audit-log>`: who read which credential, when, from a Vault file audit device's
//! log (see `openclaw_credentials::vault_audit`). Printing only.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use serde_json::{json, Value};

use super::{exit, fail, CliIo};
use openclaw_credentials::error::{Error, ErrorCode};
use openclaw_credentials::vault_audit;

/// Arguments of `audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The Vault file audit device's log (`vault audit enable file file_path=<this>`).
    pub log: PathBuf,
    /// The KV mount the credentials live in (default: the configured one, else `secret`).
    #[arg(long)]
    pub mount: Option<String>,
    /// The folder under the mount (default: the configured prefix, else `openclaw`).
    #[arg(long)]
    pub prefix: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `audit <log>`. Exit 0, or 1 when the log cannot be read or holds bad lines (listed by
/// number, never quoted).
pub async fn audit(args: AuditArgs, io: &mut CliIo) -> i32 {
    // The configured mount and prefix when a config is usable; the flags win.
    let configured = openclaw_credentials::store::load_store_config(&io.store_options()).ok();
    let prefix = args.prefix.clone().unwrap_or_else(|| {
        configured
            .as_ref()
            .map_or("openclaw".to_string(), |c| c.credentials.prefix.clone())
    });
    let mount = args.mount.clone().unwrap_or_else(|| {
        configured
            .as_ref()
            .and_then(|c| c.credentials.vault.as_ref())
            .map_or("secret".to_string(), |v| v.mount.clone())
    });
    let file = match std::fs::File::open(&args.log) {
        Ok(f) => f,
        Err(e) => {
            // Not a usage error (exit 2): the argument is well formed, the file is not there
            // or not readable (exit 1).
            let e = Error::new(
                ErrorCode::SourceUnavailable,
                format!("the audit log {} cannot be opened: {e}", args.log.display()),
            );
            return fail(io, args.json, &e);
        }
    };
    let summary = match vault_audit::summarise(std::io::BufReader::new(file), &mount, &prefix) {
        Ok(s) => s,
        Err(e) => return fail(io, args.json, &e),
    };
    if args.json {
        let readers: Vec<Value> = summary
            .reads
            .iter()
            .map(|(who, reads)| {
                json!({
                    "entityId": who.entity_id,
                    "displayName": who.display_name,
                    "metadata": who.metadata,
                    "accessor": who.accessor,
                    "policies": who.policies,
                    "reads": reads.iter().map(|(what, s)| json!({
                        "credential": what.credential,
                        "layer": what.layer,
                        "count": s.count,
                        "denied": s.denied,
                        "failed": s.failed,
                        "first": s.first,
                        "last": s.last,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let out = json!({
            "log": args.log.display().to_string(),
            "mount": mount,
            "prefix": prefix,
            "lines": summary.lines,
            "readers": readers,
            "badLines": summary.bad_lines.iter().map(|b| json!({"line": b.line, "reason": b.reason})).collect::<Vec<_>>(),
            "badLineCount": summary.bad_line_count,
            "droppedRows": summary.dropped_rows,
        });
        let _ = writeln!(io.stdout, "{out}");
    } else {
        for (who, reads) in &summary.reads {
            let meta: Vec<String> = who
                .metadata
                .iter()
                .map(|(k, v)| format!("{}={}", printable(k), printable(v)))
                .collect();
            let entity = if who.entity_id.is_empty() {
                // Tokens without an entity are told apart by accessor (HMAC) and policies.
                format!(
                    "(no entity: accessor {}, policies {})",
                    printable(&who.accessor),
                    printable(&who.policies.join(","))
                )
            } else {
                printable(&who.entity_id)
            };
            let _ = writeln!(
                io.stdout,
                "{entity} {} {}",
                printable(&who.display_name),
                meta.join(" ")
            );
            for (what, s) in reads {
                let _ = writeln!(
                    io.stdout,
                    "  {:<32} {:<16} reads {:>6}  denied {:>4}  failed {:>4}  {} .. {}",
                    printable(&what.credential),
                    printable(&what.layer),
                    s.count,
                    s.denied,
                    s.failed,
                    printable(&s.first),
                    printable(&s.last)
                );
            }
        }
        if summary.reads.is_empty() {
            let _ = writeln!(
                io.stdout,
                "No credential reads under {mount}/{prefix} in this log."
            );
        }
        for b in &summary.bad_lines {
            let _ = writeln!(io.stderr, "{}:{}: {}", args.log.display(), b.line, b.reason);
        }
        if summary.dropped_rows > 0 {
            let _ = writeln!(
                io.stderr,
                "{} more (reader, credential) rows were not kept (limit {})",
                summary.dropped_rows,
                vault_audit::MAX_ROWS
            );
        }
    }
    if summary.bad_line_count > 0 {
        exit::FAILURE
    } else {
        exit::OK
    }
}

/// `text` with every control character escaped (`\u{1b}`): a Vault audit log is written by
/// whoever can authenticate (display names, metadata, request paths), and a terminal must not
/// run the escape sequences it may carry (attack 5b, finding 6). JSON output escapes them anyway.
fn printable(text: &str) -> String {
    super::printable(text, &[]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn terminal_escapes_from_the_log_are_printed_escaped() {
        let hostile = "X\u{1b}[31m red \u{1b}[2J\u{7}";
        let shown = printable(hostile);
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert_eq!(shown, "X\\u{1b}[31m red \\u{1b}[2J\\u{7}");
        assert_eq!(printable("openai:café ok"), "openai:café ok");
    }
}
