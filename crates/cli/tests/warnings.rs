//! Warnings a command prints about the machine's files, judged on the real binary's stderr
//! (the `tracing` subscriber and the command's own `warning:` lines together).

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

const VALUE: &str = "sk-FAKE-mode-warning-0001";

#[test]
fn a_state_dir_env_readable_by_others_is_warned_about_once_per_command_never_with_its_value() {
    let home = openclaw_vault_test_support::temp_dir("cli-warnings");
    let state = home.path().join(".openclaw");
    std::fs::create_dir_all(&state).unwrap();
    let env_file = state.join(".env");
    std::fs::write(&env_file, format!("OPENAI_API_KEY={VALUE}\n")).unwrap();
    std::fs::set_permissions(&env_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    for args in [&["list"][..], &["get", "openai"], &["status"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_openclaw-vault"))
            .args(args)
            .env_clear()
            .env("HOME", home.path())
            .env("PATH", "/usr/bin:/bin")
            .current_dir(home.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let warned = stderr
            .lines()
            .filter(|l| l.contains("is readable by other users (mode 0644)"))
            .count();
        assert_eq!(warned, 1, "{args:?}:\n{stderr}");
        assert!(
            stderr.contains(&format!("chmod 600 {}", env_file.display())),
            "{stderr}"
        );
        assert!(
            !stderr.contains(VALUE) && !stdout.contains(VALUE),
            "{args:?} printed the value"
        );
    }
}
