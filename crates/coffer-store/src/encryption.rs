//! Objects encrypted at rest: a blob of an encrypted object is its bytes cut into segments of
//! [`SEGMENT`] bytes, each sealed with AES-256-GCM. Each blob is sealed under a key of its own,
//! derived from the object's data key and the blob's id ([`BlobKey`]), so no two blobs ever
//! share a (key, nonce): not the objects a customer writes with one SSE-C key, not a part
//! uploaded twice, not a blob moved under another id (it no longer opens). A segment's nonce is
//! its index; its associated data says whether it is the last, so segments cannot be reordered
//! or cut off at a segment boundary without the read failing (the STREAM construction).

use std::ops::Range;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use serde::{Deserialize, Serialize};

/// Plain bytes per segment.
pub const SEGMENT: u64 = 64 * 1024;
/// What sealing adds to each segment.
pub const TAG: u64 = 16;

/// A 256-bit data key (an object's, or an SSE-C customer's).
#[derive(Clone)]
pub struct DataKey(pub [u8; 32]);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl DataKey {
    pub fn random() -> DataKey {
        use rand::Rng;
        DataKey(rand::rng().random())
    }

    /// The key blob `blob_id` of the object is sealed under.
    pub fn for_blob(&self, blob_id: &str) -> BlobKey {
        use hmac::Mac;
        let mut mac =
            <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(b"coffer blob key v1\0");
        mac.update(blob_id.as_bytes());
        let key: [u8; 32] = mac.finalize().into_bytes().into();
        let key = UnboundKey::new(&AES_256_GCM, &key).expect("a 32-byte key is an AES-256 key");
        BlobKey(std::sync::Arc::new(LessSafeKey::new(key)))
    }
}

/// One blob's cipher, ready to seal or open its segments (cheap to clone). ring's AES-GCM:
/// its stitched AES-NI/CLMUL code opens segments about twice as fast as a portable one, which
/// a GET of an encrypted object is bound by.
#[derive(Clone)]
pub struct BlobKey(std::sync::Arc<LessSafeKey>);

impl std::fmt::Debug for BlobKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlobKey(..)")
    }
}

/// How many segments hold `plain` bytes: an empty blob still has one (empty) last segment.
pub fn segment_count(plain: u64) -> u64 {
    plain.div_ceil(SEGMENT).max(1)
}

/// The size of the blob that holds `plain` bytes.
pub fn sealed_len(plain: u64) -> u64 {
    plain + segment_count(plain) * TAG
}

/// A segment's nonce: its index. Unique per key, since each blob has a key of its own.
fn nonce(index: u64) -> Nonce {
    let mut nonce = [0u8; 12];
    nonce[4..].copy_from_slice(&index.to_be_bytes());
    Nonce::assume_unique_for_key(nonce)
}

fn aad(last: bool) -> [u8; 1] {
    [u8::from(last)]
}

/// Seals a stream of plain bytes into segments.
pub struct Sealing {
    key: BlobKey,
    index: u64,
    pending: Vec<u8>,
}

impl Sealing {
    pub fn new(key: BlobKey) -> Sealing {
        Sealing {
            key,
            index: 0,
            pending: Vec::with_capacity(SEGMENT as usize + TAG as usize),
        }
    }

    /// Takes `plain`, appending to `out` every segment it completes. A full segment is held
    /// back until more bytes come: only [`Sealing::finish`] knows which segment is last.
    pub fn push(&mut self, mut plain: &[u8], out: &mut Vec<u8>) {
        while !plain.is_empty() {
            if self.pending.len() == SEGMENT as usize {
                self.seal_pending(false, out);
            }
            let room = SEGMENT as usize - self.pending.len();
            let taken = room.min(plain.len());
            self.pending.extend_from_slice(&plain[..taken]);
            plain = &plain[taken..];
        }
    }

    /// Seals the last segment into `out`.
    pub fn finish(mut self, out: &mut Vec<u8>) {
        self.seal_pending(true, out);
    }

    fn seal_pending(&mut self, last: bool, out: &mut Vec<u8>) {
        let tag = self
            .key
            .0
            .seal_in_place_separate_tag(nonce(self.index), Aad::from(aad(last)), &mut self.pending)
            .expect("a segment is far below AES-GCM's limit");
        out.extend_from_slice(&self.pending);
        out.extend_from_slice(tag.as_ref());
        self.pending.clear();
        self.index += 1;
    }
}

/// Where the sealed segments holding plain `range` of a blob of `plain_len` bytes lie: the
/// blob's byte range to read, the first segment's index, and where `range` starts in the
/// first opened segment.
pub fn sealed_span(range: &Range<u64>, plain_len: u64) -> (Range<u64>, u64, u64) {
    let first = range.start / SEGMENT;
    let last = if range.end == 0 { 0 } else { (range.end - 1) / SEGMENT };
    let last = last.max(first).min(segment_count(plain_len) - 1);
    let start = first * (SEGMENT + TAG);
    let end = ((last + 1) * (SEGMENT + TAG)).min(sealed_len(plain_len));
    (start..end, first, range.start - first * SEGMENT)
}

/// Opens segment `index` (of a blob whose plain length is `plain_len`) in place.
pub fn open_segment(key: &BlobKey, index: u64, plain_len: u64, sealed: &mut Vec<u8>) -> Result<(), SegmentError> {
    let plain = open_segment_in_place(key, index, plain_len, sealed)?;
    sealed.truncate(plain);
    Ok(())
}

/// Opens segment `index` in place in a slice; its plain bytes are the first of them, and how
/// many is returned.
pub fn open_segment_in_place(
    key: &BlobKey,
    index: u64,
    plain_len: u64,
    sealed: &mut [u8],
) -> Result<usize, SegmentError> {
    let last = index + 1 == segment_count(plain_len);
    if (sealed.len() as u64) < TAG {
        return Err(SegmentError);
    }
    let plain = key
        .0
        .open_in_place(nonce(index), Aad::from(aad(last)), sealed)
        .map_err(|_| SegmentError)?;
    Ok(plain.len())
}

/// A segment that does not open: the wrong key, or bytes changed on disk.
#[derive(Debug, PartialEq, Eq)]
pub struct SegmentError;

/// How a version (or an upload's object) is encrypted at rest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Encryption {
    /// SSE-S3: the object's own data key, sealed under the master key.
    S3 { sealed_key: Vec<u8> },
    /// SSE-C: a salted keyed digest of the customer's key (never the key itself, nor its
    /// MD5, which would let a copy of the database test guesses without the master key).
    Customer { key_digest: Vec<u8> },
    /// SSE-KMS: the object's own data key, sealed under a key of Coffer's key ring.
    Kms { sealed_key: Vec<u8>, kms: KmsUse },
}

/// What an SSE-KMS object keeps of its KMS key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KmsUse {
    /// The key's ARN.
    pub key_arn: String,
    /// The encryption context (JSON of string pairs, as S3 reports it base64-encoded), bound
    /// into the sealed data key: the key opens only with the same context.
    pub context: Option<String>,
    /// S3 Bucket Keys, as asked for.
    pub bucket_key: bool,
}

impl Encryption {
    /// `x-amz-server-side-encryption`'s value, or SSE-C's marker in the `sse` column.
    pub fn algorithm(&self) -> &'static str {
        match self {
            Encryption::S3 { .. } => "AES256",
            Encryption::Customer { .. } => "SSE-C",
            Encryption::Kms { .. } => "aws:kms",
        }
    }

    /// The `sse`, `sse_key` and `sse_kms` columns.
    pub(crate) fn columns(encryption: Option<&Encryption>) -> (Option<&'static str>, Option<Vec<u8>>, Option<String>) {
        match encryption {
            None => (None, None, None),
            Some(Encryption::S3 { sealed_key }) => (Some("AES256"), Some(sealed_key.clone()), None),
            Some(Encryption::Customer { key_digest }) => (Some("SSE-C"), Some(key_digest.clone()), None),
            Some(Encryption::Kms { sealed_key, kms }) => (
                Some("aws:kms"),
                Some(sealed_key.clone()),
                Some(serde_json::to_string(kms).expect("KmsUse serializes")),
            ),
        }
    }

    pub(crate) fn from_row(row: &sqlx::any::AnyRow) -> crate::Result<Option<Encryption>> {
        use sqlx::Row;
        let algorithm: Option<String> = row.try_get("sse")?;
        let key: Option<Vec<u8>> = row.try_get("sse_key")?;
        let corrupt = || crate::StoreError::Corrupt("an object's encryption");
        Ok(match algorithm.as_deref() {
            None => None,
            Some("AES256") => Some(Encryption::S3 {
                sealed_key: key.ok_or_else(corrupt)?,
            }),
            Some("SSE-C") => Some(Encryption::Customer {
                key_digest: key.ok_or_else(corrupt)?,
            }),
            Some("aws:kms") => {
                let kms: Option<String> = row.try_get("sse_kms")?;
                Some(Encryption::Kms {
                    sealed_key: key.ok_or_else(corrupt)?,
                    kms: serde_json::from_str(&kms.ok_or_else(corrupt)?).map_err(|_| corrupt())?,
                })
            }
            Some(_) => return Err(corrupt()),
        })
    }
}

/// What a bucket encrypts new objects with when a write asks for nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketEncryption {
    /// `AES256` (SSE-S3) or `aws:kms` (SSE-KMS).
    pub algorithm: String,
    /// S3 Bucket Keys, as asked for; they change nothing but the answer.
    pub bucket_key_enabled: bool,
    /// SSE-KMS's key, as the configuration names it (an id, ARN or alias; none: the account's
    /// AWS managed key `aws/s3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_master_key_id: Option<String>,
}

impl BucketEncryption {
    /// SSE-S3, AWS's default for every bucket since January 2023.
    pub fn sse_s3() -> BucketEncryption {
        BucketEncryption {
            algorithm: "AES256".to_owned(),
            bucket_key_enabled: false,
            kms_master_key_id: None,
        }
    }
}

pub(crate) fn bucket_encryption_from_json(column: Option<String>) -> crate::Result<Option<BucketEncryption>> {
    column
        .map(|json| serde_json::from_str(&json).map_err(|_| crate::StoreError::Corrupt("a bucket's encryption")))
        .transpose()
}

impl crate::Store {
    /// Sets (with `None`, removes) a bucket's default encryption.
    pub async fn set_bucket_encryption(&self, name: &str, encryption: Option<&BucketEncryption>) -> crate::Result<()> {
        let json = encryption.map(|e| serde_json::to_string(e).unwrap_or_default());
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query("UPDATE buckets SET encryption = $2 WHERE name = $1")
            .bind(name)
            .bind(json)
            .execute(&mut *tx)
            .await?;
        if updated.rows_affected() == 0 {
            return Err(crate::StoreError::NoSuchBucket);
        }
        self.commit_changed(tx, crate::epochs::Cache::Buckets).await
    }

    /// Seals an SSE-S3 object's data key under a key-encryption key derived from the master
    /// key, bound to its bucket and key (a sealed key moved to another key's row does not open).
    pub fn seal_data_key(&self, bucket: &str, key: &str, data_key: &DataKey) -> Vec<u8> {
        self.sealer().seal_data_key(&data_key_binding(bucket, key), &data_key.0)
    }

    /// Opens what [`crate::Store::seal_data_key`] sealed for the same object.
    pub fn open_data_key(&self, bucket: &str, key: &str, sealed: &[u8]) -> crate::Result<DataKey> {
        let bytes = self.sealer().open_data_key(&data_key_binding(bucket, key), sealed)?;
        Ok(DataKey(bytes.try_into().map_err(|_| crate::StoreError::SealBroken)?))
    }
}

fn data_key_binding(bucket: &str, key: &str) -> String {
    format!("sse-s3|{bucket}|{key}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal(key: &DataKey, blob: &str, plain: &[u8], chunk: usize) -> Vec<u8> {
        let mut sealing = Sealing::new(key.for_blob(blob));
        let mut out = Vec::new();
        for piece in plain.chunks(chunk.max(1)) {
            sealing.push(piece, &mut out);
        }
        sealing.finish(&mut out);
        out
    }

    fn open_range(
        key: &DataKey,
        blob: &str,
        sealed: &[u8],
        plain_len: u64,
        range: Range<u64>,
    ) -> Result<Vec<u8>, SegmentError> {
        let key = key.for_blob(blob);
        let (span, first, skip) = sealed_span(&range, plain_len);
        let mut plain = Vec::new();
        for (i, chunk) in sealed[span.start as usize..span.end as usize]
            .chunks((SEGMENT + TAG) as usize)
            .enumerate()
        {
            let mut segment = chunk.to_vec();
            open_segment(&key, first + i as u64, plain_len, &mut segment)?;
            plain.extend_from_slice(&segment);
        }
        Ok(plain[skip as usize..skip as usize + (range.end - range.start) as usize].to_vec())
    }

    #[test]
    fn segments_seal_and_open_any_range_however_the_bytes_arrived() {
        let key = DataKey::random();
        for len in [0u64, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT + 17] {
            let plain: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            for chunk in [1000usize, SEGMENT as usize, 7 * 1024 * 1024] {
                let sealed = seal(&key, "b1", &plain, chunk);
                assert_eq!(sealed.len() as u64, sealed_len(len), "len {len}");
                assert!(
                    len < 16 || !sealed.windows(16).any(|w| w == &plain[..16]),
                    "no plain text on disk"
                );
                for range in [
                    0..len,
                    0..len.min(1),
                    len / 2..len,
                    len.saturating_sub(SEGMENT + 3)..len,
                ] {
                    let opened = open_range(&key, "b1", &sealed, len, range.clone()).unwrap();
                    assert_eq!(
                        opened,
                        plain[range.start as usize..range.end as usize],
                        "len {len} {range:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_wrong_key_a_moved_segment_or_a_cut_blob_fail_to_open() {
        let key = DataKey::random();
        let plain = vec![7u8; (2 * SEGMENT) as usize];
        let sealed = seal(&key, "b1", &plain, 4096);
        let len = plain.len() as u64;
        assert!(open_range(&DataKey::random(), "b1", &sealed, len, 0..10).is_err());
        assert!(
            open_range(&key, "b2", &sealed, len, 0..10).is_err(),
            "moved under another blob id"
        );
        // Cut after the first segment, and told the blob ends there: its last flag is wrong.
        let cut = &sealed[..(SEGMENT + TAG) as usize];
        assert!(open_range(&key, "b1", cut, SEGMENT, 0..10).is_err());
        let mut flipped = sealed.clone();
        flipped[5] ^= 1;
        assert!(open_range(&key, "b1", &flipped, len, 0..10).is_err());
        // One key, one plaintext, two blobs: nothing in common on disk.
        let again = seal(&key, "b2", &plain, 4096);
        let same = sealed.iter().zip(&again).filter(|(a, b)| a == b).count();
        assert!(same < sealed.len() / 100, "{same} bytes alike");
    }
}
