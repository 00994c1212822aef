// OpenClaw 2026.9's own stores, judged by OpenClaw itself. States are made with the REAL `openclaw`
// CLI (scripts/ensure-openclaw.mjs, Node 24) through its non-interactive commands; its own
// `openclaw secrets audit --json` says which plaintext secrets exist, and `migrate` must find every
// one. Then `migrate --yes --rewrite-config` hands a plan to `openclaw secrets apply`, after which
// `openclaw secrets audit --check --allow-exec` must exit 0 and Vault must hold every value
// byte-identical. Bad input: a missing, too old or failing openclaw CLI, and broken SQLite stores.
import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'

import { VaultClient } from '../index.js'
import { removeTree, root, startVault, uniquePrefix } from './support/vault-server.mjs'
import { nodeDependentOnly, sameOnEveryNode } from './support/node-pass.mjs'
import {
  copyState as copyStateTo,
  openclawEnv,
  openclawInstall,
  openclawScript,
  removeTempDirs,
  runOpenClaw,
  sharedState,
} from './support/openclaw-state.mjs'

const run = promisify(execFile)
const bin = join(root, 'bin', 'openclaw-vault.js')
let oc
let vault
let client
const dirs = []
const prefixes = []

// Every secret the states hold, by what made it (all fake).
const V = {
  anthropic: 'sk-ant-FAKE-stores-anthropic-1111',
  gateway: 'gwtok-FAKE-stores-2222',
  telegram: '123456:FAKE-stores-telegram-3333',
  openai: 'sk-FAKE-stores-openai-4444',
  workAgent: 'sk-or-FAKE-stores-work-5555',
  team: 'store-FAKE-stores-team-6666',
  skill: 'sk-FAKE-stores-skill-7777',
  configOpenai: 'sk-FAKE-stores-config-openai-8888',
  teamEnv: 'store-FAKE-stores-team-env-1010',
  // OpenClaw wants a setup-token of at least 80 characters.
  agentToken: `sk-ant-oat01-FAKE-stores-work-token-${'1212'.repeat(16)}`,
  ghToken: 'ghp_FAKE_stores_dotenv_1313',
  discord: 'discord-FAKE-stores-bot-9999',
  discordOps: 'discord-FAKE-stores-ops-1414',
}
// Only the rich state holds these.
const RICH_ONLY = ['configOpenai', 'agentToken', 'ghToken', 'discord', 'discordOps']

before(async () => {
  if (nodeDependentOnly) return // every suite here is sameOnEveryNode
  oc = openclawInstall()
  vault = await startVault()
  client = new VaultClient({ addr: vault.addr, token: vault.token, renew: false })
})

after(async () => {
  for (const p of prefixes) if (vault) await removeTree(vault, p)
  await vault?.stop()
  removeTempDirs(dirs)
})

function tempDir(name) {
  const d = mkdtempSync(join(tmpdir(), `ocv-stores-${name}-`))
  chmodSync(d, 0o700)
  dirs.push(d)
  return d
}

// npm offline (support/openclaw-state.mjs): the Discord plugin is linked from the local install.
const envFor = (state, extra = {}) => openclawEnv({ state, vault, env: extra })

/** Runs the real openclaw CLI (Node 24) on `state`; `input` goes to stdin. */
async function openclaw(state, args, { input, env = {} } = {}) {
  return runOpenClaw(args, { state, vault, env, input })
}

async function must(state, args, opts) {
  const r = await openclaw(state, args, opts)
  assert.equal(r.code, 0, `openclaw ${args.join(' ')}: ${r.stdout}\n${r.stderr}`)
  return r
}

/** A state made by OpenClaw's own commands. `rich` adds what OpenClaw's apply cannot migrate
 * losslessly (a config key for openai differing from its profile, an agent profile of the same
 * provider): discovery must still find them. */
async function makeState(name, { rich = false } = {}) {
  const s = tempDir(name)
  await must(s, [
    'onboard',
    '--non-interactive',
    '--accept-risk',
    '--auth-choice',
    'apiKey',
    '--anthropic-api-key',
    V.anthropic,
    '--gateway-auth',
    'token',
    '--gateway-token',
    V.gateway,
    '--skip-health',
    '--skip-skills',
    '--json',
  ])
  await must(s, ['channels', 'add', '--channel', 'telegram', '--token', V.telegram])
  await must(s, ['models', 'auth', 'paste-api-key', '--provider', 'openai'], { input: V.openai })
  await must(s, ['agents', 'add', 'work', '--non-interactive', '--workspace', join(s, 'ws-work'), '--json'])
  // The rich state's agent profile is an openai one too, under its own id (a shared id is
  // written to the shared store).
  const work = rich ? ['--provider', 'openai', '--profile-id', 'openai:work'] : ['--provider', 'openrouter']
  await must(s, ['models', 'auth', 'paste-api-key', ...work, '--agent', 'work'], { input: V.workAgent })
  await must(s, ['secrets', 'store', 'set', 'TEAM_TOKEN', '--kind', 'secret', '--value-file', '-'], { input: V.team })
  await must(s, ['secrets', 'store', 'set', 'TEAM_ENV', '--kind', 'env', '--value-file', '-'], { input: V.teamEnv })
  await must(s, ['config', 'set', 'skills.entries.weather.apiKey', V.skill])
  if (rich) await addDiscord(s)
  // The state-dir .env OpenClaw reads (and its audit scans): the openai key the shared profile
  // also holds, so apply scrubs it there once that profile's value is a ref.
  writeFileSync(join(s, '.env'), `OPENAI_API_KEY=${V.openai}\n${rich ? `GH_TOKEN=${V.ghToken}\n` : ''}`, {
    mode: 0o600,
  })
  // An agent's generated models.json, as OpenClaw materialises a provider's key there (no
  // command of 2026.9.6 wrote one on these states; its audit reports it all the same).
  const modelsJson = join(s, 'agents', 'main', 'agent', 'models.json')
  mkdirSync(dirname(modelsJson), { recursive: true, mode: 0o700 })
  const models = { providers: { anthropic: { baseUrl: 'https://api.anthropic.com', apiKey: V.anthropic, models: [] } } }
  writeFileSync(modelsJson, `${JSON.stringify(models, null, 2)}\n`, { mode: 0o600 })
  if (rich) {
    // An agent's own anthropic token next to the shared anthropic key (item: shared and agent
    // profiles of one provider with different values).
    await must(
      s,
      ['models', 'auth', 'paste-token', '--provider', 'anthropic', '--profile-id', 'anthropic:work', '--agent', 'work'],
      {
        input: V.agentToken,
      },
    )
    await must(s, [
      'config',
      'set',
      '--strict-json',
      'models.providers.openai',
      JSON.stringify({ baseUrl: 'https://api.openai.com/v1', apiKey: V.configOpenai, models: [] }),
    ])
  }
  return s
}

/** Two Discord accounts, as `openclaw channels add` writes them: the first goes to
 * `channels.discord.token`, and the second moves it to `channels.discord.accounts.default.token`
 * next to `accounts.ops.token`. The add needs OpenClaw's Discord plugin; it is linked from the local
 * install (scripts/ensure-openclaw.mjs), never fetched from npm by a test. When the plugin is
 * missing, 2026.9.6 still exits 0 and writes the token nowhere (see the test below), so the state
 * is checked here: a token OpenClaw never wrote cannot be migrated. */
async function addDiscord(s) {
  await must(s, ['plugins', 'install', '--link', '--force', '--accept-capabilities', oc.discordPlugin])
  const r = await must(s, ['channels', 'add', '--channel', 'discord', '--token', V.discord])
  await must(s, ['channels', 'add', '--channel', 'discord', '--account', 'ops', '--token', V.discordOps])
  const accounts = JSON.parse(readFileSync(join(s, 'openclaw.json'), 'utf8')).channels?.discord?.accounts
  assert.deepEqual(
    [accounts?.default?.token, accounts?.ops?.token],
    [V.discord, V.discordOps],
    `OpenClaw did not write the Discord tokens: ${r.stdout.replaceAll(V.discord, '<token>')}`,
  )
}

async function audit(state, args = []) {
  const r = await openclaw(state, ['secrets', 'audit', '--json', ...args])
  return { code: r.code, report: JSON.parse(r.stdout), raw: r.stdout + r.stderr }
}

function migrate(state, prefix, args, env = {}) {
  const r = spawnSync(process.execPath, [bin, 'migrate', ...args], {
    // The resolver OpenClaw runs: under the Node 24 it runs itself (a user-owned file).
    env: envFor(state, { OPENCLAW_VAULT_PREFIX: prefix, OPENCLAW_VAULT_NODE: oc.node, ...env }),
    encoding: 'utf8',
    cwd: state,
    timeout: 300000,
  })
  let json = null
  try {
    json = JSON.parse(r.stdout)
  } catch {
    // left null
  }
  return { code: r.status, out: r.stdout, err: r.stderr, json }
}

/** A script named `openclaw` in its own folder: `body` runs as sh. */
function fakeOpenClaw(body) {
  const d = tempDir('cli')
  const f = join(d, 'openclaw')
  writeFileSync(f, `#!/bin/sh\n${body}\n`, { mode: 0o700 })
  return f
}

/** The real CLI behind a `openclaw` wrapper (the npm package's bin is a Node script); `prelude`
 * runs first (sh). */
const realOpenClaw = (prelude = '') => openclawScript(tempDir('cli'), { prelude })

/** Every file OpenClaw keeps secrets in, as bytes: to show this package wrote none of them. */
function snapshot(state) {
  const files = [
    'openclaw.json',
    'state/openclaw.sqlite',
    'state/openclaw.sqlite-wal',
    'agents/work/agent/openclaw-agent.sqlite',
  ]
  return Object.fromEntries(
    files.filter((f) => existsSync(join(state, f))).map((f) => [f, readFileSync(join(state, f))]),
  )
}

const findings = (report, code = 'PLAINTEXT_FOUND') =>
  report.findings.filter((f) => f.code === code).map((f) => `${f.file} ${f.jsonPath}`)

describe(`openclaw ${'2026.9.6'} stores: discovery judged by its own audit`, sameOnEveryNode, () => {
  let state

  before(async () => {
    state = await makeState('rich', { rich: true })
  })

  test('migrate --dry-run finds every PLAINTEXT_FOUND of `openclaw secrets audit`, plus the team store', async () => {
    const { report } = await audit(state)
    const expected = findings(report)
    // OpenClaw's own view of this state, so a source it adds later fails here.
    assert.ok(expected.length >= 7, report.findings.map((f) => f.jsonPath).join(', '))
    const prefix = uniquePrefix('stores-dry')
    prefixes.push(prefix)
    const r = migrate(state, prefix, ['--dry-run', '--json'])
    assert.equal(r.code, 0, r.err)
    const items = r.json.plan.items
    const targets = items.flatMap((i) => i.targets.map((t) => `${t.file} ${t.jsonPath}`))
    for (const f of expected) assert.ok(targets.includes(f), `not planned: ${f}\nplanned: ${targets.join('\n')}`)
    const store = items.find((i) => i.targets.some((t) => t.storeName === 'TEAM_TOKEN'))
    assert.ok(store, 'the team secret store entry is planned')
    assert.equal(store.name, 'store/TEAM_TOKEN')
    // Lossless: every name and Vault path once; the openai config key and the openai profiles
    // (shared and agent) are different values, each at its own path. The bare name `openai` is
    // the shared store's (it answers `getCredential('openai')` before the config), so nothing is
    // written under it and the config key gets a name of its own.
    const paths = items.map((i) => i.vaultPath)
    assert.equal(new Set(paths).size, paths.length)
    const openaiPaths = items.filter((i) => /openai/.test(i.name)).map((i) => i.name)
    assert.ok(!openaiPaths.includes('openai'), openaiPaths.join(','))
    assert.ok(openaiPaths.includes('openai@openclaw-config'), openaiPaths.join(','))
    assert.ok(openaiPaths.includes('openai:manual'), openaiPaths.join(','))
    assert.ok(openaiPaths.includes('agents/work/openai:work'), openaiPaths.join(','))
    assert.ok(!r.out.includes(V.openai) && !r.err.includes(V.anthropic))
  })

  test('`list` shows the SQLite-held keys, and getCredential reads them', async () => {
    const r = spawnSync(process.execPath, [bin, 'list', '--json'], { env: envFor(state), encoding: 'utf8', cwd: state })
    assert.equal(r.status, 0, r.stderr)
    const names = JSON.parse(r.stdout).credentials.map((c) => c.name)
    for (const n of ['anthropic:default', 'openai:manual', 'agents/work/openai:work', 'store/TEAM_TOKEN']) {
      assert.ok(names.includes(n), `${n} not in ${names.join(',')}`)
    }
    assert.ok(!r.stdout.includes(V.anthropic))
  })

  // Review finding: `list` showed `openai` from openclaw.json while `get openai` answered with the
  // SQLite profile's key (the store did not list bare provider names its `get` answers).
  test('`list` says which source answers each name, and `get` answers from exactly that one', async () => {
    const prefix = uniquePrefix('stores-answers')
    prefixes.push(prefix)
    const vaultTelegram = '123456:FAKE-stores-vault-telegram-9999'
    await client.write(`${prefix}/credentials/telegram`, { token: vaultTelegram })
    const env = envFor(state, { OPENCLAW_VAULT_PREFIX: prefix })
    const cli = (args) => spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', cwd: state })
    const l = cli(['list', '--json'])
    assert.equal(l.status, 0, l.stderr)
    const listed = JSON.parse(l.stdout).credentials
    assert.ok(listed.length >= 8, l.stdout)
    for (const c of listed) {
      assert.deepEqual(c.answeredBy, { provider: c.sources[0].provider, location: c.sources[0].location })
      const g = cli(['get', c.name, '--json'])
      assert.equal(g.status, 0, `${c.name}: ${g.stdout}${g.stderr}`)
      const got = JSON.parse(g.stdout).source
      assert.deepEqual({ provider: got.provider, location: got.location }, c.answeredBy, c.name)
    }
    // The bare `openai` is the SQLite profile OpenClaw uses, not openclaw.json's different key,
    // in both; `telegram` is Vault's, before openclaw.json's.
    const openai = listed.find((c) => c.name === 'openai')
    assert.equal(openai.answeredBy.provider, 'openclaw-auth-store', JSON.stringify(openai))
    assert.ok(
      openai.sources.some((s) => s.provider === 'openclaw-config'),
      JSON.stringify(openai),
    )
    assert.equal(cli(['get', 'openai', '--reveal']).stdout.trim(), V.openai)
    assert.equal(listed.find((c) => c.name === 'telegram').answeredBy.provider, 'vault')
    assert.equal(cli(['get', 'telegram', '--reveal']).stdout.trim(), vaultTelegram)
    assert.ok(!l.stdout.includes(V.openai) && !l.stdout.includes(vaultTelegram))
  })

  test('PINNED: shared and agent profiles of one provider with different values keep exactly these findings after migrate --rewrite-config', async () => {
    // OpenClaw 2026.9.6's apply cannot target the shared store: its only route there is the
    // provider's config key (models.providers.<p>.apiKey), which scrubs every static profile of
    // <p> in every store, and any profile left (an agent's ref included) makes audit report the
    // config ref REF_SHADOWED. So no plan is both lossless and clean for such a provider: the
    // plan keeps these in place, says why, and the values are in Vault. A future OpenClaw that
    // can target the shared store makes this test fail: then plan those too.
    const before = await audit(state)
    const prefix = uniquePrefix('stores-pinned')
    prefixes.push(prefix)
    const r = migrate(state, prefix, ['--yes', '--json', '--rewrite-config', '--openclaw', realOpenClaw()])
    assert.equal(r.code, 0, r.out + r.err)
    const rel = (f) => f.split(`${state}/`).join('')
    const kept = r.json.rewriteConfig.kept.map((k) => `${rel(k.file)} ${k.jsonPath}`).sort()
    assert.deepEqual(kept, [
      'openclaw.json models.providers.openai.apiKey',
      'state/openclaw.sqlite profiles.anthropic:default.key',
      'state/openclaw.sqlite profiles.openai:manual.key',
    ])
    for (const k of r.json.rewriteConfig.kept) assert.ok(k.reason.length > 20, k.reason)
    const after = await audit(state, ['--check', '--allow-exec'])
    const left = after.report.findings.map((f) => `${f.code} ${rel(f.file)} ${f.jsonPath}`).sort()
    assert.deepEqual(left, [
      'PLAINTEXT_FOUND .env $env.GH_TOKEN',
      // Its value is the kept shared profile's, so apply had no migrated value to scrub it for.
      'PLAINTEXT_FOUND .env $env.OPENAI_API_KEY',
      'PLAINTEXT_FOUND agents/main/agent/models.json providers.anthropic.apiKey',
      'PLAINTEXT_FOUND openclaw.json models.providers.openai.apiKey',
      'PLAINTEXT_FOUND state/openclaw.sqlite profiles.anthropic:default.key',
      'PLAINTEXT_FOUND state/openclaw.sqlite profiles.openai:manual.key',
    ])
    assert.ok(findings(before.report).length > left.length)
    // Lossless: every value of the state is in Vault, byte-identical, at its plan path.
    const inVault = []
    for (const i of r.json.plan.items) {
      const got = await client.read(i.vaultPath.replace(/^secret\//, ''))
      assert.ok(got, i.vaultPath)
      for (const f of i.fields) inVault.push(got.data[f])
    }
    for (const [k, v] of Object.entries(V)) assert.ok(inVault.includes(v), `${k} not in Vault`)
    for (const v of Object.values(V)) assert.ok(!r.out.includes(v) && !r.err.includes(v), 'no secret printed')
  })
})

describe('migrate --rewrite-config through `openclaw secrets apply`', sameOnEveryNode, () => {
  let state
  let pristine

  before(async () => {
    pristine = await sharedState('plain', () => makeState('plain'))
  })

  /** A fresh copy of the pristine state (openclaw.json names the agent dirs absolutely). */
  const copyState = (name) => copyStateTo(pristine, tempDir(name))

  test('a missing openclaw CLI: a clear error, OpenClaw\u2019s files untouched, Vault holds the values', async () => {
    state = copyState('nocli')
    const before = snapshot(state)
    const prefix = uniquePrefix('stores-nocli')
    prefixes.push(prefix)
    const r = migrate(state, prefix, ['--yes', '--json', '--rewrite-config'], { PATH: '/nonexistent' })
    assert.equal(r.code, 1, r.out + r.err)
    assert.equal(r.json.rewriteConfig.error.code, 'INVALID_CONFIG')
    assert.match(r.json.rewriteConfig.error.message, /openclaw CLI was not found on PATH/)
    assert.deepEqual(snapshot(state), before)
    assert.ok(r.json.report.items.length > 0)
    for (const v of Object.values(V)) assert.ok(!r.out.includes(v) && !r.err.includes(v), 'no secret printed')
  })

  test('a too old openclaw CLI is refused before anything is applied', async () => {
    state = copyState('oldcli')
    const before = snapshot(state)
    const prefix = uniquePrefix('stores-old')
    prefixes.push(prefix)
    const cli = fakeOpenClaw('echo "OpenClaw 2026.3.1 (abc1234)"')
    const r = migrate(state, prefix, ['--yes', '--json', '--rewrite-config', '--openclaw', cli])
    assert.equal(r.code, 1, r.out + r.err)
    assert.match(r.json.rewriteConfig.error.message, /too old: OpenClaw 2026\.3\.1/)
    assert.deepEqual(snapshot(state), before)
  })

  test('a plan OpenClaw rejects (its resolver check fails): the error names it, nothing changed', async () => {
    state = copyState('reject')
    const config = readFileSync(join(state, 'openclaw.json'))
    const before = findings((await audit(state)).report)
    const prefix = uniquePrefix('stores-reject')
    prefixes.push(prefix)
    // The real CLI, but the exec provider it runs reaches no Vault: apply validates and refuses.
    const cli = realOpenClaw('export VAULT_ADDR=http://127.0.0.1:9')
    const r = migrate(state, prefix, ['--yes', '--json', '--rewrite-config', '--openclaw', cli])
    assert.equal(r.code, 1, r.out + r.err)
    assert.match(r.json.rewriteConfig.error.message, /secrets apply failed: exit code 1/)
    // The plan was a temporary file, removed with the step (only --plan-out keeps one).
    assert.equal(r.json.rewriteConfig.planFile, undefined)
    const planFile = /\(plan (\S+\.json)\)/.exec(r.json.rewriteConfig.error.message)?.[1]
    assert.ok(planFile && !existsSync(planFile), r.json.rewriteConfig.error.message)
    // OpenClaw keeps its own bookkeeping in the databases when it runs; what matters is that every
    // plaintext secret is still where it was and the config is byte-identical.
    assert.deepEqual(readFileSync(join(state, 'openclaw.json')), config)
    assert.deepEqual(findings((await audit(state)).report), before)
    for (const v of Object.values(V)) assert.ok(!r.out.includes(v) && !r.err.includes(v), 'no secret printed')
  })

  test('--plan-out only writes the plan (0600): exec provider upsert and one target per secret', async () => {
    state = copyState('planout')
    const before = snapshot(state)
    const prefix = uniquePrefix('stores-planout')
    prefixes.push(prefix)
    const planFile = join(state, 'plan.json')
    const r = migrate(state, prefix, ['--yes', '--json', '--rewrite-config', '--plan-out', planFile])
    assert.equal(r.code, 0, r.out + r.err)
    assert.deepEqual(snapshot(state), before)
    assert.equal(statSync(planFile).mode & 0o777, 0o600)
    const plan = JSON.parse(readFileSync(planFile, 'utf8'))
    assert.equal(plan.version, 1)
    const provider = plan.providerUpserts['openclaw-vault']
    assert.equal(provider.source, 'exec')
    assert.ok(provider.timeoutMs > 12000, 'above the resolver\u2019s own 12 s deadline')
    const byPath = Object.fromEntries(plan.targets.map((t) => [t.path, t]))
    assert.equal(byPath['gateway.auth.token'].type, 'gateway.auth.token')
    assert.equal(byPath['profiles.openrouter:manual.key'].agentId, 'work')
    assert.equal(byPath['models.providers.anthropic.apiKey'].providerId, 'anthropic')
    assert.equal(plan.targets.length, new Set(plan.targets.map((t) => t.path)).size)
    for (const v of Object.values(V)) assert.ok(!readFileSync(planFile, 'utf8').includes(v))
  })

  // Issue 10's lost Discord token: `channels add --channel discord` first installs OpenClaw's
  // Discord plugin from npm. When that install fails, OpenClaw 2026.9.6 prints "Plugin install
  // failed", exits 0 and writes the token nowhere, so its audit is clean and there is nothing to
  // migrate: never written, not lost. A registry that refuses connections makes it fail here.
  test('`channels add --channel discord` whose plugin install fails exits 0 and writes the token nowhere', async () => {
    state = copyState('discord-noplugin')
    const token = 'discord-FAKE-stores-never-written-1515'
    const r = await openclaw(state, ['channels', 'add', '--channel', 'discord', '--token', token], {
      env: { npm_config_registry: 'http://127.0.0.1:9' },
    })
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.match(r.stdout + r.stderr, /Plugin install failed/)
    const holders = spawnSync('grep', ['-rlF', token, state], { encoding: 'utf8' })
    assert.equal(holders.stdout, '', `the token is in ${holders.stdout}`)
    const { report } = await audit(state)
    assert.deepEqual(
      findings(report).filter((f) => / channels\.discord\./.test(f)),
      [],
    )
    const prefix = uniquePrefix('stores-noplugin')
    prefixes.push(prefix)
    const m = migrate(state, prefix, ['--dry-run', '--json'])
    assert.equal(m.code, 0, m.err)
    assert.ok(
      !m.json.plan.items.some((i) => /discord/.test(i.name)),
      JSON.stringify(m.json.plan.items.map((i) => i.name)),
    )
    assert.ok(!m.out.includes(token) && !m.err.includes(token))
  })

  test('DONE: migrate --yes --rewrite-config, then `openclaw secrets audit --check --allow-exec` exits 0 and Vault holds every value', async () => {
    state = copyState('done')
    const first = await audit(state)
    assert.ok(findings(first.report).length >= 6, first.raw)
    const prefix = uniquePrefix('stores-done')
    prefixes.push(prefix)
    const r = migrate(state, prefix, ['--yes', '--json', '--rewrite-config', '--openclaw', realOpenClaw()])
    assert.equal(r.code, 0, r.out + r.err)
    assert.ok(r.json.rewriteConfig.applied.changedFiles.length >= 2, JSON.stringify(r.json.rewriteConfig))
    assert.deepEqual(r.json.rewriteConfig.kept, [])
    const after = await audit(state, ['--check', '--allow-exec'])
    assert.equal(after.code, 0, JSON.stringify(after.report.findings))
    assert.equal(after.report.status, 'clean')
    assert.ok(after.report.resolution.refsChecked >= 6)
    // Every value in Vault, byte-identical, at the plan's path (read back through the client).
    const items = r.json.plan.items
    const inVault = []
    for (const i of items) {
      const got = await client.read(i.vaultPath.replace(/^secret\//, ''))
      assert.ok(got, i.vaultPath)
      for (const f of i.fields) inVault.push(got.data[f])
    }
    for (const [k, v] of Object.entries(V)) {
      if (RICH_ONLY.includes(k)) continue
      assert.ok(inVault.includes(v), `${k} not in Vault`)
    }
    for (const v of Object.values(V)) assert.ok(!r.out.includes(v) && !r.err.includes(v), 'no secret printed')
    // Discovery matched OpenClaw's audit before (every PLAINTEXT_FOUND a target of the plan,
    // models.json and .env included), and every one is gone after.
    const planned = items.flatMap((i) => i.targets.map((t) => `${t.file} ${t.jsonPath}`))
    for (const f of findings(first.report)) assert.ok(planned.includes(f), `not planned: ${f}`)
    assert.ok(findings(first.report).includes(`${join(state, '.env')} $env.OPENAI_API_KEY`), first.raw)
    const modelsJson = join(state, 'agents', 'main', 'agent', 'models.json')
    assert.ok(findings(first.report).includes(`${modelsJson} providers.anthropic.apiKey`), first.raw)
    // models.json: one Vault item holds the anthropic key for both places.
    const anthropic = items.filter((i) => i.targets.some((t) => t.file === modelsJson))
    assert.equal(anthropic.length, 1)
    assert.ok(anthropic[0].targets.some((t) => t.jsonPath === 'profiles.anthropic:default.key'))
    assert.equal(JSON.parse(readFileSync(modelsJson, 'utf8')).providers.anthropic.apiKey, 'secretref-managed')
    assert.ok(!readFileSync(join(state, '.env'), 'utf8').includes(V.openai), 'apply scrubbed the .env copy')
    assert.ok(!existsSync(`${modelsJson}.lock`), 'no sidecar lock left')
  })
})

describe('broken SQLite stores (made by OpenClaw, then damaged)', sameOnEveryNode, () => {
  let pristine

  before(async () => {
    pristine = await sharedState('plain', () => makeState('plain'))
  })

  test('an agent moved by the roster (agentDir): only its new store is read and migrated; the old one is named, never read', async () => {
    const s = copyStateTo(pristine, tempDir('moved-agent'))
    const moved = join(s, 'moved-work')
    const config = JSON.parse(readFileSync(join(s, 'openclaw.json'), 'utf8'))
    assert.ok(config.agents?.entries?.work?.agentDir, 'openclaw agents add wrote no agentDir')
    await must(s, ['config', 'set', 'agents.entries.work.agentDir', moved])
    // OpenClaw writes the agent's key into the roster's dir; the old store keeps the old key.
    const newKey = 'sk-or-FAKE-stores-moved-work-1515'
    await must(s, ['models', 'auth', 'paste-api-key', '--provider', 'openrouter', '--agent', 'work'], { input: newKey })
    assert.ok(readFileSync(join(moved, 'openclaw-agent.sqlite')).includes(newKey), 'OpenClaw did not use the agentDir')
    const stale = join(s, 'agents', 'work', 'agent', 'openclaw-agent.sqlite')
    assert.ok(readFileSync(stale).includes(V.workAgent))

    const cli = (args) => spawnSync(process.execPath, [bin, ...args], { env: envFor(s), encoding: 'utf8', cwd: s })
    const listed = JSON.parse(cli(['list', '--json']).stdout).credentials.filter((c) =>
      c.name.startsWith('agents/work/'),
    )
    assert.ok(listed.length > 0, 'the agent store was not read')
    for (const { name } of listed) {
      const r = cli(['get', name, '--reveal', '--json'])
      assert.equal(r.status, 0, r.stderr)
      assert.ok(!r.stdout.includes(V.workAgent), `${name} answered the stale store`)
    }
    const prefix = uniquePrefix('stores-moved')
    prefixes.push(prefix)
    const m = migrate(s, prefix, ['--dry-run', '--json'])
    const targets = m.json.plan.items.flatMap((it) => it.targets.map((t) => t.file))
    assert.ok(!targets.includes(stale), `the stale store was planned: ${targets}`)
    assert.ok(targets.includes(join(moved, 'openclaw-agent.sqlite')), `${targets}`)
    const notes = m.json.plan.sourceErrors.filter((e) => e.message.includes(stale))
    assert.equal(notes.length, 1, JSON.stringify(m.json.plan.sourceErrors))
    assert.equal(notes[0].code, 'SOURCE_UNAVAILABLE')
    assert.match(notes[0].message, /not read and not migrated: agent work has its own agentDir/)
    for (const v of [...Object.values(V), newKey])
      assert.ok(!m.out.includes(v) && !m.err.includes(v), 'no secret printed')
  })

  test('a shared store unreadable for one run: the .env key never takes the bare name its profile answers, then `openai@dotenv`', async () => {
    const s = copyStateTo(pristine, tempDir('unread-shared'))
    const dotenv = 'sk-proj-FAKE-stores-dotenv-other-1616'
    writeFileSync(join(s, '.env'), `OPENAI_API_KEY=${dotenv}\n`, { mode: 0o600 })
    const db = join(s, 'state', 'openclaw.sqlite')
    const saved = ['', '-wal', '-shm'].filter((x) => existsSync(db + x)).map((x) => [db + x, readFileSync(db + x)])
    for (const side of ['-wal', '-shm']) rmSync(db + side, { force: true })
    writeFileSync(db, saved[0][1].subarray(0, Math.floor(saved[0][1].length / 2)))
    const prefix = uniquePrefix('stores-unread')
    prefixes.push(prefix)
    const noSecret = (r) => {
      for (const v of [...Object.values(V), dotenv])
        assert.ok(!r.out.includes(v) && !r.err.includes(v), 'no secret printed')
    }
    const broken = migrate(s, prefix, ['--yes', '--json'])
    noSecret(broken)
    assert.equal(broken.code, 1, broken.err)
    assert.ok(
      !broken.json.plan.items.some((i) => i.name === 'openai'),
      broken.json.plan.items.map((i) => i.name).join(),
    )
    const skip = broken.json.plan.skipped.find((k) => k.name === 'openai')
    assert.ok(skip, JSON.stringify(broken.json.plan.skipped))
    assert.equal(skip.code, 'SOURCE_UNAVAILABLE')
    assert.ok(skip.reason.includes(db), skip.reason)
    assert.match(skip.reason, /migrate again once it can be read/)
    // Repaired: the .env key gets its own name; the bare name stays the profile's.
    for (const [f, bytes] of saved) writeFileSync(f, bytes)
    const repaired = migrate(s, prefix, ['--yes', '--json'])
    noSecret(repaired)
    const names = repaired.json.plan.items.map((i) => i.name)
    assert.ok(names.includes('openai@dotenv'), names.join())
    assert.ok(!names.includes('openai'), names.join())
    assert.equal(await client.read(`${prefix}/credentials/openai`), null)
    const got = spawnSync(process.execPath, [bin, 'get', 'openai', '--reveal', '--json'], {
      env: envFor(s, { OPENCLAW_VAULT_PREFIX: prefix }),
      encoding: 'utf8',
      cwd: s,
    })
    assert.equal(got.status, 0, got.stderr)
    const answer = JSON.parse(got.stdout)
    assert.equal(answer.value ?? answer.secrets?.apiKey, V.openai)
  })

  test('the .env key keeps its name `openai@dotenv` when an unrelated config key changes; a value already planned is written once (attack 7, finding 7)', async () => {
    const s = copyStateTo(pristine, tempDir('name-shift'))
    const dotenv = 'sk-proj-FAKE-stores-dotenv-shift-1717'
    writeFileSync(join(s, '.env'), `OPENAI_API_KEY=${dotenv}\n`, { mode: 0o600 })
    const prefix = uniquePrefix('stores-shift')
    prefixes.push(prefix)
    const names = (r) => r.json.plan.items.map((i) => i.name)
    const first = migrate(s, prefix, ['--yes', '--json'])
    assert.ok(names(first).includes('openai@dotenv'), names(first).join())
    const cfg = 'sk-proj-FAKE-stores-config-shift-1818'
    const set = await openclaw(s, ['config', 'set', 'models.providers.openai.apiKey', cfg])
    assert.equal(set.code, 0, set.stderr)
    const second = migrate(s, prefix, ['--yes', '--json'])
    for (const v of [dotenv, cfg]) assert.ok(!second.out.includes(v) && !second.err.includes(v), 'no secret printed')
    const planned = names(second)
    assert.ok(planned.includes('openai@openclaw-config'), planned.join())
    assert.ok(planned.includes('openai@dotenv'), planned.join())
    assert.ok(!planned.some((n) => /@openclaw-config@/.test(n)), planned.join())
    const dotenvItem = second.json.report.items.find((i) => i.name === 'openai@dotenv')
    assert.ok(['already_migrated', 'already_present'].includes(dotenvItem.outcome), JSON.stringify(dotenvItem))
    // The .env key equal to the config's value: one item, the .env one of its places.
    writeFileSync(join(s, '.env'), `OPENAI_API_KEY=${cfg}\n`, { mode: 0o600 })
    const same = migrate(s, prefix, ['--dry-run', '--json'])
    const withCfg = same.json.plan.items.filter((i) => i.name.startsWith('openai@'))
    assert.deepEqual(
      withCfg.map((i) => i.name),
      ['openai@openclaw-config'],
      JSON.stringify(withCfg.map((i) => i.name)),
    )
  })

  test('a truncated shared database and a newer agent schema: errors name the file, the other sources still read', async () => {
    const s = copyStateTo(pristine, tempDir('broken-copy'))
    // Checkpoint-free copy: drop the WAL so the main file is all there is, then cut it in half.
    const db = join(s, 'state', 'openclaw.sqlite')
    for (const side of ['-wal', '-shm']) rmSync(db + side, { force: true })
    const bytes = readFileSync(db)
    writeFileSync(db, bytes.subarray(0, Math.floor(bytes.length / 2)))
    const agentDb = join(s, 'agents', 'work', 'agent', 'openclaw-agent.sqlite')
    const bump = `const { DatabaseSync } = require('node:sqlite'); const d = new DatabaseSync(${JSON.stringify(agentDb)}); d.exec('PRAGMA user_version = 99'); d.close()`
    const b = spawnSync(oc.node, ['-e', bump], { encoding: 'utf8' })
    assert.equal(b.status, 0, b.stderr)
    const r = spawnSync(process.execPath, [bin, 'list', '--json'], { env: envFor(s), encoding: 'utf8', cwd: s })
    const out = JSON.parse(r.stdout)
    const errors = out.errors.map((e) => `${e.code} ${e.message}`).join('\n')
    assert.match(errors, /openclaw-agent\.sqlite: has a newer schema version \(99\)/)
    assert.match(errors, new RegExp(`INVALID_SOURCE ${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`))
    // openclaw.json is still read.
    assert.ok(
      out.credentials.some((c) => c.name === 'gateway'),
      r.stdout,
    )
    for (const v of Object.values(V)) assert.ok(!r.stdout.includes(v) && !r.stderr.includes(v))
  })
})
