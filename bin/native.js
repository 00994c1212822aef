// Finds the native `openclaw-vault` executable for this platform: the file the per-platform npm
// package (`@openclaw/vault-<platform>`, e.g. `@openclaw/vault-linux-x64-gnu`) ships next to its
// addon, or, in a checkout of this repository, the one the build put in `npm/<platform>/`.
// `null` when there is none (then the `openclaw-vault` shim runs the command in the addon).
'use strict'
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const exeName = process.platform === 'win32' ? 'openclaw-vault.exe' : 'openclaw-vault'

/** napi-rs's platform name: `linux-x64-gnu`, `linux-arm64-musl`, `darwin-arm64`, `win32-x64-msvc`. */
function platformName() {
  const { platform, arch } = process
  if (platform === 'win32') return `win32-${arch}-msvc`
  if (platform !== 'linux') return `${platform}-${arch}`
  return `linux-${arch}-${isMusl() ? 'musl' : 'gnu'}`
}

function isMusl() {
  // The same first test as the generated index.js: glibc's ldd script names glibc, musl's musl.
  try {
    return fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl')
  } catch {
    // No ldd: Node's report names the glibc it runs on; without a report, assume glibc (as index.js).
    if (!process.report || typeof process.report.getReport !== 'function') return false
    process.report.excludeNetwork = true
    const report = process.report.getReport()
    if (!report || !report.header) return false
    return !report.header.glibcVersionRuntime
  }
}

/** True for a regular file this process may execute. */
function runnable(file) {
  try {
    if (!fs.statSync(file).isFile()) return false
    fs.accessSync(file, fs.constants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * The native executable's path, or `null`. `OPENCLAW_VAULT_NATIVE=0` disables it. The platform
 * package must have this package's version: a stale one falls back to the addon.
 */
function nativeExecutable() {
  if (process.env.OPENCLAW_VAULT_NATIVE === '0') return null
  const name = platformName()
  const local = path.join(root, 'npm', name, exeName)
  if (runnable(local)) return local
  try {
    const pkgJson = require.resolve(`@openclaw/vault-${name}/package.json`, { paths: [root] })
    const { version } = JSON.parse(fs.readFileSync(pkgJson, 'utf8'))
    const ours = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version
    const installed = path.join(path.dirname(pkgJson), exeName)
    if (version === ours && runnable(installed)) return installed
  } catch {
    // No platform package installed (an unsupported platform, or optional dependencies skipped).
  }
  return null
}

module.exports = { nativeExecutable, platformName, exeName }
