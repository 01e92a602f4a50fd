//! Least privilege through real clients: policies of every kind, enforced on the next
//! request. The areas: identity-based policies, bucket policies, condition keys, the
//! simulator.

mod bucket;
mod conditions;
mod identity;
mod simulator;

use aws_sdk_s3::primitives::ByteStream;

use crate::harness::Coffer;

pub const READ_ONLY_S3: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}"#;

/// The photos bucket most tests start from.
pub async fn photos(coffer: &Coffer) {
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("holiday-photos").send().await.unwrap();
    for key in ["beach.jpg", "home/bob/cv.pdf", "home/alice/notes.txt"] {
        s3.put_object()
            .bucket("holiday-photos")
            .key(key)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
}

/// Puts the inline policy `name` on `user` (the caller must be allowed to).
pub async fn grant(iam: &aws_sdk_iam::Client, user: &str, name: &str, document: &str) {
    iam.put_user_policy()
        .user_name(user)
        .policy_name(name)
        .policy_document(document)
        .send()
        .await
        .unwrap();
}
