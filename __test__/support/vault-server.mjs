// Starts a real Vault dev server for a test file (or uses VAULT_TEST_ADDR + VAULT_TEST_TOKEN), and
// the project's fault proxy in front of it. Both are stopped by pid when the file ends.
import { spawn, execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Path of the Vault binary: $VAULT_BIN, else built (or taken from the cache) by the project's script. */
export function vaultBinary() {
  if (process.env.VAULT_BIN) return process.env.VAULT_BIN
  const out = execFileSync('bash', [join(root, 'tools/vault-server/build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return out.trim().split('\n').pop()
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/** Resolves once `check()` is true, polling every `everyMs` up to `timeoutMs`; rejects with `what` otherwise. */
export async function waitFor(what, check, { timeoutMs = 30000, everyMs = 50, died } = {}) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (died?.()) throw new Error(`${what}: the process exited (${died()})`)
    try {
      if (await check()) return
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

/**
 * A Vault for the tests: `{ addr, token, external, stop() }`. With VAULT_TEST_ADDR and
 * VAULT_TEST_TOKEN set, that server is used and nothing is started.
 */
export async function startVault({ extraArgs = [] } = {}) {
  if (process.env.VAULT_TEST_ADDR && process.env.VAULT_TEST_TOKEN) {
    return {
      addr: process.env.VAULT_TEST_ADDR.replace(/\/$/, ''),
      token: process.env.VAULT_TEST_TOKEN,
      external: true,
      async stop() {},
    }
  }
  const bin = vaultBinary()
  const token = `test-root-${randomBytes(12).toString('hex')}`
  // The dev server writes ~/.vault-token: give it a HOME of its own.
  const home = mkdtempSync(join(tmpdir(), 'ocv-vault-home-'))
  let lastError
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    const addr = `http://127.0.0.1:${port}`
    const child = spawn(
      bin,
      [
        'server',
        '-dev',
        `-dev-root-token-id=${token}`,
        `-dev-listen-address=127.0.0.1:${port}`,
        '-log-level=warn',
        ...extraArgs,
      ],
      { env: { PATH: process.env.PATH, HOME: home, VAULT_DISABLE_MLOCK: 'true' }, stdio: ['ignore', 'ignore', 'pipe'] },
    )
    let stderr = ''
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-4000)
    })
    let exited = null
    child.once('exit', (code, signal) => {
      exited = `code ${code}, signal ${signal}`
    })
    try {
      await waitFor(`vault dev server on ${addr}`, async () => (await fetch(`${addr}/v1/sys/health`)).status === 200, {
        died: () => exited,
      })
    } catch (e) {
      lastError = new Error(`${e.message}\n${stderr}`)
      child.kill('SIGKILL')
      continue
    }
    return {
      addr,
      token,
      external: false,
      pid: child.pid,
      async stop() {
        if (exited) return
        const done = new Promise((r) => child.once('exit', r))
        process.kill(child.pid, 'SIGTERM')
        await done
        rmSync(home, { recursive: true, force: true })
      },
    }
  }
  throw lastError
}

/**
 * Path of the fault-proxy binary, built by scripts/ensure-built.mjs: Cargo profile `test-release`
 * for `npm test`, `release` for the demo and the benchmarks; the newer of the two when both exist.
 */
export function faultProxyBinary() {
  if (process.env.FAULT_PROXY_BIN) return process.env.FAULT_PROXY_BIN
  const targetDir = process.env.CARGO_TARGET_DIR || join(root, 'target')
  const built = ['test-release', 'release']
    .map((p) => join(targetDir, 'x86_64-unknown-linux-gnu', p, 'fault-proxy'))
    .filter((f) => existsSync(f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)
  return built[0] ?? join(targetDir, 'x86_64-unknown-linux-gnu', 'test-release', 'fault-proxy')
}

/**
 * The fault proxy in front of `upstream`: `{ addr, rule(r), clearRules(), requests(), clearRequests(), stop() }`.
 */
export async function startFaultProxy(upstream) {
  const child = spawn(faultProxyBinary(), ['--upstream', upstream, '--listen', '127.0.0.1:0'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: child.stdout })
  const first = await new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`fault-proxy exited with ${code} before it was ready`)))
    lines.once('line', resolve)
  })
  const { addr } = JSON.parse(first)
  const control = async (method, path, body) => {
    const res = await fetch(`${addr}/__proxy/${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    })
    if (!res.ok) throw new Error(`fault-proxy ${method} ${path}: ${res.status} ${await res.text()}`)
    return res.json()
  }
  return {
    addr,
    rule: (r) => control('POST', 'rules', r),
    clearRules: () => control('DELETE', 'rules'),
    requests: () => control('GET', 'requests'),
    clearRequests: () => control('DELETE', 'requests'),
    async stop() {
      const done = new Promise((r) => child.once('exit', r))
      child.stdin.end() // the proxy exits on stdin EOF
      await done
    },
  }
}

/** A fresh, unique path prefix, so tests never see each other's data (also on a shared Vault). */
export function uniquePrefix(name) {
  return `ocv-test/${name}-${process.pid}-${randomBytes(4).toString('hex')}`
}

/** Raw HTTP against Vault, for conformance assertions and setup (mounts, policies). */
export async function vaultFetch(vault, method, path, { body, token = vault.token, headers = {} } = {}) {
  const res = await fetch(`${vault.addr}/v1/${path}`, {
    method,
    headers: { 'X-Vault-Token': token, 'X-Vault-Request': 'true', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await res.text()
  let json = null
  try {
    json = text ? JSON.parse(text) : null
  } catch {
    // left null: the assertion says what was expected
  }
  return { status: res.status, text, json, headers: res.headers }
}

/** Asserts that nothing of `secrets` appears anywhere in `err` (message, stack, props, inspect). */
export async function assertNoLeak(assert, err, secrets) {
  const { inspect } = await import('node:util')
  const shown = [String(err?.message), String(err?.stack), JSON.stringify(err), inspect(err, { depth: 5 })].join('\n')
  for (const s of secrets) {
    assert.ok(!shown.includes(s), `a secret leaked into the error: ${shown.slice(0, 300)}`)
  }
}

/** Deletes every KV v2 key under `prefix` (metadata and all versions), folder by folder. */
export async function removeTree(vault, prefix, mount = 'secret') {
  const listed = await vaultFetch(vault, 'LIST', `${mount}/metadata/${prefix}/`)
  for (const key of listed.json?.data?.keys ?? []) {
    if (key.endsWith('/')) await removeTree(vault, `${prefix}/${key.slice(0, -1)}`, mount)
    else await vaultFetch(vault, 'DELETE', `${mount}/metadata/${prefix}/${encodeURIComponent(key)}`)
  }
}

/** The line of Node code that loads this package's client in a child process. */
export const requireClient = `const { VaultClient } = require(${JSON.stringify(join(root, 'index.js'))});`

/** Node code that reads `path` with `VaultClient.fromEnv()` and prints `{ apiKey }` or `{ code, message }`. */
export function readApiKeyScript(path) {
  // fromEnv() throws configuration errors synchronously; read() rejects: both print the same way.
  return `${requireClient}
    (async () => {
      try { const s = await VaultClient.fromEnv().read(${JSON.stringify(path)}); console.log(JSON.stringify({ apiKey: s.data.apiKey })) }
      catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }
    })()`
}

/** Runs `script` in a child Node that sees only PATH and `env`, and parses the JSON it prints. */
export function runNodeJson(script, env) {
  const out = execFileSync(process.execPath, ['-e', script], {
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
  })
  return JSON.parse(out)
}
