// VaultClient's public API against a real Vault dev server: KV v2, KV v1, sys, token.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { inspect } from 'node:util'

import { VaultClient, VaultError } from '../index.js'
import { assertNoLeak, removeTree, startVault, uniquePrefix, vaultFetch } from './support/vault-server.mjs'

let vault
let client
let kv1Mount
const prefix = uniquePrefix('client')

before(async () => {
  vault = await startVault()
  client = new VaultClient({ addr: vault.addr, token: vault.token })
  kv1Mount = `ocv-kv1-${process.pid}-${Date.now()}`
  const r = await vaultFetch(vault, 'POST', `sys/mounts/${kv1Mount}`, {
    body: { type: 'kv', options: { version: '1' } },
  })
  assert.equal(r.status, 204, r.text)
})

after(async () => {
  if (vault) {
    await removeTree(vault, prefix)
    await vaultFetch(vault, 'DELETE', `sys/policies/acl/ocv-read-only-${process.pid}`).catch(() => {})
    await vaultFetch(vault, 'DELETE', `sys/mounts/${kv1Mount}`).catch(() => {})
    await vault.stop()
  }
})

describe('KV v2', () => {
  test('write then read returns the data and version metadata', async () => {
    const path = `${prefix}/anthropic`
    const written = await client.write(path, { apiKey: 'sk-ant-test-1', nested: { a: [1, 'two'] } })
    assert.equal(written.version, 1)
    assert.equal(written.destroyed, false)
    assert.equal(written.deletion_time, '')
    assert.match(written.created_time, /^\d{4}-\d\d-\d\dT/)

    const secret = await client.read(path)
    assert.deepEqual(secret.data, { apiKey: 'sk-ant-test-1', nested: { a: [1, 'two'] } })
    assert.equal(secret.metadata.version, 1)
    assert.equal(secret.metadata.custom_metadata, null)
  })

  test('a missing secret reads as null', async () => {
    assert.equal(await client.read(`${prefix}/does-not-exist`), null)
    assert.equal(await client.read(`${prefix}/anthropic`, { version: 99 }), null)
  })

  test('versions, cas and cas mismatch', async () => {
    const path = `${prefix}/versions`
    const v1 = await client.write(path, { k: 'one' }, { cas: 0 })
    assert.equal(v1.version, 1)
    const v2 = await client.write(path, { k: 'two' }, { cas: 1 })
    assert.equal(v2.version, 2)
    assert.deepEqual((await client.read(path, { version: 1 })).data, { k: 'one' })
    assert.deepEqual((await client.read(path)).data, { k: 'two' })

    const err = await client.write(path, { k: 'cas-secret-value' }, { cas: 1 }).catch((e) => e)
    assert.ok(err instanceof VaultError)
    assert.ok(err instanceof Error)
    assert.equal(err.name, 'VaultError')
    assert.equal(err.code, 'CAS_MISMATCH')
    assert.equal(err.status, 400)
    assert.equal(err.path, `/v1/secret/data/${path}`)
    assert.ok(
      err.errors.some((e) => e.includes('check-and-set')),
      err.errors,
    )
    await assertNoLeak(assert, err, ['cas-secret-value', vault.token])

    // cas 0 on an existing key is a mismatch: create-only.
    const again = await client.write(path, { k: 'x' }, { cas: 0 }).catch((e) => e)
    assert.equal(again.code, 'CAS_MISMATCH')
  })

  test('patch merges (null removes a field) and honours cas', async () => {
    const path = `${prefix}/patch`
    await client.write(path, { keep: 'a', change: 'b', drop: 'c' })
    const m = await client.patch(path, { change: 'B', drop: null, add: 'd' })
    assert.equal(m.version, 2)
    assert.deepEqual((await client.read(path)).data, { keep: 'a', change: 'B', add: 'd' })
    const err = await client.patch(path, { keep: 'z' }, { cas: 1 }).catch((e) => e)
    assert.equal(err.code, 'CAS_MISMATCH')
    const missing = await client.patch(`${prefix}/no-such-key`, { a: 'b' }).catch((e) => e)
    assert.equal(missing.code, 'NOT_FOUND')
    assert.equal(missing.status, 404)
  })

  test('list gives keys with folders, [] for nothing', async () => {
    const base = `${prefix}/list`
    await client.write(`${base}/b`, { x: '1' })
    await client.write(`${base}/a`, { x: '1' })
    await client.write(`${base}/dir/c`, { x: '1' })
    assert.deepEqual(await client.list(base), ['a', 'b', 'dir/'])
    assert.deepEqual(await client.list(`${base}/`), ['a', 'b', 'dir/'])
    assert.deepEqual(await client.list(`${prefix}/empty-folder`), [])
  })

  test('delete, deleteVersions, undelete, destroy', async () => {
    const path = `${prefix}/lifecycle`
    await client.write(path, { v: '1' })
    await client.write(path, { v: '2' })
    await client.delete(path)
    const deleted = await client.read(path)
    assert.equal(deleted.data, null)
    assert.equal(deleted.metadata.version, 2)
    assert.notEqual(deleted.metadata.deletion_time, '')

    await client.undelete(path, [2])
    assert.deepEqual((await client.read(path)).data, { v: '2' })

    await client.deleteVersions(path, [1])
    assert.equal((await client.read(path, { version: 1 })).data, null)

    await client.destroy(path, [1])
    const destroyed = await client.read(path, { version: 1 })
    assert.equal(destroyed.data, null)
    assert.equal(destroyed.metadata.destroyed, true)

    // Deleting something missing is not an error.
    await client.delete(`${prefix}/never-existed`)
    await client.deleteMetadata(`${prefix}/never-existed`)
  })

  test('metadata: write, read, patch, delete', async () => {
    const path = `${prefix}/meta`
    await client.write(path, { v: '1' })
    await client.writeMetadata(path, { maxVersions: 3, customMetadata: { owner: 'gateway', team: 'core' } })
    let meta = await client.readMetadata(path)
    assert.equal(meta.max_versions, 3)
    assert.equal(meta.current_version, 1)
    assert.deepEqual(meta.custom_metadata, { owner: 'gateway', team: 'core' })
    assert.ok(meta.versions['1'])

    await client.patchMetadata(path, { customMetadata: { team: null, rotated: 'yes' } })
    meta = await client.readMetadata(path)
    assert.deepEqual(meta.custom_metadata, { owner: 'gateway', rotated: 'yes' })
    assert.equal(meta.max_versions, 3)

    const err = await client.patchMetadata(`${prefix}/nope`, { maxVersions: 2 }).catch((e) => e)
    assert.equal(err.code, 'NOT_FOUND')

    await client.deleteMetadata(path)
    assert.equal(await client.readMetadata(path), null)
    assert.equal(await client.read(path), null)
  })

  test('subkeys shows structure without values', async () => {
    const path = `${prefix}/subkeys`
    await client.write(path, { a: 'x', b: { c: 'y', d: { e: 'z' } } })
    const s = await client.subkeys(path)
    assert.deepEqual(s.subkeys, { a: null, b: { c: null, d: { e: null } } })
    assert.ok(!JSON.stringify(s).includes('"x"'))
    const shallow = await client.subkeys(path, { depth: 1 })
    assert.deepEqual(shallow.subkeys, { a: null, b: null })
    assert.equal(await client.subkeys(`${prefix}/nope`), null)
  })

  test('kvVersion is detected as 2 for secret/', async () => {
    assert.equal(await client.kvVersion(), 2)
  })
})

describe('KV v1 through the same methods', () => {
  test('read, write, list, delete; v2-only methods are refused', async () => {
    const c = new VaultClient({ addr: vault.addr, token: vault.token, mount: kv1Mount })
    assert.equal(await c.kvVersion(), 1)
    assert.equal(await c.write('app/telegram', { botToken: '123:abc' }), null)
    const s = await c.read('app/telegram')
    assert.deepEqual(s.data, { botToken: '123:abc' })
    assert.equal(s.metadata, null)
    assert.deepEqual(await c.list('app'), ['telegram'])
    assert.deepEqual(await c.list('nothing-here'), [])
    await c.delete('app/telegram')
    assert.equal(await c.read('app/telegram'), null)
    await c.delete('app/telegram')

    const err = await c.readMetadata('app/telegram').catch((e) => e)
    assert.equal(err.code, 'UNSUPPORTED_OPERATION')
    const casErr = await c.write('app/x', { a: 'b' }, { cas: 0 }).catch((e) => e)
    assert.equal(casErr.code, 'UNSUPPORTED_OPERATION')
  })

  test('the kvVersion option overrides detection', async () => {
    // Forcing v2 on a v1 mount sends data/ paths: the key does not exist there.
    const c = new VaultClient({ addr: vault.addr, token: vault.token, mount: kv1Mount, kvVersion: 2 })
    assert.equal(await c.kvVersion(), 2)
  })
})

describe('sys and token', () => {
  test('health, healthCheck, sealStatus, getSealStatus', async () => {
    const h = await client.health()
    assert.equal(h.status, 200)
    assert.equal(h.initialized, true)
    assert.equal(h.sealed, false)
    assert.match(h.version, /^\d+\.\d+/)
    assert.equal(await client.healthCheck(), true)
    const s = await client.sealStatus()
    assert.equal(s.sealed, false)
    assert.equal(s.type, 'shamir')
    assert.deepEqual(await client.getSealStatus(), { sealed: false, initialized: true })
    const down = new VaultClient({ addr: 'http://127.0.0.1:9', token: 'x' })
    assert.equal(await down.healthCheck(), false)
  })

  test('lookupSelf never includes the token', async () => {
    const info = await client.lookupSelf()
    assert.deepEqual(info.policies, ['root'])
    assert.equal(info.ttl, 0)
    assert.equal(info.id, undefined)
    assert.ok(!JSON.stringify(info).includes(vault.token))
  })

  test('request() reaches any endpoint', async () => {
    const mounts = await client.request('GET', 'sys/mounts')
    assert.ok(mounts.data['secret/'])
    const none = await client.request('POST', `secret/data/${prefix}/raw`, { data: { a: 'b' } })
    assert.equal(none.data.version, 1)
    const listed = await client.request('LIST', `secret/metadata/${prefix}/`)
    assert.ok(listed.data.keys.includes('raw'))
    const bad = await client.request('BREW', 'sys/mounts').catch((e) => e)
    assert.equal(bad.code, 'INVALID_ARGUMENT')
  })
})

describe('errors and redaction', () => {
  test('a bad token is INVALID_TOKEN or PERMISSION_DENIED, never echoing it', async () => {
    const badToken = 'hvs.not-a-real-token-0123456789'
    const c = new VaultClient({ addr: vault.addr, token: badToken, kvVersion: 2 })
    const err = await c.read(`${prefix}/anthropic`).catch((e) => e)
    assert.ok(err instanceof VaultError)
    assert.equal(err.status, 403)
    assert.ok(['INVALID_TOKEN', 'PERMISSION_DENIED'].includes(err.code), err.code)
    await assertNoLeak(assert, err, [badToken])
  })

  test('permission denied under a narrow policy', async () => {
    const policy = `ocv-read-only-${process.pid}`
    await vaultFetch(vault, 'PUT', `sys/policies/acl/${policy}`, {
      body: { policy: `path "secret/data/${prefix}/allowed" { capabilities = ["read"] }` },
    })
    const t = await vaultFetch(vault, 'POST', 'auth/token/create', { body: { policies: [policy], ttl: '10m' } })
    const narrowToken = t.json.auth.client_token
    const c = new VaultClient({ addr: vault.addr, token: narrowToken })
    await client.write(`${prefix}/allowed`, { ok: 'yes' })
    assert.deepEqual((await c.read(`${prefix}/allowed`)).data, { ok: 'yes' })
    const err = await c.write(`${prefix}/allowed`, { ok: 'no-secret-here' }).catch((e) => e)
    assert.equal(err.code, 'PERMISSION_DENIED')
    assert.equal(err.status, 403)
    await assertNoLeak(assert, err, [narrowToken, 'no-secret-here'])
  })

  test('the client never shows its token', () => {
    const c = new VaultClient({ addr: vault.addr, token: 'hvs.show-me-not-123456' })
    const shown = [inspect(c, { showHidden: true, depth: 5 }), JSON.stringify(c), String(c)].join('\n')
    assert.ok(!shown.includes('show-me-not'), shown)
  })
})
