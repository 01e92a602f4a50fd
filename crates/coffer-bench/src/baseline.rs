//! Baselines measured in the same run as Coffer, so figures read as ratios on a noisy,
//! shared machine: a trivial HTTP server in this process (it swallows PUT bodies and answers
//! GETs with zeros), and plain file writes with fsync on the disk Coffer uses.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;

/// Starts the trivial server on an ephemeral port; GETs answer `object_size` zero bytes.
pub async fn trivial_server(object_size: u64) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| async move {
                        let method = request.method().clone();
                        let mut body = request.into_body();
                        while let Some(frame) = body.frame().await {
                            if frame.is_err() {
                                break;
                            }
                        }
                        let response = if method == hyper::Method::GET {
                            hyper::Response::new(zeros(object_size))
                        } else {
                            hyper::Response::new(Full::new(Bytes::new()).map_err(|never| match never {}).boxed())
                        };
                        Ok::<_, Infallible>(response)
                    });
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    Ok(addr)
}

type BoxBody = http_body_util::combinators::BoxBody<Bytes, Infallible>;

/// `len` zero bytes, a megabyte at a time.
fn zeros(len: u64) -> BoxBody {
    let chunk = Bytes::from(vec![0u8; 1024 * 1024]);
    let chunks = futures::stream::unfold(len, move |left| {
        let chunk = chunk.clone();
        async move {
            if left == 0 {
                return None;
            }
            let n = left.min(chunk.len() as u64);
            Some((Ok::<_, Infallible>(Frame::data(chunk.slice(..n as usize))), left - n))
        }
    });
    StreamBody::new(chunks).boxed()
}

/// Writes one file of `size` bytes (`chunk` repeated) and fsyncs it and its directory: what a
/// durable PUT costs the disk at least.
pub fn write_synced(dir: &Path, name: &str, chunk: &[u8], size: u64) -> std::io::Result<PathBuf> {
    use std::io::Write;
    let path = dir.join(name);
    let mut file = std::fs::File::create(&path)?;
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        file.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    file.sync_all()?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(path)
}
