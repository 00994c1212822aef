//! OpenClaw's state directory and config file, found exactly the way OpenClaw finds them.

use std::path::{Path, PathBuf};

/// Legacy state directory names, in the order OpenClaw tries them after `~/.openclaw`.
const LEGACY_STATE_DIRS: [&str; 3] = [".clawdbot", ".moldbot", ".moltbot"];
/// Config file names inside the state directory, in OpenClaw's order.
pub const CONFIG_FILE_NAMES: [&str; 4] = [
    "openclaw.json",
    "clawdbot.json",
    "moldbot.json",
    "moltbot.json",
];

/// The name of this package's settings file, next to OpenClaw's config (see
/// [`OpenClawPaths::settings_file`]).
pub const SETTINGS_FILE_NAME: &str = "openclaw-vault.json";

/// The homes and directories one process sees. Built once from the environment; everything
/// that reads local files takes it instead of asking the environment again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenClawPaths {
    /// The user's home (`HOME`), where other CLIs keep their files (`~/.claude`, `~/.codex`).
    pub user_home: Option<PathBuf>,
    /// OpenClaw's home: `OPENCLAW_HOME`, else `user_home`.
    pub openclaw_home: Option<PathBuf>,
    /// `OPENCLAW_STATE_DIR` (legacy `CLAWDBOT_STATE_DIR`), else the first existing of
    /// `~/.openclaw`, `~/.clawdbot`, `~/.moldbot`, `~/.moltbot`, else `~/.openclaw`.
    pub state_dir: Option<PathBuf>,
    /// `OPENCLAW_CONFIG_PATH` (legacy `CLAWDBOT_CONFIG_PATH`) when set.
    pub config_override: Option<PathBuf>,
    /// `CODEX_HOME`, else `~/.codex`.
    pub codex_home: Option<PathBuf>,
    /// `CLAUDE_CONFIG_DIR`, else `~/.claude`: where Claude Code keeps `.credentials.json`.
    pub claude_config_dir: Option<PathBuf>,
}

fn non_empty(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    env(name).filter(|v| !v.trim().is_empty())
}

/// Expands a leading `~` (OpenClaw accepts it in its path variables).
fn expand(value: &str, home: Option<&Path>) -> PathBuf {
    match (value.strip_prefix("~"), home) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            home.join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(value),
    }
}

impl OpenClawPaths {
    /// Resolves every path from `env` (a variable lookup). Existence checks touch the disk.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Self {
        let user_home = non_empty(env, "HOME").map(PathBuf::from);
        let openclaw_home = non_empty(env, "OPENCLAW_HOME")
            .map(|h| expand(&h, user_home.as_deref()))
            .or_else(|| user_home.clone());
        let home = openclaw_home.as_deref();
        let state_dir = non_empty(env, "OPENCLAW_STATE_DIR")
            .or_else(|| non_empty(env, "CLAWDBOT_STATE_DIR"))
            .map(|d| expand(&d, home))
            .or_else(|| {
                let home = home?;
                let preferred = home.join(".openclaw");
                if preferred.is_dir() {
                    return Some(preferred);
                }
                LEGACY_STATE_DIRS
                    .iter()
                    .map(|d| home.join(d))
                    .find(|d| d.is_dir())
                    .or(Some(preferred))
            });
        let config_override = non_empty(env, "OPENCLAW_CONFIG_PATH")
            .or_else(|| non_empty(env, "CLAWDBOT_CONFIG_PATH"))
            .map(|p| expand(&p, home));
        let codex_home = non_empty(env, "CODEX_HOME")
            .map(|p| expand(&p, user_home.as_deref()))
            .or_else(|| user_home.as_ref().map(|h| h.join(".codex")));
        let claude_config_dir = non_empty(env, "CLAUDE_CONFIG_DIR")
            .map(|p| expand(&p, user_home.as_deref()))
            .or_else(|| user_home.as_ref().map(|h| h.join(".claude")));
        OpenClawPaths {
            user_home,
            openclaw_home,
            state_dir,
            config_override,
            codex_home,
            claude_config_dir,
        }
    }

    /// From the real process environment.
    pub fn from_process_env() -> Self {
        Self::from_env(&|name| std::env::var(name).ok())
    }

    /// The config file OpenClaw would read: the override, else the first existing of
    /// `openclaw.json`, `clawdbot.json`, `moldbot.json`, `moltbot.json` in the state directory.
    /// `None` when there is none.
    pub fn config_file(&self) -> Option<PathBuf> {
        if let Some(p) = &self.config_override {
            return Some(p.clone());
        }
        let dir = self.state_dir.as_ref()?;
        CONFIG_FILE_NAMES
            .iter()
            .map(|n| dir.join(n))
            .find(|p| p.exists())
    }

    /// This package's own settings file, `openclaw-vault.json` (JSON5), next to OpenClaw's
    /// config: in the folder of `OPENCLAW_CONFIG_PATH` when that is set, else in the state
    /// directory. OpenClaw's schema rejects unknown top-level keys in `openclaw.json` (so the old
    /// `credentials` key breaks every `openclaw` command) and treats `plugins.entries.<id>` of a
    /// plugin it has not installed as stale, so the settings live in a file of their own, which
    /// OpenClaw never reads, validates or rewrites. `None` without a home.
    pub fn settings_file(&self) -> Option<PathBuf> {
        let dir = match &self.config_override {
            Some(p) => p.parent().map(Path::to_path_buf),
            None => self.state_dir.clone(),
        }?;
        Some(dir.join(SETTINGS_FILE_NAME))
    }

    /// `<stateDir>/.env`.
    pub fn state_dotenv(&self) -> Option<PathBuf> {
        self.state_dir.as_ref().map(|d| d.join(".env"))
    }

    /// A user-supplied path as OpenClaw reads it (its `resolveUserPath`): trimmed, a leading `~`
    /// expanded to the OpenClaw home, a relative path taken from the current directory.
    pub fn user_path(&self, value: &str) -> PathBuf {
        let p = expand(value.trim(), self.openclaw_home.as_deref());
        if p.is_relative() {
            std::env::current_dir().map(|d| d.join(&p)).unwrap_or(p)
        } else {
            p
        }
    }

    /// `~/<rest>` in the user's home.
    pub fn in_user_home(&self, rest: &str) -> Option<PathBuf> {
        self.user_home.as_ref().map(|h| h.join(rest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openclaw_vault_test_support::env_of;

    /// [`openclaw_vault_test_support::temp_dir`] under this module's prefix (removed on drop).
    fn temp_home(name: &str) -> openclaw_vault_test_support::TempDir {
        openclaw_vault_test_support::temp_dir(&format!("paths-{name}"))
    }

    #[test]
    fn state_dir_follows_openclaw_rules() {
        let home = temp_home("rules");
        let h = home.to_str().unwrap();
        // Nothing exists: ~/.openclaw.
        let p = OpenClawPaths::from_env(&env_of(&[("HOME", h)]));
        assert_eq!(p.state_dir, Some(home.join(".openclaw")));
        assert_eq!(p.config_file(), None);
        // Only a legacy directory exists: it wins.
        std::fs::create_dir_all(home.join(".moltbot")).unwrap();
        std::fs::create_dir_all(home.join(".moldbot")).unwrap();
        let p = OpenClawPaths::from_env(&env_of(&[("HOME", h)]));
        assert_eq!(p.state_dir, Some(home.join(".moldbot")));
        std::fs::write(home.join(".moldbot/moltbot.json"), "{}").unwrap();
        assert_eq!(p.config_file(), Some(home.join(".moldbot/moltbot.json")));
        std::fs::write(home.join(".moldbot/clawdbot.json"), "{}").unwrap();
        assert_eq!(p.config_file(), Some(home.join(".moldbot/clawdbot.json")));
        // ~/.openclaw exists: it wins over every legacy one.
        std::fs::create_dir_all(home.join(".openclaw")).unwrap();
        let p = OpenClawPaths::from_env(&env_of(&[("HOME", h)]));
        assert_eq!(p.state_dir, Some(home.join(".openclaw")));
        assert_eq!(
            p.settings_file(),
            Some(home.join(".openclaw/openclaw-vault.json"))
        );
        // Variables win, `~` expands against OPENCLAW_HOME.
        let p = OpenClawPaths::from_env(&env_of(&[
            ("HOME", h),
            ("OPENCLAW_HOME", "/srv/oc"),
            ("CLAWDBOT_STATE_DIR", "~/state"),
            ("CLAWDBOT_CONFIG_PATH", "~/c.json5"),
        ]));
        assert_eq!(p.state_dir, Some(PathBuf::from("/srv/oc/state")));
        assert_eq!(p.config_file(), Some(PathBuf::from("/srv/oc/c.json5")));
        // Our settings file sits next to the config OpenClaw uses.
        assert_eq!(
            p.settings_file(),
            Some(PathBuf::from("/srv/oc/openclaw-vault.json"))
        );
        assert_eq!(p.user_home, Some(home.to_path_buf()));
        assert_eq!(p.codex_home, Some(home.join(".codex")));
        assert_eq!(p.claude_config_dir, Some(home.join(".claude")));
        let p = OpenClawPaths::from_env(&env_of(&[("HOME", h), ("CLAUDE_CONFIG_DIR", "~/cc")]));
        assert_eq!(p.claude_config_dir, Some(home.join("cc")));
    }

    #[test]
    fn no_home_means_no_default_paths() {
        let p = OpenClawPaths::from_env(&env_of(&[("HOME", "  ")]));
        assert_eq!(p.state_dir, None);
        assert_eq!(p.config_file(), None);
        assert_eq!(p.settings_file(), None);
        assert_eq!(p.in_user_home(".claude"), None);
    }
}
