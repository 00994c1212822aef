// `openclaw-vault resolve` (native executable, run the way OpenClaw runs an exec provider) three
// ways in the same run, against the same Vault dev server behind the fault proxy: from Vault
// with `credentials.lastKnownGood` on (every read also kept in the encrypted file), from Vault
// with it off (the cost of keeping), and from the encrypted file while Vault is unreachable (the
// proxy closes every connection: NETWORK, then the run's breaker). 100 ids over 20 paths;
// rounds alternate the three so no route always meets a warmer server; medians and the ratio
// file / Vault. Target: the file no slower than Vault (ratio <= 1.0).
//
// VAULT_MAX_RETRIES=0 for every route: with the client's default retries an unreachable Vault
// first costs the retry waits (the client's policy, the same with or without the file).
//
//   node bench/last-known-good.mjs          (part of `npm run bench`)
//
// Env (optional): BENCH_LKG_ROUNDS (default 9), BENCH_LKG_PATHS (20), BENCH_LKG_FIELDS (5).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

import { startFaultProxy, startVault } from '../__test__/support/vault-server.mjs'

const require = createRequire(import.meta.url)
const { VaultClient } = require('../index.js')
const { nativeExecutable } = require('../bin/native.js')

const envInt = (name, def, min, max) => {
  const v = process.env[name] === undefined ? def : Number(process.env[name])
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer in [${min}, ${max}]`)
  return v
}
const ROUNDS = envInt('BENCH_LKG_ROUNDS', 9, 1, 51)
const PATHS = envInt('BENCH_LKG_PATHS', 20, 1, 100)
const FIELDS = envInt('BENCH_LKG_FIELDS', 5, 1, 25)

function runOnce(command, input, env) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(command, ['resolve'], { cwd: dirname(command), env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.resume()
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

const exe = nativeExecutable()
if (!exe) throw new Error('bench/last-known-good: no native executable (run `npm run bench`)')
const dirs = []
const tmp = (name) => {
  const d = mkdtempSync(join(tmpdir(), `ocv-bench-lkg-${name}-`))
  dirs.push(d)
  return d
}
const vault = await startVault()
let proxy
try {
  proxy = await startFaultProxy(vault.addr)
  const client = new VaultClient({ addr: vault.addr, token: vault.token, renew: false, kvVersion: 2 })
  const ids = []
  const expected = {}
  for (let i = 0; i < PATHS; i++) {
    const data = {}
    for (let f = 0; f < FIELDS; f++) data[`field${f}`] = `FAKE-bench-lkg-${i}-${f}-${'v'.repeat(24)}`
    await client.write(`bench/lkg/app${i}`, data)
    for (let f = 0; f < FIELDS; f++) {
      const id = `bench/lkg/app${i}/field${f}`
      ids.push(id)
      expected[id] = data[`field${f}`]
    }
  }
  const input = JSON.stringify({ protocolVersion: 1, provider: 'vault', ids })
  const tokenFile = join(tmp('token'), 'token')
  writeFileSync(tokenFile, vault.token, { mode: 0o600 })
  const stateOn = tmp('on')
  const stateOff = tmp('off')
  writeFileSync(
    join(stateOn, 'openclaw.json'),
    JSON.stringify({
      credentials: {
        provider: 'vault',
        lastKnownGood: { enabled: true, maxAgeMs: 3600000 },
        audit: { path: join(stateOn, 'audit.log') },
      },
    }),
  )
  writeFileSync(join(stateOff, 'openclaw.json'), JSON.stringify({ credentials: { provider: 'vault' } }))
  const env = (state) => ({
    VAULT_ADDR: proxy.addr,
    VAULT_TOKEN_FILE: tokenFile,
    VAULT_MAX_RETRIES: '0',
    OPENCLAW_STATE_DIR: state,
  })
  const up = () => proxy.clearRules()
  const down = () => proxy.rule({ action: { type: 'close' } })
  // [name, env, setup]
  const contenders = [
    ['from Vault, lastKnownGood on (reads kept)', env(stateOn), up],
    ['from Vault, lastKnownGood off', env(stateOff), up],
    ['from the encrypted file, Vault unreachable', env(stateOn), down],
  ]
  // Correctness first: every route returns every value, exactly.
  for (const [name, e, setup] of contenders) {
    await setup()
    const r = await runOnce(exe, input, e)
    assert.equal(r.code, 0, name)
    assert.deepEqual(r.json.values, expected, name)
  }
  await up()
  const audited = readFileSync(join(stateOn, 'audit.log'), 'utf8')
  assert.ok(audited.includes('"outcome":"stale"'), 'the file route was audited as stale')
  const times = contenders.map(() => [])
  for (let round = 0; round < ROUNDS; round++) {
    const order = contenders.map((_, i) => (i + round) % contenders.length)
    for (const i of order) {
      await contenders[i][2]()
      times[i].push((await runOnce(exe, input, contenders[i][1])).ms)
    }
  }
  await up()
  const medians = times.map(median)
  console.log(
    `\n### resolve from the encrypted last-known-good file vs from Vault: ${ids.length} ids over ${PATHS} paths, ${ROUNDS} rounds\n`,
  )
  console.log('| route | median wall time (ms) | min | max | vs Vault (lastKnownGood on) |')
  console.log('| --- | ---: | ---: | ---: | ---: |')
  contenders.forEach(([name], i) => {
    console.log(
      `| ${name} | ${medians[i].toFixed(1)} | ${Math.min(...times[i]).toFixed(1)} | ${Math.max(...times[i]).toFixed(1)} | ${(medians[i] / medians[0]).toFixed(2)}x |`,
    )
  })
  const ratio = medians[2] / medians[0]
  console.log(`\n- file / Vault: **${ratio.toFixed(2)}x** (target <= 1.0x): ${ratio <= 1 ? 'PASS' : 'FAIL'}`)
  console.log(`- keeping the reads costs ${(medians[0] - medians[1]).toFixed(1)} ms per run (on vs off)`)
} finally {
  await proxy?.stop()
  await vault.stop()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
}
