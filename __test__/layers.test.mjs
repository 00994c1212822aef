// Layered credentials (docs/layers.md): `<prefix>/agents/<id>/credentials/<name>` over
// `<prefix>/teams/<team>/credentials/<name>` over `<prefix>/credentials/<name>`, through the addon,
// the CLI and the native `openclaw-vault resolve`, against a real dev server and real policies.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { CredentialStore, VaultClient } from '../index.js'
import { removeTree, root, startVault, uniquePrefix, vaultFetch } from './support/vault-server.mjs'

const p = uniquePrefix('layers')
const values = {
  base: 'sk-ant-FAKE-layers-default-0001',
  team: 'sk-ant-FAKE-layers-team-core-0002',
  ops: 'sk-ant-FAKE-layers-agent-ops-0003',
  qa: 'sk-ant-FAKE-layers-agent-qa-0004',
  telegram: '123:FAKE-layers-telegram-0005',
}
const bin = join(root, 'bin', 'openclaw-vault.js')
let vault
let admin
let home

/** A token holding one policy made of `rules` (HCL). */
async function tokenWith(name, rules) {
  const put = await vaultFetch(vault, 'PUT', `sys/policies/acl/${name}`, { body: { policy: rules } })
  assert.ok(put.status < 300, put.text)
  const created = await vaultFetch(vault, 'POST', 'auth/token/create', {
    body: { policies: [name], no_default_policy: true, ttl: '1h' },
  })
  assert.equal(created.status, 200, created.text)
  return created.json.auth.client_token
}

const storeWith = (token, config = {}, h = home) =>
  new CredentialStore({
    env: { HOME: h, VAULT_ADDR: vault.addr, VAULT_TOKEN: token, OPENCLAW_VAULT_PREFIX: p },
    config: { order: ['vault', 'env'], ...config },
  })

function assertNoValue(text) {
  for (const v of [vault.token, ...Object.values(values)]) assert.ok(!text.includes(v), `leaked: ${text.slice(0, 300)}`)
}

before(async () => {
  vault = await startVault()
  admin = new VaultClient({ addr: vault.addr, token: vault.token, renew: false })
  home = mkdtempSync(join(tmpdir(), 'ocv-layers-home-'))
  await admin.write(`${p}/credentials/anthropic`, { kind: 'api_key', apiKey: values.base })
  await admin.write(`${p}/credentials/telegram`, { kind: 'token', token: values.telegram })
  await admin.write(`${p}/teams/core/credentials/anthropic`, { kind: 'api_key', apiKey: values.team })
  await admin.write(`${p}/agents/ops/credentials/anthropic`, { kind: 'api_key', apiKey: values.ops })
})
after(async () => {
  if (vault) await removeTree(vault, p)
  await vault?.stop()
  if (home) rmSync(home, { recursive: true, force: true })
})

describe('getCredential walks agent, team, default', () => {
  test('the first layer holding the name answers, and `source.layer` names it', async () => {
    const store = storeWith(vault.token)
    const ops = await store.getCredential('anthropic', { agent: 'ops', team: 'core' })
    assert.equal(ops.expose(), values.ops)
    assert.equal(ops.source.layer, 'agent:ops')
    assert.equal(ops.source.location, `secret/${p}/agents/ops/credentials/anthropic`)
    const dev = await store.getCredential('anthropic', { agent: 'dev', team: 'core' })
    assert.equal(dev.expose(), values.team)
    assert.equal(dev.source.layer, 'team:core')
    const solo = await store.getCredential('anthropic', { agent: 'dev' })
    assert.equal(solo.expose(), values.base)
    assert.equal(solo.source.layer, 'default')
    // Naming nobody is the single-layer lookup of earlier versions: no `layer`.
    const plain = await store.getCredential('anthropic')
    assert.equal(plain.expose(), values.base)
    assert.equal(plain.source.layer, undefined)
  })

  test("a layer's miss is cached and shared by every context (same TTL); noCache reads again", async () => {
    const store = storeWith(vault.token)
    const first = await store.getCredential('anthropic', { agent: 'qa', team: 'core' })
    assert.equal(first.source.layer, 'team:core')
    await admin.write(`${p}/agents/qa/credentials/anthropic`, { kind: 'api_key', apiKey: values.qa })
    // Another context asks the agent:qa layer again: its cached miss answers, not Vault.
    const other = await store.getCredential('anthropic', { agent: 'qa' })
    assert.equal(other.source.layer, 'default')
    const fresh = await store.getCredential('anthropic', { agent: 'qa', noCache: true })
    assert.equal(fresh.source.layer, 'agent:qa')
    assert.equal(fresh.expose(), values.qa)
  })

  test('the configured `team` (openclaw-vault.json) is the default context; a call overrides it', async () => {
    const h = mkdtempSync(join(tmpdir(), 'ocv-layers-cfg-'))
    try {
      mkdirSync(join(h, '.openclaw'), { mode: 0o700 })
      writeFileSync(join(h, '.openclaw', 'openclaw-vault.json'), JSON.stringify({ team: 'core' }), { mode: 0o600 })
      const store = new CredentialStore({
        env: { HOME: h, VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token, OPENCLAW_VAULT_PREFIX: p },
      })
      const c = await store.getCredential('anthropic')
      assert.equal(c.source.layer, 'team:core')
      assert.equal(c.expose(), values.team)
      assert.equal((await store.getCredential('anthropic', { agent: 'ops' })).source.layer, 'agent:ops')
      assert.equal((await store.getCredential('telegram')).source.layer, 'default')

      writeFileSync(join(h, '.openclaw', 'openclaw-vault.json'), JSON.stringify({ team: 'Core Team' }), {
        mode: 0o600,
      })
      const bad = new CredentialStore({ env: { HOME: h, VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token } })
      const err = await bad.getCredential('anthropic').catch((e) => e)
      assert.equal(err.code, 'INVALID_CONFIG')
      assert.match(err.message, /openclaw-vault\.json: `team` is not a valid Vault path segment and policy name/)
      assert.ok(!err.message.includes('Core Team'))
    } finally {
      rmSync(h, { recursive: true, force: true })
    }
  })

  test('a denied agent layer is PERMISSION_DENIED, never a fall to the team or default layer', async () => {
    // Team and default readable, the agent's own layer not (a policy that forgot the agent).
    const token = await tokenWith(
      `layers-dev-${p.split('/').pop()}`,
      `path "secret/data/${p}/credentials/*" { capabilities = ["read"] }
path "secret/data/${p}/teams/core/credentials/*" { capabilities = ["read"] }`,
    )
    const none = storeWith(token, { fallback: 'none' })
    const err = await none.getCredential('anthropic', { agent: 'dev', team: 'core' }).catch((e) => e)
    assert.equal(err.code, 'PERMISSION_DENIED', err.message)
    assertNoValue(`${err.message} ${JSON.stringify(err)}`)
    // With `fallback: "local"` the chain goes on to the local sources (none holds it here),
    // still never to the default layer of the same Vault.
    const local = storeWith(token)
    const err2 = await local.getCredential('anthropic', { agent: 'dev', team: 'core' }).catch((e) => e)
    assert.equal(err2.code, 'CREDENTIAL_NOT_FOUND', err2.message)
    assert.match(err2.message, /vault: PERMISSION_DENIED/)
    // The same token without an agent reads the team layer.
    assert.equal((await none.getCredential('anthropic', { team: 'core' })).expose(), values.team)
  })

  test('an agent id or team name Vault refuses as a path or policy name is INVALID_ARGUMENT naming the option', async () => {
    const store = storeWith(vault.token)
    for (const [options, what] of [
      [{ agent: 'ops/../x' }, 'option `agent`'],
      [{ team: 'Core' }, 'option `team`'],
      [{ agent: 'a*' }, 'option `agent`'],
      [{ team: 7 }, 'option `team`'],
    ]) {
      const err = await store.getCredential('anthropic', options).catch((e) => e)
      assert.equal(err.code, 'INVALID_ARGUMENT', JSON.stringify(options))
      assert.ok(err.message.startsWith(what), err.message)
      assert.ok(!err.message.includes('ops/../x'))
    }
    const err = await store.listCredentials({ agent: '..' }).catch((e) => e)
    assert.equal(err.code, 'INVALID_ARGUMENT')
  })

  test('listCredentials reports every layer holding a name, the answering one first', async () => {
    const store = storeWith(vault.token)
    const listed = await store.listCredentials({ order: ['vault'], agent: 'ops', team: 'core' })
    const anthropic = listed.find((c) => c.name === 'anthropic')
    assert.deepEqual(
      anthropic.sources.map((s) => [s.layer, s.location]),
      [
        ['agent:ops', `secret/${p}/agents/ops/credentials/anthropic`],
        ['team:core', `secret/${p}/teams/core/credentials/anthropic`],
        ['default', `secret/${p}/credentials/anthropic`],
      ],
    )
    assert.deepEqual(
      listed.find((c) => c.name === 'telegram').sources.map((s) => s.layer),
      ['default'],
    )
    const plain = await store.listCredentials({ order: ['vault'] })
    assert.equal(plain.find((c) => c.name === 'anthropic').sources[0].layer, undefined)
  })
})

describe('the CLI', () => {
  const cli = (args) => {
    const r = spawnSync(process.execPath, [bin, ...args], {
      env: { HOME: home, PATH: process.env.PATH, VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token, OPENCLAW_VAULT_PREFIX: p },
      encoding: 'utf8',
      cwd: home,
    })
    return { code: r.status, out: r.stdout, err: r.stderr }
  }

  test('get and list take --agent/--team and print the layer', () => {
    const got = cli(['get', 'anthropic', '--agent', 'ops', '--team', 'core', '--json'])
    assert.equal(got.code, 0, got.err)
    const view = JSON.parse(got.out)
    assert.equal(view.source.layer, 'agent:ops')
    assertNoValue(got.out + got.err)
    const text = cli(['get', 'anthropic', '--team', 'core'])
    assert.match(text.out, /^layer: {4}team:core$/m)
    const plain = JSON.parse(cli(['get', 'anthropic', '--json']).out)
    assert.equal('layer' in plain.source, false)

    const listed = JSON.parse(cli(['list', '--source', 'vault', '--team', 'core', '--json']).out)
    const anthropic = listed.credentials.find((c) => c.name === 'anthropic')
    assert.deepEqual(anthropic.answeredBy, {
      provider: 'vault',
      location: `secret/${p}/teams/core/credentials/anthropic`,
      layer: 'team:core',
    })
  })

  test('a bad --agent is INVALID_ARGUMENT naming the flag, never quoting it', () => {
    const r = cli(['get', 'anthropic', '--agent', 'Sk-Pasted/Value', '--json'])
    assert.notEqual(r.code, 0)
    const e = JSON.parse(r.out || r.err)
    assert.equal(e.error?.code ?? e.code, 'INVALID_ARGUMENT')
    assert.match(r.out + r.err, /--agent is not a valid Vault path segment/)
    assert.ok(!(r.out + r.err).includes('Sk-Pasted'))
  })
})

describe('`openclaw-vault resolve --agent --team` (the native executable, exec protocol)', () => {
  const exe = createRequire(import.meta.url)('../bin/native.js').nativeExecutable()
  const run = (args, ids) =>
    new Promise((resolve, reject) => {
      const child = spawn(exe, ['resolve', ...args], {
        cwd: dirname(exe),
        env: { VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token, VAULT_MAX_RETRIES: '0', OPENCLAW_VAULT_PREFIX: p },
        stdio: ['pipe', 'pipe', 'pipe'],
      })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d) => (stdout += d))
      child.stderr.on('data', (d) => (stderr += d))
      child.once('error', reject)
      child.once('close', (code) => resolve({ code, stdout, stderr, json: JSON.parse(stdout || 'null') }))
      child.stdin.end(JSON.stringify({ protocolVersion: 1, provider: 'vault', ids }))
    })

  test('ids stay the default layer\'s; the provider args choose the layers read', async () => {
    assert.ok(exe, 'the native executable is missing: run `node scripts/build-native.mjs`')
    const ids = [`${p}/credentials/anthropic/apiKey`, `${p}/credentials/telegram/token`]
    const cases = [
      [['--agent', 'ops', '--team', 'core'], values.ops],
      [['--team', 'core'], values.team],
      [['--agent', 'nobody'], values.base],
      [[], values.base],
    ]
    for (const [args, expected] of cases) {
      const out = await run(args, ids)
      assert.equal(out.code, 0, out.stdout + out.stderr)
      assert.deepEqual(out.json.values, { [ids[0]]: expected, [ids[1]]: values.telegram }, args.join(' '))
    }
  })

  test('a bad --team fails the provider, naming the flag', async () => {
    const out = await run(['--team', 'core/../x'], [`${p}/credentials/anthropic/apiKey`])
    assert.notEqual(out.code, 0)
    assert.match(out.stdout, /--team is not a valid Vault path segment/)
    assertNoValue(out.stdout + out.stderr)
  })
})
