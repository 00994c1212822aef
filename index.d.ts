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

/**
 * Which binding artifact the generated loader actually loaded: `'native'` for
 * a native addon, otherwise the `platformArchABI` of the WASI flavor. Every
 * flavor napi-rs can build is listed, because `NAPI_RS_NATIVE_LIBRARY_PATH`
 * can point the loader at a WASI artifact this package does not build itself.
 */
export declare const __napiBindingTarget: 'native' | 'wasm32-wasi' | 'wasm32-wasip1'

/**
 * A credential as `getCredential` returns it. Its secret fields (`apiKey`, `token`,
 * `accessToken`, `refreshToken`, `idToken`, and any other field of the source) are `Secret`s;
 * everything else is plain data. `JSON.stringify(credential)` and `util.inspect` show the
 * secrets as `[REDACTED]`.
 */
export declare class Credential {
  /** The name asked for. */
  get name(): string
  /** `api_key`, `token` or `oauth`. */
  get kind(): 'api_key' | 'token' | 'oauth'
  /** Where it was found. */
  get source(): CredentialSource
  /** Expiry in epoch milliseconds, or null. */
  get expiresAt(): number | null
  /** Non-secret facts of the source (`scopes`, `subscriptionType`, `profileId`, ...). */
  get metadata(): Record<string, unknown>
  /** True when Vault could not be reached and this is the last known good value. */
  get stale(): boolean
  /** The Vault KV version it was read at (null for other sources and KV v1). */
  get version(): number | null
  /** Names of the secret fields. */
  get fields(): Array<string>
  /** `apiKey` of an `api_key` credential. */
  get apiKey(): Secret | null
  /** `token` of a `token` credential. */
  get token(): Secret | null
  /** `accessToken` of an `oauth` credential. */
  get accessToken(): Secret | null
  /** `refreshToken` of an `oauth` credential. */
  get refreshToken(): Secret | null
  /** `idToken` of an `oauth` credential, when the source has one. */
  get idToken(): Secret | null
  /** Any secret field by name (`appToken`, `signingSecret`, `apiKey2`, ...). */
  secret(field: string): Secret | null
  /**
   * The value of `field`, or of the main field (`apiKey`, `token` or `accessToken`) when
   * none is given. Throws `INVALID_ARGUMENT` for a field the credential does not have.
   */
  expose(field?: string | undefined | null): string
  /** Every secret field with its value. */
  exposeAll(): Record<string, string>
  /** The credential without its values: secrets appear as `[REDACTED]`. */
  toJSON(): Record<string, unknown>
  /** `[Credential <name> (<kind>) from <provider>]`. */
  toString(): string
}

/**
 * A credential chain with its own configuration: the environment, working directory and
 * settings (`config`) given here instead of the process's. The module functions use one
 * opened from the process environment.
 */
export declare class CredentialStore {
  /** Opens the chain. Throws `INVALID_CONFIG` naming the file, JSON path or variable at fault. */
  constructor(options?: CredentialStoreOptions | undefined | null)
  /** The config file that was read, if any. */
  get configFile(): string | null
  /** Warnings about the configuration (unknown keys, plaintext tokens, open permissions). */
  get warnings(): Array<string>
  /** As the module's `getCredential`, on this store. */
  getCredential(name: string, options?: GetCredentialOptions): Promise<Credential>
  /** As the module's `listCredentials`, on this store. */
  listCredentials(options?: { order?: CredentialSourceGroup[]; agent?: string; team?: string }): Promise<CredentialListing[]>
  /** As the module's `watchCredential`, on this store. */
  watchCredential(name: string, callback: (error: VaultError | null, credential: Credential | null) => void, options?: { intervalMs?: number }): Promise<CredentialWatch>
  /** Drops every cached value. */
  clearCache(): void
}

/** A running `watchCredential`; `stop()` ends it. Like `setInterval`, it keeps Node alive until stopped. */
export declare class CredentialWatch {
  /** Stops watching; no callback runs after this returns. */
  stop(): void
}

/**
 * One secret value. `String()`, template literals, `JSON.stringify` and `util.inspect` all show
 * `[REDACTED]`; `expose()` returns the value.
 */
export declare class Secret {
  /** The secret value. Call it only where the value is needed. */
  expose(): string
  /** Always `[REDACTED]`. */
  toString(): string
  /** Always `[REDACTED]`. */
  toJSON(): string
}

/**
 * A HashiCorp Vault client (KV v2 and v1, sys, token). Every method returns a promise that
 * rejects with a `VaultError`.
 */
export declare class VaultClient {
  /**
   * `new VaultClient({ addr, token, namespace, mount, kvVersion, timeoutMs })`. Throws a
   * `VaultError` with code `INVALID_CONFIG` for a bad option, before any request.
   */
  constructor(options: VaultClientOptions)
  /**
   * A client from `VAULT_ADDR`, `VAULT_TOKEN` (else `~/.vault-token`), `VAULT_NAMESPACE`,
   * `OPENCLAW_VAULT_KV_MOUNT`, `OPENCLAW_VAULT_KV_VERSION` and `VAULT_CLIENT_TIMEOUT`.
   */
  static fromEnv(): VaultClient
  /** The Vault address in use. */
  get addr(): string
  /** The KV mount paths are relative to. */
  get mount(): string
  /** The KV version of the mount (1 or 2), detecting it if needed. */
  kvVersion(): Promise<1 | 2>
  /**
   * Reads a secret. Resolves to `{ data, metadata }`, `null` when it does not exist, and
   * `{ data: null, metadata }` when the version is soft-deleted or destroyed.
   */
  read(path: string, options?: ReadOptions | undefined | null): Promise<KvSecret | null>
  /**
   * Writes a secret (a new version on KV v2). `cas: 0` creates only if absent. Resolves to the
   * new version's metadata on KV v2, `null` on KV v1.
   */
  write(path: string, data: Record<string, unknown>, options?: WriteOptions): Promise<VersionMetadata | null>
  /**
   * Merge-patches a KV v2 secret (RFC 7386: `null` removes a field). Falls back to read and
   * write with cas when the server answers 405 to PATCH.
   */
  patch(path: string, data: Record<string, unknown>, options?: WriteOptions): Promise<VersionMetadata>
  /** Keys under a folder (sub-folders end in `/`); `[]` when there are none. */
  list(path?: string): Promise<string[]>
  /** Deletes a secret: KV v2 soft-deletes the latest version. A missing secret is not an error. */
  delete(path: string): Promise<void>
  /** Soft-deletes the given versions (KV v2). */
  deleteVersions(path: string, versions: Array<number>): Promise<void>
  /** Restores soft-deleted versions (KV v2). */
  undelete(path: string, versions: Array<number>): Promise<void>
  /** Permanently removes the data of the given versions (KV v2). */
  destroy(path: string, versions: Array<number>): Promise<void>
  /** The key's metadata and version history (KV v2); `null` when it does not exist. */
  readMetadata(path: string): Promise<KeyMetadata | null>
  /** Sets key metadata (KV v2); creates it when absent. */
  writeMetadata(path: string, metadata: MetadataOptions): Promise<void>
  /** Merge-patches key metadata (KV v2); the key must exist. */
  patchMetadata(path: string, metadata: MetadataOptions): Promise<void>
  /** Deletes the key with every version and its metadata (KV v2). Missing is not an error. */
  deleteMetadata(path: string): Promise<void>
  /** The secret's structure without its values (KV v2); `null` when it does not exist. */
  subkeys(path: string, options?: SubkeysOptions | undefined | null): Promise<Subkeys | null>
  /** `sys/health`, whatever the node's state (standby, sealed, ...): `status` is the HTTP status. */
  health(): Promise<Health>
  /** `true` when Vault answers, is initialised and unsealed; `false` otherwise. Never rejects. */
  healthCheck(): Promise<boolean>
  /** `sys/seal-status`. */
  sealStatus(): Promise<SealStatus>
  /** `{ sealed, initialized }`, as the community client's `getSealStatus()`. */
  getSealStatus(): Promise<{ sealed: boolean; initialized: boolean }>
  /**
   * Renews the token now (`auth/token/renew-self`, by its original TTL); resolves to the new
   * TTL in seconds. Background renewal does this by itself unless `renew: false`.
   */
  renewSelf(): Promise<number>
  /**
   * Calls `callback` on token events: `renewed`, `reauthenticated`, `renewal_failed`,
   * `expired`. The subscription never keeps Node running; `close()` ends it.
   */
  onTokenEvent(callback: (event: TokenEvent) => void): void
  /**
   * Stops background renewal and drops event subscribers, so nothing of this client keeps
   * running. Requests still work afterwards.
   */
  close(): void
  /** `auth/token/lookup-self`, without the token itself (`id` is left out). */
  lookupSelf(): Promise<TokenInfo>
  /**
   * Any other Vault endpoint: `method` (GET, POST, PUT, PATCH, DELETE, LIST) on `/v1/<path>`
   * (a query string is allowed) with an optional JSON object body. `LIST` is sent as
   * `GET ?list=true`, which Vault treats the same and proxies pass. Resolves to Vault's whole
   * answer, or `null` for 204.
   */
  request(method: string, path: string, body?: Record<string, unknown> | null): Promise<Record<string, any> | null>
}

/**
 * The error every `VaultClient` method rejects with. `code` is stable (see `VaultErrorCode`);
 * `status`, `errors` and `requestId` are Vault's; `path` is the API path of the request. No
 * property ever holds a token or a secret value.
 */
export declare class VaultError {
  /**
   * Errors are created by the client; constructing one directly is supported for tests and
   * `instanceof` checks only.
   */
  constructor()
}

/** A login method. Secrets may be given as values or as files (read at each login, trimmed). */
export interface AuthOptions {
  /** `"token"` (a fixed token: no login), `"token_file"`, `"approle"`, `"userpass"`, `"jwt"`, `"kubernetes"` or `"cert"`. */
  method: 'token' | 'token_file' | 'approle' | 'userpass' | 'jwt' | 'kubernetes' | 'cert'
  /** Where the method is mounted. Default: the method's name (`approle`, `userpass`, ...). */
  mount?: string
  /** token_file: the file Vault Agent writes the token to; re-read when it changes. */
  tokenFile?: string
  /** approle: the role id, or `roleIdFile`. */
  roleId?: string
  roleIdFile?: string
  /** approle: the secret id, or `secretIdFile` (omit both for roles without `bind_secret_id`). */
  secretId?: string
  secretIdFile?: string
  /**
   * approle: a response-wrapped secret id (the wrapping token), or `wrappedSecretIdFile`;
   * unwrapped once at the first login after checking that Vault made it at
   * `auth/<mount>/role/<role>/secret-id` (`role`, the role's name, is required with it).
   * Single use: a token already unwrapped, expired or made elsewhere is
   * `WRAPPING_TOKEN_INVALID`.
   */
  wrappedSecretId?: string
  wrappedSecretIdFile?: string
  /** userpass: the user name. */
  username?: string
  /** userpass: the password, or `passwordFile`. */
  password?: string
  passwordFile?: string
  /**
   * jwt and kubernetes: the Vault role (required); cert: the certificate role name (optional);
   * approle with `wrappedSecretId`: the role's name (required).
   */
  role?: string
  /**
   * jwt: the JWT file (required); kubernetes: default
   * `/var/run/secrets/kubernetes.io/serviceaccount/token`.
   */
  jwtFile?: string
}

/** A credential listed by `listCredentials`: where it exists, never its value. */
export interface CredentialListing {
  name: string
  sources: Array<CredentialListingSource>
}

export interface CredentialListingSource {
  provider: string
  location: string
  /** The CLI that owns the tokens listed here, or absent (see `CredentialSource.owner`). */
  owner?: CredentialOwner
  /**
   * The Vault layer (`agent:<id>`, `team:<name>`, `default`) when the listing named an agent
   * or a team; absent otherwise.
   */
  layer?: string
}

/** A CLI that owns a credential's OAuth tokens. */
export interface CredentialOwner {
  /** The CLI: `Claude Code`, `Codex`, `Qwen Code`, `MiniMax` or `Gemini CLI`. */
  cli: string
  /** How to log it in again, e.g. `` `claude auth login` ``. */
  renew: string
}

/** Where a credential came from. */
export interface CredentialSource {
  /**
   * `vault`, `keychain`, `claude-code`, `codex`, `qwen`, `minimax`, `gemini`, `auth-profiles`,
   * `openclaw-oauth`, `openclaw-config`, `dotenv` or `env`.
   */
  provider: string
  /** `vault`, `keychain`, `files` or `env`. */
  group: 'vault' | 'keychain' | 'files' | 'env'
  /** The exact place: a Vault path, a file (with `#json.path`), a keychain item, a variable. */
  location: string
  /** The file, for file sources. */
  file?: string
  /**
   * The CLI that owns these OAuth tokens (Claude Code, Codex, Qwen Code, MiniMax, Gemini
   * CLI), or absent. Such tokens are read but never refreshed or written back by this
   * package: `getCredential` with `refresh` returns one that is still valid as it is, and
   * rejects an expired one with `REFRESH_FAILED` naming `owner.renew`.
   */
  owner?: CredentialOwner
  /**
   * The Vault layer that answered (`agent:<id>`, `team:<name>` or `default`) when the lookup
   * named an agent or a team (options or openclaw-vault.json); absent otherwise. See
   * docs/layers.md.
   */
  layer?: string
}

/** Options of `new CredentialStore(options)`. */
export interface CredentialStoreOptions {
  /**
   * Environment to read instead of `process.env` (HOME, OPENCLAW_*, VAULT_*, API key
   * variables). Variables not listed are unset.
   */
  env?: Record<string, string>
  /** The directory whose `.env` is read (OpenClaw's working directory). Default: `process.cwd()`. */
  cwd?: string
  /** Settings whose keys replace `openclaw-vault.json`'s (same shape and checks). */
  config?: CredentialsConfig
}

/**
 * Resolves a credential: Vault first when configured, then the keychain, local files and env
 * (or `options.order`), cached. `options.refresh(credential)` trades the refresh token of an
 * expired or expiring OAuth credential for new tokens; exactly one process refreshes and the
 * new tokens are written back where they came from. Rejects with `CREDENTIAL_NOT_FOUND` (the
 * sources tried are in `errors`), or with Vault's error when `fallback` is `"none"`.
 */
export declare function getCredential(name: string, options?: GetCredentialOptions): Promise<Credential>

/** Which credential names exist in which sources, without values. */
export declare function listCredentials(options?: { order?: CredentialSourceGroup[]; agent?: string; team?: string }): Promise<CredentialListing[]>

/**
 * The effective credentials configuration, as `getCredential` would use it: OpenClaw's config
 * file (found as OpenClaw finds it; JSON5) merged with the environment (env wins), or `options`.
 * Never contains a token: `vault.tokenSet` says whether one is configured. Throws
 * `INVALID_CONFIG` naming the file, JSON path or variable at fault.
 */
export declare function loadConfig(options?: CredentialStoreOptions | undefined | null): LoadedCredentialsConfig

/** Key metadata settings for `writeMetadata` and `patchMetadata`. */
export interface MetadataOptions {
  /** Versions kept per key; 0 means the engine default (10). */
  maxVersions?: number
  /** Require `cas` on every write of this key. */
  casRequired?: boolean
  /**
   * Soft-delete versions this long after they are written: `"3h"`, `"30m"`, or seconds as a
   * string. `"0s"` turns it off.
   */
  deleteVersionAfter?: string
  /**
   * Up to 64 string pairs of non-secret metadata. In `patchMetadata`, a key set to `null`
   * removes it.
   */
  customMetadata?: Record<string, string | undefined | null>
}

/** Options of `read`. */
export interface ReadOptions {
  /** A KV v2 version number (a positive integer). Default: the current version. */
  version?: number
}

/** What the JS `refresh` callback resolves to. */
export interface RefreshResult {
  /** The new access token (required). */
  accessToken: string
  /** The new refresh token; omit it to keep the old one. */
  refreshToken?: string
  idToken?: string
  /** Expiry in epoch milliseconds. */
  expiresAt?: number
  /** Or: seconds from now (OAuth's `expires_in`). */
  expiresIn?: number
}

/**
 * Runs the `openclaw-vault` command line with `argv` (without `node` and the script) on the
 * process's own stdin, stdout, stderr and environment, and resolves to its exit code. Used by
 * `bin/openclaw-vault.js`; see the README's CLI section.
 */
export declare function runCli(argv: Array<string>): Promise<number>

/** Options of `subkeys`. */
export interface SubkeysOptions {
  /** A KV v2 version number. Default: the current version. */
  version?: number
  /** How deep to descend; 0 (default) means no limit. */
  depth?: number
}

/** TLS settings. Paths are read when the client is built; a bad file throws `INVALID_CONFIG`. */
export interface TlsOptions {
  /** PEM file of CA certificates to trust instead of the system's (as `VAULT_CACERT`). */
  caCert?: string
  /** Directory of PEM CA certificates to trust instead of the system's (as `VAULT_CAPATH`). */
  caPath?: string
  /** PEM client certificate for mutual TLS (as `VAULT_CLIENT_CERT`); needs `clientKey`. */
  clientCert?: string
  /** PEM private key of `clientCert` (as `VAULT_CLIENT_KEY`). */
  clientKey?: string
  /** Name the server certificate must carry, when the address' host differs (as `VAULT_TLS_SERVER_NAME`). */
  serverName?: string
  /** Accept any server certificate (as `VAULT_SKIP_VERIFY`). Logs a warning; development only. */
  skipVerify?: boolean
}

/** A token event. Never holds the token. */
export interface TokenEvent {
  /** `renewed`, `reauthenticated`, `renewal_failed` or `expired`. */
  kind: 'renewed' | 'reauthenticated' | 'renewal_failed' | 'expired'
  /** Seconds the token has left, when known. */
  ttl?: number
  /** What failed, for `renewal_failed` and `expired`. */
  error?: string
}

/** Options of `new VaultClient(options)`. `addr` is required; everything else has a default. */
export interface VaultClientOptions {
  /** Vault's address, `http://` or `https://`, e.g. `"https://vault.example.com:8200"`. */
  addr: string
  /**
   * Further nodes of the same HA cluster, tried in order after `addr` when a node cannot
   * serve (connection refused, sealed, no active node; reads also after a timeout or 5xx).
   * Default none. See docs/high-availability.md.
   */
  addrs?: Array<string>
  /** The Vault token. Kept in Rust memory that is wiped on drop; never shown in errors. */
  token?: string
  /** Enterprise namespace, sent as `X-Vault-Namespace`. */
  namespace?: string
  /** KV mount that paths are relative to. Default `"secret"`. */
  mount?: string
  /**
   * KV engine version of the mount: 1 or 2. Default: detected once through
   * `sys/internal/ui/mounts` and cached.
   */
  kvVersion?: number
  /** Request timeout in milliseconds, including reading the body. Default 60000. */
  timeoutMs?: number
  /** Largest response body accepted, in bytes. Default 33554432 (32 MiB). */
  maxResponseBytes?: number
  /**
   * Retries after the first attempt on connection errors, 412, 429 and 5xx except 501.
   * Default 2 (`VAULT_MAX_RETRIES` in `fromEnv`); 0 turns retrying off.
   */
  maxRetries?: number
  /** Base of the linear, jittered backoff between retries, in milliseconds. Default 1000. */
  retryBackoffMs?: number
  /** Longest single wait between retries (`Retry-After` included), in milliseconds. Default 30000. */
  maxRetryWaitMs?: number
  /**
   * Follow a 307 to another origin (e.g. an HA active node) and send the token there.
   * Default false: such a redirect is an error.
   */
  redirectToOtherOrigin?: boolean
  /** TLS settings for an `https://` address. Default: the system's CA certificates. */
  tls?: TlsOptions
  /**
   * An HTTP proxy for every request, e.g. `"http://proxy:3128"`. Default: none (`fromEnv`
   * reads `VAULT_HTTP_PROXY`, then `HTTPS_PROXY`/`HTTP_PROXY` with `NO_PROXY`).
   */
  proxy?: string
  /**
   * How to get a token other than `token`: AppRole, userpass, JWT, Kubernetes, TLS
   * certificate or a token file. The client logs in before its first request and again when
   * Vault says the token is invalid.
   */
  auth?: AuthOptions
  /**
   * Renew the token in the background at about two thirds of its TTL, and log in again when
   * renewal can no longer extend it. Default true. A fixed non-renewable token is left alone.
   */
  renew?: boolean
}

/**
 * Calls `callback(null, credential)` whenever the credential changes at its source (Vault's
 * `current_version`, the file's modification), `callback(error, null)` when a check fails.
 * Resolves once the current value has been read (rejecting as `getCredential` would), then
 * checks every `intervalMs` (default 5000) until `stop()`.
 */
export declare function watchCredential(name: string, callback: (error: VaultError | null, credential: Credential | null) => void, options?: { intervalMs?: number }): Promise<CredentialWatch>

/** Options of `write` and `patch`. */
export interface WriteOptions {
  /** Check-and-set: the version the secret must currently have; `0` means "create only if absent". */
  cas?: number
}
