// A real OpenClaw gateway (Node 24, `openclaw gateway run` on 127.0.0.1, token auth, no channels)
// whose only model provider is a loopback stub that records the API key it receives. The
// provider's apiKey is an exec SecretRef answered by the native `openclaw-vault resolve` from a
// dev Vault. Used by __test__/gateway-rotation.test.mjs and bench/rotation.mjs.
//
// Nothing leaves loopback: no channels, the one model provider is the stub, and gateway, stub and
// Vault listen on 127.0.0.1.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { VaultClient } from '../../index.js'
import { ensureOpenClaw } from '../../scripts/ensure-openclaw.mjs'
import { removeTempDirs } from './openclaw-state.mjs'
import { freePort, startVault, uniquePrefix, waitFor } from './vault-server.mjs'

const { nativeExecutable } = createRequire(import.meta.url)('../../bin/native.js')

/** The model provider stub: an OpenAI chat-completions server that records the key it gets. */
function startStub(seen) {
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      if (!req.url.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' })
        return res.end('{}')
      }
      seen.push(req.headers.authorization ?? '')
      const base = { id: 'c1', created: 1, model: 'm1' }
      const usage = { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }
      if (body.includes('"stream":true')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        const chunk = (choice, extra = {}) =>
          res.write(
            `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [choice], ...extra })}\n\n`,
          )
        chunk({ index: 0, delta: { role: 'assistant', content: 'ok' }, finish_reason: null })
        chunk({ index: 0, delta: {}, finish_reason: 'stop' }, { usage })
        return res.end('data: [DONE]\n\n')
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          ...base,
          object: 'chat.completion',
          choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
          usage,
        }),
      )
    })
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

/** Starts a process; collects its output; `exited` resolves with how it ended. */
export function spawnLogged(command, args, options) {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
  const proc = { child, out: '', exitedWith: null }
  child.stdout.on('data', (d) => (proc.out += d))
  child.stderr.on('data', (d) => (proc.out += d))
  proc.exited = new Promise((resolve) =>
    child.once('close', (code, signal) => {
      proc.exitedWith = { code, signal }
      resolve(proc.exitedWith)
    }),
  )
  proc.stop = async () => {
    if (!proc.exitedWith) child.kill('SIGTERM')
    const killer = setTimeout(() => child.kill('SIGKILL'), 20000)
    await proc.exited
    clearTimeout(killer)
  }
  return proc
}

/** Waits (with a deadline) until `proc`'s output matches `re` at least `count` times. */
export async function outputMatches(proc, re, { count = 1, timeoutMs = 30000, everyMs = 50 } = {}) {
  const g = new RegExp(re.source, 'g')
  try {
    await waitFor(`${re} x${count}`, () => (proc.out.match(g) ?? []).length >= count, {
      timeoutMs,
      everyMs,
      died: () => proc.exitedWith && JSON.stringify(proc.exitedWith),
    })
  } catch (e) {
    throw new Error(`${e.message}\n${proc.out.slice(-4000)}`)
  }
}

/**
 * A dev Vault holding `<prefix>/credentials/stub` (`apiKey`: `key(1)`), the stub, a state dir
 * whose openclaw.json points the stub's apiKey at Vault, and an `openclaw` on `PATH`
 * (`<home>/bin/openclaw`: the real CLI under Node 24). Call `startGateway()` to run it.
 */
export async function gatewayHarness(name, { tokenInVault = false } = {}) {
  const native = nativeExecutable()
  assert.ok(native, 'the native executable is missing: run `node scripts/build-native.mjs`')
  const h = {
    native: realpathSync(native),
    oc: ensureOpenClaw(),
    path: `${uniquePrefix(name)}/credentials/stub`,
    key: (n) => `sk-stub-FAKE-${name}-v${n}-4242`,
    gatewayToken: `gw-test-${Math.random().toString(36).slice(2)}-token`,
    seen: [], // the Authorization headers the stub received, in order
  }
  h.vault = await startVault()
  h.client = new VaultClient({ addr: h.vault.addr, token: h.vault.token, renew: false })
  await h.client.write(h.path, { apiKey: h.key(1) })
  // `tokenInVault`: gateway.auth.token is an exec ref into Vault, as `migrate --rewrite-config`
  // leaves it (`h.tokenPath`, field `token`); rotate it with `h.rotateGatewayToken()`.
  h.tokenPath = `${uniquePrefix(name)}/credentials/gateway`
  if (tokenInVault) await h.client.write(h.tokenPath, { token: h.gatewayToken })
  h.home = mkdtempSync(join(tmpdir(), `ocv-${name}-`))
  chmodSync(h.home, 0o700)
  h.state = join(h.home, '.openclaw')
  mkdirSync(h.state, { mode: 0o700 })
  mkdirSync(join(h.home, 'bin'))
  writeFileSync(
    join(h.home, 'bin', 'openclaw'),
    `#!/bin/sh\nexec ${JSON.stringify(h.oc.node)} ${JSON.stringify(h.oc.openclawBin)} "$@"\n`,
    { mode: 0o700 },
  )
  h.stub = await startStub(h.seen)
  h.port = await freePort()

  h.env = () => ({
    PATH: `${join(h.home, 'bin')}:${process.env.PATH}`,
    HOME: h.home,
    OPENCLAW_STATE_DIR: h.state,
    OPENCLAW_CONFIG_PATH: join(h.state, 'openclaw.json'),
    VAULT_ADDR: h.vault.addr,
    VAULT_TOKEN: h.vault.token,
    VAULT_MAX_RETRIES: '0',
  })

  /** openclaw-vault.json: the resolver finds it through OPENCLAW_STATE_DIR (in passEnv). */
  h.writeSettings = (maxAgeMs) =>
    writeFileSync(
      join(h.state, 'openclaw-vault.json'),
      JSON.stringify({ provider: 'vault', lastKnownGood: { enabled: true, maxAgeMs } }),
      { mode: 0o600 },
    )

  const config = {
    gateway: {
      mode: 'local',
      port: h.port,
      bind: 'loopback',
      auth: {
        mode: 'token',
        token: tokenInVault
          ? { source: 'exec', provider: 'openclaw-vault', id: `${h.tokenPath}/token` }
          : h.gatewayToken,
      },
      http: { endpoints: { chatCompletions: { enabled: true } } },
    },
    logging: { file: join(h.state, 'gateway.log') },
    secrets: {
      providers: {
        'openclaw-vault': {
          source: 'exec',
          command: h.native,
          args: ['resolve'],
          passEnv: ['VAULT_ADDR', 'VAULT_TOKEN', 'VAULT_MAX_RETRIES', 'OPENCLAW_STATE_DIR'],
          timeoutMs: 15000,
          noOutputTimeoutMs: 15000,
          jsonOnly: true,
        },
      },
    },
    models: {
      mode: 'replace',
      providers: {
        stub: {
          baseUrl: `http://127.0.0.1:${h.stub.address().port}/v1`,
          api: 'openai-completions',
          apiKey: { source: 'exec', provider: 'openclaw-vault', id: `${h.path}/apiKey` },
          models: [{ id: 'm1', name: 'm1', contextWindow: 32000, maxTokens: 1000 }],
        },
      },
    },
    agents: { defaults: { model: { primary: 'stub/m1' } } },
  }
  writeFileSync(join(h.state, 'openclaw.json'), JSON.stringify(config, null, 2), { mode: 0o600 })
  h.writeSettings(3600000)

  /** `openclaw gateway run` in the foreground, not waited for. */
  h.spawnGateway = () =>
    spawnLogged(h.oc.node, [h.oc.openclawBin, 'gateway', 'run', '--port', String(h.port)], {
      env: h.env(),
      cwd: h.home,
    })

  /** The gateway, once its HTTP endpoint answers (deadline 90 s). */
  h.startGateway = async () => {
    const gw = h.spawnGateway()
    await waitFor(
      'the gateway',
      async () =>
        (
          await fetch(`http://127.0.0.1:${h.port}/v1/models`, {
            headers: { authorization: `Bearer ${h.gatewayToken}` },
          })
        ).status === 200,
      { timeoutMs: 90000, everyMs: 200, died: () => gw.exitedWith && `${JSON.stringify(gw.exitedWith)}\n${gw.out}` },
    )
    return gw
  }

  /** One chat turn through the gateway: its HTTP status and the key the stub got (or null). */
  h.chat = async () => {
    const before = h.seen.length
    const r = await fetch(`http://127.0.0.1:${h.port}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.gatewayToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openclaw', messages: [{ role: 'user', content: 'hi' }] }),
      signal: AbortSignal.timeout(60000),
    })
    const text = await r.text()
    const key = h.seen.length > before ? h.seen.at(-1).replace(/^Bearer /, '') : null
    return { status: r.status, text, key }
  }

  /** The key the gateway's model call carried (asserting the call succeeded). */
  h.keyUsedByGateway = async () => {
    const { status, text, key } = await h.chat()
    assert.equal(status, 200, text)
    assert.ok(key, 'the stub was not called')
    return key
  }

  /** A new gateway token in Vault (the running gateway keeps the old one until it reloads). */
  h.rotateGatewayToken = async () => {
    const token = `gw-test-${Math.random().toString(36).slice(2)}-token`
    await h.client.write(h.tokenPath, { token })
    return token
  }

  h.watch = (args = []) =>
    spawnLogged(h.native, ['watch', '--reload', ...args], {
      env: h.env(),
      cwd: h.home,
    })

  h.cleanup = async () => {
    h.stub.close()
    await h.vault.stop()
    removeTempDirs([h.home])
  }
  return h
}
