//! Opening the database: drivers, pragmas, pools, migrations.
//!
//! Two backends, one code path: the SQL is portable (`$N` parameters, `ON CONFLICT`, BIGINT
//! milliseconds), and what differs lives here: the URL picks the driver, its migrations and
//! its pools. SQLite (the embedded default) gets one writer connection (writes serialise
//! there instead of failing with `SQLITE_BUSY`) and a few readers; WAL lets readers run beside
//! the writer and keeps every committed transaction across `kill -9`. PostgreSQL gets one
//! pool that readers and writers share.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

use crate::blobs::BlobStore;
use crate::cache::GenerationCache;
use crate::commits::Committer;
use crate::{Result, Sealer, Store, StoreError};

pub(crate) struct Db {
    pub(crate) backend: Backend,
    pub(crate) reader: AnyPool,
    pub(crate) writer: AnyPool,
    /// The node's own connection for its quick checks (the health check, the cache
    /// counters' poll): a pool busy with requests must neither look like a lost database to
    /// a load balancer nor hold back the news of a revoked key.
    pub(crate) probe: AnyPool,
    pub(crate) sealer: Sealer,
    pub(crate) keys: GenerationCache<Arc<crate::Credential>>,
    pub(crate) buckets: GenerationCache<crate::Bucket>,
    pub(crate) blobs: BlobStore,
    pub(crate) commits: Committer<crate::objects::Write>,
    /// Latest versions of recently read keys (SQLite only: see `object_cache.rs`).
    pub(crate) objects: Arc<crate::object_cache::ObjectCache>,
    pub(crate) policies: GenerationCache<Arc<crate::UserPolicies>>,
    /// Keys of the ring by account and the name a request used, their material opened.
    pub(crate) kms_keys: GenerationCache<Arc<crate::KmsKey>>,
    /// Key uses not yet written to SQL: key id -> (millis, service, region). Recording a use is
    /// a map insert; a background flush turns many uses into one write.
    pub(crate) pending_key_use: Mutex<HashMap<String, (i64, String, String)>>,
    /// Held while this process serves (see [`DatabaseOptions::serving`]).
    _serving: Vec<std::fs::File>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").finish_non_exhaustive()
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend of `url` (`sqlite://…`, `postgres://…` or `postgresql://…`).
    pub fn of(url: &str) -> Option<Backend> {
        let scheme = url.split_once("://").map(|(scheme, _)| scheme.to_ascii_lowercase())?;
        match scheme.as_str() {
            "sqlite" => Some(Backend::Sqlite),
            "postgres" | "postgresql" => Some(Backend::Postgres),
            _ => None,
        }
    }
}

/// How many connections a PostgreSQL-backed node holds, by default.
pub const POSTGRES_POOL_SIZE: u32 = 10;

/// How the database is reached.
#[derive(Clone, Copy, Debug)]
pub struct DatabaseOptions {
    /// PostgreSQL: the connections this node holds (SQLite always has one writer and four
    /// readers).
    pub pool_size: u32,
    /// How long a request waits for a free connection (or for a lost database) before it
    /// fails with 503 instead of hanging.
    pub acquire_timeout: Duration,
    /// This process serves S3 from the store (`coffer serve`). On SQLite it must be the only
    /// one: the object cache keeps rows that only this process's writes end (see
    /// `object_cache.rs`), so a second server on the same database, or on the same data dir,
    /// is refused; a PostgreSQL node shares its data dir with other PostgreSQL nodes only.
    /// Other processes (`coffer account`) may still open the store; theirs keeps rows a
    /// moment only.
    pub serving: bool,
}

impl Default for DatabaseOptions {
    fn default() -> Self {
        DatabaseOptions {
            pool_size: POSTGRES_POOL_SIZE,
            acquire_timeout: Duration::from_secs(5),
            serving: false,
        }
    }
}

/// Bounds on waiting inside PostgreSQL, so a hung or partitioned node holding a row lock
/// stalls nobody for long: a lock not had in 5 s fails (503, retried), and a transaction
/// left idle a minute is ended by the server.
async fn postgres_settings(conn: &mut sqlx::AnyConnection) -> std::result::Result<(), sqlx::Error> {
    use sqlx::Executor;
    for setting in [
        "SET lock_timeout = '5s'",
        "SET idle_in_transaction_session_timeout = '60s'",
    ] {
        conn.execute(setting).await?;
    }
    Ok(())
}

async fn sqlite_pragmas(conn: &mut sqlx::AnyConnection) -> std::result::Result<(), sqlx::Error> {
    use sqlx::Executor;
    for pragma in [
        "PRAGMA journal_mode = WAL",
        "PRAGMA synchronous = FULL",
        "PRAGMA busy_timeout = 10000",
        "PRAGMA foreign_keys = ON",
    ] {
        conn.execute(pragma).await?;
    }
    Ok(())
}

/// Whether a connection handed back may serve again: not if it is still inside a
/// transaction. SQLite rolls a transaction back by itself on some errors (a full disk, an
/// I/O error); sqlx's own ROLLBACK then fails and sqlx goes on counting the transaction as
/// open, so every later BEGIN on that connection would fail (seen on a full disk: every
/// request answered 503 until a restart). Such a connection is closed and replaced.
async fn out_of_transaction(conn: &mut sqlx::AnyConnection) -> std::result::Result<bool, sqlx::Error> {
    use sqlx::Connection;
    if !conn.is_in_transaction() {
        return Ok(true);
    }
    // A transaction dropped unfinished queues its rollback: wait for it before judging.
    conn.ping().await?;
    Ok(!conn.is_in_transaction())
}

impl Store {
    /// Opens (creating if needed) `<data_dir>/meta.db` and brings its schema up to date.
    pub async fn open_sqlite(data_dir: &Path, sealer: Sealer) -> Result<Store> {
        Self::open_sqlite_with(data_dir, sealer, DatabaseOptions::default()).await
    }

    /// As [`Store::open_sqlite`], with `options`.
    pub async fn open_sqlite_with(data_dir: &Path, sealer: Sealer, options: DatabaseOptions) -> Result<Store> {
        crate::private_fs::create_dir(data_dir)?;
        let path = data_dir.join(crate::META_DB_FILE);
        crate::private_fs::create_private_file(&path)?;
        for suffix in ["-wal", "-shm"] {
            let mut name = path.clone().into_os_string();
            name.push(suffix);
            crate::private_fs::restrict(Path::new(&name), crate::private_fs::FILE_MODE)?;
        }
        let url = format!("sqlite://{}?mode=rwc", path.display());
        Self::open_with(&url, data_dir, sealer, options).await
    }

    /// Opens the database at `url` (`sqlite://…` or `postgres://…`) and runs its migrations;
    /// object bytes go under `data_dir`.
    pub async fn open(url: &str, data_dir: &Path, sealer: Sealer) -> Result<Store> {
        Self::open_with(url, data_dir, sealer, DatabaseOptions::default()).await
    }

    /// As [`Store::open`], with the pool's size and timeout.
    pub async fn open_with(url: &str, data_dir: &Path, sealer: Sealer, options: DatabaseOptions) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of(url).ok_or_else(|| {
            StoreError::Db(sqlx::Error::Configuration(
                format!("the database URL must start with sqlite:// or postgres://, not {url:?}").into(),
            ))
        })?;
        let serving = match options.serving {
            true => serving_locks(backend, url, data_dir)?,
            false => Vec::new(),
        };
        let (reader, writer, probe) = match backend {
            Backend::Sqlite => {
                let pool = || {
                    AnyPoolOptions::new()
                        .acquire_timeout(options.acquire_timeout.max(Duration::from_secs(30)))
                        .after_connect(|conn, _meta| Box::pin(async move { sqlite_pragmas(conn).await }))
                        .after_release(|conn, _meta| Box::pin(async move { out_of_transaction(conn).await }))
                };
                let writer = pool().max_connections(1).connect(url).await?;
                SQLITE_MIGRATIONS.run(&writer).await?;
                let reader = pool().max_connections(4).connect(url).await?;
                // A local file: its readers are never all lost at once to a network fault.
                (reader.clone(), writer, reader)
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .acquire_timeout(options.acquire_timeout)
                    .max_connections(options.pool_size.max(2))
                    .after_connect(|conn, _meta| Box::pin(async move { postgres_settings(conn).await }))
                    .connect(url)
                    .await?;
                POSTGRES_MIGRATIONS.run(&pool).await?;
                let probe = AnyPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(options.acquire_timeout)
                    .after_connect(|conn, _meta| Box::pin(async move { postgres_settings(conn).await }))
                    .connect_lazy(url)?;
                (pool.clone(), pool, probe)
            }
        };
        let commits = Committer::start(writer.clone(), backend)?;
        let db = Arc::new(Db {
            backend,
            reader,
            writer,
            probe,
            sealer,
            keys: GenerationCache::default(),
            buckets: GenerationCache::default(),
            // On PostgreSQL other nodes may share the data dir and be reading.
            blobs: BlobStore::open(data_dir, backend == Backend::Postgres)?,
            objects: Arc::new(crate::object_cache::ObjectCache::new(
                backend == Backend::Sqlite,
                crate::object_cache::max_age(options.serving),
            )),
            commits,
            policies: GenerationCache::default(),
            kms_keys: GenerationCache::default(),
            pending_key_use: Mutex::new(HashMap::new()),
            _serving: serving,
        });
        crate::epochs::start(&db).await;
        Ok(Store { inner: db })
    }

    /// Begins a write transaction. On SQLite, `BEGIN IMMEDIATE` takes the write lock up front,
    /// so a transaction never fails with `SQLITE_BUSY` halfway when another process (`coffer
    /// account create` beside `coffer serve`) writes too; it waits for the lock instead.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        begin_write(&self.inner.writer, self.inner.backend).await
    }

    /// Whether the database answers, within `timeout`.
    pub async fn ping(&self, timeout: Duration) -> bool {
        let probe = sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(&self.inner.probe);
        matches!(tokio::time::timeout(timeout, probe).await, Ok(Ok(1)))
    }

    /// The master key's sealer (session tokens are sealed and opened with it).
    pub fn sealer(&self) -> &Sealer {
        &self.inner.sealer
    }

    /// Which database this store runs on.
    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// Writes pending key uses and closes the pools.
    pub async fn close(&self) {
        if let Err(err) = self.flush_key_use().await {
            tracing::warn!(%err, "could not record the last use of access keys");
        }
        self.inner.writer.close().await;
        self.inner.reader.close().await;
        self.inner.probe.close().await;
    }
}

/// [`begin_write`] on a connection the caller holds.
pub(crate) async fn begin_write_on(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
) -> Result<sqlx::Transaction<'_, sqlx::Any>> {
    use sqlx::Connection;
    Ok(match backend {
        Backend::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => conn.begin().await?,
    })
}

/// As [`Store::begin_write`], on `pool` of `backend`.
pub(crate) async fn begin_write(pool: &AnyPool, backend: Backend) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
    Ok(match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => pool.begin().await?,
    })
}

/// A row whose lock serialises the writes that depend on it: those that count its children
/// before adding one (two keys per user, 50 tags, five policy versions), those that add a
/// child (a member, a policy, a key) and the delete that checks it has none. Concurrent
/// transactions on several connections or nodes wait for each other there instead of both
/// passing their checks. Lock an entity (user, group) before a policy, never the other way.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Guard<'a> {
    Account(&'a str),
    User(&'a str),
    Group(&'a str),
    Role(&'a str),
    OidcProvider(&'a str),
    Policy(&'a str),
    /// A customer managed policy by account and ARN (attachments name policies by ARN).
    PolicyArn(&'a str, &'a str),
    Upload(&'a str),
}

/// Takes `guard`'s row lock until the transaction ends (PostgreSQL: `SELECT … FOR NO KEY
/// UPDATE`, which serialises the guards' holders and deletes of the row, and lets inserts of
/// other rows that merely reference it check their foreign keys meanwhile;
/// SQLite needs none: every write transaction there holds the database's one write lock).
/// Returns whether the row exists, as of the lock: a row deleted meanwhile is gone.
pub(crate) async fn lock(tx: &mut sqlx::Transaction<'_, sqlx::Any>, guard: Guard<'_>) -> Result<bool> {
    let (sql, first, second) = match guard {
        Guard::Account(id) => ("SELECT 1 FROM accounts WHERE account_id = $1", id, None),
        Guard::User(id) => ("SELECT 1 FROM users WHERE user_id = $1", id, None),
        Guard::Group(id) => ("SELECT 1 FROM groups WHERE group_id = $1", id, None),
        Guard::Role(id) => ("SELECT 1 FROM roles WHERE role_id = $1", id, None),
        Guard::OidcProvider(id) => ("SELECT 1 FROM oidc_providers WHERE provider_id = $1", id, None),
        Guard::Policy(id) => ("SELECT 1 FROM managed_policies WHERE policy_id = $1", id, None),
        Guard::PolicyArn(account, arn) => (
            "SELECT 1 FROM managed_policies WHERE account_id = $1 \
             AND 'arn:aws:iam::' || account_id || ':policy' || path || name = $2",
            account,
            Some(arn),
        ),
        Guard::Upload(id) => ("SELECT 1 FROM multipart_uploads WHERE upload_id = $1", id, None),
    };
    let sql = if is_postgres(tx) {
        format!("{sql} FOR NO KEY UPDATE")
    } else {
        sql.to_owned()
    };
    // The SQL is one of the fixed texts above.
    let mut query = sqlx::query_scalar::<_, i32>(sqlx::AssertSqlSafe(sql)).bind(first);
    if let Some(second) = second {
        query = query.bind(second);
    }
    Ok(query.fetch_optional(&mut **tx).await?.is_some())
}

/// Whether `conn` talks to PostgreSQL, the backend where several writers run at once and
/// rows must be locked (`FOR UPDATE`) for a read-then-write to hold.
pub(crate) fn is_postgres(conn: &sqlx::AnyConnection) -> bool {
    conn.backend_name() == "PostgreSQL"
}

/// Brings `pool`'s database to this version's schema.
pub(crate) async fn migrate(pool: &AnyPool, backend: Backend) -> Result<()> {
    match backend {
        Backend::Sqlite => SQLITE_MIGRATIONS.run(pool).await?,
        Backend::Postgres => POSTGRES_MIGRATIONS.run(pool).await?,
    }
    Ok(())
}

/// What `coffer serve` holds for its life (a crash lets go of it too): on SQLite, the data dir
/// and the database to itself; on PostgreSQL, the data dir shared with other PostgreSQL nodes
/// only. Another server on the same SQLite database would write rows this one's object cache
/// never sees; another server of another database on the same data dir would sweep this one's
/// blobs as orphans (its database names none of them).
fn serving_locks(backend: Backend, url: &str, data_dir: &Path) -> Result<Vec<std::fs::File>> {
    let refuse = |message: String| StoreError::Db(sqlx::Error::Configuration(message.into()));
    let mut held = Vec::new();
    let dir_lock = data_dir.join(SERVING_LOCK);
    match lock_file(&dir_lock, backend == Backend::Postgres) {
        Ok(file) => held.push(file),
        Err(None) => {
            return Err(refuse(format!(
                "another coffer serve is using the data dir {}: an SQLite server has its data dir \
                 to itself, and PostgreSQL nodes share theirs only with nodes of the same database",
                data_dir.display()
            )));
        }
        // Some network file systems lock nothing; PostgreSQL nodes on them still start.
        Err(Some(e)) if backend == Backend::Postgres => {
            tracing::warn!(%e, dir = %data_dir.display(), "cannot lock the data dir; going on without");
        }
        Err(Some(e)) => return Err(refuse(format!("cannot lock {}: {e}", dir_lock.display()))),
    }
    if backend == Backend::Sqlite {
        // Where sqlx itself finds the file (it percent-decodes the URL's path).
        let options: sqlx::sqlite::SqliteConnectOptions =
            url.parse().map_err(|e| refuse(format!("the database URL: {e}")))?;
        let database = options.get_filename();
        if database != Path::new(":memory:") {
            // A separate file: closing any descriptor of the database itself would drop
            // SQLite's own locks.
            let mut db_lock = database.as_os_str().to_owned();
            db_lock.push("-serving");
            let db_lock = Path::new(&db_lock);
            match lock_file(db_lock, false) {
                Ok(file) => held.push(file),
                Err(None) => {
                    return Err(refuse(format!(
                        "another coffer serve is using {}: one SQLite database has one server \
                         (several nodes need PostgreSQL)",
                        database.display()
                    )));
                }
                Err(Some(e)) => return Err(refuse(format!("cannot lock {}: {e}", db_lock.display()))),
            }
        }
    }
    Ok(held)
}

/// Opens (creating if needed) and locks `path`, exclusively or `shared`, without waiting:
/// `Err(None)` when another process holds it.
fn lock_file(path: &Path, shared: bool) -> std::result::Result<std::fs::File, Option<std::io::Error>> {
    let file = crate::private_fs::new_file()
        .create_new(false)
        .create(true)
        .truncate(false)
        .open(path)?;
    let locked = match shared {
        true => file.try_lock_shared(),
        false => file.try_lock(),
    };
    match locked {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(None),
        Err(std::fs::TryLockError::Error(e)) => Err(Some(e)),
    }
}

/// The data dir's lock file (see [`serving_locks`]).
const SERVING_LOCK: &str = "serving.lock";
