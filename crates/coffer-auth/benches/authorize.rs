//! One authorization as a request pays it: the request context built, then the decision,
//! taken afresh or found in the decision cache. The principal is the policy issue's heavy one
//! (10 policies of 10 statements) with a bucket policy: once with every statement matching
//! (the first one settles it), once allowed only by the very last statement (every statement
//! is looked at, the case the cache is for).

use criterion::{Criterion, black_box, criterion_group, criterion_main};

use coffer_auth::{Authorizer, Grants, Identity, Principal, Request, RequestFacts, ResourcePolicy, authorize};
use coffer_policy::{Policy, PolicyKind};

/// Policy `n` of 10; with `only_last`, only statement 9 of policy 9 holds: every other one
/// matches the action and the resource (through `${aws:username}`) and fails on its network.
fn identity_policy(n: usize, only_last: bool) -> Policy {
    let statements: Vec<String> = (0..10)
        .map(|i| {
            let network = if only_last && (n, i) != (9, 9) { "192.0.2.0/24" } else { "127.0.0.0/8" };
            format!(
                r#"{{"Sid":"P{n}S{i}","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket","iam:Get{n}{i}*"],
                   "Resource":["arn:aws:s3:::other-{n}-{i}/*","arn:aws:s3:::shared/${{aws:username}}/*"],
                   "Condition":{{"StringLike":{{"aws:UserAgent":"*"}},"IpAddress":{{"aws:SourceIp":["10.{n}.{i}.0/24","{network}"]}}}}}}"#
            )
        })
        .collect();
    let text = format!(r#"{{"Version":"2012-10-17","Statement":[{}]}}"#, statements.join(","));
    Policy::parse(&text, PolicyKind::Identity).unwrap()
}

fn bench(c: &mut Criterion) {
    let identity: Vec<Policy> = (0..10).map(|n| identity_policy(n, false)).collect();
    let last_only: Vec<Policy> = (0..10).map(|n| identity_policy(n, true)).collect();
    let bucket = ResourcePolicy::new(
        Policy::parse(
            r#"{"Version":"2012-10-17","Statement":[
              {"Effect":"Deny","Principal":"*","Action":"s3:DeleteBucketPolicy","Resource":"arn:aws:s3:::shared"},
              {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/*"}]}"#,
            PolicyKind::Resource,
        )
        .unwrap(),
    );
    let principal = Principal {
        account_id: "111122223333".into(),
        identity: Identity::User {
            user_id: "AIDABOB".into(),
            name: "bob".into(),
            path: "/".into(),
        },
        access_key_id: "AKIABOB".into(),
        session: None,
    };
    let facts = RequestFacts {
        source_ip: Some("127.0.0.1".parse().unwrap()),
        user_agent: Some("aws-sdk-rust/1.0".into()),
        region: Some("us-east-1".into()),
        ..RequestFacts::default()
    };
    let request = Request {
        action: "s3:GetObject",
        resource: "arn:aws:s3:::shared/bob/photos/2026/beach.jpg",
        resource_account: "111122223333",
        resource_policy: Some(&bucket),
        keys: vec![("s3:signatureversion", "AWS4-HMAC-SHA256".into())],
        facts: Some(&facts),
        values: Vec::new(),
        trust: false,
    };
    let authorizer = Authorizer::default();
    for (name, policies) in [
        ("every statement matching", identity),
        ("only the last statement matching", last_only),
    ] {
        let uncached = Grants::uncached(policies.clone(), None);
        let cached = authorizer.grants_of(policies, None);
        assert!(authorize(&principal, &cached, &request).is_ok());
        assert!(authorize(&principal, &uncached, &request).is_ok());
        c.bench_function(&format!("authorize: heavy principal, {name}, decided afresh"), |b| {
            b.iter(|| authorize(black_box(&principal), black_box(&uncached), black_box(&request)))
        });
        c.bench_function(
            &format!("authorize: heavy principal, {name}, from the decision cache"),
            |b| b.iter(|| authorize(black_box(&principal), black_box(&cached), black_box(&request))),
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
