// More secrets than OpenClaw hands one exec provider. OpenClaw 2026.9.6 sends one exec provider at
// most 512 distinct ids per resolution (`maxRefsPerProvider`, fixed) and fails that provider above
// it, so `migrate --rewrite-config` spreads its refs over `openclaw-vault`, `openclaw-vault-2`, ...
// The state is made by the real `openclaw` CLI (one `config set --batch-file`, Node 24), judged by
// `openclaw secrets audit --check --allow-exec`, and Vault must hold every value byte-identical.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'

import { VaultClient } from '../index.js'
import { removeTree, root, startVault, uniquePrefix } from './support/vault-server.mjs'
import { openclawEnv, openclawInstall, openclawScript, removeTempDirs, runOpenClaw } from './support/openclaw-state.mjs'

const bin = join(root, 'bin', 'openclaw-vault.js')
let oc
let vault
let client
let state
const prefix = uniquePrefix('many-refs')

const value = (i) => `sk-FAKE-many-refs-${String(i).padStart(4, '0')}`

before(async () => {
  oc = openclawInstall()
  vault = await startVault()
  client = new VaultClient({ addr: vault.addr, token: vault.token, renew: false })
  state = mkdtempSync(join(tmpdir(), 'ocv-many-refs-'))
  chmodSync(state, 0o700)
})

after(async () => {
  if (vault) await removeTree(vault, prefix)
  await vault?.stop()
  removeTempDirs([state])
})

const env = (extra = {}) => openclawEnv({ state, vault, env: extra })

const openclaw = (args) => runOpenClaw(args, { state, vault })

/** `skills.entries.s<from..to-1>.apiKey` as plaintext, written by OpenClaw's own batch `config set`. */
function addSkillKeys(from, to) {
  const batch = []
  for (let i = from; i < to; i++) batch.push({ path: `skills.entries.s${i}.apiKey`, value: value(i) })
  const file = join(state, 'batch.json')
  writeFileSync(file, JSON.stringify(batch), { mode: 0o600 })
  const r = openclaw(['config', 'set', '--batch-file', file])
  rmSync(file)
  assert.equal(r.code, 0, r.stdout + r.stderr)
}

function migrate() {
  const cli = join(state, 'cli', 'openclaw')
  const r = spawnSync(process.execPath, [bin, 'migrate', '--yes', '--json', '--rewrite-config', '--openclaw', cli], {
    env: env({ OPENCLAW_VAULT_PREFIX: prefix, OPENCLAW_VAULT_NODE: oc.node }),
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

function auditClean(refs) {
  const r = openclaw(['secrets', 'audit', '--json', '--check', '--allow-exec'])
  const report = JSON.parse(r.stdout)
  assert.equal(r.code, 0, JSON.stringify(report.findings.slice(0, 5)))
  assert.equal(report.status, 'clean')
  assert.equal(report.resolution.refsChecked, refs)
}

/** Distinct ids per exec provider alias in openclaw.json, as OpenClaw groups them. */
function idsByAlias() {
  const config = JSON.parse(readFileSync(join(state, 'openclaw.json'), 'utf8'))
  const by = {}
  for (const e of Object.values(config.skills.entries)) {
    const ref = e.apiKey
    assert.equal(ref?.source, 'exec', JSON.stringify(ref))
    ;(by[ref.provider] ??= new Set()).add(ref.id)
  }
  return { config, sizes: Object.fromEntries(Object.entries(by).map(([a, s]) => [a, s.size])) }
}

test('600 plaintext keys: refs spread over openclaw-vault (512) and openclaw-vault-2, audit clean; 30 more join openclaw-vault-2', async () => {
  const cliDir = join(state, 'cli')
  spawnSync('mkdir', ['-m', '700', cliDir])
  openclawScript(cliDir)
  addSkillKeys(0, 600)

  const first = migrate()
  assert.equal(first.code, 0, first.out + first.err)
  const aliases = first.json.rewriteConfig.provider.aliases
  assert.deepEqual(
    aliases.map((a) => [a.alias, a.action, a.ids]),
    [
      ['openclaw-vault', 'add', 512],
      ['openclaw-vault-2', 'add', 88],
    ],
  )
  let { config, sizes } = idsByAlias()
  assert.deepEqual(sizes, { 'openclaw-vault': 512, 'openclaw-vault-2': 88 })
  // The same provider definition under both aliases.
  assert.deepEqual(config.secrets.providers['openclaw-vault-2'], config.secrets.providers['openclaw-vault'])
  auditClean(600)

  // Refs already in openclaw.json count: openclaw-vault is full, so new ids join openclaw-vault-2.
  addSkillKeys(600, 630)
  const second = migrate()
  assert.equal(second.code, 0, second.out + second.err)
  ;({ sizes } = idsByAlias())
  assert.deepEqual(sizes, { 'openclaw-vault': 512, 'openclaw-vault-2': 118 })
  auditClean(630)

  // Every value in Vault, byte-identical, where the ref points.
  const entries = JSON.parse(readFileSync(join(state, 'openclaw.json'), 'utf8')).skills.entries
  for (const [key, e] of Object.entries(entries)) {
    const id = e.apiKey.id
    const got = await client.read(id.slice(0, id.lastIndexOf('/')))
    assert.equal(got?.data[id.slice(id.lastIndexOf('/') + 1)], value(Number(key.slice(1))), key)
  }
  for (const r of [first, second]) {
    for (const i of [0, 599, 629])
      assert.ok(!r.out.includes(value(i)) && !r.err.includes(value(i)), 'no secret printed')
  }
})
