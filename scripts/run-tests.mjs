// Runs every `__test__/*.test.mjs` with `node --test` (the Node running this script), two files at
// a time (one `node --test` per file), then type-checks index.d.ts's users with tsc: `npm test` after
// scripts/ensure-built.mjs --test.
//
// Many files spend most of their time waiting (on Vault, on a gateway, on a timeout they test),
// others keep a core busy with the real `openclaw` CLI (Node 24): two at once fill two cores
// (docs/testing.md). Each file runs in its own process with its own Vault server, ports, temp dirs
// and OpenClaw states, so files never share anything but the machine.
//
// The longest files start first (LONGEST, measured), so no long file starts last and runs alone
// at the end; every other file follows in name order. OPENCLAW_VAULT_TEST_CONCURRENCY sets how many
// files run at once (default 2; 1 runs them one after another). Arguments: `.test.mjs` files to
// run instead of all of them, and options for each `node --test` (e.g. `--test-reporter=tap`). Exits with the first failing
// step's code.
import { spawn, spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

// Longest first, by the seconds each took alone on the Node 20 pass (2026-11-30, a loaded 2-core
// machine; re-measure when a file grows: `node --test __test__/x.test.mjs` prints its duration).
const LONGEST = [
  'openclaw-stores',
  'openclaw-apply', // 240 s
  'gateway-rotation', // 220 s
  'migrate-safety', // 219 s
  'openclaw-e2e', // 134 s
  'migrate-rerun', // 112 s
  'openclaw-exec-id-escape', // 94 s
]

const concurrency = Number(process.env.OPENCLAW_VAULT_TEST_CONCURRENCY || 2)
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(`run-tests: OPENCLAW_VAULT_TEST_CONCURRENCY must be a whole number >= 1, got ${concurrency}`)
  process.exit(2)
}

// Arguments naming `.test.mjs` files run just those; the others go to `node --test`.
const args = process.argv.slice(2)
const asked = args.filter((a) => a.endsWith('.test.mjs')).map((a) => basename(a))
const options = args.filter((a) => !a.endsWith('.test.mjs'))
const all = (asked.length ? asked : readdirSync(join(root, '__test__')).filter((f) => f.endsWith('.test.mjs'))).sort()
const rank = (f) => {
  const i = LONGEST.indexOf(f.replace(/\.test\.mjs$/, ''))
  return i === -1 ? LONGEST.length : i
}
const files = [...all].sort((a, b) => rank(a) - rank(b)).map((f) => join('__test__', f))

function run(args) {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' })
  if (r.error) throw r.error
  if (r.status !== 0) process.exit(r.status ?? 1)
}

// One `node --test <file>` per file, `concurrency` at a time, taken in the order above (node
// --test itself sorts the files it is given by name). A file's output is printed in one piece
// when it ends, with its exit code and seconds; the totals of every file's summary follow.
const queue = [...files]
const totals = {}
const failed = []
async function worker() {
  for (let file = queue.shift(); file; file = queue.shift()) {
    const started = Date.now()
    const child = spawn(process.execPath, ['--test', ...options, file], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const code = await new Promise((resolve, reject) => {
      child.once('error', reject)
      child.once('close', (c) => resolve(c ?? 1))
    })
    process.stdout.write(out)
    // `# tests 3` (TAP, Node 20's default when piped) or `ℹ tests 3` (spec).
    for (const [, key, n] of out.matchAll(/^(?:# |\u2139 )(tests|pass|fail|cancelled|skipped|todo) (\d+)$/gm)) {
      totals[key] = (totals[key] ?? 0) + Number(n)
    }
    if (code !== 0) failed.push(file)
    console.log(`# run-tests: ${file} exit ${code} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  }
}
await Promise.all(Array.from({ length: concurrency }, worker))
console.log(`# run-tests: ${files.length} files, ${JSON.stringify(totals)}`)
if (failed.length) {
  console.log(`# run-tests: failed: ${failed.join(' ')}`)
  process.exit(1)
}

// The type checks of index.d.ts (the tests' and the example gateway's use of it) give the same
// answer whichever Node runs tsc: once per CI run, on the first pass (see support/node-pass.mjs).
if (process.env.OPENCLAW_VAULT_TEST_NODE_DEPENDENT_ONLY === '1') {
  console.log('run-tests: tsc skipped on this pass (does not depend on the Node running it: ran on the first CI pass)')
} else {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  for (const project of ['__test__/types', 'examples/openclaw-gateway']) run([tsc, '-p', project])
}
