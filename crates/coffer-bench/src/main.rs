//! `coffer-bench`: drives a running Coffer over HTTP with N concurrent clients for a fixed
//! time and prints one JSON object per workload: requests, ops/s, MiB/s, p50/p99 latency,
//! and (with `--server-pid`) the server's resident memory.
//!
//! Figures on a shared machine are noisy, so a run also measures baselines in the same
//! process and the same minutes (see `baseline.rs`): `health` (an unauthenticated handler on
//! Coffer itself), `trivial-put`/`trivial-get` (a do-nothing HTTP server in this process) and
//! `disk-write` (file writes with fsync beside Coffer's data). Read results as ratios.

mod baseline;
mod heavy;
mod session;
mod signing;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;

use signing::Signer;

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
    /// Seconds per workload (each client finishes the request it started).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Workloads to run, in order: health, sts-get-caller-identity,
    /// sts-get-caller-identity-user, sts-get-caller-identity-session, s3-put, s3-get,
    /// s3-get-user, s3-get-session, s3-get-heavy, s3-list, s3-list-page, s3-list-versions,
    /// s3-list-versions-page,
    /// s3-delete, trivial-put,
    /// trivial-get, disk-write. The `-session` ones sign with a role session's temporary
    /// credentials, the `-user` ones with the long-term key of an IAM user holding the same
    /// policy (see `session.rs`); the run makes both with the root key.
    /// `s3-get-heavy` GETs as an IAM user with 10 policies of 10 statements and a bucket
    /// policy (see `heavy.rs`), which the run creates with the root key it is given.
    #[arg(long, value_delimiter = ',', default_value = "health,sts-get-caller-identity")]
    workloads: Vec<String>,
    /// Object size for PUT/GET workloads: bytes, or with a KiB/MiB/GiB suffix.
    #[arg(long, default_value = "4KiB", value_parser = parse_size)]
    object_size: u64,
    /// How many distinct keys PUT/GET/DELETE cycle through.
    #[arg(long, default_value_t = 1000)]
    objects: u64,
    /// The bucket to use (created if missing).
    #[arg(long, default_value = "coffer-bench")]
    bucket: String,
    /// Write every key once before the workloads run (for GET and LIST).
    #[arg(long)]
    populate: bool,
    /// Set the bucket's versioning (`Enabled` or `Suspended`) before the workloads run.
    #[arg(long)]
    versioning: Option<String>,
    /// Set (`AES256`, `aws:kms`) or remove (`none`) the bucket's default encryption before the
    /// workloads run.
    #[arg(long)]
    encryption: Option<String>,
    /// Coffer's process id, to report its resident memory after each workload.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Directory for `disk-write` (put it on the filesystem of Coffer's data dir).
    #[arg(long, default_value = "/tmp")]
    disk_dir: PathBuf,
    /// A PEM certificate to trust for an https:// endpoint (e.g. `coffer tls self-signed`'s).
    #[arg(long)]
    ca_file: Option<PathBuf>,
    /// What the endpoint is, written into every result as `server` (e.g. `coffer`, `s3s-fs`).
    #[arg(long, default_value = "coffer")]
    label: String,
}

fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map(|i| text.split_at(i))
        .unwrap_or((text, ""));
    let number: u64 = number.parse().map_err(|_| format!("not a size: {text}"))?;
    let unit = match unit.trim() {
        "" | "B" => 1,
        "KiB" | "K" => 1024,
        "MiB" | "M" => 1024 * 1024,
        "GiB" | "G" => 1024 * 1024 * 1024,
        other => return Err(format!("unknown unit {other}")),
    };
    Ok(number * unit)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Workload {
    /// GET /_coffer/health on Coffer: no authentication, no store.
    Health,
    /// STS GetCallerIdentity, SigV4-signed.
    GetCallerIdentity,
    /// As GetCallerIdentity, signed with a role session's credentials.
    GetCallerIdentitySession,
    /// As GetCallerIdentity, signed with the session's maker's long-term key.
    GetCallerIdentityUser,
    S3Put,
    /// S3Put with the payload's SHA-256 signed, as boto3 and the AWS CLI sign over plain HTTP.
    S3PutSigned,
    S3Get,
    /// S3Get signed with a role session's credentials (`session.rs`).
    S3GetSession,
    /// S3Get signed with the session's maker's long-term key (the same policy as the role).
    S3GetUser,
    /// S3Get as the heavy principal (`heavy.rs`).
    S3GetHeavy,
    /// One op lists the whole bucket, 1000 keys a page.
    S3List,
    /// One op lists one page of 1000 keys, starting after a key spread over the key space
    /// (shows that a page costs the same whatever the bucket holds).
    S3ListPage,
    /// One op lists every version of the bucket, 1000 a page (ListObjectVersions).
    S3ListVersions,
    /// One op lists one page of 1000 versions after a key marker spread over the key space.
    S3ListVersionsPage,
    S3Delete,
    TrivialPut,
    TrivialGet,
    DiskWrite,
}

impl Workload {
    fn parse(name: &str) -> Option<Workload> {
        Some(match name {
            "health" => Workload::Health,
            "sts-get-caller-identity" => Workload::GetCallerIdentity,
            "sts-get-caller-identity-session" => Workload::GetCallerIdentitySession,
            "s3-get-session" => Workload::S3GetSession,
            "sts-get-caller-identity-user" => Workload::GetCallerIdentityUser,
            "s3-get-user" => Workload::S3GetUser,
            "s3-put" => Workload::S3Put,
            "s3-put-signed" => Workload::S3PutSigned,
            "s3-get" => Workload::S3Get,
            "s3-get-heavy" => Workload::S3GetHeavy,
            "s3-list" => Workload::S3List,
            "s3-list-page" => Workload::S3ListPage,
            "s3-list-versions" => Workload::S3ListVersions,
            "s3-list-versions-page" => Workload::S3ListVersionsPage,
            "s3-delete" => Workload::S3Delete,
            "trivial-put" => Workload::TrivialPut,
            "trivial-get" => Workload::TrivialGet,
            "disk-write" => Workload::DiskWrite,
            _ => return None,
        })
    }

    /// Whether each op moves one object's bytes (so MiB/s means something).
    fn moves_objects(self) -> bool {
        matches!(
            self,
            Workload::S3Put
                | Workload::S3PutSigned
                | Workload::S3Get
                | Workload::S3GetSession
                | Workload::S3GetUser
                | Workload::S3GetHeavy
                | Workload::TrivialPut
                | Workload::TrivialGet
                | Workload::DiskWrite
        )
    }
}

struct Target {
    client: reqwest::Client,
    endpoint: String,
    trivial: String,
    signer: Signer,
    /// The heavy principal's key, once created (for `s3-get-heavy`).
    heavy: std::sync::OnceLock<Signer>,
    /// A role session's credentials and its maker's long-term key, once made (for the
    /// `-session` and `-user` workloads).
    session: std::sync::OnceLock<(Signer, Signer)>,
    bucket: String,
    object_size: u64,
    objects: u64,
    /// One megabyte of payload, sliced and repeated for bodies of any size.
    chunk: Bytes,
    /// The hex SHA-256 of every body (they are all alike), for `s3-put-signed`.
    body_sha256: String,
    next_key: AtomicU64,
    disk_dir: PathBuf,
}

/// What one op did: bytes moved or keys listed.
type Done = u64;

impl Target {
    fn key(&self) -> String {
        format!(
            "obj-{:08}",
            self.next_key.fetch_add(1, Ordering::Relaxed) % self.objects
        )
    }

    fn body(&self) -> reqwest::Body {
        if self.object_size <= self.chunk.len() as u64 {
            return reqwest::Body::from(self.chunk.slice(..self.object_size as usize));
        }
        let chunk = self.chunk.clone();
        let chunks = futures::stream::unfold(self.object_size, move |left| {
            let chunk = chunk.clone();
            async move {
                if left == 0 {
                    return None;
                }
                let n = left.min(chunk.len() as u64) as usize;
                Some((Ok::<_, std::io::Error>(chunk.slice(..n)), left - n as u64))
            }
        });
        reqwest::Body::wrap_stream(chunks)
    }

    async fn signed(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &str,
        body: Option<reqwest::Body>,
    ) -> Result<reqwest::Response, String> {
        let body = body.map(|body| (body, self.object_size));
        self.signed_as(&self.signer, method, path, query, body).await
    }

    /// A PUT of the object body with its SHA-256 in the signature.
    async fn put_signed(&self, path: &str) -> Result<reqwest::Response, String> {
        let url = format!("{}{path}", self.endpoint);
        let length = self.object_size.to_string();
        let extra = [("content-length", length.as_str())];
        let headers = self
            .signer
            .headers_with_payload_hash("s3", "PUT", &url, &extra, &self.body_sha256)?;
        let mut builder = self.client.put(&url).body(self.body());
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        builder.send().await.map_err(|e| e.to_string())
    }

    /// An S3 request signed with `signer`'s key; `body` with its length.
    /// Sets a bucket setting (`PUT ?<subresource>` with `xml`), or removes it (`DELETE`).
    async fn configure(&self, subresource: &str, xml: Option<String>) -> Result<(), String> {
        let (method, body) = match xml {
            Some(xml) => {
                let length = xml.len() as u64;
                (reqwest::Method::PUT, Some((reqwest::Body::from(xml), length)))
            }
            None => (reqwest::Method::DELETE, None),
        };
        let path = format!("/{}", self.bucket);
        let query = format!("{subresource}=");
        let response = self.signed_as(&self.signer, method, &path, &query, body).await?;
        if !response.status().is_success() {
            return Err(format!(
                "cannot set {subresource} on {}: HTTP {}",
                self.bucket,
                response.status()
            ));
        }
        Ok(())
    }

    async fn signed_as(
        &self,
        signer: &Signer,
        method: reqwest::Method,
        path: &str,
        query: &str,
        body: Option<(reqwest::Body, u64)>,
    ) -> Result<reqwest::Response, String> {
        let url = if query.is_empty() {
            format!("{}{path}", self.endpoint)
        } else {
            format!("{}{path}?{query}", self.endpoint)
        };
        let length = body.as_ref().map(|(_, length)| length.to_string());
        let extra: Vec<(&str, &str)> = match &length {
            Some(length) => vec![("content-length", length.as_str())],
            None => Vec::new(),
        };
        let headers = signer.headers("s3", method.as_str(), &url, &extra, None)?;
        let mut builder = self.client.request(method, &url);
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        if let Some((body, _)) = body {
            builder = builder.body(body);
        }
        builder.send().await.map_err(|e| e.to_string())
    }

    /// An STS Query API call (`form`) signed by `signer`; the response body when it succeeds.
    async fn sts(&self, signer: &Signer, form: &str) -> Result<String, String> {
        let response = self.sts_request(signer, form.as_bytes()).await?;
        let status = response.status();
        let text = response.text().await.map_err(|e| e.to_string())?;
        if status.is_success() {
            Ok(text)
        } else {
            Err(format!("STS: HTTP {status}: {text}"))
        }
    }

    async fn sts_request(&self, signer: &Signer, form: &[u8]) -> Result<reqwest::Response, String> {
        let url = format!("{}/", self.endpoint);
        let content_type = ("content-type", "application/x-www-form-urlencoded; charset=utf-8");
        let headers = signer.headers("sts", "POST", &url, &[content_type], Some(form))?;
        let mut builder = self.client.post(&url).body(form.to_vec());
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        builder.send().await.map_err(|e| e.to_string())
    }

    /// The session's maker's signer and the role session's, once made.
    fn session(&self) -> Result<&(Signer, Signer), String> {
        self.session.get().ok_or_else(|| "the session was not made".to_owned())
    }

    /// An IAM Query API call with the benchmark's own key; the response body when it succeeds.
    async fn iam(&self, params: &[(&str, &str)]) -> Result<String, String> {
        let mut form = String::from("Version=2010-05-08");
        for (name, value) in params {
            form.push_str(&format!("&{name}={}", percent_encode(value)));
        }
        let url = format!("{}/", self.endpoint);
        let content_type = ("content-type", "application/x-www-form-urlencoded; charset=utf-8");
        let headers = self
            .signer
            .headers("iam", "POST", &url, &[content_type], Some(form.as_bytes()))?;
        let mut builder = self.client.post(&url).body(form);
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        let response = builder.send().await.map_err(|e| e.to_string())?;
        let status = response.status();
        let text = response.text().await.map_err(|e| e.to_string())?;
        if status.is_success() {
            Ok(text)
        } else {
            Err(format!("IAM {}: HTTP {status}: {text}", params[0].1))
        }
    }

    async fn call(&self, workload: Workload) -> Result<Done, String> {
        let response = match workload {
            Workload::Health => self
                .client
                .get(format!("{}/_coffer/health", self.endpoint))
                .send()
                .await
                .map_err(|e| e.to_string())?,
            Workload::GetCallerIdentity => {
                self.sts_request(&self.signer, b"Action=GetCallerIdentity&Version=2011-06-15")
                    .await?
            }
            Workload::GetCallerIdentitySession | Workload::GetCallerIdentityUser => {
                let (user, session) = self.session()?;
                let signer = if workload == Workload::GetCallerIdentityUser {
                    user
                } else {
                    session
                };
                self.sts_request(signer, b"Action=GetCallerIdentity&Version=2011-06-15")
                    .await?
            }
            Workload::S3GetSession | Workload::S3GetUser => {
                let (user, session) = self.session()?;
                let signer = if workload == Workload::S3GetUser { user } else { session };
                let path = format!("/{}/{}", self.bucket, self.key());
                self.signed_as(signer, reqwest::Method::GET, &path, "", None).await?
            }
            Workload::S3Put => {
                let path = format!("/{}/{}", self.bucket, self.key());
                self.signed(reqwest::Method::PUT, &path, "", Some(self.body())).await?
            }
            Workload::S3PutSigned => self.put_signed(&format!("/{}/{}", self.bucket, self.key())).await?,
            Workload::S3Get => {
                let path = format!("/{}/{}", self.bucket, self.key());
                self.signed(reqwest::Method::GET, &path, "", None).await?
            }
            Workload::S3GetHeavy => {
                let path = format!("/{}/{}", self.bucket, self.key());
                let signer = self.heavy.get().ok_or("the heavy principal was not created")?;
                self.signed_as(signer, reqwest::Method::GET, &path, "", None).await?
            }
            Workload::S3Delete => {
                let path = format!("/{}/{}", self.bucket, self.key());
                self.signed(reqwest::Method::DELETE, &path, "", None).await?
            }
            Workload::S3List => return self.list_all().await,
            Workload::S3ListVersions => return self.list_versions().await,
            Workload::S3ListPage => {
                let after = self.key();
                let query = format!("list-type=2&max-keys=1000&start-after={}", percent_encode(&after));
                let response = self
                    .signed(reqwest::Method::GET, &format!("/{}", self.bucket), &query, None)
                    .await?;
                if !response.status().is_success() {
                    return Err(format!("HTTP {}", response.status()));
                }
                let text = response.text().await.map_err(|e| e.to_string())?;
                return Ok(text.matches("<Key>").count() as u64);
            }
            Workload::S3ListVersionsPage => {
                let after = self.key();
                let query = format!("key-marker={}&max-keys=1000&versions=", percent_encode(&after));
                let response = self
                    .signed(reqwest::Method::GET, &format!("/{}", self.bucket), &query, None)
                    .await?;
                if !response.status().is_success() {
                    return Err(format!("HTTP {}", response.status()));
                }
                let text = response.text().await.map_err(|e| e.to_string())?;
                return Ok(text.matches("<Version>").count() as u64);
            }
            Workload::TrivialPut => {
                let url = format!("{}/{}/{}", self.trivial, self.bucket, self.key());
                self.client
                    .put(url)
                    .header("content-length", self.object_size)
                    .body(self.body())
                    .send()
                    .await
                    .map_err(|e| e.to_string())?
            }
            Workload::TrivialGet => {
                let url = format!("{}/{}/{}", self.trivial, self.bucket, self.key());
                self.client.get(url).send().await.map_err(|e| e.to_string())?
            }
            Workload::DiskWrite => {
                let dir = self.disk_dir.clone();
                let name = format!("coffer-bench-{}", self.key());
                let chunk = self.chunk.clone();
                let size = self.object_size;
                return tokio::task::spawn_blocking(move || {
                    let path = baseline::write_synced(&dir, &name, &chunk, size).map_err(|e| e.to_string())?;
                    let _ = std::fs::remove_file(path);
                    Ok(size)
                })
                .await
                .map_err(|e| e.to_string())?;
            }
        };
        drain(response).await
    }

    /// Lists every version of the bucket; returns the number of versions and delete markers.
    async fn list_versions(&self) -> Result<Done, String> {
        let mut versions = 0u64;
        let mut markers: Option<(String, String)> = None;
        let element = |text: &str, name: &str| {
            text.split(&format!("<{name}>"))
                .nth(1)
                .and_then(|rest| rest.split(&format!("</{name}>")).next())
                .map(str::to_owned)
        };
        loop {
            let mut query = String::from("max-keys=1000&versions=");
            if let Some((key, version)) = &markers {
                query = format!(
                    "key-marker={}&max-keys=1000&version-id-marker={}&versions=",
                    percent_encode(key),
                    percent_encode(version)
                );
            }
            let path = format!("/{}", self.bucket);
            let response = self.signed(reqwest::Method::GET, &path, &query, None).await?;
            if !response.status().is_success() {
                return Err(format!("HTTP {}", response.status()));
            }
            let text = response.text().await.map_err(|e| e.to_string())?;
            versions += (text.matches("<Version>").count() + text.matches("<DeleteMarker>").count()) as u64;
            markers = match (element(&text, "NextKeyMarker"), element(&text, "NextVersionIdMarker")) {
                (Some(key), Some(version)) => Some((key, version)),
                _ => return Ok(versions),
            };
        }
    }

    /// Lists the whole bucket; returns the number of keys.
    async fn list_all(&self) -> Result<Done, String> {
        let mut keys = 0u64;
        let mut token: Option<String> = None;
        loop {
            let mut query = String::from("list-type=2&max-keys=1000");
            if let Some(token) = &token {
                query.push_str("&continuation-token=");
                query.push_str(&percent_encode(token));
            }
            let path = format!("/{}", self.bucket);
            let response = self.signed(reqwest::Method::GET, &path, &query, None).await?;
            if !response.status().is_success() {
                return Err(format!("HTTP {}", response.status()));
            }
            let text = response.text().await.map_err(|e| e.to_string())?;
            keys += text.matches("<Key>").count() as u64;
            token = text
                .split("<NextContinuationToken>")
                .nth(1)
                .and_then(|rest| rest.split("</NextContinuationToken>").next())
                .map(str::to_owned);
            if token.is_none() {
                return Ok(keys);
            }
        }
    }
}

/// The hex SHA-256 of a body of `size` bytes made of `chunk` repeated (see [`Target::body`]).
fn body_sha256(chunk: &[u8], size: u64) -> String {
    use sha2::Digest;
    let mut sha = sha2::Sha256::new();
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        sha.update(&chunk[..n]);
        left -= n as u64;
    }
    hex::encode(sha.finalize())
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Reads a response to its end; returns the bytes received.
async fn drain(mut response: reqwest::Response) -> Result<Done, String> {
    let status = response.status();
    let mut received = 0u64;
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        received += chunk.len() as u64;
    }
    if status.is_success() {
        Ok(received)
    } else {
        Err(format!("HTTP {status}"))
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1e6
}

/// The CPU time a process has used so far, user and system, in seconds (`/proc/<pid>/stat`
/// counts in USER_HZ, which Linux fixes at 100 a second).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

/// Resident memory of a process in KiB: (current, peak).
fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

async fn run(
    target: Arc<Target>,
    workload: Workload,
    name: &str,
    concurrency: usize,
    seconds: u64,
    server_pid: Option<u32>,
) -> serde_json::Value {
    let cpu_before = server_pid.and_then(cpu_seconds);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut done = 0u64;
            let mut errors = 0u64;
            let mut first_error = None;
            // Every client makes at least one request, so slow ops (a 1 GiB PUT) still count.
            loop {
                let t0 = Instant::now();
                match target.call(workload).await {
                    Ok(n) => {
                        latencies.push(t0.elapsed());
                        done += n;
                    }
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
                if Instant::now() >= deadline {
                    break;
                }
            }
            (latencies, done, errors, first_error)
        }));
    }
    let (mut latencies, mut done, mut errors, mut first_error) = (Vec::new(), 0u64, 0u64, None);
    for task in tasks {
        if let Ok((l, d, e, f)) = task.await {
            latencies.extend(l);
            done += d;
            errors += e;
            if first_error.is_none() {
                first_error = f;
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let server_cpu = cpu_before
        .zip(server_pid.and_then(cpu_seconds))
        .map(|(before, after)| after - before);
    latencies.sort();
    let mut result = serde_json::json!({
        "workload": name,
        "concurrency": concurrency,
        "seconds": elapsed,
        "requests": latencies.len(),
        "errors": errors,
        "first_error": first_error,
        "ops_per_sec": latencies.len() as f64 / elapsed,
        "p50_us": percentile(&latencies, 0.50),
        "p99_us": percentile(&latencies, 0.99),
    });
    let mib_moved = latencies.len() as f64 * target.object_size as f64 / 1048576.0;
    if workload.moves_objects() {
        result["object_size"] = target.object_size.into();
        result["mib_per_sec"] = (mib_moved / elapsed).into();
    }
    // The server's CPU (all its threads) per op, and per MiB moved; the trivial server and
    // the disk baseline run in this process, so they have none.
    let in_process = matches!(
        workload,
        Workload::TrivialPut | Workload::TrivialGet | Workload::DiskWrite
    );
    if let Some(cpu) = server_cpu.filter(|_| !in_process && !latencies.is_empty()) {
        result["server_cpu_us_per_op"] = (cpu * 1e6 / latencies.len() as f64).into();
        result["server_cpu_share"] = (cpu / elapsed).into();
        if workload.moves_objects() && target.object_size >= 1048576 {
            result["server_cpu_ms_per_mib"] = (cpu * 1e3 / mib_moved).into();
        }
    }
    if matches!(
        workload,
        Workload::S3List | Workload::S3ListPage | Workload::S3ListVersions | Workload::S3ListVersionsPage
    ) {
        result["keys_per_sec"] = (done as f64 / elapsed).into();
        result["keys_per_list"] = (done / latencies.len().max(1) as u64).into();
    }
    result
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match bench(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("coffer-bench: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn bench(args: Args) -> Result<(), String> {
    let mut workloads = Vec::new();
    for name in &args.workloads {
        workloads.push((
            name.clone(),
            Workload::parse(name).ok_or_else(|| format!("unknown workload {name}"))?,
        ));
    }
    let host = args
        .endpoint
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .to_owned();
    let mut client = reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(args.concurrency);
    if let Some(ca_file) = &args.ca_file {
        let pem = std::fs::read(ca_file).map_err(|e| format!("{}: {e}", ca_file.display()))?;
        let certificate = reqwest::Certificate::from_pem(&pem).map_err(|e| e.to_string())?;
        client = client.add_root_certificate(certificate);
    }
    let client = client.build().map_err(|e| e.to_string())?;
    let trivial = if workloads
        .iter()
        .any(|(_, w)| matches!(w, Workload::TrivialPut | Workload::TrivialGet))
    {
        format!(
            "http://{}",
            baseline::trivial_server(args.object_size)
                .await
                .map_err(|e| e.to_string())?
        )
    } else {
        String::new()
    };
    let chunk = Bytes::from((0..1024 * 1024).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
    let target = Arc::new(Target {
        client,
        endpoint: args.endpoint.trim_end_matches('/').to_owned(),
        trivial,
        signer: Signer {
            key_id: args.access_key_id,
            secret: args.secret_access_key,
            host,
            token: None,
        },
        heavy: std::sync::OnceLock::new(),
        session: std::sync::OnceLock::new(),
        bucket: args.bucket,
        object_size: args.object_size,
        objects: args.objects.max(1),
        body_sha256: match workloads.iter().any(|(_, w)| *w == Workload::S3PutSigned) {
            true => body_sha256(&chunk, args.object_size),
            false => String::new(),
        },
        chunk,
        next_key: AtomicU64::new(0),
        disk_dir: args.disk_dir,
    });
    if args.populate
        || workloads.iter().any(|(_, w)| {
            matches!(
                w,
                Workload::S3Put
                    | Workload::S3Get
                    | Workload::S3GetSession
                    | Workload::S3GetUser
                    | Workload::S3GetHeavy
                    | Workload::S3List
                    | Workload::S3ListPage
                    | Workload::S3ListVersions
                    | Workload::S3ListVersionsPage
                    | Workload::S3Delete
            )
        })
    {
        let path = format!("/{}", target.bucket);
        let response = target.signed(reqwest::Method::PUT, &path, "", None).await?;
        let status = response.status();
        // 409: it exists already; 403: a user without s3:CreateBucket benchmarks an existing bucket.
        if !(status.is_success() || status.as_u16() == 409 || status.as_u16() == 403) {
            return Err(format!("cannot create bucket {}: HTTP {status}", target.bucket));
        }
        if let Some(status) = &args.versioning {
            let xml = format!(
                "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                 <Status>{status}</Status></VersioningConfiguration>"
            );
            target.configure("versioning", Some(xml)).await?;
        }
        if let Some(algorithm) = &args.encryption {
            let xml = (algorithm != "none").then(|| {
                format!(
                    "<ServerSideEncryptionConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                     <Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>{algorithm}</SSEAlgorithm>\
                     </ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>"
                )
            });
            target.configure("encryption", xml).await?;
        }
    }
    if args.populate {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..args.concurrency {
            let target = target.clone();
            tasks.push(tokio::spawn(async move {
                while target.next_key.load(Ordering::Relaxed) < target.objects {
                    target.call(Workload::S3Put).await?;
                }
                Ok::<_, String>(())
            }));
        }
        for task in tasks {
            task.await.map_err(|e| e.to_string())??;
        }
        target.next_key.store(0, Ordering::Relaxed);
        eprintln!(
            "coffer-bench: populated {} objects in {:.1} s",
            target.objects,
            started.elapsed().as_secs_f64()
        );
    }
    if workloads.iter().any(|(_, w)| {
        matches!(
            w,
            Workload::S3GetSession
                | Workload::S3GetUser
                | Workload::GetCallerIdentitySession
                | Workload::GetCallerIdentityUser
        )
    }) {
        let signers = session::create(&target).await?;
        let _ = target.session.set(signers);
    }
    if workloads.iter().any(|(_, w)| *w == Workload::S3GetHeavy) {
        let signer = heavy::create(&target).await?;
        let _ = target.heavy.set(signer);
    }
    // One JSON object a line, on standard output as each workload ends.
    for (name, workload) in workloads {
        let mut result = run(
            target.clone(),
            workload,
            &name,
            args.concurrency,
            args.seconds,
            args.server_pid,
        )
        .await;
        result["server"] = args.label.clone().into();
        if let Some((rss, peak)) = args.server_pid.and_then(memory_kib) {
            result["server_rss_kib"] = rss.into();
            result["server_peak_rss_kib"] = peak.into();
        }
        println!("{result}");
    }
    Ok(())
}
