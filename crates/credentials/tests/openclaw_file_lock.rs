//! Our `FileLock` against the real OpenClaw 2026.9 (Node 24, located or installed by
//! `scripts/ensure-openclaw.mjs`): OpenClaw's own writes (`openclaw config set`) and its own lock
//! code (`openclaw/plugin-sdk/file-lock`, the one its config writes use) on the same
//! `openclaw.json`. Each side must wait for the other's live holder and reclaim the other's
//! killed one, and nothing may stay behind.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use openclaw_credentials::local_file::FileLock;
use serde_json::Value;

struct OpenClaw {
    node: PathBuf,
    bin: PathBuf,
    dir: PathBuf,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn openclaw() -> OpenClaw {
    let out = Command::new("node")
        .arg(repo_root().join("scripts/ensure-openclaw.mjs"))
        .stderr(Stdio::inherit())
        .output()
        .expect("node runs scripts/ensure-openclaw.mjs");
    assert!(out.status.success(), "ensure-openclaw failed");
    let v: Value = serde_json::from_slice(&out.stdout).expect("ensure-openclaw prints JSON");
    let path = |k: &str| PathBuf::from(v[k].as_str().unwrap());
    OpenClaw {
        node: path("node"),
        bin: path("openclawBin"),
        dir: path("openclawDir"),
    }
}

/// A private state dir holding a config written by OpenClaw itself.
struct State {
    dir: PathBuf,
}

impl State {
    fn new(oc: &OpenClaw, name: &str) -> State {
        let dir = std::env::temp_dir().join(format!("ocv-oclock-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let state = State { dir };
        let out = state.config_set(oc, "18789");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        state
    }

    fn config(&self) -> PathBuf {
        self.dir.join("openclaw.json")
    }

    /// `openclaw config set gateway.port <port>`: OpenClaw writes openclaw.json under its lock.
    fn config_set(&self, oc: &OpenClaw, port: &str) -> std::process::Output {
        Command::new(&oc.node)
            .arg(&oc.bin)
            .args(["config", "set", "gateway.port", port])
            .env_clear()
            .env("HOME", &self.dir)
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("OPENCLAW_STATE_DIR", &self.dir)
            .current_dir(&self.dir)
            .output()
            .unwrap()
    }

    fn leftovers(&self) -> Vec<String> {
        std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".lock") || n.ends_with(".reclaim"))
            .collect()
    }
}

impl Drop for State {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Waits for a child's `held <pid>` line; the child then holds its lock until told or killed.
fn wait_held(child: &mut Child) {
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    // libtest writes "test <name> ... " before it on the same line.
    while !line.contains("held ") {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "the holder ended");
    }
}

/// OpenClaw's own lock code holds `target` (as `openclaw config set` takes it).
fn openclaw_holder(oc: &OpenClaw, target: &Path) -> Child {
    let module = oc.dir.join("dist/plugin-sdk/file-lock.js");
    let script = r#"
        const { acquireFileLock } = await import(new URL('file://' + process.argv[1]).href);
        const lock = await acquireFileLock(process.argv[2], { retries: { retries: 0 }, stale: 30000 });
        process.stdout.write(`held ${process.pid}\n`);
        process.stdin.resume();
        process.stdin.on('end', async () => { await lock.release(); process.exit(0); });
    "#;
    let mut child = Command::new(&oc.node)
        .args(["--input-type=module", "-e", script])
        .arg(&module)
        .arg(target)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    wait_held(&mut child);
    child
}

/// Run as a child by the tests below: takes our lock on `OCV_OCLOCK_TARGET`, says so, and holds
/// it until stdin closes or it is killed.
#[test]
#[ignore = "a helper process for the tests in this file"]
fn child_holds_our_lock() {
    let Some(target) = std::env::var_os("OCV_OCLOCK_TARGET") else {
        return;
    };
    let lock = FileLock::acquire(Path::new(&target), Duration::from_secs(10)).unwrap();
    let mut out = std::io::stdout();
    writeln!(out, "held {}", std::process::id()).unwrap();
    out.flush().unwrap();
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    drop(lock);
}

fn our_holder(target: &Path) -> Child {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_holds_our_lock",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("OCV_OCLOCK_TARGET", target)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    wait_held(&mut child);
    child
}

#[test]
fn openclaw_writes_at_once_after_ours_and_reclaims_our_killed_holder() {
    let oc = openclaw();
    let state = State::new(&oc, "after-ours");
    // Ours, taken and released: OpenClaw's next write goes through and nothing stays behind.
    drop(FileLock::acquire(&state.config(), Duration::from_secs(1)).unwrap());
    assert_eq!(state.leftovers(), Vec::<String>::new());
    let out = state.config_set(&oc, "18790");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Ours, held by a process killed with SIGKILL: its sidecar stays, with a dead pid, and
    // OpenClaw reclaims it instead of timing out.
    let mut holder = our_holder(&state.config());
    holder.kill().unwrap();
    holder.wait().unwrap();
    let left: Value =
        serde_json::from_slice(&std::fs::read(FileLock::lock_path(&state.config())).unwrap())
            .unwrap();
    assert_eq!(left["pid"].as_u64(), Some(u64::from(holder.id())));
    let out = state.config_set(&oc, "18791");
    assert!(
        out.status.success(),
        "OpenClaw did not reclaim our dead holder's lock: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(state.leftovers(), Vec::<String>::new());
    let config: Value = serde_json::from_slice(&std::fs::read(state.config()).unwrap()).unwrap();
    assert_eq!(config["gateway"]["port"], 18791);
}

#[test]
fn ours_waits_while_openclaw_holds_and_reclaims_its_killed_holder() {
    let oc = openclaw();
    let state = State::new(&oc, "openclaw-holds");
    let target = state.config();

    // OpenClaw holds it: ours waits, and times out naming the holder.
    let mut holder = openclaw_holder(&oc, &target);
    let err = FileLock::acquire(&target, Duration::from_millis(300)).unwrap_err();
    assert_eq!(err.code(), "LOCK_TIMEOUT");
    assert!(
        err.message
            .contains(&format!("process {} holds it", holder.id())),
        "{}",
        err.message
    );
    // Released: ours gets it.
    drop(holder.stdin.take());
    assert!(holder.wait().unwrap().success());
    drop(FileLock::acquire(&target, Duration::from_secs(10)).unwrap());
    assert_eq!(state.leftovers(), Vec::<String>::new());

    // OpenClaw's holder killed with SIGKILL: ours reclaims its sidecar at once.
    let mut holder = openclaw_holder(&oc, &target);
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert!(
        FileLock::lock_path(&target).exists(),
        "the killed holder's sidecar stays"
    );
    let lock = FileLock::acquire(&target, Duration::from_millis(300)).unwrap();
    drop(lock);
    assert_eq!(state.leftovers(), Vec::<String>::new());
    let out = state.config_set(&oc, "18792");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
