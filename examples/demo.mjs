// The main job in one run: start a real Vault dev server, store OpenClaw's credentials in it
// through VaultClient (the layout of OpenClaw issue 4727), read them back, rotate one, and show
// that values never leak into errors or logs. Run with `npm run demo`.
import { createHash } from 'node:crypto'
import { inspect } from 'node:util'

import { VaultClient } from '../index.js'
import { startVault } from '../__test__/support/vault-server.mjs'

const mask = (value) =>
  `${String(value).slice(0, 6)}… (${String(value).length} chars, sha256 ${createHash('sha256').update(String(value)).digest('hex').slice(0, 8)})`

const vault = await startVault()
try {
  console.log(`Vault dev server at ${vault.addr}`)
  const client = new VaultClient({ addr: vault.addr, token: vault.token })
  const health = await client.health()
  console.log(
    `health: version ${health.version}, sealed=${health.sealed}; secret/ is KV v${await client.kvVersion()}\n`,
  )

  const credentials = {
    'openclaw/credentials/anthropic': {
      accessToken: 'sk-ant-oat01-demo-access-token-not-real',
      refreshToken: 'sk-ant-ort01-demo-refresh-token-not-real',
      expiresAt: String(Date.now() + 8 * 3600 * 1000),
    },
    'openclaw/credentials/telegram': { botToken: '123456789:AAdemo-telegram-bot-token' },
    'openclaw/credentials/discord': { token: 'demo.discord.bot.token' },
    'openclaw/config/encryption': { masterKey: 'demo-master-key-0123456789abcdef' },
  }
  for (const [path, data] of Object.entries(credentials)) {
    const meta = await client.write(path, data, { cas: 0 })
    console.log(`wrote ${path} (version ${meta.version})`)
  }

  console.log(`\nlist openclaw/credentials -> ${JSON.stringify(await client.list('openclaw/credentials'))}`)
  const anthropic = await client.read('openclaw/credentials/anthropic')
  console.log(`read anthropic: accessToken ${mask(anthropic.data.accessToken)}, version ${anthropic.metadata.version}`)

  // Rotation: a merge patch writes a new version; the old one stays readable.
  await client.patch('openclaw/credentials/anthropic', { accessToken: 'sk-ant-oat01-demo-rotated-token' }, { cas: 1 })
  const rotated = await client.read('openclaw/credentials/anthropic')
  const previous = await client.read('openclaw/credentials/anthropic', { version: 1 })
  console.log(
    `rotated: version ${rotated.metadata.version} accessToken ${mask(rotated.data.accessToken)}; version 1 still ${mask(previous.data.accessToken)}`,
  )
  console.log(
    `refreshToken kept by the patch: ${rotated.data.refreshToken === credentials['openclaw/credentials/anthropic'].refreshToken}`,
  )

  // A concurrent writer holding a stale version gets CAS_MISMATCH instead of overwriting.
  const conflict = await client
    .write('openclaw/credentials/anthropic', { accessToken: 'stale' }, { cas: 1 })
    .catch((e) => e)
  console.log(`stale write -> ${conflict.name} ${conflict.code}: ${conflict.message}`)

  const missing = await client.read('openclaw/credentials/slack')
  console.log(`missing credential reads as ${missing}`)

  const wrongToken = new VaultClient({ addr: vault.addr, token: 'hvs.wrong-token-demo', kvVersion: 2 })
  const denied = await wrongToken.read('openclaw/credentials/telegram').catch((e) => e)
  console.log(
    `wrong token -> ${denied.code} (status ${denied.status}); token in error: ${JSON.stringify(denied).includes('wrong-token-demo') || denied.message.includes('wrong-token-demo')}`,
  )
  console.log(`the client as util.inspect shows it: ${inspect(client)}`)
} finally {
  await vault.stop()
}
