// A 3-node Vault cluster with integrated (Raft) storage on 127.0.0.1, for tests and benchmarks:
// three `vault server` processes in a temp dir, distinct API and cluster ports, `retry_join` to
// each other, initialised with one unseal key (`sys/init`, as `vault operator init
// -key-shares=1 -key-threshold=1`), unsealed, and stopped by pid. TLS is off on the API listener
// (loopback only); the cluster port always speaks TLS (Vault's own, generated at start).
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** The Vault binary: $VAULT_BIN, else the one tools/vault-server/build.sh builds (cached). */
export function vaultBinary() {
  if (process.env.VAULT_BIN) return process.env.VAULT_BIN
  const out = execFileSync('bash', [join(root, 'tools/vault-server/build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return out.trim().split('\n').pop()
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** `GET sys/health` of `addr`: `{ status, body }`, or `{ status: 0, error }` when nothing answers. */
export async function health(addr, timeoutMs = 1000) {
  try {
    const res = await fetch(`${addr}/v1/sys/health`, { signal: AbortSignal.timeout(timeoutMs) })
    return { status: res.status, body: await res.json().catch(() => null) }
  } catch (e) {
    return { status: 0, error: e.cause?.code ?? e.name }
  }
}

/** What a health status means, in Vault's words (see docs/high-availability.md). */
export function roleOf(status) {
  return (
    {
      0: 'down',
      200: 'active',
      429: 'standby',
      472: 'dr-secondary',
      473: 'performance-standby',
      474: 'standby (cannot reach the active node)',
      501: 'not initialized',
      503: 'sealed',
      530: 'removed',
    }[status] ?? `unknown (${status})`
  )
}

async function api(addr, method, path, { token, body, timeoutMs = 10000 } = {}) {
  const res = await fetch(`${addr}/v1/${path}`, {
    method,
    headers: { 'X-Vault-Request': 'true', ...(token ? { 'X-Vault-Token': token } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${method} ${addr}/v1/${path}: ${res.status} ${text.slice(0, 300)}`)
  return text ? JSON.parse(text) : null
}

/** Polls `check()` every `everyMs` until it returns a truthy value; throws naming `what` at the deadline. */
async function until(what, check, { timeoutMs, everyMs = 50, detail = () => '' }) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v) return v
    if (Date.now() > deadline)
      throw new Error(`vault cluster: ${what} not reached within ${timeoutMs} ms ${await detail()}`)
    await sleep(everyMs)
  }
}

function nodeConfig(node, nodes) {
  const joins = nodes
    .filter((n) => n.id !== node.id)
    .map((n) => `  retry_join {\n    leader_api_addr = "${n.addr}"\n  }`)
    .join('\n')
  // performance_multiplier = 1: Raft's production timings (1 s heartbeat/election), so a killed
  // leader is replaced in about a second rather than the default 5x.
  return `storage "raft" {
  path = "${node.dataDir}"
  node_id = "${node.id}"
  performance_multiplier = 1
${joins}
}
listener "tcp" {
  address = "127.0.0.1:${node.port}"
  cluster_address = "127.0.0.1:${node.clusterPort}"
  tls_disable = true
}
api_addr = "${node.addr}"
cluster_addr = "https://127.0.0.1:${node.clusterPort}"
disable_mlock = true
ui = false
log_level = "warn"
`
}

/**
 * Starts the cluster. Resolves to a `VaultCluster`:
 * `{ nodes: [{ id, addr, port, clusterPort, pid }], addrs, token, unsealKey, dir, startupMs,
 *    leader(), waitForLeader(), kill(i), start(i), seal(i), unseal(i), removePeer(i), rejoin(i), stop() }`.
 * With `kv` (default), a KV v2 engine is mounted at `secret/` as on a dev server. Every wait has
 * a deadline (`timeoutMs`, default 30 s); on failure everything started is stopped and removed
 * before the error is thrown.
 */
export async function startCluster({ size = 3, timeoutMs = 30000, kv = true, bin = vaultBinary() } = {}) {
  const t0 = performance.now()
  const dir = mkdtempSync(join(tmpdir(), 'ocv-vault-cluster-'))
  const nodes = []
  for (let i = 0; i < size; i++) {
    const port = await freePort()
    const clusterPort = await freePort()
    nodes.push({
      id: `node${i + 1}`,
      port,
      clusterPort,
      addr: `http://127.0.0.1:${port}`,
      dataDir: join(dir, `node${i + 1}`),
      child: null,
      pid: null,
      exited: null,
      stderr: '',
    })
  }
  const cluster = new VaultCluster(bin, dir, nodes, timeoutMs)
  // If the process ends without stop() (a test runner cancelling the file, an uncaught error),
  // the nodes are killed by pid and the dir removed all the same.
  const onExit = () => cluster._killNow()
  process.once('exit', onExit)
  cluster._offExit = () => process.off('exit', onExit)
  try {
    for (const node of nodes) {
      mkdirSync(node.dataDir, { recursive: true })
      writeFileSync(join(dir, `${node.id}.hcl`), nodeConfig(node, nodes))
      cluster._spawn(node)
    }
    await until(
      'every node listening',
      async () => (await Promise.all(nodes.map((n) => health(n.addr)))).every((h) => h.status !== 0),
      {
        timeoutMs,
        detail: () => cluster._why(),
      },
    )
    const init = await api(nodes[0].addr, 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } })
    cluster.unsealKey = init.keys_base64[0]
    cluster.token = init.root_token
    await cluster.unseal(0)
    await until(`${nodes[0].id} active`, async () => (await health(nodes[0].addr)).status === 200, { timeoutMs })
    // Autopilot makes a joining node a voter only after it has been stable this long (default
    // 10 s). Until then a killed leader cannot be replaced: two voters of three are needed.
    await api(nodes[0].addr, 'POST', 'sys/storage/raft/autopilot/configuration', {
      token: cluster.token,
      body: { server_stabilization_time: '1s' },
    })
    // A follower accepts the key only once `retry_join` has fetched the leader's challenge.
    await Promise.all(nodes.slice(1).map((_, i) => cluster._unsealWhenJoined(i + 1)))
    await cluster.waitHealthy()
    if (kv) {
      await api(nodes[0].addr, 'POST', 'sys/mounts/secret', {
        token: cluster.token,
        body: { type: 'kv', options: { version: '2' } },
      })
      // KV v2 finishes its set-up in the background: a first write may fail for a moment.
      await until(
        'the KV v2 mount `secret` writable',
        async () =>
          api(nodes[0].addr, 'POST', 'secret/data/ocv-cluster-ready', {
            token: cluster.token,
            body: { data: { ok: 'yes' } },
          }).then(
            () => true,
            () => false,
          ),
        { timeoutMs, everyMs: 100 },
      )
    }
  } catch (e) {
    await cluster.stop()
    throw e
  }
  cluster.startupMs = Math.round(performance.now() - t0)
  return cluster
}

export class VaultCluster {
  constructor(bin, dir, nodes, timeoutMs) {
    this.bin = bin
    this.dir = dir
    this.nodes = nodes
    this.timeoutMs = timeoutMs
    this.token = null
    this.unsealKey = null
    this.startupMs = null
  }

  /** The API addresses, node order. */
  get addrs() {
    return this.nodes.map((n) => n.addr)
  }

  _spawn(node) {
    const child = spawn(this.bin, ['server', `-config=${join(this.dir, `${node.id}.hcl`)}`], {
      env: { PATH: process.env.PATH, HOME: this.dir, VAULT_DISABLE_MLOCK: 'true' },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    node.child = child
    node.pid = child.pid
    node.exited = null
    child.stderr.on('data', (d) => {
      node.stderr = (node.stderr + d).slice(-2000)
    })
    child.once('exit', (code, signal) => {
      node.exited = `code ${code}, signal ${signal}`
    })
  }

  async _why() {
    const parts = []
    for (const n of this.nodes) {
      const h = n.exited ? { status: 0 } : await health(n.addr)
      parts.push(
        `${n.id} ${n.addr}: ${n.exited ? `exited (${n.exited})` : roleOf(h.status)}${n.stderr ? `; stderr: ${n.stderr.trim().split('\n').slice(-2).join(' | ')}` : ''}`,
      )
    }
    return `(${parts.join('; ')})`
  }

  /** The current health of every node: `[{ id, addr, status, role }]`. */
  async roles() {
    return Promise.all(
      this.nodes.map(async (n) => {
        const h = n.exited || !n.child ? { status: 0 } : await health(n.addr)
        return { id: n.id, addr: n.addr, status: h.status, role: roleOf(h.status) }
      }),
    )
  }

  /**
   * Waits until one node is active, every other running node is an unsealed standby, and every
   * running node is a Raft voter (so that losing any one node keeps a quorum).
   */
  async waitHealthy(timeoutMs = this.timeoutMs) {
    let peers = []
    await until(
      'one active node, every other running node a healthy standby, every running node a voter',
      async () => {
        const r = (await this.roles()).filter((x) => this.nodes.find((n) => n.id === x.id).child)
        if (!(r.filter((x) => x.status === 200).length === 1 && r.every((x) => x.status === 200 || x.status === 429)))
          return false
        peers = await this.peers().catch(() => [])
        return r.every((x) => peers.some((p) => p.node_id === x.id && p.voter))
      },
      { timeoutMs, detail: async () => `${await this._why()} peers ${JSON.stringify(peers)}` },
    )
  }

  /** Index of the active node, waiting (with the deadline) until there is one. */
  async waitForLeader(timeoutMs = this.timeoutMs) {
    return until(
      'an active node',
      async () => {
        const r = await this.roles()
        const i = r.findIndex((x) => x.status === 200)
        return i >= 0 ? i + 1 : 0
      },
      { timeoutMs, detail: () => this._why() },
    ).then((i) => i - 1)
  }

  /** Unseals node `i` with the one key. */
  async unseal(i) {
    await api(this.nodes[i].addr, 'PUT', 'sys/unseal', { body: { key: this.unsealKey } })
  }

  /**
   * Seals node `i`: `sys/seal` on the active node; a standby refuses `sys/seal` ("please restart
   * instead"), so it is restarted and left sealed, as after a crash. Waits until it answers 503.
   */
  async seal(i) {
    const node = this.nodes[i]
    if ((await health(node.addr)).status === 200) {
      await api(node.addr, 'PUT', 'sys/seal', { token: this.token })
    } else {
      await this.kill(i, 'SIGTERM')
      await this.start(i, { unseal: false })
    }
    await until(`${node.id} sealed`, async () => (await health(node.addr)).status === 503, {
      timeoutMs: this.timeoutMs,
      detail: () => this._why(),
    })
  }

  /** Kills node `i` with `signal` (default SIGKILL: a crash) and waits for it to exit. */
  async kill(i, signal = 'SIGKILL') {
    const node = this.nodes[i]
    if (!node.child || node.exited) return
    const done = new Promise((r) => node.child.once('exit', r))
    process.kill(node.pid, signal)
    await done
    node.child = null
  }

  /**
   * Starts node `i` again on the same ports and data dir (`wipe`: an empty one, so it joins
   * anew through `retry_join`), and unseals it unless `unseal` is false.
   */
  async start(i, { wipe = false, unseal = true } = {}) {
    const node = this.nodes[i]
    if (node.child && !node.exited) throw new Error(`vault cluster: ${node.id} is running (pid ${node.pid})`)
    if (wipe) {
      rmSync(node.dataDir, { recursive: true, force: true })
      mkdirSync(node.dataDir, { recursive: true })
    }
    this._spawn(node)
    await until(`${node.id} listening on ${node.addr}`, async () => (await health(node.addr)).status !== 0, {
      timeoutMs: this.timeoutMs,
      detail: () => this._why(),
    })
    if (unseal) await this._unsealWhenJoined(i)
  }

  async _unsealWhenJoined(i) {
    const node = this.nodes[i]
    await until(
      `${node.id} joined and unsealed`,
      async () => {
        await this.unseal(i).catch(() => {})
        const s = (await health(node.addr)).status
        return s === 200 || s === 429
      },
      { timeoutMs: this.timeoutMs, everyMs: 100, detail: () => this._why() },
    )
  }

  /** Removes node `i` from the Raft configuration (`sys/storage/raft/remove-peer`, on the active node). */
  async removePeer(i) {
    const leader = await this.waitForLeader()
    await api(this.nodes[leader].addr, 'POST', 'sys/storage/raft/remove-peer', {
      token: this.token,
      body: { server_id: this.nodes[i].id },
    })
  }

  /** The Raft peers as the active node sees them: `[{ node_id, address, leader, voter }]`. */
  async peers() {
    const leader = await this.waitForLeader()
    const r = await api(this.nodes[leader].addr, 'GET', 'sys/storage/raft/configuration', { token: this.token })
    return r.data.config.servers
  }

  _killNow() {
    for (const n of this.nodes) {
      if (n.child && !n.exited) {
        try {
          process.kill(n.pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }
    }
    rmSync(this.dir, { recursive: true, force: true })
  }

  /** Stops every node by pid (SIGKILL after 5 s of SIGTERM) and removes the temp dir. Safe to call twice. */
  async stop() {
    this._offExit?.()
    await Promise.all(
      this.nodes.map(async (n) => {
        if (!n.child || n.exited) return
        const done = new Promise((r) => n.child.once('exit', r))
        process.kill(n.pid, 'SIGTERM')
        const t = setTimeout(() => n.exited || process.kill(n.pid, 'SIGKILL'), 5000)
        await done
        clearTimeout(t)
        n.child = null
      }),
    )
    rmSync(this.dir, { recursive: true, force: true })
  }
}
