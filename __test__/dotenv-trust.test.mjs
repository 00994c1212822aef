// The workspace `.env` (the directory a command starts in) is untrusted: it never sets VAULT_*,
// OPENCLAW_*, proxy or TLS variables or credentials. The CLI as a user runs it, a real dev server,
// loopback listeners that record whatever reaches them, and OpenClaw's own list of refused names
// (read from the released package) as a floor for ours.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { loadConfig } from '../index.js'
import { ensureOpenClaw } from '../scripts/ensure-openclaw.mjs'
import { root, startVault } from './support/vault-server.mjs'

const bin = join(root, 'bin', 'openclaw-vault.js')
const dotenvToken = 'hvs.FAKE-workspace-dotenv-token-31337'
let vault
let listener
const homes = []

/** A TCP listener that records every byte sent to it and answers nothing useful. */
function startListener() {
  return new Promise((resolve) => {
    const received = []
    const server = createServer((socket) => {
      const i = received.push('') - 1
      socket.on('data', (d) => (received[i] += d.toString('latin1')))
      socket.on('error', () => {})
      socket.end('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n')
    })
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        received,
        close: () => new Promise((r) => server.close(r)),
      }),
    )
  })
}

before(async () => {
  vault = await startVault()
  listener = await startListener()
})
after(async () => {
  await listener?.close()
  await vault?.stop()
  for (const h of homes) rmSync(h, { recursive: true, force: true })
})

/** The sample HOME with `fallback: "none"`, and a workspace directory holding `dotenv`. */
function setup(dotenv) {
  const home = mkdtempSync(join(tmpdir(), 'ocv-dotenv-home-'))
  homes.push(home)
  cpSync(join(root, 'examples', 'sample-home'), home, { recursive: true })
  const fix = (d) => {
    chmodSync(d, 0o700)
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) fix(join(d, e.name))
      else chmodSync(join(d, e.name), 0o600)
    }
  }
  fix(home)
  const config = join(home, '.openclaw', 'openclaw-vault.json')
  writeFileSync(config, readFileSync(config, 'utf8').replace('fallback: "local"', 'fallback: "none"'))
  const work = join(home, 'project')
  mkdirSync(work, { mode: 0o700 })
  writeFileSync(join(work, '.env'), dotenv, { mode: 0o600 })
  return { home, work }
}

function cli(args, { home, cwd, env = {} }) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    env: { HOME: home, PATH: process.env.PATH, VAULT_MAX_RETRIES: '0', ...env },
    encoding: 'utf8',
    cwd,
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

describe('the workspace .env', () => {
  test('a listener named in a workspace .env receives no request and no token', () => {
    const { home, work } = setup(
      [
        `VAULT_ADDR=${listener.url}`,
        `VAULT_TOKEN=${dotenvToken}`,
        `VAULT_HTTP_PROXY=${listener.url}`,
        `HTTP_PROXY=${listener.url}`,
        `HTTPS_PROXY=${listener.url}`,
        `ALL_PROXY=${listener.url}`,
        'OPENCLAW_VAULT_FALLBACK=local',
        'OPENCLAW_VAULT_PROVIDER=vault',
        'NODE_EXTRA_CA_CERTS=/nonexistent/evil-ca.pem',
        'ANTHROPIC_API_KEY=sk-ant-FAKE-workspace-dotenv',
        '',
      ].join('\n'),
    )
    const before = listener.received.length

    // No Vault in the process env: the workspace .env cannot make one up.
    const local = cli(['status', '--json'], { home, cwd: work })
    const report = JSON.parse(local.out)
    assert.equal(report.config.provider, 'local', local.err)
    assert.equal(report.config.vault, null)
    assert.equal(report.vault.configured, false)
    const refused = report.config.dotenvRefused.map((r) => r.variable).sort()
    assert.deepEqual(refused, [
      'ALL_PROXY',
      'ANTHROPIC_API_KEY',
      'HTTPS_PROXY',
      'HTTP_PROXY',
      'NODE_EXTRA_CA_CERTS',
      'OPENCLAW_VAULT_FALLBACK',
      'OPENCLAW_VAULT_PROVIDER',
      'VAULT_ADDR',
      'VAULT_HTTP_PROXY',
      'VAULT_TOKEN',
    ])
    for (const r of report.config.dotenvRefused) assert.equal(r.file, join(work, '.env'))
    // Reported (status findings and the log), never with its value.
    assert.ok(report.warnings.some((w) => w.includes('VAULT_TOKEN') && w.includes('workspace .env')))
    assert.equal((local.err.match(/VAULT_TOKEN/g) ?? []).length, 1, local.err)
    // Review finding: the plain `status` printed it twice (the log line, then its own finding).
    const text = cli(['status'], { home, cwd: work })
    for (const v of ['VAULT_TOKEN', 'OPENCLAW_VAULT_FALLBACK']) {
      const seen = (text.out + text.err).split('\n').filter((l) => l.includes(`: ${v}: `))
      assert.equal(seen.length, 1, `${v} shown ${seen.length} times:\n${text.out}${text.err}`)
    }
    for (const s of [dotenvToken, 'sk-ant-FAKE-workspace-dotenv', listener.url, 'evil-ca'])
      assert.ok(!local.out.includes(s) && !local.err.includes(s), `${s} shown`)

    // The real Vault in the process env: reached directly, not through the .env's proxies.
    const real = cli(['status', '--json'], {
      home,
      cwd: work,
      env: { VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token },
    })
    assert.equal(real.code, 0, real.out + real.err)
    assert.equal(JSON.parse(real.out).vault.reachable, true)

    // `fallback: "none"` in openclaw-vault.json stands against the .env's OPENCLAW_VAULT_FALLBACK:
    // with Vault down, the local telegram token is not served.
    const down = cli(['get', 'telegram', '--reveal'], {
      home,
      cwd: work,
      env: { VAULT_ADDR: 'http://127.0.0.1:9', VAULT_TOKEN: 'hvs.FAKE-process' },
    })
    assert.notEqual(down.code, 0, down.out)
    assert.ok(!down.out.includes('AAFAKE-telegram-demo-token'), down.out)

    assert.equal(listener.received.length, before, 'the listener was reached')
    assert.ok(!listener.received.join('').includes(vault.token))
  })

  test('the state dir .env may set what the workspace .env may not', () => {
    const { home, work } = setup('')
    writeFileSync(join(home, '.openclaw', '.env'), `VAULT_ADDR=${vault.addr}\nVAULT_TOKEN=${vault.token}\n`, {
      mode: 0o600,
    })
    const r = cli(['status', '--json'], { home, cwd: work })
    assert.equal(r.code, 0, r.out + r.err)
    const report = JSON.parse(r.out)
    assert.equal(report.vault.reachable, true)
    assert.deepEqual(report.config.dotenvRefused, [])
  })

  test("every name OpenClaw's own rule drops from a workspace .env is dropped by ours", () => {
    const oc = ensureOpenClaw()
    const dist = join(oc.openclawDir, 'dist')
    const file = readdirSync(dist).find(
      (f) =>
        /^dotenv-.*\.mjs$/.test(f) && readFileSync(join(dist, f), 'utf8').includes('BLOCKED_WORKSPACE_DOTENV_KEYS'),
    )
    assert.ok(file, 'OpenClaw has a dotenv-*.mjs with its list')
    const text = readFileSync(join(dist, file), 'utf8')
    const block = (name) => {
      const m = text.match(new RegExp(`const ${name} = (?:/\\* @__PURE__ \\*/ new Set\\()?\\[([^\\]]*)\\]`))
      assert.ok(m, name)
      return [...m[1].matchAll(/"([^"]+)"/g)].map((x) => x[1])
    }
    const names = [...block('BLOCKED_PROVIDER_AUTH_WORKSPACE_DOTENV_KEYS'), ...block('BLOCKED_WORKSPACE_DOTENV_KEYS')]
    // A name for each of its prefixes and suffixes, too.
    for (const p of block('BLOCKED_WORKSPACE_DOTENV_PREFIXES')) names.push(`${p}EXAMPLE`)
    for (const s of block('BLOCKED_WORKSPACE_DOTENV_SUFFIXES')) names.push(`EXAMPLE${s}`)
    const portable = names.filter((n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n))
    assert.ok(portable.length > 150, `only ${portable.length} names`)
    const { home, work } = setup(portable.map((n) => `${n}=x`).join('\n') + '\n')
    const loaded = loadConfig({ env: { HOME: home }, cwd: work })
    const refused = new Set(loaded.dotenvRefused.map((r) => r.variable))
    const missed = portable.filter((n) => !refused.has(n))
    assert.deepEqual(missed, [])
  })
})
