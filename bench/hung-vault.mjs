// getCredential of 100 distinct names while Vault is hung (accepts connections, never answers) or
// refuses connections (a closed port): every name is held only in the state-dir `.env`, so every
// answer is the local fallback. What is measured is how long Vault holds the callers up: the
// lookup deadline once, then the circuit breaker sends every other name on at once.
// See bench/README.md.
//
//   node bench/hung-vault.mjs            (part of: npm run bench)
//
// Env (optional): BENCH_NAMES (default 100), BENCH_ROUNDS (default 3; the median is kept).
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { createRequire } from 'node:module'
import os from 'node:os'
import { join } from 'node:path'

const require = createRequire(import.meta.url)
const { CredentialStore } = require('../index.js')

const envInt = (name, def, min, max) => {
  const v = process.env[name] === undefined ? def : Number(process.env[name])
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer in [${min}, ${max}]`)
  return v
}
const NAMES = envInt('BENCH_NAMES', 100, 1, 10000)
const ROUNDS = envInt('BENCH_ROUNDS', 3, 1, 15)
const TARGET_MS = 2000

/** A loopback listener that accepts every connection and never writes a byte. */
async function hungVault() {
  const sockets = new Set()
  const server = createServer((s) => {
    sockets.add(s)
    s.on('error', () => {})
    s.on('close', () => sockets.delete(s))
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return {
    addr: `http://127.0.0.1:${server.address().port}`,
    close() {
      for (const s of sockets) s.destroy()
      return new Promise((r) => server.close(r))
    },
  }
}

/** An address nothing listens on (a port taken and given back): connections are refused. */
async function closedPort() {
  const server = createServer()
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address()
  await new Promise((r) => server.close(r))
  return { addr: `http://127.0.0.1:${port}`, close: async () => {} }
}

const home = mkdtempSync(join(os.tmpdir(), 'ocv-bench-hung-'))
mkdirSync(join(home, '.openclaw'), { mode: 0o700 })
const names = Array.from({ length: NAMES }, (_, i) => `bench-svc-${i}`)
const values = names.map((_, i) => `sk-FAKE-bench-local-${i}`)
writeFileSync(
  join(home, '.openclaw', '.env'),
  names.map((n, i) => `${n.toUpperCase().replaceAll('-', '_')}_API_KEY=${values[i]}`).join('\n') + '\n',
  { mode: 0o600 },
)

/** One round: a fresh store (a closed breaker), every name once; returns the wall time in ms. */
async function round(addr, concurrent) {
  // The client's defaults (60 s timeout, retries) stay: the chain's deadline is what bounds a lookup.
  const store = new CredentialStore({ env: { HOME: home, VAULT_ADDR: addr, VAULT_TOKEN: 'hvs.FAKE-bench' }, cwd: home })
  const started = performance.now()
  const got = concurrent
    ? await Promise.all(names.map((n) => store.getCredential(n)))
    : await names.reduce(async (acc, n) => [...(await acc), await store.getCredential(n)], Promise.resolve([]))
  const ms = performance.now() - started
  got.forEach((c, i) => {
    assert.equal(c.source.provider, 'dotenv')
    assert.equal(c.expose(), values[i])
  })
  return ms
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const rows = []
try {
  for (const [what, open] of [
    ['hung (accepts, never answers)', hungVault],
    ['refused (closed port)', closedPort],
  ]) {
    for (const concurrent of [false, true]) {
      const vault = await open()
      const times = []
      try {
        for (let r = 0; r < ROUNDS; r++) times.push(await round(vault.addr, concurrent))
      } finally {
        await vault.close()
      }
      rows.push({ what, calls: concurrent ? 'all at once' : 'one after another', times })
    }
  }
} finally {
  rmSync(home, { recursive: true, force: true })
}

console.log(
  `\ngetCredential of ${NAMES} distinct names, each only in <stateDir>/.env, Vault down (median of ${ROUNDS} rounds, a fresh store each)\n`,
)
console.log('| Vault | calls | median ms | min | max |')
console.log('| --- | --- | ---: | ---: | ---: |')
for (const r of rows) {
  console.log(
    `| ${r.what} | ${r.calls} | ${median(r.times).toFixed(0)} | ${Math.min(...r.times).toFixed(0)} | ${Math.max(...r.times).toFixed(0)} |`,
  )
}
const worst = Math.max(...rows.map((r) => median(r.times)))
console.log(
  `\nTarget: ${NAMES} names in at most ${TARGET_MS} ms: ${worst <= TARGET_MS ? 'PASS' : 'FAIL'} (worst median ${worst.toFixed(0)} ms)`,
)
