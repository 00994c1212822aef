// Wire-level conformance: what Vault really answers (../shared/vault-wire-spec.md), asserted on raw
// HTTP, and what VaultClient makes of the same answers. Runs against the dev server the project
// builds, or against any Vault given by VAULT_TEST_ADDR and VAULT_TEST_TOKEN (npm run test:real-vault).
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import { VaultClient } from '../index.js'
import { removeTree, startVault, uniquePrefix, vaultFetch } from './support/vault-server.mjs'

let vault
let client
let kv1
const p = uniquePrefix('conf')
const call = (method, path, opts) => vaultFetch(vault, method, path, opts)
const RFC3339_NANOS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/

before(async () => {
  vault = await startVault()
  client = new VaultClient({ addr: vault.addr, token: vault.token })
  kv1 = `ocv-conf-kv1-${process.pid}-${Date.now()}`
  const r = await call('POST', `sys/mounts/${kv1}`, { body: { type: 'kv', options: { version: '1' } } })
  assert.equal(r.status, 204, r.text)
})

after(async () => {
  if (!vault) return
  await removeTree(vault, p)
  await call('DELETE', `sys/mounts/${kv1}`).catch(() => {})
  await vault.stop()
})

describe('1. generic HTTP layer', () => {
  test('every answer is JSON with Cache-Control: no-store, success and error alike', async () => {
    await call('POST', `secret/data/${p}/hdr`, { body: { data: { a: 'b' } } })
    for (const r of [await call('GET', `secret/data/${p}/hdr`), await call('GET', `secret/data/${p}/missing`)]) {
      assert.match(r.headers.get('content-type'), /^application\/json/)
      assert.equal(r.headers.get('cache-control'), 'no-store')
    }
  })

  test('the success envelope has its fields in Vault order', async () => {
    const r = await call('GET', `secret/data/${p}/hdr`)
    assert.equal(r.status, 200)
    const keys = Object.keys(r.json)
    const expected = ['request_id', 'lease_id', 'renewable', 'lease_duration', 'data', 'wrap_info', 'warnings', 'auth']
    assert.deepEqual(keys.slice(0, expected.length), expected)
    if (keys.length > expected.length) assert.deepEqual(keys.slice(expected.length), ['mount_type'])
    assert.match(r.json.request_id, /^[0-9a-f-]{36}$/)
    assert.equal(r.json.warnings, null)
  })

  test('unknown body parameters give a warning, not an error', async () => {
    const r = await call('POST', `secret/data/${p}/warn`, { body: { data: { a: 'b' }, foo: 1 } })
    assert.equal(r.status, 200)
    assert.ok(
      r.json.warnings.some((w) => w.includes('Endpoint ignored these unrecognized parameters') && w.includes('foo')),
      r.text,
    )
  })

  test('a plain 404 is exactly {"errors":[]}', async () => {
    const r = await call('GET', `secret/data/${p}/missing`)
    assert.equal(r.status, 404)
    assert.deepEqual(r.json, { errors: [] })
    assert.equal(await client.read(`${p}/missing`), null)
  })

  test('?list= with a non-boolean value is 400', async () => {
    const r = await call('GET', `secret/metadata/${p}/?list=maybe`)
    assert.equal(r.status, 400)
  })

  test('PATCH without the merge-patch content type is 415', async () => {
    await call('POST', `secret/data/${p}/ct`, { body: { data: { a: 'b' } } })
    const r = await call('PATCH', `secret/data/${p}/ct`, {
      body: { data: { a: 'c' } },
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(r.status, 415)
    assert.ok(r.json.errors[0].includes('PATCH requires Content-Type of application/merge-patch+json'), r.text)
  })

  test('an unsupported method is 405', async () => {
    const r = await fetch(`${vault.addr}/v1/secret/data/${p}/ct`, {
      method: 'OPTIONS',
      headers: { 'X-Vault-Token': vault.token },
    })
    assert.equal(r.status, 405)
  })
})

describe('2. routing and permission errors', () => {
  test('no mount at the path: 404 no handler for route', async () => {
    const r = await call('GET', 'typo-mount-xyz/data/x')
    assert.equal(r.status, 404)
    assert.ok(
      r.json.errors.some((e) => e.includes('no handler for route') && e.includes('route entry not found')),
      r.text,
    )
  })

  test('KV v2 used without data/: 404 envelope with an "Invalid path" warning', async () => {
    const r = await call('GET', `secret/${p}/hdr`)
    assert.equal(r.status, 404)
    assert.equal(r.json.data, null)
    assert.ok(r.json.warnings[0].startsWith('Invalid path for a versioned K/V secrets engine'), r.text)
    assert.ok(r.json.warnings[0].includes("use 'vault kv get'"), r.text)
  })

  test('KV v2 root without a key: 404 with the non-listing warning', async () => {
    const r = await call('GET', 'secret/data')
    assert.equal(r.status, 404)
    assert.ok(
      r.json.warnings.some((w) => w.includes('Non-listing operations on the root of a K/V v2 mount are not supported')),
      r.text,
    )
  })

  test('a trailing slash on a data path: 404 "Invalid path"', async () => {
    const r = await call('GET', `secret/data/${p}/hdr/`)
    assert.equal(r.status, 404)
    assert.ok(r.json.warnings[0].startsWith('Invalid path for a versioned K/V secrets engine'), r.text)
  })

  test('a token without the capability: 403 permission denied', async () => {
    const t = await call('POST', 'auth/token/create', { body: { policies: ['default'], ttl: '5m' } })
    const token = t.json.auth.client_token
    const r = await call('GET', `secret/data/${p}/hdr`, { token })
    assert.equal(r.status, 403)
    // The API docs show ["permission denied"]; Vault 1.21 answers one go-multierror string.
    assert.equal(r.json.errors.length, 1)
    assert.match(r.json.errors[0], /permission denied/)
    const err = await new VaultClient({ addr: vault.addr, token, kvVersion: 2 }).read(`${p}/hdr`).catch((e) => e)
    assert.equal(err.code, 'PERMISSION_DENIED')
    assert.match(err.message, /: permission denied$/)
  })

  test('an invalid token: 403 whose errors mention permission denied (and invalid token on >= 1.17)', async () => {
    const r = await call('GET', `secret/data/${p}/hdr`, { token: 'hvs.invalidinvalidinvalid' })
    assert.equal(r.status, 403)
    const all = r.json.errors.join(' ')
    assert.ok(all.includes('permission denied'), r.text)
    const err = await new VaultClient({ addr: vault.addr, token: 'hvs.invalidinvalidinvalid', kvVersion: 2 })
      .read(`${p}/hdr`)
      .catch((e) => e)
    assert.equal(err.code, all.includes('invalid token') ? 'INVALID_TOKEN' : 'PERMISSION_DENIED')
    if (!vault.external) assert.match(all, /invalid token/, 'Vault >= 1.17 says invalid token')
    assert.deepEqual(err.errors, r.json.errors, "errors are Vault's strings, verbatim")
  })
})

describe('3. KV v2', () => {
  test('read: data and metadata in Vault shape, timestamps RFC 3339', async () => {
    const w = await call('POST', `secret/data/${p}/shape`, { body: { data: { k: 'v' } } })
    assert.equal(w.status, 200)
    assert.deepEqual(Object.keys(w.json.data).sort(), [
      'created_time',
      'custom_metadata',
      'deletion_time',
      'destroyed',
      'version',
    ])
    const r = await call('GET', `secret/data/${p}/shape`)
    assert.deepEqual(r.json.data.data, { k: 'v' })
    const m = r.json.data.metadata
    assert.match(m.created_time, RFC3339_NANOS)
    assert.equal(m.deletion_time, '')
    assert.equal(m.custom_metadata, null)
    assert.equal(m.destroyed, false)
    assert.equal(m.version, 1)
    assert.ok(Number.isInteger(m.version))
  })

  test('?version=0 or a negative version means the current one', async () => {
    await call('POST', `secret/data/${p}/shape`, { body: { data: { k: 'v2' } } })
    for (const v of ['0', '-1']) {
      const r = await call('GET', `secret/data/${p}/shape?version=${v}`)
      assert.equal(r.status, 200)
      assert.equal(r.json.data.metadata.version, 2)
    }
    // The client refuses non-positive versions itself.
    const err = await client.read(`${p}/shape`, { version: 0 }).catch((e) => e)
    assert.equal(err.code, 'INVALID_ARGUMENT')
  })

  test('an absent version is a plain 404', async () => {
    const r = await call('GET', `secret/data/${p}/shape?version=40`)
    assert.equal(r.status, 404)
    assert.deepEqual(r.json, { errors: [] })
  })

  test('a soft-deleted version is 404 with the whole envelope and data: null', async () => {
    await call('POST', `secret/data/${p}/soft`, { body: { data: { k: 'v' } } })
    const d = await call('DELETE', `secret/data/${p}/soft`)
    assert.equal(d.status, 204)
    const r = await call('GET', `secret/data/${p}/soft`)
    assert.equal(r.status, 404)
    assert.equal(r.json.data.data, null)
    assert.match(r.json.data.metadata.deletion_time, RFC3339_NANOS)
    assert.equal(r.json.data.metadata.version, 1)
    assert.match(r.json.request_id, /^[0-9a-f-]{36}$/)
    const s = await client.read(`${p}/soft`)
    assert.equal(s.data, null)
    assert.equal(s.metadata.version, 1)
  })

  test('a destroyed version is 404 with destroyed: true', async () => {
    await call('POST', `secret/data/${p}/gone`, { body: { data: { k: 'v' } } })
    assert.equal((await call('POST', `secret/destroy/${p}/gone`, { body: { versions: [1] } })).status, 204)
    const r = await call('GET', `secret/data/${p}/gone`)
    assert.equal(r.status, 404)
    assert.equal(r.json.data.data, null)
    assert.equal(r.json.data.metadata.destroyed, true)
    const s = await client.read(`${p}/gone`)
    assert.equal(s.data, null)
    assert.equal(s.metadata.destroyed, true)
  })

  test('write errors: no data, cas mismatch, cas required, unparsable cas', async () => {
    const noData = await call('POST', `secret/data/${p}/w`, { body: { options: {} } })
    assert.equal(noData.status, 400)
    assert.deepEqual(noData.json.errors, ['no data provided'])

    await call('POST', `secret/data/${p}/w`, { body: { data: { a: '1' } } })
    const mismatch = await call('POST', `secret/data/${p}/w`, { body: { data: { a: '2' }, options: { cas: 5 } } })
    assert.equal(mismatch.status, 400)
    assert.deepEqual(mismatch.json.errors, ['check-and-set parameter did not match the current version'])

    const casString = await call('POST', `secret/data/${p}/w`, { body: { data: { a: '2' }, options: { cas: '1' } } })
    assert.equal(casString.status, 200, 'cas accepts "1" as well as 1')

    const bad = await call('POST', `secret/data/${p}/w`, { body: { data: { a: '3' }, options: { cas: 'one' } } })
    assert.equal(bad.status, 400)
    assert.ok(bad.json.errors[0].includes('error parsing check-and-set parameter'), bad.text)

    await call('POST', `secret/metadata/${p}/casreq`, { body: { cas_required: true } })
    const required = await call('POST', `secret/data/${p}/casreq`, { body: { data: { a: '1' } } })
    assert.equal(required.status, 400)
    assert.deepEqual(required.json.errors, ['check-and-set parameter required for this call'])
    const err = await client.write(`${p}/casreq`, { a: '1' }).catch((e) => e)
    assert.equal(err.code, 'CAS_MISMATCH')
    // A new key's current version is 0: cas 0 creates it.
    assert.equal((await client.write(`${p}/casreq`, { a: '1' }, { cas: 0 })).version, 1)
  })

  test('writing over a deleted latest version is allowed', async () => {
    await call('POST', `secret/data/${p}/over`, { body: { data: { a: '1' } } })
    await call('DELETE', `secret/data/${p}/over`)
    const r = await call('POST', `secret/data/${p}/over`, { body: { data: { a: '2' } } })
    assert.equal(r.status, 200)
    assert.equal(r.json.data.version, 2)
  })

  test('PATCH: missing key is 404 with an empty body; deleted current version is 404 with flat metadata', async () => {
    const h = { 'content-type': 'application/merge-patch+json' }
    const missing = await call('PATCH', `secret/data/${p}/nopatch`, { body: { data: { a: 'b' } }, headers: h })
    assert.equal(missing.status, 404)
    assert.equal(missing.text, '')

    await call('POST', `secret/data/${p}/delpatch`, { body: { data: { a: '1' } } })
    await call('DELETE', `secret/data/${p}/delpatch`)
    const deleted = await call('PATCH', `secret/data/${p}/delpatch`, { body: { data: { a: 'b' } }, headers: h })
    assert.equal(deleted.status, 404)
    assert.equal(deleted.json.data.version, 1)
    assert.notEqual(deleted.json.data.deletion_time, '')
    const err = await client.patch(`${p}/delpatch`, { a: 'b' }).catch((e) => e)
    assert.equal(err.code, 'NOT_FOUND')

    const noData = await call('PATCH', `secret/data/${p}/delpatch`, { body: { options: {} }, headers: h })
    assert.equal(noData.status, 400)
    assert.deepEqual(noData.json.errors, ['no data provided'])
  })

  test('DELETE data is 204 for missing, deleted and destroyed keys', async () => {
    for (const key of ['never', 'soft', 'gone']) {
      assert.equal((await call('DELETE', `secret/data/${p}/${key}`)).status, 204)
    }
  })

  test('delete/, undelete/, destroy/: version lists in three forms, and their error texts', async () => {
    for (let i = 0; i < 4; i++) await call('POST', `secret/data/${p}/vers`, { body: { data: { i: String(i) } } })
    assert.equal((await call('POST', `secret/delete/${p}/vers`, { body: { versions: [1] } })).status, 204)
    assert.equal((await call('POST', `secret/delete/${p}/vers`, { body: { versions: ['2'] } })).status, 204)
    assert.equal((await call('POST', `secret/undelete/${p}/vers`, { body: { versions: '1,2' } })).status, 204)
    assert.equal(
      (await call('POST', `secret/delete/${p}/vers`, { body: { versions: [99] } })).status,
      204,
      'unknown versions are skipped',
    )

    const del = await call('POST', `secret/delete/${p}/vers`, { body: {} })
    assert.equal(del.status, 400)
    assert.deepEqual(del.json.errors, ['No version number provided'])
    const und = await call('POST', `secret/undelete/${p}/vers`, { body: {} })
    assert.deepEqual(und.json.errors, ['No version number provided'])
    const des = await call('POST', `secret/destroy/${p}/vers`, { body: {} })
    assert.equal(des.status, 400)
    assert.deepEqual(des.json.errors, ['no version number provided'])

    // The client refuses an empty list itself, before any request.
    const err = await client.destroy(`${p}/vers`, []).catch((e) => e)
    assert.equal(err.code, 'INVALID_ARGUMENT')
  })

  test('LIST: sorted keys with folders; nothing is a 404 {"errors":[]}', async () => {
    await call('POST', `secret/data/${p}/ls/b`, { body: { data: { a: '1' } } })
    await call('POST', `secret/data/${p}/ls/a/x`, { body: { data: { a: '1' } } })
    const r = await call('LIST', `secret/metadata/${p}/ls/`)
    assert.equal(r.status, 200)
    assert.deepEqual(r.json.data.keys, ['a/', 'b'])
    const viaGet = await call('GET', `secret/metadata/${p}/ls/?list=true`)
    assert.deepEqual(viaGet.json.data.keys, ['a/', 'b'])
    const empty = await call('LIST', `secret/metadata/${p}/nothing/`)
    assert.equal(empty.status, 404)
    assert.deepEqual(empty.json, { errors: [] })
    assert.deepEqual(await client.list(`${p}/nothing`), [])
  })

  test('metadata: shape, absent 404, write 204, custom_metadata limits, PATCH absent 404 empty, DELETE absent 204', async () => {
    await call('POST', `secret/data/${p}/md`, { body: { data: { a: '1' } } })
    const r = await call('GET', `secret/metadata/${p}/md`)
    assert.equal(r.status, 200)
    for (const k of [
      'cas_required',
      'created_time',
      'current_version',
      'delete_version_after',
      'max_versions',
      'oldest_version',
      'updated_time',
      'custom_metadata',
      'versions',
    ]) {
      assert.ok(k in r.json.data, `metadata has ${k}`)
    }
    assert.equal(r.json.data.delete_version_after, '0s')
    assert.equal(r.json.data.oldest_version, 0, 'a fresh key shows oldest_version 0')
    assert.deepEqual(Object.keys(r.json.data.versions), ['1'])

    assert.deepEqual((await call('GET', `secret/metadata/${p}/md-none`)).json, { errors: [] })
    const created = await call('POST', `secret/metadata/${p}/md-new`, { body: { max_versions: 4 } })
    assert.equal(created.status, 204)
    const zero = await call('GET', `secret/metadata/${p}/md-new`)
    assert.equal(zero.json.data.current_version, 0, 'metadata with zero versions')

    const tooLong = await call('POST', `secret/metadata/${p}/md`, { body: { custom_metadata: { k: 'x'.repeat(513) } } })
    assert.equal(tooLong.status, 400)
    assert.ok(tooLong.json.errors[0].includes('custom_metadata validation failed'), tooLong.text)
    const err = await client.writeMetadata(`${p}/md`, { customMetadata: { k: 'x'.repeat(513) } }).catch((e) => e)
    assert.equal(err.code, 'INVALID_REQUEST')

    const h = { 'content-type': 'application/merge-patch+json' }
    const patchMissing = await call('PATCH', `secret/metadata/${p}/md-none`, { body: { max_versions: 2 }, headers: h })
    assert.equal(patchMissing.status, 404)
    assert.equal(patchMissing.text, '')
    assert.equal((await call('DELETE', `secret/metadata/${p}/md-none`)).status, 204)
  })

  test('subkeys: empty maps become null, depth truncates, deleted is 404 with subkeys: null', async () => {
    await call('POST', `secret/data/${p}/sk`, { body: { data: { a: 'x', e: {}, b: { c: { d: 'y' } } } } })
    const r = await call('GET', `secret/subkeys/${p}/sk`)
    assert.equal(r.status, 200)
    assert.deepEqual(r.json.data.subkeys, { a: null, e: null, b: { c: { d: null } } })
    const d = await call('GET', `secret/subkeys/${p}/sk?depth=1`)
    assert.deepEqual(d.json.data.subkeys, { a: null, e: null, b: null })
    assert.deepEqual((await call('GET', `secret/subkeys/${p}/sk-none`)).json, { errors: [] })
    await call('DELETE', `secret/data/${p}/sk`)
    const del = await call('GET', `secret/subkeys/${p}/sk`)
    assert.equal(del.status, 404)
    assert.equal(del.json.data.subkeys, null)
    const s = await client.subkeys(`${p}/sk`)
    assert.equal(s.subkeys, null)
    assert.equal(s.metadata.version, 1)
  })

  test('config: defaults', async () => {
    const r = await call('GET', 'secret/config')
    assert.equal(r.status, 200)
    assert.equal(typeof r.json.data.cas_required, 'boolean')
    assert.equal(typeof r.json.data.max_versions, 'number')
    assert.equal(typeof r.json.data.delete_version_after, 'string')
  })

  test('version pruning advances oldest_version', async () => {
    await call('POST', `secret/metadata/${p}/prune`, { body: { max_versions: 2 } })
    for (let i = 1; i <= 4; i++) await call('POST', `secret/data/${p}/prune`, { body: { data: { i: String(i) } } })
    const m = (await call('GET', `secret/metadata/${p}/prune`)).json.data
    assert.equal(m.current_version, 4)
    assert.equal(m.oldest_version, 3)
    assert.deepEqual(Object.keys(m.versions).sort(), ['3', '4'])
    assert.equal((await call('GET', `secret/data/${p}/prune?version=1`)).status, 404)
    assert.equal(await client.read(`${p}/prune`, { version: 1 }), null)
  })
})

describe('4. KV v1', () => {
  test('read is the stored map with the mount TTL; ttl in the data overrides it', async () => {
    assert.equal((await call('POST', `${kv1}/app`, { body: { k: 'v' } })).status, 204)
    const r = await call('GET', `${kv1}/app`)
    assert.equal(r.status, 200)
    assert.deepEqual(r.json.data, { k: 'v' })
    assert.equal(r.json.lease_duration, 2764800)
    await call('POST', `${kv1}/ttl`, { body: { k: 'v', ttl: '1h' } })
    assert.equal((await call('GET', `${kv1}/ttl`)).json.lease_duration, 3600)
  })

  test('missing is 404 {"errors":[]}; an empty body is 400 missing data fields', async () => {
    assert.deepEqual((await call('GET', `${kv1}/none`)).json, { errors: [] })
    const r = await call('POST', `${kv1}/empty`, { body: {} })
    assert.equal(r.status, 400)
    assert.deepEqual(r.json.errors, ['missing data fields'])
  })

  test('LIST gives keys; DELETE is 204', async () => {
    const r = await call('LIST', `${kv1}/`)
    assert.ok(r.json.data.keys.includes('app'))
    assert.equal((await call('DELETE', `${kv1}/app`)).status, 204)
    assert.equal((await call('DELETE', `${kv1}/app`)).status, 204)
  })
})

describe('5. finding the mount and its KV version', () => {
  test('sys/internal/ui/mounts gives type kv and options.version', async () => {
    const v2 = await call('GET', 'sys/internal/ui/mounts/secret/some/key')
    assert.equal(v2.status, 200)
    assert.equal(v2.json.data.path, 'secret/')
    assert.equal(v2.json.data.type, 'kv')
    assert.equal(v2.json.data.options.version, '2')
    const v1 = await call('GET', `sys/internal/ui/mounts/${kv1}`)
    assert.equal(v1.json.data.type, 'kv')
    assert.ok(
      !v1.json.data.options || v1.json.data.options.version === undefined || v1.json.data.options.version === '1',
    )
    assert.equal(await new VaultClient({ addr: vault.addr, token: vault.token, mount: kv1 }).kvVersion(), 1)
  })

  test('no capability under the path: 403 preflight capability check', async () => {
    const t = await call('POST', 'auth/token/create', { body: { policies: ['default'], ttl: '5m' } })
    const r = await call('GET', `sys/internal/ui/mounts/secret/${p}/x`, { token: t.json.auth.client_token })
    assert.equal(r.status, 403)
    assert.ok(r.json.errors[0].includes('preflight capability check returned 403'), r.text)
  })
})

describe('6. sys/health and seal status', () => {
  test('health answers its body; query overrides change the status; HEAD works', async () => {
    const r = await call('GET', 'sys/health')
    assert.equal(r.status, 200)
    for (const k of [
      'initialized',
      'sealed',
      'standby',
      'performance_standby',
      'server_time_utc',
      'version',
      'cluster_name',
      'cluster_id',
    ]) {
      assert.ok(k in r.json, `health has ${k}`)
    }
    const custom = await call('GET', 'sys/health?activecode=299')
    assert.equal(custom.status, 299)
    const head = await fetch(`${vault.addr}/v1/sys/health`, { method: 'HEAD' })
    assert.equal(head.status, 200)
  })

  test('seal-status fields', async () => {
    const r = await call('GET', 'sys/seal-status')
    for (const k of ['type', 'initialized', 'sealed', 't', 'n', 'progress', 'nonce', 'version']) {
      assert.ok(k in r.json, `seal-status has ${k}`)
    }
  })
})

describe('7. tokens', () => {
  test('lookup-self of a root token', async () => {
    const r = await call('GET', 'auth/token/lookup-self')
    if (vault.external) return // a given token need not be root
    assert.equal(r.json.data.ttl, 0)
    assert.deepEqual(r.json.data.policies, ['root'])
    assert.equal(r.json.data.expire_time, null)
  })

  test('renew-self is capped by explicit max TTL, with a warning', async () => {
    const t = await call('POST', 'auth/token/create', {
      body: { policies: ['default'], ttl: '60s', explicit_max_ttl: '120s', renewable: true },
    })
    assert.ok(t.json.auth.client_token.startsWith('hvs.'))
    const r = await call('POST', 'auth/token/renew-self', {
      body: { increment: '1h' },
      token: t.json.auth.client_token,
    })
    assert.equal(r.status, 200)
    assert.equal(r.json.data, null)
    assert.ok(r.json.auth.lease_duration <= 120, String(r.json.auth.lease_duration))
    assert.ok(
      r.json.warnings?.some((w) => w.includes('TTL')),
      r.text,
    )
  })

  test('X-Vault-Wrap-TTL wraps the answer', async () => {
    const r = await call('GET', `secret/data/${p}/shape`, { headers: { 'X-Vault-Wrap-TTL': '60s' } })
    assert.equal(r.status, 200)
    assert.equal(r.json.data, null)
    for (const k of ['token', 'accessor', 'ttl', 'creation_time', 'creation_path']) assert.ok(k in r.json.wrap_info, k)
    const u = await call('POST', 'sys/wrapping/unwrap', { token: r.json.wrap_info.token })
    assert.equal(u.json.data.data.k, 'v2')
  })
})
