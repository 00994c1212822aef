#!/usr/bin/env node
// The `openclaw-vault` command: everything happens in the Rust core (clap); this shim only hands
// over argv and sets the exit code.
'use strict'
const { runCli } = require('../index.js')

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    process.stderr.write(`openclaw-vault: ${err && err.message ? err.message : err}\n`)
    process.exitCode = 1
  },
)
