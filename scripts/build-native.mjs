// Builds the native `openclaw-vault` executable (crate crates/cli, no Node-API in it) in release for
// one target, and puts it where that target's npm package ships it: npm/<platform>/openclaw-vault
// (`.exe` on Windows), mode 0755, replaced atomically (a running copy is never written into).
// bin/native.js finds it there in a checkout, and in node_modules/@openclaw/vault-<platform>/
// once published.
//
//   node scripts/build-native.mjs [--target <triple>] [--profile <cargo profile>]
//
// --target defaults to x86_64-unknown-linux-gnu (as `npm run build`), --profile to `release` (what
// ships). Never test features: `npm test` runs the code `npm run build` ships (the migrate crash
// test, which needs the `test-abort-hook` feature, runs in the addon); it builds it with the
// `test-release` profile, release without fat LTO (Cargo.toml). Prints its path.
import { execFileSync } from 'node:child_process'
import { chmodSync, copyFileSync, existsSync, renameSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** napi-rs's npm directory name of each target in package.json `napi.targets`. */
export const PLATFORMS = {
  'x86_64-unknown-linux-gnu': 'linux-x64-gnu',
  'aarch64-unknown-linux-gnu': 'linux-arm64-gnu',
  'x86_64-unknown-linux-musl': 'linux-x64-musl',
  'aarch64-unknown-linux-musl': 'linux-arm64-musl',
  'x86_64-apple-darwin': 'darwin-x64',
  'aarch64-apple-darwin': 'darwin-arm64',
  'x86_64-pc-windows-msvc': 'win32-x64-msvc',
}

/** Builds and places the executable; returns its path under npm/. */
export function buildNative({ target = 'x86_64-unknown-linux-gnu', profile = 'release' } = {}) {
  const platform = PLATFORMS[target]
  if (!platform) throw new Error(`build-native: unknown target ${target} (one of ${Object.keys(PLATFORMS).join(', ')})`)
  const args = [
    'build',
    '--profile',
    profile,
    '--target',
    target,
    '-p',
    'openclaw-vault-cli',
    '--bin',
    'openclaw-vault',
  ]
  // Cargo's own report names the file, wherever CARGO_TARGET_DIR puts it.
  const messages = execFileSync('cargo', [...args, '--message-format=json-render-diagnostics'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let built
  for (const line of messages.split('\n')) {
    if (!line.startsWith('{')) continue
    const m = JSON.parse(line)
    if (m.reason === 'compiler-artifact' && m.target?.kind?.includes('bin') && m.target.name === 'openclaw-vault') {
      built = m.executable
    }
  }
  if (!built || !existsSync(built)) throw new Error('build-native: cargo reported no openclaw-vault executable')
  const dest = join(root, 'npm', platform, target.includes('windows') ? 'openclaw-vault.exe' : 'openclaw-vault')
  const tmp = `${dest}.tmp-${process.pid}`
  copyFileSync(built, tmp)
  // OpenClaw runs an exec provider command only if it is not group- or world-writable.
  chmodSync(tmp, 0o755)
  renameSync(tmp, dest)
  return dest
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--target')
  const target = i > 0 ? process.argv[i + 1] : undefined
  const p = process.argv.indexOf('--profile')
  const profile = p > 0 ? process.argv[p + 1] : undefined
  process.stdout.write(`${buildNative({ target, profile })}\n`)
}
