//! `mimi bench fanout`: the hub's fan-out under load, over real mutual TLS.
//!
//! Three providers run in this process, each a full server with its own
//! SQLite store, certificate and loopback ports: hub a.example, followers
//! b.example and c.example. Bob (on b.example) and Cathy (on c.example) share a
//! room hosted on a.example. Bob's messages are real MLS PrivateMessages (with
//! a `frank_aad`, so the hub franks each one), made before the clock starts;
//! b.example submits them to the hub with its federation client, keeping
//! `--in-flight` requests open, and the hub fans each out to both followers.
//!
//! Reported: messages per second from the first submit to the last delivery,
//! and p50/p99 of accepted → delivered (the hub's `accepted` answer reaching
//! the submitter, to the message sitting in the mailboxes of both followers'
//! clients, durably), plus submitted → delivered.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use mimi_client::Client;
use mimi_policy::Preset;
use mimi_proto::components::ParticipantId;
use mimi_proto::directory::{Endpoint, PathTarget};
use mimi_proto::messages::{
    ApplicationMessage, CommitMessage, GroupInfoOption, HandshakeBundle, RatchetTreeOption,
    SubmitMessageRequest, SubmitMessageResponse, UpdateRequest, UpdateRoomResponse,
};
use mimi_proto::{ClientId, ProviderId, RoomId, WireMessage as _};
use mimi_server::{Config, Options, Running, TlsPaths};
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{MlsMessageBodyIn, MlsMessageIn, MlsMessageOut};
use tokio::sync::Mutex;

/// Subcommands of `mimi bench`.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Hub accepts messages from a follower and fans them out to two followers.
    Fanout(FanoutArgs),
}

/// Arguments of `mimi bench fanout`.
#[derive(Debug, Args)]
pub struct FanoutArgs {
    /// Messages measured.
    #[arg(long, default_value_t = 20_000)]
    messages: usize,
    /// Submit requests kept open at once (a follower with many users sending). Fewer leave
    /// the hub's batches small; many more only add queueing (docs/benchmarks.md).
    #[arg(long, default_value_t = 128)]
    in_flight: usize,
    /// Messages sent and delivered before measuring (connection setup, caches).
    #[arg(long, default_value_t = 1_000)]
    warmup: usize,
    /// Offered load in messages per second (0: as fast as `--in-flight`
    /// allows). Below saturation, latency shows the pipeline, not the queue.
    #[arg(long, default_value_t = 0)]
    rate: u32,
}

/// Runs a `mimi bench` subcommand.
pub fn run(cmd: BenchCommand) -> ExitCode {
    let BenchCommand::Fanout(args) = cmd;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mimi bench: runtime: {e}");
            return crate::exit::UNAVAILABLE.into();
        }
    };
    match runtime.block_on(fanout(args)) {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mimi bench fanout: {e}");
            crate::exit::UNAVAILABLE.into()
        }
    }
}

type BenchResult<T> = Result<T, String>;

/// When each message was submitted and when its `accepted` answer came.
type SendTimes = Arc<Mutex<Vec<Option<(Instant, Instant)>>>>;

/// Mailbox entries read per poll.
const MAILBOX_PAGE: u32 = 1000;

fn fail(what: &str) -> impl Fn(&dyn std::fmt::Display) -> String + '_ {
    move |e| format!("{what}: {e}")
}

struct Provider {
    running: Running,
    id: ProviderId,
}

async fn fanout(args: FanoutArgs) -> BenchResult<String> {
    let dir = tempfile::tempdir().map_err(|e| fail("temp dir")(&e))?;
    let domains = ["a.example", "b.example", "c.example"].map(String::from);
    let pki =
        mimi_server::init_pki(&dir.path().join("pki"), &domains).map_err(|e| fail("pki")(&e))?;
    let start = |domain: &str, peers: Vec<(String, std::net::SocketAddr)>| {
        let files = pki
            .providers
            .iter()
            .find(|p| p.domain == domain)
            .cloned()
            .ok_or_else(|| format!("no certificate for {domain}"));
        let ca = pki.ca_cert.clone();
        let data_dir = dir.path().join(domain);
        let domain = domain.to_owned();
        async move {
            let files = files?;
            let mut config = Config::loopback(
                &domain,
                data_dir,
                TlsPaths {
                    cert: files.cert,
                    key: files.key,
                    ca,
                },
            )
            .map_err(|e| fail("config")(&e))?;
            config.peers = peers.into_iter().collect();
            // Measure the pipeline, not the per-peer limiter.
            config.limits.requests_per_second_per_peer = 10_000_000;
            let running = mimi_server::start(&config, Options::default())
                .await
                .map_err(|e| fail("start")(&e))?;
            let id = ProviderId::from_domain(&domain).map_err(|e| fail("domain")(&e))?;
            Ok::<_, String>(Provider { running, id })
        }
    };
    let a = start("a.example", Vec::new()).await?;
    let a_addr = a.running.federation_addr;
    let b = start("b.example", vec![("a.example".into(), a_addr)]).await?;
    let c = start("c.example", vec![("a.example".into(), a_addr)]).await?;
    let hub = a.running.state();
    hub.set_peer("b.example", b.running.federation_addr)
        .map_err(|e| fail("peer")(&e))?;
    hub.set_peer("c.example", c.running.federation_addr)
        .map_err(|e| fail("peer")(&e))?;

    let room = RoomId::parse("mimi://a.example/r/bench").map_err(|e| fail("room")(&e))?;
    let (mut bob, bob_id) = register(&b, "mimi://b.example/d/bob/laptop").await?;
    let (mut cathy, cathy_id) = register(&c, "mimi://c.example/d/cathy/phone").await?;
    setup_room(&a, &b, &c, &mut bob, &mut cathy, &room).await?;

    // Every message made up front: encryption is the client's cost, not the
    // server's.
    let total = args.warmup + args.messages;
    eprintln!("mimi bench: three servers up; encrypting {total} messages");
    let mut bodies = Vec::with_capacity(total);
    let mut index = HashMap::with_capacity(total);
    for i in 0..total {
        let out = bob
            .send_text(&room, &format!("message {i}"))
            .map_err(|e| fail("encrypt")(&e))?;
        let message =
            ApplicationMessage::try_from(wire(&out.message)?).map_err(|e| fail("message")(&e))?;
        index.insert(
            message
                .tls_serialize_detached()
                .map_err(|e| fail("encode")(&e))?,
            i,
        );
        bodies.push(
            SubmitMessageRequest {
                app_message: message,
                sending_uri: ParticipantId::from(out.sending_uri),
            }
            .encode()
            .map_err(|e| fail("encode")(&e))?,
        );
    }
    let index = Arc::new(index);
    let sent: SendTimes = Arc::new(Mutex::new(vec![None; total]));
    let watch_b = tokio::spawn(watch_deliveries(
        b.running.state().clone(),
        bob_id,
        index.clone(),
        total,
    ));
    let watch_c = tokio::spawn(watch_deliveries(
        c.running.state().clone(),
        cathy_id,
        index.clone(),
        total,
    ));

    let bodies = Arc::new(bodies);
    let interval = (args.rate > 0).then(|| Duration::from_secs_f64(1.0 / f64::from(args.rate)));
    // Warm-up, then the measured run.
    submit_range(
        &b,
        &a.id,
        &room,
        &bodies,
        &sent,
        0..args.warmup,
        args.in_flight,
        interval,
    )
    .await?;
    eprintln!(
        "mimi bench: warm-up done; measuring {} messages",
        args.messages
    );
    let cpu_before = process_cpu();
    let started = Instant::now();
    submit_range(
        &b,
        &a.id,
        &room,
        &bodies,
        &sent,
        args.warmup..total,
        args.in_flight,
        interval,
    )
    .await?;
    let accepted_all = started.elapsed();
    let delivered_b = watch_b.await.map_err(|e| fail("watcher")(&e))??;
    let delivered_c = watch_c.await.map_err(|e| fail("watcher")(&e))??;
    let cpu = process_cpu()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before));

    let sent = sent.lock().await;
    let mut accept_to_delivered = Vec::with_capacity(args.messages);
    let mut submit_to_delivered = Vec::with_capacity(args.messages);
    let mut last = started;
    for i in args.warmup..total {
        let (submitted, accepted) = sent[i].ok_or("a message was never answered")?;
        let delivered = delivered_b[i].max(delivered_c[i]);
        last = last.max(delivered);
        accept_to_delivered.push(delivered.saturating_duration_since(accepted));
        submit_to_delivered.push(delivered.saturating_duration_since(submitted));
    }
    let elapsed = last.duration_since(started);
    accept_to_delivered.sort();
    submit_to_delivered.sort();
    let metrics = hub.metrics();
    let rate = args.messages as f64 / elapsed.as_secs_f64();
    let report = format!(
        "fan-out: {} messages ({} warm-up), {} in flight, offered {}, hub a.example -> followers b.example, c.example (mTLS, HTTP/2, SQLite WAL synchronous=FULL)\n\
         throughput: {rate:.0} messages/s delivered to both followers ({:.2} s; all accepted after {:.2} s)\n\
         accepted -> delivered: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms\n\
         submitted -> delivered: p50 {:.1} ms, p99 {:.1} ms\n\
         hub: {} messages in {} accept transactions, {} notify POSTs, {} retries\n\
         CPU: {} (all three servers and the load generator, user + system)",
        args.messages,
        args.warmup,
        args.in_flight,
        if args.rate == 0 {
            "as fast as possible".to_owned()
        } else {
            format!("{} messages/s", args.rate)
        },
        elapsed.as_secs_f64(),
        accepted_all.as_secs_f64(),
        ms(percentile(&accept_to_delivered, 0.50)),
        ms(percentile(&accept_to_delivered, 0.99)),
        ms(accept_to_delivered.last().copied().unwrap_or_default()),
        ms(percentile(&submit_to_delivered, 0.50)),
        ms(percentile(&submit_to_delivered, 0.99)),
        metrics.accepted_messages.load(Ordering::Relaxed),
        metrics.accept_transactions.load(Ordering::Relaxed),
        metrics.fanout_posts.load(Ordering::Relaxed),
        metrics.fanout_retries.load(Ordering::Relaxed),
        cpu.map_or_else(
            || "unavailable".to_owned(),
            |cpu| format!(
                "{:.2} s for {:.2} s of wall time = {:.0} µs per message, {:.2} cores busy",
                cpu.as_secs_f64(),
                elapsed.as_secs_f64(),
                cpu.as_secs_f64() * 1e6 / args.messages as f64,
                cpu.as_secs_f64() / elapsed.as_secs_f64(),
            )
        ),
    );
    drop(sent);
    for p in [a, b, c] {
        p.running.shutdown().await;
    }
    Ok(report)
}

fn wire(m: &MlsMessageOut) -> BenchResult<MlsMessageIn> {
    let bytes = m.tls_serialize_detached().map_err(|e| fail("encode")(&e))?;
    MlsMessageIn::tls_deserialize_exact(bytes).map_err(|e| fail("decode")(&e))
}

/// A client on `provider`, registered there.
async fn register(provider: &Provider, uri: &str) -> BenchResult<(Client, ClientId)> {
    let id = ClientId::parse(uri).map_err(|e| fail("client id")(&e))?;
    let client = Client::in_memory(id.clone()).map_err(|e| fail("client")(&e))?;
    let cwk = client.identity().credential_with_key();
    provider
        .running
        .state()
        .register_client(
            &id,
            cwk.credential
                .tls_serialize_detached()
                .map_err(|e| fail("credential")(&e))?,
            cwk.signature_key.as_slice().to_vec(),
        )
        .await
        .map_err(|e| fail("register")(&e))?;
    Ok((client, id))
}

/// Bob creates the room on the hub and adds Cathy; both followers learn that
/// their client is a member.
async fn setup_room(
    a: &Provider,
    b: &Provider,
    c: &Provider,
    bob: &mut Client,
    cathy: &mut Client,
    room: &RoomId,
) -> BenchResult<()> {
    let hub = a.running.state();
    let created = bob
        .create_room(room, Preset::PrivateGroup, hub.keys().external_sender())
        .map_err(|e| fail("create room")(&e))?;
    hub.create_room(
        room,
        bob.client_id(),
        &created
            .group_info
            .tls_serialize_detached()
            .map_err(|e| fail("encode")(&e))?,
        &created
            .ratchet_tree
            .tls_serialize_detached()
            .map_err(|e| fail("encode")(&e))?,
        Some(Preset::PrivateGroup),
    )
    .await
    .map_err(|e| fail("hub create room")(&e))?;
    b.running
        .state()
        .add_member(room, bob.client_id())
        .await
        .map_err(|e| fail("member")(&e))?;
    c.running
        .state()
        .add_member(room, cathy.client_id())
        .await
        .map_err(|e| fail("member")(&e))?;
    let key_packages = cathy.key_packages(1).map_err(|e| fail("key package")(&e))?;
    let cathy_user = cathy.user().clone();
    let out = bob
        .add_user(room, &cathy_user, None, key_packages)
        .map_err(|e| fail("add")(&e))?;
    let welcome = match &out.welcome {
        Some(w) => match wire(w)?.extract() {
            MlsMessageBodyIn::Welcome(w) => Some(Box::new(w)),
            _ => return Err("not a Welcome".into()),
        },
        None => None,
    };
    let MlsMessageBodyIn::GroupInfo(group_info) = wire(&out.group_info)?.extract() else {
        return Err("not a GroupInfo".into());
    };
    let body = UpdateRequest {
        bundle: HandshakeBundle::Commit {
            commit: CommitMessage::try_from(wire(&out.commit)?).map_err(|e| fail("commit")(&e))?,
            welcome,
            group_info_option: GroupInfoOption::Full(Box::new(group_info)),
            ratchet_tree_option: RatchetTreeOption::DistributionService,
        },
    }
    .encode()
    .map_err(|e| fail("encode")(&e))?;
    let answer = b
        .running
        .state()
        .peer_client()
        .post(
            &a.id,
            Endpoint::Update,
            &PathTarget::Room(room.clone()),
            body,
        )
        .await
        .map_err(|e| fail("update")(&e))?;
    let response =
        UpdateRoomResponse::decode(&answer.body).map_err(|e| fail("update answer")(&e))?;
    bob.commit_answered(room, &response.outcome)
        .map_err(|e| fail("merge")(&e))?;
    Ok(())
}

/// Submits `range` of `bodies` from b.example to the hub with `in_flight`
/// requests open (and, with `interval`, message `i` not before `start + i ×
/// interval`), recording (submitted, accepted) times.
#[allow(clippy::too_many_arguments)]
async fn submit_range(
    b: &Provider,
    hub: &ProviderId,
    room: &RoomId,
    bodies: &Arc<Vec<Vec<u8>>>,
    times: &SendTimes,
    range: std::ops::Range<usize>,
    in_flight: usize,
    interval: Option<Duration>,
) -> BenchResult<()> {
    let next = Arc::new(AtomicUsize::new(range.start));
    let (first, start) = (range.start, tokio::time::Instant::now());
    let mut tasks = Vec::new();
    for _ in 0..in_flight.max(1) {
        let (next, bodies, times) = (next.clone(), bodies.clone(), times.clone());
        let state = b.running.state().clone();
        let (hub, target, end) = (hub.clone(), PathTarget::Room(room.clone()), range.end);
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= end {
                    return Ok::<(), String>(());
                }
                if let Some(interval) = interval {
                    let offset = u32::try_from(i - first).unwrap_or(u32::MAX);
                    tokio::time::sleep_until(start + interval * offset).await;
                }
                let submitted = Instant::now();
                let answer = state
                    .peer_client()
                    .post(&hub, Endpoint::SubmitMessage, &target, bodies[i].clone())
                    .await
                    .map_err(|e| fail("submit")(&e))?;
                let accepted = Instant::now();
                match SubmitMessageResponse::decode(&answer.body) {
                    Ok(SubmitMessageResponse::Accepted { .. }) => {}
                    other => {
                        return Err(format!(
                            "message {i} not accepted: {} {other:?}",
                            answer.status
                        ));
                    }
                }
                times.lock().await[i] = Some((submitted, accepted));
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| fail("submitter")(&e))??;
    }
    Ok(())
}

/// Watches `client`'s mailbox on a follower until all `total` messages are
/// there; returns when each was first seen.
///
/// A FanoutMessage is the 8-byte timestamp, the `MLSMessage`, then the frank;
/// messages are recognized by the `MLSMessage` bytes at offset 8, without
/// decoding, so the measurement costs the servers little CPU.
async fn watch_deliveries(
    state: mimi_server::AppState,
    client: ClientId,
    index: Arc<HashMap<Vec<u8>, usize>>,
    total: usize,
) -> BenchResult<Vec<Instant>> {
    let lengths: std::collections::BTreeSet<usize> = index.keys().map(Vec::len).collect();
    let mut wakes = state.store().subscribe();
    let mut seen: Vec<Option<Instant>> = vec![None; total];
    let mut count = 0;
    let mut cursor = 0;
    let deadline = Instant::now() + Duration::from_secs(600);
    while count < total {
        let entries = state
            .store()
            .mailbox(&client, cursor, MAILBOX_PAGE)
            .await
            .map_err(|e| fail("mailbox")(&e))?;
        let now = Instant::now();
        for entry in &entries {
            cursor = entry.cursor;
            let found = lengths
                .iter()
                .find_map(|len| entry.payload.get(8..8 + len).and_then(|m| index.get(m)));
            if let Some(&i) = found
                && seen[i].is_none()
            {
                seen[i] = Some(now);
                count += 1;
            }
        }
        if !entries.is_empty() {
            continue;
        }
        if Instant::now() > deadline {
            return Err(format!("{client}: only {count} of {total} delivered"));
        }
        // Wait for the next mailbox write (or re-read after a short while in
        // case a wake was missed).
        let _ = tokio::time::timeout(Duration::from_millis(50), wakes.recv()).await;
    }
    seen.into_iter()
        .map(|s| s.ok_or_else(|| "lost a delivery".to_owned()))
        .collect()
}

/// CPU time this process has used (user + system), from `/proc/self/stat`
/// (Linux; `None` elsewhere). Clock ticks are 1/100 s on Linux.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesized command name; utime and stime are the
    // 14th and 15th fields of the whole line.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
