// Which tests a second `npm test` pass on another Node needs.
//
// `.ci/run` runs `npm test` on Node 20 and again on Node 24. A suite whose subjects are the native
// `openclaw-vault` executable, the real `openclaw` CLI (always run by its own Node 24, see
// scripts/ensure-openclaw.mjs) and Vault gives the same answer whichever Node runs the test file:
// the test file only spawns processes and, at most, uses the addon to write or read Vault as an
// admin (the addon on both Nodes is covered by the suites that are not marked). The second pass
// sets OPENCLAW_VAULT_TEST_NODE_DEPENDENT_ONLY=1 and such suites report as skipped there, naming
// why. Without the variable (`npm test` as the README says, the first CI pass) everything runs.

/** True on a pass that runs only the tests whose result can depend on the Node running them. */
export const nodeDependentOnly = process.env.OPENCLAW_VAULT_TEST_NODE_DEPENDENT_ONLY === '1'

/**
 * Options for `describe`/`test` of a suite that does not depend on the Node running the file
 * (it drives the native executable, the real `openclaw` CLI under its own Node 24, or Vault): run
 * once per CI run, on the first pass.
 */
export const sameOnEveryNode = {
  skip: nodeDependentOnly
    ? 'does not depend on the Node running this file (native executable, openclaw under its own Node 24, Vault): ran on the first CI pass'
    : false,
}

/**
 * For a single test that does not depend on the Node running the file (as `sameOnEveryNode`):
 * `if (skippedOnThisPass(t)) return` first in its body. Marks the test skipped on the second pass
 * and returns true there.
 */
export function skippedOnThisPass(t) {
  if (!nodeDependentOnly) return false
  t.skip(sameOnEveryNode.skip)
  return true
}
