//! Test helper for the crash-safety test (not part of the server).
//!
//! `mimi-store-crash-child <store-url> <events>` accepts `<events>` events into room
//! `mimi://hub.example/r/crash`, each fanned out to three followers, and prints
//! `accepted <seq>` after each commit. Halfway it claims an outbox batch and never acks it
//! (a worker that dies mid-delivery), printing `claimed`. When done it prints `done` and waits
//! to be killed. The parent kills it with SIGKILL and checks that the outbox still delivers
//! everything, in order.

use std::io::Write as _;
use std::process::ExitCode;

use mimi_proto::{ProviderId, RoomId};
use mimi_store::{
    AcceptedEvent, Conflict, EventKind, Fanout, NewRoom, StateChange, Store, StoreConfig,
    StoreError, Timestamp,
};

/// Followers every event is fanned out to.
pub const DESTINATIONS: [&str; 3] = ["b.example", "c.example", "d.example"];

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("crash child: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or("usage: mimi-store-crash-child <url> <events>")?;
    let events: u64 = args.next().ok_or("missing <events>")?.parse()?;
    let store = Store::open(&StoreConfig::new(url)).await?;
    let room = RoomId::parse("mimi://hub.example/r/crash")?;
    let destinations = DESTINATIONS
        .iter()
        .map(|d| ProviderId::from_domain(d))
        .collect::<Result<Vec<_>, _>>()?;
    let created = store
        .create_room(&NewRoom {
            room: room.clone(),
            hub: ProviderId::from_domain("hub.example")?,
            epoch: 0,
            mls_state: b"mls@0".to_vec(),
            group_info: b"gi@0".to_vec(),
            room_state: vec![],
            created_at: Timestamp::now(),
        })
        .await;
    match created {
        Ok(()) | Err(StoreError::Conflict(Conflict::AlreadyExists(_))) => {}
        Err(err) => return Err(err.into()),
    }

    let mut stdout = std::io::stdout();
    for i in 1..=events {
        let txn = store.lock_room(&room).await?;
        let version = txn.version();
        // Every fifth event is a commit, so epochs move too.
        let (kind, change) = if i % 5 == 0 {
            let epoch = version.epoch + 1;
            (
                EventKind::Commit,
                StateChange::NewEpoch {
                    epoch,
                    mls_state: format!("mls@{epoch}").into_bytes(),
                    group_info: format!("gi@{epoch}").into_bytes(),
                    room_state: vec![],
                },
            )
        } else {
            (EventKind::Application, StateChange::Unchanged)
        };
        let mut event = AcceptedEvent::new(version, kind, Timestamp::now());
        event.change = change;
        event.log_payload = format!("event {i}").into_bytes();
        event.fanout = destinations
            .iter()
            .map(|d| Fanout {
                destination: d.clone(),
                payload: format!("{i}>{}", d.domain()).into_bytes(),
            })
            .collect();
        let accepted = txn.commit(&event).await?;
        writeln!(stdout, "accepted {}", accepted.seq)?;
        stdout.flush()?;
        if i == events / 2 {
            // Claim and never ack: the lease must expire for the queue to be retried.
            let claimed = store.claim_outbox(Timestamp::now(), 60_000, 4).await?;
            writeln!(stdout, "claimed {}", claimed.map_or(0, |b| b.entries.len()))?;
            stdout.flush()?;
        }
    }
    writeln!(stdout, "done")?;
    stdout.flush()?;
    std::future::pending::<()>().await;
    Ok(())
}
