//! Sign-in throttling: failed attempts are counted per client address and per account and
//! user name; past the limit within the window, sign-in is refused without checking the
//! password at all, so guessing costs time whichever of the two an attacker varies. A
//! success clears the name's count. (Failures, not requests, are counted: a rate limiter of
//! requests would also slow down people who sign in correctly.)

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Failures allowed per key within [`WINDOW`].
pub const MAX_FAILURES: usize = 5;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

#[derive(Clone, Debug, Default)]
pub struct Throttle {
    failures: Arc<Mutex<HashMap<String, VecDeque<Instant>>>>,
}

impl Throttle {
    /// How long until `keys` may try again, if any of them is over the limit.
    pub fn wait(&self, keys: &[String]) -> Option<Duration> {
        let mut failures = self.failures.lock().ok()?;
        let now = Instant::now();
        keys.iter()
            .filter_map(|key| {
                let times = failures.get_mut(key)?;
                while times.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
                    times.pop_front();
                }
                (times.len() >= MAX_FAILURES).then(|| WINDOW - now.duration_since(times[0]))
            })
            .max()
    }

    pub fn failed(&self, keys: &[String]) {
        if let Ok(mut failures) = self.failures.lock() {
            // Bound the memory an attacker can make us hold.
            if failures.len() > 100_000 {
                failures.clear();
            }
            for key in keys {
                let times = failures.entry(key.clone()).or_default();
                times.push_back(Instant::now());
                if times.len() > MAX_FAILURES {
                    times.pop_front();
                }
            }
        }
    }

    pub fn succeeded(&self, key: &str) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sixth_failure_within_the_window_waits() {
        let throttle = Throttle::default();
        let keys = ["ip:10.0.0.1".to_owned(), "user:1111/alice".to_owned()];
        for _ in 0..MAX_FAILURES {
            assert!(throttle.wait(&keys).is_none());
            throttle.failed(&keys);
        }
        let wait = throttle.wait(&keys).expect("over the limit");
        assert!(wait > Duration::from_secs(14 * 60) && wait <= WINDOW);
        // Another address trying the same name waits too.
        assert!(throttle.wait(&["ip:10.9.9.9".to_owned(), keys[1].clone()]).is_some());
        throttle.succeeded(&keys[1]);
        assert!(throttle.wait(&["ip:10.9.9.9".to_owned(), keys[1].clone()]).is_none());
    }
}
