// `migrate --rewrite-config` against the REAL `openclaw` CLI (2026.9.6, scripts/ensure-openclaw.mjs)
// when things go wrong, and on a rerun. States are made by OpenClaw's own commands and judged by its
// own `openclaw secrets audit --json`:
// - OpenClaw run by a Node it refuses: the error names the executable and carries OpenClaw's own
//   stderr (bounded, no secret), Vault keeps the values, OpenClaw's files are untouched;
// - a failing apply leaves no plan file behind (neither in the state dir nor in TMPDIR);
// - `migrate` killed with SIGKILL while `openclaw secrets apply` waits for OpenClaw's lock on
//   openclaw.json: the apply process dies with it, no `.lock` stays, and OpenClaw's state is
//   exactly as before;
// - a provider entry written earlier by the Node route is moved to the native executable on a
//   rerun, and OpenClaw resolves the ref through it.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { VaultClient } from '../index.js'
import { removeTree, root, startVault, uniquePrefix, vaultBinary, waitFor } from './support/vault-server.mjs'
import { leftovers, openclawHolder } from './support/openclaw-locks.mjs'
import { skippedOnThisPass } from './support/node-pass.mjs'
import {
  copyState,
  openclawEnv,
  openclawInstall,
  openclawOk,
  openclawScript,
  removeTempDirs,
  runOpenClaw,
  sharedState,
} from './support/openclaw-state.mjs'

const { nativeExecutable } = createRequire(import.meta.url)('../bin/native.js')
const native = nativeExecutable()
assert.ok(native, 'the native executable is missing: run `node scripts/build-native.mjs`')
const telegram = '424242:FAKE-apply-telegram-token-0001'
const gateway = 'gwtok-FAKE-apply-gateway-0002'
let oc
let vault
let client
const dirs = []
const prefixes = []

before(async () => {
  oc = openclawInstall()
  vault = await startVault()
  client = new VaultClient({ addr: vault.addr, token: vault.token, renew: false })
})

after(async () => {
  for (const p of prefixes) if (vault) await removeTree(vault, p)
  await vault?.stop()
  removeTempDirs(dirs)
})

function tempDir(name) {
  const d = mkdtempSync(join(tmpdir(), `ocv-apply-${name}-`))
  chmodSync(d, 0o700)
  dirs.push(d)
  return d
}

const envFor = (state, extra = {}) => openclawEnv({ state, vault, env: extra })

const openclaw = (state, args) => openclawOk(args, { state, vault })

/** A state OpenClaw wrote: a telegram token and a gateway token, both plaintext in openclaw.json.
 * Made once per file by the real CLI; each test gets its own copy. */
async function makeState(name) {
  const pristine = await sharedState('telegram+gateway', () => {
    const s = tempDir('pristine')
    openclaw(s, ['channels', 'add', '--channel', 'telegram', '--token', telegram])
    openclaw(s, ['config', 'set', 'gateway.auth.mode', 'token'])
    openclaw(s, ['config', 'set', 'gateway.auth.token', gateway])
    return s
  })
  return copyState(pristine, tempDir(name))
}

function audit(state, args = []) {
  const r = runOpenClaw(['secrets', 'audit', '--json', ...args], { state, vault })
  return { code: r.code, report: JSON.parse(r.stdout) }
}

const plaintext = (report) =>
  report.findings
    .filter((f) => f.code === 'PLAINTEXT_FOUND')
    .map((f) => `${f.file} ${f.jsonPath}`)
    .sort()

/** A script named `openclaw` running the real CLI with `node` (`exec`: the CLI keeps its pid). */
const openclawCli = (node = oc.node) => openclawScript(tempDir('cli'), { node })

/** `openclaw-vault migrate` (the native executable) on `state`, with a private TMPDIR. */
function migrateArgs(state, prefix, args) {
  const tmp = tempDir('tmp')
  return {
    tmp,
    argv: [native, ['migrate', ...args]],
    options: { cwd: state, env: envFor(state, { OPENCLAW_VAULT_PREFIX: prefix, TMPDIR: tmp }) },
  }
}

function migrate(state, prefix, args) {
  const m = migrateArgs(state, prefix, args)
  const r = spawnSync(...m.argv, { ...m.options, encoding: 'utf8', timeout: 300000 })
  let json = null
  try {
    json = JSON.parse(r.stdout)
  } catch {
    // left null
  }
  return { code: r.status, out: r.stdout, err: r.stderr, json, tmp: m.tmp }
}

/** The apply plan files in `dir` (OpenClaw, started with the same TMPDIR, keeps a compile cache there). */
const planFiles = (dir) => readdirSync(dir).filter((n) => /apply-plan/.test(n))

/** Linux: every live process whose command line contains `text`, as `{pid, cmdline}`, from /proc. */
function processesWith(text) {
  const out = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8')
      if (cmdline.includes(text) && running(Number(name))) out.push({ pid: Number(name), cmdline: cmdline.split('\0') })
    } catch {
      // gone meanwhile
    }
  }
  return out
}

/** Linux: the children of `pid` as `{pid, cmdline}`, from /proc. */
function childrenOf(pid) {
  const out = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(fields[1]) !== pid) continue
      out.push({ pid: Number(name), cmdline: readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0') })
    } catch {
      // gone meanwhile
    }
  }
  return out
}

/** True while `pid` runs (a zombie nobody reaped has ended). */
function running(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

const noSecret = (text) => {
  for (const v of [telegram, gateway, vault.token]) assert.ok(!text.includes(v), 'a secret was printed')
}

describe('migrate --rewrite-config with the real openclaw CLI', () => {
  test('OpenClaw run by a Node it refuses: the error names the executable and quotes its stderr; Vault keeps the values', async (t) => {
    const major = Number(process.versions.node.split('.')[0])
    if (major >= 24) {
      t.skip('needs a Node older than 24 to run OpenClaw under (this test runs on Node ' + process.versions.node + ')')
      return
    }
    const state = await makeState('oldnode')
    const config = readFileSync(join(state, 'openclaw.json'))
    const prefix = uniquePrefix('apply-oldnode')
    prefixes.push(prefix)
    // The real OpenClaw, started by this (too old) Node: it prints why on stderr and exits 1.
    const cli = openclawCli(process.execPath)
    const r = migrate(state, prefix, ['--yes', '--json', '--rewrite-config', '--openclaw', cli])
    assert.equal(r.code, 1, r.out + r.err)
    const e = r.json.rewriteConfig.error
    assert.equal(e.code, 'INVALID_CONFIG')
    assert.ok(e.message.startsWith(`openclaw CLI ${cli}: --version: exit code 1`), e.message)
    assert.match(e.message, /its stderr: openclaw: Node \d+\.\d+\.\d+: node:sqlite is unavailable/)
    assert.ok(e.message.length < 1000, 'a bounded excerpt')
    // Vault holds the values (journaled), OpenClaw's config is byte-identical.
    assert.equal(r.json.report.counts.failed, 0, JSON.stringify(r.json.report))
    assert.ok(existsSync(join(state, 'vault-migrate.journal')))
    assert.equal((await client.read(`${prefix}/credentials/telegram`)).data.token, telegram)
    assert.deepEqual(readFileSync(join(state, 'openclaw.json')), config)
    assert.deepEqual(leftovers(state, /apply-plan/), [])
    noSecret(r.out + r.err)
  })

  test('apply fails (its resolver check cannot reach Vault): OpenClaw\u2019s message and stderr, no plan file left', async (t) => {
    if (skippedOnThisPass(t)) return
    const state = await makeState('fail')
    const before = plaintext(audit(state).report)
    const config = readFileSync(join(state, 'openclaw.json'))
    const prefix = uniquePrefix('apply-fail')
    prefixes.push(prefix)
    // The real CLI, but the exec provider it runs reaches no Vault: apply validates and refuses.
    const cli = openclawScript(tempDir('cli-novault'), { prelude: 'export VAULT_ADDR=http://127.0.0.1:9' })
    const r = migrate(state, prefix, ['--yes', '--json', '--rewrite-config', '--openclaw', cli])
    assert.equal(r.code, 1, r.out + r.err)
    const e = r.json.rewriteConfig.error
    assert.equal(e.code, 'INVALID_CONFIG')
    assert.ok(e.message.startsWith(`openclaw CLI ${cli}: secrets apply failed: exit code 1`), e.message)
    assert.match(e.message, /\(plan .*openclaw-vault-apply-plan-.*\.json\)/)
    assert.equal(r.json.rewriteConfig.planFile, undefined, 'no plan is kept (only --plan-out keeps one)')
    // Gone from TMPDIR, and none in OpenClaw's state dir.
    assert.deepEqual(planFiles(r.tmp), [])
    assert.deepEqual(leftovers(state, /apply-plan/), [])
    assert.deepEqual(readFileSync(join(state, 'openclaw.json')), config)
    assert.deepEqual(plaintext(audit(state).report), before)
    noSecret(r.out + r.err)
    // Success also removes it.
    const ok = migrate(state, prefix, ['--yes', '--json', '--rewrite-config', '--openclaw', openclawCli()])
    assert.equal(ok.code, 0, ok.out + ok.err)
    assert.deepEqual(planFiles(ok.tmp), [])
    assert.deepEqual(leftovers(state, /apply-plan/), [])
    assert.equal(audit(state, ['--check', '--allow-exec']).code, 0)
  })

  test('Vault sealed just before apply: the error says SEALED, not only that the exec provider exited 1', async (t) => {
    if (skippedOnThisPass(t)) return
    const state = await makeState('sealed')
    const config = readFileSync(join(state, 'openclaw.json'))
    const own = await startVault()
    try {
      const prefix = uniquePrefix('apply-sealed')
      // The real CLI; for `secrets apply` only, it first seals this test's own Vault (migrate has
      // written the values by then), so OpenClaw's resolver check meets a sealed Vault.
      const seal = `${JSON.stringify(vaultBinary())} operator seal >/dev/null || exit 99`
      const cli = openclawScript(tempDir('cli-seal'), { prelude: `if [ "$1 $2" = "secrets apply" ]; then ${seal}; fi` })
      const m = migrateArgs(state, prefix, ['--yes', '--json', '--rewrite-config', '--openclaw', cli])
      m.options.env = { ...m.options.env, VAULT_ADDR: own.addr, VAULT_TOKEN: own.token }
      const r = spawnSync(...m.argv, { ...m.options, encoding: 'utf8', timeout: 300000 })
      assert.equal(r.status, 1, r.stdout + r.stderr)
      const e = JSON.parse(r.stdout).rewriteConfig.error
      assert.equal(e.code, 'SEALED', e.message)
      assert.ok(e.message.includes('secrets apply failed: exit code 1'), e.message)
      assert.match(e.message, /Vault now: \[SEALED\]/)
      // OpenClaw wrote nothing; no secret (values, Vault token) in any output.
      assert.deepEqual(readFileSync(join(state, 'openclaw.json')), config)
      for (const v of [telegram, gateway, own.token])
        assert.ok(!(r.stdout + r.stderr).includes(v), 'a secret was printed')
    } finally {
      await own.stop()
    }
  })

  test('SIGKILL of migrate while apply waits for OpenClaw\u2019s lock: apply dies with it, no .lock, state as before', async (t) => {
    if (skippedOnThisPass(t)) return
    const state = await makeState('kill')
    const configPath = join(state, 'openclaw.json')
    const before = plaintext(audit(state).report)
    assert.ok(before.length >= 2, before.join('\n'))
    const config = readFileSync(configPath)
    const prefix = uniquePrefix('apply-kill')
    prefixes.push(prefix)
    // OpenClaw's own lock on openclaw.json: apply cannot write it, so it is still running when killed.
    const holder = await openclawHolder(oc, configPath, { stale: 600000 })
    let applyPid
    try {
      const m = migrateArgs(state, prefix, ['--yes', '--json', '--rewrite-config', '--openclaw', openclawCli()])
      const child = spawn(...m.argv, { ...m.options, stdio: 'ignore' })
      const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal)))
      await waitFor(
        'openclaw secrets apply to start',
        () => {
          const apply = childrenOf(child.pid).find((c) => c.cmdline.includes('secrets') && c.cmdline.includes('apply'))
          applyPid = apply?.pid
          return Boolean(apply)
        },
        { timeoutMs: 120000 },
      )
      // OpenClaw's launcher re-executes itself detached (its own process group) unless told not to;
      // that worker would escape the death signal and go on writing after migrate is gone.
      const environ = readFileSync(`/proc/${applyPid}/environ`, 'utf8').split('\0')
      assert.ok(environ.includes('OPENCLAW_NO_RESPAWN=1'), 'apply runs without OpenClaw\u2019s detached re-execution')
      assert.ok(!environ.some((e) => e.startsWith('NODE_COMPILE_CACHE=')), 'nor its compile-cache re-execution')
      // Every process running this plan (the plan file is in this run's own TMPDIR), wherever it
      // sits in the tree.
      const appliers = processesWith(realpathSync(m.tmp)).map((p) => p.pid)
      child.kill('SIGKILL')
      assert.equal(await exited, 'SIGKILL')
      // All die with migrate (PR_SET_PDEATHSIG, no detached re-execution), well before OpenClaw's
      // own lock wait would end them.
      await waitFor('every apply process to die with migrate', () => appliers.every((pid) => !running(pid)), {
        timeoutMs: 5000,
      })
      assert.deepEqual(processesWith(realpathSync(m.tmp)), [], 'no process still runs the plan')
    } finally {
      await holder.release()
    }
    assert.ok(!running(applyPid))
    assert.deepEqual(leftovers(state, /apply-plan/), [], 'no lock and no plan file in the state dir')
    // Fully before: the config byte-identical, OpenClaw's audit reports the same plaintext.
    assert.deepEqual(readFileSync(configPath), config)
    assert.deepEqual(plaintext(audit(state).report), before)
    // And OpenClaw writes its config at once afterwards (no lock left to wait for).
    openclaw(state, ['config', 'set', 'gateway.port', '18790'])
  })

  test('a provider entry the Node route wrote earlier moves to the native executable on a rerun', async (t) => {
    if (skippedOnThisPass(t)) return
    const state = await makeState('upgrade')
    const prefix = uniquePrefix('apply-upgrade')
    prefixes.push(prefix)
    // The first run, as the Node route (the addon, no native executable) wrote it: the same
    // entry, pinning this Node and the package's resolver script. Written with OpenClaw's own
    // `config set`; the token is in Vault and the config refers to it.
    const manifest = JSON.parse(readFileSync(join(root, 'openclaw.plugin.json'), 'utf8'))
    const nodeEntry = {
      source: 'exec',
      command: realpathSync(oc.node),
      args: [realpathSync(join(root, 'bin', 'openclaw-vault-resolve.mjs'))],
      passEnv: [...manifest.secretProviderIntegrations['openclaw-vault'].passEnv, 'HOME'],
      timeoutMs: 15000,
      noOutputTimeoutMs: 15000,
      maxOutputBytes: 1048576,
      jsonOnly: true,
    }
    await client.write(`${prefix}/credentials/telegram`, { token: telegram })
    await client.write(`${prefix}/credentials/gateway`, { token: gateway })
    openclaw(state, ['config', 'set', '--strict-json', 'secrets.providers.openclaw-vault', JSON.stringify(nodeEntry)])
    for (const [path, name] of [
      ['channels.telegram.botToken', 'telegram'],
      ['gateway.auth.token', 'gateway'],
    ]) {
      const ref = { source: 'exec', provider: 'openclaw-vault', id: `${prefix}/credentials/${name}/token` }
      openclaw(state, ['config', 'set', '--strict-json', path, JSON.stringify(ref)])
    }
    const first = audit(state, ['--check', '--allow-exec'])
    assert.equal(first.code, 0, JSON.stringify(first.report.findings))

    const r = migrate(state, prefix, ['--yes', '--json', '--rewrite-config', '--openclaw', openclawCli()])
    assert.equal(r.code, 0, r.out + r.err)
    const provider = r.json.rewriteConfig.provider
    assert.equal(provider.action, 'upgrade', JSON.stringify(provider))
    assert.equal(provider.from.command, nodeEntry.command)
    assert.equal(provider.command, realpathSync(native))
    const entry = JSON.parse(readFileSync(join(state, 'openclaw.json'), 'utf8')).secrets.providers['openclaw-vault']
    assert.equal(entry.command, realpathSync(native))
    assert.deepEqual(entry.args, ['resolve'])
    const after = audit(state, ['--check', '--allow-exec'])
    assert.equal(after.code, 0, JSON.stringify(after.report.findings))
    assert.equal(after.report.resolution.refsChecked, 2)
    assert.deepEqual(planFiles(r.tmp), [])
    noSecret(r.out + r.err)

    // A third run has nothing to do: the entry is already ours and current.
    const again = migrate(state, prefix, ['--yes', '--json', '--rewrite-config', '--openclaw', openclawCli()])
    assert.equal(again.code, 0, again.out + again.err)
    assert.equal(again.json.rewriteConfig.provider.action, 'unchanged')
    assert.equal(again.json.rewriteConfig.applied, undefined)
  })
})
