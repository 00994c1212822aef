// Test certificates made at run time with openssl: CAs, a server certificate for 127.0.0.1 and
// localhost, a client certificate; and a Vault listener config that serves TLS with them.
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

const openssl = (...args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']

/** Writes `<name>.pem` and `<name>.key`, a CA, into `dir`. */
export function makeCa(dir, name) {
  openssl(
    'req',
    '-x509',
    ...EC,
    '-days',
    '1',
    '-keyout',
    join(dir, `${name}.key`),
    '-out',
    join(dir, `${name}.pem`),
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  )
}

/** Writes `<name>.pem` and `<name>.key` signed by the CA `ca`, with the extensions in `ext`. */
export function makeLeaf(dir, name, ca, ext) {
  const f = (x) => join(dir, x)
  openssl('req', ...EC, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${name}`)
  writeFileSync(f(`${name}.ext`), ext)
  openssl(
    'x509',
    '-req',
    '-in',
    f(`${name}.csr`),
    '-CA',
    f(`${ca}.pem`),
    '-CAkey',
    f(`${ca}.key`),
    '-CAcreateserial',
    '-days',
    '1',
    '-out',
    f(`${name}.pem`),
    '-extfile',
    f(`${name}.ext`),
  )
}

export const SERVER_EXT = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'
export const CLIENT_EXT = 'extendedKeyUsage=clientAuth\n'

/** A Vault `listener "tcp"` block serving TLS on `port` with `dir`'s server certificate. */
export function tlsListener(dir, port, { clientCa } = {}) {
  const mtls = clientCa
    ? `\n  tls_require_and_verify_client_cert = true\n  tls_client_ca_file = "${join(dir, `${clientCa}.pem`)}"`
    : ''
  return `listener "tcp" {
  address       = "127.0.0.1:${port}"
  tls_cert_file = "${join(dir, 'server.pem')}"
  tls_key_file  = "${join(dir, 'server.key')}"${mtls}
}
`
}
