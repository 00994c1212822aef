// getCredential over local sources: a temporary HOME copied from examples/sample-home (Claude
// Code, Qwen, Gemini, Codex, OpenClaw's auth profiles, legacy OAuth file, openclaw.json, .env),
// Vault first with fallback, the audit log, bad input, OAuth tokens a CLI owns (never refreshed),
// OAuth write-back to OpenClaw's own file, and the keychain through a real Secret Service when one
// is running.
import assert from 'node:assert/strict'
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { spawnSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { inspect } from 'node:util'

import { CredentialStore, VaultClient } from '../index.js'
import { assertNoLeak, removeTree, root, startVault, uniquePrefix } from './support/vault-server.mjs'

const sample = join(root, 'examples', 'sample-home')
const homes = []
let vault
let client
const prefix = uniquePrefix('local')

before(async () => {
  vault = await startVault()
  client = new VaultClient({ addr: vault.addr, token: vault.token, renew: false })
})
after(async () => {
  if (vault) await removeTree(vault, prefix)
  await vault?.stop()
  for (const h of homes) rmSync(h, { recursive: true, force: true })
})

/** A fresh copy of the sample HOME with the modes OpenClaw and the CLIs use (0700 dirs, 0600 files). */
function sampleHome() {
  const home = mkdtempSync(join(tmpdir(), 'ocv-local-home-'))
  homes.push(home)
  cpSync(sample, home, { recursive: true })
  const fix = (dir) => {
    chmodSync(dir, 0o700)
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name)
      if (entry.isDirectory()) fix(p)
      else chmodSync(p, 0o600)
    }
  }
  fix(home)
  return home
}

const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'))

/** Every secret value in the sample HOME's JSON files (for leak checks). */
function secretsIn(home) {
  const out = []
  const walk = (v, key) => {
    if (typeof v === 'string' && /token|key|access|refresh|secret|password/i.test(key ?? '') && v.length > 8)
      out.push(v)
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k)
  }
  for (const f of [
    '.claude/.credentials.json',
    '.qwen/oauth_creds.json',
    '.gemini/oauth_creds.json',
    '.codex/auth.json',
    '.openclaw/agents/main/agent/auth-profiles.json',
    '.openclaw/credentials/oauth.json',
  ]) {
    walk(readJson(join(home, f)))
  }
  return out
}

const localStore = (home, extra = {}, config) =>
  new CredentialStore({ env: { HOME: home, ...extra }, cwd: home, config })

describe('local sources from a sample HOME', () => {
  test('each source answers with its kind, provider and file', async () => {
    const home = sampleHome()
    const store = localStore(home)
    assert.equal(store.configFile, join(home, '.openclaw', 'openclaw.json'))

    const anthropic = await store.getCredential('anthropic')
    const claude = readJson(join(home, '.claude/.credentials.json')).claudeAiOauth
    assert.equal(anthropic.kind, 'oauth')
    assert.equal(anthropic.source.provider, 'claude-code')
    assert.equal(anthropic.source.file, join(home, '.claude/.credentials.json'))
    assert.equal(anthropic.expose('accessToken'), claude.accessToken)
    assert.equal(anthropic.expose('refreshToken'), claude.refreshToken)
    assert.equal(anthropic.expiresAt, claude.expiresAt)

    const qwen = await store.getCredential('qwen')
    assert.equal(qwen.source.provider, 'qwen')
    assert.equal(qwen.expose('accessToken'), readJson(join(home, '.qwen/oauth_creds.json')).access_token)

    const codex = await store.getCredential('codex')
    assert.equal(codex.kind, 'oauth')
    assert.equal(codex.expose('accessToken'), readJson(join(home, '.codex/auth.json')).tokens.access_token)

    const telegram = await store.getCredential('telegram')
    assert.equal(telegram.kind, 'token')
    assert.equal(telegram.source.provider, 'openclaw-config')

    const work = await store.getCredential('anthropic:work')
    assert.equal(work.source.provider, 'auth-profiles')
    const profiles = readJson(join(home, '.openclaw/agents/main/agent/auth-profiles.json')).profiles
    assert.equal(work.expose('accessToken'), profiles['anthropic:work'].access)

    // A JS-provided env variable is the last source.
    const el = await localStore(home, { ELEVENLABS_API_KEY: 'el-test-key-123456' }).getCredential('elevenlabs')
    assert.equal(el.source.provider, 'env')
    assert.equal(el.expose(), 'el-test-key-123456')
  })

  test('listCredentials says which names exist where, never a value', async () => {
    const home = sampleHome()
    const listed = await localStore(home).listCredentials()
    const names = listed.map((c) => c.name)
    for (const n of ['anthropic', 'qwen', 'codex', 'telegram', 'anthropic:work']) assert.ok(names.includes(n), n)
    const text = JSON.stringify(listed) + inspect(listed, { depth: 9 })
    for (const s of secretsIn(home)) assert.ok(!text.includes(s), 'a value leaked into listCredentials')
  })

  test('not found anywhere: CREDENTIAL_NOT_FOUND naming the sources tried', async () => {
    const home = sampleHome()
    const err = await localStore(home)
      .getCredential('no-such-credential')
      .catch((e) => e)
    assert.equal(err.code, 'CREDENTIAL_NOT_FOUND')
    assert.match(err.message, /claude-code/)
    assert.match(err.message, /env/)
  })
})

describe('Vault first, local as fallback', () => {
  const vaultEnv = (home, extra = {}) => ({
    VAULT_ADDR: vault.addr,
    VAULT_TOKEN: vault.token,
    VAULT_MAX_RETRIES: '0',
    OPENCLAW_VAULT_PREFIX: prefix,
    ...extra,
  })

  test('Vault wins when it holds the name; local answers the rest', async () => {
    const home = sampleHome()
    await client.write(`${prefix}/credentials/telegram`, { kind: 'token', token: '999:vault-telegram-token' })
    const store = localStore(home, vaultEnv(home))
    const t = await store.getCredential('telegram')
    assert.equal(t.source.provider, 'vault')
    assert.equal(t.expose(), '999:vault-telegram-token')
    const q = await store.getCredential('qwen')
    assert.equal(q.source.provider, 'qwen')
  })

  test('Vault down: fallback to local (audited); fallback "none": an error, no silent fallback', async () => {
    const home = sampleHome()
    const audit = join(home, 'audit.log')
    const dead = { VAULT_ADDR: 'http://127.0.0.1:9', VAULT_MAX_RETRIES: '0', VAULT_CLIENT_TIMEOUT: '2s' }
    const store = localStore(home, vaultEnv(home, { ...dead, OPENCLAW_VAULT_AUDIT_LOG: audit }))
    const t = await store.getCredential('telegram')
    assert.equal(t.source.provider, 'openclaw-config')
    const lines = readFileSync(audit, 'utf8').trim().split('\n').map(JSON.parse)
    assert.ok(
      lines.some((l) => l.event === 'fallback' && l.credential === 'telegram'),
      JSON.stringify(lines),
    )
    assert.equal(statSync(audit).mode & 0o777, 0o600)

    const strict = localStore(home, vaultEnv(home, dead), { fallback: 'none' })
    const err = await strict.getCredential('telegram').catch((e) => e)
    assert.ok(['NETWORK', 'TIMEOUT'].includes(err.code), err.code)
  })
})

describe('audit log', () => {
  test('one JSON line per access, 0600, never a value', async () => {
    const home = sampleHome()
    const audit = join(home, 'logs', 'audit.jsonl')
    const store = localStore(home, {}, { audit: { path: audit } })
    await store.getCredential('anthropic')
    await store.getCredential('qwen')
    await store.getCredential('missing-one').catch(() => {})
    const text = readFileSync(audit, 'utf8')
    const lines = text.trim().split('\n').map(JSON.parse)
    assert.ok(lines.length >= 3)
    const got = lines.find((l) => l.credential === 'anthropic')
    for (const key of ['time', 'event', 'credential', 'source', 'outcome', 'pid', 'user', 'host']) {
      assert.ok(key in got, `${key} missing from ${JSON.stringify(got)}`)
    }
    assert.equal(got.pid, process.pid)
    assert.ok(lines.some((l) => l.credential === 'missing-one' && l.outcome === 'CREDENTIAL_NOT_FOUND'))
    for (const s of secretsIn(home)) assert.ok(!text.includes(s), 'a value leaked into the audit log')
    assert.equal(statSync(audit).mode & 0o777, 0o600)
  })
})

describe('a secret pasted where a name belongs (attack 7, finding 10j)', () => {
  // Shaped like an OpenAI key; FAKE.
  const pasted = 'sk-proj-FAKEpasted0123456789abcdef'

  /** getCredential(name) in a child Node (its stderr is the log), Vault configured, audited. */
  function childGet(home, name, audit) {
    const script = `const { getCredential } = require(${JSON.stringify(join(root, 'index.js'))});
      getCredential(${JSON.stringify(name)}).then(
        () => console.log(JSON.stringify({ ok: true })),
        (e) => console.log(JSON.stringify({ code: e.code, message: e.message, errors: e.errors, path: e.path })),
      )`
    const r = spawnSync(process.execPath, ['-e', script], {
      env: {
        PATH: process.env.PATH,
        HOME: home,
        VAULT_ADDR: vault.addr,
        VAULT_TOKEN: vault.token,
        VAULT_MAX_RETRIES: '0',
        OPENCLAW_VAULT_PREFIX: prefix,
        OPENCLAW_VAULT_AUDIT_LOG: audit,
        OPENCLAW_VAULT_LOG: 'debug',
      },
      encoding: 'utf8',
    })
    return { out: JSON.parse(r.stdout), err: r.stderr }
  }

  test('getCredential and `get`: CREDENTIAL_NOT_FOUND without the value in the error, the log or the audit log; a normal name is still named', async () => {
    const home = sampleHome()
    const audit = join(home, 'audit.jsonl')
    const r = childGet(home, pasted, audit)
    assert.equal(r.out.code, 'CREDENTIAL_NOT_FOUND')
    assert.match(r.out.message, /name hidden: it looks like a secret/)
    assert.ok(!JSON.stringify(r.out).includes(pasted), JSON.stringify(r.out))
    assert.ok(!r.err.includes(pasted), r.err)

    const cli = spawnSync(process.execPath, [join(root, 'bin', 'openclaw-vault.js'), 'get', pasted], {
      env: {
        PATH: process.env.PATH,
        HOME: home,
        VAULT_ADDR: vault.addr,
        VAULT_TOKEN: vault.token,
        OPENCLAW_VAULT_PREFIX: prefix,
        OPENCLAW_VAULT_AUDIT_LOG: audit,
        OPENCLAW_VAULT_LOG: 'debug',
      },
      encoding: 'utf8',
    })
    assert.notEqual(cli.status, 0)
    assert.match(cli.stderr, /error \[CREDENTIAL_NOT_FOUND\]/)
    assert.ok(!cli.stdout.includes(pasted) && !cli.stderr.includes(pasted), cli.stderr)

    const log = readFileSync(audit, 'utf8')
    assert.ok(!log.includes(pasted), log)
    const lines = log.trim().split('\n').map(JSON.parse)
    assert.ok(
      lines.some((l) => l.event === 'get' && l.outcome === 'CREDENTIAL_NOT_FOUND' && /name hidden/.test(l.credential)),
      log,
    )

    // A normal name is still named everywhere.
    for (const name of ['openai-missing', 'store/MY_MISSING_SECRET', 'agents/bob/openai-missing']) {
      const n = childGet(home, name, audit)
      assert.equal(n.out.code, 'CREDENTIAL_NOT_FOUND')
      assert.ok(n.out.message.includes(`"${name}"`), n.out.message)
      assert.ok(
        readFileSync(audit, 'utf8')
          .trim()
          .split('\n')
          .map(JSON.parse)
          .some((l) => l.credential === name && l.outcome === 'CREDENTIAL_NOT_FOUND'),
        name,
      )
    }
  })
})

describe('bad input', () => {
  test('a malformed file: its error names the file; the other sources are still tried; nothing written', async () => {
    const home = sampleHome()
    const file = join(home, '.claude/.credentials.json')
    const broken = '{"claudeAiOauth": {"accessToken": "sk-ant-oat01-LEAKME", '
    writeFileSync(file, broken, { mode: 0o600 })
    const store = localStore(home)
    // anthropic is also an auth profile: the chain goes on past the broken file.
    const c = await store.getCredential('anthropic')
    assert.notEqual(c.source.provider, 'claude-code')
    assert.equal(readFileSync(file, 'utf8'), broken)
    // Asking only the files group where only Claude Code has the name: the error names the file.
    const err = await store.getCredential('claude-code', { order: ['files'] }).catch((e) => e)
    assert.equal(err.code, 'CREDENTIAL_NOT_FOUND')
    assert.match(err.message, /\.credentials\.json/)
    await assertNoLeak(assert, err, ['sk-ant-oat01-LEAKME'])
  })

  test('wrong types name the JSON path and never the value', async () => {
    const home = sampleHome()
    const file = join(home, '.qwen/oauth_creds.json')
    writeFileSync(
      file,
      JSON.stringify({ access_token: 'qwen-secret-LEAKME', refresh_token: 42, expiry_date: 'soon' }),
      {
        mode: 0o600,
      },
    )
    const err = await localStore(home)
      .getCredential('qwen', { order: ['files'] })
      .catch((e) => e)
    assert.equal(err.code, 'CREDENTIAL_NOT_FOUND')
    assert.match(err.message, /oauth_creds\.json/)
    assert.match(err.message, /refresh_token|expiry_date/)
    await assertNoLeak(assert, err, ['qwen-secret-LEAKME'])
  })

  test('a symlinked credential file is refused', async () => {
    const home = sampleHome()
    const real = join(home, 'elsewhere.json')
    cpSync(join(home, '.gemini/oauth_creds.json'), real)
    rmSync(join(home, '.gemini/oauth_creds.json'))
    symlinkSync(real, join(home, '.gemini/oauth_creds.json'))
    const err = await localStore(home)
      .getCredential('gemini', { order: ['files'] })
      .catch((e) => e)
    assert.equal(err.code, 'CREDENTIAL_NOT_FOUND')
    assert.match(err.message, /symbolic link|symlink/i)
  })

  test('a world-readable file is read with a warning in its metadata', async () => {
    const home = sampleHome()
    chmodSync(join(home, '.qwen/oauth_creds.json'), 0o644)
    const c = await localStore(home).getCredential('qwen')
    assert.match(JSON.stringify(c.metadata), /readable/i)
  })

  test('malformed JSON5 config: INVALID_CONFIG naming the file and where', async () => {
    for (const file of ['openclaw.json', 'openclaw-vault.json']) {
      const home = sampleHome()
      writeFileSync(join(home, '.openclaw', file), '{ provider: "vault", ', { mode: 0o600 })
      assert.throws(
        () => localStore(home),
        (e) => e.code === 'INVALID_CONFIG' && e.message.includes(join(home, '.openclaw', file)),
      )
    }
  })

  test('a wrong type in openclaw-vault.json names the file, the JSON path and what was expected', async () => {
    const home = sampleHome()
    writeFileSync(join(home, '.openclaw/openclaw-vault.json'), '{ cacheTtlMs: "soon" }', { mode: 0o600 })
    assert.throws(
      () => localStore(home),
      (e) =>
        e.code === 'INVALID_CONFIG' &&
        e.message.startsWith(`${join(home, '.openclaw/openclaw-vault.json')}: \`cacheTtlMs\` must be a number`),
    )
  })

  test('an empty env variable is not a credential', async () => {
    const home = sampleHome()
    const err = await localStore(home, { ELEVENLABS_API_KEY: '' })
      .getCredential('elevenlabs')
      .catch((e) => e)
    assert.equal(err.code, 'CREDENTIAL_NOT_FOUND')
  })
})

/**
 * A loopback stand-in for an OAuth token endpoint: counts the requests it gets and answers new
 * tokens. The refresh callbacks below trade through it, as a real caller's would.
 */
async function stubTokenEndpoint() {
  const { createServer } = await import('node:http')
  let requests = 0
  const server = createServer((req, res) => {
    requests++
    req.resume()
    req.on('end', () => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ access_token: `sk-ant-oat01-FAKE-STUB-${requests}`, expires_in: 3600 }))
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${server.address().port}/oauth/token`
  return {
    get requests() {
      return requests
    },
    refresh: async (c) => {
      const res = await fetch(url, {
        method: 'POST',
        body: `refresh_token=${encodeURIComponent(c.expose('refreshToken'))}`,
      })
      const body = await res.json()
      return { accessToken: body.access_token, expiresIn: body.expires_in }
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  }
}

/** `name` as an expired OAuth entry of OpenClaw's own legacy `credentials/oauth.json`. */
function expiredLegacyOAuth(home, name) {
  const file = join(home, '.openclaw/credentials/oauth.json')
  const doc = readJson(file)
  doc[name] = { access: `sk-FAKE-${name}-old-access`, refresh: `sk-FAKE-${name}-refresh`, expires: Date.now() - 1000 }
  writeFileSync(file, JSON.stringify(doc, null, 2), { mode: 0o600 })
  return { file, doc }
}

describe('OAuth tokens a CLI owns', () => {
  test('an expired Claude Code token is never refreshed: no request to the token endpoint, the file untouched, REFRESH_FAILED naming `claude auth login`', async () => {
    const home = sampleHome()
    const file = join(home, '.claude/.credentials.json')
    const doc = readJson(file)
    doc.claudeAiOauth.expiresAt = Date.now() - 1000
    writeFileSync(file, JSON.stringify(doc, null, 2), { mode: 0o600 })
    const bytes = readFileSync(file)
    const endpoint = await stubTokenEndpoint()
    try {
      const store = localStore(home)
      const plain = await store.getCredential('anthropic', { order: ['files'] })
      assert.deepEqual(plain.source.owner, { cli: 'Claude Code', renew: '`claude auth login`' })
      assert.deepEqual(plain.toJSON().source.owner, { cli: 'Claude Code', renew: '`claude auth login`' })
      const listed = await store.listCredentials({ order: ['files'] })
      const claude = listed.find((l) => l.name === 'anthropic').sources.find((s) => s.provider === 'claude-code')
      assert.deepEqual(claude.owner, { cli: 'Claude Code', renew: '`claude auth login`' })
      const legacy = listed.find((l) => l.name === 'anthropic').sources.find((s) => s.provider === 'openclaw-oauth')
      assert.equal(legacy.owner, undefined)

      const err = await store
        .getCredential('anthropic', { order: ['files'], refresh: endpoint.refresh, noCache: true })
        .catch((e) => e)
      assert.ok(err instanceof Error, 'rejected')
      assert.equal(err.code, 'REFRESH_FAILED')
      assert.match(err.message, /Claude Code owns this login/)
      assert.match(err.message, /`claude auth login`/)
      assert.match(err.message, /migrate --take-ownership anthropic/)
      assert.ok(err.message.includes(file), err.message)
      await assertNoLeak(assert, err, [doc.claudeAiOauth.accessToken, doc.claudeAiOauth.refreshToken])
      assert.equal(endpoint.requests, 0, 'no request reached the token endpoint')
      assert.deepEqual(readFileSync(file), bytes, 'the file is byte for byte as it was')
    } finally {
      await endpoint.close()
    }
  })

  // Review finding: OpenClaw's retired oauth.json was refreshed in place, spending the single-use
  // refresh token OpenClaw imported into its SQLite store.
  test("OpenClaw's retired oauth.json is never refreshed or written: REFRESH_FAILED naming `openclaw models auth login`", async () => {
    const home = sampleHome()
    const { file, doc } = expiredLegacyOAuth(home, 'chutes')
    const bytes = readFileSync(file)
    const endpoint = await stubTokenEndpoint()
    try {
      const store = localStore(home)
      const err = await store
        .getCredential('chutes', { refresh: endpoint.refresh, order: ['files'], noCache: true })
        .catch((e) => e)
      assert.ok(err instanceof Error, 'rejected')
      assert.equal(err.code, 'REFRESH_FAILED')
      assert.match(err.message, /`openclaw models auth login --provider chutes`/)
      assert.ok(err.message.includes(file), err.message)
      await assertNoLeak(assert, err, [doc.chutes.access, doc.chutes.refresh])
      assert.equal(endpoint.requests, 0, 'no request reached the token endpoint')
      assert.deepEqual(readFileSync(file), bytes, 'the file is byte for byte as it was')
      assert.ok(!existsSync(`${file}.lock`))
      // Without `refresh` it is read as it is.
      const plain = await store.getCredential('chutes', { order: ['files'], noCache: true })
      assert.equal(plain.source.provider, 'openclaw-oauth')
      assert.equal(plain.expose('accessToken'), doc.chutes.access)
    } finally {
      await endpoint.close()
    }
  })
})

describe('system keychain (real Secret Service)', () => {
  const skip =
    !process.env.DBUS_SESSION_BUS_ADDRESS && process.env.CI_REQUIRE_SECRET_SERVICE !== '1'
      ? 'no Secret Service session here (CI runs one: scripts/with-secret-service.sh)'
      : false
  test('`openclaw-vault put --to keychain` stores it; getCredential reads it back', { skip }, async () => {
    const home = sampleHome()
    const name = `ocv-test-${process.pid}-${Date.now()}`
    const value = `kc-secret-${Math.random().toString(36).slice(2)}`
    const { spawnSync } = await import('node:child_process')
    const env = { HOME: home, DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS ?? '' }
    const put = spawnSync(
      process.execPath,
      [join(root, 'bin/openclaw-vault.js'), 'put', name, '--kind', 'token', '--to', 'keychain'],
      {
        input: value + '\n',
        env,
        encoding: 'utf8',
      },
    )
    assert.equal(put.status, 0, put.stderr)
    assert.ok(!put.stdout.includes(value) && !put.stderr.includes(value))
    const c = await localStore(home).getCredential(name, { order: ['keychain'] })
    assert.equal(c.source.provider, 'keychain')
    assert.equal(c.kind, 'token')
    assert.equal(c.expose(), value)
    const listed = await localStore(home).listCredentials({ order: ['keychain'] })
    assert.ok(listed.some((l) => l.name === name))
  })
})

describe('local files across processes', () => {
  test("several processes: an expired token in OpenClaw's retired oauth.json is refreshed by none of them", async () => {
    const { execFile } = await import('node:child_process')
    const { promisify } = await import('node:util')
    const run = promisify(execFile)
    const home = sampleHome()
    const { file } = expiredLegacyOAuth(home, 'chutes')
    const bytes = readFileSync(file)
    const counter = join(home, 'refreshes')
    writeFileSync(counter, '')
    const child = `
      const { appendFileSync } = require('node:fs')
      const { CredentialStore } = require(${JSON.stringify(join(root, 'index.js'))})
      const store = new CredentialStore({ env: { HOME: process.env.HOME } })
      store.getCredential('chutes', {
        order: ['files'],
        refresh: async (c) => {
          appendFileSync(process.env.COUNTER, process.pid + '\\n')
          return { accessToken: 'sk-FAKE-chutes-NEW-' + process.pid, expiresIn: 3600 }
        },
      }).then(
        (c) => console.log(JSON.stringify({ access: c.expose('accessToken') })),
        (e) => console.log(JSON.stringify({ code: e.code, message: e.message })),
      )`
    const env = { PATH: process.env.PATH, HOME: home, COUNTER: counter }
    const outs = await Promise.all(
      Array.from({ length: 4 }, () => run(process.execPath, ['-e', child], { env }).then((r) => JSON.parse(r.stdout))),
    )
    assert.equal(readFileSync(counter, 'utf8'), '', 'no process called its refresh callback')
    for (const o of outs) {
      assert.equal(o.code, 'REFRESH_FAILED', JSON.stringify(o))
      assert.match(o.message, /openclaw models auth login --provider chutes/)
    }
    assert.deepEqual(readFileSync(file), bytes)
    assert.ok(!existsSync(`${file}.lock`))
  })

  test('watchCredential calls back when the local file changes, and stops', async () => {
    const home = sampleHome()
    const file = join(home, '.qwen/oauth_creds.json')
    const store = localStore(home)
    let watch
    const changed = new Promise((resolve, reject) => {
      store
        .watchCredential('qwen', (err, c) => (err ? reject(err) : resolve(c)), { intervalMs: 50 })
        .then((w) => {
          watch = w
          const doc = readJson(file)
          doc.access_token = 'qwen-access-ROTATED'
          writeFileSync(file, JSON.stringify(doc), { mode: 0o600 })
        }, reject)
    })
    const c = await changed
    watch.stop()
    assert.equal(c.expose('accessToken'), 'qwen-access-ROTATED')
    assert.equal(c.source.provider, 'qwen')
  })
})

describe('loadConfig', () => {
  test('the effective config: file found, env wins, warnings for unknown keys and a plaintext token, never the token', async () => {
    const { loadConfig } = await import('../index.js')
    const home = sampleHome()
    writeFileSync(
      join(home, '.openclaw/openclaw-vault.json'),
      `{
        // JSON5, like openclaw.json
        provider: "vault",
        fallbak: "none",
        vault: { addr: "http://127.0.0.1:8200", token: "hvs.PLAINTEXT-TOKEN-123", prefix: "team-a", },
      }`,
      { mode: 0o600 },
    )
    const config = loadConfig({ env: { HOME: home, VAULT_ADDR: 'http://127.0.0.1:8300' }, cwd: home })
    assert.equal(config.file, join(home, '.openclaw/openclaw.json'))
    assert.equal(config.settingsFile, join(home, '.openclaw/openclaw-vault.json'))
    assert.equal(config.provider, 'vault')
    assert.equal(config.vault.addr, 'http://127.0.0.1:8300/')
    assert.equal(config.prefix, 'team-a')
    assert.equal(config.vault.tokenSet, true)
    assert.equal(config.env.VAULT_ADDR, 'process')
    assert.ok(
      config.warnings.some((w) => /fallbak/.test(w) && /fallback/.test(w)),
      config.warnings.join('\n'),
    )
    assert.ok(
      config.warnings.some((w) => /openclaw-vault\.json: vault\.token/.test(w) && /VAULT_TOKEN|tokenFile/.test(w)),
    )
    assert.ok(!JSON.stringify(config).includes('hvs.PLAINTEXT-TOKEN-123'))
  })
})
