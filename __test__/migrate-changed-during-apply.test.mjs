// A secret that changes while `migrate --rewrite-config` runs, between this package's Vault write
// and OpenClaw's apply (attack 6, finding 3: about 20 s on a real machine, while OpenClaw starts
// and audits). OpenClaw's apply then replaces the NEWER plaintext with a ref to the older value.
// The run must notice (the `openclaw.json.bak` OpenClaw rotates aside at that moment holds the
// newer value) and put the newer value in Vault, so the ref resolves to what the user set last.
// The change is made by the real OpenClaw (`config set`), from the `--openclaw` script, right
// before it runs `secrets apply`: the same moment, without a race.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'

import { VaultClient } from '../index.js'
import { removeTree, startFaultProxy, startVault, uniquePrefix } from './support/vault-server.mjs'
import { openclawEnv, openclawOk, openclawScript, removeTempDirs } from './support/openclaw-state.mjs'

const { nativeExecutable } = createRequire(import.meta.url)('../bin/native.js')
const OLD = 'gwtok-FAKE-changed-during-apply-old-0001'
const NEW = 'gwtok-FAKE-changed-during-apply-new-0002'
let vault
let prefix
const dirs = []

before(async () => {
  vault = await startVault()
  prefix = uniquePrefix('changed-apply')
})
after(async () => {
  if (vault && prefix) await removeTree(vault, prefix)
  await vault?.stop()
  removeTempDirs(dirs)
})

test('a value changed right before OpenClaw applies: the ref resolves to the newer value, which Vault holds as a new version', async () => {
  const native = nativeExecutable()
  assert.ok(native, 'the native executable is missing: run `node scripts/build-native.mjs`')
  const state = mkdtempSync(join(tmpdir(), 'ocv-changed-apply-'))
  chmodSync(state, 0o700)
  dirs.push(state)
  openclawOk(['config', 'set', 'gateway.auth.mode', 'token'], { state })
  openclawOk(['config', 'set', 'gateway.auth.token', OLD], { state })
  const cli = mkdtempSync(join(tmpdir(), 'ocv-changed-apply-cli-'))
  dirs.push(cli)
  const real = openclawScript(cli, { name: 'openclaw-real' })
  const wrapper = openclawScript(cli, {
    prelude: `if [ "$1" = secrets ] && [ "$2" = apply ]; then "${real}" config set gateway.auth.token ${NEW} >/dev/null 2>&1 || exit 97; fi`,
  })
  const env = openclawEnv({ state, vault, env: { OPENCLAW_VAULT_PREFIX: prefix } })
  const r = spawnSync(native, ['migrate', '--yes', '--json', '--rewrite-config', '--openclaw', wrapper], {
    cwd: state,
    env,
    encoding: 'utf8',
    timeout: 300_000,
  })
  for (const v of [OLD, NEW, vault.token]) assert.ok(!`${r.stdout}${r.stderr}`.includes(v), 'a secret was printed')
  assert.equal(r.status, 0, r.stdout + r.stderr)
  const report = JSON.parse(r.stdout)
  const changed = report.rewriteConfig.changedBeforeApply
  assert.equal(changed?.length, 1, JSON.stringify(report.rewriteConfig))
  assert.equal(changed[0].path, 'gateway.auth.token')
  assert.equal(changed[0].version, 2)
  // openclaw.json holds the ref, and it resolves (as OpenClaw's resolver would) to the newer value.
  const config = JSON.parse(readFileSync(join(state, 'openclaw.json'), 'utf8'))
  assert.equal(config.gateway.auth.token.provider, 'openclaw-vault')
  const resolved = spawnSync(native, ['resolve'], {
    env: { VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token },
    input: JSON.stringify({ protocolVersion: 1, provider: 'openclaw-vault', ids: [config.gateway.auth.token.id] }),
    encoding: 'utf8',
  })
  assert.equal(JSON.parse(resolved.stdout).values[config.gateway.auth.token.id], NEW, resolved.stderr)
  // Vault keeps the older value as version 1 (nothing lost either way).
  const client = new VaultClient({ addr: vault.addr, token: vault.token, renew: false })
  const path = changed[0].vaultPath
  assert.equal((await client.read(path, { version: 1 })).data.token, OLD)
})

test('the run dies right after OpenClaw applied a changed value: the next run finds it in openclaw.json.bak and writes it; backups holding older versions are not "missing" (attack 7, findings 1 and 8)', async () => {
  const native = nativeExecutable()
  assert.ok(native, 'the native executable is missing: run `node scripts/build-native.mjs`')
  const state = mkdtempSync(join(tmpdir(), 'ocv-changed-died-'))
  chmodSync(state, 0o700)
  dirs.push(state)
  const OLD2 = 'gwtok-FAKE-died-after-apply-old-0003'
  const NEW2 = 'gwtok-FAKE-died-after-apply-new-0004'
  openclawOk(['config', 'set', 'gateway.auth.mode', 'token'], { state })
  openclawOk(['config', 'set', 'gateway.auth.token', OLD2], { state })
  const cli = mkdtempSync(join(tmpdir(), 'ocv-changed-died-cli-'))
  dirs.push(cli)
  const real = openclawScript(cli, { name: 'openclaw-real' })
  // The change, OpenClaw's real apply, then migrate killed before it can look at the backup.
  const wrapper = openclawScript(cli, {
    prelude: `if [ "$1" = secrets ] && [ "$2" = apply ]; then "${real}" config set gateway.auth.token ${NEW2} >/dev/null 2>&1 || exit 97; "${real}" "$@"; rc=$?; kill -9 $PPID; exit $rc; fi`,
  })
  const ownPrefix = uniquePrefix('changed-died')
  const env = openclawEnv({ state, vault, env: { OPENCLAW_VAULT_PREFIX: ownPrefix } })
  const client = new VaultClient({ addr: vault.addr, token: vault.token, renew: false })
  try {
    const died = spawnSync(native, ['migrate', '--yes', '--json', '--rewrite-config', '--openclaw', wrapper], {
      cwd: state,
      env,
      encoding: 'utf8',
      timeout: 300_000,
    })
    assert.equal(died.signal, 'SIGKILL', died.stdout + died.stderr)
    const config = JSON.parse(readFileSync(join(state, 'openclaw.json'), 'utf8'))
    const id = config.gateway.auth.token.id
    assert.equal(config.gateway.auth.token.provider, 'openclaw-vault', 'the apply ran')
    const resolve = () =>
      JSON.parse(
        spawnSync(native, ['resolve'], {
          env: { VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token },
          input: JSON.stringify({ protocolVersion: 1, provider: 'openclaw-vault', ids: [id] }),
          encoding: 'utf8',
        }).stdout,
      ).values[id]
    assert.equal(resolve(), OLD2, 'the ref reads the value migrate wrote before the change')

    // A rerun whose Vault refuses that write (403 through the fault proxy): an error naming the
    // path and where the newer value is, exit 1, nothing printed of it; the ref still reads the
    // old value, the backup is kept, and the next run (below) writes it.
    const proxy = await startFaultProxy(vault.addr)
    try {
      await proxy.rule({
        method: 'POST',
        path: `^/v1/secret/data/${ownPrefix}/credentials/`,
        action: {
          type: 'status',
          status: 403,
          body: '{"errors":["1 error occurred:\\n\\t* permission denied\\n\\n"]}',
        },
      })
      const refused = spawnSync(native, ['migrate', '--yes'], {
        cwd: state,
        env: { ...env, VAULT_ADDR: proxy.addr },
        encoding: 'utf8',
        timeout: 300_000,
      })
      for (const v of [OLD2, NEW2, vault.token])
        assert.ok(!`${refused.stdout}${refused.stderr}`.includes(v), 'a secret was printed')
      assert.equal(refused.status, 1, refused.stdout + refused.stderr)
      assert.match(
        refused.stderr,
        /error \[PERMISSION_DENIED\]: gateway\.auth\.token changed before OpenClaw's apply of an earlier run; the newer value is only in openclaw\.json\.bak and could not be written to Vault: .*`openclaw-vault put` it to /,
      )
      assert.equal(resolve(), OLD2)
      assert.ok(existsSync(join(state, 'openclaw.json.bak')))
    } finally {
      await proxy.stop()
    }

    const rerun = spawnSync(native, ['migrate', '--yes', '--json'], {
      cwd: state,
      env,
      encoding: 'utf8',
      timeout: 300_000,
    })
    for (const v of [OLD2, NEW2, vault.token])
      assert.ok(!`${rerun.stdout}${rerun.stderr}`.includes(v), 'a secret was printed')
    assert.equal(rerun.status, 0, rerun.stdout + rerun.stderr)
    const report = JSON.parse(rerun.stdout)
    assert.equal(report.unwrittenBeforeApply?.length, 1, rerun.stdout)
    assert.equal(report.unwrittenBeforeApply[0].path, 'gateway.auth.token')
    assert.equal(report.unwrittenBeforeApply[0].version, 2)
    assert.equal(resolve(), NEW2, 'the ref reads the newer value')
    const path = report.unwrittenBeforeApply[0].vaultPath
    assert.equal((await client.read(path, { version: 1 })).data.token, OLD2, 'the older value is kept')
    // No backup is "missing" from Vault now: the older value is version 1, the newer version 2.
    for (const b of report.plaintextLeftBehind) assert.deepEqual(b.notInVault, [], JSON.stringify(b))

    // A third run writes nothing more, and --remove-backups can finish.
    const third = spawnSync(native, ['migrate', '--yes', '--json', '--remove-backups'], {
      cwd: state,
      env,
      encoding: 'utf8',
      timeout: 300_000,
    })
    assert.equal(third.status, 0, third.stdout + third.stderr)
    assert.equal(JSON.parse(third.stdout).unwrittenBeforeApply, undefined)
    assert.equal((await client.readMetadata(path)).current_version, 2)
  } finally {
    await removeTree(vault, ownPrefix)
  }
})

test('a backup OpenClaw rotated for another reason (a value set by hand, then pointed back at Vault) is never written to Vault: only a run that died during its apply is checked (attack 10, F3)', async () => {
  const native = nativeExecutable()
  assert.ok(native, 'the native executable is missing: run `node scripts/build-native.mjs`')
  const state = mkdtempSync(join(tmpdir(), 'ocv-bak-abandoned-'))
  chmodSync(state, 0o700)
  dirs.push(state)
  const KEPT = 'gwtok-FAKE-abandoned-kept-0005'
  const ABANDONED = 'gwtok-FAKE-abandoned-by-hand-0006'
  openclawOk(['config', 'set', 'gateway.auth.mode', 'token'], { state })
  openclawOk(['config', 'set', 'gateway.auth.token', KEPT], { state })
  const cli = mkdtempSync(join(tmpdir(), 'ocv-bak-abandoned-cli-'))
  dirs.push(cli)
  const ownPrefix = uniquePrefix('bak-abandoned')
  const env = openclawEnv({ state, vault, env: { OPENCLAW_VAULT_PREFIX: ownPrefix } })
  const run = (args) => spawnSync(native, args, { cwd: state, env, encoding: 'utf8', timeout: 300_000 })
  try {
    const first = run(['migrate', '--yes', '--rewrite-config', '--openclaw', openclawScript(cli)])
    assert.equal(first.status, 0, first.stdout + first.stderr)
    assert.ok(!existsSync(join(state, 'vault-migrate.apply-pending')), 'the marker outlived a complete run')
    const ref = JSON.parse(readFileSync(join(state, 'openclaw.json'), 'utf8')).gateway.auth.token
    assert.equal(ref.provider, 'openclaw-vault')
    // A marker left by a run that died an hour ago (attack 11, G2): it names that apply's time,
    // and the backups written now are not that apply's.
    writeFileSync(
      join(state, 'vault-migrate.apply-pending'),
      `${JSON.stringify({ startedAtMs: Date.now() - 3_600_000 })}\n`,
      { mode: 0o600 },
    )
    // By hand: a plaintext for a while, then the ref again (each write rotates openclaw.json.bak).
    openclawOk(['config', 'set', 'gateway.auth.token', ABANDONED], { state })
    openclawOk(['config', 'set', 'gateway.auth.token', JSON.stringify(ref), '--strict-json'], { state })
    assert.ok(readFileSync(join(state, 'openclaw.json.bak'), 'utf8').includes(ABANDONED), 'no backup holds it')
    const rerun = run(['migrate', '--yes', '--json'])
    for (const v of [KEPT, ABANDONED, vault.token])
      assert.ok(!`${rerun.stdout}${rerun.stderr}`.includes(v), 'a secret was printed')
    assert.equal(JSON.parse(rerun.stdout).unwrittenBeforeApply, undefined, rerun.stdout)
    const client = new VaultClient({ addr: vault.addr, token: vault.token, renew: false })
    const path = ref.id.slice(0, ref.id.lastIndexOf('/'))
    assert.equal((await client.read(path)).data.token, KEPT, 'the abandoned value became current in Vault')
    assert.equal((await client.readMetadata(path)).current_version, 1)
    assert.ok(!existsSync(join(state, 'vault-migrate.apply-pending')), 'the checked marker was kept')
  } finally {
    await removeTree(vault, ownPrefix)
  }
})

test("an agent's profile changed in OpenClaw's SQLite store after migrate wrote it to Vault and before OpenClaw's apply: the ref resolves to the newer value (attack 10, F7)", async () => {
  const native = nativeExecutable()
  assert.ok(native, 'the native executable is missing: run `node scripts/build-native.mjs`')
  const state = mkdtempSync(join(tmpdir(), 'ocv-store-changed-'))
  chmodSync(state, 0o700)
  dirs.push(state)
  const OLD3 = 'sk-ant-api03-FAKE-store-changed-old-0007'
  const NEW3 = 'sk-ant-api03-FAKE-store-changed-new-0008'
  openclawOk(['agents', 'add', 'work', '--non-interactive', '--workspace', join(state, 'ws-work'), '--json'], { state })
  openclawOk(
    ['models', 'auth', 'paste-api-key', '--provider', 'anthropic', '--profile-id', 'anthropic:work', '--agent', 'work'],
    { state, input: OLD3 },
  )
  const cli = mkdtempSync(join(tmpdir(), 'ocv-store-changed-cli-'))
  dirs.push(cli)
  const real = openclawScript(cli, { name: 'openclaw-real' })
  // The change lands while migrate runs OpenClaw's audit, after its Vault write, before the apply.
  const wrapper = openclawScript(cli, {
    prelude: `if [ "$1" = secrets ] && [ "$2" = audit ]; then printf %s ${NEW3} | "${real}" models auth paste-api-key --provider anthropic --profile-id anthropic:work --agent work >/dev/null 2>&1 || exit 97; fi`,
  })
  const ownPrefix = uniquePrefix('store-changed')
  const env = openclawEnv({ state, vault, env: { OPENCLAW_VAULT_PREFIX: ownPrefix } })
  try {
    const r = spawnSync(native, ['migrate', '--yes', '--json', '--rewrite-config', '--openclaw', wrapper], {
      cwd: state,
      env,
      encoding: 'utf8',
      timeout: 300_000,
    })
    for (const v of [OLD3, NEW3, vault.token]) assert.ok(!`${r.stdout}${r.stderr}`.includes(v), 'a secret was printed')
    assert.equal(r.status, 0, r.stdout + r.stderr)
    const changed = JSON.parse(r.stdout).rewriteConfig.changedBeforeApply
    assert.equal(changed?.length, 1, r.stdout)
    assert.match(changed[0].path, /^agent work .*anthropic:work/)
    const client = new VaultClient({ addr: vault.addr, token: vault.token, renew: false })
    const now = await client.read(changed[0].vaultPath)
    assert.equal(now.data.apiKey, NEW3, 'Vault does not hold the newer key: it is lost')
    assert.equal((await client.read(changed[0].vaultPath, { version: 1 })).data.apiKey, OLD3)
  } finally {
    await removeTree(vault, ownPrefix)
  }
})
