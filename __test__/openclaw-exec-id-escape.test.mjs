// Agent auth profiles whose id OpenClaw's exec id grammar cannot hold (a space, non-ASCII letters),
// against the REAL `openclaw` CLI (2026.9.6): OpenClaw's own `models auth paste-api-key` makes them,
// `openclaw-vault migrate --rewrite-config` stores them in Vault under their real names and has
// OpenClaw's apply point them at escaped exec ids (`#20`, `#C3#BC`: docs/openclaw-exec-provider.md),
// and OpenClaw's own `secrets audit --check --allow-exec` resolves them through `openclaw-vault resolve`.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'

import { VaultClient } from '../index.js'
import { removeTree, startVault, uniquePrefix } from './support/vault-server.mjs'
import { openclawEnv, openclawScript, removeTempDirs, runOpenClaw } from './support/openclaw-state.mjs'

const { nativeExecutable } = createRequire(import.meta.url)('../bin/native.js')
const native = nativeExecutable()
assert.ok(native, 'the native executable is missing: run `node scripts/build-native.mjs`')
// [agent, provider, key, credential name]: an agent with its own agent dir (its store's keyRef is
// the target) and the main agent (OpenClaw's apply targets models.providers.<provider>.apiKey).
const profiles = {
  'openai:a2 spaced': ['a2', 'openai', 'sk-FAKE-escape-space-0001', 'agents/a2/openai:a2 spaced'],
  'mistral:ünï': ['main', 'mistral', 'sk-FAKE-escape-umlaut-0002', 'mistral:ünï'],
}
let vault
let client
let state
const prefix = uniquePrefix('escape')

before(async () => {
  vault = await startVault()
  client = new VaultClient({ addr: vault.addr, token: vault.token, renew: false })
  state = mkdtempSync(join(tmpdir(), 'ocv-escape-'))
  chmodSync(state, 0o700)
})

after(async () => {
  if (vault) await removeTree(vault, prefix)
  await vault?.stop()
  removeTempDirs([state])
})

const env = () => openclawEnv({ state, vault, env: { OPENCLAW_VAULT_PREFIX: prefix } })

const run = (cmd, args, input) =>
  spawnSync(cmd, args, { cwd: state, env: env(), input, encoding: 'utf8', timeout: 300000 })

const openclaw = (args, input) =>
  runOpenClaw(args, { state, vault, env: { OPENCLAW_VAULT_PREFIX: prefix }, input, timeout: 300000 })

function audit(args = []) {
  const r = openclaw(['secrets', 'audit', '--json', ...args])
  return { code: r.code, report: JSON.parse(r.stdout) }
}

test('profile ids with a space and with non-ASCII letters are migrated and resolve through escaped exec ids', async () => {
  const add = openclaw([
    'agents',
    'add',
    'a2',
    '--non-interactive',
    '--workspace',
    join(state, 'ws-a2'),
    '--agent-dir',
    join(state, 'elsewhere', 'a2-agent'),
  ])
  assert.equal(add.code, 0, `agents add: ${add.stderr}`)
  for (const [id, [agent, provider, key]] of Object.entries(profiles)) {
    const r = openclaw(
      ['models', 'auth', 'paste-api-key', '--provider', provider, '--agent', agent, '--profile-id', id],
      key,
    )
    assert.equal(r.code, 0, `paste-api-key ${id}: ${r.stderr}`)
  }
  const before = audit()
    .report.findings.filter((f) => f.code === 'PLAINTEXT_FOUND')
    .map((f) => f.profileId)
  assert.deepEqual(before.sort(), Object.keys(profiles).sort(), 'OpenClaw reports both profiles as plaintext')

  // A script named `openclaw` running the real CLI (`exec`: the CLI keeps its pid).
  const cli = openclawScript(state, { name: 'openclaw-cli' })
  const m = run(native, ['migrate', '--yes', '--rewrite-config', '--json', '--openclaw', cli])
  for (const [, , key] of Object.values(profiles)) {
    assert.ok(!m.stdout.includes(key) && !m.stderr.includes(key), 'a secret was printed')
  }
  assert.ok(!m.stdout.includes(vault.token) && !m.stderr.includes(vault.token), 'the token was printed')
  assert.equal(m.status, 0, `migrate: ${m.stdout}\n${m.stderr}`)
  assert.doesNotMatch(m.stdout, /not a valid exec SecretRef id|no exec SecretRef id/)
  assert.match(m.stdout, /credentials\/agents\/a2\/openai:a2#20spaced\/apiKey/)
  assert.match(m.stdout, /credentials\/mistral:#C3#BCn#C3#AF\/apiKey/)

  // Vault holds them under their real names; getCredential's name is the profile id.
  for (const [, , key, name] of Object.values(profiles)) {
    const secret = await client.read(`${prefix}/credentials/${name}`)
    assert.ok(secret && Object.values(secret.data).includes(key), `${name} is in Vault under its real name`)
  }

  const judged = audit(['--check', '--allow-exec'])
  assert.equal(judged.code, 0, JSON.stringify(judged.report.findings))
  assert.equal(judged.report.status, 'clean')
  assert.ok(judged.report.resolution.refsChecked >= 2, 'the escaped refs were resolved')
})
