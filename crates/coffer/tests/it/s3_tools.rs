//! s3cmd and rclone, Debian's packages (installed by `scripts/test`), against a real Coffer:
//! the everyday commands of each, including the ACL settings s3cmd reads and writes
//! (`setacl`, `info`, `put --acl-public`) and the anonymous GET a public ACL allows.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::harness::{Coffer, ROOT_KEY_ID, ROOT_SECRET};

fn tool(name: &str) -> PathBuf {
    let path = Path::new("/usr/bin").join(name);
    assert!(
        path.exists(),
        "{name} is not installed: run scripts/test (it installs Debian's {name})"
    );
    path
}

/// An s3cmd configured for the root key, path style, plain HTTP, SigV4.
struct S3cmd {
    config: tempfile::NamedTempFile,
}

impl S3cmd {
    fn new(coffer: &Coffer) -> S3cmd {
        let host = coffer.endpoint.trim_start_matches("http://");
        let mut config = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(
            &mut config,
            format!(
                "[default]\naccess_key = {ROOT_KEY_ID}\nsecret_key = {ROOT_SECRET}\nhost_base = {host}\n\
                 host_bucket = {host}\nuse_https = False\nsignature_v2 = False\nbucket_location = us-east-1\n"
            )
            .as_bytes(),
        )
        .unwrap();
        S3cmd { config }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(tool("s3cmd"))
            .arg("-c")
            .arg(self.config.path())
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "s3cmd {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

#[tokio::test]
async fn s3cmd_puts_lists_shares_and_reads_every_setting() {
    let coffer = Coffer::start_with(&[
        ("COFFER_ROOT_ACCESS_KEY_ID", ROOT_KEY_ID),
        ("COFFER_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET),
        ("COFFER_NEW_BUCKET_DEFAULTS", "pre-2023"),
    ]);
    let s3cmd = S3cmd::new(&coffer);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "written by s3cmd\n").unwrap();
    let file = file.to_str().unwrap();
    s3cmd.ok(&["mb", "s3://tools"]);
    s3cmd.ok(&["put", file, "s3://tools/notes.txt"]);
    assert!(s3cmd.ok(&["ls", "s3://tools"]).contains("s3://tools/notes.txt"));
    // `info` reads the bucket's and the object's every setting, ACL and all.
    let info = s3cmd.ok(&["info", "s3://tools"]);
    assert!(info.contains("FULL_CONTROL"), "{info}");
    let info = s3cmd.ok(&["info", "s3://tools/notes.txt"]);
    assert!(info.contains("FULL_CONTROL") && !info.contains("*anon*"), "{info}");
    let url = format!("{}/tools/notes.txt", coffer.endpoint);
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 403);
    // setacl --acl-public: the "Public URL" s3cmd prints answers anyone.
    s3cmd.ok(&["setacl", "--acl-public", "s3://tools/notes.txt"]);
    let info = s3cmd.ok(&["info", "s3://tools/notes.txt"]);
    assert!(info.contains("*anon*: READ"), "{info}");
    let public = reqwest::get(&url).await.unwrap();
    assert_eq!(public.status(), 200);
    assert_eq!(public.text().await.unwrap(), "written by s3cmd\n");
    s3cmd.ok(&["setacl", "--acl-private", "s3://tools/notes.txt"]);
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 403);
    // put --acl-public shares at once.
    s3cmd.ok(&["put", "--acl-public", file, "s3://tools/shared.txt"]);
    let shared = reqwest::get(format!("{}/tools/shared.txt", coffer.endpoint))
        .await
        .unwrap();
    assert_eq!(shared.status(), 200);
    let fetched = dir.path().join("back.txt");
    s3cmd.ok(&["get", "s3://tools/notes.txt", fetched.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&fetched).unwrap(), "written by s3cmd\n");
    s3cmd.ok(&["del", "s3://tools/notes.txt", "s3://tools/shared.txt"]);
    s3cmd.ok(&["rb", "s3://tools"]);
}

#[tokio::test]
async fn s3cmd_public_acls_meet_the_current_defaults() {
    let coffer = Coffer::start();
    let s3cmd = S3cmd::new(&coffer);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "x").unwrap();
    s3cmd.ok(&["mb", "s3://modern"]);
    let refused = s3cmd.run(&["put", "--acl-public", file.to_str().unwrap(), "s3://modern/notes.txt"]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("AccessControlListNotSupported"), "{said}");
}

#[tokio::test]
async fn rclone_copies_a_tree_and_checks_it() {
    let coffer = Coffer::start();
    let source = tempfile::tempdir().unwrap();
    for (path, text) in [("a.txt", "alpha"), ("sub/b.txt", "beta"), ("sub/deeper/c.bin", "gamma")] {
        let path = source.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let rclone = |args: &[&str]| {
        let out = Command::new(tool("rclone"))
            // rclone's AWS SDK cannot take a CA bundle on its own transport; plain HTTP needs none.
            .env_remove("AWS_CA_BUNDLE")
            .env("RCLONE_CONFIG_COFFER_TYPE", "s3")
            .env("RCLONE_CONFIG_COFFER_PROVIDER", "Other")
            .env("RCLONE_CONFIG_COFFER_ACCESS_KEY_ID", ROOT_KEY_ID)
            .env("RCLONE_CONFIG_COFFER_SECRET_ACCESS_KEY", ROOT_SECRET)
            .env("RCLONE_CONFIG_COFFER_ENDPOINT", &coffer.endpoint)
            .env("RCLONE_CONFIG_COFFER_REGION", "us-east-1")
            .env("RCLONE_CONFIG_COFFER_FORCE_PATH_STYLE", "true")
            // rclone sends `x-amz-acl: private` unless told otherwise, which a bucket with
            // ACLs disabled (AWS's default) refuses, on AWS as here.
            .env("RCLONE_CONFIG_COFFER_ACL", "bucket-owner-full-control")
            .args(["--config", "/dev/null"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "rclone {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let src = source.path().to_str().unwrap();
    rclone(&["mkdir", "coffer:tree"]);
    rclone(&["copy", src, "coffer:tree"]);
    let listed = rclone(&["ls", "coffer:tree"]);
    for name in ["a.txt", "sub/b.txt", "sub/deeper/c.bin"] {
        assert!(listed.contains(name), "{listed}");
    }
    rclone(&["check", src, "coffer:tree"]);
    assert_eq!(rclone(&["cat", "coffer:tree/sub/b.txt"]), "beta");
    let back = tempfile::tempdir().unwrap();
    rclone(&["copy", "coffer:tree", back.path().to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(back.path().join("sub/deeper/c.bin")).unwrap(),
        "gamma"
    );
    rclone(&["purge", "coffer:tree"]);
}
