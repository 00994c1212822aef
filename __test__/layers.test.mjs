// Layered credentials (docs/layers.md): `<prefix>/agents/<id>/credentials/<name>` over
// `<prefix>/teams/<team>/credentials/<name>` over `<prefix>/credentials/<name>`, through the addon,
// the CLI and the native `openclaw-vault resolve`, against a real dev server and real policies.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
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
    config: { order: ['vault', 'env'], vault: { kvVersion: 2 }, ...config },
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
      // The constructor reads the settings file: it throws, naming the file and the key.
      let err
      try {
        await new CredentialStore({
          env: { HOME: h, VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token },
        }).getCredential('anthropic')
      } catch (e) {
        err = e
      }
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

  test("an agent's own identity (setup's agent policy): a name in no layer is not found, list works; the default layer is not read", async () => {
    // The policy `openclaw-vault setup` makes for agent ops of team core, as Vault holds it:
    // its own layer and its team's, not the default layer.
    const out = spawnSync(
      process.execPath,
      [bin, 'setup', '--prefix', p, '--team', 'core', '--agent', 'ops', '--json'],
      {
        env: { HOME: home, VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token, OPENCLAW_VAULT_PREFIX: p },
        encoding: 'utf8',
      },
    )
    assert.equal(out.status, 0, out.stdout + out.stderr)
    const policy = JSON.parse(out.stdout).steps.find((s) => s.kind === 'policy' && s.role === 'agent').name
    const created = await vaultFetch(vault, 'POST', 'auth/token/create', {
      body: { policies: [policy], no_default_policy: true, ttl: '1h' },
    })
    const token = created.json.auth.client_token
    const none = storeWith(token, { fallback: 'none' })
    assert.equal((await none.getCredential('anthropic', { agent: 'ops', team: 'core' })).expose(), values.ops)
    // `telegram` is only in the default layer, which this identity may not read: not found,
    // never PERMISSION_DENIED (and never its value).
    const err = await none.getCredential('telegram', { agent: 'ops', team: 'core' }).catch((e) => e)
    assert.equal(err.code, 'CREDENTIAL_NOT_FOUND', err.message)
    assertNoValue(`${err.message} ${JSON.stringify(err)}`)
    const listed = await none.listCredentials({ order: ['vault'], agent: 'ops', team: 'core' })
    assert.deepEqual(
      listed.find((c) => c.name === 'anthropic').sources.map((s) => s.layer),
      ['agent:ops', 'team:core'],
    )
    assert.equal(
      listed.find((c) => c.name === 'telegram'),
      undefined,
    )
    // Without an agent or team it is the single-layer lookup: the refusal stays a refusal.
    const plain = await none.getCredential('telegram').catch((e) => e)
    assert.equal(plain.code, 'PERMISSION_DENIED', plain.message)
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
      env: {
        HOME: home,
        PATH: process.env.PATH,
        VAULT_ADDR: vault.addr,
        VAULT_TOKEN: vault.token,
        OPENCLAW_VAULT_PREFIX: p,
      },
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

  test("ids stay the default layer's; the provider args choose the layers read", async () => {
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

  test("a bad field in the agent's or team's layer is named at that layer's path", async () => {
    // The layer answers, so its secret is the one judged: the default layer's path (which does
    // not even exist for these names) was named instead (attack 9, finding 5).
    await admin.write(`${p}/agents/ops/credentials/f1`, { kind: 'token', token: 'FAKE-layers-f1-0006' })
    await admin.write(`${p}/agents/ops/credentials/f2`, { kind: 'api_key', apiKey: '' })
    // The client refuses to store a placeholder; Vault's HTTP API takes it (as a hand-made write would).
    const raw = await vaultFetch(vault, 'POST', `secret/data/${p}/agents/ops/credentials/f4`, {
      body: { data: { kind: 'api_key', apiKey: '[REDACTED]' } },
    })
    assert.equal(raw.status, 200, raw.text)
    await admin.write(`${p}/teams/core/credentials/f5`, { kind: 'api_key', apiKey: '' })
    const ids = ['f1', 'f2', 'f4', 'f5'].map((n) => `${p}/credentials/${n}/apiKey`)
    const out = await run(['--agent', 'ops', '--team', 'core'], ids)
    assert.equal(out.code, 0, out.stdout + out.stderr)
    const errors = out.json.errors
    assert.match(errors[ids[0]].message, new RegExp(`"${p}/agents/ops/credentials/f1" has no field "apiKey"`))
    assert.match(errors[ids[1]].message, new RegExp(`"${p}/agents/ops/credentials/f2" field "apiKey" is empty`))
    assert.match(
      errors[ids[2]].message,
      new RegExp(`"${p}/agents/ops/credentials/f4" field "apiKey" holds the redaction placeholder`),
    )
    assert.match(errors[ids[3]].message, new RegExp(`"${p}/teams/core/credentials/f5" field "apiKey" is empty`))
    for (const id of ids) assert.ok(!errors[id].message.includes(`"${p}/credentials/`), errors[id].message)
    assertNoValue(out.stdout + out.stderr)
    assert.ok(!(out.stdout + out.stderr).includes('FAKE-layers-f1-0006'))
  })

  test('a bad --team fails the provider, naming the flag', async () => {
    const out = await run(['--team', 'core/../x'], [`${p}/credentials/anthropic/apiKey`])
    assert.notEqual(out.code, 0)
    assert.match(out.stdout, /--team is not a valid Vault path segment/)
    assertNoValue(out.stdout + out.stderr)
  })
})

describe('`openclaw-vault migrate --layer`', () => {
  const sample = () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocv-layers-migrate-'))
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
  const migrate = (h, args) => {
    const r = spawnSync(process.execPath, [bin, 'migrate', ...args], {
      env: {
        HOME: h,
        PATH: process.env.PATH,
        VAULT_ADDR: vault.addr,
        VAULT_TOKEN: vault.token,
        OPENCLAW_VAULT_PREFIX: p,
      },
      encoding: 'utf8',
      cwd: h,
    })
    return { code: r.status, out: r.stdout, err: r.stderr }
  }

  test('the dry-run plan maps every name into the layer; the default plan is unchanged', () => {
    const h = sample()
    try {
      const base = migrate(h, ['--dry-run', '--json'])
      const plain = JSON.parse(base.out)
      assert.ok(plain.plan.items.length > 0, base.out + base.err)
      assert.equal('layer' in plain.plan, false)
      for (const [layer, folder] of [
        ['team:core', `secret/${p}/teams/core/credentials/`],
        ['agent:ops', `secret/${p}/agents/ops/credentials/`],
      ]) {
        const r = migrate(h, ['--dry-run', '--json', '--layer', layer])
        assert.equal(r.code, base.code, r.err)
        const layered = JSON.parse(r.out)
        assert.equal(layered.plan.layer, layer)
        assert.deepEqual(
          layered.plan.items.map((i) => [i.name, i.vaultPath]),
          plain.plan.items.map((i) => [i.name, i.vaultPath.replace(`secret/${p}/credentials/`, folder)]),
        )
      }
      const text = migrate(h, ['--dry-run', '--layer', 'team:core'])
      assert.match(text.out, /^Vault layer: team:core$/m)
      assert.match(text.out, new RegExp(`${p}/teams/core/credentials/`))
    } finally {
      rmSync(h, { recursive: true, force: true })
    }
  })

  test('a bad --layer is INVALID_ARGUMENT naming the flag', () => {
    const h = sample()
    try {
      for (const bad of ['team:Core', 'group:x', 'agent:a/b']) {
        const r = migrate(h, ['--dry-run', '--json', '--layer', bad])
        assert.notEqual(r.code, 0)
        assert.match(r.out + r.err, /INVALID_ARGUMENT/)
        assert.match(r.out + r.err, /--layer/)
      }
    } finally {
      rmSync(h, { recursive: true, force: true })
    }
  })
})

describe("who read what: entity ids in our audit lines, `openclaw-vault audit` over Vault's file audit log", () => {
  test('two AppRole identities read; the summary names each entity, credential, layer and time, never a value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocv-layers-audit-'))
    const device = `ocv-file-${p.split('/').pop()}`
    const approle = `approle-${p.split('/').pop()}`
    try {
      const vaultLog = join(dir, 'vault-audit.log')
      const enabled = await vaultFetch(vault, 'PUT', `sys/audit/${device}`, {
        body: { type: 'file', options: { file_path: vaultLog } },
      })
      assert.ok(enabled.status < 300, enabled.text)
      const mounted = await vaultFetch(vault, 'POST', `sys/auth/${approle}`, { body: { type: 'approle' } })
      assert.ok(mounted.status < 300, mounted.text)
      const policy = `reader-${p.split('/').pop()}`
      const put = await vaultFetch(vault, 'PUT', `sys/policies/acl/${policy}`, {
        body: { policy: `path "secret/data/${p}/*" { capabilities = ["read"] }` },
      })
      assert.ok(put.status < 300, put.text)
      const login = async (role) => {
        const made = await vaultFetch(vault, 'POST', `auth/${approle}/role/${role}`, {
          body: { token_policies: [policy], token_ttl: '1h' },
        })
        assert.ok(made.status < 300, made.text)
        const roleId = (await vaultFetch(vault, 'GET', `auth/${approle}/role/${role}/role-id`)).json.data.role_id
        const secretId = (await vaultFetch(vault, 'POST', `auth/${approle}/role/${role}/secret-id`)).json.data.secret_id
        const auth = (
          await vaultFetch(vault, 'POST', `auth/${approle}/login`, { body: { role_id: roleId, secret_id: secretId } })
        ).json.auth
        return { token: auth.client_token, entity: auth.entity_id }
      }
      const gateway = await login('gateway')
      const ops = await login('agent-ops')
      assert.ok(gateway.entity && ops.entity && gateway.entity !== ops.entity)

      const ourLog = join(dir, 'credentials-audit.jsonl')
      const g = storeWith(gateway.token, { audit: { path: ourLog } })
      await g.getCredential('telegram')
      await g.getCredential('anthropic', { noCache: true })
      await g.getCredential('anthropic', { noCache: true })
      const o = storeWith(ops.token, { audit: { path: ourLog } })
      assert.equal((await o.getCredential('anthropic', { agent: 'ops', team: 'core' })).expose(), values.ops)

      // Our own lines name the entity of the token that read.
      const ours = readFileSync(ourLog, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
      const vaultLines = ours.filter((l) => l.source === 'vault' && l.event === 'get')
      assert.ok(vaultLines.length >= 4)
      assert.deepEqual([...new Set(vaultLines.map((l) => l.entity_id))].sort(), [gateway.entity, ops.entity].sort())
      assertNoValue(readFileSync(ourLog, 'utf8'))

      writeFileSync(vaultLog, 'this line is not json, sk-FAKE-audit-bad-line\n', { flag: 'a' })
      const r = spawnSync(process.execPath, [bin, 'audit', vaultLog, '--prefix', p, '--json'], {
        env: { HOME: home, PATH: process.env.PATH },
        encoding: 'utf8',
      })
      assertNoValue(r.stdout + r.stderr)
      assert.ok(!(r.stdout + r.stderr).includes('sk-FAKE-audit-bad-line'))
      assert.equal(r.status, 1, 'a bad line fails the run')
      const summary = JSON.parse(r.stdout)
      assert.equal(summary.badLineCount, 1)
      assert.equal(summary.badLines[0].line, summary.lines)
      const byEntity = Object.fromEntries(summary.readers.map((x) => [x.entityId, x]))
      const reads = (entity) => byEntity[entity].reads.map((x) => [x.credential, x.layer, x.count, x.denied]).sort()
      assert.deepEqual(reads(gateway.entity), [
        ['anthropic', 'default', 2, 0],
        ['telegram', 'default', 1, 0],
      ])
      assert.deepEqual(reads(ops.entity), [['anthropic', 'agent:ops', 1, 0]])
      assert.equal(byEntity[ops.entity].metadata.role_name, 'agent-ops')
      assert.match(byEntity[ops.entity].reads[0].first, /^\d{4}-\d\d-\d\dT/)

      // A log that is not there: exit 1 (not 2, a usage error), naming the path.
      const gone = join(dir, 'no-such-audit.log')
      const missing = spawnSync(process.execPath, [bin, 'audit', gone, '--prefix', p], {
        env: { HOME: home, PATH: process.env.PATH },
        encoding: 'utf8',
      })
      assert.equal(missing.status, 1, missing.stderr)
      assert.ok(missing.stderr.includes(gone), missing.stderr)
      assert.match(missing.stderr, /SOURCE_UNAVAILABLE/)
    } finally {
      await vaultFetch(vault, 'DELETE', `sys/audit/${device}`)
      await vaultFetch(vault, 'DELETE', `sys/auth/${approle}`)
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
