// KV v2 read benchmark: @openclaw/vault vs node-vault 0.12 vs plain fetch, at concurrency 1 and 32,
// against a real Vault dev server ("real") and against the fault proxy serving a canned copy of the
// same answer ("canned", so the client rather than the server is measured). See bench/README.md.
//
//   node bench/kv-read.mjs                  (or: npm run bench)
//
// Env (all optional):
//   BENCH_DURATION_MS  measured time per run of a cell          (default 3000)
//   BENCH_WARMUP       warm-up requests per run of a cell       (default 300)
//   BENCH_ROUNDS       runs per cell, clients rotated per round (default 3; the median run is kept)
//   BENCH_MAX_COUNT    hard cap on requests per run of a cell   (default 250000)
//   BENCH_CANNED_ONLY  =1: skip the real server; the canned body is a synthetic Vault answer
//                      (for development without a Vault binary; targets still printed)
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import os from 'node:os'
import { freePort, startVault, startFaultProxy, faultProxyBinary } from '../__test__/support/vault-server.mjs'
import { SERVER_EXT, makeCa, makeLeaf, tlsListener } from '../__test__/support/certs.mjs'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const require = createRequire(import.meta.url)
const { VaultClient } = require('../index.js')
const nodeVault = require('node-vault')
const nodeVaultVersion = require('node-vault/package.json').version

const envInt = (name, def, min, max) => {
  const v = process.env[name] === undefined ? def : Number(process.env[name])
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer in [${min}, ${max}]`)
  return v
}
const DURATION_MS = envInt('BENCH_DURATION_MS', 3000, 100, 20000)
const WARMUP = envInt('BENCH_WARMUP', 300, 0, 10000)
const ROUNDS = envInt('BENCH_ROUNDS', 3, 1, 9)
const MAX_COUNT = envInt('BENCH_MAX_COUNT', 250000, 1000, 2000000)
const CANNED_ONLY = process.env.BENCH_CANNED_ONLY === '1'
const CONCURRENCIES = [1, 32]
const SECRET_PATH = 'bench/item' // relative to the `secret/` KV v2 mount
const API_PATH = `/v1/secret/data/${SECRET_PATH}`
// A realistic small secret: 4 string fields, ~200 bytes of JSON.
const SECRET = {
  username: 'svc-openclaw-bench',
  password: 'q9T!vR2#mXz7LpW4sKc8NfYb3HdJ6gUe',
  host: 'db-primary.internal.example.com',
  api_key: 'ocv_live_5f1c2a9e8b7d4c3a2f1e0d9c8b7a6f5e4d3c2b1a',
}

const ORDER = ['@openclaw/vault', 'node-vault', 'fetch']

/** The three clients for one Vault address; each `read()` resolves to the secret's `data.data`. */
function makeClients(addr, token, ca) {
  const ocv = new VaultClient({ addr, token, kvVersion: 2, renew: false, tls: ca ? { caCert: ca } : undefined })
  const nv = nodeVault({ apiVersion: 'v1', endpoint: addr, token, requestOptions: ca ? { ca: readFileSync(ca) } : {} })
  const url = addr + API_PATH
  const headers = { 'X-Vault-Token': token }
  return {
    '@openclaw/vault': async () => (await ocv.read(SECRET_PATH)).data,
    'node-vault': async () => (await nv.read(`secret/data/${SECRET_PATH}`)).data.data,
    fetch: async () => {
      const res = await fetch(url, { headers })
      if (res.status !== 200) throw new Error(`fetch: HTTP ${res.status}`)
      return (await res.json()).data.data
    },
  }
}

const latencies = new Float64Array(MAX_COUNT) // ns, reused by every run

/**
 * One run of a cell: `concurrency` workers loop `await read()` until DURATION_MS has passed or
 * MAX_COUNT requests were started. Returns { n, rps, p50, p99, cpuUs } (latencies in ms;
 * cpuUs = this process's CPU time per request, all threads).
 */
async function runOnce(read, concurrency) {
  // Warm-up: connections opened, JIT warm; same concurrency as the measured part.
  let left = WARMUP
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) if (!(await read())) throw new Error('empty read during warm-up')
    }),
  )
  let started = 0
  let n = 0
  const cpu0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  const deadline = t0 + BigInt(DURATION_MS) * 1_000_000n
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const s = process.hrtime.bigint()
        if (s >= deadline || started >= MAX_COUNT) return
        started++
        const r = await read()
        latencies[n++] = Number(process.hrtime.bigint() - s)
        if (!r) throw new Error('empty read')
      }
    }),
  )
  const elapsedNs = Number(process.hrtime.bigint() - t0)
  const cpu = process.cpuUsage(cpu0) // this process, all threads (the addon's runtime included)
  const sorted = latencies.subarray(0, n).sort()
  const pct = (p) => sorted[Math.max(0, Math.ceil(p * n) - 1)] / 1e6
  return { n, rps: n / (elapsedNs / 1e9), p50: pct(0.5), p99: pct(0.99), cpuUs: (cpu.user + cpu.system) / n }
}

const median = (runs) => [...runs].sort((a, b) => a.rps - b.rps)[(runs.length - 1) >> 1]

/**
 * For the canned target: checks after each run that the proxy answered exactly as many reads as
 * the client made (no client-side caching or coalescing), and clears the proxy's request log.
 */
function proxyCounter(proxy) {
  let seen = 0
  return async (made, what) => {
    const rules = await (await fetch(`${proxy.addr}/__proxy/rules`)).json()
    const hits = rules.find((r) => r.action.type === 'canned').hits
    const stray = rules.find((r) => r.action.type === 'status').hits
    if (hits - seen !== made || stray !== 0) {
      throw new Error(
        `${what}: the proxy answered ${hits - seen} reads (${stray} unexpected requests), the client made ${made}`,
      )
    }
    seen = hits
    await proxy.clearRequests() // the log grows with every request
  }
}

async function benchTarget(target, addr, token, expected, results, verify, { ca, names = ORDER } = {}) {
  const ORDER = names
  const clients = makeClients(addr, token, ca)
  // Check once, before timing, that every client returns the same data.
  for (const name of ORDER) {
    const got = await clients[name]()
    try {
      assert.deepStrictEqual(got, expected)
    } catch {
      throw new Error(`${target}: ${name} returned different data: ${JSON.stringify(got)}`)
    }
  }
  await verify?.(ORDER.length, `${target} data check`)
  for (const c of CONCURRENCIES) {
    const runs = Object.fromEntries(ORDER.map((name) => [name, []]))
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order each round so drift and noise hit every client alike.
      const order = ORDER.map((_, i) => ORDER[(i + round) % ORDER.length])
      for (const name of order) {
        const r = await runOnce(clients[name], c)
        runs[name].push(r)
        await verify?.(WARMUP + r.n, `${target} c=${c} ${name}`)
        process.stderr.write(
          `  ${target} c=${c} round ${round + 1}/${ROUNDS} ${name.padEnd(15)} ${r.rps.toFixed(0).padStart(6)} req/s  ` +
            `p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms  CPU ${r.cpuUs.toFixed(0)} µs/req  (n=${r.n})\n`,
        )
      }
    }
    for (const name of ORDER)
      results.push({ target, concurrency: c, client: name, ...median(runs[name]), runs: runs[name] })
  }
}

function syntheticBody() {
  const now = new Date().toISOString()
  return JSON.stringify({
    request_id: '5a0a3b1e-6e1d-2b4f-9c1a-0d1e2f3a4b5c',
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data: {
      data: SECRET,
      metadata: { created_time: now, custom_metadata: null, deletion_time: '', destroyed: false, version: 1 },
    },
    wrap_info: null,
    warnings: null,
    auth: null,
    mount_type: 'kv',
  })
}

function machineLine(vaultVersion) {
  const cpus = os.cpus()
  return (
    `Machine: ${cpus[0]?.model?.trim() || 'unknown CPU'}, ${cpus.length} cores, ${os.platform()} ${os.release()}, ` +
    `Node ${process.version}, Vault ${vaultVersion}, node-vault ${nodeVaultVersion}`
  )
}

function printReport(results, machine) {
  const fmt = (x, d) => x.toFixed(d)
  const lines = [
    `KV v2 read \`secret/data/${SECRET_PATH}\` — ${new Date().toISOString().slice(0, 10)}`,
    machine,
    `Per cell: ${WARMUP} warm-up requests, then ${DURATION_MS} ms measured; ${ROUNDS} runs per cell with clients rotated, median run (by req/s) shown.`,
    '',
    '| target | concurrency | client | req/s | p50 ms | p99 ms | @openclaw/vault ÷ client |',
    '| --- | ---: | --- | ---: | ---: | ---: | ---: |',
  ]
  const get = (t, c, name) => results.find((r) => r.target === t && r.concurrency === c && r.client === name)
  for (const r of results) {
    const ocv = get(r.target, r.concurrency, '@openclaw/vault')
    lines.push(
      `| ${r.target} | ${r.concurrency} | ${r.client} | ${fmt(r.rps, 0)} | ${fmt(r.p50, 3)} | ${fmt(r.p99, 3)} | ${fmt(ocv.rps / r.rps, 2)}x |`,
    )
  }
  lines.push('', 'Targets (canned, concurrency 32):')
  let pass = true
  for (const [name, want] of [
    ['node-vault', 3],
    ['fetch', 1.5],
  ]) {
    const ratio = get('canned', 32, '@openclaw/vault').rps / get('canned', 32, name).rps
    const ok = ratio >= want
    pass &&= ok
    lines.push(`- @openclaw/vault >= ${want}x ${name}: ${fmt(ratio, 2)}x — ${ok ? 'PASS' : 'FAIL'}`)
  }
  process.stdout.write(lines.join('\n') + '\n')
  return pass
}

let interrupted = false

async function main() {
  if (!existsSync(faultProxyBinary())) {
    throw new Error(
      `fault proxy not built (${faultProxyBinary()}): run \`node scripts/ensure-built.mjs\` ` +
        'or `cargo build --release --target x86_64-unknown-linux-gnu -p fault-proxy`',
    )
  }
  const stack = [] // cleanup, last first
  const stopAll = async () => {
    while (stack.length) {
      try {
        await stack.pop()()
      } catch (e) {
        process.stderr.write(`cleanup: ${e.message}\n`)
      }
    }
  }
  const onSignal = (sig) => {
    if (interrupted) return
    interrupted = true
    process.stderr.write(`\n${sig}: stopping servers\n`)
    stopAll().finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    const results = []
    let upstream, token, body, expected
    let vaultVersion = 'n/a (canned only)'
    if (CANNED_ONLY) {
      // No upstream is ever reached: the canned rule answers every read.
      upstream = 'http://127.0.0.1:9'
      token = 'hvs.bench-canned'
      body = syntheticBody()
      expected = SECRET
    } else {
      process.stderr.write('starting the Vault dev server (plain HTTP, and a TLS listener)...\n')
      const certDir = mkdtempSync(join(os.tmpdir(), 'ocv-bench-tls-'))
      stack.push(() => rmSync(certDir, { recursive: true, force: true }))
      makeCa(certDir, 'bench-ca')
      makeLeaf(certDir, 'server', 'bench-ca', SERVER_EXT)
      const tlsPort = await freePort()
      writeFileSync(join(certDir, 'listener.hcl'), tlsListener(certDir, tlsPort))
      const vault = await startVault({ extraArgs: [`-config=${join(certDir, 'listener.hcl')}`] })
      stack.push(() => vault.stop())
      upstream = vault.addr
      token = vault.token
      const health = await (await fetch(`${vault.addr}/v1/sys/health`)).json()
      vaultVersion = health.version
      // Write the secret through the client under test, then capture the exact answer to the read.
      const writer = new VaultClient({ addr: vault.addr, token, kvVersion: 2 })
      await writer.write(SECRET_PATH, SECRET)
      const res = await fetch(vault.addr + API_PATH, { headers: { 'X-Vault-Token': token } })
      body = await res.text()
      if (res.status !== 200) throw new Error(`capturing the read: HTTP ${res.status}: ${body}`)
      expected = JSON.parse(body).data.data
      assert.deepStrictEqual(expected, SECRET)
      process.stderr.write(`real: ${vault.addr} (Vault ${vaultVersion}); answer is ${Buffer.byteLength(body)} bytes\n`)
      await benchTarget('real', vault.addr, token, expected, results)
      // Built-in fetch cannot take a private CA without undici's Agent, so TLS compares the two
      // clients that can.
      await benchTarget('real TLS', `https://127.0.0.1:${tlsPort}`, token, expected, results, undefined, {
        ca: join(certDir, 'bench-ca.pem'),
        names: ['@openclaw/vault', 'node-vault'],
      })
    }
    const proxy = await startFaultProxy(upstream)
    stack.push(() => proxy.stop())
    await proxy.rule({
      method: 'GET',
      path: `^${API_PATH}$`, // no regex metacharacters in it
      action: { type: 'canned', status: 200, body },
    })
    // Anything that is not the canned read would be forwarded: refuse it rather than measure it.
    await proxy.rule({ action: { type: 'status', status: 418, body: '{"errors":["bench: unexpected request"]}' } })
    process.stderr.write(`canned: ${proxy.addr}\n`)
    await benchTarget('canned', proxy.addr, token, expected, results, proxyCounter(proxy))
    process.stderr.write('\n')
    printReport(results, machineLine(vaultVersion))
  } finally {
    await stopAll()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

main().catch((e) => {
  if (interrupted) return // requests cut short by the signal's cleanup
  process.stderr.write(`bench failed: ${e.stack || e}\n`)
  process.exitCode = 1
})
