//! A request body that must keep coming: while Coffer waits for the client, every period of
//! the idle timeout must bring at least [`MIN_BYTES_PER_SEC`] a second on average, or the body
//! fails with a `RequestTimeout` error. Without it a client trickling a few bytes a second
//! holds its connection slot forever, and a few hundred such clients hold them all. The
//! first period starts when the server first reads the body, so a client waiting for
//! `100 Continue` is not judged before it was asked to send.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// The slowest upload Coffer waits for: 1 KiB/s (8 kbit/s), far below any working link.
pub const MIN_BYTES_PER_SEC: u64 = 1024;

/// The error a too slow body ends with; its text starts with S3's error code, which the S3
/// front end maps to `RequestTimeout`.
#[derive(Debug)]
pub struct TooSlow;

impl std::fmt::Display for TooSlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RequestTimeout: the request body arrived slower than {MIN_BYTES_PER_SEC} bytes a second"
        )
    }
}

impl std::error::Error for TooSlow {}

/// Put into each request's extensions: whether its body was cut off for being too slow, for
/// answers made after a reader that does not say why its body failed (s3s answers 500).
#[derive(Clone, Debug, Default)]
pub struct BodyPace(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl BodyPace {
    pub fn too_slow(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

pub struct PacedBody<B> {
    inner: B,
    pace: BodyPace,
    period: Duration,
    /// When the current period ends; `None` until the body is first read.
    period_end: Option<Pin<Box<Sleep>>>,
    received_in_period: u64,
}

impl<B> PacedBody<B> {
    pub fn new(inner: B, period: Duration, pace: BodyPace) -> PacedBody<B> {
        PacedBody {
            inner,
            pace,
            period,
            period_end: None,
            received_in_period: 0,
        }
    }

    fn required_per_period(&self) -> u64 {
        MIN_BYTES_PER_SEC.saturating_mul(self.period.as_secs().max(1))
    }
}

impl<B> Body for PacedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let required = this.required_per_period();
        let period = this.period;
        let period_end = this
            .period_end
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(period)));
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received_in_period += data.len() as u64;
                }
                return Poll::Ready(Some(Ok(frame)));
            }
            Poll::Ready(Some(Err(err))) => return Poll::Ready(Some(Err(err.into()))),
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => {}
        }
        // Waiting for the client: judge each period as it ends.
        while period_end.as_mut().poll(cx).is_ready() {
            if this.received_in_period < required {
                this.pace.0.store(true, std::sync::atomic::Ordering::Relaxed);
                return Poll::Ready(Some(Err(Box::new(TooSlow))));
            }
            this.received_in_period = 0;
            period_end.as_mut().reset(Instant::now() + period);
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use http_body_util::{BodyExt, StreamBody};

    /// A body of `chunks` bytes each, one every `every`.
    fn trickle(
        chunk: usize,
        every: Duration,
        count: usize,
    ) -> PacedBody<StreamBody<impl futures::Stream<Item = Result<Frame<Bytes>, std::io::Error>> + Unpin>> {
        let stream = futures::stream::unfold(0, move |sent| async move {
            if sent == count {
                return None;
            }
            tokio::time::sleep(every).await;
            Some((Ok(Frame::data(Bytes::from(vec![b'x'; chunk]))), sent + 1))
        });
        PacedBody::new(
            StreamBody::new(Box::pin(stream)),
            Duration::from_secs(2),
            BodyPace::default(),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickle_is_cut_off_after_one_period() {
        let started = Instant::now();
        let body = trickle(10, Duration::from_secs(1), 1000);
        let pace = body.pace.clone();
        let err = body.collect().await.err().expect("too slow");
        assert!(pace.too_slow());
        assert!(err.to_string().starts_with("RequestTimeout"));
        let took = started.elapsed();
        assert!(
            took >= Duration::from_secs(2) && took < Duration::from_secs(3),
            "{took:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_steady_body_at_the_minimum_rate_is_received_whole() {
        let body = trickle(1024, Duration::from_millis(900), 20).collect().await.unwrap();
        assert_eq!(body.to_bytes().len(), 20 * 1024);
    }

    #[tokio::test(start_paused = true)]
    async fn a_fast_start_buys_no_later_silence() {
        let stream = futures::stream::iter([Ok::<_, std::io::Error>(Frame::data(Bytes::from(vec![0u8; 1 << 20])))])
            .chain(futures::stream::pending());
        let body = PacedBody::new(
            StreamBody::new(Box::pin(stream)),
            Duration::from_secs(2),
            BodyPace::default(),
        );
        let started = Instant::now();
        assert!(body.collect().await.is_err());
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
