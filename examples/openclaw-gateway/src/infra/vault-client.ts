// OpenClaw's Vault client module, now backed by @openclaw/vault (Rust core, napi-rs).
// The gateway's existing imports (`import { VaultClient } from '../infra/vault-client.js'`) keep
// working: same constructor, same read/write/list/delete/healthCheck/getSealStatus.
export { VaultClient, VaultError } from '@openclaw/vault'
export type { KvSecret, VaultClientOptions, VaultErrorCode } from '@openclaw/vault'
