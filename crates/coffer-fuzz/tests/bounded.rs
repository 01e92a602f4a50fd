//! The bounded fuzz run the suite makes: every target over its checked-in corpus and a few
//! thousand mutations of it (bit flips, bytes that matter to parsers, cuts, repeats,
//! splices). A panic names the target and saves the input under `target/fuzz-failures/`,
//! to become a corpus file and a regression test. Coverage-guided runs: `scripts/fuzz`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// Mutations per target in the suite.
const MUTATIONS: usize = 20_000;

fn corpus(name: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(name);
    let mut seeds: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect();
    seeds.sort();
    seeds.into_iter().map(|(_, bytes)| bytes).collect()
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that steer the parsers here: JSON, XML and form syntax, escapes, separators,
/// numbers' edges and S3's headers and framing.
const TOKENS: &[&[u8]] = &[
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"\\",
    b"\\u0000",
    b"%",
    b"%zz",
    b"%00",
    b"&",
    b"=",
    b"\n",
    b"\r\n",
    b" ",
    b"\0",
    b"\xff",
    b"\xc3\x28",
    b"*",
    b"$",
    b"${",
    b"}",
    b".member.",
    b"99999999999999999999",
    b"-1",
    b"1e308",
    b"0x",
    b"AWS4-HMAC-SHA256",
    b"Credential=",
    b"/",
    b";",
    b"<",
    b">",
    b"</",
    b"&amp;",
    b"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>",
    b"?",
    b"x-amz-",
    b"\r\n0\r\n",
    b";chunk-signature=",
    b"bytes=",
];

fn mutate(seeds: &[Vec<u8>], rng: &mut Rng) -> Vec<u8> {
    let mut bytes = seeds[rng.below(seeds.len())].clone();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(7) {
            0 if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                bytes[i] ^= 1 << rng.below(8);
            }
            1 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                bytes.splice(at..at, token.iter().copied());
            }
            2 if at < bytes.len() => {
                let end = (at + 1 + rng.below(16)).min(bytes.len());
                bytes.drain(at..end);
            }
            3 if at < bytes.len() => {
                let end = (at + 1 + rng.below(32)).min(bytes.len());
                let piece: Vec<u8> = bytes[at..end].to_vec();
                for _ in 0..1 + rng.below(64) {
                    bytes.splice(at..at, piece.iter().copied());
                }
            }
            4 => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len());
                bytes.truncate(at);
                bytes.extend_from_slice(&other[from..]);
            }
            5 => bytes.truncate(at),
            _ => {
                let i = rng.below(bytes.len().max(1));
                if let Some(b) = bytes.get_mut(i) {
                    *b = rng.next() as u8;
                }
            }
        }
    }
    bytes
}

fn run(name: &str, target: coffer_fuzz::Target, input: &[u8], index: usize) {
    if catch_unwind(AssertUnwindSafe(|| target(input))).is_err() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/fuzz-failures");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}-{index}"));
        std::fs::write(&path, input).unwrap();
        panic!(
            "fuzz target {name} panicked on input {index}, saved to {}",
            path.display()
        );
    }
}

#[test]
fn every_target_survives_its_corpus_and_mutations_of_it() {
    for (name, target) in coffer_fuzz::TARGETS {
        let seeds = corpus(name);
        assert!(!seeds.is_empty(), "corpus/{name} is empty");
        for (i, seed) in seeds.iter().enumerate() {
            run(name, *target, seed, i);
        }
        let mut rng = Rng(0x2545_F491_4F6C_DD1D ^ name.len() as u64);
        for i in 0..MUTATIONS {
            run(name, *target, &mutate(&seeds, &mut rng), seeds.len() + i);
        }
    }
}

#[test]
fn every_target_has_a_corpus_and_every_corpus_a_target() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut dirs: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let mut names: Vec<String> = coffer_fuzz::TARGETS.iter().map(|(n, _)| (*n).to_owned()).collect();
    names.sort();
    assert_eq!(dirs, names);
}

/// The S3 target signs what it sends: its seeds must reach the operations, not stop at the
/// signature check, or the fuzzing past it would test nothing. (This thread's store is its
/// own: the seeds run in order on a fresh one.)
#[test]
fn the_s3_seeds_get_past_authentication() {
    for (i, seed) in corpus("s3_request").iter().enumerate() {
        let (status, body) = coffer_fuzz::s3_request::answer(seed).expect("a request");
        let body = String::from_utf8_lossy(&body);
        println!("seed {i}: {status} {}", body.chars().take(200).collect::<String>());
        // The SigV2 and presigned seeds carry signatures of their own, made up.
        let text = String::from_utf8_lossy(seed);
        let foreign_signature = text.contains("authorization: AWS ") || text.contains("Signature=");
        assert!(status < 500 || status == 501, "seed {i}: {status} {body}");
        assert!(foreign_signature || status != 403, "seed {i}: {status} {body}");
    }
}
