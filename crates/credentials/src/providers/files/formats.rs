//! The table: every single-file credential format this package reads, one row each. Adding a
//! CLI that keeps its tokens in one JSON file is one more row here and its place in
//! [`file_providers`](super::file_providers); the reader, the writer, the provider and their guarantees (type checks naming the
//! JSON path, cas, atomic 0600 rewrites keeping every other field) come with it.
//!
//! | id | file | names | object | secrets | expiry | metadata | owner | written back |
//! |---|---|---|---|---|---|---|---|---|
//! | `claude-code` | `<claude config dir>/.credentials.json` | `anthropic`, `claude-code` | `claudeAiOauth` | `accessToken`, `refreshToken` | `expiresAt` (ms) | every other field of `claudeAiOauth` | Claude Code | no |
//! | `codex` | `<codex home>/auth.json` | `codex`, `openai-codex` | `tokens` | `access_token`, `refresh_token`, `id_token` | none | `auth_mode`, `last_refresh`, `account_id` | Codex | no |
//! | `codex` | same file | `openai` | root | `OPENAI_API_KEY` (empty = none) | none | `auth_mode`, `last_refresh` | none (an API key) | no |
//! | `qwen`, `minimax`, `gemini-cli` | `~/.qwen/`, `~/.minimax/`, `~/.gemini/` `oauth_creds.json` | `qwen`; `minimax`; `gemini`, `gemini-cli` | root | `access_token`, `refresh_token`, `id_token` | `expiry_date` (ms) | `token_type`, `resource_url`, `scope` | Qwen Code; MiniMax; Gemini CLI | no |
//! | `openclaw-oauth` | `<stateDir>/credentials/oauth.json` | every root key | `<name>` | `access`, `refresh` | `expires` (ms) | `provider` = the name | OpenClaw (retired; its SQLite store holds the live copy) | no |
//!
//! **Owners.** A CLI's OAuth refresh token works once: refreshing a copy logs the CLI out
//! (measured for Claude Code; Codex answers `refresh_token_reused`). So the tokens of a row with
//! an [`owner`](FileFormat::owner) are read and never refreshed or written back here; an
//! expired one is `REFRESH_FAILED` naming the CLI's login command, and `migrate` moves one only
//! with `--take-ownership`. The keychain items of Claude Code and Codex hold the same JSON and
//! the same owner ([`cli_owner`] maps their provider ids).
//!
//! OpenClaw's per-agent `auth-profiles.json` holds many typed profiles across many files and is
//! its own provider ([`auth_profiles`](super::auth_profiles)), reading each profile's fields through
//! the same [`read_object`](super::format::read_object).

use super::format::{
    At, CliOwner, Entry, Field, FileFormat, Location, Metadata, OnCreate, TimeUnit, Write,
};
use crate::credential::fields::{ACCESS_TOKEN, API_KEY, ID_TOKEN, REFRESH_TOKEN};
use crate::credential::CredentialKind;

/// Claude Code. `claude auth login` is the login command of Claude Code's CLI reference and of
/// OpenClaw 2026.9's `docs/gateway/authentication.md` ("Claude CLI reuse"); `/login` inside a
/// session does the same.
pub static CLAUDE_CODE_CLI: CliOwner = CliOwner {
    cli: "Claude Code",
    renew: "`claude auth login`",
};

/// OpenAI's Codex CLI. `codex login` is its login command (Codex CLI README; OpenClaw 2026.9's
/// `docs/gateway/doctor` pages use it too).
pub static CODEX_CLI: CliOwner = CliOwner {
    cli: "Codex",
    renew: "`codex login`",
};

/// Qwen Code. It has no login subcommand: its docs (qwenlm.github.io/qwen-code-docs,
/// "Authentication") sign in by starting `qwen` and choosing Qwen OAuth under `/auth`.
pub static QWEN_CODE_CLI: CliOwner = CliOwner {
    cli: "Qwen Code",
    renew: "`qwen`, then `/auth` and Qwen OAuth",
};

/// The MiniMax CLI that keeps `~/.minimax/oauth_creds.json` (OpenClaw read it as
/// `minimax-portal:minimax-cli`). No public document names its login command (MiniMax's newer
/// `mmx` CLI keeps its tokens in `~/.mmx/config.json` instead), so the message describes the
/// step rather than guess a command.
pub static MINIMAX_CLI: CliOwner = CliOwner {
    cli: "MiniMax",
    renew: "a new sign-in in the MiniMax CLI that wrote `~/.minimax/oauth_creds.json`",
};

/// Google's Gemini CLI. Its docs ("Authentication") sign in by starting `gemini` and choosing
/// "Login with Google" (again through `/auth` inside a session).
pub static GEMINI_CLI_OWNER: CliOwner = CliOwner {
    cli: "Gemini CLI",
    renew: "`gemini`, then `/auth` and Login with Google",
};

/// The CLI that owns credential `name` read by provider `provider` (`source.provider`), if a
/// CLI owns it: the file providers of the rows with an owner, and the keychain providers
/// `claude-code-keychain` and `codex-keychain`, which read the same layouts (their ids are the
/// row's id with `-keychain`). `None` for every other provider, and for a name that is not an
/// OAuth entry (Codex's `openai` API key).
pub fn cli_owner(provider: &str, name: &str) -> Option<&'static CliOwner> {
    let row = provider.strip_suffix("-keychain").unwrap_or(provider);
    [&CLAUDE_CODE, &CODEX, &QWEN, &MINIMAX, &GEMINI_CLI]
        .into_iter()
        .find(|f| f.id == row)?
        .owner_of(name)
}

/// Claude Code's credentials: `{"claudeAiOauth": {"accessToken", "refreshToken", "expiresAt",
/// "scopes", "subscriptionType", ...}, "mcpOAuth": {...}, ...}`. The file is
/// `$CLAUDE_CONFIG_DIR/.credentials.json` (default `~/.claude/`); Claude Code's macOS Keychain
/// item holds the same JSON. A file with only MCP tokens holds no `anthropic`.
pub static CLAUDE_CODE: FileFormat = FileFormat {
    id: "claude-code",
    label: "Claude Code's credentials JSON",
    location: Location::ClaudeConfigDir(".credentials.json"),
    shared: &[],
    entries: &[Entry {
        names: &["anthropic", "claude-code"],
        at: At::Key("claudeAiOauth"),
        kind: CredentialKind::OAuth,
        fields: &[
            Field::secret("accessToken", ACCESS_TOKEN),
            Field::optional_secret("refreshToken", REFRESH_TOKEN),
            Field::expiry("expiresAt", TimeUnit::EpochMs),
            Field::text_list("scopes", "scopes").on_create(OnCreate::Copy),
            // `pro`, `max`, ...; null for API accounts.
            Field::text("subscriptionType", "subscriptionType").on_create(OnCreate::Copy),
        ],
        metadata: Metadata::AllOtherFields,
        // The layout could be written; the owner forbids it (see `owner`).
        write: Write::Back,
    }],
    write_stamp: None,
    expiry_from_jwt: false,
    owner: Some(&CLAUDE_CODE_CLI),
};

/// Codex CLI's `auth.json` (`$CODEX_HOME`, default `~/.codex/`): `auth_mode` (`chatgpt` or
/// `apikey`), `OPENAI_API_KEY`, `tokens: {id_token, access_token, refresh_token, account_id}`,
/// `last_refresh` (ISO 8601). Codex keeps no expiry. Its keychain item (service `Codex Auth`)
/// holds the same JSON.
pub static CODEX: FileFormat = FileFormat {
    id: "codex",
    label: "Codex's auth.json",
    location: Location::CodexHome("auth.json"),
    shared: &[
        Field::text("auth_mode", "authMode"),
        Field::text("last_refresh", "lastRefresh"),
    ],
    entries: &[
        Entry {
            names: &["codex", "openai-codex"],
            at: At::Key("tokens"),
            kind: CredentialKind::OAuth,
            fields: &[
                Field::optional_secret("id_token", ID_TOKEN),
                Field::secret("access_token", ACCESS_TOKEN),
                Field::optional_secret("refresh_token", REFRESH_TOKEN),
                Field::text("account_id", "accountId").on_create(OnCreate::Copy),
            ],
            metadata: Metadata::Listed,
            write: Write::Back,
        },
        Entry {
            names: &["openai"],
            at: At::Root,
            kind: CredentialKind::ApiKey,
            // Empty or null after a ChatGPT login.
            fields: &[Field::secret_or_empty("OPENAI_API_KEY", API_KEY)],
            metadata: Metadata::Listed,
            write: Write::Never("Codex's OPENAI_API_KEY is not written back"),
        },
    ],
    write_stamp: Some("last_refresh"),
    expiry_from_jwt: true,
    owner: Some(&CODEX_CLI),
};

/// The fields of the `oauth_creds.json` Qwen Code, MiniMax and Gemini CLI keep: `access_token`,
/// `refresh_token`, `token_type` (`Bearer`), `expiry_date` (epoch ms), and optionally
/// `resource_url` (Qwen's API host), `id_token`, `scope` (Gemini CLI, space-separated).
const OAUTH_CREDS: &[Field] = &[
    Field::secret("access_token", ACCESS_TOKEN),
    Field::optional_secret("refresh_token", REFRESH_TOKEN),
    Field::optional_secret("id_token", ID_TOKEN),
    Field::expiry("expiry_date", TimeUnit::EpochMs),
    Field::text("token_type", "tokenType").on_create(OnCreate::CopyOr("Bearer")),
    Field::text("resource_url", "resourceUrl").on_create(OnCreate::Copy),
    Field::text("scope", "scope"),
];

/// Qwen Code's `~/.qwen/oauth_creds.json`: credential `qwen`.
pub static QWEN: FileFormat = FileFormat {
    id: "qwen",
    label: "Qwen Code's oauth_creds.json",
    location: Location::Home(".qwen/oauth_creds.json"),
    shared: &[],
    entries: &[Entry {
        names: &["qwen"],
        at: At::Root,
        kind: CredentialKind::OAuth,
        fields: OAUTH_CREDS,
        metadata: Metadata::Listed,
        write: Write::Back,
    }],
    write_stamp: None,
    expiry_from_jwt: false,
    owner: Some(&QWEN_CODE_CLI),
};

/// MiniMax's `~/.minimax/oauth_creds.json`: credential `minimax`.
pub static MINIMAX: FileFormat = FileFormat {
    id: "minimax",
    label: "MiniMax's oauth_creds.json",
    location: Location::Home(".minimax/oauth_creds.json"),
    shared: &[],
    entries: &[Entry {
        names: &["minimax"],
        at: At::Root,
        kind: CredentialKind::OAuth,
        fields: OAUTH_CREDS,
        metadata: Metadata::Listed,
        write: Write::Back,
    }],
    write_stamp: None,
    expiry_from_jwt: false,
    owner: Some(&MINIMAX_CLI),
};

/// Gemini CLI's `~/.gemini/oauth_creds.json`: credential `gemini` (alias `gemini-cli`).
pub static GEMINI_CLI: FileFormat = FileFormat {
    id: "gemini-cli",
    label: "Gemini CLI's oauth_creds.json",
    location: Location::Home(".gemini/oauth_creds.json"),
    shared: &[],
    entries: &[Entry {
        names: &["gemini", "gemini-cli"],
        at: At::Root,
        kind: CredentialKind::OAuth,
        fields: OAUTH_CREDS,
        metadata: Metadata::Listed,
        write: Write::Back,
    }],
    write_stamp: None,
    expiry_from_jwt: false,
    owner: Some(&GEMINI_CLI_OWNER),
};

/// OpenClaw's legacy `<stateDir>/credentials/oauth.json`: `{"<provider>": {"access", "refresh",
/// "expires"}}`, one OAuth credential per provider, named after it. An entry added by a
/// write-back goes at the end.
pub static OPENCLAW_OAUTH: FileFormat = FileFormat {
    id: "openclaw-oauth",
    label: "OpenClaw's credentials/oauth.json",
    location: Location::StateDir("credentials/oauth.json"),
    shared: &[],
    entries: &[Entry {
        names: &[],
        at: At::EveryRootKey {
            name_as: "provider",
        },
        kind: CredentialKind::OAuth,
        fields: &[
            Field::secret("access", ACCESS_TOKEN),
            Field::optional_secret("refresh", REFRESH_TOKEN),
            Field::expiry("expires", TimeUnit::EpochMs),
        ],
        metadata: Metadata::Listed,
        write: Write::Never(OPENCLAW_LEGACY_READ_ONLY),
    }],
    write_stamp: None,
    expiry_from_jwt: false,
    // Not a CLI's: OpenClaw's own retired file, read-only here (see `OPENCLAW_LEGACY_READ_ONLY`
    // and `chain::openclaw_owned_token_expired`).
    owner: None,
};

/// Why OpenClaw's retired JSON stores (`credentials/oauth.json`, `agents/<id>/agent/
/// auth-profiles.json`) are never written here: OpenClaw 2026.9 imported them into its SQLite
/// store and owns the tokens there; refreshing or rewriting the copy would spend the single-use
/// refresh token OpenClaw's store still holds.
pub const OPENCLAW_LEGACY_READ_ONLY: &str = "OpenClaw's retired JSON store: OpenClaw imported it into its SQLite store and owns these tokens, so this package reads it and never refreshes or writes it (sign in again with `openclaw models auth login --provider <provider>`)";
