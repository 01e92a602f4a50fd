//! The web console on its own listener: IAM and S3 in the browser, server-rendered with
//! askama, htmx for partial updates, a little plain JavaScript, every asset embedded in the
//! binary.
//!
//! The console never touches the store behind IAM's back: every page and every form runs
//! the IAM operation it shows ([`coffer_iam::QueryApi::call_as`]) as the signed-in principal,
//! so validation, errors and authorization are the API's own, and a user the policies deny
//! sees a page that says which action was denied. Start reading at [`router`]; sessions and
//! CSRF are in [`session`], sign-in throttling in [`throttle`].

mod access_keys;
mod account;
mod assets;
mod bucket_settings;
mod buckets;
mod display;
mod events;
mod forms;
mod groups;
mod home;
mod identity_providers;
mod objects;
mod page;
mod permits;
mod pickers;
mod policies;
mod results;
mod roles;
mod s3;
pub mod session;
mod share;
mod signin;
pub mod throttle;
mod user_page;
mod users;
mod versions;

use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use coffer_iam::QueryApi;

/// What the console runs with.
#[derive(Clone, Debug)]
pub struct Options {
    /// A session unused this long is gone.
    pub idle_timeout: Duration,
    /// The S3/IAM/STS endpoint as people reach it (`http://127.0.0.1:9000`), for presigned
    /// share links.
    pub api_url: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            idle_timeout: Duration::from_secs(30 * 60),
            api_url: "http://127.0.0.1:9000".to_owned(),
        }
    }
}

/// The console's shared state. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Console {
    query: QueryApi,
    s3: coffer_s3::S3Api,
    sessions: session::Sessions,
    throttle: throttle::Throttle,
    api_url: String,
}

/// The console's routes. The listener puts a [`coffer_auth::PeerAddr`] into each request:
/// sign-in throttling and `aws:SourceIp` need the client's address.
pub fn router(query: QueryApi, s3: coffer_s3::S3Api, options: &Options) -> Router {
    // Made now, not at the first sign-in for a name that does not exist: that first one
    // would otherwise take one hash longer than any other, and tell.
    coffer_auth::passwords::decoy();
    let console = Console {
        sessions: session::Sessions::new(query.clone(), options.idle_timeout),
        throttle: throttle::Throttle::new(query.clone()),
        query,
        s3,
        api_url: options.api_url.trim_end_matches('/').to_owned(),
    };
    Router::new()
        .route("/", get(home::home))
        .route("/iam/my-credentials", get(home::my_credentials))
        .route("/signin", get(signin::form).post(signin::submit))
        .route("/signout", post(signin::sign_out))
        .route("/change-password", get(signin::change_form).post(signin::change_submit))
        .route("/iam/users", get(users::users).post(users::create_user))
        .route("/iam/new-user", get(users::new_user))
        .route("/iam/users/{name}", get(user_page::user).post(user_page::change_user))
        .route("/iam/users/{name}/delete", post(users::delete_user))
        .route("/iam/users/{name}/created", get(users::created_user))
        .route(
            "/iam/users/{name}/access-keys/new",
            get(access_keys::new_key_use_case).post(access_keys::new_key_description),
        )
        .route("/iam/users/{name}/access-keys", post(access_keys::create_key))
        .route("/iam/users/{name}/access-keys/created", get(access_keys::created_key))
        .route(
            "/iam/users/{name}/access-keys/{key}/status",
            post(access_keys::set_key_status),
        )
        .route(
            "/iam/users/{name}/access-keys/{key}/delete",
            post(access_keys::delete_key),
        )
        .route("/iam/groups", get(groups::groups).post(groups::create_group))
        .route("/iam/groups/{name}", get(groups::group).post(groups::change_group))
        .route("/iam/roles", get(roles::roles).post(roles::create_role))
        .route(
            "/iam/identity-providers",
            get(identity_providers::providers).post(identity_providers::change),
        )
        .route("/iam/roles/{name}", get(roles::role).post(roles::change_role))
        .route("/iam/roles/{name}/revoke", post(roles::revoke_sessions))
        .route("/switch-role", get(roles::switch_role_form).post(roles::switch_role))
        .route("/switch-back", post(roles::switch_back))
        .route("/iam/policies", get(policies::policies))
        .route("/iam/policy", get(policies::policy))
        .route("/iam/policy/edit", get(policies::editor).post(policies::save))
        .route("/iam/policy/validate", post(policies::validate))
        .route("/iam/policy/versions", post(policies::change_version))
        .route("/iam/account", get(account::account).post(account::change))
        .route("/iam/credential-report", post(account::credential_report))
        .route("/events", get(events::events))
        .route("/s3/buckets", get(buckets::buckets).post(buckets::create_bucket))
        .route("/s3/new-bucket", get(buckets::new_bucket))
        .route("/s3/new-bucket/check", post(buckets::check_name))
        .route("/s3/buckets/{bucket}", get(objects::bucket))
        .route("/s3/buckets/{bucket}/objects", post(objects::change))
        .route("/s3/buckets/{bucket}/delete", post(buckets::delete_bucket))
        .route("/s3/buckets/{bucket}/object", get(objects::object).post(share::share))
        .route("/s3/buckets/{bucket}/object/tags", post(objects::save_object_tags))
        .route(
            "/s3/buckets/{bucket}/upload",
            axum::routing::put(objects::upload)
                // The form streams to a spool file, bounded per file in the handler.
                .post(objects::upload_form)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route(
            "/s3/buckets/{bucket}/multipart",
            post(objects::multipart)
                .put(objects::multipart)
                .delete(objects::multipart),
        )
        .route(
            "/s3/buckets/{bucket}/multipart/complete",
            post(objects::complete_multipart),
        )
        .route("/s3/buckets/{bucket}/download", get(objects::download))
        .route(
            "/s3/buckets/{bucket}/permissions",
            get(bucket_settings::permissions).post(bucket_settings::save_permissions),
        )
        .route(
            "/s3/buckets/{bucket}/properties",
            get(bucket_settings::properties).post(bucket_settings::save_properties),
        )
        .route(
            "/s3/buckets/{bucket}/policy",
            get(buckets::bucket_policy).post(buckets::save_bucket_policy),
        )
        .route("/assets/{*path}", get(assets::serve))
        .fallback(page::not_found)
        .layer(axum::middleware::from_fn(page::security_headers))
        .with_state(console)
}
