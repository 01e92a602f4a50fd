//! Receiving an upload: the body streams into a blob (bounded memory, a deadline for each
//! chunk) while its MD5 and checksums are computed; then every digest the client sent is
//! checked. Only a body that passed every check becomes a durable blob: a failed one is a
//! temp file that is removed when its writer drops.

use std::time::Duration;

use futures::StreamExt;
use http::HeaderMap;
use s3s::TrailingHeaders;
use s3s::dto::StreamingBlob;

use crate::checksums::{self, Algorithm, Digests, Hashes};
use crate::error::{Result, S3Fault};
use coffer_store::{BlobWriter, DataKey, MAX_INLINE_BODY, NewBytes, Sealing, Store};

/// The checksum a client sent for a body: at most one, as a header or named as a trailer.
#[derive(Clone, Debug, Default)]
pub struct ChecksumClaim {
    /// The algorithm the object (or part) is checksummed with.
    pub algorithm: Option<Algorithm>,
    header: Option<(Algorithm, String)>,
    trailer: Option<Algorithm>,
    content_md5: Option<String>,
}

/// The `x-amz-checksum-*` header values an operation's input carries, in [`Algorithm::ALL`] order.
pub type ChecksumHeaders<'a> = [Option<&'a String>; 5];

/// The [`ChecksumHeaders`] of an input (PutObjectInput and UploadPartInput name them alike).
macro_rules! checksum_headers {
    ($input:expr) => {
        [
            $input.checksum_crc32.as_ref(),
            $input.checksum_crc32c.as_ref(),
            $input.checksum_crc64nvme.as_ref(),
            $input.checksum_sha1.as_ref(),
            $input.checksum_sha256.as_ref(),
        ]
    };
}
pub(crate) use checksum_headers;

impl ChecksumClaim {
    /// Reads the claim from the request: checksum headers, `x-amz-trailer`,
    /// `x-amz-sdk-checksum-algorithm` and `Content-MD5`.
    pub fn from_request(
        headers: &HeaderMap,
        values: ChecksumHeaders<'_>,
        sdk_algorithm: Option<&str>,
        content_md5: Option<&String>,
    ) -> Result<ChecksumClaim> {
        let mut sent = Algorithm::ALL
            .into_iter()
            .zip(values)
            .filter_map(|(a, v)| v.map(|v| (a, v.clone())));
        let header = sent.next();
        if sent.next().is_some() {
            return Err(S3Fault::InvalidRequest(
                "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.".to_owned(),
            ));
        }
        let trailer = match headers.get("x-amz-trailer").map(|v| v.to_str().unwrap_or_default()) {
            None => None,
            Some(name) => Some(
                Algorithm::ALL
                    .into_iter()
                    .find(|a| a.header().eq_ignore_ascii_case(name.trim()))
                    .ok_or_else(|| {
                        S3Fault::InvalidRequest(
                            "The value specified in the x-amz-trailer header is not supported".to_owned(),
                        )
                    })?,
            ),
        };
        let sdk_algorithm = match sdk_algorithm {
            None => None,
            Some(name) => Some(Algorithm::parse(name).ok_or_else(|| {
                S3Fault::InvalidRequest("Value for x-amz-sdk-checksum-algorithm header is invalid.".to_owned())
            })?),
        };
        let algorithm = header.as_ref().map(|(a, _)| *a).or(trailer).or(sdk_algorithm);
        if let (Some(sdk), Some(sent)) = (sdk_algorithm, header.as_ref().map(|(a, _)| *a).or(trailer))
            && sdk != sent
        {
            return Err(S3Fault::InvalidRequest(
                "Value for x-amz-sdk-checksum-algorithm header is invalid.".to_owned(),
            ));
        }
        Ok(ChecksumClaim {
            algorithm,
            header,
            trailer,
            content_md5: content_md5.cloned(),
        })
    }

    /// Checks every digest the client sent against what was received.
    pub fn verify(&self, digests: &Digests, trailers: Option<&TrailingHeaders>) -> Result<()> {
        if let Some(md5) = &self.content_md5 {
            let claimed = checksums::decode_md5(md5).ok_or_else(|| S3Fault::InvalidDigest)?;
            if claimed != digests.md5 {
                return Err(S3Fault::BadDigest(
                    "The Content-MD5 you specified did not match what we received.".to_owned(),
                ));
            }
        }
        let claimed = match (&self.header, self.trailer) {
            (Some((algorithm, value)), _) => Some((*algorithm, value.clone())),
            (None, Some(algorithm)) => {
                let value = trailers
                    .and_then(|t| {
                        t.read(|map| {
                            map.get(algorithm.header())
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_owned)
                        })
                    })
                    .flatten()
                    .ok_or_else(|| {
                        S3Fault::InvalidRequest(format!(
                            "The {} trailer was declared but not sent.",
                            algorithm.header()
                        ))
                    })?;
                Some((algorithm, value))
            }
            (None, None) => None,
        };
        if let Some((algorithm, value)) = claimed {
            // A value that does not even decode cannot match: S3 calls that BadDigest too.
            let raw = checksums::decode(algorithm, &value);
            if raw.is_none() || digests.raw(algorithm) != raw.as_deref() {
                return Err(S3Fault::BadDigest(format!(
                    "The {} you specified did not match the calculated checksum.",
                    algorithm.name()
                )));
            }
        }
        Ok(())
    }

    /// The algorithms to compute: the client's, or CRC64NVME (S3's default for new objects).
    pub fn algorithms(&self, also: Option<Algorithm>) -> Vec<Algorithm> {
        let mut algorithms = vec![self.algorithm.unwrap_or(Algorithm::Crc64Nvme)];
        algorithms.extend(also);
        algorithms
    }
}

/// A body written to a blob, with its digests; not durable until [`finish`]ed.
pub struct Received {
    pub writer: BlobWriter,
    pub size: u64,
    pub digests: Digests,
}

impl Received {
    /// Makes the blob durable and returns its id.
    pub async fn finish(self) -> Result<String> {
        self.writer.finish().await.map_err(S3Fault::internal)
    }

    /// A small body's bytes for the object's row to keep (no file, no fsync of its own: the
    /// row's commit makes them durable), or a larger one made a durable blob.
    pub async fn finish_or_keep(self) -> Result<NewBytes> {
        self.writer
            .finish_or_keep(MAX_INLINE_BODY)
            .await
            .map_err(S3Fault::internal)
    }
}

/// The length a body declares: `Content-Length`, or for an aws-chunked body sent without one
/// (HTTP/1.1 chunked transfer), `x-amz-decoded-content-length` (s3s writes the decoded length
/// into `Content-Length` only when there is one).
pub fn declared_length(content_length: Option<i64>, headers: &HeaderMap) -> Result<Option<i64>> {
    let streaming = headers
        .get("x-amz-content-sha256")
        .is_some_and(|v| v.as_bytes().starts_with(b"STREAMING-"));
    if content_length.is_some() || !streaming {
        return Ok(content_length);
    }
    let Some(decoded) = headers.get("x-amz-decoded-content-length") else {
        return Ok(None);
    };
    decoded
        .to_str()
        .ok()
        .and_then(|v| v.parse::<i64>().ok())
        .map(Some)
        .ok_or_else(|| S3Fault::InvalidArgument("x-amz-decoded-content-length is not a length.".to_owned()))
}

/// Streams `body` into a new temp blob (sealed in segments under `sealing`, the object's data
/// key, when it is encrypted), refusing more than `max_size` bytes and a body that sends nothing for
/// `idle_timeout`. Digests and the size are of the plain bytes.
pub async fn receive(
    store: &Store,
    idle_timeout: Duration,
    body: Option<StreamingBlob>,
    declared: Option<i64>,
    max_size: u64,
    algorithms: &[Algorithm],
    sealing: Option<&DataKey>,
) -> Result<Received> {
    if declared.is_some_and(|len| len < 0) {
        return Err(S3Fault::InvalidArgument(
            "Content-Length must not be negative.".to_owned(),
        ));
    }
    if declared.is_some_and(|len| len as u64 > max_size) {
        return Err(too_large());
    }
    let mut writer = store.blobs().create().await.map_err(S3Fault::internal)?;
    // Sealed under a key of this blob's own: see `coffer_store::encryption`.
    let mut sealing = sealing.map(|key| Sealing::new(key.for_blob(writer.id())));
    let mut hashes = Hashing::Here(Hashes::new(algorithms));
    let mut size: u64 = 0;
    let mut sealed = Vec::new();
    if let Some(mut body) = body {
        loop {
            let chunk = match tokio::time::timeout(idle_timeout, body.next()).await {
                Err(_) => return Err(request_timeout()),
                Ok(None) => break,
                Ok(Some(Err(err))) => return Err(stream_error(&err.to_string())),
                Ok(Some(Ok(chunk))) => chunk,
            };
            size += chunk.len() as u64;
            if size > max_size {
                return Err(too_large());
            }
            hashes.update(&chunk, size).await?;
            match &mut sealing {
                None => writer.write(&chunk).await.map_err(S3Fault::internal)?,
                Some(sealing) => {
                    sealed.clear();
                    sealing.push(&chunk, &mut sealed);
                    writer.write(&sealed).await.map_err(S3Fault::internal)?;
                }
            }
        }
    }
    if declared.is_some_and(|len| len as u64 != size) {
        return Err(incomplete());
    }
    if let Some(sealing) = sealing {
        sealed.clear();
        sealing.finish(&mut sealed);
        writer.write(&sealed).await.map_err(S3Fault::internal)?;
    }
    Ok(Received {
        writer,
        size,
        digests: hashes.finish().await?,
    })
}

/// Bodies longer than this are hashed on a thread of their own as they arrive: MD5 alone
/// costs about 1.65 ms of CPU per MiB here (no faster implementation exists for this CPU;
/// md-5's assembly is no quicker), as much as receiving, sealing and writing together, so
/// a large upload doing both in one task went at half the pace a second core allows.
/// Smaller bodies are hashed where they arrive: a thread hop would cost them more.
const HASH_ALONGSIDE_AFTER: u64 = 1024 * 1024;
/// Chunks queued for the hashing thread at most (hyper's chunks are at most a few hundred
/// KiB): a body arriving faster than it hashes waits, so memory stays bounded.
const HASH_QUEUE: usize = 16;

/// The digests of a body as it streams: here, or on a thread of the blocking pool.
enum Hashing {
    Here(Hashes),
    Alongside {
        chunks: tokio::sync::mpsc::Sender<bytes::Bytes>,
        hashed: tokio::task::JoinHandle<Hashes>,
    },
}

impl Hashing {
    /// Hashes `chunk`; `received` counts the body's bytes so far, this chunk's included.
    async fn update(&mut self, chunk: &bytes::Bytes, received: u64) -> Result<()> {
        if received > HASH_ALONGSIDE_AFTER
            && let Hashing::Here(here) = self
        {
            let mut hashes = std::mem::replace(here, Hashes::new(&[]));
            let (chunks, mut queued) = tokio::sync::mpsc::channel::<bytes::Bytes>(HASH_QUEUE);
            let hashed = tokio::task::spawn_blocking(move || {
                while let Some(chunk) = queued.blocking_recv() {
                    hashes.update(&chunk);
                }
                hashes
            });
            *self = Hashing::Alongside { chunks, hashed };
        }
        match self {
            Hashing::Here(hashes) => hashes.update(chunk),
            Hashing::Alongside { chunks, .. } => chunks
                .send(chunk.clone())
                .await
                .map_err(|_| S3Fault::internal("the hashing thread ended early"))?,
        }
        Ok(())
    }

    /// The digests, once every chunk is hashed.
    async fn finish(self) -> Result<Digests> {
        match self {
            Hashing::Here(hashes) => Ok(hashes.finish()),
            Hashing::Alongside { chunks, hashed } => {
                drop(chunks);
                Ok(hashed.await.map_err(S3Fault::internal)?.finish())
            }
        }
    }
}

fn too_large() -> S3Fault {
    S3Fault::EntityTooLarge
}

fn incomplete() -> S3Fault {
    S3Fault::IncompleteBody
}

fn request_timeout() -> S3Fault {
    S3Fault::RequestTimeout
}

/// How a browser form's file stream says it went outside its policy's size range.
pub(crate) const FORM_FILE_TOO_LARGE: &str = "PostObject file too large";
pub(crate) const FORM_FILE_TOO_SMALL: &str = "PostObject file too small";

/// Maps an error from s3s's body streams (their types are private; their messages are not),
/// or from the listener's pace for bodies (its text starts with `RequestTimeout`).
fn stream_error(message: &str) -> S3Fault {
    if message.contains(FORM_FILE_TOO_LARGE) {
        S3Fault::EntityTooLarge
    } else if message.contains(FORM_FILE_TOO_SMALL) {
        S3Fault::EntityTooSmall
    } else if message.contains("RequestTimeout") {
        request_timeout()
    } else if message.contains("Sha256Mismatch") {
        S3Fault::XAmzContentSHA256Mismatch
    } else if message.contains("SignatureMismatch") {
        S3Fault::SignatureDoesNotMatch
    } else if message.contains("FormatError") || message.contains("TooLarge") || message.contains("TooMany") {
        S3Fault::InvalidRequest("The aws-chunked body of the request is malformed.".to_owned())
    } else {
        incomplete()
    }
}
