//! `mimi content inspect`, run as the built binary on every example of
//! draft-ietf-mimi-content and on garbage.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use mimi_content::MimiContent;

const BAD_INPUT: i32 = 65;
const NO_INPUT: i32 = 66;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../mimi-content/test_vectors")
}

fn mimi(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mimi"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the mimi binary runs");
    let mut pipe = child.stdin.take().expect("piped stdin");
    pipe.write_all(stdin.unwrap_or_default())
        .expect("write stdin");
    drop(pipe);
    child.wait_with_output().expect("mimi exits")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "exit {:?}, stderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// One entry of `test_vectors/examples.json`.
struct Example {
    name: String,
    file: String,
    sender: String,
    room: String,
    message_id: String,
}

fn examples() -> Vec<Example> {
    let list = std::fs::read_to_string(vectors_dir().join("examples.json")).expect("readable");
    let list: serde_json::Value = serde_json::from_str(&list).expect("valid JSON");
    let field = |e: &serde_json::Value, k: &str| e[k].as_str().expect("string field").to_owned();
    list.as_array()
        .expect("a list")
        .iter()
        .map(|e| Example {
            name: field(e, "name"),
            file: field(e, "file"),
            sender: field(e, "sender"),
            room: field(e, "room"),
            message_id: field(e, "message_id"),
        })
        .collect()
}

#[test]
fn inspects_every_example() {
    let examples = examples();
    assert_eq!(examples.len(), 14);
    for ex in examples {
        let path = vectors_dir().join(&ex.file);
        let out = mimi(
            &["content", "inspect", path.to_str().expect("UTF-8 path")],
            None,
        );
        let v = json(&out);
        assert_eq!(v["message_id"], ex.message_id.as_str(), "{}", ex.name);
        assert_eq!(v["sender"], ex.sender.as_str(), "{}", ex.name);
        assert_eq!(v["room"], ex.room.as_str(), "{}", ex.name);
        assert!(
            v["parts"].as_array().is_some_and(|p| !p.is_empty()),
            "{}",
            ex.name
        );
        assert!(
            v.get("warnings").is_none(),
            "{}: {}",
            ex.name,
            v["warnings"]
        );
    }
}

#[test]
fn shows_references_and_parts() {
    let path = vectors_dir().join("edit.cbor");
    let v = json(&mimi(
        &["content", "inspect", path.to_str().expect("UTF-8")],
        None,
    ));
    assert_eq!(
        v["in_reply_to"],
        "017ce54837404c3696e0c747b985cb172716d0ed0a3d249ca63ace7d82a096f4"
    );
    assert_eq!(
        v["replaces"],
        "015354973c2b65ca937bf1e035ae53a5ab80e947afa43d46920d4202e5cc0b27"
    );
    assert_eq!(v["parts"][0]["text"], "Right on! _Congratulations_ y'all!");
    assert_eq!(
        v["parts"][0]["content_type"],
        "text/markdown;variant=GFM-MIMI"
    );

    let path = vectors_dir().join("mention.cbor");
    let v = json(&mimi(
        &["content", "inspect", path.to_str().expect("UTF-8")],
        None,
    ));
    assert_eq!(
        v["parts"][0]["mentions"][0],
        "mimi://example.com/u/alice-smith"
    );
}

#[test]
fn reads_stdin_and_hex() {
    let bytes = std::fs::read(vectors_dir().join("original.cbor")).expect("readable");
    let v = json(&mimi(&["content", "inspect", "-"], Some(&bytes)));
    assert_eq!(
        v["message_id"],
        "017ce54837404c3696e0c747b985cb172716d0ed0a3d249ca63ace7d82a096f4"
    );
    let hex: String = bytes
        .chunks(32)
        .map(|line| line.iter().map(|b| format!("{b:02x}")).collect::<String>() + "\n")
        .collect();
    let v = json(&mimi(
        &["content", "inspect", "--hex", "--compact", "-"],
        Some(hex.as_bytes()),
    ));
    assert_eq!(
        v["message_id"],
        "017ce54837404c3696e0c747b985cb172716d0ed0a3d249ca63ace7d82a096f4"
    );
}

#[test]
fn sender_and_room_flags_fill_missing_extensions() {
    let mut msg =
        MimiContent::decode(&std::fs::read(vectors_dir().join("original.cbor")).expect("readable"))
            .expect("vector");
    msg.extensions = mimi_content::Extensions::new();
    let bytes = msg.encode().expect("valid");

    let bare = json(&mimi(&["content", "inspect", "-"], Some(&bytes)));
    assert!(bare["message_id"].is_null());
    assert!(
        bare["warnings"][0]
            .as_str()
            .is_some_and(|w| w.contains("no message ID"))
    );

    let alice = "mimi://example.com/u/alice-smith";
    let room = "mimi://example.com/r/engineering_team";
    let filled = json(&mimi(
        &["content", "inspect", "--sender", alice, "--room", room, "-"],
        Some(&bytes),
    ));
    let expected =
        mimi_content::MessageId::compute(alice, room, &bytes, &msg.salt).expect("short URIs");
    assert_eq!(filled["message_id"], expected.to_hex().as_str());

    // A flag that contradicts the content is reported, not silently used.
    let path = vectors_dir().join("original.cbor");
    let clash = json(&mimi(
        &[
            "content",
            "inspect",
            "--sender",
            "mimi://example.com/u/mallory",
            path.to_str().expect("UTF-8"),
        ],
        None,
    ));
    assert_eq!(
        clash["message_id"],
        "017ce54837404c3696e0c747b985cb172716d0ed0a3d249ca63ace7d82a096f4"
    );
    assert!(
        clash["warnings"][0]
            .as_str()
            .is_some_and(|w| w.contains("differs"))
    );
}

#[test]
fn garbage_fails_cleanly_with_a_reason() {
    for (input, needle) in [
        (&b""[..], "input ended early"),
        (b"hello, world", "expected array"),
        (b"\x9f\xff", "indefinite-length"),
        (
            b"\x87\x5b\xff\xff\xff\xff\xff\xff\xff\xff",
            "input ended early",
        ),
    ] {
        let out = mimi(&["content", "inspect", "-"], Some(input));
        assert_eq!(out.status.code(), Some(BAD_INPUT), "{input:?}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("not a valid MIMI content message"), "{err}");
        assert!(err.contains(needle), "{input:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // A truncated real message names the offset.
    let bytes = std::fs::read(vectors_dir().join("attachment.cbor")).expect("readable");
    let out = mimi(&["content", "inspect", "-"], Some(&bytes[..100]));
    assert_eq!(out.status.code(), Some(BAD_INPUT));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at byte"));

    let out = mimi(&["content", "inspect", "--hex", "-"], Some(b"87 5z"));
    assert_eq!(out.status.code(), Some(BAD_INPUT));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not valid hex"));
}

#[test]
fn missing_file_is_no_input() {
    let out = mimi(&["content", "inspect", "/nonexistent/message.cbor"], None);
    assert_eq!(out.status.code(), Some(NO_INPUT));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/message.cbor"));
}

#[test]
fn help_explains_output_and_flags() {
    let out = mimi(&["content", "inspect", "--help"], None);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "--sender",
        "--room",
        "--hex",
        "message_id",
        "EXIT STATUS",
        "65",
    ] {
        assert!(help.contains(needle), "help lacks {needle}:\n{help}");
    }
}
