//! Client costs in a 100-user room hosted by the real hub engine:
//! `cargo bench -p mimi-client --bench client`.
//!
//! - building an add-user commit (policy evaluation, OpenMLS commit, re-check);
//! - a receiver processing that commit (parse, policy, AppDataUpdate staging,
//!   merge, state rebuild), in memory and with SQLite persistence;
//! - sending a franked text message, and receiving one (decrypt, content
//!   checks, frank verification, history), in memory and persisted.
//!
//! The room size stays at 100: every measured add is followed by an
//! unmeasured removal of the same user.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs, dead_code)]

#[path = "../tests/it/world.rs"]
mod world;

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};

use mimi_client::{Client, RoomEvent};
use mimi_policy::Preset;
use mimi_proto::ClientId;
use mimi_proto::messages::RawFanoutMessage;

use world::World;

const USERS: usize = 100;

struct Setup {
    w: World,
    charlie: usize,
    bob: usize,
    persistent: usize,
    spare: usize,
    _home: tempfile::TempDir,
}

fn setup() -> Setup {
    let mut w = World::new("y.example");
    let home = tempfile::tempdir().unwrap();
    let charlie = w.client("mimi://y.example/d/charlie/phone");
    let bob = w.client("mimi://x.example/d/bob/phone");
    let persistent = w.join_client(
        Client::create(
            home.path(),
            ClientId::parse("mimi://x.example/d/pat/phone").unwrap(),
        )
        .unwrap(),
    );
    w.create(charlie, Preset::PrivateGroup);
    let room = w.room_id.clone();
    let mut added = vec![bob, persistent];
    for i in 0..USERS - 3 {
        added.push(w.client(&format!("mimi://z.example/d/user{i}/phone")));
    }
    for &who in &added {
        let user = w.user(who);
        let kp = w.key_package(who);
        let out = w.clients[charlie]
            .add_user(&room, &user, None, vec![kp])
            .unwrap();
        w.commit(charlie, &out);
        // Only the measured receivers keep up; the others never process.
        w.sync(bob);
        w.sync(persistent);
        for i in 0..w.inbox.len() {
            if i != bob && i != persistent {
                w.inbox[i].clear();
            }
        }
    }
    let spare = w.client("mimi://z.example/d/spare/phone");
    assert_eq!(
        w.clients[bob].room(&room).unwrap().participants().len(),
        USERS
    );
    Setup {
        w,
        charlie,
        bob,
        persistent,
        spare,
        _home: home,
    }
}

/// Adds the spare user (its commit is what `receiver` processes, timed), then
/// removes it again (untimed).
fn add_and_measure(s: &mut Setup, receiver: usize) -> Duration {
    let room = s.w.room_id.clone();
    let user = s.w.user(s.spare);
    let kp = s.w.key_package(s.spare);
    let out = s.w.clients[s.charlie]
        .add_user(&room, &user, None, vec![kp])
        .unwrap();
    s.w.commit(s.charlie, &out);
    let other = if receiver == s.bob {
        s.persistent
    } else {
        s.bob
    };
    s.w.sync(other);
    let inbox = std::mem::take(&mut s.w.inbox[receiver]);
    let start = Instant::now();
    for incoming in inbox {
        let events = s.w.clients[receiver].process(incoming).unwrap();
        assert!(matches!(events[0], RoomEvent::Committed { .. }));
    }
    let elapsed = start.elapsed();
    let out = s.w.clients[s.charlie].remove_user(&room, &user).unwrap();
    s.w.commit(s.charlie, &out);
    s.w.sync(s.bob);
    s.w.sync(s.persistent);
    s.w.inbox[s.spare].clear();
    elapsed
}

fn message_and_measure(s: &mut Setup, receiver: usize) -> (Duration, Duration) {
    let room = s.w.room_id.clone();
    let start = Instant::now();
    let out = s.w.clients[s.charlie]
        .send_text(
            &room,
            "a message of ordinary length, with **some** Markdown",
        )
        .unwrap();
    let send = start.elapsed();
    s.w.submit_message(s.charlie, &out).unwrap();
    s.w.inbox[s.charlie].clear();
    let other = if receiver == s.bob {
        s.persistent
    } else {
        s.bob
    };
    s.w.sync(other);
    let inbox: Vec<RawFanoutMessage> = std::mem::take(&mut s.w.inbox[receiver]);
    let start = Instant::now();
    for incoming in inbox {
        let events = s.w.clients[receiver].process(incoming).unwrap();
        assert!(matches!(events[0], RoomEvent::Message(_)), "{events:?}");
    }
    (send, start.elapsed())
}

/// Twenty messages, received by the persistent client in one batch.
fn batch_and_measure(s: &mut Setup) -> Duration {
    let room = s.w.room_id.clone();
    for i in 0..BATCH {
        let out = s.w.clients[s.charlie]
            .send_text(&room, &format!("message {i} of a backlog"))
            .unwrap();
        s.w.submit_message(s.charlie, &out).unwrap();
    }
    s.w.inbox[s.charlie].clear();
    s.w.sync(s.bob);
    let inbox: Vec<RawFanoutMessage> = std::mem::take(&mut s.w.inbox[s.persistent]);
    let start = Instant::now();
    let processed = s.w.clients[s.persistent]
        .process_batch((0..).zip(inbox))
        .unwrap();
    let elapsed = start.elapsed();
    assert!(processed.error.is_none());
    assert_eq!(processed.events.len(), BATCH);
    elapsed
}

const BATCH: usize = 20;

fn benches(c: &mut Criterion) {
    let mut s = setup();
    let room = s.w.room_id.clone();
    let (bob, persistent) = (s.bob, s.persistent);
    let mut g = c.benchmark_group("client_100_users");
    g.sample_size(20);

    g.bench_function("add_user_commit_build", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let user = s.w.user(s.spare);
                let kp = s.w.key_package(s.spare);
                let start = Instant::now();
                let out = s.w.clients[s.charlie]
                    .add_user(&room, &user, None, vec![kp])
                    .unwrap();
                total += start.elapsed();
                drop(out);
                s.w.clients[s.charlie].commit_rejected(&room).unwrap();
            }
            total
        });
    });
    g.bench_function("process_add_commit_in_memory", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| add_and_measure(&mut s, bob)).sum());
    });
    g.bench_function("process_add_commit_persisted", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| add_and_measure(&mut s, persistent))
                .sum()
        });
    });
    g.bench_function("send_franked_text", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| message_and_measure(&mut s, bob).0).sum());
    });
    g.bench_function("receive_franked_text_in_memory", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| message_and_measure(&mut s, bob).1).sum());
    });
    g.bench_function("receive_franked_text_persisted", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| message_and_measure(&mut s, persistent).1)
                .sum()
        });
    });
    g.bench_function("receive_20_franked_texts_persisted_one_batch", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| batch_and_measure(&mut s)).sum());
    });
    g.finish();
}

criterion_group!(client, benches);
criterion_main!(client);
