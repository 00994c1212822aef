// `openclaw-vault setup` when a write's answer is lost (the fault proxy runs the write on the real
// dev server and drops the answer): the write may have been applied, so setup undoes it with the
// steps before it, and says so; nothing it made is left behind (attack 9, finding 8: the message
// said "everything this run changed was undone" while that policy stayed).
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'

import { root, startFaultProxy, startVault, uniquePrefix, vaultFetch } from './support/vault-server.mjs'

const bin = join(root, 'bin', 'openclaw-vault.js')
const prefix = uniquePrefix('setup-undo')
let vault
let proxy
let home

before(async () => {
  vault = await startVault()
  proxy = await startFaultProxy(vault.addr)
  home = mkdtempSync(join(tmpdir(), 'ocv-setup-undo-'))
})
after(async () => {
  await proxy?.stop()
  await vault?.stop()
  if (home) rmSync(home, { recursive: true, force: true })
})

const cli = (args) => {
  const r = spawnSync(process.execPath, [bin, ...args], {
    env: {
      HOME: home,
      PATH: process.env.PATH,
      XDG_RUNTIME_DIR: join(home, 'no-runtime'),
      VAULT_ADDR: proxy.addr,
      VAULT_TOKEN: vault.token,
      VAULT_MAX_RETRIES: '2',
      OPENCLAW_VAULT_PREFIX: prefix,
    },
    encoding: 'utf8',
    timeout: 60000,
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

test('a policy write whose answer was lost is undone with the steps before it', async () => {
  const args = ['setup', '--team', 'ops', '--gateway', 'gw1', '--agent', 'alice', '--agent', 'bob']
  const dry = cli([...args, '--dry-run', '--json'])
  assert.equal(dry.code, 0, dry.out + dry.err)
  const policies = JSON.parse(dry.out)
    .steps.filter((s) => s.kind === 'policy')
    .map((s) => s.name)
  const alice = policies.find((n) => n.endsWith('-agent-alice'))
  assert.ok(alice, dry.out)
  // Vault stores alice's policy; the answer never comes back.
  await proxy.rule({
    method: 'PUT',
    path: `^/v1/sys/policies/acl/${alice}$`,
    times: 1,
    action: { type: 'drop_response' },
  })
  const run = cli(args)
  assert.notEqual(run.code, 0, run.out + run.err)
  assert.match(run.err, /may have been applied/)
  assert.match(run.err, /it was undone in case it ran, and so was everything this run changed before it/)
  assert.ok(run.err.includes(`sys/policies/acl/${alice}`), run.err)
  assert.ok(!(run.out + run.err).includes(vault.token))
  // Vault judges: none of setup's policies is there, alice's included.
  for (const name of policies) {
    const r = await vaultFetch(vault, 'GET', `sys/policies/acl/${name}`)
    assert.equal(r.status, 404, `${name}: ${r.status} ${r.text}`)
  }
  // The same command again completes it.
  const again = cli(args)
  assert.equal(again.code, 0, again.out + again.err)
  assert.equal((await vaultFetch(vault, 'GET', `sys/policies/acl/${alice}`)).status, 200)
  for (const name of policies) await vaultFetch(vault, 'DELETE', `sys/policies/acl/${name}`)
})
