// Attack 8 finding 1: with gateway.auth.token an exec ref into Vault (as `migrate
// --rewrite-config` writes it), rotating the gateway token made every later `watch --reload` fail
// with "gateway token mismatch": the reload CLI resolved the NEW token while the running gateway
// still held the OLD one. The REAL OpenClaw gateway (support/gateway.mjs) and a dev Vault.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import { gatewayHarness, outputMatches } from './support/gateway.mjs'
import { nodeDependentOnly, sameOnEveryNode } from './support/node-pass.mjs'

let h
let gateway
let watcher
const tokens = []

before(async () => {
  if (nodeDependentOnly) return
  h = await gatewayHarness('gwtok', { tokenInVault: true })
  tokens.push(h.gatewayToken)
  gateway = await h.startGateway()
})

after(async () => {
  await watcher?.stop()
  await gateway?.stop()
  await h?.cleanup()
})

describe('watch --reload when the gateway token itself is in Vault', { ...sameOnEveryNode, concurrency: false }, () => {
  test('a rotated gateway token reloads with the token the gateway holds, and later rotations still reach it', async () => {
    watcher = h.watch(['--interval-ms', '500', '--reload-timeout-ms', '15000', '--unhealthy-after-ms', '0'])
    await outputMatches(watcher, /gateway reloaded \(initial reload\)/, { timeoutMs: 60000 })
    const next = await h.rotateGatewayToken()
    tokens.push(next)
    await outputMatches(watcher, /rotated \S+\/credentials\/gateway: version 1 -> 2/)
    await outputMatches(
      watcher,
      /the gateway token \(gateway\.auth\.token, \S+\/credentials\/gateway\) rotated: version 1 -> 2/,
    )
    await outputMatches(watcher, /gateway reloaded \(1 rotation\(s\)\)/, { timeoutMs: 60000 })
    // The gateway now holds the new token: a model key rotation reaches it too.
    h.gatewayToken = next
    await h.client.write(h.path, { apiKey: h.key(2) })
    await outputMatches(watcher, /rotated \S+\/credentials\/stub: version 1 -> 2/)
    await outputMatches(watcher, /gateway reloaded \(1 rotation\(s\)\)/, { count: 2, timeoutMs: 60000 })
    assert.doesNotMatch(watcher.out, /gateway reload failed/)
    assert.equal(await h.keyUsedByGateway(), h.key(2))
    for (const secret of [...tokens, h.key(1), h.key(2), h.vault.token])
      assert.ok(!watcher.out.includes(secret), 'a secret leaked into the output')
    await watcher.stop()
    assert.equal(watcher.exitedWith.code, 0, watcher.out)
    watcher = null
  })
})
