// The one call the gateway makes for any credential: Vault first, then the keychain, local files
// and env; cached; OAuth refresh coordinated across processes; audited.
import { getCredential, listCredentials, type Credential, type RefreshResult } from '@openclaw/vault'

/** Anthropic's OAuth token endpoint, as Claude Code uses it. */
const ANTHROPIC_TOKEN_URL = 'https://console.anthropic.com/v1/oauth/token'

async function refreshAnthropic(credential: Credential): Promise<RefreshResult> {
  const res = await fetch(ANTHROPIC_TOKEN_URL, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: credential.expose('refreshToken') }),
  })
  if (!res.ok) throw new Error(`token endpoint answered ${res.status}`)
  const body = (await res.json()) as { access_token: string; refresh_token?: string; expires_in: number }
  return { accessToken: body.access_token, refreshToken: body.refresh_token, expiresIn: body.expires_in }
}

/** The headers a model provider call needs, from whatever kind of credential is configured. */
export async function providerAuthHeaders(provider: string): Promise<Record<string, string>> {
  const credential = await getCredential(provider, provider === 'anthropic' ? { refresh: refreshAnthropic } : {})
  if (credential.stale) console.warn(`[credentials] ${provider}: Vault unreachable, using the last known good value`)
  switch (credential.kind) {
    case 'oauth':
      return { authorization: `Bearer ${credential.expose('accessToken')}` }
    case 'api_key':
      return provider === 'anthropic'
        ? { 'x-api-key': credential.expose() }
        : { authorization: `Bearer ${credential.expose()}` }
    case 'token':
      return { authorization: `Bearer ${credential.expose()}` }
  }
}

/** What `openclaw status` shows about credentials: names and where they live, no values. */
export async function describeCredentials(): Promise<string[]> {
  const listed = await listCredentials()
  return listed.map((c) => `${c.name}: ${c.sources.map((s) => s.provider).join(', ')}`)
}
