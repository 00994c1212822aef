// A highly available Vault: a 3-node Raft cluster (tools/vault-cluster) serving 50 simulated
// gateways x 20 credentials through getCredential, with this package's cache and without it, and
// the failover gap: the longest any call waited while the active node was killed and replaced.
// See bench/README.md.
//
//   node bench/cluster.mjs            (part of: npm run bench)
//
// Env (optional): BENCH_SECONDS (each measured phase, default 4).
import { createRequire } from 'node:module'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { startCluster } from '../tools/vault-cluster/cluster.mjs'

const require = createRequire(import.meta.url)
const { CredentialStore, VaultClient } = require('../index.js')

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4)
if (!(SECONDS >= 1 && SECONDS <= 60)) throw new Error('BENCH_SECONDS must be a number from 1 to 60')
const GATEWAYS = 50
const CREDENTIALS = 20
const TARGET_GAP_MS = 3000

const cluster = await startCluster()
const home = mkdtempSync(join(tmpdir(), 'ocv-bench-cluster-'))
const stopAll = async () => {
  await cluster.stop()
  rmSync(home, { recursive: true, force: true })
}
process.once('SIGINT', () => stopAll().then(() => process.exit(130)))
process.once('SIGTERM', () => stopAll().then(() => process.exit(143)))

try {
  console.log(`cluster of 3 Raft nodes started in ${cluster.startupMs} ms`)
  const prefix = `bench-cluster-${process.pid}`
  const names = Array.from({ length: CREDENTIALS }, (_, i) => `cred${i}`)
  const admin = new VaultClient({
    addr: cluster.addrs[0],
    addrs: cluster.addrs.slice(1),
    token: cluster.token,
    renew: false,
  })
  for (const n of names) await admin.write(`${prefix}/credentials/${n}`, { kind: 'token', token: `FAKE-bench-${n}` })

  const leader = await cluster.waitForLeader()
  const env = {
    HOME: home,
    VAULT_ADDR: cluster.addrs[leader],
    OPENCLAW_VAULT_ADDRS: cluster.addrs.filter((_, i) => i !== leader).join(','),
    VAULT_TOKEN: cluster.token,
    VAULT_MAX_RETRIES: '10',
    OPENCLAW_VAULT_PREFIX: prefix,
    OPENCLAW_VAULT_FALLBACK: 'none',
    OPENCLAW_VAULT_LOOKUP_TIMEOUT_MS: '8000',
  }
  // One store per simulated gateway: its own cache and its own Vault client.
  const gateways = Array.from({ length: GATEWAYS }, () => new CredentialStore({ env }))

  /** Every gateway loops over its 20 credentials for `seconds`; returns { rps, failures, latencies }. */
  async function run(seconds, { noCache, during } = {}) {
    const latencies = []
    let failures = 0
    const errors = new Set()
    const end = performance.now() + seconds * 1000
    const t0 = performance.now()
    const loops = gateways.map(async (g, gi) => {
      for (let i = gi; performance.now() < end; i++) {
        const t = performance.now()
        try {
          await g.getCredential(names[i % CREDENTIALS], { noCache })
        } catch (e) {
          failures++
          errors.add(`${e.code}: ${e.message}`.slice(0, 200))
        }
        latencies.push(performance.now() - t)
      }
    })
    const side = during?.()
    await Promise.all(loops)
    await side
    const wall = (performance.now() - t0) / 1000
    latencies.sort((a, b) => a - b)
    const pct = (p) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)]
    return {
      rps: latencies.length / wall,
      calls: latencies.length,
      failures,
      errors: [...errors],
      p99: pct(99),
      max: latencies.at(-1),
    }
  }

  await run(1, { noCache: true }) // warm-up: connections, logins, caches
  const uncached = await run(SECONDS, { noCache: true })
  const cached = await run(SECONDS, { noCache: false })
  const fmt = (r) =>
    `${Math.round(r.rps).toString().padStart(9)} req/s  p99 ${r.p99.toFixed(2).padStart(7)} ms  failures ${r.failures}`
  console.log(`\n${GATEWAYS} gateways x ${CREDENTIALS} credentials, ${SECONDS} s each:`)
  console.log(`  without the cache (noCache): ${fmt(uncached)}`)
  console.log(`  with the cache (default):    ${fmt(cached)}`)
  console.log(`  ratio cached / uncached:     ${(cached.rps / uncached.rps).toFixed(1)}x`)

  // Failover: uncached load, the active node (every gateway's first address) killed after 1 s.
  const failover = await run(SECONDS + 2, {
    noCache: true,
    during: async () => {
      await new Promise((r) => setTimeout(r, 1000))
      await cluster.kill(leader)
      const next = await cluster.waitForLeader()
      return next
    },
  })
  const newLeader = await cluster.waitForLeader()
  console.log(
    `\nfailover: active node ${cluster.nodes[leader].id} killed (SIGKILL) under uncached load; ${cluster.nodes[newLeader].id} took over`,
  )
  console.log(
    `  calls ${failover.calls}, failures ${failover.failures}, gap (longest call) ${Math.round(failover.max)} ms, p99 ${failover.p99.toFixed(1)} ms`,
  )
  for (const e of failover.errors) console.log(`  error: ${e}`)
  const ok = failover.failures === 0 && failover.max <= TARGET_GAP_MS
  console.log(`  target: 0 failed calls, gap <= ${TARGET_GAP_MS} ms: ${ok ? 'PASS' : 'FAIL'}`)
} finally {
  await stopAll()
}
