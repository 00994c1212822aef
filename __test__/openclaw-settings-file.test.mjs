// Where this package's own settings live, judged by the real OpenClaw 2026.9 (Node 24):
// `openclaw-vault.json` next to `openclaw.json` (docs/configuration-file.md). OpenClaw's strict
// schema must accept the sample HOME (and so the demo's copy of it) and keep our file across its
// own rewrites, while this package reads the same settings from it. The deprecated `credentials`
// key of `openclaw.json` (which OpenClaw rejects) is still read, with one warning per process
// naming the new file and never a value.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { removeTree, root, startVault, uniquePrefix } from './support/vault-server.mjs'
import { openclawScript, removeTempDirs, runOpenClaw } from './support/openclaw-state.mjs'
import { skippedOnThisPass } from './support/node-pass.mjs'

const { CredentialStore, loadConfig } = await import('../index.js')

const CANARY = 'hvs.FAKE-legacy-settings-token-9f3'
let vault
const homes = []
const prefixes = []

before(async () => {
  vault = await startVault()
})
after(async () => {
  for (const p of prefixes) if (vault) await removeTree(vault, p)
  await vault?.stop()
  removeTempDirs(homes)
})

/** A private copy of the sample HOME (what `npm run demo` uses), with the modes real tools use. */
function sampleHome() {
  const home = mkdtempSync(join(tmpdir(), 'ocv-settings-home-'))
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
  return home
}

/** Runs the real `openclaw` CLI (Node 24) on `home`'s state dir. */
function openclaw(home, args) {
  const r = runOpenClaw(args, { home, timeout: 120_000 })
  return { code: r.code, out: `${r.stdout}${r.stderr}`, stdout: r.stdout }
}

/** Writes the deprecated `credentials` key into `home`'s openclaw.json and removes openclaw-vault.json. */
function withOldKey(home, credentials) {
  const configPath = join(home, '.openclaw', 'openclaw.json')
  rmSync(join(home, '.openclaw', 'openclaw-vault.json'))
  const text = readFileSync(configPath, 'utf8').replace(/\{\n/, `{\n  credentials: ${credentials},\n`)
  writeFileSync(configPath, text, { mode: 0o600 })
  return configPath
}

describe('openclaw-vault.json next to openclaw.json', () => {
  test('the sample HOME passes OpenClaw validation, and this package reads its settings from openclaw-vault.json', () => {
    const home = sampleHome()
    const validate = openclaw(home, ['config', 'validate'])
    assert.equal(validate.code, 0, validate.out)
    assert.match(validate.out, /Config valid/)
    const port = openclaw(home, ['config', 'get', 'gateway.port'])
    assert.equal(port.code, 0, port.out)
    assert.match(port.out, /^18789$/m)
    // The audit reads the config and reports on it (the sample's plaintext and its one exec ref:
    // exit 2 for that unresolved ref), instead of failing on the config itself.
    const audit = openclaw(home, ['secrets', 'audit', '--json'])
    assert.doesNotMatch(audit.out, /Unrecognized key|config is invalid/i)
    const report = JSON.parse(audit.stdout)
    assert.ok(report.filesScanned.includes(join(home, '.openclaw', 'openclaw.json')), audit.stdout)
    assert.ok(report.findings.some((f) => f.code === 'PLAINTEXT_FOUND' && f.jsonPath === 'gateway.auth.token'))

    const config = loadConfig({ env: { HOME: home }, cwd: home })
    assert.equal(config.file, join(home, '.openclaw', 'openclaw.json'))
    assert.equal(config.settingsFile, join(home, '.openclaw', 'openclaw-vault.json'))
    assert.equal(config.cacheTtlMs, 300000)
    assert.equal(config.fallback, 'local')
    assert.deepEqual(config.order, ['keychain', 'files', 'env'], 'vault dropped: the provider is local')
    assert.ok(!config.warnings.some((w) => /deprecated/.test(w)), config.warnings.join('\n'))
  })

  test("OpenClaw's own config rewrite leaves openclaw-vault.json alone, and it is still read", () => {
    const home = sampleHome()
    const settings = join(home, '.openclaw', 'openclaw-vault.json')
    writeFileSync(settings, '{ provider: "local", cacheTtlMs: 4321, fallback: "none" }', { mode: 0o600 })
    const before = readFileSync(settings)
    const set = openclaw(home, ['config', 'set', 'gateway.port', '19001'])
    assert.equal(set.code, 0, set.out)
    assert.deepEqual(readFileSync(settings), before)
    assert.doesNotMatch(readFileSync(join(home, '.openclaw', 'openclaw.json'), 'utf8'), /openclaw-vault|4321/)
    const config = loadConfig({ env: { HOME: home }, cwd: home })
    assert.equal(config.cacheTtlMs, 4321)
    assert.equal(config.fallback, 'none')
    assert.equal(openclaw(home, ['config', 'get', 'gateway.port']).out.trim().split('\n').pop(), '19001')
  })

  test('a bad value in openclaw-vault.json is INVALID_CONFIG naming the file and the JSON path, and OpenClaw is unaffected', () => {
    const home = sampleHome()
    const settings = join(home, '.openclaw', 'openclaw-vault.json')
    writeFileSync(
      settings,
      `{ provider: "vault", vault: { addr: "http://127.0.0.1:9", token: "${CANARY}", kvVersion: 3 } }`,
      {
        mode: 0o600,
      },
    )
    let err = null
    try {
      new CredentialStore({ env: { HOME: home }, cwd: home })
    } catch (e) {
      err = e
    }
    assert.equal(err?.code, 'INVALID_CONFIG', String(err))
    assert.ok(err.message.startsWith(`${settings}: \`vault.kvVersion\` must be 1, 2 or "auto"`), err.message)
    assert.ok(!err.message.includes(CANARY) && !String(err.stack).includes(CANARY))
    const validate = openclaw(home, ['config', 'validate'])
    assert.equal(validate.code, 0, validate.out)
  })

  test('the old `credentials` key: OpenClaw rejects it; this package still reads it, warning once per process with the new place, never a value', () => {
    const home = sampleHome()
    const configPath = withOldKey(
      home,
      `{ provider: "vault", cacheTtlMs: 1234, vault: { addr: "http://127.0.0.1:9", token: "${CANARY}" } }`,
    )

    // The breakage this file fixes: every openclaw command that reads the config fails.
    const validate = openclaw(home, ['config', 'validate'])
    assert.notEqual(validate.code, 0, validate.out)
    assert.match(validate.out, /Unrecognized key: "credentials"/)

    const config = loadConfig({ env: { HOME: home }, cwd: home })
    assert.equal(config.provider, 'vault')
    assert.equal(config.cacheTtlMs, 1234)
    assert.equal(config.settingsFile, null)
    const deprecated = config.warnings.filter((w) => /credentials: is deprecated/.test(w))
    assert.equal(deprecated.length, 1, config.warnings.join('\n'))
    assert.ok(deprecated[0].includes(join(home, '.openclaw', 'openclaw-vault.json')), deprecated[0])
    assert.ok(!JSON.stringify(config).includes(CANARY))

    // Two stores and a lookup in one process: the warning is logged once, on one line.
    const script = `
      const m = require(${JSON.stringify(join(root, 'index.js'))})
      ;(async () => {
        new m.CredentialStore({ env: { HOME: process.env.HOME } })
        const s = new m.CredentialStore({ env: { HOME: process.env.HOME } })
        await s.getCredential('nothing-here', { order: ['env'] }).catch(() => {})
        console.log('done')
      })()`
    const r = spawnSync(process.execPath, ['-e', script], {
      env: { HOME: home, PATH: process.env.PATH },
      encoding: 'utf8',
      timeout: 60_000,
    })
    assert.equal(r.stdout.trim(), 'done', r.stderr)
    const lines = r.stderr.split('\n').filter((l) => /deprecated/.test(l))
    assert.equal(lines.length, 1, r.stderr)
    assert.match(lines[0], /openclaw\.json: credentials: is deprecated.*openclaw-vault\.json/)
    assert.ok(!r.stderr.includes(CANARY) && !r.stdout.includes(CANARY))

    // Moving the key's contents into openclaw-vault.json fixes OpenClaw and keeps the settings.
    writeFileSync(configPath, readFileSync(join(root, 'examples/sample-home/.openclaw/openclaw.json')), { mode: 0o600 })
    writeFileSync(
      join(home, '.openclaw', 'openclaw-vault.json'),
      `{ provider: "vault", cacheTtlMs: 1234, vault: { addr: "http://127.0.0.1:9" } }`,
      { mode: 0o600 },
    )
    assert.equal(openclaw(home, ['config', 'validate']).code, 0)
    const moved = loadConfig({ env: { HOME: home }, cwd: home })
    assert.equal(moved.cacheTtlMs, 1234)
    assert.equal(moved.vault.addr, 'http://127.0.0.1:9/')
    assert.ok(!moved.warnings.some((w) => /deprecated/.test(w)), moved.warnings.join('\n'))
  })
  test("migrate --rewrite-config (OpenClaw's apply) moves the old key first, so OpenClaw can apply: the settings are kept, the secret is a ref", (t) => {
    if (skippedOnThisPass(t)) return
    const { nativeExecutable } = createRequire(import.meta.url)('../bin/native.js')
    const native = nativeExecutable()
    assert.ok(native, 'the native executable is missing: run `node scripts/build-native.mjs`')
    // A state made by OpenClaw itself, then the old key added as an older version of us left it.
    const home = mkdtempSync(join(tmpdir(), 'ocv-settings-apply-'))
    homes.push(home)
    chmodSync(home, 0o700)
    const token = 'gwtok-FAKE-legacy-key-apply-0001'
    assert.equal(openclaw(home, ['config', 'set', 'gateway.auth.mode', 'token']).code, 0)
    assert.equal(openclaw(home, ['config', 'set', 'gateway.auth.token', token]).code, 0)
    const configPath = join(home, '.openclaw', 'openclaw.json')
    const text = readFileSync(configPath, 'utf8').replace(
      /\{\n/,
      '{\n  credentials: { cacheTtlMs: 4242 /* kept */ },\n',
    )
    writeFileSync(configPath, text, { mode: 0o600 })
    assert.notEqual(openclaw(home, ['config', 'validate']).code, 0)
    const bin = openclawScript(home, { name: 'openclaw-cli' })
    const prefix = uniquePrefix('settings-apply')
    prefixes.push(prefix)
    const r = spawnSync(native, ['migrate', '--yes', '--json', '--rewrite-config', '--openclaw', bin], {
      env: {
        HOME: home,
        PATH: process.env.PATH,
        VAULT_ADDR: vault.addr,
        VAULT_TOKEN: vault.token,
        OPENCLAW_VAULT_PREFIX: prefix,
      },
      encoding: 'utf8',
      cwd: home,
      timeout: 300_000,
    })
    assert.ok(!`${r.stdout}${r.stderr}`.includes(token), 'the token was printed')
    assert.equal(r.status, 0, r.stdout + r.stderr)
    const report = JSON.parse(r.stdout)
    const settings = join(home, '.openclaw', 'openclaw-vault.json')
    assert.equal(report.rewriteConfig.settingsMovedTo, settings)
    assert.match(readFileSync(settings, 'utf8'), /cacheTtlMs: 4242 \/\* kept \*\//)
    assert.equal(statSync(settings).mode & 0o777, 0o600)
    const after = readFileSync(configPath, 'utf8')
    assert.ok(!after.includes(token))
    assert.equal(JSON.parse(after).credentials, undefined)
    assert.equal(JSON.parse(after).gateway.auth.token.provider, 'openclaw-vault')
    const validate = openclaw(home, ['config', 'validate'])
    assert.equal(validate.code, 0, validate.out)
    assert.equal(loadConfig({ env: { HOME: home }, cwd: home }).cacheTtlMs, 4242)
  })

  test("Vault named only in openclaw-vault.json (no VAULT_* variable): migrate --rewrite-config works, and the resolver OpenClaw runs (no PATH) finds the same file: OpenClaw's audit --check --allow-exec passes", (t) => {
    if (skippedOnThisPass(t)) return
    const { nativeExecutable } = createRequire(import.meta.url)('../bin/native.js')
    const native = nativeExecutable()
    assert.ok(native, 'the native executable is missing: run `node scripts/build-native.mjs`')
    const home = mkdtempSync(join(tmpdir(), 'ocv-settings-only-'))
    homes.push(home)
    chmodSync(home, 0o700)
    const token = 'gwtok-FAKE-settings-only-0001'
    assert.equal(openclaw(home, ['config', 'set', 'gateway.auth.mode', 'token']).code, 0)
    assert.equal(openclaw(home, ['config', 'set', 'gateway.auth.token', token]).code, 0)
    const prefix = uniquePrefix('settings-only')
    prefixes.push(prefix)
    const tokenFile = join(home, 'vault-token')
    writeFileSync(tokenFile, vault.token, { mode: 0o600 })
    writeFileSync(
      join(home, '.openclaw', 'openclaw-vault.json'),
      JSON.stringify({ provider: 'vault', vault: { addr: vault.addr, tokenFile, prefix } }),
      { mode: 0o600 },
    )
    const bin = openclawScript(home, { name: 'openclaw-cli' })
    const r = spawnSync(native, ['migrate', '--yes', '--json', '--rewrite-config', '--openclaw', bin], {
      env: { HOME: home, PATH: process.env.PATH },
      encoding: 'utf8',
      cwd: home,
      timeout: 300_000,
    })
    assert.ok(!`${r.stdout}${r.stderr}`.includes(token), 'the token was printed')
    assert.ok(!`${r.stdout}${r.stderr}`.includes(vault.token), 'the Vault token was printed')
    assert.equal(r.status, 0, r.stdout + r.stderr)
    const after = JSON.parse(readFileSync(join(home, '.openclaw', 'openclaw.json'), 'utf8'))
    assert.equal(after.gateway.auth.token.provider, 'openclaw-vault')
    // OpenClaw's judge runs the resolver with only its passEnv (HOME here), no VAULT_* variable.
    const audit = openclaw(home, ['secrets', 'audit', '--check', '--allow-exec', '--json'])
    assert.equal(audit.code, 0, audit.out)
    assert.ok(!audit.out.includes(token))
    // And the resolver itself, as OpenClaw runs it: the value comes from Vault.
    const id = after.gateway.auth.token.id
    const resolved = spawnSync(native, ['resolve'], {
      env: { HOME: home },
      input: JSON.stringify({ protocolVersion: 1, provider: 'openclaw-vault', ids: [id] }),
      encoding: 'utf8',
      cwd: home,
      timeout: 30_000,
    })
    assert.equal(resolved.status, 0, resolved.stdout + resolved.stderr)
    assert.equal(JSON.parse(resolved.stdout).values[id], token)
  })

  test('migrate --rewrite-config-json5 moves the old key to openclaw-vault.json: OpenClaw accepts the result, the settings are the same', (t) => {
    if (skippedOnThisPass(t)) return
    const home = sampleHome()
    const configPath = withOldKey(home, `{ provider: "local", fallback: "none", cacheTtlMs: 4242 /* kept */ }`)
    const settings = join(home, '.openclaw', 'openclaw-vault.json')
    assert.equal(openclaw(home, ['config', 'validate']).code, 1)
    const prefix = uniquePrefix('settings')
    prefixes.push(prefix)
    const r = spawnSync(
      process.execPath,
      [join(root, 'bin', 'openclaw-vault.js'), 'migrate', '--yes', '--json', '--rewrite-config-json5'],
      {
        env: {
          HOME: home,
          PATH: process.env.PATH,
          VAULT_ADDR: vault.addr,
          VAULT_TOKEN: vault.token,
          OPENCLAW_VAULT_PREFIX: prefix,
        },
        encoding: 'utf8',
        cwd: home,
        timeout: 120_000,
      },
    )
    assert.equal(r.status, 0, r.stdout + r.stderr)
    const report = JSON.parse(r.stdout)
    assert.equal(report.rewriteConfig.settingsMovedTo, settings)
    assert.ok(!readFileSync(configPath, 'utf8').includes('credentials:'))
    assert.match(readFileSync(settings, 'utf8'), /cacheTtlMs: 4242 \/\* kept \*\//)
    assert.equal(statSync(settings).mode & 0o777, 0o600)

    const validate = openclaw(home, ['config', 'validate'])
    assert.equal(validate.code, 0, validate.out)
    const config = loadConfig({ env: { HOME: home }, cwd: home })
    assert.equal(config.settingsFile, settings)
    assert.equal(config.cacheTtlMs, 4242)
    assert.equal(config.fallback, 'none')
    assert.ok(!config.warnings.some((w) => /deprecated/.test(w)), config.warnings.join('\n'))
  })
})
