// Auth methods against the real dev server, configured here: AppRole, userpass, JWT (a key pair
// made at test time is the role's validation key), token files, and the re-login after a token
// is revoked.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { generateKeyPairSync, sign } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { VaultClient, VaultError } from '../index.js'
import { assertNoLeak, readApiKeyScript, runNodeJson, startVault, vaultFetch } from './support/vault-server.mjs'

const dir = mkdtempSync(join(tmpdir(), 'ocv-auth-'))
const f = (name) => join(dir, name)
let vault
let root
const creds = {}
const rootCall = (method, path, body) => vaultFetch(vault, method, path, { body })
const ok = async (method, path, body) => {
  const r = await rootCall(method, path, body)
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`)
  return r.json
}

const b64url = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url')
function jwt(privateKey, claims) {
  const now = Math.floor(Date.now() / 1000)
  const head = b64url({ alg: 'ES256', typ: 'JWT' })
  const body = b64url({ iat: now, nbf: now - 5, exp: now + 300, ...claims })
  const sig = sign('sha256', Buffer.from(`${head}.${body}`), { key: privateKey, dsaEncoding: 'ieee-p1363' })
  return `${head}.${body}.${sig.toString('base64url')}`
}

before(async () => {
  vault = await startVault()
  root = new VaultClient({ addr: vault.addr, token: vault.token })
  await root.write('auth-test/app', { apiKey: 'sk-auth-test' })
  await ok('PUT', 'sys/policies/acl/ocv-auth-read', {
    policy: 'path "secret/data/auth-test/*" { capabilities = ["read"] }',
  })

  for (const mount of ['approle', 'approle-2']) await ok('POST', `sys/auth/${mount}`, { type: 'approle' })
  for (const mount of ['approle', 'approle-2']) {
    await ok('POST', `auth/${mount}/role/gw`, { token_policies: ['ocv-auth-read'], token_ttl: '10m' })
    creds[mount] = {
      roleId: (await ok('GET', `auth/${mount}/role/gw/role-id`)).data.role_id,
      secretId: (await ok('POST', `auth/${mount}/role/gw/secret-id`)).data.secret_id,
    }
  }
  writeFileSync(f('role-id'), `${creds['approle-2'].roleId}\n`)
  writeFileSync(f('secret-id'), `${creds['approle-2'].secretId}\n`)

  await ok('POST', 'sys/auth/userpass', { type: 'userpass' })
  await ok('POST', 'auth/userpass/users/gateway', { password: 'pw-secret-123', token_policies: ['ocv-auth-read'] })

  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  creds.jwtKey = privateKey
  await ok('POST', 'sys/auth/jwt', { type: 'jwt' })
  await ok('POST', 'auth/jwt/config', { jwt_validation_pubkeys: [publicKey.export({ type: 'spki', format: 'pem' })] })
  await ok('POST', 'auth/jwt/role/gw', {
    role_type: 'jwt',
    bound_audiences: ['openclaw'],
    user_claim: 'sub',
    bound_claims: { team: 'core' },
    token_policies: ['ocv-auth-read'],
  })
  writeFileSync(f('good.jwt'), jwt(privateKey, { sub: 'gateway', aud: 'openclaw', team: 'core' }))
  writeFileSync(f('wrong-claim.jwt'), jwt(privateKey, { sub: 'gateway', aud: 'openclaw', team: 'other' }))
})

after(async () => {
  await vault?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const client = (auth, extra = {}) => new VaultClient({ addr: vault.addr, kvVersion: 2, maxRetries: 0, auth, ...extra })
const readApp = async (c) => (await c.read('auth-test/app')).data.apiKey

describe('logins', { skip: !!process.env.VAULT_TEST_ADDR && 'configures auth methods on the dev server' }, () => {
  test('AppRole with values', async () => {
    const c = client({ method: 'approle', roleId: creds.approle.roleId, secretId: creds.approle.secretId })
    assert.equal(await readApp(c), 'sk-auth-test')
    const me = await c.lookupSelf()
    assert.deepEqual(me.policies.sort(), ['default', 'ocv-auth-read'])
    assert.match(me.display_name, /approle/)
  })

  test('AppRole from files on a custom mount', async () => {
    const c = client({ method: 'approle', mount: 'approle-2', roleIdFile: f('role-id'), secretIdFile: f('secret-id') })
    assert.equal(await readApp(c), 'sk-auth-test')
  })

  test('AppRole with a wrong secret id fails without leaking it', async () => {
    const c = client({ method: 'approle', roleId: creds.approle.roleId, secretId: 'wrong-secret-id-7f3a' })
    const err = await c.read('auth-test/app').catch((e) => e)
    assert.ok(err instanceof VaultError)
    assert.equal(err.code, 'INVALID_REQUEST')
    assert.equal(err.status, 400)
    assert.match(err.message, /approle login failed/)
    assert.equal(err.path, '/v1/auth/approle/login')
    await assertNoLeak(assert, err, ['wrong-secret-id-7f3a', creds.approle.roleId])
  })

  test('userpass, and a wrong password', async () => {
    assert.equal(
      await readApp(client({ method: 'userpass', username: 'gateway', password: 'pw-secret-123' })),
      'sk-auth-test',
    )
    const err = await client({ method: 'userpass', username: 'gateway', password: 'not-the-pw-99' })
      .read('auth-test/app')
      .catch((e) => e)
    assert.equal(err.path, '/v1/auth/userpass/login/gateway')
    assert.match(err.message, /userpass login failed/)
    await assertNoLeak(assert, err, ['not-the-pw-99'])
  })

  test('JWT with a bound claim: the right claim logs in, a wrong one is refused', async () => {
    assert.equal(await readApp(client({ method: 'jwt', role: 'gw', jwtFile: f('good.jwt') })), 'sk-auth-test')
    const err = await client({ method: 'jwt', role: 'gw', jwtFile: f('wrong-claim.jwt') })
      .read('auth-test/app')
      .catch((e) => e)
    assert.ok(err instanceof VaultError)
    assert.match(err.message, /jwt login failed/)
  })

  test('concurrent first requests share one login', async () => {
    const c = client({ method: 'userpass', username: 'gateway', password: 'pw-secret-123' })
    await Promise.all(Array.from({ length: 10 }, () => c.read('auth-test/app')))
    const accessors = new Set()
    for (let i = 0; i < 3; i++) accessors.add((await c.lookupSelf()).accessor)
    assert.equal(accessors.size, 1)
  })
})

describe(
  'token lifecycle',
  { skip: !!process.env.VAULT_TEST_ADDR && 'configures auth methods on the dev server' },
  () => {
    test('a revoked token triggers one new login and one retry', async () => {
      const c = client({ method: 'approle', roleId: creds.approle.roleId, secretId: creds.approle.secretId })
      assert.equal(await readApp(c), 'sk-auth-test')
      const before = (await c.lookupSelf()).accessor
      await ok('POST', 'auth/token/revoke-accessor', { accessor: before })
      assert.equal(await readApp(c), 'sk-auth-test', 'the read after revocation succeeds')
      const afterAccessor = (await c.lookupSelf()).accessor
      assert.notEqual(afterAccessor, before)
    })

    test('a fixed token is not replaced: a revoked one surfaces INVALID_TOKEN', async () => {
      const t = await ok('POST', 'auth/token/create', { policies: ['ocv-auth-read'], ttl: '5m' })
      const c = new VaultClient({ addr: vault.addr, token: t.auth.client_token, kvVersion: 2, maxRetries: 0 })
      assert.equal(await readApp(c), 'sk-auth-test')
      await ok('POST', 'auth/token/revoke-accessor', { accessor: t.auth.accessor })
      const err = await c.read('auth-test/app').catch((e) => e)
      assert.equal(err.code, 'INVALID_TOKEN')
      await assertNoLeak(assert, err, [t.auth.client_token])
    })

    test('a token file replaced on disk is picked up', async () => {
      const a = await ok('POST', 'auth/token/create', { policies: ['ocv-auth-read'], ttl: '5m', display_name: 'first' })
      const b = await ok('POST', 'auth/token/create', {
        policies: ['ocv-auth-read'],
        ttl: '5m',
        display_name: 'second',
      })
      writeFileSync(f('agent-token'), `${a.auth.client_token}\n`)
      const c = client({ method: 'token_file', tokenFile: f('agent-token') })
      assert.equal((await c.lookupSelf()).display_name, 'token-first')
      // Vault Agent writes a new file and renames it into place.
      writeFileSync(f('agent-token.tmp'), `${b.auth.client_token}\n`)
      renameSync(f('agent-token.tmp'), f('agent-token'))
      assert.equal((await c.lookupSelf()).display_name, 'token-second')
      assert.equal(await readApp(c), 'sk-auth-test')
    })
  },
)

describe(
  'environment (OpenClaw resolver parity)',
  { skip: !!process.env.VAULT_TEST_ADDR && 'configures auth methods' },
  () => {
    const script = readApiKeyScript('auth-test/app')
    const run = (env) => runNodeJson(script, { VAULT_ADDR: vault.addr, OPENCLAW_VAULT_KV_VERSION: '2', ...env })

    test('approle, userpass, jwt and token_file from variables', () => {
      const expect = { apiKey: 'sk-auth-test' }
      assert.deepEqual(
        run({
          OPENCLAW_VAULT_AUTH_METHOD: 'approle',
          OPENCLAW_VAULT_AUTH_MOUNT: 'approle-2',
          OPENCLAW_VAULT_APPROLE_ROLE_ID_FILE: f('role-id'),
          OPENCLAW_VAULT_APPROLE_SECRET_ID_FILE: f('secret-id'),
        }),
        expect,
      )
      assert.deepEqual(
        run({
          OPENCLAW_VAULT_AUTH_METHOD: 'userpass',
          OPENCLAW_VAULT_USERNAME: 'gateway',
          OPENCLAW_VAULT_PASSWORD: 'pw-secret-123',
        }),
        expect,
      )
      assert.deepEqual(
        run({
          OPENCLAW_VAULT_AUTH_METHOD: 'jwt',
          OPENCLAW_VAULT_AUTH_ROLE: 'gw',
          OPENCLAW_VAULT_JWT_FILE: f('good.jwt'),
        }),
        expect,
      )
      writeFileSync(f('env-token'), `${vault.token}\n`)
      assert.deepEqual(run({ VAULT_TOKEN_FILE: f('env-token') }), expect, 'VAULT_TOKEN_FILE alone, as OpenClaw')
    })

    test('debug logs say what happened and never hold a token or secret', async () => {
      const { spawnSync } = await import('node:child_process')
      const r = spawnSync(process.execPath, ['-e', script], {
        env: {
          PATH: process.env.PATH,
          VAULT_ADDR: vault.addr,
          OPENCLAW_VAULT_KV_VERSION: '2',
          OPENCLAW_VAULT_LOG: 'debug',
          OPENCLAW_VAULT_AUTH_METHOD: 'approle',
          OPENCLAW_VAULT_APPROLE_ROLE_ID: creds.approle.roleId,
          OPENCLAW_VAULT_APPROLE_SECRET_ID: creds.approle.secretId,
        },
        encoding: 'utf8',
      })
      assert.deepEqual(JSON.parse(r.stdout), { apiKey: 'sk-auth-test' })
      assert.match(r.stderr, /logged in to Vault/)
      for (const secret of ['hvs.', creds.approle.roleId, creds.approle.secretId, 'sk-auth-test']) {
        assert.ok(!r.stderr.includes(secret), `the debug log holds ${secret.slice(0, 6)}…`)
      }
    })

    test('bad auth variables are INVALID_CONFIG naming the variable, before any request', () => {
      const cases = [
        [{ OPENCLAW_VAULT_AUTH_METHOD: 'ldap-magic' }, /OPENCLAW_VAULT_AUTH_METHOD/],
        [{ OPENCLAW_VAULT_AUTH_METHOD: 'approle' }, /OPENCLAW_VAULT_APPROLE_ROLE_ID/],
        [
          { OPENCLAW_VAULT_AUTH_METHOD: 'approle', OPENCLAW_VAULT_APPROLE_ROLE_ID_FILE: f('nope') },
          /OPENCLAW_VAULT_APPROLE_ROLE_ID_FILE/,
        ],
        [{ OPENCLAW_VAULT_AUTH_METHOD: 'jwt', OPENCLAW_VAULT_JWT_FILE: f('good.jwt') }, /OPENCLAW_VAULT_AUTH_ROLE/],
        [
          {
            OPENCLAW_VAULT_AUTH_METHOD: 'jwt',
            OPENCLAW_VAULT_AUTH_ROLE: 'gw',
            OPENCLAW_VAULT_JWT_FILE: f('missing.jwt'),
          },
          /OPENCLAW_VAULT_JWT_FILE/,
        ],
        [
          { OPENCLAW_VAULT_AUTH_METHOD: 'kubernetes', OPENCLAW_VAULT_AUTH_ROLE: 'gw' },
          /OPENCLAW_VAULT_JWT_FILE.*serviceaccount/,
        ],
      ]
      for (const [env, re] of cases) {
        const r = run(env)
        assert.equal(r.code, 'INVALID_CONFIG', JSON.stringify(r))
        assert.match(r.message, re)
      }
    })
  },
)

describe('bad auth options throw INVALID_CONFIG at construction', () => {
  writeFileSync(f('empty'), '  \n')
  const cases = [
    [{ method: 'approle' }, /auth\.roleId/],
    [{ method: 'approle', roleId: '' }, /auth\.roleId.*empty/],
    [{ method: 'approle', roleIdFile: f('empty') }, /auth\.roleIdFile.*empty/],
    [{ method: 'approle', roleIdFile: f('missing') }, /auth\.roleIdFile.*cannot be read/],
    [{ method: 'userpass', username: 'u' }, /auth\.password/],
    [{ method: 'jwt', jwtFile: f('empty') }, /auth\.role/],
    [{ method: 'jwt', role: 'gw', jwtFile: f('missing') }, /auth\.jwtFile/],
    [{ method: 'token_file' }, /auth\.tokenFile/],
    [{ method: 'oidc-browser' }, /auth\.method/],
  ]
  for (const [auth, re] of cases) {
    test(JSON.stringify(auth).replaceAll(dir, '<dir>'), () => {
      assert.throws(
        () => new VaultClient({ addr: 'http://127.0.0.1:8200', auth }),
        (e) => e instanceof VaultError && e.code === 'INVALID_CONFIG' && re.test(e.message),
      )
    })
  }
})

/** Resolves with the events seen once `done(events)` is true. */
function collect(c, done) {
  const events = []
  return new Promise((resolve) => {
    c.onTokenEvent((e) => {
      events.push(e)
      if (done(events)) resolve(events)
    })
  })
}

describe('background renewal and events', { skip: !!process.env.VAULT_TEST_ADDR && 'configures auth methods' }, () => {
  test('a login token is renewed, then replaced by a new login when max TTL caps it', { timeout: 30000 }, async () => {
    await ok('POST', 'auth/approle/role/short', {
      token_policies: ['ocv-auth-read'],
      token_ttl: '3s',
      token_max_ttl: '6s',
    })
    const roleId = (await ok('GET', 'auth/approle/role/short/role-id')).data.role_id
    const secretId = (await ok('POST', 'auth/approle/role/short/secret-id')).data.secret_id
    const c = client({ method: 'approle', roleId, secretId })
    const seen = collect(c, (ev) => ev.some((e) => e.kind === 'reauthenticated'))
    assert.equal(await readApp(c), 'sk-auth-test')
    const first = (await c.lookupSelf()).accessor
    const events = await seen
    const kinds = events.map((e) => e.kind)
    assert.equal(kinds[0], 'renewed', kinds.join())
    assert.ok(events[0].ttl > 0 && events[0].ttl <= 3)
    assert.ok(!JSON.stringify(events).includes('hvs.'), 'no token in events')
    assert.notEqual((await c.lookupSelf()).accessor, first, 'a new token after the new login')
    assert.equal(await readApp(c), 'sk-auth-test')
    c.close()
  })

  test('a fixed renewable token is renewed; with no login method it finally expires', { timeout: 30000 }, async () => {
    const t = await ok('POST', 'auth/token/create', { policies: ['ocv-auth-read'], ttl: '3s', explicit_max_ttl: '5s' })
    const c = new VaultClient({ addr: vault.addr, token: t.auth.client_token, kvVersion: 2, maxRetries: 0 })
    const seen = collect(c, (ev) => ev.some((e) => e.kind === 'expired'))
    assert.equal(await readApp(c), 'sk-auth-test')
    const events = await seen
    assert.equal(events[0].kind, 'renewed')
    assert.equal(events.at(-1).kind, 'expired')
    await assertNoLeak(assert, { message: JSON.stringify(events) }, [t.auth.client_token])
    c.close()
  })

  test('renewSelf renews on demand', async () => {
    const t = await ok('POST', 'auth/token/create', { policies: ['ocv-auth-read'], ttl: '1h' })
    const c = new VaultClient({ addr: vault.addr, token: t.auth.client_token, renew: false })
    const ttl = await c.renewSelf()
    assert.ok(ttl > 3500 && ttl <= 3600, String(ttl))
  })

  test(
    'a subscription and the renewal task never keep Node running; close() stops them',
    { timeout: 30000 },
    async () => {
      await ok('POST', 'auth/approle/role/short2', { token_policies: ['ocv-auth-read'], token_ttl: '60s' })
      const roleId = (await ok('GET', 'auth/approle/role/short2/role-id')).data.role_id
      const secretId = (await ok('POST', 'auth/approle/role/short2/secret-id')).data.secret_id
      const script = `
      const { VaultClient } = require(${JSON.stringify(new URL('../index.js', import.meta.url).pathname)});
      const c = new VaultClient({ addr: ${JSON.stringify(vault.addr)}, kvVersion: 2,
        auth: { method: 'approle', roleId: ${JSON.stringify(roleId)}, secretId: ${JSON.stringify(secretId)} } });
      c.onTokenEvent(() => {});
      c.read('auth-test/app').then((s) => { console.log(s.data.apiKey); if (process.argv[1] === 'close') c.close() });`
      for (const mode of ['close', 'no-close']) {
        // A 60 s token renews after ~40 s: the child must end long before that, on its own.
        const out = execFileSync(process.execPath, ['-e', script, mode], { encoding: 'utf8', timeout: 15000 })
        assert.equal(out.trim(), 'sk-auth-test')
      }
    },
  )
})

describe(
  'Kubernetes login against a TokenReview API on loopback',
  { skip: !!process.env.VAULT_TEST_ADDR && 'configures auth methods' },
  () => {
    let reviews
    let stub
    const saJwt = (name) =>
      [
        b64url({ alg: 'RS256', typ: 'JWT' }),
        b64url({
          iss: 'kubernetes/serviceaccount',
          sub: `system:serviceaccount:openclaw:${name}`,
          'kubernetes.io/serviceaccount/namespace': 'openclaw',
          'kubernetes.io/serviceaccount/service-account.name': name,
          'kubernetes.io/serviceaccount/service-account.uid': `uid-${name}`,
        }),
        'c2lnbmF0dXJl',
      ].join('.')

    before(async () => {
      const { createServer } = await import('node:http')
      reviews = []
      // The API server's TokenReview: it vouches for the service account named in the token.
      stub = createServer((req, res) => {
        let body = ''
        req.on('data', (d) => (body += d))
        req.on('end', () => {
          const token = JSON.parse(body).spec.token
          reviews.push({ path: req.url, token })
          const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url'))
          const name = claims['kubernetes.io/serviceaccount/service-account.name']
          res.writeHead(201, { 'content-type': 'application/json' })
          res.end(
            JSON.stringify({
              kind: 'TokenReview',
              apiVersion: 'authentication.k8s.io/v1',
              status: {
                authenticated: true,
                user: { username: `system:serviceaccount:openclaw:${name}`, uid: `uid-${name}` },
              },
            }),
          )
        })
      })
      await new Promise((r) => stub.listen(0, '127.0.0.1', r))
      await ok('POST', 'sys/auth/kubernetes', { type: 'kubernetes' })
      await ok('POST', 'auth/kubernetes/config', {
        kubernetes_host: `http://127.0.0.1:${stub.address().port}`,
        token_reviewer_jwt: 'reviewer-token',
        disable_local_ca_jwt: true,
      })
      await ok('POST', 'auth/kubernetes/role/gw', {
        bound_service_account_names: ['gateway'],
        bound_service_account_namespaces: ['openclaw'],
        token_policies: ['ocv-auth-read'],
      })
      writeFileSync(f('sa-gateway.jwt'), saJwt('gateway'))
      writeFileSync(f('sa-intruder.jwt'), saJwt('intruder'))
    })

    after(() => new Promise((r) => stub?.close(r)))

    test('the service-account token logs in, and the TokenReview API saw it', async () => {
      const c = client({ method: 'kubernetes', role: 'gw', jwtFile: f('sa-gateway.jwt') })
      assert.equal(await readApp(c), 'sk-auth-test')
      assert.equal(reviews.at(-1).path, '/apis/authentication.k8s.io/v1/tokenreviews')
      assert.equal(reviews.at(-1).token, saJwt('gateway'))
      assert.ok((await c.lookupSelf()).policies.includes('ocv-auth-read'))
    })

    test('a service account the role does not bind is refused', async () => {
      const err = await client({ method: 'kubernetes', role: 'gw', jwtFile: f('sa-intruder.jwt') })
        .read('auth-test/app')
        .catch((e) => e)
      assert.ok(err instanceof VaultError)
      assert.match(err.message, /kubernetes login failed/)
      await assertNoLeak(assert, err, [saJwt('intruder')])
    })

    test('OPENCLAW_VAULT_AUTH_METHOD=kubernetes with OPENCLAW_VAULT_JWT_FILE', async () => {
      const script = `
      const { VaultClient } = require(${JSON.stringify(new URL('../index.js', import.meta.url).pathname)});
      VaultClient.fromEnv().read('auth-test/app').then((s) => console.log(s.data.apiKey), (e) => console.log(e.code, e.message))`
      // Asynchronously: the TokenReview stub runs in this process and must keep answering.
      const { execFile } = await import('node:child_process')
      const { promisify } = await import('node:util')
      const { stdout: out } = await promisify(execFile)(process.execPath, ['-e', script], {
        timeout: 20000,
        env: {
          PATH: process.env.PATH,
          VAULT_ADDR: vault.addr,
          OPENCLAW_VAULT_AUTH_METHOD: 'kubernetes',
          OPENCLAW_VAULT_AUTH_ROLE: 'gw',
          OPENCLAW_VAULT_JWT_FILE: f('sa-gateway.jwt'),
        },
        encoding: 'utf8',
      })
      assert.equal(out.trim(), 'sk-auth-test')
    })
  },
)
