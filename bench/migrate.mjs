// Migration benchmark: `openclaw-vault migrate` moving 1,000 API keys from OpenClaw 2026.9's
// SQLite auth store (`state/openclaw.sqlite`, row `authProfiles.store`) into a real Vault dev server,
// create-only writes with read-back verification, through the real CLI (`node bin/openclaw-vault.js`).
// Target: <= 1 s wall time.
//
//   node bench/migrate.mjs
//
// The state is made by the real `openclaw onboard` (scripts/ensure-openclaw.mjs, Node 24), so the
// database has OpenClaw's own schema; the 1,000 profiles are then written into its row with Node 24's
// `node:sqlite` (1,000 `openclaw models auth paste-api-key` runs would take half an hour).
//
// Then the same CLI against a Vault that is not there (a closed port) and one that never answers
// (the fault proxy holding every request), for 1 and 1,000 secrets. Target: fails (exit 1, one
// error, no journal) within 5 s each: the preflight, not one timeout per secret.
//
// Then planning a large openclaw.json: 2,000 `skills.entries.skillNNNN.apiKey` set by the real
// `openclaw config set --batch-file` (one call), timed as `migrate --dry-run --json` (planning only)
// and `list --json`. Target: <= 1 s each (planning was quadratic in the number of config secrets).
// Env (all optional):
//   BENCH_SECRETS  how many profiles to migrate (default 1000)
//   BENCH_ROUNDS   runs, each into a fresh Vault prefix (default 3; the median is reported)
//   VAULT_BIN      the Vault binary (else tools/vault-server/build.sh's cached build)
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { freePort, root, startFaultProxy, startVault, vaultFetch } from '../__test__/support/vault-server.mjs'
import { ensureOpenClaw } from '../scripts/ensure-openclaw.mjs'

const envInt = (name, def, min, max) => {
  const v = process.env[name] === undefined ? def : Number(process.env[name])
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer in [${min}, ${max}]`)
  return v
}
const PROFILES = envInt('BENCH_SECRETS', 1000, 1, 100000)
// Every profile is planned once (the onboarding's own anthropic profile is replaced by the bench's),
// plus the gateway token onboarding writes into openclaw.json.
const SECRETS = PROFILES + 1
const ROUNDS = envInt('BENCH_ROUNDS', 3, 1, 9)
const TARGET_MS = 1000

/** A state made by `openclaw onboard`, whose shared auth store then holds PROFILES api_key
 * profiles `bench:k0001`... (fake values). */
function makeHome() {
  const oc = ensureOpenClaw()
  const home = mkdtempSync(join(os.tmpdir(), 'ocv-bench-migrate-'))
  try {
    fillHome(oc, home)
  } catch (e) {
    rmSync(home, { recursive: true, force: true })
    throw e
  }
  return home
}

function fillHome(oc, home) {
  chmodSync(home, 0o700)
  const env = { HOME: home, OPENCLAW_STATE_DIR: home, PATH: process.env.PATH }
  const onboard = spawnSync(
    oc.node,
    [
      oc.openclawBin,
      'onboard',
      '--non-interactive',
      '--accept-risk',
      '--auth-choice',
      'apiKey',
      '--anthropic-api-key',
      'sk-ant-bench-FAKE',
      '--gateway-auth',
      'token',
      '--gateway-token',
      'bench-FAKE-gateway-token',
      '--skip-health',
      '--skip-skills',
      '--json',
    ],
    { env, cwd: home, encoding: 'utf8', timeout: 180000 },
  )
  assert.equal(onboard.status, 0, onboard.stderr)
  const profiles = {}
  for (let i = 1; i <= PROFILES; i++) {
    const id = `bench:k${String(i).padStart(4, '0')}`
    profiles[id] = { type: 'api_key', provider: 'bench', key: `sk-bench-FAKE-${i}-${'x'.repeat(40)}` }
  }
  const fill = `
    const { DatabaseSync } = require('node:sqlite')
    const db = new DatabaseSync(${JSON.stringify(join(home, 'state', 'openclaw.sqlite'))})
    db.prepare("UPDATE config_machine_state SET value_json = ? WHERE state_key = 'authProfiles.store'")
      .run(${JSON.stringify(JSON.stringify({ version: 1, profiles }))})
    db.close()`
  // The script on stdin: 1,000 profiles are more than one argv string may hold.
  const filled = spawnSync(oc.node, [], { input: fill, encoding: 'utf8' })
  assert.equal(filled.status, 0, filled.stderr)
}

/** A state made by `openclaw onboard` whose openclaw.json then holds `count` skill API keys,
 * set by the real `openclaw config set --batch-file`. */
function makeConfigHome(count) {
  const oc = ensureOpenClaw()
  const home = mkdtempSync(join(os.tmpdir(), 'ocv-bench-config-'))
  try {
    fillHome(oc, home)
    const batch = []
    for (let i = 0; i < count; i++) {
      const n = String(i).padStart(4, '0')
      batch.push({ path: `skills.entries.skill${n}.apiKey`, value: `sk-FAKE-bulk-${n}-${'x'.repeat(26)}` })
    }
    const file = join(home, 'batch.json')
    writeFileSync(file, JSON.stringify(batch), { mode: 0o600 })
    const env = { HOME: home, OPENCLAW_STATE_DIR: home, PATH: process.env.PATH }
    const set = spawnSync(oc.node, [oc.openclawBin, 'config', 'set', '--batch-file', file], {
      env,
      cwd: home,
      encoding: 'utf8',
      timeout: 600000,
    })
    assert.equal(set.status, 0, set.stderr)
    rmSync(file)
  } catch (e) {
    rmSync(home, { recursive: true, force: true })
    throw e
  }
  return home
}

/** Runs `openclaw-vault <args>` on `home` against `vault`; wall ms and the parsed JSON. */
function timedCli(home, vault, args) {
  const started = process.hrtime.bigint()
  const res = spawnSync(process.execPath, [join(root, 'bin', 'openclaw-vault.js'), ...args], {
    env: {
      PATH: process.env.PATH,
      HOME: home,
      OPENCLAW_STATE_DIR: home,
      VAULT_ADDR: vault.addr,
      VAULT_TOKEN: vault.token,
    },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  })
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  return { ms, status: res.status, out: JSON.parse(res.stdout), stderr: res.stderr }
}

/** A state dir (no onboarding: these runs never get past the preflight) whose legacy
 * `auth-profiles.json` holds `count` api_key profiles, for the unreachable-Vault runs. */
function makeLegacyHome(count) {
  const home = mkdtempSync(join(os.tmpdir(), 'ocv-bench-migrate-'))
  const agentDir = join(home, 'agents', 'main', 'agent')
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
        OPENCLAW_STATE_DIR: home,
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
      console.error(`The plan is empty: the SQLite auth store was not read.\n${stderr}`)
      process.exit(2)
    }
    assert.equal(status, 0, `migrate exited ${status}: ${stderr}`)
    assert.equal(planned, SECRETS, 'every generated profile is planned, once')
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
        const h = makeLegacyHome(n)
        try {
          const { ms, status, out } = migrate(h, target, `bench-unreachable-${process.pid}`)
          assert.equal(status, 1, `migrate against a ${what} exited ${status}`)
          assert.ok(['NETWORK', 'TIMEOUT'].includes(out.error?.code), JSON.stringify(out))
          assert.ok(!existsSync(join(h, 'vault-migrate.journal')), 'no journal')
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

  // A large openclaw.json: planning and listing 2,000 config secrets.
  const CONFIG_SECRETS = 2000
  const CONFIG_TARGET_MS = 1000
  const big = makeConfigHome(CONFIG_SECRETS)
  try {
    const plan = timedCli(big, vault, ['migrate', '--dry-run', '--json'])
    assert.ok(plan.out.plan.items.length >= CONFIG_SECRETS, `planned ${plan.out.plan.items.length}`)
    const list = timedCli(big, vault, ['list', '--json'])
    for (const [what, r] of [
      ['migrate --dry-run (planning)', plan],
      ['list', list],
    ]) {
      const met = r.ms <= CONFIG_TARGET_MS
      console.log(
        `${what}, ${CONFIG_SECRETS} config secrets: ${r.ms.toFixed(0)} ms; target <= ${CONFIG_TARGET_MS} ms: ${met ? 'met' : 'MISSED'}`,
      )
      if (!met) process.exitCode = 1
    }
  } finally {
    rmSync(big, { recursive: true, force: true })
  }
} finally {
  rmSync(home, { recursive: true, force: true })
  await vault.stop()
}
