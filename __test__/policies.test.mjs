// The least-privilege policies of docs/migration-guide.md, taken from the document itself and
// loaded into a real dev server: the gateway policy is enough for getCredential, listCredentials,
// OAuth refresh (cas write-back and the refresh lease) and watchCredential, and no more.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { CredentialStore, VaultClient } from '../index.js'
import { removeTree, root, startVault, uniquePrefix, vaultFetch } from './support/vault-server.mjs'

const prefix = uniquePrefix('policy')
let vault
let admin
let home

/** The ```hcl block that follows the mention of `file` in the migration guide, for our prefix. */
export function policyFromGuide(file, thePrefix) {
  const doc = readFileSync(join(root, 'docs', 'migration-guide.md'), 'utf8')
  const at = doc.indexOf('`' + file + '`')
  assert.ok(at >= 0, `${file} is not in docs/migration-guide.md`)
  const block = doc.slice(at).match(/```hcl\n([\s\S]*?)```/)
  assert.ok(block, `no hcl block after ${file}`)
  return block[1]
    .replaceAll('secret/data/openclaw/', `secret/data/${thePrefix}/`)
    .replaceAll('secret/metadata/openclaw/', `secret/metadata/${thePrefix}/`)
    .replaceAll('secret/metadata/openclaw"', `secret/metadata/${thePrefix}"`)
}

/** A token holding only the named policy from the guide. */
export async function tokenWithPolicy(vault, file, thePrefix) {
  const name = file.replace('.hcl', '') + '-' + Math.random().toString(36).slice(2, 8)
  const put = await vaultFetch(vault, 'PUT', `sys/policies/acl/${name}`, {
    body: { policy: policyFromGuide(file, thePrefix) },
  })
  assert.equal(put.status, 204, put.text)
  const created = await vaultFetch(vault, 'POST', 'auth/token/create', {
    body: { policies: [name], no_default_policy: true, ttl: '1h' },
  })
  assert.equal(created.status, 200, created.text)
  return created.json.auth.client_token
}

before(async () => {
  vault = await startVault()
  admin = new VaultClient({ addr: vault.addr, token: vault.token, renew: false })
  home = mkdtempSync(join(tmpdir(), 'ocv-policy-home-'))
})
after(async () => {
  if (vault) await removeTree(vault, prefix)
  await vault?.stop()
  if (home) rmSync(home, { recursive: true, force: true })
})

describe('openclaw-gateway.hcl', () => {
  test('reads, lists, refreshes and watches; cannot create new credentials', async () => {
    const token = await tokenWithPolicy(vault, 'openclaw-gateway.hcl', prefix)
    await admin.write(`${prefix}/credentials/telegram`, { kind: 'token', token: '111:policy-telegram' })
    await admin.write(`${prefix}/credentials/anthropic`, {
      kind: 'oauth',
      accessToken: 'sk-ant-oat01-old',
      refreshToken: 'sk-ant-ort01-policy',
      expiresAt: Date.now() - 1000,
    })
    const store = new CredentialStore({
      env: { HOME: home, VAULT_ADDR: vault.addr, VAULT_TOKEN: token, OPENCLAW_VAULT_PREFIX: prefix },
    })
    const t = await store.getCredential('telegram')
    assert.equal(t.source.provider, 'vault')
    assert.equal(t.expose(), '111:policy-telegram')

    const listed = await store.listCredentials({ order: ['vault'] })
    assert.deepEqual(listed.map((c) => c.name).sort(), ['anthropic', 'telegram'])

    const a = await store.getCredential('anthropic', {
      refresh: async () => ({ accessToken: 'sk-ant-oat01-new', expiresIn: 3600 }),
    })
    assert.equal(a.expose('accessToken'), 'sk-ant-oat01-new')
    const stored = await admin.read(`${prefix}/credentials/anthropic`)
    assert.equal(stored.data.accessToken, 'sk-ant-oat01-new')
    assert.equal(stored.data.refreshToken, 'sk-ant-ort01-policy')

    const changed = new Promise((resolve, reject) => {
      let watch
      store
        .watchCredential(
          'telegram',
          (err, c) => {
            watch?.stop()
            if (err) reject(err)
            else resolve(c)
          },
          { intervalMs: 50 },
        )
        .then((w) => {
          watch = w
          return admin.write(`${prefix}/credentials/telegram`, { kind: 'token', token: '111:rotated' })
        }, reject)
    })
    assert.equal((await changed).expose(), '111:rotated')

    // The gateway may not create credentials.
    const gw = new VaultClient({ addr: vault.addr, token, renew: false })
    const denied = await gw.write(`${prefix}/credentials/new-one`, { kind: 'token', token: 'x' }).catch((e) => e)
    assert.equal(denied.code, 'PERMISSION_DENIED')
  })
})
