// `openclaw-vault run` through the npm shim: the native executable (the shim keeps Node alive and
// passes signals on); the addon route (`OPENCLAW_VAULT_NATIVE=0`) refuses `run`. A real dev
// server, real children that print a hash of the value, never the value. The Rust tests in
// crates/cli/tests/run.rs cover --watch, Vault outages and bad mappings on the executable.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { VaultClient } from '../index.js'
import { removeTree, root, startVault, uniquePrefix } from './support/vault-server.mjs'

const bin = join(root, 'bin', 'openclaw-vault.js')
const prefix = uniquePrefix('run')
const secret = 'sk-ant-run-node-CANARY-31337'
const hash = createHash('sha256').update(secret).digest('hex').slice(0, 16)
/** What the child prints first: the first 16 hex digits of its value's SHA-256. */
const STARTED = 'echo "started $(printf %s "$K" | sha256sum | cut -c1-16)"'
let vault
let home

before(async () => {
  vault = await startVault()
  const client = new VaultClient({ addr: vault.addr, token: vault.token, renew: false })
  await client.write(`${prefix}/credentials/anthropic`, { apiKey: secret })
  home = mkdtempSync(join(tmpdir(), 'ocv-run-home-'))
})
after(async () => {
  if (vault) await removeTree(vault, prefix)
  await vault?.stop()
  if (home) rmSync(home, { recursive: true, force: true })
})

/** Starts `openclaw-vault run ...`; resolves lines and the exit as they come. */
function start(args, env) {
  const child = spawn(process.execPath, [bin, 'run', ...args], {
    env: {
      HOME: home,
      PATH: process.env.PATH,
      VAULT_ADDR: vault.addr,
      VAULT_TOKEN: vault.token,
      OPENCLAW_VAULT_PREFIX: prefix,
      ...env,
    },
    cwd: home,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  const waiters = []
  child.stdout.on('data', (d) => {
    out += d
    for (const w of waiters.splice(0)) w()
  })
  child.stderr.on('data', (d) => (err += d))
  const closed = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })))
  // Every wait has a deadline: a `run` that never exits fails its test instead of hanging the suite.
  const exited = Promise.race([
    closed,
    new Promise((resolve) =>
      setTimeout(() => {
        child.kill('SIGKILL')
        resolve({ code: 'no exit within 30 s', signal: null })
      }, 30000).unref(),
    ),
  ])
  /** Waits (deadline 30 s) until stdout holds a line equal to `line`. */
  const line = async (want) => {
    const deadline = Date.now() + 30000
    while (!out.split('\n').includes(want)) {
      assert.ok(Date.now() < deadline, `no line ${want}; stdout: ${out}; stderr: ${err}`)
      await Promise.race([new Promise((r) => waiters.push(r)), exited, new Promise((r) => setTimeout(r, 1000))])
    }
  }
  return { child, line, exited, output: () => out + err }
}

describe('openclaw-vault run (addon route)', () => {
  test('the addon refuses `run` (it would own the Node process’s signals): UNSUPPORTED_OPERATION, nothing runs', async () => {
    const run = start(['--env', 'K=anthropic', '--', 'sh', '-c', 'echo ran'], { OPENCLAW_VAULT_NATIVE: '0' })
    const { code } = await run.exited
    assert.notEqual(code, 0, run.output())
    assert.equal(typeof code, 'number', run.output())
    assert.match(run.output(), /UNSUPPORTED_OPERATION\].*native `openclaw-vault` executable/)
    assert.ok(!run.output().includes('ran\n'))
    assert.ok(!run.output().includes(secret))
  })
})

for (const [route, env] of [['native executable', {}]]) {
  describe(`openclaw-vault run (${route})`, () => {
    test('the child sees the value and its exit code passes through', async () => {
      const run = start(['--env', 'K=anthropic', '--', 'sh', '-c', `${STARTED}; exit 7`], env)
      await run.line(`started ${hash}`)
      const { code } = await run.exited
      assert.equal(code, 7, run.output())
      assert.ok(!run.output().includes(secret))
    })

    test('a SIGTERM sent to the command reaches the child', async () => {
      const script = `trap 'echo got-TERM; exit 42' TERM; ${STARTED}; while :; do sleep 0.05; done`
      const run = start(['--env', 'K=anthropic', '--', 'sh', '-c', script], env)
      await run.line(`started ${hash}`)
      run.child.kill('SIGTERM')
      await run.line('got-TERM')
      const { code } = await run.exited
      assert.equal(code, 42, run.output())
      assert.ok(!run.output().includes(secret))
    })

    test('an unknown credential is an error naming the flag, and nothing runs', async () => {
      const run = start(['--env', 'K=nope', '--', 'sh', '-c', 'echo ran'], env)
      const { code } = await run.exited
      assert.equal(code, 3, run.output())
      assert.match(run.output(), /CREDENTIAL_NOT_FOUND\]: `--env` at position 3 \(K\)/)
      assert.ok(!run.output().includes('ran\n'))
    })
  })
}
