use super::*;
use proptest::prelude::*;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// `{"expiration": "2030-01-01T00:00:00Z", "conditions": [{"bucket": "photos"},
/// ["starts-with", "$key", "user/"]]}`, signed below by Python's hmac (an independent signer).
const POLICY: &str = "eyJleHBpcmF0aW9uIjogIjIwMzAtMDEtMDFUMDA6MDA6MDBaIiwgImNvbmRpdGlvbnMiOiBbeyJidWNrZXQiOiAicGhvdG9zIn0sIFsic3RhcnRzLXdpdGgiLCAiJGtleSIsICJ1c2VyLyJdXX0=";
const V4_SIGNATURE: &str = "ac81f22a210193c0e6b7216cd438e09d65732cfb76bbcb21c239f6349ca903f9";
const V2_SIGNATURE: &str = "f1853csyI8yveTEzjAwhH6YaTHg=";

fn form(pairs: &[(&str, &str)]) -> FormFields {
    let mut fields = FormFields::default();
    for (name, value) in pairs {
        fields.push(name, (*value).to_owned());
    }
    fields
}

fn encode(json: &str) -> String {
    BASE64.encode(json)
}

fn now() -> OffsetDateTime {
    time::macros::datetime!(2026-12-06 08:00 UTC)
}

fn policy(conditions: &str) -> PostPolicy {
    PostPolicy::parse(&encode(&format!(
        r#"{{"expiration": "2030-01-01T00:00:00.000Z", "conditions": {conditions}}}"#
    )))
    .unwrap()
}

fn v4_form(signature: &str) -> FormFields {
    form(&[
        ("key", "user/a.jpg"),
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
        ("X-Amz-Credential", "AKIDEXAMPLE/20261206/us-east-1/s3/aws4_request"),
        ("X-Amz-Date", "20261206T000000Z"),
        ("Policy", POLICY),
        ("X-Amz-Signature", signature),
    ])
}

#[test]
fn a_v4_signature_over_the_policy_text_verifies_and_a_changed_one_does_not() {
    let signature = FormSignature::of(&v4_form(V4_SIGNATURE)).unwrap();
    assert_eq!(signature.access_key_id(), Some("AKIDEXAMPLE"));
    assert_eq!(signature.verify(POLICY, SECRET), Ok(()));
    assert_eq!(
        signature.verify(POLICY, "another secret"),
        Err(FormRefusal::SignatureMismatch)
    );
    let tampered = POLICY.replace("XX0=", "XQ==");
    assert_eq!(signature.verify(&tampered, SECRET), Err(FormRefusal::SignatureMismatch));
    let wrong = FormSignature::of(&v4_form(&V4_SIGNATURE.replace('a', "b"))).unwrap();
    assert_eq!(wrong.verify(POLICY, SECRET), Err(FormRefusal::SignatureMismatch));
}

#[test]
fn a_v2_signature_is_base64_hmac_sha1_of_the_policy_text() {
    let fields = form(&[
        ("AWSAccessKeyId", "AKIDEXAMPLE"),
        ("policy", POLICY),
        ("Signature", V2_SIGNATURE),
    ]);
    let signature = FormSignature::of(&fields).unwrap();
    assert_eq!(signature.version(), Some("AWS"));
    assert_eq!(signature.verify(POLICY, SECRET), Ok(()));
    let reversed: String = V2_SIGNATURE.chars().rev().collect();
    let fields = form(&[
        ("AWSAccessKeyId", "AKIDEXAMPLE"),
        ("policy", POLICY),
        ("signature", &reversed),
    ]);
    assert_eq!(
        FormSignature::of(&fields).unwrap().verify(POLICY, SECRET),
        Err(FormRefusal::SignatureMismatch)
    );
}

#[test]
fn a_partly_signed_form_names_the_first_missing_field() {
    let fields = form(&[("AWSAccessKeyId", "AKIDEXAMPLE"), ("policy", POLICY)]);
    assert_eq!(FormSignature::of(&fields), Err(FormRefusal::MissingField("Signature")));
    let fields = form(&[("signature", V2_SIGNATURE), ("policy", POLICY)]);
    assert_eq!(
        FormSignature::of(&fields),
        Err(FormRefusal::MissingField("AWSAccessKeyId"))
    );
    let fields = form(&[("AWSAccessKeyId", "AKIDEXAMPLE"), ("signature", V2_SIGNATURE)]);
    assert_eq!(FormSignature::of(&fields), Err(FormRefusal::MissingField("Policy")));
    let fields = form(&[("x-amz-signature", V4_SIGNATURE), ("policy", POLICY)]);
    assert_eq!(
        FormSignature::of(&fields),
        Err(FormRefusal::MissingField("X-Amz-Algorithm"))
    );
    assert_eq!(
        FormSignature::of(&form(&[("key", "a"), ("policy", POLICY)])),
        Ok(FormSignature::Anonymous)
    );
}

#[test]
fn a_v4_credential_must_be_for_s3_on_the_forms_day() {
    let other_day = form(&[
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
        ("X-Amz-Credential", "AKIDEXAMPLE/20261205/us-east-1/s3/aws4_request"),
        ("X-Amz-Date", "20261206T000000Z"),
        ("Policy", POLICY),
        ("X-Amz-Signature", V4_SIGNATURE),
    ]);
    assert!(matches!(
        FormSignature::of(&other_day),
        Err(FormRefusal::InvalidField(_))
    ));
    let other_algorithm = form(&[
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA512"),
        ("X-Amz-Credential", "AKIDEXAMPLE/20261206/us-east-1/s3/aws4_request"),
        ("X-Amz-Date", "20261206T000000Z"),
        ("Policy", POLICY),
        ("X-Amz-Signature", V4_SIGNATURE),
    ]);
    assert!(matches!(
        FormSignature::of(&other_algorithm),
        Err(FormRefusal::InvalidField(_))
    ));
}

#[test]
fn the_policy_document_is_read_with_case_and_refused_with_s3s_messages() {
    let refused = |json: &str| match PostPolicy::parse(&encode(json)) {
        Err(FormRefusal::InvalidPolicy(message)) => message,
        other => panic!("{json}: {other:?}"),
    };
    assert_eq!(
        refused(r#"{"EXPIRATION": "2030-01-01T00:00:00Z", "conditions": []}"#),
        "Invalid Policy: Policy missing expiration."
    );
    assert_eq!(
        refused(r#"{"expiration": "2030-01-01T00:00:00Z", "CONDITIONS": []}"#),
        "Invalid Policy: Policy missing conditions."
    );
    assert_eq!(refused("not json"), "Invalid Policy: Invalid JSON.");
    assert!(refused(r#"{"expiration": "2030-01-01 00:00:00+00:00", "conditions": []}"#).contains("expiration"));
    assert!(refused(r#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [{}]}"#).contains("exactly one property"));
    assert!(
        refused(r#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [{"a": "1", "b": "2"}]}"#)
            .contains("exactly one property")
    );
    assert!(
        refused(r#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", 0]]}"#)
            .contains("arguments")
    );
    assert!(
        refused(r#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", -1, 0]]}"#)
            .contains("negative")
    );
    assert!(
        refused(r#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", "0", "-1"]]}"#)
            .contains("negative")
    );
    assert!(
        refused(r#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [["matches", "$key", "a"]]}"#)
            .contains("unknown")
    );
    assert!(matches!(PostPolicy::parse("%%%"), Err(FormRefusal::InvalidPolicy(_))));
}

#[test]
fn an_expired_policy_allows_nothing() {
    let expired = PostPolicy::parse(&encode(r#"{"expiration": "2026-12-06T07:59:59Z", "conditions": []}"#)).unwrap();
    assert_eq!(
        expired.check(&form(&[]), "photos", now()),
        Err(FormRefusal::NotAllowed(
            "Invalid according to Policy: Policy expired.".to_owned()
        ))
    );
}

#[test]
fn conditions_name_fields_without_case_and_compare_values_with_it() {
    let policy = policy(r#"[{"bUcKeT": "photos"}, ["StArTs-WiTh", "$KeY", "user/"], {"AcL": "private"}]"#);
    let fields = form(&[("kEy", "user/a.jpg"), ("aCl", "private"), ("pOLICy", "x")]);
    assert_eq!(policy.check(&fields, "photos", now()), Ok(()));
    let fields = form(&[("key", "user/a.jpg"), ("acl", "PRIVATE")]);
    assert_eq!(
        policy.check(&fields, "photos", now()),
        Err(FormRefusal::NotAllowed(
            r#"Invalid according to Policy: Policy Condition failed: ["eq", "$AcL", "private"]"#.to_owned()
        ))
    );
}

#[test]
fn the_bucket_condition_is_held_by_the_bucket_posted_to_not_by_a_field() {
    let policy = policy(r#"[{"bucket": "photos"}, ["starts-with", "$bucket", ""], ["starts-with", "$key", ""]]"#);
    let fields = form(&[("key", "a"), ("bucket", "photos")]);
    assert_eq!(policy.check(&fields, "photos", now()), Ok(()));
    assert!(matches!(
        policy.check(&fields, "videos", now()),
        Err(FormRefusal::NotAllowed(_))
    ));
}

#[test]
fn every_field_but_the_exempt_must_be_named_by_a_condition() {
    let policy = policy(r#"[["starts-with", "$key", ""]]"#);
    let fields = form(&[
        ("key", "a"),
        ("AWSAccessKeyId", "AKID"),
        ("signature", "s"),
        ("policy", "p"),
        ("x-ignore-foo", "bar"),
        ("x-amz-checksum-sha256", "abc"),
    ]);
    let mut unknown_checksum = fields.clone();
    unknown_checksum.push("x-amz-checksum-type", "COMPOSITE".to_owned());
    assert!(policy.check(&unknown_checksum, "photos", now()).is_err());
    assert_eq!(policy.check(&fields, "photos", now()), Ok(()));
    let mut extra = fields.clone();
    extra.push("Content-Type", "text/plain".to_owned());
    assert_eq!(
        policy.check(&extra, "photos", now()),
        Err(FormRefusal::NotAllowed(
            "Invalid according to Policy: Extra input fields: content-type".to_owned()
        ))
    );
    // SigV4's own fields are not exempt: its policy names them.
    let mut v4 = fields;
    v4.push("x-amz-credential", "AKID/20261206/us-east-1/s3/aws4_request".to_owned());
    assert!(policy.check(&v4, "photos", now()).is_err());
}

#[test]
fn an_absent_field_reads_as_empty() {
    let policy = policy(r#"[["starts-with", "$x-amz-server-side-encryption", ""], ["eq", "$x-amz-meta-foo", ""]]"#);
    assert_eq!(policy.check(&form(&[]), "photos", now()), Ok(()));
    let policy = self::policy(r#"[["eq", "$x-amz-meta-foo", "barclamp"]]"#);
    assert!(policy.check(&form(&[]), "photos", now()).is_err());
}

#[test]
fn a_condition_without_a_dollar_field_never_holds() {
    let policy = policy(r#"[["eq", "key", "a"]]"#);
    assert!(matches!(
        policy.check(&form(&[("key", "a")]), "photos", now()),
        Err(FormRefusal::NotAllowed(_))
    ));
}

#[test]
fn each_listed_content_type_must_start_with_the_prefix() {
    let policy = policy(r#"[["starts-with", "$Content-Type", "image/"]]"#);
    let ok = form(&[("content-type", "image/png, image/jpeg")]);
    assert_eq!(policy.check(&ok, "photos", now()), Ok(()));
    let mixed = form(&[("content-type", "image/png,text/html")]);
    assert!(policy.check(&mixed, "photos", now()).is_err());
}

#[test]
fn length_ranges_take_numbers_or_numeric_strings_and_the_tightest_wins() {
    assert_eq!(
        policy(r#"[["content-length-range", 1, 1024]]"#).length_range(),
        Some((1, 1024))
    );
    assert_eq!(
        policy(r#"[["content-length-range", "5", "10"], ["content-length-range", 0, 8]]"#).length_range(),
        Some((5, 8))
    );
    assert_eq!(policy(r#"[["starts-with", "$key", ""]]"#).length_range(), None);
    let unreadable = policy(r#"[["content-length-range", "test", "10"]]"#);
    assert!(matches!(
        unreadable.check(&form(&[]), "photos", now()),
        Err(FormRefusal::NotAllowed(_))
    ));
}

#[test]
fn filename_expands_in_the_key_to_the_last_segment_of_the_files_name() {
    let mut fields = form(&[("key", "uploads/${filename}"), ("x-amz-meta-name", "${filename}")]);
    fields.expand_filename("C:\\Users\\me\\photo.jpg").unwrap();
    assert_eq!(fields.get("key").as_deref(), Some("uploads/photo.jpg"));
    assert_eq!(fields.get("x-amz-meta-name").as_deref(), Some("${filename}"));
    let mut long = form(&[("key", "${filename}")]);
    assert!(long.expand_filename(&"a".repeat(1025)).is_err());
}

#[test]
fn an_anonymous_form_never_verifies() {
    assert_eq!(
        FormSignature::Anonymous.verify(POLICY, SECRET),
        Err(FormRefusal::SignatureMismatch)
    );
}

#[test]
fn a_field_sent_twice_reads_as_its_values_joined() {
    let fields = form(&[("x-amz-meta-a", "1"), ("X-Amz-Meta-A", "2")]);
    assert_eq!(fields.get("x-amz-meta-a").as_deref(), Some("1,2"));
    assert_eq!(fields.names(), vec!["x-amz-meta-a"]);
}

proptest! {
    /// No field outside the exempt set slips past a policy that does not name it.
    #[test]
    fn an_unnamed_field_is_always_refused(name in "[a-zA-Z][a-zA-Z0-9-]{0,20}", value in ".{0,20}") {
        let lower = name.to_ascii_lowercase();
        prop_assume!(!exempt(&lower) && lower != "key");
        let policy = policy(r#"[["starts-with", "$key", ""]]"#);
        let fields = form(&[("key", "a"), (&name, &value)]);
        prop_assert!(matches!(policy.check(&fields, "photos", now()), Err(FormRefusal::NotAllowed(_))));
    }

    /// A starts-with condition holds exactly for values with the prefix.
    #[test]
    fn starts_with_holds_exactly_for_the_prefix(prefix in "[a-z/]{0,6}", value in "[a-z/]{0,10}") {
        let policy = policy(&format!(r#"[["starts-with", "$key", "{prefix}"]]"#));
        let fields = form(&[("key", &value)]);
        prop_assert_eq!(policy.check(&fields, "photos", now()).is_ok(), value.starts_with(&prefix));
    }
}
