//! Sign-in throttling that slows guessing without letting a guesser lock anyone out.
//!
//! - **Per address first.** An address (an IPv6 client by its /64) gets [`ADDRESS_FAILURES`]
//!   failed attempts within [`WINDOW`], on any names; then it waits until the oldest ages out.
//!   This stops one client, and only that client.
//! - **Per name, a growing delay, never a lock.** Past [`NAME_FREE_FAILURES`] failures of a
//!   name within the window (from any addresses), each further attempt waits 1 s, 2 s, 4 s, …
//!   after the name's last failure, at most [`MAX_NAME_DELAY`]. A guesser with many addresses
//!   gets about twenty guesses an hour.
//! - **Known addresses pass the name's delay.** An address the name signed in from before
//!   (the last [`KNOWN_ADDRESSES`] of them, for [`KNOWN_FOR`]) is not delayed by failures
//!   from elsewhere, so no one can keep a person from signing in from where they usually do.
//!
//! The records live in the store, so every node counts the same attempts and a restart
//! forgets none. An attempt is recorded when it starts, before it is judged, so parallel
//! requests (on any nodes) cannot all slip in before the first one fails; a success takes its
//! own attempt back. Without the database, nobody signs in: the throttle fails closed.

use std::net::IpAddr;
use std::time::Duration;

use coffer_iam::{QueryApi, SigninAttemptId, SigninHistory, SigninKey};
use time::OffsetDateTime;

/// Failed attempts one address may make within [`WINDOW`] (attempts a name's delay refused
/// count too, so one address cannot poll for the moment a delay ends).
pub const ADDRESS_FAILURES: u64 = 5;
/// Failures of one name within [`WINDOW`] before its attempts are delayed.
pub const NAME_FREE_FAILURES: u64 = 5;
/// The longest a name's delay grows.
pub const MAX_NAME_DELAY: Duration = Duration::from_secs(5 * 60);
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Addresses remembered per name as known.
pub const KNOWN_ADDRESSES: u32 = 8;
/// How long an address stays known without a sign-in from it.
pub const KNOWN_FOR: Duration = Duration::from_secs(90 * 24 * 3600);

/// The throttle key of a client address: IPv6 clients usually hold a whole /64.
pub fn address_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => format!("ip:{v4}"),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("ip6:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// The delay after a name's latest failure, given how many it has in the window.
fn name_delay(failures: u64) -> Duration {
    match failures.checked_sub(NAME_FREE_FAILURES) {
        None => Duration::ZERO,
        Some(past) => Duration::from_secs(1u64 << past.min(16)).min(MAX_NAME_DELAY),
    }
}

/// How an attempt is judged by its history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Pass,
    /// The address has used its attempts: this one is taken back, so waiting costs nothing.
    AddressWaits(Duration),
    /// The name is delayed: this one still costs its address, so no one address can poll
    /// for the moment the delay ends.
    NameWaits(Duration),
}

/// `later - earlier`, or zero.
fn since(earlier: OffsetDateTime, later: OffsetDateTime) -> Duration {
    Duration::try_from(later - earlier).unwrap_or(Duration::ZERO)
}

/// How long an address over its limit waits: until its oldest attempt leaves the window.
fn address_wait(oldest: Option<OffsetDateTime>, now: OffsetDateTime) -> Duration {
    WINDOW.saturating_sub(since(oldest.unwrap_or(now), now))
}

fn judge(history: &SigninHistory, now: OffsetDateTime) -> Verdict {
    if history.address_attempts > ADDRESS_FAILURES {
        return Verdict::AddressWaits(address_wait(history.address_oldest, now));
    }
    if !history.known_address
        && let Some(last) = history.name_latest
    {
        let ready = since(last, now);
        let delay = name_delay(history.name_attempts);
        if ready < delay {
            return Verdict::NameWaits(delay - ready);
        }
    }
    Verdict::Pass
}

/// Why an attempt may not go ahead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Not before this much time has passed.
    Wait(Duration),
    /// The throttle's records cannot be reached: nobody signs in meanwhile.
    Unavailable,
}

#[derive(Clone, Debug)]
pub struct Throttle {
    query: QueryApi,
}

/// An attempt [`Throttle::begin`] counted, to take back by [`Throttle::succeeded`].
#[derive(Clone, Copy, Debug)]
pub struct Attempt {
    id: SigninAttemptId,
    address: SigninKey,
    name: SigninKey,
    at: OffsetDateTime,
}

impl Throttle {
    pub fn new(query: QueryApi) -> Throttle {
        Throttle { query }
    }

    /// Starts an attempt to sign in as `name` from `address`: the counted attempt, or why it
    /// may not go ahead.
    pub async fn begin(&self, address: &str, name: &str) -> Result<Attempt, Refused> {
        let (address, name) = (self.query.signin_key(address), self.query.signin_key(name));
        let now = OffsetDateTime::now_utc();
        // An address already over its limit is refused on a read: a flood of requests that
        // can never pass costs no writes.
        let Some((attempts, oldest)) = self.query.signin_address_attempts(&address, now - WINDOW).await else {
            return Err(Refused::Unavailable);
        };
        if attempts >= ADDRESS_FAILURES {
            return Err(Refused::Wait(address_wait(oldest, now)));
        }
        let Some((id, history)) = self
            .query
            .record_signin_attempt(&address, &name, now, now - WINDOW)
            .await
        else {
            return Err(Refused::Unavailable);
        };
        match judge(&history, now) {
            Verdict::Pass => Ok(Attempt {
                id,
                address,
                name,
                at: now,
            }),
            Verdict::AddressWaits(wait) => {
                self.query.withdraw_signin_attempt(id).await;
                Err(Refused::Wait(wait))
            }
            Verdict::NameWaits(wait) => {
                self.query.unname_signin_attempt(id).await;
                Err(Refused::Wait(wait))
            }
        }
    }

    /// The attempt failed: it counts from now, when it failed, not from when it began (the
    /// password check in between can take a while, and must not eat the name's delay).
    pub async fn failed(&self, attempt: Attempt) {
        self.query
            .date_signin_failure(attempt.id, OffsetDateTime::now_utc())
            .await;
    }

    /// The attempt succeeded: it is taken back from its address and name, and the address
    /// becomes one the name is known to sign in from.
    pub async fn succeeded(&self, attempt: Attempt) {
        self.query.withdraw_signin_attempt(attempt.id).await;
        self.query
            .remember_signin_address(&attempt.name, &attempt.address, attempt.at, KNOWN_ADDRESSES)
            .await;
    }
}

/// Forgets what the throttle no longer reads (attempts out of the window, addresses not
/// used for [`KNOWN_FOR`]) and expired console sessions. Any node may run it at any time.
pub async fn forget_old_records(query: &QueryApi) {
    let now = OffsetDateTime::now_utc();
    query.forget_signin_records(now - WINDOW, now - KNOWN_FOR).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(address_attempts: u64, name_attempts: u64, now: OffsetDateTime) -> SigninHistory {
        SigninHistory {
            address_attempts,
            address_oldest: Some(now),
            name_attempts,
            name_latest: (name_attempts > 0).then_some(now),
            known_address: false,
        }
    }

    #[test]
    fn an_address_waits_after_its_failures_until_the_oldest_ages_out() {
        let now = OffsetDateTime::now_utc();
        let mut seen = history(ADDRESS_FAILURES, 0, now);
        assert_eq!(judge(&seen, now), Verdict::Pass, "this attempt is the last allowed");
        seen.address_attempts += 1;
        seen.address_oldest = Some(now - Duration::from_secs(60));
        assert_eq!(
            judge(&seen, now),
            Verdict::AddressWaits(WINDOW - Duration::from_secs(60))
        );
        // Known to the name or not: an address's limit is its own.
        seen.known_address = true;
        assert!(matches!(judge(&seen, now), Verdict::AddressWaits(_)));
    }

    #[test]
    fn a_names_failures_delay_it_more_and_more_up_to_a_bound() {
        let now = OffsetDateTime::now_utc();
        assert_eq!(judge(&history(1, NAME_FREE_FAILURES - 1, now), now), Verdict::Pass);
        let mut expected = Duration::from_secs(1);
        for failures in NAME_FREE_FAILURES..NAME_FREE_FAILURES + 12 {
            let seen = history(1, failures, now);
            assert_eq!(judge(&seen, now), Verdict::NameWaits(expected));
            // A delay, never a lock: once it is over, the attempt goes ahead.
            assert_eq!(judge(&seen, now + expected), Verdict::Pass);
            expected = (expected * 2).min(MAX_NAME_DELAY);
        }
        assert_eq!(expected, MAX_NAME_DELAY);
        assert_eq!(name_delay(u64::MAX), MAX_NAME_DELAY);
    }

    #[test]
    fn a_delay_counts_from_the_names_latest_failure() {
        let now = OffsetDateTime::now_utc();
        let mut seen = history(1, NAME_FREE_FAILURES + 2, now);
        seen.name_latest = Some(now - Duration::from_secs(3));
        assert_eq!(judge(&seen, now), Verdict::NameWaits(Duration::from_secs(1)));
    }

    #[test]
    fn a_known_address_passes_a_names_delay() {
        let now = OffsetDateTime::now_utc();
        let mut seen = history(1, 40, now);
        assert!(
            matches!(judge(&seen, now), Verdict::NameWaits(_)),
            "a new address waits"
        );
        seen.known_address = true;
        assert_eq!(judge(&seen, now), Verdict::Pass, "home does not");
    }

    #[test]
    fn an_ipv6_client_is_one_key_per_64() {
        let a = address_key("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = address_key("2001:db8:1:2:bbbb::9".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, address_key("2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(address_key("::ffff:10.0.0.1".parse().unwrap()), "ip:10.0.0.1");
    }
}
