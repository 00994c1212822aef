// A load process for the cluster tests and bench: `node cluster-load.mjs <credential|resolve> <calls> <names,...>`.
// `credential`: getCredential through the addon, uncached, round-robin over the names.
// `resolve`: `openclaw-vault resolve` (the native executable), 10 ids per run.
// The environment (VAULT_ADDR, OPENCLAW_VAULT_ADDRS, VAULT_TOKEN, ...) configures both.
// Prints `{"started":true}`, then `{"progress":n}` every 100 calls, then one line
// `{ calls, failures, maxMs, errors }` (error codes and messages only, never values).
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const [mode, total, list] = process.argv.slice(2)
const calls = Number(total)
const names = list.split(',')
const result = { calls: 0, failures: 0, maxMs: 0, errors: [] }
const fail = (what) => {
  result.failures++
  if (result.errors.length < 5) result.errors.push(what)
}
console.log(JSON.stringify({ started: true }))

function runResolve(ids) {
  const exe = require('../../bin/native.js').nativeExecutable()
  return new Promise((resolve, reject) => {
    const child = spawn(exe, ['resolve'], { env: process.env, stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, out, err }))
    child.stdin.end(JSON.stringify({ protocolVersion: 1, provider: 'vault', ids }))
  })
}

if (mode === 'credential') {
  const { CredentialStore } = require('../../index.js')
  const store = new CredentialStore({ env: process.env })
  for (let i = 0; i < calls; i++) {
    const name = names[i % names.length]
    const t = performance.now()
    try {
      const c = await store.getCredential(name, { noCache: true })
      if (c.source.provider !== 'vault' || c.stale)
        fail(`${name}: from ${c.source.provider}${c.stale ? ' (stale)' : ''}`)
    } catch (e) {
      fail(`${name}: ${e.code} ${e.message}`)
    }
    result.maxMs = Math.max(result.maxMs, performance.now() - t)
    result.calls++
    if (result.calls % 100 === 0) console.log(JSON.stringify({ progress: result.calls }))
  }
} else {
  for (let i = 0; i < calls; i += 10) {
    const ids = Array.from({ length: Math.min(10, calls - i) }, (_, k) => names[(i + k) % names.length])
    const t = performance.now()
    const { code, out, err } = await runResolve([...new Set(ids)])
    let json = null
    try {
      json = JSON.parse(out)
    } catch {
      // counted below
    }
    const elapsed = performance.now() - t
    if (elapsed > 5000)
      console.error(
        `resolve run of ${ids.length} ids took ${Math.round(elapsed)} ms (exit ${code}): ${err.slice(0, 300)}`,
      )
    for (const id of ids) {
      if (code !== 0 || !json || json.values?.[id] === undefined) {
        fail(`${id}: exit ${code} ${JSON.stringify(json?.errors?.[id] ?? null)} ${err.slice(0, 200)}`)
      }
      result.calls++
      if (result.calls % 100 === 0) console.log(JSON.stringify({ progress: result.calls }))
    }
    result.maxMs = Math.max(result.maxMs, elapsed)
  }
}
result.maxMs = Math.round(result.maxMs)
console.log(JSON.stringify(result))
