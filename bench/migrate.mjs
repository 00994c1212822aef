// Migration benchmark: `openclaw-vault migrate` moving 1,000 API keys from OpenClaw's
// auth-profiles.json into a real Vault dev server, create-only writes with read-back
// verification, through the real CLI (`node bin/openclaw-vault.js`). Target: <= 3 s wall time.
// Then the same CLI against a Vault that is not there (a closed port) and one that never answers
// (the fault proxy holding every request), for 1 and 1,000 secrets. Target: fails (exit 1, one
// error, no journal) within 5 s each: the preflight, not one timeout per secret.
//
//   node bench/migrate.mjs
//
// Needs the addon built (npx napi build --platform --release --target x86_64-unknown-linux-gnu)
// and `open_store` building the auth-profiles provider (the local file providers): until then
// the plan is empty and the bench says so and exits 2.
//
// Env (all optional):
//   BENCH_SECRETS  how many profiles to migrate (default 1000)
//   BENCH_ROUNDS   runs, each into a fresh Vault prefix (default 3; the median is reported)
//   VAULT_BIN      the Vault binary (else tools/vault-server/build.sh's cached build)
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { freePort, root, startFaultProxy, startVault, vaultFetch } from '../__test__/support/vault-server.mjs'

const envInt = (name, def, min, max) => {
  const v = process.env[name] === undefined ? def : Number(process.env[name])
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer in [${min}, ${max}]`)
  return v
}
const PROFILES = envInt('BENCH_SECRETS', 1000, 1, 100000)
// The auth-profiles source also answers the bare provider name (`bench`, its first profile), so
// the plan holds one credential more than there are profiles: that one is migrated too.
const SECRETS = PROFILES + 1
const ROUNDS = envInt('BENCH_ROUNDS', 3, 1, 9)
const TARGET_MS = 3000

/** A HOME whose OpenClaw state holds `count` api_key profiles `bench:k0001`... (fake values). */
function makeHome(count = PROFILES) {
  const home = mkdtempSync(join(os.tmpdir(), 'ocv-bench-migrate-'))
  const agentDir = join(home, '.openclaw', 'agents', 'main', 'agent')
  mkdirSync(agentDir, { recursive: true, mode: 0o700 })
  const profiles = {}
  for (let i = 1; i <= count; i++) {
    const id = `bench:k${String(i).padStart(4, '0')}`
    profiles[id] = { type: 'api_key', provider: 'bench', key: `sk-bench-FAKE-${i}-${'x'.repeat(40)}` }
  }
  writeFileSync(join(agentDir, 'auth-profiles.json'), JSON.stringify({ version: 1, profiles }), { mode: 0o600 })
  return home
}

function migrate(home, vault, prefix, extraArgs = []) {
  const started = process.hrtime.bigint()
  const res = spawnSync(
    process.execPath,
    [join(root, 'bin', 'openclaw-vault.js'), 'migrate', '--yes', '--json', ...extraArgs],
    {
      env: {
        PATH: process.env.PATH,
        HOME: home,
        VAULT_ADDR: vault.addr,
        VAULT_TOKEN: vault.token,
        OPENCLAW_VAULT_PREFIX: prefix,
      },
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    },
  )
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  let out
  try {
    out = JSON.parse(res.stdout)
  } catch {
    throw new Error(`migrate exited ${res.status} without a JSON report:\n${res.stdout}\n${res.stderr}`)
  }
  return { ms, status: res.status, out, stderr: res.stderr }
}

const vault = await startVault()
const home = makeHome()
try {
  const runs = []
  for (let round = 1; round <= ROUNDS; round++) {
    const prefix = `bench-migrate-${process.pid}-${round}`
    const { ms, status, out, stderr } = migrate(home, vault, prefix)
    const planned = out.plan?.items?.length ?? 0
    if (planned === 0) {
      console.error(
        'The plan is empty: open_store does not read auth-profiles.json yet (the local file providers are not wired).\n' +
          stderr,
      )
      process.exit(2)
    }
    assert.equal(status, 0, `migrate exited ${status}: ${stderr}`)
    assert.equal(planned, SECRETS, 'every generated profile (and the bare provider name) is planned')
    const counts = out.report.counts
    assert.deepEqual(counts, { created: SECRETS, alreadyThere: 0, conflict: 0, verified: SECRETS, failed: 0 })
    // Spot-check Vault: one written secret holds the value, at version 1.
    const { json: body } = await vaultFetch(vault, 'GET', `secret/data/${prefix}/credentials/bench:k0001`)
    assert.equal(body.data.data.apiKey, `sk-bench-FAKE-1-${'x'.repeat(40)}`)
    assert.equal(body.data.metadata.version, 1)
    runs.push(ms)
    console.log(`round ${round}: ${SECRETS} secrets in ${ms.toFixed(0)} ms (${((SECRETS / ms) * 1000).toFixed(0)}/s)`)
  }
  // The journal makes a rerun a no-op; time that too (prefix of the last round).
  const rerun = migrate(home, vault, `bench-migrate-${process.pid}-${ROUNDS}`)
  assert.equal(rerun.status, 0)
  assert.equal(rerun.out.report.counts.alreadyThere, SECRETS)
  runs.sort((a, b) => a - b)
  const median = runs[Math.floor(runs.length / 2)]
  console.log(
    `median: ${SECRETS} secrets migrated and verified in ${median.toFixed(0)} ms ` +
      `(${((median * 1000) / SECRETS).toFixed(0)} us/secret, ${((SECRETS / median) * 1000).toFixed(0)}/s); ` +
      `rerun (journal): ${rerun.ms.toFixed(0)} ms; target <= ${TARGET_MS} ms: ${median <= TARGET_MS ? 'met' : 'MISSED'}`,
  )
  if (median > TARGET_MS) process.exitCode = 1

  // Vault unreachable: a closed port, and a hung Vault (the fault proxy delays every request by
  // two minutes). The run must fail fast with one error and start no journal.
  const UNREACHABLE_TARGET_MS = 5000
  const proxy = await startFaultProxy(vault.addr)
  try {
    await proxy.rule({ action: { type: 'delay', ms: 120000 } })
    const closed = { addr: `http://127.0.0.1:${await freePort()}`, token: vault.token }
    const hung = { addr: proxy.addr, token: vault.token }
    for (const [what, target] of [
      ['closed port', closed],
      ['hung Vault', hung],
    ]) {
      for (const n of [1, 1000]) {
        const h = makeHome(n)
        try {
          const { ms, status, out } = migrate(h, target, `bench-unreachable-${process.pid}`)
          assert.equal(status, 1, `migrate against a ${what} exited ${status}`)
          assert.ok(['NETWORK', 'TIMEOUT'].includes(out.error?.code), JSON.stringify(out))
          assert.ok(!existsSync(join(h, '.openclaw', 'vault-migrate.journal')), 'no journal')
          const met = ms <= UNREACHABLE_TARGET_MS
          console.log(
            `unreachable (${what}), ${n} secret(s): failed with ${out.error.code} in ${ms.toFixed(0)} ms; ` +
              `target <= ${UNREACHABLE_TARGET_MS} ms: ${met ? 'met' : 'MISSED'}`,
          )
          if (!met) process.exitCode = 1
        } finally {
          rmSync(h, { recursive: true, force: true })
        }
      }
    }
  } finally {
    await proxy.stop()
  }
} finally {
  rmSync(home, { recursive: true, force: true })
  await vault.stop()
}
