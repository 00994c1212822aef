// Rotation that reaches a running gateway, and a gateway that starts while Vault is down, with the
// REAL OpenClaw gateway (support/gateway.mjs: Node 24, loopback, token auth, no channels, one
// model provider stub that records the key it receives). `openclaw-vault watch --reload` runs the
// real `openclaw secrets reload` (found on PATH) when the secret's Vault version changes. One
// gateway at a time; it is restarted only where the test is about a restart.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { gatewayHarness, outputMatches } from './support/gateway.mjs'
import { nodeDependentOnly, sameOnEveryNode } from './support/node-pass.mjs'
import { waitFor } from './support/vault-server.mjs'

let h
let gateway
let watcher

before(async () => {
  if (nodeDependentOnly) return // every suite here is sameOnEveryNode
  h = await gatewayHarness('gwrot')
  gateway = await h.startGateway()
})

after(async () => {
  await watcher?.stop()
  await gateway?.stop()
  await h?.cleanup()
})

const noSecretsIn = (text, ...more) => {
  for (const secret of [h.key(1), h.key(2), h.key(3), h.key(4), h.gatewayToken, h.vault.token, ...more])
    assert.ok(!text.includes(secret), 'a secret leaked into the output')
}

describe('watch --reload with a real gateway', { ...sameOnEveryNode, concurrency: false }, () => {
  test('a rotation in Vault reaches the running gateway within seconds', async () => {
    assert.equal(await h.keyUsedByGateway(), h.key(1))
    watcher = h.watch(['--interval-ms', '500', '--reload-timeout-ms', '5000'])
    await outputMatches(watcher, /gateway reloaded \(initial reload\)/)
    await h.client.write(h.path, { apiKey: h.key(2) })
    const written = Date.now()
    await outputMatches(watcher, /rotated \S+\/credentials\/stub: version 1 -> 2/)
    await outputMatches(watcher, /gateway reloaded \(1 rotation\(s\)\)/)
    const reloadedAfterMs = Date.now() - written
    assert.equal(await h.keyUsedByGateway(), h.key(2))
    assert.ok(reloadedAfterMs < 20000, `${reloadedAfterMs} ms`)
    // One line per rotation; no value or token anywhere in the companion's output.
    assert.equal((watcher.out.match(/rotated /g) ?? []).length, 1, watcher.out)
    noSecretsIn(watcher.out)
  })

  test('a gateway that is down: the reload fails with backoff, nothing is lost, and it recovers', async () => {
    await gateway.stop()
    gateway = null
    await h.client.write(h.path, { apiKey: h.key(3) })
    await outputMatches(watcher, /rotated \S+: version 2 -> 3/)
    // Two failed reloads naming why, the second waiting longer: the rotation stays pending.
    const failed = /gateway reload failed \(.*Gateway not reachable.*\); pending: 1 rotation\(s\); retrying in (\d+) ms/
    await outputMatches(watcher, failed, { count: 2 })
    const waits = [...watcher.out.matchAll(new RegExp(failed.source, 'g'))].map((m) => Number(m[1]))
    assert.ok(waits[1] > waits[0], JSON.stringify(waits))
    gateway = await h.startGateway()
    await outputMatches(watcher, /gateway reloaded \(1 rotation\(s\)\)/, { count: 2, timeoutMs: 60000 })
    await outputMatches(watcher, /recovered after \d+ ms of failures/)
    assert.equal(await h.keyUsedByGateway(), h.key(3))
    noSecretsIn(watcher.out)
  })

  // Attack 5a finding 1: a deletion left no trace, and the last-known-good file later served the
  // deleted value. Real Vault metadata (`deletion_time`), the real resolver's file.
  test('a deleted current version is a change: logged, reloaded, dropped from the last-known-good file', async () => {
    await h.client.delete(h.path)
    await outputMatches(watcher, /deleted \S+\/credentials\/stub: version 3 deleted in Vault/)
    await outputMatches(watcher, /dropped \S+\/credentials\/stub from the last-known-good file /)
    await outputMatches(watcher, /gateway reloaded \(1 deletion\(s\)\)/)
    assert.doesNotMatch(watcher.out, /rotated \S+: version 3 ->/)
    // A new version afterwards is a rotation again, and the resolver keeps it in the file.
    await h.client.write(h.path, { apiKey: h.key(4) })
    await outputMatches(watcher, /rotated \S+\/credentials\/stub: version 3 -> 4/)
    await outputMatches(watcher, /gateway reloaded \(1 rotation\(s\)\)/, { count: 3 })
    assert.equal(await h.keyUsedByGateway(), h.key(4))
    noSecretsIn(watcher.out)
    await watcher.stop()
    assert.equal(watcher.exitedWith.code, 0, watcher.out)
    watcher = null
  })

  test('a gateway restarted while Vault is stopped resolves from the last-known-good file; past maxAgeMs it fails closed', async () => {
    await gateway.stop()
    gateway = null
    await h.vault.stop()
    // Vault is gone: the resolver answers from the encrypted file earlier resolutions wrote.
    gateway = await h.startGateway()
    assert.equal(await h.keyUsedByGateway(), h.key(4))
    await gateway.stop()
    gateway = null
    // The same entry, now older than the maximum age (0 ms): not served; the gateway fails closed.
    h.writeSettings(0)
    const calls = h.seen.length
    gateway = h.spawnGateway()
    const gw = gateway
    let answer = null
    await waitFor(
      'the gateway to exit or to refuse a model call',
      async () => {
        if (gw.exitedWith) return true
        answer = await h.chat()
        return true
      },
      { timeoutMs: 90000, everyMs: 250 },
    )
    // Either it does not start, or it starts and refuses to call the provider: never the old key.
    if (answer) assert.notEqual(answer.status, 200, answer.text)
    assert.equal(h.seen.length, calls, 'the provider was called without a resolved key')
    const log = gw.out + readFileSync(join(h.state, 'gateway.log'), 'utf8')
    assert.match(log, /LAST_KNOWN_GOOD_EXPIRED|secret provider|unresolved|SecretRef/i, gw.out.slice(-3000))
    noSecretsIn(gw.out)
  })
})
