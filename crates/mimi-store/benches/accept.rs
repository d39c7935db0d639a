//! Accepted-event throughput per backend, with fan-out enqueue to 3 destinations.
//!
//! Each iteration is what the server does per accepted event: lock the room, write the event
//! (new epoch state for a commit; nothing for a message), append the event log, enqueue one
//! fan-out row per follower, commit. `cargo bench -p mimi-store --bench accept`.
//! PostgreSQL runs when `postgres://postgres@127.0.0.1:5432/postgres` (or
//! `MIMI_TEST_POSTGRES_URL`) is reachable; each run uses a fresh database, dropped after.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mimi_proto::{ProviderId, RoomId};
use mimi_store::{
    AcceptedEvent, EventKind, Fanout, NewRoom, StateChange, Store, StoreConfig, Timestamp,
};
use sqlx::Connection as _;
use tokio::runtime::Runtime;

const FOLLOWERS: [&str; 3] = ["b.example", "c.example", "d.example"];
/// Rooms written concurrently in the parallel variant.
const PARALLEL_ROOMS: usize = 8;

fn admin_url() -> String {
    std::env::var("MIMI_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn room(i: usize) -> RoomId {
    RoomId::parse(&format!("mimi://hub.example/r/bench{i}")).unwrap()
}

/// One accepted event of `kind` on top of `base`, fanned out to the three followers.
fn event(txn: &mimi_store::RoomTxn, kind: EventKind) -> AcceptedEvent {
    let base = txn.version();
    let mut event = AcceptedEvent::new(base, kind, Timestamp::now());
    let payload_len = match kind {
        EventKind::Commit => 512,
        _ => 300,
    };
    event.log_payload = vec![7; payload_len];
    if kind == EventKind::Commit {
        event.change = StateChange::NewEpoch {
            epoch: base.epoch + 1,
            mls_state: vec![1; 4096],
            group_info: vec![2; 1024],
            room_state: vec![3; 256],
        };
    }
    event.fanout = FOLLOWERS
        .iter()
        .map(|d| Fanout {
            destination: ProviderId::from_domain(d).unwrap(),
            payload: vec![9; payload_len],
        })
        .collect();
    event
}

async fn accept(store: &Store, room: &RoomId, kind: EventKind) {
    let txn = store.lock_room(room).await.unwrap();
    let event = event(&txn, kind);
    txn.commit(&event).await.unwrap();
}

async fn open(config: &StoreConfig) -> Store {
    let store = Store::open(config).await.unwrap();
    for i in 0..PARALLEL_ROOMS {
        store
            .create_room(&NewRoom {
                room: room(i),
                hub: ProviderId::from_domain("hub.example").unwrap(),
                epoch: 0,
                mls_state: vec![1; 4096],
                group_info: vec![2; 1024],
                room_state: vec![3; 256],
                created_at: Timestamp::now(),
            })
            .await
            .unwrap();
    }
    store
}

fn bench_backend(c: &mut Criterion, rt: &Runtime, name: &str, config: &StoreConfig) {
    let store = rt.block_on(open(config));
    let mut group = c.benchmark_group(format!("accept/{name}"));
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(6));
    for (label, kind) in [
        ("commit", EventKind::Commit),
        ("message", EventKind::Application),
    ] {
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("{label}_fanout3"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        accept(&store, &room(0), kind).await;
                    }
                    start.elapsed()
                })
            });
        });
        group.throughput(Throughput::Elements(PARALLEL_ROOMS as u64));
        group.bench_function(
            format!("{label}_fanout3_{PARALLEL_ROOMS}_rooms_parallel"),
            |b| {
                b.iter_custom(|iters| {
                    let store = store.clone();
                    rt.block_on(async move {
                        let start = Instant::now();
                        let mut tasks = tokio::task::JoinSet::new();
                        for i in 0..PARALLEL_ROOMS {
                            let store = store.clone();
                            tasks.spawn(async move {
                                for _ in 0..iters {
                                    accept(&store, &room(i), kind).await;
                                }
                            });
                        }
                        while let Some(done) = tasks.join_next().await {
                            done.unwrap();
                        }
                        start.elapsed()
                    })
                });
            },
        );
    }
    group.finish();
    rt.block_on(store.close());
}

fn accept_throughput(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    bench_backend(c, &rt, "sqlite", &StoreConfig::sqlite_in(dir.path()));

    let admin = admin_url();
    let Ok(mut conn) = rt.block_on(sqlx::PgConnection::connect(&admin)) else {
        eprintln!("skipped: PostgreSQL not reachable at {admin}");
        return;
    };
    let name = format!("mimi_store_bench_{}", std::process::id());
    rt.block_on(
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).execute(&mut conn),
    )
    .unwrap();
    let base = admin
        .rsplit_once('/')
        .map_or(admin.as_str(), |(base, _)| base);
    bench_backend(
        c,
        &rt,
        "postgres",
        &StoreConfig::new(format!("{base}/{name}")),
    );
    rt.block_on(
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
        )))
        .execute(&mut conn),
    )
    .unwrap();
}

criterion_group!(benches, accept_throughput);
criterion_main!(benches);
