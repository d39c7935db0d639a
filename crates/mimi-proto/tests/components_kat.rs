//! Known-answer tests: bytes written out by hand from the TLS presentation
//! language layout (RFC 9420 §2.1), checked against the worked examples of the
//! digest (policy-content.md A.11), which were computed independently.

#![allow(clippy::unwrap_used)]

use mimi_proto::components::*;

#[path = "common/component_values.rs"]
mod values;
use values::*;

fn hex(s: &str) -> Vec<u8> {
    let clean: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    hex::decode(clean).unwrap()
}

const BANNED_HEX: &str = "00000001 06 62616e6e6564 00 00 00000000 00 00000000 01 00000000 00";
const ORDINARY_HEX: &str = "00000002 0d 6f7264696e6172795f75736572 00 06 0002 0100 0101 00000000 00 00000000 00 \
                            12 00000000 04 00000002 00000002 04 00000000";

#[test]
fn role_examples_match_a11() {
    assert_eq!(banned_role().encode().unwrap(), hex(BANNED_HEX));
    assert_eq!(ordinary_role().encode().unwrap(), hex(ORDINARY_HEX));
    assert_eq!(Role::decode(&hex(BANNED_HEX)).unwrap(), banned_role());
    assert_eq!(Role::decode(&hex(ORDINARY_HEX)).unwrap(), ordinary_role());
}

#[test]
fn role_data_has_a_two_byte_length_for_83_bytes() {
    let data = RoleData {
        roles: vec![banned_role(), ordinary_role()],
    };
    let mut expected = hex("40 53");
    expected.extend(hex(BANNED_HEX));
    expected.extend(hex(ORDINARY_HEX));
    assert_eq!(expected.len(), 2 + 83);
    assert_eq!(data.encode().unwrap(), expected);
    assert_eq!(RoleData::decode(&expected).unwrap(), data);
}

#[test]
fn app_data_update_adding_bob_matches_a11() {
    let update = update_adding_bob();
    let proposal = AppDataUpdate {
        component_id: ComponentId::PARTICIPANT_LIST,
        op: AppDataUpdateOperation::Update(update.encode().unwrap()),
    };
    let expected = hex(
        "0022 01 26 | 00 | 00 | 23 1e 6d696d693a2f2f6578616d706c652e636f6d2f752f626f622d6a6f6e6573 00000002",
    );
    assert_eq!(proposal.encode().unwrap(), expected);
    assert_eq!(AppDataUpdate::decode(&expected).unwrap(), proposal);
}

/// A participant-list update using all three parts, written out by hand:
///
/// ```text
/// changedRoleParticipants<V>: 08 | 00000000 00000003          entry 0 -> role 3
/// removedIndices<V>:          08 | 00000002 00000004          remove entries 2 and 4
/// addedParticipants<V>:    40 47 | 1e <30-byte URI> 00000002  bob-jones, role 2
///                                | 1f <31-byte URI> 00000005  a pseudonym, role 5
/// ```
/// bob-jones is 1+30+4 = 35 bytes (0x23, as in A.11) and the pseudonym
/// `mimi://b.example/p/crazykoala75` 1+31+4 = 36: 71 content bytes, which is
/// past 63, so the length takes the two-byte varint form `40 47`.
#[test]
fn participant_list_update_known_answer() {
    let update = update_all_parts();
    let expected = hex("08 00000000 00000003 \
         08 00000002 00000004 \
         40 47 \
           1e 6d696d693a2f2f6578616d706c652e636f6d2f752f626f622d6a6f6e6573 00000002 \
           1f 6d696d693a2f2f622e6578616d706c652f702f6372617a796b6f616c613735 00000005");
    assert_eq!(expected.len(), 1 + 8 + 1 + 8 + 2 + 71);
    assert_eq!(update.encode().unwrap(), expected);
    assert_eq!(ParticipantListUpdate::decode(&expected).unwrap(), update);
}

#[test]
fn base_policy_known_answer() {
    let policy = base_policy();
    // bools, empty Uri, bool, optional present 4, optional absent, 3 bools, 2 ids.
    let expected = hex("01 00 00 00 01 00000004 00 00 01 00 04 0025 8000");
    assert_eq!(policy.encode().unwrap(), expected);
    assert_eq!(BaseRoomPolicy::decode(&expected).unwrap(), policy);
}

#[test]
fn ban_record_known_answer() {
    let list = ban_list();
    // 37 = 0x25 content bytes: 16 + 22-byte URI, 04 "spam", 01 + u64.
    let expected =
        hex("25 16 6d696d693a2f2f612e6578616d706c652f752f657665 04 7370616d 01 0000000001020304");
    assert_eq!(list.encode().unwrap(), expected);
    assert_eq!(BanList::decode(&expected).unwrap(), list);
}
