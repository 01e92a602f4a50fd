//! Consistency under concurrency: clients PUT, GET, DELETE and conditionally PUT a few keys at
//! once, on one node and on two, and the history of each key must be linearizable (S3
//! promises strong read-after-write consistency: every read returns the latest acknowledged
//! write), and each conditional create must win exactly when the key was absent.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;

use crate::harness::Coffer;

/// What one operation on a register (a key) did, as the client saw it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Act {
    /// A PUT of a value, or a DELETE (`None`).
    Write(Option<u64>),
    /// A GET that returned a value, or NoSuchKey (`None`).
    Read(Option<u64>),
    /// A PUT with `If-None-Match: *`: stored (`won`) or refused with 412.
    Create { value: u64, won: bool },
}

/// An operation and when it was under way: it took effect at some instant between `call`
/// and `done` (in the client's clock).
#[derive(Clone, Copy, Debug)]
pub struct Op {
    pub call: Duration,
    pub done: Duration,
    pub act: Act,
}

/// The register after `act`, if `act` could have happened on `state`.
fn step(state: Option<u64>, act: Act) -> Option<Option<u64>> {
    match act {
        Act::Write(value) => Some(value),
        Act::Read(seen) => (seen == state).then_some(state),
        Act::Create { value, won: true } => state.is_none().then_some(Some(value)),
        Act::Create { won: false, .. } => state.is_some().then_some(state),
    }
}

/// Whether `history` (at most 128 operations on one register, initially absent) is
/// linearizable: some order of its operations, each placed between its call and its
/// return, explains every result. The Wing–Gong search, with the states already tried
/// remembered (Lowe's optimisation).
pub fn linearizable(history: &[Op]) -> bool {
    assert!(
        history.len() <= 128,
        "one register's history holds at most 128 operations"
    );
    let mut ops = history.to_vec();
    ops.sort_by_key(|op| op.call);
    let all: u128 = if ops.len() == 128 {
        u128::MAX
    } else {
        (1u128 << ops.len()) - 1
    };
    let mut seen: HashSet<(u128, Option<u64>)> = HashSet::new();
    // Depth-first, with an explicit stack of (linearized set, state).
    let mut stack = vec![(0u128, None::<u64>)];
    while let Some((done, state)) = stack.pop() {
        if done == all {
            return true;
        }
        // An operation may come next only if no pending one returned before it was called.
        let pending = (0..ops.len()).filter(|&i| done & (1 << i) == 0);
        let first_return = pending.clone().map(|i| ops[i].done).min().unwrap_or_default();
        for i in pending.filter(|&i| ops[i].call <= first_return) {
            if let Some(next) = step(state, ops[i].act) {
                let key = (done | (1 << i), next);
                if seen.insert(key) {
                    stack.push(key);
                }
            }
        }
    }
    false
}

#[cfg(test)]
mod checker {
    use super::*;

    fn op(call: u64, done: u64, act: Act) -> Op {
        Op {
            call: Duration::from_millis(call),
            done: Duration::from_millis(done),
            act,
        }
    }

    #[test]
    fn a_read_after_an_acknowledged_write_must_see_it() {
        let history = [op(0, 10, Act::Write(Some(1))), op(20, 30, Act::Read(None))];
        assert!(!linearizable(&history));
        let history = [op(0, 10, Act::Write(Some(1))), op(20, 30, Act::Read(Some(1)))];
        assert!(linearizable(&history));
    }

    #[test]
    fn overlapping_operations_may_take_effect_in_either_order() {
        // A read overlapping a write may see the old or the new value, but two later reads
        // cannot go back in time.
        let history = [
            op(0, 100, Act::Write(Some(2))),
            op(10, 20, Act::Read(Some(2))),
            op(30, 40, Act::Read(None)),
        ];
        assert!(!linearizable(&history));
        let history = [
            op(0, 100, Act::Write(Some(2))),
            op(10, 20, Act::Read(None)),
            op(30, 40, Act::Read(Some(2))),
        ];
        assert!(linearizable(&history));
    }

    #[test]
    fn a_conditional_create_wins_only_on_an_absent_key() {
        let both_won = [
            op(0, 10, Act::Create { value: 1, won: true }),
            op(5, 15, Act::Create { value: 2, won: true }),
        ];
        assert!(!linearizable(&both_won));
        let one_won = [
            op(0, 10, Act::Create { value: 1, won: true }),
            op(5, 15, Act::Create { value: 2, won: false }),
            op(20, 30, Act::Read(Some(1))),
        ];
        assert!(linearizable(&one_won));
        let deleted_then_won = [
            op(0, 10, Act::Write(Some(1))),
            op(20, 30, Act::Write(None)),
            op(40, 50, Act::Create { value: 3, won: true }),
        ];
        assert!(linearizable(&deleted_then_won));
        let lost_on_absent = [
            op(0, 10, Act::Write(None)),
            op(20, 30, Act::Create { value: 3, won: false }),
        ];
        assert!(!linearizable(&lost_on_absent));
    }
}

const KEYS: u64 = 3;
/// Operations per key: the checker's bound.
const PER_KEY: usize = 120;

/// Runs `clients` clients over `nodes` (round robin) until each key has [`PER_KEY`]
/// operations; returns each key's history. Each round has keys of its own.
async fn run(nodes: &[&Coffer], clients: u64, round: u64) -> Vec<Vec<Op>> {
    let start = Instant::now();
    let histories: Arc<Mutex<Vec<Vec<Op>>>> = Arc::new(Mutex::new(vec![Vec::new(); KEYS as usize]));
    // Operations sent per key: a slot is taken before the request goes, so every operation
    // sent is recorded (one that took effect and went unrecorded would make a later read
    // of its value look impossible).
    let sent: Arc<Mutex<Vec<usize>>> = Arc::new(Mutex::new(vec![0; KEYS as usize]));
    let mut tasks = Vec::new();
    for client in 0..clients {
        // No retries: a conditional PUT that committed, lost its answer and was sent again
        // would come back 412 and be recorded as refused.
        let s3 = nodes[client as usize % nodes.len()].root_s3();
        let s3 = aws_sdk_s3::Client::from_conf(
            s3.config()
                .to_builder()
                .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
                .build(),
        );
        let (histories, sent) = (histories.clone(), sent.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = (client + round * clients).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            for i in 0.. {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let key_index = (rng % KEYS) as usize;
                {
                    let mut sent = sent.lock().unwrap();
                    if sent.iter().all(|&n| n >= PER_KEY) {
                        return;
                    }
                    if sent[key_index] >= PER_KEY {
                        continue;
                    }
                    sent[key_index] += 1;
                }
                let key = format!("round-{round}/register-{key_index}");
                let value = client * 1_000_000 + i;
                let call = start.elapsed();
                let act = match (rng >> 8) % 10 {
                    0..=3 => match s3.get_object().bucket("registers").key(&key).send().await {
                        Ok(got) => {
                            let bytes = got.body.collect().await.unwrap().into_bytes();
                            let text = std::str::from_utf8(&bytes).unwrap();
                            Act::Read(Some(text.parse().unwrap()))
                        }
                        Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => Act::Read(None),
                        Err(err) => panic!("GET {key}: {err:?}"),
                    },
                    4..=6 => {
                        s3.put_object()
                            .bucket("registers")
                            .key(&key)
                            .body(ByteStream::from(value.to_string().into_bytes()))
                            .send()
                            .await
                            .unwrap();
                        Act::Write(Some(value))
                    }
                    7 => {
                        s3.delete_object().bucket("registers").key(&key).send().await.unwrap();
                        Act::Write(None)
                    }
                    _ => {
                        let put = s3
                            .put_object()
                            .bucket("registers")
                            .key(&key)
                            .if_none_match("*")
                            .body(ByteStream::from(value.to_string().into_bytes()))
                            .send()
                            .await;
                        match put {
                            Ok(_) => Act::Create { value, won: true },
                            Err(err) if err.raw_response().map(|r| r.status().as_u16()) == Some(412) => {
                                Act::Create { value, won: false }
                            }
                            Err(err) => panic!("conditional PUT {key}: {err:?}"),
                        }
                    }
                };
                let op = Op {
                    call,
                    done: start.elapsed(),
                    act,
                };
                histories.lock().unwrap()[key_index].push(op);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    Arc::try_unwrap(histories).unwrap().into_inner().unwrap()
}

fn check(histories: &[Vec<Op>]) {
    for (key, history) in histories.iter().enumerate() {
        let creates = history
            .iter()
            .filter(|op| matches!(op.act, Act::Create { won: true, .. }))
            .count();
        assert!(
            linearizable(history),
            "register-{key}'s history is not linearizable ({creates} conditional creates won): {history:#?}"
        );
    }
}

/// Rounds of histories to check: 1 in the suite, more by `scripts/histories ROUNDS`.
fn rounds() -> u64 {
    std::env::var("COFFER_HISTORY_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

/// Checks `rounds()` rounds of 8 clients' histories over `nodes`; prints the summary line
/// `scripts/histories` reports.
async fn run_and_check(nodes: &[&Coffer], name: &str) {
    nodes[0]
        .root_s3()
        .create_bucket()
        .bucket("registers")
        .send()
        .await
        .unwrap();
    let mut operations = 0;
    for round in 0..rounds() {
        let histories = run(nodes, 8, round).await;
        check(&histories);
        operations += histories.iter().map(Vec::len).sum::<usize>();
    }
    println!(
        "histories, {name}: {} rounds, {} keys, {operations} operations, all linearizable",
        rounds(),
        rounds() * KEYS
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_read_sees_the_latest_acknowledged_write_on_one_node() {
    run_and_check(&[&Coffer::start()], "one node").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_read_sees_the_latest_acknowledged_write_across_two_nodes() {
    let (a, b) = Coffer::start_two_nodes();
    run_and_check(&[&a, &b], "two nodes").await;
}
