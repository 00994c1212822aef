// The encrypted last-known-good file (credentials.lastKnownGood): process A reads from a real
// Vault dev server; the server is stopped; NEW processes (`resolve` run the way OpenClaw runs it,
// and `getCredential` in a child Node) answer from the file, stale and audited; past maxAgeMs,
// with a wrong key, or from a damaged file they fail closed with a clear error naming the file;
// a denial (403) or a not-found never falls back to it.
import assert from 'node:assert/strict'
import { execFile, execFileSync, spawn } from 'node:child_process'
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'

import { VaultClient } from '../index.js'
import { root, startVault, uniquePrefix, vaultFetch } from './support/vault-server.mjs'
import { ensureOpenClaw } from '../scripts/ensure-openclaw.mjs'

const { nativeExecutable } = createRequire(import.meta.url)('../bin/native.js')
const native = nativeExecutable()
assert.ok(native, 'the native executable is missing: run `node scripts/build-native.mjs`')

const p = uniquePrefix('lkg')
const secrets = {
  openai: 'sk-proj-FAKE-lkg-openai-0001',
  anthropic: 'sk-ant-api03-FAKE-lkg-anthropic-0002',
  denied: 'FAKE-lkg-denied-0003',
  gone: 'FAKE-lkg-gone-0004',
  local: 'sk-proj-FAKE-lkg-local-env-0005',
}
const policy = `lkg-${p.split('/').pop()}`
let vault
let token
let dirs = []
let state
let tokenDir
let file
let audit

const tmp = (name) => {
  const d = mkdtempSync(join(tmpdir(), `ocv-lkg-${name}-`))
  dirs.push(d)
  return d
}

/** `openclaw.json` of `stateDir`: Vault first, the last-known-good file on, an audit log. */
function writeConfig(stateDir, { maxAgeMs = 3600000, fallback = 'local', path } = {}) {
  const credentials = {
    provider: 'vault',
    fallback,
    vault: { prefix: p },
    audit: { path: join(stateDir, 'audit.log') },
    lastKnownGood: { enabled: true, maxAgeMs, ...(path ? { path } : {}) },
  }
  writeFileSync(join(stateDir, 'openclaw.json'), JSON.stringify({ credentials }, null, 2), { mode: 0o600 })
}

/** What the exec provider's passEnv carries: Vault's address, the token file, the state dir. */
const passEnv = (stateDir = state, tokenFile = join(tokenDir, 'token')) => ({
  VAULT_ADDR: vault.addr,
  VAULT_TOKEN_FILE: tokenFile,
  VAULT_MAX_RETRIES: '0',
  OPENCLAW_STATE_DIR: stateDir,
})

function runResolver(ids, env) {
  return new Promise((resolve, reject) => {
    // The native executable, configured as `migrate --rewrite-config` writes it.
    const command = realpathSync(native)
    const child = spawn(command, ['resolve'], { cwd: dirname(command), env, stdio: 'pipe' })
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
    child.stdin.end(JSON.stringify({ protocolVersion: 1, provider: 'vault', ids }))
  })
}

/** `getCredential(name)` in a new Node process that sees only `env`; prints what came back. */
function getInChild(name, env) {
  const script = `const { CredentialStore } = require(${JSON.stringify(join(root, 'index.js'))});
    (async () => {
      try {
        const c = await new CredentialStore({ env: ${JSON.stringify(env)}, cwd: ${JSON.stringify(env.OPENCLAW_STATE_DIR)} }).getCredential(${JSON.stringify(name)})
        console.log(JSON.stringify({ value: c.apiKey.expose(), stale: c.stale, provider: c.source.provider }))
      } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }
    })()`
  const out = execFileSync(process.execPath, ['-e', script], { env: { PATH: process.env.PATH }, encoding: 'utf8' })
  return { ...JSON.parse(out), raw: out }
}

const id = (name) => `${p}/credentials/${name}/apiKey`

function assertNoLeak(text, allow = []) {
  for (const s of [token, ...Object.values(secrets)]) {
    if (allow.includes(s)) continue
    assert.ok(!text.includes(s), `leaked: ${text.slice(0, 400)}`)
  }
}

const auditLines = (stateDir = state) =>
  existsSync(join(stateDir, 'audit.log'))
    ? readFileSync(join(stateDir, 'audit.log'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
    : []

before(async () => {
  vault = await startVault()
  const root = new VaultClient({ addr: vault.addr, token: vault.token, renew: false, kvVersion: 2 })
  for (const name of ['openai', 'anthropic', 'denied', 'gone']) {
    await root.write(`${p}/credentials/${name}`, { apiKey: secrets[name] })
  }
  // A token of its own (the file's key is derived from it), whose policy is narrowed later.
  const put = await vaultFetch(vault, 'PUT', `sys/policies/acl/${policy}`, {
    body: { policy: `path "secret/data/${p}/*" { capabilities = ["read"] }` },
  })
  assert.ok(put.status < 300, put.text)
  const created = await vaultFetch(vault, 'POST', 'auth/token/create', { body: { policies: [policy], ttl: '1h' } })
  token = created.json.auth.client_token
  state = tmp('state')
  tokenDir = tmp('token')
  writeFileSync(join(tokenDir, 'token'), `${token}\n`, { mode: 0o600 })
  writeConfig(state)
  file = join(state, 'vault-last-known-good.bin')
  audit = join(state, 'audit.log')
})

after(async () => {
  await vault?.stop()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

describe('last known good across a restart', () => {
  test('process A: resolve and getCredential read Vault and keep every read, encrypted, 0600', async () => {
    const out = await runResolver([id('openai'), id('denied'), id('gone')], passEnv())
    assert.equal(out.code, 0, out.stdout + out.stderr)
    assert.deepEqual(out.json.values, {
      [id('openai')]: secrets.openai,
      [id('denied')]: secrets.denied,
      [id('gone')]: secrets.gone,
    })
    const got = getInChild('anthropic', passEnv())
    assert.deepEqual([got.value, got.stale, got.provider], [secrets.anthropic, false, 'vault'], got.raw)
    assert.equal(statSync(file).mode & 0o777, 0o600)
    const bytes = readFileSync(file)
    assert.equal(bytes.subarray(0, 6).toString(), 'OCVLKG')
    assertNoLeak(bytes.toString('latin1'))
    assert.ok(!bytes.toString('latin1').includes('apiKey'), 'field names are encrypted too')
  })

  test('a denial (403) or a not-found from a Vault that answers never falls back to the file', async () => {
    const narrowed = await vaultFetch(vault, 'PUT', `sys/policies/acl/${policy}`, {
      body: {
        policy: `path "secret/data/${p}/*" { capabilities = ["read"] }
path "secret/data/${p}/credentials/denied" { capabilities = ["deny"] }`,
      },
    })
    assert.ok(narrowed.status < 300, narrowed.text)
    const gone = await vaultFetch(vault, 'DELETE', `secret/metadata/${p}/credentials/gone`)
    assert.ok(gone.status < 300, gone.text)
    const out = await runResolver([id('denied'), id('gone')], passEnv())
    assert.equal(out.code, 0, out.stdout)
    assert.deepEqual(out.json.values, {})
    assert.match(out.json.errors[id('denied')].message, /403/)
    assert.equal(out.json.errors[id('gone')].code, 'NOT_FOUND')
    assertNoLeak(out.stdout + out.stderr)
    writeConfig(state, { fallback: 'none' })
    const got = getInChild('denied', passEnv())
    assert.equal(got.code, 'PERMISSION_DENIED', got.raw)
    assertNoLeak(got.raw)
    writeConfig(state)
  })

  test('Vault stopped: a new resolve process answers from the file, and audits it as stale', async () => {
    await vault.stop()
    const out = await runResolver([id('openai')], passEnv())
    assert.equal(out.code, 0, out.stdout + out.stderr)
    assert.deepEqual(out.json, { protocolVersion: 1, values: { [id('openai')]: secrets.openai }, errors: {} })
    assert.match(out.stderr, /last-known-good/)
    assertNoLeak(out.stderr)
    const line = auditLines().find((l) => l.credential === `${p}/credentials/openai` && l.outcome === 'stale')
    assert.ok(line, JSON.stringify(auditLines()))
    assert.match(line.detail, /NETWORK|CIRCUIT_OPEN|TIMEOUT/)
    assertNoLeak(readFileSync(audit, 'utf8'))
  })

  test('Vault stopped: getCredential in a new Node process serves the value stale, from Vault', () => {
    const got = getInChild('anthropic', passEnv())
    assert.deepEqual([got.value, got.stale, got.provider], [secrets.anthropic, true, 'vault'], got.raw)
    const line = auditLines().find((l) => l.credential === 'anthropic' && l.outcome === 'stale')
    assert.ok(line, JSON.stringify(auditLines()))
    assert.match(line.detail, /last-known-good file/)
  })

  test('`openclaw secrets audit --check --allow-exec` (the real OpenClaw, running our resolve) resolves the ref from the file', async () => {
    const oc = ensureOpenClaw()
    // OpenClaw's own state: its openclaw.json may not hold our `credentials` section (its schema
    // refuses unknown keys), so the provider's env points our resolver at the test's config.
    const ocState = tmp('openclaw')
    chmodSync(ocState, 0o700)
    const config = {
      secrets: {
        providers: {
          vaultrs: {
            source: 'exec',
            command: realpathSync(native),
            args: ['resolve'],
            passEnv: ['VAULT_ADDR', 'VAULT_TOKEN_FILE', 'VAULT_MAX_RETRIES'],
            env: { OPENCLAW_STATE_DIR: state },
            timeoutMs: 15000,
            noOutputTimeoutMs: 15000,
            maxOutputBytes: 1048576,
            jsonOnly: true,
          },
        },
      },
      models: {
        providers: {
          openai: {
            baseUrl: 'http://127.0.0.1:9/v1',
            apiKey: { source: 'exec', provider: 'vaultrs', id: id('openai') },
            models: [],
          },
        },
      },
    }
    writeFileSync(join(ocState, 'openclaw.json'), JSON.stringify(config, null, 2), { mode: 0o600 })
    const audit = async () => {
      try {
        const { stdout, stderr } = await promisify(execFile)(
          oc.node,
          [oc.openclawBin, 'secrets', 'audit', '--check', '--allow-exec', '--json'],
          {
            cwd: ocState,
            env: { ...passEnv(), HOME: ocState, OPENCLAW_STATE_DIR: ocState, PATH: process.env.PATH },
            timeout: 120000,
          },
        )
        return { code: 0, stdout, stderr }
      } catch (e) {
        if (typeof e.code !== 'number') throw e
        return { code: e.code, stdout: e.stdout, stderr: e.stderr }
      }
    }
    const out = await audit()
    assert.equal(out.code, 0, `${out.stdout}\n${out.stderr}`)
    const report = JSON.parse(out.stdout)
    assert.equal(report.status, 'clean', out.stdout)
    assert.equal(report.resolution.refsChecked, 1)
    assert.equal(report.summary.unresolvedRefCount, 0)
    assertNoLeak(out.stdout + out.stderr)
    // Past the maximum age the same audit finds the ref unresolved: fail closed.
    writeConfig(state, { maxAgeMs: 1 })
    try {
      const expired = await audit()
      assert.notEqual(expired.code, 0, expired.stdout)
      assert.equal(JSON.parse(expired.stdout).status, 'unresolved', expired.stdout)
      assertNoLeak(expired.stdout + expired.stderr)
    } finally {
      writeConfig(state)
    }
  })

  test('a value Vault later denied (403) or deleted (404) was dropped from the file: not served while Vault is down', async () => {
    const out = await runResolver([id('denied'), id('gone')], passEnv())
    assert.equal(out.code, 1, out.stdout)
    assert.deepEqual(out.json.values, {})
    assertNoLeak(out.stdout + out.stderr)
  })

  test('past maxAgeMs it fails closed: resolve fails, getCredential rejects with LAST_KNOWN_GOOD_EXPIRED', async () => {
    writeConfig(state, { maxAgeMs: 1, fallback: 'none' })
    try {
      const out = await runResolver([id('openai')], passEnv())
      assert.equal(out.code, 1, out.stdout)
      assert.deepEqual(out.json.values, {})
      assert.match(out.json.errors.request.message, /LAST_KNOWN_GOOD_EXPIRED/)
      assert.match(out.json.errors.request.message, /maxAgeMs/)
      assertNoLeak(out.stdout + out.stderr)
      const got = getInChild('anthropic', passEnv())
      assert.equal(got.code, 'LAST_KNOWN_GOOD_EXPIRED', got.raw)
      assertNoLeak(got.raw)
    } finally {
      writeConfig(state)
    }
  })

  test('a copy of the file without the key is useless: wrong key, a clear error naming the file', async () => {
    const other = tmp('copy')
    const copy = join(other, 'vault-last-known-good.bin')
    copyFileSync(file, copy)
    writeConfig(other, { path: copy })
    // Bound to its path too: the same key under another path does not decrypt either.
    for (const tokenFile of [join(tokenDir, 'token'), join(tmp('wrong'), 'token')]) {
      if (!existsSync(tokenFile)) writeFileSync(tokenFile, 'hvs.FAKE-lkg-wrong-token\n', { mode: 0o600 })
      const out = await runResolver([id('openai')], passEnv(other, tokenFile))
      assert.equal(out.code, 1, out.stdout)
      assert.deepEqual(out.json.values, {})
      assert.match(out.json.errors.request.message, /cannot be decrypted/)
      assert.ok(out.json.errors.request.message.includes(copy), out.stdout)
      assertNoLeak(out.stdout + out.stderr)
    }
  })

  test('a tampered, truncated or foreign file is refused naming the file; Vault is still tried and other sources still answer', async () => {
    const good = readFileSync(file)
    const flipped = Buffer.from(good)
    flipped[flipped.length - 5] ^= 1
    const cases = [
      ['tampered', flipped, /cannot be decrypted/],
      ['truncated', good.subarray(0, 40), /is truncated/],
      ['foreign', Buffer.from('{"entries":{}}'.padEnd(80, ' ')), /bad magic/],
    ]
    try {
      for (const [what, bytes, expect] of cases) {
        writeFileSync(file, bytes)
        const out = await runResolver([id('openai')], passEnv())
        assert.equal(out.code, 1, `${what}: ${out.stdout}`)
        const message = out.json.errors.request.message
        assert.match(message, expect, what)
        assert.ok(message.includes(file), `${what}: ${message}`)
        assert.match(message, /^Vault read of .* failed: .*Connection refused/, `${what}: Vault was asked first`)
        assertNoLeak(out.stdout + out.stderr)
        // getCredential moves on to the next source (fallback local): the env answers.
        const got = getInChild('openai', { ...passEnv(), OPENAI_API_KEY: secrets.local })
        assert.deepEqual([got.value, got.provider], [secrets.local, 'env'], `${what}: ${got.raw}`)
        assertNoLeak(got.raw, [secrets.local])
      }
    } finally {
      writeFileSync(file, good, { mode: 0o600 })
    }
  })
})
