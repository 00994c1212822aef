// Failover across several node addresses (`addrs`), with the fault proxy standing in for nodes
// that are sealed, broken or gone: two proxies in front of one real dev server are "node A" and
// "node B"; a closed port is a dead node.
import assert from 'node:assert/strict'
import { after, afterEach, before, describe, test } from 'node:test'

import { VaultClient } from '../index.js'
import {
  assertNoLeak,
  freePort,
  removeTree,
  startFaultProxy,
  startVault,
  uniquePrefix,
  vaultFetch,
} from './support/vault-server.mjs'

let vault
let a
let b
const p = uniquePrefix('failover')
const secret = 'FAKE-failover-secret-0001'

before(async () => {
  vault = await startVault()
  a = await startFaultProxy(vault.addr)
  b = await startFaultProxy(vault.addr)
  const direct = new VaultClient({ addr: vault.addr, token: vault.token, renew: false })
  await direct.write(`${p}/app`, { apiKey: secret })
})

afterEach(async () => {
  for (const proxy of [a, b]) {
    await proxy.clearRules()
    await proxy.clearRequests()
  }
})

after(async () => {
  await a?.stop()
  await b?.stop()
  if (vault) await removeTree(vault, p)
  await vault?.stop()
})

const client = (addr, addrs, extra = {}) =>
  new VaultClient({
    addr,
    addrs,
    token: vault.token,
    renew: false,
    kvVersion: 2,
    maxRetries: 0,
    timeoutMs: 2000,
    ...extra,
  })
const hits = async (proxy, method, re) =>
  (await proxy.requests()).filter((r) => r.method === method && re.test(r.path)).length
const data = new RegExp(`^/v1/secret/data/${p}/`)

describe('several node addresses', () => {
  test('a closed first address: the read goes to the next node at once', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`
    const c = client(dead, [a.addr])
    assert.equal((await c.read(`${p}/app`)).data.apiKey, secret)
    assert.equal(await hits(a, 'GET', data), 1)
  })

  test('a write goes on after connection refused: the dead node ran nothing', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`
    await client(dead, [a.addr]).write(`${p}/w1`, { v: '1' })
    assert.equal(await hits(a, 'POST', data), 1)
  })

  test('a sealed node (503): reads and writes go to the next node, and stay there', async () => {
    await a.rule({ path: data.source, action: { type: 'status', status: 503, body: '{"errors":["Vault is sealed"]}' } })
    const c = client(a.addr, [b.addr])
    assert.equal((await c.read(`${p}/app`)).data.apiKey, secret)
    await c.write(`${p}/w2`, { v: '2' })
    assert.equal((await c.read(`${p}/app`)).data.apiKey, secret)
    // A saw only the first read; the client then kept to B.
    assert.equal(await hits(a, 'GET', data), 1)
    assert.equal(await hits(a, 'POST', data), 0)
    assert.equal(await hits(b, 'GET', data), 2)
    assert.equal(await hits(b, 'POST', data), 1)
  })

  test('a read after a 500 goes to the next node; a write after a 500 is not sent to another node', async () => {
    await a.rule({ path: data.source, action: { type: 'status', status: 500, body: '{"errors":["internal error"]}' } })
    const c = client(a.addr, [b.addr])
    assert.equal((await c.read(`${p}/app`)).data.apiKey, secret)
    assert.equal(await hits(b, 'GET', data), 1)
    // The write may have run on A: no replay elsewhere, the error is A's.
    const w = client(a.addr, [b.addr])
    const err = await w.write(`${p}/w3`, { v: '3' }).catch((e) => e)
    assert.equal(err.code, 'SERVER_ERROR')
    assert.equal(await hits(a, 'POST', data), 1)
    assert.equal(await hits(b, 'POST', data), 0)
    await assertNoLeak(assert, err, [vault.token, secret])
  })

  test('a write after a broken connection is not sent to another node', async () => {
    await a.rule({ method: 'POST', path: data.source, action: { type: 'close' } })
    const err = await client(a.addr, [b.addr])
      .write(`${p}/w4`, { v: '4' })
      .catch((e) => e)
    assert.equal(err.code, 'NETWORK')
    assert.equal(await hits(b, 'POST', data), 0)
  })

  test('a write whose answer was lost is never sent again: one version, and an error saying it may have been applied', async () => {
    // The proxy forwards the write (Vault stores version 1) and drops the answer.
    await a.rule({ method: 'POST', path: data.source, times: 1, action: { type: 'drop_response' } })
    const c = client(a.addr, [b.addr], { maxRetries: 3, retryBackoffMs: 10 })
    const err = await c.write(`${p}/lost`, { v: 'once' }).catch((e) => e)
    assert.equal(err.code, 'NETWORK')
    assert.match(err.message, /may have been applied/)
    assert.ok(err.message.includes(`/v1/secret/data/${p}/lost`), err.message)
    assert.equal(await hits(a, 'POST', data), 1)
    assert.equal(await hits(b, 'POST', data), 0)
    assert.equal((await c.readMetadata(`${p}/lost`)).current_version, 1)
    await assertNoLeak(assert, err, [vault.token, 'once'])
  })

  test('a write with cas whose answer was lost is retried: the cas makes a second version impossible', async () => {
    await a.rule({ method: 'POST', path: data.source, times: 1, action: { type: 'drop_response' } })
    const c = client(a.addr, [b.addr], { maxRetries: 3, retryBackoffMs: 10 })
    const err = await c.write(`${p}/lost-cas`, { v: 'once' }, { cas: 0 }).catch((e) => e)
    // The replay met the version the lost attempt made: a mismatch, never version 2.
    assert.equal(err.code, 'CAS_MISMATCH')
    assert.equal((await c.readMetadata(`${p}/lost-cas`)).current_version, 1)
  })

  test('a write to a cluster asks a standby not to forward: its 307 means nothing ran, so the write goes on to the next node', async () => {
    // Node A stands in for a standby told not to forward, pointing at the dead old leader.
    const dead = `http://127.0.0.1:${await freePort()}`
    await a.rule({
      method: 'POST',
      path: data.source,
      action: { type: 'redirect', location: `${dead}/v1/secret/data/${p}/via` },
    })
    const c = client(a.addr, [dead, b.addr], { maxRetries: 2, retryBackoffMs: 10 })
    await c.write(`${p}/via`, { v: '1' })
    const sent = (await a.requests()).filter((r) => r.method === 'POST' && data.test(r.path))
    assert.equal(sent.length, 1)
    assert.equal(sent[0].headers['x-vault-no-request-forwarding'], 'true')
    assert.equal(await hits(b, 'POST', data), 1)
    assert.equal((await c.readMetadata(`${p}/via`)).current_version, 1)
  })

  // Vault's answer from a standby that knows no active node (an election), before running anything.
  const noLeader = '{"errors":["local node not active but active cluster node not found"]}'

  test('a standby without an active node (500): the write goes to the next node, one version', async () => {
    await a.rule({ path: data.source, action: { type: 'status', status: 500, body: noLeader } })
    const c = client(a.addr, [b.addr])
    await c.write(`${p}/election`, { v: '1' })
    assert.equal(await hits(a, 'POST', data), 1)
    assert.equal(await hits(b, 'POST', data), 1)
    assert.equal((await c.readMetadata(`${p}/election`)).current_version, 1)
  })

  test('every node without an active node: the write waits its backoff and goes on when one is active', async () => {
    // Both nodes answer the election 500 once; the second round finds the active node.
    for (const proxy of [a, b]) {
      await proxy.rule({
        method: 'POST',
        path: data.source,
        times: 1,
        action: { type: 'status', status: 500, body: noLeader },
      })
    }
    const c = client(a.addr, [b.addr], { maxRetries: 2, retryBackoffMs: 10 })
    await c.write(`${p}/election2`, { v: '1' })
    assert.equal((await hits(a, 'POST', data)) + (await hits(b, 'POST', data)), 3)
    assert.equal((await c.readMetadata(`${p}/election2`)).current_version, 1)
  })

  test('an AppRole login answered by a standby without an active node goes to the next node', async () => {
    const mount = `approle-${p}`
    const root = (method, path, body) => vaultFetch(vault, method, path, { body })
    await root('POST', `sys/auth/${mount}`, { type: 'approle' })
    await root('POST', `auth/${mount}/role/gw`, { token_ttl: '10m' })
    const roleId = (await root('GET', `auth/${mount}/role/gw/role-id`)).json.data.role_id
    const secretId = (await root('POST', `auth/${mount}/role/gw/secret-id`)).json.data.secret_id
    const login = new RegExp(`^/v1/auth/${mount}/login`)
    await a.rule({ path: login.source, action: { type: 'status', status: 500, body: noLeader } })
    const c = new VaultClient({
      addr: a.addr,
      addrs: [b.addr],
      kvVersion: 2,
      renew: false,
      maxRetries: 0,
      auth: { method: 'approle', mount, roleId, secretId },
    })
    const me = await c.lookupSelf()
    assert.match(me.display_name, /approle/)
    assert.equal(await hits(a, 'POST', login), 1)
    assert.equal(await hits(b, 'POST', login), 1)
    await root('DELETE', `sys/auth/${mount}`)
  })

  test('a login no node can serve (one dead, one without an active node): the error names each node', async () => {
    const mount = `approle2-${p}`
    const root = (method, path, body) => vaultFetch(vault, method, path, { body })
    await root('POST', `sys/auth/${mount}`, { type: 'approle' })
    await root('POST', `auth/${mount}/role/gw`, { token_ttl: '10m' })
    const roleId = (await root('GET', `auth/${mount}/role/gw/role-id`)).json.data.role_id
    const secretId = (await root('POST', `auth/${mount}/role/gw/secret-id`)).json.data.secret_id
    const dead = `http://127.0.0.1:${await freePort()}`
    await a.rule({ path: `^/v1/auth/${mount}/login`, action: { type: 'status', status: 500, body: noLeader } })
    const c = new VaultClient({
      addr: dead,
      addrs: [a.addr],
      kvVersion: 2,
      renew: false,
      maxRetries: 0,
      auth: { method: 'approle', mount, roleId, secretId },
    })
    const err = await c.lookupSelf().catch((e) => e)
    assert.match(err.message, /no node of the cluster could serve it/)
    assert.ok(err.message.includes(`${dead} connection failed`), err.message)
    assert.ok(err.message.includes(`${a.addr} a standby without an active node (500)`), err.message)
    await assertNoLeak(assert, err, [secretId, roleId, vault.token])
    await root('DELETE', `sys/auth/${mount}`)
  })

  test('a standby allowed to forward a write answers 307: never sent to another node', async () => {
    // The standby's 307 names an active node that is not configured: the client lets it forward
    // (no header), and its 307 to that means the forward failed, perhaps after the active node ran it.
    const elsewhere = `http://127.0.0.1:${await freePort()}`
    await a.rule({
      method: 'POST',
      path: data.source,
      action: { type: 'redirect', location: `${elsewhere}/v1/secret/data/${p}/fwd2` },
    })
    const err = await client(a.addr, [b.addr], { maxRetries: 3, retryBackoffMs: 10 })
      .write(`${p}/fwd2`, { v: '1' })
      .catch((e) => e)
    assert.equal(err.code, 'BAD_RESPONSE')
    assert.match(err.message, /may have been applied/)
    const sent = (await a.requests()).filter((r) => r.method === 'POST' && data.test(r.path))
    assert.equal(sent.length, 2)
    assert.equal(sent[0].headers['x-vault-no-request-forwarding'], 'true')
    assert.equal(sent[1].headers['x-vault-no-request-forwarding'], undefined)
    assert.equal(await hits(b, 'POST', data), 0)
    await assertNoLeak(assert, err, [vault.token])
  })

  test('a standby told not to forward a write redirects to a configured node: followed once, one version', async () => {
    await a.rule({
      method: 'POST',
      path: data.source,
      action: { type: 'redirect', location: `${b.addr}/v1/secret/data/${p}/tob` },
    })
    const c = client(a.addr, [b.addr])
    await c.write(`${p}/tob`, { v: '1' })
    const sent = (await a.requests()).filter((r) => r.method === 'POST' && data.test(r.path))
    assert.equal(sent.length, 1)
    assert.equal(sent[0].headers['x-vault-no-request-forwarding'], 'true')
    const atB = (await b.requests()).filter((r) => r.method === 'POST' && data.test(r.path))
    assert.equal(atB.length, 1)
    assert.equal(atB[0].headers['x-vault-no-request-forwarding'], 'true')
    assert.equal((await c.readMetadata(`${p}/tob`)).current_version, 1)
  })

  test('one address: a standby that may have forwarded the write answers 307 to a dead leader: never sent again', async () => {
    // Without the other nodes, the standby forwards; its 307 may come after the leader ran it.
    const dead = `http://127.0.0.1:${await freePort()}`
    await a.rule({
      method: 'POST',
      path: data.source,
      action: { type: 'redirect', location: `${dead}/v1/secret/data/${p}/fwd` },
    })
    for (const extra of [{}, { redirectToOtherOrigin: true }]) {
      await a.clearRequests()
      const err = await client(a.addr, undefined, { maxRetries: 2, retryBackoffMs: 10, ...extra })
        .write(`${p}/fwd`, { v: '1' })
        .catch((e) => e)
      assert.match(err.message, /may have been applied/, JSON.stringify(extra))
      assert.equal(await hits(a, 'POST', data), 1)
      const sent = (await a.requests()).find((r) => r.method === 'POST')
      assert.equal(sent.headers['x-vault-no-request-forwarding'], undefined)
      await assertNoLeak(assert, err, [vault.token])
    }
  })

  test('one address: a write a standby may have forwarded is not followed to a live origin, even when allowed', async () => {
    // The 307 names a live node: following it would run the write there a second time.
    await a.rule({
      method: 'POST',
      path: data.source,
      action: { type: 'redirect', location: `${b.addr}/v1/secret/data/${p}/live` },
    })
    const err = await client(a.addr, undefined, { maxRetries: 2, retryBackoffMs: 10, redirectToOtherOrigin: true })
      .write(`${p}/live`, { v: '1' })
      .catch((e) => e)
    assert.equal(err.code, 'BAD_RESPONSE')
    assert.match(err.message, /may have been applied/)
    assert.equal(await hits(a, 'POST', data), 1)
    assert.equal(await hits(b, 'POST', data), 0)
    await assertNoLeak(assert, err, [vault.token])
  })

  test('one address: a read a standby redirects to a leader it may not follow is retried on the standby', async () => {
    const elsewhere = `http://127.0.0.1:${await freePort()}`
    await a.rule({
      method: 'GET',
      path: data.source,
      times: 1,
      action: { type: 'redirect', location: `${elsewhere}/v1/secret/data/${p}/app` },
    })
    const c = client(a.addr, undefined, { maxRetries: 2, retryBackoffMs: 10 })
    assert.equal((await c.read(`${p}/app`)).data.apiKey, secret)
    assert.equal(await hits(a, 'GET', data), 2)
  })

  test('a 307 from a standby to another configured node is followed with the token', async () => {
    await a.rule({
      path: data.source,
      times: 1,
      action: { type: 'redirect', location: `${b.addr}/v1/secret/data/${p}/app` },
    })
    assert.equal((await client(a.addr, [b.addr]).read(`${p}/app`)).data.apiKey, secret)
    assert.equal(await hits(b, 'GET', data), 1)
  })

  test('every node failing: the error keeps the last code and names each node and its answer', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`
    await a.rule({ path: data.source, action: { type: 'status', status: 503, body: '{"errors":["Vault is sealed"]}' } })
    const err = await client(a.addr, [dead])
      .read(`${p}/app`)
      .catch((e) => e)
    assert.equal(err.code, 'NETWORK')
    assert.match(err.message, /no node of the cluster could serve it/)
    assert.ok(err.message.includes(`${a.addr} sealed (503)`), err.message)
    assert.ok(err.message.includes(`${dead} connection failed`), err.message)
    assert.deepEqual(err.errors, [])
    await assertNoLeak(assert, err, [vault.token, secret])
  })

  test('bad addrs: INVALID_CONFIG naming the position', () => {
    for (const [addrs, named] of [
      [['http://127.0.0.1:1', 'vault:8200'], 'addrs[1]'],
      [[vault.addr], 'addrs[0]'],
    ]) {
      assert.throws(
        () => new VaultClient({ addr: vault.addr, addrs, token: vault.token }),
        (e) => e.code === 'INVALID_CONFIG' && e.message.includes(named),
      )
    }
  })

  test('one address: a sealed node is SEALED, as before', async () => {
    await a.rule({ path: data.source, action: { type: 'status', status: 503, body: '{"errors":["Vault is sealed"]}' } })
    const err = await client(a.addr, undefined)
      .read(`${p}/app`)
      .catch((e) => e)
    assert.equal(err.code, 'SEALED')
    assert.doesNotMatch(err.message, /no node of the cluster/)
  })
})
