//! Accepting connections for the API and the console: HTTP/1.1 (over TLS when configured) with
//! `TCP_NODELAY`, a deadline for the TLS handshake and for reading request headers, a pace every request body must keep ([`PacedBody`]), a bound on header
//! size, and a graceful stop (in-flight requests finish).

use std::future::Future;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::paced_body::{BodyPace, PacedBody};

/// The most header bytes a request may send (S3 allows 8 KiB of headers; presigned URLs
/// and long keys need a few more). Beyond it hyper answers 431.
const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Connections served at once; more wait in the kernel's accept queue. Each upload holds up
/// to half a MiB of buffers, so this bounds what slow clients can make Coffer hold.
const MAX_CONNECTIONS: usize = 1024;
/// How long a stop waits for in-flight requests.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a TLS handshake may take (a client that opens connections and never finishes
/// one holds a connection slot no longer than this).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    idle_timeout: Duration,
    proxies: coffer_auth::TrustedProxies,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    // Told to connections still shaking hands when Coffer stops: they are dropped, not waited for.
    let (stopping, stopped) = tokio::sync::watch::channel(false);
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(%err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Without it, small responses wait ~40 ms for delayed ACKs.
        let _ = tcp.set_nodelay(true);
        // Each request learns the connection it came over (for aws:SourceIp and
        // aws:SecureTransport).
        let service = TowerToHyperService::new(
            router
                .clone()
                .layer(axum::Extension(coffer_auth::PeerAddr {
                    addr: peer,
                    proxies: proxies.clone(),
                    tls: tls.is_some(),
                }))
                .map_request(move |request: http::Request<hyper::body::Incoming>| {
                    let pace = BodyPace::default();
                    let mut request = request.map(|body| PacedBody::new(body, idle_timeout, pace.clone()));
                    request.extensions_mut().insert(pace);
                    request
                }),
        );
        let watcher = graceful.watcher();
        let tls = tls.clone();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            match tls {
                None => {
                    let _ = watcher.watch(connection(tcp, idle_timeout, service)).await;
                }
                Some(acceptor) => {
                    let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT.min(idle_timeout), acceptor.accept(tcp));
                    tokio::select! {
                        done = handshake => match done {
                            Ok(Ok(stream)) => {
                                let _ = watcher.watch(connection(stream, idle_timeout, service)).await;
                            }
                            Ok(Err(err)) => tracing::debug!(%err, %peer, "TLS handshake failed"),
                            Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                        },
                        () = async { drop(stopped.wait_for(|stopping| *stopping).await) } => {}
                    }
                }
            }
            drop(slot);
        });
    }
    let _ = stopping.send(true);
    tokio::select! {
        () = graceful.shutdown() => {},
        () = tokio::time::sleep(DRAIN_TIMEOUT) => tracing::warn!("stopped with requests still running"),
    }
}

/// One HTTP/1.1 connection over `io` (TCP, or TLS over TCP).
fn connection<IO, S>(
    io: IO,
    idle_timeout: Duration,
    service: S,
) -> hyper::server::conn::http1::Connection<TokioIo<IO>, S>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::HttpService<hyper::body::Incoming>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    S::ResBody: 'static,
    <S::ResBody as http_body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(idle_timeout)
        .max_buf_size(MAX_HEADER_BYTES)
        .serve_connection(TokioIo::new(io), service)
}
