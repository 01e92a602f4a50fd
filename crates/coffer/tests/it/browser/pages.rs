//! Every console page in Chromium, at a laptop's and at a phone's width: no sideways
//! scrolling, no Content-Security-Policy violation in the browser's console, a screenshot of
//! each. And the console's own guidance, clicked through as a person would: deleting a user
//! that has keys and a password, attaching a policy with the picker, refusals before anything
//! is half done, errors on the form with the input kept, a read-only user's failed upload.

use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;

use super::*;
use crate::harness::{Coffer, ROOT_KEY_ID, ROOT_SECRET, code};

fn start() -> Coffer {
    Coffer::start_with(&[
        ("COFFER_ROOT_ACCESS_KEY_ID", ROOT_KEY_ID),
        ("COFFER_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET),
        ("COFFER_ROOT_PASSWORD", ROOT_PASSWORD),
    ])
}

/// Waits until the element at `css` says `expected` (the page after a click may still be on
/// its way, and the old page's element goes stale).
async fn wait_for_text(client: &Client, css: &str, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(element) = client.find(fantoccini::Locator::Css(css)).await
            && let Ok(text) = element.text().await
            && text == expected
        {
            return;
        }
        assert!(Instant::now() < deadline, "{css} never said {expected:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the page's source holds `needle`.
async fn wait_text(client: &Client, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let source = client.source().await.unwrap();
        if source.contains(needle) {
            return source;
        }
        assert!(Instant::now() < deadline, "the page never said {needle:?}:\n{source}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn every_page_fits_a_laptop_and_a_phone_without_csp_violations() {
    let coffer = start();
    let account = coffer.account_id().await;
    let iam = coffer.root_iam();
    // Names of the longest kinds IAM and S3 allow, so overflow would show.
    let group = format!("g{}", "x".repeat(127));
    let user = format!("u{}", "y".repeat(63));
    iam.create_group().group_name(&group).send().await.unwrap();
    iam.create_user().user_name(&user).send().await.unwrap();
    iam.create_role()
        .role_name(format!("r{}", "z".repeat(63)))
        .assume_role_policy_document(format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"sts:AssumeRole"}}}}"#
        ))
        .send()
        .await
        .unwrap();
    iam.add_user_to_group()
        .group_name(&group)
        .user_name(&user)
        .send()
        .await
        .unwrap();
    iam.create_access_key().user_name(&user).send().await.unwrap();
    iam.create_login_profile()
        .user_name(&user)
        .password("Long-User-Pass-2026!")
        .send()
        .await
        .unwrap();
    let s3 = coffer.root_s3();
    let bucket = format!("b{}", "z".repeat(62));
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let folder = "f".repeat(300);
    let key = format!("{folder}/{}.txt", "n".repeat(200));
    s3.put_object()
        .bucket(&bucket)
        .key(&key)
        .body(ByteStream::from_static(b"long"))
        .send()
        .await
        .unwrap();
    let enc = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
    let pages = [
        ("home", "/".to_owned()),
        ("my-credentials", "/iam/my-credentials".to_owned()),
        ("users", "/iam/users".to_owned()),
        ("new-user", "/iam/new-user".to_owned()),
        ("user", format!("/iam/users/{user}")),
        ("key-use-case", format!("/iam/users/{user}/access-keys/new")),
        (
            "key-description",
            format!("/iam/users/{user}/access-keys/new?use_case=cli"),
        ),
        ("groups", "/iam/groups".to_owned()),
        ("group", format!("/iam/groups/{group}")),
        ("roles", "/iam/roles".to_owned()),
        ("role", format!("/iam/roles/r{}", "z".repeat(63))),
        ("switch-role", "/switch-role".to_owned()),
        ("identity-providers", "/iam/identity-providers".to_owned()),
        ("policies", "/iam/policies".to_owned()),
        (
            "policy",
            format!(
                "/iam/policy?arn={}",
                enc("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
            ),
        ),
        ("policy-editor", "/iam/policy/edit".to_owned()),
        ("account", "/iam/account".to_owned()),
        ("buckets", "/s3/buckets".to_owned()),
        ("new-bucket", "/s3/new-bucket".to_owned()),
        ("bucket", format!("/s3/buckets/{bucket}")),
        (
            "folder",
            format!("/s3/buckets/{bucket}?prefix={}", enc(&format!("{folder}/"))),
        ),
        ("object", format!("/s3/buckets/{bucket}/object?key={}", enc(&key))),
        ("bucket-policy", format!("/s3/buckets/{bucket}/policy")),
        ("bucket-permissions", format!("/s3/buckets/{bucket}/permissions")),
        ("bucket-properties", format!("/s3/buckets/{bucket}/properties")),
        ("not-found", "/no/such/page".to_owned()),
    ];
    let downloads = tempfile::tempdir().unwrap();
    let driver = driver();
    let client = browser(&driver, downloads.path()).await;
    sign_in(&client, &coffer, &account, "", ROOT_PASSWORD).await;
    let mut violations = Vec::new();
    for (width, label) in [(1366, "laptop"), (390, "phone")] {
        client.set_window_size(width, 900).await.unwrap();
        for (name, path) in &pages {
            client.goto(&format!("{}{path}", coffer.console)).await.unwrap();
            find(&client, "main").await;
            let widths = client
                .execute(
                    "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];",
                    vec![],
                )
                .await
                .unwrap();
            if widths[0] != widths[1] {
                // Name the elements that stick out, for the failure message.
                let wide = client
                    .execute(
                        "const root = document.documentElement, found = []; \
                         const walk = (n, depth) => { if (depth > 6) return; for (const c of n.children) { const before = root.scrollWidth; const d = c.style.display; c.style.display = 'none'; const after = root.scrollWidth; c.style.display = d; if (after < before) { found.push(depth + ':' + c.tagName + '.' + c.className + '#' + c.id + ' ' + before + '>' + after); walk(c, depth + 1); } } }; \
                         walk(document.querySelector('main'), 0); return found.slice(0, 20);",
                        vec![],
                    )
                    .await
                    .unwrap();
                panic!("{name} at {width} px is wider than the window: {widths}; sticking out: {wide}");
            }
            let inline = client
                .execute("return document.querySelectorAll('style, [style]').length;", vec![])
                .await
                .unwrap();
            assert_eq!(inline, 0, "inline styles on {name}");
            shot(&client, &format!("page-{label}-{name}")).await;
            violations.extend(
                console_messages(&client)
                    .await
                    .into_iter()
                    .filter(|m| m.contains("Content Security Policy"))
                    .map(|m| format!("{name} at {width} px: {m}")),
            );
        }
    }
    // Signed out, the sign-in page too.
    client.goto(&format!("{}/", coffer.console)).await.unwrap();
    click(&client, "form[action='/signout'] button").await;
    wait_path(&client, "/signin").await;
    for (width, label) in [(1366, "laptop"), (390, "phone")] {
        client.set_window_size(width, 900).await.unwrap();
        client.refresh().await.unwrap();
        find(&client, "#account").await;
        shot(&client, &format!("page-{label}-signin")).await;
    }
    violations.extend(
        console_messages(&client)
            .await
            .into_iter()
            .filter(|m| m.contains("Content Security Policy")),
    );
    assert!(violations.is_empty(), "CSP violations:\n{}", violations.join("\n"));
    client.close().await.unwrap();
}

#[tokio::test]
async fn a_user_with_a_key_and_a_password_is_deleted_through_the_consoles_guidance() {
    let coffer = start();
    let account = coffer.account_id().await;
    let iam = coffer.root_iam();
    let (key_id, _) = coffer.user_with_key("leo").await;
    iam.create_login_profile()
        .user_name("leo")
        .password("Leos-Pass-2026!")
        .send()
        .await
        .unwrap();
    iam.create_group().group_name("crew").send().await.unwrap();
    iam.add_user_to_group()
        .group_name("crew")
        .user_name("leo")
        .send()
        .await
        .unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let driver = driver();
    let client = browser(&driver, downloads.path()).await;
    sign_in(&client, &coffer, &account, "", ROOT_PASSWORD).await;
    client.goto(&format!("{}/iam/users/leo", coffer.console)).await.unwrap();
    // The delete section says what to do first, and links to it.
    let guidance = text(&client, "#delete .warning").await;
    assert!(guidance.contains("Deactivate it first"), "{guidance}");
    shot(&client, "guide-01-delete-asks-to-deactivate").await;
    click(&client, "#delete .warning a[href='#access-keys']").await;
    click(&client, "#access-keys td.actions details.confirm summary").await;
    click(&client, "#access-keys td.actions details.confirm[open] button.danger").await;
    // A success banner says what happened.
    wait_for_text(&client, "p.notice", &format!("Access key {key_id} deactivated.")).await;
    shot(&client, "guide-02-key-deactivated").await;
    fill(&client, "#confirm-delete-user", "leo").await;
    click(&client, "#delete button.danger").await;
    wait_path(&client, "/iam/users").await;
    wait_for_text(&client, "p.notice", "User leo deleted.").await;
    shot(&client, "guide-03-user-deleted").await;
    assert_eq!(
        code(&iam.get_user().user_name("leo").send().await.unwrap_err()),
        "NoSuchEntity"
    );
    let crew = iam.get_group().group_name("crew").send().await.unwrap();
    assert!(crew.users().is_empty());
    client.close().await.unwrap();
}

#[tokio::test]
async fn a_policy_and_a_member_are_added_to_a_group_with_the_pickers() {
    let coffer = start();
    let account = coffer.account_id().await;
    let iam = coffer.root_iam();
    iam.create_group().group_name("readers").send().await.unwrap();
    iam.create_user().user_name("mo").send().await.unwrap();
    iam.create_policy()
        .policy_name("s3-reader-extra")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#,
        )
        .send()
        .await
        .unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let driver = driver();
    let client = browser(&driver, downloads.path()).await;
    sign_in(&client, &coffer, &account, "", ROOT_PASSWORD).await;
    client
        .goto(&format!("{}/iam/groups/readers", coffer.console))
        .await
        .unwrap();
    click(&client, "#permissions details.confirm summary").await;
    fill(&client, "#policy-picker-filter", "s3 read").await;
    // Enter filters; it does not send the form.
    fill(&client, "#policy-picker-filter", "\u{E007}").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let source = client.source().await.unwrap();
    assert!(!source.contains("Nothing was changed") && !source.contains(r#"class="notice""#));
    // Two policies match the words; the type filter leaves AWS's.
    let shown = "return [...document.querySelectorAll('#permissions tr[data-text]')].filter(r => !r.hidden).map(r => r.textContent.trim().split(/\\s+/)[0]);";
    let rows = client.execute(shown, vec![]).await.unwrap();
    assert_eq!(rows, json!(["AmazonS3ReadOnlyAccess", "s3-reader-extra"]), "{rows}");
    let kind = find(&client, "#policy-picker-kind").await;
    kind.select_by_label("AWS managed").await.unwrap();
    let rows = client.execute(shown, vec![]).await.unwrap();
    assert_eq!(rows, json!(["AmazonS3ReadOnlyAccess"]), "{rows}");
    shot(&client, "picker-01-filtered").await;
    click(
        &client,
        "#permissions input[value='arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess']",
    )
    .await;
    click(&client, "#permissions form.picker button.primary").await;
    wait_for_text(&client, "p.notice", "Attached AmazonS3ReadOnlyAccess.").await;
    // A member from the user picker.
    click(&client, "#users details.confirm summary").await;
    click(&client, "#users input[value='mo']").await;
    click(&client, "#users form.picker button.primary").await;
    wait_for_text(&client, "p.notice", "Added mo.").await;
    shot(&client, "picker-02-done").await;
    let attached = iam
        .list_attached_group_policies()
        .group_name("readers")
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_name())
        .collect();
    assert_eq!(names, ["AmazonS3ReadOnlyAccess"]);
    let members = iam.get_group().group_name("readers").send().await.unwrap();
    assert_eq!(members.users()[0].user_name(), "mo");
    client.close().await.unwrap();
}

#[tokio::test]
async fn what_cannot_be_done_whole_is_refused_up_front_on_the_form_with_the_input_kept() {
    let coffer = start();
    let account = coffer.account_id().await;
    let iam = coffer.root_iam();
    iam.update_account_password_policy()
        .minimum_password_length(16)
        .send()
        .await
        .unwrap();
    iam.create_group().group_name("team").send().await.unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let driver = driver();
    let client = browser(&driver, downloads.path()).await;
    sign_in(&client, &coffer, &account, "", ROOT_PASSWORD).await;

    // A password the policy refuses: nothing is created, the form keeps the name and choices.
    client.goto(&format!("{}/iam/new-user", coffer.console)).await.unwrap();
    fill(&client, "#name", "pat").await;
    click(&client, "input[name=console]").await;
    click(&client, "input[name=password_kind][value=custom]").await;
    fill(&client, "#password", "Short-Pass-1!").await;
    click(&client, "input[name=group][value=team]").await;
    click(&client, "form[action='/iam/users'] button[type=submit]").await;
    let error = text(&client, "p.error").await;
    assert!(error.starts_with("Console password:"), "{error}");
    assert_eq!(
        find(&client, "#name").await.prop("value").await.unwrap().as_deref(),
        Some("pat")
    );
    assert!(
        find(&client, "input[name=group][value=team]")
            .await
            .is_selected()
            .await
            .unwrap()
    );
    shot(&client, "refused-01-weak-password").await;
    assert_eq!(
        code(&iam.get_user().user_name("pat").send().await.unwrap_err()),
        "NoSuchEntity"
    );

    // A key description IAM's tag rules refuse: no key is made, the text stays.
    iam.create_user().user_name("kay").send().await.unwrap();
    client
        .goto(&format!("{}/iam/users/kay/access-keys/new", coffer.console))
        .await
        .unwrap();
    click(&client, "input[name=use_case][value=cli]").await;
    click(&client, "input[name=confirm]").await;
    click(&client, "button[type=submit].primary").await;
    fill(&client, "#description", "laptop #1 [old]").await;
    click(&client, "button[type=submit].primary").await;
    find(&client, ".error").await;
    assert_eq!(
        find(&client, "#description")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("laptop #1 [old]")
    );
    shot(&client, "refused-02-key-description").await;
    let keys = iam.list_access_keys().user_name("kay").send().await.unwrap();
    assert!(keys.access_key_metadata().is_empty());

    // A tag value IAM refuses: said on the tag form, both fields kept.
    client.goto(&format!("{}/iam/users/kay", coffer.console)).await.unwrap();
    fill(&client, "#tag-key", "owner").await;
    fill(&client, "#tag-value", "ops & more").await;
    click(&client, "#tags form.tag-form button").await;
    let said = wait_text(&client, "Error code: <code>").await;
    assert!(
        said.contains(r#"id="tag-value" name="tag_value" value="ops &amp; more""#),
        "tag value kept"
    );
    assert_eq!(
        find(&client, "#tag-key").await.prop("value").await.unwrap().as_deref(),
        Some("owner")
    );
    shot(&client, "refused-03-tag").await;
    client.close().await.unwrap();
}

#[tokio::test]
async fn a_denied_upload_is_said_in_words_before_and_after_the_attempt() {
    let coffer = start();
    let account = coffer.account_id().await;
    let iam = coffer.root_iam();
    coffer.root_s3().create_bucket().bucket("archive").send().await.unwrap();
    for user in ["ro", "rw"] {
        iam.create_user().user_name(user).send().await.unwrap();
        iam.create_login_profile()
            .user_name(user)
            .password("Archive-Pass-2026!")
            .send()
            .await
            .unwrap();
    }
    iam.attach_user_policy()
        .user_name("ro")
        .policy_arn("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
        .send()
        .await
        .unwrap();
    // rw may write, except executables: a denial only the object's own key decides.
    let no_executables = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"s3:*","Resource":"*"},
        {"Effect":"Deny","Action":"s3:PutObject","Resource":"arn:aws:s3:::archive/*.exe"}]}"#;
    iam.put_user_policy()
        .user_name("rw")
        .policy_name("no-executables")
        .policy_document(no_executables)
        .send()
        .await
        .unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let driver = driver();
    let client = browser(&driver, downloads.path()).await;

    // Read-only: the page says so where the upload would be, before anyone tries.
    sign_in(&client, &coffer, &account, "ro", "Archive-Pass-2026!").await;
    client
        .goto(&format!("{}/s3/buckets/archive", coffer.console))
        .await
        .unwrap();
    let said = text(&client, "p.drop-zone.disabled-reason").await;
    assert_eq!(said, "Upload: Your permissions do not allow s3:PutObject here.");
    assert!(!client.source().await.unwrap().contains(r#"id="add-files""#));
    shot(&client, "upload-01-read-only").await;
    client.goto(&format!("{}/", coffer.console)).await.unwrap();
    click(&client, "form[action='/signout'] button").await;
    wait_path(&client, "/signin").await;

    // Denied by the object's name: the upload's line says why, in words.
    sign_in(&client, &coffer, &account, "rw", "Archive-Pass-2026!").await;
    client
        .goto(&format!("{}/s3/buckets/archive", coffer.console))
        .await
        .unwrap();
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join("setup.exe");
    std::fs::write(&file, b"MZ").unwrap();
    find(&client, "#add-files")
        .await
        .send_keys(&file.display().to_string())
        .await
        .unwrap();
    let status = text(&client, "#uploads li .error").await;
    assert_eq!(
        status,
        "Failed: Access denied: your permissions do not allow s3:PutObject here."
    );
    shot(&client, "upload-02-denied").await;
    let listed = coffer
        .root_s3()
        .list_objects_v2()
        .bucket("archive")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.key_count(), Some(0));
    client.close().await.unwrap();
}

/// Roles in the console: the root user creates a role trusting the account; alice, who may
/// assume it but may not list buckets herself, switches to it, sees the buckets with its
/// permissions and the header naming the role, switches back and is refused again; revoking
/// the role's sessions ends what she had switched to.
#[tokio::test]
async fn a_person_switches_to_a_role_and_its_permissions_apply() {
    let coffer = start();
    let account = coffer.account_id().await;
    let iam = coffer.root_iam();
    coffer
        .root_s3()
        .create_bucket()
        .bucket("role-visible")
        .send()
        .await
        .unwrap();
    iam.create_user().user_name("alice").send().await.unwrap();
    iam.create_login_profile()
        .user_name("alice")
        .password("Alice-Pass-2026")
        .send()
        .await
        .unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let driver = driver();
    let client = browser(&driver, downloads.path()).await;

    // The root user creates the role in the console.
    sign_in(&client, &coffer, &account, "", ROOT_PASSWORD).await;
    client.goto(&format!("{}/iam/roles", coffer.console)).await.unwrap();
    fill(&client, "#role-name", "bucket-reader").await;
    client
        .find(fantoccini::Locator::Css("#role-policy"))
        .await
        .unwrap()
        .select_by_value("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
        .await
        .unwrap();
    click(&client, "form.search button.primary").await;
    wait_for_text(&client, "p.notice", "Role bucket-reader created.").await;
    let page = wait_text(&client, &format!("arn:aws:iam::{account}:root")).await;
    assert!(page.contains("bucket-reader"));
    shot(&client, "roles-01-created").await;
    // "Revoke active sessions" puts AWS's revocation policy on the role.
    click(&client, "form[action='/iam/roles/bucket-reader/revoke'] button").await;
    wait_text(&client, "Sessions of role bucket-reader issued before").await;
    let revocation = iam
        .get_role_policy()
        .role_name("bucket-reader")
        .policy_name("AWSRevokeOlderSessions")
        .send()
        .await
        .unwrap();
    assert!(revocation.policy_document().contains("TokenIssueTime"));
    // One second on, so sessions made from now on are issued after the revocation's time.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let role_arn = format!("arn:aws:iam::{account}:role/bucket-reader");
    iam.put_user_policy()
        .user_name("alice")
        .policy_name("assume")
        .policy_document(format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"{role_arn}"}}}}"#
        ))
        .send()
        .await
        .unwrap();
    click(&client, "form[action='/signout'] button").await;

    // alice may not list buckets herself.
    sign_in(&client, &coffer, &account, "alice", "Alice-Pass-2026").await;
    client.goto(&format!("{}/s3/buckets", coffer.console)).await.unwrap();
    wait_text(&client, "s3:ListAllMyBuckets").await;
    // She switches role.
    client
        .goto(&format!(
            "{}/switch-role?account={account}&role=bucket-reader",
            coffer.console
        ))
        .await
        .unwrap();
    click(&client, "form[action='/switch-role'] button.primary").await;
    wait_for_text(&client, "p.notice", "You are now acting as role bucket-reader.").await;
    let who = text(&client, "header .identity").await;
    assert!(who.contains("bucket-reader") && who.contains(&account), "{who}");
    client.goto(&format!("{}/s3/buckets", coffer.console)).await.unwrap();
    wait_text(&client, "role-visible").await;
    shot(&client, "roles-02-switched").await;
    // A role she may not assume is refused on the form.
    client
        .goto(&format!("{}/switch-role?account={account}&role=nobody", coffer.console))
        .await
        .unwrap();
    click(&client, "form[action='/switch-role'] button.primary").await;
    wait_text(&client, "Could not switch to").await;
    // Back to herself: refused again.
    click(&client, "form[action='/switch-back'] button").await;
    wait_for_text(&client, "p.notice", "You are acting as yourself again.").await;
    client.goto(&format!("{}/s3/buckets", coffer.console)).await.unwrap();
    wait_text(&client, "s3:ListAllMyBuckets").await;

    // Switched again, then the role's sessions are revoked: the console's session of it is
    // refused from then on.
    client
        .goto(&format!(
            "{}/switch-role?account={account}&role=bucket-reader",
            coffer.console
        ))
        .await
        .unwrap();
    click(&client, "form[action='/switch-role'] button.primary").await;
    wait_for_text(&client, "p.notice", "You are now acting as role bucket-reader.").await;
    // One second on, so the revocation's time is past the session's issue time.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let revoke_time = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    iam.put_role_policy()
        .role_name("bucket-reader")
        .policy_name("AWSRevokeOlderSessions")
        .policy_document(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{{"DateLessThan":{{"aws:TokenIssueTime":"{revoke_time}"}}}}}}]}}"#
        ))
        .send()
        .await
        .unwrap();
    client.goto(&format!("{}/s3/buckets", coffer.console)).await.unwrap();
    wait_text(&client, "s3:ListAllMyBuckets").await;
    shot(&client, "roles-03-revoked").await;
    client.close().await.unwrap();
}
