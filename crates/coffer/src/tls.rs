//! HTTPS for both listeners (rustls with ring, as the rest of Coffer's TLS): the certificate
//! chain and key come from PEM files and are read again on SIGHUP, so a renewed certificate
//! takes effect for new connections without dropping the ones already open. A reload that
//! fails keeps the certificate in use and says why.
//!
//! `coffer tls self-signed` writes a certificate for local use.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::RwLock;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;

/// Where the certificate chain and its key are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The certificate in use, swapped whole on a reload.
#[derive(Debug)]
pub struct Certificates {
    files: TlsFiles,
    current: RwLock<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().clone())
    }
}

/// ring, the provider the rest of Coffer's TLS (rustls in reqwest, the tests) builds with;
/// aws-lc-rs (post-quantum key exchange) would add a C toolchain to the build.
#[allow(deprecated)]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn load(files: &TlsFiles) -> Result<CertifiedKey, String> {
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|err| format!("cannot read the certificate {}: {err}", files.cert.display()))?;
    if chain.is_empty() {
        return Err(format!("{} holds no certificate", files.cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|err| format!("cannot read the private key {}: {err}", files.key.display()))?;
    let signing = provider()
        .key_provider
        .load_private_key(key)
        .map_err(|err| format!("cannot use the private key {}: {err}", files.key.display()))?;
    let certified = CertifiedKey::new(chain, signing);
    certified
        .keys_match()
        .map_err(|err| format!("the key {} is not the certificate's: {err}", files.key.display()))?;
    Ok(certified)
}

impl Certificates {
    /// Reads the files; an error names the file and what is wrong with it.
    pub fn open(files: &TlsFiles) -> Result<Arc<Certificates>, String> {
        Ok(Arc::new(Certificates {
            current: RwLock::new(Arc::new(load(files)?)),
            files: files.clone(),
        }))
    }

    /// Reads the files again; on failure the certificate in use stays.
    pub fn reload(&self) -> Result<(), String> {
        let loaded = load(&self.files)?;
        *self.current.write() = Arc::new(loaded);
        Ok(())
    }

    /// An acceptor for connections, HTTP/1.1 only (as the listeners serve).
    pub fn acceptor(self: &Arc<Self>) -> Result<TlsAcceptor, String> {
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|err| err.to_string())?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

/// Handles SIGHUP from now on, for as long as the process runs: the certificate, if any, is
/// read again (`systemctl reload`); without one there is nothing to reload, and the signal
/// never stops Coffer, as SIGHUP's default would.
pub fn reload_on_hangup(certificates: Option<Arc<Certificates>>) -> Result<(), String> {
    let mut hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(|err| format!("cannot listen for SIGHUP: {err}"))?;
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            let Some(certificates) = certificates.clone() else {
                tracing::info!("SIGHUP: no TLS certificate to reload");
                continue;
            };
            // The files are read off the runtime's threads.
            match tokio::task::spawn_blocking(move || certificates.reload()).await {
                Ok(Ok(())) => tracing::info!("TLS certificate reloaded"),
                Ok(Err(err)) => tracing::error!(%err, "TLS certificate not reloaded; the previous one stays in use"),
                Err(err) => tracing::error!(%err, "TLS certificate reload failed"),
            }
        }
    });
    Ok(())
}

/// Writes a self-signed certificate for `hosts` (names or addresses) and its key into `dir`
/// as `cert.pem` and `key.pem` (the key readable by its owner only). For local use: clients
/// trust it with `aws --ca-bundle dir/cert.pem` or `AWS_CA_BUNDLE`.
pub fn write_self_signed(hosts: &[String], dir: &Path) -> Result<(PathBuf, PathBuf), String> {
    let certified = rcgen::generate_simple_self_signed(hosts.to_vec())
        .map_err(|err| format!("cannot make the certificate: {err}"))?;
    std::fs::create_dir_all(dir).map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    // Never half a pair: a certificate over an old key would not load.
    if let Some(there) = [&cert, &key].into_iter().find(|path| path.exists()) {
        return Err(format!("{} already exists: choose another --out-dir", there.display()));
    }
    // The key first, created new and private; the certificate only once the key is there.
    let mut file = coffer_store::private_fs::new_file()
        .open(&key)
        .map_err(|err| format!("cannot write {}: {err}", key.display()))?;
    std::io::Write::write_all(&mut file, certified.key_pair.serialize_pem().as_bytes())
        .map_err(|err| format!("cannot write {}: {err}", key.display()))?;
    std::fs::write(&cert, certified.cert.pem()).map_err(|err| format!("cannot write {}: {err}", cert.display()))?;
    Ok((cert, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_certificate_loads_and_a_mismatched_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = write_self_signed(&["localhost".to_owned(), "127.0.0.1".to_owned()], dir.path()).unwrap();
        let files = TlsFiles { cert, key };
        let certificates = Certificates::open(&files).unwrap();
        certificates.acceptor().unwrap();
        // Writing again into the same place is refused (it would leave half a pair).
        assert!(
            write_self_signed(&["localhost".to_owned()], dir.path())
                .unwrap_err()
                .contains("already exists")
        );
        // Another pair's key with this certificate: refused, and the old pair stays.
        let other = tempfile::tempdir().unwrap();
        let (_, other_key) = write_self_signed(&["localhost".to_owned()], other.path()).unwrap();
        std::fs::copy(&other_key, &files.key).unwrap();
        assert!(certificates.reload().unwrap_err().contains("not the certificate's"));
        assert!(Certificates::open(&files).is_err());
        std::fs::write(&files.cert, "not a certificate").unwrap();
        assert!(Certificates::open(&files).unwrap_err().contains("no certificate"));
    }
}
