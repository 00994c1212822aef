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
let ran = false
if (exe) {
  const { spawnSync } = require('node:child_process')
  const child = spawnSync(exe, argv, { stdio: 'inherit' })
  // `error` is set only when it could not be started (nothing ran): then the addon runs it.
  if (!child.error) {
    ran = true
    if (child.signal) process.kill(process.pid, child.signal)
    process.exitCode = child.status ?? 1
  }
}

if (!ran) {
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
