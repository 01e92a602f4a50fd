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

use coffer_store::{BlobLease, ObjectData, ObjectMeta, Store};

/// Objects up to this size are read into memory whole.
const SMALL_OBJECT: u64 = 64 * 1024;
/// Bytes read per chunk when streaming.
const READ_CHUNK: usize = 128 * 1024;

/// A piece of one blob.
#[derive(Clone, Debug)]
pub struct Segment {
    pub blob_id: String,
    pub range: Range<u64>,
}

/// The blob segments that hold `range` of `object`, in order.
pub fn segments(object: &ObjectMeta, range: Range<u64>) -> Vec<Segment> {
    match &object.data {
        ObjectData::Blob(blob_id) => vec![Segment {
            blob_id: blob_id.clone(),
            range,
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
        let bytes = store
            .blobs()
            .read_at(&first.blob_id, first.range.start, first_len as usize)
            .await?;
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
        .flat_map(
            |opened| -> std::pin::Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send + Sync>> {
                match opened {
                    Ok(reader) => Box::pin(reader),
                    Err(err) => Box::pin(futures::stream::once(async move { Err(err) })),
                }
            },
        );
    Ok(StreamingBlob::new(Sized {
        inner: Box::pin(body),
        remaining: total as usize,
        _lease: lease,
    }))
}

type SegmentReader = ReaderStream<tokio::io::Take<tokio::fs::File>>;

async fn open_segment(store: &Store, segment: &Segment) -> std::io::Result<SegmentReader> {
    let mut file = store.blobs().read(&segment.blob_id).await?;
    file.seek(SeekFrom::Start(segment.range.start)).await?;
    Ok(ReaderStream::with_capacity(
        file.take(segment.range.end - segment.range.start),
        READ_CHUNK,
    ))
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
