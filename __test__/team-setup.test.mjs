// `openclaw-vault setup` through the Node shim against a real Vault, and the identities it makes
// judged by Vault itself through the addon: each gateway and agent logs in with its own AppRole
// role from a single-use wrapped secret id (JS option and environment variables), agent A cannot
// read agent B's layer (PERMISSION_DENIED, no local fallback under fallback "none"), a gateway
// cannot create, and a wrapping token works once.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'

import { CredentialStore, VaultClient } from '../index.js'
import { removeTree, root, startVault, uniquePrefix } from './support/vault-server.mjs'

const bin = join(root, 'bin', 'openclaw-vault.js')
const prefix = uniquePrefix('team')
const approleMount = `ar-${prefix}`
let vault
let admin
let home
let boot

function cli(args) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    env: {
      HOME: home,
      PATH: process.env.PATH,
      XDG_RUNTIME_DIR: join(home, 'no-runtime'),
      VAULT_ADDR: vault.addr,
      VAULT_TOKEN: vault.token,
      OPENCLAW_VAULT_PREFIX: prefix,
    },
    encoding: 'utf8',
    timeout: 60000,
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

const roleOf = (name) => boot.find((b) => b.role.endsWith(`-${name}`))

before(async () => {
  vault = await startVault()
  admin = new VaultClient({ addr: vault.addr, token: vault.token, renew: false })
  home = mkdtempSync(join(tmpdir(), 'ocv-team-home-'))
  const args = ['setup', '--team', 'ops', '--gateway', 'gw1', '--agent', 'alice', '--agent', 'bob']
  const dry = cli([...args, '--approle', '--approle-mount', approleMount, '--dry-run', '--json'])
  assert.equal(dry.code, 0, dry.err)
  const plan = JSON.parse(dry.out)
  assert.ok(plan.changes > 0 && plan.dryRun, dry.out)
  const applied = cli([...args, '--approle-mount', approleMount, '--wrap-ttl', '2m', '--json'])
  assert.equal(applied.code, 0, applied.err)
  // One JSON object: the plan as done, the bootstrap material inside it.
  const done = JSON.parse(applied.out)
  assert.equal(done.dryRun, false)
  assert.ok(done.steps.length > 0)
  boot = done.bootstrap
  assert.equal(boot.length, 3, applied.out)
  for (const [path, token] of [
    ['credentials/shared', 'shared-v'],
    ['agents/alice/credentials/openai', 'alice-v'],
    ['agents/bob/credentials/openai', 'bob-v'],
  ]) {
    await admin.write(`${prefix}/${path}`, { kind: 'api_key', key: token })
  }
})
after(async () => {
  if (vault) await removeTree(vault, prefix)
  await vault?.stop()
  if (home) rmSync(home, { recursive: true, force: true })
})

test('a rerun changes nothing', () => {
  const again = cli([
    'setup',
    '--team',
    'ops',
    '--gateway',
    'gw1',
    '--agent',
    'alice',
    '--agent',
    'bob',
    '--approle',
    '--approle-mount',
    approleMount,
    '--dry-run',
    '--json',
  ])
  assert.equal(again.code, 0, again.err)
  assert.equal(JSON.parse(again.out).changes, 0, again.out)
})

test('agent A cannot read agent B (PERMISSION_DENIED, no local fallback); a wrapped secret id works once', async () => {
  // Environment variables: the store logs in with alice's wrapped secret id; the default layer is
  // not hers, and under fallback "none" nothing local answers instead.
  const alice = roleOf('agent-alice')
  const store = new CredentialStore({
    env: {
      HOME: home,
      VAULT_ADDR: vault.addr,
      OPENCLAW_VAULT_PREFIX: prefix,
      OPENCLAW_VAULT_FALLBACK: 'none',
      OPENCLAW_VAULT_AUTH_METHOD: 'approle',
      OPENCLAW_VAULT_AUTH_MOUNT: approleMount,
      OPENCLAW_VAULT_AUTH_ROLE: alice.role,
      OPENCLAW_VAULT_APPROLE_ROLE_ID: alice.roleId,
      OPENCLAW_VAULT_APPROLE_WRAPPED_SECRET_ID: alice.wrappedSecretId,
      SHARED: 'local-must-not-answer',
    },
  })
  const refused = await store.getCredential('shared').catch((e) => e)
  assert.equal(refused.code, 'PERMISSION_DENIED', String(refused))
  assert.ok(!String(refused.message).includes('shared-v'))

  // The same wrapping token again (a second process, or an interceptor): refused, not quoted.
  const auth = (b) => ({
    method: 'approle',
    mount: approleMount,
    roleId: b.roleId,
    wrappedSecretId: b.wrappedSecretId,
    role: b.role,
  })
  const second = new VaultClient({ addr: vault.addr, renew: false, auth: auth(alice) })
  const used = await second.lookupSelf().catch((e) => e)
  assert.equal(used.code, 'WRAPPING_TOKEN_INVALID')
  assert.ok(!used.message.includes(alice.wrappedSecretId), used.message)

  // A fresh bootstrap (setup again with --wrap-ttl), through the JS option: her layer, not bob's.
  const fresh = cli([
    'setup',
    '--team',
    'ops',
    '--gateway',
    'gw1',
    '--agent',
    'alice',
    '--agent',
    'bob',
    '--approle-mount',
    approleMount,
    '--wrap-ttl',
    '1m',
    '--json',
  ])
  assert.equal(fresh.code, 0, fresh.err)
  const again = JSON.parse(fresh.out).bootstrap.find((b) => b.role === alice.role)
  const client = new VaultClient({ addr: vault.addr, renew: false, auth: auth(again) })
  assert.equal((await client.read(`${prefix}/agents/alice/credentials/openai`)).data.key, 'alice-v')
  const denied = await client.read(`${prefix}/agents/bob/credentials/openai`).catch((e) => e)
  assert.equal(denied.code, 'PERMISSION_DENIED')
  assert.ok(!String(denied.message).includes('bob-v'))
})

test('the gateway reads its agents and the default layer, cannot create, and has its own entity', async () => {
  const gw = roleOf('gateway-gw1')
  const client = new VaultClient({
    addr: vault.addr,
    renew: false,
    auth: {
      method: 'approle',
      mount: approleMount,
      roleId: gw.roleId,
      wrappedSecretId: gw.wrappedSecretId,
      role: gw.role,
    },
  })
  assert.equal((await client.read(`${prefix}/agents/bob/credentials/openai`)).data.key, 'bob-v')
  assert.equal((await client.read(`${prefix}/credentials/shared`)).data.key, 'shared-v')
  const denied = await client.write(`${prefix}/credentials/new-one`, { kind: 'token', token: 'x' }).catch((e) => e)
  assert.equal(denied.code, 'PERMISSION_DENIED')
  const me = await client.lookupSelf()
  assert.ok(me.policies.includes(gw.role), JSON.stringify(me.policies))
  assert.ok(me.entity_id, 'an entity names the gateway in the audit log')
})
