//! Integration tests: a real `coffer serve` process on an ephemeral port and a temporary data
//! dir, driven by the AWS SDK for Rust, raw HTTP and the `aws` CLI.

mod accounts;
mod auth;
mod browser;
mod cli;
mod console;
mod crash;
mod db_copy;
mod harness;
mod iam;
mod iam_paging;
mod nodes;
mod oidc;
mod passwords;
mod policies;
mod reports;
mod roles;
mod s3;
mod s3_acl;
mod s3_cors;
mod s3_encryption;
mod s3_kms;
mod s3_lifecycle;
mod s3_limits;
mod s3_listing;
mod s3_multipart;
mod s3_object_lock;
mod s3_objects;
mod s3_post;
mod s3_raw;
mod s3_tagging;
mod s3_tools;
mod s3_versioning;
mod security;
mod sts;
mod web_identity;
