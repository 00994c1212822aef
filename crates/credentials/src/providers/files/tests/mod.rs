//! The file providers' tests: one module per format (behaviour pinned from the hand-written
//! providers they replaced), the table machinery itself, and the sample HOME end to end.

mod canary;
mod claude_code;
mod cli_oauth;
mod codex;
mod format;
mod legacy_oauth;
pub(crate) mod support;

use super::*;
use crate::credential::{CredentialKind, SourceGroup};
use support::*;

/// `examples/sample-home` through every provider, in the chain's order (read-only).
#[tokio::test]
async fn sample_home_reads_through_every_provider() {
    let sample = openclaw_vault_test_support::workspace_root().join("examples/sample-home");
    let paths = OpenClawPaths::from_env(&openclaw_vault_test_support::env_of(&[(
        "HOME",
        sample.to_str().unwrap(),
    )]));
    let providers = file_providers(&paths);
    let ids: Vec<_> = providers.iter().map(|p| p.id()).collect();
    assert_eq!(
        ids,
        [
            "claude-code",
            "codex",
            "qwen",
            "minimax",
            "gemini-cli",
            "auth-profiles",
            "openclaw-oauth"
        ]
    );
    assert!(providers.iter().all(|p| p.group() == SourceGroup::Files));
    // The CLIs own their files; OpenClaw's retired JSON files are read-only.
    assert!(providers.iter().all(|p| !p.writable()));
    let mut listed = Vec::new();
    for p in &providers {
        for l in p.list().await.unwrap() {
            assert!(
                !l.location.contains("FAKE") && !l.name.contains("FAKE"),
                "{l:?}"
            );
            listed.push(format!("{}:{}", p.id(), l.name));
        }
    }
    assert_eq!(
        listed,
        [
            "claude-code:anthropic",
            "codex:codex",
            "codex:openai",
            "qwen:qwen",
            "gemini-cli:gemini",
            "auth-profiles:openai:default",
            "auth-profiles:anthropic:work",
            "auth-profiles:minimax:default",
            "auth-profiles:openai",
            "auth-profiles:anthropic",
            "auth-profiles:minimax",
            "openclaw-oauth:anthropic",
        ]
    );
    let claude = providers[0].get("anthropic").await.unwrap().unwrap();
    assert!(secret(&claude, "accessToken").starts_with("sk-ant-oat01-FAKE-demo"));
    let gemini = providers[4].get("gemini").await.unwrap().unwrap();
    assert!(
        gemini.expires_within(1_767_225_600_000, 0),
        "the sample Gemini token is expired"
    );
    let work = providers[5].get("anthropic").await.unwrap().unwrap();
    assert_eq!(work.kind, CredentialKind::OAuth);
    assert_eq!(work.metadata["profileId"], "anthropic:work");
}
