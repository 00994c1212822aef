// Shared by the tests that run the real OpenClaw next to this package's writes: OpenClaw's own
// lock code holding a file, and what a run may leave behind.
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'

/**
 * OpenClaw's own lock code (`openclaw/plugin-sdk/file-lock` of the installed package `oc`, from
 * scripts/ensure-openclaw.mjs) holding `target` (its `<target>.lock` sidecar) until `release()`.
 * `stale`: the age in ms after which another OpenClaw may take the lock over.
 */
export async function openclawHolder(oc, target, { stale = 30000 } = {}) {
  const module = pathToFileURL(join(oc.openclawDir, 'dist', 'plugin-sdk', 'file-lock.js')).href
  const script = `
    const { acquireFileLock } = await import(${JSON.stringify(module)});
    const lock = await acquireFileLock(${JSON.stringify(target)}, { retries: { retries: 0 }, stale: ${stale} });
    process.stdout.write('held\\n');
    process.stdin.resume();
    process.stdin.on('end', async () => { await lock.release(); process.exit(0); });
  `
  const child = spawn(oc.node, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })
  for await (const line of lines) if (line === 'held') break
  return {
    pid: child.pid,
    release: () =>
      new Promise((resolve) => {
        child.on('exit', resolve)
        child.stdin.end()
      }),
  }
}

/** Every `*.lock` (and fs-safe `*.reclaim`) under `dir`, and every file whose name matches `also`. */
export function leftovers(dir, also = null) {
  const out = []
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory() && !e.name.endsWith('.reclaim')) walk(join(d, e.name))
      else if (e.name.endsWith('.lock') || e.name.endsWith('.reclaim') || also?.test(e.name)) out.push(join(d, e.name))
    }
  }
  walk(dir)
  return out
}
