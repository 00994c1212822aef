//! TLS settings (`VAULT_CACERT`, `VAULT_CAPATH`, `VAULT_CLIENT_CERT` + `VAULT_CLIENT_KEY`,
//! `VAULT_TLS_SERVER_NAME`, `VAULT_SKIP_VERIFY`, or the same given as options) turned into a
//! rustls configuration. Every file is read and parsed when the client is built, so a bad
//! one is an `INVALID_CONFIG` naming its variable or option, before any request.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::error::{Result, VaultError};

/// A file the configuration names (a CA bundle, a key, a token or JWT file), with where that name
/// came from, so that an error about the file points at the setting the user wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInput {
    /// The file.
    pub path: PathBuf,
    /// The variable or option that named it (`VAULT_CACERT`, "option `tls.caCert`").
    pub from: String,
}

impl FileInput {
    /// `path`, named by `from`.
    pub fn new(path: impl Into<PathBuf>, from: impl Into<String>) -> Self {
        FileInput {
            path: path.into(),
            from: from.into(),
        }
    }

    /// A configuration error about this file: `VAULT_CACERT (/etc/ca.pem) is not valid PEM: ...`.
    pub fn problem(&self, what: impl std::fmt::Display) -> VaultError {
        VaultError::invalid_config(format!("{} ({}) {what}", self.from, self.path.display()))
    }
}

/// The name the server certificate must carry, with where it was set, for errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerNameInput {
    /// A DNS name or an IP address.
    pub name: String,
    /// The variable or option that set it (`VAULT_TLS_SERVER_NAME`).
    pub from: String,
}

impl ServerNameInput {
    /// `name`, set by `from`.
    pub fn new(name: impl Into<String>, from: impl Into<String>) -> Self {
        ServerNameInput {
            name: name.into(),
            from: from.into(),
        }
    }
}

/// How the client checks Vault's certificate and which certificate it presents. The default is
/// the system's CA certificates, no client certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// A PEM file of CA certificates; replaces the system roots (as in the Go client).
    pub ca_cert: Option<FileInput>,
    /// A directory of PEM files of CA certificates; replaces the system roots.
    pub ca_path: Option<FileInput>,
    /// CA certificates added to the system roots (as Node's `NODE_EXTRA_CA_CERTS` does); ignored
    /// when `ca_cert` or `ca_path` replaces the roots.
    pub extra_ca: Option<FileInput>,
    /// A PEM client certificate (chain) for mutual TLS and `cert` auth; needs `client_key`.
    pub client_cert: Option<FileInput>,
    /// The PEM private key of `client_cert`.
    pub client_key: Option<FileInput>,
    /// The name the server certificate must carry, when it differs from the address' host.
    pub server_name: Option<ServerNameInput>,
    /// Accept any server certificate. Logged as a warning; for development only.
    pub skip_verify: bool,
}

impl TlsSettings {
    /// The rustls client configuration these settings describe.
    pub fn client_config(&self) -> Result<rustls::ClientConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| VaultError::invalid_config(format!("TLS setup failed: {e}")))?;
        let verifier: Arc<dyn ServerCertVerifier> = if self.skip_verify {
            tracing::warn!("TLS certificate verification is OFF: use only in development");
            Arc::new(AcceptAnyCertificate(provider))
        } else {
            let roots = Arc::new(self.roots()?);
            let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider)
                .build()
                .map_err(|e| VaultError::invalid_config(format!("TLS setup failed: {e}")))?;
            match &self.server_name {
                Some(name) => Arc::new(ExpectedName {
                    inner: webpki,
                    name: parse_server_name(name)?,
                }),
                None => webpki,
            }
        };
        let builder = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        match (&self.client_cert, &self.client_key) {
            (None, None) => Ok(builder.with_no_client_auth()),
            (Some(cert), Some(key)) => {
                let chain = read_certs(cert)?;
                let key_der = PrivateKeyDer::from_pem_file(&key.path).map_err(|e| {
                    key.problem(format!("holds no PEM private key: {}", scrub_pem_error(&e)))
                })?;
                builder.with_client_auth_cert(chain, key_der).map_err(|e| {
                    VaultError::invalid_config(format!(
                        "{} and {} do not form a usable client certificate: {e}",
                        cert.from, key.from
                    ))
                })
            }
            (Some(cert), None) => Err(VaultError::invalid_config(format!(
                "{} is set but its private key is not",
                cert.from
            ))),
            (None, Some(key)) => Err(VaultError::invalid_config(format!(
                "{} is set but the client certificate is not",
                key.from
            ))),
        }
    }

    fn roots(&self) -> Result<RootCertStore> {
        let mut roots = RootCertStore::empty();
        let own = [&self.ca_cert, &self.ca_path].into_iter().flatten().count() > 0;
        if let Some(ca) = &self.ca_cert {
            add_all(&mut roots, read_certs(ca)?, ca)?;
        }
        if let Some(dir) = &self.ca_path {
            let entries = std::fs::read_dir(&dir.path)
                .map_err(|e| dir.problem(format!("is not a readable directory: {e}")))?;
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            files.sort();
            for file in files {
                // Not every file in a CA directory is a certificate (hash links, READMEs).
                if let Ok(certs) = read_certs(&FileInput::new(&file, dir.from.clone())) {
                    add_all(&mut roots, certs, dir)?;
                }
            }
            if roots.is_empty() {
                return Err(dir.problem("holds no PEM certificate"));
            }
        }
        if !own {
            let native = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(native.certs);
            if let Some(extra) = &self.extra_ca {
                add_all(&mut roots, read_certs(extra)?, extra)?;
            }
        }
        Ok(roots)
    }
}

/// A PEM parser error without the input it quotes (a line of the file, which for a key file is
/// secret): only what kind of problem it is.
fn scrub_pem_error(e: &rustls::pki_types::pem::Error) -> String {
    use rustls::pki_types::pem::Error;
    match e {
        Error::MissingSectionEnd { .. } => "a section has no END line".into(),
        Error::IllegalSectionStart { .. } => "a BEGIN line is malformed".into(),
        Error::Base64Decode(_) => "a section is not valid base64".into(),
        Error::Io(io) => format!("cannot be read ({})", io.kind()),
        Error::NoItemsFound => "no items found".into(),
        Error::SectionTooLarge => "a section is larger than 256 MB".into(),
        _ => "not valid PEM".into(),
    }
}

fn read_certs(source: &FileInput) -> Result<Vec<CertificateDer<'static>>> {
    let bytes =
        std::fs::read(&source.path).map_err(|e| source.problem(format!("cannot be read: {e}")))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| source.problem(format!("is not valid PEM: {}", scrub_pem_error(&e))))?;
    if certs.is_empty() {
        return Err(
            source.problem("holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)")
        );
    }
    Ok(certs)
}

fn add_all(
    roots: &mut RootCertStore,
    certs: Vec<CertificateDer<'static>>,
    source: &FileInput,
) -> Result<()> {
    for cert in certs {
        roots
            .add(cert)
            .map_err(|e| source.problem(format!("holds a certificate rustls rejects: {e}")))?;
    }
    Ok(())
}

fn parse_server_name(input: &ServerNameInput) -> Result<ServerName<'static>> {
    ServerName::try_from(input.name.clone()).map_err(|_| {
        VaultError::invalid_config(format!(
            "{} must be a DNS name or an IP address",
            input.from
        ))
    })
}

/// Verifies the certificate against a configured name instead of the URL's host.
#[derive(Debug)]
struct ExpectedName {
    inner: Arc<WebPkiServerVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for ExpectedName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// `VAULT_SKIP_VERIFY`: any certificate is accepted, but handshake signatures are still checked.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `VAULT_SKIP_VERIFY` as the Go client parses it (strconv.ParseBool).
pub fn parse_bool(value: &str, what: &str) -> Result<bool> {
    match value.trim() {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(VaultError::invalid_config(format!(
            "{what} must be a boolean (true, false, 1, 0)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use openclaw_vault_test_support::{temp_dir, TempDir};

    /// `content` in a file `name` of a directory of its own, removed when the `TempDir` drops
    /// (tests run in parallel threads of one process: one directory per file name).
    fn tmp(name: &str, content: &str) -> (TempDir, PathBuf) {
        let dir = temp_dir(&format!("tls-{name}"));
        let p = dir.join(name);
        std::fs::write(&p, content).unwrap();
        (dir, p)
    }

    #[test]
    fn skip_verify_parses_like_go() {
        assert!(parse_bool("true", "VAULT_SKIP_VERIFY").unwrap());
        assert!(parse_bool("1", "VAULT_SKIP_VERIFY").unwrap());
        assert!(!parse_bool("false", "VAULT_SKIP_VERIFY").unwrap());
        assert!(!parse_bool("0", "VAULT_SKIP_VERIFY").unwrap());
        let err = parse_bool("yes please", "VAULT_SKIP_VERIFY").unwrap_err();
        assert_eq!(err.code(), "INVALID_CONFIG");
        assert!(err.message.contains("VAULT_SKIP_VERIFY"));
    }

    #[test]
    fn pem_errors_never_quote_the_file() {
        use rustls::pki_types::pem::Error;
        for e in [
            Error::MissingSectionEnd {
                end_marker: b"sk-canary-pem".to_vec(),
            },
            Error::IllegalSectionStart {
                line: b"-----BEGIN sk-canary-pem".to_vec(),
            },
            Error::Base64Decode("invalid byte sk-canary-pem".into()),
        ] {
            let shown = scrub_pem_error(&e);
            assert!(!shown.contains("canary"), "{shown}");
        }
    }

    #[test]
    fn a_ca_file_that_is_not_pem_names_its_source() {
        let (_dir, p) = tmp("not-pem.crt", "hello, I am not a certificate\n");
        let s = TlsSettings {
            ca_cert: Some(FileInput::new(&p, "VAULT_CACERT")),
            ..Default::default()
        };
        let err = s.client_config().unwrap_err();
        assert_eq!(err.code(), "INVALID_CONFIG");
        assert!(
            err.message.contains("VAULT_CACERT") && err.message.contains("no PEM certificate"),
            "{}",
            err.message
        );
        let missing = TlsSettings {
            ca_cert: Some(FileInput::new("/nonexistent/ca.pem", "option `tls.caCert`")),
            ..Default::default()
        };
        assert!(missing
            .client_config()
            .unwrap_err()
            .message
            .contains("tls.caCert"));
    }

    #[test]
    fn a_client_key_without_a_certificate_is_refused() {
        let (_dir, p) = tmp(
            "key.pem",
            &format!(
                "-----BEGIN {0}-----\nAAAA\n-----END {0}-----\n",
                "PRIVATE KEY"
            ),
        );
        let s = TlsSettings {
            client_key: Some(FileInput::new(&p, "VAULT_CLIENT_KEY")),
            ..Default::default()
        };
        let err = s.client_config().unwrap_err();
        assert!(
            err.message.contains("VAULT_CLIENT_KEY") && err.message.contains("client certificate"),
            "{}",
            err.message
        );
        // The key file's content never reaches the message.
        assert!(!err.message.contains("AAAA"));
    }

    #[test]
    fn defaults_build_with_system_roots() {
        TlsSettings::default().client_config().unwrap();
        let bad = parse_server_name(&ServerNameInput::new(
            "not a name!",
            "VAULT_TLS_SERVER_NAME",
        ))
        .unwrap_err();
        assert!(
            bad.message.contains("VAULT_TLS_SERVER_NAME"),
            "{}",
            bad.message
        );
    }
}
