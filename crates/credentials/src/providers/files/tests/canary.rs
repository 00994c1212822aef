//! Property-style check of every local file format: wrong-shape inputs that carry a canary give
//! errors that never quote it (a file's content can be a secret).

use super::support::*;
use crate::providers::files::format::FileFormat;
use crate::providers::files::formats;
use crate::providers::files::JsonFileProvider;
use crate::providers::CredentialProvider;

const CANARY: &str = "sk-live-CANARY-7f3a";

/// Inputs of the wrong shape at every level, each holding the canary.
fn wrong_shapes() -> Vec<String> {
    let c = CANARY;
    let mut out = vec![
        c.to_string(),
        format!("\"{c}\""),
        format!("[\"{c}\"]"),
        format!("{{\"{c}\""),
        format!("{{\"a\": {c}}}"),
        format!("{{\"a\": \"{c}"),
        format!("{{\"a\": \"x\", {c}}}"),
    ];
    // The canary as a value of the wrong type or in a wrong place under each known key.
    for key in [
        "claudeAiOauth",
        "tokens",
        "access_token",
        "accessToken",
        "refresh_token",
        "refreshToken",
        "expiresAt",
        "expiry_date",
        "scopes",
        "OPENAI_API_KEY",
        "anthropic",
    ] {
        out.push(format!("{{\"{key}\": [\"{c}\"]}}"));
        out.push(format!("{{\"{key}\": {{\"{c}\": \"{c}\"}}}}"));
        out.push(format!(
            "{{\"{key}\": {{\"access_token\": [\"{c}\"], \"expiry_date\": \"{c}\"}}}}"
        ));
        out.push(format!("{{\"{key}\": {{\"accessToken\": \"x\", \"expiresAt\": \"{c}\", \"scopes\": \"{c}\"}}}}"));
    }
    out
}

#[tokio::test]
async fn no_format_quotes_a_wrong_shaped_input() {
    let all: [&FileFormat; 6] = [
        &formats::CLAUDE_CODE,
        &formats::CODEX,
        &formats::QWEN,
        &formats::MINIMAX,
        &formats::GEMINI_CLI,
        &formats::OPENCLAW_OAUTH,
    ];
    let home = TempHome::new("canary-formats");
    let mut errors = 0;
    for format in all {
        let provider = JsonFileProvider::from_paths(format, &home.paths()).unwrap();
        let rest = provider
            .path()
            .strip_prefix(&home.0)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let names: Vec<&str> = format
            .entries
            .iter()
            .flat_map(|e| e.names.iter().copied())
            .chain(["anthropic", "x"])
            .collect();
        for input in wrong_shapes() {
            home.write(&rest, &input);
            for name in &names {
                if let Err(e) = provider.get(name).await {
                    errors += 1;
                    assert!(
                        !e.message.contains("CANARY"),
                        "{}: {input}: {}",
                        format.id,
                        e.message
                    );
                }
            }
            if let Err(e) = provider.list().await {
                assert!(
                    !e.message.contains("CANARY"),
                    "{}: {input}: {}",
                    format.id,
                    e.message
                );
            }
        }
    }
    assert!(
        errors > 100,
        "the inputs should mostly fail ({errors} errors)"
    );
}
