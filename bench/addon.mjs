// The addon's size on disk and its load time: `require('@openclaw/vault')` in a fresh Node process
// (dlopen and the module init), timed inside each of BENCH_LOADS fresh processes (default 21),
// median. With BENCH_ADDON_DIR=<dir of another checkout> it
// measures that checkout's index.js instead (the before/after comparison in the README).
//
//   node bench/addon.mjs            (part of: npm run bench)
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = process.env.BENCH_ADDON_DIR || join(dirname(fileURLToPath(import.meta.url)), '..')
const loads = Number(process.env.BENCH_LOADS || 21)
if (!Number.isInteger(loads) || loads < 3 || loads > 501) throw new Error('BENCH_LOADS must be an integer in [3, 501]')

const addon = readdirSync(root).find((f) => f.endsWith('.node'))
if (!addon) throw new Error(`no .node addon in ${root}: run npm run build first`)
const bytes = statSync(join(root, addon)).size

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]
// Each fresh process times its own require() (dlopen, relocation and the module init), so process
// start-up and machine load between runs stay out of the number.
const script = `const t0 = process.hrtime.bigint(); require(${JSON.stringify(join(root, 'index.js'))}); process.stdout.write(String(Number(process.hrtime.bigint() - t0) / 1e6))`
const runs = []
for (let i = 0; i < loads; i++) {
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: root })
  if (r.status !== 0) throw new Error(`node -e failed (${r.status}): ${r.stderr}`)
  runs.push(Number(r.stdout))
}
const loadMs = median(runs)

console.log(`\nAddon size and load time (${root}), Node ${process.version}, median of ${loads} fresh processes`)
console.log('| what | value |')
console.log('| --- | ---: |')
console.log(`| \`${addon}\` size | ${(bytes / 1024 / 1024).toFixed(2)} MiB (${bytes} bytes) |`)
console.log(`| \`require('@openclaw/vault')\` in a fresh process (median) | ${loadMs.toFixed(2)} ms |`)
console.log(`| fastest / slowest of ${loads} | ${Math.min(...runs).toFixed(2)} / ${Math.max(...runs).toFixed(2)} ms |`)
