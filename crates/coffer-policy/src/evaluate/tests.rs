//! The evaluation logic against the IAM user guide's examples, and the rules that must always
//! hold, as property tests.

use proptest::prelude::*;

use super::*;
use crate::document::PolicyKind;

const ACCOUNT: &str = "111122223333";
const OTHER: &str = "444455556666";

fn identity(text: &str) -> Policy {
    Policy::parse(text, PolicyKind::Identity).unwrap()
}

fn resource_policy(text: &str) -> Policy {
    Policy::parse(text, PolicyKind::Resource).unwrap()
}

fn user(account: &str, name: &str) -> RequestPrincipal {
    RequestPrincipal {
        arn: format!("arn:aws:iam::{account}:user/{name}"),
        account_id: account.to_owned(),
        is_root: false,
        entity_arn: None,
        federated: false,
        service: false,
    }
}

fn root(account: &str) -> RequestPrincipal {
    RequestPrincipal {
        arn: format!("arn:aws:iam::{account}:root"),
        account_id: account.to_owned(),
        is_root: true,
        entity_arn: None,
        federated: false,
        service: false,
    }
}

fn request(action: &str, resource: &str, who: Option<RequestPrincipal>) -> RequestContext {
    let username = who
        .as_ref()
        .filter(|p| !p.is_root)
        .and_then(|p| p.arn.rsplit('/').next().map(str::to_owned));
    let ctx = RequestContext::new(action, resource, who);
    match username {
        Some(name) => ctx.with("aws:username", name),
        None => ctx,
    }
}

fn policies<'a>(identity: &[&'a Policy], resource: Option<&'a Policy>) -> Policies<'a> {
    Policies {
        identity: identity.to_vec(),
        trust: false,
        boundary: None,
        session: None,
        resource,
        resource_account: ACCOUNT.to_owned(),
    }
}

const READ_ONLY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}"#;

#[test]
fn no_policy_is_an_implicit_deny() {
    let ctx = request("s3:GetObject", "arn:aws:s3:::b/k", Some(user(ACCOUNT, "alice")));
    assert_eq!(decide(&policies(&[], None), &ctx), Decision::ImplicitDeny);
}

#[test]
fn read_only_allows_reads_not_writes() {
    let read_only = identity(READ_ONLY);
    let alice = Some(user(ACCOUNT, "alice"));
    let get = request("s3:GetObject", "arn:aws:s3:::b/k", alice.clone());
    let put = request("s3:PutObject", "arn:aws:s3:::b/k", alice);
    assert_eq!(decide(&policies(&[&read_only], None), &get), Decision::Allow);
    assert_eq!(decide(&policies(&[&read_only], None), &put), Decision::ImplicitDeny);
}

#[test]
fn actions_ignore_case_and_resources_do_not() {
    let policy = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"S3:getobject","Resource":"arn:aws:s3:::Photos/*"}}"#,
    );
    let alice = Some(user(ACCOUNT, "alice"));
    assert_eq!(
        decide(
            &policies(&[&policy], None),
            &request("s3:GetObject", "arn:aws:s3:::Photos/x", alice.clone())
        ),
        Decision::Allow
    );
    assert_eq!(
        decide(
            &policies(&[&policy], None),
            &request("s3:GetObject", "arn:aws:s3:::photos/x", alice)
        ),
        Decision::ImplicitDeny
    );
}

#[test]
fn the_home_folder_policy() {
    // IAM user guide, "Allows IAM users to access their own home directory in Amazon S3".
    let home = identity(
        r#"{"Version":"2012-10-17","Statement":[
          {"Sid":"ListOwnFolder","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::holiday-photos",
           "Condition":{"StringLike":{"s3:prefix":["","home/","home/${aws:username}/*"]}}},
          {"Sid":"OwnObjects","Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:DeleteObject"],
           "Resource":"arn:aws:s3:::holiday-photos/home/${aws:username}/*"}]}"#,
    );
    let bob = Some(user(ACCOUNT, "bob"));
    let p = policies(&[&home], None);
    let put = |key: &str| {
        request(
            "s3:PutObject",
            &format!("arn:aws:s3:::holiday-photos/{key}"),
            bob.clone(),
        )
    };
    assert_eq!(decide(&p, &put("home/bob/cv.pdf")), Decision::Allow);
    assert_eq!(decide(&p, &put("home/alice/cv.pdf")), Decision::ImplicitDeny);
    let list =
        |prefix: &str| request("s3:ListBucket", "arn:aws:s3:::holiday-photos", bob.clone()).with("s3:prefix", prefix);
    assert_eq!(decide(&p, &list("home/bob/")), Decision::Allow);
    assert_eq!(decide(&p, &list("")), Decision::Allow);
    assert_eq!(decide(&p, &list("home/alice/")), Decision::ImplicitDeny);
}

#[test]
fn a_group_deny_beats_a_user_allow() {
    let allow_all = identity(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#);
    let deny_delete =
        identity(r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"}}"#);
    let ctx = request("s3:DeleteObject", "arn:aws:s3:::b/k", Some(user(ACCOUNT, "alice")));
    assert_eq!(
        decide(&policies(&[&allow_all, &deny_delete], None), &ctx),
        Decision::ExplicitDeny
    );
}

#[test]
fn a_boundary_intersects() {
    let admin = identity(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#);
    let s3_only = identity(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#);
    let alice = Some(user(ACCOUNT, "alice"));
    let mut p = policies(&[&admin], None);
    p.boundary = Some(&s3_only);
    assert_eq!(
        decide(&p, &request("s3:GetObject", "arn:aws:s3:::b/k", alice.clone())),
        Decision::Allow
    );
    assert_eq!(
        decide(
            &p,
            &request("iam:CreateUser", "arn:aws:iam::111122223333:user/x", alice)
        ),
        Decision::ImplicitDeny
    );
}

#[test]
fn the_root_user_is_bounded_only_by_explicit_denies() {
    let ctx = request("s3:DeleteBucket", "arn:aws:s3:::b", Some(root(ACCOUNT)));
    assert_eq!(decide(&policies(&[], None), &ctx), Decision::Allow);
    let deny = resource_policy(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::b"}}"#,
    );
    assert_eq!(decide(&policies(&[], Some(&deny)), &ctx), Decision::ExplicitDeny);
}

#[test]
fn a_bucket_policy_naming_a_user_allows_on_its_own() {
    let grant = resource_policy(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#,
    );
    let alice = request("s3:GetObject", "arn:aws:s3:::b/k", Some(user(ACCOUNT, "alice")));
    let bob = request("s3:GetObject", "arn:aws:s3:::b/k", Some(user(ACCOUNT, "bob")));
    assert_eq!(decide(&policies(&[], Some(&grant)), &alice), Decision::Allow);
    assert_eq!(decide(&policies(&[], Some(&grant)), &bob), Decision::ImplicitDeny);
}

#[test]
fn a_bucket_policy_deny_beats_an_identity_allow() {
    let read_only = identity(READ_ONLY);
    let deny_unless_tls = resource_policy(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}}"#,
    );
    let ctx = request("s3:GetObject", "arn:aws:s3:::b/k", Some(user(ACCOUNT, "alice")));
    let plain = ctx.clone().with("aws:SecureTransport", "false");
    let tls = ctx.with("aws:SecureTransport", "true");
    assert_eq!(
        decide(&policies(&[&read_only], Some(&deny_unless_tls)), &plain),
        Decision::ExplicitDeny
    );
    assert_eq!(
        decide(&policies(&[&read_only], Some(&deny_unless_tls)), &tls),
        Decision::Allow
    );
}

#[test]
fn cross_account_access_needs_both_sides() {
    let grant_account = resource_policy(&format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{OTHER}:root"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}}}"#
    ));
    let read_only = identity(READ_ONLY);
    let carol = request("s3:GetObject", "arn:aws:s3:::b/k", Some(user(OTHER, "carol")));
    // The bucket's account grants to the other account; carol still needs her own permission.
    assert_eq!(
        decide(&policies(&[], Some(&grant_account)), &carol),
        Decision::ImplicitDeny
    );
    assert_eq!(
        decide(&policies(&[&read_only], Some(&grant_account)), &carol),
        Decision::Allow
    );
    // Her own permission alone does not reach into another account.
    assert_eq!(decide(&policies(&[&read_only], None), &carol), Decision::ImplicitDeny);
    // The other account's root needs only the grant.
    let other_root = request("s3:GetObject", "arn:aws:s3:::b/k", Some(root(OTHER)));
    assert_eq!(
        decide(&policies(&[], Some(&grant_account)), &other_root),
        Decision::Allow
    );
}

#[test]
fn anonymous_requests_only_through_a_public_bucket_policy() {
    let public = resource_policy(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#,
    );
    let anonymous = request("s3:GetObject", "arn:aws:s3:::b/k", None);
    assert_eq!(decide(&policies(&[], Some(&public)), &anonymous), Decision::Allow);
    assert_eq!(decide(&policies(&[], None), &anonymous), Decision::ImplicitDeny);
    let put = request("s3:PutObject", "arn:aws:s3:::b/k", None);
    assert_eq!(decide(&policies(&[], Some(&public)), &put), Decision::ImplicitDeny);
}

#[test]
fn not_principal_excludes_the_named() {
    let deny_all_but_alice = resource_policy(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"s3:*","Resource":"*"}}"#,
    );
    let admin = identity(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#);
    let alice = request("s3:GetObject", "arn:aws:s3:::b/k", Some(user(ACCOUNT, "alice")));
    let bob = request("s3:GetObject", "arn:aws:s3:::b/k", Some(user(ACCOUNT, "bob")));
    assert_eq!(
        decide(&policies(&[&admin], Some(&deny_all_but_alice)), &alice),
        Decision::Allow
    );
    assert_eq!(
        decide(&policies(&[&admin], Some(&deny_all_but_alice)), &bob),
        Decision::ExplicitDeny
    );
}

// Properties over random statements.

const ACTIONS: [&str; 6] = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "iam:CreateUser",
    "iam:ListUsers",
    "sts:GetCallerIdentity",
];
const ACTION_PATTERNS: [&str; 8] = [
    "*",
    "s3:*",
    "s3:Get*",
    "iam:*",
    "iam:List*",
    "s3:PutObject",
    "sts:*",
    "s3:?etObject",
];
const RESOURCES: [&str; 4] = [
    "arn:aws:s3:::b",
    "arn:aws:s3:::b/k",
    "arn:aws:s3:::c/k",
    "arn:aws:iam::111122223333:user/x",
];
const RESOURCE_PATTERNS: [&str; 5] = [
    "*",
    "arn:aws:s3:::b*",
    "arn:aws:s3:::*/k",
    "arn:aws:iam::*",
    "arn:aws:s3:::c/?",
];

fn statement_json(effect: &str, not_action: bool, actions: &[&str], resources: &[&str]) -> String {
    let element = if not_action { "NotAction" } else { "Action" };
    format!(
        r#"{{"Effect":"{effect}","{element}":{},"Resource":{}}}"#,
        serde_json::json!(actions),
        serde_json::json!(resources)
    )
}

fn policy_of(statements: &[String]) -> Policy {
    identity(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    ))
}

fn arb_statement(effect: &'static str) -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        proptest::sample::subsequence(ACTION_PATTERNS.to_vec(), 1..3),
        proptest::sample::subsequence(RESOURCE_PATTERNS.to_vec(), 1..3),
    )
        .prop_map(move |(not_action, actions, resources)| statement_json(effect, not_action, &actions, &resources))
}

proptest! {
    #[test]
    fn an_explicit_deny_always_wins(
        allows in proptest::collection::vec(arb_statement("Allow"), 0..4),
        deny in arb_statement("Deny"),
        action in prop::sample::select(ACTIONS.to_vec()),
        resource in prop::sample::select(RESOURCES.to_vec()),
        as_root in any::<bool>(),
    ) {
        let who = if as_root { root(ACCOUNT) } else { user(ACCOUNT, "alice") };
        let ctx = request(action, resource, Some(who));
        let mut statements = allows.clone();
        statements.push(deny.clone());
        let with_deny = policy_of(&statements);
        let deny_only = policy_of(&[deny]);
        let deny_applies = verdict(&deny_only, &ctx).denies;
        let decision = decide(&policies(&[&with_deny], None), &ctx);
        prop_assert_eq!(decision == Decision::ExplicitDeny, deny_applies);
    }

    #[test]
    fn adding_an_allow_never_removes_access(
        statements in proptest::collection::vec(prop_oneof![arb_statement("Allow"), arb_statement("Deny")], 1..4),
        extra in arb_statement("Allow"),
        action in prop::sample::select(ACTIONS.to_vec()),
        resource in prop::sample::select(RESOURCES.to_vec()),
    ) {
        let ctx = request(action, resource, Some(user(ACCOUNT, "alice")));
        let before = policy_of(&statements);
        let mut more = statements.clone();
        more.push(extra);
        let after = policy_of(&more);
        if decide(&policies(&[&before], None), &ctx) == Decision::Allow {
            prop_assert_eq!(decide(&policies(&[&after], None), &ctx), Decision::Allow);
        }
    }

    /// SimulateCustomPolicy answers what a real request by the same caller gets, and names
    /// only statements of the deciding effect.
    #[test]
    fn the_simulator_decides_as_requests_are_decided(
        statements in proptest::collection::vec(prop_oneof![arb_statement("Allow"), arb_statement("Deny")], 1..4),
        actions in proptest::sample::subsequence(ACTIONS.to_vec(), 1..4),
        resources in proptest::sample::subsequence(RESOURCES.to_vec(), 1..3),
    ) {
        use crate::simulate::{Simulation, Source, simulate};
        let policy = policy_of(&statements);
        let source = Source { id: "PolicyInputList.1".to_owned(), kind: "none".to_owned() };
        let simulation = Simulation {
            identity: vec![(&policy, source)],
            actions: actions.iter().map(|a| a.to_string()).collect(),
            resources: resources.iter().map(|r| r.to_string()).collect(),
            caller_arn: format!("arn:aws:iam::{ACCOUNT}:user/alice"),
            caller_account: ACCOUNT.to_owned(),
            resource_owner: ACCOUNT.to_owned(),
            ..Simulation::default()
        };
        let results = simulate(&simulation);
        prop_assert_eq!(results.len(), actions.len() * resources.len());
        for result in results {
            let ctx = request(&result.action, &result.resource, Some(user(ACCOUNT, "alice")));
            prop_assert_eq!(result.decision, decide(&policies(&[&policy], None), &ctx));
            let effect = match result.decision {
                Decision::Allow => Some(Effect::Allow),
                Decision::ExplicitDeny => Some(Effect::Deny),
                Decision::ImplicitDeny => None,
            };
            let expected = effect.map_or(0, |effect| matching_statements(&policy, effect, &ctx).len());
            prop_assert_eq!(result.matched.len(), expected);
            prop_assert_eq!(result.matched.is_empty(), result.decision == Decision::ImplicitDeny);
        }
    }

    #[test]
    fn not_action_is_the_complement_of_action(
        actions in proptest::collection::vec(prop::sample::select(ACTION_PATTERNS.to_vec()), 1..3),
        action in prop::sample::select(ACTIONS.to_vec()),
        resource in prop::sample::select(RESOURCES.to_vec()),
    ) {
        let ctx = request(action, resource, Some(user(ACCOUNT, "alice")));
        let is = policy_of(&[statement_json("Allow", false, &actions, &["*"])]);
        let not = policy_of(&[statement_json("Allow", true, &actions, &["*"])]);
        prop_assert_ne!(verdict(&is, &ctx).allows(), verdict(&not, &ctx).allows());
    }
}

#[test]
fn not_principal_naming_only_the_account_does_not_exempt_its_users() {
    let deny = resource_policy(&format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Deny","NotPrincipal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"s3:*","Resource":"*"}}}}"#
    ));
    let admin = identity(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#);
    let alice = request("s3:GetObject", "arn:aws:s3:::b/k", Some(user(ACCOUNT, "alice")));
    assert_eq!(
        decide(&policies(&[&admin], Some(&deny)), &alice),
        Decision::ExplicitDeny
    );
    let owner = request("s3:GetObject", "arn:aws:s3:::b/k", Some(root(ACCOUNT)));
    assert_eq!(decide(&policies(&[], Some(&deny)), &owner), Decision::Allow);
}

#[test]
fn a_grant_to_anyone_is_public_unless_pinned() {
    let public = |condition: &str| {
        resource_policy(&format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"{condition}}}}}"#
        ))
        .is_public()
    };
    assert!(public(""));
    assert!(public(r#","Condition":{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}"#));
    assert!(public(r#","Condition":{"Bool":{"aws:SecureTransport":"false"}}"#));
    assert!(!public(
        r#","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#
    ));
    assert!(!public(
        r#","Condition":{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}"#
    ));
}

fn session(account: &str, role: &str, name: &str) -> RequestPrincipal {
    RequestPrincipal {
        arn: format!("arn:aws:sts::{account}:assumed-role/{role}/{name}"),
        account_id: account.to_owned(),
        is_root: false,
        entity_arn: Some(format!("arn:aws:iam::{account}:role/{role}")),
        federated: false,
        service: false,
    }
}

fn bucket_policy_for(principal: &str) -> Policy {
    resource_policy(&format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}}}"#
    ))
}

const WRITE_ONLY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}"#;

#[test]
fn session_policies_narrow_and_never_widen() {
    let role = identity(READ_ONLY);
    let narrow = identity(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/public/*"}]}"#,
    );
    let wide = identity(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#);
    let who = || Some(session(ACCOUNT, "reader", "s1"));
    let decide_with = |session: Option<Vec<&Policy>>, action: &str, resource: &str| {
        let p = Policies {
            session,
            ..policies(&[&role], None)
        };
        decide(&p, &request(action, resource, who()))
    };
    // No session policy: the role's permissions.
    assert_eq!(decide_with(None, "s3:GetObject", "arn:aws:s3:::b/x"), Decision::Allow);
    // A session policy narrows them…
    assert_eq!(
        decide_with(Some(vec![&narrow]), "s3:GetObject", "arn:aws:s3:::b/public/x"),
        Decision::Allow
    );
    assert_eq!(
        decide_with(Some(vec![&narrow]), "s3:GetObject", "arn:aws:s3:::b/x"),
        Decision::ImplicitDeny
    );
    // …and never widens them.
    assert_eq!(
        decide_with(Some(vec![&wide]), "s3:PutObject", "arn:aws:s3:::b/x"),
        Decision::ImplicitDeny
    );
    // Several session policies: any of them may allow.
    assert_eq!(
        decide_with(Some(vec![&narrow, &wide]), "s3:GetObject", "arn:aws:s3:::b/x"),
        Decision::Allow
    );
    // An empty set (a federated user given no policy) allows nothing.
    assert_eq!(
        decide_with(Some(vec![]), "s3:GetObject", "arn:aws:s3:::b/x"),
        Decision::ImplicitDeny
    );
}

#[test]
fn a_resource_policy_naming_the_session_grants_directly_and_naming_the_role_within_limits() {
    let narrow_session = identity(WRITE_ONLY);
    let boundary = identity(WRITE_ONLY);
    let who = Some(session(ACCOUNT, "reader", "s1"));
    let ctx = request("s3:GetObject", "arn:aws:s3:::b/x", who);
    let by_session = bucket_policy_for(&format!("arn:aws:sts::{ACCOUNT}:assumed-role/reader/s1"));
    let by_role = bucket_policy_for(&format!("arn:aws:iam::{ACCOUNT}:role/reader"));
    let by_other_session = bucket_policy_for(&format!("arn:aws:sts::{ACCOUNT}:assumed-role/reader/s2"));
    let bounded = |resource: &Policy, session: Option<Vec<&Policy>>, boundary: Option<&Policy>| {
        let p = Policies {
            session,
            boundary,
            ..policies(&[], Some(resource))
        };
        decide(&p, &ctx)
    };
    // Named as the session: neither session policies nor the boundary limit the grant.
    assert_eq!(
        bounded(&by_session, Some(vec![&narrow_session]), Some(&boundary)),
        Decision::Allow
    );
    // Named as the role: the grant stands alone, but within the session policies and boundary.
    assert_eq!(bounded(&by_role, None, None), Decision::Allow);
    assert_eq!(
        bounded(&by_role, Some(vec![&narrow_session]), None),
        Decision::ImplicitDeny
    );
    assert_eq!(bounded(&by_role, None, Some(&boundary)), Decision::ImplicitDeny);
    // Another session of the same role is not this one.
    assert_eq!(bounded(&by_other_session, None, None), Decision::ImplicitDeny);
}

#[test]
fn a_session_across_accounts_needs_both_sides() {
    let role = identity(READ_ONLY);
    let who = Some(session(OTHER, "reader", "s1"));
    let ctx = request("s3:GetObject", "arn:aws:s3:::b/x", who);
    let by_role = bucket_policy_for(&format!("arn:aws:iam::{OTHER}:role/reader"));
    let by_account = bucket_policy_for(OTHER);
    for resource in [&by_role, &by_account] {
        assert_eq!(decide(&policies(&[&role], Some(resource)), &ctx), Decision::Allow);
        assert_eq!(decide(&policies(&[], Some(resource)), &ctx), Decision::ImplicitDeny);
        let narrowed = identity(WRITE_ONLY);
        let p = Policies {
            session: Some(vec![&narrowed]),
            ..policies(&[&role], Some(resource))
        };
        assert_eq!(decide(&p, &ctx), Decision::ImplicitDeny);
    }
    assert_eq!(decide(&policies(&[&role], None), &ctx), Decision::ImplicitDeny);
}

proptest! {
    /// Whatever the policies, a session policy never turns a denial into an allow, and an
    /// explicit Deny in a session policy always wins.
    #[test]
    fn session_policies_only_take_away(
        role in proptest::collection::vec(prop_oneof![arb_statement("Allow"), arb_statement("Deny")], 1..4),
        session_statements in proptest::collection::vec(prop_oneof![arb_statement("Allow"), arb_statement("Deny")], 0..4),
        action in prop::sample::select(ACTIONS.to_vec()),
        resource in prop::sample::select(RESOURCES.to_vec()),
    ) {
        let ctx = request(action, resource, Some(session(ACCOUNT, "r", "s")));
        let role = policy_of(&role);
        let without = decide(&policies(&[&role], None), &ctx);
        let session_policy = (!session_statements.is_empty()).then(|| policy_of(&session_statements));
        let with = decide(&Policies { session: Some(session_policy.iter().collect()), ..policies(&[&role], None) }, &ctx);
        if with == Decision::Allow {
            prop_assert_eq!(without, Decision::Allow);
        }
        if session_policy.as_ref().is_some_and(|p| verdict(p, &ctx).denies) {
            prop_assert_eq!(with, Decision::ExplicitDeny);
        }
    }
}

#[test]
fn an_identity_providers_user_matches_only_a_federated_principal() {
    let provider = format!("arn:aws:iam::{ACCOUNT}:oidc-provider/ci.example.com");
    let who = RequestPrincipal {
        arn: provider.clone(),
        account_id: ACCOUNT.to_owned(),
        federated: true,
        ..RequestPrincipal::default()
    };
    let trust = |principal: &str| {
        resource_policy(&format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{principal},"Action":"sts:AssumeRoleWithWebIdentity"}}}}"#
        ))
    };
    let ctx = request(
        "sts:AssumeRoleWithWebIdentity",
        "arn:aws:iam::111122223333:role/r",
        Some(who),
    );
    let decide_by = |policy: &Policy| decide(&policies(&[], Some(policy)), &ctx);
    assert_eq!(
        decide_by(&trust(&format!(r#"{{"Federated":"{provider}"}}"#))),
        Decision::Allow
    );
    // Not as an AWS principal, not through the account, not another provider.
    assert_eq!(
        decide_by(&trust(&format!(r#"{{"AWS":"{provider}"}}"#))),
        Decision::ImplicitDeny
    );
    assert_eq!(
        decide_by(&trust(&format!(r#"{{"AWS":"{ACCOUNT}"}}"#))),
        Decision::ImplicitDeny
    );
    // Nor as "anyone": that means AWS principals, not every registered provider's users.
    assert_eq!(decide_by(&trust(r#"{"AWS":"*"}"#)), Decision::ImplicitDeny);
    assert_eq!(decide_by(&trust(r#""*""#)), Decision::ImplicitDeny);
    assert_eq!(
        decide_by(&trust(&format!(
            r#"{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/other.example.com"}}"#
        ))),
        Decision::ImplicitDeny
    );
}

#[test]
fn a_service_is_allowed_only_by_a_resource_policy_naming_it() {
    let logging = RequestPrincipal {
        arn: "logging.s3.amazonaws.com".to_owned(),
        service: true,
        ..RequestPrincipal::default()
    };
    let ctx = request("s3:PutObject", "arn:aws:s3:::logs/log/x", Some(logging))
        .with("aws:SourceArn", "arn:aws:s3:::source")
        .with("aws:SourceAccount", ACCOUNT);
    let bucket_policy = |principal: &str, condition: &str| {
        resource_policy(&format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{principal},"Action":"s3:PutObject","Resource":"arn:aws:s3:::logs/log/*"{condition}}}}}"#
        ))
    };
    let decide_by = |policy: &Policy| decide(&policies(&[], Some(policy)), &ctx);
    let service = r#"{"Service":"logging.s3.amazonaws.com"}"#;
    assert_eq!(decide_by(&bucket_policy(service, "")), Decision::Allow);
    let source = r#","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::source"}}"#;
    assert_eq!(decide_by(&bucket_policy(service, source)), Decision::Allow);
    let other_source = r#","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::other"}}"#;
    assert_eq!(decide_by(&bucket_policy(service, other_source)), Decision::ImplicitDeny);
    // Not another service, not an account, and never by identity policies.
    assert_eq!(
        decide_by(&bucket_policy(r#"{"Service":"cloudtrail.amazonaws.com"}"#, "")),
        Decision::ImplicitDeny
    );
    assert_eq!(
        decide_by(&bucket_policy(&format!(r#"{{"AWS":"{ACCOUNT}"}}"#), "")),
        Decision::ImplicitDeny
    );
    let everything = identity(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#);
    assert_eq!(decide(&policies(&[&everything], None), &ctx), Decision::ImplicitDeny);
}

#[test]
fn a_trust_policy_must_let_the_caller_in_even_in_its_own_account() {
    let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/r");
    let may_assume_anything =
        identity(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}}"#);
    let trust = |principal: &str| {
        resource_policy(&format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"sts:AssumeRole"}}}}"#
        ))
    };
    let ctx = request("sts:AssumeRole", &role_arn, Some(user(ACCOUNT, "bob")));
    let decide_trust = |identity: &[&Policy], trust: &Policy| {
        decide(
            &Policies {
                trust: true,
                ..policies(identity, Some(trust))
            },
            &ctx,
        )
    };
    // Naming someone else: bob's own allow does not let him in (it would for a bucket policy).
    let carol = trust(&format!("arn:aws:iam::{ACCOUNT}:user/carol"));
    assert_eq!(decide_trust(&[&may_assume_anything], &carol), Decision::ImplicitDeny);
    assert_eq!(
        decide(&policies(&[&may_assume_anything], Some(&carol)), &ctx),
        Decision::Allow
    );
    // Naming the account: bob's own policies decide.
    let account = trust(&format!("arn:aws:iam::{ACCOUNT}:root"));
    assert_eq!(decide_trust(&[&may_assume_anything], &account), Decision::Allow);
    assert_eq!(decide_trust(&[], &account), Decision::ImplicitDeny);
    // Naming bob: no policy of his own is needed.
    let bob = trust(&format!("arn:aws:iam::{ACCOUNT}:user/bob"));
    assert_eq!(decide_trust(&[], &bob), Decision::Allow);
}
