// The real `openclaw` CLI for the tests, and OpenClaw states made by it.
//
// - `runOpenClaw`/`openclawOk`/`runOpenClawAsync` run the CLI (Node 24, scripts/ensure-openclaw.mjs)
//   with the environment every test gives it (`openclawEnv`: a private HOME/state dir, npm
//   offline so a channel plugin is never fetched from a registry);
// - `openclawScript` writes the `openclaw` script `migrate --rewrite-config` runs;
// - states are made once per test file (`sharedState`) and copied for each test (`copyState`: a
//   copy takes milliseconds, a state's `openclaw onboard`/`channels add`/`paste-api-key` calls
//   take seconds each under Node 24);
// - `removeTempDirs` removes a test's dirs with the lock files OpenClaw keeps for them outside
//   them (`/tmp/openclaw-state-locks-<uid>`, see `removeOpenClawLocks`).
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { ensureOpenClaw } from '../../scripts/ensure-openclaw.mjs'

let installed
/** The installed OpenClaw and its Node 24 (scripts/ensure-openclaw.mjs), looked up once. */
export function openclawInstall() {
  installed ??= ensureOpenClaw()
  return installed
}

/**
 * npm settings for every `openclaw` a test runs: OpenClaw installs a channel's plugin from npm on
 * first use (`channels add --channel discord`), which a test must never do. A registry that
 * refuses connections, and offline: such an install fails at once (tests link the plugin from the
 * local install of scripts/ensure-openclaw.mjs instead).
 */
export const npmOffline = { npm_config_registry: 'http://127.0.0.1:9', npm_config_offline: 'true' }

/**
 * The environment of an `openclaw` run by a test: nothing of the test runner's own but PATH.
 * `home` is HOME (default `state`); `state` (optional) is OPENCLAW_STATE_DIR, else OpenClaw uses
 * `<home>/.openclaw`; `vault` (`{ addr, token }`, optional) gives VAULT_ADDR and VAULT_TOKEN; `env`
 * is added last (it may override any of them).
 */
export function openclawEnv({ home, state, vault, env = {} } = {}) {
  return {
    HOME: home ?? state,
    ...(state ? { OPENCLAW_STATE_DIR: state } : {}),
    PATH: process.env.PATH,
    ...(vault ? { VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.token } : {}),
    ...npmOffline,
    ...env,
  }
}

const spawnArgs = (args, { node, home, state, vault, env, cwd, timeout = 180000 } = {}) => {
  const oc = openclawInstall()
  return [
    node ?? oc.node,
    [oc.openclawBin, ...args],
    { cwd: cwd ?? state ?? home, env: openclawEnv({ home, state, vault, env }), timeout },
  ]
}

/**
 * Runs the real `openclaw` with `args` and waits for it (the event loop waits too): `{ code,
 * signal, stdout, stderr }`. Options: those of `openclawEnv`, `input` (stdin), `cwd` (default the
 * state dir, else HOME), `node` (default OpenClaw's Node 24), `timeout` in ms (default 180 s; a
 * run past it is killed and has `code` null).
 */
export function runOpenClaw(args, options = {}) {
  const [node, argv, spawnOptions] = spawnArgs(args, options)
  const r = spawnSync(node, argv, { ...spawnOptions, input: options.input, encoding: 'utf8' })
  if (r.error && r.error.code !== 'ETIMEDOUT') throw r.error
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr }
}

/** `runOpenClaw`, asserting exit code 0 (the message has the command and its output). */
export function openclawOk(args, options) {
  const r = runOpenClaw(args, options)
  assert.equal(r.code, 0, `openclaw ${args.join(' ')}: ${r.stdout}\n${r.stderr}`)
  return r
}

/** `runOpenClaw` without blocking the event loop: a promise of the same result. */
export function runOpenClawAsync(args, options = {}) {
  const [node, argv, spawnOptions] = spawnArgs(args, options)
  return new Promise((resolve, reject) => {
    const child = spawn(node, argv, { ...spawnOptions, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d))
    child.once('error', reject)
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
    child.stdin.end(options.input ?? '')
  })
}

/**
 * Writes `<dir>/<name>` (default `openclaw`, mode 0700), a script running the real CLI with `node`
 * (default OpenClaw's Node 24) through `exec` (the CLI keeps the script's pid), after `prelude`
 * (sh, e.g. variables to export). What `migrate --rewrite-config --openclaw` and a PATH lookup
 * run. Returns its path.
 */
export function openclawScript(dir, { node, prelude = '', name = 'openclaw' } = {}) {
  const oc = openclawInstall()
  const file = join(dir, name)
  const run = `exec ${JSON.stringify(node ?? oc.node)} ${JSON.stringify(oc.openclawBin)} "$@"`
  writeFileSync(file, `#!/bin/sh\n${prelude ? `${prelude}\n` : ''}${run}\n`, { mode: 0o700 })
  return file
}

const made = new Map()

/**
 * The state `make` builds, built once per process for `key` (a promise; `make` may be async).
 * Tests must not change it: they take a `copyState` of it.
 */
export function sharedState(key, make) {
  if (!made.has(key)) made.set(key, Promise.resolve().then(make))
  return made.get(key)
}

/**
 * Copies the state dir `pristine` into the (empty, caller-made and caller-removed) dir `s`, modes
 * kept, and returns `s`. openclaw.json names agent dirs and workspaces absolutely: those paths are
 * rewritten to the copy's.
 */
export function copyState(pristine, s) {
  cpSync(pristine, s, { recursive: true })
  const config = join(s, 'openclaw.json')
  let text
  try {
    text = readFileSync(config, 'utf8')
  } catch (e) {
    if (e.code === 'ENOENT') return s
    throw e
  }
  writeFileSync(config, text.split(pristine).join(s), { mode: 0o600 })
  return s
}

// OpenClaw 2026.9.6 coordinates the processes using one SQLite state database through lock files
// outside the state dir: `/tmp/openclaw-state-locks-<uid>/<family>.<hash>.lock.sqlite`, `family`
// one of these, `hash` the first 8 hex digits of the SHA-256 of the database's real path
// (dist/sqlite-source-handle-*.mjs, resolveLifecycleCoordinatorBase: the directory is "/tmp",
// whatever TMPDIR says). Nothing removes them.
const LOCK_FAMILIES = ['gateway-lifecycle', 'state-lifecycle', 'state-handles']

function sqliteFiles(dir) {
  let entries
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return []
  }
  return entries.flatMap((e) => {
    const p = join(dir, e.name)
    if (e.isDirectory()) return sqliteFiles(p)
    return e.isFile() && e.name.endsWith('.sqlite') ? [p] : []
  })
}

/**
 * Removes the lock files OpenClaw keeps in `/tmp/openclaw-state-locks-<uid>` for the SQLite
 * databases under `dir` (run before removing `dir`: the hash is of each database's real path).
 */
export function removeOpenClawLocks(dir) {
  if (typeof process.getuid !== 'function') return
  const lockDir = `/tmp/openclaw-state-locks-${process.getuid()}`
  let top
  try {
    top = realpathSync(dir)
  } catch {
    return
  }
  // The shared database's path is locked even where a run failed before creating it.
  const paths = new Set([join(top, 'state', 'openclaw.sqlite'), join(top, '.openclaw', 'state', 'openclaw.sqlite')])
  for (const db of sqliteFiles(top)) paths.add(realpathSync(db))
  for (const real of paths) {
    const hash = createHash('sha256').update(real).digest('hex').slice(0, 8)
    for (const family of LOCK_FAMILIES) {
      for (const suffix of ['', '-wal', '-shm', '-journal']) {
        rmSync(join(lockDir, `${family}.${hash}.lock.sqlite${suffix}`), { force: true })
      }
    }
  }
}

/** Removes each dir of `dirs` (a test's temp dirs) with OpenClaw's lock files for it. */
export function removeTempDirs(dirs) {
  for (const d of dirs) {
    if (!d) continue
    removeOpenClawLocks(d)
    rmSync(d, { recursive: true, force: true })
  }
}
