// TLS against real Vault listeners: certificates are generated here, at test time, with openssl;
// the dev server gets two extra listeners from a config file: TLS, and TLS that requires a client
// certificate.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { VaultClient, VaultError } from '../index.js'
import { CLIENT_EXT, SERVER_EXT, makeCa, makeLeaf, tlsListener } from './support/certs.mjs'
import { assertNoLeak, freePort, readApiKeyScript, runNodeJson, startVault } from './support/vault-server.mjs'

const dir = mkdtempSync(join(tmpdir(), 'ocv-tls-'))
const f = (name) => join(dir, name)
let vault
let tlsAddr
let mtlsAddr
let tlsPort

before(async () => {
  for (const ca of ['server-ca', 'client-ca', 'unknown-ca']) makeCa(dir, ca)
  makeLeaf(dir, 'server', 'server-ca', SERVER_EXT)
  makeLeaf(dir, 'client', 'client-ca', CLIENT_EXT)
  writeFileSync(f('not-pem.pem'), 'this is not a certificate\n')
  tlsPort = await freePort()
  const mtlsPort = await freePort()
  writeFileSync(f('listeners.hcl'), tlsListener(dir, tlsPort) + tlsListener(dir, mtlsPort, { clientCa: 'client-ca' }))
  vault = await startVault({ extraArgs: [`-config=${f('listeners.hcl')}`] })
  tlsAddr = `https://127.0.0.1:${tlsPort}`
  mtlsAddr = `https://127.0.0.1:${mtlsPort}`
  const c = new VaultClient({ addr: vault.addr, token: vault.token })
  await c.write('tls-test/app', { apiKey: 'sk-over-tls' })
})

after(async () => {
  await vault?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const read = (addr, tls, extra = {}) =>
  // renew: false — these clients test TLS, not the background token lookup renewal makes.
  new VaultClient({ addr, token: vault.token, kvVersion: 2, maxRetries: 0, renew: false, tls, ...extra }).read(
    'tls-test/app',
  )

describe('server verification', { skip: !!process.env.VAULT_TEST_ADDR && 'needs the dev server started here' }, () => {
  test('the right CA is accepted', async () => {
    assert.equal((await read(tlsAddr, { caCert: f('server-ca.pem') })).data.apiKey, 'sk-over-tls')
  })

  test('a CA directory is accepted', async () => {
    const caDir = mkdtempSync(join(dir, 'cadir-'))
    writeFileSync(join(caDir, 'a.pem'), execFileSync('cat', [f('unknown-ca.pem')]))
    writeFileSync(join(caDir, 'b.pem'), execFileSync('cat', [f('server-ca.pem')]))
    writeFileSync(join(caDir, 'README'), 'not a certificate')
    assert.equal((await read(tlsAddr, { caPath: caDir })).data.apiKey, 'sk-over-tls')
  })

  for (const [what, tls] of [
    ['the system roots alone', undefined],
    ['an unknown CA', { caCert: f('unknown-ca.pem') }],
  ]) {
    test(`${what} refuse the server: TLS_ERROR, nothing leaked`, async () => {
      const err = await read(tlsAddr, tls).catch((e) => e)
      assert.ok(err instanceof VaultError)
      assert.equal(err.code, 'TLS_ERROR')
      assert.match(err.message, /certificate|UnknownIssuer/i)
      await assertNoLeak(assert, err, [vault.token])
    })
  }

  test('a wrong host name is refused; serverName sets the name to check', async () => {
    const wrong = await read(tlsAddr, { caCert: f('server-ca.pem'), serverName: 'vault.other.example' }).catch((e) => e)
    assert.equal(wrong.code, 'TLS_ERROR')
    assert.match(wrong.message, /NotValidForName|certificate/i)
    const named = await read(`https://127.0.0.1:${tlsPort}`, { caCert: f('server-ca.pem'), serverName: 'localhost' })
    assert.equal(named.data.apiKey, 'sk-over-tls')
  })

  test('skipVerify accepts an unknown certificate', async () => {
    assert.equal((await read(tlsAddr, { skipVerify: true })).data.apiKey, 'sk-over-tls')
  })
})

describe('mutual TLS', { skip: !!process.env.VAULT_TEST_ADDR && 'needs the dev server started here' }, () => {
  test('without a client certificate the server refuses the handshake', async () => {
    const err = await read(mtlsAddr, { caCert: f('server-ca.pem') }).catch((e) => e)
    assert.equal(err.code, 'TLS_ERROR')
  })

  test('cert auth: the client certificate is the login', async () => {
    const admin = (method, path, body) =>
      fetch(`${vault.addr}/v1/${path}`, {
        method,
        headers: { 'X-Vault-Token': vault.token },
        body: JSON.stringify(body),
      })
    assert.equal((await admin('POST', 'sys/auth/cert', { type: 'cert' })).status, 204)
    await admin('PUT', 'sys/policies/acl/ocv-tls-read', {
      policy: 'path "secret/data/tls-test/*" { capabilities = ["read"] }',
    })
    const role = await admin('POST', 'auth/cert/certs/gateway', {
      certificate: readFileSync(f('client-ca.pem'), 'utf8'),
      token_policies: ['ocv-tls-read'],
    })
    assert.equal(role.status, 204)
    const c = new VaultClient({
      addr: mtlsAddr,
      kvVersion: 2,
      maxRetries: 0,
      tls: { caCert: f('server-ca.pem'), clientCert: f('client.pem'), clientKey: f('client.key') },
      auth: { method: 'cert', role: 'gateway' },
    })
    assert.equal((await c.read('tls-test/app')).data.apiKey, 'sk-over-tls')
    const me = await c.lookupSelf()
    assert.ok(me.policies.includes('ocv-tls-read'), me.policies.join())
    assert.equal(me.path, 'auth/cert/login')
  })

  test('with the client certificate and key it works', async () => {
    const s = await read(mtlsAddr, {
      caCert: f('server-ca.pem'),
      clientCert: f('client.pem'),
      clientKey: f('client.key'),
    })
    assert.equal(s.data.apiKey, 'sk-over-tls')
  })
})

describe('environment', { skip: !!process.env.VAULT_TEST_ADDR && 'needs the dev server started here' }, () => {
  const run = (env) =>
    runNodeJson(readApiKeyScript('tls-test/app'), {
      VAULT_TOKEN: vault.token,
      OPENCLAW_VAULT_KV_VERSION: '2',
      VAULT_MAX_RETRIES: '0',
      ...env,
    })

  test('VAULT_CACERT, VAULT_CLIENT_CERT + VAULT_CLIENT_KEY, VAULT_TLS_SERVER_NAME', () => {
    assert.deepEqual(run({ VAULT_ADDR: tlsAddr, VAULT_CACERT: f('server-ca.pem') }), { apiKey: 'sk-over-tls' })
    assert.deepEqual(
      run({
        VAULT_ADDR: mtlsAddr,
        VAULT_CACERT: f('server-ca.pem'),
        VAULT_CLIENT_CERT: f('client.pem'),
        VAULT_CLIENT_KEY: f('client.key'),
      }),
      { apiKey: 'sk-over-tls' },
    )
    const wrongName = run({
      VAULT_ADDR: tlsAddr,
      VAULT_CACERT: f('server-ca.pem'),
      VAULT_TLS_SERVER_NAME: 'nope.example',
    })
    assert.equal(wrongName.code, 'TLS_ERROR')
  })

  test('VAULT_SKIP_VERIFY is a boolean: true skips, false and 0 keep verification, anything else is an error', () => {
    assert.deepEqual(run({ VAULT_ADDR: tlsAddr, VAULT_SKIP_VERIFY: 'true' }), { apiKey: 'sk-over-tls' })
    for (const v of ['false', '0']) assert.equal(run({ VAULT_ADDR: tlsAddr, VAULT_SKIP_VERIFY: v }).code, 'TLS_ERROR')
    const bad = run({ VAULT_ADDR: tlsAddr, VAULT_SKIP_VERIFY: 'banana' })
    assert.equal(bad.code, 'INVALID_CONFIG')
    assert.match(bad.message, /VAULT_SKIP_VERIFY/)
  })

  test('NODE_EXTRA_CA_CERTS adds to the system roots, as OpenClaw resolver honours it', () => {
    assert.deepEqual(run({ VAULT_ADDR: tlsAddr, NODE_EXTRA_CA_CERTS: f('server-ca.pem') }), { apiKey: 'sk-over-tls' })
  })

  test('a CA file that is not PEM is INVALID_CONFIG naming the variable', () => {
    const r = run({ VAULT_ADDR: tlsAddr, VAULT_CACERT: f('not-pem.pem') })
    assert.equal(r.code, 'INVALID_CONFIG')
    assert.match(r.message, /VAULT_CACERT/)
  })
})

describe(
  'redirects and logs over TLS',
  { skip: !!process.env.VAULT_TEST_ADDR && 'needs the dev server started here' },
  () => {
    test('a 307 from https to http is refused, even with redirectToOtherOrigin', async () => {
      const { createServer: createHttps } = await import('node:https')
      const { createServer: createHttp } = await import('node:http')
      let plainHits = 0
      const plain = createHttp((req, res) => {
        plainHits++
        res.end('{}')
      })
      await new Promise((r) => plain.listen(0, '127.0.0.1', r))
      const redirector = createHttps(
        { cert: readFileSync(f('server.pem')), key: readFileSync(f('server.key')) },
        (req, res) => {
          res.writeHead(307, { location: `http://127.0.0.1:${plain.address()?.port ?? 9}${req.url}` }).end()
        },
      )
      await new Promise((r) => redirector.listen(0, '127.0.0.1', r))
      try {
        const err = await read(
          `https://127.0.0.1:${redirector.address().port}`,
          { caCert: f('server-ca.pem') },
          { redirectToOtherOrigin: true },
        ).catch((e) => e)
        assert.equal(err.code, 'BAD_RESPONSE')
        assert.match(err.message, /scheme must not change/)
        assert.equal(plainHits, 0, 'nothing, and no token, went to the http address')
        await assertNoLeak(assert, err, [vault.token])
      } finally {
        redirector.close()
        plain.close()
      }
    })

    test('skipping verification logs a warning on stderr, without the token', async () => {
      const { spawnSync } = await import('node:child_process')
      const script = `
      const { VaultClient } = require(${JSON.stringify(new URL('../index.js', import.meta.url).pathname)});
      VaultClient.fromEnv().read('tls-test/app').then((s) => console.log(s.data.apiKey), (e) => console.log(e.code))`
      const r = spawnSync(process.execPath, ['-e', script], {
        env: {
          PATH: process.env.PATH,
          VAULT_ADDR: tlsAddr,
          VAULT_TOKEN: vault.token,
          VAULT_SKIP_VERIFY: '1',
          OPENCLAW_VAULT_KV_VERSION: '2',
        },
        encoding: 'utf8',
      })
      assert.equal(r.stdout.trim(), 'sk-over-tls')
      assert.match(r.stderr, /WARN.*verification is OFF/)
      assert.ok(!r.stderr.includes(vault.token))
    })
  },
)

describe('bad TLS options fail at construction, naming the option', () => {
  const cases = [
    [{ caCert: f('not-pem.pem') }, /tls\.caCert.*no PEM certificate/],
    [{ caCert: join(dir, 'missing.pem') }, /tls\.caCert.*cannot be read/],
    [{ caPath: join(dir, 'no-such-dir') }, /tls\.caPath/],
    [{ clientKey: f('client.key') }, /tls\.clientKey.*client certificate/],
    [{ clientCert: f('client.pem') }, /tls\.clientCert.*private key/],
    [{ serverName: 'bad name!' }, /serverName/],
  ]
  for (const [tls, re] of cases) {
    test(JSON.stringify(tls).replaceAll(dir, '<dir>'), () => {
      assert.throws(
        () => new VaultClient({ addr: 'https://127.0.0.1:8200', token: 'hvs.x', tls }),
        (e) => e instanceof VaultError && e.code === 'INVALID_CONFIG' && re.test(e.message),
      )
    })
  }
})
