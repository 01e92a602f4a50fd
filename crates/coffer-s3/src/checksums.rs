//! S3's additional checksums (CRC32, CRC32C, CRC64NVME, SHA1, SHA256) and the MD5 ETag:
//! computing them while bytes stream past, and combining part checksums into an object's.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use crc_fast::{CrcAlgorithm, Digest as CrcDigest};
use s3s::crypto::{Checksum, Md5, Sha1, Sha256};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

pub const FULL_OBJECT: &str = "FULL_OBJECT";
pub const COMPOSITE: &str = "COMPOSITE";

impl Algorithm {
    pub const ALL: [Algorithm; 5] = [
        Algorithm::Crc32,
        Algorithm::Crc32c,
        Algorithm::Crc64Nvme,
        Algorithm::Sha1,
        Algorithm::Sha256,
    ];

    /// The name S3 uses in `ChecksumAlgorithm`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "CRC32",
            Algorithm::Crc32c => "CRC32C",
            Algorithm::Crc64Nvme => "CRC64NVME",
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
        }
    }

    /// Parses a `ChecksumAlgorithm` value (S3 accepts any case).
    pub fn parse(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// The `x-amz-checksum-…` header (and trailer) carrying this algorithm's value.
    pub fn header(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "x-amz-checksum-crc32",
            Algorithm::Crc32c => "x-amz-checksum-crc32c",
            Algorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Algorithm::Sha1 => "x-amz-checksum-sha1",
            Algorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    fn crc(self) -> Option<CrcAlgorithm> {
        match self {
            Algorithm::Crc32 => Some(CrcAlgorithm::Crc32IsoHdlc),
            Algorithm::Crc32c => Some(CrcAlgorithm::Crc32Iscsi),
            Algorithm::Crc64Nvme => Some(CrcAlgorithm::Crc64Nvme),
            Algorithm::Sha1 | Algorithm::Sha256 => None,
        }
    }

    /// Whether a multipart object can carry this algorithm as a full-object checksum
    /// (only CRCs combine without the bytes).
    pub fn combines(self) -> bool {
        self.crc().is_some()
    }

    fn width(self) -> usize {
        match self {
            Algorithm::Crc32 | Algorithm::Crc32c => 4,
            Algorithm::Crc64Nvme => 8,
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
        }
    }
}

enum Running {
    Crc(CrcDigest),
    Sha1(Sha1),
    Sha256(Sha256),
}

/// The MD5 of `bytes` (an SSE-C key's, which requests name by it).
pub fn md5(bytes: &[u8]) -> [u8; 16] {
    let mut md5 = Md5::new();
    md5.update(bytes);
    md5.finalize()
}

/// Hashes bytes as they pass: always MD5 (the ETag), plus the chosen algorithms.
pub struct Hashes {
    md5: Md5,
    running: Vec<(Algorithm, Running)>,
}

/// What [`Hashes`] computed: the MD5 and each algorithm's value, raw.
#[derive(Clone, Debug)]
pub struct Digests {
    pub md5: [u8; 16],
    values: Vec<(Algorithm, Vec<u8>)>,
}

impl Hashes {
    pub fn new(algorithms: &[Algorithm]) -> Hashes {
        let mut running: Vec<(Algorithm, Running)> = Vec::new();
        for &algorithm in algorithms {
            if running.iter().any(|(a, _)| *a == algorithm) {
                continue;
            }
            let hasher = match (algorithm.crc(), algorithm) {
                (Some(crc), _) => Running::Crc(CrcDigest::new(crc)),
                (None, Algorithm::Sha1) => Running::Sha1(Sha1::new()),
                (None, _) => Running::Sha256(Sha256::new()),
            };
            running.push((algorithm, hasher));
        }
        Hashes {
            md5: Md5::new(),
            running,
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.md5.update(bytes);
        for (_, hasher) in &mut self.running {
            match hasher {
                Running::Crc(digest) => digest.update(bytes),
                Running::Sha1(sha) => sha.update(bytes),
                Running::Sha256(sha) => sha.update(bytes),
            }
        }
    }

    pub fn finish(self) -> Digests {
        let values = self
            .running
            .into_iter()
            .map(|(algorithm, hasher)| {
                let raw = match hasher {
                    Running::Crc(digest) => crc_bytes(algorithm, digest.finalize()),
                    Running::Sha1(sha) => sha.finalize().to_vec(),
                    Running::Sha256(sha) => sha.finalize().to_vec(),
                };
                (algorithm, raw)
            })
            .collect();
        Digests {
            md5: self.md5.finalize(),
            values,
        }
    }
}

fn crc_bytes(algorithm: Algorithm, value: u64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    bytes[8 - algorithm.width()..].to_vec()
}

fn crc_value(raw: &[u8]) -> u64 {
    raw.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
}

impl Digests {
    pub fn raw(&self, algorithm: Algorithm) -> Option<&[u8]> {
        self.values
            .iter()
            .find(|(a, _)| *a == algorithm)
            .map(|(_, raw)| raw.as_slice())
    }

    /// An algorithm's value as S3 writes it: base64.
    pub fn base64(&self, algorithm: Algorithm) -> Option<String> {
        self.raw(algorithm).map(|raw| BASE64.encode(raw))
    }

    /// The ETag of a single-part object: the MD5 in hex.
    pub fn etag(&self) -> String {
        hex::encode(self.md5)
    }
}

/// Decodes a base64 checksum, checking its length for the algorithm.
pub fn decode(algorithm: Algorithm, value: &str) -> Option<Vec<u8>> {
    BASE64
        .decode(value.trim())
        .ok()
        .filter(|raw| raw.len() == algorithm.width())
}

/// Decodes a `Content-MD5` header.
pub fn decode_md5(value: &str) -> Option<[u8; 16]> {
    BASE64.decode(value.trim()).ok()?.try_into().ok()
}

/// The composite checksum of a multipart object: the checksum of its parts' raw checksums
/// concatenated, then `-<parts>`.
pub fn composite(algorithm: Algorithm, part_values: &[Vec<u8>]) -> String {
    let mut hashes = Hashes::new(&[algorithm]);
    for raw in part_values {
        hashes.update(raw);
    }
    let digests = hashes.finish();
    format!(
        "{}-{}",
        digests.base64(algorithm).unwrap_or_default(),
        part_values.len()
    )
}

/// The full-object CRC of parts laid end to end, from each part's CRC and size.
pub fn combine_crcs(algorithm: Algorithm, parts: &[(Vec<u8>, u64)]) -> Option<String> {
    let crc = algorithm.crc()?;
    let mut combined: Option<u64> = None;
    for (raw, size) in parts {
        let value = crc_value(raw);
        combined = Some(match combined {
            None => value,
            Some(sofar) => crc_fast::checksum_combine(crc, sofar, value, *size),
        });
    }
    let combined = combined.unwrap_or_else(|| CrcDigest::new(crc).finalize());
    Some(BASE64.encode(crc_bytes(algorithm, combined)))
}

/// The multipart ETag: MD5 of the parts' MD5s, then `-<parts>`.
pub fn multipart_etag(part_etags: &[String]) -> Option<String> {
    let mut md5 = Md5::new();
    for etag in part_etags {
        md5.update(&hex::decode(etag).ok()?);
    }
    Some(format!("{}-{}", hex::encode(md5.finalize()), part_etags.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        let mut hashes = Hashes::new(&Algorithm::ALL);
        hashes.update(b"123456789");
        let digests = hashes.finish();
        assert_eq!(digests.raw(Algorithm::Crc32).unwrap(), 0xcbf43926u32.to_be_bytes());
        assert_eq!(digests.raw(Algorithm::Crc32c).unwrap(), 0xe3069283u32.to_be_bytes());
        assert_eq!(
            digests.raw(Algorithm::Crc64Nvme).unwrap(),
            0xae8b14860a799888u64.to_be_bytes()
        );
        assert_eq!(digests.etag(), "25f9e794323b453885f5181f1b624d0b");
        assert_eq!(
            digests.base64(Algorithm::Sha256).unwrap(),
            "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU="
        );
    }

    #[test]
    fn combined_crcs_equal_the_crc_of_the_whole() {
        for algorithm in [Algorithm::Crc32, Algorithm::Crc32c, Algorithm::Crc64Nvme] {
            let whole = {
                let mut hashes = Hashes::new(&[algorithm]);
                hashes.update(b"hello, multipart world");
                hashes.finish().base64(algorithm).unwrap()
            };
            let parts: Vec<(Vec<u8>, u64)> = [&b"hello, "[..], b"multipart", b" world"]
                .iter()
                .map(|bytes| {
                    let mut hashes = Hashes::new(&[algorithm]);
                    hashes.update(bytes);
                    (hashes.finish().raw(algorithm).unwrap().to_vec(), bytes.len() as u64)
                })
                .collect();
            assert_eq!(combine_crcs(algorithm, &parts).unwrap(), whole, "{algorithm:?}");
        }
    }

    #[test]
    fn multipart_etag_is_md5_of_md5s() {
        let a = hex::encode(Md5::checksum(b"a"));
        let b = hex::encode(Md5::checksum(b"b"));
        let mut joined = Md5::checksum(b"a").to_vec();
        joined.extend(Md5::checksum(b"b"));
        assert_eq!(
            multipart_etag(&[a, b]).unwrap(),
            format!("{}-2", hex::encode(Md5::checksum(&joined)))
        );
    }

    #[test]
    fn decode_checks_the_width() {
        assert!(decode(Algorithm::Crc32, "AAAAAA==").is_some());
        assert!(decode(Algorithm::Crc32, "AAAAAAAAAAA=").is_none());
        assert!(decode(Algorithm::Sha256, "not base64!").is_none());
    }
}
