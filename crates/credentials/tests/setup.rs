//! `setup` against a real Vault (a dev server, or the one `VAULT_TEST_ADDR` + `VAULT_TEST_TOKEN`
//! name): the plan, idempotent apply, refusals before any write, and the generated policies
//! judged by Vault itself with one token per identity. Mount and prefix are unique per run, so
//! a shared cluster works unchanged.

use std::sync::Arc;

use openclaw_credentials::error::ErrorCode;
use openclaw_credentials::setup::{self, Action, SetupRequest, Target};
use secrecy::SecretString;
use serde_json::json;
use vault_client::engines::acl;
use vault_client::{ClientConfig, SecretData, VaultClient};

struct Server {
    addr: String,
    token: String,
    _dev: Option<openclaw_vault_test_support::DevVault>,
}

fn server() -> Server {
    match (
        std::env::var("VAULT_TEST_ADDR"),
        std::env::var("VAULT_TEST_TOKEN"),
    ) {
        (Ok(addr), Ok(token)) => Server {
            addr,
            token,
            _dev: None,
        },
        _ => {
            let dev = openclaw_vault_test_support::start_dev_vault("setup");
            Server {
                addr: dev.addr.clone(),
                token: dev.token.clone(),
                _dev: Some(dev),
            }
        }
    }
}

fn client(addr: &str, token: &str, mount: &str) -> Arc<VaultClient> {
    let mut config = ClientConfig::new(addr).unwrap();
    config.token = Some(SecretString::from(token.to_string()));
    config.mount = mount.to_string();
    config.renew = false;
    config.retry.max_retries = 0;
    Arc::new(VaultClient::new(config).unwrap())
}

fn data(v: serde_json::Value) -> SecretData {
    SecretData::try_from_value(v, "test").unwrap()
}

/// A token holding only `policy` (no `default`).
async fn token_for(root: &VaultClient, policy: &str) -> String {
    let answer = root
        .request(
            "POST",
            "auth/token/create",
            Some(data(
                json!({"policies": [policy], "no_default_policy": true, "ttl": "10m"}),
            )),
        )
        .await
        .unwrap()
        .unwrap();
    answer.expose_secret()["auth"]["client_token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Vault refused it as the token's policy does not allow it.
fn denied<T>(r: vault_client::Result<T>) {
    let e = r.err().expect("denied");
    assert_eq!(e.code.as_str(), "PERMISSION_DENIED", "{e:?}");
}

fn unique(name: &str) -> String {
    format!("ocv-{name}-{}", std::process::id())
}

#[tokio::test]
async fn setup_configures_vault_and_each_identity_gets_only_its_role() {
    let srv = server();
    let mount = unique("setup-kv");
    let prefix = unique("team-layout");
    let root = client(&srv.addr, &srv.token, &mount);
    let request = SetupRequest {
        mount: mount.clone(),
        prefix: prefix.clone(),
        team: Some("ops".into()),
        gateways: vec!["gw1".into()],
        agents: vec!["alice".into(), "bob".into()],
        approle: None,
        force: false,
    };
    let stem = setup::policy_stem(&mount, &prefix).unwrap();

    // Dry run: everything to create, nothing written.
    let plan = setup::plan(&root, request.clone()).await.unwrap();
    assert_eq!(plan.steps.len(), 1 + 3 + 1 + 2, "{plan:?}");
    assert!(plan.steps.iter().all(|s| s.action == Action::Create));
    assert_eq!(plan.steps[0].target, Target::Mount(mount.clone()));
    assert!(acl::read_mount(root.session(), &mount)
        .await
        .unwrap()
        .is_none());

    setup::apply(&root, plan).await.unwrap();
    let again = setup::plan(&root, request.clone()).await.unwrap();
    assert_eq!(again.changes(), 0, "idempotent: {again:?}");
    // A policy edited by hand (setup's first line kept) is put back.
    let gw_policy = format!("{stem}-gateway-gw1");
    let own = acl::read_policy(root.session(), &gw_policy)
        .await
        .unwrap()
        .unwrap();
    let mark = own.lines().next().unwrap();
    assert!(mark.contains("openclaw-vault setup"), "{own}");
    acl::write_policy(
        root.session(),
        &gw_policy,
        &format!("{mark}\npath \"x/*\" {{ capabilities = [\"read\"] }}"),
    )
    .await
    .unwrap();
    let drift = setup::plan(&root, request.clone()).await.unwrap();
    assert_eq!(drift.changes(), 1);
    setup::apply(&root, drift).await.unwrap();
    assert_eq!(setup::plan(&root, request).await.unwrap().changes(), 0);

    // Credentials in every layer, written by root.
    let p = |rest: &str| format!("{prefix}/{rest}");
    for path in [
        "credentials/shared",
        "teams/ops/credentials/t",
        "teams/dev/credentials/t",
        "agents/alice/credentials/a",
        "agents/bob/credentials/b",
        "agents/carol/credentials/c",
    ] {
        root.write(
            &p(path),
            &data(json!({"kind": "token", "token": format!("v-{path}")})),
            None,
        )
        .await
        .unwrap();
    }
    let as_role = |policy: &str| {
        let root = root.clone();
        let addr = srv.addr.clone();
        let mount = mount.clone();
        let policy = format!("{stem}-{policy}");
        async move { client(&addr, &token_for(&root, &policy).await, &mount) }
    };

    // agent:alice reads its own layer and its team's, not bob's, not the default layer.
    let alice = as_role("agent-alice").await;
    assert!(alice
        .read(&p("agents/alice/credentials/a"), None)
        .await
        .unwrap()
        .is_some());
    assert!(alice
        .read(&p("teams/ops/credentials/t"), None)
        .await
        .unwrap()
        .is_some());
    denied(alice.read(&p("agents/bob/credentials/b"), None).await);
    denied(alice.read(&p("credentials/shared"), None).await);
    denied(alice.read(&p("teams/dev/credentials/t"), None).await);
    denied(
        alice
            .write(
                &p("agents/alice/credentials/a"),
                &data(json!({"k": "v"})),
                None,
            )
            .await,
    );

    // The gateway reads the default layer, its team's and its agents'; never carol's or dev's;
    // updates what exists in the default layer (OAuth refresh) but cannot create.
    let gw = as_role("gateway-gw1").await;
    for path in [
        "credentials/shared",
        "teams/ops/credentials/t",
        "agents/alice/credentials/a",
        "agents/bob/credentials/b",
    ] {
        assert!(gw.read(&p(path), None).await.unwrap().is_some(), "{path}");
    }
    denied(gw.read(&p("agents/carol/credentials/c"), None).await);
    denied(gw.read(&p("teams/dev/credentials/t"), None).await);
    denied(
        gw.write(&p("credentials/brand-new"), &data(json!({"k": "v"})), None)
            .await,
    );
    denied(gw.destroy(&p("credentials/shared"), &[1]).await);
    // Attack 5b, finding 3: a gateway could write new versions of what its whole team, or one
    // of its agents, reads. Those layers are read only for it.
    for path in ["teams/ops/credentials/t", "agents/alice/credentials/a"] {
        denied(
            gw.write(&p(path), &data(json!({"k": "poisoned"})), None)
                .await,
        );
    }
    assert_eq!(
        gw.list(&p("agents/alice/credentials")).await.unwrap(),
        ["a"]
    );

    // The migrator creates (cas 0) and reads back; never deletes or destroys.
    let migrator = as_role("migrator").await;
    migrator
        .write(
            &p("credentials/migrated"),
            &data(json!({"k": "v"})),
            Some(0),
        )
        .await
        .unwrap();
    assert!(migrator
        .read(&p("credentials/migrated"), None)
        .await
        .unwrap()
        .is_some());
    denied(migrator.destroy(&p("credentials/migrated"), &[1]).await);
    denied(migrator.delete(&p("credentials/migrated")).await);
    denied(migrator.delete_metadata(&p("credentials/migrated")).await);

    // The operator writes new versions and soft-deletes; never destroys.
    let operator = as_role("operator").await;
    operator
        .write(
            &p("credentials/shared"),
            &data(json!({"kind": "token", "token": "v2"})),
            None,
        )
        .await
        .unwrap();
    operator
        .delete_versions(&p("credentials/shared"), &[2])
        .await
        .unwrap();
    operator
        .undelete(&p("credentials/shared"), &[2])
        .await
        .unwrap();
    denied(operator.destroy(&p("credentials/shared"), &[1]).await);
    denied(operator.delete_metadata(&p("credentials/shared")).await);

    // The auditor sees metadata only.
    let auditor = as_role("auditor").await;
    let meta = auditor
        .read_metadata(&p("credentials/shared"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(meta.current_version, 2);
    assert!(auditor
        .list(&p("agents"))
        .await
        .unwrap()
        .contains(&"alice/".to_string()));
    denied(auditor.read(&p("credentials/shared"), None).await);
    denied(auditor.subkeys(&p("credentials/shared"), None, None).await);
    denied(
        auditor
            .write(&p("credentials/x"), &data(json!({"k": "v"})), None)
            .await,
    );
}

#[tokio::test]
async fn refusals_come_before_any_write() {
    let srv = server();
    let root = client(&srv.addr, &srv.token, "secret");
    let prefix = unique("refusals");
    let policy_exists = |name: String| {
        let root = root.clone();
        async move {
            acl::read_policy(root.session(), &name)
                .await
                .unwrap()
                .is_some()
        }
    };

    // A KV v1 mount: named, with what it is.
    let v1 = unique("kv1");
    root.request(
        "POST",
        &format!("sys/mounts/{v1}"),
        Some(data(json!({"type": "kv", "options": {"version": "1"}}))),
    )
    .await
    .unwrap();
    let req = SetupRequest {
        mount: v1.clone(),
        prefix: prefix.clone(),
        gateways: vec!["gw".into()],
        ..Default::default()
    };
    let err = setup::plan(&root, req).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::UnsupportedOperation, "{err:?}");
    assert!(
        err.message.contains(&format!("\"{v1}/\" is KV version 1")),
        "{}",
        err.message
    );
    let v1_stem = setup::policy_stem(&v1, &prefix).unwrap();
    assert!(!policy_exists(format!("{v1_stem}-migrator")).await);

    // A token that may not write policies: every missing capability named, nothing written.
    let weak_policy = unique("weak");
    acl::write_policy(root.session(), &weak_policy, "path \"sys/mounts\" { capabilities = [\"read\"] }\npath \"sys/policies/acl/*\" { capabilities = [\"read\"] }\npath \"sys/capabilities-self\" { capabilities = [\"update\"] }")
        .await
        .unwrap();
    let weak = client(&srv.addr, &token_for(&root, &weak_policy).await, "secret");
    let req = SetupRequest {
        mount: unique("never-made"),
        prefix: prefix.clone(),
        agents: vec!["a1".into()],
        ..Default::default()
    };
    let err = setup::plan(&weak, req.clone()).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::PermissionDenied, "{err:?}");
    let weak_stem = setup::policy_stem(&req.mount, &prefix).unwrap();
    for needle in [
        format!("create on sys/mounts/{}", req.mount),
        format!("create on sys/policies/acl/{weak_stem}-agent-a1"),
        "nothing was changed".to_string(),
    ] {
        assert!(err.message.contains(&needle), "{needle}: {}", err.message);
    }
    assert!(acl::read_mount(root.session(), &req.mount)
        .await
        .unwrap()
        .is_none());
    assert!(!policy_exists(format!("{weak_stem}-agent-a1")).await);

    // Names Vault would refuse or misread (globs, separators, case folding): refused by name,
    // never quoted, before any request (this client points nowhere).
    let nowhere = client("http://127.0.0.1:1", "hvs.none", "secret");
    for (team, agent, what) in [
        (Some("Ops"), "a", "--team"),
        (None, "a/b", "an --agent"),
        (None, "a*", "an --agent"),
        (None, "..", "an --agent"),
        (None, "sk-live-canary+x", "an --agent"),
        (Some(""), "a", "--team"),
    ] {
        let req = SetupRequest {
            mount: "secret".into(),
            prefix: "openclaw".into(),
            team: team.map(str::to_owned),
            agents: vec![agent.into()],
            ..Default::default()
        };
        let err = setup::plan(&nowhere, req).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument, "{agent}: {err:?}");
        assert!(err.message.starts_with(what), "{agent}: {}", err.message);
        assert!(!err.message.contains("canary"), "{}", err.message);
    }
}

#[tokio::test]
async fn each_gateway_gets_an_approle_and_a_single_use_wrapped_secret_id() {
    use secrecy::ExposeSecret;
    use vault_client::auth::{AppRole, WrappedSecretId};
    use vault_client::{Login, SecretInput};

    let srv = server();
    let prefix = unique("approle");
    let prefix_stem = setup::policy_stem("secret", &prefix).unwrap();
    let approle_mount = unique("ar");
    let root = client(&srv.addr, &srv.token, "secret");
    let request = SetupRequest {
        mount: "secret".into(),
        prefix: prefix.clone(),
        team: Some("ops".into()),
        gateways: vec!["gw1".into()],
        agents: vec!["alice".into()],
        approle: Some(setup::AppRoleRequest {
            mount: approle_mount.clone(),
            token_ttl: 600,
            token_max_ttl: 1200,
            secret_id_ttl: 0,
            secret_id_num_uses: 0,
            bound_cidrs: vec!["127.0.0.0/8".into()],
            wrap_ttl: Some(std::time::Duration::from_secs(60)),
        }),
        force: false,
    };
    let plan = setup::plan(&root, request.clone()).await.unwrap();
    let roles: Vec<_> = plan
        .steps
        .iter()
        .filter(|s| matches!(s.target, Target::AppRole { .. }))
        .collect();
    assert_eq!(roles.len(), 2, "{plan:?}");
    let entities = plan
        .steps
        .iter()
        .filter(|s| matches!(s.target, Target::Entity { .. }))
        .count();
    assert_eq!(entities, 2, "{plan:?}");
    let report = setup::apply(&root, plan).await.unwrap();
    assert_eq!(
        setup::plan(&root, request.clone()).await.unwrap().changes(),
        0
    );
    assert_eq!(report.bootstrap.len(), 2);
    let gw = report
        .bootstrap
        .iter()
        .find(|b| b.role == format!("{prefix_stem}-gateway-gw1"))
        .unwrap();
    assert_eq!(
        gw.creation_path,
        format!("auth/{approle_mount}/role/{prefix_stem}-gateway-gw1/secret-id")
    );

    let login_as = |b: &setup::Bootstrap| {
        let mut config = ClientConfig::new(&srv.addr).unwrap();
        config.renew = false;
        config.retry.max_retries = 0;
        config.mount = "secret".into();
        let v = |s: &SecretString, from: &str| SecretInput::Value {
            value: s.clone(),
            from: from.into(),
        };
        config.login = Some(Login::new(AppRole {
            mount: approle_mount.clone(),
            role_id: v(&b.role_id, "role id"),
            secret_id: None,
            wrapped_secret_id: Some(WrappedSecretId::new(
                v(&b.wrapped_secret_id, "wrapped secret id"),
                b.role.clone(),
            )),
        }));
        VaultClient::new(config).unwrap()
    };
    root.write(
        &format!("{prefix}/agents/alice/credentials/a"),
        &data(json!({"kind": "token", "token": "alice-value"})),
        None,
    )
    .await
    .unwrap();
    let gateway = login_as(gw);
    let me = gateway.lookup_self().await.unwrap();
    // Its own policy, and `default` (lookup-self and renew-self for the token's renewal).
    let mut policies = me.policies.clone();
    policies.sort();
    assert_eq!(
        policies,
        ["default".to_string(), format!("{prefix_stem}-gateway-gw1")]
    );
    // Its own entity, which names it: what Vault's audit log shows as auth.entity_id.
    let entity = vault_client::engines::identity::read_entity(
        root.session(),
        &format!("{prefix_stem}-gateway-gw1"),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(me.entity_id, entity.id);
    assert_eq!(
        entity.metadata.get("gateway").map(String::as_str),
        Some("gw1")
    );
    assert_eq!(entity.metadata.get("team").map(String::as_str), Some("ops"));
    assert!(gateway
        .read(&format!("{prefix}/agents/alice/credentials/a"), None)
        .await
        .unwrap()
        .is_some());
    denied(
        gateway
            .write(
                &format!("{prefix}/credentials/new"),
                &data(json!({"k": "v"})),
                None,
            )
            .await,
    );
    // The same wrapping token a second time: refused cleanly, never quoted.
    let err = login_as(gw).lookup_self().await.unwrap_err();
    assert_eq!(err.code.as_str(), "WRAPPING_TOKEN_INVALID", "{err:?}");
    assert!(!format!("{err:?}").contains(gw.wrapped_secret_id.expose_secret()));

    // A run killed with SIGKILL leaves a prefix of its steps (policies, some roles, no
    // entities): the same command run again completes it, and the next changes nothing.
    use vault_client::engines::{identity, wrapping};
    let alice = format!("{prefix_stem}-agent-alice");
    wrapping::delete_role(root.session(), &approle_mount, &alice)
        .await
        .unwrap();
    for name in [&alice, &format!("{prefix_stem}-gateway-gw1")] {
        identity::delete_entity(root.session(), name).await.unwrap();
    }
    let rerun = setup::plan(&root, request.clone()).await.unwrap();
    assert_eq!(rerun.changes(), 3, "{rerun:?}");
    setup::apply(&root, rerun).await.unwrap();
    assert_eq!(setup::plan(&root, request).await.unwrap().changes(), 0);
    let entity = identity::read_entity(root.session(), &alice)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        entity.aliases.len(),
        1,
        "the alias ties alice's logins to it"
    );
}

#[tokio::test]
async fn a_failure_halfway_undoes_what_the_run_did() {
    let srv = server();
    let root = client(&srv.addr, &srv.token, "secret");
    let mount = unique("rollback-kv");
    let prefix = unique("rollback");
    let auth_mount = unique("rollback-ar");
    let request = SetupRequest {
        mount: mount.clone(),
        prefix: prefix.clone(),
        gateways: vec!["gw1".into()],
        approle: Some(setup::AppRoleRequest {
            mount: auth_mount.clone(),
            token_ttl: 60,
            token_max_ttl: 120,
            secret_id_ttl: 0,
            secret_id_num_uses: 0,
            bound_cidrs: vec![],
            wrap_ttl: None,
        }),
        ..Default::default()
    };
    let plan = setup::plan(&root, request).await.unwrap();
    // Between plan and apply, someone enables another method where AppRole was to go: the
    // AppRole step fails after the mount and the policies were written.
    root.request(
        "POST",
        &format!("sys/auth/{auth_mount}"),
        Some(data(json!({"type": "userpass"}))),
    )
    .await
    .unwrap();
    let err = setup::apply(&root, plan).await.unwrap_err();
    assert!(
        err.message
            .contains(&format!("setup failed at sys/auth/{auth_mount}"))
            && err
                .message
                .contains("everything this run changed was undone"),
        "{}",
        err.message
    );
    assert!(acl::read_mount(root.session(), &mount)
        .await
        .unwrap()
        .is_none());
    for name in ["migrator", "operator", "auditor", "gateway-gw1"] {
        let policy = format!("{}-{name}", setup::policy_stem(&mount, &prefix).unwrap());
        assert!(
            acl::read_policy(root.session(), &policy)
                .await
                .unwrap()
                .is_none(),
            "{policy} left behind"
        );
    }
}

#[tokio::test]
async fn deployments_never_share_a_policy_and_setup_never_takes_over_what_it_did_not_make() {
    let srv = server();
    let root = client(&srv.addr, &srv.token, "secret");
    let base = unique("owner");
    let plan_of =
        |prefix: String, mount: &str, team: &str, agents: &[&str], force: bool| SetupRequest {
            mount: mount.into(),
            prefix,
            team: Some(team.into()),
            agents: agents.iter().map(|a| a.to_string()).collect(),
            force,
            ..Default::default()
        };
    let names = |plan: &setup::SetupPlan| -> Vec<String> {
        setup::policy_roles(plan).into_keys().collect()
    };
    // Prefixes `x/y` and `x-y`; agent `migrator` under `p` and prefix `p-agent`; one prefix on
    // two mounts: before, each pair shared policy names and the second run overwrote the first.
    let other_mount = unique("owner-kv");
    let pairs = [
        (
            plan_of(format!("{base}/y"), "secret", "t1", &["x"], false),
            plan_of(format!("{base}-y"), "secret", "t1", &["x"], false),
        ),
        (
            plan_of(base.clone(), "secret", "ops", &["migrator"], false),
            plan_of(format!("{base}-agent"), "secret", "ops", &[], false),
        ),
        (
            plan_of(format!("{base}-m"), "secret", "ops", &["alice"], false),
            plan_of(format!("{base}-m"), &other_mount, "ops", &["alice"], false),
        ),
    ];
    for (first, second) in pairs {
        let p1 = setup::plan(&root, first.clone()).await.unwrap();
        let p2 = setup::plan(&root, second.clone()).await.unwrap();
        let (n1, n2) = (names(&p1), names(&p2));
        assert!(n1.iter().all(|n| !n2.contains(n)), "{n1:?} {n2:?}");
        setup::apply(&root, p1).await.unwrap();
        // The second deployment creates its own policies, and leaves the first's alone.
        let p2 = setup::plan(&root, second.clone()).await.unwrap();
        assert!(
            p2.steps.iter().skip(1).all(|s| s.action == Action::Create),
            "{p2:?}"
        );
        setup::apply(&root, p2).await.unwrap();
        assert_eq!(setup::plan(&root, first).await.unwrap().changes(), 0);
    }

    // A policy of a wanted name that setup did not write: CONFLICT naming it, nothing written.
    let prefix = format!("{base}-hand");
    let stem = setup::policy_stem("secret", &prefix).unwrap();
    let theirs = format!("{stem}-agent-bob");
    let hand = "path \"elsewhere/*\" { capabilities = [\"read\"] }";
    acl::write_policy(root.session(), &theirs, hand)
        .await
        .unwrap();
    let err = setup::plan(
        &root,
        plan_of(prefix.clone(), "secret", "ops", &["bob"], false),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict, "{err:?}");
    assert!(
        err.message.contains(&format!("policy {theirs}")),
        "{}",
        err.message
    );
    assert!(err.message.contains("--force"), "{}", err.message);
    assert!(!err.message.contains(&srv.token));
    assert_eq!(
        acl::read_policy(root.session(), &theirs)
            .await
            .unwrap()
            .as_deref(),
        Some(hand)
    );
    assert!(
        acl::read_policy(root.session(), &format!("{stem}-migrator"))
            .await
            .unwrap()
            .is_none()
    );
    // --force takes it over; from then on it is setup's own.
    let forced = setup::plan(
        &root,
        plan_of(prefix.clone(), "secret", "ops", &["bob"], true),
    )
    .await
    .unwrap();
    setup::apply(&root, forced).await.unwrap();
    let own = acl::read_policy(root.session(), &theirs)
        .await
        .unwrap()
        .unwrap();
    assert!(
        own.starts_with("# openclaw-vault setup: role agent bob"),
        "{own}"
    );

    // Moving an agent to another team is said, not silent.
    let moved = setup::plan(&root, plan_of(prefix, "secret", "dev", &["bob"], false))
        .await
        .unwrap();
    let note = moved
        .steps
        .iter()
        .find_map(|s| s.note.clone())
        .expect("a note on the move");
    assert!(
        note.contains("moves agent bob from team ops to team dev"),
        "{note}"
    );
}

// A rerun compared an entity's metadata and a role's TTLs, CIDRs and token policies only: an
// entity policy, `disabled`, `token_no_default_policy` or `token_type` set by hand stayed
// (`unchanged`, 0 changes), so alice's token read bob's layer (attack 9, finding 4).
#[tokio::test]
async fn a_rerun_puts_back_privileges_changed_by_hand() {
    use vault_client::engines::{identity, wrapping};

    let srv = server();
    let prefix = unique("drift");
    let stem = setup::policy_stem("secret", &prefix).unwrap();
    let approle_mount = unique("drift-ar");
    let root = client(&srv.addr, &srv.token, "secret");
    let request = SetupRequest {
        mount: "secret".into(),
        prefix: prefix.clone(),
        team: Some("ops".into()),
        gateways: vec!["gw1".into()],
        agents: vec!["alice".into()],
        approle: Some(setup::AppRoleRequest {
            mount: approle_mount.clone(),
            token_ttl: 600,
            token_max_ttl: 1200,
            secret_id_ttl: 0,
            secret_id_num_uses: 0,
            bound_cidrs: vec![],
            wrap_ttl: None,
        }),
        force: false,
    };
    setup::apply(&root, setup::plan(&root, request.clone()).await.unwrap())
        .await
        .unwrap();
    let alice = format!("{stem}-agent-alice");
    let gw = format!("{stem}-gateway-gw1");
    let write = |path: String, body: serde_json::Value| {
        let root = root.clone();
        async move {
            root.request("POST", &path, Some(data(body))).await.unwrap();
        }
    };
    write(
        format!("identity/entity/name/{alice}"),
        json!({"policies": ["openclaw-operator"], "disabled": true}),
    )
    .await;
    write(
        format!("auth/{approle_mount}/role/{gw}"),
        json!({"token_no_default_policy": true, "token_type": "batch",
               "token_policies": [gw.clone(), "openclaw-operator"], "bind_secret_id": false,
               "secret_id_bound_cidrs": ["127.0.0.0/8"]}),
    )
    .await;

    let plan = setup::plan(&root, request.clone()).await.unwrap();
    assert_eq!(plan.changes(), 2, "{plan:?}");
    let step = |name: &str, entity: bool| {
        plan.steps
            .iter()
            .find(|s| match &s.target {
                Target::Entity { name: n, .. } => entity && n == name,
                Target::AppRole { name: n, .. } => !entity && n == name,
                _ => false,
            })
            .unwrap()
            .clone()
    };
    let e = step(&alice, true);
    assert_eq!(e.action, Action::Update);
    let note = e.note.clone().unwrap();
    assert!(
        note.contains("policies [openclaw-operator] -> []"),
        "{note}"
    );
    assert!(note.contains("disabled true -> false"), "{note}");
    let r = step(&gw, false);
    assert_eq!(r.action, Action::Update);
    let note = r.note.clone().unwrap();
    for field in [
        "token_no_default_policy",
        "token_type",
        "token_policies",
        "bind_secret_id",
    ] {
        assert!(note.contains(field), "{field}: {note}");
    }
    setup::apply(&root, plan).await.unwrap();

    // Vault has what setup makes again, and a third run changes nothing.
    let entity = identity::read_entity(root.session(), &alice)
        .await
        .unwrap()
        .unwrap();
    assert!(entity.policies.is_empty() && !entity.disabled, "{entity:?}");
    assert_eq!(entity.aliases.len(), 1);
    let role = wrapping::read_role(root.session(), &approle_mount, &gw)
        .await
        .unwrap()
        .unwrap();
    assert!(!role.token_no_default_policy);
    assert_eq!(role.token_type, "default");
    assert_eq!(role.token_policies, vec![gw.clone()]);
    assert!(role.bind_secret_id);
    assert_eq!(setup::plan(&root, request).await.unwrap().changes(), 0);
}
