//! Decoding and encoding the protocol bodies on the hub's and followers' hot
//! paths: a `/notify` body of 100 application messages (what a follower
//! parses per POST under load), an `update` bundle with a commit, Welcome,
//! GroupInfo and tree (what the hub parses per commit), a key material
//! response with 16 KeyPackages, and verifying a KeyMaterialRequest signature.
//!
//! Run: `cargo bench -p mimi-proto --bench messages`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mimi_proto::messages::*;
use mimi_proto::{ClientId, RoomId, UserId, WireMessage};
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider;

#[allow(
    dead_code,
    clippy::unwrap_used,
    reason = "the pool is shared with the tests, which use all of it and may unwrap"
)]
#[path = "../tests/messages_wire/pool.rs"]
mod pool;

use pool::{CS, POOL, member};

fn notify_body() -> NotifyBody {
    NotifyBody {
        messages: (0..100)
            .map(|i| FanoutMessage {
                timestamp: 1_700_000_000_000 + i,
                event: FanoutEvent::Application {
                    // The 300-byte message.
                    message: POOL.applications[1].clone(),
                    frank: Some(Frank {
                        server_frank: [7; 32],
                        franking_signature_ciphersuite: CS,
                        franking_integrity_signature: vec![9; 64],
                    }),
                },
            })
            .collect(),
    }
}

fn update_request() -> UpdateRequest {
    UpdateRequest {
        bundle: HandshakeBundle::Commit {
            commit: POOL.commits[0].clone(),
            welcome: Some(Box::new(POOL.welcomes[0].clone())),
            group_info_option: GroupInfoOption::Full(Box::new(POOL.group_infos[0].clone())),
            ratchet_tree_option: RatchetTreeOption::Full(POOL.trees[0].clone()),
        },
    }
}

fn key_material_response() -> KeyMaterialResponse {
    KeyMaterialResponse {
        user_status: KeyMaterialUserCode::Success,
        user_uri: UserId::parse("mimi://b.example/u/bob").expect("valid"),
        clients: (0..16)
            .map(|i| ClientKeyMaterial {
                client_uri: ClientId::parse(&format!("mimi://b.example/d/bob/c{i}"))
                    .expect("valid"),
                status: ClientStatus::Success(Box::new(POOL.key_packages[i % 2].clone())),
            })
            .collect(),
    }
}

fn bench(c: &mut Criterion) {
    let notify = notify_body().encode().expect("encodes");
    let update = update_request().encode().expect("encodes");
    let key_material = key_material_response().encode().expect("encodes");
    eprintln!(
        "sizes: notify body {} B, update request {} B, key material response {} B",
        notify.len(),
        update.len(),
        key_material.len()
    );

    c.bench_function("decode notify body (100 app messages)", |b| {
        b.iter(|| NotifyBody::decode(black_box(&notify)).expect("decodes"))
    });
    let body = notify_body();
    c.bench_function("encode notify body (100 app messages)", |b| {
        b.iter(|| black_box(&body).encode().expect("encodes"))
    });
    c.bench_function(
        "decode update request (commit + welcome + group info + tree)",
        |b| b.iter(|| UpdateRequest::decode(black_box(&update)).expect("decodes")),
    );
    c.bench_function("decode key material response (16 key packages)", |b| {
        b.iter(|| KeyMaterialResponse::decode(black_box(&key_material)).expect("decodes"))
    });

    let alice = member("mimi://a.example/d/alice/phone");
    let request = KeyMaterialRequestTbs {
        requesting_user: UserId::parse("mimi://a.example/u/alice").expect("valid"),
        target_user: UserId::parse("mimi://b.example/u/bob").expect("valid"),
        room_id: Some(RoomId::parse("mimi://a.example/r/clubhouse").expect("valid")),
        acceptable_ciphersuites: vec![CS.into()],
        required_capabilities: POOL.required_capabilities[1].clone(),
        requester_signature_key: alice.public_key(),
        requester_credential: alice.credential.clone(),
    }
    .sign(&alice.signer)
    .expect("signs");
    let provider = OpenMlsRustCrypto::default();
    c.bench_function("verify key material request (Ed25519)", |b| {
        b.iter(|| {
            black_box(&request)
                .verify(provider.crypto())
                .expect("verifies")
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
