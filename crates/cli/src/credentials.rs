//! `get`, `put` and `list`: the credential chain from the command line.

use std::io::{Read, Write};
use std::path::PathBuf;

use clap::Args;
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use zeroize::Zeroizing;

use super::{exit, fail, CliIo};
use openclaw_credentials::chain::GetOptions;
use openclaw_credentials::credential::{
    Credential, CredentialInput, CredentialKind, CredentialVersion, SourceGroup,
};
use openclaw_credentials::error::{Error, ErrorCode};
use openclaw_credentials::layers::LayerContext;
use openclaw_credentials::providers::files::formats::cli_owner;
use openclaw_credentials::providers::keychain;

/// The largest value `put` reads (a credential, not a file store).
const MAX_PUT_BYTES: u64 = 1024 * 1024;

/// Arguments of `get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// Credential name (`anthropic`, `telegram`, `openai`, `anthropic:work`, ...).
    pub name: String,
    /// Print the secret value (the main field, or the one named by --field).
    #[arg(long)]
    pub reveal: bool,
    /// With --reveal: which secret field to print (apiKey, token, accessToken, refreshToken, ...).
    #[arg(long, requires = "reveal")]
    pub field: Option<String>,
    /// Ask only these source groups, in this order (vault, keychain, files, env; comma-separated).
    #[arg(long = "source", value_delimiter = ',')]
    pub sources: Vec<String>,
    /// The agent whose Vault layer is asked first (`<prefix>/agents/<id>/credentials/<name>`);
    /// over `agent` in openclaw-vault.json. See docs/layers.md.
    #[arg(long)]
    pub agent: Option<String>,
    /// The team whose Vault layer is asked after the agent's
    /// (`<prefix>/teams/<team>/credentials/<name>`); over `team` in openclaw-vault.json.
    #[arg(long)]
    pub team: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `put`.
#[derive(Debug, Args)]
pub struct PutArgs {
    /// Credential name.
    pub name: String,
    /// Read the value from this file (else from stdin). Never from the command line, where it
    /// would land in shell history and `ps`.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// The input is a JSON object of fields (`{"accessToken": ..., "refreshToken": ...,
    /// "expiresAt": ...}`) instead of one raw value.
    #[arg(long = "from-json")]
    pub from_json: bool,
    /// Kind of a raw value: api_key (default), token, oauth (the value is the access token).
    #[arg(long, default_value = "api_key")]
    pub kind: String,
    /// Where to write: a source id (`vault` default when configured, `keychain`).
    #[arg(long = "to")]
    pub to: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only these source groups (vault, keychain, files, env; comma-separated).
    #[arg(long = "source", value_delimiter = ',')]
    pub sources: Vec<String>,
    /// The agent whose Vault layer is asked first (`<prefix>/agents/<id>/credentials/<name>`);
    /// over `agent` in openclaw-vault.json. See docs/layers.md.
    #[arg(long)]
    pub agent: Option<String>,
    /// The team whose Vault layer is asked after the agent's
    /// (`<prefix>/teams/<team>/credentials/<name>`); over `team` in openclaw-vault.json.
    #[arg(long)]
    pub team: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

fn parse_groups(values: &[String]) -> Result<Option<Vec<SourceGroup>>, Error> {
    if values.is_empty() {
        return Ok(None);
    }
    values
        .iter()
        .map(|v| {
            SourceGroup::parse(v.trim()).ok_or_else(|| {
                // Named by flag, not quoted: a mistyped argv value can be a pasted secret.
                Error::invalid_argument(
                    "--source: the value is not a source group (expected vault, keychain, files or env)",
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// `{"cli", "renew"}` of the CLI that owns credential `name` read from `provider`, or null.
fn owner_json(provider: &str, name: &str) -> Value {
    cli_owner(provider, name).map_or(Value::Null, |o| json!({"cli": o.cli, "renew": o.renew}))
}

/// `--agent`/`--team`, checked (errors name the flag).
fn layer_flags(agent: &Option<String>, team: &Option<String>) -> Result<LayerContext, Error> {
    LayerContext::new(agent.clone(), team.clone(), "--agent", "--team")
}

/// The non-secret view of a credential (what `get` prints without --reveal); `source.layer`
/// only when the read named an agent or a team.
pub fn describe(credential: &Credential, stale: bool) -> Value {
    let mut view = describe_plain(credential, stale);
    if let Some(layer) = &credential.source.layer {
        view["source"]["layer"] = Value::String(layer.clone());
    }
    view
}

fn describe_plain(credential: &Credential, stale: bool) -> Value {
    json!({
        "name": credential.name,
        "kind": credential.kind.as_str(),
        "source": {
            "provider": credential.source.provider,
            "group": credential.source.group.as_str(),
            "location": credential.source.location,
            "owner": owner_json(credential.source.provider, &credential.name),
        },
        "expiresAt": credential.expires_at,
        "fields": credential.secrets.names().collect::<Vec<_>>(),
        "metadata": credential.metadata,
        "stale": stale,
    })
}

/// `get <name>`.
pub async fn get(args: GetArgs, io: &mut CliIo) -> i32 {
    let order = match parse_groups(&args.sources) {
        Ok(o) => o,
        Err(e) => return fail(io, args.json, &e),
    };
    let layers = match layer_flags(&args.agent, &args.team) {
        Ok(l) => l,
        Err(e) => return fail(io, args.json, &e),
    };
    let store = match io.open_store() {
        Ok(s) => s,
        Err(e) => return fail(io, args.json, &e),
    };
    let options = GetOptions {
        order,
        layers,
        ..GetOptions::default()
    };
    let resolved = match store.chain.get(&args.name, &options).await {
        Ok(r) => r,
        Err(e) => return fail(io, args.json, &not_found_without_name(e)),
    };
    let credential = &resolved.credential;
    if !args.reveal {
        let view = describe(credential, resolved.stale);
        if args.json {
            let _ = writeln!(io.stdout, "{view}");
        } else {
            let _ = writeln!(io.stdout, "name:     {}", credential.name);
            let _ = writeln!(io.stdout, "kind:     {}", credential.kind.as_str());
            let _ = writeln!(
                io.stdout,
                "source:   {} ({})",
                credential.source.provider, credential.source.location
            );
            if let Some(layer) = &credential.source.layer {
                let _ = writeln!(io.stdout, "layer:    {layer}");
            }
            if let Some(o) = cli_owner(credential.source.provider, &credential.name) {
                let _ = writeln!(
                    io.stdout,
                    "owner:    {} (read, never refreshed here; renew with {})",
                    o.cli, o.renew
                );
            }
            if let Some(at) = credential.expires_at {
                let _ = writeln!(io.stdout, "expires:  {}", format_ms(at));
            }
            let names: Vec<&str> = credential.secrets.names().collect();
            let _ = writeln!(
                io.stdout,
                "fields:   {} (values hidden; --reveal prints one)",
                names.join(", ")
            );
            if resolved.stale {
                let _ = writeln!(io.stdout, "stale:    yes (last known good value)");
            }
        }
        return exit::OK;
    }
    let field = args
        .field
        .as_deref()
        .unwrap_or(credential.kind.primary_field());
    let Some(value) = credential.secrets.get(field) else {
        let names: Vec<&str> = credential.secrets.names().collect();
        let e = Error::invalid_argument(format!(
            "--field: credential {:?} has no field {field:?} (it has: {})",
            credential.name,
            names.join(", ")
        ));
        return fail(io, args.json, &e);
    };
    if args.json {
        let mut view = describe(credential, resolved.stale);
        view["value"] = Value::String(value.expose_secret().to_string());
        view["field"] = Value::String(field.to_string());
        let _ = writeln!(io.stdout, "{view}");
    } else {
        let _ = writeln!(io.stdout, "{}", value.expose_secret());
    }
    exit::OK
}

fn format_ms(ms: i64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_seconds(time).to_string()
}

fn read_input(args: &PutArgs, io: &mut CliIo) -> Result<Zeroizing<String>, Error> {
    let (what, mut reader): (String, Box<dyn Read + '_>) = match &args.file {
        Some(path) => (
            path.display().to_string(),
            Box::new(std::fs::File::open(path).map_err(|e| {
                Error::invalid_argument(format!("--file {}: cannot open: {e}", path.display()))
            })?),
        ),
        None => ("stdin".to_string(), Box::new(&mut io.stdin)),
    };
    let mut bytes = Zeroizing::new(Vec::new());
    reader
        .by_ref()
        .take(MAX_PUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::invalid_argument(format!("{what}: cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_PUT_BYTES {
        return Err(Error::invalid_argument(format!(
            "{what}: more than {MAX_PUT_BYTES} bytes; a credential value is expected"
        )));
    }
    let text = String::from_utf8(std::mem::take(&mut *bytes))
        .map_err(|_| Error::invalid_argument(format!("{what}: the value is not UTF-8 text")))?;
    let text = Zeroizing::new(text);
    let trimmed = Zeroizing::new(text.trim_end_matches(['\n', '\r']).to_string());
    if trimmed.is_empty() {
        return Err(Error::invalid_argument(format!(
            "{what}: empty; expected the credential's value"
        )));
    }
    Ok(trimmed)
}

fn credential_from_input(args: &PutArgs, input: &str) -> Result<Credential, Error> {
    let what = match &args.file {
        Some(p) => p.display().to_string(),
        None => "stdin".to_string(),
    };
    let input = if args.from_json {
        CredentialInput::Fields(input)
    } else {
        let kind = CredentialKind::parse(&args.kind)
            .ok_or_else(|| Error::invalid_argument("--kind must be api_key, token or oauth"))?;
        CredentialInput::Value { kind, value: input }
    };
    Credential::from_input(&args.name, input, &what)
}

/// `put <name>`.
pub async fn put(args: PutArgs, io: &mut CliIo) -> i32 {
    let input = match read_input(&args, io) {
        Ok(i) => i,
        Err(e) => return fail(io, args.json, &e),
    };
    let credential = match credential_from_input(&args, &input) {
        Ok(c) => c,
        Err(e) => return fail(io, args.json, &e),
    };
    drop(input);
    let store = match io.open_store() {
        Ok(s) => s,
        Err(e) => return fail(io, args.json, &e),
    };
    match store.chain.put(&credential, args.to.as_deref()).await {
        Ok(version) => {
            let version = match version {
                CredentialVersion::Vault(v) => Some(v),
                _ => None,
            };
            let target = args.to.as_deref().unwrap_or("vault");
            if args.json {
                let body = json!({"name": credential.name, "to": target, "version": version});
                let _ = writeln!(io.stdout, "{body}");
            } else {
                let v = version
                    .map(|v| format!(" (version {v})"))
                    .unwrap_or_default();
                let _ = writeln!(io.stdout, "stored {} in {target}{v}", credential.name);
            }
            exit::OK
        }
        Err(e) => fail(io, args.json, &e),
    }
}

/// `list`.
pub async fn list(args: ListArgs, io: &mut CliIo) -> i32 {
    let order = match parse_groups(&args.sources) {
        Ok(o) => o,
        Err(e) => return fail(io, args.json, &e),
    };
    let layers = match layer_flags(&args.agent, &args.team) {
        Ok(l) => l,
        Err(e) => return fail(io, args.json, &e),
    };
    let store = match io.open_store() {
        Ok(s) => s,
        Err(e) => return fail(io, args.json, &e),
    };
    let listed = store.chain.list_for(order.as_deref(), &layers).await;
    let explicit = order.is_some();
    let counts = |provider: &str| explicit || provider == "vault";
    if args.json {
        let credentials: Vec<Value> = listed
            .credentials
            .iter()
            .map(|c| {
                // `layer` only on sources of a layered listing: other output is unchanged.
                let with_layer = |mut v: Value, layer: &Option<String>| {
                    if let Some(l) = layer {
                        v["layer"] = Value::String(l.clone());
                    }
                    v
                };
                let first = c.answered_by();
                json!({
                    "name": c.name,
                    "sources": c.sources.iter().map(|s| with_layer(json!({"provider": s.provider, "location": s.location, "owner": owner_json(s.provider, &c.name)}), &s.layer)).collect::<Vec<_>>(),
                    "answeredBy": with_layer(json!({"provider": first.provider, "location": first.location}), &first.layer),
                })
            })
            .collect();
        let errors: Vec<Value> = listed
            .errors
            .iter()
            .map(|f| json!({"provider": f.provider, "code": f.error.code(), "message": f.error.message}))
            .collect();
        let _ = writeln!(
            io.stdout,
            "{}",
            json!({"credentials": credentials, "errors": errors})
        );
    } else {
        for c in &listed.credentials {
            let sources: Vec<String> = c
                .sources
                .iter()
                .map(|s| match (cli_owner(s.provider, &c.name), &s.layer) {
                    (Some(o), _) => format!("{} ({}) [owned by {}]", s.provider, s.location, o.cli),
                    (None, Some(layer)) => {
                        format!("{} ({}) [layer {layer}]", s.provider, s.location)
                    }
                    (None, None) => format!("{} ({})", s.provider, s.location),
                })
                .collect();
            let _ = writeln!(io.stdout, "{:<24} {}", c.name, sources.join(", "));
        }
        if listed.credentials.is_empty() && !listed.errors.iter().any(|f| counts(f.provider)) {
            let _ = writeln!(io.stdout, "no credentials found");
        }
        // A keychain this machine does not have (a headless server) is not news unless asked
        // for with --source: `status` says it once.
        for failed in listed
            .errors
            .iter()
            .filter(|f| counts(f.provider) || !keychain::is_absent(&f.error))
        {
            let _ = writeln!(
                io.stderr,
                "{}: source {} failed [{}]: {}",
                if counts(failed.provider) {
                    "error"
                } else {
                    "warning"
                },
                failed.provider,
                failed.error.code(),
                failed.error.message
            );
        }
    }
    // A source that failed is not "no credentials": the listing is incomplete. That is a failure
    // for the sources asked for with `--source`, and for Vault (configured on purpose); a keychain
    // this machine does not have stays a warning in a plain `list`.
    if listed.errors.iter().any(|f| counts(f.provider)) {
        exit::FAILURE
    } else {
        exit::OK
    }
}

/// `get`'s CREDENTIAL_NOT_FOUND without the NAME argument: a secret pasted in its place (a known
/// mistake) would otherwise be printed back, into the scrollback and any log of the terminal. As
/// `run` names only the `--env` position, this names the argument and keeps each source's code
/// (the per-source messages hold the name, the Vault path built from it).
fn not_found_without_name(mut e: Error) -> Error {
    if e.code != ErrorCode::CredentialNotFound {
        return e;
    }
    let tried: Vec<&str> = e
        .errors
        .iter()
        .map(|t| t.split(" (").next().unwrap_or_default())
        .collect();
    e.message = format!(
        "the credential named by the NAME argument was not found in any source (the name is not repeated here, in case a value was pasted in its place); tried: {}",
        if tried.is_empty() {
            "no source is configured for these groups".to_string()
        } else {
            tried.join("; ")
        }
    );
    e.errors.clear();
    e
}
