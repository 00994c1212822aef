// Issue 11: fourteen kinds of fault, each as the input that fails, against the real addon, a real
// Vault dev server and the project's fault proxy. A test that fails today carries node:test's
// `todo` naming its kind (node reports it without failing the run); a test that passes is plain.
// Error paths check the `VaultError` code and that no secret or canary string leaks anywhere.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, afterEach, before, describe, test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { inspect } from 'node:util'

import { CredentialStore, VaultClient, VaultError, getCredential } from '../index.js'
import { SERVER_EXT, makeCa, makeLeaf, tlsListener } from './support/certs.mjs'
import {
  assertNoLeak,
  freePort,
  removeTree,
  root,
  startFaultProxy,
  startVault,
  uniquePrefix,
  vaultFetch,
  waitFor,
} from './support/vault-server.mjs'

const prefix = uniquePrefix('fault-kinds')
const kv1Mount = `kv1-${prefix.split('/').pop()}`
const bin = join(root, 'bin', 'openclaw-vault.js')
const resolver = join(root, 'bin', 'openclaw-vault-resolve.mjs')
const external = !!process.env.VAULT_TEST_ADDR
const devOnly = external && 'needs the dev server started here (auth methods, listeners, policies)'
const scratch = mkdtempSync(join(tmpdir(), 'ocv-fault-kinds-'))
const certs = join(scratch, 'certs')
let vault
let proxy
let admin // root client straight to the server, for setup and for "the other writer"
let tlsPort

before(async () => {
  mkdirSync(certs, { mode: 0o700 })
  const extraArgs = []
  if (!external) {
    // A TLS listener whose certificate comes from a CA the clients are never told about (kind 8).
    makeCa(certs, 'server-ca')
    makeCa(certs, 'unknown-ca')
    makeLeaf(certs, 'server', 'server-ca', SERVER_EXT)
    tlsPort = await freePort()
    writeFileSync(join(certs, 'listener.hcl'), tlsListener(certs, tlsPort))
    extraArgs.push(`-config=${join(certs, 'listener.hcl')}`)
  }
  vault = await startVault({ extraArgs })
  proxy = await startFaultProxy(vault.addr)
  admin = new VaultClient({ addr: vault.addr, token: vault.token, renew: false, kvVersion: 2 })
  const mounted = await vaultFetch(vault, 'POST', `sys/mounts/${kv1Mount}`, {
    body: { type: 'kv', options: { version: '1' } },
  })
  assert.ok(mounted.status < 300, mounted.text)
})

afterEach(async () => {
  await proxy.clearRules()
  await proxy.clearRequests()
})

after(async () => {
  await proxy?.stop()
  if (vault) {
    await removeTree(vault, prefix).catch(() => {})
    await vaultFetch(vault, 'DELETE', `sys/mounts/${kv1Mount}`).catch(() => {})
  }
  await vault?.stop()
  rmSync(scratch, { recursive: true, force: true })
})

// ---------------------------------------------------------------------------------------------
// Helpers

/** Vault API call that must succeed; resolves to the parsed answer. */
async function ok(method, path, body) {
  const r = await vaultFetch(vault, method, path, { body })
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`)
  return r.json
}

/** A fresh copy of examples/sample-home with the modes the CLIs use (0700 dirs, 0600 files). */
function sampleHome() {
  const home = mkdtempSync(join(scratch, 'home-'))
  cpSync(join(root, 'examples', 'sample-home'), home, { recursive: true })
  const fix = (dir) => {
    chmodSync(dir, 0o700)
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) fix(join(dir, e.name))
      else chmodSync(join(dir, e.name), 0o600)
    }
  }
  fix(home)
  return home
}

/** An empty HOME (0700). */
const emptyHome = () => {
  const home = mkdtempSync(join(scratch, 'empty-'))
  chmodSync(home, 0o700)
  return home
}

/** The Vault variables of a store or process reading this file's prefix. */
const vaultVars = (extra = {}) => ({
  VAULT_ADDR: vault.addr,
  VAULT_TOKEN: vault.token,
  VAULT_MAX_RETRIES: '0',
  OPENCLAW_VAULT_PREFIX: prefix,
  ...extra,
})

/** Runs the CLI through the bin/ shim, synchronously (short commands only). */
function cli(args, { env = {}, input } = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    input,
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
    cwd: env.HOME ?? scratch,
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

/**
 * Runs `node -e script` without blocking this process (which may be serving it sockets).
 * `onLine(line, child)` sees each stdout line. Kills the child (SIGKILL, by its own handle) at
 * `deadlineMs`. Resolves to { code, signal, stdout, stderr, timedOut, ms }.
 */
function runChild(script, env, { deadlineMs = 20000, onLine } = {}) {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const child = spawn(process.execPath, ['-e', script], { env: { PATH: process.env.PATH, ...env } })
    let stdout = ''
    let stderr = ''
    let pending = ''
    let timedOut = false
    child.stdout.on('data', (d) => {
      stdout += d
      pending += d
      let nl
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl)
        pending = pending.slice(nl + 1)
        onLine?.(line, child)
      }
    })
    child.stderr.on('data', (d) => (stderr += d))
    child.once('error', reject)
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, deadlineMs)
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, timedOut, ms: Date.now() - started })
    })
  })
}

/** The last JSON line a child printed, or null. */
function lastJson(stdout) {
  const lines = stdout.trim().split('\n').filter(Boolean)
  try {
    return JSON.parse(lines.at(-1))
  } catch {
    return null
  }
}

/** Proxy log entries whose path matches `re`. */
const logged = async (re) => (await proxy.requests()).filter((r) => re.test(r.path))

/** A loopback TCP listener that accepts connections and never answers (a hung Vault). */
async function hungListener() {
  const sockets = new Set()
  let accepted = 0
  const server = createServer((s) => {
    accepted++
    sockets.add(s)
    s.on('error', () => {})
    s.on('close', () => sockets.delete(s))
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return {
    addr: `http://127.0.0.1:${server.address().port}`,
    accepted: () => accepted,
    close() {
      for (const s of sockets) s.destroy()
      return new Promise((r) => server.close(r))
    },
  }
}

/** A loopback TCP forwarder to `port` that counts the connections made through it. */
async function countingForwarder(port) {
  const sockets = new Set()
  let connections = 0
  const server = createServer((down) => {
    connections++
    const up = connect(port, '127.0.0.1')
    for (const s of [down, up]) {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => {
        sockets.delete(s)
        down.destroy()
        up.destroy()
      })
    }
    down.pipe(up).pipe(down)
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: server.address().port,
    connections: () => connections,
    close() {
      for (const s of sockets) s.destroy()
      return new Promise((r) => server.close(r))
    },
  }
}

/** Everything a user or log could see of a credential. */
const shownOf = (c) => [JSON.stringify(c), inspect(c, { depth: 10 }), String(c), `${c}`].join('\n')

/** A same-length variant of `s` (its last character changed). */
const sameLength = (s) => s.slice(0, -1) + (s.at(-1) === 'Z' ? 'Y' : 'Z')

/** An unsigned JWT (alg none) with `claims`. */
const unsignedJwt = (claims) =>
  [{ alg: 'none', typ: 'JWT' }, claims].map((o) => Buffer.from(JSON.stringify(o)).toString('base64url')).join('.') + '.'

// ---------------------------------------------------------------------------------------------

describe('kind 1: numbers keep their type', () => {
  const chatId = 5123456789
  const expiresAt = 1764412345678
  const groupChatId = -1001234567890 // Telegram supergroup ids are negative and past 2^32

  const isPlainNumber = (v, expected) => {
    assert.equal(typeof v, 'number', `expected a number, got ${typeof v}`)
    assert.equal(v, expected)
  }

  test('VaultClient: read, request and readMetadata give plain numbers that JSON.stringify takes', async () => {
    const path = `${prefix}/k1/numbers`
    const written = await admin.write(path, { chatId, expiresAt, groupChatId })
    isPlainNumber(written.version, 1)
    const read = await admin.read(path)
    isPlainNumber(read.data.chatId, chatId)
    isPlainNumber(read.data.expiresAt, expiresAt)
    isPlainNumber(read.data.groupChatId, groupChatId)
    isPlainNumber(read.metadata.version, 1)
    assert.deepEqual(JSON.parse(JSON.stringify(read.data)), { chatId, expiresAt, groupChatId })

    const raw = await admin.request('GET', `secret/data/${path}`)
    isPlainNumber(raw.data.data.chatId, chatId)
    isPlainNumber(raw.data.data.expiresAt, expiresAt)
    isPlainNumber(raw.lease_duration, 0)
    JSON.stringify(raw)

    const meta = await admin.readMetadata(path)
    isPlainNumber(meta.current_version, 1)
    isPlainNumber(meta.max_versions, 0)
    JSON.stringify(meta)
  })

  test('getCredential: metadata, expiresAt and the watch callback give plain numbers', async () => {
    const name = 'k1-telegram'
    await admin.write(`${prefix}/credentials/${name}`, {
      kind: 'token',
      token: '123456:k1-bot-token-value',
      chatId,
      expiresAt,
      metadata: { groupChatId, nested: { at: expiresAt }, list: [chatId] },
    })
    const store = new CredentialStore({ env: { HOME: emptyHome(), ...vaultVars() } })
    const c = await store.getCredential(name)
    isPlainNumber(c.expiresAt, expiresAt)
    isPlainNumber(c.metadata.chatId, chatId)
    isPlainNumber(c.metadata.groupChatId, groupChatId)
    isPlainNumber(c.metadata.nested.at, expiresAt)
    isPlainNumber(c.metadata.list[0], chatId)
    isPlainNumber(c.version, 1)
    assert.deepEqual(c.fields, ['token'])
    assert.equal(JSON.parse(JSON.stringify(c)).metadata.chatId, chatId)

    // The watch callback builds its credential another way (getters, not cached properties).
    let watch
    const changed = new Promise((resolve, reject) => {
      store
        .watchCredential(name, (err, cred) => (err ? reject(err) : resolve(cred)), { intervalMs: 50 })
        .then((w) => {
          watch = w
          return admin.write(`${prefix}/credentials/${name}`, {
            kind: 'token',
            token: '123456:k1-bot-token-value-2',
            chatId,
            expiresAt,
          })
        }, reject)
    })
    try {
      const w = await changed
      isPlainNumber(w.metadata.chatId, chatId)
      isPlainNumber(w.expiresAt, expiresAt)
      JSON.stringify(w)
    } finally {
      watch?.stop()
    }
  })
})

describe('kind 2: a change with the same mtime and length is still a change', () => {
  const T = Math.floor(Date.now() / 1000) - 100 // whole seconds: set and restored exactly
  const stamp = (f) => {
    const s = statSync(f, { bigint: true })
    return `${s.mtimeNs}/${s.size}`
  }

  test('a token file replaced by a same-length token with the old mtime is read again', { skip: devOnly }, async () => {
    const tag = randomBytes(6).toString('hex')
    const make = async (which) =>
      (
        await ok('POST', 'auth/token/create', {
          id: `ocv-k2-${which}-${tag}`,
          policies: ['default'],
          meta: { which },
          ttl: '10m',
        })
      ).auth.client_token
    const a = await make('A')
    const b = await make('B')
    assert.equal(a.length, b.length)
    const file = join(scratch, `agent-token-${tag}`)
    writeFileSync(file, `${a}\n`, { mode: 0o600 })
    utimesSync(file, T, T)
    const before = stamp(file)
    const c = new VaultClient({
      addr: vault.addr,
      auth: { method: 'token_file', tokenFile: file },
      renew: false,
      kvVersion: 2,
      maxRetries: 0,
    })
    assert.equal((await c.lookupSelf()).meta.which, 'A')
    writeFileSync(file, `${b}\n`, { mode: 0o600 })
    utimesSync(file, T, T)
    assert.equal(stamp(file), before, 'precondition: same mtime and length')
    assert.equal((await c.lookupSelf()).meta.which, 'B', 'the token file was not read again')
  })

  test(
    'VAULT_TOKEN_FILE of a CredentialStore replaced the same way: noCache and clearCache() use the new token',
    { skip: devOnly },
    async () => {
      const tag = randomBytes(6).toString('hex')
      const name = 'k2-tokfile'
      await admin.write(`${prefix}/credentials/${name}`, { apiKey: 'sk-k2-tokfile-value' })
      const policy = `ocv-k2-read-${tag}`
      await ok('PUT', `sys/policies/acl/${policy}`, {
        policy: `path "secret/data/${prefix}/credentials/${name}" { capabilities = ["read"] }`,
      })
      // A: may read nothing of it; B: may read it. Same length, custom ids.
      const a = (await ok('POST', 'auth/token/create', { id: `ocv-k2s-A-${tag}`, policies: ['default'], ttl: '10m' }))
        .auth.client_token
      const b = (await ok('POST', 'auth/token/create', { id: `ocv-k2s-B-${tag}`, policies: [policy], ttl: '10m' })).auth
        .client_token
      assert.equal(a.length, b.length)
      const file = join(scratch, `store-token-${tag}`)
      writeFileSync(file, `${a}\n`, { mode: 0o600 })
      utimesSync(file, T, T)
      const before = stamp(file)
      const env = { HOME: emptyHome(), VAULT_ADDR: vault.addr, VAULT_TOKEN_FILE: file, VAULT_MAX_RETRIES: '0' }
      const store = new CredentialStore({ env: { ...env, OPENCLAW_VAULT_PREFIX: prefix } })
      const denied = await store.getCredential(name, { order: ['vault'] }).catch((e) => e)
      assert.ok(denied instanceof VaultError, 'token A may not read it')
      await assertNoLeak(assert, denied, [a, b, 'sk-k2-tokfile-value'])
      writeFileSync(file, `${b}\n`, { mode: 0o600 })
      utimesSync(file, T, T)
      assert.equal(stamp(file), before, 'precondition: same mtime and length')
      const again = await store.getCredential(name, { order: ['vault'], noCache: true }).catch((e) => e)
      assert.ok(!(again instanceof Error), `noCache: ${again.code}: ${again.message}`)
      assert.equal(again.expose(), 'sk-k2-tokfile-value')
      store.clearCache()
      assert.equal((await store.getCredential(name, { order: ['vault'] })).expose(), 'sk-k2-tokfile-value')
    },
  )

  test("Claude Code's credentials file replaced the same way: noCache, clearCache() and a new store see it", async () => {
    const home = sampleHome()
    const file = join(home, '.claude', '.credentials.json')
    utimesSync(file, T, T)
    const before = stamp(file)
    const oldAccess = JSON.parse(readFileSync(file, 'utf8')).claudeAiOauth.accessToken
    const newAccess = sameLength(oldAccess)
    const store = new CredentialStore({ env: { HOME: home }, cwd: home })
    const get = (s, options = {}) => s.getCredential('anthropic', { order: ['files'], ...options })
    assert.equal((await get(store)).expose('accessToken'), oldAccess)

    // In place, same layout: only the token's last character differs.
    writeFileSync(file, readFileSync(file, 'utf8').replace(oldAccess, newAccess), { mode: 0o600 })
    utimesSync(file, T, T)
    assert.equal(stamp(file), before, 'precondition: same mtime and length')

    assert.equal((await get(store, { noCache: true })).expose('accessToken'), newAccess, 'noCache')
    store.clearCache()
    assert.equal((await get(store)).expose('accessToken'), newAccess, 'clearCache()')
    const fresh = new CredentialStore({ env: { HOME: home }, cwd: home })
    assert.equal((await get(fresh)).expose('accessToken'), newAccess, 'a new store')
  })
})

describe('kind 3: input is never quoted in error text', () => {
  const canary = `sk-canary-${randomBytes(8).toString('hex')}`

  test('a KV read answered with the wrong shape: BAD_RESPONSE without the canary', async () => {
    const path = `${prefix}/k3/app`
    await proxy.rule({
      path: `^/v1/secret/data/${path}$`,
      action: { type: 'canned', status: 200, body: JSON.stringify({ data: { data: canary } }) },
    })
    const c = new VaultClient({ addr: proxy.addr, token: vault.token, kvVersion: 2, maxRetries: 0, renew: false })
    const err = await c.read(path).catch((e) => e)
    assert.ok(err instanceof VaultError, String(err))
    assert.equal(err.code, 'BAD_RESPONSE')
    await assertNoLeak(assert, err, [canary, vault.token])
  })

  test('an AppRole login answered with the wrong shape: BAD_RESPONSE without the canary', async () => {
    const token = `hvs.canary-${randomBytes(8).toString('hex')}`
    await proxy.rule({
      path: '^/v1/auth/approle/login$',
      action: { type: 'canned', status: 200, body: JSON.stringify({ auth: token }) },
    })
    const c = new VaultClient({
      addr: proxy.addr,
      kvVersion: 2,
      maxRetries: 0,
      auth: { method: 'approle', roleId: 'k3-role-id', secretId: 'k3-secret-id' },
    })
    try {
      const err = await c.read(`${prefix}/k3/app`).catch((e) => e)
      assert.ok(err instanceof VaultError, String(err))
      assert.equal(err.code, 'BAD_RESPONSE')
      await assertNoLeak(assert, err, [token, 'k3-secret-id'])
    } finally {
      c.close()
    }
  })

  test('`put <name> <value>`: the value as an argument is refused without echoing it', () => {
    const value = `sk-live-canary-${randomBytes(8).toString('hex')}`
    const r = cli(['put', 'openai', value], { env: { HOME: emptyHome(), ...vaultVars() } })
    assert.equal(r.code, 2, r.out + r.err)
    assert.ok(!r.out.includes(value), `stdout echoes the value: ${r.out}`)
    assert.ok(!r.err.includes(value), `stderr echoes the value: ${r.err}`)
  })
})

describe('kind 4: background loops have a floor', { skip: devOnly }, () => {
  test(
    'AppRole token (TTL 6 s), maxRetries 0, Vault answering 503 after the TTL: at most 10 renewal/login requests a second',
    { timeout: 30000 },
    async () => {
      await ok('POST', 'sys/auth/approle', { type: 'approle' })
      await ok('POST', 'auth/approle/role/k4', { token_policies: ['default'], token_ttl: '6s', token_max_ttl: '1h' })
      const roleId = (await ok('GET', 'auth/approle/role/k4/role-id')).data.role_id
      const secretId = (await ok('POST', 'auth/approle/role/k4/secret-id')).data.secret_id
      const c = new VaultClient({
        addr: proxy.addr,
        kvVersion: 2,
        maxRetries: 0,
        auth: { method: 'approle', roleId, secretId },
      })
      try {
        const loggedInAt = Date.now()
        assert.equal((await c.lookupSelf()).ttl <= 6, true)
        // Vault goes away: every answer is a 503 from here on.
        await proxy.rule({ action: { type: 'status', status: 503, body: '{"errors":["Vault is unavailable"]}' } })
        // The token's TTL runs out while Vault is down.
        await waitFor('the token TTL to pass', () => Date.now() >= loggedInAt + 7000, { timeoutMs: 10000 })
        await proxy.clearRequests()
        const windowMs = 2000
        await delay(windowMs) // a measurement window, not a wait for something to happen
        const seen = await logged(/^\/v1\/auth\//)
        const perSecond = seen.length / (windowMs / 1000)
        assert.ok(perSecond <= 10, `${seen.length} renewal/login requests in ${windowMs} ms (${perSecond}/s)`)
      } finally {
        c.close()
      }
    },
  )
})

describe('kind 5: a state that cannot change ends', () => {
  test('a fixed token invalid from the start: `expired` is emitted and polling stops', { timeout: 30000 }, async () => {
    const token = `hvs.FAKE-k5-${randomBytes(6).toString('hex')}`
    const c = new VaultClient({ addr: proxy.addr, token, kvVersion: 2, maxRetries: 0 })
    const events = []
    c.onTokenEvent((e) => events.push(e))
    try {
      const err = await c.read(`${prefix}/k5/app`).catch((e) => e)
      assert.equal(err.code, 'INVALID_TOKEN')
      await assertNoLeak(assert, err, [token])
      await waitFor('an `expired` token event', () => events.some((e) => e.kind === 'expired'), {
        timeoutMs: 6000,
      }).catch((e) => assert.fail(`${e.message}; events: ${JSON.stringify(events)}`))
      const total = (await logged(/^\/v1\/auth\/token\//)).length
      assert.ok(total <= 2, `${total} token requests before giving up`)
      await proxy.clearRequests()
      await delay(2500) // a window in which nothing may be asked
      const later = await proxy.requests()
      assert.deepEqual(
        later.map((r) => r.path),
        [],
        'still polling after `expired`',
      )
      assert.ok(!JSON.stringify(events).includes(token))
    } finally {
      c.close()
    }
  })
})

describe('kind 6: a failed KV version detection is not cached as a fact', () => {
  /** A policy and a token with only it; `grant(true)` adds read/list on the KV v1 mount. */
  async function limitedToken(name) {
    const policy = `ocv-k6-${name}-${process.pid}`
    const grant = (onKv1) =>
      ok('PUT', `sys/policies/acl/${policy}`, {
        policy:
          'path "secret/data/ocv-k6-nothing" { capabilities = ["read"] }\n' +
          (onKv1 ? `path "${kv1Mount}/*" { capabilities = ["read", "list"] }\n` : ''),
      })
    await grant(false)
    const token = (await ok('POST', 'auth/token/create', { policies: [policy], ttl: '10m' })).auth.client_token
    return { token, grant }
  }

  test('VaultClient: denied detection (403) on a KV v1 mount, policy fixed, the next read uses the KV v1 path', async () => {
    await ok('POST', `${kv1Mount}/${prefix}/k6/app`, { apiKey: 'sk-k6-kv1-value' })
    const { token, grant } = await limitedToken('client')
    const c = new VaultClient({ addr: vault.addr, token, mount: kv1Mount, maxRetries: 0, renew: false })
    const denied = await c.read(`${prefix}/k6/app`).catch((e) => e)
    assert.ok(denied instanceof VaultError, `expected a denial, got ${JSON.stringify(denied)}`)
    assert.equal(denied.code, 'PERMISSION_DENIED')
    await assertNoLeak(assert, denied, [token, 'sk-k6-kv1-value'])
    await grant(true)
    assert.deepEqual(await c.read(`${prefix}/k6/app`), { data: { apiKey: 'sk-k6-kv1-value' }, metadata: null })
    assert.equal(await c.kvVersion(), 1)
  })

  test('CredentialStore: the same, through getCredential', async () => {
    await ok('POST', `${kv1Mount}/${prefix}/credentials/k6-store`, { apiKey: 'sk-k6-store-value' })
    const { token, grant } = await limitedToken('store')
    const store = new CredentialStore({
      env: { HOME: emptyHome(), ...vaultVars({ VAULT_TOKEN: token, OPENCLAW_VAULT_KV_MOUNT: kv1Mount }) },
    })
    const denied = await store.getCredential('k6-store', { order: ['vault'] }).catch((e) => e)
    assert.ok(denied instanceof VaultError, 'the first read is denied')
    assert.ok(['PERMISSION_DENIED', 'CREDENTIAL_NOT_FOUND'].includes(denied.code), denied.code)
    await assertNoLeak(assert, denied, [token, 'sk-k6-store-value'])
    await grant(true)
    const c = await store.getCredential('k6-store', { order: ['vault'], noCache: true })
    assert.equal(c.source.provider, 'vault')
    assert.equal(c.expose(), 'sk-k6-store-value')
  })
})

describe('kind 7: the LIST verb is not the only way to list', () => {
  test('a proxy that answers LIST with 400: list() still works (GET ?list=true)', async () => {
    await admin.write(`${prefix}/k7/a`, { v: '1' })
    await admin.write(`${prefix}/k7/sub/b`, { v: '2' })
    await proxy.rule({
      method: 'LIST',
      action: { type: 'status', status: 400, body: '{"errors":["unsupported method LIST"]}' },
    })
    const c = new VaultClient({ addr: proxy.addr, token: vault.token, kvVersion: 2, maxRetries: 0, renew: false })
    assert.deepEqual(await c.list(`${prefix}/k7`), ['a', 'sub/'])
    const gets = (await proxy.requests()).filter((r) => r.method === 'GET' && /list=true/.test(r.query ?? ''))
    assert.ok(gets.length >= 1, 'listed with GET ?list=true')
  })

  test('`list --source vault` with Vault failing exits non-zero and says the source failed', async () => {
    await proxy.rule({ action: { type: 'status', status: 503, body: '{"errors":["Vault is unavailable"]}' } })
    // spawnSync would block the loop; the proxy is another process, so it still answers.
    const r = cli(['list', '--source', 'vault'], {
      env: { HOME: emptyHome(), ...vaultVars({ VAULT_ADDR: proxy.addr }) },
    })
    assert.notEqual(r.code, 0, `exit ${r.code}; stdout: ${r.out}; stderr: ${r.err}`)
    assert.match(r.out + r.err, /vault/i)
    assert.match(r.out + r.err, /fail|unavailable|unreachable|503/i)
    assert.ok(!(r.out + r.err).includes(vault.token))
  })
})

describe('kind 8: permanent errors are not retried', { skip: devOnly }, () => {
  test(
    'an unknown CA: a TLS error code, one connection, well under 1.5 s (default retries)',
    { timeout: 20000 },
    async () => {
      const fwd = await countingForwarder(tlsPort)
      try {
        const c = new VaultClient({
          addr: `https://127.0.0.1:${fwd.port}`,
          token: vault.token,
          kvVersion: 2,
          renew: false,
          tls: { caCert: join(certs, 'unknown-ca.pem') },
        })
        const started = Date.now()
        const err = await c.read(`${prefix}/k8/app`).catch((e) => e)
        const ms = Date.now() - started
        assert.ok(err instanceof VaultError, String(err))
        await assertNoLeak(assert, err, [vault.token])
        assert.equal(
          fwd.connections(),
          1,
          `${fwd.connections()} connection attempts for a certificate that cannot change`,
        )
        assert.ok(ms < 1500, `${ms} ms`)
        assert.match(err.code, /TLS|CERT/, `code ${err.code}: ${err.message}`)
      } finally {
        await fwd.close()
      }
    },
  )
})

describe('kind 9: a hung Vault does not hold up local answers', () => {
  test(
    '100 distinct names, Vault accepting and never answering, local fallback: all answered locally within a few seconds',
    { timeout: 40000 },
    async () => {
      const hung = await hungListener()
      const home = emptyHome()
      mkdirSync(join(home, '.openclaw'), { mode: 0o700 })
      const names = Array.from({ length: 100 }, (_, i) => `k9-svc-${i}`)
      const value = (i) => `sk-k9-local-${i}-${randomBytes(4).toString('hex')}`
      const values = names.map((_, i) => value(i))
      writeFileSync(
        join(home, '.openclaw', '.env'),
        names.map((n, i) => `${n.toUpperCase().replaceAll('-', '_')}_API_KEY=${values[i]}`).join('\n') + '\n',
        { mode: 0o600 },
      )
      const script = `
        const { CredentialStore } = require(${JSON.stringify(join(root, 'index.js'))})
        const store = new CredentialStore({ env: { HOME: process.env.HOME, VAULT_ADDR: process.env.VAULT_ADDR,
          VAULT_TOKEN: process.env.VAULT_TOKEN, VAULT_MAX_RETRIES: '0' }, cwd: process.env.HOME })
        const names = ${JSON.stringify(names)}
        const started = Date.now()
        Promise.allSettled(names.map((n) => store.getCredential(n))).then((rs) => {
          console.log(JSON.stringify({ ms: Date.now() - started, results: rs.map((r) =>
            r.status === 'fulfilled' ? { provider: r.value.source.provider, value: r.value.expose() } : { code: r.reason.code }) }))
          process.exit(0)
        })`
      try {
        const out = await runChild(
          script,
          { HOME: home, VAULT_ADDR: hung.addr, VAULT_TOKEN: 'hvs.FAKE-k9-token' },
          {
            deadlineMs: 20000,
          },
        )
        assert.ok(hung.accepted() >= 1, 'Vault was asked first')
        assert.ok(!out.timedOut, `not answered within 20 s (${hung.accepted()} connections to the hung Vault)`)
        const report = lastJson(out.stdout)
        assert.ok(report, out.stdout + out.stderr)
        assert.ok(report.ms <= 5000, `${report.ms} ms`)
        report.results.forEach((r, i) => {
          assert.equal(r.value, values[i], JSON.stringify(r))
          assert.equal(r.provider, 'dotenv')
        })
      } finally {
        await hung.close()
      }
    },
  )
  /** A HOME whose state-dir `.env` holds `<NAME>_API_KEY` for each name; returns [home, values]. */
  function envHome(names, tag) {
    const home = emptyHome()
    mkdirSync(join(home, '.openclaw'), { mode: 0o700 })
    const values = names.map((_, i) => `sk-${tag}-local-${i}-${randomBytes(4).toString('hex')}`)
    writeFileSync(
      join(home, '.openclaw', '.env'),
      names.map((n, i) => `${n.toUpperCase().replaceAll('-', '_')}_API_KEY=${values[i]}`).join('\n') + '\n',
      { mode: 0o600 },
    )
    return [home, values]
  }

  test(
    'hung behind the fault proxy, fallback "none": CIRCUIT_OPEN at once, never the local value, one probe per open period, Vault again once a probe passes',
    { timeout: 40000 },
    async () => {
      const name = 'k9-hung'
      const inVault = `sk-k9-vault-${randomBytes(6).toString('hex')}`
      await admin.write(`${prefix}/credentials/${name}`, { apiKey: inVault })
      const [home, [local]] = envHome([name], 'k9')
      const store = new CredentialStore({
        env: { HOME: home, ...vaultVars({ VAULT_ADDR: proxy.addr, OPENCLAW_VAULT_KV_VERSION: '2' }) },
        cwd: home,
        config: { fallback: 'none' },
      })
      // Vault accepts and never answers, KV reads and sys/health alike.
      await proxy.rule({ action: { type: 'delay', ms: 600000 } })
      const first = await store.getCredential(name).catch((e) => e)
      assert.ok(first instanceof VaultError, `resolved from ${first?.source?.provider}`)
      assert.equal(first.code, 'TIMEOUT', first.message)
      await assertNoLeak(assert, first, [vault.token, local, inVault])
      await proxy.clearRequests()
      // A window over the first cool-down (1 to 1.2 s) and the probe's deadline (1.5 s), short
      // of the second cool-down's end (at least 1.6 s after that): every call fails over at
      // once, and exactly one probe reaches Vault.
      const windowEnd = Date.now() + 3500
      let calls = 0
      while (Date.now() < windowEnd) {
        const err = await store.getCredential(name).catch((e) => e)
        assert.ok(err instanceof VaultError, `resolved from ${err?.source?.provider}`)
        assert.equal(err.code, 'CIRCUIT_OPEN', err.message)
        assert.match(err.message, /vault.*TIMEOUT/)
        await assertNoLeak(assert, err, [vault.token, local, inVault])
        calls++
        await delay(50) // pacing of the calls inside the window, not a wait for an event
      }
      const seen = (await proxy.requests()).map((r) => r.path)
      assert.ok(calls > 20, `${calls} calls`)
      assert.deepEqual(
        seen.filter((p) => p.startsWith('/v1/secret/')),
        [],
        'KV reads reached Vault while the breaker was open',
      )
      assert.deepEqual(
        seen.filter((p) => p === '/v1/sys/health'),
        ['/v1/sys/health'],
        `one probe in the open period: ${JSON.stringify(seen)}`,
      )
      // Vault answers again: a later probe passes and the next read is Vault's.
      await proxy.clearRules()
      await waitFor(
        'the value from Vault',
        async () => (await store.getCredential(name).catch(() => null))?.source.provider === 'vault',
        { timeoutMs: 15000 },
      )
      assert.equal((await store.getCredential(name, { noCache: true })).expose(), inVault)
    },
  )

  for (const [status, body] of [
    [429, '{"initialized":true,"sealed":false,"standby":true}'],
    [473, '{"errors":[]}'],
    [403, '<html>sys/ is blocked here</html>'],
  ]) {
    test(
      `sys/health answering ${status} while reads pass: the breaker closes after the cool-down`,
      { timeout: 30000 },
      async () => {
        const name = `k9-health-${status}`
        const inVault = `sk-k9-h${status}-${randomBytes(6).toString('hex')}`
        await admin.write(`${prefix}/credentials/${name}`, { apiKey: inVault })
        const [home, [local]] = envHome([name], `k9h${status}`)
        // The client's default retries (2): a probe that retried a 429 would outlive its deadline.
        const env = { HOME: home, ...vaultVars({ VAULT_ADDR: proxy.addr, OPENCLAW_VAULT_KV_VERSION: '2' }) }
        delete env.VAULT_MAX_RETRIES
        const store = new CredentialStore({ env, cwd: home, config: { fallback: 'none' } })
        await proxy.rule({ path: '^/v1/sys/health$', action: { type: 'status', status, body } })
        // One KV read hangs: the breaker opens with TIMEOUT; later reads pass.
        await proxy.rule({ path: '^/v1/secret/', times: 1, action: { type: 'delay', ms: 600000 } })
        const first = await store.getCredential(name).catch((e) => e)
        assert.ok(first instanceof VaultError, `resolved from ${first?.source?.provider}`)
        assert.equal(first.code, 'TIMEOUT', first.message)
        await assertNoLeak(assert, first, [vault.token, local, inVault])
        const open = await store.getCredential(name).catch((e) => e)
        assert.equal(open.code, 'CIRCUIT_OPEN', open.message)
        await assertNoLeak(assert, open, [vault.token, local, inVault])
        await waitFor(
          'the value from Vault',
          async () => (await store.getCredential(name).catch(() => null))?.source.provider === 'vault',
          { timeoutMs: 12000 },
        )
        assert.equal((await store.getCredential(name, { noCache: true })).expose(), inVault)
        const probes = await logged(/^\/v1\/sys\/health$/)
        assert.ok(probes.length >= 1, 'a probe ran')
        for (const p of probes) {
          assert.match(p.query ?? '', /standbyok=true/)
          assert.match(p.query ?? '', /perfstandbyok=true/)
        }
      },
    )
  }

  test('Vault answering 503 (sealed): one KV read for 30 names, the rest fall over at once', async () => {
    const names = Array.from({ length: 30 }, (_, i) => `k9-sealed-${i}`)
    const [home, values] = envHome(names, 'k9s')
    await proxy.rule({ action: { type: 'status', status: 503, body: '{"errors":["Vault is sealed"]}' } })
    const store = new CredentialStore({
      env: { HOME: home, ...vaultVars({ VAULT_ADDR: proxy.addr, OPENCLAW_VAULT_KV_VERSION: '2' }) },
      cwd: home,
    })
    for (const [i, n] of names.entries()) {
      const c = await store.getCredential(n)
      assert.equal(c.source.provider, 'dotenv')
      assert.equal(c.expose(), values[i])
    }
    const reads = await logged(/^\/v1\/secret\//)
    assert.equal(reads.length, 1, JSON.stringify(reads.map((r) => r.path)))
  })

  test('a sealed Vault under fallback "none": SEALED, also when the lookup deadline cuts the retries', async () => {
    const name = 'k9-sealed-none'
    const [home, [local]] = envHome([name], 'k9sn')
    await proxy.rule({ action: { type: 'status', status: 503, body: '{"errors":["Vault is sealed"]}' } })
    for (const retries of ['0', '20']) {
      // 20 retries (the most the client takes) outlive the 400 ms deadline: still SEALED, not TIMEOUT.
      const store = new CredentialStore({
        env: {
          HOME: home,
          ...vaultVars({ VAULT_ADDR: proxy.addr, OPENCLAW_VAULT_KV_VERSION: '2' }),
          VAULT_MAX_RETRIES: retries,
          OPENCLAW_VAULT_LOOKUP_TIMEOUT_MS: '400',
        },
        cwd: home,
        config: { fallback: 'none' },
      })
      const err = await store.getCredential(name).catch((e) => e)
      assert.ok(err instanceof VaultError, `resolved from ${err?.source?.provider}`)
      assert.equal(err.code, 'SEALED', `${retries} retries: ${err.message}`)
      await assertNoLeak(assert, err, [vault.token, local])
    }
  })

  test('a refused port: 30 names make a handful of connection attempts, not 30 rounds of retries', async () => {
    const names = Array.from({ length: 30 }, (_, i) => `k9-refused-${i}`)
    const [home, values] = envHome(names, 'k9r')
    const closed = await freePort()
    const fwd = await countingForwarder(closed)
    try {
      const store = new CredentialStore({
        env: {
          HOME: home,
          VAULT_ADDR: `http://127.0.0.1:${fwd.port}`,
          VAULT_TOKEN: 'hvs.FAKE-k9-token',
          OPENCLAW_VAULT_KV_VERSION: '2',
        },
        cwd: home,
      })
      for (const [i, n] of names.entries()) {
        const c = await store.getCredential(n)
        assert.equal(c.source.provider, 'dotenv')
        assert.equal(c.expose(), values[i])
      }
      // The first name's read and its retries (client default: 2), and at most a probe or two.
      assert.ok(fwd.connections() >= 1, 'Vault was asked first')
      assert.ok(fwd.connections() <= 6, `${fwd.connections()} connection attempts`)
    } finally {
      await fwd.close()
    }
  })

  test(
    '`resolve` of 64 ids against a hung Vault with the local fallback: every id answered locally',
    { timeout: 40000 },
    async () => {
      const names = Array.from({ length: 64 }, (_, i) => `k9-resolve-${i}`)
      const [home, values] = envHome(names, 'k9x')
      const hung = await hungListener()
      try {
        const ids = names.map((n) => `openclaw/credentials/${n}/apiKey`)
        const out = await new Promise((resolve, reject) => {
          const child = spawn(process.execPath, [resolver], {
            env: {
              HOME: home,
              VAULT_ADDR: hung.addr,
              VAULT_TOKEN: 'hvs.FAKE-k9-token',
              OPENCLAW_VAULT_RESOLVE_FALLBACK: 'local',
            },
            cwd: root,
          })
          let stdout = ''
          child.stdout.on('data', (d) => (stdout += d))
          child.stderr.resume()
          child.once('error', reject)
          child.once('close', (code) => resolve({ code, stdout }))
          child.stdin.end(JSON.stringify({ protocolVersion: 1, provider: 'vault', ids }))
        })
        const json = JSON.parse(out.stdout)
        assert.equal(out.code, 0, out.stdout)
        assert.deepEqual(json.errors, {})
        ids.forEach((id, i) => assert.equal(json.values[id], values[i]))
        // One wave of reads (16 at a time) and the probes; not one read per path.
        assert.ok(hung.accepted() < 32, `${hung.accepted()} connections to the hung Vault`)
      } finally {
        await hung.close()
      }
    },
  )
})

describe('kind 9: listing and status against a hung or closed Vault', () => {
  /** Runs the CLI without blocking this process (the hung listener lives here). */
  const cliAsync = (args, env) =>
    runChild(
      `process.argv = [process.argv[0], ${JSON.stringify(bin)}, ...${JSON.stringify(args)}]; require(${JSON.stringify(bin)})`,
      env,
      {
        deadlineMs: 20000,
      },
    )

  test(
    'listCredentials() rejects with TIMEOUT naming vault, within the lookup deadline, instead of 0 entries',
    { timeout: 40000 },
    async () => {
      const hung = await hungListener()
      const home = emptyHome()
      const canary = `sk-k9-list-${randomBytes(6).toString('hex')}`
      const script = `
      const { CredentialStore } = require(${JSON.stringify(join(root, 'index.js'))})
      const store = new CredentialStore({ env: { HOME: process.env.HOME, VAULT_ADDR: process.env.VAULT_ADDR,
        VAULT_TOKEN: process.env.VAULT_TOKEN, OPENCLAW_VAULT_LOOKUP_TIMEOUT_MS: '800' }, cwd: process.env.HOME })
      store.listCredentials().then(
        (l) => console.log(JSON.stringify({ listed: l.length })),
        (e) => console.log(JSON.stringify({ code: e.code, message: e.message, errors: e.errors })),
      ).then(() => process.exit(0))`
      try {
        const out = await runChild(script, { HOME: home, VAULT_ADDR: hung.addr, VAULT_TOKEN: canary })
        assert.ok(!out.timedOut, 'listCredentials did not settle within 20 s')
        const report = lastJson(out.stdout)
        assert.ok(report, out.stdout + out.stderr)
        assert.equal(report.code, 'TIMEOUT', JSON.stringify(report))
        assert.match(report.message, /vault/)
        assert.ok(
          report.errors.some((e) => e.startsWith('vault: TIMEOUT')),
          JSON.stringify(report.errors),
        )
        assert.ok(!(out.stdout + out.stderr).includes(canary))
      } finally {
        await hung.close()
      }
    },
  )

  test('`list` and `status` end within the lookup deadline and say vault timed out', { timeout: 60000 }, async () => {
    const hung = await hungListener()
    const canary = `sk-k9-status-${randomBytes(6).toString('hex')}`
    const env = {
      HOME: emptyHome(),
      VAULT_ADDR: hung.addr,
      VAULT_TOKEN: canary,
      OPENCLAW_VAULT_LOOKUP_TIMEOUT_MS: '800',
    }
    try {
      const list = await cliAsync(['list', '--json'], env)
      assert.ok(!list.timedOut, '`list` did not end within 20 s')
      const listed = lastJson(list.stdout)
      assert.ok(listed, list.stdout + list.stderr)
      assert.deepEqual(
        listed.errors.filter((e) => e.provider === 'vault').map((e) => [e.provider, e.code]),
        [['vault', 'TIMEOUT']],
      )
      const status = await cliAsync(['status', '--json'], env)
      assert.ok(!status.timedOut, '`status` did not end within 20 s')
      assert.notEqual(status.code, 0)
      assert.match(status.stdout, /TIMEOUT|did not answer within 800 ms/)
      for (const r of [list, status]) assert.ok(!(r.stdout + r.stderr).includes(canary))
    } finally {
      await hung.close()
    }
  })

  test('a closed port is NETWORK, not TIMEOUT, when the deadline cuts the retries; the breaker opens with NETWORK', async () => {
    const home = emptyHome()
    const closed = await freePort()
    const canary = `sk-k9-closed-${randomBytes(6).toString('hex')}`
    // The client's default retries (2, about 1 s apart) outlast the 1.5 s deadline.
    const store = new CredentialStore({
      env: {
        HOME: home,
        VAULT_ADDR: `http://127.0.0.1:${closed}`,
        VAULT_TOKEN: canary,
        OPENCLAW_VAULT_KV_VERSION: '2',
      },
      cwd: home,
      config: { fallback: 'none' },
    })
    const first = await store.getCredential('k9-closed').catch((e) => e)
    assert.ok(first instanceof VaultError)
    assert.equal(first.code, 'NETWORK', first.message)
    await assertNoLeak(assert, first, [canary])
    const open = await store.getCredential('k9-closed-2').catch((e) => e)
    assert.equal(open.code, 'CIRCUIT_OPEN', open.message)
    assert.match(open.message, /after NETWORK/)
    await assertNoLeak(assert, open, [canary])
  })
})

describe('kind 10: fallback "none" means none', () => {
  for (const [what, extra] of [
    ['detected KV version', {}],
    ['kvVersion 2 configured', { OPENCLAW_VAULT_KV_VERSION: '2' }],
  ]) {
    test(`a mistyped KV mount (404 "no handler for route", ${what}): getCredential fails, no local value`, async () => {
      const home = sampleHome()
      const local = (await new CredentialStore({ env: { HOME: home }, cwd: home }).getCredential('telegram')).expose()
      const store = new CredentialStore({
        env: { HOME: home, ...vaultVars({ OPENCLAW_VAULT_KV_MOUNT: 'secrett', ...extra }) },
        cwd: home,
        config: { fallback: 'none' },
      })
      // The sample HOME holds `telegram` in openclaw.json: a local value is there to be (wrongly) used.
      const result = await store.getCredential('telegram').then(
        (c) => ({ resolved: c.source.provider }),
        (e) => e,
      )
      assert.ok(result instanceof VaultError, `resolved from ${result.resolved}`)
      assert.match(`${result.message} ${result.errors.join(' ')}`, /secrett|no handler/)
      await assertNoLeak(assert, result, [vault.token, local])
    })
  }
})

describe('kind 11: nested secrets stay hidden', () => {
  test('a Vault secret with an object field: JSON.stringify and util.inspect never show the canary', async () => {
    const canary = `oauth-client-secret-canary-${randomBytes(6).toString('hex')}`
    await admin.write(`${prefix}/credentials/k11`, {
      apiKey: 'sk-k11-api-key-value',
      oauthClient: { clientSecret: canary },
    })
    const c = await new CredentialStore({ env: { HOME: emptyHome(), ...vaultVars() } }).getCredential('k11')
    assert.equal(c.expose(), 'sk-k11-api-key-value')
    const shown = shownOf(c)
    assert.ok(!shown.includes(canary), shown)
    assert.ok(!shown.includes('sk-k11-api-key-value'), shown)
  })
})

describe('kind 12: wrong JS arguments are VaultErrors naming the argument', () => {
  /** The synchronous throw of `f`, or null. */
  const thrown = (f) => {
    try {
      f()
      return null
    } catch (e) {
      return e
    }
  }

  test('constructor options of the wrong type throw a VaultError naming the option', () => {
    for (const [options, name] of [
      [{ addr: undefined }, /addr/],
      [{ addr: 'http://127.0.0.1:8200', timeoutMs: '5000' }, /timeoutMs/],
    ]) {
      const e = thrown(() => new VaultClient(options))
      assert.ok(e instanceof VaultError, `${inspect(options)}: ${e?.constructor?.name} ${e?.code}: ${e?.message}`)
      assert.ok(['INVALID_CONFIG', 'INVALID_ARGUMENT'].includes(e.code), e.code)
      assert.match(e.message, name)
    }
  })

  /** Calls `f` expecting a promise (no synchronous throw) that rejects with INVALID_ARGUMENT naming `name`. */
  async function rejectsNaming(what, f, name) {
    let result
    const sync = thrown(() => {
      result = f()
    })
    assert.equal(sync, null, `${what} threw synchronously: ${sync?.code ?? sync?.constructor?.name}: ${sync?.message}`)
    assert.ok(result instanceof Promise, `${what} did not return a promise`)
    const err = await result.then(
      () => assert.fail(`${what} resolved`),
      (e) => e,
    )
    assert.ok(err instanceof VaultError, `${what}: ${err?.constructor?.name}: ${err?.message}`)
    assert.equal(err.code, 'INVALID_ARGUMENT', what)
    assert.match(err.message, name, what)
  }

  test('client.read(undefined) and read(path, { version: "2" }) reject with INVALID_ARGUMENT', async () => {
    const c = new VaultClient({ addr: vault.addr, token: vault.token, kvVersion: 2, renew: false })
    await rejectsNaming('read(undefined)', () => c.read(undefined), /path/)
    await rejectsNaming("read('a', { version: '2' })", () => c.read('a', { version: '2' }), /version/)
  })

  test('getCredential() and getCredential(42) reject with INVALID_ARGUMENT', async () => {
    await rejectsNaming('getCredential()', () => getCredential(), /name/)
    await rejectsNaming('getCredential(42)', () => getCredential(42), /name/)
  })

  test('every other exported function checks its arguments the same way', async () => {
    const c = new VaultClient({ addr: 'http://127.0.0.1:1', token: 'x', kvVersion: 2, renew: false })
    const store = new CredentialStore({ env: { HOME: emptyHome() } })
    const async = [
      ['write(1, {})', () => c.write(1, {}), /path/],
      ["write('a', 'x')", () => c.write('a', 'x'), /data/],
      ["patch('a', {}, { cas: '1' })", () => c.patch('a', {}, { cas: '1' }), /cas/],
      ['list(5)', () => c.list(5), /path/],
      ['delete()', () => c.delete(), /path/],
      ["destroy('a', '1')", () => c.destroy('a', '1'), /versions/],
      ["writeMetadata('a', 3)", () => c.writeMetadata('a', 3), /metadata/],
      ["subkeys('a', { depth: 'x' })", () => c.subkeys('a', { depth: 'x' }), /depth/],
      ["request(1, 'sys/health')", () => c.request(1, 'sys/health'), /method/],
      ['store.getCredential(null)', () => store.getCredential(null), /name/],
      ["store.getCredential('a', 5)", () => store.getCredential('a', 5), /options/],
      ["listCredentials({ order: 'vault' })", () => store.listCredentials({ order: 'vault' }), /order/],
      ["watchCredential('a', 'cb')", () => store.watchCredential('a', 'cb'), /callback/],
    ]
    for (const [what, f, name] of async) await rejectsNaming(what, f, name)
    for (const [what, f, name] of [
      ['new CredentialStore(5)', () => new CredentialStore(5), /options/],
      ["onTokenEvent('x')", () => c.onTokenEvent('x'), /callback/],
    ]) {
      const e = thrown(f)
      assert.ok(e instanceof VaultError, `${what}: ${e?.constructor?.name}: ${e?.message}`)
      assert.equal(e.code, 'INVALID_ARGUMENT', what)
      assert.match(e.message, name, what)
    }
  })
})

describe('kind 13: losing a race is not an error', () => {
  const expired = (access, refresh) => ({
    kind: 'oauth',
    accessToken: access,
    refreshToken: refresh,
    expiresAt: Date.now() - 1000,
  })

  test('another writer wins the cas during our refresh: we return its valid value, no CAS_MISMATCH', async () => {
    const name = 'k13-cas'
    const path = `${prefix}/credentials/${name}`
    await admin.write(path, expired('k13-access-0', 'k13-refresh-0'))
    const winner = {
      kind: 'oauth',
      accessToken: 'k13-access-WINNER',
      refreshToken: 'k13-refresh-W',
      expiresAt: Date.now() + 3_600_000,
    }
    const store = new CredentialStore({ env: { HOME: emptyHome(), ...vaultVars() } })
    const result = await store
      .getCredential(name, {
        refresh: async () => {
          // The other process's write-back lands first (cas on the version both read).
          await admin.write(path, winner, { cas: 1 })
          return { accessToken: 'k13-access-LOSER', refreshToken: 'k13-refresh-L', expiresIn: 3600 }
        },
      })
      .catch((e) => e)
    assert.ok(!(result instanceof Error), `${result.code}: ${result.message}`)
    assert.equal(result.expose('accessToken'), winner.accessToken)
    assert.ok(result.expiresAt > Date.now())
    const stored = await admin.read(path)
    assert.equal(stored.data.accessToken, winner.accessToken, 'the winner is not overwritten')
  })

  test(
    'a refresher killed while holding the refresh lease does not cost the next process 30 s',
    { timeout: 40000 },
    async () => {
      const name = 'k13-lease'
      await admin.write(`${prefix}/credentials/${name}`, expired('k13-lease-access-0', 'k13-lease-refresh-0'))
      const env = { HOME: emptyHome(), ...vaultVars() }
      const script = (refreshBody) => `
        const { CredentialStore } = require(${JSON.stringify(join(root, 'index.js'))})
        const store = new CredentialStore({ env: process.env })
        const started = Date.now()
        store.getCredential(${JSON.stringify(name)}, { refresh: async () => { ${refreshBody} } }).then(
          (c) => console.log(JSON.stringify({ ms: Date.now() - started, access: c.expose('accessToken') })),
          (e) => console.log(JSON.stringify({ ms: Date.now() - started, code: e.code, message: e.message })))`
      // The first process takes the lease, reaches its token endpoint and is killed there.
      const first = await runChild(
        script(`console.log('REFRESHING'); await new Promise(() => setInterval(() => {}, 1000))`),
        env,
        {
          deadlineMs: 15000,
          onLine: (line, child) => line === 'REFRESHING' && child.kill('SIGKILL'),
        },
      )
      assert.equal(first.signal, 'SIGKILL', `the first refresher never started: ${first.stdout} ${first.stderr}`)
      assert.ok(!first.timedOut)
      // The next one must not wait out the dead holder's lease.
      const next = await runChild(script(`return { accessToken: 'k13-lease-access-NEXT', expiresIn: 3600 }`), env, {
        deadlineMs: 10000,
      })
      assert.ok(!next.timedOut, `not done within 10 s: ${next.stdout}`)
      const report = lastJson(next.stdout)
      assert.equal(report?.access, 'k13-lease-access-NEXT', next.stdout + next.stderr)
    },
  )
})

describe('kind 14: nothing fails silently', () => {
  /** A HOME whose openclaw-vault.json holds `settings`. */
  const homeWithConfig = (settings) => {
    const home = emptyHome()
    mkdirSync(join(home, '.openclaw'), { mode: 0o700 })
    writeFileSync(join(home, '.openclaw', 'openclaw-vault.json'), JSON.stringify(settings), { mode: 0o600 })
    return home
  }

  test('an unknown key (`fallbak`) is a warning on stderr, once per process', async () => {
    const home = homeWithConfig({ fallbak: 'none' })
    const script = `
        const m = require(${JSON.stringify(join(root, 'index.js'))})
        ;(async () => {
          new m.CredentialStore({ env: { HOME: process.env.HOME } })
          new m.CredentialStore({ env: { HOME: process.env.HOME } })
          await m.getCredential('k14-nothing-1').catch(() => {})
          await m.getCredential('k14-nothing-2').catch(() => {})
          console.log('done')
        })()`
    const out = await runChild(script, { HOME: home }, { deadlineMs: 15000 })
    assert.equal(out.stdout.trim(), 'done', out.stderr)
    const mentions = out.stderr.split('\n').filter((l) => l.includes('fallbak'))
    assert.equal(mentions.length, 1, `stderr: ${JSON.stringify(out.stderr)}`)
    assert.match(mentions[0], /fallback/, 'with a did-you-mean')
  })

  test('`openclaw-vault status` shows the unknown key', () => {
    const home = homeWithConfig({ fallbak: 'none' })
    const r = cli(['status'], { env: { HOME: home } })
    assert.match(r.out + r.err, /openclaw-vault\.json: fallbak.*did you mean `fallback`/)
  })

  test('with `strict: true` an unknown key is an INVALID_CONFIG error naming it', () => {
    const home = homeWithConfig({ strict: true, fallbak: 'none' })
    let err = null
    try {
      new CredentialStore({ env: { HOME: home } })
    } catch (e) {
      err = e
    }
    assert.ok(err instanceof VaultError, 'the store opened despite the unknown key')
    assert.equal(err.code, 'INVALID_CONFIG')
    assert.match(err.message, /openclaw-vault\.json: fallbak/)
  })

  test("Codex's auth.json: an access token that is a JWT with `exp` gives expiresAt = exp * 1000", async () => {
    const home = sampleHome()
    const file = join(home, '.codex', 'auth.json')
    const doc = JSON.parse(readFileSync(file, 'utf8'))
    const exp = Math.floor(Date.now() / 1000) + 3600
    doc.tokens.access_token = unsignedJwt({ sub: 'k14-user', exp })
    writeFileSync(file, JSON.stringify(doc, null, 2), { mode: 0o600 })
    const c = await new CredentialStore({ env: { HOME: home }, cwd: home }).getCredential('codex', {
      order: ['files'],
    })
    assert.equal(c.source.provider, 'codex')
    assert.equal(c.expiresAt, exp * 1000)
  })

  test('`resolve` with ids [""] answers an error for that id', async () => {
    await admin.write(`${prefix}/k14/app`, { apiKey: 'sk-k14-resolve-value' })
    const good = `${prefix}/k14/app/apiKey`
    const input = JSON.stringify({ protocolVersion: 1, provider: 'vault', ids: ['', good] })
    const out = await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [resolver], {
        env: { VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token },
        cwd: root,
      })
      let stdout = ''
      child.stdout.on('data', (d) => (stdout += d))
      child.stderr.resume()
      child.once('error', reject)
      child.once('close', (code) => resolve({ code, stdout }))
      child.stdin.end(input)
    })
    const json = JSON.parse(out.stdout)
    assert.equal(json.values[good], 'sk-k14-resolve-value')
    assert.ok(Object.hasOwn(json.errors, ''), `no answer for "": ${out.stdout}`)
    assert.ok(!Object.hasOwn(json.values, ''))
  })

  const noSecretService =
    !process.env.DBUS_SESSION_BUS_ADDRESS && 'no Secret Service session here (run under scripts/with-secret-service.sh)'
  test('a bare token stored with secret-tool is a token, not "not valid JSON"', { skip: noSecretService }, async () => {
    const name = `ocv-k14-${process.pid}-${randomBytes(3).toString('hex')}`
    const value = `k14-bare-token-${randomBytes(8).toString('hex')}`
    const attrs = ['service', 'openclaw-vault', 'username', name]
    const stored = spawnSync('secret-tool', ['store', '--label', `openclaw-vault ${name}`, ...attrs], {
      input: value,
      encoding: 'utf8',
    })
    assert.equal(stored.status, 0, stored.stderr)
    try {
      const home = emptyHome()
      const env = { HOME: home, DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS }
      const result = await new CredentialStore({ env, cwd: home })
        .getCredential(name, { order: ['keychain'] })
        .catch((e) => e)
      if (result instanceof Error) await assertNoLeak(assert, result, [value])
      assert.ok(!(result instanceof Error), `${result.code}: ${result.message}`)
      assert.equal(result.source.provider, 'keychain')
      assert.equal(result.kind, 'token')
      assert.equal(result.expose(), value)
    } finally {
      spawnSync('secret-tool', ['clear', ...attrs])
    }
  })
})
