//! The native `openclaw-vault` executable: the same command line as the npm package's
//! `openclaw-vault` (the shim `bin/openclaw-vault.js` runs this file when the platform package
//! ships it), without Node. OpenClaw runs it directly as an exec SecretRef provider
//! (`command: <this file>`, `args: ["resolve"]`), with no shell, no `PATH` and no `HOME`: nothing
//! here needs either.

use std::ffi::OsString;

use openclaw_vault_cli::{exit, init_logging, run, CliIo};

fn main() {
    // Dies with the npm launcher that started it (see `die_with_launcher`), before anything else.
    openclaw_credentials::run::die_with_launcher(
        std::env::var(openclaw_credentials::run::LAUNCHER_PID_VAR)
            .ok()
            .as_deref(),
    );
    init_logging();
    let code = match utf8_args(std::env::args_os().skip(1)) {
        Ok(args) => runtime_and_run(args),
        Err(position) => {
            // Never echo the argument: it could be a value the user typed by mistake.
            eprintln!(
                "error: the argument at position {position} is not valid UTF-8\n\nFor more information, try '--help'."
            );
            exit::USAGE
        }
    };
    // Exit at once: `run` flushed stdout and stderr, and a worker still blocked (a stdin read, a
    // slow connection past the deadline) must not hold the answer OpenClaw is waiting for.
    std::process::exit(code)
}

/// The arguments as strings, or the 1-based position of the first one that is not UTF-8.
fn utf8_args(args: impl Iterator<Item = OsString>) -> Result<Vec<String>, usize> {
    args.enumerate()
        .map(|(i, a)| a.into_string().map_err(|_| i + 1))
        .collect()
}

/// The same multi-threaded tokio runtime the addon's commands run on (the keychain's Secret
/// Service client needs one), then the command.
fn runtime_and_run(args: Vec<String>) -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("openclaw-vault: cannot start the async runtime: {e}");
            return exit::FAILURE;
        }
    };
    let mut io = CliIo::native();
    runtime.block_on(run(args, &mut io))
}
