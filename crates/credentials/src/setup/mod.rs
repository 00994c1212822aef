//! `openclaw-vault setup`: configures a Vault for OpenClaw from the [role table](roles): the KV v2
//! mount and one ACL policy per identity (a gateway, an agent, the migrator, the operator, the
//! auditor). Idempotent: what already matches is left alone. All or nothing: every name is
//! checked, the mount's type and version read, and the token's capabilities on every path it
//! will write asked (`sys/capabilities-self`) before the first write; a write that fails later
//! undoes what this run did (policies created are deleted, policies replaced get their old text
//! back, a mount this run enabled is disabled) and the error says what remains.

pub mod roles;

use std::collections::BTreeMap;
use std::time::Duration;

use secrecy::SecretString;
use vault_client::engines::wrapping::{self, RoleSettings};
use vault_client::engines::{acl, identity};
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
    /// One AppRole role per gateway and agent, bound to its policy; `None` makes policies only.
    pub approle: Option<AppRoleRequest>,
    /// Take over policies, AppRole roles and entities of the same name that setup did not make
    /// (no [`OWNER_MARK`]); without it they are a `CONFLICT` and nothing is changed.
    pub force: bool,
}

/// The first line of every policy setup writes, and the value of the `managed_by` metadata of
/// every entity it makes: what tells setup that a policy or entity of the wanted name is its own
/// (to repair) and not another deployment's or a person's (to leave alone).
pub const OWNER_MARK: &str = "openclaw-vault setup";

/// The AppRole roles `setup` makes: one per gateway and agent, named like its policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRoleRequest {
    /// Where AppRole is (or will be) enabled (default `approle`).
    pub mount: String,
    /// Token TTL, seconds.
    pub token_ttl: u64,
    /// Token max TTL, seconds.
    pub token_max_ttl: u64,
    /// Secret id TTL, seconds (0: no expiry).
    pub secret_id_ttl: u64,
    /// Logins per secret id (0: unlimited).
    pub secret_id_num_uses: u64,
    /// CIDRs the secret id may log in from and the tokens may be used from (empty: anywhere).
    pub bound_cidrs: Vec<String>,
    /// After applying, issue each role a secret id response-wrapped for this long.
    pub wrap_ttl: Option<Duration>,
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
    /// The AppRole auth method (`sys/auth/<mount>`).
    AuthMount(String),
    /// An AppRole role (`auth/<mount>/role/<name>`) whose tokens carry the policy of the same name.
    AppRole {
        /// The AppRole mount.
        mount: String,
        /// The role's name (= its policy's name).
        name: String,
        /// Its settings.
        settings: RoleSettings,
    },
    /// A Vault identity entity (`identity/entity/name/<name>`) with metadata naming the gateway
    /// or agent, and an alias tying the AppRole role's logins to it.
    Entity {
        /// The entity's name (= the role's and the policy's).
        name: String,
        /// `gateway` or `agent`, `team`, `prefix`.
        metadata: BTreeMap<String, String>,
        /// The AppRole mount whose role of the same name logs in as it.
        approle_mount: String,
    },
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
    /// What was there before an update (for rollback; never shown).
    previous: Option<Previous>,
    /// What people should know about the change: an agent or gateway moving between teams.
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
enum Previous {
    Policy(String),
    Role(RoleSettings),
    Entity(identity::EntitySettings),
}

/// The fields of an AppRole role that differ between `old` (in Vault) and `new` (setup's), for
/// the plan's note: a role changed by hand is put back, and people should see what changes.
fn role_drift(old: &RoleSettings, new: &RoleSettings) -> Vec<String> {
    let old_v = serde_json::to_value(old).unwrap_or_default();
    let new_v = serde_json::to_value(new).unwrap_or_default();
    let (Some(o), Some(n)) = (old_v.as_object(), new_v.as_object()) else {
        return Vec::new();
    };
    n.iter()
        .filter(|(k, v)| o.get(*k) != Some(v))
        .map(|(k, v)| {
            format!(
                "{k} {} -> {v}",
                o.get(k).cloned().unwrap_or(serde_json::Value::Null)
            )
        })
        .collect()
}

impl Step {
    /// The Vault API path the step writes (`sys/policies/acl/<name>`, `sys/mounts/<mount>`).
    pub fn api_path(&self) -> String {
        match &self.target {
            Target::Mount(m) => format!("sys/mounts/{m}"),
            Target::AuthMount(m) => format!("sys/auth/{m}"),
            Target::AppRole { mount, name, .. } => format!("auth/{mount}/role/{name}"),
            Target::Entity { name, .. } => format!("identity/entity/name/{name}"),
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

/// The policy name prefix for `mount` and `prefix`, chosen so that no two deployments (mount,
/// prefix) and no two identities share a policy name: the prefix with `_` written `__`, `-`
/// written `_d` and `/` written `_s` (so the stem holds no `-`, and the first `-` of a name
/// ends it), then, for a mount other than `secret`, `_m` and the mount written the same way.
/// `openclaw` -> `openclaw`; `a/b` -> `a_sb`; `a-b` -> `a_db`; prefix `openclaw` on mount `kv`
/// -> `openclaw_mkv`. A policy name is then `<stem>-<role>` (migrator, operator, auditor) or
/// `<stem>-<role>-<id>` (gateway, agent): the role ends at the next `-`, the id is the rest.
pub fn policy_stem(mount: &str, prefix: &str) -> Result<String> {
    fn escape(text: &str, what: &str) -> Result<String> {
        let ok = !text.is_empty()
            && text.split('/').all(|seg| !seg.is_empty())
            && text.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'/')
            });
        if !ok {
            return Err(Error::invalid_argument(format!(
                "{what} is not usable in policy names: expected segments of a-z, 0-9, _ and -, separated by /"
            )));
        }
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            match c {
                '_' => out.push_str("__"),
                '-' => out.push_str("_d"),
                '/' => out.push_str("_s"),
                c => out.push(c),
            }
        }
        Ok(out)
    }
    let mut stem = escape(prefix, "the prefix")?;
    if mount != "secret" {
        stem.push_str("_m");
        stem.push_str(&escape(mount, "the mount")?);
    }
    Ok(stem)
}

/// The policy's first line: [`OWNER_MARK`], what the policy is for and, for a gateway or an
/// agent, its team (`# openclaw-vault setup: role agent alice, mount secret, prefix openclaw,
/// team ops`). Setup treats a policy of the wanted name as its own when the first line is this
/// line, whatever the team.
fn owner_line(
    mount: &str,
    prefix: &str,
    role: &str,
    id: Option<&str>,
    team: Option<&str>,
) -> String {
    let id = id.map(|i| format!(" {i}")).unwrap_or_default();
    let team = match (id.is_empty(), team) {
        (false, Some(t)) => format!(", team {t}"),
        _ => String::new(),
    };
    format!("# {OWNER_MARK}: role {role}{id}, mount {mount}, prefix {prefix}{team}\n")
}

/// For a policy's first line: `None` when setup did not write it for this role, identity, mount
/// and prefix (`mark` is the wanted first line); else the team it names (`Some(None)`: none).
fn owned_team<'a>(mark: &str, line: &'a str) -> Option<Option<&'a str>> {
    let base = mark.split(", team ").next().unwrap_or(mark);
    let rest = line.trim_end().strip_prefix(base)?;
    if rest.is_empty() {
        return Some(None);
    }
    rest.strip_prefix(", team ").map(Some)
}

/// The policies `request` asks for: name, role, HCL, in a stable order.
/// The longest `--wrap-ttl`: a wrapping token is a bearer credential in transit, meant to be
/// unwrapped within minutes; a day covers a hand-over across time zones.
pub const MAX_WRAP_TTL: Duration = Duration::from_secs(24 * 3600);

/// `--cidr` as Vault's AppRole takes it (`secret_id_bound_cidrs`, `token_bound_cidrs`): an IPv4
/// or IPv6 address, alone or with a prefix length no longer than the address.
fn check_cidr(value: &str) -> Result<()> {
    let (ip, bits) = match value.split_once('/') {
        Some((ip, bits)) => (ip, Some(bits)),
        None => (value, None),
    };
    let ip: std::net::IpAddr = ip.parse().map_err(|_| {
        Error::invalid_argument(format!(
            "--cidr \"{}\" is not a CIDR: expected an IP address with an optional /prefix length (10.0.0.0/8, 192.168.1.7, fd00::/8)",
            value.escape_debug()
        ))
    })?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    if let Some(bits) = bits {
        match bits.parse::<u8>() {
            Ok(n) if n <= max => {}
            _ => {
                return Err(Error::invalid_argument(format!(
                    "--cidr \"{}\": the prefix length must be a number from 0 to {max}",
                    value.escape_debug()
                )))
            }
        }
    }
    Ok(())
}

/// The AppRole values setup would send, checked before any request: Vault refuses some only at
/// the role write (halfway through a run), and takes others it should not (a wrapping token
/// valid for years).
fn check_approle(a: &AppRoleRequest) -> Result<()> {
    for cidr in &a.bound_cidrs {
        check_cidr(cidr)?;
    }
    if a.token_max_ttl > 0 && a.token_ttl > a.token_max_ttl {
        return Err(Error::invalid_argument(format!(
            "--token-ttl ({}s) is longer than --token-max-ttl ({}s); Vault refuses a role whose token TTL exceeds its max TTL",
            a.token_ttl, a.token_max_ttl
        )));
    }
    if let Some(wrap) = a.wrap_ttl {
        if wrap < Duration::from_secs(1) || wrap > MAX_WRAP_TTL {
            return Err(Error::invalid_argument(format!(
                "--wrap-ttl must be from 1s to 24h (got {}s): the wrapping token carries a secret id to its machine and should be unwrapped soon",
                wrap.as_secs()
            )));
        }
    }
    Ok(())
}

pub fn policies(request: &SetupRequest) -> Result<Vec<Target>> {
    if let Some(a) = &request.approle {
        check_approle(a)?;
    }
    let stem = policy_stem(
        request.mount.trim_matches('/'),
        request.prefix.trim_matches('/'),
    )?;
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
            hcl: owner_line(mount, prefix, name, None, None)
                + &roles::render(role(name), &scope(&[])),
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
            hcl: owner_line(mount, prefix, "gateway", Some(g), request.team.as_deref())
                + &roles::render(role("gateway"), &s),
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
            hcl: owner_line(mount, prefix, "agent", Some(a), request.team.as_deref())
                + &roles::render(role("agent"), &s),
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
    let approle_mount = match &request.approle {
        Some(a) => {
            let m = a.mount.trim_matches('/').to_string();
            vault_client::path::ApiPath::parse(&m).map_err(|e| {
                Error::invalid_argument(format!("the AppRole mount: {}", e.message))
            })?;
            reads.push(("sys/auth".to_string(), "read"));
            for t in &wanted {
                if let Target::Policy { name, role, .. } = t {
                    if matches!(*role, "gateway" | "agent") {
                        reads.push((format!("auth/{m}/role/{name}"), "read"));
                        reads.push((format!("identity/entity/name/{name}"), "read"));
                    }
                }
            }
            Some(m)
        }
        None => None,
    };
    check_capabilities(client, &reads).await?;

    let mut steps = Vec::new();
    let mount_action = match acl::read_mount(client.session(), &mount).await? {
        None => Action::Create,
        Some(m) if m.mount_type == "kv" && m.version.as_deref() == Some("2") => Action::Unchanged,
        Some(m) => {
            // Only a KV version 1 mount can be upgraded in place; another engine cannot.
            let (what, fix) = if m.mount_type == "kv" || m.mount_type == "generic" {
                (
                    "KV version 1".to_string(),
                    format!("Upgrade it (`vault kv enable-versioning {mount}/`) or choose another mount"),
                )
            } else {
                (
                    format!("a {} engine, not KV", m.mount_type),
                    "Choose another --mount (setup enables KV version 2 there when nothing is mounted)".to_string(),
                )
            };
            return Err(Error::new(
                ErrorCode::UnsupportedOperation,
                format!(
                    "mount \"{mount}/\" is {what}; OpenClaw's layout needs KV version 2 (versions, cas, metadata). {fix}; nothing was changed"
                ),
            )
            .with_path(format!("/v1/sys/mounts/{mount}")));
        }
    };
    steps.push(Step {
        target: Target::Mount(mount.clone()),
        action: mount_action,
        previous: None,
        note: None,
    });
    // Names of things that exist but are not setup's own for this deployment.
    let mut conflicts: Vec<String> = Vec::new();
    // Policies of the wanted names that setup made (its mark on the first line).
    let mut own_policies = std::collections::BTreeSet::new();
    for t in wanted {
        let Target::Policy { name, hcl, role } = &t else {
            continue;
        };
        let mut note = None;
        let existing = acl::read_policy(client.session(), name).await?;
        let action = match &existing {
            None => Action::Create,
            Some(text) if text.trim() == hcl.trim() => Action::Unchanged,
            Some(_) => Action::Update,
        };
        let mark = hcl.lines().next().unwrap_or_default();
        if let Some(text) = &existing {
            match owned_team(mark, text.lines().next().unwrap_or_default()) {
                None => conflicts.push(format!("policy {name}")),
                Some(old) => {
                    own_policies.insert(name.clone());
                    if matches!(*role, "gateway" | "agent") && old != request.team.as_deref() {
                        let team = |t: Option<&str>| {
                            t.map(|t| format!("team {t}"))
                                .unwrap_or_else(|| "no team".into())
                        };
                        note = Some(format!(
                            "moves {role} {} from {} to {}",
                            name.rsplit_once(&format!("-{role}-"))
                                .map_or("", |(_, id)| id),
                            team(old),
                            team(request.team.as_deref())
                        ));
                    }
                }
            }
        }
        steps.push(Step {
            target: t,
            action,
            previous: existing.map(Previous::Policy),
            note,
        });
    }
    if let (Some(a), Some(m)) = (&request.approle, &approle_mount) {
        let auth = acl::read_auth(client.session(), m).await?;
        let accessor = auth.as_ref().map(|e| e.accessor.clone());
        let enabled = match auth {
            None => false,
            Some(e) if e.mount_type == "approle" => true,
            Some(e) => {
                return Err(Error::new(
                    ErrorCode::UnsupportedOperation,
                    format!(
                        "auth mount \"{m}/\" is a {} method, not AppRole; choose another --approle-mount; nothing was changed",
                        e.mount_type
                    ),
                )
                .with_path(format!("/v1/sys/auth/{m}")))
            }
        };
        steps.push(Step {
            target: Target::AuthMount(m.clone()),
            action: if enabled {
                Action::Unchanged
            } else {
                Action::Create
            },
            previous: None,
            note: None,
        });
        let names: Vec<String> = steps
            .iter()
            .filter_map(|s| match &s.target {
                Target::Policy { name, role, .. } if matches!(*role, "gateway" | "agent") => {
                    Some(name.clone())
                }
                _ => None,
            })
            .collect();
        for name in names {
            // Every privilege-bearing field is set (Vault's defaults for the ones setup has no
            // option for: a secret id needed, `default` kept, service tokens), so a role
            // changed by hand differs from this and is put back.
            let settings = RoleSettings {
                token_policies: vec![name.clone()],
                token_ttl: a.token_ttl,
                token_max_ttl: a.token_max_ttl,
                secret_id_ttl: a.secret_id_ttl,
                secret_id_num_uses: a.secret_id_num_uses,
                secret_id_bound_cidrs: a.bound_cidrs.clone(),
                token_bound_cidrs: a.bound_cidrs.clone(),
                ..RoleSettings::default()
            };
            let existing = if enabled {
                wrapping::read_role(client.session(), m, &name).await?
            } else {
                None
            };
            // Setup makes a role with its policy: a role whose policy is not setup's own (or
            // not there) belongs to someone else.
            if existing.is_some() && !own_policies.contains(&name) {
                conflicts.push(format!("AppRole role auth/{m}/role/{name}"));
            }
            let (action, note) = match &existing {
                None => (Action::Create, None),
                Some(old) if *old == settings => (Action::Unchanged, None),
                Some(old) => (
                    Action::Update,
                    Some(format!(
                        "puts back {}",
                        role_drift(old, &settings).join(", ")
                    )),
                ),
            };
            steps.push(Step {
                target: Target::AppRole {
                    mount: m.clone(),
                    name,
                    settings,
                },
                action,
                previous: existing.map(Previous::Role),
                note,
            });
        }
        let stem = policy_stem(&mount, request.prefix.trim_matches('/'))?;
        let identities = request
            .gateways
            .iter()
            .map(|g| ("gateway", g))
            .chain(request.agents.iter().map(|a| ("agent", a)));
        for (kind, id) in identities {
            let name = format!("{stem}-{kind}-{id}");
            let mut metadata = BTreeMap::from([
                (kind.to_string(), id.clone()),
                (
                    "prefix".to_string(),
                    request.prefix.trim_matches('/').to_string(),
                ),
            ]);
            if let Some(team) = &request.team {
                metadata.insert("team".into(), team.clone());
            }
            metadata.insert("managed_by".into(), OWNER_MARK.into());
            metadata.insert("mount".into(), mount.clone());
            let existing = identity::read_entity(client.session(), &name).await?;
            if let Some(e) = &existing {
                if e.metadata.get("managed_by").map(String::as_str) != Some(OWNER_MARK) {
                    conflicts.push(format!("entity {name}"));
                }
            }
            // Setup's entities carry no policies of their own (the role's token policies say
            // everything) and are enabled: an entity policy or `disabled` set by hand is put
            // back, since either changes what the identity's tokens may do.
            let wanted = identity::EntitySettings {
                metadata: metadata.clone(),
                policies: Vec::new(),
                disabled: false,
            };
            let (action, note) = match &existing {
                None => (Action::Create, None),
                Some(e)
                    if e.settings() == wanted
                        && accessor.as_ref().is_some_and(|acc| {
                            e.aliases.iter().any(|al| &al.mount_accessor == acc)
                        }) =>
                {
                    (Action::Unchanged, None)
                }
                Some(e) => {
                    let mut drift = Vec::new();
                    if !e.policies.is_empty() {
                        drift.push(format!("policies [{}] -> []", e.policies.join(", ")));
                    }
                    if e.disabled {
                        drift.push("disabled true -> false".to_string());
                    }
                    (
                        Action::Update,
                        (!drift.is_empty()).then(|| format!("puts back {}", drift.join(", "))),
                    )
                }
            };
            steps.push(Step {
                target: Target::Entity {
                    name,
                    metadata,
                    approle_mount: m.clone(),
                },
                action,
                previous: existing.map(|e| Previous::Entity(e.settings())),
                note,
            });
        }
    }
    if !conflicts.is_empty() && !request.force {
        return Err(Error::new(
            ErrorCode::Conflict,
            format!(
                "setup would overwrite what it did not make (no \"{OWNER_MARK}\" mark: another deployment's, or made by hand): {}; nothing was changed. Choose another --prefix or --mount, remove them, or take them over with --force",
                conflicts.join(", ")
            ),
        ));
    }
    let writes: Vec<(String, &str)> = steps
        .iter()
        .filter_map(|s| match s.action {
            Action::Unchanged => None,
            Action::Create => Some((s.api_path(), "create")),
            Action::Update => Some((s.api_path(), "update")),
        })
        .chain(steps.iter().filter_map(|s| match (&s.target, s.action) {
            // Enabling an auth method is a sudo path.
            (Target::AuthMount(_), Action::Create) => Some((s.api_path(), "sudo")),
            (Target::Entity { .. }, Action::Create | Action::Update) => {
                Some(("identity/entity-alias".to_string(), "update"))
            }
            _ => None,
        }))
        .collect();
    check_capabilities(client, &writes).await?;
    Ok(SetupPlan { request, steps })
}

/// What [`apply`] did, step by step, and the bootstrap material it issued.
#[derive(Debug, Clone)]
pub struct SetupReport {
    /// The plan's steps, each as done.
    pub steps: Vec<Step>,
    /// One per AppRole role when `wrap_ttl` was asked.
    pub bootstrap: Vec<Bootstrap>,
}

/// What a new gateway or agent needs to log in: its role id and a wrapped secret id.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    /// The AppRole role (= policy) name, for `role` / `OPENCLAW_VAULT_AUTH_ROLE`.
    pub role: String,
    /// The role id.
    pub role_id: SecretString,
    /// The single-use wrapping token holding a fresh secret id.
    pub wrapped_secret_id: SecretString,
    /// Seconds the wrapping token stays valid.
    pub ttl: u64,
    /// Where Vault says it was made (`auth/<mount>/role/<role>/secret-id`).
    pub creation_path: String,
}

async fn run_step(client: &VaultClient, step: &Step) -> Result<()> {
    let session = client.session();
    match (&step.target, step.action) {
        (_, Action::Unchanged) => Ok(()),
        (Target::Mount(m), _) => {
            Ok(acl::enable_kv2(session, m, "OpenClaw credentials (openclaw-vault setup)").await?)
        }
        (Target::Policy { name, hcl, .. }, _) => Ok(acl::write_policy(session, name, hcl).await?),
        (Target::AuthMount(m), _) => Ok(acl::enable_auth(
            session,
            m,
            "approle",
            "OpenClaw gateways and agents (openclaw-vault setup)",
        )
        .await?),
        (
            Target::AppRole {
                mount,
                name,
                settings,
            },
            _,
        ) => Ok(wrapping::write_role(session, mount, name, settings).await?),
        (
            Target::Entity {
                name,
                metadata,
                approle_mount,
            },
            _,
        ) => {
            let settings = identity::EntitySettings {
                metadata: metadata.clone(),
                policies: Vec::new(),
                disabled: false,
            };
            identity::write_entity(session, name, &settings).await?;
            let entity = identity::read_entity(session, name).await?.ok_or_else(|| {
                Error::new(
                    ErrorCode::BadResponse,
                    format!("Vault did not keep entity {name}"),
                )
            })?;
            let Some(auth) = acl::read_auth(session, approle_mount).await? else {
                return Ok(());
            };
            if !entity
                .aliases
                .iter()
                .any(|a| a.mount_accessor == auth.accessor)
            {
                // AppRole names its logins by role id: the alias makes them this entity.
                let role_id = wrapping::read_role_id(session, approle_mount, name).await?;
                identity::create_alias(
                    session,
                    secrecy::ExposeSecret::expose_secret(&role_id),
                    &entity.id,
                    &auth.accessor,
                )
                .await?;
            }
            Ok(())
        }
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
        (Target::Policy { name, .. }, Action::Update, Some(Previous::Policy(old))) => {
            Ok(acl::write_policy(session, name, old).await?)
        }
        (Target::AuthMount(m), Action::Create, _) => Ok(acl::disable_auth(session, m).await?),
        (Target::Entity { name, .. }, Action::Create, _) => {
            Ok(identity::delete_entity(session, name).await?)
        }
        (Target::Entity { name, .. }, Action::Update, Some(Previous::Entity(old))) => {
            Ok(identity::write_entity(session, name, old).await?)
        }
        (Target::AppRole { mount, name, .. }, Action::Create, _) => {
            Ok(wrapping::delete_role(session, mount, name).await?)
        }
        (Target::AppRole { mount, name, .. }, Action::Update, Some(Previous::Role(old))) => {
            Ok(wrapping::write_role(session, mount, name, old).await?)
        }
        _ => Ok(()),
    }
}

/// Carries out `plan`. When a step fails, the steps before it are undone in reverse order and
/// the error (the failed step's code) names the step, and what could not be undone, if anything.
pub async fn apply(client: &VaultClient, plan: SetupPlan) -> Result<SetupReport> {
    for (i, step) in plan.steps.iter().enumerate() {
        if let Err(e) = run_step(client, step).await {
            // A write whose answer was lost may have run: it is undone with the steps before
            // it (every undo is harmless when its step did not run: a delete of what is not
            // there, a write of what was there).
            let maybe_ran = e
                .message
                .contains(vault_client::http::MAY_HAVE_BEEN_APPLIED);
            let undo = if maybe_ran { i + 1 } else { i };
            let mut left = Vec::new();
            for done in plan.steps[..undo].iter().rev() {
                if done.action != Action::Unchanged && undo_step(client, done).await.is_err() {
                    left.push(done.api_path());
                }
            }
            let remains = match (left.is_empty(), maybe_ran) {
                (true, false) => "everything this run changed was undone".to_string(),
                (true, true) => {
                    "it was undone in case it ran, and so was everything this run changed before it"
                        .to_string()
                }
                (false, _) => format!(
                    "could not undo: {} (run setup again to complete or correct them)",
                    left.join(", ")
                ),
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
    let mut bootstrap = Vec::new();
    if let Some(wrap_ttl) = plan.request.approle.as_ref().and_then(|a| a.wrap_ttl) {
        for step in &plan.steps {
            let Target::AppRole { mount, name, .. } = &step.target else {
                continue;
            };
            let issued = async {
                let role_id = wrapping::read_role_id(client.session(), mount, name).await?;
                let wrap =
                    wrapping::wrapped_secret_id(client.session(), mount, name, wrap_ttl).await?;
                Ok::<_, vault_client::VaultError>(Bootstrap {
                    role: name.clone(),
                    role_id,
                    wrapped_secret_id: wrap.token,
                    ttl: wrap.ttl,
                    creation_path: wrap.creation_path,
                })
            }
            .await
            .map_err(|e| {
                let e = Error::from(e);
                Error {
                    message: format!(
                        "setup is complete, but issuing a wrapped secret id for {name} failed ({}); run setup again with --wrap-ttl",
                        e.message
                    ),
                    ..e
                }
            })?;
            bootstrap.push(issued);
        }
    }
    Ok(SetupReport {
        steps: plan.steps,
        bootstrap,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn with(edit: impl FnOnce(&mut AppRoleRequest)) -> SetupRequest {
        let mut a = AppRoleRequest {
            mount: "approle".into(),
            token_ttl: 3600,
            token_max_ttl: 86400,
            secret_id_ttl: 0,
            secret_id_num_uses: 0,
            bound_cidrs: vec!["10.0.0.0/8".into(), "192.168.1.7".into(), "fd00::/8".into()],
            wrap_ttl: Some(Duration::from_secs(300)),
        };
        edit(&mut a);
        SetupRequest {
            mount: "secret".into(),
            prefix: "openclaw".into(),
            agents: vec!["alice".into()],
            approle: Some(a),
            ..Default::default()
        }
    }

    // `--cidr abc`, `/33`, a token TTL above its max and `--wrap-ttl 0s` or `100000h` passed
    // `--dry-run`; the real run wrote policies, then failed at the role (attack 9, finding 9).
    // `policies` runs before `plan` asks Vault anything, so these never reach a write.
    #[test]
    fn approle_values_are_checked_before_any_request() {
        assert!(policies(&with(|_| {})).is_ok());
        let refused = |req: SetupRequest, needle: &str| {
            let e = policies(&req).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidArgument, "{e:?}");
            assert!(e.message.contains(needle), "{}", e.message);
        };
        refused(
            with(|a| a.bound_cidrs = vec!["abc".into()]),
            "--cidr \"abc\"",
        );
        refused(
            with(|a| a.bound_cidrs = vec!["10.0.0.0/33".into()]),
            "from 0 to 32",
        );
        refused(
            with(|a| a.bound_cidrs = vec!["fd00::/129".into()]),
            "from 0 to 128",
        );
        refused(with(|a| a.token_ttl = 48 * 3600), "--token-ttl (172800s)");
        refused(with(|a| a.wrap_ttl = Some(Duration::ZERO)), "--wrap-ttl");
        refused(
            with(|a| a.wrap_ttl = Some(Duration::from_secs(100_000 * 3600))),
            "from 1s to 24h",
        );
        assert!(policies(&with(|a| a.wrap_ttl = Some(MAX_WRAP_TTL))).is_ok());
    }
}
