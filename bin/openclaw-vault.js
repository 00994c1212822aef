#!/usr/bin/env node
// The `openclaw-vault` command: everything happens in the Rust core (clap); this shim only hands
// over argv and sets the exit code.
'use strict'
const path = require('node:path')
const { runCli } = require('../index.js')

// `migrate --rewrite-config` points OpenClaw's exec provider at this Node and this package's
// resolver script; only the shim knows both.
process.env.OPENCLAW_VAULT_PACKAGE_DIR ??= path.dirname(__dirname)
process.env.OPENCLAW_VAULT_NODE ??= process.execPath

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    process.stderr.write(`openclaw-vault: ${err && err.message ? err.message : err}\n`)
    process.exitCode = 1
  },
)
