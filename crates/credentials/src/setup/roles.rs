//! The role table: the one place that says what each OpenClaw identity may do in Vault. `setup`
//! renders it to ACL policies (HCL), `setup --dry-run` prints them, and docs/team-guide.md and
//! docs/migration-guide.md show them (a test checks the docs against [`render`]).
//!
//! Layout (under the KV v2 mount and the prefix): the default layer `<prefix>/credentials/<name>`
//! (where `migrate` also writes `agents/<agentId>/<profileId>` and `store/<NAME>`), the team
//! layer `<prefix>/teams/<team>/credentials/<name>`, the agent layer
//! `<prefix>/agents/<agentId>/credentials/<name>`; OAuth refresh leases under `<prefix>/leases/`.

use std::fmt::Write;

/// Who a rule applies to, and so which paths it expands to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// Paths under the prefix itself (`{prefix}` only).
    Prefix,
    /// The gateway's or agent's team (`{team}`): one rule, or none when no team is given.
    Team,
    /// Every agent the gateway serves, or the agent itself (`{agent}`): one rule per agent.
    Agent,
    /// Outside the mount (`sys/...`): `{mount}` only.
    System,
}

/// One `path "..." { capabilities = [...] }` block of a role.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// The path, with `{mount}`, `{prefix}`, `{team}`, `{agent}` to fill in.
    pub path: &'static str,
    /// Vault capabilities, in Vault's words.
    pub capabilities: &'static [&'static str],
    /// What needs it (the comment above the block).
    pub why: &'static str,
    /// Which names the path is expanded for.
    pub layer: Layer,
}

/// One role: a policy per identity holding it.
#[derive(Debug, Clone, Copy)]
pub struct Role {
    /// The role's name in the table: `gateway`, `agent`, `migrator`, `operator`, `auditor`.
    pub name: &'static str,
    /// One sentence for people.
    pub summary: &'static str,
    /// What it must never be able to do (checked by the identity tests).
    pub never: &'static str,
    /// Its rules, in the order they are rendered.
    pub rules: &'static [Rule],
}

const MOUNTS: Rule = Rule {
    path: "sys/internal/ui/mounts/{mount}",
    capabilities: &["read"],
    why: "KV version detection of the mount",
    layer: Layer::System,
};

/// The role table.
pub const ROLES: &[Role] = &[
    Role {
        name: "gateway",
        summary: "An OpenClaw gateway: reads the default layer, its team's and its agents' credentials; writes back refreshed OAuth tokens.",
        never: "create a credential, write a team or agent layer, delete or destroy a version, read another team's or agent's layer",
        rules: &[
            Rule { path: "{mount}/data/{prefix}/credentials/*", capabilities: &["read", "update"], why: "getCredential (read); OAuth refresh writes the new tokens back with cas (update)", layer: Layer::Prefix },
            Rule { path: "{mount}/metadata/{prefix}/credentials", capabilities: &["list"], why: "listCredentials", layer: Layer::Prefix },
            Rule { path: "{mount}/metadata/{prefix}/credentials/*", capabilities: &["read", "list"], why: "watchCredential (rotation: metadata current_version)", layer: Layer::Prefix },
            Rule { path: "{mount}/data/{prefix}/leases/*", capabilities: &["create", "read", "update", "delete"], why: "the refresh lease that makes exactly one process refresh", layer: Layer::Prefix },
            Rule { path: "{mount}/metadata/{prefix}/leases/*", capabilities: &["delete"], why: "releasing the refresh lease", layer: Layer::Prefix },
            Rule { path: "{mount}/data/{prefix}/config/*", capabilities: &["read"], why: "shared settings", layer: Layer::Prefix },
            MOUNTS,
            Rule { path: "{mount}/data/{prefix}/teams/{team}/credentials/*", capabilities: &["read"], why: "the team layer (read only: one gateway must not change what the whole team reads; layered OAuth tokens are never written back)", layer: Layer::Team },
            Rule { path: "{mount}/metadata/{prefix}/teams/{team}/credentials", capabilities: &["list"], why: "listing the team layer", layer: Layer::Team },
            Rule { path: "{mount}/metadata/{prefix}/teams/{team}/credentials/*", capabilities: &["read", "list"], why: "watching the team layer", layer: Layer::Team },
            Rule { path: "{mount}/data/{prefix}/agents/{agent}/credentials/*", capabilities: &["read"], why: "the agent layer of each agent this gateway runs (read only)", layer: Layer::Agent },
            Rule { path: "{mount}/metadata/{prefix}/agents/{agent}/credentials", capabilities: &["list"], why: "listing the agent layer", layer: Layer::Agent },
            Rule { path: "{mount}/metadata/{prefix}/agents/{agent}/credentials/*", capabilities: &["read", "list"], why: "watching the agent layer", layer: Layer::Agent },
        ],
    },
    Role {
        name: "agent",
        summary: "One agent (`agent:<id>`): reads its own layer and its team's, nothing else.",
        never: "read the default layer, another agent's or another team's layer; write anything",
        rules: &[
            Rule { path: "{mount}/data/{prefix}/agents/{agent}/credentials/*", capabilities: &["read"], why: "its own layer", layer: Layer::Agent },
            Rule { path: "{mount}/metadata/{prefix}/agents/{agent}/credentials", capabilities: &["list"], why: "listing its own layer", layer: Layer::Agent },
            Rule { path: "{mount}/metadata/{prefix}/agents/{agent}/credentials/*", capabilities: &["read", "list"], why: "watching its own layer", layer: Layer::Agent },
            Rule { path: "{mount}/data/{prefix}/teams/{team}/credentials/*", capabilities: &["read"], why: "its team's layer", layer: Layer::Team },
            Rule { path: "{mount}/metadata/{prefix}/teams/{team}/credentials/*", capabilities: &["read", "list"], why: "watching its team's layer", layer: Layer::Team },
            MOUNTS,
        ],
    },
    Role {
        name: "migrator",
        summary: "The person or job running `openclaw-vault migrate`: creates credentials anywhere under the prefix and reads them back.",
        never: "delete or destroy a version, or delete metadata (it can write a new version over an existing one: KV v2 policies cannot forbid that)",
        rules: &[
            Rule { path: "{mount}/data/{prefix}/*", capabilities: &["create", "read", "update"], why: "migrate's writes (always with cas: 0 for a new path) and read-back; a policy cannot make KV v2 create-only, so this token can also overwrite (see the migration guide)", layer: Layer::Prefix },
            Rule { path: "{mount}/metadata/{prefix}/*", capabilities: &["read", "list"], why: "existing versions (resume, conflicts)", layer: Layer::Prefix },
            Rule { path: "{mount}/metadata/{prefix}", capabilities: &["list"], why: "listing the prefix", layer: Layer::Prefix },
            MOUNTS,
        ],
    },
    Role {
        name: "operator",
        summary: "A person rotating credentials: writes new versions, soft-deletes and undeletes.",
        never: "destroy a version or delete a key's metadata (its whole history)",
        rules: &[
            Rule { path: "{mount}/data/{prefix}/*", capabilities: &["create", "read", "update", "patch", "delete"], why: "new versions; delete is a soft delete, undone by undelete", layer: Layer::Prefix },
            Rule { path: "{mount}/delete/{prefix}/*", capabilities: &["update"], why: "soft-deleting given versions", layer: Layer::Prefix },
            Rule { path: "{mount}/undelete/{prefix}/*", capabilities: &["update"], why: "undoing a soft delete", layer: Layer::Prefix },
            Rule { path: "{mount}/metadata/{prefix}/*", capabilities: &["read", "list"], why: "versions and rotation times", layer: Layer::Prefix },
            Rule { path: "{mount}/metadata/{prefix}", capabilities: &["list"], why: "listing the prefix", layer: Layer::Prefix },
            Rule { path: "{mount}/destroy/{prefix}/*", capabilities: &["deny"], why: "never destroy, even if another policy allows it", layer: Layer::Prefix },
            MOUNTS,
        ],
    },
    Role {
        name: "auditor",
        summary: "A reviewer: sees which credentials exist, their versions and times, never a value.",
        never: "read a value (data/ or subkeys/), write anything",
        rules: &[
            Rule { path: "{mount}/metadata/{prefix}/*", capabilities: &["read", "list"], why: "names, versions, created and deleted times", layer: Layer::Prefix },
            Rule { path: "{mount}/metadata/{prefix}", capabilities: &["list"], why: "listing the prefix", layer: Layer::Prefix },
            MOUNTS,
        ],
    },
];

/// The role named `name`.
pub fn role(name: &str) -> Option<&'static Role> {
    ROLES.iter().find(|r| r.name == name)
}

/// What a rendered policy is for.
#[derive(Debug, Clone, Default)]
pub struct Scope<'a> {
    /// The KV v2 mount, without slashes.
    pub mount: &'a str,
    /// The prefix, without leading or trailing slashes.
    pub prefix: &'a str,
    /// The team, for team rules; none renders no team rule.
    pub team: Option<&'a str>,
    /// The agents, for agent rules (the agent itself for the `agent` role).
    pub agents: &'a [String],
}

/// `role`'s policy for `scope` as HCL: a comment then a `path` block per rule, aligned.
pub fn render(role: &Role, scope: &Scope<'_>) -> String {
    let mut blocks: Vec<(String, String, &str)> = Vec::new();
    let fill = |path: &str, team: &str, agent: &str| {
        path.replace("{mount}", scope.mount)
            .replace("{prefix}", scope.prefix)
            .replace("{team}", team)
            .replace("{agent}", agent)
    };
    for rule in role.rules {
        let caps = rule
            .capabilities
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        match rule.layer {
            Layer::Prefix | Layer::System => blocks.push((fill(rule.path, "", ""), caps, rule.why)),
            Layer::Team => {
                if let Some(team) = scope.team {
                    blocks.push((fill(rule.path, team, ""), caps, rule.why));
                }
            }
            Layer::Agent => {
                for agent in scope.agents {
                    blocks.push((fill(rule.path, "", agent), caps.clone(), rule.why));
                }
            }
        }
    }
    let width = blocks.iter().map(|b| b.0.len() + 2).max().unwrap_or(0);
    let mut out = String::new();
    let mut last_why = "";
    for (path, caps, why) in blocks {
        if why != last_why {
            let _ = writeln!(out, "# {why}");
            last_why = why;
        }
        let quoted = format!("\"{path}\"");
        let _ = writeln!(out, "path {quoted:<width$} {{ capabilities = [{caps}] }}");
    }
    out
}

/// The role table as a Markdown table (docs/team-guide.md holds this text; a test compares).
pub fn markdown_table() -> String {
    let mut out = String::from("| role | may | never |\n|---|---|---|\n");
    for role in ROLES {
        let name = if role.name == "agent" {
            "`agent:<id>`".to_string()
        } else {
            format!("`{}`", role.name)
        };
        let _ = writeln!(out, "| {name} | {} | {} |", role.summary, role.never);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(name: &str) -> String {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs");
        std::fs::read_to_string(root.join(name)).unwrap()
    }

    /// The ```hcl block after the first mention of `marker` in `text`.
    fn hcl_after(text: &str, marker: &str) -> String {
        let at = text
            .find(marker)
            .unwrap_or_else(|| panic!("{marker} missing"));
        let rest = &text[at..];
        let start = rest.find("```hcl\n").expect("hcl block") + 7;
        let end = rest[start..].find("```").unwrap();
        rest[start..start + end].to_string()
    }

    fn defaults() -> Scope<'static> {
        Scope {
            mount: "secret",
            prefix: "openclaw",
            team: None,
            agents: &[],
        }
    }

    /// (doc file, marker before the ```hcl block, the block as rendered).
    fn doc_blocks() -> Vec<(&'static str, String, String)> {
        let mut out = Vec::new();
        for (file, role_name) in [
            ("`openclaw-gateway.hcl`", "gateway"),
            ("`openclaw-migrate.hcl`", "migrator"),
        ] {
            let want = render(role(role_name).unwrap(), &defaults());
            out.push(("migration-guide.md", file.to_string(), want));
        }
        let agents = ["alice".to_string(), "bob".to_string()];
        for r in ROLES {
            let (marker, scope) = match r.name {
                "gateway" => (
                    "`openclaw-gateway-gw1`:".to_string(),
                    Scope {
                        team: Some("ops"),
                        agents: &agents,
                        ..defaults()
                    },
                ),
                "agent" => (
                    "`openclaw-agent-alice`:".to_string(),
                    Scope {
                        team: Some("ops"),
                        agents: &agents[..1],
                        ..defaults()
                    },
                ),
                name => (format!("`openclaw-{name}`:"), defaults()),
            };
            out.push(("team-guide.md", marker, render(r, &scope)));
        }
        out
    }

    #[test]
    fn the_docs_show_the_table_as_rendered() {
        for (file, marker, want) in doc_blocks() {
            assert_eq!(
                hcl_after(&doc(file), &marker),
                want,
                "{file} {marker}: run `cargo test -p openclaw-credentials bless_docs -- --ignored`"
            );
        }
        assert!(
            doc("team-guide.md").contains(&markdown_table()),
            "{}",
            markdown_table()
        );
    }

    /// Rewrites the docs' policy blocks from the table (run by hand after changing it).
    #[test]
    #[ignore]
    fn bless_docs() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs");
        for (file, marker, want) in doc_blocks() {
            let text = doc(file);
            let at = text.find(&marker).unwrap();
            let start = at + text[at..].find("```hcl\n").unwrap() + 7;
            let end = start + text[start..].find("```").unwrap();
            let text = format!("{}{}{}", &text[..start], want, &text[end..]);
            std::fs::write(root.join(file), text).unwrap();
        }
    }

    #[test]
    fn rendering_expands_team_and_agents() {
        let agents = ["a1".to_string(), "a2".to_string()];
        let hcl = render(
            role("gateway").unwrap(),
            &Scope {
                mount: "kv",
                prefix: "p/q",
                team: Some("ops"),
                agents: &agents,
            },
        );
        assert!(
            hcl.contains("\"kv/data/p/q/teams/ops/credentials/*\""),
            "{hcl}"
        );
        assert!(
            hcl.contains("\"kv/data/p/q/agents/a1/credentials/*\""),
            "{hcl}"
        );
        assert!(
            hcl.contains("\"kv/data/p/q/agents/a2/credentials/*\""),
            "{hcl}"
        );
        assert!(!hcl.contains('{') || !hcl.contains("{team}"), "{hcl}");
        let bare = render(role("gateway").unwrap(), &defaults());
        assert!(
            !bare.contains("teams/") && !bare.contains("agents/"),
            "{bare}"
        );
        // No role grants destroy or metadata delete but through an explicit deny.
        for r in ROLES {
            for rule in r.rules {
                if rule.path.contains("/destroy/") {
                    assert_eq!(rule.capabilities, ["deny"], "{}", r.name);
                }
                if rule.path.contains("/metadata/") {
                    assert!(!rule.capabilities.contains(&"delete") || rule.path.contains("leases"));
                }
            }
        }
    }
}
