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

struct Aws {
    dir: tempfile::TempDir,
    endpoint: String,
}

impl Aws {
    fn new(endpoint: &str) -> Aws {
        Aws {
            dir: tempfile::tempdir().unwrap(),
            endpoint: endpoint.to_owned(),
        }
    }

    fn command(&self, with_endpoint_env: bool) -> Command {
        let mut command = Command::new(aws_cli());
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

    fn run(&self, args: &[&str]) -> Output {
        self.command(true).args(args).output().expect("run aws")
    }

    fn ok(&self, args: &[&str]) -> serde_json::Value {
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
    fn configure(&self, key_id: &str, secret: &str, region: &str) {
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
    let aws = Aws::new(&coffer.endpoint);
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
}

fn venv_python() -> PathBuf {
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
