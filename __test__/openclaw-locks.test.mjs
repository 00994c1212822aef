// `migrate --rewrite-config-json5` / `--remove-local` (our own writes of files OpenClaw also writes) and the real OpenClaw 2026.9 writing the same files:
// both sides use OpenClaw's sidecar lock (`<file>.lock`, @openclaw/fs-safe's protocol), so OpenClaw's
// next write goes through at once, ours waits while OpenClaw holds the lock, and no `.lock` stays.
// The config is written by `openclaw config set` itself; OpenClaw's holder is its own lock code.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { removeTree, root, startVault, uniquePrefix } from './support/vault-server.mjs'
import { leftovers, openclawHolder } from './support/openclaw-locks.mjs'
import { openclawInstall, removeTempDirs, runOpenClaw } from './support/openclaw-state.mjs'
import { nodeDependentOnly, sameOnEveryNode } from './support/node-pass.mjs'

const bin = join(root, 'bin', 'openclaw-vault.js')
const gatewayToken = 'FAKE-gw-token-lock-test-42'
let oc
let vault
const homes = []
const prefixes = []

before(async () => {
  if (nodeDependentOnly) return // every suite here is sameOnEveryNode
  oc = openclawInstall()
  vault = await startVault()
})
after(async () => {
  for (const p of prefixes) if (vault) await removeTree(vault, p)
  await vault?.stop()
  removeTempDirs(homes)
})

/** Runs the real `openclaw` CLI (Node 24) on `home`'s state dir. */
function openclaw(home, args) {
  const r = runOpenClaw(args, { home })
  return { code: r.code, out: r.stdout, err: r.stderr }
}

/** The sample HOME's credential files, with an openclaw.json written by OpenClaw itself. */
function realHome() {
  const home = mkdtempSync(join(tmpdir(), 'ocv-locks-home-'))
  homes.push(home)
  cpSync(join(root, 'examples', 'sample-home'), home, { recursive: true })
  const fix = (d) => {
    chmodSync(d, 0o700)
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) fix(join(d, e.name))
      else chmodSync(join(d, e.name), 0o600)
    }
  }
  fix(home)
  rmSync(join(home, '.openclaw', 'openclaw.json'))
  for (const [k, v] of [
    ['gateway.auth.mode', 'token'],
    ['gateway.auth.token', gatewayToken],
  ]) {
    const r = openclaw(home, ['config', 'set', k, v])
    assert.equal(r.code, 0, r.err)
  }
  return home
}

function migrate(home, args) {
  const prefix = uniquePrefix('locks')
  prefixes.push(prefix)
  const r = spawnSync(process.execPath, [bin, 'migrate', ...args], {
    env: {
      HOME: home,
      PATH: process.env.PATH,
      VAULT_ADDR: vault.addr,
      VAULT_TOKEN: vault.token,
      OPENCLAW_VAULT_PREFIX: prefix,
    },
    encoding: 'utf8',
    cwd: home,
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

describe('OpenClaw file locks', sameOnEveryNode, () => {
  test('after --rewrite-config-json5 and --remove-local, OpenClaw writes at once and no .lock stays', () => {
    const home = realHome()
    const config = join(home, '.openclaw', 'openclaw.json')
    const r = migrate(home, ['--yes', '--json', '--rewrite-config-json5', '--remove-local'])
    assert.equal(r.code, 0, r.out + r.err)
    assert.ok(!readFileSync(config, 'utf8').includes(gatewayToken), 'the config was rewritten')
    assert.deepEqual(leftovers(home), [])
    const set = openclaw(home, ['config', 'set', 'gateway.port', '18790'])
    assert.equal(set.code, 0, set.err)
    assert.equal(JSON.parse(readFileSync(config, 'utf8')).gateway.port, 18790)
    assert.deepEqual(leftovers(home), [])
  })

  test('--rewrite-config-json5 waits while OpenClaw holds the config lock, and changes nothing', async () => {
    const home = realHome()
    const config = join(home, '.openclaw', 'openclaw.json')
    const before = readFileSync(config, 'utf8')
    const holder = await openclawHolder(oc, config)
    let r
    try {
      r = migrate(home, ['--yes', '--json', '--rewrite-config-json5'])
    } finally {
      await holder.release()
    }
    assert.notEqual(r.code, 0)
    assert.match(
      r.out + r.err,
      new RegExp(`openclaw\\.json\\.lock: not acquired within \\d+ ms: process ${holder.pid} holds it`),
    )
    assert.equal(readFileSync(config, 'utf8'), before)
    assert.ok(!existsSync(`${config}.lock`))
    // Released: the same command goes through.
    const again = migrate(home, ['--yes', '--json', '--rewrite-config-json5'])
    assert.equal(again.code, 0, again.out + again.err)
    assert.ok(!readFileSync(config, 'utf8').includes(gatewayToken))
    assert.deepEqual(leftovers(home), [])
  })
})
