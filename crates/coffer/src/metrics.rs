//! Prometheus metrics at `GET /_coffer/metrics`, behind a bearer token (`--metrics-token`;
//! without one the path is not served): requests by service, operation and status, their
//! latency, and the bytes answered. Every request's one log line feeds them, so the metrics and
//! the log always agree.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
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

/// Latency buckets, in seconds: 1 ms to 30 s.
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<ServiceLabels, Histogram>,
    bytes_out: Family<ServiceLabels, Counter>,
    token: Option<String>,
}

impl Metrics {
    /// The metrics, served to requests bearing `token` (none: not served).
    pub fn new(token: Option<String>) -> Metrics {
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
        Metrics {
            registry,
            requests,
            latency,
            bytes_out,
            token: token.filter(|t| !t.is_empty()),
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
    pub fn answer(&self, authorization: Option<&str>) -> (http::StatusCode, String) {
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

    #[test]
    fn requests_are_counted_and_served_only_with_the_token() {
        let metrics = Metrics::new(Some("s3cret".to_owned()));
        metrics.observe("s3", "PutObject", 200, 0.002, Some(0));
        metrics.observe("s3", "PutObject", 200, 0.004, None);
        metrics.observe("iam", "ListUsers", 200, 0.01, Some(300));
        assert_eq!(metrics.answer(None).0, http::StatusCode::UNAUTHORIZED);
        assert_eq!(metrics.answer(Some("Bearer nope")).0, http::StatusCode::UNAUTHORIZED);
        let (status, text) = metrics.answer(Some("Bearer s3cret"));
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
        assert_eq!(
            Metrics::new(None).answer(Some("Bearer x")).0,
            http::StatusCode::NOT_FOUND
        );
    }
}
