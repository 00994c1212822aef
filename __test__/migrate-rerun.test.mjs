// `migrate` run again after a complete `migrate --yes --rewrite-config`, on a state the REAL
// `openclaw` CLI (2026.9.6) made: a telegram token and a gateway token in openclaw.json and an
// agent's own auth profile in its `openclaw-agent.sqlite`. OpenClaw's `secrets apply` replaced
// all three by exec refs to this package's provider; Vault holds the only copies.
// - the agent profile's ref is this package's own: a rerun reports it verified in Vault, never as
//   a source it could not migrate, and exits 0 (4 with a conflict, as the README says);
// - a secret deleted from Vault afterwards (soft delete, metadata delete) is reported by the
//   rerun: what points at it, its Vault path, how to restore it; exit 1, CREDENTIAL_NOT_FOUND,
//   no value printed.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { VaultClient } from '../index.js'
import { removeTree, startVault, uniquePrefix } from './support/vault-server.mjs'
import { openclawEnv, openclawOk, openclawScript, removeTempDirs } from './support/openclaw-state.mjs'

const { nativeExecutable } = createRequire(import.meta.url)('../bin/native.js')
const native = nativeExecutable()
assert.ok(native, 'the native executable is missing: run `node scripts/build-native.mjs`')
const V = {
  telegram: '424242:FAKE-rerun-telegram-token-0001',
  gateway: 'gwtok-FAKE-rerun-gateway-0002',
  agent: 'sk-ant-api03-FAKE-rerun-agent-work-0003',
  brave: 'BSA-FAKE-rerun-brave-0004',
  braveInVault: 'BSA-FAKE-rerun-brave-other-0005',
  openaiShared: 'sk-proj-FAKE-rerun-openai-shared-0006',
  openaiDotenv: 'sk-proj-FAKE-rerun-openai-dotenv-0007',
}
let vault
let client
let state
let prefix
let first
// What `get openai --json` answered before the migration: the bare name's source and value.
let bareBefore
const dirs = []

const envFor = (s) => openclawEnv({ state: s, vault, env: { OPENCLAW_VAULT_PREFIX: prefix } })

function tempDir(name) {
  const d = mkdtempSync(join(tmpdir(), `ocv-rerun-${name}-`))
  chmodSync(d, 0o700)
  dirs.push(d)
  return d
}

const openclaw = (args, input) => {
  openclawOk(args, { state, vault, env: { OPENCLAW_VAULT_PREFIX: prefix }, input })
}

/** `openclaw-vault get <name> --reveal`: the value, and with --json the source. */
function get(name) {
  const r = spawnSync(native, ['get', name, '--reveal', '--json'], {
    cwd: state,
    env: envFor(state),
    encoding: 'utf8',
    timeout: 60000,
  })
  assert.equal(r.status, 0, `get ${name}: ${r.stderr}`)
  return JSON.parse(r.stdout)
}

function migrate(args) {
  const r = spawnSync(native, ['migrate', ...args], {
    cwd: state,
    env: { ...envFor(state), TMPDIR: tempDir('tmp') },
    encoding: 'utf8',
    timeout: 300000,
  })
  for (const v of [...Object.values(V), vault.token]) {
    assert.ok(!`${r.stdout}${r.stderr}`.includes(v), 'a secret was printed')
  }
  let json = null
  try {
    json = JSON.parse(r.stdout)
  } catch {
    // text output
  }
  return { code: r.status, out: r.stdout, err: r.stderr, json }
}

/** The Vault path (under the mount) of the exec ref at `segments` of openclaw.json. */
function refPath(...segments) {
  const config = JSON.parse(readFileSync(join(state, 'openclaw.json'), 'utf8'))
  const ref = segments.reduce((v, k) => v[k], config)
  assert.equal(ref.provider, 'openclaw-vault', JSON.stringify(ref))
  return ref.id.slice(0, ref.id.lastIndexOf('/'))
}

before(async () => {
  vault = await startVault()
  client = new VaultClient({ addr: vault.addr, token: vault.token, renew: false })
  prefix = uniquePrefix('rerun')
  state = tempDir('state')
  openclaw(['channels', 'add', '--channel', 'telegram', '--token', V.telegram])
  openclaw(['config', 'set', 'gateway.auth.mode', 'token'])
  openclaw(['config', 'set', 'gateway.auth.token', V.gateway])
  // A shared profile (written while there is one agent) and a .env key for the same provider.
  openclaw(['models', 'auth', 'paste-api-key', '--provider', 'openai'], V.openaiShared)
  openclaw(['agents', 'add', 'work', '--non-interactive', '--workspace', join(state, 'ws-work'), '--json'])
  openclaw(
    ['models', 'auth', 'paste-api-key', '--provider', 'anthropic', '--profile-id', 'anthropic:work', '--agent', 'work'],
    V.agent,
  )
  writeFileSync(join(state, '.env'), `OPENAI_API_KEY=${V.openaiDotenv}\n`, { mode: 0o600 })
  // `--rewrite-config` runs the real CLI through a script named `openclaw` (`exec`: same pid).
  const bin = openclawScript(tempDir('cli'))
  bareBefore = get('openai')
  first = migrate(['--yes', '--rewrite-config', '--openclaw', bin, '--json'])
  assert.equal(
    first.code,
    0,
    JSON.stringify({ ...first.json, plan: { ...first.json?.plan, items: undefined } }) + first.err,
  )
})

after(async () => {
  if (vault && prefix) await removeTree(vault, prefix)
  await vault?.stop()
  removeTempDirs(dirs)
})

describe('migrate rerun after --rewrite-config', () => {
  test('the bare provider name answers what it answered before (the shared profile, not the .env key); the .env key has its own path', () => {
    // Before: the shared auth store answers `openai` from its profile (files before env).
    assert.equal(
      bareBefore.value ?? bareBefore.secrets?.apiKey,
      V.openaiShared,
      JSON.stringify(Object.keys(bareBefore)),
    )
    const names = first.json.plan.items.map((i) => i.name)
    assert.ok(!names.includes('openai'), `the bare name was planned with another source's value: ${names}`)
    const dotenv = first.json.plan.items.find((i) => i.name.startsWith('openai@'))
    assert.ok(dotenv, `the .env key was not planned under its own name: ${names}`)
    assert.ok(
      first.json.plan.items.some((i) => i.name === 'openai:manual' || i.name.endsWith('/openai:manual')),
      `the shared profile was not planned under its id: ${names}`,
    )
    // After --rewrite-config the profile holds a ref: the bare name is read through it from Vault.
    const after = get('openai')
    assert.equal(after.value ?? after.secrets?.apiKey, V.openaiShared)
    assert.equal(get(dotenv.name).value ?? get(dotenv.name).secrets?.apiKey, V.openaiDotenv)
  })

  test('the refs it wrote (the agent profile included) are verified in Vault, not a source error: exit 0, then 4 with a conflict', async () => {
    const agentDb = readFileSync(join(state, 'agents', 'work', 'agent', 'openclaw-agent.sqlite'))
    assert.ok(agentDb.includes('openclaw-vault'), 'OpenClaw did not point the agent profile at Vault')
    const again = migrate(['--yes', '--json'])
    assert.equal(again.code, 0, `${again.out}\n${again.err}`)
    // (No keychain on a headless machine: SOURCE_UNAVAILABLE, which never fails a run.)
    assert.deepEqual(
      again.json.plan.sourceErrors.filter((e) => e.code !== 'SOURCE_UNAVAILABLE'),
      [],
    )
    const { total, verified, refs } = again.json.refsInVault
    assert.ok(total >= 3, JSON.stringify(again.json.refsInVault))
    // Every ref listed (the rollback walks them): the agent profile with its agent and name.
    assert.equal(refs.length, total)
    const agentRef = refs.find((r) => r.agentId === 'work')
    assert.ok(agentRef && agentRef.file.endsWith('openclaw-agent.sqlite') && agentRef.inVault, JSON.stringify(refs))
    assert.ok(
      refs.some((r) => r.jsonPath === 'channels.telegram.botToken' && r.name === 'telegram'),
      JSON.stringify(refs),
    )
    assert.equal(verified, total)
    const text = migrate(['--yes'])
    assert.equal(text.code, 0, text.err)
    assert.doesNotMatch(text.err, /not migrated|UNSUPPORTED_OPERATION/)
    assert.match(text.out, new RegExp(`${total} of ${total} OpenClaw refs to Vault .* verified in Vault`))

    // A new plaintext whose Vault path already holds another value: the documented conflict code.
    openclaw(['config', 'set', 'skills.entries.weather.apiKey', V.brave])
    const dry = migrate(['--dry-run', '--json'])
    const item = dry.json.plan.items.find((i) => i.targets.some((t) => t.jsonPath === 'skills.entries.weather.apiKey'))
    assert.ok(item, JSON.stringify(dry.json.plan.items))
    const [, rel] = item.vaultPath.match(/^[^/]+\/(.*)$/)
    await client.write(rel, { apiKey: V.braveInVault })
    const conflict = migrate(['--yes', '--json'])
    assert.equal(conflict.code, 4, `${conflict.out}\n${conflict.err}`)
    assert.equal(conflict.json.report.counts.conflict, 1)
  })

  test('backups of openclaw.json holding migrated plaintext are listed (paths only), and --remove-backups deletes exactly those whose secrets are all in Vault', async () => {
    const bakNames = () => readdirSync(state).filter((n) => n.startsWith('openclaw.json.bak'))
    const holdsSecret = (n) => {
      const text = readFileSync(join(state, n), 'utf8')
      return [V.telegram, V.gateway, V.openaiShared].some((v) => text.includes(v))
    }
    const leaking = bakNames().filter(holdsSecret).sort()
    assert.ok(leaking.length > 0, `OpenClaw's apply left no backup with plaintext: ${bakNames()}`)
    const r = migrate(['--yes', '--json'])
    const listed = r.json.plaintextLeftBehind.map((b) => b.file).sort()
    assert.deepEqual(
      listed,
      leaking.map((n) => join(state, n)),
    )
    for (const b of r.json.plaintextLeftBehind)
      assert.ok(b.jsonPaths.includes('channels.telegram.botToken'), JSON.stringify(b))
    const text = migrate(['--yes'])
    assert.match(
      text.err,
      /backup\(s\) of openclaw\.json still hold plaintext .*\n(?:  .*openclaw\.json\.bak.*\n)+hint: .*--remove-backups/,
    )

    // A secret gone from Vault (or different there) while a backup holds it: that backup may be
    // its last copy. --remove-backups keeps it (exit 1, the path named), no "values are in Vault".
    const gatewayPath = refPath('gateway', 'auth', 'token')
    await client.deleteMetadata(gatewayPath)
    const all = bakNames().sort()
    const gone = migrate(['--yes', '--remove-backups', '--json'])
    assert.equal(gone.code, 1, `${gone.out}\n${gone.err}`)
    assert.deepEqual(bakNames().sort(), all)
    assert.deepEqual(gone.json.removedBackups, [])
    assert.deepEqual(gone.json.keptBackups.map((b) => b.file).sort(), listed)
    for (const b of gone.json.keptBackups) {
      assert.equal(b.code, 'CREDENTIAL_NOT_FOUND')
      assert.deepEqual(b.notInVault, ['gateway.auth.token'])
    }
    const hintless = migrate(['--yes'])
    assert.doesNotMatch(hintless.err, /values are in Vault|pass --remove-backups/)
    assert.match(
      hintless.err,
      /warning \[CREDENTIAL_NOT_FOUND\]: .*openclaw\.json\.bak.* is kept: its plaintext at gateway\.auth\.token is in no version in Vault/,
    )
    await client.write(gatewayPath, { token: `${V.gateway}-other` })
    const differs = migrate(['--yes', '--remove-backups', '--json'])
    assert.equal(differs.code, 1, differs.err)
    assert.deepEqual(bakNames().sort(), all)
    // A value written in Vault after the backup is newer: the backup's value is never written back.
    assert.equal(differs.json.unwrittenBeforeApply, undefined)
    assert.equal((await client.read(gatewayPath)).data.token, `${V.gateway}-other`)
    await client.write(gatewayPath, { token: V.gateway })

    const keep = bakNames().filter((n) => !holdsSecret(n))
    const removed = migrate(['--yes', '--remove-backups', '--json'])
    assert.deepEqual(removed.json.removedBackups.map((b) => b.file).sort(), listed)
    assert.deepEqual(bakNames().filter(holdsSecret), [])
    assert.deepEqual(bakNames(), keep)
    assert.ok(existsSync(join(state, 'openclaw.json')))
    assert.deepEqual(migrate(['--yes', '--json']).json.plaintextLeftBehind, [])
  })

  test('a secret deleted from Vault after its copy became a ref is reported with its target, path and restore, exit 1', async () => {
    const telegramPath = refPath('channels', 'telegram', 'botToken')
    const gatewayPath = refPath('gateway', 'auth', 'token')
    await client.delete(telegramPath)
    await client.deleteMetadata(gatewayPath)

    const r = migrate(['--yes', '--json'])
    assert.equal(r.code, 1, `${r.out}\n${r.err}`)
    const problems = r.json.refsInVault.problems
    assert.equal(problems.length, 2, JSON.stringify(problems))
    const soft = problems.find((p) => p.jsonPath === 'channels.telegram.botToken')
    assert.equal(soft.code, 'CREDENTIAL_NOT_FOUND')
    assert.equal(soft.state, 'soft_deleted')
    assert.equal(soft.vaultPath, `secret/${telegramPath}`)
    assert.match(soft.restore, new RegExp(`vault kv undelete -versions=1 -mount=secret ${telegramPath}`))
    const gone = problems.find((p) => p.jsonPath === 'gateway.auth.token')
    assert.equal(gone.code, 'CREDENTIAL_NOT_FOUND')
    assert.equal(gone.state, 'missing')
    assert.equal(gone.vaultPath, `secret/${gatewayPath}`)
    assert.match(gone.restore, /openclaw\.json\.bak\*.*Rollback/)

    const text = migrate(['--yes'])
    assert.equal(text.code, 1)
    assert.match(
      text.err,
      new RegExp(
        `error \\[CREDENTIAL_NOT_FOUND\\]: .*openclaw\\.json channels\\.telegram\\.botToken points at secret/${telegramPath} field token, which is not in Vault`,
      ),
    )
    assert.match(text.err, /gateway\.auth\.token points at .* nothing to undelete/)
  })
})
