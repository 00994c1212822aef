// OpenClaw states for the tests: made once per test file by the real `openclaw` commands, then
// copied for each test (a copy takes milliseconds, a state's `openclaw onboard`/`channels add`/
// `paste-api-key` calls take seconds each under Node 24).
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

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
