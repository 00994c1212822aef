// Type-checked by `npm test` (tsc --noEmit): the published types describe the real API.
import { VaultClient, VaultError, type KvSecret, type VaultErrorCode, type VersionMetadata } from '@openclaw/vault'

async function main(): Promise<void> {
  const client = new VaultClient({ addr: 'http://127.0.0.1:8200', token: 'x', namespace: 'team' })
  const fromEnv: VaultClient = VaultClient.fromEnv()
  const secret: KvSecret | null = await client.read('app/config', { version: 2 })
  const apiKey: unknown = secret?.data?.apiKey
  const meta: VersionMetadata | null = await client.write('app/config', { apiKey: 'k' }, { cas: 0 })
  const keys: string[] = await client.list('app')
  const ok: boolean = await client.healthCheck()
  const seal: { sealed: boolean; initialized: boolean } = await fromEnv.getSealStatus()
  const version: 1 | 2 = await client.kvVersion()
  try {
    await client.patch('app/config', { apiKey: null })
  } catch (e) {
    if (e instanceof VaultError) {
      const code: VaultErrorCode = e.code
      const status: number | undefined = e.status
      const errors: string[] = e.errors
      console.log(code, status, errors, e.message, e.path, e.requestId)
    }
  }
  console.log(apiKey, meta?.version, keys, ok, seal.sealed, version)
}
void main
