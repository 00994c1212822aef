// Exec SecretRef resolution, three routes side by side: this package's native executable
// (`openclaw-vault resolve`, what `migrate --rewrite-config` configures), its Node route
// (bin/openclaw-vault-resolve.mjs under Node 24, what the plugin manifest's `${node}` runs), and
// OpenClaw's bundled resolver (dist/extensions/vault/vault-secret-ref-resolver.js, Node 24). Each
// run the way OpenClaw runs an exec provider (no shell, cwd = the command's folder, stdin =
// OpenClaw's request, env = VAULT_ADDR + VAULT_TOKEN only), against the same Vault dev server:
// 100 ids over 20 secret paths (5 fields each). Wall time from spawn to exit, several rounds
// rotating who goes first; medians and their ratio to the bundled resolver.
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
const { nativeExecutable } = require('../bin/native.js')
const root = join(dirname(fileURLToPath(import.meta.url)), '..')

const envInt = (name, def, min, max) => {
  const v = process.env[name] === undefined ? def : Number(process.env[name])
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer in [${min}, ${max}]`)
  return v
}
const ROUNDS = envInt('BENCH_RESOLVE_ROUNDS', 9, 1, 51)
const PATHS = envInt('BENCH_RESOLVE_PATHS', 20, 1, 100)
const FIELDS = envInt('BENCH_RESOLVE_FIELDS', 5, 1, 25)

function runOnce([command, ...args], input, env) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(command, args, { cwd: dirname(command), env, stdio: ['pipe', 'pipe', 'inherit'] })
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
const exe = nativeExecutable()
if (!exe)
  throw new Error('bench/resolve: no native executable (run `node scripts/build-native.mjs` or `npm run bench`)')
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
  // [name, argv, Vault reads, target ratio to the bundled resolver]
  const contenders = [
    ['@openclaw/vault native (`openclaw-vault resolve`)', [exe, 'resolve'], PATHS, 0.1],
    [
      '@openclaw/vault Node route (`openclaw-vault-resolve.mjs`)',
      [oc.node, join(root, 'bin', 'openclaw-vault-resolve.mjs')],
      PATHS,
      0.5,
    ],
    [`OpenClaw ${oc.version} bundled (\`vault-secret-ref-resolver.js\`)`, [oc.node, oc.bundledResolver], ids.length],
  ]
  const bundled = contenders.length - 1
  // Correctness first: every route must return every value, exactly.
  for (const [name, argv] of contenders) {
    const r = await runOnce(argv, input, env)
    assert.equal(r.code, 0, name)
    assert.deepEqual(r.json.values, expected, name)
  }
  // Process start alone (an empty id list): what each route costs before its first request.
  const empty = JSON.stringify({ protocolVersion: 1, provider: 'vault', ids: [] })
  const startup = contenders.map(() => [])
  const times = contenders.map(() => [])
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate who goes first, so no route always meets a warmer server.
    const order = contenders.map((_, i) => (i + round) % contenders.length)
    for (const i of order) times[i].push((await runOnce(contenders[i][1], input, env)).ms)
    for (const i of order) startup[i].push((await runOnce(contenders[i][1], empty, env)).ms)
  }
  const medians = times.map(median)
  console.log(`\n### Exec SecretRef resolution: ${ids.length} ids over ${PATHS} paths, ${ROUNDS} rounds, Node 24\n`)
  console.log('| resolver | Vault reads | median wall time (ms) | min | max | start, no ids (ms) | vs bundled |')
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
  contenders.forEach(([name, , reads], i) => {
    console.log(
      `| ${name} | ${reads} | ${medians[i].toFixed(1)} | ${Math.min(...times[i]).toFixed(1)} | ${Math.max(...times[i]).toFixed(1)} | ${median(startup[i]).toFixed(1)} | ${(medians[i] / medians[bundled]).toFixed(2)}x |`,
    )
  })
  console.log('')
  contenders.forEach(([name, , , target], i) => {
    if (target === undefined) return
    const ratio = medians[i] / medians[bundled]
    console.log(
      `- ${name} / bundled: **${ratio.toFixed(2)}x** (target <= ${target}x): ${ratio <= target ? 'PASS' : 'FAIL'}`,
    )
  })
} finally {
  await vault.stop()
}
