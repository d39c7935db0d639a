//! Entry points for the cargo-fuzz targets of this crate (`fuzz/`): each
//! takes arbitrary bytes and panics only on a real bug.

/// The hub key file decoder: whatever decodes must encode back to the same
/// bytes.
pub fn hub_keys(data: &[u8]) {
    if let Ok((signer, franking)) = crate::setup::hub_keys::decode(data) {
        let again = crate::setup::hub_keys::encode(&signer, &franking)
            .unwrap_or_else(|e| panic!("a decoded key file must encode: {e}"));
        assert_eq!(again, data, "key file round trip");
    }
}

/// How a follower splits a notify body into per-message mailbox payloads:
/// each message's slice (by its encoded length) must be exactly that message.
pub fn notify_slices(data: &[u8]) {
    use mimi_proto::WireMessage as _;
    use mimi_proto::messages::{FanoutMessage, NotifyBody};
    use tls_codec::Size as _;

    let Ok(body) = NotifyBody::decode(data) else {
        return;
    };
    let mut offset = 0;
    for message in &body.messages {
        let len = message.tls_serialized_len();
        let slice = &data[offset..offset + len];
        assert_eq!(
            FanoutMessage::decode(slice).as_ref(),
            Ok(message),
            "slice at {offset}"
        );
        offset += len;
    }
    assert_eq!(offset, data.len(), "slices cover the body");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_points_accept_garbage() {
        for data in [&b""[..], b"\x01", &[0xff; 64], &[1; 200]] {
            hub_keys(data);
            notify_slices(data);
        }
    }
}
