// Which copy `get` / `getCredential` answers for a value OpenClaw still keeps itself (issue 10,
// attack 7 findings 2, 3 and 5): a team store entry (no apply replaces it with a ref), an auth
// profile and a channel token while `--rewrite-config` has not run. The REAL `openclaw` CLI
// (2026.9.6) makes the state and changes the values, the REAL Vault (dev server) holds the copies.
// - OpenClaw changed the value after `migrate` copied it (`secrets store set`, `models auth
//   paste-api-key`, `config set`): Vault never held the new value, so OpenClaw's live copy is
//   answered, with one warning per name naming where, never the value;
// - Vault moved on (a rotation written there) while OpenClaw's copy is an older version: Vault's
//   value is answered, with a warning that OpenClaw still uses the older one;
// - Vault's history cannot tell (the older version destroyed): Vault's value, with a warning;
// - `fallback: "none"`: Vault only, OpenClaw's copy is not read.
import assert from 'node:assert/strict'
import { execFile, spawn, spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { CredentialStore, VaultClient } from '../index.js'
import { removeTree, startVault, uniquePrefix, vaultFetch } from './support/vault-server.mjs'
import { openclawEnv, openclawInstall, openclawOk, openclawScript, removeTempDirs } from './support/openclaw-state.mjs'

const { nativeExecutable } = createRequire(import.meta.url)('../bin/native.js')
const native = nativeExecutable()
assert.ok(native, 'the native executable is missing: run `node scripts/build-native.mjs`')

const V = {
  store1: 'sk-FAKE-live-store-secret-0001',
  store2: 'sk-FAKE-live-store-secret-rotated-0002',
  openai1: 'sk-proj-FAKE-live-openai-manual-0003',
  openai2: 'sk-proj-FAKE-live-openai-manual-pasted-0004',
  telegram1: '777001:FAKE-live-telegram-token-0005',
  telegram2: '777002:FAKE-live-telegram-token-new-0006',
  groq1: 'gsk_FAKE-live-groq-0007',
  groqVault: 'gsk_FAKE-live-groq-rotated-in-vault-0008',
  mistral1: 'FAKE-live-mistral-0009-aaaaaaaaaaaa',
  mistralVault: 'FAKE-live-mistral-rotated-0010-bbbbbbbb',
  otherLocal: 'sk-FAKE-live-other-local-0011',
  dotenv1: 'sk-proj-FAKE-live-dotenv-0013',
  dotenv2: 'sk-proj-FAKE-live-dotenv-changed-0014',
  envTelegram: '777003:FAKE-live-telegram-in-dotenv-0015',
  telegram3: '777004:FAKE-live-telegram-recreated-0016',
  gateway: 'gwtok-FAKE-live-gateway-0017',
  gatewayMain: 'gwtok-FAKE-live-gateway-main-0019',
  gatewayEnv: 'gwtok-FAKE-live-gateway-env-0020',
  envGateway: 'gwtok-FAKE-live-gateway-in-dotenv-0018',
  otherVault: 'sk-FAKE-live-other-vault-0012',
}
let vault
let client
let state
let prefix
let stopped = false
const dirs = []
const audit = () => join(state, 'audit.jsonl')
const envFor = (extra = {}, s = state) =>
  openclawEnv({
    state: s,
    vault,
    env: { OPENCLAW_VAULT_PREFIX: prefix, OPENCLAW_VAULT_AUDIT_LOG: audit(), ...extra },
  })

function tempDir(name) {
  const d = mkdtempSync(join(tmpdir(), `ocv-live-${name}-`))
  chmodSync(d, 0o700)
  dirs.push(d)
  return d
}

const openclaw = (args, input) => openclawOk(args, { state, vault, input })

function assertNoSecret(text, what) {
  for (const v of [...Object.values(V), vault.token]) assert.ok(!text.includes(v), `${what} holds a secret value`)
}

/** `openclaw-vault get <name> --reveal --json`: `{ value, provider, stderr }`. */
function get(name, extra) {
  const r = spawnSync(native, ['get', name, '--reveal', '--json'], {
    cwd: state,
    env: envFor(extra),
    encoding: 'utf8',
    timeout: 60000,
  })
  assert.equal(r.status, 0, `get ${name}: ${r.stderr}`)
  assertNoSecret(r.stderr, `get ${name}'s stderr`)
  const json = JSON.parse(r.stdout)
  return {
    value: json.value ?? json.secrets?.apiKey ?? json.secrets?.token,
    provider: json.source?.provider,
    stderr: r.stderr,
  }
}

/** `get` without blocking the event loop (a child of this process holds a lock meanwhile). */
function getAsync(name) {
  return new Promise((resolve, reject) => {
    execFile(
      native,
      ['get', name, '--reveal', '--json'],
      { cwd: state, env: envFor(), timeout: 60000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`get ${name}: ${stderr}`))
        assertNoSecret(stderr, `get ${name}'s stderr`)
        const json = JSON.parse(stdout)
        resolve({ value: json.value ?? json.secrets?.apiKey, provider: json.source?.provider, stderr })
      },
    )
  })
}

/** The Vault path (under the mount) `migrate` wrote `name` to. */
let planned
const vaultPath = (name) => {
  const item = planned.find((i) => i.name === name)
  assert.ok(item, `${name} was not planned: ${planned.map((i) => i.name)}`)
  return item.vaultPath.slice(item.vaultPath.indexOf('/') + 1)
}

before(async () => {
  vault = await startVault()
  client = new VaultClient({ addr: vault.addr, token: vault.token, renew: false })
  prefix = uniquePrefix('live')
  state = tempDir('state')
  openclaw(['channels', 'add', '--channel', 'telegram', '--token', V.telegram1])
  openclaw(['config', 'set', 'gateway.auth.mode', 'token'])
  openclaw(['config', 'set', 'gateway.auth.token', V.gatewayMain])
  openclaw(['secrets', 'store', 'set', 'MY_SECRET', '--kind', 'secret', '--value-file', '-'], V.store1)
  openclaw(['models', 'auth', 'paste-api-key', '--provider', 'openai', '--profile-id', 'openai:manual'], V.openai1)
  openclaw(['models', 'auth', 'paste-api-key', '--provider', 'groq', '--profile-id', 'groq:work'], V.groq1)
  openclaw(['models', 'auth', 'paste-api-key', '--provider', 'mistral', '--profile-id', 'mistral:work'], V.mistral1)
  // The state-dir .env OpenClaw loads: a provider key (migrated as `openai@dotenv`) and a channel
  // token that differs from openclaw.json's (which OpenClaw uses).
  writeFileSync(join(state, '.env'), `OPENAI_API_KEY=${V.dotenv1}\nTELEGRAM_BOT_TOKEN=${V.envTelegram}\n`, {
    mode: 0o600,
  })
  const r = spawnSync(native, ['migrate', '--yes', '--json'], {
    cwd: state,
    env: { ...envFor(), TMPDIR: tempDir('tmp') },
    encoding: 'utf8',
    timeout: 300000,
  })
  assert.equal(r.status, 0, r.stderr)
  assertNoSecret(r.stdout + r.stderr, 'migrate')
  planned = JSON.parse(r.stdout).plan.items
})

after(async () => {
  if (vault && prefix && !stopped) await removeTree(vault, prefix)
  await vault?.stop()
  removeTempDirs(dirs)
})

describe('a name OpenClaw now reads through a ref', () => {
  test("a `.env` line for the same setting is never taken for OpenClaw's copy once openclaw.json holds the ref", async () => {
    const s2 = tempDir('state-ref')
    const ownPrefix = uniquePrefix('live-ref')
    const oc = (args) => openclawOk(args, { state: s2, vault })
    oc(['config', 'set', 'gateway.auth.mode', 'token'])
    oc(['config', 'set', 'gateway.auth.token', V.gateway])
    writeFileSync(join(s2, '.env'), `OPENCLAW_GATEWAY_TOKEN=${V.envGateway}\n`, { mode: 0o600 })
    const run = (args) =>
      spawnSync(native, args, {
        cwd: s2,
        env: { ...envFor({ OPENCLAW_VAULT_PREFIX: ownPrefix }, s2), TMPDIR: tempDir('tmp') },
        encoding: 'utf8',
        timeout: 300000,
      })
    const m = run(['migrate', '--yes', '--rewrite-config', '--openclaw', openclawScript(tempDir('cli'))])
    assert.equal(m.status, 0, m.stderr)
    assertNoSecret(m.stdout + m.stderr, 'migrate')
    const config = JSON.parse(readFileSync(join(s2, 'openclaw.json'), 'utf8'))
    assert.equal(config.gateway.auth.token.provider, 'openclaw-vault', 'OpenClaw did not write the ref')
    const r = run(['get', 'gateway', '--reveal', '--json'])
    assert.equal(r.status, 0, r.stderr)
    assertNoSecret(r.stderr, 'get gateway')
    const got = JSON.parse(r.stdout)
    assert.equal(
      got.value ?? got.secrets?.token,
      V.gateway,
      "the .env line was answered, not the value OpenClaw's ref reads",
    )
    assert.doesNotMatch(r.stderr, /OpenClaw changed its own copy/)
    await removeTree(vault, ownPrefix)
  })
})

describe('migrate after a rotation in Vault', () => {
  test("the local value is an older version of Vault's: a conflict naming that version, never overwritten, even with --overwrite (attack 10, F4)", async () => {
    const s3 = tempDir('state-rotated')
    const ownPrefix = uniquePrefix('live-rotated')
    const env = { ...envFor({ OPENCLAW_VAULT_PREFIX: ownPrefix }, s3), TMPDIR: tempDir('tmp') }
    openclawOk(['models', 'auth', 'paste-api-key', '--provider', 'groq', '--profile-id', 'groq:work'], {
      state: s3,
      vault,
      input: V.groq1,
    })
    const migrate = (args) => {
      const r = spawnSync(native, ['migrate', ...args], { cwd: s3, env, encoding: 'utf8', timeout: 300000 })
      assertNoSecret(r.stdout + r.stderr, 'migrate')
      return r
    }
    const first = migrate(['--yes', '--json'])
    assert.equal(first.status, 0, first.stderr)
    const path = JSON.parse(first.stdout)
      .plan.items.find((i) => i.name === 'groq:work')
      .vaultPath.replace(/^[^/]+\//, '')
    await client.write(path, { apiKey: V.groqVault })
    for (const args of [
      ['--yes', '--json'],
      ['--yes', '--overwrite', '--json'],
    ]) {
      const r = migrate(args)
      assert.equal(r.status, 4, r.stderr)
      const item = JSON.parse(r.stdout).report.items.find((i) => i.name === 'groq:work')
      assert.equal(item.outcome, 'conflict', JSON.stringify(item))
      assert.equal(item.olderThanVault, 1, JSON.stringify(item))
      assert.equal((await client.read(path)).data.apiKey, V.groqVault, `${args}: rolled back`)
    }
    assert.match(
      migrate(['--yes', '--overwrite']).stdout,
      /the local value is version 1 of Vault's, which holds a newer one \(rotated since\): left alone, even with --overwrite/,
    )
    // Recreated (history gone): the journal still proves the local value is the one migrate
    // copied, so Vault was written since (attack 11, G1).
    await client.deleteMetadata(path)
    await client.write(path, { apiKey: V.groqVault })
    for (const args of [
      ['--yes', '--json'],
      ['--yes', '--overwrite', '--json'],
    ]) {
      const r = migrate(args)
      assert.equal(r.status, 4, r.stderr)
      const item = JSON.parse(r.stdout).report.items.find((i) => i.name === 'groq:work')
      assert.equal(item.outcome, 'conflict', JSON.stringify(item))
      assert.equal(item.vaultWrittenSince, true, JSON.stringify(item))
      assert.equal((await client.read(path)).data.apiKey, V.groqVault, `${args}: rolled back after a re-creation`)
    }
    const text = migrate(['--yes', '--overwrite'])
    assert.match(
      text.stdout + text.stderr,
      /Vault was written since migrate copied this very value \(its journal says so\): the local value is the older one; left alone, even with --overwrite/,
    )
    assert.doesNotMatch(text.stdout + text.stderr, /rerun with --overwrite/)
    await removeTree(vault, ownPrefix)
  })
})

describe('the live copy of a value OpenClaw still keeps itself', () => {
  test('unchanged since the migration: Vault answers, no warning', () => {
    const got = get('store/MY_SECRET')
    assert.equal(got.value, V.store1)
    assert.equal(got.provider, 'vault')
    assert.doesNotMatch(got.stderr, /OpenClaw's own copy|OpenClaw changed its own copy/)
  })

  test('changed by OpenClaw afterwards (store set, paste-api-key, config set): OpenClaw copy answered, warned once, audited', async () => {
    openclaw(['secrets', 'store', 'set', 'MY_SECRET', '--kind', 'secret', '--value-file', '-'], V.store2)
    openclaw(['models', 'auth', 'paste-api-key', '--provider', 'openai', '--profile-id', 'openai:manual'], V.openai2)
    openclaw(['config', 'set', 'channels.telegram.botToken', V.telegram2])
    writeFileSync(join(state, '.env'), `OPENAI_API_KEY=${V.dotenv2}\nTELEGRAM_BOT_TOKEN=${V.envTelegram}\n`, {
      mode: 0o600,
    })
    const dotenvName = planned.find((i) => i.name.startsWith('openai@')).name
    for (const [name, value] of [
      ['store/MY_SECRET', V.store2],
      ['openai:manual', V.openai2],
      // openclaw.json's token, the one OpenClaw uses, never the .env line
      ['telegram', V.telegram2],
      [dotenvName, V.dotenv2],
    ]) {
      const got = get(name)
      assert.equal(got.value, value, `${name} answered the copy OpenClaw no longer uses`)
      assert.notEqual(got.provider, 'vault', name)
      assert.match(
        got.stderr,
        /OpenClaw changed its own copy after `migrate` copied it to vault \(which still holds what migrate left\)/,
        name,
      )
      assert.equal(got.stderr.match(/OpenClaw changed its own copy/g).length, 1, `${name}: one warning: ${got.stderr}`)
    }
    // The Node binding answers the same.
    const store = new CredentialStore({ env: envFor(), cwd: state })
    const c = await store.getCredential('store/MY_SECRET')
    assert.equal(c.expose(), V.store2)
    assert.notEqual(c.source.provider, 'vault')
    const lines = readFileSync(audit(), 'utf8')
    assert.match(lines, /OpenClaw's live copy at [^"]*: changed after migrate copied it to vault"/)
    assertNoSecret(lines, 'the audit log')
  })

  test('rotated in Vault while OpenClaw keeps the older version: Vault answers, and says OpenClaw still uses the older value', async () => {
    await client.write(vaultPath('groq:work'), { apiKey: V.groqVault })
    const got = get('groq:work')
    assert.equal(got.value, V.groqVault)
    assert.equal(got.provider, 'vault')
    assert.match(got.stderr, /OpenClaw's own copy is an older value \(vault version 1\) and OpenClaw still uses it/)
    assert.doesNotMatch(got.stderr, /--rewrite-config/)
    assert.match(got.stderr, /never with `migrate --overwrite`/)
  })

  test('a setting OpenClaw now reads through a ref to another source (env): Vault answers, with a warning that its copy may be stale (attack 11, G3)', () => {
    const ref = { source: 'env', provider: 'default', id: 'OPENCLAW_GATEWAY_TOKEN' }
    openclawOk(['config', 'set', 'gateway.auth.token', JSON.stringify(ref), '--strict-json'], {
      state,
      vault,
      env: { OPENCLAW_GATEWAY_TOKEN: V.gatewayEnv },
    })
    const got = get('gateway')
    assert.equal(got.value, V.gatewayMain)
    assert.equal(got.provider, 'vault')
    assert.match(got.stderr, /OpenClaw now reads this setting through a SecretRef to another source/)
    assert.match(got.stderr, /gateway\.auth\.token -> env:default:OPENCLAW_GATEWAY_TOKEN/)
  })

  test('a value put in Vault by other means (no migrate journal line for it): Vault answers, OpenClaw copy not read', async () => {
    openclaw(['secrets', 'store', 'set', 'OTHER', '--kind', 'secret', '--value-file', '-'], V.otherLocal)
    await client.write(`${prefix}/credentials/store/OTHER`, { apiKey: V.otherVault })
    const got = get('store/OTHER')
    assert.equal(got.value, V.otherVault)
    assert.equal(got.provider, 'vault')
    assert.doesNotMatch(got.stderr, /OpenClaw's own copy|OpenClaw changed its own copy/)
  })

  test("recreated in Vault with a new value (metadata deleted, a leaked key replaced): Vault's new value, never OpenClaw's old one", async () => {
    // OpenClaw's copy (telegram2) differs from what migrate left (telegram1) AND from Vault's new value.
    const path = vaultPath('telegram')
    await client.deleteMetadata(path)
    await client.write(path, { token: V.telegram3 })
    const got = get('telegram')
    assert.equal(got.value, V.telegram3)
    assert.equal(got.provider, 'vault')
    assert.doesNotMatch(got.stderr, /OpenClaw changed its own copy/)
  })

  test('OpenClaw holds its SQLite store locked: Vault answers at once with a warning, the read is not waited for', async () => {
    // A writer holding OpenClaw's team store locked (node:sqlite of OpenClaw's Node 24).
    const locker = spawn(
      openclawInstall().node,
      [
        '-e',
        `const { DatabaseSync } = require('node:sqlite')
         const db = new DatabaseSync(process.argv[1])
         // Exclusive locking mode: WAL readers wait too (a plain transaction does not stop them).
         db.exec('PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE; UPDATE secret_store_entries SET updated_at_ms = updated_at_ms')
         process.stdout.write('locked\\n')
         process.stdin.on('end', () => { db.exec('ROLLBACK'); db.close() })
         process.stdin.resume()`,
        join(state, 'state', 'openclaw.sqlite'),
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    )
    await new Promise((resolve, reject) => {
      locker.stdout.once('data', resolve)
      locker.once('exit', (code) => reject(new Error(`the locker exited with ${code}`)))
    })
    try {
      const got = await getAsync('store/MY_SECRET')
      assert.equal(got.value, V.store1, "not Vault's value")
      assert.equal(got.provider, 'vault')
      assert.match(got.stderr, /OpenClaw's own copy could not be read within 250 ms \(its store is busy or locked\)/)
    } finally {
      locker.stdin.end()
      await new Promise((resolve) => locker.once('close', resolve))
    }
  })

  test("Vault's history cannot tell (the older version destroyed): Vault answers, with a warning", async () => {
    const path = vaultPath('mistral:work')
    await client.write(path, { apiKey: V.mistralVault })
    await client.destroy(path, [1])
    const got = get('mistral:work')
    assert.equal(got.value, V.mistralVault)
    assert.equal(got.provider, 'vault')
    assert.match(
      got.stderr,
      /OpenClaw's own copy differs from vault's, and vault was written since `migrate` copied it/,
    )
  })

  test('a token that may not read the fingerprint key: Vault answers, and the warning says it cannot tell, not that Vault was written (attack 11, G5)', async () => {
    const policy = `path "secret/data/${prefix}/credentials/*" { capabilities = ["read"] }\npath "secret/metadata/${prefix}/credentials/*" { capabilities = ["read"] }\n`
    const p = await vaultFetch(vault, 'PUT', 'sys/policies/acl/live-nokey', { body: { policy } })
    assert.equal(p.status, 204, p.text)
    const t = await vaultFetch(vault, 'POST', 'auth/token/create', { body: { policies: ['live-nokey'], ttl: '10m' } })
    assert.equal(t.status, 200, t.text)
    const got = get('store/MY_SECRET', { VAULT_TOKEN: t.json.auth.client_token })
    assert.equal(got.value, V.store1)
    assert.equal(got.provider, 'vault')
    assert.match(got.stderr, /this token cannot tell whether vault was written since `migrate` copied it/)
    assert.doesNotMatch(got.stderr, /vault was written since `migrate` copied it: /)
  })

  test('fallback "none": Vault only, OpenClaw copy never read', () => {
    const got = get('store/MY_SECRET', { OPENCLAW_VAULT_FALLBACK: 'none' })
    assert.equal(got.value, V.store1)
    assert.equal(got.provider, 'vault')
    assert.doesNotMatch(got.stderr, /OpenClaw's own copy|OpenClaw changed its own copy/)
  })

  // Last: it stops Vault.
  test("Vault unreachable afterwards: the process that answered OpenClaw's copy goes on answering it, not Vault's last known good value", async () => {
    const store = new CredentialStore({
      env: { ...envFor(), VAULT_MAX_RETRIES: '0' },
      cwd: state,
      config: { lastKnownGood: { enabled: true, path: join(state, 'lkg.bin') } },
    })
    // Vault is read first (its value kept in the last-known-good file), then OpenClaw's copy answers.
    const before = await store.getCredential('store/MY_SECRET')
    assert.equal(before.expose(), V.store2)
    assert.ok(readFileSync(join(state, 'lkg.bin')).length > 0, "Vault's value was not kept")
    await vault.stop()
    stopped = true
    const during = await store.getCredential('store/MY_SECRET', { noCache: true })
    assert.equal(during.expose(), V.store2, "Vault's older kept value was served during the outage")
    assert.equal(during.stale, false)
  })
})
