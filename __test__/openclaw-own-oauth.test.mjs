// OpenClaw's OWN OAuth logins and the archives its doctor leaves, on a state the REAL `openclaw`
// CLI (2026.9.6) made: a legacy `credentials/oauth.json` (`qwen-portal`) and a legacy
// `agents/main/agent/auth-profiles.json` (an openai API key), imported by `openclaw doctor --fix`
// into its SQLite store (`qwen-portal:default`, type oauth), which archives both files as
// `<file>.migrated-<time>-<uuid>` (attack 7, finding 10i).
// - the OAuth profile is OpenClaw's: migrate sets it aside (owner `openclaw`), writes nothing of
//   it to Vault, exits 0; `--take-ownership` is refused; `get` answers OpenClaw's live store;
// - the archives still hold the legacy plaintext: migrate names each, says whether its values are
//   in Vault, and `--remove-backups` deletes only the one whose every value is.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { VaultClient } from '../index.js'
import { removeTree, startVault, uniquePrefix } from './support/vault-server.mjs'
import { sameOnEveryNode, nodeDependentOnly } from './support/node-pass.mjs'
import { copyState, openclawEnv, openclawOk, removeTempDirs, sharedState } from './support/openclaw-state.mjs'

const { nativeExecutable } = createRequire(import.meta.url)('../bin/native.js')
const native = nativeExecutable()
assert.ok(native, 'the native executable is missing: run `node scripts/build-native.mjs`')

const V = {
  qwenAccess: 'FAKE-own-oauth-qwen-access-0001',
  qwenRefresh: 'FAKE-own-oauth-qwen-refresh-0002',
  openai: 'sk-proj-FAKE-own-oauth-openai-0003',
}
let vault
let client
const dirs = []
const prefixes = []

before(async () => {
  if (nodeDependentOnly) return
  vault = await startVault()
  client = new VaultClient({ addr: vault.addr, token: vault.token, renew: false })
})

after(async () => {
  for (const p of prefixes) if (vault) await removeTree(vault, p)
  await vault?.stop()
  removeTempDirs(dirs)
})

function tempDir(name) {
  const d = mkdtempSync(join(tmpdir(), `ocv-ownoauth-${name}-`))
  chmodSync(d, 0o700)
  dirs.push(d)
  return d
}

function writePrivate(file, value) {
  mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 })
  writeFileSync(file, JSON.stringify(value), { mode: 0o600 })
}

/** The legacy files, imported by the real `openclaw doctor --fix`. */
const pristine = () =>
  sharedState('doctor', () => {
    const s = tempDir('pristine')
    writePrivate(join(s, 'credentials', 'oauth.json'), {
      'qwen-portal': { access: V.qwenAccess, refresh: V.qwenRefresh, expires: Date.now() + 86_400_000 },
    })
    writePrivate(join(s, 'agents', 'main', 'agent', 'auth-profiles.json'), {
      version: 1,
      profiles: { 'openai:default': { type: 'api_key', provider: 'openai', key: V.openai } },
    })
    openclawOk(['doctor', '--fix', '--non-interactive'], { state: s })
    return s
  })

/** A fresh copy of the doctored state and a Vault prefix of its own. */
async function fresh(name) {
  const s = copyState(await pristine(), tempDir(name))
  const prefix = uniquePrefix(`ownoauth-${name}`)
  prefixes.push(prefix)
  return { s, prefix }
}

function cli(s, prefix, args) {
  const r = spawnSync(native, args, {
    cwd: s,
    env: openclawEnv({ state: s, vault, env: { OPENCLAW_VAULT_PREFIX: prefix } }),
    encoding: 'utf8',
    timeout: 300000,
  })
  for (const v of Object.values(V)) {
    assert.ok(!r.stdout.includes(v) && !r.stderr.includes(v), `a value leaked: ${r.stdout}${r.stderr}`)
  }
  let json = null
  try {
    json = JSON.parse(r.stdout)
  } catch {
    // left null
  }
  return { code: r.status, out: r.stdout, err: r.stderr, json }
}

const archives = (s) => [
  ...readdirSync(join(s, 'credentials'))
    .filter((n) => n.startsWith('oauth.json.migrated-'))
    .map((n) => join(s, 'credentials', n)),
  ...readdirSync(join(s, 'agents', 'main', 'agent'))
    .filter((n) => n.startsWith('auth-profiles.json.migrated-'))
    .map((n) => join(s, 'agents', 'main', 'agent', n)),
]

describe('OpenClaw’s own OAuth login and its doctor’s archives (real openclaw doctor --fix)', sameOnEveryNode, () => {
  test('the doctor imported the OAuth login into its store and archived both legacy files', async () => {
    const s = await pristine()
    assert.ok(!existsSync(join(s, 'credentials', 'oauth.json')))
    const found = archives(s)
    assert.equal(found.length, 2, `archives: ${readdirSync(join(s, 'credentials'))}`)
  })

  test('an OAuth profile of OpenClaw’s store is set aside (owner openclaw), never written to Vault; get answers the store', async () => {
    const { s, prefix } = await fresh('aside')
    const dry = cli(s, prefix, ['migrate', '--dry-run', '--json'])
    assert.equal(dry.code, 0, dry.out + dry.err)
    const names = dry.json.plan.items.map((i) => i.name)
    assert.ok(
      names.every((n) => !n.startsWith('qwen-portal')),
      `planned: ${names}`,
    )
    const owned = dry.json.plan.ownedByCli.find((o) => o.name === 'qwen-portal:default')
    assert.ok(owned, JSON.stringify(dry.json.plan.ownedByCli))
    assert.equal(owned.owner.id, 'openclaw')
    assert.equal(owned.owner.cli, 'OpenClaw')
    assert.equal(owned.taken, false)
    assert.match(owned.reason, /OpenClaw refreshes it in its own store; a copy in Vault would go stale/)

    const text = cli(s, prefix, ['migrate', '--yes', '--remove-local'])
    assert.equal(text.code, 0, text.out + text.err)
    assert.match(text.out, /Owned by OpenClaw, not migrated \(\d+ credential\(s\)\):\n(.*\n)*\s+qwen-portal:default\s/)
    const inVault = await client.list(`${prefix}/credentials`)
    assert.ok(
      inVault.every((k) => !k.startsWith('qwen-portal')),
      `in Vault: ${inVault}`,
    )
    assert.ok(inVault.includes('openai:default'), `in Vault: ${inVault}`)

    // Never taken over: a clear refusal, nothing written.
    const take = cli(s, prefix, ['migrate', '--yes', '--json', '--take-ownership', 'qwen-portal:default'])
    assert.notEqual(take.code, 0)
    assert.equal(take.json.error.code, 'INVALID_ARGUMENT')
    assert.match(take.json.error.message, /OpenClaw owns this OAuth login and keeps refreshing it in its own store/)
    assert.ok((await client.list(`${prefix}/credentials`)).every((k) => !k.startsWith('qwen-portal')))

    // OpenClaw's live store still holds it (--remove-local left it), and `get` answers it.
    const got = cli(s, prefix, ['get', 'qwen-portal:default', '--json'])
    assert.equal(got.code, 0, got.out + got.err)
    assert.equal(got.json.source.provider, 'openclaw-auth-store')
  })

  test('the doctor’s archives are named with whether their plaintext is in Vault; --remove-backups deletes only the one fully in Vault', async () => {
    const { s, prefix } = await fresh('archives')
    const [oauthArchive, profilesArchive] = archives(s)
    const first = cli(s, prefix, ['migrate', '--yes'])
    assert.equal(first.code, 0, first.out + first.err)
    assert.ok(first.err.includes(`warning: ${oauthArchive} is an archive \`openclaw doctor --fix\` left`), first.err)
    assert.match(first.err, /holds 2 plaintext secret value\(s\), 2 of them in no version in Vault/)
    assert.ok(first.err.includes(`warning: ${profilesArchive} is an archive`), first.err)
    assert.match(
      first.err,
      /holds 1 plaintext secret value\(s\), every one of them is in Vault; --remove-backups deletes it/,
    )

    const json = cli(s, prefix, ['migrate', '--yes', '--json'])
    assert.equal(json.code, 0, json.out + json.err)
    assert.deepEqual(
      json.json.legacyArchives.map((a) => [a.file, a.secrets, a.notInVault]),
      // Sorted by path.
      [
        [profilesArchive, 1, 0],
        [oauthArchive, 2, 2],
      ],
    )

    const removed = cli(s, prefix, ['migrate', '--yes', '--remove-backups'])
    assert.equal(removed.code, 0, removed.out + removed.err)
    assert.ok(removed.out.includes(`removed ${profilesArchive}`), removed.out)
    assert.ok(!existsSync(profilesArchive))
    assert.ok(existsSync(oauthArchive), 'an archive holding values not in Vault is kept')
    assert.ok(removed.err.includes(`warning: ${oauthArchive} is an archive`), removed.err)
  })
})
