//! Decoding and encoding room-state components on the commit path: the
//! participant list of a 1000-user room (what the policy engine re-encodes per
//! membership commit and every client decodes from the GroupContext), and a
//! whole `app_data_dictionary` (participant list, roles, base policy,
//! metadata, bans) as a joiner or the hub decodes it from a GroupInfo.
//!
//! Run: `cargo bench -p mimi-proto --bench components`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mimi_proto::components::*;
use mimi_proto::{RoomId, Utf8String};

fn participant_list() -> ParticipantListData {
    ParticipantListData {
        participants: (0..1000)
            .map(|i| UserRolePair {
                user: ParticipantId::parse(&format!("mimi://p{}.example/u/user{i}", i % 7))
                    .expect("valid"),
                role_index: 2 + i % 3,
            })
            .collect(),
    }
}

fn role(index: u32, name: &str) -> Role {
    Role {
        role_index: index,
        role_name: Utf8String::new(name).expect("no NUL"),
        role_description: Utf8String::new("a role of the private-group preset").expect("no NUL"),
        role_capabilities: CapabilityType::REGISTRY.iter().copied().take(20).collect(),
        minimum_participants_constraint: 0,
        maximum_participants_constraint: Some(1000),
        minimum_active_participants_constraint: 0,
        maximum_active_participants_constraint: None,
        authorized_role_changes: (0..4)
            .map(|from| SingleSourceRoleChangeTargets {
                from_role_index: from,
                target_role_indexes: vec![0, 2, 3],
            })
            .collect(),
    }
}

fn room() -> RoomComponents {
    let mut bans = BanList::default();
    for i in 0..20 {
        bans.upsert(BanRecord {
            user: ParticipantId::parse(&format!("mimi://b.example/u/banned{i}")).expect("valid"),
            reason: Utf8String::new("spam").expect("no NUL"),
            expires_at: Some(1_700_000_000 + i),
        });
    }
    RoomComponents {
        participant_list: Some(participant_list()),
        roles: Some(RoleData {
            roles: vec![
                role(1, "banned"),
                role(2, "member"),
                role(3, "moderator"),
                role(4, "admin"),
            ],
        }),
        base_policy: Some(BaseRoomPolicy::default()),
        room_metadata: Some(RoomMetaData::new(
            RoomId::parse("mimi://a.example/r/clubhouse").expect("valid"),
        )),
        bans: Some(bans),
        ..RoomComponents::default()
    }
}

fn bench(c: &mut Criterion) {
    let list = participant_list();
    let list_bytes = list.encode().expect("encodes");
    let dictionary = room().encode_dictionary().expect("encodes");
    eprintln!(
        "sizes: participant list {} B, dictionary {} B",
        list_bytes.len(),
        dictionary.len()
    );

    c.bench_function("decode participant list (1000 users)", |b| {
        b.iter(|| ParticipantListData::decode(black_box(&list_bytes)).expect("decodes"))
    });
    c.bench_function("encode participant list (1000 users)", |b| {
        b.iter(|| black_box(&list).encode().expect("encodes"))
    });
    c.bench_function("decode app_data_dictionary (whole room)", |b| {
        b.iter(|| RoomComponents::decode_dictionary(black_box(&dictionary)).expect("decodes"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
