// Exec SecretRef resolution: this package's resolver (bin/openclaw-vault-resolve.mjs) vs OpenClaw's
// bundled one (dist/extensions/vault/vault-secret-ref-resolver.js), both run the way OpenClaw runs
// them (Node 24, the script as argument, stdin = OpenClaw's request, env = VAULT_ADDR + VAULT_TOKEN
// only), against the same Vault dev server: 100 ids over 20 secret paths (5 fields each).
// Wall time from spawn to exit, several rounds alternating the two; medians and their ratio.
//
//   node bench/resolve.mjs          (part of `npm run bench`)
//
// Env (optional): BENCH_RESOLVE_ROUNDS (default 9), BENCH_RESOLVE_PATHS (20), BENCH_RESOLVE_FIELDS (5).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { startVault } from '../__test__/support/vault-server.mjs'
import { ensureOpenClaw } from '../scripts/ensure-openclaw.mjs'

const require = createRequire(import.meta.url)
const { VaultClient } = require('../index.js')
const root = join(dirname(fileURLToPath(import.meta.url)), '..')

const envInt = (name, def, min, max) => {
  const v = process.env[name] === undefined ? def : Number(process.env[name])
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer in [${min}, ${max}]`)
  return v
}
const ROUNDS = envInt('BENCH_RESOLVE_ROUNDS', 9, 1, 51)
const PATHS = envInt('BENCH_RESOLVE_PATHS', 20, 1, 100)
const FIELDS = envInt('BENCH_RESOLVE_FIELDS', 5, 1, 25)

function runOnce(node, script, input, env) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(node, [script], { cwd: dirname(node), env, stdio: ['pipe', 'pipe', 'inherit'] })
    let stdout = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.once('error', reject)
    child.once('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6
      resolve({ code, ms, json: JSON.parse(stdout) })
    })
    child.stdin.end(input)
  })
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

const oc = ensureOpenClaw()
const vault = await startVault()
try {
  const client = new VaultClient({ addr: vault.addr, token: vault.token, renew: false, kvVersion: 2 })
  const ids = []
  const expected = {}
  for (let i = 0; i < PATHS; i++) {
    const data = {}
    for (let f = 0; f < FIELDS; f++) data[`field${f}`] = `FAKE-bench-${i}-${f}-${'v'.repeat(24)}`
    await client.write(`bench/resolve/app${i}`, data)
    for (let f = 0; f < FIELDS; f++) {
      const id = `bench/resolve/app${i}/field${f}`
      ids.push(id)
      expected[id] = data[`field${f}`]
    }
  }
  const input = JSON.stringify({ protocolVersion: 1, provider: 'vault', ids })
  const env = { VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token }
  const contenders = [
    ['@openclaw/vault (`openclaw-vault-resolve.mjs`)', join(root, 'bin', 'openclaw-vault-resolve.mjs')],
    [`OpenClaw ${oc.version} bundled (\`vault-secret-ref-resolver.js\`)`, oc.bundledResolver],
  ]
  // Correctness first: both must return every value, exactly.
  for (const [name, script] of contenders) {
    const r = await runOnce(oc.node, script, input, env)
    assert.equal(r.code, 0, name)
    assert.deepEqual(r.json.values, expected, name)
  }
  const times = contenders.map(() => [])
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate who goes first, so neither always meets a warmer server.
    const order = round % 2 ? [1, 0] : [0, 1]
    for (const i of order) times[i].push((await runOnce(oc.node, contenders[i][1], input, env)).ms)
  }
  const medians = times.map(median)
  console.log(`\n### Exec SecretRef resolution: ${ids.length} ids over ${PATHS} paths, ${ROUNDS} rounds, Node 24\n`)
  console.log('| resolver | Vault reads | median wall time (ms) | min | max |')
  console.log('| --- | ---: | ---: | ---: | ---: |')
  const reads = [PATHS, ids.length]
  contenders.forEach(([name], i) => {
    console.log(
      `| ${name} | ${reads[i]} | ${medians[i].toFixed(1)} | ${Math.min(...times[i]).toFixed(1)} | ${Math.max(...times[i]).toFixed(1)} |`,
    )
  })
  const ratio = medians[0] / medians[1]
  console.log(`\nratio ours / bundled: **${ratio.toFixed(2)}x** (target <= 0.5x)`)
} finally {
  await vault.stop()
}
