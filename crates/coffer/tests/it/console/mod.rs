//! The console over plain HTTP (the browser tests drive it in Chromium): sign-in and its
//! throttle, sessions and their idle expiry, CSRF, the denied page, and the walkthrough's
//! access key flow with its secret shown exactly once.

pub mod harness;
mod iam;
mod s3;
mod signin;
