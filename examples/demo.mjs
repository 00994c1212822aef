// The main job in one run (`npm run demo`):
//  1. No Vault configured: getCredential resolves OpenClaw's credentials from a sample HOME of
//     realistic local files (Claude Code, Qwen, Gemini, Codex, OpenClaw's auth profiles, config,
//     .env). Values stay redacted everywhere unless expose() is called.
//  2. A real Vault dev server: `openclaw-vault migrate` moves the sample HOME's secrets into it,
//     getCredential now answers from Vault first (and from its cache), `openclaw-vault resolve`
//     answers a batch of SecretRef ids exactly as released OpenClaw calls it, and when Vault stops
//     the chain serves the last known good value (marked stale) or falls back to the local files.
// DEMO_LOCAL_ONLY=1 stops after part 1 (no Vault build needed).
import { spawnSync } from 'node:child_process'
import { chmodSync, cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'

import { root, startVault } from '../__test__/support/vault-server.mjs'

// The fallback below is expected: keep the addon's warnings out of the demo's output.
process.env.OPENCLAW_VAULT_LOG ??= 'error'
const { CredentialStore, loadConfig } = await import('../index.js')

const mask = (v) => `${v.slice(0, 10)}… (${v.length} chars)`
const bin = join(root, 'bin', 'openclaw-vault.js')

// A private copy of the sample HOME, with the modes the real tools use.
const home = mkdtempSync(join(tmpdir(), 'openclaw-vault-demo-'))
cpSync(join(root, 'examples', 'sample-home'), home, { recursive: true })
const fixModes = (dir) => {
  chmodSync(dir, 0o700)
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) fixModes(join(dir, e.name))
    else chmodSync(join(dir, e.name), 0o600)
  }
}
fixModes(home)

const NAMES = ['anthropic', 'openai', 'telegram', 'discord', 'qwen', 'codex', 'anthropic:work', 'openrouter']

async function show(store, names) {
  for (const name of names) {
    try {
      const c = await store.getCredential(name)
      const value = c.expose()
      console.log(
        `  ${name.padEnd(15)} ${c.kind.padEnd(8)} ${c.source.provider.padEnd(16)} ${mask(value)}${c.stale ? '  [stale]' : ''}`,
      )
    } catch (e) {
      console.log(`  ${name.padEnd(15)} ${e.code}: ${e.message.split('\n')[0]}`)
    }
  }
}

let vault
try {
  console.log(`1. No Vault configured: the local sources of a sample HOME (${home})\n`)
  const local = new CredentialStore({ env: { HOME: home }, cwd: home })
  console.log(`  config file: ${local.configFile}`)
  // This package's own settings sit next to it (OpenClaw rejects unknown keys in openclaw.json).
  console.log(`  settings file: ${loadConfig({ env: { HOME: home }, cwd: home }).settingsFile}`)
  await show(local, NAMES)
  const anthropic = await local.getCredential('anthropic')
  console.log(`\n  JSON.stringify(credential) -> ${JSON.stringify(anthropic).slice(0, 110)}…`)
  console.log(`  \`\${credential.secret('accessToken')}\` -> ${anthropic.secret('accessToken')}`)
  console.log(`  util.inspect(credential.fields) -> ${inspect(anthropic.fields, { breakLength: Infinity })}`)
  const listed = await local.listCredentials()
  console.log(
    `  listCredentials(): ${listed.length} names, e.g. ${listed
      .slice(0, 4)
      .map((c) => `${c.name} (${c.sources.map((s) => s.provider).join(', ')})`)
      .join('; ')}`,
  )

  if (process.env.DEMO_LOCAL_ONLY === '1') process.exit(0)

  console.log('\n2. A Vault dev server')
  vault = await startVault()
  const env = { HOME: home, VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token, PATH: process.env.PATH }
  const cli = (args, input) => spawnSync(process.execPath, [bin, ...args], { env, input, encoding: 'utf8', cwd: home })

  console.log(`\n$ openclaw-vault migrate --yes   (VAULT_ADDR=${vault.addr})`)
  const migrate = cli(['migrate', '--yes'])
  process.stdout.write(
    migrate.stdout
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n'),
  )
  if (migrate.status !== 0) throw new Error(`migrate exited ${migrate.status}: ${migrate.stderr}`)
  const rerun = cli(['migrate', '--yes', '--json'])
  console.log(`\n  a second run changes nothing: exit ${rerun.status}`)

  console.log('\n  getCredential with Vault configured: Vault first')
  const withVault = new CredentialStore({ env: { ...env, VAULT_MAX_RETRIES: '0' }, cwd: home })
  await show(withVault, NAMES.slice(0, 4))
  let t0 = process.hrtime.bigint()
  const n = 100000
  for (let i = 0; i < n; i++) await withVault.getCredential('telegram')
  console.log(`  cached: ${(Number(process.hrtime.bigint() - t0) / n / 1000).toFixed(2)} us per getCredential`)

  console.log('\n$ openclaw-vault resolve   (OpenClaw exec SecretRef provider protocol)')
  const ids = [
    'openclaw/credentials/telegram/token',
    'openclaw/credentials/openai/apiKey',
    'openclaw/credentials/discord/token',
    'openclaw/credentials/nope/apiKey',
  ]
  const request = JSON.stringify({ protocolVersion: 1, provider: 'openclaw-vault', ids })
  console.log(`  stdin:  ${request}`)
  const resolved = cli(['resolve'], request)
  const answer = JSON.parse(resolved.stdout)
  for (const id of Object.keys(answer.values)) answer.values[id] = mask(answer.values[id])
  console.log(`  stdout (values masked here): ${JSON.stringify(answer)}  exit ${resolved.status}`)

  // A store whose cache expires at once: after Vault stops it serves the last known good value.
  const shortCache = new CredentialStore({
    env: { ...env, VAULT_MAX_RETRIES: '0' },
    cwd: home,
    config: { cacheTtlMs: 1 },
  })
  await shortCache.getCredential('telegram')

  console.log('\n  Vault stops:')
  await vault.stop()
  vault = undefined
  t0 = Date.now()
  withVault.clearCache()
  await show(withVault, ['telegram', 'qwen'])
  console.log(`  (a fresh read falls back to the local files; ${Date.now() - t0} ms)`)
  console.log('  a store that had read telegram from Vault serves its last known good value, marked stale:')
  await show(shortCache, ['telegram'])
} finally {
  await vault?.stop()
  rmSync(home, { recursive: true, force: true })
}
