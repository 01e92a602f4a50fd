//! `coffer db copy`: an installation's metadata from one database to another, in either
//! direction between SQLite and PostgreSQL (the way to grow from one node to several, or to
//! come back). The target must be empty; every row is copied as it is (secrets stay sealed
//! with the same master key, which moves with the data dir); the counts are compared at the end.

use std::collections::BTreeSet;

use futures::TryStreamExt;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Row};

use crate::db::{Backend, migrate};
use crate::{Result, StoreError};

/// Every table with rows to copy, parents before children (the foreign keys hold on the way).
const TABLES: [&str; 33] = [
    "accounts",
    "users",
    "user_tags",
    "access_keys",
    "buckets",
    "objects",
    "object_parts",
    "object_bodies",
    "multipart_uploads",
    "upload_parts",
    "completed_uploads",
    "groups",
    "group_members",
    "inline_policies",
    "managed_policies",
    "policy_versions",
    "policy_attachments",
    "bucket_policies",
    "policy_tags",
    "login_profiles",
    "password_policies",
    "console_sessions",
    "signin_attempts",
    "signin_known_addresses",
    "roles",
    "role_tags",
    "oidc_providers",
    "oidc_provider_tags",
    "credential_reports",
    "bucket_lifecycle",
    "lifecycle_cursors",
    "kms_keys",
    "kms_aliases",
];

/// Not copied: migrations' own bookkeeping, this node's coordination, and what triggers
/// rebuild on the target as its rows arrive (`bucket_usage_deltas`, folded later).
const NOT_COPIED: [&str; 5] = [
    "_sqlx_migrations",
    "cache_epochs",
    "leases",
    "bucket_usage",
    "bucket_usage_deltas",
];

/// Rows per insert transaction.
const BATCH: usize = 500;

/// What a copy moved: each table and its row count.
#[derive(Debug, Default)]
pub struct CopyReport {
    pub tables: Vec<(&'static str, i64)>,
}

/// One column's value, whichever of the types Coffer's tables use.
enum Value {
    Null,
    Integer(i64),
    Text(String),
    Bytes(Vec<u8>),
}

async fn open(url: &str) -> Result<(AnyPool, Backend)> {
    sqlx::any::install_default_drivers();
    let backend = Backend::of(url).ok_or_else(|| {
        StoreError::Db(sqlx::Error::Configuration(
            format!("the database URL must start with sqlite:// or postgres://, not {url:?}").into(),
        ))
    })?;
    let pool = AnyPoolOptions::new().max_connections(2).connect(url).await?;
    migrate(&pool, backend).await?;
    Ok((pool, backend))
}

async fn tables(pool: &AnyPool, backend: Backend) -> Result<BTreeSet<String>> {
    let sql = match backend {
        Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = current_schema()"
        }
    };
    Ok(sqlx::query_scalar(sql).fetch_all(pool).await?.into_iter().collect())
}

/// A column's kind in the target, for binding a NULL of the right type (PostgreSQL refuses a
/// NULL typed as text in a BIGINT column).
#[derive(Clone, Copy)]
enum Kind {
    Integer,
    Text,
    Bytes,
}

/// The kinds of `table`'s columns in `pool`'s database, by column name.
async fn kinds(pool: &AnyPool, backend: Backend, table: &str) -> Result<std::collections::HashMap<String, Kind>> {
    let sql = match backend {
        Backend::Sqlite => "SELECT name, type FROM pragma_table_info($1)",
        Backend::Postgres => {
            "SELECT CAST(column_name AS TEXT), CAST(data_type AS TEXT) FROM information_schema.columns \
             WHERE table_name = $1 AND table_schema = current_schema()"
        }
    };
    let rows: Vec<(String, String)> = sqlx::query_as(sql).bind(table).fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|(name, kind)| {
            let kind = kind.to_ascii_uppercase();
            let kind = if kind.contains("INT") {
                Kind::Integer
            } else if kind.contains("BLOB") || kind.contains("BYTEA") {
                Kind::Bytes
            } else {
                Kind::Text
            };
            (name, kind)
        })
        .collect())
}

async fn count(conn: &mut sqlx::AnyConnection, table: &str) -> Result<i64> {
    // `table` is one of TABLES.
    Ok(
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(conn)
            .await?,
    )
}

/// How long the copy tries to find the source's writers all paused before it gives up.
const SOURCE_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// A read of the whole source as of one moment, with its writers held off until the copy
/// ends: a node still serving it has nothing acknowledged that the copy misses (its writes
/// wait, then fail with 503). On SQLite the copy holds the write lock; on PostgreSQL it holds
/// SHARE locks on every table (readers go on) and reads one repeatable-read snapshot taken
/// after them. The locks are taken all at once or not at all (`NOWAIT`, tried again until
/// [`SOURCE_LOCK_WAIT`]): waiting for one table while holding others could deadlock with a
/// node's transaction that writes them in another order.
async fn locked_snapshot(pool: &AnyPool, backend: Backend) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
    if backend == Backend::Sqlite {
        return Ok(pool.begin_with("BEGIN IMMEDIATE").await?);
    }
    let deadline = std::time::Instant::now() + SOURCE_LOCK_WAIT;
    loop {
        let mut tx = pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ").await?;
        // Before any read, so the snapshot is taken once no writer is left in flight.
        let locked = sqlx::query(sqlx::AssertSqlSafe(format!(
            "LOCK TABLE {} IN SHARE MODE NOWAIT",
            TABLES.join(", ")
        )))
        .execute(&mut *tx)
        .await;
        match locked {
            Ok(_) => return Ok(tx),
            // lock_not_available: a writer is in flight; let it finish and try again.
            Err(sqlx::Error::Database(db))
                if db.code().as_deref() == Some("55P03") && std::time::Instant::now() < deadline =>
            {
                tx.rollback().await?;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(err) => {
                return Err(StoreError::CopyRefused(format!(
                    "the source's writers did not pause within {} s ({err}); stop the nodes or try again",
                    SOURCE_LOCK_WAIT.as_secs()
                )));
            }
        }
    }
}

fn value(row: &sqlx::any::AnyRow, index: usize) -> Value {
    if let Ok(v) = row.try_get::<Option<i64>, _>(index) {
        return v.map_or(Value::Null, Value::Integer);
    }
    if let Ok(v) = row.try_get::<Option<String>, _>(index) {
        return v.map_or(Value::Null, Value::Text);
    }
    row.try_get::<Option<Vec<u8>>, _>(index)
        .ok()
        .flatten()
        .map_or(Value::Null, Value::Bytes)
}

/// Inserts `rows` of `table`.
async fn insert_rows(
    target: &mut sqlx::AnyConnection,
    table: &str,
    kinds: &std::collections::HashMap<String, Kind>,
    rows: &[sqlx::any::AnyRow],
) -> Result<()> {
    for row in rows {
        let columns: Vec<&str> = row.columns().iter().map(sqlx::Column::name).collect();
        let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
        // Column names come from the source's own table, which is one of TABLES.
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            columns.join(", "),
            placeholders.join(", ")
        );
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (index, column) in columns.iter().enumerate() {
            insert = match value(row, index) {
                Value::Null => match kinds.get(*column).copied().unwrap_or(Kind::Text) {
                    Kind::Integer => insert.bind(None::<i64>),
                    Kind::Text => insert.bind(None::<String>),
                    Kind::Bytes => insert.bind(None::<Vec<u8>>),
                },
                Value::Integer(v) => insert.bind(v),
                Value::Text(v) => insert.bind(v),
                Value::Bytes(v) => insert.bind(v),
            };
        }
        insert.execute(&mut *target).await?;
    }
    Ok(())
}

/// Copies every row of `from` into `to`, which must hold none. Both are brought to this
/// version's schema first. The source is read as of one moment with its writers held off
/// (see [`locked_snapshot`]); the target is written in one transaction, so a copy that fails
/// leaves it as empty as it was.
pub async fn copy_database(from: &str, to: &str) -> Result<CopyReport> {
    let (source, source_backend) = open(from).await?;
    let (target, target_backend) = open(to).await?;
    let known: BTreeSet<String> = TABLES
        .iter()
        .chain(NOT_COPIED.iter())
        .map(|t| (*t).to_owned())
        .collect();
    let present = tables(&source, source_backend).await?;
    if let Some(unknown) = present.difference(&known).next() {
        return Err(StoreError::CopyRefused(format!(
            "the source has a table this version of Coffer cannot copy: {unknown}"
        )));
    }
    let mut kinds = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        kinds.push(self::kinds(&target, target_backend, table).await?);
    }
    let mut writing = crate::db::begin_write(&target, target_backend).await?;
    for table in TABLES {
        if count(&mut writing, table).await? > 0 {
            return Err(StoreError::CopyRefused(format!(
                "the target is not empty ({table} has rows); copy into a new, empty database"
            )));
        }
    }
    let mut reading = locked_snapshot(&source, source_backend).await?;
    let mut report = CopyReport::default();
    for (table, target_kinds) in TABLES.into_iter().zip(&kinds) {
        // Streamed: a table of millions of objects never sits in memory whole.
        let mut rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM {table}"))).fetch(&mut *reading);
        let mut chunk = Vec::with_capacity(BATCH);
        loop {
            let next = rows.try_next().await?;
            let done = next.is_none();
            chunk.extend(next);
            if chunk.len() == BATCH || (done && !chunk.is_empty()) {
                insert_rows(&mut writing, table, target_kinds, &chunk).await?;
                chunk.clear();
            }
            if done {
                break;
            }
        }
        drop(rows);
        let (copied, there) = (count(&mut reading, table).await?, count(&mut writing, table).await?);
        if copied != there {
            return Err(StoreError::CopyRefused(format!(
                "{table}: {copied} rows in the source but {there} in the target after the copy"
            )));
        }
        report.tables.push((table, there));
    }
    writing.commit().await?;
    reading.rollback().await?;
    source.close().await;
    target.close().await;
    Ok(report)
}
