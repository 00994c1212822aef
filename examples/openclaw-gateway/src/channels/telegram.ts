// A channel that needs a bot token and follows its rotation in Vault.
import { getCredential, watchCredential, VaultError, type CredentialWatch } from '@openclaw/vault'

export class TelegramChannel {
  private watch: CredentialWatch | null = null
  private token: string | null = null

  async start(onRotate: (token: string) => void): Promise<void> {
    try {
      this.token = (await getCredential('telegram')).expose()
    } catch (e) {
      if (e instanceof VaultError && e.code === 'CREDENTIAL_NOT_FOUND') {
        throw new Error(`no Telegram bot token anywhere (tried: ${e.errors.join('; ')})`)
      }
      throw e
    }
    this.watch = await watchCredential(
      'telegram',
      (error, credential) => {
        if (error || !credential) return
        this.token = credential.expose()
        onRotate(this.token)
      },
      { intervalMs: 30_000 },
    )
  }

  stop(): void {
    this.watch?.stop()
    this.watch = null
  }
}
