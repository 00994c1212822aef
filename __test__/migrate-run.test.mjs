// `openclaw-vault migrate` that never lies or stalls, redaction placeholders refused on every
// write path, and a headless server kept quiet about its missing keychain. The CLI through its
// Node shim (`bin/openclaw-vault.js`, the binding's runCli) against a real dev server; a closed
// port for an unreachable Vault and the fault proxy for a hung one. Timing is in
// bench/migrate.mjs, never here.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { CredentialStore, VaultClient, VaultError } from '../index.js'
import {
  assertNoLeak,
  freePort,
  removeTree,
  root,
  startFaultProxy,
  startVault,
  uniquePrefix,
} from './support/vault-server.mjs'

const bin = join(root, 'bin', 'openclaw-vault.js')
let vault
let proxy
let client
const homes = []
const prefixes = []

before(async () => {
  vault = await startVault()
  proxy = await startFaultProxy(vault.addr)
  client = new VaultClient({ addr: vault.addr, token: vault.token, renew: false })
})
after(async () => {
  await proxy?.stop()
  for (const p of prefixes) if (vault) await removeTree(vault, p)
  await vault?.stop()
  for (const h of homes) rmSync(h, { recursive: true, force: true })
})

function newPrefix(name) {
  const p = uniquePrefix(name)
  prefixes.push(p)
  return p
}

/** A HOME whose OpenClaw state holds `profiles` in the main agent's auth-profiles.json. */
function homeWith(profiles) {
  const home = mkdtempSync(join(tmpdir(), 'ocv-migrate-run-'))
  homes.push(home)
  const agent = join(home, '.openclaw', 'agents', 'main', 'agent')
  mkdirSync(agent, { recursive: true, mode: 0o700 })
  writeFileSync(join(agent, 'auth-profiles.json'), JSON.stringify({ version: 1, profiles }), { mode: 0o600 })
  return home
}

function apiKeys(n, tag) {
  const profiles = {}
  for (let i = 1; i <= n; i++) {
    profiles[`bench:${tag}${i}`] = { type: 'api_key', provider: 'bench', key: `sk-FAKE-${tag}-${i}-value` }
  }
  return profiles
}

/** The environment of a headless server: no D-Bus session bus anywhere. */
function headless(home) {
  return { HOME: home, PATH: process.env.PATH, XDG_RUNTIME_DIR: join(home, 'no-runtime') }
}

function cli(home, args, { addr = vault.addr, prefix, input, env = {} } = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    env: {
      ...headless(home),
      VAULT_ADDR: addr,
      VAULT_TOKEN: vault.token,
      ...(prefix ? { OPENCLAW_VAULT_PREFIX: prefix } : {}),
      ...env,
    },
    input,
    encoding: 'utf8',
    cwd: home,
  })
  let json = null
  try {
    json = JSON.parse(r.stdout)
  } catch {
    // left null
  }
  return { code: r.status, out: r.stdout, err: r.stderr, json }
}

const journalOf = (home) => join(home, '.openclaw', 'vault-migrate.journal')

function assertNoValues(r, values) {
  for (const v of values) assert.ok(!r.out.includes(v) && !r.err.includes(v), `a value leaked: ${v}`)
}

describe('migrate against an unreachable or hung Vault', () => {
  for (const n of [1, 300]) {
    test(`a closed port: exit 1, one NETWORK error, no journal (${n} secret(s))`, async () => {
      const profiles = apiKeys(n, 'closed')
      const home = homeWith(profiles)
      const addr = `http://127.0.0.1:${await freePort()}`
      const r = cli(home, ['migrate', '--yes'], { addr, prefix: newPrefix('closed') })
      assert.equal(r.code, 1, r.out + r.err)
      assert.equal(r.err.match(/error \[/g)?.length, 1, r.err)
      assert.match(r.err, /error \[NETWORK\]: Vault at http:\/\/127\.0\.0\.1:\d+ is unreachable/)
      assert.match(r.err, /nothing was written/)
      assert.ok(!existsSync(journalOf(home)), 'no journal, so nothing in it claims success')
      assertNoValues(
        r,
        Object.values(profiles).map((p) => p.key),
      )
      const j = cli(home, ['migrate', '--yes', '--json'], { addr, prefix: newPrefix('closed') })
      assert.equal(j.code, 1)
      assert.equal(j.json.error.code, 'NETWORK')
      assert.equal(j.json.report, undefined)
    })
  }

  test('a hung Vault (the fault proxy holds every request): exit 1, one TIMEOUT error, no journal', async () => {
    const profiles = apiKeys(50, 'hung')
    const home = homeWith(profiles)
    await proxy.rule({ action: { type: 'delay', ms: 120000 } })
    try {
      const r = cli(home, ['migrate', '--yes'], { addr: proxy.addr, prefix: newPrefix('hung') })
      assert.equal(r.code, 1, r.out + r.err)
      assert.equal(r.err.match(/error \[/g)?.length, 1, r.err)
      assert.match(r.err, /error \[TIMEOUT\]: Vault at .* did not answer sys\/health within 3 s; nothing was written/)
      assert.ok(!existsSync(journalOf(home)))
      assertNoValues(
        r,
        Object.values(profiles).map((p) => p.key),
      )
    } finally {
      await proxy.clearRules()
    }
  })
})

describe('migrate when Vault is lost in the middle of the run (fault proxy)', () => {
  test('the first unreachable-Vault failure stops the run: one error, the rest "not tried", exit 1; a rerun finishes the job', async () => {
    const profiles = { ...apiKeys(3, 'ok'), ...apiKeys(17, 'lost') }
    const home = homeWith(profiles)
    const prefix = newPrefix('lost')
    // Every request about a `bench:lost*` credential meets a closed connection (the other
    // requests of the run pass): Vault is gone for them, whatever comes first.
    await proxy.rule({
      path: `^/v1/secret/(data|metadata)/${prefix}/credentials/bench(:|%3A)lost`,
      action: { type: 'close' },
    })
    let r
    try {
      r = cli(home, ['migrate', '--yes'], { addr: proxy.addr, prefix })
    } finally {
      await proxy.clearRules()
    }
    assert.equal(r.code, 1, r.out + r.err)
    assertNoValues(
      r,
      Object.values(profiles).map((p) => p.key),
    )
    const rows = r.out
      .slice(r.out.indexOf('Result:'))
      .split('\n')
      .filter((l) => /^ {2}bench:/.test(l))
    assert.equal(rows.length, 20, r.out)
    const failed = rows.filter((l) => /\bfailed\b/.test(l))
    const notTried = rows.filter((l) => /\bnot_tried\b/.test(l))
    assert.equal(failed.length, 1, r.out)
    assert.match(failed[0], /bench:lost\d+ +failed +\[NETWORK\]/)
    assert.ok(
      rows
        .filter((l) => /bench:lost/.test(l))
        .every((l) => l === failed[0] || /not_tried +not tried: Vault was lost/.test(l)),
      r.out,
    )
    assert.equal(notTried.length + rows.filter((l) => /created/.test(l)).length, 19, r.out)
    assert.match(r.out, new RegExp(`, ${notTried.length} not tried \\(journal: `))
    assert.equal(r.err.match(/error \[/g)?.length, 1, r.err)
    assert.match(
      r.err,
      new RegExp(
        `error \\[NETWORK\\]: Vault was lost during the run: .*; ${notTried.length} credential\\(s\\) not tried`,
      ),
    )
    // The journal claims nothing for what was not tried.
    const journaled = readFileSync(journalOf(home), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .filter((l) => l.name)
    assert.ok(
      journaled.every((l) => l.outcome !== 'not_tried'),
      JSON.stringify(journaled),
    )
    assert.equal(journaled.length, 20 - notTried.length, JSON.stringify(journaled))

    // Vault is back: the rerun writes the rest, nothing twice.
    const again = cli(home, ['migrate', '--yes', '--json'], { prefix })
    assert.equal(again.code, 0, again.out + again.err)
    assert.equal(again.json.report.counts.failed, 0)
    assert.equal(again.json.report.counts.notTried, 0)
    assert.equal(again.json.report.counts.verified, 20)
    assert.equal((await client.list(`${prefix}/credentials`)).length, 20)
  })
})

describe('migrate reruns and odd names', () => {
  test('a rerun checks Vault: a path deleted in Vault is written again, not "already migrated"', async () => {
    const home = homeWith({ 'openai:default': { type: 'api_key', provider: 'openai', key: 'sk-FAKE-rerun-openai' } })
    const prefix = newPrefix('rerun')
    const first = cli(home, ['migrate', '--yes', '--json'], { prefix })
    assert.equal(first.code, 0, first.err)
    assert.ok(existsSync(journalOf(home)))
    await client.deleteMetadata(`${prefix}/credentials/openai:default`)
    const again = cli(home, ['migrate', '--yes', '--json'], { prefix })
    assert.equal(again.code, 0, again.err)
    const item = again.json.report.items.find((i) => i.name === 'openai:default')
    assert.equal(item.outcome, 'created')
    assert.equal((await client.read(`${prefix}/credentials/openai:default`)).data.apiKey, 'sk-FAKE-rerun-openai')
  })

  test('odd profile ids (.., spaces, non-ASCII) are skipped or migrated one by one; the run goes on', async () => {
    const home = homeWith({
      '..': { type: 'api_key', provider: 'openai', key: 'sk-FAKE-dotdot' },
      'openai:my key': { type: 'api_key', provider: 'openai', key: 'sk-FAKE-space' },
      'openai:café': { type: 'api_key', provider: 'openai', key: 'sk-FAKE-cafe' },
      'telegram:default': { type: 'token', provider: 'telegram', token: '123:FAKE-telegram' },
    })
    const prefix = newPrefix('odd')
    const r = cli(home, ['migrate', '--yes', '--json'], { prefix })
    // Exit 1: one credential stayed behind, and the report says which and why; not exit 2.
    assert.equal(r.code, 1, r.out + r.err)
    assert.deepEqual(
      r.json.plan.skipped.map((s) => [s.name, s.code]),
      [['..', 'INVALID_ARGUMENT']],
    )
    assert.match(r.json.plan.skipped[0].reason, /cannot be a credential name.*rename it/)
    assert.equal(r.json.report.counts.failed, 0)
    const listed = await client.list(`${prefix}/credentials`)
    for (const name of ['openai:my key', 'openai:café', 'telegram:default']) assert.ok(listed.includes(name), name)
    assert.equal((await client.read(`${prefix}/credentials/openai:café`)).data.apiKey, 'sk-FAKE-cafe')
    assertNoValues(r, ['sk-FAKE-dotdot'])
  })
})

describe('redaction placeholders are never written', () => {
  const placeholders = ['[REDACTED]', '__OPENCLAW_REDACTED__', ' *** ', '<redacted>', 'xoxb-REDACTED']

  test('VaultClient.write and patch reject with INVALID_ARGUMENT and send nothing', async () => {
    const prefix = newPrefix('ph-client')
    for (const p of placeholders) {
      const err = await client.write(`${prefix}/gateway`, { token: p }).catch((e) => e)
      assert.ok(err instanceof VaultError, String(err))
      assert.equal(err.code, 'INVALID_ARGUMENT')
      assert.match(err.message, /redaction placeholder/)
      assert.match(err.message, /\$\.token/)
    }
    const nested = await client.write(`${prefix}/slack`, { oauth: { clientSecret: '***' } }).catch((e) => e)
    assert.equal(nested.code, 'INVALID_ARGUMENT')
    assert.match(nested.message, /\$\.oauth\.clientSecret/)
    assert.equal(await client.read(`${prefix}/gateway`), null)
    assert.equal(await client.read(`${prefix}/slack`), null)

    await client.write(`${prefix}/openai`, { apiKey: 'sk-FAKE-real-openai' })
    const patched = await client.patch(`${prefix}/openai`, { apiKey: '[REDACTED]' }).catch((e) => e)
    assert.equal(patched.code, 'INVALID_ARGUMENT')
    const now = await client.read(`${prefix}/openai`)
    assert.equal(now.data.apiKey, 'sk-FAKE-real-openai')
    assert.equal(now.metadata.version, 1)
    await assertNoLeak(assert, patched, ['sk-FAKE-real-openai'])
  })

  test("a credential's own JSON (secrets print as [REDACTED]) cannot be written back", async () => {
    const prefix = newPrefix('ph-roundtrip')
    await client.write(`${prefix}/credentials/openai`, { kind: 'api_key', apiKey: 'sk-FAKE-roundtrip' })
    const store = new CredentialStore({
      env: {
        HOME: homeWith({}),
        VAULT_ADDR: vault.addr,
        VAULT_TOKEN: vault.token,
        OPENCLAW_VAULT_PREFIX: prefix,
      },
    })
    const credential = await store.getCredential('openai')
    const copied = JSON.parse(JSON.stringify(credential))
    assert.equal(copied.apiKey, '[REDACTED]')
    const err = await client
      .write(`${prefix}/credentials/openai`, { kind: 'api_key', apiKey: copied.apiKey })
      .catch((e) => e)
    assert.equal(err.code, 'INVALID_ARGUMENT')
    assert.equal((await client.read(`${prefix}/credentials/openai`)).data.apiKey, 'sk-FAKE-roundtrip')
  })

  test('openclaw-vault put refuses a placeholder (Vault and keychain) and writes nothing', async () => {
    const home = homeWith({})
    const prefix = newPrefix('ph-put')
    for (const to of [[], ['--to', 'keychain']]) {
      const r = cli(home, ['put', 'gateway', '--kind', 'token', ...to], { prefix, input: '__OPENCLAW_REDACTED__\n' })
      assert.equal(r.code, 2, r.out + r.err)
      assert.match(r.err, /error \[INVALID_ARGUMENT\]: .*redaction placeholder "__OPENCLAW_REDACTED__"/)
    }
    assert.equal(await client.read(`${prefix}/credentials/gateway`), null)
  })

  test('migrate skips a placeholder with its reason and migrates the rest', async () => {
    const home = homeWith({
      'openai:default': { type: 'api_key', provider: 'openai', key: '[REDACTED]' },
      'telegram:default': { type: 'token', provider: 'telegram', token: '123:FAKE-ph-telegram' },
    })
    const prefix = newPrefix('ph-migrate')
    const r = cli(home, ['migrate', '--yes', '--json'], { prefix })
    assert.equal(r.code, 1, r.out + r.err)
    const skipped = r.json.plan.skipped.map((s) => s.name).sort()
    // The bare provider name is another name of the profile, planned once (under the profile id).
    assert.deepEqual(skipped, ['openai:default'])
    for (const s of r.json.plan.skipped) {
      assert.equal(s.code, 'INVALID_ARGUMENT')
      assert.match(s.reason, /redaction placeholder "\[REDACTED\]"/)
    }
    assert.equal(await client.read(`${prefix}/credentials/openai:default`), null)
    assert.equal((await client.read(`${prefix}/credentials/telegram:default`)).data.token, '123:FAKE-ph-telegram')
  })

  test('a refresh answering a placeholder is INVALID_ARGUMENT and nothing is written back', async () => {
    const prefix = newPrefix('ph-refresh')
    await client.write(`${prefix}/credentials/qwen`, {
      kind: 'oauth',
      accessToken: 'qwen-FAKE-access-old',
      refreshToken: 'qwen-FAKE-refresh',
      expiresAt: Date.now() - 1000,
    })
    const store = new CredentialStore({
      env: {
        HOME: homeWith({}),
        VAULT_ADDR: vault.addr,
        VAULT_TOKEN: vault.token,
        OPENCLAW_VAULT_PREFIX: prefix,
      },
    })
    const err = await store
      .getCredential('qwen', { refresh: async () => ({ accessToken: '[REDACTED]', expiresIn: 3600 }) })
      .catch((e) => e)
    assert.ok(err instanceof VaultError, String(err))
    assert.equal(err.code, 'INVALID_ARGUMENT')
    await assertNoLeak(assert, err, ['qwen-FAKE-access-old', 'qwen-FAKE-refresh'])
    const stored = await client.read(`${prefix}/credentials/qwen`)
    assert.equal(stored.metadata.version, 1)
    assert.equal(stored.data.accessToken, 'qwen-FAKE-access-old')
  })
})

describe('a server without a D-Bus session', () => {
  test('list and migrate print no keychain warning; status says it once', () => {
    const home = homeWith({ 'openai:default': { type: 'api_key', provider: 'openai', key: 'sk-FAKE-quiet' } })
    const prefix = newPrefix('quiet')
    const list = cli(home, ['list'], { prefix })
    assert.equal(list.code, 0, list.err)
    assert.doesNotMatch(list.err, /keychain/i)
    const dry = cli(home, ['migrate', '--dry-run'], { prefix })
    assert.equal(dry.code, 0, dry.err)
    assert.doesNotMatch(dry.err, /keychain/i)
    const status = cli(home, ['status'], { prefix })
    assert.equal(status.code, 0, status.out + status.err)
    const lines = status.out.split('\n').filter((l) => /keychain/i.test(l))
    assert.equal(lines.length, 1, status.out)
    assert.match(
      lines[0],
      /keychain: none on this machine \(no Secret Service.*\); skipped: keychain, claude-code-keychain/,
    )
    // Asked for by name, an absent keychain is still an error worth printing.
    const explicit = cli(home, ['list', '--source', 'keychain'], { prefix })
    assert.equal(explicit.code, 1)
    assert.match(explicit.err, /keychain/)
  })
})
