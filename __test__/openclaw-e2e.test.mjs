// The REAL openclaw package (installed by scripts/ensure-openclaw.mjs, run with Node 24) resolves
// SecretRefs through this package's resolver: `openclaw secrets audit --check --allow-exec` on a
// state dir whose openclaw.json configures an exec provider pointing at the native executable
// (`openclaw-vault resolve`) or at bin/openclaw-vault-resolve.mjs under Node, and OpenClaw's public
// `resolveSecretRefValues` (plugin-sdk/secret-ref-runtime) for the values; `migrate
// --rewrite-config` on a state the real OpenClaw wrote, judged by the same audit.
import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import {
  chmodSync,
  copyFileSync,
  cpSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'

import { VaultClient } from '../index.js'
import { removeTree, root, startVault, uniquePrefix } from './support/vault-server.mjs'
import { nodeDependentOnly, sameOnEveryNode } from './support/node-pass.mjs'
import {
  openclawEnv,
  openclawInstall,
  openclawScript,
  removeTempDirs,
  runOpenClawAsync,
} from './support/openclaw-state.mjs'

const run = promisify(execFile)
const resolver = join(root, 'bin', 'openclaw-vault-resolve.mjs')
const { nativeExecutable } = createRequire(import.meta.url)('../bin/native.js')
// Built by scripts/ensure-built.mjs (npm test): the tests must not pass by skipping the native route.
const native = nativeExecutable()
assert.ok(native, 'the native executable is missing: run `node scripts/build-native.mjs`')
const p = uniquePrefix('e2e')
const apiKey = 'sk-proj-FAKE-e2e-openai-7777'
const botToken = '987654:FAKE-e2e-telegram-8888'
let oc
let vault
let stateDir

before(async () => {
  if (nodeDependentOnly) return // every suite here is sameOnEveryNode
  oc = openclawInstall()
  vault = await startVault()
  const client = new VaultClient({ addr: vault.addr, token: vault.token, renew: false })
  await client.write(`${p}/providers/openai`, { apiKey })
  await client.write(`${p}/channels/telegram`, { botToken })
  stateDir = mkdtempSync(join(tmpdir(), 'ocv-e2e-state-'))
  chmodSync(stateDir, 0o700)
})

after(async () => {
  if (vault) await removeTree(vault, p)
  await vault?.stop()
  removeTempDirs([stateDir])
})

/** How each route is configured: the native executable, or Node and the script. */
const routes = {
  native: () => ({ command: realpathSync(native), args: ['resolve'] }),
  node: () => ({ command: oc.node, args: [resolver] }),
}

/** The provider block a user writes in openclaw.json (docs/openclaw-exec-provider.md). */
const provider = (route) => ({
  source: 'exec',
  ...routes[route](),
  passEnv: ['VAULT_ADDR', 'VAULT_TOKEN'],
  timeoutMs: 15000,
  noOutputTimeoutMs: 15000,
  maxOutputBytes: 1048576,
  jsonOnly: true,
})

const ref = (id) => ({ source: 'exec', provider: 'vaultrs', id })

function writeConfig(openaiId, route, overrides = {}) {
  const config = {
    secrets: { providers: { vaultrs: { ...provider(route), ...overrides } } },
    models: {
      providers: {
        openai: { baseUrl: 'https://api.openai.com/v1', apiKey: ref(openaiId), models: [] },
      },
    },
  }
  writeFileSync(join(stateDir, 'openclaw.json'), JSON.stringify(config, null, 2), { mode: 0o600 })
  return config
}

/** Runs the real `openclaw` CLI under Node 24 with a private state dir. */
const openclaw = (args, extraEnv = {}) =>
  runOpenClawAsync(args, { state: stateDir, vault, env: extraEnv, timeout: 120000 })

for (const route of Object.keys(routes)) {
  describe(`openclaw 2026.9.6 with this resolver as an exec provider (${route} route)`, sameOnEveryNode, () => {
    test('`openclaw secrets audit --check --allow-exec` resolves the ref', async () => {
      writeConfig(`${p}/providers/openai/apiKey`, route)
      const out = await openclaw(['secrets', 'audit', '--check', '--allow-exec', '--json'])
      assert.equal(out.code, 0, `${out.stdout}\n${out.stderr}`)
      const report = JSON.parse(out.stdout)
      assert.equal(report.status, 'clean', out.stdout)
      assert.equal(report.resolution.refsChecked, 1)
      assert.equal(report.resolution.skippedExecRefs, 0)
      assert.equal(report.summary.unresolvedRefCount, 0)
    })

    test('a wrong id is reported unresolved (NOT_FOUND), and nothing secret is printed', async () => {
      writeConfig(`${p}/providers/openai/nope`, route)
      const out = await openclaw(['secrets', 'audit', '--check', '--allow-exec', '--json'])
      assert.notEqual(out.code, 0)
      const report = JSON.parse(out.stdout)
      assert.equal(report.status, 'unresolved')
      const finding = report.findings.find((f) => f.code === 'REF_UNRESOLVED')
      assert.ok(finding, out.stdout)
      assert.equal(finding.jsonPath, 'models.providers.openai.apiKey')
      assert.match(finding.message, /NOT_FOUND/)
      for (const s of [apiKey, botToken, vault.token]) assert.ok(!`${out.stdout}${out.stderr}`.includes(s))
    })

    test('a provider-wide failure (bad token) fails the ref too', async () => {
      writeConfig(`${p}/providers/openai/apiKey`, route)
      const out = await openclaw(['secrets', 'audit', '--check', '--allow-exec', '--json'], {
        VAULT_TOKEN: 'hvs.FAKE-invalid-token',
      })
      assert.notEqual(out.code, 0)
      assert.equal(JSON.parse(out.stdout).status, 'unresolved')
    })

    test('OpenClaw\u2019s resolveSecretRefValues returns the values from Vault', async () => {
      const config = writeConfig(`${p}/providers/openai/apiKey`, route)
      const sdk = pathToFileURL(join(oc.openclawDir, 'dist', 'plugin-sdk', 'secret-ref-runtime.js')).href
      const script = `
      const { resolveSecretRefValues } = await import(${JSON.stringify(sdk)})
      const refs = ${JSON.stringify([ref(`${p}/providers/openai/apiKey`), ref(`${p}/channels/telegram#botToken`)])}
      const config = ${JSON.stringify(config)}
      const values = await resolveSecretRefValues(refs, { config, env: process.env })
      process.stdout.write(JSON.stringify(Object.fromEntries(values)))
    `
      const { stdout } = await run(oc.node, ['--input-type=module', '-e', script], {
        cwd: stateDir,
        env: {
          HOME: stateDir,
          OPENCLAW_STATE_DIR: stateDir,
          VAULT_ADDR: vault.addr,
          VAULT_TOKEN: vault.token,
        },
        timeout: 120000,
      })
      const values = JSON.parse(stdout)
      const got = Object.values(values).sort()
      assert.deepEqual(got, [botToken, apiKey].sort())
    })
  })
}

describe('the native executable under OpenClaw\u2019s exec command checks', sameOnEveryNode, () => {
  let dir
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ocv-e2e-native-'))
  })
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  const audit = async () => {
    const out = await openclaw(['secrets', 'audit', '--check', '--allow-exec', '--json'])
    return { ...out, report: JSON.parse(out.stdout) }
  }

  test('the file the build ships passes; group- or world-writable and symlinked copies are refused', async () => {
    const copy = join(dir, 'openclaw-vault')
    copyFileSync(native, copy)
    chmodSync(copy, 0o755)
    // No PATH and no HOME reach it: the provider passes only Vault's two variables.
    writeConfig(`${p}/providers/openai/apiKey`, 'native', { command: copy })
    const ok = await audit()
    assert.equal(ok.code, 0, ok.stdout)
    assert.equal(ok.report.status, 'clean')
    for (const mode of [0o775, 0o757]) {
      chmodSync(copy, mode)
      const refused = await audit()
      assert.notEqual(refused.code, 0)
      assert.match(JSON.stringify(refused.report.findings), /permissions are too open/)
    }
    chmodSync(copy, 0o755)
    const link = join(dir, 'link')
    symlinkSync(copy, link)
    writeConfig(`${p}/providers/openai/apiKey`, 'native', { command: link })
    const symlinked = await audit()
    assert.notEqual(symlinked.code, 0)
    assert.match(JSON.stringify(symlinked.report.findings), /must not be a symlink/)
  })
})

describe('`openclaw-vault migrate --rewrite-config` on a state the real OpenClaw wrote', sameOnEveryNode, () => {
  const prefix = uniquePrefix('e2e-migrate')
  const token = '123123:FAKE-e2e-migrate-telegram-4242'
  let home
  before(() => {
    home = mkdtempSync(join(tmpdir(), 'ocv-e2e-migrate-'))
    chmodSync(home, 0o700)
  })
  after(async () => {
    if (vault) await removeTree(vault, prefix)
    removeTempDirs([home])
  })

  test('the provider it adds is the native executable, and OpenClaw resolves the ref through it', async () => {
    const state = join(home, '.openclaw')
    const env = openclawEnv({ home, state })
    const added = await runOpenClawAsync(['channels', 'add', '--channel', 'telegram', '--token', token], {
      home,
      state,
      cwd: home,
      timeout: 120000,
    })
    assert.equal(added.code, 0, added.stdout + added.stderr)
    const configPath = join(state, 'openclaw.json')
    assert.ok(readFileSync(configPath, 'utf8').includes(token), 'OpenClaw wrote the token in plaintext')
    // `--rewrite-config` hands the rewrite to `openclaw secrets apply`: the CLI, run by Node 24.
    const openclawCli = openclawScript(home)
    const migrated = spawnSync(
      process.execPath,
      [
        join(root, 'bin', 'openclaw-vault.js'),
        'migrate',
        '--yes',
        '--json',
        '--rewrite-config',
        '--openclaw',
        openclawCli,
      ],
      {
        cwd: home,
        env: { ...env, VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token, OPENCLAW_VAULT_PREFIX: prefix },
        encoding: 'utf8',
        timeout: 120000,
      },
    )
    assert.equal(migrated.status, 0, `${migrated.stdout}\n${migrated.stderr}`)
    assert.ok(!`${migrated.stdout}${migrated.stderr}`.includes(token))
    const text = readFileSync(configPath, 'utf8')
    assert.ok(!text.includes(token), text)
    const config = JSON.parse(text)
    const entry = config.secrets.providers['openclaw-vault']
    assert.equal(entry.command, realpathSync(native))
    assert.deepEqual(entry.args, ['resolve'])
    assert.ok(entry.timeoutMs > 12000, 'above the resolver\u2019s own 12 s deadline')
    assert.ok(entry.passEnv.includes('VAULT_TOKEN') && !entry.passEnv.includes('PATH'))
    assert.deepEqual(config.channels.telegram.botToken, {
      source: 'exec',
      provider: 'openclaw-vault',
      id: `${prefix}/credentials/telegram/token`,
    })
    const out = await runOpenClawAsync(['secrets', 'audit', '--check', '--allow-exec', '--json'], {
      home,
      state,
      vault,
      cwd: home,
      timeout: 120000,
    })
    const report = JSON.parse(out.stdout)
    assert.equal(report.summary.unresolvedRefCount, 0, out.stdout)
    assert.equal(report.resolution.refsChecked, 1, out.stdout)
    assert.equal(report.resolution.skippedExecRefs, 0)
    assert.ok(!JSON.stringify(report).includes(token))
  })
})

describe('as an installed OpenClaw plugin (openclaw.plugin.json secretProviderIntegrations)', sameOnEveryNode, () => {
  let pluginState
  let staged

  before(() => {
    // What npm would publish (package.json `files`) plus the addon a platform package brings.
    staged = mkdtempSync(join(tmpdir(), 'ocv-e2e-pkg-'))
    for (const f of ['package.json', 'index.js', 'index.d.ts', 'openclaw.plugin.json', 'openclaw-plugin.mjs', 'bin']) {
      cpSync(join(root, f), join(staged, f), { recursive: true })
    }
    for (const f of readdirSync(root).filter((n) => n.endsWith('.node'))) cpSync(join(root, f), join(staged, f))
    pluginState = mkdtempSync(join(tmpdir(), 'ocv-e2e-plugin-state-'))
    chmodSync(pluginState, 0o700)
  })

  after(() => {
    removeTempDirs([staged, pluginState])
  })

  test('`openclaw plugins install` then a pluginIntegration provider resolves through our resolver', async () => {
    const installed = await runOpenClawAsync(['plugins', 'install', '--force', '--accept-capabilities', staged], {
      state: pluginState,
    })
    assert.equal(installed.code, 0, installed.stdout + installed.stderr)
    const configPath = join(pluginState, 'openclaw.json')
    const config = JSON.parse(readFileSync(configPath, 'utf8'))
    assert.equal(config.plugins.entries['openclaw-vault'].enabled, true)
    config.secrets = {
      providers: {
        'openclaw-vault': {
          source: 'exec',
          pluginIntegration: { pluginId: 'openclaw-vault', integrationId: 'openclaw-vault' },
        },
      },
    }
    const pluginRef = (id) => ({ source: 'exec', provider: 'openclaw-vault', id })
    config.models = {
      providers: {
        openai: { baseUrl: 'https://api.openai.com/v1', apiKey: pluginRef(`${p}/providers/openai/apiKey`), models: [] },
      },
    }
    writeFileSync(configPath, JSON.stringify(config, null, 2), { mode: 0o600 })
    const audit = async (extra) => {
      const r = await runOpenClawAsync(['secrets', 'audit', '--check', '--allow-exec', '--json'], {
        state: pluginState,
        vault,
        env: extra,
        timeout: 120000,
      })
      return { code: r.code, report: JSON.parse(r.stdout) }
    }
    const ok = await audit({})
    assert.equal(ok.code, 0, JSON.stringify(ok.report.findings))
    assert.equal(ok.report.status, 'clean')
    // The token reaches the resolver through the manifest's passEnv: a bad one fails the provider.
    const bad = await audit({ VAULT_TOKEN: 'hvs.FAKE-invalid-token' })
    assert.notEqual(bad.code, 0)
    assert.match(JSON.stringify(bad.report.findings), /exited with code 1/)
  })
})
