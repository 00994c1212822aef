#!/usr/bin/env node
// OpenClaw's exec SecretRef provider, backed by Vault. Configure it as
//   command: <absolute path of node>, args: [<absolute path of this file>]
// OpenClaw runs it with cwd = node's folder and an environment holding only the provider's
// passEnv and env: nothing here needs PATH or HOME. Everything happens in the Rust core
// (`openclaw-vault resolve`); this file only loads the addon next to it.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

let runCli
try {
  ;({ runCli } = require('../index.js'))
} catch (err) {
  // Still one protocol answer, so OpenClaw reports why instead of "invalid JSON".
  const message = `cannot load @openclaw/vault's native addon: ${err && err.message ? err.message : err}`
  process.stdout.write(`${JSON.stringify({ protocolVersion: 1, values: {}, errors: { request: { message } } })}\n`)
  process.exit(1)
}

runCli(['resolve']).then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    const message = `openclaw-vault resolve failed: ${err && err.message ? err.message : err}`
    process.stdout.write(`${JSON.stringify({ protocolVersion: 1, values: {}, errors: { request: { message } } })}\n`)
    process.exitCode = 1
  },
)
