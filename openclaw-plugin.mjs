// OpenClaw plugin entry of @openclaw/vault. Everything this plugin offers is declarative, in
// openclaw.plugin.json: the `openclaw-vault` secret provider integration, which OpenClaw runs as
// `node ./bin/openclaw-vault-resolve.mjs`. There is nothing to register at runtime.
export default {
  id: 'openclaw-vault',
  name: 'OpenClaw Vault (Rust)',
  description: 'HashiCorp Vault SecretRef provider: one read per secret path, retries, every Vault auth method.',
  register() {},
}
