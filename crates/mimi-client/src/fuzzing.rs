//! Entry points for cargo-fuzz targets (`fuzz/fuzz_targets/client_*.rs`).
//! Each must return normally for every input: a panic is a bug.

/// Feeds arbitrary bytes to a fresh client as each kind of fanned-out event.
pub fn process_event(data: &[u8]) {
    use mimi_proto::messages::RawFanoutMessage;
    let Ok(client_id) = mimi_proto::ClientId::parse("mimi://fuzz.example/d/fuzz/dev") else {
        return;
    };
    let Ok(mut client) = crate::Client::in_memory(client_id) else {
        return;
    };
    let (head, tail) = data.split_at(data.len() / 2);
    for incoming in [
        RawFanoutMessage::Commit {
            timestamp: 0,
            message: data.to_vec(),
            external_proposals: Vec::new(),
        },
        RawFanoutMessage::Proposal {
            timestamp: 0,
            message: data.to_vec(),
            more_proposals: Vec::new(),
        },
        RawFanoutMessage::Welcome {
            timestamp: 0,
            message: head.to_vec(),
            ratchet_tree: tail.to_vec(),
        },
        RawFanoutMessage::Application {
            timestamp: 0,
            message: data.to_vec(),
            frank: Some(tail.to_vec()),
        },
    ] {
        let _ = client.process(incoming);
    }
}
