// Answers a client must survive, injected by the project's fault proxy in front of a real Vault:
// every status and body here is one the proxy serves or a real server gave.
import assert from 'node:assert/strict'
import { after, afterEach, before, describe, test } from 'node:test'

import { VaultClient, VaultError } from '../index.js'
import {
  assertNoLeak,
  readApiKeyScript,
  removeTree,
  runNodeJson,
  startFaultProxy,
  startVault,
  uniquePrefix,
} from './support/vault-server.mjs'

let vault
let proxy
let client
let once // no retries: one request, one answer
const p = uniquePrefix('faults')
const secretValue = 'sk-fault-secret-value-42'

before(async () => {
  vault = await startVault()
  proxy = await startFaultProxy(vault.addr)
  client = new VaultClient({ addr: proxy.addr, token: vault.token, timeoutMs: 2000, retryBackoffMs: 10 })
  once = new VaultClient({ addr: proxy.addr, token: vault.token, timeoutMs: 2000, maxRetries: 0, kvVersion: 2 })
  await client.write(`${p}/app`, { apiKey: secretValue })
})

afterEach(async () => {
  await proxy.clearRules()
  await proxy.clearRequests()
})

after(async () => {
  await proxy?.stop()
  if (vault) await removeTree(vault, p)
  await vault?.stop()
})

const dataPath = () => `^/v1/secret/data/${p}/app$`

async function failingRead(rule) {
  await proxy.rule({ path: dataPath(), times: 1, ...rule })
  const err = await once.read(`${p}/app`).catch((e) => e)
  assert.ok(err instanceof VaultError, `expected a VaultError, got ${err}`)
  await assertNoLeak(assert, err, [vault.token, secretValue])
  return err
}

describe('status codes map to error codes', () => {
  const cases = [
    [429, '{"errors":["request path \\"secret/data/app\\": rate limit quota exceeded"]}', 'RATE_LIMITED'],
    [503, '{"errors":["Vault is sealed"]}', 'SEALED'],
    [500, '{"errors":["internal error"]}', 'SERVER_ERROR'],
    [501, '{"errors":[]}', 'SERVER_ERROR'],
    [502, '<html>bad gateway</html>', 'SERVER_ERROR'],
    [412, '{"errors":["required index state not present"]}', 'PRECONDITION_FAILED'],
    [413, '{"errors":["http: request body too large"]}', 'INVALID_REQUEST'],
    [405, '{"errors":[]}', 'UNSUPPORTED_OPERATION'],
  ]
  for (const [status, body, code] of cases) {
    test(`${status} is ${code}`, async () => {
      const err = await failingRead({ action: { type: 'status', status, body } })
      assert.equal(err.code, code)
      assert.equal(err.status, status)
      assert.equal(err.path, `/v1/secret/data/${p}/app`)
    })
  }

  test('Vault errors strings are kept verbatim', async () => {
    const err = await failingRead({
      action: {
        type: 'status',
        status: 429,
        body: '{"errors":["rate limit quota exceeded"]}',
        headers: { 'Retry-After': '1' },
      },
    })
    assert.deepEqual(err.errors, ['rate limit quota exceeded'])
  })
})

describe('broken answers', () => {
  test('a body that is not JSON is BAD_RESPONSE', async () => {
    const err = await failingRead({ action: { type: 'canned', status: 200, body: 'not json at all' } })
    assert.equal(err.code, 'BAD_RESPONSE')
    assert.equal(err.status, 200)
  })

  test('JSON of the wrong shape is BAD_RESPONSE', async () => {
    const err = await failingRead({
      action: { type: 'canned', status: 200, body: '{"data":{"data":"a string","metadata":{"version":"x"}}}' },
    })
    assert.equal(err.code, 'BAD_RESPONSE')
  })

  test('a body larger than maxResponseBytes is BAD_RESPONSE', async () => {
    const small = new VaultClient({ addr: proxy.addr, token: vault.token, maxResponseBytes: 4096, kvVersion: 2 })
    await proxy.rule({ path: dataPath(), times: 1, action: { type: 'oversized', bytes: 1_000_000 } })
    const err = await small.read(`${p}/app`).catch((e) => e)
    assert.equal(err.code, 'BAD_RESPONSE')
    assert.match(err.message, /larger than the 4096 byte limit/)
  })

  test('a body over the default 32 MiB cap is refused', async () => {
    await proxy.rule({ path: dataPath(), times: 1, action: { type: 'oversized', bytes: 33 * 1024 * 1024 } })
    const err = await once.read(`${p}/app`).catch((e) => e)
    assert.equal(err.code, 'BAD_RESPONSE')
  })

  test('a connection closed mid-response is NETWORK', async () => {
    const err = await failingRead({ action: { type: 'close_mid_response', status: 200, bytes: 10 } })
    assert.equal(err.code, 'NETWORK')
  })

  test('a connection closed without an answer is NETWORK', async () => {
    const err = await failingRead({ action: { type: 'close' } })
    assert.equal(err.code, 'NETWORK')
  })

  test('an answer slower than timeoutMs is TIMEOUT', async () => {
    const err = await failingRead({ action: { type: 'delay', ms: 5000 } })
    assert.equal(err.code, 'TIMEOUT')
  })

  test('a 307 is not followed by the HTTP library', async () => {
    const err = await failingRead({ action: { type: 'redirect', location: 'http://127.0.0.1:9/' } })
    assert.equal(err.status, 307)
    const seen = await proxy.requests()
    assert.equal(seen.length, 1, 'no request went anywhere after the redirect')
  })

  test('nothing is listed whether Vault answers 404 or 200 with data: {}', async () => {
    await proxy.rule({
      method: 'LIST',
      path: `^/v1/secret/metadata/${p}/empty/$`,
      times: 1,
      action: {
        type: 'canned',
        status: 200,
        body: '{"request_id":"r","lease_id":"","renewable":false,"lease_duration":0,"data":{},"wrap_info":null,"warnings":null,"auth":null}',
      },
    })
    assert.deepEqual(await client.list(`${p}/empty`), [])
    assert.deepEqual(await client.list(`${p}/empty`), [])
  })

  test('a 204 on a read endpoint is accepted where Vault may answer 200 or 204', async () => {
    await proxy.rule({
      method: 'DELETE',
      path: dataPath(),
      times: 1,
      action: { type: 'canned', status: 200, body: '{"request_id":"r","data":null,"warnings":["w"]}' },
    })
    await client.delete(`${p}/app`)
  })
})

describe('patch falls back to read + write with cas on 405', () => {
  test('the fallback merges and writes with the current version as cas', async () => {
    await client.write(`${p}/pf`, { a: '1', b: '2' })
    await proxy.clearRequests()
    await proxy.rule({
      method: 'PATCH',
      path: `^/v1/secret/data/${p}/pf$`,
      times: 1,
      action: { type: 'status', status: 405 },
    })
    const m = await client.patch(`${p}/pf`, { b: null, c: '3' })
    assert.equal(m.version, 2)
    assert.deepEqual((await client.read(`${p}/pf`)).data, { a: '1', c: '3' })
    const log = await proxy.requests()
    const methods = log.filter((r) => r.path.endsWith(`${p}/pf`)).map((r) => r.method)
    assert.deepEqual(methods, ['PATCH', 'GET', 'POST', 'GET'])
  })

  test('the fallback honours a stale cas', async () => {
    await proxy.rule({
      method: 'PATCH',
      path: `^/v1/secret/data/${p}/pf$`,
      times: 1,
      action: { type: 'status', status: 405 },
    })
    const err = await client.patch(`${p}/pf`, { d: '4' }, { cas: 1 }).catch((e) => e)
    assert.equal(err.code, 'CAS_MISMATCH')
  })
})

describe('what the client sends', () => {
  test('X-Vault-Request: true and the token header on every request, merge-patch on PATCH', async () => {
    await client.read(`${p}/app`)
    await client.patch(`${p}/app`, { extra: 'x' })
    const log = await proxy.requests()
    assert.ok(log.length >= 2)
    for (const r of log) {
      assert.equal(r.headers['x-vault-request'], 'true')
      assert.equal(r.headers['x-vault-token'], '<redacted>')
    }
    const patch = log.find((r) => r.method === 'PATCH')
    assert.equal(patch.headers['content-type'], 'application/merge-patch+json')
  })

  test('the namespace goes in X-Vault-Namespace', async () => {
    const ns = new VaultClient({ addr: proxy.addr, token: vault.token, namespace: 'team-a/', kvVersion: 2 })
    await proxy.rule({ path: dataPath(), times: 1, action: { type: 'canned', status: 404, body: '{"errors":[]}' } })
    assert.equal(await ns.read(`${p}/app`), null)
    const [r] = await proxy.requests()
    assert.equal(r.headers['x-vault-namespace'], 'team-a')
  })

  test('KV version detection is one request, shared by concurrent first calls', async () => {
    const fresh = new VaultClient({ addr: proxy.addr, token: vault.token })
    await Promise.all(Array.from({ length: 8 }, () => fresh.read(`${p}/app`)))
    const log = await proxy.requests()
    assert.equal(log.filter((r) => r.path.startsWith('/v1/sys/internal/ui/mounts/')).length, 1)
    assert.equal(log.filter((r) => r.path === `/v1/secret/data/${p}/app`).length, 8)
  })

  test('key names are percent-encoded, so ? and # stay in the path', async () => {
    await client.write(`${p}/odd name?#x`, { k: 'v' })
    assert.deepEqual((await client.read(`${p}/odd name?#x`)).data, { k: 'v' })
    const log = await proxy.requests()
    assert.ok(log.every((r) => r.query === null || !r.query.includes('#')))
  })
})

describe('retries (connection errors, 412, 429, 5xx except 501)', () => {
  const read = () => client.read(`${p}/app`)
  const hits = async () => (await proxy.requests()).filter((r) => r.path === `/v1/secret/data/${p}/app`)

  test('transient 503s and a dropped connection are retried until the answer comes', async () => {
    await proxy.rule({ path: dataPath(), times: 1, action: { type: 'status', status: 503, body: '{"errors":["x"]}' } })
    await proxy.rule({ path: dataPath(), times: 1, action: { type: 'close' } })
    assert.deepEqual((await read()).data.apiKey, secretValue)
    const seen = await hits()
    assert.deepEqual(
      seen.map((r) => r.status),
      [503, null, 200],
    )
  })

  for (const status of [412, 429, 500, 502]) {
    test(`${status} is retried`, async () => {
      await proxy.rule({ path: dataPath(), times: 2, action: { type: 'status', status } })
      assert.equal((await read()).data.apiKey, secretValue)
      assert.equal((await hits()).length, 3)
    })
  }

  test('retries stop at maxRetries and surface the last error', async () => {
    await proxy.rule({
      path: dataPath(),
      times: 2,
      action: { type: 'status', status: 500, body: '{"errors":["first"]}' },
    })
    await proxy.rule({ path: dataPath(), action: { type: 'status', status: 503, body: '{"errors":["last"]}' } })
    const err = await read().catch((e) => e)
    assert.equal(err.code, 'SERVER_ERROR')
    assert.deepEqual(err.errors, ['last'])
    assert.equal((await hits()).length, 3, 'one attempt and two retries (the default)')
    await proxy.clearRequests()
    const five = new VaultClient({
      addr: proxy.addr,
      token: vault.token,
      maxRetries: 5,
      retryBackoffMs: 1,
      kvVersion: 2,
    })
    await five.read(`${p}/app`).catch((e) => e)
    assert.equal((await hits()).length, 6)
  })

  for (const status of [400, 403, 404, 501]) {
    test(`${status} is never retried`, async () => {
      await proxy.rule({ path: dataPath(), action: { type: 'status', status } })
      await read().catch((e) => e)
      assert.equal((await hits()).length, 1)
    })
  }

  test('Retry-After in seconds and as an RFC 1123 date with UTC is honoured', async () => {
    // A backoff of one minute would time the test out: the 0 s Retry-After must replace it.
    const slow = new VaultClient({ addr: proxy.addr, token: vault.token, retryBackoffMs: 60000, kvVersion: 2 })
    await proxy.rule({
      path: dataPath(),
      times: 1,
      action: { type: 'status', status: 429, headers: { 'Retry-After': '0' } },
    })
    const past = new Date(Date.now() - 5000).toUTCString().replace('GMT', 'UTC')
    await proxy.rule({
      path: dataPath(),
      times: 1,
      action: { type: 'status', status: 503, headers: { 'Retry-After': past } },
    })
    assert.equal((await slow.read(`${p}/app`)).data.apiKey, secretValue)
    assert.equal((await hits()).length, 3)
  })

  test('Retry-After is capped by maxRetryWaitMs', async () => {
    const capped = new VaultClient({ addr: proxy.addr, token: vault.token, maxRetryWaitMs: 20, kvVersion: 2 })
    await proxy.rule({
      path: dataPath(),
      times: 1,
      action: { type: 'status', status: 429, headers: { 'Retry-After': '3600' } },
    })
    assert.equal((await capped.read(`${p}/app`)).data.apiKey, secretValue)
  })

  test('a write is retried with the same body when it surely did not run (429), or carries cas (502)', async () => {
    // 429: Vault's quota refuses before running anything. A 502 may come after the write ran
    // (docs/high-availability.md): only a cas write, which cannot run twice, is sent again.
    for (const [status, name, options] of [
      [429, 'retried-write', undefined],
      [502, 'retried-cas-write', { cas: 0 }],
    ]) {
      await proxy.clearRequests()
      await proxy.rule({
        method: 'POST',
        path: `^/v1/secret/data/${p}/${name}$`,
        times: 1,
        action: { type: 'status', status },
      })
      const m = await client.write(`${p}/${name}`, { k: 'same-body' }, options)
      assert.equal(m.version, 1)
      assert.deepEqual((await client.read(`${p}/${name}`)).data, { k: 'same-body' })
      const posts = (await proxy.requests()).filter((r) => r.method === 'POST')
      assert.equal(posts.length, 2, String(status))
      assert.equal(posts[0].body_len, posts[1].body_len)
    }
  })
})

describe('307 redirects', () => {
  test('a 307 to the same origin is followed once, with the token', async () => {
    await proxy.rule({ path: dataPath(), times: 1, action: { type: 'redirect', location: proxy.addr } })
    assert.deepEqual((await client.read(`${p}/app`)).data.apiKey, secretValue)
    const log = await proxy.requests()
    assert.deepEqual(
      log.map((r) => r.status),
      [307, 200],
    )
    assert.equal(log[1].headers['x-vault-token'], '<redacted>')
  })

  test('a second redirect is not followed', async () => {
    await proxy.rule({ path: dataPath(), action: { type: 'redirect', location: proxy.addr } })
    const err = await once.read(`${p}/app`).catch((e) => e)
    assert.equal(err.code, 'BAD_RESPONSE')
    assert.equal(err.status, 307)
    assert.equal((await proxy.requests()).length, 2)
  })

  test('a 307 to another origin is refused unless allowed, and then the token goes along', async () => {
    // The real server's own address is another origin than the proxy's.
    await proxy.rule({ path: dataPath(), action: { type: 'redirect', location: vault.addr } })
    const err = await once.read(`${p}/app`).catch((e) => e)
    assert.equal(err.code, 'BAD_RESPONSE')
    assert.match(err.message, /another origin/)
    await assertNoLeak(assert, err, [vault.token])
    const allowed = new VaultClient({ addr: proxy.addr, token: vault.token, kvVersion: 2, redirectToOtherOrigin: true })
    assert.equal((await allowed.read(`${p}/app`)).data.apiKey, secretValue)
  })
})

describe('X-Vault-Index', () => {
  test('is echoed on later requests once the server sends it', async () => {
    const fresh = new VaultClient({ addr: proxy.addr, token: vault.token, kvVersion: 2 })
    await fresh.read(`${p}/app`)
    await proxy.rule({
      method: 'POST',
      path: `^/v1/secret/data/${p}/indexed$`,
      times: 1,
      action: {
        type: 'canned',
        status: 200,
        headers: { 'X-Vault-Index': 'index-state-abc' },
        body: '{"request_id":"r","data":{"created_time":"2026-01-01T00:00:00Z","custom_metadata":null,"deletion_time":"","destroyed":false,"version":7}}',
      },
    })
    assert.equal((await fresh.write(`${p}/indexed`, { a: 'b' })).version, 7)
    await fresh.read(`${p}/app`)
    const log = await proxy.requests()
    assert.equal(log[0].headers['x-vault-index'], undefined, 'not sent before the server sent one')
    assert.equal(log.at(-1).headers['x-vault-index'], 'index-state-abc')
  })
})

describe('HTTP proxy', () => {
  test('the proxy option sends every request through the proxy', async () => {
    // vault.invalid cannot resolve: the read works only if it went to the proxy, which forwards it.
    const viaProxy = new VaultClient({
      addr: 'http://vault.invalid:8200',
      token: vault.token,
      kvVersion: 2,
      proxy: proxy.addr,
    })
    assert.equal((await viaProxy.read(`${p}/app`)).data.apiKey, secretValue)
    const reads = (await proxy.requests()).filter((r) => r.path === `/v1/secret/data/${p}/app`)
    assert.equal(reads.length, 1)
    assert.equal(reads[0].headers.host, 'vault.invalid:8200')
  })

  test('VAULT_HTTP_PROXY and HTTP_PROXY with NO_PROXY, through fromEnv', async () => {
    const run = (env) =>
      runNodeJson(readApiKeyScript(`${p}/app`), {
        VAULT_TOKEN: vault.token,
        OPENCLAW_VAULT_KV_VERSION: '2',
        VAULT_MAX_RETRIES: '0',
        ...env,
      })
    const expected = { apiKey: secretValue }
    assert.deepEqual(run({ VAULT_ADDR: 'http://vault.invalid:8200', VAULT_HTTP_PROXY: proxy.addr }), expected)
    assert.deepEqual(run({ VAULT_ADDR: 'http://vault.invalid:8200', HTTP_PROXY: proxy.addr }), expected)
    // NO_PROXY lets the request bypass the proxy: it then fails to resolve the host.
    assert.equal(
      run({ VAULT_ADDR: 'http://vault.invalid:8200', HTTP_PROXY: proxy.addr, NO_PROXY: '.invalid' }).code,
      'NETWORK',
    )
    const reads = (await proxy.requests()).filter((r) => r.path === `/v1/secret/data/${p}/app`)
    assert.equal(reads.length, 2, 'the NO_PROXY run did not go through the proxy')
  })
})

describe('token renewal through faults', () => {
  test('a failing renew-self is reported as renewal_failed, without the token', { timeout: 30000 }, async () => {
    const created = await fetch(`${vault.addr}/v1/auth/token/create`, {
      method: 'POST',
      headers: { 'X-Vault-Token': vault.token },
      body: JSON.stringify({ policies: ['default'], ttl: '3s' }),
    }).then((r) => r.json())
    const token = created.auth.client_token
    await proxy.rule({
      method: 'POST',
      path: '^/v1/auth/token/renew-self$',
      action: { type: 'status', status: 500, body: '{"errors":["storage is down"]}' },
    })
    const c = new VaultClient({ addr: proxy.addr, token, kvVersion: 2, maxRetries: 0 })
    const failed = new Promise((resolve) =>
      c.onTokenEvent((e) => {
        if (e.kind === 'renewal_failed') resolve(e)
      }),
    )
    assert.deepEqual((await c.lookupSelf()).policies, ['default'])
    const event = await failed
    assert.match(event.error, /storage is down/)
    assert.ok(!JSON.stringify(event).includes(token))
    c.close()
    const renewals = (await proxy.requests()).filter((r) => r.path === '/v1/auth/token/renew-self')
    assert.ok(renewals.length >= 1)
    assert.equal(renewals[0].headers['x-vault-token'], '<redacted>')
  })
})
