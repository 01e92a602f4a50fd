//! Starting, restarting and killing a `coffer serve` process, and clients for it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;

pub const ROOT_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
pub const ROOT_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// What gives a new server's root user [`ROOT_KEY_ID`]/[`ROOT_SECRET`] at its first start.
const ROOT_ENV: [(&str, &str); 2] = [
    ("COFFER_ROOT_ACCESS_KEY_ID", ROOT_KEY_ID),
    ("COFFER_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET),
];

pub struct Coffer {
    /// The PostgreSQL database this server's metadata lives in, on the suite's PostgreSQL run
    /// (`COFFER_TEST_DATABASE=postgres`); SQLite in the data dir otherwise.
    database_url: Option<String>,
    child: Option<Child>,
    /// Shared by the nodes of [`Coffer::start_two_nodes`].
    data: std::sync::Arc<tempfile::TempDir>,
    pub endpoint: String,
    /// The console's address, `http://127.0.0.1:port`.
    pub console: String,
    /// Everything `coffer serve` printed on stdout at its first start.
    pub first_stdout: String,
    /// Where stderr goes, at the default log level, when the test reads the log.
    log_file: Option<PathBuf>,
}

/// On the suite's PostgreSQL run (`COFFER_TEST_DATABASE=postgres`), a new database on the
/// test server (`COFFER_TEST_POSTGRES_URL`, which `scripts/test` starts) for one Coffer.
fn test_database() -> Option<String> {
    if std::env::var("COFFER_TEST_DATABASE").ok()?.as_str() != "postgres" {
        return None;
    }
    Some(postgres_database())
}

/// A new database on the test server (`COFFER_TEST_POSTGRES_URL`).
fn postgres_database() -> String {
    let server = std::env::var("COFFER_TEST_POSTGRES_URL")
        .expect("COFFER_TEST_POSTGRES_URL: run scripts/test, which starts a throwaway PostgreSQL");
    let name = format!("coffer_it_{:016x}", rand_u64());
    let created = Command::new("psql")
        .args([server.as_str(), "-qc", &format!("CREATE DATABASE {name}")])
        .output()
        .expect("psql (Debian's postgresql-client; scripts/test installs it)");
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let (base, _) = server.rsplit_once('/').expect("a database URL");
    format!("{base}/{name}")
}

/// A new, empty data dir (shared by the nodes that use it).
fn new_data_dir() -> std::sync::Arc<tempfile::TempDir> {
    std::sync::Arc::new(tempfile::tempdir().expect("temp dir"))
}

/// A random number for names, from the clock and a counter (no RNG crate in the tests).
fn rand_u64() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos() as u64;
    nanos
        ^ (u64::from(std::process::id()) << 40)
        ^ COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

pub fn coffer_bin() -> &'static str {
    env!("CARGO_BIN_EXE_coffer")
}

impl Coffer {
    /// A fresh server whose root key is [`ROOT_KEY_ID`]/[`ROOT_SECRET`].
    pub fn start() -> Coffer {
        Self::start_with(&ROOT_ENV)
    }

    /// A fresh server with extra environment variables.
    pub fn start_with(env: &[(&str, &str)]) -> Coffer {
        Self::start_logged(env, None)
    }

    /// A fresh server that logs as in production (the default filter) to `log_file`.
    pub fn start_logging_to(log_file: &Path) -> Coffer {
        Self::start_logged(&ROOT_ENV, Some(log_file.to_owned()))
    }

    /// Two nodes behind no balancer: two `coffer serve` processes on one PostgreSQL database
    /// (whatever the run) and one data dir, as `--database-url` on shared storage runs them.
    pub fn start_two_nodes() -> (Coffer, Coffer) {
        let env = [
            ROOT_ENV[0],
            ROOT_ENV[1],
            ("COFFER_ROOT_PASSWORD", "Root-Pass-2026"),
            // The tests play sign-ins from several addresses.
            ("COFFER_TRUSTED_PROXIES", "127.0.0.1/32"),
        ];
        let mut one = Coffer::unstarted(new_data_dir(), Some(postgres_database()), None);
        one.first_stdout = one.spawn(&env);
        let mut two = Coffer::unstarted(one.data.clone(), one.database_url.clone(), None);
        two.first_stdout = two.spawn(&env);
        (one, two)
    }

    pub fn start_logged(env: &[(&str, &str)], log_file: Option<PathBuf>) -> Coffer {
        let mut coffer = Coffer::unstarted(new_data_dir(), test_database(), log_file);
        coffer.first_stdout = coffer.spawn(env);
        coffer
    }

    /// Spawns `coffer serve` on the data dir and waits until it prints its endpoint.
    fn spawn(&mut self, env: &[(&str, &str)]) -> String {
        let mut command = Command::new(coffer_bin());
        command
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--console-listen",
                "127.0.0.1:0",
                "--data-dir",
            ])
            .arg(self.data.path())
            .env_remove("COFFER_MASTER_KEY")
            .env_remove("COFFER_DATABASE_URL")
            .stdout(Stdio::piped());
        if let Some(url) = &self.database_url {
            command.env("COFFER_DATABASE_URL", url);
            // One node writes to this data dir: files left by a crash can go at once, as on
            // SQLite (several nodes keep the default grace).
            if !self.shares_data_dir() {
                command.env("COFFER_ORPHAN_GRACE_SECS", "0");
            }
        }
        match &self.log_file {
            Some(path) => {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .expect("log file");
                command.env_remove("COFFER_LOG").stderr(file);
            }
            None => {
                command.env("COFFER_LOG", "warn,s3s=off").stderr(Stdio::inherit());
            }
        }
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("spawn coffer");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut printed = String::new();
            let mut sent = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                printed.push_str(&line);
                printed.push('\n');
                if !sent && line.starts_with("Coffer is serving") {
                    let _ = tx.send(printed.clone());
                    sent = true;
                }
            }
            if !sent {
                let _ = tx.send(printed);
            }
        });
        let printed = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("coffer printed its endpoint");
        let endpoint = printed
            .lines()
            .filter(|l| l.starts_with("Coffer is serving"))
            .flat_map(str::split_whitespace)
            .find(|w| w.starts_with("http://") || w.starts_with("https://"))
            .unwrap_or_else(|| panic!("no endpoint in: {printed}"))
            .to_owned();
        self.endpoint = endpoint;
        self.console = printed
            .split("(console: ")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .unwrap_or_default()
            .to_owned();
        self.child = Some(child);
        self.wait_healthy();
        printed
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = format!("{}/_coffer/health", self.endpoint);
        while Instant::now() < deadline {
            // `-k`: only liveness is asked here; the TLS tests check the certificate themselves.
            if let Ok(out) = Command::new("curl").args(["-sfk", &url]).output()
                && out.status.success()
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("coffer did not become healthy at {url}");
    }

    /// A server not yet spawned, on `data` and `database_url` (`None`: SQLite in the data dir).
    fn unstarted(
        data: std::sync::Arc<tempfile::TempDir>,
        database_url: Option<String>,
        log_file: Option<PathBuf>,
    ) -> Coffer {
        Coffer {
            child: None,
            data,
            database_url,
            endpoint: String::new(),
            console: String::new(),
            first_stdout: String::new(),
            log_file,
        }
    }

    /// A fresh server on SQLite in its data dir, whatever the run.
    pub fn start_sqlite() -> Coffer {
        Self::fresh(None, &[])
    }

    /// A fresh server on a PostgreSQL database of its own, whatever the run, with `env`.
    pub fn start_postgres(env: &[(&str, &str)]) -> Coffer {
        Self::fresh(Some(postgres_database()), env)
    }

    fn fresh(database_url: Option<String>, env: &[(&str, &str)]) -> Coffer {
        let mut coffer = Coffer::unstarted(new_data_dir(), database_url, None);
        let mut all = ROOT_ENV.to_vec();
        all.extend_from_slice(env);
        coffer.first_stdout = coffer.spawn(&all);
        coffer
    }

    /// A new, empty PostgreSQL database on the test server.
    pub fn new_postgres_database() -> String {
        postgres_database()
    }

    /// Stops the server and starts it again on the same data dir, its metadata now in
    /// `database_url` (`None`: SQLite in the data dir).
    pub fn restart_on(&mut self, database_url: Option<String>) {
        self.stop();
        self.database_url = database_url;
        self.spawn(&[]);
    }

    /// Stops the server with SIGTERM and starts it again on the same data dir; returns what it
    /// printed up to its endpoint.
    pub fn restart(&mut self) -> String {
        self.stop();
        self.spawn(&[])
    }

    /// Kills the server with SIGKILL (no chance to flush anything) and starts it again.
    pub fn kill_and_restart(&mut self) {
        self.kill();
        self.spawn(&[]);
    }

    /// Kills the server with SIGKILL and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("kill -9");
            child.wait().expect("reap");
        }
    }

    /// A server on SQLite whose empty data dir exists but which is not spawned yet, so a
    /// test can mount a file system there first; [`Coffer::start_again`] spawns it.
    pub fn unstarted_sqlite() -> Coffer {
        Coffer::unstarted(new_data_dir(), None, None)
    }

    /// Spawns the server on its data dir (after [`Coffer::unstarted_sqlite`] or
    /// [`Coffer::kill`]).
    pub fn start_again(&mut self) {
        if self.first_stdout.is_empty() {
            self.first_stdout = self.spawn(&ROOT_ENV);
        } else {
            self.spawn(&[]);
        }
    }

    /// SIGTERM, then wait for a clean exit.
    pub fn stop(&mut self) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return Some(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return child.wait().ok();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn iam(&self, key_id: &str, secret: &str) -> aws_sdk_iam::Client {
        iam_client(&self.endpoint, key_id, secret)
    }

    pub fn root_iam(&self) -> aws_sdk_iam::Client {
        self.iam(ROOT_KEY_ID, ROOT_SECRET)
    }

    pub fn sts(&self, key_id: &str, secret: &str, region: &str) -> aws_sdk_sts::Client {
        self.sts_as(Credentials::new(key_id, secret, None, None, "test"), region)
    }

    /// Clients signing with temporary credentials (key id, secret, session token).
    pub fn sts_session(&self, keys: &SessionKeys) -> aws_sdk_sts::Client {
        self.sts_as(keys.credentials(), "us-east-1")
    }

    pub fn s3_session(&self, keys: &SessionKeys) -> aws_sdk_s3::Client {
        self.s3_as(keys.credentials(), "us-east-1")
    }

    pub fn iam_session(&self, keys: &SessionKeys) -> aws_sdk_iam::Client {
        let config = aws_sdk_iam::Config::builder()
            .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
            .region(aws_sdk_iam::config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(keys.credentials())
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        aws_sdk_iam::Client::from_conf(config)
    }

    fn sts_as(&self, credentials: Credentials, region: &str) -> aws_sdk_sts::Client {
        let config = aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new(region.to_owned()))
            .endpoint_url(&self.endpoint)
            .credentials_provider(credentials)
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        aws_sdk_sts::Client::from_conf(config)
    }

    pub fn s3(&self, key_id: &str, secret: &str) -> aws_sdk_s3::Client {
        self.s3_in("us-east-1", key_id, secret)
    }

    /// The root user's S3 client.
    pub fn root_s3(&self) -> aws_sdk_s3::Client {
        self.s3(ROOT_KEY_ID, ROOT_SECRET)
    }

    pub fn s3_in(&self, region: &str, key_id: &str, secret: &str) -> aws_sdk_s3::Client {
        self.s3_as(Credentials::new(key_id, secret, None, None, "test"), region)
    }

    fn s3_as(&self, credentials: Credentials, region: &str) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new(region.to_owned()))
            .endpoint_url(&self.endpoint)
            .force_path_style(true)
            .credentials_provider(credentials)
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// The account id the root key belongs to.
    pub async fn account_id(&self) -> String {
        let me = self
            .sts(ROOT_KEY_ID, ROOT_SECRET, "us-east-1")
            .get_caller_identity()
            .send()
            .await
            .unwrap();
        me.account().unwrap().to_owned()
    }

    /// Creates a user with one access key; returns (key id, secret).
    pub async fn user_with_key(&self, name: &str) -> (String, String) {
        let iam = self.root_iam();
        iam.create_user().user_name(name).send().await.unwrap();
        let key = iam.create_access_key().user_name(name).send().await.unwrap();
        let key = key.access_key().unwrap();
        (key.access_key_id().to_owned(), key.secret_access_key().to_owned())
    }

    /// Creates another account with `coffer account create`; returns its root key.
    pub fn other_account(&self, name: &str) -> (String, String) {
        let out = self.run_cli(&["account", "create", name]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let field = |name: &str| created[name].as_str().unwrap().to_owned();
        (field("AccessKeyId"), field("SecretAccessKey"))
    }

    /// The server's process id (to signal it).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("coffer runs").id()
    }

    /// Runs `coffer` with the given arguments against this server's data dir.
    pub fn run_cli(&self, args: &[&str]) -> std::process::Output {
        self.command(args).output().expect("run coffer")
    }

    /// Whether another node uses this server's data dir.
    fn shares_data_dir(&self) -> bool {
        std::sync::Arc::strong_count(&self.data) > 1
    }

    /// The PostgreSQL database this server uses, if not SQLite in its data dir.
    pub fn database_url(&self) -> Option<&str> {
        self.database_url.as_deref()
    }

    /// Every byte the metadata database holds at rest: SQLite's files, or a `pg_dump` of the
    /// PostgreSQL database (for checks that secrets never reach it in the clear).
    pub fn database_bytes(&self) -> Vec<u8> {
        match &self.database_url {
            None => ["meta.db", "meta.db-wal"]
                .iter()
                .flat_map(|name| std::fs::read(self.data.path().join(name)).unwrap_or_default())
                .collect(),
            Some(url) => {
                let dump = Command::new("pg_dump")
                    .arg(url)
                    .output()
                    .expect("pg_dump (Debian's postgresql-client)");
                assert!(dump.status.success(), "{}", String::from_utf8_lossy(&dump.stderr));
                dump.stdout
            }
        }
    }

    /// The store this server runs on, opened beside it (both backends allow a second process).
    pub async fn open_store(&self) -> coffer_store::Store {
        let dir = self.data.path();
        let sealer = coffer_store::Sealer::load_or_create(dir).unwrap();
        match &self.database_url {
            None => coffer_store::Store::open_sqlite(dir, sealer).await.unwrap(),
            Some(url) => coffer_store::Store::open(url, dir, sealer).await.unwrap(),
        }
    }

    /// `coffer` with `args`, on this server's data dir and database.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(coffer_bin());
        command
            .args(args)
            .arg("--data-dir")
            .arg(self.data.path())
            .env("COFFER_LOG", "warn,s3s=off")
            .env_remove("COFFER_DATABASE_URL");
        if let Some(url) = &self.database_url {
            command.env("COFFER_DATABASE_URL", url);
        }
        command
    }

    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// Whether an object of `size` bytes has a blob file of its own: smaller ones keep their
    /// bytes with their row (`coffer_store::MAX_INLINE_BODY`, as stored, sealed bytes carrying
    /// a tag per segment). The tests' sizes stay well clear of the limit.
    pub fn has_blob_file(size: usize) -> bool {
        size + 1024 > coffer_store::MAX_INLINE_BODY
    }

    /// Every file under the data dir (for at-rest checks).
    /// The blob files under `blobs/`, finished or not: not the retired ones,
    /// which on PostgreSQL wait out other nodes' reads before orphan collection removes them.
    pub fn blob_files(&self) -> Vec<PathBuf> {
        self.data_files()
            .into_iter()
            .filter(|p| {
                let p = p.to_string_lossy();
                p.contains("/blobs/") && !p.contains("/blobs/retired/")
            })
            .collect()
    }

    /// Whether the database is SQLite's in the data dir (not the suite's PostgreSQL run), so
    /// that small objects' bytes, kept with their rows, are in files under it too.
    pub fn database_in_data_dir(&self) -> bool {
        self.database_url.is_none()
    }

    /// The blobs retired on a shared data dir (PostgreSQL), waiting out other nodes' reads.
    pub fn retired_blob_files(&self) -> usize {
        self.data_files()
            .into_iter()
            .filter(|p| p.to_string_lossy().contains("/blobs/retired/"))
            .count()
    }

    pub fn data_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out)
                } else {
                    out.push(path)
                }
            }
        }
        let mut out = Vec::new();
        walk(self.data.path(), &mut out);
        out
    }
}

impl Drop for Coffer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Temporary credentials as STS answered them.
#[derive(Clone, Debug)]
pub struct SessionKeys {
    pub key_id: String,
    pub secret: String,
    pub token: String,
}

impl SessionKeys {
    pub fn of(credentials: &aws_sdk_sts::types::Credentials) -> SessionKeys {
        SessionKeys {
            key_id: credentials.access_key_id().to_owned(),
            secret: credentials.secret_access_key().to_owned(),
            token: credentials.session_token().to_owned(),
        }
    }

    pub fn credentials(&self) -> Credentials {
        Credentials::new(&self.key_id, &self.secret, Some(self.token.clone()), None, "test")
    }
}

pub fn iam_client(endpoint: &str, key_id: &str, secret: &str) -> aws_sdk_iam::Client {
    let config = aws_sdk_iam::Config::builder()
        .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
        .region(aws_sdk_iam::config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(key_id, secret, None, None, "test"))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_iam::Client::from_conf(config)
}

/// The AWS error code of an SDK error.
pub fn code<E, R>(err: &aws_sdk_iam::error::SdkError<E, R>) -> String
where
    E: aws_sdk_iam::error::ProvideErrorMetadata,
{
    err.as_service_error()
        .and_then(|e| e.code())
        .map(str::to_owned)
        .unwrap_or_else(|| "not a service error".to_owned())
}

/// Asserts that `err` is AWS's error `code` answered with HTTP `status` (the SDKs of every
/// service share the error type).
#[track_caller]
pub fn assert_aws_error<E>(err: &aws_sdk_s3::error::SdkError<E>, code: &str, status: u16)
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::fmt::Debug,
{
    let service = err
        .as_service_error()
        .unwrap_or_else(|| panic!("not a service error: {err:?}"));
    assert_eq!(service.code(), Some(code), "{err:?}");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(status), "{err:?}");
}

/// Uploads `parts` (numbered from 1) to the upload `upload_id` of `key` and completes it.
pub async fn finish_upload(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    upload_id: &str,
    parts: Vec<Vec<u8>>,
) -> aws_sdk_s3::operation::complete_multipart_upload::CompleteMultipartUploadOutput {
    use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
    let mut completed = Vec::new();
    for (number, bytes) in (1..).zip(parts) {
        let out = s3
            .upload_part()
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(number)
            .body(aws_sdk_s3::primitives::ByteStream::from(bytes))
            .send()
            .await
            .unwrap();
        completed.push(
            CompletedPart::builder()
                .part_number(number)
                .e_tag(out.e_tag().unwrap())
                .build(),
        );
    }
    s3.complete_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(upload_id)
        .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(completed)).build())
        .send()
        .await
        .unwrap()
}
