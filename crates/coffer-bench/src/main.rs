//! `coffer-bench`: drives a running Coffer over HTTP with N concurrent clients for a fixed
//! time and prints one JSON object per workload: requests, ops/s, p50/p99 latency.
//!
//! Figures on a shared machine are noisy, so every run also measures a baseline in the same
//! process and the same seconds: `health` (an unauthenticated handler on the same server).
//! Read results as ratios to it, not as absolutes.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use clap::Parser;

#[derive(Parser, Debug)]
#[command(about = "Load generator for a running Coffer")]
struct Args {
    /// The endpoint, e.g. http://127.0.0.1:9000
    #[arg(long, default_value = "http://127.0.0.1:9000")]
    endpoint: String,
    #[arg(long, env = "AWS_ACCESS_KEY_ID")]
    access_key_id: String,
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY")]
    secret_access_key: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Seconds per workload.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Workloads to run, in order: health, sts-get-caller-identity.
    #[arg(long, value_delimiter = ',', default_value = "health,sts-get-caller-identity")]
    workloads: Vec<String>,
}

#[derive(Clone, Copy, Debug)]
enum Workload {
    /// GET /_coffer/health: no authentication, no store. The baseline.
    Health,
    /// POST Action=GetCallerIdentity, SigV4-signed afresh for every request, as SDKs do.
    GetCallerIdentity,
}

struct Target {
    client: reqwest::Client,
    endpoint: String,
    host: String,
    key_id: String,
    secret: String,
}

impl Target {
    async fn call(&self, workload: Workload) -> Result<(), String> {
        let response = match workload {
            Workload::Health => {
                self.client
                    .get(format!("{}/_coffer/health", self.endpoint))
                    .send()
                    .await
            }
            Workload::GetCallerIdentity => {
                let body = b"Action=GetCallerIdentity&Version=2011-06-15";
                let url = format!("{}/", self.endpoint);
                let mut request = http::Request::post(&url)
                    .header("host", &self.host)
                    .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
                    .body(())
                    .map_err(|e| e.to_string())?;
                let identity = Credentials::new(&self.key_id, &self.secret, None, None, "bench").into();
                let params = v4::SigningParams::builder()
                    .identity(&identity)
                    .region("us-east-1")
                    .name("sts")
                    .time(SystemTime::now())
                    .settings(SigningSettings::default())
                    .build()
                    .map_err(|e| e.to_string())?
                    .into();
                let headers = [
                    ("host", self.host.as_str()),
                    ("content-type", "application/x-www-form-urlencoded; charset=utf-8"),
                ];
                let signable = SignableRequest::new("POST", &url, headers.into_iter(), SignableBody::Bytes(body))
                    .map_err(|e| e.to_string())?;
                let (instructions, _) = sign(signable, &params).map_err(|e| e.to_string())?.into_parts();
                instructions.apply_to_request_http1x(&mut request);
                let mut builder = self.client.post(&url).body(body.as_slice());
                for (name, value) in request.headers() {
                    if name != "host" {
                        builder = builder.header(name.as_str(), value.as_bytes());
                    }
                }
                builder.send().await
            }
        };
        let response = response.map_err(|e| e.to_string())?;
        let status = response.status();
        response.bytes().await.map_err(|e| e.to_string())?;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("HTTP {status}"))
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1e6
}

async fn run(
    target: Arc<Target>,
    workload: Workload,
    name: &str,
    concurrency: usize,
    seconds: u64,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut first_error = None;
            while Instant::now() < deadline {
                let t0 = Instant::now();
                match target.call(workload).await {
                    Ok(()) => latencies.push(t0.elapsed()),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
            }
            (latencies, errors, first_error)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for task in tasks {
        if let Ok((l, e, f)) = task.await {
            latencies.extend(l);
            errors += e;
            if first_error.is_none() {
                first_error = f;
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    serde_json::json!({
        "workload": name,
        "concurrency": concurrency,
        "seconds": elapsed,
        "requests": latencies.len(),
        "errors": errors,
        "first_error": first_error,
        "ops_per_sec": latencies.len() as f64 / elapsed,
        "p50_us": percentile(&latencies, 0.50),
        "p99_us": percentile(&latencies, 0.99),
    })
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let host = args
        .endpoint
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let client = match reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(args.concurrency)
        .build()
    {
        Ok(client) => client,
        Err(err) => {
            eprintln!("coffer-bench: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let target = Arc::new(Target {
        client,
        endpoint: args.endpoint.trim_end_matches('/').to_owned(),
        host,
        key_id: args.access_key_id,
        secret: args.secret_access_key,
    });
    let mut results = Vec::new();
    for name in &args.workloads {
        let workload = match name.as_str() {
            "health" => Workload::Health,
            "sts-get-caller-identity" => Workload::GetCallerIdentity,
            other => {
                eprintln!("coffer-bench: unknown workload {other}");
                return std::process::ExitCode::FAILURE;
            }
        };
        results.push(run(target.clone(), workload, name, args.concurrency, args.seconds).await);
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::Value::Array(results)).unwrap_or_default()
    );
    std::process::ExitCode::SUCCESS
}
