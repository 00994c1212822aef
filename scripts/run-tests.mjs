// Runs every `__test__/*.test.mjs` with `node --test` (the Node running this script), two files at
// a time, then type-checks index.d.ts's users with tsc: `npm test` after
// scripts/ensure-built.mjs --test.
//
// Many files spend most of their time waiting (on Vault, on a gateway, on a timeout they test),
// others keep a core busy with the real `openclaw` CLI (Node 24): two at once fill two cores
// (docs/testing.md). Each file runs in its own process with its own Vault server, ports, temp dirs
// and OpenClaw states, so files never share anything but the machine.
//
// The longest files start first (LONGEST, measured), so no long file starts last and runs alone
// at the end; every other file follows in name order. OPENCLAW_VAULT_TEST_CONCURRENCY sets how many
// files run at once (default 2; 1 runs them one after another). Arguments are passed on to
// `node --test` before the files (e.g. `--test-reporter=tap`). Exits with the first failing
// step's code.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
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

const all = readdirSync(join(root, '__test__'))
  .filter((f) => f.endsWith('.test.mjs'))
  .sort()
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

run(['--test', `--test-concurrency=${concurrency}`, ...process.argv.slice(2), ...files])
// The type checks of index.d.ts (the tests' and the example gateway's use of it) give the same
// answer whichever Node runs tsc: once per CI run, on the first pass (see support/node-pass.mjs).
if (process.env.OPENCLAW_VAULT_TEST_NODE_DEPENDENT_ONLY === '1') {
  console.log('run-tests: tsc skipped on this pass (does not depend on the Node running it: ran on the first CI pass)')
} else {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  for (const project of ['__test__/types', 'examples/openclaw-gateway']) run([tsc, '-p', project])
}
