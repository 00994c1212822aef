//! `openclaw-vault run`, end to end: the real executable against a real Vault dev server, with
//! real child processes (small `sh` scripts that print a hash of the value, never the value).
//! Every wait is for an event (a line the child or `run` prints, an exit) with a deadline.

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use openclaw_vault_test_support::{start_dev_vault, temp_dir, vault_binary, DevVault};

/// Long enough for a loaded machine; the tests finish as soon as the event comes.
const DEADLINE: Duration = Duration::from_secs(30);

/// The first 16 hex digits of the value's SHA-256, as the child scripts print it.
fn hash(value: &str) -> String {
    let out = Command::new("sh")
        .args(["-c", "printf %s \"$V\" | sha256sum | cut -c1-16"])
        .env("V", value)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// What a child script prints when it starts: `started <pid> <hash of $K>`.
const STARTED: &str = r#"echo "started $$ $(printf %s "$K" | sha256sum | cut -c1-16)""#;

fn vault_put(vault: &DevVault, name: &str, value: &str) {
    let status = Command::new(vault_binary())
        .args([
            "kv",
            "put",
            &format!("secret/openclaw/credentials/{name}"),
            &format!("apiKey={value}"),
        ])
        .env("VAULT_ADDR", &vault.addr)
        .env("VAULT_TOKEN", &vault.token)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
}

/// A running `openclaw-vault run`, its output lines arriving on channels.
struct Run {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    seen_out: Vec<String>,
    seen_err: Vec<String>,
}

fn lines(stream: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

fn env_for(home: &Path, vault: &DevVault) -> Vec<(String, String)> {
    vec![
        ("HOME".into(), home.display().to_string()),
        ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
        ("VAULT_ADDR".into(), vault.addr.clone()),
        ("VAULT_TOKEN".into(), vault.token.clone()),
        ("VAULT_MAX_RETRIES".into(), "0".into()),
    ]
}

fn start(args: &[&str], env: &[(String, String)]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_openclaw-vault"))
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = lines(child.stdout.take().unwrap());
    let stderr = lines(child.stderr.take().unwrap());
    Run {
        child,
        stdout,
        stderr,
        seen_out: Vec::new(),
        seen_err: Vec::new(),
    }
}

impl Run {
    /// Waits for a stdout line satisfying `want`; panics at the deadline with what was seen.
    fn out_line(&mut self, want: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + DEADLINE;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left) {
                Ok(line) => {
                    self.seen_out.push(line.clone());
                    if want(&line) {
                        return line;
                    }
                }
                Err(_) => {
                    let err = self.drain_err();
                    panic!(
                        "no such stdout line; stdout: {:?}; stderr: {err:?}",
                        self.seen_out
                    )
                }
            }
        }
    }

    /// Waits for a stderr line satisfying `want`.
    fn err_line(&mut self, want: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + DEADLINE;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    self.seen_err.push(line.clone());
                    if want(&line) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no such stderr line; stderr: {:?}; stdout: {:?}",
                    self.seen_err, self.seen_out
                ),
            }
        }
    }

    fn drain_err(&mut self) -> Vec<String> {
        while let Ok(line) = self.stderr.try_recv() {
            self.seen_err.push(line);
        }
        self.seen_err.clone()
    }

    fn signal(&self, signal: i32) {
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, signal);
        }
    }

    /// Waits for `run` to exit (deadline), then collects the rest of its output.
    fn wait(&mut self) -> ExitStatus {
        let end = Instant::now() + DEADLINE;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < end, "run did not exit");
            // Polling another process for its exit, not a race between threads.
            std::thread::sleep(Duration::from_millis(20));
        };
        // The reader threads end at EOF, which follows the exit.
        while let Ok(line) = self.stdout.recv_timeout(Duration::from_secs(5)) {
            self.seen_out.push(line);
        }
        while let Ok(line) = self.stderr.recv_timeout(Duration::from_secs(5)) {
            self.seen_err.push(line);
        }
        status
    }

    fn all_output(&self) -> String {
        format!("{}\n{}", self.seen_out.join("\n"), self.seen_err.join("\n"))
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pid_alive(pid: i32) -> bool {
    // A reaped child is gone; `run` reaps each child it stops.
    unsafe { libc::kill(pid, 0) == 0 }
}

/// Whether `pid` ended within the deadline: SIGKILL is delivered after kill(2) returns, and an
/// orphan killed under a container's pid 1 may stay a zombie.
fn gone(pid: i32) -> bool {
    let end = Instant::now() + DEADLINE;
    while Instant::now() < end {
        if !pid_alive(pid) || is_zombie(pid) {
            return true;
        }
        // Polling another process for its exit, not a race between threads.
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn started_pid(line: &str) -> i32 {
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Every process's argv on this machine, as `ps` shows it.
fn all_argv() -> String {
    let out = Command::new("ps").args(["-eo", "args"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn home(label: &str) -> openclaw_vault_test_support::TempDir {
    temp_dir(&format!("run-{label}"))
}

#[test]
fn the_child_sees_the_value_and_its_exit_code_passes_through() {
    let vault = start_dev_vault("run-basic");
    let secret = "sk-ant-run-CANARY-0123456789";
    vault_put(&vault, "anthropic", secret);
    let home = home("basic");
    let env = env_for(&home, &vault);
    let script = format!("{STARTED}; exit 7");
    let mut run = start(
        &["run", "--env", "K=anthropic", "--", "sh", "-c", &script],
        &env,
    );
    let line = run.out_line(|l| l.starts_with("started"));
    assert!(line.ends_with(&hash(secret)), "{line}");
    assert_eq!(run.wait().code(), Some(7));
    assert!(!run.all_output().contains(secret));

    // Killed by a signal: 128 + its number, as shells report it.
    let mut run = start(
        &[
            "run",
            "--env",
            "K=anthropic.apiKey",
            "--",
            "sh",
            "-c",
            "kill -TERM $$",
        ],
        &env,
    );
    assert_eq!(run.wait().code(), Some(128 + libc::SIGTERM));

    // --clean-env: only the mapped variables and --pass-env ones.
    let mut run = start(
        &[
            "run",
            "--clean-env",
            "--pass-env",
            "PATH",
            "--env",
            "K=anthropic",
            "--",
            "sh",
            "-c",
            r#"echo "home=${HOME:-unset} token=${VAULT_TOKEN:-unset} k=${#K}""#,
        ],
        &env,
    );
    run.out_line(|l| l == format!("home=unset token=unset k={}", secret.len()));
    assert_eq!(run.wait().code(), Some(0));
    let _ = std::fs::remove_dir_all(home);
}

// Attack 4, finding 10: `run` killed with SIGKILL (no handler runs) left its child running,
// secrets in its environment; a supervisor's restart then made two.
#[test]
fn a_child_dies_with_run_killed_by_sigkill() {
    let vault = start_dev_vault("run-sigkill");
    vault_put(&vault, "anthropic", "sk-ant-sigkill-CANARY-0123456789");
    let home = home("sigkill");
    let env = env_for(&home, &vault);
    // The child ignores SIGTERM and SIGHUP: only the death signal can end it.
    let script = format!("trap '' TERM HUP; {STARTED}; while :; do sleep 0.05; done");
    let mut run = start(
        &["run", "--env", "K=anthropic", "--", "sh", "-c", &script],
        &env,
    );
    let child = started_pid(&run.out_line(|l| l.starts_with("started")));
    assert!(pid_alive(child));
    run.signal(libc::SIGKILL);
    assert_eq!(run.wait().signal(), Some(libc::SIGKILL));
    // Reparented to init (or a subreaper) and killed: gone, or a zombie until it is reaped.
    let end = Instant::now() + DEADLINE;
    while pid_alive(child) && !is_zombie(child) {
        assert!(Instant::now() < end, "the child outlived run");
        // Polling another process for its exit, not a race between threads.
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::fs::remove_dir_all(home);
}

fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|r| r.trim_start().starts_with('Z'))
        })
        .unwrap_or(true)
}

#[test]
fn signals_are_forwarded_and_the_secret_is_in_no_argv() {
    let vault = start_dev_vault("run-signals");
    let secret = "sk-ant-signal-CANARY-9876543210";
    vault_put(&vault, "anthropic", secret);
    let home = home("signals");
    let env = env_for(&home, &vault);
    for (name, signal) in [
        ("INT", libc::SIGINT),
        ("TERM", libc::SIGTERM),
        ("HUP", libc::SIGHUP),
        ("QUIT", libc::SIGQUIT),
        ("USR1", libc::SIGUSR1),
        ("USR2", libc::SIGUSR2),
    ] {
        let script = format!(
            "trap 'echo got-{name}; exit 42' {name}; {STARTED}; while :; do sleep 0.05; done"
        );
        let mut run = start(
            &["run", "--env", "K=anthropic", "--", "sh", "-c", &script],
            &env,
        );
        run.out_line(|l| l.starts_with("started"));
        let argv = all_argv();
        assert!(argv.contains("got-"), "ps shows the child");
        assert!(!argv.contains(secret), "{name}: the secret is in ps");
        run.signal(signal);
        run.out_line(|l| l == format!("got-{name}"));
        assert_eq!(run.wait().code(), Some(42), "{name}");
        assert!(!run.all_output().contains(secret));
    }
    // Attack 5a finding 11: a child that ignores the forwarded SIGTERM (and one it started) is
    // killed after --grace-ms, and `run` ends as SIGTERM would have ended it.
    let script = format!(
        "trap '' TERM; sleep 1234 & echo \"bg $!\"; {STARTED}; while :; do sleep 0.05; done"
    );
    let mut run = start(
        &[
            "run",
            "--grace-ms",
            "300",
            "--env",
            "K=anthropic",
            "--",
            "sh",
            "-c",
            &script,
        ],
        &env,
    );
    let bg = run.out_line(|l| l.starts_with("bg "));
    let child = started_pid(&run.out_line(|l| l.starts_with("started")));
    let bg: i32 = bg[3..].trim().parse().unwrap();
    run.signal(libc::SIGTERM);
    assert_eq!(run.wait().code(), Some(128 + libc::SIGTERM));
    assert!(
        run.seen_err
            .iter()
            .any(|l| l.contains("300 ms after SIGTERM: sent SIGKILL to its process group")),
        "{:?}",
        run.seen_err
    );
    assert!(gone(child) && gone(bg), "the child's group is gone");
    assert!(!run.all_output().contains(secret));
    let _ = std::fs::remove_dir_all(home);
}

#[test]
fn watch_restarts_the_child_on_a_new_version_and_kills_one_that_ignores_sigterm() {
    let vault = start_dev_vault("run-watch");
    let (v1, v2, v3) = (
        "sk-ant-watch-one-CANARY",
        "sk-ant-watch-two-CANARY",
        "sk-ant-watch-three-CANARY",
    );
    vault_put(&vault, "anthropic", v1);
    let home = home("watch");
    let env = env_for(&home, &vault);
    // The child ignores SIGTERM: only SIGKILL after the grace period stops it. It also leaves
    // a process of its own behind (attack 5a finding 4): the restart must end that one too.
    let script = format!(
        "trap '' TERM; sleep 1234 & echo \"bg $!\"; {STARTED}; while :; do sleep 0.05; done"
    );
    let mut run = start(
        &[
            "run",
            "--watch",
            "--interval-ms",
            "200",
            "--grace-ms",
            "300",
            "--env",
            "K=anthropic",
            "--",
            "sh",
            "-c",
            &script,
        ],
        &env,
    );
    let bg = run.out_line(|l| l.starts_with("bg "));
    let first = run.out_line(|l| l.starts_with("started"));
    assert!(first.ends_with(&hash(v1)), "{first}");
    let old_bg: i32 = bg[3..].trim().parse().unwrap();
    assert!(pid_alive(old_bg));

    let put_at = Instant::now();
    vault_put(&vault, "anthropic", v2);
    let second = run.out_line(|l| l.starts_with("started"));
    assert!(second.ends_with(&hash(v2)), "{second}");
    run.err_line(|l| l.contains("credential anthropic changed (version 1 -> version 2)"));
    run.err_line(|l| l.contains("sent SIGKILL"));
    assert!(!pid_alive(started_pid(&first)), "the old child is gone");
    assert!(gone(old_bg), "the old child's descendant is gone");
    // Within the polling interval, the grace period and slack for a loaded machine.
    assert!(put_at.elapsed() < Duration::from_secs(10));

    vault_put(&vault, "anthropic", v3);
    let bg3 = run.out_line(|l| l.starts_with("bg "));
    let bg3: i32 = bg3[3..].trim().parse().unwrap();
    let third = run.out_line(|l| l.starts_with("started"));
    assert!(third.ends_with(&hash(v3)), "{third}");
    run.err_line(|l| l.contains("(version 2 -> version 3)"));

    // The child ignores TERM, not INT: the forwarded SIGINT ends it.
    run.signal(libc::SIGINT);
    assert_eq!(run.wait().code(), Some(128 + libc::SIGINT));
    // Its `&` job ignores SIGINT (non-interactive sh): ended with the group all the same.
    assert!(gone(bg3), "the last child's descendant is gone");
    let changes = run
        .seen_err
        .iter()
        .filter(|l| l.contains("changed"))
        .count();
    assert_eq!(changes, 2, "one line per change: {:?}", run.seen_err);
    for v in [v1, v2, v3] {
        assert!(!run.all_output().contains(v));
    }
    let _ = std::fs::remove_dir_all(home);
}

#[test]
fn watch_can_signal_instead_and_a_child_that_exits_ends_run() {
    let vault = start_dev_vault("run-watch-signal");
    vault_put(&vault, "anthropic", "sk-ant-sig-one");
    let home = home("watch-signal");
    let env = env_for(&home, &vault);
    let script = format!(
        "trap 'echo reload' HUP; trap 'exit 5' USR2; {STARTED}; while :; do sleep 0.05; done"
    );
    let mut run = start(
        &[
            "run",
            "--watch",
            "--interval-ms",
            "200",
            "--on-change",
            "signal:HUP",
            "--env",
            "K=anthropic",
            "--",
            "sh",
            "-c",
            &script,
        ],
        &env,
    );
    run.out_line(|l| l.starts_with("started"));
    vault_put(&vault, "anthropic", "sk-ant-sig-two");
    run.out_line(|l| l == "reload");
    run.err_line(|l| l.contains("sent SIGHUP"));
    // The child exits by itself (5): run ends with its code and starts nothing again.
    run.signal(libc::SIGUSR2);
    assert_eq!(run.wait().code(), Some(5));
    let starts = run
        .seen_out
        .iter()
        .filter(|l| l.starts_with("started"))
        .count();
    assert_eq!(starts, 1, "{:?}", run.seen_out);
    let _ = std::fs::remove_dir_all(home);
}

#[test]
fn vault_down_during_watch_is_one_line_and_the_child_keeps_running() {
    let vault = start_dev_vault("run-watch-down");
    vault_put(&vault, "anthropic", "sk-ant-down-one");
    let home = home("watch-down");
    let env = env_for(&home, &vault);
    let script = format!("{STARTED}; while :; do echo tick; sleep 0.05; done");
    let mut run = start(
        &[
            "run",
            "--watch",
            "--interval-ms",
            "100",
            "--env",
            "K=anthropic",
            "--",
            "sh",
            "-c",
            &script,
        ],
        &env,
    );
    let first = run.out_line(|l| l.starts_with("started"));
    drop(vault);
    run.err_line(|l| l.contains("cannot check credential anthropic"));
    // 40 more ticks (about 2 s, twenty check intervals): the child kept running all along.
    for _ in 0..40 {
        run.out_line(|l| l == "tick");
    }
    assert!(run.child.try_wait().unwrap().is_none(), "run is running");
    assert!(pid_alive(started_pid(&first)), "the child is running");
    let failures = run
        .drain_err()
        .iter()
        .filter(|l| l.contains("cannot check credential"))
        .count();
    assert_eq!(failures, 1, "{:?}", run.seen_err);
    let restarts = run
        .seen_out
        .iter()
        .filter(|l| l.starts_with("started"))
        .count();
    assert_eq!(restarts, 1);
    run.signal(libc::SIGTERM);
    assert_eq!(run.wait().code(), Some(128 + libc::SIGTERM));
    let _ = std::fs::remove_dir_all(home);
}

#[test]
fn bad_mappings_and_unknown_credentials_fail_before_the_child_starts() {
    let vault = start_dev_vault("run-bad");
    vault_put(&vault, "anthropic", "sk-ant-bad-one");
    let home = home("bad");
    let env = env_for(&home, &vault);
    let marker = home.join("child-ran");
    let touch = format!("touch {}", marker.display());
    let canary = "sk-live-CANARY-pasted-4242";
    let bad_syntax = canary.to_string();
    // (Spaces and punctuation are allowed in names now, as in `groq:my key`; control
    // characters are not.)
    let bad_name = format!("K={canary}\u{1}");
    let bad_var = format!("{canary}-X=anthropic");
    for (args, code, needle) in [
        (
            vec!["run", "--env", bad_syntax.as_str()],
            2,
            "`--env` at position 3: expected NAME=credential[.field]",
        ),
        (
            vec!["run", "--env", "A=anthropic", &format!("--env={bad_name}")],
            2,
            "`--env` at position 4: the credential name is not valid",
        ),
        (
            vec!["run", "--env", bad_var.as_str()],
            2,
            "`--env` at position 3: the variable name is not valid",
        ),
        (
            vec!["run", "--env", "K=nope"],
            3,
            "error [CREDENTIAL_NOT_FOUND]: `--env` at position 3 (K): the credential was not found",
        ),
        (
            vec!["run", "--env", "K=anthropic.secretField"],
            2,
            "`--env` at position 3: the credential has no field `secretField` (it has: apiKey)",
        ),
        (
            vec!["run", "--env", "K=anthropic", "--on-change", "restart"],
            2,
            "--watch",
        ),
        (
            vec![
                "run",
                "--watch",
                "--interval-ms",
                "5",
                "--env",
                "K=anthropic",
            ],
            2,
            "--interval-ms must be",
        ),
    ] {
        let mut argv = args.clone();
        argv.extend(["--", "sh", "-c", &touch]);
        let mut run = start(&argv, &env);
        let status = run.wait();
        let all = run.all_output();
        assert_eq!(status.code(), Some(code), "{argv:?}: {all}");
        assert!(all.contains(needle), "{argv:?}: {all}");
        assert!(!all.contains(canary), "{argv:?}: {all}");
        assert!(!marker.exists(), "{argv:?}: the child ran");
    }

    // The same from the config: errors name the JSON path and the file.
    let config_dir = home.join(".openclaw");
    std::fs::create_dir_all(&config_dir).unwrap();
    let config = config_dir.join("openclaw.json");
    std::fs::write(
        &config,
        r#"{credentials: {run: {env: {ANTHROPIC_API_KEY: "nope"}}}}"#,
    )
    .unwrap();
    let mut run = start(&["run", "--", "sh", "-c", &touch], &env);
    assert_eq!(run.wait().code(), Some(3));
    let all = run.all_output();
    assert!(
        all.contains(&format!(
            "`credentials.run.env.ANTHROPIC_API_KEY` in {} (ANTHROPIC_API_KEY): the credential was not found",
            config.display()
        )),
        "{all}"
    );
    std::fs::write(
        &config,
        format!(r#"{{credentials: {{run: {{env: {{K: "{canary}\u0001x"}}}}}}}}"#),
    )
    .unwrap();
    let mut run = start(&["run", "--", "sh", "-c", &touch], &env);
    assert_eq!(run.wait().code(), Some(1));
    let all = run.all_output();
    assert!(
        all.contains("error [INVALID_CONFIG]")
            && all.contains("`credentials.run.env.K` the credential name is not valid"),
        "{all}"
    );
    assert!(!all.contains(canary), "{all}");
    assert!(!marker.exists(), "the child ran");

    // A config mapping that resolves runs the child; a flag replaces it.
    std::fs::write(
        &config,
        r#"{credentials: {run: {env: {K: "anthropic", L: "nope"}}}}"#,
    )
    .unwrap();
    let script = STARTED.to_string();
    let mut run = start(
        &[
            "run",
            "--env",
            "L=anthropic#apiKey",
            "--",
            "sh",
            "-c",
            &script,
        ],
        &env,
    );
    let line = run.out_line(|l| l.starts_with("started"));
    assert!(line.ends_with(&hash("sk-ant-bad-one")), "{line}");
    assert_eq!(run.wait().code(), Some(0));
    let _ = std::fs::remove_dir_all(home);
}

#[test]
fn the_vault_token_is_renewed_while_the_child_runs() {
    let vault = start_dev_vault("run-renew");
    vault_put(&vault, "anthropic", "sk-ant-renew");
    let out = Command::new(vault_binary())
        .args(["token", "create", "-ttl=3s", "-policy=root", "-field=token"])
        .env("VAULT_ADDR", &vault.addr)
        .env("VAULT_TOKEN", &vault.token)
        .output()
        .unwrap();
    assert!(out.status.success());
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let home = home("renew");
    let mut env = env_for(&home, &vault);
    env.retain(|(k, _)| k != "VAULT_TOKEN");
    env.push(("VAULT_TOKEN".into(), token.clone()));
    // The child outlives the token's 3 s TTL by more than its whole length.
    let mut run = start(
        &["run", "--env", "K=anthropic", "--", "sh", "-c", "sleep 7"],
        &env,
    );
    assert_eq!(run.wait().code(), Some(0), "{}", run.all_output());
    let lookup = Command::new(vault_binary())
        .args(["token", "lookup", "-format=json", &token])
        .env("VAULT_ADDR", &vault.addr)
        .env("VAULT_TOKEN", &vault.token)
        .output()
        .unwrap();
    assert!(
        lookup.status.success(),
        "the token expired: {}",
        String::from_utf8_lossy(&lookup.stderr)
    );
    assert!(!run.all_output().contains(&token));
    let _ = std::fs::remove_dir_all(home);
}

fn vault_cli(vault: &DevVault, args: &[&str], stdin: Option<&str>) {
    use std::io::Write;
    let mut child = Command::new(vault_binary())
        .args(args)
        .env("VAULT_ADDR", &vault.addr)
        .env("VAULT_TOKEN", &vault.token)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    assert!(child.wait().unwrap().success(), "vault {args:?}");
}

#[test]
fn a_check_that_fails_is_reported_once_until_it_works_again() {
    let vault = start_dev_vault("run-watch-denied");
    vault_put(&vault, "anthropic", "sk-ant-denied-one");
    let allow = r#"
        path "secret/data/openclaw/credentials/*" { capabilities = ["read"] }
        path "secret/metadata/openclaw/credentials/*" { capabilities = ["read"] }
    "#;
    // The metadata (the version a check reads) denied: every check fails until it is allowed.
    let deny = r#"
        path "secret/data/openclaw/credentials/*" { capabilities = ["read"] }
    "#;
    vault_cli(&vault, &["policy", "write", "run-test", "-"], Some(allow));
    let out = Command::new(vault_binary())
        .args(["token", "create", "-policy=run-test", "-field=token"])
        .env("VAULT_ADDR", &vault.addr)
        .env("VAULT_TOKEN", &vault.token)
        .output()
        .unwrap();
    assert!(out.status.success());
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let home = home("watch-denied");
    let mut env = env_for(&home, &vault);
    env.retain(|(k, _)| k != "VAULT_TOKEN");
    env.push(("VAULT_TOKEN".into(), token));
    let mut run = start(
        &[
            "run",
            "--watch",
            "--interval-ms",
            "100",
            "--env",
            "K=anthropic",
            "--",
            "sh",
            "-c",
            &format!("{STARTED}; while :; do sleep 0.05; done"),
        ],
        &env,
    );
    run.out_line(|l| l.starts_with("started"));
    for round in 1..=2 {
        vault_cli(&vault, &["policy", "write", "run-test", "-"], Some(deny));
        run.err_line(|l| l.contains("cannot check credential anthropic"));
        vault_cli(&vault, &["policy", "write", "run-test", "-"], Some(allow));
        run.err_line(|l| l.contains("credential anthropic can be checked again"));
        let failing = run
            .seen_err
            .iter()
            .filter(|l| l.contains("cannot check credential"))
            .count();
        assert_eq!(failing, round, "one line per outage: {:?}", run.seen_err);
    }
    // Still watching: a new version restarts the child.
    vault_put(&vault, "anthropic", "sk-ant-denied-two");
    let line = run.out_line(|l| l.starts_with("started"));
    assert!(line.ends_with(&hash("sk-ant-denied-two")), "{line}");
    run.signal(libc::SIGTERM);
    assert_eq!(run.wait().code(), Some(128 + libc::SIGTERM));
    let _ = std::fs::remove_dir_all(home);
}

/// `openclaw-vault.json` under `home`'s default state directory with the last-known-good file on.
fn last_known_good_on(home: &Path) -> std::path::PathBuf {
    let state = home.join(".openclaw");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(
        state.join("openclaw-vault.json"),
        r#"{"provider": "vault", "lastKnownGood": {"enabled": true}}"#,
    )
    .unwrap();
    state.join("vault-last-known-good.bin")
}

// Attack 8 findings 8 and 11: `run --watch` said nothing on a soft delete or a destroy, and the
// deleted value stayed in the last-known-good file, to be served in the next outage.
#[test]
fn watch_reports_each_deletion_and_a_later_outage_does_not_bring_the_value_back() {
    let vault = start_dev_vault("run-watch-del");
    let secret = "openclaw/credentials/anthropic";
    vault_put(&vault, "anthropic", "sk-ant-del-one-CANARY");
    let home = home("watch-del");
    let file = last_known_good_on(&home);
    let env = env_for(&home, &vault);
    let mut run = start(
        &[
            "run",
            "--watch",
            "--interval-ms",
            "100",
            "--env",
            "K=anthropic",
            "--",
            "sh",
            "-c",
            &format!("{STARTED}; while :; do sleep 0.05; done"),
        ],
        &env,
    );
    run.out_line(|l| l.starts_with("started"));
    assert!(file.exists(), "the read was kept");
    let deleted = |run: &Run| {
        run.seen_err
            .iter()
            .filter(|l| l.contains("credential anthropic is not found any more"))
            .count()
    };
    // A destroy, a metadata delete, then a soft delete: one line each; a new version in between
    // restarts the child as any rotation does.
    vault_cli(
        &vault,
        &["kv", "destroy", "-mount=secret", "-versions=1", secret],
        None,
    );
    run.err_line(|l| l.contains("credential anthropic is not found any more"));
    vault_put(&vault, "anthropic", "sk-ant-del-two-CANARY");
    run.out_line(|l| l.starts_with("started"));
    vault_cli(
        &vault,
        &["kv", "metadata", "delete", "-mount=secret", secret],
        None,
    );
    run.err_line(|l| l.contains("credential anthropic is not found any more"));
    assert_eq!(deleted(&run), 2, "{:?}", run.seen_err);
    vault_put(&vault, "anthropic", "sk-ant-del-three-CANARY");
    run.out_line(|l| l.starts_with("started"));
    vault_cli(&vault, &["kv", "delete", "-mount=secret", secret], None);
    run.err_line(|l| l.contains("credential anthropic is not found any more"));
    assert_eq!(deleted(&run), 3, "{:?}", run.seen_err);
    run.signal(libc::SIGTERM);
    assert_eq!(run.wait().code(), Some(128 + libc::SIGTERM));
    let said = run.all_output();
    // Vault goes away: the deleted value is not served from the file, nothing starts.
    drop(vault);
    let mut again = start(
        &["run", "--env", "K=anthropic", "--", "sh", "-c", STARTED],
        &env,
    );
    let status = again.wait();
    let out = again.all_output();
    assert_eq!(status.code(), Some(1), "{out}");
    assert!(!out.contains("started"), "{out}");
    for text in [&said, &out] {
        assert!(!text.contains("CANARY"), "{text}");
    }
    let _ = std::fs::remove_dir_all(home);
}

// Attack 8 finding 12: SIGTERM to `run` while a `--watch` restart waited for a child that
// ignores SIGTERM ended with 137 (the SIGKILL), not 143 as outside a restart.
#[test]
fn sigterm_during_a_restarts_grace_period_ends_run_with_143() {
    let vault = start_dev_vault("run-watch-grace");
    vault_put(&vault, "anthropic", "sk-ant-grace-one");
    let home = home("watch-grace");
    let env = env_for(&home, &vault);
    let mut run = start(
        &[
            "run",
            "--watch",
            "--interval-ms",
            "100",
            "--grace-ms",
            "2000",
            "--env",
            "K=anthropic",
            "--",
            "sh",
            "-c",
            &format!("trap '' TERM; {STARTED}; while :; do sleep 0.05; done"),
        ],
        &env,
    );
    run.out_line(|l| l.starts_with("started"));
    vault_put(&vault, "anthropic", "sk-ant-grace-two");
    run.err_line(|l| l.contains("credential anthropic changed"));
    run.signal(libc::SIGTERM);
    assert_eq!(
        run.wait().code(),
        Some(128 + libc::SIGTERM),
        "{:?}",
        run.seen_err
    );
    let restarts = run
        .seen_out
        .iter()
        .filter(|l| l.starts_with("started"))
        .count();
    assert_eq!(restarts, 1, "not started again: {:?}", run.seen_out);
    let _ = std::fs::remove_dir_all(home);
}

// Attack 8 finding 9: a new version without the mapped field read like a Vault failure and named
// another field (`token`).
#[test]
fn a_new_version_without_the_mapped_field_names_it_and_says_it_is_not_a_vault_failure() {
    let vault = start_dev_vault("run-watch-shape");
    // A name of no known provider: its kind comes from its fields.
    vault_put(&vault, "rw", "sk-rw-shape-one-CANARY");
    let home = home("watch-shape");
    let env = env_for(&home, &vault);
    let mut run = start(
        &[
            "run",
            "--watch",
            "--interval-ms",
            "100",
            "--env",
            "K=rw.apiKey",
            "--",
            "sh",
            "-c",
            &format!("{STARTED}; while :; do sleep 0.05; done"),
        ],
        &env,
    );
    run.out_line(|l| l.starts_with("started"));
    vault_cli(
        &vault,
        &[
            "kv",
            "put",
            "-mount=secret",
            "openclaw/credentials/rw",
            "other=x-CANARY",
        ],
        None,
    );
    let line = run.err_line(|l| l.contains("credential rw"));
    assert!(
        line.contains("cannot be used for what is mapped (apiKey)")
            && line.contains("not a Vault failure"),
        "{line}"
    );
    assert!(run.child.try_wait().unwrap().is_none(), "run is running");
    run.signal(libc::SIGTERM);
    assert_eq!(run.wait().code(), Some(128 + libc::SIGTERM));
    assert!(!run.all_output().contains("CANARY"));
    let _ = std::fs::remove_dir_all(home);
}
