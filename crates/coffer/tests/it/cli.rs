//! The walkthrough with the real `aws` CLI (installed into `.venv` by `scripts/test`), using
//! temporary config and credentials files: `aws configure` answered at its prompts, a default
//! profile through `AWS_ENDPOINT_URL`, and `myprofile` whose config carries `endpoint_url`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::harness::{Coffer, ROOT_KEY_ID, ROOT_SECRET};

fn aws_cli() -> PathBuf {
    if let Ok(path) = std::env::var("COFFER_TEST_AWS_CLI") {
        return PathBuf::from(path);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/aws");
    assert!(
        venv.exists(),
        "the aws CLI is not installed: run scripts/test (it installs it into .venv)"
    );
    venv
}

/// AWS CLI v2, the seed walkthrough's own CLI, which `scripts/test` unpacks from npm's
/// `@aws-cdk/asset-awscli-v2`.
fn aws_cli_v2() -> PathBuf {
    let path = std::env::var("COFFER_TEST_AWS_CLI_V2")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.awscli-v2/dist/aws"));
    assert!(
        path.exists(),
        "AWS CLI v2 is not installed: run scripts/test (it unpacks it into .awscli-v2)"
    );
    path
}

pub(crate) struct Aws {
    dir: tempfile::TempDir,
    endpoint: String,
    cli: PathBuf,
}

impl Aws {
    pub(crate) fn new(endpoint: &str) -> Aws {
        Aws::with_cli(endpoint, aws_cli())
    }

    fn with_cli(endpoint: &str, cli: PathBuf) -> Aws {
        Aws {
            dir: tempfile::tempdir().unwrap(),
            endpoint: endpoint.to_owned(),
            cli,
        }
    }

    fn command(&self, with_endpoint_env: bool) -> Command {
        let mut command = Command::new(&self.cli);
        for (key, _) in std::env::vars() {
            if key.starts_with("AWS_") {
                command.env_remove(key);
            }
        }
        command
            .env("AWS_CONFIG_FILE", self.dir.path().join("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", self.dir.path().join("credentials"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("HOME", self.dir.path());
        if with_endpoint_env {
            command.env("AWS_ENDPOINT_URL", &self.endpoint);
        }
        command
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.command(true).args(args).output().expect("run aws")
    }

    pub(crate) fn ok(&self, args: &[&str]) -> serde_json::Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "aws {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if out.stdout.iter().all(u8::is_ascii_whitespace) {
            return serde_json::Value::Null;
        }
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&out.stdout).into()))
    }

    /// `aws configure`, answered at its four prompts.
    pub(crate) fn configure(&self, key_id: &str, secret: &str, region: &str) {
        let mut child = self
            .command(false)
            .arg("configure")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        write!(child.stdin.take().unwrap(), "{key_id}\n{secret}\n{region}\n\n").unwrap();
        assert!(child.wait().unwrap().success());
    }
}

#[test]
fn the_walkthrough_runs_with_the_real_aws_cli() {
    let coffer = Coffer::start();
    walkthrough(&coffer, Aws::new(&coffer.endpoint));
}

/// The seed's walkthrough with the CLI it installs: AWS CLI v2.
#[test]
fn the_walkthrough_runs_with_aws_cli_v2() {
    let coffer = Coffer::start();
    let aws = Aws::with_cli(&coffer.endpoint, aws_cli_v2());
    let version = aws.run(&["--version"]);
    assert!(
        String::from_utf8_lossy(&version.stdout).starts_with("aws-cli/2."),
        "{}",
        String::from_utf8_lossy(&version.stdout)
    );
    walkthrough(&coffer, aws);
}

/// The user's walkthrough (`../shared/seed/iam-access-keys.md`): configure root's key, make a
/// user and its key, list users, a profile for the user, a bucket, an upload, `aws s3 ls`.
fn walkthrough(coffer: &Coffer, aws: Aws) {
    aws.configure(ROOT_KEY_ID, ROOT_SECRET, "ap-southeast-1");

    let me = aws.ok(&["sts", "get-caller-identity"]);
    let account = me["Account"].as_str().unwrap().to_owned();
    assert_eq!(me["Arn"], format!("arn:aws:iam::{account}:root"));

    aws.ok(&["iam", "create-user", "--user-name", "alice"]);
    let created = aws.ok(&["iam", "create-access-key", "--user-name", "alice"]);
    let key_id = created["AccessKey"]["AccessKeyId"].as_str().unwrap().to_owned();
    let secret = created["AccessKey"]["SecretAccessKey"].as_str().unwrap().to_owned();
    assert!(key_id.starts_with("AKIA"));
    assert_eq!(secret.len(), 40);

    let users = aws.ok(&["iam", "list-users"]);
    assert_eq!(users["Users"][0]["UserName"], "alice");
    let keys = aws.run(&["iam", "list-access-keys", "--user-name", "alice"]);
    let keys_text = String::from_utf8_lossy(&keys.stdout);
    assert!(
        keys_text.contains(&key_id) && !keys_text.contains(&secret),
        "{keys_text}"
    );

    // myprofile: alice's key in the credentials file, the endpoint in the config file.
    let mut credentials = std::fs::OpenOptions::new()
        .append(true)
        .open(aws.dir.path().join("credentials"))
        .unwrap();
    writeln!(
        credentials,
        "\n[myprofile]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}"
    )
    .unwrap();
    let mut config = std::fs::OpenOptions::new()
        .append(true)
        .open(aws.dir.path().join("config"))
        .unwrap();
    writeln!(
        config,
        "\n[profile myprofile]\nregion = ap-southeast-1\nendpoint_url = {}",
        coffer.endpoint
    )
    .unwrap();
    let out = aws
        .command(false)
        .args(["sts", "get-caller-identity", "--profile", "myprofile"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let me: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(me["Arn"], format!("arn:aws:iam::{account}:user/alice"));

    // `aws s3 ls` as root: no buckets yet, and success.
    let out = aws.run(&["s3", "ls"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    // alice has no policies yet, so S3 refuses her, as AWS would.
    let out = aws
        .command(false)
        .args(["s3", "ls", "--profile", "myprofile"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("AccessDenied"));
    // and so does IAM.
    let out = aws
        .command(false)
        .args(["iam", "list-users", "--profile", "myprofile"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("AccessDenied"));

    // Root makes a bucket and uploads a file; `aws s3 ls` shows both.
    aws.ok(&["s3", "mb", "s3://walkthrough-bucket"]);
    let file = aws.dir.path().join("notes.txt");
    std::fs::write(&file, b"my first object").unwrap();
    aws.ok(&["s3", "cp", file.to_str().unwrap(), "s3://walkthrough-bucket/notes.txt"]);
    let buckets = aws.run(&["s3", "ls"]);
    assert!(String::from_utf8_lossy(&buckets.stdout).contains("walkthrough-bucket"));
    let objects = aws.run(&["s3", "ls", "s3://walkthrough-bucket"]);
    assert!(String::from_utf8_lossy(&objects.stdout).contains("notes.txt"));
}

pub(crate) fn venv_python() -> PathBuf {
    let aws = aws_cli();
    let python = aws.with_file_name("python");
    assert!(python.exists(), "no python beside {}: run scripts/test", aws.display());
    python
}

/// boto3, the other client people script Coffer with, through the same walkthrough.
#[test]
fn boto3_creates_a_user_and_key_and_signs_as_them() {
    let coffer = Coffer::start();
    let script = r#"
import json, os, sys, boto3
from botocore.exceptions import ClientError
endpoint = os.environ["ENDPOINT"]
root = dict(aws_access_key_id=os.environ["KEY"], aws_secret_access_key=os.environ["SECRET"],
            region_name="ap-southeast-1", endpoint_url=endpoint)
iam = boto3.client("iam", **root)
iam.create_user(UserName="bob", Path="/ops/")
key = iam.create_access_key(UserName="bob")["AccessKey"]
assert [u["UserName"] for u in iam.list_users()["Users"]] == ["bob"]
bob = dict(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
           region_name="eu-north-1", endpoint_url=endpoint)
me = boto3.client("sts", **bob).get_caller_identity()
try:
    boto3.client("iam", **bob).list_users()
    denied = None
except ClientError as e:
    denied = e.response["Error"]["Code"]
print(json.dumps({"arn": me["Arn"], "denied": denied}))
"#;
    let out = Command::new(venv_python())
        .args(["-c", script])
        .env("ENDPOINT", &coffer.endpoint)
        .env("KEY", ROOT_KEY_ID)
        .env("SECRET", ROOT_SECRET)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(result["arn"].as_str().unwrap().ends_with(":user/ops/bob"), "{result}");
    assert_eq!(result["denied"], "AccessDenied");
}

/// Writes `len` pseudo-random bytes to `path` (a cheap generator: the bytes only need to differ).
fn write_file(path: &Path, len: usize, seed: u64) {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut bytes = Vec::with_capacity(len);
    while bytes.len() < len {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(len);
    std::fs::write(path, bytes).unwrap();
}

fn same_file(a: &Path, b: &Path) -> bool {
    std::fs::read(a).unwrap() == std::fs::read(b).unwrap()
}

/// The S3 half of the walkthrough with the real `aws s3` commands: mb, cp (a 100 MiB
/// multipart both ways), ls, sync both ways, presign (SigV2 in CLI v1) fetched by curl,
/// mv, rm and rb --force.
#[test]
fn the_s3_walkthrough_runs_with_the_real_aws_cli() {
    let coffer = Coffer::start();
    let aws = Aws::new(&coffer.endpoint);
    aws.configure(ROOT_KEY_ID, ROOT_SECRET, "ap-southeast-1");
    let work = tempfile::tempdir().unwrap();
    let path = |name: &str| work.path().join(name);
    let s = |p: PathBuf| p.to_string_lossy().into_owned();
    let ok = |args: &[&str]| {
        let out = aws.run(args);
        assert!(
            out.status.success(),
            "aws {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };

    ok(&["s3", "mb", "s3://holiday-photos"]);
    std::fs::write(path("beach.jpg"), b"a photo of the beach").unwrap();
    write_file(&path("big.iso"), 100 * 1024 * 1024 + 123, 7);
    ok(&[
        "s3",
        "cp",
        &s(path("beach.jpg")),
        "s3://holiday-photos/",
        "--only-show-errors",
    ]);
    ok(&[
        "s3",
        "cp",
        &s(path("big.iso")),
        "s3://holiday-photos/",
        "--only-show-errors",
    ]);
    ok(&[
        "s3",
        "cp",
        "s3://holiday-photos/big.iso",
        &s(path("big-back.iso")),
        "--only-show-errors",
    ]);
    assert!(
        same_file(&path("big.iso"), &path("big-back.iso")),
        "the 100 MiB object came back different"
    );
    let head = aws.ok(&["s3api", "head-object", "--bucket", "holiday-photos", "--key", "big.iso"]);
    assert!(
        head["ETag"].as_str().unwrap().contains('-'),
        "uploaded in parts: {head}"
    );

    let buckets = ok(&["s3", "ls"]);
    assert!(buckets.contains("holiday-photos"), "{buckets}");
    let listing = ok(&["s3", "ls", "s3://holiday-photos/", "--recursive", "--human-readable"]);
    assert!(
        listing.contains("beach.jpg") && listing.contains("100.0 MiB big.iso"),
        "{listing}"
    );

    std::fs::create_dir_all(path("album/summer")).unwrap();
    std::fs::write(path("album/one.jpg"), b"1").unwrap();
    std::fs::write(path("album/summer/two words.jpg"), b"22").unwrap();
    write_file(&path("album/summer/large.raw"), 9 * 1024 * 1024, 3);
    ok(&[
        "s3",
        "sync",
        &s(path("album")),
        "s3://holiday-photos/album",
        "--only-show-errors",
    ]);
    ok(&[
        "s3",
        "sync",
        "s3://holiday-photos/album",
        &s(path("copy")),
        "--only-show-errors",
    ]);
    for name in ["one.jpg", "summer/two words.jpg", "summer/large.raw"] {
        assert!(same_file(&path("album").join(name), &path("copy").join(name)), "{name}");
    }
    // A second sync has nothing to do.
    assert_eq!(ok(&["s3", "sync", &s(path("album")), "s3://holiday-photos/album"]), "");

    let url = ok(&["s3", "presign", "s3://holiday-photos/beach.jpg", "--expires-in", "600"]);
    let url = url.trim();
    assert!(url.contains("Signature="), "{url}");
    let fetched = Command::new("curl").args(["-sf", url]).output().unwrap();
    assert!(fetched.status.success());
    assert_eq!(fetched.stdout, b"a photo of the beach");
    let tampered = url.replace("beach.jpg", "big.iso");
    let refused = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", &tampered])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&refused.stdout), "403");

    ok(&[
        "s3",
        "mv",
        "s3://holiday-photos/beach.jpg",
        "s3://holiday-photos/moved/beach.jpg",
        "--only-show-errors",
    ]);
    let listing = ok(&["s3", "ls", "s3://holiday-photos/", "--recursive"]);
    assert!(
        listing.contains("moved/beach.jpg") && !listing.contains(" beach.jpg"),
        "{listing}"
    );
    ok(&["s3", "rm", "s3://holiday-photos/big.iso", "--only-show-errors"]);
    let out = aws.run(&["s3", "rb", "s3://holiday-photos"]);
    assert!(
        !out.status.success(),
        "a bucket with objects is not removed without --force"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("BucketNotEmpty"));
    ok(&["s3", "rb", "s3://holiday-photos", "--force"]);
    assert_eq!(ok(&["s3", "ls"]), "");
}

/// boto3's transfer manager (multipart both ways, its default checksums), listing with
/// URL encoding, a SigV4 presigned URL and SigV2 header authentication.
#[test]
fn boto3_moves_a_large_file_both_ways_and_lists_odd_keys() {
    let coffer = Coffer::start();
    let work = tempfile::tempdir().unwrap();
    write_file(&work.path().join("big.bin"), 100 * 1024 * 1024 + 7, 11);
    let script = r#"
import hashlib, json, os, urllib.request, boto3
from botocore.config import Config
work = os.environ["WORK"]
s3 = boto3.client("s3", aws_access_key_id=os.environ["KEY"], aws_secret_access_key=os.environ["SECRET"],
                  region_name="us-east-1", endpoint_url=os.environ["ENDPOINT"],
                  config=Config(signature_version="s3v4"))
s3.create_bucket(Bucket="boto")
s3.upload_file(os.path.join(work, "big.bin"), "boto", "big.bin")
s3.download_file("boto", "big.bin", os.path.join(work, "back.bin"))
head = s3.head_object(Bucket="boto", Key="big.bin", ChecksumMode="ENABLED")
for key in ["a b/c.txt", "100%/x", "ünï/ok", "plus+sign"]:
    s3.put_object(Bucket="boto", Key=key, Body=key.encode())
listed = s3.list_objects_v2(Bucket="boto", Delimiter="/", EncodingType="url")
url = s3.generate_presigned_url("get_object", Params={"Bucket": "boto", "Key": "a b/c.txt"}, ExpiresIn=300)
fetched = urllib.request.urlopen(url).read().decode()
v2 = boto3.client("s3", aws_access_key_id=os.environ["KEY"], aws_secret_access_key=os.environ["SECRET"],
                  region_name="us-east-1", endpoint_url=os.environ["ENDPOINT"], config=Config(signature_version="s3"))
v2.put_object(Bucket="boto", Key="v2", Body=b"signed with v2")
v2_body = v2.get_object(Bucket="boto", Key="v2")["Body"].read().decode()
# Bucket-level SigV2 calls: botocore signs the bucket's root as /bucket/.
v2.create_bucket(Bucket="boto-v2", CreateBucketConfiguration={})
v2_listed = [c["Key"] for c in v2.list_objects(Bucket="boto").get("Contents", [])]
v2.delete_bucket(Bucket="boto-v2")
bad_v2 = boto3.client("s3", aws_access_key_id=os.environ["KEY"], aws_secret_access_key="x" * 40,
                      region_name="us-east-1", endpoint_url=os.environ["ENDPOINT"], config=Config(signature_version="s3"))
try:
    bad_v2.get_object(Bucket="boto", Key="v2")
    v2_denied = None
except Exception as e:
    v2_denied = e.response["Error"]["Code"]
s3.delete_object(Bucket="boto", Key="v2")
def md5(p):
    return hashlib.md5(open(os.path.join(work, p), "rb").read()).hexdigest()
print(json.dumps({
    "same": md5("big.bin") == md5("back.bin"),
    "etag": head["ETag"],
    "checksum_type": head.get("ChecksumType"),
    "keys": [c["Key"] for c in listed.get("Contents", [])],
    "prefixes": [p["Prefix"] for p in listed.get("CommonPrefixes", [])],
    "fetched": fetched,
    "v2": v2_body,
    "v2_denied": v2_denied,
    "v2_listed": len(v2_listed),
}))
"#;
    let out = Command::new(venv_python())
        .args(["-c", script])
        .env("ENDPOINT", &coffer.endpoint)
        .env("KEY", ROOT_KEY_ID)
        .env("SECRET", ROOT_SECRET)
        .env("WORK", work.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["same"], true, "{result}");
    assert!(result["etag"].as_str().unwrap().contains('-'), "{result}");
    // boto3 leaves names encoded when the caller chose EncodingType itself.
    assert_eq!(
        result["keys"],
        serde_json::json!(["big.bin", "plus%2Bsign"]),
        "{result}"
    );
    assert_eq!(
        result["prefixes"],
        serde_json::json!(["100%25/", "a%20b/", "%C3%BCn%C3%AF/"]),
        "{result}"
    );
    // boto3 asks for CRC32 parts without a type, which S3 makes COMPOSITE.
    assert_eq!(result["checksum_type"], "COMPOSITE", "{result}");
    assert_eq!(result["fetched"], "a b/c.txt");
    // SigV2 header authentication (boto3's signature_version="s3").
    assert_eq!(result["v2"], "signed with v2");
    assert_eq!(result["v2_denied"], "SignatureDoesNotMatch");
    assert_eq!(result["v2_listed"], 6, "{result}");
}

/// Issue 4's walkthrough with the real `aws` CLI: a group with AWS's S3 read-only policy, the
/// home-folder policy, and the simulator (bucket policies are not built yet).
#[test]
fn least_privilege_with_the_real_aws_cli() {
    let coffer = Coffer::start();
    let aws = Aws::new(&coffer.endpoint);
    aws.configure(ROOT_KEY_ID, ROOT_SECRET, "us-east-1");
    let work = tempfile::tempdir().unwrap();
    let ok = |args: &[&str]| aws.ok(args);
    let account = ok(&["sts", "get-caller-identity"])["Account"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(&["s3", "mb", "s3://holiday-photos"]);
    let photo = work.path().join("x");
    std::fs::write(&photo, b"a photo").unwrap();
    let photo = photo.to_string_lossy().into_owned();
    ok(&[
        "s3",
        "cp",
        &photo,
        "s3://holiday-photos/beach.jpg",
        "--only-show-errors",
    ]);

    let mut credentials = String::new();
    let mut config = String::new();
    for user in ["alice", "bob"] {
        ok(&["iam", "create-user", "--user-name", user]);
        let key = ok(&["iam", "create-access-key", "--user-name", user]);
        let (id, secret) = (
            key["AccessKey"]["AccessKeyId"].as_str().unwrap(),
            key["AccessKey"]["SecretAccessKey"].as_str().unwrap(),
        );
        credentials.push_str(&format!(
            "\n[{user}]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"
        ));
        config.push_str(&format!(
            "\n[profile {user}]\nregion = us-east-1\nendpoint_url = {}\n",
            coffer.endpoint
        ));
    }
    let append = |file: &str, text: &str| {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(aws.dir.path().join(file))
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    };
    append("credentials", &credentials);
    append("config", &config);

    ok(&["iam", "create-group", "--group-name", "readers"]);
    ok(&[
        "iam",
        "attach-group-policy",
        "--group-name",
        "readers",
        "--policy-arn",
        "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    ]);
    ok(&[
        "iam",
        "add-user-to-group",
        "--group-name",
        "readers",
        "--user-name",
        "alice",
    ]);
    let as_profile = |profile: &str, args: &[&str]| {
        let mut full: Vec<&str> = args.to_vec();
        full.extend(["--profile", profile]);
        aws.command(false).args(&full).output().unwrap()
    };
    let listed = as_profile("alice", &["s3", "ls", "s3://holiday-photos"]);
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    assert!(String::from_utf8_lossy(&listed.stdout).contains("beach.jpg"));
    let put = as_profile("alice", &["s3", "cp", &photo, "s3://holiday-photos/"]);
    assert!(!put.status.success());
    assert!(String::from_utf8_lossy(&put.stderr).contains("AccessDenied"));

    let home = work.path().join("home-folder.json");
    std::fs::write(
        &home,
        r#"{"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::holiday-photos",
           "Condition":{"StringLike":{"s3:prefix":["home/${aws:username}/*"]}}},
          {"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::holiday-photos/home/${aws:username}/*"}]}"#,
    )
    .unwrap();
    let policy_arg = format!("file://{}", home.display());
    ok(&[
        "iam",
        "put-user-policy",
        "--user-name",
        "bob",
        "--policy-name",
        "home",
        "--policy-document",
        &policy_arg,
    ]);
    let mine = as_profile("bob", &["s3", "cp", &photo, "s3://holiday-photos/home/bob/x"]);
    assert!(mine.status.success(), "{}", String::from_utf8_lossy(&mine.stderr));
    let theirs = as_profile("bob", &["s3", "cp", &photo, "s3://holiday-photos/home/alice/x"]);
    assert!(String::from_utf8_lossy(&theirs.stderr).contains("AccessDenied"));

    let simulated = ok(&[
        "iam",
        "simulate-principal-policy",
        "--policy-source-arn",
        &format!("arn:aws:iam::{account}:user/alice"),
        "--action-names",
        "s3:PutObject",
        "s3:GetObject",
        "--resource-arns",
        "arn:aws:s3:::holiday-photos/x",
    ]);
    let decisions: Vec<&str> = simulated["EvaluationResults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["EvalDecision"].as_str().unwrap())
        .collect();
    assert_eq!(decisions, ["implicitDeny", "allowed"]);

    // The AWS docs' deny-unless-TLS bucket policy. Coffer speaks plain HTTP here, so, as on AWS
    // over HTTP, it denies every request, the owner's root user's too, except the bucket
    // policy operations that S3 always leaves to the owner's root user.
    let tls = work.path().join("deny-unless-tls.json");
    std::fs::write(
        &tls,
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"AllowSSLRequestsOnly","Action":"s3:*","Effect":"Deny",
            "Resource":["arn:aws:s3:::holiday-photos","arn:aws:s3:::holiday-photos/*"],
            "Condition":{"Bool":{"aws:SecureTransport":"false"}},"Principal":"*"}]}"#,
    )
    .unwrap();
    let tls_arg = format!("file://{}", tls.display());
    ok(&[
        "s3api",
        "put-bucket-policy",
        "--bucket",
        "holiday-photos",
        "--policy",
        &tls_arg,
    ]);
    let denied = aws.run(&["s3", "ls", "s3://holiday-photos"]);
    assert!(!denied.status.success());
    assert!(String::from_utf8_lossy(&denied.stderr).contains("AccessDenied"));
    let stored = ok(&["s3api", "get-bucket-policy", "--bucket", "holiday-photos"]);
    assert!(stored["Policy"].as_str().unwrap().contains("AllowSSLRequestsOnly"));
    ok(&["s3api", "delete-bucket-policy", "--bucket", "holiday-photos"]);
    let listed = aws.run(&["s3", "ls", "s3://holiday-photos"]);
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
}

#[test]
fn roles_with_the_real_aws_cli() {
    let coffer = Coffer::start();
    let aws = Aws::new(&coffer.endpoint);
    aws.configure(ROOT_KEY_ID, ROOT_SECRET, "us-east-1");
    let trust = aws.dir.path().join("trust-my-account.json");
    std::fs::write(
        &trust,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#,
    )
    .unwrap();
    let created = aws.ok(&[
        "iam",
        "create-role",
        "--role-name",
        "deployer",
        "--assume-role-policy-document",
        &format!("file://{}", trust.display()),
    ]);
    assert_eq!(created["Role"]["RoleName"], "deployer");
    // The CLI decodes the URL-encoded document it gets back.
    assert_eq!(
        created["Role"]["AssumeRolePolicyDocument"]["Statement"][0]["Action"],
        "sts:AssumeRole"
    );
    assert_eq!(aws.ok(&["iam", "list-roles"])["Roles"][0]["RoleName"], "deployer");
    aws.ok(&[
        "iam",
        "update-role",
        "--role-name",
        "deployer",
        "--max-session-duration",
        "7200",
    ]);
    let got = aws.ok(&["iam", "get-role", "--role-name", "deployer"]);
    assert_eq!(got["Role"]["MaxSessionDuration"], 7200);
    aws.ok(&["iam", "delete-role", "--role-name", "deployer"]);
    assert_eq!(
        aws.ok(&["iam", "list-roles"])["Roles"].as_array().map(Vec::len),
        Some(0)
    );
}

/// The issue's walkthrough for roles: a profile with `role_arn` + `source_profile` makes the
/// CLI assume the role itself; `assume-role` and `get-session-token` answer as STS does; a
/// presigned URL (SigV2 by default in CLI v1) carries the session token.
#[test]
fn sessions_with_the_real_aws_cli() {
    let coffer = Coffer::start();
    let aws = Aws::new(&coffer.endpoint);
    aws.configure(ROOT_KEY_ID, ROOT_SECRET, "us-east-1");
    let account = aws.ok(&["sts", "get-caller-identity"])["Account"]
        .as_str()
        .unwrap()
        .to_owned();
    let trust = aws.dir.path().join("trust-my-account.json");
    std::fs::write(
        &trust,
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"sts:AssumeRole"}}]}}"#
        ),
    )
    .unwrap();
    let role_arn = aws.ok(&[
        "iam",
        "create-role",
        "--role-name",
        "deployer",
        "--assume-role-policy-document",
        &format!("file://{}", trust.display()),
    ])["Role"]["Arn"]
        .as_str()
        .unwrap()
        .to_owned();
    aws.ok(&[
        "iam",
        "attach-role-policy",
        "--role-name",
        "deployer",
        "--policy-arn",
        "arn:aws:iam::aws:policy/AmazonS3FullAccess",
    ]);
    aws.ok(&["iam", "create-user", "--user-name", "alice"]);
    aws.ok(&[
        "iam",
        "put-user-policy",
        "--user-name",
        "alice",
        "--policy-name",
        "assume",
        "--policy-document",
        &format!(r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"{role_arn}"}}}}"#),
    ]);
    let key = aws.ok(&["iam", "create-access-key", "--user-name", "alice"]);
    let (key_id, secret) = (
        key["AccessKey"]["AccessKeyId"].as_str().unwrap(),
        key["AccessKey"]["SecretAccessKey"].as_str().unwrap(),
    );
    aws.ok(&["s3", "mb", "s3://artifacts"]);
    let mut credentials = std::fs::OpenOptions::new()
        .append(true)
        .open(aws.dir.path().join("credentials"))
        .unwrap();
    writeln!(
        credentials,
        "\n[alice]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}"
    )
    .unwrap();
    let mut config = std::fs::OpenOptions::new()
        .append(true)
        .open(aws.dir.path().join("config"))
        .unwrap();
    writeln!(
        config,
        "\n[profile alice]\nregion = us-east-1\n\n[profile deployer]\nrole_arn = {role_arn}\nsource_profile = alice\nregion = us-east-1"
    )
    .unwrap();

    let build = aws.dir.path().join("build.tar");
    std::fs::write(&build, b"release bytes").unwrap();
    aws.ok(&[
        "s3",
        "cp",
        build.to_str().unwrap(),
        "s3://artifacts/",
        "--profile",
        "deployer",
    ]);
    let me = aws.ok(&["sts", "get-caller-identity", "--profile", "deployer"]);
    let arn = me["Arn"].as_str().unwrap();
    assert!(
        arn.starts_with(&format!("arn:aws:sts::{account}:assumed-role/deployer/")),
        "{arn}"
    );
    // alice herself may not touch the bucket.
    let out = aws.run(&["s3", "ls", "s3://artifacts", "--profile", "alice"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("AccessDenied"));

    let assumed = aws.ok(&[
        "sts",
        "assume-role",
        "--role-arn",
        &role_arn,
        "--role-session-name",
        "ci-42",
        "--profile",
        "alice",
    ]);
    assert!(
        assumed["Credentials"]["AccessKeyId"]
            .as_str()
            .unwrap()
            .starts_with("ASIA")
    );
    assert!(assumed["Credentials"]["SessionToken"].as_str().is_some());
    assert!(assumed["Credentials"]["Expiration"].as_str().is_some());
    assert_eq!(
        assumed["AssumedRoleUser"]["Arn"],
        format!("arn:aws:sts::{account}:assumed-role/deployer/ci-42")
    );
    let token = aws.ok(&[
        "sts",
        "get-session-token",
        "--duration-seconds",
        "3600",
        "--profile",
        "alice",
    ]);
    assert!(
        token["Credentials"]["AccessKeyId"]
            .as_str()
            .unwrap()
            .starts_with("ASIA")
    );

    // A presigned GET made with the role's session (the CLI signs it with SigV2).
    let url = aws.ok(&["s3", "presign", "s3://artifacts/build.tar", "--profile", "deployer"]);
    let url = url.as_str().unwrap().trim().to_owned();
    assert!(url.to_ascii_lowercase().contains("x-amz-security-token="), "{url}");
    assert!(url.contains("AWSAccessKeyId=ASIA"), "SigV2: {url}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let body = runtime.block_on(async {
        let response = reqwest::get(&url).await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        response.bytes().await.unwrap()
    });
    assert_eq!(body.as_ref(), b"release bytes");
}

/// boto3 with temporary credentials, SigV4 and SigV2 (header and presigned), and the role's
/// session refused after its policy is detached.
#[test]
fn boto3_signs_with_session_credentials_in_every_scheme() {
    let coffer = Coffer::start();
    let script = r#"
import json, os, urllib.request, boto3
from botocore.config import Config
from botocore.exceptions import ClientError
root = dict(aws_access_key_id=os.environ["KEY"], aws_secret_access_key=os.environ["SECRET"],
            region_name="us-east-1", endpoint_url=os.environ["ENDPOINT"])
account = boto3.client("sts", **root).get_caller_identity()["Account"]
iam = boto3.client("iam", **root)
iam.create_user(UserName="bob")
trust = {"Version": "2012-10-17", "Statement": {"Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{account}:user/bob"}, "Action": "sts:AssumeRole"}}
arn = iam.create_role(RoleName="writer", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
iam.attach_role_policy(RoleName="writer", PolicyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess")
key = iam.create_access_key(UserName="bob")["AccessKey"]
boto3.client("s3", **root).create_bucket(Bucket="boto-sessions")
bob = dict(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
           region_name="us-east-1", endpoint_url=os.environ["ENDPOINT"])
creds = boto3.client("sts", **bob).assume_role(RoleArn=arn, RoleSessionName="boto")["Credentials"]
session = dict(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
               aws_session_token=creds["SessionToken"], region_name="us-east-1",
               endpoint_url=os.environ["ENDPOINT"])
fetched = {}
for version in ["s3v4", "s3"]:
    s3 = boto3.client("s3", config=Config(signature_version=version, s3={"addressing_style": "path"}), **session)
    s3.put_object(Bucket="boto-sessions", Key=version, Body=version.encode())
    assert s3.get_object(Bucket="boto-sessions", Key=version)["Body"].read() == version.encode()
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "boto-sessions", "Key": version})
    fetched[version] = urllib.request.urlopen(url).read().decode()
iam.detach_role_policy(RoleName="writer", PolicyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess")
try:
    boto3.client("s3", **session).get_object(Bucket="boto-sessions", Key="s3")
    after = None
except ClientError as e:
    after = e.response["Error"]["Code"]
print(json.dumps({"fetched": fetched, "after": after}))
"#;
    let out = Command::new(venv_python())
        .args(["-c", script])
        .env("ENDPOINT", &coffer.endpoint)
        .env("KEY", ROOT_KEY_ID)
        .env("SECRET", ROOT_SECRET)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["fetched"]["s3v4"], "s3v4");
    assert_eq!(result["fetched"]["s3"], "s3");
    assert_eq!(result["after"], "AccessDenied");
}
