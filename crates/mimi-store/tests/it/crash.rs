//! Crash safety with a real process: a child accepts events and is killed with SIGKILL
//! between acceptance and delivery; the reopened store still delivers everything, in order.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

use mimi_store::{EventKind, Store, StoreConfig, Timestamp};

use crate::common::{PgDatabase, room};

const EVENTS: u64 = 200;
/// The parent kills the child right after reading this line; the child is mid-way through
/// later commits by then.
const KILL_AFTER: u64 = 120;
const DESTINATIONS: [&str; 3] = ["b.example", "c.example", "d.example"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_outbox_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig::sqlite_in(dir.path());
    crash_and_recover(&config).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outbox_survives_sigkill() {
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    crash_and_recover(&StoreConfig::new(pg.url.clone())).await;
}

async fn crash_and_recover(config: &StoreConfig) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mimi-store-crash-child"))
        .arg(&config.url)
        .arg(EVENTS.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // Blocking reads of the child's stdout are the synchronization: no sleeps.
    let (printed, claimed) = tokio::task::spawn_blocking(move || {
        let mut last = 0;
        let mut claimed = false;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(seq) = line.strip_prefix("accepted ") {
                last = seq.parse().unwrap();
                if last == KILL_AFTER {
                    break;
                }
            } else if line.starts_with("claimed ") {
                claimed = true;
            } else {
                panic!("child said {line:?} before being killed");
            }
        }
        (last, claimed)
    })
    .await
    .unwrap();
    assert_eq!(printed, KILL_AFTER, "child ended early");
    assert!(claimed, "child claimed a batch before the kill");
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(!status.success());

    let store = Store::open(config).await.unwrap();
    let r = room("crash");
    let log = store.room_events(&r, 0, 1000).await.unwrap();
    let accepted = log.len() as u64;
    assert!(accepted >= KILL_AFTER, "an acknowledged event was lost");
    assert!(accepted < EVENTS, "the child was killed before it finished");
    let seqs: Vec<u64> = log.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=accepted).collect::<Vec<_>>());
    assert_eq!(log[4].kind, EventKind::Commit);
    assert_eq!(store.room_version(&r).await.unwrap().epoch, accepted / 5);

    // Every accepted event's fan-out is in the outbox: none was delivered (the child's claim
    // was never acknowledged), so all of it must come out, in order, once its lease expires.
    assert_eq!(store.outbox_len().await.unwrap(), accepted * 3);
    let after_lease = Timestamp::now().plus_millis(120_000);
    let mut delivered: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    while let Some(batch) = store.claim_outbox(after_lease, 60_000, 64).await.unwrap() {
        let queue = delivered
            .entry(batch.destination.domain().to_owned())
            .or_default();
        queue.extend(
            batch
                .entries
                .iter()
                .map(|e| String::from_utf8(e.payload.clone()).unwrap()),
        );
        store.ack_outbox(&batch, after_lease).await.unwrap();
    }
    for dest in DESTINATIONS {
        let want: Vec<String> = (1..=accepted).map(|i| format!("{i}>{dest}")).collect();
        assert_eq!(delivered[dest], want, "deliveries to {dest}");
    }
    assert_eq!(store.outbox_len().await.unwrap(), 0);
    store.close().await;
}
