//! Sign-in throttling: attempts are counted per client address (an IPv6 client by its /64)
//! and per account and user name; past the limit within the window, sign-in is refused
//! without checking the password at all, so guessing costs time whichever of the two an
//! attacker varies. An attempt is counted when it starts, so parallel requests cannot all
//! slip in before the first one fails; a success takes its own attempt back and clears the
//! name's count.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Attempts allowed per key within [`WINDOW`] before sign-in pauses.
pub const MAX_FAILURES: usize = 5;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Keys remembered at most (old ones go first).
const MAX_KEYS: usize = 100_000;

#[derive(Clone, Debug, Default)]
pub struct Throttle {
    attempts: Arc<Mutex<HashMap<String, VecDeque<Instant>>>>,
}

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

impl Throttle {
    /// Starts an attempt for `keys`: `Err(wait)` if any of them is over the limit (nothing is
    /// counted then), else the attempt is counted against each.
    pub fn begin(&self, keys: &[String]) -> Result<(), Duration> {
        let Ok(mut attempts) = self.attempts.lock() else {
            return Err(WINDOW);
        };
        let now = Instant::now();
        let mut wait = None;
        for key in keys {
            if let Some(times) = attempts.get_mut(key) {
                while times.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
                    times.pop_front();
                }
                if times.len() >= MAX_FAILURES {
                    wait = wait.max(Some(WINDOW - now.duration_since(times[0])));
                }
            }
        }
        if let Some(wait) = wait {
            return Err(wait);
        }
        if attempts.len() >= MAX_KEYS {
            // Forget what has aged out; never wipe counts that still hold.
            attempts.retain(|_, times| times.back().is_some_and(|t| now.duration_since(*t) < WINDOW));
        }
        for key in keys {
            let times = attempts.entry(key.clone()).or_default();
            times.push_back(now);
            if times.len() > MAX_FAILURES {
                times.pop_front();
            }
        }
        Ok(())
    }

    /// The attempt succeeded: the name's count is cleared, the address's attempt taken back.
    pub fn succeeded(&self, name_key: &str, address_key: &str) {
        if let Ok(mut attempts) = self.attempts.lock() {
            attempts.remove(name_key);
            if let Some(times) = attempts.get_mut(address_key) {
                times.pop_back();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sixth_attempt_within_the_window_waits() {
        let throttle = Throttle::default();
        let keys = ["ip:10.0.0.1".to_owned(), "name:1111/alice".to_owned()];
        for _ in 0..MAX_FAILURES {
            assert!(throttle.begin(&keys).is_ok());
        }
        let wait = throttle.begin(&keys).expect_err("over the limit");
        assert!(wait > Duration::from_secs(14 * 60) && wait <= WINDOW);
        // Another address trying the same name waits too.
        assert!(throttle.begin(&["ip:10.9.9.9".to_owned(), keys[1].clone()]).is_err());
        throttle.succeeded(&keys[1], "ip:10.9.9.9");
        assert!(throttle.begin(&["ip:10.9.9.9".to_owned(), keys[1].clone()]).is_ok());
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
