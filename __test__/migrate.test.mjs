// `openclaw-vault migrate` end to end, as a user runs it: the sample HOME of realistic files, a real
// dev server, the CLI through its Node shim. Kill-and-resume at every checkpoint, conflicts,
// --rewrite-config-json5 on the JSON5 config, a corrupt journal, a bad credential file.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { VaultClient } from '../index.js'
import { removeTree, root, startVault, uniquePrefix, vaultFetch } from './support/vault-server.mjs'

const bin = join(root, 'bin', 'openclaw-vault.js')
let vault
let client
const homes = []
const prefixes = []

before(async () => {
  vault = await startVault()
  client = new VaultClient({ addr: vault.addr, token: vault.token, renew: false })
})
after(async () => {
  for (const p of prefixes) if (vault) await removeTree(vault, p)
  await vault?.stop()
  for (const h of homes) rmSync(h, { recursive: true, force: true })
})

function sampleHome() {
  const home = mkdtempSync(join(tmpdir(), 'ocv-migrate-home-'))
  homes.push(home)
  cpSync(join(root, 'examples', 'sample-home'), home, { recursive: true })
  const fix = (d) => {
    chmodSync(d, 0o700)
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) fix(join(d, e.name))
      else chmodSync(join(d, e.name), 0o600)
    }
  }
  fix(home)
  return home
}

function newPrefix(name) {
  const p = uniquePrefix(name)
  prefixes.push(p)
  return p
}

function migrate(home, prefix, args, env = {}) {
  const r = spawnSync(process.execPath, [bin, 'migrate', ...args], {
    env: {
      HOME: home,
      PATH: process.env.PATH,
      VAULT_ADDR: vault.addr,
      VAULT_TOKEN: vault.token,
      OPENCLAW_VAULT_PREFIX: prefix,
      ...env,
    },
    encoding: 'utf8',
    cwd: home,
  })
  let json = null
  try {
    json = JSON.parse(r.stdout)
  } catch {
    // left null
  }
  return { code: r.status, signal: r.signal, out: r.stdout, err: r.stderr, json }
}

/** Every secret value in the sample HOME's files, for leak checks. */
function sampleSecrets(home) {
  const out = []
  const walk = (v, k) => {
    if (typeof v === 'string' && /token|key|access|refresh/i.test(k ?? '') && v.length > 8) out.push(v)
    else if (v && typeof v === 'object') for (const [kk, x] of Object.entries(v)) walk(x, kk)
  }
  for (const f of [
    '.claude/.credentials.json',
    '.qwen/oauth_creds.json',
    '.codex/auth.json',
    '.openclaw/agents/main/agent/auth-profiles.json',
  ]) {
    walk(JSON.parse(readFileSync(join(home, f), 'utf8')))
  }
  return out
}

/** name -> current_version for everything under `<prefix>/credentials`. */
async function versions(prefix) {
  const listed = await client.list(`${prefix}/credentials`)
  const out = {}
  for (const name of listed) out[name] = (await client.readMetadata(`${prefix}/credentials/${name}`)).current_version
  return out
}

describe('openclaw-vault migrate', () => {
  test('--dry-run shows the plan (paths, sizes, fingerprints), never a value, and writes nothing', async () => {
    const home = sampleHome()
    const prefix = newPrefix('dry')
    const r = migrate(home, prefix, ['--dry-run', '--json'])
    assert.equal(r.code, 0, r.err)
    const items = r.json.plan.items
    assert.ok(items.length >= 10)
    const telegram = items.find((i) => i.name === 'telegram')
    assert.equal(telegram.vaultPath, `secret/${prefix}/credentials/telegram`)
    assert.match(telegram.fingerprint, /^[0-9a-f]{16}$/)
    // Keyed by the key in Vault (created once), so it compares across runs, not across installs.
    assert.equal(r.json.plan.fingerprintScope, 'vault')
    const again = migrate(home, prefix, ['--dry-run', '--json'])
    assert.equal(again.json.plan.items.find((i) => i.name === 'telegram').fingerprint, telegram.fingerprint)
    assert.ok(telegram.size > 0)
    for (const s of sampleSecrets(home))
      assert.ok(!r.out.includes(s) && !r.err.includes(s), 'a value leaked into the plan')
    assert.deepEqual(await client.list(`${prefix}/credentials`), [])
  })

  test('applies create-only and verified; a rerun is a no-op', async () => {
    const home = sampleHome()
    const prefix = newPrefix('apply')
    const r = migrate(home, prefix, ['--yes', '--json'])
    assert.equal(r.code, 0, r.err)
    const planned = r.json.plan.items.length
    assert.equal(r.json.report.counts.created, planned)
    assert.equal(r.json.report.counts.verified, planned)
    const v = await versions(prefix)
    assert.equal(Object.keys(v).length, planned)
    assert.ok(Object.values(v).every((n) => n === 1))
    // The tokens Claude Code, Codex, Qwen Code and Gemini CLI own stay where they are, listed with
    // their owner.
    const owned = Object.fromEntries(r.json.plan.ownedByCli.map((o) => [o.name, o]))
    assert.deepEqual(Object.keys(owned).sort(), ['anthropic', 'codex', 'gemini', 'qwen'])
    assert.equal(owned.anthropic.owner.cli, 'Claude Code')
    assert.equal(owned.anthropic.source.provider, 'claude-code')
    assert.equal(owned.codex.owner.renew, '`codex login`')
    assert.ok(!owned.anthropic.taken && /works once/.test(owned.anthropic.reason))
    assert.ok(!r.json.plan.items.some((i) => i.name === 'anthropic' || i.name === 'codex'))
    assert.equal(await client.read(`${prefix}/credentials/anthropic`), null)
    assert.ok(
      r.json.plan.items.some((i) => i.name === 'openai'),
      "Codex's API key is not owned: migrated",
    )
    assert.equal(statSync(join(home, '.openclaw/vault-migrate.journal')).mode & 0o777, 0o600)

    const again = migrate(home, prefix, ['--yes', '--json'])
    assert.equal(again.code, 0, again.err)
    assert.equal(again.json.report.counts.created, 0)
    assert.equal(again.json.report.counts.alreadyThere, planned)
    assert.deepEqual(await versions(prefix), v)

    // Taken over: migrated after a plain warning; Claude Code's file is left as it was.
    const claudeFile = join(home, '.claude/.credentials.json')
    const claudeBytes = readFileSync(claudeFile)
    const taken = migrate(home, prefix, ['--yes', '--take-ownership', 'anthropic'])
    assert.equal(taken.code, 0, taken.err)
    assert.match(taken.err, /Claude Code on this machine will be logged out at its next refresh/)
    const claude = JSON.parse(claudeBytes.toString('utf8')).claudeAiOauth
    const stored = await client.read(`${prefix}/credentials/anthropic`)
    assert.equal(stored.data.accessToken, claude.accessToken)
    assert.equal(stored.data.kind, 'oauth')
    assert.deepEqual(readFileSync(claudeFile), claudeBytes)
    for (const s of sampleSecrets(home)) assert.ok(!taken.out.includes(s) && !taken.err.includes(s), 'a value leaked')
  })

  test('a different value already in Vault is a conflict (exit 4), kept until --overwrite', async () => {
    const home = sampleHome()
    const prefix = newPrefix('conflict')
    await client.write(`${prefix}/credentials/telegram`, { kind: 'token', token: 'someone-elses-token' })
    const r = migrate(home, prefix, ['--yes', '--json'])
    assert.equal(r.code, 4, r.err)
    assert.equal(r.json.report.counts.conflict, 1)
    assert.equal((await client.read(`${prefix}/credentials/telegram`)).data.token, 'someone-elses-token')
    const o = migrate(home, prefix, ['--yes', '--json', '--overwrite'])
    assert.equal(o.code, 0, o.err)
    const now = await client.read(`${prefix}/credentials/telegram`)
    assert.notEqual(now.data.token, 'someone-elses-token')
    assert.equal(now.metadata.version, 2)
  })

  test('killed at every checkpoint and run again: nothing lost, nothing duplicated', async () => {
    const home = sampleHome()
    const prefix = newPrefix('kill')
    const reference = newPrefix('kill-ref')
    // Every token a CLI owns taken over too, so the run has every kind of item to be killed in.
    const all = ['--yes', '--json', ...['anthropic', 'codex', 'gemini', 'qwen'].flatMap((n) => ['--take-ownership', n])]
    const full = migrate(home, reference, [...all, '--journal', join(home, 'ref.journal')])
    assert.equal(full.code, 0, full.err)
    const expected = await versions(reference)
    let n = 1
    for (; n < 200; n++) {
      // The hook is built into the test addon only (never into the executable that ships).
      const killed = migrate(home, prefix, all, {
        OPENCLAW_VAULT_TEST_ABORT_AFTER: String(n),
        OPENCLAW_VAULT_NATIVE: '0',
      })
      if (killed.code === 0) break // ran past its last checkpoint
      assert.equal(killed.code, 137, `run ${n}: ${killed.err}`)
    }
    assert.ok(n > 5, `only ${n} checkpoints`)
    const resumed = migrate(home, prefix, all)
    assert.equal(resumed.code, 0, resumed.err)
    assert.deepEqual(await versions(prefix), expected, 'every secret exactly once, at version 1')
    for (const name of Object.keys(expected)) {
      const [a, b] = await Promise.all([
        client.read(`${reference}/credentials/${name}`),
        client.read(`${prefix}/credentials/${name}`),
      ])
      assert.deepEqual(b.data, a.data, name)
    }
  })

  test('a corrupt journal is refused with its file and line, and nothing is written', async () => {
    const home = sampleHome()
    const prefix = newPrefix('journal')
    const journal = join(home, 'bad.journal')
    writeFileSync(journal, 'this is not a journal\n{"broken": \n', { mode: 0o600 })
    const r = migrate(home, prefix, ['--yes', '--journal', journal])
    assert.notEqual(r.code, 0)
    assert.match(r.err, /bad\.journal/)
    assert.deepEqual(await client.list(`${prefix}/credentials`), [])
  })

  test('a broken credential file is reported; the rest is migrated; the broken file is untouched', async () => {
    const home = sampleHome()
    const prefix = newPrefix('broken')
    const file = join(home, '.qwen/oauth_creds.json')
    writeFileSync(file, '{"access_token": "qwen-LEAKME-123", ', { mode: 0o600 })
    const r = migrate(home, prefix, ['--yes', '--json'])
    // Exit 1: something could not be migrated, and the run says so; the rest is in Vault.
    assert.equal(r.code, 1, r.err)
    assert.ok(r.json.plan.sourceErrors.some((e) => e.provider === 'qwen' && e.message.includes('oauth_creds.json')))
    assert.ok(!r.out.includes('qwen-LEAKME-123') && !r.err.includes('qwen-LEAKME-123'))
    assert.equal(readFileSync(file, 'utf8'), '{"access_token": "qwen-LEAKME-123", ')
    assert.ok((await client.list(`${prefix}/credentials`)).includes('telegram'))
  })

  test('--rewrite-config-json5 replaces plaintext secrets with SecretRefs, keeps comments, backs up, 0600', async () => {
    const home = sampleHome()
    const prefix = newPrefix('rewrite')
    const config = join(home, '.openclaw/openclaw.json')
    const original = readFileSync(config, 'utf8')
    const r = migrate(home, prefix, ['--yes', '--json', '--rewrite-config-json5'])
    assert.equal(r.code, 0, r.err)
    const after = readFileSync(config, 'utf8')
    assert.notEqual(after, original)
    for (const line of original.split('\n').filter((l) => l.trim().startsWith('//'))) {
      assert.ok(after.includes(line.trim()), `comment lost: ${line}`)
    }
    assert.match(after, /"source": "exec"|source: "exec"|'exec'/)
    assert.match(after, new RegExp(`${prefix}/credentials/telegram/token`))
    assert.equal(statSync(config).mode & 0o777, 0o600)
    const backup = r.json.rewriteConfig.backup
    assert.equal(readFileSync(backup, 'utf8'), original)
    assert.equal(statSync(backup).mode & 0o777, 0o600)
    assert.ok(existsSync(backup))
    // The rewritten config still loads, and the plaintext telegram token is gone from it.
    const telegram = (await client.read(`${prefix}/credentials/telegram`)).data.token
    assert.ok(!after.includes(telegram))
  })
})
