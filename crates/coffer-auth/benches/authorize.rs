//! One authorization as a request pays it: the request context built, then the decision,
//! taken afresh or found in the decision cache. The principal is the policy issue's heavy one
//! (10 policies of 10 statements, every statement matching) with a bucket policy.

use criterion::{Criterion, black_box, criterion_group, criterion_main};

use coffer_auth::{Authorizer, Grants, Identity, Principal, Request, RequestFacts, ResourcePolicy, authorize};
use coffer_policy::{Policy, PolicyKind};

fn identity_policy(n: usize) -> Policy {
    let statements: Vec<String> = (0..10)
        .map(|i| {
            format!(
                r#"{{"Sid":"P{n}S{i}","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket","iam:Get{n}{i}*"],
                   "Resource":["arn:aws:s3:::other-{n}-{i}/*","arn:aws:s3:::shared/*"],
                   "Condition":{{"IpAddress":{{"aws:SourceIp":["10.{n}.{i}.0/24","127.0.0.0/8"]}},"StringLike":{{"aws:UserAgent":"*"}}}}}}"#
            )
        })
        .collect();
    let text = format!(r#"{{"Version":"2012-10-17","Statement":[{}]}}"#, statements.join(","));
    Policy::parse(&text, PolicyKind::Identity).unwrap()
}

fn bench(c: &mut Criterion) {
    let identity: Vec<Policy> = (0..10).map(identity_policy).collect();
    let bucket = ResourcePolicy::new(
        Policy::parse(
            r#"{"Version":"2012-10-17","Statement":[
              {"Effect":"Deny","Principal":"*","Action":"s3:DeleteBucketPolicy","Resource":"arn:aws:s3:::shared"},
              {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/*"}]}"#,
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
    };
    let facts = RequestFacts {
        source_ip: Some("127.0.0.1".parse().unwrap()),
        user_agent: Some("aws-sdk-rust/1.0".into()),
        region: Some("us-east-1".into()),
        ..RequestFacts::default()
    };
    let request = Request {
        action: "s3:GetObject",
        resource: "arn:aws:s3:::shared/photos/2026/beach.jpg",
        resource_account: "111122223333",
        resource_policy: Some(&bucket),
        keys: vec![("s3:signatureversion", "AWS4-HMAC-SHA256".into())],
        facts: Some(&facts),
        values: Vec::new(),
    };
    let uncached = Grants::uncached(identity.clone(), None);
    let cached = Authorizer::default().grants_of(identity, None);
    assert!(authorize(&principal, &cached, &request).is_ok());
    c.bench_function("authorize: heavy principal, decided afresh", |b| {
        b.iter(|| authorize(black_box(&principal), black_box(&uncached), black_box(&request)))
    });
    c.bench_function("authorize: heavy principal, from the decision cache", |b| {
        b.iter(|| authorize(black_box(&principal), black_box(&cached), black_box(&request)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
