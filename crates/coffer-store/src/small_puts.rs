//! A batch's small PUTs in a few commands to SQLite instead of two or three each (see
//! `joined`): every key's bucket state and latest version read at once, each PUT judged by
//! `plan_put` as any PUT is, then every one whose write is a single statement group written
//! at once, eight keys to a command. The common PUTs are taken: an overwrite of an
//! unversioned key, a new key, a new version in a versioned bucket. Anything else (a `null`
//! version to remove from a history first) is left to the ordinary path, and so are large
//! objects, whose blob writes dominate anyway.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::joined;
use crate::model::now_millis;
use crate::objects::{NULL_VERSION, NewBytes, NewObject, Write, WriteCondition, Written};
use crate::versions::{self, PutStep, Query, WrittenVersion};
use crate::{Result, StoreError};

type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

/// A batch's writes on SQLite (`Batched::apply_all`), its small PUTs together and the rest
/// each in turn. A PUT is taken together with others only if no other write of the batch
/// names its key, so their order does not matter.
pub(crate) async fn apply_all<'t, 'c: 't>(writes: &'t [&'t Write], tx: &'t mut Tx<'c>) -> Result<Vec<Result<Written>>> {
    debug_assert!(
        !crate::db::is_postgres(tx),
        "PostgreSQL's writes each retry on their own"
    );
    let puts = candidates(writes);
    let mut outcomes: Vec<Option<Result<Written>>> = writes.iter().map(|_| None).collect();
    // Even one alone is no more commands than on its own, and fewer for a new key or version.
    if !puts.is_empty() {
        apply_together(puts, tx, &mut outcomes).await?;
    }
    // The rest in turn. On SQLite a write is applied once (`Batched::apply`).
    let mut applied = Vec::with_capacity(writes.len());
    for (write, outcome) in writes.iter().zip(outcomes) {
        applied.push(match outcome {
            Some(outcome) => outcome,
            None => Ok(write.apply_once(tx).await?),
        });
    }
    Ok(applied)
}

/// Keys per command at most. sqlx prepares a command once per connection and keeps the last
/// 100 it ran: commands of one to eight statements of a kind are few and stay prepared, where
/// a command per batch size thrashed that cache at 64 clients (preparing took 3.7% of the
/// server's CPU, and the PUTs were no faster than one command each).
const KEYS_PER_COMMAND: usize = 8;

/// Applies `puts`, a command reading eight of them (`KEYS_PER_COMMAND`) and another writing
/// eight of a kind, each one's outcome put in its place in `outcomes` (none: more than one
/// statement group, to apply on its own).
pub(crate) async fn apply_together(
    puts: Vec<Candidate<'_>>,
    tx: &mut Tx<'_>,
    outcomes: &mut [Option<Result<Written>>],
) -> Result<()> {
    let mut read = Vec::with_capacity(puts.len());
    for chunk in puts.chunks(KEYS_PER_COMMAND) {
        let mut reads = joined::Joined::default();
        chunk.iter().for_each(|_| reads.push(&READ));
        let bind = |query| {
            chunk
                .iter()
                .fold(query, |query, put| bind_read(query, put.bucket, &put.object.key))
        };
        read.extend(joined::run(tx, reads, bind).await?);
    }
    if read.len() != puts.len() {
        return Err(StoreError::Corrupt(
            "a batch's reads answered for another number of keys",
        ));
    }
    let mut planned = Vec::with_capacity(puts.len());
    for (put, step) in puts.into_iter().zip(&read) {
        let last_modified = now_millis();
        match plan(
            step.rows.first(),
            put.bucket,
            put.object,
            put.bytes,
            put.condition,
            last_modified,
        ) {
            Ok(Some(planned_put)) => planned.push((put.index, planned_put)),
            Ok(None) => {}
            Err(err) => outcomes[put.index] = Some(Err(err)),
        }
    }
    // Each command holds one kind of statement group, so the same few commands come again.
    planned.sort_by_key(|(_, put)| put.sql());
    for kind in planned.chunk_by(|(_, a), (_, b)| a.sql() == b.sql()) {
        for chunk in kind.chunks(KEYS_PER_COMMAND) {
            let mut command = joined::Joined::default();
            chunk.iter().for_each(|(_, put)| command.push(put.sql()));
            let bind = |query| chunk.iter().fold(query, |query, (_, put)| put.bind(query));
            let steps = joined::run(tx, command, bind).await?;
            let changed: Vec<u64> = steps.iter().map(|step| step.changes).collect();
            let expected: Vec<u64> = chunk.iter().flat_map(|(_, put)| put.changes()).copied().collect();
            if changed != expected {
                return Err(StoreError::Corrupt(
                    "a key's versions changed while its PUT was written",
                ));
            }
        }
    }
    for (i, put) in planned {
        outcomes[i] = Some(Ok(Written::put(put.last_modified, put.written)));
    }
    Ok(())
}

/// A batch's PUT of a small object whose key no other write of the batch names.
pub(crate) struct Candidate<'w> {
    /// Its place in the batch.
    index: usize,
    bucket: &'w str,
    object: &'w NewObject,
    bytes: &'w NewBytes,
    condition: &'w WriteCondition,
}

pub(crate) fn candidates<'w>(writes: &'w [&'w Write]) -> Vec<Candidate<'w>> {
    let mut writes_of_key: HashMap<(&str, &str), usize> = HashMap::with_capacity(writes.len());
    for write in writes {
        *writes_of_key.entry(write.bucket_and_key()).or_default() += 1;
    }
    let mut candidates = Vec::with_capacity(writes.len());
    for (index, write) in writes.iter().enumerate() {
        if let Write::Put {
            bucket,
            object,
            bytes: bytes @ NewBytes::Inline { .. },
            condition,
            ..
        } = write
            && writes_of_key[&write.bucket_and_key()] == 1
        {
            candidates.push(Candidate {
                index,
                bucket,
                object,
                bytes,
                condition,
            });
        }
    }
    candidates
}

/// `BUCKET_STATE_AND_LATEST`, and the order a new version of the key would take (what
/// `insert_latest` reads for it): bucket `$1`, key `$2`.
static READ: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {}, (SELECT COALESCE(MIN(n.version_order), 1) - 1 FROM objects n \
         WHERE n.bucket = $1 AND n.object_key = $2) AS next_order FROM buckets b \
         LEFT JOIN objects o ON o.bucket = b.name AND o.object_key = $2 AND o.is_latest = 1 WHERE b.name = $1",
        versions::STATE_AND_LATEST_COLUMNS
    )
});

/// Binds `READ`'s parameters after a query's others.
pub(crate) fn bind_read<'q>(query: Query<'q>, bucket: &'q str, key: &str) -> Query<'q> {
    query.bind(bucket).bind(key.as_bytes().to_vec())
}

/// A small object's PUT, judged, as one group of statements.
pub(crate) struct SmallPut<'w> {
    bucket: &'w str,
    /// The object with the lock it takes.
    object: NewObject,
    bytes: &'w NewBytes,
    last_modified: i64,
    step: Step,
    written: WrittenVersion,
}

enum Step {
    ReplaceNull,
    /// A new latest version (`written.version_id`): its order (`None`: found by the INSERT),
    /// and whether there is a latest version to demote.
    Insert {
        order: Option<i64>,
        demote: bool,
    },
}

/// Judges a PUT of `object` with its small `bytes` from its `READ` row (none: no such
/// bucket): its outcome if it fails, `None` if it is more than one statement group.
pub(crate) fn plan<'w>(
    row: Option<&sqlx::any::AnyRow>,
    bucket: &'w str,
    object: &NewObject,
    bytes: &'w NewBytes,
    condition: &WriteCondition,
    last_modified: i64,
) -> Result<Option<SmallPut<'w>>> {
    if !matches!(bytes, NewBytes::Inline { .. }) {
        return Ok(None);
    }
    let (state, latest) = versions::state_and_latest(row)?;
    let (lock, step) = versions::plan_put(&state, latest.as_ref(), object, false, condition, last_modified)?;
    let (step, version_id, unused_blobs) = match step {
        PutStep::ReplaceNull(replaced) => (
            Step::ReplaceNull,
            NULL_VERSION.to_owned(),
            replaced.blob_id.iter().cloned().collect(),
        ),
        // A key without versions has no `null` version to remove. (Were there one, the
        // INSERT would fail on the key's unique index, and the batch go the ordinary way.)
        PutStep::Add { null: true } if latest.is_none() => (
            Step::Insert {
                order: None,
                demote: false,
            },
            NULL_VERSION.to_owned(),
            Vec::new(),
        ),
        PutStep::Add { null: true } => return Ok(None),
        PutStep::Add { null: false } => {
            let order: i64 = sqlx::Row::try_get(row.ok_or(StoreError::NoSuchBucket)?, "next_order")?;
            let demote = latest.is_some();
            (
                Step::Insert {
                    order: Some(order),
                    demote,
                },
                versions::new_version_id(order),
                Vec::new(),
            )
        }
    };
    Ok(Some(SmallPut {
        bucket,
        object: NewObject { lock, ..object.clone() },
        bytes,
        last_modified,
        step,
        written: WrittenVersion {
            version_id,
            unused_blobs,
            lock,
        },
    }))
}

impl<'w> SmallPut<'w> {
    /// Its statements, parameters numbered from `$1`.
    pub(crate) fn sql(&self) -> &'static str {
        match self.step {
            Step::ReplaceNull => &versions::REPLACE_NULL_WITH_BODY,
            Step::Insert { demote: true, .. } => &versions::DEMOTE_AND_INSERT_VERSION_WITH_BODY,
            Step::Insert { demote: false, .. } => &versions::INSERT_VERSION_WITH_BODY,
        }
    }

    /// The rows each of its statements must change: the version's (and the latest it
    /// demotes), and its bytes'. Anything else means the rows changed since they were read.
    pub(crate) fn changes(&self) -> &'static [u64] {
        match self.step {
            Step::Insert { demote: true, .. } => &[1, 1, 1],
            Step::ReplaceNull | Step::Insert { demote: false, .. } => &[1, 1],
        }
    }

    /// Binds its statements' parameters after a query's others.
    pub(crate) fn bind<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        let NewBytes::Inline { id, bytes } = self.bytes else {
            unreachable!("planned for kept bytes only")
        };
        let query = query.bind(self.bucket).bind(self.object.key.as_bytes().to_vec());
        let query = match self.step {
            Step::ReplaceNull => query,
            Step::Insert { order, .. } => query.bind(&self.written.version_id).bind(order).bind(0_i64),
        };
        let query = versions::bind_contents(query, &self.object, Some(self.bytes), 0, self.last_modified);
        versions::bind_body(query, Some((id, bytes)))
    }
}
