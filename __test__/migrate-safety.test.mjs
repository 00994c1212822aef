// `migrate`'s safety checks, on states made by the REAL `openclaw` CLI (2026.9.6, Node 24) and
// judged by its own `openclaw secrets audit`:
// - an agent whose auth store lives in an `agentDir` of its own is found (OpenClaw's apply walks
//   it and would scrub its key), and when this package's discovery misses a store OpenClaw sees,
//   OpenClaw's audit makes migrate refuse the apply before anything is applied;
// - one migrate per state directory at a time (a run lock), and an apply OpenClaw reports as done
//   is read back: targets without their ref are an error, never exit 0;
// - a wrong VAULT_TOKEN is one INVALID_TOKEN from the preflight, no journal touched; a valid token
//   without `lookup-self` still migrates.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { VaultClient } from '../index.js'
import { removeTree, root, startVault, uniquePrefix, vaultFetch } from './support/vault-server.mjs'
import { nodeDependentOnly, sameOnEveryNode } from './support/node-pass.mjs'
import {
  copyState as copyStateTo,
  openclawEnv,
  openclawInstall,
  openclawOk,
  openclawScript,
  removeTempDirs,
  runOpenClaw,
} from './support/openclaw-state.mjs'

const bin = join(root, 'bin', 'openclaw-vault.js')
let oc
let vault
let client
let pristine
const dirs = []
const prefixes = []

// Every secret the state holds (all fake).
const V = {
  anthropic: 'sk-ant-FAKE-safety-anthropic-1111',
  gateway: 'gwtok-FAKE-safety-2222',
  openai: 'sk-FAKE-safety-openai-3333',
  workbot: 'sk-proj-FAKE-safety-workbot-4444',
}

function tempDir(name) {
  const d = mkdtempSync(join(tmpdir(), `ocv-safety-${name}-`))
  chmodSync(d, 0o700)
  dirs.push(d)
  return d
}

const envFor = (state, extra = {}) => openclawEnv({ state, vault, env: extra })

const openclaw = (state, args, { input, env = {} } = {}) => openclawOk(args, { state, vault, env, input })

function audit(state, args = [], env = {}) {
  const r = runOpenClaw(['secrets', 'audit', '--json', ...args], { state, vault, env })
  return { code: r.code, report: JSON.parse(r.stdout), raw: r.stdout + r.stderr }
}

function migrate(state, prefix, args, env = {}) {
  const r = spawnSync(process.execPath, [bin, 'migrate', ...args], {
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
  for (const v of Object.values(V)) assert.ok(!r.stdout.includes(v) && !r.stderr.includes(v), 'no secret printed')
  return { code: r.status, out: r.stdout, err: r.stderr, json }
}

/** An `openclaw` script in its own folder: `body` runs as sh before the real CLI. */
const openClawWrapper = (body = '') => openclawScript(tempDir('cli'), { prelude: body })

// The agent dir outside the state dir moves along, and the config names the copy's.
const copyState = (name) => copyStateTo(pristine, tempDir(name))

const workbotFindings = (report) =>
  report.findings.filter((f) => f.code === 'PLAINTEXT_FOUND' && f.profileId === 'openai:workbot')

/** The values under `prefix` in Vault (every field of every secret). */
async function valuesInVault(prefix) {
  const out = []
  const walk = async (path) => {
    for (const k of await client.list(path)) {
      if (k.endsWith('/')) await walk(`${path}/${k.slice(0, -1)}`)
      else {
        const got = await client.read(`${path}/${k}`)
        if (got) out.push(...Object.values(got.data))
      }
    }
  }
  await walk(prefix)
  return out
}

before(async () => {
  if (nodeDependentOnly) return // every suite here is sameOnEveryNode
  oc = openclawInstall()
  vault = await startVault()
  client = new VaultClient({ addr: vault.addr, token: vault.token, renew: false })
  const s = tempDir('pristine')
  openclaw(s, [
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
  openclaw(s, ['models', 'auth', 'paste-api-key', '--provider', 'openai'], { input: V.openai })
  // An agent whose auth store is outside `<stateDir>/agents` (issue 10, finding 1).
  openclaw(s, [
    'agents',
    'add',
    'bot',
    '--non-interactive',
    '--workspace',
    join(s, 'ws-bot'),
    '--agent-dir',
    join(s, 'elsewhere', 'bot'),
    '--json',
  ])
  openclaw(
    s,
    ['models', 'auth', 'paste-api-key', '--provider', 'openai', '--agent', 'bot', '--profile-id', 'openai:workbot'],
    {
      input: V.workbot,
    },
  )
  assert.ok(existsSync(join(s, 'elsewhere', 'bot', 'openclaw-agent.sqlite')))
  pristine = s
})

after(async () => {
  for (const p of prefixes) if (vault) await removeTree(vault, p)
  await vault?.stop()
  removeTempDirs(dirs)
})

function newPrefix(name) {
  const p = uniquePrefix(name)
  prefixes.push(p)
  return p
}

describe('auth stores in an agentDir of their own', sameOnEveryNode, () => {
  test('the agent store is found and migrated; OpenClaw\u2019s apply loses no key', async () => {
    const state = copyState('agentdir')
    assert.equal(workbotFindings(audit(state).report).length, 1)
    const prefix = newPrefix('safety-agentdir')
    const r = migrate(state, prefix, ['--yes', '--json', '--rewrite-config', '--openclaw', openClawWrapper()])
    assert.ok(
      r.json.plan.items.some((i) => i.name === 'agents/bot/openai:workbot'),
      JSON.stringify(r.json.plan.items.map((i) => i.name)),
    )
    assert.ok((await valuesInVault(prefix)).includes(V.workbot), 'the workbot key is in Vault')
    // After the apply the profile holds either its plaintext or a ref that resolves: never neither.
    const after = audit(state, ['--allow-exec'])
    assert.equal(after.report.summary.unresolvedRefCount, 0, after.raw)
    const sqlite = join(state, 'elsewhere', 'bot', 'openclaw-agent.sqlite')
    const refs = after.report.findings.filter((f) => f.file === sqlite)
    assert.ok(
      workbotFindings(after.report).length === 1 || (r.code === 0 && refs.length === 0),
      `workbot key neither kept nor referenced: ${after.raw}`,
    )
  })

  test('a store OpenClaw walks but migrate does not see: the apply is refused, nothing applied', async () => {
    const state = copyState('missed')
    // OpenClaw reads a config naming the agent's dir; migrate reads one that does not.
    const cfg = join(state, 'openclaw.json')
    const full = readFileSync(cfg, 'utf8')
    const ocCfg = join(state, 'openclaw-oc.json')
    writeFileSync(ocCfg, full, { mode: 0o600 })
    const parsed = JSON.parse(full)
    const roster = parsed.agents.entries ?? Object.fromEntries(parsed.agents.list.map((a) => [a.id, a]))
    for (const a of Object.values(roster)) delete a.agentDir
    writeFileSync(cfg, JSON.stringify(parsed, null, 2), { mode: 0o600 })
    const cli = openClawWrapper(`OPENCLAW_CONFIG_PATH=${JSON.stringify(ocCfg)}; export OPENCLAW_CONFIG_PATH`)
    const ocBefore = readFileSync(ocCfg)
    const prefix = newPrefix('safety-missed')
    const r = migrate(state, prefix, ['--yes', '--json', '--rewrite-config', '--openclaw', cli])
    assert.notEqual(r.code, 0, r.out + r.err)
    const e = r.json.rewriteConfig.error
    assert.equal(e.code, 'CONFLICT', JSON.stringify(e))
    assert.match(e.message, /openai:workbot/)
    assert.ok(e.message.includes(join(state, 'elsewhere', 'bot', 'openclaw-agent.sqlite')), e.message)
    assert.equal(r.json.rewriteConfig.applied, undefined)
    // Nothing applied: OpenClaw's config is byte-identical and the key is still in its store.
    assert.deepEqual(readFileSync(ocCfg), ocBefore)
    assert.equal(workbotFindings(audit(state, [], { OPENCLAW_CONFIG_PATH: ocCfg }).report).length, 1)
  })
})

describe('one run at a time, and an apply is read back', sameOnEveryNode, () => {
  test('a second migrate on a locked state fails at once with LOCK_TIMEOUT, touching nothing', async () => {
    const state = copyState('locked')
    const lockFile = join(state, 'vault-migrate.flock')
    // Another run holds the lock (util-linux flock(1) takes the same flock(2) lock).
    const holder = spawn('flock', [lockFile, 'sh', '-c', 'echo held; exec sleep 120'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    await new Promise((resolve, reject) => {
      holder.stdout.once('data', resolve)
      holder.once('exit', () => reject(new Error('flock holder exited')))
    })
    try {
      const prefix = newPrefix('safety-locked')
      const r = migrate(state, prefix, ['--yes', '--json', '--rewrite-config', '--openclaw', openClawWrapper()])
      assert.notEqual(r.code, 0)
      assert.equal(r.json.error.code, 'LOCK_TIMEOUT', r.out)
      assert.match(r.json.error.message, /another `openclaw-vault migrate` is running/)
      assert.ok(r.json.error.message.includes(lockFile))
      assert.ok(!existsSync(join(state, 'vault-migrate.journal')), 'no journal')
      assert.deepEqual(await valuesInVault(prefix), [])
    } finally {
      holder.kill('SIGKILL')
    }
  })

  test('an apply OpenClaw reports as done but that left no refs: exit non-zero naming the targets', async () => {
    const state = copyState('rolledback')
    // `secrets apply` claims success without writing anything (what a rolled-back or raced
    // apply looks like from outside); every other command is the real CLI.
    const cli = openClawWrapper(
      `if [ "$1" = secrets ] && [ "$2" = apply ]; then echo '{"changedFiles":[],"warnings":[]}'; exit 0; fi`,
    )
    const prefix = newPrefix('safety-rolledback')
    const r = migrate(state, prefix, ['--yes', '--json', '--rewrite-config', '--openclaw', cli])
    assert.notEqual(r.code, 0, r.out + r.err)
    assert.equal(r.json.rewriteConfig.error.code, 'CONFLICT')
    assert.match(r.json.rewriteConfig.error.message, /do not hold their ref/)
    assert.ok(r.json.rewriteConfig.notApplied.includes('gateway.auth.token'), JSON.stringify(r.json.rewriteConfig))
  })
})

describe('the preflight checks the token', sameOnEveryNode, () => {
  test('a wrong VAULT_TOKEN: one INVALID_TOKEN, no journal written or renamed', async () => {
    const state = copyState('badtoken')
    const journal = join(state, 'vault-migrate.journal')
    writeFileSync(journal, '{"journal":"earlier run"}\n', { mode: 0o600 })
    const before = readdirSync(state).sort()
    const prefix = newPrefix('safety-badtoken')
    const r = migrate(state, prefix, ['--yes', '--json'], { VAULT_TOKEN: 'hvs.FAKE-wrong-token' })
    assert.notEqual(r.code, 0)
    assert.equal(r.json.error.code, 'INVALID_TOKEN', r.out)
    assert.ok(!r.out.includes('hvs.FAKE-wrong-token') && !r.err.includes('hvs.FAKE-wrong-token'))
    assert.equal(r.json.report, undefined, 'no per-credential failures')
    assert.equal(readFileSync(journal, 'utf8'), '{"journal":"earlier run"}\n')
    assert.deepEqual(
      readdirSync(state)
        .filter((f) => f !== 'vault-migrate.flock')
        .sort(),
      before,
    )
  })

  test('a valid token that may not call lookup-self still migrates', async () => {
    const state = copyState('nolookup')
    const prefix = newPrefix('safety-nolookup')
    const ok = async (method, path, body) => {
      const res = await vaultFetch(vault, method, path, { body })
      assert.ok(res.status < 300, `${method} ${path}: ${res.status}`)
      return res.json
    }
    await ok('PUT', 'sys/policies/acl/ocv-safety-nolookup', {
      policy: `path "secret/data/${prefix}/*" { capabilities = ["create", "read", "update"] }\npath "secret/metadata/${prefix}/*" { capabilities = ["read", "list"] }`,
    })
    const t = await ok('POST', 'auth/token/create', {
      policies: ['ocv-safety-nolookup'],
      no_default_policy: true,
      ttl: '10m',
    })
    const token = t.auth.client_token
    const denied = await vaultFetch(vault, 'GET', 'auth/token/lookup-self', { token })
    assert.equal(denied.status, 403, 'the token may not call lookup-self')
    const r = migrate(state, prefix, ['--yes', '--json'], { VAULT_TOKEN: token })
    assert.equal(r.code, 0, r.out + r.err)
    assert.ok((await valuesInVault(prefix)).includes(V.anthropic))
  })
})
