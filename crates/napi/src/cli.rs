//! `runCli`: the `openclaw-vault` command line, for the JS shim in `bin/`.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use super::args::{arg, take};
use super::error::spawn;

use openclaw_vault_cli::{run, CliIo};

/// Runs the `openclaw-vault` command line with `argv` (without `node` and the script) on the
/// process's own stdin, stdout, stderr and environment, and resolves to its exit code. Used by
/// `bin/openclaw-vault.js`; see the README's CLI section.
#[napi(
    js_name = "runCli",
    ts_args_type = "argv: Array<string>",
    ts_return_type = "Promise<number>"
)]
pub fn run_cli<'env>(env: &'env Env, argv: Unknown) -> Result<PromiseRaw<'env, Unknown<'env>>> {
    let argv: Vec<String> = take!(env, arg(argv, "argv", "an array of strings"));
    spawn(
        env,
        async move {
            let mut io = CliIo::process();
            Ok::<_, vault_client::VaultError>(run(argv, &mut io).await)
        },
        |env, code| env.to_js_value(&code),
    )
}
