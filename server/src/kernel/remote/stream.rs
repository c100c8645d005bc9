//! Opening a byte stream to the server: TCP, with TLS (rustls, Mozilla's roots plus any
//! certificates in the PEM file `SSL_CERT_FILE` names) for `https`. Both the REST client
//! and the websocket run over it.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

use super::url::ServerUrl;

/// A connected stream, plain or TLS.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Why the server could not be reached (the caller adds the URL and the fix).
pub(crate) type ConnectError = String;

/// Connects to `url`'s host within `timeout`.
pub(crate) async fn connect(
    url: &ServerUrl,
    timeout: Duration,
) -> Result<Box<dyn Io>, ConnectError> {
    let host = url
        .host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let tcp = tokio::time::timeout(timeout, TcpStream::connect((host.as_str(), url.port)))
        .await
        .map_err(|_| format!("no answer within {}s", timeout.as_secs()))?
        .map_err(|error| error.to_string())?;
    let _ = tcp.set_nodelay(true);
    if !url.tls {
        return Ok(Box::new(tcp));
    }
    let config = tls_config()?;
    let name = ServerName::try_from(host).map_err(|error| format!("bad TLS host name: {error}"))?;
    let tls = tokio::time::timeout(timeout, TlsConnector::from(config).connect(name, tcp))
        .await
        .map_err(|_| format!("the TLS handshake took over {}s", timeout.as_secs()))?
        .map_err(|error| format!("TLS: {error}"))?;
    Ok(Box::new(tls))
}

fn tls_config() -> Result<Arc<ClientConfig>, ConnectError> {
    static CONFIG: OnceLock<Result<Arc<ClientConfig>, String>> = OnceLock::new();
    CONFIG.get_or_init(build_tls_config).clone()
}

fn build_tls_config() -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(file) = std::env::var_os("SSL_CERT_FILE") {
        let certificates = CertificateDer::pem_file_iter(&file)
            .map_err(|error| format!("SSL_CERT_FILE {}: {error}", file.to_string_lossy()))?;
        for certificate in certificates {
            let certificate = certificate
                .map_err(|error| format!("SSL_CERT_FILE {}: {error}", file.to_string_lossy()))?;
            roots
                .add(certificate)
                .map_err(|error| format!("SSL_CERT_FILE {}: {error}", file.to_string_lossy()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| format!("TLS set-up: {error}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
