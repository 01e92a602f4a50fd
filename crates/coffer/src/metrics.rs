//! Prometheus metrics at `GET /_coffer/metrics`, behind a bearer token (`--metrics-token`;
//! without one the path is not served): requests by service, operation and status, their
//! latency, and the bytes answered (every request's one log line feeds them, so the metrics
//! and the log always agree); authentication failures and access denials by reason; and,
//! read from the store when scraped, its group commits' sizes, its caches' hits and misses,
//! and each bucket's objects and bytes (kept by the database as objects are written).

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use subtle::ConstantTimeEq;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    service: &'static str,
    /// An operation's AWS name, or `-` when the request named none Coffer knows (so a client
    /// cannot add label values at will).
    operation: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServiceLabels {
    service: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusalLabels {
    service: &'static str,
    /// An authentication failure's AWS error code; a denial's `explicit_deny` or `no_allow`.
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BucketLabels {
    bucket: String,
}

/// AWS's error codes for a request whose signer could not be authenticated.
const AUTHENTICATION_FAILURES: [&str; 17] = [
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidToken",
    "RequestTimeTooSkewed",
    "RequestExpired",
    "AuthorizationHeaderMalformed",
    "AuthorizationQueryParametersError",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "MissingSecurityHeader",
    "InvalidSignatureException",
    "UnrecognizedClientException",
    "IDPRejectedClaim",
    "InvalidIdentityToken",
];

/// Latency buckets, in seconds: 1 ms to 30 s.
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<ServiceLabels, Histogram>,
    bytes_out: Family<ServiceLabels, Counter>,
    authentication_failures: Family<RefusalLabels, Counter>,
    access_denials: Family<RefusalLabels, Counter>,
    bucket_objects: Family<BucketLabels, Gauge>,
    bucket_bytes: Family<BucketLabels, Gauge>,
    /// One scrape at a time: each refills the bucket gauges before it encodes them.
    scraping: tokio::sync::Mutex<()>,
    store: Option<coffer_store::Store>,
    token: Option<String>,
}

/// The store's counters, read when scraped.
#[derive(Debug)]
struct StoreCollector(coffer_store::Store);

impl Collector for StoreCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let stats = self.0.stats();
        let buckets: Vec<(f64, u64)> = coffer_store::stats::BATCH_BOUNDS
            .iter()
            .zip(stats.batches)
            .map(|(bound, count)| (*bound as f64, count))
            .chain([(f64::MAX, 0)])
            .collect();
        let count = stats.batches.iter().sum();
        let histogram = encoder.encode_descriptor(
            "commit_batch_writes",
            "Object writes per group commit (one transaction, one fsync)",
            None,
            MetricType::Histogram,
        )?;
        let mut histogram = histogram;
        histogram.encode_histogram::<NoLabelSet>(stats.batched_writes as f64, count, &buckets, None)?;
        let redone = encoder.encode_descriptor(
            "commit_batches_redone",
            "Group commits applied again, each write in a savepoint, after the batch failed without them (SQLite)",
            None,
            MetricType::Counter,
        )?;
        ConstCounter::new(stats.redone_batches).encode(redone)?;
        let mut lookups = encoder.encode_descriptor(
            "cache_lookups",
            "Lookups of the store's read caches, by cache and whether the cache had the value",
            None,
            MetricType::Counter,
        )?;
        for (cache, hits, misses) in stats.caches {
            for (result, value) in [("hit", hits), ("miss", misses)] {
                let labels = [("cache", cache), ("result", result)];
                ConstCounter::new(value).encode(lookups.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}

impl Metrics {
    /// The metrics, served to requests bearing `token` (none: not served).
    pub fn new(token: Option<String>, store: Option<coffer_store::Store>) -> Metrics {
        let mut registry = Registry::with_prefix("coffer");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Requests answered, by service, operation and status",
            requests.clone(),
        );
        let latency = Family::<ServiceLabels, Histogram>::new_with_constructor(|| Histogram::new(BUCKETS));
        registry.register(
            "request_duration_seconds",
            "Time to answer a request's headers",
            latency.clone(),
        );
        let bytes_out = Family::<ServiceLabels, Counter>::default();
        registry.register(
            "response_bytes",
            "Bytes of response bodies, as their lengths say",
            bytes_out.clone(),
        );
        let authentication_failures = Family::<RefusalLabels, Counter>::default();
        registry.register(
            "authentication_failures",
            "Requests refused because their signer could not be authenticated, by AWS's error code",
            authentication_failures.clone(),
        );
        let access_denials = Family::<RefusalLabels, Counter>::default();
        registry.register(
            "access_denials",
            "Requests denied by policy (anonymous ones too): explicit_deny, or no_allow (nothing allowed it)",
            access_denials.clone(),
        );
        let bucket_objects = Family::<BucketLabels, Gauge>::default();
        registry.register(
            "bucket_objects",
            "Stored object versions per bucket (delete markers not counted)",
            bucket_objects.clone(),
        );
        let bucket_bytes = Family::<BucketLabels, Gauge>::default();
        registry.register(
            "bucket_bytes",
            "Bytes stored per bucket, every version",
            bucket_bytes.clone(),
        );
        if let Some(store) = &store {
            registry.register_collector(Box::new(StoreCollector(store.clone())));
        }
        Metrics {
            registry,
            requests,
            latency,
            bytes_out,
            authentication_failures,
            access_denials,
            bucket_objects,
            bucket_bytes,
            scraping: tokio::sync::Mutex::new(()),
            store,
            token: token.filter(|t| !t.is_empty()),
        }
    }

    /// An error answered with AWS's `code` and `message`: counted when it refused the
    /// signer (an authentication failure) or the request (a denial).
    pub fn observe_error(&self, service: &'static str, code: &str, message: &str) {
        if let Some(reason) = AUTHENTICATION_FAILURES.iter().find(|known| **known == code) {
            self.authentication_failures
                .get_or_create(&RefusalLabels { service, reason })
                .inc();
        } else if matches!(code, "AccessDenied" | "AccessDeniedException") {
            let reason = match message.contains("explicit deny") {
                true => "explicit_deny",
                false => "no_allow",
            };
            self.access_denials
                .get_or_create(&RefusalLabels { service, reason })
                .inc();
        }
    }

    /// One answered request.
    pub fn observe(&self, service: &'static str, operation: &str, status: u16, seconds: f64, bytes: Option<u64>) {
        self.requests
            .get_or_create(&RequestLabels {
                service,
                operation: operation.to_owned(),
                status,
            })
            .inc();
        let labels = ServiceLabels { service };
        self.latency.get_or_create(&labels).observe(seconds);
        if let Some(bytes) = bytes {
            self.bytes_out.get_or_create(&labels).inc_by(bytes);
        }
    }

    /// The answer to `GET /_coffer/metrics` with `authorization`: the text exposition for
    /// the right bearer token, 401 for another, 404 when metrics are off.
    pub async fn answer(&self, authorization: Option<&str>) -> (http::StatusCode, String) {
        let Some(token) = &self.token else {
            return (
                http::StatusCode::NOT_FOUND,
                "metrics are off: set --metrics-token\n".to_owned(),
            );
        };
        let sent = authorization.and_then(|a| a.strip_prefix("Bearer ")).unwrap_or("");
        if !bool::from(sent.as_bytes().ct_eq(token.as_bytes())) {
            return (http::StatusCode::UNAUTHORIZED, "a bearer token is needed\n".to_owned());
        }
        let _one_at_a_time = self.scraping.lock().await;
        if let Some(store) = &self.store {
            match store.bucket_usage().await {
                Ok(usage) => {
                    self.bucket_objects.clear();
                    self.bucket_bytes.clear();
                    for bucket in usage {
                        let labels = BucketLabels { bucket: bucket.bucket };
                        self.bucket_objects.get_or_create(&labels).set(bucket.objects);
                        self.bucket_bytes.get_or_create(&labels).set(bucket.bytes);
                    }
                }
                Err(err) => tracing::warn!(%err, "metrics: buckets' usage could not be read"),
            }
        }
        let mut text = String::new();
        match prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            Ok(()) => (http::StatusCode::OK, text),
            Err(_) => (http::StatusCode::INTERNAL_SERVER_ERROR, String::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn requests_are_counted_and_served_only_with_the_token() {
        let metrics = Metrics::new(Some("s3cret".to_owned()), None);
        metrics.observe("s3", "PutObject", 200, 0.002, Some(0));
        metrics.observe("s3", "PutObject", 200, 0.004, None);
        metrics.observe("iam", "ListUsers", 200, 0.01, Some(300));
        metrics.observe_error("s3", "SignatureDoesNotMatch", "");
        metrics.observe_error("iam", "AccessDenied", "… with an explicit deny in a policy");
        metrics.observe_error("s3", "AccessDenied", "… because no identity-based policy allows it");
        metrics.observe_error("s3", "NoSuchKey", "");
        metrics.observe_error("s3", "MadeUpByAClient", "");
        assert_eq!(metrics.answer(None).await.0, http::StatusCode::UNAUTHORIZED);
        assert_eq!(
            metrics.answer(Some("Bearer nope")).await.0,
            http::StatusCode::UNAUTHORIZED
        );
        let (status, text) = metrics.answer(Some("Bearer s3cret")).await;
        assert_eq!(status, http::StatusCode::OK);
        assert!(
            text.contains(r#"coffer_requests_total{service="s3",operation="PutObject",status="200"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"coffer_response_bytes_total{service="iam"} 300"#),
            "{text}"
        );
        assert!(
            text.contains(r#"coffer_request_duration_seconds_count{service="s3"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"coffer_authentication_failures_total{service="s3",reason="SignatureDoesNotMatch"} 1"#),
            "{text}"
        );
        assert!(text.contains(r#"coffer_access_denials_total{service="iam",reason="explicit_deny"} 1"#));
        assert!(text.contains(r#"coffer_access_denials_total{service="s3",reason="no_allow"} 1"#));
        assert!(!text.contains("NoSuchKey") && !text.contains("MadeUpByAClient"));
        assert_eq!(
            Metrics::new(None, None).answer(Some("Bearer x")).await.0,
            http::StatusCode::NOT_FOUND
        );
    }

    /// The dashboard in docs/ reads only series Coffer serves, so an import shows data.
    #[tokio::test]
    async fn the_grafana_dashboard_names_only_served_metrics() {
        let dashboard: serde_json::Value =
            serde_json::from_str(include_str!("../../../docs/grafana-dashboard.json")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = coffer_store::Store::open_sqlite(dir.path(), coffer_store::Sealer::new(&[7; 32]))
            .await
            .unwrap();
        let account = store.create_account("a", None).await.unwrap().0;
        store
            .create_bucket(&account.account_id, "b", "us-east-1")
            .await
            .unwrap();
        let metrics = Metrics::new(Some("t".to_owned()), Some(store));
        metrics.observe("s3", "GetObject", 200, 0.001, Some(1));
        metrics.observe_error("s3", "SignatureDoesNotMatch", "");
        metrics.observe_error("s3", "AccessDenied", "");
        let (_, served) = metrics.answer(Some("Bearer t")).await;
        let mut checked = 0;
        for panel in dashboard["panels"].as_array().unwrap() {
            for target in panel["targets"].as_array().unwrap() {
                let expr = target["expr"].as_str().unwrap();
                for (at, _) in expr.match_indices("coffer_") {
                    let name: String = expr[at..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    assert!(
                        served.contains(&name),
                        "the dashboard reads {name}, which Coffer does not serve"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked >= 10);
    }
}
