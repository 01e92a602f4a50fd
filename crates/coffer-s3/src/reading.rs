//! Streaming an object's bytes (or a range of them) out of its blob files, a bounded buffer
//! at a time. Small objects are read in one go: for them a single blocking read is cheaper
//! than a stream of file operations.

use std::collections::VecDeque;
use std::io::SeekFrom;
use std::ops::Range;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use s3s::StdError;
use s3s::dto::StreamingBlob;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use coffer_store::{
    BlobKey, BlobLease, DataKey, ObjectData, ObjectMeta, SEGMENT, Store, TAG, open_segment as open_segment_bytes,
    open_segment_in_place, sealed_span,
};

/// Objects up to this size are read into memory whole.
const SMALL_OBJECT: u64 = 64 * 1024;
/// Bytes read per chunk when streaming.
const READ_CHUNK: usize = 128 * 1024;

/// A piece of one blob (`range` counts plain bytes).
#[derive(Clone, Debug)]
pub struct Segment {
    pub blob_id: String,
    pub range: Range<u64>,
    /// How the blob is sealed, when the object is encrypted.
    pub sealed: Option<Sealed>,
}

/// An encrypted blob: its key (derived from the object's data key and its id) and its plain
/// length.
#[derive(Clone, Debug)]
pub struct Sealed {
    pub key: BlobKey,
    pub plain_len: u64,
}

/// The blob segments that hold `range` of `object`, in order; `key` opens an encrypted
/// object's blobs.
pub fn segments(object: &ObjectMeta, range: Range<u64>, key: Option<&DataKey>) -> Vec<Segment> {
    let sealed = |blob_id: &str, plain_len: u64| {
        key.map(|key| Sealed {
            key: key.for_blob(blob_id),
            plain_len,
        })
    };
    match &object.data {
        ObjectData::Blob(blob_id) => vec![Segment {
            blob_id: blob_id.clone(),
            range,
            sealed: sealed(blob_id, object.size),
        }],
        ObjectData::Parts(parts) => {
            let mut segments = Vec::new();
            let mut offset = 0u64;
            for part in parts {
                let part_range = offset..offset + part.size;
                offset += part.size;
                let start = range.start.max(part_range.start);
                let end = range.end.min(part_range.end);
                if start < end {
                    segments.push(Segment {
                        blob_id: part.blob_id.clone(),
                        range: start - part_range.start..end - part_range.start,
                        sealed: sealed(&part.blob_id, part.size),
                    });
                }
            }
            segments
        }
    }
}

/// Leases the segments' blobs and checks that all but the first are still there (opening
/// the first checks it). `None`: a write replaced the object after it was read and its blobs
/// are gone; read the object again.
pub async fn lease(store: &Store, segments: &[Segment]) -> Option<BlobLease> {
    let ids: Vec<String> = segments.iter().map(|s| s.blob_id.clone()).collect();
    let lease = store.blobs().lease(&ids);
    for id in ids.iter().skip(1) {
        if !store.blobs().exists(id).await {
            return None;
        }
    }
    Some(lease)
}

/// Streams the segments; the lease keeps their blobs on disk until the stream ends or is
/// dropped, whatever writes replace the object meanwhile. `NotFound`: the first blob was
/// removed before the lease was taken.
pub async fn stream(store: &Store, segments: Vec<Segment>, lease: BlobLease) -> std::io::Result<StreamingBlob> {
    let total: u64 = segments.iter().map(|s| s.range.end - s.range.start).sum();
    let mut segments = VecDeque::from(segments);
    let Some(first) = segments.pop_front() else {
        return Ok(StreamingBlob::wrap(futures::stream::empty::<
            Result<Bytes, std::io::Error>,
        >()));
    };
    let first_len = first.range.end - first.range.start;
    if segments.is_empty() && total <= SMALL_OBJECT {
        let bytes = match &first.sealed {
            None => {
                store
                    .blobs()
                    .read_at(&first.blob_id, first.range.start, first_len as usize)
                    .await?
            }
            Some(sealed) => read_sealed(store, &first, sealed).await?,
        };
        drop(lease);
        return Ok(StreamingBlob::wrap(futures::stream::once(async move {
            Ok::<_, std::io::Error>(Bytes::from(bytes))
        })));
    }
    let first_file = open_segment(store, &first).await?;
    let store = store.clone();
    let rest = futures::stream::iter(segments).then(move |segment| {
        let store = store.clone();
        async move { open_segment(&store, &segment).await }
    });
    let body = futures::stream::once(async move { Ok(first_file) })
        .chain(rest)
        .flat_map(|opened| -> SegmentStream {
            match opened {
                Ok(reader) => reader,
                Err(err) => Box::pin(futures::stream::once(async move { Err(err) })),
            }
        });
    Ok(StreamingBlob::new(Sized {
        inner: Box::pin(body),
        remaining: total as usize,
        _lease: lease,
    }))
}

type SegmentStream = std::pin::Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send + Sync>>;

async fn open_segment(store: &Store, segment: &Segment) -> std::io::Result<SegmentStream> {
    let mut file = store.blobs().read(&segment.blob_id).await?;
    let Some(sealed) = segment.sealed.clone() else {
        file.seek(SeekFrom::Start(segment.range.start)).await?;
        return Ok(Box::pin(ReaderStream::with_capacity(
            file.take(segment.range.end - segment.range.start),
            READ_CHUNK,
        )));
    };
    // Sealed: the segments that hold the range, opened one at a time.
    let (span, first, skip) = sealed_span(&segment.range, sealed.plain_len);
    file.seek(SeekFrom::Start(span.start)).await?;
    let wanted = segment.range.end - segment.range.start;
    let state = (file, first, skip, wanted, span.end - span.start);
    Ok(Box::pin(futures::stream::try_unfold(
        state,
        move |(mut file, index, skip, wanted, left)| {
            let sealed = sealed.clone();
            async move {
                if wanted == 0 || left == 0 {
                    return Ok(None);
                }
                // Several segments a read: one trip to the file system per ~1 MiB.
                let len = left.min(SEGMENTS_PER_READ * (SEGMENT + TAG));
                let mut buf = vec![0; len as usize];
                file.read_exact(&mut buf).await?;
                let mut plain = Vec::with_capacity(len as usize);
                let mut opened = 0;
                for (i, segment) in buf.chunks_mut((SEGMENT + TAG) as usize).enumerate() {
                    let n = open_sealed_in_place(&sealed, index + i as u64, segment)?;
                    plain.extend_from_slice(&segment[..n]);
                    opened += 1;
                }
                let end = (skip + wanted).min(plain.len() as u64);
                let taken = end.saturating_sub(skip);
                let bytes = Bytes::from(plain).slice(skip as usize..end as usize);
                Ok(Some((bytes, (file, index + opened, 0, wanted - taken, left - len))))
            }
        },
    )))
}

/// Sealed segments opened per read of a blob.
const SEGMENTS_PER_READ: u64 = 16;

fn open_sealed_in_place(sealed: &Sealed, index: u64, segment: &mut [u8]) -> std::io::Result<usize> {
    open_segment_in_place(&sealed.key, index, sealed.plain_len, segment).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "an encrypted segment does not open: its bytes changed on disk",
        )
    })
}

fn open_sealed_segment(sealed: &Sealed, index: u64, buf: &mut Vec<u8>) -> std::io::Result<()> {
    open_segment_bytes(&sealed.key, index, sealed.plain_len, buf).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "an encrypted segment does not open: its bytes changed on disk",
        )
    })
}

/// A small sealed range, read and opened in one go.
async fn read_sealed(store: &Store, segment: &Segment, sealed: &Sealed) -> std::io::Result<Vec<u8>> {
    let (span, first, skip) = sealed_span(&segment.range, sealed.plain_len);
    let bytes = store
        .blobs()
        .read_at(&segment.blob_id, span.start, (span.end - span.start) as usize)
        .await?;
    let mut plain = Vec::with_capacity(bytes.len());
    for (i, chunk) in bytes.chunks((SEGMENT + TAG) as usize).enumerate() {
        let mut chunk = chunk.to_vec();
        open_sealed_segment(sealed, first + i as u64, &mut chunk)?;
        plain.extend_from_slice(&chunk);
    }
    let wanted = (segment.range.end - segment.range.start) as usize;
    let skip = skip as usize;
    if plain.len() < skip + wanted {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "an encrypted blob is shorter than its object",
        ));
    }
    plain.truncate(skip + wanted);
    Ok(plain.split_off(skip))
}

/// A stream that knows its length (s3s sends it as `Content-Length`) and holds the lease on
/// the blobs it reads.
struct Sized<S> {
    inner: S,
    remaining: usize,
    _lease: BlobLease,
}

impl<S> Stream for Sized<S>
where
    S: Stream<Item = std::io::Result<Bytes>> + Unpin,
{
    type Item = Result<Bytes, StdError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_next(cx);
        polled.map(|item| {
            item.map(|result| {
                result
                    .inspect(|bytes| self.remaining = self.remaining.saturating_sub(bytes.len()))
                    .map_err(|err| Box::new(err) as StdError)
            })
        })
    }
}

impl<S> s3s::stream::ByteStream for Sized<S>
where
    S: Stream<Item = std::io::Result<Bytes>> + Unpin,
{
    fn remaining_length(&self) -> s3s::stream::RemainingLength {
        s3s::stream::RemainingLength::new_exact(self.remaining)
    }
}
