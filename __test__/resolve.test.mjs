// `openclaw-vault resolve`: OpenClaw's exec SecretRef provider protocol, run exactly the way
// OpenClaw runs it (absolute node, the script as argument, cwd = node's folder, an environment
// holding only the provider's passEnv: no PATH, no HOME). Real dev server; faults from the proxy.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { after, afterEach, before, describe, test } from 'node:test'

import { VaultClient } from '../index.js'
import {
  freePort,
  removeTree,
  root,
  startFaultProxy,
  startVault,
  uniquePrefix,
  vaultFetch,
} from './support/vault-server.mjs'

const resolver = join(root, 'bin', 'openclaw-vault-resolve.mjs')
const p = uniquePrefix('resolve')
const secrets = {
  openai: 'sk-proj-FAKE-resolve-openai-0001',
  org: 'org-FAKE-resolve-0002',
  telegram: '123456:FAKE-resolve-telegram-0003',
  hash: 'FAKE-resolve-hash-field-0004',
  v1: 'FAKE-resolve-kv1-value-0005',
}
let vault
let proxy
let client
let kv1Mount

before(async () => {
  vault = await startVault()
  proxy = await startFaultProxy(vault.addr)
  client = new VaultClient({ addr: vault.addr, token: vault.token, renew: false, kvVersion: 2 })
  await client.write(`${p}/providers/openai`, { apiKey: secrets.openai, org: secrets.org, count: 3 })
  await client.write(`${p}/channels/telegram`, { botToken: secrets.telegram })
  await client.write(`${p}/app`, { 'api.key': secrets.hash })
  kv1Mount = `kv1-${p.split('/').pop()}`
  const mounted = await vaultFetch(vault, 'POST', `sys/mounts/${kv1Mount}`, {
    body: { type: 'kv', options: { version: '1' } },
  })
  assert.ok(mounted.status < 300, mounted.text)
  const wrote = await vaultFetch(vault, 'POST', `${kv1Mount}/${p}/legacy`, { body: { token: secrets.v1 } })
  assert.ok(wrote.status < 300, wrote.text)
})

afterEach(async () => {
  await proxy.clearRules()
  await proxy.clearRequests()
})

after(async () => {
  await proxy?.stop()
  if (vault) {
    await removeTree(vault, p)
    await vaultFetch(vault, 'DELETE', `sys/mounts/${kv1Mount}`)
  }
  await vault?.stop()
})

/** The stdin OpenClaw writes (resolve-*.mjs: JSON.stringify({ protocolVersion: 1, provider, ids })). */
const openclawRequest = (ids, provider = 'vault') => JSON.stringify({ protocolVersion: 1, provider, ids })

/**
 * Runs the resolver as OpenClaw does: `command` = this node, `args` = [resolver] (or `command`,
 * e.g. [native executable, 'resolve']), cwd = the command's folder, env = exactly `env` (nothing
 * inherited). Resolves to { code, stdout, stderr, json }.
 */
function runResolver(input, env, { node = process.execPath, script = resolver, command = [node, script] } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), {
      cwd: dirname(command[0]),
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.once('error', reject)
    child.once('close', (code) => {
      let json = null
      try {
        json = JSON.parse(stdout)
      } catch {
        // left null: the assertion says what was expected
      }
      resolve({ code, stdout, stderr, json })
    })
    child.stdin.end(input)
  })
}

/** Only what a provider's passEnv would carry: Vault's variables, never PATH or HOME. */
const passEnv = (extra = {}) => ({
  VAULT_ADDR: proxy.addr,
  VAULT_TOKEN: vault.token,
  VAULT_MAX_RETRIES: '0',
  ...extra,
})

/** Asserts that no secret value and no token appears in the output. */
function assertNoLeakIn(out, { allowValues = [] } = {}) {
  const shown = `${out.stdout}\n${out.stderr}`
  for (const s of [vault.token, ...Object.values(secrets)]) {
    if (allowValues.includes(s)) continue
    assert.ok(!shown.includes(s), `leaked into the output: ${shown.slice(0, 400)}`)
  }
}

const dataReads = async () => (await proxy.requests()).filter((r) => r.path.startsWith('/v1/secret/data/'))

describe('answers OpenClaw', () => {
  test('the exact request OpenClaw sends, with an env of passEnv only (no PATH, no HOME)', async () => {
    const ids = [`${p}/providers/openai/apiKey`, `${p}/providers/openai/org`, `${p}/channels/telegram/botToken`]
    const env = passEnv()
    assert.equal(env.PATH, undefined)
    assert.equal(env.HOME, undefined)
    const out = await runResolver(openclawRequest(ids), env)
    assert.equal(out.code, 0, out.stdout + out.stderr)
    assert.equal(out.stdout.trim().split('\n').length, 1, 'exactly one JSON line')
    assert.deepEqual(out.json, {
      protocolVersion: 1,
      values: {
        [ids[0]]: secrets.openai,
        [ids[1]]: secrets.org,
        [ids[2]]: secrets.telegram,
      },
      errors: {},
    })
  })

  test('one read per secret path, however many fields are asked for', async () => {
    const ids = [
      `${p}/providers/openai/apiKey`,
      `${p}/providers/openai/org`,
      `${p}/providers/openai#apiKey`,
      `${p}/channels/telegram/botToken`,
    ]
    const out = await runResolver(openclawRequest(ids), passEnv())
    assert.equal(out.code, 0, out.stdout)
    assert.equal(Object.keys(out.json.values).length, 4)
    const reads = (await dataReads()).map((r) => r.path).sort()
    assert.deepEqual(reads, [`/v1/secret/data/${p}/channels/telegram`, `/v1/secret/data/${p}/providers/openai`])
    // Only data reads: no mount detection, no token lookup.
    assert.equal((await proxy.requests()).length, 2)
  })

  test('`<path>#<field>` ids reach fields whose names hold dots', async () => {
    const out = await runResolver(openclawRequest([`${p}/app#api.key`]), passEnv())
    assert.equal(out.code, 0, out.stdout)
    assert.equal(out.json.values[`${p}/app#api.key`], secrets.hash)
  })

  test('KV v1 mounts (OPENCLAW_VAULT_KV_VERSION=1)', async () => {
    const id = `${p}/legacy/token`
    const out = await runResolver(
      openclawRequest([id, `${p}/legacy/nope`]),
      passEnv({ OPENCLAW_VAULT_KV_MOUNT: kv1Mount, OPENCLAW_VAULT_KV_VERSION: '1' }),
    )
    assert.equal(out.code, 0, out.stdout)
    assert.equal(out.json.values[id], secrets.v1)
    assert.equal(out.json.errors[`${p}/legacy/nope`].code, 'NOT_FOUND')
    const reads = (await proxy.requests()).map((r) => r.path)
    assert.deepEqual(reads, [`/v1/${kv1Mount}/${p}/legacy`])
  })

  test('an empty id list needs no configuration at all', async () => {
    const out = await runResolver(openclawRequest([]), {})
    assert.equal(out.code, 0)
    assert.deepEqual(out.json, { protocolVersion: 1, values: {}, errors: {} })
  })
})

describe('per-id failures', () => {
  test('missing secret, missing field, non-string field, bad ids: each fails alone', async () => {
    const good = `${p}/providers/openai/apiKey`
    const ids = [
      good,
      `${p}/providers/missing/apiKey`,
      `${p}/providers/openai/nope`,
      `${p}/providers/openai/count`,
      'single',
      'a//b',
      'a/../b',
      'bad id/x',
      `${p}/x#`,
    ]
    const out = await runResolver(openclawRequest(ids), passEnv())
    assert.equal(out.code, 0, out.stdout)
    assert.deepEqual(Object.keys(out.json.values), [good])
    assert.equal(out.json.errors[`${p}/providers/missing/apiKey`].code, 'NOT_FOUND')
    assert.equal(out.json.errors[`${p}/providers/openai/nope`].code, 'NOT_FOUND')
    assert.match(out.json.errors[`${p}/providers/openai/count`].message, /not a string/)
    for (const bad of ids.slice(4)) {
      assert.ok(out.json.errors[bad], `no error for ${bad}`)
      assert.equal(out.json.errors[bad].code, undefined)
    }
    assertNoLeakIn(out, { allowValues: [secrets.openai] })
  })

  test('a plain 403 (ACL) fails only the ids under that path', async () => {
    await vaultFetch(vault, 'PUT', `sys/policies/acl/ocv-resolve-${process.pid}`, {
      body: { policy: `path "secret/data/${p}/providers/*" { capabilities = ["read"] }` },
    })
    const created = await vaultFetch(vault, 'POST', 'auth/token/create', {
      body: { policies: [`ocv-resolve-${process.pid}`], ttl: '10m' },
    })
    const limited = created.json.auth.client_token
    const ok = `${p}/providers/openai/apiKey`
    const denied = `${p}/channels/telegram/botToken`
    const out = await runResolver(openclawRequest([ok, denied]), passEnv({ VAULT_TOKEN: limited }))
    assert.equal(out.code, 0, out.stdout)
    assert.equal(out.json.values[ok], secrets.openai)
    assert.match(out.json.errors[denied].message, /403/)
    // Every id denied, valid token: still per-id (the token probe says it is valid).
    const all = await runResolver(openclawRequest([denied]), passEnv({ VAULT_TOKEN: limited }))
    assert.equal(all.code, 0, all.stdout)
    assert.ok(all.json.errors[denied])
    assert.ok(!all.stdout.includes(limited))
  })

  test('a failing path among good ones stays per-id, even for a 5xx', async () => {
    await proxy.rule({
      path: `^/v1/secret/data/${p}/channels/telegram$`,
      action: { type: 'status', status: 500, body: '{"errors":["internal error"]}' },
    })
    const ok = `${p}/providers/openai/apiKey`
    const bad = `${p}/channels/telegram/botToken`
    const out = await runResolver(openclawRequest([ok, bad]), passEnv())
    assert.equal(out.code, 0, out.stdout)
    assert.equal(out.json.values[ok], secrets.openai)
    assert.match(out.json.errors[bad].message, /500/)
  })
})

describe('provider-wide failures (exit 1, errors.request)', () => {
  const ids = () => [`${p}/providers/openai/apiKey`, `${p}/channels/telegram/botToken`]

  async function providerWide(env, check) {
    const out = await runResolver(openclawRequest(ids()), env)
    assert.equal(out.code, 1, out.stdout + out.stderr)
    assert.equal(out.json.protocolVersion, 1)
    assert.deepEqual(out.json.values, {})
    assert.deepEqual(Object.keys(out.json.errors), ['request'])
    if (check) assert.match(out.json.errors.request.message, check)
    assertNoLeakIn(out)
    return out
  }

  test('an invalid token (403 "invalid token")', async () => {
    await providerWide(passEnv({ VAULT_TOKEN: 'hvs.FAKE-not-a-real-token-9999' }), /403|invalid/)
  })

  test('401 on every read', async () => {
    await proxy.rule({ path: '^/v1/secret/data/', action: { type: 'status', status: 401, body: '{"errors":[]}' } })
    await providerWide(passEnv(), /401/)
  })

  for (const status of [503, 500, 429, 412, 408, 472, 473]) {
    test(`${status} on every read`, async () => {
      await proxy.rule({ path: '^/v1/secret/data/', action: { type: 'status', status, body: '{"errors":["x"]}' } })
      // Ids are read in parallel: once the first answers trip the client's circuit breaker, the
      // rest are not sent, and say so naming the breaker (the status is in the first ones).
      await providerWide(passEnv(), new RegExp(`${status}|circuit breaker is open after`))
    })
  }

  test('Vault unreachable (network)', async () => {
    const port = await freePort()
    await providerWide(passEnv({ VAULT_ADDR: `http://127.0.0.1:${port}` }))
  })

  test('configuration: no VAULT_ADDR, no token, a bad variable', async () => {
    await providerWide({ VAULT_TOKEN: vault.token }, /VAULT_ADDR/)
    await providerWide({ VAULT_ADDR: proxy.addr }, /VAULT_TOKEN/)
    await providerWide(passEnv({ OPENCLAW_VAULT_AUTH_METHOD: 'magic' }), /OPENCLAW_VAULT_AUTH_METHOD/)
    await providerWide(passEnv({ OPENCLAW_VAULT_KV_VERSION: '3' }), /OPENCLAW_VAULT_KV_VERSION/)
    assert.equal((await proxy.requests()).length, 0, 'no request before the configuration is valid')
  })
})

describe('retries', () => {
  test('a transient 503 is retried and the value returned', async () => {
    await proxy.rule({
      path: `^/v1/secret/data/${p}/providers/openai$`,
      times: 1,
      action: { type: 'status', status: 503, body: '{"errors":["Vault is sealed"]}' },
    })
    const id = `${p}/providers/openai/apiKey`
    const out = await runResolver(openclawRequest([id]), passEnv({ VAULT_MAX_RETRIES: '2' }))
    assert.equal(out.code, 0, out.stdout)
    assert.equal(out.json.values[id], secrets.openai)
    const reads = await dataReads()
    assert.deepEqual(
      reads.map((r) => r.status),
      [503, 200],
    )
  })
})

describe('bad requests fail the provider', () => {
  const cases = [
    ['unparsable stdin', 'not json', /not JSON/],
    ['empty stdin', '', /not JSON/],
    [
      'wrong protocolVersion',
      JSON.stringify({ protocolVersion: 2, provider: 'vault', ids: ['a/b'] }),
      /protocolVersion/,
    ],
    ['ids not an array', JSON.stringify({ protocolVersion: 1, provider: 'vault', ids: 'a/b' }), /array/],
    [
      'more ids than OpenClaw allows (512)',
      openclawRequest(Array.from({ length: 513 }, (_, i) => `${p}/many/k${i}`)),
      /512/,
    ],
  ]
  for (const [name, input, message] of cases) {
    test(name, async () => {
      const out = await runResolver(input, passEnv())
      assert.equal(out.code, 1, out.stdout)
      assert.match(out.json.errors.request.message, message)
      assert.equal((await proxy.requests()).length, 0)
    })
  }

  test('512 ids are accepted (20 reads, not 512)', async () => {
    const ids = Array.from({ length: 512 }, (_, i) => `${p}/providers/openai/f${i}`)
    const out = await runResolver(openclawRequest(ids), passEnv())
    assert.equal(out.code, 0, out.stdout.slice(0, 300))
    assert.equal(Object.keys(out.json.errors).length, 512)
    assert.equal((await dataReads()).length, 1)
  })
})

describe('output cap', () => {
  test('an answer over maxOutputBytes is a provider-wide failure, never a truncated object', async () => {
    const big = `${p}/big`
    await client.write(big, { value: `FAKE-${'x'.repeat(4096)}` })
    const out = await runResolver(
      openclawRequest([`${big}/value`]),
      passEnv({ OPENCLAW_VAULT_RESOLVE_MAX_OUTPUT_BYTES: '2048' }),
    )
    assert.equal(out.code, 1)
    assert.ok(Buffer.byteLength(out.stdout) <= 2048, `${Buffer.byteLength(out.stdout)} bytes`)
    assert.match(out.json.errors.request.message, /maxOutputBytes/)
    assert.ok(!out.stdout.includes('xxxx'))
    const fits = await runResolver(openclawRequest([`${big}/value`]), passEnv())
    assert.equal(fits.code, 0)
  })
})

describe('parity with OpenClaw\u2019s bundled resolver', () => {
  let bundled
  before(async () => {
    try {
      const { ensureOpenClaw } = await import('../scripts/ensure-openclaw.mjs')
      bundled = ensureOpenClaw()
      if (!existsSync(bundled.bundledResolver)) bundled = null
    } catch {
      bundled = null
    }
  })

  test('same values and the same failing ids for the same request', async (t) => {
    if (!bundled) return t.skip('openclaw is not installed (node scripts/ensure-openclaw.mjs)')
    const ids = [
      `${p}/providers/openai/apiKey`,
      `${p}/providers/openai/org`,
      `${p}/providers/openai/nope`,
      `${p}/providers/openai/count`,
      `${p}/providers/missing/apiKey`,
      `${p}/channels/telegram/botToken`,
      'single',
      'a/../b',
    ]
    const env = { VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token }
    const theirs = await runResolver(openclawRequest(ids), env, { node: bundled.node, script: bundled.bundledResolver })
    const ours = await runResolver(openclawRequest(ids), env, { node: bundled.node })
    assert.equal(theirs.code, 0, theirs.stdout + theirs.stderr)
    assert.equal(ours.code, 0, ours.stdout)
    assert.deepEqual(ours.json.values, theirs.json.values)
    assert.deepEqual(Object.keys(ours.json.errors).sort(), Object.keys(theirs.json.errors).sort())
    // A bad token: Vault 1.21 answers 403 with one go-multierror string
    // ("2 errors occurred:\n\t* permission denied\n\t* invalid token"), which the bundled resolver
    // compares whole against "invalid token" and misses: it fails every id one by one (exit 0).
    // This resolver reads the items and fails the provider once, as intended.
    const badEnv = { ...env, VAULT_TOKEN: 'hvs.FAKE-invalid' }
    const two = ids.slice(0, 2)
    const theirsBad = await runResolver(openclawRequest(two), badEnv, {
      node: bundled.node,
      script: bundled.bundledResolver,
    })
    const oursBad = await runResolver(openclawRequest(two), badEnv, { node: bundled.node })
    assert.deepEqual(theirsBad.json.values, {})
    assert.deepEqual(Object.keys(theirsBad.json.errors).sort(), [...two].sort())
    assert.equal(oursBad.code, 1)
    assert.deepEqual(oursBad.json.values, {})
    assert.deepEqual(Object.keys(oursBad.json.errors), ['request'])
    assert.match(oursBad.json.errors.request.message, /invalid token/)
  })
})

describe('local fallback', () => {
  test('only with OPENCLAW_VAULT_RESOLVE_FALLBACK=local: an id Vault lacks is answered from the local files', async () => {
    const { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const home = mkdtempSync(join(tmpdir(), 'ocv-resolve-home-'))
    try {
      cpSync(join(root, 'examples', 'sample-home', '.qwen'), join(home, '.qwen'), { recursive: true })
      chmodSync(join(home, '.qwen', 'oauth_creds.json'), 0o600)
      const expected = JSON.parse(readFileSync(join(home, '.qwen', 'oauth_creds.json'), 'utf8')).access_token
      const id = `${p}/credentials/qwen/accessToken`
      const input = openclawRequest([id])

      const strict = await runResolver(input, passEnv({ HOME: home, OPENCLAW_VAULT_PREFIX: p }))
      assert.equal(strict.code, 0, strict.stderr)
      assert.equal(strict.json.errors[id].code, 'NOT_FOUND')
      assert.ok(!strict.stdout.includes(expected))

      const withFallback = await runResolver(
        input,
        passEnv({ HOME: home, OPENCLAW_VAULT_PREFIX: p, OPENCLAW_VAULT_RESOLVE_FALLBACK: 'local' }),
      )
      assert.equal(withFallback.code, 0, withFallback.stderr)
      assert.deepEqual(withFallback.json.values, { [id]: expected })
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
  })
})

describe('the native executable (`openclaw-vault resolve`) answers exactly as the Node route', () => {
  const exe = createRequire(import.meta.url)('../bin/native.js').nativeExecutable()

  test('same exit code and same JSON for successes, per-id and provider-wide failures', async () => {
    assert.ok(exe, 'the native executable is missing: run `node scripts/build-native.mjs`')
    const cases = [
      [openclawRequest([`${p}/providers/openai/apiKey`, `${p}/app#api.key`, `${p}/providers/openai/nope`]), passEnv()],
      [openclawRequest([`${p}/nope/x`, 'a/../b', 'single']), passEnv()],
      [
        openclawRequest([`${p}/legacy/token`]),
        passEnv({ OPENCLAW_VAULT_KV_MOUNT: kv1Mount, OPENCLAW_VAULT_KV_VERSION: '1' }),
      ],
      [openclawRequest([`${p}/providers/openai/apiKey`]), passEnv({ VAULT_TOKEN: 'hvs.FAKE-invalid-token' })],
      [openclawRequest([`${p}/providers/openai/apiKey`]), { VAULT_TOKEN: vault.token }],
      ['not json', passEnv()],
      [JSON.stringify({ protocolVersion: 2, provider: 'vault', ids: [] }), passEnv()],
    ]
    for (const [input, env] of cases) {
      const node = await runResolver(input, env)
      const native = await runResolver(input, env, { command: [exe, 'resolve'] })
      assert.ok(node.json, `${input}: ${node.stdout}${node.stderr}`)
      assert.equal(native.code, node.code, input)
      assert.deepEqual(native.json, node.json, input)
      assertNoLeakIn(native, { allowValues: Object.values(native.json.values ?? {}) })
    }
  })
})
