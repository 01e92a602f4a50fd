//! Group commit for object writes. Every PUT and DELETE must reach the disk before it is
//! acknowledged, and with SQLite each commit is an fsync on the one writer connection, so
//! one commit per request caps a server at one write per fsync. Instead, writes queue here
//! and a single task commits whatever has queued as one transaction, a failed write undoing
//! only itself (each write in a savepoint of its own; on SQLite only once a write of the
//! batch failed where it could not be undone alone, see `commit_unguarded`). Under load a
//! commit carries many writes; alone, a write waits for nobody.

use sqlx::AnyPool;
use sqlx_core::transaction::TransactionManager;
use tokio::sync::{mpsc, oneshot};

use crate::{Result, StoreError};

/// Writes per transaction at most, so one commit never holds the writer for long.
const MAX_BATCH: usize = 128;

/// A write the committer applies within a shared transaction (in a savepoint of its own, or
/// on SQLite straight in the transaction: see `commit_unguarded`). It must change nothing
/// but rows, so that it can be applied again after a rollback.
pub(crate) trait Batched: Sized + Send + Sync + 'static {
    /// What the write tells its writer.
    type Output: Send + 'static;

    fn apply<'t, 'c: 't>(
        &'t self,
        tx: &'t mut sqlx::Transaction<'c, sqlx::Any>,
    ) -> impl Future<Output = Result<Self::Output>> + Send + 't;

    /// Applies a batch's writes within `tx` without savepoints (SQLite, see
    /// `commit_unguarded`): each write's outcome, in order, where a failed one changed
    /// nothing; or an error after which the transaction must be rolled back. By default each
    /// write is applied in turn; a kind of write may do better together.
    fn apply_all<'t, 'c: 't>(
        writes: &'t [&'t Self],
        tx: &'t mut sqlx::Transaction<'c, sqlx::Any>,
    ) -> impl Future<Output = Result<Vec<Result<Self::Output>>>> + Send + 't {
        apply_each(writes, tx)
    }

    /// The rows the write locks, as one sortable key: a batch applies its writes in this
    /// order (keeping arrival order among equal keys), so two nodes' batches lock rows in
    /// the same order and cannot deadlock each other.
    fn lock_order(&self) -> Vec<u8>;
}

/// Applies `writes` in turn within `tx` (`Batched::apply_all`'s default); a failed one fails
/// them all.
pub(crate) async fn apply_each<'t, 'c: 't, W: Batched>(
    writes: &'t [&'t W],
    tx: &'t mut sqlx::Transaction<'c, sqlx::Any>,
) -> Result<Vec<Result<W::Output>>> {
    let mut outcomes = Vec::with_capacity(writes.len());
    for write in writes {
        outcomes.push(Ok(write.apply(tx).await?));
    }
    Ok(outcomes)
}

struct Queued<W: Batched> {
    write: W,
    reply: oneshot::Sender<Result<W::Output>>,
}

#[derive(Debug)]
pub(crate) struct Committer<W: Batched> {
    queue: mpsc::UnboundedSender<Queued<W>>,
    sizes: std::sync::Arc<crate::stats::BatchSizes>,
}

impl<W: Batched> Clone for Committer<W> {
    fn clone(&self) -> Self {
        Committer {
            queue: self.queue.clone(),
            sizes: self.sizes.clone(),
        }
    }
}

impl<W: Batched> Committer<W> {
    /// Starts the commit task on the writer pool. It ends when every handle is dropped.
    ///
    /// On SQLite it runs on a thread of its own: each statement's answer wakes it from
    /// SQLite's worker thread, and on the server's runtime that wake-up queued behind the
    /// requests its last commit had just answered (a batch's `BEGIN` waited 180–300 µs for it
    /// where a statement takes 40; 4 KiB PUT 1.10–1.36× the ops/s, 0.80–0.92× the CPU). On
    /// PostgreSQL it stays on the server's runtime: the pool's sockets are registered with
    /// the runtime that opened them, and that pool is shared with every request.
    pub(crate) fn start(writer: AnyPool, backend: crate::Backend) -> std::io::Result<Committer<W>> {
        let (queue, mut incoming) = mpsc::unbounded_channel::<Queued<W>>();
        let sizes = std::sync::Arc::new(crate::stats::BatchSizes::default());
        let observed = sizes.clone();
        let committing = async move {
            while let Some(first) = incoming.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match incoming.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                observed.observe(batch.len());
                commit(&writer, backend, batch, &observed).await;
            }
        };
        match backend {
            crate::Backend::Sqlite => {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                std::thread::Builder::new()
                    .name("coffer-commit".into())
                    .spawn(move || runtime.block_on(committing))?;
            }
            crate::Backend::Postgres => {
                tokio::spawn(committing);
            }
        }
        Ok(Committer { queue, sizes })
    }

    /// The sizes of the batches committed so far.
    pub(crate) fn sizes(&self) -> &crate::stats::BatchSizes {
        &self.sizes
    }

    pub(crate) async fn write(&self, write: W) -> Result<W::Output> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Queued { write, reply })
            .map_err(|_| StoreError::Db(sqlx::Error::PoolClosed))?;
        answer.await.map_err(|_| StoreError::Db(sqlx::Error::PoolClosed))?
    }
}

/// How deep in transactions `conn` is, by sqlx's count: 1 in the batch's transaction, 2 in a
/// write's savepoint.
fn depth(conn: &sqlx::AnyConnection) -> usize {
    <sqlx::Any as sqlx::Database>::TransactionManager::get_transaction_depth(conn)
}

/// A writer's reply channel, and what to tell it once the batch's fate is known.
type Outcome<W> = (
    oneshot::Sender<Result<<W as Batched>::Output>>,
    Result<<W as Batched>::Output>,
);

/// Tells every writer of a batch that never began that the database is unavailable.
fn unavailable<W: Batched>(batch: Vec<Queued<W>>, message: &str) {
    for queued in batch {
        let _ = queued.reply.send(Err(StoreError::Unavailable(message.to_owned())));
    }
}

/// Commits a batch; every writer hears its own outcome, or the commit's error. On SQLite the
/// batch is first tried without savepoints (see `commit_unguarded`).
///
/// A lost connection can leave sqlx's count of open transactions wrong: a savepoint that
/// fails to begin queues a rollback one level up, and a later "commit" at depth 0 does
/// nothing and reports success. So both paths check the depth once the writes are applied
/// (and the guarded one around every savepoint); once it is not what it must be, the batch
/// is abandoned and every writer is told its outcome is unknown (never that it committed).
async fn commit<W: Batched>(
    writer: &AnyPool,
    backend: crate::Backend,
    mut batch: Vec<Queued<W>>,
    observed: &crate::stats::BatchSizes,
) {
    batch.sort_by_cached_key(|queued| queued.write.lock_order());
    let batch = match backend {
        crate::Backend::Sqlite => match commit_unguarded(writer, batch).await {
            Some(failed) => {
                observed.observe_redone();
                failed
            }
            None => return,
        },
        crate::Backend::Postgres => batch,
    };
    commit_guarded(writer, backend, batch).await
}

/// SQLite's fast path: the batch applied (`Batched::apply_all`) and committed without a
/// savepoint per write, two fewer trips through SQLite's worker thread for each (SQLite has
/// one writer, so nothing else comes between). A write refused before it changed anything
/// (`apply_all` says which) is told so and the rest commit. A write that fails may have
/// changed rows before it failed, and nothing could then undo only those: then the
/// transaction is rolled back and the batch comes back, its writers told nothing, to be
/// applied again each in a savepoint. `None`: every writer heard its outcome.
async fn commit_unguarded<W: Batched>(writer: &AnyPool, batch: Vec<Queued<W>>) -> Option<Vec<Queued<W>>> {
    let mut conn = match writer.acquire().await {
        Ok(conn) => conn,
        Err(err) => {
            unavailable(batch, &err.to_string());
            return None;
        }
    };
    let mut tx = match crate::db::begin_write_on(&mut conn, crate::Backend::Sqlite).await {
        Ok(tx) => tx,
        Err(err) => {
            unavailable(batch, &err.to_string());
            return None;
        }
    };
    // Nothing was applied yet: the batch is tried again on another connection, as a guarded
    // one.
    if depth(&tx) != 1 {
        drop(tx);
        conn.close_on_drop();
        return Some(batch);
    }
    let writes: Vec<&W> = batch.iter().map(|queued| &queued.write).collect();
    let applied = W::apply_all(&writes, &mut tx).await;
    drop(writes);
    if depth(&tx) != 1 {
        // Whatever sqlx would do now could roll back or "commit" the wrong level.
        std::mem::forget(tx);
        conn.close_on_drop();
        for queued in batch {
            let _ = queued.reply.send(Err(StoreError::CommitUnknown(
                "the connection was lost mid-batch".into(),
            )));
        }
        return None;
    }
    let Ok(outcomes) = applied else {
        // A connection whose rollback failed (SQLite may have ended the transaction itself)
        // is not lent again.
        if tx.rollback().await.is_err() || depth(&conn) != 0 {
            conn.close_on_drop();
        }
        return Some(batch);
    };
    match tx.commit().await {
        Ok(()) => {
            // Each write is dropped (its key's place in the object cache given up) only
            // after its writer was told.
            for (queued, outcome) in batch.into_iter().zip(outcomes) {
                let _ = queued.reply.send(outcome);
            }
        }
        Err(err) => {
            // The database may have committed before the error: the writes may stand, so
            // their writers must not throw away what the rows name. (One that failed on its
            // own changed nothing either way.)
            conn.close_on_drop();
            let message = err.to_string();
            for (queued, outcome) in batch.into_iter().zip(outcomes) {
                let told = outcome.and(Err(StoreError::CommitUnknown(message.clone())));
                let _ = queued.reply.send(told);
            }
        }
    }
    None
}

/// Commits a batch with each write in a savepoint of its own, so a failed write undoes only
/// itself (PostgreSQL always; SQLite when its fast path met a failure).
async fn commit_guarded<W: Batched>(writer: &AnyPool, backend: crate::Backend, batch: Vec<Queued<W>>) {
    let mut outcomes: Vec<Outcome<W>> = Vec::with_capacity(batch.len());
    // Acquired by hand, so a connection whose transaction state is in doubt can be closed
    // instead of going back to the pool for the next batch to trip over.
    let mut conn = match writer.acquire().await {
        Ok(conn) => conn,
        Err(err) => return unavailable(batch, &err.to_string()),
    };
    let mut tx = match crate::db::begin_write_on(&mut conn, backend).await {
        Ok(tx) => tx,
        // The pool tests a returned connection before it lends it again.
        Err(err) => return unavailable(batch, &err.to_string()),
    };
    let mut broken = depth(&tx) != 1;
    // Applied writes are kept until the batch is over: what they hold (a key's place in the
    // object cache) must outlive the commit.
    let mut kept = Vec::with_capacity(batch.len());
    let mut batch = batch.into_iter();
    for queued in batch.by_ref() {
        let outcome = match sqlx::Acquire::begin(&mut tx).await {
            Ok(mut savepoint) => {
                let applied = queued.write.apply(&mut savepoint).await;
                if depth(&savepoint) != 2 {
                    // Whatever sqlx would do now could roll back or "commit" the wrong level.
                    broken = true;
                    std::mem::forget(savepoint);
                    outcomes.push((
                        queued.reply,
                        Err(StoreError::CommitUnknown("the connection was lost".into())),
                    ));
                    kept.push(queued.write);
                    break;
                }
                match applied {
                    Ok(written) => savepoint.commit().await.map(|_| written).map_err(StoreError::from),
                    Err(err) => {
                        let _ = savepoint.rollback().await;
                        Err(err)
                    }
                }
            }
            Err(err) => Err(err.into()),
        };
        outcomes.push((queued.reply, outcome));
        kept.push(queued.write);
        if depth(&tx) != 1 {
            broken = true;
            break;
        }
    }
    if broken {
        // Nothing here is known to be committed, and nothing may be called committed.
        drop(tx);
        conn.close_on_drop();
        for (reply, _) in outcomes {
            let _ = reply.send(Err(StoreError::CommitUnknown(
                "the connection was lost mid-batch".into(),
            )));
        }
        for queued in batch {
            let _ = queued
                .reply
                .send(Err(StoreError::Unavailable("the connection was lost".into())));
        }
        return;
    }
    // PostgreSQL answers COMMIT in a transaction an error aborted with a rollback, and no
    // error: a statement first tells an aborted transaction from a healthy one.
    if let Err(err) = sqlx::query("SELECT 1").execute(&mut *tx).await {
        drop(tx);
        conn.close_on_drop();
        let message = err.to_string();
        for (reply, _) in outcomes {
            let _ = reply.send(Err(StoreError::CommitUnknown(message.clone())));
        }
        return;
    }
    match tx.commit().await {
        Ok(()) => {
            for (reply, outcome) in outcomes {
                let _ = reply.send(outcome);
            }
        }
        Err(err) => {
            // The connection may have died after the database committed: the writes may
            // stand, so their writers must not throw away what the rows name.
            conn.close_on_drop();
            let message = err.to_string();
            for (reply, _) in outcomes {
                let _ = reply.send(Err(StoreError::CommitUnknown(message.clone())));
            }
        }
    }
}
