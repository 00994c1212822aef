// getCredential with Vault: redaction, single flight, last known good, coordinated OAuth refresh
// across processes, rotation watch. Real dev server; faults from the project's proxy.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { inspect, promisify } from 'node:util'

import { CredentialStore, VaultClient, VaultError } from '../index.js'
import { assertNoLeak, removeTree, root, startFaultProxy, startVault, uniquePrefix } from './support/vault-server.mjs'

const run = promisify(execFile)
let vault
let proxy
let client
let home
const prefix = uniquePrefix('credentials')

before(async () => {
  vault = await startVault()
  proxy = await startFaultProxy(vault.addr)
  client = new VaultClient({ addr: vault.addr, token: vault.token, renew: false })
  home = mkdtempSync(join(tmpdir(), 'ocv-cred-home-'))
})

after(async () => {
  await proxy?.stop()
  if (vault) await removeTree(vault, prefix)
  await vault?.stop()
  if (home) rmSync(home, { recursive: true, force: true })
})

/** A store that sees only Vault (through the proxy unless `direct`) and an empty HOME. */
function store({ direct = false, extra = {} } = {}) {
  return new CredentialStore({
    env: {
      HOME: home,
      VAULT_ADDR: direct ? vault.addr : proxy.addr,
      VAULT_TOKEN: vault.token,
      VAULT_MAX_RETRIES: '0',
      OPENCLAW_VAULT_PREFIX: prefix,
      ...extra,
    },
  })
}

const dataPath = (name) => `^/v1/secret/data/${prefix}/credentials/${name}$`

describe('a credential from Vault', () => {
  test('is typed, located, and shows its secrets only through expose()', async () => {
    await client.write(`${prefix}/credentials/telegram`, { kind: 'token', token: '123456:tg-secret-value' })
    const c = await store({ direct: true }).getCredential('telegram')
    assert.equal(c.name, 'telegram')
    assert.equal(c.kind, 'token')
    assert.equal(c.source.provider, 'vault')
    assert.equal(c.source.location, `secret/${prefix}/credentials/telegram`)
    assert.equal(c.version, 1)
    assert.equal(c.stale, false)
    assert.deepEqual(c.fields, ['token'])
    assert.equal(c.expose(), '123456:tg-secret-value')
    assert.equal(c.token.expose(), '123456:tg-secret-value')
    assert.deepEqual(c.exposeAll(), { token: '123456:tg-secret-value' })
    const shown = [
      JSON.stringify(c),
      inspect(c),
      String(c),
      `${c}`,
      `${c.token}`,
      String(c.token),
      inspect(c.token),
      JSON.stringify({ t: c.token }),
    ]
    for (const s of shown) assert.ok(!s.includes('tg-secret-value'), s)
    assert.match(JSON.stringify(c), /"token":"\[REDACTED\]"/)
    assert.equal(`${c.token}`, '[REDACTED]')
    const err = (() => {
      try {
        c.expose('apiKey')
      } catch (e) {
        return e
      }
    })()
    assert.ok(err instanceof VaultError)
    assert.equal(err.code, 'INVALID_ARGUMENT')
  })

  test('reads OAuth tokens in the layout the migration writes', async () => {
    const expiresAt = Date.now() + 3_600_000
    await client.write(`${prefix}/credentials/anthropic`, {
      kind: 'oauth',
      accessToken: 'sk-ant-oat01-vault-access',
      refreshToken: 'sk-ant-ort01-vault-refresh',
      expiresAt,
      metadata: { scopes: ['user:inference'] },
    })
    const c = await store({ direct: true }).getCredential('anthropic')
    assert.equal(c.kind, 'oauth')
    assert.equal(c.expiresAt, expiresAt)
    assert.deepEqual(c.metadata, { scopes: ['user:inference'] })
    assert.equal(c.accessToken.expose(), 'sk-ant-oat01-vault-access')
    assert.equal(c.refreshToken.expose(), 'sk-ant-ort01-vault-refresh')
  })

  test('not found anywhere lists the sources tried, with no value', async () => {
    const err = await store({ direct: true })
      .getCredential('nowhere')
      .catch((e) => e)
    assert.ok(err instanceof VaultError)
    assert.equal(err.code, 'CREDENTIAL_NOT_FOUND')
    assert.ok(err.errors.includes('vault: not found'), err.errors.join('|'))
    assert.match(err.message, /"nowhere"/)
    await assertNoLeak(assert, err, [vault.token])
  })

  test('a bad name or option rejects (never throws) with INVALID_ARGUMENT', async () => {
    const s = store({ direct: true })
    const p = s.getCredential('../escape')
    assert.ok(p instanceof Promise)
    assert.equal((await p.catch((e) => e)).code, 'INVALID_ARGUMENT')
    assert.equal((await s.getCredential('telegram', { order: ['disk'] }).catch((e) => e)).code, 'INVALID_ARGUMENT')
  })
})

describe('cache', () => {
  test('concurrent calls make one read, later calls none', async () => {
    await client.write(`${prefix}/credentials/discord`, { token: 'discord-secret-1' })
    await proxy.clearRequests()
    const s = store()
    const all = await Promise.all(Array.from({ length: 25 }, () => s.getCredential('discord')))
    assert.ok(all.every((c) => c.expose() === 'discord-secret-1'))
    await s.getCredential('discord')
    const reads = (await proxy.requests()).filter((r) => new RegExp(dataPath('discord')).test(r.path))
    assert.equal(reads.length, 1)
    // noCache reads again.
    await s.getCredential('discord', { noCache: true })
    const again = (await proxy.requests()).filter((r) => new RegExp(dataPath('discord')).test(r.path))
    assert.equal(again.length, 2)
  })

  test('the last known good value is served, marked stale, while Vault is unreachable', async () => {
    await client.write(`${prefix}/credentials/slack`, { token: 'xoxb-slack-secret' })
    const s = store()
    assert.equal((await s.getCredential('slack')).stale, false)
    await proxy.rule({ path: dataPath('slack'), action: { type: 'close' } })
    try {
      const c = await s.getCredential('slack', { noCache: true })
      assert.equal(c.stale, true)
      assert.equal(c.expose(), 'xoxb-slack-secret')
      // A store that never read it has nothing to serve: the failure is visible, with Vault's
      // own code (not "not found": Vault could not be asked).
      const err = await store()
        .getCredential('slack')
        .catch((e) => e)
      assert.equal(err.code, 'NETWORK')
      assert.ok(
        err.errors.some((e) => e.startsWith('vault: NETWORK')),
        err.errors.join('|'),
      )
    } finally {
      await proxy.clearRules()
    }
  })
})

describe('OAuth refresh', () => {
  test('a refresh callback error is REFRESH_FAILED without the tokens in it', async () => {
    await client.write(`${prefix}/credentials/qwen`, {
      kind: 'oauth',
      accessToken: 'qwen-access-old',
      refreshToken: 'qwen-refresh-secret',
      expiresAt: Date.now() - 1000,
    })
    const err = await store({ direct: true })
      .getCredential('qwen', {
        refresh: async (c) => {
          throw new Error(`token endpoint said no to ${c.expose('refreshToken')}`)
        },
      })
      .catch((e) => e)
    assert.ok(err instanceof VaultError, String(err))
    assert.equal(err.code, 'REFRESH_FAILED')
    assert.match(err.message, /token endpoint said no/)
    await assertNoLeak(assert, err, ['qwen-refresh-secret', 'qwen-access-old'])
  })

  test('several processes: exactly one refresh per expiry, everyone gets the new tokens', async () => {
    await client.write(`${prefix}/credentials/gemini`, {
      kind: 'oauth',
      accessToken: 'gemini-access-0',
      refreshToken: 'gemini-refresh-0',
      expiresAt: Date.now() - 1000,
    })
    const counter = join(home, `refreshes-${Date.now()}`)
    writeFileSync(counter, '')
    const child = `
      const { appendFileSync } = require('node:fs')
      const { CredentialStore } = require(${JSON.stringify(join(root, 'index.js'))})
      const store = new CredentialStore({ env: process.env })
      store.getCredential('gemini', {
        refresh: async (c) => {
          if (c.expose('refreshToken') !== 'gemini-refresh-0') throw new Error('wrong refresh token')
          appendFileSync(process.env.COUNTER, process.pid + '\\n')
          // A slow token endpoint: the other processes are waiting on the lease meanwhile.
          await new Promise((r) => setTimeout(r, 300))
          return { accessToken: 'gemini-access-' + process.pid, refreshToken: 'gemini-refresh-1', expiresIn: 3600 }
        },
      }).then(
        (c) => console.log(JSON.stringify({ access: c.expose(), refresh: c.expose('refreshToken'), expiresAt: c.expiresAt })),
        (e) => console.log(JSON.stringify({ code: e.code, message: e.message })),
      )`
    const env = {
      PATH: process.env.PATH,
      HOME: home,
      VAULT_ADDR: vault.addr,
      VAULT_TOKEN: vault.token,
      OPENCLAW_VAULT_PREFIX: prefix,
      COUNTER: counter,
    }
    const outs = await Promise.all(
      Array.from({ length: 5 }, () => run(process.execPath, ['-e', child], { env }).then((r) => JSON.parse(r.stdout))),
    )
    const refreshed = readFileSync(counter, 'utf8').trim().split('\n')
    assert.equal(refreshed.length, 1, `refreshes: ${refreshed.join(',')}; outputs: ${JSON.stringify(outs)}`)
    const winner = `gemini-access-${refreshed[0]}`
    for (const o of outs) {
      assert.equal(o.access, winner, JSON.stringify(o))
      assert.equal(o.refresh, 'gemini-refresh-1')
      assert.ok(o.expiresAt > Date.now())
    }
    const stored = await client.read(`${prefix}/credentials/gemini`)
    assert.equal(stored.data.accessToken, winner)
    assert.equal(stored.data.refreshToken, 'gemini-refresh-1')
    assert.equal(stored.metadata.version, 2, 'one write-back')
  })
})

describe('watchCredential', () => {
  test('calls back when the Vault version changes, and not after stop()', async () => {
    await client.write(`${prefix}/credentials/openrouter`, { apiKey: 'or-key-1' })
    const s = store({ direct: true })
    const seen = []
    let notify
    const changed = new Promise((r) => (notify = r))
    const watch = await s.watchCredential(
      'openrouter',
      (err, c) => {
        if (err) return seen.push(err.code)
        seen.push(c.expose())
        notify()
      },
      { intervalMs: 50 },
    )
    // The watch has read its baseline when it resolves; a write after that is a change.
    await client.write(`${prefix}/credentials/openrouter`, { apiKey: 'or-key-2' })
    await changed
    watch.stop()
    assert.deepEqual(seen, ['or-key-2'])
    // The cache was dropped: the next read sees the new key.
    assert.equal((await s.getCredential('openrouter')).expose(), 'or-key-2')
  })

  test('watching a name that exists nowhere rejects with CREDENTIAL_NOT_FOUND', async () => {
    const err = await store({ direct: true })
      .watchCredential('missing-one', () => assert.fail('no callback'), { intervalMs: 50 })
      .catch((e) => e)
    assert.equal(err.code, 'CREDENTIAL_NOT_FOUND')
  })
})
