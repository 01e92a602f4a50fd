//! Store tests on both backends: each test in [`on_both_backends!`] runs once on SQLite (a
//! file in a temporary directory) and once on PostgreSQL (a fresh database on the server
//! `COFFER_TEST_POSTGRES_URL` names; `scripts/test` starts a throwaway one).

use std::path::Path;

use crate::{Sealer, Store};

/// Where one test's store lives: its data directory (blobs, the master key, SQLite's file) and
/// its database URL.
pub struct TestDb {
    dir: tempfile::TempDir,
    url: String,
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join(crate::META_DB_FILE).display());
        TestDb { dir, url }
    }

    /// A new, empty database on the test server; `None` only when the run says to skip
    /// PostgreSQL (`COFFER_TEST_SKIP_POSTGRES=1`), never silently.
    pub async fn postgres() -> Option<TestDb> {
        let Ok(server) = std::env::var("COFFER_TEST_POSTGRES_URL") else {
            if std::env::var("COFFER_TEST_SKIP_POSTGRES").is_ok_and(|v| v == "1") {
                return None;
            }
            panic!(
                "COFFER_TEST_POSTGRES_URL is not set: run scripts/test (it starts a throwaway PostgreSQL), \
                 or set COFFER_TEST_SKIP_POSTGRES=1 to run SQLite only"
            );
        };
        Some(TestDb {
            dir: tempfile::tempdir().unwrap(),
            url: fresh_database(&server).await,
        })
    }

    /// Opens (or, called again, reopens) the store.
    pub async fn open(&self) -> Store {
        let sealer = Sealer::load_or_create(self.dir.path()).unwrap();
        Store::open(&self.url, self.dir.path(), sealer).await.unwrap()
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

/// Creates a database with a random name on `server` and returns its URL.
pub async fn fresh_database(server: &str) -> String {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let name = format!("coffer_test_{:016x}", rand::random::<u64>());
    let mut conn = sqlx::AnyConnection::connect(server).await.unwrap();
    // The name is ours: hex digits after a fixed prefix.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let (base, _) = server.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

/// Declares store tests that take a [`TestDb`]; each becomes a module with a `sqlite` and a
/// `postgres` test, on a multi-threaded runtime (some race writers against each other).
macro_rules! on_both_backends {
    ($($(#[doc = $doc:expr])* async fn $name:ident($db:ident: TestDb) $body:block)*) => {
        $(
            $(#[doc = $doc])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($db: $crate::test_backends::TestDb) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    run($crate::test_backends::TestDb::sqlite()).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(db) = $crate::test_backends::TestDb::postgres().await {
                        run(db).await;
                    }
                }
            }
        )*
    };
}

pub(crate) use on_both_backends;
