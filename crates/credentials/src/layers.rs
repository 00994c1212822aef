//! Layered credentials (issue 13): one Vault, many agents and teams.
//!
//! ```text
//! <mount>/<prefix>/agents/<agentId>/credentials/<name>   one agent's own (overrides the team's)
//! <mount>/<prefix>/teams/<team>/credentials/<name>       shared by a team
//! <mount>/<prefix>/credentials/<name>                    the default layer (the single-team seed)
//! ```
//!
//! A lookup that names an agent and/or a team ([`LayerContext`]) walks agent, team, default and
//! answers from the first layer that holds the name; the answering layer is reported as
//! `source.layer` (`agent:<id>`, `team:<name>`, `default`). A lookup that names neither is exactly
//! the single-layer lookup of earlier versions (same paths, same cache keys, no `layer`).
//!
//! Agent ids and team names become Vault path segments and parts of policy and entity names
//! (`openclaw-vault setup`), so they are held to the narrowest of those rules: 1 to 64 characters,
//! lowercase ASCII letters, digits, `_` and `-`, starting with a letter or digit (OpenClaw's own
//! agent ids are normalised to this shape). Nothing else can be a glob (`*`, `+`) in a policy or
//! climb out of the prefix.

use crate::error::{Error, Result};

/// One layer of the Vault layout.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Layer {
    /// `<prefix>/agents/<id>/...`: one agent's own credentials.
    Agent(String),
    /// `<prefix>/teams/<name>/...`: a team's shared credentials.
    Team(String),
    /// `<prefix>/...`: the default layer.
    Default,
}

impl Layer {
    /// `agent:<id>`, `team:<name>` or `default`: how `source.layer`, `--layer` and audit lines
    /// name it.
    pub fn label(&self) -> String {
        match self {
            Layer::Agent(id) => format!("agent:{id}"),
            Layer::Team(t) => format!("team:{t}"),
            Layer::Default => "default".to_string(),
        }
    }

    /// Parses a label (`agent:<id>`, `team:<name>`, `default`); `what` names where it came from
    /// (`--layer`) in the `INVALID_ARGUMENT` error.
    pub fn parse(label: &str, what: &str) -> Result<Layer> {
        if label == "default" {
            return Ok(Layer::Default);
        }
        if let Some(id) = label.strip_prefix("agent:") {
            check_id(id, &format!("{what} (the agent id after `agent:`)"))?;
            return Ok(Layer::Agent(id.to_string()));
        }
        if let Some(t) = label.strip_prefix("team:") {
            check_id(t, &format!("{what} (the team name after `team:`)"))?;
            return Ok(Layer::Team(t.to_string()));
        }
        Err(Error::invalid_argument(format!(
            "{what} must be `default`, `team:<name>` or `agent:<id>`"
        )))
    }

    /// The layer's folder relative to the KV mount: `<prefix>`, `<prefix>/teams/<name>` or
    /// `<prefix>/agents/<id>` (the prefix without slashes at either end).
    pub fn folder(&self, prefix: &str) -> String {
        match self {
            Layer::Agent(id) => format!("{prefix}/agents/{id}"),
            Layer::Team(t) => format!("{prefix}/teams/{t}"),
            Layer::Default => prefix.to_string(),
        }
    }
}

/// Checks an agent id or team name against the Vault path and policy-name rules above.
/// `INVALID_ARGUMENT` naming `what` (an option, flag or config key) and the rule; the value is
/// never quoted (a pasted secret must not reach a log).
pub fn check_id(id: &str, what: &str) -> Result<()> {
    if is_valid_id(id) {
        Ok(())
    } else {
        Err(Error::invalid_argument(format!("{what} {ID_RULE}")))
    }
}

/// What [`check_id`] says after naming the argument.
pub const ID_RULE: &str = "is not a valid Vault path segment and policy name: use 1 to 64 lowercase letters, digits, `_` or `-`, starting with a letter or digit";

/// Whether `id` may be an agent id or team name (see [`check_id`]).
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        && id
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Which agent and team a lookup is for. Empty (the default): the default layer only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LayerContext {
    /// The agent whose own layer is asked first.
    pub agent: Option<String>,
    /// The team whose layer is asked after the agent's.
    pub team: Option<String>,
}

impl LayerContext {
    /// A checked context; `agent_what`/`team_what` name where each value came from.
    pub fn new(
        agent: Option<String>,
        team: Option<String>,
        agent_what: &str,
        team_what: &str,
    ) -> Result<Self> {
        if let Some(a) = &agent {
            check_id(a, agent_what)?;
        }
        if let Some(t) = &team {
            check_id(t, team_what)?;
        }
        Ok(LayerContext { agent, team })
    }

    /// True when neither an agent nor a team is named: the single-layer lookup.
    pub fn is_empty(&self) -> bool {
        self.agent.is_none() && self.team.is_none()
    }

    /// The layers asked, in order: agent, team, default (those named).
    pub fn layers(&self) -> Vec<Layer> {
        let mut out = Vec::with_capacity(3);
        if let Some(a) = &self.agent {
            out.push(Layer::Agent(a.clone()));
        }
        if let Some(t) = &self.team {
            out.push(Layer::Team(t.clone()));
        }
        out.push(Layer::Default);
        out
    }

    /// This context with `over`'s values where `over` names one (a per-call option over the
    /// configured default).
    pub fn overridden_by(&self, over: &LayerContext) -> LayerContext {
        LayerContext {
            agent: over.agent.clone().or_else(|| self.agent.clone()),
            team: over.team.clone().or_else(|| self.team.clone()),
        }
    }

    /// What the chain's cache key adds for this context: empty for the empty context, so the
    /// keys of earlier versions are unchanged.
    pub fn signature(&self) -> String {
        if self.is_empty() {
            return String::new();
        }
        format!(
            "|agent={}|team={}",
            self.agent.as_deref().unwrap_or(""),
            self.team.as_deref().unwrap_or("")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn ids_follow_the_path_and_policy_rules() {
        for good in ["ops", "a", "agent-7", "core_team", "0x"] {
            check_id(good, "--agent").unwrap();
        }
        let long = "a".repeat(65);
        for bad in [
            "", "Ops", "a/b", "..", ".", "a*", "a+", "-x", "_x", "a b", "é", &long,
        ] {
            let e = check_id(bad, "--agent").unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidArgument);
            assert!(
                e.message.starts_with("--agent is not a valid"),
                "{}",
                e.message
            );
        }
    }

    #[test]
    fn labels_round_trip_and_name_the_argument() {
        for l in [
            Layer::Default,
            Layer::Team("core".into()),
            Layer::Agent("ops".into()),
        ] {
            assert_eq!(Layer::parse(&l.label(), "--layer").unwrap(), l);
        }
        let e = Layer::parse("team:Core/x", "--layer").unwrap_err();
        assert!(
            e.message.contains("--layer (the team name"),
            "{}",
            e.message
        );
        assert!(!e.message.contains("Core/x"));
        let e = Layer::parse("group:x", "--layer").unwrap_err();
        assert!(e.message.contains("`team:<name>`"), "{}", e.message);
    }

    #[test]
    fn walk_order_and_folders() {
        let c = LayerContext::new(Some("ops".into()), Some("core".into()), "a", "t").unwrap();
        let folders: Vec<String> = c.layers().iter().map(|l| l.folder("openclaw")).collect();
        assert_eq!(
            folders,
            ["openclaw/agents/ops", "openclaw/teams/core", "openclaw"]
        );
        assert_eq!(LayerContext::default().signature(), "");
        assert_ne!(c.signature(), "");
    }
}
