//! Which of a page's write controls the signed-in principal may use: a control its policies
//! do not allow is shown disabled with the reason, not only refused after the fact (as AWS's
//! console does). IAM pages ask about the resource's ARN, S3 pages about the bucket and the
//! folder shown. Advisory: the operation still decides when it runs.

use crate::Console;
use crate::page::Signed;

/// The caller's policies' answer for each action a page offers on one resource.
pub struct Permits {
    allowed: Vec<(&'static str, bool)>,
}

impl Permits {
    /// Asks for each of `actions` on `resource` (an IAM ARN). An empty ARN (a resource the
    /// page could not read) leaves every control enabled: the operation will say.
    pub async fn load(console: &Console, signed: &Signed, resource: &str, actions: &[&'static str]) -> Permits {
        if resource.is_empty() {
            return Permits { allowed: Vec::new() };
        }
        let allowed = console
            .query
            .permits(&signed.session.principal, &signed.facts, resource, actions)
            .await;
        Permits { allowed }
    }

    /// Asks S3 for each of `object_actions` on objects under `prefix` in `bucket`, and each of
    /// `bucket_actions` on the bucket itself; its policy counts, as for a request.
    pub async fn load_s3(
        console: &Console,
        signed: &Signed,
        bucket: &str,
        prefix: &str,
        object_actions: &[&'static str],
        bucket_actions: &[&'static str],
    ) -> Permits {
        let principal = &signed.session.principal;
        let mut allowed = console
            .s3
            .permits(principal, &signed.facts, bucket, Some(prefix), object_actions)
            .await;
        allowed.extend(
            console
                .s3
                .permits(principal, &signed.facts, bucket, None, bucket_actions)
                .await,
        );
        Permits { allowed }
    }

    /// The actions asked about that are not allowed.
    pub fn denied(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.allowed
            .iter()
            .filter(|(_, allowed)| !allowed)
            .map(|(action, _)| *action)
    }

    /// Why the control for `action` is disabled; `None` when it may be used (or was not
    /// asked about).
    pub fn why_not(&self, action: &str) -> Option<String> {
        self.allowed
            .iter()
            .any(|(asked, allowed)| *asked == action && !allowed)
            .then(|| format!("Your permissions do not allow {action} here."))
    }
}
