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
//!   (the last [`KNOWN_ADDRESSES`] of them, remembered in memory) is not delayed by failures
//!   from elsewhere, so no one can keep a person from signing in from where they usually do.
//!
//! An attempt is counted when it starts, so parallel requests cannot all slip in before the
//! first one fails; a success takes its own attempt back.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;

use parking_lot::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// Failed attempts one address may make within [`WINDOW`] (attempts a name's delay refused
/// count too, so one address cannot poll for the moment a delay ends).
pub const ADDRESS_FAILURES: usize = 5;
/// Failures of one name within [`WINDOW`] before its attempts are delayed.
pub const NAME_FREE_FAILURES: usize = 5;
/// The longest a name's delay grows.
pub const MAX_NAME_DELAY: Duration = Duration::from_secs(5 * 60);
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Addresses remembered per name as known.
pub const KNOWN_ADDRESSES: usize = 8;
/// Entries each map holds at most; past it, aged entries go, then the longest unused.
const MAX_KEYS: usize = 100_000;

#[derive(Clone, Debug, Default)]
pub struct Throttle {
    state: Arc<Mutex<State>>,
}

/// A fixed-size stand-in for an address or name: what people type is never a map key, so
/// a long typed name costs no more memory than a short one.
type Key = [u8; 16];

fn key(text: &str) -> Key {
    let digest = Sha256::digest(text.as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

#[derive(Debug, Default)]
struct State {
    /// Attempt times per address, and per name, within the window.
    by_address: HashMap<Key, VecDeque<Instant>>,
    by_name: HashMap<Key, VecDeque<Instant>>,
    /// Addresses each name signed in from, newest last, with when it last did.
    known: HashMap<Key, (Instant, VecDeque<Key>)>,
}

/// An attempt [`Throttle::begin`] counted, to take back by [`Throttle::succeeded`].
#[derive(Clone, Copy, Debug)]
pub struct Attempt {
    address: Key,
    name: Key,
    at: Instant,
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

/// Drops the times that have left the window.
fn age(times: &mut VecDeque<Instant>, now: Instant) {
    while times.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
        times.pop_front();
    }
}

/// The delay after a name's latest failure, given how many it has in the window.
fn name_delay(failures: usize) -> Duration {
    match failures.checked_sub(NAME_FREE_FAILURES) {
        None => Duration::ZERO,
        Some(past) => Duration::from_secs(1u64 << past.min(16)).min(MAX_NAME_DELAY),
    }
}

/// Makes room for one more key: aged entries go first, then the tenth least recently used.
fn make_room<V>(map: &mut HashMap<Key, V>, last_used: impl Fn(&V) -> Option<Instant>, now: Instant) {
    if map.len() < MAX_KEYS {
        return;
    }
    map.retain(|_, v| last_used(v).is_some_and(|t| now.duration_since(t) < WINDOW));
    if map.len() >= MAX_KEYS {
        let mut times: Vec<Instant> = map.values().filter_map(&last_used).collect();
        times.sort_unstable();
        let cutoff = times[times.len() / 10];
        map.retain(|_, v| last_used(v).is_some_and(|t| t > cutoff));
    }
}

fn record(map: &mut HashMap<Key, VecDeque<Instant>>, key: Key, now: Instant, keep: usize) {
    if !map.contains_key(&key) {
        make_room(map, |times| times.back().copied(), now);
    }
    let times = map.entry(key).or_default();
    times.push_back(now);
    while times.len() > keep {
        times.pop_front();
    }
}

impl Throttle {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }

    /// Starts an attempt to sign in as `name` from `address`: `Err(wait)` if it must wait,
    /// else the counted attempt.
    pub fn begin(&self, address: &str, name: &str) -> Result<Attempt, Duration> {
        self.begin_at(address, name, Instant::now())
    }

    fn begin_at(&self, address: &str, name: &str, now: Instant) -> Result<Attempt, Duration> {
        let (address, name) = (key(address), key(name));
        let mut state = self.state();
        let state = &mut *state;
        if let Some(times) = state.by_address.get_mut(&address) {
            age(times, now);
            if times.len() >= ADDRESS_FAILURES {
                return Err(WINDOW - now.duration_since(times[0]));
            }
        }
        let known = state
            .known
            .get(&name)
            .is_some_and(|(_, addresses)| addresses.contains(&address));
        if !known && let Some(times) = state.by_name.get_mut(&name) {
            age(times, now);
            if let Some(last) = times.back() {
                let ready = *last + name_delay(times.len());
                if ready > now {
                    // Waiting costs the address an attempt, so no one address can poll for
                    // the moment the delay ends.
                    record(&mut state.by_address, address, now, ADDRESS_FAILURES);
                    return Err(ready - now);
                }
            }
        }
        record(&mut state.by_address, address, now, ADDRESS_FAILURES);
        // Enough of a name's times to grow its delay to the most.
        record(&mut state.by_name, name, now, NAME_FREE_FAILURES + 17);
        Ok(Attempt { address, name, at: now })
    }

    /// The attempt succeeded: it is taken back from its address and name, and the address
    /// becomes one the name is known to sign in from.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut state = self.state();
        let state = &mut *state;
        for (map, key) in [
            (&mut state.by_address, attempt.address),
            (&mut state.by_name, attempt.name),
        ] {
            if let Some(times) = map.get_mut(&key)
                && let Some(at) = times.iter().rposition(|t| *t == attempt.at)
            {
                times.remove(at);
            }
        }
        if !state.known.contains_key(&attempt.name) {
            make_room(&mut state.known, |(at, _)| Some(*at), attempt.at);
        }
        let (last, known) = state
            .known
            .entry(attempt.name)
            .or_insert_with(|| (attempt.at, VecDeque::new()));
        *last = attempt.at;
        known.retain(|a| *a != attempt.address);
        known.push_back(attempt.address);
        if known.len() > KNOWN_ADDRESSES {
            known.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: &str = "name:111122223333/";

    fn address(n: u32) -> String {
        format!("ip:10.0.{}.{}", n / 256, n % 256)
    }

    #[test]
    fn an_address_pauses_after_its_failures_whatever_the_names() {
        let throttle = Throttle::default();
        let now = Instant::now();
        for n in 0..ADDRESS_FAILURES {
            assert!(throttle.begin_at("ip:10.9.9.9", &format!("name:1/{n}"), now).is_ok());
        }
        let wait = throttle
            .begin_at("ip:10.9.9.9", "name:1/other", now)
            .expect_err("paused");
        assert_eq!(wait, WINDOW);
        // Only that address.
        assert!(throttle.begin_at("ip:10.9.9.8", "name:1/other", now).is_ok());
        // Until its failures age out.
        assert!(throttle.begin_at("ip:10.9.9.9", "name:1/other", now + WINDOW).is_ok());
    }

    #[test]
    fn a_names_failures_from_many_addresses_delay_it_more_and_more_up_to_a_bound() {
        let throttle = Throttle::default();
        let mut now = Instant::now();
        let mut n = 0;
        for _ in 0..NAME_FREE_FAILURES {
            n += 1;
            assert!(throttle.begin_at(&address(n), NAME, now).is_ok());
        }
        let mut expected = Duration::from_secs(1);
        for _ in 0..10 {
            n += 1;
            assert_eq!(throttle.begin_at(&address(n), NAME, now).err(), Some(expected));
            now += expected;
            n += 1;
            assert!(
                throttle.begin_at(&address(n), NAME, now).is_ok(),
                "a delay, never a lock"
            );
            expected = (expected * 2).min(MAX_NAME_DELAY);
        }
        assert_eq!(expected, MAX_NAME_DELAY);
    }

    #[test]
    fn waiting_out_a_names_delay_costs_the_address_its_attempts() {
        let throttle = Throttle::default();
        let now = Instant::now();
        for n in 0..NAME_FREE_FAILURES as u32 {
            throttle.begin_at(&address(n), NAME, now).unwrap();
        }
        let poller = "ip:203.0.113.9";
        for _ in 0..ADDRESS_FAILURES {
            assert!(throttle.begin_at(poller, NAME, now).is_err());
        }
        // The delay is over, but this address has spent its attempts polling for it.
        let later = now + Duration::from_secs(2);
        assert_eq!(
            throttle.begin_at(poller, NAME, later).err(),
            Some(WINDOW - Duration::from_secs(2))
        );
    }

    #[test]
    fn typed_names_of_any_length_take_the_same_room() {
        let throttle = Throttle::default();
        let long = "x".repeat(1 << 20);
        throttle.begin(&long, &long).unwrap();
        let state = throttle.state();
        assert_eq!(state.by_name.keys().next().map(|k| k.len()), Some(16));
    }

    #[test]
    fn a_known_address_passes_a_names_delay() {
        let throttle = Throttle::default();
        let now = Instant::now();
        let home = "ip:192.0.2.1";
        let attempt = throttle.begin_at(home, NAME, now).unwrap();
        throttle.succeeded(attempt);
        for n in 0..20 {
            let _ = throttle.begin_at(&address(n), NAME, now);
        }
        assert!(
            throttle.begin_at(&address(99), NAME, now).is_err(),
            "a new address waits"
        );
        assert!(throttle.begin_at(home, NAME, now).is_ok(), "home does not");
    }

    #[test]
    fn a_success_takes_its_attempt_back() {
        let throttle = Throttle::default();
        let now = Instant::now();
        for _ in 0..10 {
            let attempt = throttle.begin_at("ip:10.0.0.1", NAME, now).unwrap();
            throttle.succeeded(attempt);
        }
        assert!(throttle.begin_at("ip:10.0.0.1", NAME, now).is_ok());
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
