//! Time to decide one request for a user with 10 attached policies of 10 statements each,
//! plus a bucket policy: the authorization cost every S3 request pays.

use criterion::{Criterion, black_box, criterion_group, criterion_main};

use coffer_policy::{Policies, Policy, PolicyKind, RequestContext, RequestPrincipal, decide};

fn identity_policy(n: usize) -> Policy {
    let statements: Vec<String> = (0..10)
        .map(|i| {
            format!(
                r#"{{"Sid":"S{n}x{i}","Effect":"Allow","Action":["s3:Get*","s3:List*","iam:Get{n}{i}*"],
                   "Resource":["arn:aws:s3:::bucket-{n}-{i}/*","arn:aws:s3:::shared/home/${{aws:username}}/*"],
                   "Condition":{{"StringLike":{{"s3:prefix":["home/${{aws:username}}/*",""]}},"IpAddress":{{"aws:SourceIp":"10.{n}.{i}.0/24"}}}}}}"#
            )
        })
        .collect();
    let text = format!(r#"{{"Version":"2012-10-17","Statement":[{}]}}"#, statements.join(","));
    Policy::parse(&text, PolicyKind::Identity).unwrap()
}

fn bench(c: &mut Criterion) {
    let identity: Vec<Policy> = (0..10).map(identity_policy).collect();
    let bucket = Policy::parse(
        r#"{"Version":"2012-10-17","Statement":[
          {"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::shared/*"},
          {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/*"}]}"#,
        PolicyKind::Resource,
    )
    .unwrap();
    let principal = RequestPrincipal {
        arn: "arn:aws:iam::111122223333:user/bob".to_owned(),
        account_id: "111122223333".to_owned(),
        is_root: false,
        entity_arn: None,
        federated: false,
        service: false,
    };
    let ctx = RequestContext::new(
        "s3:GetObject",
        "arn:aws:s3:::shared/home/bob/photo.jpg",
        Some(principal),
    )
    .with("aws:username", "bob")
    .with("aws:SourceIp", "10.9.9.7")
    .with("aws:CurrentTime", "2026-11-28T12:00:00Z");
    let policies = Policies {
        identity: identity.iter().collect(),
        trust: false,
        boundary: None,
        session: None,
        resource: Some(&bucket),
        resource_account: "111122223333".to_owned(),
    };
    c.bench_function("decide: 10 policies x 10 statements + bucket policy", |b| {
        b.iter(|| decide(black_box(&policies), black_box(&ctx)))
    });
    // The common case: one AWS managed policy (AmazonS3ReadOnlyAccess), no bucket policy.
    let read_only = coffer_policy::aws_managed::find("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess").unwrap();
    let typical = Policies {
        identity: vec![&read_only.policy],
        trust: false,
        boundary: None,
        session: None,
        resource: None,
        resource_account: "111122223333".to_owned(),
    };
    c.bench_function("decide: AmazonS3ReadOnlyAccess alone", |b| {
        b.iter(|| decide(black_box(&typical), black_box(&ctx)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
