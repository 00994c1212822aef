// A highly available Vault: a 3-node Raft cluster of the same Vault binary (tools/vault-cluster),
// started once for this file. The client is given every node's address and must keep serving
// while nodes are sealed, removed, or killed (the leader included).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, before, describe, test } from 'node:test'

import { CredentialStore, VaultClient } from '../index.js'
import { startCluster } from '../tools/vault-cluster/cluster.mjs'
import { assertNoLeak, root, uniquePrefix } from './support/vault-server.mjs'

let cluster
let home
const prefix = uniquePrefix('cluster')
const names = Array.from({ length: 20 }, (_, i) => `cred${i}`)
const value = (name) => `FAKE-cluster-token-${name}-0001`

before(async () => {
  cluster = await startCluster()
  home = mkdtempSync(join(tmpdir(), 'ocv-cluster-home-'))
  const client = new VaultClient({
    addr: cluster.addrs[0],
    addrs: cluster.addrs.slice(1),
    token: cluster.token,
    renew: false,
  })
  for (const name of names) await client.write(`${prefix}/credentials/${name}`, { kind: 'token', token: value(name) })
})

after(async () => {
  await cluster?.stop()
  if (home) rmSync(home, { recursive: true, force: true })
})

/** A client whose first address is node `first`, the others following. */
function clientFrom(first, extra = {}) {
  const addrs = cluster.addrs.filter((_, i) => i !== first)
  return new VaultClient({
    addr: cluster.addrs[first],
    addrs,
    token: cluster.token,
    renew: false,
    kvVersion: 2,
    ...extra,
  })
}

async function standbyIndex() {
  const roles = await cluster.roles()
  return roles.findIndex((r) => r.status === 429)
}

describe('a 3-node Raft cluster', () => {
  test('started with one active node and two standbys', async () => {
    const roles = (await cluster.roles()).map((r) => r.role).sort()
    assert.deepEqual(roles, ['active', 'standby', 'standby'])
    assert.ok(cluster.startupMs > 0)
  })

  test("setup's identities, judged by the cluster: agent A cannot read agent B, the gateway cannot write, the migrator cannot destroy, the auditor sees metadata only, a wrapped secret id works once", async () => {
    // `openclaw-vault setup` through the Node shim, given every node (VAULT_ADDR + OPENCLAW_VAULT_ADDRS).
    const approle = `ar-${prefix.split('/').pop()}`
    const env = {
      HOME: home,
      PATH: process.env.PATH,
      XDG_RUNTIME_DIR: join(home, 'no-runtime'),
      VAULT_ADDR: cluster.addrs[0],
      OPENCLAW_VAULT_ADDRS: cluster.addrs.slice(1).join(','),
      VAULT_TOKEN: cluster.token,
      OPENCLAW_VAULT_PREFIX: prefix,
    }
    const args = ['setup', '--team', 'ops', '--gateway', 'gw1', '--agent', 'alice', '--agent', 'bob']
    const run = spawnSync(
      process.execPath,
      [join(root, 'bin', 'openclaw-vault.js'), ...args, '--approle-mount', approle, '--wrap-ttl', '2m', '--json'],
      { env, encoding: 'utf8', timeout: 60000 },
    )
    assert.equal(run.status, 0, run.stdout + run.stderr)
    // One JSON object: the plan as done, with `bootstrap` inside it.
    const plan = JSON.parse(run.stdout)
    const issued = plan
    const policyOf = (role) => plan.steps.find((s) => s.kind === 'policy' && s.role === role).name
    const boot = (name) => issued.bootstrap.find((b) => b.role.endsWith(`-${name}`))
    const admin = clientFrom(0)
    await admin.write(`${prefix}/agents/alice/credentials/openai`, { kind: 'api_key', key: 'FAKE-alice-v' })
    await admin.write(`${prefix}/agents/bob/credentials/openai`, { kind: 'api_key', key: 'FAKE-bob-v' })
    const auth = (b) => ({
      method: 'approle',
      mount: approle,
      roleId: b.roleId,
      wrappedSecretId: b.wrappedSecretId,
      role: b.role,
    })
    const addrs = cluster.addrs.slice(1)

    // Agent alice (her own AppRole identity) may not read bob's layer; under fallback "none"
    // the local OPENAI_API_KEY does not answer instead.
    const alice = new CredentialStore({
      env: {
        HOME: home,
        VAULT_ADDR: cluster.addrs[0],
        OPENCLAW_VAULT_ADDRS: addrs.join(','),
        OPENCLAW_VAULT_PREFIX: prefix,
        OPENCLAW_VAULT_FALLBACK: 'none',
        OPENCLAW_VAULT_AUTH_METHOD: 'approle',
        OPENCLAW_VAULT_AUTH_MOUNT: approle,
        OPENCLAW_VAULT_AUTH_ROLE: boot('agent-alice').role,
        OPENCLAW_VAULT_APPROLE_ROLE_ID: boot('agent-alice').roleId,
        OPENCLAW_VAULT_APPROLE_WRAPPED_SECRET_ID: boot('agent-alice').wrappedSecretId,
        OPENAI_API_KEY: 'FAKE-local-must-not-answer',
      },
    })
    assert.equal((await alice.getCredential('openai', { agent: 'alice', team: 'ops' })).expose(), 'FAKE-alice-v')
    const denied = await alice.getCredential('openai', { agent: 'bob', team: 'ops' }).catch((e) => e)
    assert.equal(denied.code, 'PERMISSION_DENIED', String(denied))
    await assertNoLeak(assert, denied, [cluster.token, 'FAKE-bob-v', 'FAKE-local-must-not-answer'])

    // The same wrapping token a second time: refused cleanly, never quoted.
    const again = new VaultClient({ addr: cluster.addrs[0], addrs, renew: false, auth: auth(boot('agent-alice')) })
    const used = await again.lookupSelf().catch((e) => e)
    assert.equal(used.code, 'WRAPPING_TOKEN_INVALID', String(used))
    await assertNoLeak(assert, used, [boot('agent-alice').wrappedSecretId, cluster.token])

    // The gateway reads its agents' layers and cannot write.
    const gw = new VaultClient({ addr: cluster.addrs[0], addrs, renew: false, auth: auth(boot('gateway-gw1')) })
    assert.equal((await gw.read(`${prefix}/agents/bob/credentials/openai`)).data.key, 'FAKE-bob-v')
    const write = await gw.write(`${prefix}/credentials/new-one`, { kind: 'token', token: 'FAKE-x' }).catch((e) => e)
    assert.equal(write.code, 'PERMISSION_DENIED', String(write))
    assert.ok((await gw.lookupSelf()).entity_id, 'the gateway has its own entity')

    // The migrator and the auditor, as tokens holding setup's policies.
    const tokenFor = async (policy) =>
      (await admin.request('POST', 'auth/token/create', { policies: [policy], no_default_policy: true, ttl: '10m' }))
        .auth.client_token
    const as = async (role) =>
      new VaultClient({
        addr: cluster.addrs[0],
        addrs,
        token: await tokenFor(policyOf(role)),
        renew: false,
        kvVersion: 2,
      })
    const migrator = await as('migrator')
    // A token created on the active node a moment ago may not be in a standby's storage yet (Raft
    // replication): a standby asked not to forward answers 403 for it. Seen once in CI; retried
    // until a deadline, and any other answer fails at once.
    for (const end = Date.now() + 10_000; ;) {
      const wrote = await migrator
        .write(`${prefix}/credentials/migrated`, { kind: 'token', token: 'FAKE-m' }, { cas: 0 })
        .then(
          () => null,
          (e) => e,
        )
      if (wrote === null) break
      if (wrote.code !== 'PERMISSION_DENIED' || Date.now() > end) throw wrote
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    // One at a time: a refusal must not reject while nothing awaits it (an unhandled rejection).
    for (const refused of [
      () => migrator.destroy(`${prefix}/credentials/migrated`, [1]),
      () => migrator.deleteMetadata(`${prefix}/credentials/migrated`),
      () => migrator.delete(`${prefix}/credentials/migrated`),
    ]) {
      assert.equal((await refused().catch((e) => e)).code, 'PERMISSION_DENIED')
    }
    const auditor = await as('auditor')
    assert.equal((await auditor.readMetadata(`${prefix}/agents/alice/credentials/openai`)).current_version, 1)
    const value = await auditor.read(`${prefix}/agents/alice/credentials/openai`).catch((e) => e)
    assert.equal(value.code, 'PERMISSION_DENIED', String(value))
    await assertNoLeak(assert, value, ['FAKE-alice-v'])
  })

  test('reads through a standby are forwarded to the active node', async () => {
    const s = await standbyIndex()
    const only = new VaultClient({ addr: cluster.addrs[s], token: cluster.token, renew: false, kvVersion: 2 })
    assert.equal((await only.read(`${prefix}/credentials/cred1`)).data.token, value('cred1'))
    // Without forwarding the standby answers a 307 to the active node's api_addr.
    const res = await fetch(`${cluster.addrs[s]}/v1/secret/data/${prefix}/credentials/cred1`, {
      headers: { 'X-Vault-Token': cluster.token, 'X-Vault-No-Request-Forwarding': 'true' },
      redirect: 'manual',
    })
    assert.equal(res.status, 307)
    const leader = await cluster.waitForLeader()
    assert.ok(res.headers.get('location').startsWith(cluster.addrs[leader]), res.headers.get('location'))
  })

  test('a sealed node: a one-address client says SEALED, a cluster client goes to the next node', async () => {
    const s = await standbyIndex()
    await cluster.seal(s)
    try {
      const only = new VaultClient({
        addr: cluster.addrs[s],
        token: cluster.token,
        renew: false,
        kvVersion: 2,
        maxRetries: 0,
      })
      const err = await only.read(`${prefix}/credentials/cred2`).catch((e) => e)
      assert.equal(err.code, 'SEALED')
      await assertNoLeak(assert, err, [cluster.token, value('cred2')])
      const c = clientFrom(s, { maxRetries: 0 })
      assert.equal((await c.read(`${prefix}/credentials/cred2`)).data.token, value('cred2'))
      // A write is safe to send on: the sealed node ran nothing.
      await c.write(`${prefix}/sealed-write`, { v: 'x' })
    } finally {
      await cluster.unseal(s)
      await cluster.waitHealthy()
    }
  })

  test('a node removed from the Raft configuration and joined again', async () => {
    const s = await standbyIndex()
    const id = cluster.nodes[s].id
    await cluster.removePeer(s)
    assert.ok(!(await cluster.peers()).some((p) => p.node_id === id))
    const c = clientFrom(s, { maxRetries: 0 })
    assert.equal((await c.read(`${prefix}/credentials/cred3`)).data.token, value('cred3'))
    // Joined again: a fresh data dir, `retry_join` finds the leader, the one key unseals it.
    await cluster.kill(s)
    await cluster.start(s, { wipe: true })
    await cluster.waitHealthy()
    const peers = await cluster.peers()
    assert.ok(
      peers.some((p) => p.node_id === id),
      JSON.stringify(peers),
    )
    assert.equal(peers.length, 3)
  })

  test(
    'the leader killed during 10,000 getCredential and resolve calls from 4 processes: 0 failures',
    { timeout: 200000 },
    async () => {
      const leader = await cluster.waitForLeader()
      // The client's first address is the leader, so the kill is felt.
      const env = {
        PATH: process.env.PATH,
        HOME: home,
        VAULT_ADDR: cluster.addrs[leader],
        OPENCLAW_VAULT_ADDRS: cluster.addrs.filter((_, i) => i !== leader).join(','),
        VAULT_TOKEN: cluster.token,
        VAULT_MAX_RETRIES: '10',
        OPENCLAW_VAULT_PREFIX: prefix,
        OPENCLAW_VAULT_FALLBACK: 'none',
        // A lookup may wait out an election (default 1.5 s, then the breaker serves the last
        // known good value, which this test counts as a failure: it wants Vault's answer).
        OPENCLAW_VAULT_LOOKUP_TIMEOUT_MS: '8000',
      }
      const ids = names.map((n) => `${prefix}/credentials/${n}#token`)
      const plan = [
        ['credential', 3000, names],
        ['credential', 3000, names],
        ['credential', 3000, names],
        ['resolve', 1000, ids],
      ]
      const procs = plan.map(([mode, calls, list]) => load(mode, calls, list, env))
      // A hung load must not outlive the test: each child is killed by pid at the deadline.
      const deadline = setTimeout(() => procs.forEach((p) => p.kill()), 150000)
      // Kill once every process has made a tenth of its calls.
      await Promise.all(procs.map((p, i) => p.reached(plan[i][1] / 10)))
      const killedAt = performance.now()
      await cluster.kill(leader)
      const results = await Promise.all(procs.map((p) => p.done)).finally(() => clearTimeout(deadline))
      const total = results.reduce((n, r) => n + r.calls, 0)
      assert.equal(total, 10000)
      assert.deepEqual(
        results.map((r) => r.errors),
        [[], [], [], []],
      )
      assert.equal(
        results.reduce((n, r) => n + r.failures, 0),
        0,
      )
      const newLeader = await cluster.waitForLeader()
      assert.notEqual(newLeader, leader)
      console.log(
        `leader killed after ${Math.round(killedAt)} ms; longest call ${Math.max(...results.map((r) => r.maxMs))} ms`,
      )
      await cluster.start(leader)
      await cluster.waitHealthy()
    },
  )

  test('no leader: the error names every node and what it answered', async () => {
    const leader = await cluster.waitForLeader()
    const others = [0, 1, 2].filter((i) => i !== leader)
    await cluster.kill(leader)
    await cluster.kill(others[0])
    const c = clientFrom(others[1], { maxRetries: 1, retryBackoffMs: 10, timeoutMs: 3000 })
    const err = await c.read(`${prefix}/credentials/cred4`).catch((e) => e)
    assert.ok(err instanceof Error, String(err))
    assert.match(err.message, /no node of the cluster could serve it/)
    for (const addr of cluster.addrs) assert.ok(err.message.includes(addr), err.message)
    assert.match(err.message, /connection failed/)
    await assertNoLeak(assert, err, [cluster.token, value('cred4')])
  })
})

/** Starts a load process; `{ reached(n), done }`. */
function load(mode, calls, list, env) {
  const child = spawn(
    process.execPath,
    [join(root, '__test__/support/cluster-load.mjs'), mode, String(calls), list.join(',')],
    {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  let progress = 0
  let last = null
  let closed = false
  const lines = createInterface({ input: child.stdout })
  lines.on('line', (line) => {
    const msg = JSON.parse(line)
    if (msg.progress) progress = msg.progress
    if (msg.calls !== undefined) last = msg
  })
  const done = new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => {
      closed = true
      if (last) resolve(last)
      else reject(new Error(`${mode} load exited ${code} without a result after ${progress} of ${calls} calls`))
    })
  })
  const reached = (n) =>
    new Promise((resolve) => {
      const check = () => {
        if (progress >= n || last || closed) {
          lines.off('line', check)
          resolve()
        }
      }
      lines.on('line', check)
      child.once('close', check)
      check()
    })
  const kill = () => closed || process.kill(child.pid, 'SIGKILL')
  return { done, reached, kill }
}
