//! `mimi content …`: tools for MIMI message content (draft-ietf-mimi-content).
//!
//! `inspect` decodes one message and prints a JSON summary, for operators
//! reviewing abuse reports and for developers debugging interop.

use std::fs::File;
use std::io::{self, Read, Write};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use mimi_content::ReceivedContent;
use mimi_content::inspect::Summary;

/// Largest input read, in bytes. MIMI content travels inside a MIMI body of at
/// most 16 MiB, so anything larger is not a message; the cap keeps a mistaken
/// `inspect /dev/zero` from exhausting memory.
const MAX_INPUT_LEN: u64 = 16 * 1024 * 1024;

/// Subcommands of `mimi content`.
#[derive(Debug, Subcommand)]
pub enum ContentCommand {
    /// Decode one MIMI content message (CBOR) and print a JSON summary.
    #[command(long_about = INSPECT_ABOUT, after_long_help = INSPECT_AFTER)]
    Inspect(InspectArgs),
}

const INSPECT_ABOUT: &str = "\
Decode one MIMI content message (application/mimi-content, deterministic CBOR) and print a
JSON summary on standard output.

The input must be exactly one message: the plaintext MLS application data, e.g. the
`message_content` of an abuse report. The decoder is strict: non-deterministic CBOR
(non-minimal heads, unsorted map keys, indefinite lengths), bodies nested more than 4 levels
or with more than 1024 parts, and every other draft violation are reported with the byte
offset of the offending item.";

const INSPECT_AFTER: &str = "\
OUTPUT (JSON object):
  message_id     hex message ID (draft -08 formula), or null if the sender or room URI is unknown
  sender, room   the URIs used for the ID: extension keys 1 and 2, else --sender / --room
  length, salt   message size in bytes; the 16-byte salt (hex)
  franking_tag   HMAC-SHA256(salt, message): the tag its frank_aad should carry (hex)
  replaces, in_reply_to, topic_id, expires, extensions
  parts          every body part depth-first, with its part index (as in cid:N@local.invalid),
                 kind, disposition, media type, size, text, mentions, status-report entries;
                 attachment keys are never printed
  warnings       problems a reviewer should notice (e.g. a sender URI that differs from
                 --sender: receivers discard such messages)

SENDER AND ROOM:
  The message ID hashes the sender and room URIs. Messages normally carry both (extension
  keys 1 and 2) and then need no flags. If a message lacks them, pass the implied values:
  --sender with the user URI of the sender's MLS credential and --room with the room's URI.
  If you pass a flag and the message carries a different value, the ID uses the message's
  value and a warning is printed.

EXIT STATUS:
  0   decoded (warnings may still be present)
  65  the input is not a valid MIMI content message (or not valid hex with --hex)
  66  the input file cannot be read, or is larger than 16 MiB
  74  writing the output failed

EXAMPLES:
  mimi content inspect message.cbor
  xxd -p message.cbor | mimi content inspect --hex -
  mimi content inspect --sender mimi://example.com/u/alice --room mimi://example.com/r/team m.cbor";

/// Arguments of `mimi content inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The file to read, or `-` for standard input.
    #[arg(value_name = "FILE|-")]
    file: String,
    /// Sender URI for the message ID when the message lacks extension 1 (the user URI of the
    /// sender's MLS credential).
    #[arg(long, value_name = "URI")]
    sender: Option<String>,
    /// Room URI for the message ID when the message lacks extension 2.
    #[arg(long, value_name = "URI")]
    room: Option<String>,
    /// Read hex text (whitespace ignored) instead of raw CBOR bytes.
    #[arg(long)]
    hex: bool,
    /// Print the JSON on one line instead of indented.
    #[arg(long)]
    compact: bool,
}

/// Runs a `mimi content` subcommand.
pub fn run(cmd: ContentCommand) -> ExitCode {
    match cmd {
        ContentCommand::Inspect(args) => inspect(&args),
    }
}

fn inspect(args: &InspectArgs) -> ExitCode {
    let name = if args.file == "-" {
        "<stdin>"
    } else {
        args.file.as_str()
    };
    let raw = match read_input(&args.file) {
        Ok(raw) => raw,
        Err(msg) => {
            eprintln!("mimi content inspect: {name}: {msg}");
            return crate::exit::NO_INPUT.into();
        }
    };
    let bytes = if args.hex {
        match decode_hex(&raw) {
            Ok(bytes) => bytes,
            Err(msg) => {
                eprintln!("mimi content inspect: {name}: not valid hex: {msg}");
                return crate::exit::BAD_INPUT.into();
            }
        }
    } else {
        raw
    };
    let received = match ReceivedContent::decode(bytes) {
        Ok(received) => received,
        Err(e) => {
            eprintln!("mimi content inspect: {name}: not a valid MIMI content message: {e}");
            return crate::exit::BAD_INPUT.into();
        }
    };
    let summary = Summary::new(&received, args.sender.as_deref(), args.room.as_deref());
    let json = if args.compact {
        serde_json::to_string(&summary)
    } else {
        serde_json::to_string_pretty(&summary)
    };
    let written = json
        .map_err(io::Error::other)
        .and_then(|text| writeln!(io::stdout().lock(), "{text}"));
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mimi content inspect: writing output: {e}");
            crate::exit::IO_ERROR.into()
        }
    }
}

/// Reads the whole input, refusing more than [`MAX_INPUT_LEN`] bytes.
fn read_input(file: &str) -> Result<Vec<u8>, String> {
    let reader: Box<dyn Read> = if file == "-" {
        Box::new(io::stdin().lock())
    } else {
        Box::new(File::open(file).map_err(|e| e.to_string())?)
    };
    let mut buf = Vec::new();
    reader
        .take(MAX_INPUT_LEN + 1)
        .read_to_end(&mut buf)
        .map_err(|e| e.to_string())?;
    if buf.len() as u64 > MAX_INPUT_LEN {
        return Err(format!("larger than {MAX_INPUT_LEN} bytes"));
    }
    Ok(buf)
}

/// Decodes hex text, ignoring ASCII whitespace (as `xxd -p` wraps lines).
fn decode_hex(text: &[u8]) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if !digits.len().is_multiple_of(2) {
        return Err("odd number of hex digits".into());
    }
    digits
        .chunks_exact(2)
        .enumerate()
        .map(|(i, pair)| match (nibble(pair[0]), nibble(pair[1])) {
            (Some(hi), Some(lo)) => Ok(hi << 4 | lo),
            _ => Err(format!("invalid hex digit in digit pair {}", i + 1)),
        })
        .collect()
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_input_ignores_whitespace_and_rejects_junk() {
        assert_eq!(decode_hex(b"87 50\n0a"), Ok(vec![0x87, 0x50, 0x0a]));
        assert_eq!(decode_hex(b"8A"), Ok(vec![0x8a]));
        assert!(decode_hex(b"875").is_err());
        assert!(decode_hex(b"zz").is_err());
    }
}
