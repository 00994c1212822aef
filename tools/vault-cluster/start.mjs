#!/usr/bin/env node
// `node tools/vault-cluster/start.mjs`: starts a 3-node Raft cluster on 127.0.0.1, prints its
// addresses, root token and unseal key as JSON, and stops it (by pid, temp dir removed) on
// Ctrl-C or stdin EOF. `--once` stops it right after printing (a smoke test of startup time).
import { startCluster } from './cluster.mjs'

const cluster = await startCluster()
const info = {
  addrs: cluster.addrs,
  token: cluster.token,
  unsealKey: cluster.unsealKey,
  pids: cluster.nodes.map((n) => n.pid),
  dir: cluster.dir,
  startupMs: cluster.startupMs,
  roles: await cluster.roles(),
}
console.log(JSON.stringify(info, null, 2))
const stop = async () => {
  await cluster.stop()
  process.exit(0)
}
if (process.argv.includes('--once')) await stop()
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
process.stdin.on('end', stop)
process.stdin.resume()
