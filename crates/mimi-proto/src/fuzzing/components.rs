//! Fuzz entry points for the room-state components, one per decoder family.
//!
//! Each decodes arbitrary bytes and, if they decode, asserts that encoding the
//! value gives back exactly the input.

use crate::components::{
    AppDataDictionary, AppDataUpdate, BanList, ComponentId, ComponentValue, JoinLinksUpdate,
    OrgScopedRoles, ParticipantListUpdate, RoomComponents,
};

/// Decodes, and if that worked asserts that re-encoding reproduces `data`.
macro_rules! roundtrip {
    ($ty:ty, $data:expr) => {
        if let Ok(value) = <$ty>::decode($data) {
            let again = value.encode().expect("a decoded value re-encodes");
            assert_eq!(
                again.as_slice(),
                $data,
                concat!(stringify!($ty), " is not canonical")
            );
        }
    };
}

/// Splits the first two bytes off as a component id.
fn split_id(data: &[u8]) -> Option<(ComponentId, &[u8])> {
    let (id, rest) = data.split_first_chunk::<2>()?;
    Some((ComponentId(u16::from_be_bytes(*id)), rest))
}

/// Any component's `data`, chosen by a 2-byte id prefix. Restricting the id to
/// the interpreted ones keeps the fuzzer on decoders.
fn component_of(data: &[u8], ids: &[ComponentId]) {
    let Some((id, rest)) = split_id(data) else {
        return;
    };
    let Some(&id) = ids.get(usize::from(id.0) % ids.len()) else {
        return;
    };
    if let Ok(value) = ComponentValue::decode(id, rest) {
        assert_eq!(value.id(), id);
        let again = value.encode().expect("a decoded value re-encodes");
        assert_eq!(again.as_slice(), rest, "{id:?} is not canonical");
    }
}

/// The participant list: data and delta update.
pub fn participant_list(data: &[u8]) {
    component_of(data, &[ComponentId::PARTICIPANT_LIST]);
    roundtrip!(ParticipantListUpdate, data);
}

/// Roles (0x0025), including their capability lists and matrices.
pub fn roles(data: &[u8]) {
    component_of(data, &[ComponentId::ROLES_LIST]);
}

/// Preauthorization (0x0026).
pub fn preauth(data: &[u8]) {
    component_of(data, &[ComponentId::PREAUTH_LIST]);
}

/// Room metadata (0x0023), base policy (0x0027) and the franking agent (0x0021).
pub fn room(data: &[u8]) {
    component_of(
        data,
        &[
            ComponentId::ROOM_METADATA,
            ComponentId::BASE_ROOM_POLICY,
            ComponentId::FRANKING_AGENT,
        ],
    );
}

/// The other policy components (0x0024, 0x0028–0x0030) and the join-links delta.
pub fn policies(data: &[u8]) {
    component_of(
        data,
        &[
            ComponentId::MLS_OPERATIONAL_POLICY,
            ComponentId::STATUS_NOTIFICATION_POLICY,
            ComponentId::JOIN_LINK_POLICY,
            ComponentId::JOIN_LINKS,
            ComponentId::LINK_PREVIEW_POLICY,
            ComponentId::ASSET_POLICY,
            ComponentId::LOGGING_POLICY,
            ComponentId::CHAT_HISTORY_POLICY,
            ComponentId::BOT_POLICY,
            ComponentId::MESSAGE_EXPIRATION_POLICY,
        ],
    );
    roundtrip!(JoinLinksUpdate, data);
}

/// mimi's private components: ban records and organisation-scoped roles.
pub fn bans(data: &[u8]) {
    roundtrip!(BanList, data);
    roundtrip!(OrgScopedRoles, data);
}

/// The dictionary container, the typed room view and `AppDataUpdate`.
pub fn dictionary(data: &[u8]) {
    roundtrip!(AppDataDictionary, data);
    roundtrip!(AppDataUpdate, data);
    if let Ok(state) = RoomComponents::decode_dictionary(data) {
        let again = state
            .encode_dictionary()
            .expect("a decoded state re-encodes");
        assert_eq!(again.as_slice(), data, "RoomComponents is not canonical");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn entry_points_survive_junk() {
        let inputs: [&[u8]; 6] = [
            &[],
            &[0x00],
            &[0x00, 0x22, 0x00],
            &[0x00, 0x25, 0x40],
            &[0xff; 64],
            &[0x00, 0x27, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0],
        ];
        for data in inputs {
            participant_list(data);
            roles(data);
            preauth(data);
            room(data);
            policies(data);
            bans(data);
            dictionary(data);
        }
    }
}
