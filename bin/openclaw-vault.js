#!/usr/bin/env node
// The `openclaw-vault` command. Everything happens in the Rust core (clap). Fast path: run the
// native executable the platform package ships (no addon to load, and what
// `migrate --rewrite-config` names as OpenClaw's exec provider). Otherwise (no executable for
// this platform, or it cannot be started) the same command line runs in the addon.
'use strict'
const path = require('node:path')
const { nativeExecutable } = require('./native.js')

const argv = process.argv.slice(2)
const exe = nativeExecutable()
// The executable asks the kernel to stop it when this process dies (PR_SET_PDEATHSIG), so a
// `kill -9` of this launcher does not leave a migrate running on its own.
const childEnv = { ...process.env, OPENCLAW_VAULT_LAUNCHER_PID: String(process.pid) }

/** The signals passed on to the executable (`run` forwards them on to its child). */
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2']

function viaAddon() {
  const { runCli } = require('../index.js')
  // `migrate --rewrite-config` in the addon points OpenClaw's exec provider at this Node and this
  // package's resolver script; only the shim knows both.
  process.env.OPENCLAW_VAULT_PACKAGE_DIR ??= path.dirname(__dirname)
  process.env.OPENCLAW_VAULT_NODE ??= process.execPath
  runCli(argv).then(
    (code) => {
      process.exitCode = code
    },
    (err) => {
      process.stderr.write(`openclaw-vault: ${err && err.message ? err.message : err}\n`)
      process.exitCode = 1
    },
  )
}

if (exe) {
  // Every command runs as a child this Node process waits for without blocking, so the signals a
  // supervisor sends to it (systemd's SIGTERM at `systemctl stop`, a container runtime, `kill`)
  // reach the executable, and this process ends with the executable's own exit code: `watch`
  // stopped by SIGTERM exits 0 here too (attack 8 finding 2: spawnSync left Node to die of the
  // signal, 143, while the executable exited 0). `run` forwards them on to its child. With
  // spawnSync a SIGTERM would end Node and leave the executable running.
  const { spawn } = require('node:child_process')
  const child = spawn(exe, argv, { stdio: 'inherit', env: childEnv })
  let started = false
  const forward = (signal) => {
    child.kill(signal)
  }
  child.once('spawn', () => {
    started = true
    for (const s of FORWARDED) process.on(s, forward)
  })
  child.on('error', () => {
    // Not started: nothing ran, so the addon runs it. (After a start, a failed kill is ignored.)
    if (!started) viaAddon()
  })
  child.once('exit', (code, signal) => {
    for (const s of FORWARDED) process.off(s, forward)
    if (signal) process.kill(process.pid, signal)
    process.exitCode = code ?? 1
  })
} else {
  viaAddon()
}
