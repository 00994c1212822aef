// The npm `openclaw-vault` launcher (bin/openclaw-vault.js) runs the native executable as its
// child. A `kill -9` of the launcher must not leave that child running on its own (attack 6,
// finding 7: an orphaned migrate kept its lock and applied OpenClaw's plan later).
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'

import { root } from './support/vault-server.mjs'

const { nativeExecutable } = createRequire(import.meta.url)('../bin/native.js')

/** The pids whose parent is `pid` (its main thread's children, from /proc). */
function childrenOf(pid) {
  const f = `/proc/${pid}/task/${pid}/children`
  if (!existsSync(f)) return []
  return readFileSync(f, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
}

/** True while `pid` runs (exists and is not a zombie). */
function running(pid) {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

/** Polls `check` until it is true or `ms` pass (a deadline, not a sleep-based race). */
async function until(check, ms, what) {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (check()) return
    await delay(20)
  }
  assert.fail(`timed out after ${ms} ms waiting for ${what}`)
}

test('kill -9 of the launcher stops the native executable it started', async (t) => {
  if (!nativeExecutable()) return t.skip('no native executable on this platform')
  // `resolve` waits for its request on stdin: a command that stays up until it is stopped.
  // Its stdin is a FIFO this test holds open read-write: never at EOF, whoever dies (a pipe owned
  // by the ChildProcess object would be closed with the launcher, and resolve would end at EOF).
  const dir = mkdtempSync(join(tmpdir(), 'ocv-launcher-'))
  const fifo = join(dir, 'stdin')
  execFileSync('mkfifo', [fifo])
  const fd = openSync(fifo, constants.O_RDWR)
  const launcher = spawn(process.execPath, [join(root, 'bin', 'openclaw-vault.js'), 'resolve'], {
    stdio: [fd, 'ignore', 'ignore'],
    env: {
      PATH: process.env.PATH,
      VAULT_ADDR: 'http://127.0.0.1:9',
      VAULT_TOKEN: 'hvs.FAKE-launcher-test',
      OPENCLAW_VAULT_RESOLVE_TIMEOUT_MS: '60000',
    },
  })
  let native
  try {
    // The child is listed from its fork on; it is the executable once it has exec'd.
    const isNative = (pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'openclaw-vault'
      } catch {
        return false
      }
    }
    await until(() => (native = childrenOf(launcher.pid).find(isNative)) !== undefined, 30_000, 'the native child')
    assert.ok(running(native), 'the native child is waiting for its request')
    process.kill(launcher.pid, 'SIGKILL')
    await until(() => !running(native), 10_000, `native pid ${native} to exit`)
  } finally {
    try {
      process.kill(launcher.pid, 'SIGKILL')
    } catch {}
    if (native) {
      try {
        process.kill(native, 'SIGKILL')
      } catch {}
    }
    closeSync(fd)
    rmSync(dir, { recursive: true, force: true })
  }
})

// Attack 8 finding 2: `watch` through the launcher exited 143 on SIGTERM (Node died of the signal
// while the executable exited 0), so `systemctl stop` left the documented unit failed.
for (const signal of ['SIGTERM', 'SIGINT']) {
  test(`${signal} to the launcher: it passes the signal on and exits with the executable's code (watch: 0)`, async (t) => {
    if (!nativeExecutable()) return t.skip('no native executable on this platform')
    const dir = mkdtempSync(join(tmpdir(), 'ocv-launcher-'))
    try {
      const config = join(dir, 'openclaw.json')
      writeFileSync(
        config,
        JSON.stringify({
          secrets: { providers: { v: { source: 'exec', command: '/x/openclaw-vault', args: ['resolve'] } } },
          models: { providers: { s: { apiKey: { source: 'exec', provider: 'v', id: 'a/credentials/s/apiKey' } } } },
        }),
        { mode: 0o600 },
      )
      const launcher = spawn(process.execPath, [join(root, 'bin', 'openclaw-vault.js'), 'watch', '--config', config], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: {
          PATH: process.env.PATH,
          HOME: dir,
          OPENCLAW_STATE_DIR: dir,
          VAULT_ADDR: 'http://127.0.0.1:9',
          VAULT_TOKEN: 'hvs.FAKE-launcher-test',
        },
      })
      let err = ''
      launcher.stderr.on('data', (d) => (err += d))
      const exited = new Promise((resolve) => launcher.once('exit', (code, sig) => resolve({ code, signal: sig })))
      // Started and watching (its first check fails: nothing listens on port 9).
      await until(() => /cannot read versions from Vault/.test(err), 30_000, 'watch to start')
      launcher.kill(signal)
      const { code, signal: died } = await exited
      assert.equal(died, null, err)
      assert.equal(code, 0, err)
      assert.ok(!err.includes('hvs.FAKE-launcher-test'), err)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
}
