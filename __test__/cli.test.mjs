// The openclaw-vault CLI end to end: `node bin/openclaw-vault.js ...` as a user runs it, against a
// real dev server and a temporary HOME copied from examples/sample-home.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { VaultClient } from '../index.js'
import { removeTree, root, startVault, uniquePrefix } from './support/vault-server.mjs'

const require = createRequire(import.meta.url)
const bin = join(root, 'bin', 'openclaw-vault.js')
const prefix = uniquePrefix('cli')
let vault
let client
let home

function copySample() {
  const dir = mkdtempSync(join(tmpdir(), 'ocv-cli-home-'))
  cpSync(join(root, 'examples', 'sample-home'), dir, { recursive: true })
  const fix = (d) => {
    chmodSync(d, 0o700)
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) fix(join(d, e.name))
      else chmodSync(join(d, e.name), 0o600)
    }
  }
  fix(dir)
  return dir
}

before(async () => {
  vault = await startVault()
  client = new VaultClient({ addr: vault.addr, token: vault.token, renew: false })
  home = copySample()
})
after(async () => {
  if (vault) await removeTree(vault, prefix)
  await vault?.stop()
  if (home) rmSync(home, { recursive: true, force: true })
})

/** Runs the CLI; `vaultOn` adds the dev server's address and token to the env. */
function cli(args, { input, vaultOn = true, env = {} } = {}) {
  const base = { HOME: home, PATH: process.env.PATH }
  if (vaultOn) Object.assign(base, { VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token, OPENCLAW_VAULT_PREFIX: prefix })
  const r = spawnSync(process.execPath, [bin, ...args], {
    input,
    env: { ...base, ...env },
    encoding: 'utf8',
    cwd: home,
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

describe('openclaw-vault', () => {
  test('--help on every command', () => {
    for (const cmd of [[], ['status'], ['get'], ['put'], ['list'], ['migrate'], ['resolve']]) {
      const r = cli([...cmd, '--help'])
      assert.equal(r.code, 0, r.err)
      assert.match(r.out, /Usage: openclaw-vault/)
    }
  })

  test('a usage error exits 2 and names the argument', () => {
    const r = cli(['get', 'x', '--nope-sk-CANARY'])
    assert.equal(r.code, 2)
    // Named by its position: an unknown flag may be a pasted secret, so it is never echoed.
    assert.match(r.err, /unexpected argument at position 3/)
    assert.ok(!(r.out + r.err).includes('CANARY'), r.err)
  })

  test('status with a healthy Vault: exit 0, JSON report without the token', () => {
    const r = cli(['status', '--json'])
    assert.equal(r.code, 0, r.out + r.err)
    const report = JSON.parse(r.out)
    assert.equal(report.vault.reachable, true)
    assert.equal(report.vault.sealed, false)
    assert.equal(report.vault.kvVersion, 2)
    assert.ok(report.sources.some((s) => s.provider === 'claude-code' && s.credentials > 0))
    assert.ok(!r.out.includes(vault.token) && !r.err.includes(vault.token))
    const doctor = cli(['doctor'])
    assert.equal(doctor.code, 0)
    assert.match(doctor.out, /reachable/)
  })

  test('status with a dead first node and OPENCLAW_VAULT_ADDRS: exit 0, every node in --json', () => {
    // Port 9 (discard) is closed on loopback: the first node is dead, the dev server serves.
    const env = { VAULT_ADDR: 'http://127.0.0.1:9', OPENCLAW_VAULT_ADDRS: vault.addr, VAULT_MAX_RETRIES: '0' }
    const r = cli(['status', '--json'], { env })
    assert.equal(r.code, 0, r.out + r.err)
    const report = JSON.parse(r.out)
    assert.equal(report.vault.reachable, true)
    assert.equal(report.vault.kvVersion, 2)
    assert.deepEqual(
      report.vault.nodes.map((n) => [n.addr, n.state, n.canServe]),
      [
        ['http://127.0.0.1:9', 'unreachable', false],
        [vault.addr.replace(/\/$/, ''), 'active', true],
      ],
    )
    assert.equal(report.vault.nodes[0].error.code, 'NETWORK')
    assert.ok(!r.out.includes(vault.token) && !r.err.includes(vault.token))
    const text = cli(['status'], { env })
    assert.equal(text.code, 0, text.out + text.err)
    assert.match(text.out, /node http:\/\/127\.0\.0\.1:9 unreachable/)
  })

  test('status with Vault unreachable: exit 5 with a hint', () => {
    const r = cli(['status'], { env: { VAULT_ADDR: 'http://127.0.0.1:9', VAULT_MAX_RETRIES: '0' } })
    assert.equal(r.code, 5, r.out + r.err)
    assert.match(r.out, /unreachable/)
    assert.match(r.out, /hint:/)
  })

  test('put from stdin, get hides the value, get --reveal prints it', () => {
    const value = 'sk-cli-test-' + Math.random().toString(36).slice(2)
    const put = cli(['put', 'cli-openai'], { input: value + '\n' })
    assert.equal(put.code, 0, put.err)
    assert.ok(!put.out.includes(value))
    const get = cli(['get', 'cli-openai'])
    assert.equal(get.code, 0, get.err)
    assert.match(get.out, /source: +vault/)
    assert.ok(!get.out.includes(value))
    const reveal = cli(['get', 'cli-openai', '--reveal'])
    assert.equal(reveal.out, value + '\n')
    const json = JSON.parse(cli(['get', 'cli-openai', '--json']).out)
    assert.equal(json.kind, 'api_key')
    assert.ok(!JSON.stringify(json).includes(value))
  })

  test('put from a file with --from-json writes an OAuth credential; the value never came from argv', async () => {
    const file = join(home, 'tokens.json')
    writeFileSync(
      file,
      JSON.stringify({ accessToken: 'acc-1-secret', refreshToken: 'ref-1-secret', expiresAt: 4102444800000 }),
      { mode: 0o600 },
    )
    const r = cli(['put', 'cli-oauth', '--file', file, '--from-json', '--json'])
    assert.equal(r.code, 0, r.err)
    assert.deepEqual(JSON.parse(r.out), { name: 'cli-oauth', to: 'vault', version: 1 })
    const stored = await client.read(`${prefix}/credentials/cli-oauth`)
    assert.equal(stored.data.kind, 'oauth')
    assert.equal(stored.data.refreshToken, 'ref-1-secret')
  })

  test('put with an empty stdin or a missing file fails clearly', () => {
    const empty = cli(['put', 'x'], { input: '' })
    assert.equal(empty.code, 2)
    assert.match(empty.err, /stdin: empty/)
    const missing = cli(['put', 'x', '--file', join(home, 'nope')])
    assert.equal(missing.code, 2)
    assert.match(missing.err, /--file .*nope/)
  })

  test('put --from-json with broken JSON: INVALID_ARGUMENT naming where, never the value', () => {
    const r = cli(['put', 'x', '--from-json', '--json'], { input: '{"apiKey": "sk-LEAK-me-123", ' })
    assert.equal(r.code, 2)
    const body = JSON.parse(r.out)
    assert.equal(body.error.code, 'INVALID_ARGUMENT')
    assert.match(body.error.message, /stdin: not a JSON object of fields \(line 1, column \d+\)/)
    assert.ok(!r.out.includes('sk-LEAK-me-123') && !r.err.includes('sk-LEAK-me-123'))
    const wrongKind = cli(['put', 'x', '--kind', 'password', '--json'], { input: 'sk-LEAK-me-456\n' })
    assert.equal(wrongKind.code, 2)
    assert.equal(JSON.parse(wrongKind.out).error.code, 'INVALID_ARGUMENT')
    assert.ok(!wrongKind.out.includes('sk-LEAK-me-456') && !wrongKind.err.includes('sk-LEAK-me-456'))
  })

  test('get of a missing name exits 3 with the sources tried', () => {
    const r = cli(['get', 'nothing-here'])
    assert.equal(r.code, 3)
    assert.match(r.err, /CREDENTIAL_NOT_FOUND/)
  })

  test('get of a secret pasted as the name: CREDENTIAL_NOT_FOUND never repeats it', () => {
    const pasted = 'sk-proj-FAKEpastedAsName0001'
    const r = cli(['get', pasted])
    assert.equal(r.code, 3)
    assert.match(r.err, /CREDENTIAL_NOT_FOUND.*NAME argument/)
    const json = cli(['get', pasted, '--json'])
    assert.equal(JSON.parse(json.out).error.code, 'CREDENTIAL_NOT_FOUND')
    for (const x of [r, json])
      assert.ok(!x.out.includes(pasted) && !x.err.includes(pasted), 'the pasted value was printed')
  })

  test('list --json lists names and sources, never values', () => {
    const r = cli(['list', '--json'])
    assert.equal(r.code, 0, r.err)
    const listed = JSON.parse(r.out)
    const anthropic = listed.credentials.find((c) => c.name === 'anthropic')
    assert.ok(anthropic.sources.some((s) => s.provider === 'claude-code'))
    const claude = JSON.parse(readFileSync(join(home, '.claude/.credentials.json'), 'utf8')).claudeAiOauth
    assert.ok(!r.out.includes(claude.accessToken))
  })
})

describe('the `openclaw-vault` shim: the native executable first, the addon otherwise', () => {
  let staged
  before(() => {
    // What npm installs: the package's files, the addon, and a stand-in for the executable in
    // the checkout layout (npm/<platform>/openclaw-vault) that reports how it was called.
    staged = mkdtempSync(join(tmpdir(), 'ocv-cli-shim-'))
    for (const f of ['package.json', 'index.js', 'bin']) cpSync(join(root, f), join(staged, f), { recursive: true })
    for (const f of readdirSync(root).filter((n) => n.endsWith('.node'))) cpSync(join(root, f), join(staged, f))
  })
  after(() => {
    if (staged) rmSync(staged, { recursive: true, force: true })
  })

  const shim = (args, env = {}) =>
    spawnSync(process.execPath, [join(staged, 'bin', 'openclaw-vault.js'), ...args], {
      env: { PATH: process.env.PATH, HOME: home, ...env },
      encoding: 'utf8',
    })

  test('runs the executable with argv, stdin and its exit code or signal; else the addon', () => {
    const { nativeExecutable, platformName } = require('../bin/native.js')
    assert.ok(nativeExecutable(), 'the build put the executable in npm/<platform>/')
    const dir = join(staged, 'npm', platformName())
    mkdirSync(dir, { recursive: true })
    const fake = join(dir, 'openclaw-vault')
    writeFileSync(fake, '#!/bin/sh\nread line\necho "native:$*:$line"\n[ "$1" = die ] && kill -TERM $$\nexit 7\n')
    chmodSync(fake, 0o755)
    const fast = spawnSync(process.execPath, [join(staged, 'bin', 'openclaw-vault.js'), 'get', 'a b'], {
      input: 'from-stdin\n',
      env: { PATH: process.env.PATH },
      encoding: 'utf8',
    })
    assert.equal(fast.stdout, 'native:get a b:from-stdin\n')
    assert.equal(fast.status, 7)
    assert.equal(shim(['die']).signal, 'SIGTERM')

    const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version
    // Forced off, not executable, or absent: the addon runs the same command line.
    const viaAddon = (r) => {
      assert.equal(r.status, 0, r.stderr)
      assert.equal(r.stdout.trim(), `openclaw-vault ${version}`)
    }
    viaAddon(shim(['--version'], { OPENCLAW_VAULT_NATIVE: '0' }))
    chmodSync(fake, 0o644)
    viaAddon(shim(['--version']))
    rmSync(fake)
    viaAddon(shim(['--version']))
  })

  test('the real executable and the addon answer alike', () => {
    for (const args of [
      ['list', '--json'],
      ['get', 'telegram', '--json'],
      ['get', 'nope', '--json'],
    ]) {
      const native = cli(args)
      const addon = cli(args, { env: { OPENCLAW_VAULT_NATIVE: '0' } })
      assert.equal(native.code, addon.code, `${args}: ${native.err} / ${addon.err}`)
      assert.deepEqual(JSON.parse(native.out), JSON.parse(addon.out), args.join(' '))
    }
  })
})

describe('installed from the packed tarballs, as npm installs it', () => {
  let dir
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ocv-cli-installed-'))
  })
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  test('`npx openclaw-vault` runs the platform package\u2019s executable; the addon when it is forced off', () => {
    const { platformName } = require('../bin/native.js')
    const npm = (args, cwd) => {
      const r = spawnSync('npm', [...args, '--ignore-scripts', '--no-audit', '--no-fund', '--offline'], {
        cwd,
        encoding: 'utf8',
        env: { ...process.env, npm_config_loglevel: 'error' },
      })
      assert.equal(r.status, 0, `npm ${args.join(' ')}: ${r.stderr}`)
      return r.stdout
    }
    // The platform package as CI publishes it: its directory plus the addon napi puts there.
    const platformDir = join(dir, 'platform')
    cpSync(join(root, 'npm', platformName()), platformDir, { recursive: true })
    for (const f of readdirSync(root).filter((n) => n.endsWith('.node'))) cpSync(join(root, f), join(platformDir, f))
    npm(['pack', '--pack-destination', dir], platformDir)
    npm(['pack', '--pack-destination', dir], root)
    const project = join(dir, 'project')
    mkdirSync(project)
    writeFileSync(join(project, 'package.json'), '{"name":"ocv-installed","version":"1.0.0","private":true}\n')
    const tarballs = readdirSync(dir).filter((n) => n.endsWith('.tgz'))
    assert.equal(tarballs.length, 2, tarballs.join(', '))
    npm(['install', ...tarballs.map((t) => join(dir, t))], project)

    const installed = join(project, 'node_modules', '@openclaw', `vault-${platformName()}`, 'openclaw-vault')
    assert.equal(statSync(installed).mode & 0o777, 0o755, 'npm keeps it executable, not group-writable')
    const found = spawnSync(process.execPath, ['-p', "require('@openclaw/vault/bin/native.js').nativeExecutable()"], {
      cwd: project,
      encoding: 'utf8',
    })
    assert.equal(found.stdout.trim(), installed, found.stderr)
    const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version
    for (const env of [{}, { OPENCLAW_VAULT_NATIVE: '0' }]) {
      const r = spawnSync('npx', ['--offline', 'openclaw-vault', '--version'], {
        cwd: project,
        encoding: 'utf8',
        env: { ...process.env, ...env },
      })
      assert.equal(r.status, 0, r.stderr)
      assert.equal(r.stdout.trim(), `openclaw-vault ${version}`)
    }
  })
})
