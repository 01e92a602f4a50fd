//! Power cuts: Coffer's data dir (SQLite and object files) on coffer-lazyfs, which forgets
//! everything not fsynced when the power goes. Writers put, delete, complete uploads, add
//! versions and delete markers, and create and delete IAM users; at a random moment the
//! power goes and Coffer is killed. After the restart every acknowledged change is there and
//! whole, whatever was under way is there whole or not at all, and no file under blobs/ is
//! left that nothing names.
//!
//! The suite cuts the power a few times; `scripts/powerloss CYCLES` many times (it sets
//! `COFFER_POWERLOSS_CYCLES`; `COFFER_POWERLOSS_SEED` repeats a run's moments).

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketVersioningStatus, CompletedMultipartUpload, CompletedPart, VersioningConfiguration};

use crate::harness::Coffer;

const PLAIN: &str = "plain";
const VERSIONED: &str = "versioned";
const WRITERS: u64 = 6;
/// Keys per writer in the plain bucket: they are overwritten and deleted again and again.
const KEYS: u64 = 3;

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

/// A change a writer made, or was making when the power went.
#[derive(Clone, Debug)]
enum Change {
    /// In the plain bucket: a PUT, a DELETE or a completed multipart upload.
    Object {
        key: String,
        after: Object,
    },
    /// In the versioned bucket (an unacknowledged one has no id to look for).
    Version {
        key: String,
        id: String,
    },
    Marker {
        key: String,
        id: String,
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
    users: &mut Vec<String>,
    unsure: &mut Option<Change>,
) -> Result<Option<Change>, Failed> {
    let key = format!("w{writer}/k{}", i % KEYS);
    let seed = format!("c{cycle}-w{writer}-{i}");
    let size = size_for(i / 6);
    let versioned_key = format!("c{cycle}/w{writer}");
    Ok(match (writer + i) % 6 {
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
            let upload = s3
                .create_multipart_upload()
                .bucket(PLAIN)
                .key(&key)
                .metadata("seed", &seed)
                .send()
                .await?;
            let upload_id = upload.upload_id().unwrap_or_default();
            let part = s3
                .upload_part()
                .bucket(PLAIN)
                .key(&key)
                .upload_id(upload_id)
                .part_number(1)
                .body(ByteStream::from(content(&seed, size)))
                .send()
                .await?;
            *unsure = Some(Change::Object {
                key: key.clone(),
                after: Object::Holds {
                    seed: seed.clone(),
                    size,
                },
            });
            let parts = CompletedPart::builder()
                .part_number(1)
                .set_e_tag(part.e_tag().map(str::to_owned))
                .build();
            s3.complete_multipart_upload()
                .bucket(PLAIN)
                .key(&key)
                .upload_id(upload_id)
                .multipart_upload(CompletedMultipartUpload::builder().parts(parts).build())
                .send()
                .await?;
            unsure.take()
        }
        4 if i % 5 == 0 => {
            let out = s3.delete_object().bucket(VERSIONED).key(&versioned_key).send().await?;
            Some(Change::Marker {
                key: versioned_key,
                id: out.version_id().unwrap_or_default().to_owned(),
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
            Some(Change::Version {
                key: versioned_key,
                id: out.version_id().unwrap_or_default().to_owned(),
            })
        }
        _ => match users.pop() {
            Some(name) if i % 4 == 1 => {
                *unsure = Some(Change::User {
                    name: name.clone(),
                    exists: false,
                });
                iam.delete_user().user_name(&name).send().await?;
                unsure.take()
            }
            other => {
                users.extend(other);
                let name = format!("pl-{seed}");
                *unsure = Some(Change::User {
                    name: name.clone(),
                    exists: true,
                });
                iam.create_user().user_name(&name).send().await?;
                users.push(name);
                unsure.take()
            }
        },
    })
}

/// Writes until a request fails (the power went): what was acknowledged, and what was
/// under way.
async fn writer(s3: aws_sdk_s3::Client, iam: aws_sdk_iam::Client, cycle: u64, writer: u64) -> Outcome {
    let mut outcome = Outcome::default();
    let mut users = Vec::new();
    for i in 0.. {
        let mut unsure = None;
        match write(&s3, &iam, cycle, writer, i, &mut users, &mut unsure).await {
            Ok(change) => outcome.acknowledged.extend(change),
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
            _ => {}
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
            let now = iam.get_user().user_name(name).send().await.is_ok();
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
    let plain = s3.list_objects_v2().bucket(PLAIN).send().await.expect("list");
    named += plain.key_count().unwrap_or_default() as i64;
    let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
    loop {
        let page = s3
            .list_object_versions()
            .bucket(VERSIONED)
            .set_key_marker(key_marker)
            .set_version_id_marker(version_marker)
            .send()
            .await
            .expect("list versions");
        named += page.versions().len() as i64;
        if page.is_truncated() != Some(true) {
            break;
        }
        key_marker = page.next_key_marker().map(str::to_owned);
        version_marker = page.next_version_id_marker().map(str::to_owned);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_power_cuts() {
    let cycles: u64 = std::env::var("COFFER_POWERLOSS_CYCLES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(4);
    let seed: u64 = std::env::var("COFFER_POWERLOSS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos() as u64
                | 1
        });
    eprintln!("power cuts: seed {seed}");
    let mut moments = Moments(seed);
    let backing = tempfile::tempdir().unwrap();
    let mut coffer = Coffer::unstarted_sqlite();
    let mut mount =
        coffer_lazyfs::mount(backing.path(), coffer.data_dir()).expect("mount coffer-lazyfs (FUSE, as root)");
    coffer.start_again();
    let s3 = coffer.root_s3();
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

    let mut model = BTreeMap::new();
    let (mut acknowledged, mut found) = (0u64, Found::default());
    for cycle in 0..cycles {
        let (s3, iam) = (coffer.root_s3(), coffer.root_iam());
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| tokio::spawn(writer(s3.clone(), iam.clone(), cycle, w)))
            .collect();
        tokio::time::sleep(Duration::from_millis(moments.next_millis(300, 1500))).await;
        let lost = mount.cut().expect("cut the power");
        coffer.kill();
        let mut outcomes = Vec::new();
        for writer in writers {
            outcomes.push(writer.await.unwrap());
        }
        mount.unmount();
        mount = coffer_lazyfs::mount(backing.path(), coffer.data_dir()).expect("mount again");
        coffer.start_again();
        let done: usize = outcomes.iter().map(|o| o.acknowledged.len()).sum();
        eprintln!(
            "cut {}: {done} acknowledged, the cut undid {} files' bytes and {} names",
            cycle + 1,
            lost.files,
            lost.names
        );
        acknowledged += done as u64;

        let (s3, iam) = (coffer.root_s3(), coffer.root_iam());
        check_plain(&s3, &outcomes, &mut model, &mut found).await;
        check_versions(&s3, cycle, &outcomes, &mut found).await;
        check_users(&iam, &outcomes, &mut found).await;
        let orphans = orphans(&coffer, &s3).await;
        if orphans != 0 {
            eprintln!(
                "{orphans} files under blobs/ that nothing names after cut {}",
                cycle + 1
            );
            found.orphans += orphans;
        }
    }
    coffer.kill();
    mount.unmount();
    println!(
        "power cuts: {cycles}, acknowledged: {acknowledged}, lost: {}, torn: {}",
        found.lost, found.torn
    );
    assert!(
        acknowledged > cycles * 10,
        "too few writes between the cuts: {acknowledged}"
    );
    assert_eq!(
        (found.lost, found.torn),
        (0, 0),
        "acknowledged writes lost, or objects torn"
    );
    assert_eq!(found.orphans, 0, "files under blobs/ that nothing names");
}
