//! Group commit for object writes. Every PUT and DELETE must reach the disk before it is
//! acknowledged, and with SQLite each commit is an fsync on the one writer connection, so
//! one commit per request caps a server at one write per fsync. Instead, writes queue here
//! and a single task commits whatever has queued as one transaction, each write in its own
//! savepoint (a failed condition undoes only its own write). Under load a commit carries
//! many writes; alone, a write waits for nobody.

use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

use crate::model::now_millis;
use crate::objects::{NewObject, WriteCondition, insert_object, replace_current};
use crate::{Result, StoreError};

/// Writes per transaction at most, so one commit never holds the writer for long.
const MAX_BATCH: usize = 128;

pub(crate) enum Write {
    Put {
        bucket: String,
        object: Box<NewObject>,
        blob_id: String,
        condition: WriteCondition,
    },
    Delete {
        bucket: String,
        key: String,
        condition: WriteCondition,
    },
}

/// What a write did: its time, and the blobs it made unused (to remove after the commit).
pub(crate) struct Written {
    pub last_modified: i64,
    pub unused_blobs: Vec<String>,
    /// For a delete: whether there was an object.
    pub existed: bool,
}

struct Queued {
    write: Write,
    reply: oneshot::Sender<Result<Written>>,
}

#[derive(Debug, Clone)]
pub(crate) struct Committer {
    queue: mpsc::UnboundedSender<Queued>,
}

impl Committer {
    /// Starts the commit task on the writer pool. It ends when every handle is dropped.
    pub(crate) fn start(writer: AnyPool) -> Committer {
        let (queue, mut incoming) = mpsc::unbounded_channel::<Queued>();
        tokio::spawn(async move {
            while let Some(first) = incoming.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match incoming.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                commit(&writer, batch).await;
            }
        });
        Committer { queue }
    }

    pub(crate) async fn write(&self, write: Write) -> Result<Written> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Queued { write, reply })
            .map_err(|_| StoreError::Db(sqlx::Error::PoolClosed))?;
        answer.await.map_err(|_| StoreError::Db(sqlx::Error::PoolClosed))?
    }
}

/// Commits a batch; every writer hears its own outcome, or the commit's error.
async fn commit(writer: &AnyPool, batch: Vec<Queued>) {
    let mut outcomes: Vec<(oneshot::Sender<Result<Written>>, Result<Written>)> = Vec::with_capacity(batch.len());
    let mut tx = match writer.begin().await {
        Ok(tx) => tx,
        Err(err) => {
            let message = err.to_string();
            for queued in batch {
                let _ = queued
                    .reply
                    .send(Err(StoreError::Db(sqlx::Error::Protocol(message.clone()))));
            }
            return;
        }
    };
    for queued in batch {
        let outcome = match sqlx::Acquire::begin(&mut tx).await {
            Ok(mut savepoint) => match apply(&mut savepoint, &queued.write).await {
                Ok(written) => savepoint.commit().await.map(|_| written).map_err(StoreError::from),
                Err(err) => {
                    let _ = savepoint.rollback().await;
                    Err(err)
                }
            },
            Err(err) => Err(err.into()),
        };
        outcomes.push((queued.reply, outcome));
    }
    match tx.commit().await {
        Ok(()) => {
            for (reply, outcome) in outcomes {
                let _ = reply.send(outcome);
            }
        }
        Err(err) => {
            let message = err.to_string();
            for (reply, _) in outcomes {
                let _ = reply.send(Err(StoreError::Db(sqlx::Error::Protocol(message.clone()))));
            }
        }
    }
}

async fn apply(tx: &mut sqlx::Transaction<'_, sqlx::Any>, write: &Write) -> Result<Written> {
    match write {
        Write::Put {
            bucket,
            object,
            blob_id,
            condition,
        } => {
            let last_modified = now_millis();
            let unused_blobs = replace_current(tx, bucket, &object.key, condition).await?;
            insert_object(tx, bucket, object, Some(blob_id), &[], last_modified)
                .await
                .map_err(|err| match err {
                    StoreError::Db(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
                        StoreError::NoSuchBucket
                    }
                    other => other,
                })?;
            Ok(Written {
                last_modified,
                unused_blobs,
                existed: false,
            })
        }
        Write::Delete { bucket, key, condition } => {
            let unused_blobs = replace_current(tx, bucket, key, condition).await?;
            // An object always has at least one blob, so "nothing to remove" means "no object".
            let existed = !unused_blobs.is_empty();
            Ok(Written {
                last_modified: now_millis(),
                unused_blobs,
                existed,
            })
        }
    }
}
