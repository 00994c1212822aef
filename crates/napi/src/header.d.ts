/* Types of the values `VaultClient` resolves to. Field names are Vault's own. */

/** Stable codes of `VaultError.code`. */
export type VaultErrorCode =
  | 'NOT_FOUND'
  | 'PERMISSION_DENIED'
  | 'INVALID_TOKEN'
  | 'CAS_MISMATCH'
  | 'INVALID_REQUEST'
  | 'UNSUPPORTED_OPERATION'
  | 'PRECONDITION_FAILED'
  | 'SEALED'
  | 'RATE_LIMITED'
  | 'SERVER_ERROR'
  | 'NETWORK'
  | 'TLS_ERROR'
  | 'TIMEOUT'
  | 'BAD_RESPONSE'
  | 'INVALID_ARGUMENT'
  | 'INVALID_CONFIG'
  | 'CREDENTIAL_NOT_FOUND'
  | 'INVALID_SOURCE'
  | 'SOURCE_UNAVAILABLE'
  | 'REFRESH_FAILED'
  | 'LOCK_TIMEOUT'
  | 'CONFLICT'
  | 'CIRCUIT_OPEN'
  | 'LAST_KNOWN_GOOD_EXPIRED'
  | 'WRAPPING_TOKEN_INVALID'

/** The fields every `VaultError` carries (merged into the exported class). */
export interface VaultError extends Error {
  readonly name: 'VaultError'
  /** Stable error code. */
  code: VaultErrorCode
  /** HTTP status Vault answered, when it answered. */
  status?: number
  /** Vault's own `errors` strings. */
  errors: string[]
  /** API path of the request, e.g. `/v1/secret/data/app`. */
  path?: string
  /** Vault's `request_id`, when the answer carried one. */
  requestId?: string
}

/** Metadata of one KV v2 version. */
export interface VersionMetadata {
  created_time: string
  custom_metadata: Record<string, string> | null
  /** `""` unless the version was soft-deleted. */
  deletion_time: string
  destroyed: boolean
  version: number
}

/** A read secret. `data` is null for a soft-deleted or destroyed version; `metadata` is null on KV v1. */
export interface KvSecret<T = Record<string, any>> {
  data: T | null
  metadata: VersionMetadata | null
}

/** KV v2 key metadata (`readMetadata`). */
export interface KeyMetadata {
  cas_required: boolean
  created_time: string
  current_version: number
  delete_version_after: string
  max_versions: number
  oldest_version: number
  updated_time: string
  custom_metadata: Record<string, string> | null
  versions: Record<string, { created_time: string; deletion_time: string; destroyed: boolean }>
}

/** `subkeys`: the structure of a secret with every value replaced by null. */
export interface Subkeys {
  subkeys: Record<string, any> | null
  metadata: VersionMetadata
}

/** `sys/health`; `status` is the HTTP status (200 active, 429 standby, 503 sealed, ...). */
export interface Health {
  status: number
  initialized: boolean
  sealed: boolean
  standby: boolean
  performance_standby: boolean
  replication_performance_mode: string | null
  replication_dr_mode: string | null
  server_time_utc: number | null
  version: string | null
  cluster_name: string | null
  cluster_id: string | null
}

/** `sys/seal-status`. */
export interface SealStatus {
  type: string | null
  initialized: boolean
  sealed: boolean
  t: number
  n: number
  progress: number
  nonce: string
  version: string | null
  build_date: string | null
  migration: boolean
  cluster_name: string | null
  cluster_id: string | null
  recovery_seal: boolean
  storage_type: string | null
}

/** `auth/token/lookup-self` without the token itself. */
export interface TokenInfo {
  accessor: string
  creation_time: number
  creation_ttl: number
  display_name: string
  entity_id: string
  expire_time: string | null
  explicit_max_ttl: number
  issue_time: string | null
  meta: Record<string, string> | null
  num_uses: number
  orphan: boolean
  path: string
  policies: string[]
  renewable: boolean
  /** Seconds left; 0 for a token that never expires. */
  ttl: number
  type: string
}

/** A group of credential sources, in the order `getCredential` asks them. */
export type CredentialSourceGroup = 'vault' | 'keychain' | 'files' | 'env'

/** Options of `getCredential`. */
export interface GetCredentialOptions {
  /** Sources to ask, in order, instead of the configured order. */
  order?: CredentialSourceGroup[]
  /** Read the source even when a cached value is fresh (the result is cached). */
  noCache?: boolean
  /**
   * Trades the refresh token of an expired or expiring OAuth credential for new tokens. Called
   * by exactly one process at a time; read the refresh token with `credential.expose('refreshToken')`.
   */
  refresh?: (credential: Credential) => Promise<RefreshResult>
  /**
   * The agent whose Vault layer (`<prefix>/agents/<agent>/credentials/<name>`) is asked first;
   * over `agent` in openclaw-vault.json. Lowercase letters, digits, `_`, `-` (1 to 64). See
   * docs/layers.md.
   */
  agent?: string
  /** The team whose Vault layer (`<prefix>/teams/<team>/credentials/<name>`) is asked next; over `team`. */
  team?: string
}

/**
 * This package's settings: the top level of `openclaw-vault.json` next to OpenClaw's config
 * (the deprecated `credentials` key of `openclaw.json` has the same shape).
 */
export interface CredentialsConfig {
  /** `"vault"` to read Vault first; default `"local"`. */
  provider?: 'vault' | 'local'
  /** Source order; default vault (when configured), keychain, files, env. */
  order?: CredentialSourceGroup[]
  /** What a Vault failure does: try local sources (default) or fail. */
  fallback?: 'local' | 'none'
  /** Unknown keys (typos like `fallbak`) are `INVALID_CONFIG` errors instead of warnings. */
  strict?: boolean
  /** The agent every lookup is for unless a call names its own: its Vault layer is asked first (docs/layers.md). */
  agent?: string
  /** The team every lookup is for unless a call names its own: its Vault layer is asked after the agent's. */
  team?: string
  /** How long a read is served from the cache, in ms (default 300000). */
  cacheTtlMs?: number
  /** The longest the last known good Vault value is served, marked stale, while Vault is unreachable (default 3600000). */
  maxStaleMs?: number
  /** An OAuth token this close to `expiresAt` is refreshed when `refresh` is given (default 300000). */
  refreshAheadMs?: number
  /**
   * Opt-in: keep every Vault read in an encrypted file and serve it, marked stale, to a process
   * that starts while Vault is unreachable (never for a denial or not-found). See
   * docs/last-known-good.md.
   */
  lastKnownGood?: {
    enabled?: boolean
    /** Default `<stateDir>/vault-last-known-good.bin`. */
    path?: string
    /** The oldest value served, counted from its Vault read; default 86400000 (24 h). */
    maxAgeMs?: number
    /** Where the key comes from: `"auth"` (HKDF of the Vault auth material; the default). */
    key?: 'auth'
  }
  vault?: {
    addr?: string
    /** Prefer `VAULT_TOKEN`, a token file or an auth method: a token in the file is a warning. */
    token?: string
    tokenFile?: string
    namespace?: string
    mount?: string
    kvVersion?: 1 | 2
    /** Folder under the mount; default `"openclaw"`. */
    prefix?: string
    auth?: AuthOptions
    tls?: TlsOptions
  }
  /** Appends one JSON line per access (0600); off unless a path is given. */
  audit?: { path?: string }
  /**
   * `openclaw-vault run`: the variables set in the child, `{"NAME": "credential[.field]"}`
   * (a `--env NAME=...` flag replaces the same NAME).
   */
  run?: { env?: Record<string, string> }
}

/** What `loadConfig()` found: the effective settings, never a token. */
export interface LoadedCredentialsConfig {
  /** OpenClaw's config file read (`openclaw.json`), if any. */
  file: string | null
  /** This package's settings file read (`openclaw-vault.json`), if any. */
  settingsFile: string | null
  provider: 'vault' | 'local'
  order: CredentialSourceGroup[]
  fallback: 'local' | 'none'
  cacheTtlMs: number | null
  maxStaleMs: number | null
  refreshAheadMs: number | null
  lastKnownGood: { path: string; maxAgeMs: number; key: 'auth' } | null
  prefix: string
  vault: {
    addr: string
    namespace: string | null
    mount: string
    kvVersion: 1 | 2 | null
    prefix: string
    auth: string
    tokenSet: boolean
    tls: {
      caCert: string | null
      caPath: string | null
      clientCert: boolean
      serverName: string | null
      skipVerify: boolean
    }
  } | null
  audit: string | null
  /** Where each VAULT_* / OPENCLAW_VAULT_* variable came from (`process`, a `.env` path, the config's env block). */
  env: Record<string, string>
  dotenvFiles: string[]
  /**
   * Variables the workspace `.env` (`<cwd>/.env`) set but may not set, ignored: Vault, OpenClaw,
   * proxy and TLS settings, credentials, endpoints, file locations, safety switches. Names only.
   */
  dotenvRefused: Array<{
    file: string
    variable: string
    reason: 'vault' | 'openclaw' | 'proxy' | 'tls' | 'credential' | 'endpoint' | 'location' | 'process'
  }>
  /** Unknown keys (with a did-you-mean), plaintext tokens, open permissions, refused variables. */
  warnings: string[]
}
