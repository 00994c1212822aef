//! `runCli`: the `openclaw-vault` command line, for the JS shim in `bin/`.

use napi_derive::napi;

use openclaw_vault_cli::{run, CliIo};

/// Runs the `openclaw-vault` command line with `argv` (without `node` and the script) on the
/// process's own stdin, stdout, stderr and environment, and resolves to its exit code. Used by
/// `bin/openclaw-vault.js`; see the README's CLI section.
#[napi(js_name = "runCli")]
pub async fn run_cli(argv: Vec<String>) -> i32 {
    let mut io = CliIo::process();
    run(argv, &mut io).await
}
