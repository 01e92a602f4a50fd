//! Faults under load: writers put, copy, delete, complete uploads (of one part and of two),
//! add versions, tag them, delete markers and object-lock retention, and create and delete
//! IAM users; at a random moment the
//! power goes (Coffer's data dir, SQLite and object files, on coffer-lazyfs, which forgets
//! everything not fsynced) or the process is killed (`kill -9`: one node, or one of two).
//! After the restart every acknowledged change is there and whole, whatever was under way
//! is there whole or not at all, and no file under blobs/ is left that nothing names.
//!
//! The suite runs a few cycles of each; `scripts/powerloss CYCLES` and `scripts/crash-cycles
//! CYCLES` many (they set `COFFER_FAULT_CYCLES`; `COFFER_FAULT_SEED` repeats a run's moments).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketVersioningStatus, CompletedMultipartUpload, CompletedPart, ObjectLockMode, Tag, Tagging,
    VersioningConfiguration,
};

use crate::harness::Coffer;

const PLAIN: &str = "plain";
const VERSIONED: &str = "versioned";
/// Object lock on: versions written with a retention date.
const LOCKED: &str = "locked";
const WRITERS: u64 = 6;
/// Keys per writer in the plain bucket: they are overwritten and deleted again and again.
const KEYS: u64 = 3;
/// S3's smallest part but the last: a two-part upload's first part.
const FIRST_PART: usize = 5 << 20;

/// The bytes of a write: derived from its seed (kept in the object's metadata), so any
/// object found can be checked on its own.
fn content(seed: &str, len: usize) -> Vec<u8> {
    seed.bytes().cycle().take(len).collect()
}

fn size_for(i: u64) -> usize {
    [1, 4096, 60_000, 300_000][(i % 4) as usize]
}

/// A small xorshift: the moments of the cuts, repeatable from the printed seed.
struct Moments(u64);

impl Moments {
    fn next_millis(&mut self, from: u64, to: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        from + self.0 % (to - from)
    }
}

/// What a key of the plain bucket holds.
#[derive(Clone, Debug, PartialEq)]
enum Object {
    Absent,
    Holds { seed: String, size: usize },
}

/// A change a writer made, or was making when the fault came.
#[derive(Clone, Debug)]
enum Change {
    /// In the plain bucket: a PUT, a copy, a DELETE or a completed multipart upload.
    Object {
        key: String,
        after: Object,
    },
    /// In the versioned bucket (an unacknowledged one has no id to look for).
    Version {
        key: String,
        id: String,
    },
    /// A version of the versioned bucket tagged `seed=value` (each is tagged once at most).
    Tagged {
        key: String,
        id: String,
        value: String,
    },
    Marker {
        key: String,
        id: String,
    },
    /// In the locked bucket: a version retained (governance mode) until `until` (seconds).
    Locked {
        key: String,
        id: String,
        until: i64,
    },
    User {
        name: String,
        exists: bool,
    },
}

/// One writer's cycle: what was acknowledged, and the change under way when it failed.
#[derive(Default)]
struct Outcome {
    acknowledged: Vec<Change>,
    unsure: Option<Change>,
}

type Failed = Box<dyn std::error::Error + Send + Sync>;

async fn write(
    s3: &aws_sdk_s3::Client,
    iam: &aws_sdk_iam::Client,
    cycle: u64,
    writer: u64,
    i: u64,
    mine: &mut Mine,
    unsure: &mut Option<Change>,
) -> Result<Option<Change>, Failed> {
    let key = format!("w{writer}/k{}", i % KEYS);
    let seed = format!("c{cycle}-w{writer}-{i}");
    let size = size_for(i / 6);
    let versioned_key = format!("c{cycle}/w{writer}");
    // Another of this writer's keys, and what this cycle left it holding.
    let source = format!("w{writer}/k{}", (i + 2) % KEYS);
    let copied = mine.held.get(&source).filter(|held| **held != Object::Absent).cloned();
    let change = match (writer + i) % 6 {
        // A copy, when the other key holds something.
        1 if copied.is_some() => {
            *unsure = copied.map(|after| Change::Object {
                key: key.clone(),
                after,
            });
            s3.copy_object()
                .bucket(PLAIN)
                .key(&key)
                .copy_source(format!("{PLAIN}/{source}"))
                .send()
                .await?;
            unsure.take()
        }
        0 | 1 => {
            *unsure = Some(Change::Object {
                key: key.clone(),
                after: Object::Holds {
                    seed: seed.clone(),
                    size,
                },
            });
            s3.put_object()
                .bucket(PLAIN)
                .key(&key)
                .metadata("seed", &seed)
                .body(ByteStream::from(content(&seed, size)))
                .send()
                .await?;
            unsure.take()
        }
        2 => {
            *unsure = Some(Change::Object {
                key: key.clone(),
                after: Object::Absent,
            });
            s3.delete_object().bucket(PLAIN).key(&key).send().await?;
            unsure.take()
        }
        3 => {
            // Every fourth upload has two parts: the first of S3's least size for a part
            // that is not the last, the second continuing the seed's bytes.
            let sizes = match (i / 6) % 4 {
                3 => vec![FIRST_PART, size],
                _ => vec![size],
            };
            let total: usize = sizes.iter().sum();
            let bytes = content(&seed, total);
            let upload = s3
                .create_multipart_upload()
                .bucket(PLAIN)
                .key(&key)
                .metadata("seed", &seed)
                .send()
                .await?;
            let upload_id = upload.upload_id().unwrap_or_default();
            let mut parts = Vec::new();
            let mut from = 0;
            for (number, len) in (1..).zip(sizes) {
                let part = s3
                    .upload_part()
                    .bucket(PLAIN)
                    .key(&key)
                    .upload_id(upload_id)
                    .part_number(number)
                    .body(ByteStream::from(bytes[from..from + len].to_vec()))
                    .send()
                    .await?;
                from += len;
                parts.push(
                    CompletedPart::builder()
                        .part_number(number)
                        .set_e_tag(part.e_tag().map(str::to_owned))
                        .build(),
                );
            }
            *unsure = Some(Change::Object {
                key: key.clone(),
                after: Object::Holds {
                    seed: seed.clone(),
                    size: total,
                },
            });
            s3.complete_multipart_upload()
                .bucket(PLAIN)
                .key(&key)
                .upload_id(upload_id)
                .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
                .send()
                .await?;
            unsure.take()
        }
        4 if i.is_multiple_of(5) => {
            let out = s3.delete_object().bucket(VERSIONED).key(&versioned_key).send().await?;
            Some(Change::Marker {
                key: versioned_key,
                id: out.version_id().unwrap_or_default().to_owned(),
            })
        }
        4 if i % 5 == 2 => {
            let until = aws_sdk_s3::primitives::DateTime::from_secs(1_900_000_000 + i as i64);
            let out = s3
                .put_object()
                .bucket(LOCKED)
                .key(&versioned_key)
                .metadata("seed", &seed)
                .object_lock_mode(ObjectLockMode::Governance)
                .object_lock_retain_until_date(until)
                .body(ByteStream::from(content(&seed, size)))
                .send()
                .await?;
            Some(Change::Locked {
                key: versioned_key,
                id: out.version_id().unwrap_or_default().to_owned(),
                until: until.secs(),
            })
        }
        4 => {
            let out = s3
                .put_object()
                .bucket(VERSIONED)
                .key(&versioned_key)
                .metadata("seed", &seed)
                .body(ByteStream::from(content(&seed, size)))
                .send()
                .await?;
            let id = out.version_id().unwrap_or_default().to_owned();
            mine.last_version = Some((versioned_key.clone(), id.clone()));
            Some(Change::Version { key: versioned_key, id })
        }
        // Tags the last version this writer added (once: a version is tagged at most once).
        // One slot in three: the others keep creating and deleting users.
        5 if i.is_multiple_of(3) && mine.last_version.is_some() => {
            let (key, id) = mine.last_version.take().unwrap_or_default();
            let value = seed.clone();
            s3.put_object_tagging()
                .bucket(VERSIONED)
                .key(&key)
                .version_id(&id)
                .tagging(
                    Tagging::builder()
                        .tag_set(Tag::builder().key("seed").value(&value).build()?)
                        .build()?,
                )
                .send()
                .await?;
            Some(Change::Tagged { key, id, value })
        }
        _ => match mine.users.pop() {
            Some(name) if i % 4 == 1 => {
                *unsure = Some(Change::User {
                    name: name.clone(),
                    exists: false,
                });
                iam.delete_user().user_name(&name).send().await?;
                unsure.take()
            }
            other => {
                mine.users.extend(other);
                let name = format!("pl-{seed}");
                *unsure = Some(Change::User {
                    name: name.clone(),
                    exists: true,
                });
                iam.create_user().user_name(&name).send().await?;
                mine.users.push(name);
                unsure.take()
            }
        },
    };
    if let Some(Change::Object { key, after }) = &change {
        mine.held.insert(key.clone(), after.clone());
    }
    Ok(change)
}

/// What a writer knows of its own writes in this cycle, all acknowledged.
#[derive(Default)]
struct Mine {
    /// Its plain keys' states.
    held: BTreeMap<String, Object>,
    /// The last version it added, not tagged yet.
    last_version: Option<(String, String)>,
    /// The users it created and has not deleted.
    users: Vec<String>,
}

/// Writes until a request fails (the power went, the node died) or `stop` is set: what was
/// acknowledged (counted in `acks` as it goes), and what was under way.
async fn writer(clients: Clients, cycle: u64, writer: u64, stop: Arc<AtomicBool>, acks: Arc<AtomicU64>) -> Outcome {
    let Clients { s3, iam } = clients;
    let mut outcome = Outcome::default();
    let mut mine = Mine::default();
    for i in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let mut unsure = None;
        match write(&s3, &iam, cycle, writer, i, &mut mine, &mut unsure).await {
            Ok(change) => {
                outcome.acknowledged.extend(change);
                acks.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {
                outcome.unsure = unsure;
                return outcome;
            }
        }
    }
    outcome
}

/// What the checks after the restarts found.
#[derive(Default)]
struct Found {
    lost: u64,
    torn: u64,
    /// Files under blobs/ that nothing names.
    orphans: i64,
}

impl Found {
    fn lost(&mut self, what: String) {
        eprintln!("lost: {what}");
        self.lost += 1;
    }

    fn torn(&mut self, what: String) {
        eprintln!("torn: {what}");
        self.torn += 1;
    }
}

/// A whole object as found: its seed and size, or torn (its bytes are not its seed's).
async fn read_whole(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> Result<Object, String> {
    let got = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .set_version_id(version_id.map(str::to_owned))
        .send()
        .await;
    let got = match got {
        Ok(got) => got,
        Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Ok(Object::Absent),
        Err(err) => return Err(format!("{bucket}/{key} {version_id:?} does not read: {err:?}")),
    };
    let seed = got.metadata().and_then(|m| m.get("seed")).cloned().unwrap_or_default();
    let bytes = got
        .body
        .collect()
        .await
        .map_err(|err| format!("{bucket}/{key}: body cut short: {err}"))?
        .into_bytes();
    if bytes.as_ref() != content(&seed, bytes.len()).as_slice() || bytes.is_empty() {
        return Err(format!(
            "{bucket}/{key} {version_id:?}: {} bytes not seed {seed:?}'s",
            bytes.len()
        ));
    }
    Ok(Object::Holds {
        seed,
        size: bytes.len(),
    })
}

/// The plain bucket's keys: each holds its last acknowledged state, or what the change under
/// way on it would have made. Moves `model` on to what was found.
async fn check_plain(
    s3: &aws_sdk_s3::Client,
    outcomes: &[Outcome],
    model: &mut BTreeMap<String, Object>,
    found: &mut Found,
) {
    let mut unsure: BTreeMap<String, Object> = BTreeMap::new();
    for outcome in outcomes {
        for change in &outcome.acknowledged {
            if let Change::Object { key, after } = change {
                model.insert(key.clone(), after.clone());
            }
        }
        if let Some(Change::Object { key, after }) = &outcome.unsure {
            unsure.insert(key.clone(), after.clone());
        }
    }
    for writer in 0..WRITERS {
        for k in 0..KEYS {
            let key = format!("w{writer}/k{k}");
            let acknowledged = model.get(&key).cloned().unwrap_or(Object::Absent);
            let now = match read_whole(s3, PLAIN, &key, None).await {
                Ok(now) => now,
                Err(why) => {
                    found.torn(why);
                    continue;
                }
            };
            if now != acknowledged && unsure.get(&key) != Some(&now) {
                found.lost(format!("{PLAIN}/{key}: {now:?}, acknowledged {acknowledged:?}"));
            }
            model.insert(key, now);
        }
    }
}

/// This cycle's versions: every acknowledged version and delete marker is listed, and every
/// listed version (acknowledged or not) reads whole.
async fn check_versions(s3: &aws_sdk_s3::Client, cycle: u64, outcomes: &[Outcome], found: &mut Found) {
    let listed = s3
        .list_object_versions()
        .bucket(VERSIONED)
        .prefix(format!("c{cycle}/"))
        .send()
        .await
        .expect("list versions");
    assert_ne!(listed.is_truncated(), Some(true), "one page holds a cycle's versions");
    for version in listed.versions() {
        let (key, id) = (
            version.key().unwrap_or_default(),
            version.version_id().unwrap_or_default(),
        );
        if let Err(why) = read_whole(s3, VERSIONED, key, Some(id)).await {
            found.torn(why);
        }
    }
    for change in outcomes.iter().flat_map(|o| &o.acknowledged) {
        match change {
            Change::Version { key, id } if !listed.versions().iter().any(|v| v.version_id() == Some(id)) => {
                found.lost(format!("version {key} {id}"));
            }
            Change::Marker { key, id } if !listed.delete_markers().iter().any(|m| m.version_id() == Some(id)) => {
                found.lost(format!("delete marker {key} {id}"));
            }
            Change::Tagged { key, id, value } => {
                let tags = s3
                    .get_object_tagging()
                    .bucket(VERSIONED)
                    .key(key)
                    .version_id(id)
                    .send()
                    .await;
                let got = tags
                    .ok()
                    .and_then(|t| t.tag_set().first().map(|t| (t.key().to_owned(), t.value().to_owned())));
                if got != Some(("seed".to_owned(), value.clone())) {
                    found.lost(format!(
                        "tags of version {key} {id}: {got:?}, acknowledged seed={value}"
                    ));
                }
            }
            _ => {}
        }
    }
}

/// This cycle's retained versions: each acknowledged one is there, whole, with its
/// retention, and cannot be deleted without bypassing governance; every listed one reads
/// whole.
async fn check_locked(s3: &aws_sdk_s3::Client, cycle: u64, outcomes: &[Outcome], found: &mut Found) {
    let listed = s3
        .list_object_versions()
        .bucket(LOCKED)
        .prefix(format!("c{cycle}/"))
        .send()
        .await
        .expect("list versions");
    for version in listed.versions() {
        let (key, id) = (
            version.key().unwrap_or_default(),
            version.version_id().unwrap_or_default(),
        );
        if let Err(why) = read_whole(s3, LOCKED, key, Some(id)).await {
            found.torn(why);
        }
    }
    for change in outcomes.iter().flat_map(|o| &o.acknowledged) {
        let Change::Locked { key, id, until } = change else {
            continue;
        };
        let head = s3.head_object().bucket(LOCKED).key(key).version_id(id).send().await;
        let retained = head.as_ref().ok().map(|h| {
            (
                h.object_lock_mode().cloned(),
                h.object_lock_retain_until_date().map(|d| d.secs()),
            )
        });
        if retained != Some((Some(ObjectLockMode::Governance), Some(*until))) {
            found.lost(format!("retained version {key} {id}: {retained:?}"));
            continue;
        }
        let deleted = s3.delete_object().bucket(LOCKED).key(key).version_id(id).send().await;
        if deleted.is_ok() {
            found.lost(format!("retained version {key} {id} was deleted without bypass"));
        }
    }
}

/// IAM users: each acknowledged creation or deletion holds, unless the change under way
/// undid it.
async fn check_users(iam: &aws_sdk_iam::Client, outcomes: &[Outcome], found: &mut Found) {
    for outcome in outcomes {
        let mut last: BTreeMap<&str, bool> = BTreeMap::new();
        for change in &outcome.acknowledged {
            if let Change::User { name, exists } = change {
                last.insert(name, *exists);
            }
        }
        let unsure = match &outcome.unsure {
            Some(Change::User { name, exists }) => Some((name.as_str(), *exists)),
            _ => None,
        };
        for (name, exists) in last {
            let now = match iam.get_user().user_name(name).send().await {
                Ok(_) => true,
                Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_entity_exception()) => false,
                Err(err) => panic!("GetUser {name}: {err:?}"),
            };
            if now != exists && unsure != Some((name, now)) {
                found.lost(format!("user {name}: exists {now}, acknowledged {exists}"));
            }
        }
    }
}

/// Files under blobs/ that nothing names: every current object, version and uploaded part
/// has one file, and nothing else may be there.
async fn orphans(coffer: &Coffer, s3: &aws_sdk_s3::Client) -> i64 {
    let mut named = 0i64;
    // A multipart object keeps a file per part.
    let plain = s3.list_objects_v2().bucket(PLAIN).send().await.expect("list");
    for object in plain.contents() {
        let head = s3
            .head_object()
            .bucket(PLAIN)
            .key(object.key().unwrap_or_default())
            .part_number(1)
            .send()
            .await
            .expect("head");
        let size = object.size().unwrap_or_default() as usize;
        named += match head.parts_count() {
            Some(parts) => i64::from(parts),
            None => i64::from(Coffer::has_blob_file(size)),
        };
    }
    for bucket in [VERSIONED, LOCKED] {
        let versions = crate::crash::every_version(s3, bucket).await.0;
        named += versions
            .iter()
            .filter(|(_, _, size)| Coffer::has_blob_file(*size))
            .count() as i64;
    }
    let uploads = s3
        .list_multipart_uploads()
        .bucket(PLAIN)
        .send()
        .await
        .expect("list uploads");
    for upload in uploads.uploads() {
        let parts = s3
            .list_parts()
            .bucket(PLAIN)
            .key(upload.key().unwrap_or_default())
            .upload_id(upload.upload_id().unwrap_or_default())
            .send()
            .await
            .expect("list parts");
        named += parts.parts().len() as i64;
    }
    coffer.blob_files().len() as i64 - named
}

/// How each cycle ends.
#[derive(Clone, Copy, PartialEq)]
enum Fault {
    /// The power goes under the data dir (coffer-lazyfs), then the process is killed.
    PowerCut,
    /// `kill -9`.
    Kill,
}

#[derive(Clone)]
struct Clients {
    s3: aws_sdk_s3::Client,
    iam: aws_sdk_iam::Client,
}

impl Clients {
    fn of(coffer: &Coffer) -> Clients {
        Clients {
            s3: coffer.root_s3(),
            iam: coffer.root_iam(),
        }
    }
}

/// The servers under test: the one each fault hits and, on two nodes, the one that keeps
/// serving.
struct Rig {
    /// For power cuts: the mount over the victim's data dir and its backing dir (first, so
    /// a failing test unmounts before anything else goes).
    lazy: Option<(coffer_lazyfs::Mount, tempfile::TempDir)>,
    victim: Coffer,
    survivor: Option<Coffer>,
}

/// `COFFER_FAULT_CYCLES`, else the suite's `default`.
fn cycles_wanted(default: u64) -> u64 {
    std::env::var("COFFER_FAULT_CYCLES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default)
}

async fn make_buckets(s3: &aws_sdk_s3::Client) {
    s3.create_bucket().bucket(PLAIN).send().await.unwrap();
    s3.create_bucket().bucket(VERSIONED).send().await.unwrap();
    s3.put_bucket_versioning()
        .bucket(VERSIONED)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    s3.create_bucket()
        .bucket(LOCKED)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap();
}

/// Runs `cycles` cycles of load, each ended by `fault`, checks everything after each
/// restart, and ends with the line `{name}: N, acknowledged: A, lost: L, torn: T`.
async fn run(mut rig: Rig, fault: Fault, cycles: u64, name: &str) {
    let seed: u64 = std::env::var("COFFER_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos() as u64
                | 1
        });
    eprintln!("{name}: seed {seed}");
    let mut moments = Moments(seed);
    make_buckets(&rig.victim.root_s3()).await;
    let mut model = BTreeMap::new();
    let (mut acknowledged, mut found) = (0u64, Found::default());
    let mut undone = coffer_lazyfs::Lost::default();
    for cycle in 0..cycles {
        let stop = Arc::new(AtomicBool::new(false));
        let on_victim = Clients::of(&rig.victim);
        let on_survivor = rig.survivor.as_ref().map(Clients::of);
        let mut survivor_acks = Vec::new();
        let mut survivor_writers = Vec::new();
        let mut writers = Vec::new();
        for w in 0..WRITERS {
            let acks = Arc::new(AtomicU64::new(0));
            let clients = match &on_survivor {
                Some(clients) if w % 2 == 1 => {
                    survivor_acks.push(acks.clone());
                    survivor_writers.push(writers.len());
                    clients.clone()
                }
                _ => on_victim.clone(),
            };
            writers.push(tokio::spawn(writer(clients, cycle, w, stop.clone(), acks)));
        }
        tokio::time::sleep(Duration::from_millis(moments.next_millis(300, 1500))).await;
        let lost = match (&rig.lazy, fault) {
            (Some((mount, _)), Fault::PowerCut) => Some(mount.cut().expect("cut the power")),
            _ => None,
        };
        rig.victim.kill();
        if !survivor_acks.is_empty() {
            let acks = || survivor_acks.iter().map(|a| a.load(Ordering::Relaxed)).sum::<u64>();
            // Each writer may yet finish one request begun before the kill, so one ack more
            // than there are writers means a request begun after it was answered. No time
            // limit of a request's own: a 5 MiB part on a loaded machine takes seconds.
            let wanted = acks() + survivor_acks.len() as u64 + 1;
            // A writer stops at its first failed request: once all have, nothing more comes.
            let all_stopped = || survivor_writers.iter().all(|&w| writers[w].is_finished());
            let waited = tokio::time::timeout(Duration::from_secs(60), async {
                while acks() < wanted && !all_stopped() {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
            .await;
            assert!(
                waited.is_ok() && acks() >= wanted,
                "the other node stopped answering after kill {}",
                cycle + 1
            );
        }
        stop.store(true, Ordering::Relaxed);
        let mut outcomes = Vec::new();
        for writer in writers {
            outcomes.push(writer.await.unwrap());
        }
        if let Some((mount, backing)) = rig.lazy.take() {
            mount.unmount();
            let mount = coffer_lazyfs::mount(backing.path(), rig.victim.data_dir()).expect("mount again");
            rig.lazy = Some((mount, backing));
        }
        rig.victim.start_again();
        let done: usize = outcomes.iter().map(|o| o.acknowledged.len()).sum();
        let said = lost.map_or(String::new(), |lost| {
            undone.add(lost);
            format!(", the cut undid {lost}")
        });
        eprintln!("{name} {}: {done} acknowledged{said}", cycle + 1);
        acknowledged += done as u64;

        let Clients { s3, iam } = Clients::of(&rig.victim);
        check_plain(&s3, &outcomes, &mut model, &mut found).await;
        check_versions(&s3, cycle, &outcomes, &mut found).await;
        check_locked(&s3, cycle, &outcomes, &mut found).await;
        check_users(&iam, &outcomes, &mut found).await;
        // A data dir shared by two nodes keeps unnamed files for a grace period by design
        // (another node may be about to name them): orphans are counted on one node only.
        let orphans = if rig.survivor.is_none() {
            orphans(&rig.victim, &s3).await
        } else {
            0
        };
        if orphans > 0 {
            eprintln!(
                "{orphans} files under blobs/ that nothing names after {name} {}",
                cycle + 1
            );
            found.orphans += orphans;
        } else if orphans < 0 {
            // Fewer files than objects, versions and uploaded parts name: say, a part
            // acknowledged and never read back whose file is gone.
            found.lost(format!(
                "{} named blobs have no file after {name} {}",
                -orphans,
                cycle + 1
            ));
        }
    }
    rig.victim.kill();
    if let Some((mount, _backing)) = rig.lazy.take() {
        mount.unmount();
    }
    if fault == Fault::PowerCut {
        eprintln!("{name}: in all, the cuts undid {undone}");
    }
    println!(
        "{name}: {cycles}, acknowledged: {acknowledged}, lost: {}, torn: {}",
        found.lost, found.torn
    );
    assert!(
        acknowledged > cycles * 10,
        "too few writes between the faults: {acknowledged}"
    );
    assert_eq!(
        (found.lost, found.torn),
        (0, 0),
        "acknowledged writes lost, or objects torn"
    );
    assert_eq!(found.orphans, 0, "files under blobs/ that nothing names");
    if fault == Fault::PowerCut {
        // Else the data dir was not on the file system that loses things.
        assert!(undone.files + undone.names() > 0, "the power cuts undid nothing");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_power_cuts() {
    let backing = tempfile::tempdir().unwrap();
    let mut victim = Coffer::unstarted_sqlite();
    let mount = coffer_lazyfs::mount(backing.path(), victim.data_dir()).expect("mount coffer-lazyfs (FUSE, as root)");
    victim.start_again();
    let rig = Rig {
        lazy: Some((mount, backing)),
        victim,
        survivor: None,
    };
    run(rig, Fault::PowerCut, cycles_wanted(4), "power cuts").await;
}

/// On SQLite, and on PostgreSQL in the suite's PostgreSQL run.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_kill_9_cycles() {
    let rig = Rig {
        lazy: None,
        victim: Coffer::start(),
        survivor: None,
    };
    run(rig, Fault::Kill, cycles_wanted(3), "kill -9 cycles").await;
}

/// Two nodes on one PostgreSQL database and data dir: one is killed mid-write, the other
/// goes on answering, and nothing acknowledged by either is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_killed_mid_write_loses_nothing_while_the_other_serves() {
    let (victim, survivor) = Coffer::start_two_nodes();
    let rig = Rig {
        lazy: None,
        victim,
        survivor: Some(survivor),
    };
    run(rig, Fault::Kill, cycles_wanted(2), "node kills").await;
}
