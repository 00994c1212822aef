//! `openclaw-vault setup`: configures a Vault for OpenClaw from the [role table](roles): the KV v2
//! mount and one ACL policy per identity (a gateway, an agent, the migrator, the operator, the
//! auditor). Idempotent: what already matches is left alone. All or nothing: every name is
//! checked, the mount's type and version read, and the token's capabilities on every path it
//! will write asked (`sys/capabilities-self`) before the first write; a write that fails later
//! undoes what this run did (policies created are deleted, policies replaced get their old text
//! back, a mount this run enabled is disabled) and the error says what remains.

pub mod roles;

use std::collections::BTreeMap;

use vault_client::engines::acl;
use vault_client::VaultClient;

use crate::error::{Error, ErrorCode, Result};
use roles::{Role, Scope};

/// What to configure. Names are checked by [`plan`].
#[derive(Debug, Clone, Default)]
pub struct SetupRequest {
    /// The KV v2 mount (default `secret`).
    pub mount: String,
    /// The prefix under the mount (default `openclaw`).
    pub prefix: String,
    /// The team the gateways and agents belong to, if any.
    pub team: Option<String>,
    /// Gateways: one `gateway` policy each, reading the team's and every listed agent's layer.
    pub gateways: Vec<String>,
    /// Agents: one `agent` policy each (their own layer and the team's).
    pub agents: Vec<String>,
}

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing there yet: create it.
    Create,
    /// There, but different: replace it.
    Update,
    /// There and as wanted.
    Unchanged,
}

impl Action {
    /// `create`, `update`, `unchanged`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Unchanged => "unchanged",
        }
    }
}

/// One thing `setup` configures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The KV v2 mount (`sys/mounts/<mount>`).
    Mount(String),
    /// An ACL policy (`sys/policies/acl/<name>`), for the role and the identity it names.
    Policy {
        /// The policy's name, e.g. `openclaw-gateway-gw1`.
        name: String,
        /// The role in the table.
        role: &'static str,
        /// Its HCL.
        hcl: String,
    },
}

/// One step of the plan.
#[derive(Debug, Clone)]
pub struct Step {
    /// What.
    pub target: Target,
    /// What happens to it.
    pub action: Action,
    /// The policy text before an update (for rollback; never shown).
    previous: Option<String>,
}

impl Step {
    /// The Vault API path the step writes (`sys/policies/acl/<name>`, `sys/mounts/<mount>`).
    pub fn api_path(&self) -> String {
        match &self.target {
            Target::Mount(m) => format!("sys/mounts/{m}"),
            Target::Policy { name, .. } => format!("sys/policies/acl/{name}"),
        }
    }
}

/// Every step, in order: the mount first, then the policies.
#[derive(Debug, Clone)]
pub struct SetupPlan {
    /// The request it was made for.
    pub request: SetupRequest,
    /// The steps.
    pub steps: Vec<Step>,
}

impl SetupPlan {
    /// Whether applying would write anything.
    pub fn changes(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| s.action != Action::Unchanged)
            .count()
    }
}

/// Team names and agent and gateway ids as OpenClaw normalises agent ids and as Vault takes them
/// both in a policy path (no `*` or `+` globs, no `/`) and in a policy name (Vault lower-cases
/// names, so `Ops` and `ops` would be one policy): 1 to 64 of `a-z 0-9 _ -`, starting with a
/// letter or digit.
pub fn check_id(value: &str, what: &str) -> Result<()> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        && value.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        return Ok(());
    }
    // Named by what it is, not quoted in full: a pasted secret must not be echoed.
    Err(Error::invalid_argument(format!(
        "{what} is not a name Vault accepts in a policy path and policy name: expected 1 to 64 of a-z, 0-9, _ and -, starting with a letter or digit"
    )))
}

/// The policy name prefix: the prefix with `/` as `-` (`openclaw`, `teams-a-openclaw`).
fn policy_stem(prefix: &str) -> Result<String> {
    let stem = prefix.replace('/', "-");
    check_id(&stem, "the prefix (as a policy name, `/` read as `-`)")?;
    Ok(stem)
}

/// The policies `request` asks for: name, role, HCL, in a stable order.
pub fn policies(request: &SetupRequest) -> Result<Vec<Target>> {
    let stem = policy_stem(request.prefix.trim_matches('/'))?;
    if let Some(team) = &request.team {
        check_id(team, "--team")?;
    }
    for g in &request.gateways {
        check_id(g, "a --gateway")?;
    }
    for a in &request.agents {
        check_id(a, "an --agent")?;
    }
    let prefix = request.prefix.trim_matches('/');
    let mount = request.mount.trim_matches('/');
    let scope = |agents: &'static [String]| Scope {
        mount,
        prefix,
        team: request.team.as_deref(),
        agents,
    };
    let role = |name: &str| -> &'static Role { roles::role(name).expect("role in the table") };
    let mut out = Vec::new();
    for name in ["migrator", "operator", "auditor"] {
        out.push(Target::Policy {
            name: format!("{stem}-{name}"),
            role: role(name).name,
            hcl: roles::render(role(name), &scope(&[])),
        });
    }
    for g in &request.gateways {
        let s = Scope {
            agents: &request.agents,
            ..scope(&[])
        };
        out.push(Target::Policy {
            name: format!("{stem}-gateway-{g}"),
            role: "gateway",
            hcl: roles::render(role("gateway"), &s),
        });
    }
    for a in &request.agents {
        let one = [a.clone()];
        let s = Scope {
            agents: &one,
            ..scope(&[])
        };
        out.push(Target::Policy {
            name: format!("{stem}-agent-{a}"),
            role: "agent",
            hcl: roles::render(role("agent"), &s),
        });
    }
    Ok(out)
}

/// Whether `caps` (from `sys/capabilities-self`) allow `needed`; `root` allows everything.
fn allows(caps: &[String], needed: &str) -> bool {
    caps.iter().any(|c| c == "root" || c == needed) && !caps.iter().any(|c| c == "deny")
}

/// Asks Vault which of `needs` (path, capability) the token lacks; `PERMISSION_DENIED` naming
/// every missing one, before anything is written.
async fn check_capabilities(client: &VaultClient, needs: &[(String, &str)]) -> Result<()> {
    if needs.is_empty() {
        return Ok(());
    }
    let paths: Vec<String> = needs
        .iter()
        .map(|(p, _)| p.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let caps = acl::capabilities_self(client.session(), &paths)
        .await
        .map_err(|e| {
            let e = Error::from(e);
            if e.code == ErrorCode::PermissionDenied {
                Error {
                    message: format!(
                        "setup checks the token's capabilities first and this token may not ask (`update` on sys/capabilities-self, which the `default` policy grants); nothing was changed: {}",
                        e.message
                    ),
                    ..e
                }
            } else {
                e
            }
        })?;
    let missing: Vec<String> = needs
        .iter()
        .filter(|(p, c)| !allows(caps.get(p).map(Vec::as_slice).unwrap_or(&[]), c))
        .map(|(p, c)| format!("{c} on {p}"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::new(
        ErrorCode::PermissionDenied,
        format!(
            "setup needs capabilities this token lacks (nothing was changed): {}",
            missing.join(", ")
        ),
    ))
}

/// Reads what is there and decides each step; writes nothing. Refuses (before any write) a
/// name Vault would refuse (`INVALID_ARGUMENT`), a mount that is not KV v2
/// (`UNSUPPORTED_OPERATION`, naming the mount and what it is), and a token without the
/// capabilities the steps need (`PERMISSION_DENIED`, naming each path and capability).
pub async fn plan(client: &VaultClient, request: SetupRequest) -> Result<SetupPlan> {
    let wanted = policies(&request)?;
    let mount = request.mount.trim_matches('/').to_string();
    vault_client::path::ApiPath::parse(&mount)
        .map_err(|e| Error::invalid_argument(format!("the mount: {}", e.message)))?;
    let mut reads: Vec<(String, &str)> = vec![("sys/mounts".to_string(), "read")];
    for t in &wanted {
        if let Target::Policy { name, .. } = t {
            reads.push((format!("sys/policies/acl/{name}"), "read"));
        }
    }
    check_capabilities(client, &reads).await?;

    let mut steps = Vec::new();
    let mount_action = match acl::read_mount(client.session(), &mount).await? {
        None => Action::Create,
        Some(m) if m.mount_type == "kv" && m.version.as_deref() == Some("2") => Action::Unchanged,
        Some(m) => {
            let what = if m.mount_type == "kv" || m.mount_type == "generic" {
                "KV version 1".to_string()
            } else {
                format!("a {} engine", m.mount_type)
            };
            return Err(Error::new(
                ErrorCode::UnsupportedOperation,
                format!(
                    "mount \"{mount}/\" is {what}; OpenClaw's layout needs KV version 2 (versions, cas, metadata). Upgrade it (`vault kv enable-versioning {mount}/`) or choose another mount; nothing was changed"
                ),
            )
            .with_path(format!("/v1/sys/mounts/{mount}")));
        }
    };
    steps.push(Step {
        target: Target::Mount(mount.clone()),
        action: mount_action,
        previous: None,
    });
    for t in wanted {
        let Target::Policy { name, hcl, .. } = &t else {
            continue;
        };
        let existing = acl::read_policy(client.session(), name).await?;
        let action = match &existing {
            None => Action::Create,
            Some(text) if text.trim() == hcl.trim() => Action::Unchanged,
            Some(_) => Action::Update,
        };
        steps.push(Step {
            target: t,
            action,
            previous: existing,
        });
    }
    let writes: Vec<(String, &str)> = steps
        .iter()
        .filter_map(|s| match s.action {
            Action::Unchanged => None,
            Action::Create => Some((s.api_path(), "create")),
            Action::Update => Some((s.api_path(), "update")),
        })
        .collect();
    check_capabilities(client, &writes).await?;
    Ok(SetupPlan { request, steps })
}

/// What [`apply`] did, step by step.
#[derive(Debug, Clone)]
pub struct SetupReport {
    /// The plan's steps, each as done.
    pub steps: Vec<Step>,
}

async fn run_step(client: &VaultClient, step: &Step) -> Result<()> {
    let session = client.session();
    match (&step.target, step.action) {
        (_, Action::Unchanged) => Ok(()),
        (Target::Mount(m), _) => {
            Ok(acl::enable_kv2(session, m, "OpenClaw credentials (openclaw-vault setup)").await?)
        }
        (Target::Policy { name, hcl, .. }, _) => Ok(acl::write_policy(session, name, hcl).await?),
    }
}

async fn undo_step(client: &VaultClient, step: &Step) -> Result<()> {
    let session = client.session();
    match (&step.target, step.action, &step.previous) {
        (_, Action::Unchanged, _) => Ok(()),
        (Target::Mount(m), Action::Create, _) => Ok(acl::disable_mount(session, m).await?),
        (Target::Policy { name, .. }, Action::Create, _) => {
            Ok(acl::delete_policy(session, name).await?)
        }
        (Target::Policy { name, .. }, Action::Update, Some(old)) => {
            Ok(acl::write_policy(session, name, old).await?)
        }
        _ => Ok(()),
    }
}

/// Carries out `plan`. When a step fails, the steps before it are undone in reverse order and
/// the error (the failed step's code) names the step, and what could not be undone, if anything.
pub async fn apply(client: &VaultClient, plan: SetupPlan) -> Result<SetupReport> {
    for (i, step) in plan.steps.iter().enumerate() {
        if let Err(e) = run_step(client, step).await {
            let mut left = Vec::new();
            for done in plan.steps[..i].iter().rev() {
                if done.action != Action::Unchanged && undo_step(client, done).await.is_err() {
                    left.push(done.api_path());
                }
            }
            let remains = if left.is_empty() {
                "everything this run changed was undone".to_string()
            } else {
                format!("could not undo: {}", left.join(", "))
            };
            return Err(Error {
                message: format!(
                    "setup failed at {} ({}); {remains}",
                    step.api_path(),
                    e.message
                ),
                ..e
            });
        }
    }
    Ok(SetupReport { steps: plan.steps })
}

/// Every policy name and its role, for printing.
pub fn policy_roles(plan: &SetupPlan) -> BTreeMap<String, &'static str> {
    plan.steps
        .iter()
        .filter_map(|s| match &s.target {
            Target::Policy { name, role, .. } => Some((name.clone(), *role)),
            _ => None,
        })
        .collect()
}
