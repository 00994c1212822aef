// Bad input: each is a VaultError naming what and where, raised before any request; never a
// crash, never an unhandled rejection, never the secret.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createServer } from 'node:http'

import { VaultClient, VaultError } from '../index.js'
import { assertNoLeak } from './support/vault-server.mjs'

const token = 'hvs.bad-input-token-abcdef123456'

// A server that fails the test if anything reaches it: bad input must be refused locally.
async function tripwire() {
  let hits = 0
  const srv = createServer((req, res) => {
    hits++
    res.writeHead(500).end()
  })
  await new Promise((r) => srv.listen(0, '127.0.0.1', r))
  return {
    addr: `http://127.0.0.1:${srv.address().port}`,
    hits: () => hits,
    close: () => new Promise((r) => srv.close(r)),
  }
}

test('bad addresses are INVALID_CONFIG naming addr', async () => {
  for (const addr of ['ftp://vault:8200', 'vault:8200', 'http://', 'not a url', '', 'http://u:hunter2@vault:8200']) {
    let err
    try {
      new VaultClient({ addr, token })
    } catch (e) {
      err = e
    }
    assert.ok(err instanceof VaultError, `addr ${JSON.stringify(addr)} was accepted`)
    assert.equal(err.code, 'INVALID_CONFIG')
    assert.match(err.message, /addr/)
    await assertNoLeak(assert, err, [token, 'hunter2'])
  }
})

test('an empty token, bad kvVersion, bad timeoutMs are INVALID_CONFIG naming the option', () => {
  const cases = [
    [{ token: '' }, /token/],
    [{ token: '   ' }, /token/],
    [{ kvVersion: 3 }, /kvVersion/],
    [{ timeoutMs: -1 }, /timeoutMs/],
    [{ timeoutMs: 0 }, /timeoutMs/],
    [{ mount: '' }, /mount/],
    [{ mount: 'a/../b' }, /mount/],
    [{ maxResponseBytes: 10 }, /maxResponseBytes/],
  ]
  for (const [extra, re] of cases) {
    assert.throws(
      () => new VaultClient({ addr: 'http://127.0.0.1:8200', token, ...extra }),
      (e) => {
        assert.ok(e instanceof VaultError)
        assert.equal(e.code, 'INVALID_CONFIG')
        assert.match(e.message, re)
        return true
      },
    )
  }
})

test('bad paths, data, versions reject with INVALID_ARGUMENT before any request', async () => {
  const srv = await tripwire()
  const c = new VaultClient({ addr: srv.addr, token, kvVersion: 2 })
  const cases = [
    [() => c.read(''), /path/],
    [() => c.read('a//b'), /segment 2 is empty/],
    [() => c.read('a/./b'), /segment 2/],
    [() => c.read('../etc/passwd'), /segment 1/],
    [() => c.read('a\u0000b'), /control character/],
    [() => c.read('a\nb'), /control character/],
    [() => c.write('a', 'sk-string-secret'), /data must be an object/],
    [() => c.write('a', ['sk-array-secret']), /data must be an object/],
    [() => c.write('a', null), /data must be an object/],
    [() => c.read('a', { version: 0 }), /version must be a positive integer/],
    [() => c.read('a', { version: 1.5 }), /version/],
    [() => c.read('a', { version: -2 }), /version/],
    [() => c.write('a', { k: 'v' }, { cas: -1 }), /cas/],
    [() => c.destroy('a', []), /at least one version/],
    [() => c.undelete('a', [1, 0]), /versions\[1\]/],
    [() => c.subkeys('a', { depth: 0.5 }), /depth/],
    [() => c.writeMetadata('a', { maxVersions: -3 }), /maxVersions/],
    [() => c.request('TRACE', 'sys/health'), /method/],
  ]
  for (const [call, re] of cases) {
    const err = await call().then(
      () => null,
      (e) => e,
    )
    assert.ok(err instanceof VaultError, `${call} did not reject with a VaultError`)
    assert.equal(err.code, 'INVALID_ARGUMENT', `${call}: ${err.code} ${err.message}`)
    assert.match(err.message, re)
    await assertNoLeak(assert, err, [token, 'sk-string-secret', 'sk-array-secret'])
  }
  assert.equal(srv.hits(), 0, 'no request may reach the server')
  await srv.close()
})

test('a refused connection is NETWORK, not a crash', async () => {
  const c = new VaultClient({ addr: 'http://127.0.0.1:9', token, kvVersion: 2 })
  const err = await c.read('x').catch((e) => e)
  assert.equal(err.code, 'NETWORK')
  assert.equal(err.path, '/v1/secret/data/x')
  await assertNoLeak(assert, err, [token])
})

test('fromEnv reads the variables and names a bad one', async () => {
  const { execFileSync } = await import('node:child_process')
  const script = `
    const { VaultClient } = require(${JSON.stringify(new URL('../index.js', import.meta.url).pathname)});
    try { const c = VaultClient.fromEnv(); console.log(JSON.stringify({ addr: c.addr, mount: c.mount })) }
    catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }`
  const run = (env) =>
    JSON.parse(
      execFileSync(process.execPath, ['-e', script], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' }),
    )
  assert.deepEqual(run({ VAULT_ADDR: 'http://10.1.2.3:8200', VAULT_TOKEN: token, OPENCLAW_VAULT_KV_MOUNT: 'kv' }), {
    addr: 'http://10.1.2.3:8200',
    mount: 'kv',
  })
  const bad = run({ VAULT_ADDR: 'http://x:1', OPENCLAW_VAULT_KV_VERSION: 'three' })
  assert.equal(bad.code, 'INVALID_CONFIG')
  assert.match(bad.message, /OPENCLAW_VAULT_KV_VERSION/)
  const badAddr = run({ VAULT_ADDR: 'gopher://x' })
  assert.match(badAddr.message, /VAULT_ADDR/)
})

test('import and require give the same classes; the exports map carries types', async () => {
  const { createRequire } = await import('node:module')
  const require = createRequire(import.meta.url)
  const cjs = require('@openclaw/vault')
  const esm = await import('@openclaw/vault')
  assert.equal(cjs.VaultClient, esm.VaultClient)
  assert.equal(cjs.VaultError, esm.VaultError)
  const pkg = require('../package.json')
  assert.equal(pkg.exports['.'].types, './index.d.ts')
})
