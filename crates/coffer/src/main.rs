//! `coffer`: the binary. Parses the command line, opens the store, prints the root key on
//! first start, and serves every API on one listener until SIGINT or SIGTERM.

mod config;
mod listener;
mod metrics;
mod paced_body;
mod request_id;
mod server;
mod tls;
mod trail;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use coffer_iam::QueryApi;
use coffer_store::{Sealer, Store, ids};
use config::{AccountCommand, Cli, Command, DbCommand, ServeConfig, StoreLocation, TlsCommand};
use tokio::net::TcpListener;

/// Every request allocates and frees dozens of small buffers across tokio's threads, where
/// glibc's allocator is slow (measured in `docs/DESIGN.md`, issue 16's fourth session).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How often recorded key uses are written to the store.
const KEY_USE_FLUSH_INTERVAL: Duration = Duration::from_secs(5);
/// How often a node forgets aged sign-in attempts and expired console sessions.
const SIGNIN_SWEEP_INTERVAL: Duration = Duration::from_secs(10 * 60);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let format = match &cli.command {
        Command::Serve(args) => args.log_format.or_else(|| {
            config::read_file(args.config.as_deref())
                .ok()
                .and_then(|file| file.log_format)
        }),
        _ => None,
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(log_filter(std::env::var("COFFER_LOG").ok()))
        .with_writer(std::io::stderr);
    match format.unwrap_or_default() {
        config::LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        // One JSON object per line, the request's fields at the top level.
        config::LogFormat::Json => logs.json().flatten_event(true).with_current_span(false).init(),
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("coffer: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(ServeConfig::resolve(&args)?).await,
            Command::Account(AccountCommand::Create { name, data }) => account_create(&data.resolve()?, &name).await,
            Command::Account(AccountCommand::List { data }) => account_list(&data.resolve()?).await,
            Command::Account(AccountCommand::SetRootPassword { account, data }) => {
                set_root_password(&data.resolve()?, account.as_deref()).await
            }
            Command::Db(DbCommand::Copy { from, to }) => db_copy(&from, &to).await,
            Command::Tls(TlsCommand::SelfSigned { hosts, out_dir }) => tls::write_self_signed(&hosts, &out_dir)
                .map(|(cert, key)| {
                    println!("Wrote {} and {}.", cert.display(), key.display());
                    println!(
                        "Serve with `coffer serve --tls-cert {} --tls-key {}`; trust it with `aws --ca-bundle {}` or AWS_CA_BUNDLE.",
                        cert.display(),
                        key.display(),
                        cert.display()
                    );
                }),
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("coffer: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The log filter: `COFFER_LOG`, else `info`. s3s stays silent unless the filter names it:
/// it logs every client error at ERROR, with whole request bodies when their XML is bad.
fn log_filter(wanted: Option<String>) -> tracing_subscriber::EnvFilter {
    const DEFAULT: &str = "info,sqlx=warn";
    let wanted = wanted
        .filter(|w| !w.trim().is_empty())
        .unwrap_or_else(|| DEFAULT.to_owned());
    let filter = if wanted.contains("s3s") {
        wanted
    } else {
        format!("{wanted},s3s=off")
    };
    tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{DEFAULT},s3s=off")))
}

/// How long a file no row names must sit untouched before a node sharing the data dir with
/// others removes it: far longer than any write between its last byte and its commit.
const ORPHAN_GRACE: Duration = Duration::from_secs(60 * 60);

/// The master key from `COFFER_MASTER_KEY`, or `<data-dir>/master.key` (created if absent).
/// The operator's settings for OpenID Connect providers' keys, read once at start.
fn idp_settings(config: &config::ServeConfig) -> Result<coffer_iam::IdpSettings, String> {
    let read = |path: &Path| std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()));
    let extra_roots_pem = config.oidc_ca_file.as_deref().map(read).transpose()?;
    let inline_jwks = match config.oidc_jwks_file.as_deref() {
        None => Default::default(),
        Some(path) => {
            let sets: std::collections::HashMap<String, serde_json::Value> =
                serde_json::from_slice(&read(path)?).map_err(|e| format!("{}: {e}", path.display()))?;
            sets.into_iter().map(|(url, set)| (url, set.to_string())).collect()
        }
    };
    Ok(coffer_iam::IdpSettings {
        extra_roots_pem,
        inline_jwks,
    })
}

fn sealer(data_dir: &Path) -> Result<Sealer, String> {
    coffer_store::private_fs::create_dir(data_dir).map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
    match std::env::var("COFFER_MASTER_KEY") {
        Ok(hex) => Sealer::from_hex(&hex).map_err(|e| format!("COFFER_MASTER_KEY: {e}")),
        Err(_) => Sealer::load_or_create(data_dir).map_err(|e| format!("master key: {e}")),
    }
}

async fn open_store(location: &StoreLocation) -> Result<Store, String> {
    open_store_with(location, coffer_store::DatabaseOptions::default()).await
}

async fn open_store_with(location: &StoreLocation, options: coffer_store::DatabaseOptions) -> Result<Store, String> {
    let data_dir = &location.data_dir;
    let sealer = sealer(data_dir)?;
    match &location.database_url {
        None => Store::open_sqlite_with(data_dir, sealer, options)
            .await
            .map_err(|e| format!("cannot open the store in {}: {e}", data_dir.display())),
        Some(url) => Store::open_with(url, data_dir, sealer, options)
            .await
            .map_err(|e| format!("cannot open the database {}: {e}", redacted(url))),
    }
}

/// A database URL without its password (nor its query, which can carry one), for messages.
fn redacted(url: &str) -> String {
    let url = url.split('?').next().unwrap_or(url);
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, rest)), Some(_)) => {
            let (credentials, host) = rest.rsplit_once('@').unwrap_or(("", rest));
            let user = credentials.split(':').next().unwrap_or("");
            format!("{scheme}://{user}@{host}")
        }
        _ => url.to_owned(),
    }
}

/// `COFFER_ROOT_ACCESS_KEY_ID` / `COFFER_ROOT_SECRET_ACCESS_KEY`, validated, if set.
fn configured_root_key() -> Result<Option<(String, String)>, String> {
    let id = std::env::var("COFFER_ROOT_ACCESS_KEY_ID").ok();
    let secret = std::env::var("COFFER_ROOT_SECRET_ACCESS_KEY").ok();
    match (id, secret) {
        (None, None) => Ok(None),
        (Some(id), Some(secret)) => {
            if !ids::is_access_key_id(&id) {
                return Err(
                    "COFFER_ROOT_ACCESS_KEY_ID must be AKIA followed by 16 upper-case letters or digits".into(),
                );
            }
            if !ids::is_secret_access_key(&secret) {
                return Err("COFFER_ROOT_SECRET_ACCESS_KEY must be 40 characters of A-Z, a-z, 0-9, + and /".into());
            }
            Ok(Some((id, secret)))
        }
        _ => Err("set both COFFER_ROOT_ACCESS_KEY_ID and COFFER_ROOT_SECRET_ACCESS_KEY, or neither".into()),
    }
}

async fn serve(config: ServeConfig) -> Result<(), String> {
    let root_key = configured_root_key()?;
    // HTTPS when a certificate is configured, and the listeners: both before anything is
    // written, so a bad file or a taken port stops a first start before it makes (and could
    // only once show) the root key.
    let certificates = config.tls.as_ref().map(tls::Certificates::open).transpose()?;
    let acceptor = certificates.as_ref().map(|c| c.acceptor()).transpose()?;
    let scheme = if acceptor.is_some() { "https" } else { "http" };
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let console = TcpListener::bind(config.console_listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.console_listen))?;
    // From here on SIGHUP reloads the certificate (or is noted), never stops Coffer.
    tls::reload_on_hangup(certificates.clone())?;

    let options = coffer_store::DatabaseOptions {
        pool_size: config.database_pool_size,
        acquire_timeout: config.database_timeout,
        serving: true,
    };
    let store = open_store_with(&config.store, options).await?;
    let created = store
        .create_default_account_once(root_key.as_ref().map(|(id, secret)| (id.as_str(), secret.as_str())))
        .await
        .map_err(|e| format!("cannot create the default account: {e}"))?;
    // The console password of a root user just made: COFFER_ROOT_PASSWORD's, else one made
    // now and shown once with the root key.
    let mut generated_password = None;
    if let (Some((account, _)), Err(_)) = (&created, std::env::var("COFFER_ROOT_PASSWORD")) {
        let password = first_root_password();
        store_root_password(&store, account, &password).await?;
        generated_password = Some(password);
    }
    if let Ok(password) = std::env::var("COFFER_ROOT_PASSWORD") {
        // Only a root user without a password gets one this way: the variable never
        // overwrites a password set since.
        let account = find_account(&store, None).await?;
        if store
            .root_password_hash(&account.account_id)
            .await
            .map_err(|e| e.to_string())?
            .is_none()
        {
            store_root_password(&store, &account, &password).await?;
            println!(
                "Root password of account {} set from COFFER_ROOT_PASSWORD.",
                account.account_id
            );
        }
    }
    // On SQLite this process is the only writer and nothing is being written yet, so any
    // file no row names is left over from a crash. On PostgreSQL other nodes may be writing to
    // the same data dir: only files untouched for a while are collected, now and every hour.
    let grace = config.orphan_grace.unwrap_or(match store.backend() {
        coffer_store::Backend::Sqlite => Duration::ZERO,
        coffer_store::Backend::Postgres => ORPHAN_GRACE,
    });
    match store.collect_orphan_blobs(grace).await {
        Ok(0) => {}
        Ok(removed) => tracing::info!(removed, "removed files left behind by unfinished writes"),
        Err(err) => return Err(format!("cannot collect unused object files: {err}")),
    }
    if store.backend() == coffer_store::Backend::Postgres {
        let store = store.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(ORPHAN_GRACE).await;
                // While serving, files are being written: never a shorter grace than the
                // default, whatever the start's was.
                if let Err(err) = store.collect_orphan_blobs(grace.max(ORPHAN_GRACE)).await {
                    tracing::warn!(%err, "could not collect unused object files");
                }
            }
        });
    }

    let endpoint = listener.local_addr().map_err(|e| e.to_string())?;
    let console_addr = console.local_addr().map_err(|e| e.to_string())?;

    if let Some((account, key)) = &created {
        println!(
            "Created account {} ({}). Its root access key, shown this once:",
            account.account_id, account.name
        );
        println!("  AWS Access Key ID:     {}", key.key.access_key_id);
        if root_key.is_some() {
            println!("  AWS Secret Access Key: (as set in COFFER_ROOT_SECRET_ACCESS_KEY)");
        } else {
            println!("  AWS Secret Access Key: {}", key.secret_access_key);
        }
        println!("Use it with `aws configure` and `export AWS_ENDPOINT_URL={scheme}://{endpoint}`.");
        println!();
        if let Some(password) = &generated_password {
            println!(
                "The console: {scheme}://{console_addr}, as the root user of account {}.",
                account.account_id
            );
            println!("  Root password: {password}");
            println!("Shown this once: change it on the console's Account page, or set another with");
            println!("`coffer account set-root-password`.");
            println!();
        }
    }
    let recording = match config.audit.events {
        config::AuditEvents::None => coffer_audit::Recording::Off,
        config::AuditEvents::Management => coffer_audit::Recording::Management,
        config::AuditEvents::All => coffer_audit::Recording::All,
    };
    let audit = coffer_audit::Audit::open(&config.audit.dir, recording)
        .map_err(|e| format!("cannot open the audit trail in {}: {e}", config.audit.dir.display()))?;
    println!("Data dir: {}", config.store.data_dir.display());
    if let Some(url) = &config.store.database_url {
        println!("Database: {}", redacted(url));
    }
    // Printed last: scripts and tests wait for this line.
    println!("Coffer is serving S3, IAM and STS at {scheme}://{endpoint} (console: {scheme}://{console_addr})");

    // One authorizer and one S3 API for both front ends: one cache of parsed policies.
    let authorizer = coffer_auth::Authorizer::default();
    let s3 = coffer_s3::S3Api::new(
        store.clone(),
        authorizer.clone(),
        &coffer_s3::Options {
            domain: config.domain.clone(),
            idle_timeout: config.idle_timeout,
            lifecycle_day: config.lifecycle_day,
            new_buckets: config.new_bucket_defaults.new_bucket(),
            sse_c_over_http: config.allow_sse_c_over_http,
            new_buckets_encrypted: config.new_bucket_defaults == config::BucketDefaults::Current,
            audit: audit.clone(),
            access_log_roll: config.access_log_roll,
        },
    );
    let idp_keys = coffer_iam::IdpKeys::new(&idp_settings(&config)?)?;
    let state = Arc::new(server::AppState {
        query: QueryApi::new(store.clone(), authorizer.clone())
            .with_idp_keys(idp_keys)
            .with_audit(audit.clone()),
        kms: coffer_kms::KmsApi::new(store.clone(), authorizer.clone()),
        metrics: metrics::Metrics::new(config.metrics_token.clone(), Some(store.clone())),
        s3: s3.service(),
        s3_api: s3.clone(),
        s3_host: config.domain.as_deref().map(coffer_s3::CofferHost::new),
        sealer: store.sealer().clone(),
    });
    let flusher = tokio::spawn(flush_key_use(store.clone()));
    let lifecycle = tokio::spawn(apply_lifecycle(store.clone(), config.lifecycle_day));
    let access_logs = tokio::spawn(deliver_access_logs(s3.clone()));
    let usage = tokio::spawn(fold_bucket_usage(store.clone()));
    let trail = tokio::spawn(trail::keep(
        audit.clone(),
        s3.clone(),
        store.clone(),
        config.audit.bucket.clone(),
        config.audit.delivery_every,
    ));
    // One signal stops both listeners.
    let (stop, stopping) = tokio::sync::watch::channel(());
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(());
    });
    let stopped = |mut stopping: tokio::sync::watch::Receiver<()>| async move {
        let _ = stopping.changed().await;
    };
    let proxies = coffer_auth::TrustedProxies::new(config.trusted_proxies.clone());
    let api = listener::serve(
        listener,
        server::router(state),
        config.idle_timeout,
        proxies.clone(),
        acceptor.clone(),
        stopped(stopping.clone()),
    );
    let console_query = QueryApi::new(store.clone(), authorizer).with_audit(audit.clone());
    let sweeper = tokio::spawn(forget_old_signin_records(console_query.clone()));
    let console_routes = coffer_console::router(
        console_query,
        s3.clone(),
        &coffer_console::Options {
            idle_timeout: config.console_idle_timeout,
            api_url: format!("{scheme}://{endpoint}"),
        },
    );
    // The console gets the same connection cap, header deadline and trusted proxies.
    let console_server = listener::serve(
        console,
        console_routes,
        config.idle_timeout,
        proxies,
        acceptor,
        stopped(stopping),
    );
    tokio::join!(api, console_server);
    flusher.abort();
    sweeper.abort();
    lifecycle.abort();
    trail.abort();
    access_logs.abort();
    usage.abort();
    // What waits for delivery goes now, rather than with the process.
    s3.deliver_access_logs(true).await;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Rows a lifecycle pass looks at per bucket, rule and phase.
const LIFECYCLE_BUDGET: usize = 1000;

/// Applies buckets' lifecycle rules. Every node runs this; the one holding the `lifecycle`
/// lease does the work, a bounded pass at a time, and another takes over if it stops.
async fn apply_lifecycle(store: Store, day: Duration) {
    let holder = coffer_store::ids::request_id();
    // Often enough that an expiration is seen within a twentieth of a day.
    let interval = (day / 20).clamp(Duration::from_millis(500), Duration::from_secs(60));
    let ttl = (interval * 3).max(Duration::from_secs(30));
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let lease = coffer_store::Lease {
            name: "lifecycle",
            holder: &holder,
            ttl,
        };
        match store.take_lease(lease.name, lease.holder, lease.ttl).await {
            Ok(true) => {}
            Ok(false) => continue,
            Err(err) => {
                tracing::warn!(%err, "could not take the lifecycle lease");
                continue;
            }
        }
        // The pass renews the lease before each bucket and stops if another node has it.
        match store
            .lifecycle_pass(coffer_store::LifecycleDay(day), LIFECYCLE_BUDGET, &lease)
            .await
        {
            Ok(report) if report != coffer_store::LifecycleReport::default() => {
                tracing::info!(?report, "lifecycle rules applied");
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(%err, "a lifecycle pass failed"),
        }
    }
}

/// Delivers S3 server access logs whose roll time has passed (checked four times a second,
/// so a short roll time in tests is kept closely).
async fn deliver_access_logs(s3: coffer_s3::S3Api) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(250));
    loop {
        tick.tick().await;
        s3.deliver_access_logs(false).await;
    }
}

/// Folds the per-bucket usage deltas the database's triggers append (see migration 0027)
/// into the counts, so a metrics scrape sums few rows.
async fn fold_bucket_usage(store: Store) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(10));
    loop {
        tick.tick().await;
        if let Err(err) = store.fold_bucket_usage().await {
            tracing::warn!(%err, "could not fold the buckets' usage counts");
        }
    }
}

async fn flush_key_use(store: Store) {
    let mut tick = tokio::time::interval(KEY_USE_FLUSH_INTERVAL);
    loop {
        tick.tick().await;
        if let Err(err) = store.flush_key_use().await {
            tracing::warn!(%err, "could not record the last use of access keys");
        }
    }
}

async fn forget_old_signin_records(query: QueryApi) {
    let mut tick = tokio::time::interval(SIGNIN_SWEEP_INTERVAL);
    loop {
        tick.tick().await;
        coffer_console::throttle::forget_old_records(&query).await;
    }
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

async fn account_create(location: &StoreLocation, name: &str) -> Result<(), String> {
    let store = open_store(location).await?;
    let (account, key) = store
        .create_account(name, None)
        .await
        .map_err(|e| format!("cannot create account {name}: {e}"))?;
    store.close().await;
    let json = serde_json::json!({
        "AccountId": account.account_id,
        "AccessKeyId": key.key.access_key_id,
        "SecretAccessKey": key.secret_access_key,
    });
    println!("{json}");
    Ok(())
}

/// The account named by id or name, or the default account.
async fn find_account(store: &Store, wanted: Option<&str>) -> Result<coffer_store::Account, String> {
    let accounts = store.list_accounts().await.map_err(|e| e.to_string())?;
    let wanted = wanted.unwrap_or(coffer_store::DEFAULT_ACCOUNT_NAME);
    accounts
        .into_iter()
        .find(|a| a.account_id == wanted || a.name == wanted)
        .ok_or_else(|| format!("no account {wanted}"))
}

/// A root console password for a new account: random, and within the root password rules
/// (upper and lower case, digits and symbols).
fn first_root_password() -> String {
    let random = ids::request_id();
    format!("Cf!{}-9", &random[..23])
}

async fn store_root_password(store: &Store, account: &coffer_store::Account, password: &str) -> Result<(), String> {
    if let Some(violation) = coffer_iam::root_password_violation(&account.name, password) {
        return Err(format!("the root password is not acceptable: {violation}"));
    }
    let hash = coffer_auth::passwords::hash_async(password)
        .await
        .ok_or("the password could not be hashed")?;
    store
        .set_root_password_hash(&account.account_id, &hash)
        .await
        .map_err(|e| e.to_string())
}

async fn set_root_password(location: &StoreLocation, account: Option<&str>) -> Result<(), String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = line.trim_end_matches(['\n', '\r']);
    let store = open_store(location).await?;
    let account = find_account(&store, account).await?;
    let outcome = store_root_password(&store, &account, password).await;
    store.close().await;
    outcome?;
    println!("Root password of account {} set.", account.account_id);
    Ok(())
}

/// `coffer db copy`: prints each table's rows as copied (and checked) as JSON.
async fn db_copy(from: &str, to: &str) -> Result<(), String> {
    let report = coffer_store::copy_database(from, to)
        .await
        .map_err(|e| format!("cannot copy {} to {}: {e}", redacted(from), redacted(to)))?;
    let tables: serde_json::Map<String, serde_json::Value> = report
        .tables
        .iter()
        .map(|(table, rows)| ((*table).to_owned(), serde_json::Value::from(*rows)))
        .collect();
    println!("{}", serde_json::json!({ "Copied": tables }));
    Ok(())
}

async fn account_list(location: &StoreLocation) -> Result<(), String> {
    let store = open_store(location).await?;
    let accounts = store.list_accounts().await.map_err(|e| e.to_string())?;
    store.close().await;
    let list: Vec<_> = accounts
        .iter()
        .map(|a| {
            serde_json::json!({
                "AccountId": a.account_id,
                "Name": a.name,
                "Alias": a.alias,
                "CreateDate": a.created_at.unix_timestamp(),
            })
        })
        .collect();
    println!("{}", serde_json::Value::Array(list));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn database_urls_are_shown_without_their_password() {
        assert_eq!(
            redacted("postgres://coffer:s3cret@db:5432/coffer"),
            "postgres://coffer@db:5432/coffer"
        );
        assert_eq!(redacted("postgres://coffer@db/coffer"), "postgres://coffer@db/coffer");
        assert_eq!(redacted("sqlite:///srv/coffer/meta.db"), "sqlite:///srv/coffer/meta.db");
        // An @ in the password: everything up to the last @ is credentials.
        assert_eq!(redacted("postgres://u:p@ss@db/x"), "postgres://u@db/x");
        assert_eq!(redacted("postgres://db/x?user=u&password=s3cret"), "postgres://db/x");
    }
}
