// Builds what the tests, demo and benchmark need: the native addon and the native `openclaw-vault`
// executable (into npm/<platform>/ by scripts/build-native.mjs), both in Cargo's `release` profile
// (what ships) or, with --test (`npm test`), in `test-release` (release without fat LTO, see
// Cargo.toml); the fault proxy (the same profile); and the Vault server (cached outside the
// repo by tools/vault-server/build.sh). Cargo and the build script make repeated runs cheap.
import { execFileSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { buildNative } from './build-native.mjs'
import { ensureOpenClaw } from './ensure-openclaw.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] })
const target = 'x86_64-unknown-linux-gnu'

const test = process.argv.includes('--test')
// `npm test`: Cargo's `test-release` profile (release without fat LTO, see Cargo.toml); the demo
// and the benchmarks build what ships. The fault proxy follows, so it shares their dependencies.
const profile = test ? ['--profile', 'test-release'] : ['--release']

if (process.env.OPENCLAW_VAULT_SKIP_BUILD !== '1') {
  run(process.execPath, [
    join(root, 'node_modules/@napi-rs/cli/dist/cli.js'),
    'build',
    '--manifest-path',
    join(root, 'crates/napi/Cargo.toml'),
    '--output-dir',
    root,
    '--platform',
    ...profile,
    '--target',
    target,
    // `--test` (npm test): the addon with the kill-at-checkpoint hook the migrate crash tests use.
    // The demo, the benchmarks and `npm run build` (what ships) build without it.
    ...(test ? ['--features', 'test-abort-hook'] : []),
  ])
  // The executable after the addon: the dependencies they share are built once (same profile
  // and target). Always without test features, also for `npm test`.
  buildNative({ target, profile: test ? 'test-release' : 'release' })
  run('cargo', ['build', ...profile, '--target', target, '-p', 'fault-proxy'])
}
if (!process.env.VAULT_TEST_ADDR && !process.env.VAULT_BIN) {
  const bin = execFileSync('bash', [join(root, 'tools/vault-server/build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  process.stderr.write(`vault server: ${bin.trim()}\n`)
}
// The tests' real OpenClaw, Node 24 and OpenClaw's Discord plugin: installed here, with the rest of
// what the tests need, so no test file ever reaches a registry.
if (process.argv.includes('--test')) ensureOpenClaw()
