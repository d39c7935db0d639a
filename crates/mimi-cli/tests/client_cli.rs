//! `mimi client`, run as the built binary against the federation that
//! `mimi demo --keep-running` leaves up: register, create a room, add a user
//! of another provider, send, sync and read history as JSON, and the exit
//! codes for a policy refusal (3), an unreachable server (4) and bad input (2);
//! consent requested, listed and granted across providers. Then what a new
//! user runs into: usage errors and unregistered homes (exit 2, JSON under
//! `--json`), the `--connect` port, message-ID prefixes, a self-update, a
//! removed client's last epoch, a lost commit race (a refusal that says
//! another commit won), a user of a provider we do not federate with, and
//! server logs without colour codes.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure we want

use std::io::{BufRead as _, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// The demo in the background; stopped with SIGTERM (so it stops its
/// servers) when dropped.
struct Demo {
    child: Option<Child>,
    providers: Vec<(String, String, String)>,
    ca: String,
    _dir: tempfile::TempDir,
}

impl Demo {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_mimi"))
            .args(["demo", "--keep-running", "--dir"])
            .arg(dir.path().join("demo"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut demo = Self {
            child: Some(child),
            providers: Vec::new(),
            ca: String::new(),
            _dir: dir,
        };
        let mut transcript = String::new();
        loop {
            let line = rx
                .recv_timeout(Duration::from_secs(180))
                .unwrap_or_else(|_| panic!("the demo did not come up:\n{transcript}"));
            transcript.push_str(&line);
            transcript.push('\n');
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["provider", domain, "client-api", url, "connect", addr] => {
                    demo.providers
                        .push(((*domain).into(), (*url).into(), (*addr).into()))
                }
                ["ca", path] => demo.ca = (*path).into(),
                _ => {}
            }
            if line.starts_with("mimi demo: running") {
                break;
            }
        }
        assert!(
            transcript.contains("mimi demo: all checks passed"),
            "{transcript}"
        );
        assert_eq!(demo.providers.len(), 3, "{transcript}");
        demo
    }

    fn provider(&self, domain: &str) -> (&str, &str) {
        let p = self.providers.iter().find(|p| p.0 == domain).unwrap();
        (&p.1, &p.2)
    }

    fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        let pid = child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        child.wait().unwrap()
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.stop();
        }
    }
}

fn mimi(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mimi"))
        .arg("client")
        .arg("--home")
        .arg(home)
        .args(args)
        .output()
        .unwrap()
}

/// Runs a command that must succeed with `--json`; returns its document.
fn ok(home: &Path, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = mimi(home, &all);
    assert!(
        out.status.success(),
        "{args:?} failed ({}): {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: not one JSON document ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn register(demo: &Demo, home: &Path, client: &str, domain: &str) -> Value {
    register_with(demo, home, client, domain, &[])
}

/// As [`register`], with more `register` arguments.
fn register_with(demo: &Demo, home: &Path, client: &str, domain: &str, more: &[&str]) -> Value {
    let (url, addr) = demo.provider(domain);
    register_at(home, client, &demo.ca, url, addr, more)
}

/// Syncs (long-polling) until `want` holds for the events seen so far.
fn sync_until(home: &Path, want: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let mut events = Vec::new();
    for _ in 0..10 {
        let doc = ok(home, &["sync", "--wait", "5"]);
        events.extend(doc["events"].as_array().cloned().unwrap_or_default());
        if want(&events) {
            return events;
        }
    }
    panic!("never got what we waited for: {events:#?}");
}

#[test]
fn the_client_cli_drives_a_room_across_providers() {
    let mut demo = Demo::start();
    let dir = tempfile::tempdir().unwrap();
    let frank: PathBuf = dir.path().join("frank");
    let grace: PathBuf = dir.path().join("grace");

    let doc = register(&demo, &frank, "frank/laptop@x.example", "x.example");
    assert_eq!(doc["client"], "mimi://x.example/d/frank/laptop");
    assert!(doc["key_packages"].as_u64().unwrap() > 0, "{doc}");
    register(&demo, &grace, "grace/phone@z.example", "z.example");

    // Frank's room lives on his own provider, x.example.
    let doc = ok(&frank, &["create-room", "garden"]);
    assert_eq!(doc["room"], "mimi://x.example/r/garden");
    let doc = ok(&frank, &["add", "garden", "grace@z.example"]);
    assert_eq!(doc["epoch"], 1, "{doc}");
    sync_until(&grace, |events| {
        events.iter().any(|e| e["type"] == "joined")
    });

    let first = ok(&frank, &["send", "garden", "The tomatoes are ripe."]);
    let second = ok(&frank, &["send", "garden", "Bring a basket."]);
    // A new process per command: Grace resumes from her stored cursor.
    let events = sync_until(&grace, |events| {
        events.iter().filter(|e| e["type"] == "message").count() >= 2
    });
    let texts: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "message")
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["The tomatoes are ripe.", "Bring a basket."]);
    let again = ok(&grace, &["sync"]);
    assert_eq!(again["fetched"], 0, "nothing is delivered twice: {again}");

    let doc = ok(
        &grace,
        &[
            "reply",
            "garden@x.example",
            first["message_id"].as_str().unwrap(),
            "On my way",
        ],
    );
    assert!(doc["message_id"].is_string());
    let history = ok(&grace, &["history", "garden@x.example"]);
    let messages = history["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3, "{history}");
    assert_eq!(messages[1]["message_id"], second["message_id"]);
    assert_eq!(messages[2]["kind"], "reply");
    assert_eq!(messages[2]["in_reply_to"], first["message_id"]);
    let members = ok(&frank, &["members", "garden"]);
    let roles: Vec<(&str, &str)> = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["user"].as_str().unwrap(),
                m["role_name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [
            ("mimi://x.example/u/frank", "admin"),
            ("mimi://z.example/u/grace", "member")
        ]
    );

    // An edit and a reaction reach the other side in order.
    let edited = ok(
        &frank,
        &[
            "edit",
            "garden",
            second["message_id"].as_str().unwrap(),
            "Bring two baskets.",
        ],
    );
    ok(
        &frank,
        &[
            "react",
            "garden",
            first["message_id"].as_str().unwrap(),
            "🍅",
        ],
    );
    let events = sync_until(&grace, |events| {
        events.iter().filter(|e| e["type"] == "message").count() >= 2
    });
    let kinds: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "message")
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["edit", "reaction"]);
    let first_message = events.iter().find(|e| e["type"] == "message").unwrap();
    assert_eq!(first_message["message_id"], edited["message_id"]);

    // Grace is a member, not an admin: the kick is refused (exit 3).
    let out = mimi(
        &grace,
        &["kick", "garden@x.example", "frank@x.example", "--json"],
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["error"]["kind"], "refused", "{doc}");

    // Bad input (exit 2): an unknown room, a malformed user.
    let out = mimi(&grace, &["send", "nowhere@x.example", "hi"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = mimi(&frank, &["add", "garden", "not a user"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // An unreachable server (exit 4): nothing listens on a port we just freed.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = mimi(
        &dir.path().join("henry"),
        &[
            "register",
            "henry/laptop@x.example",
            "--server",
            &format!("https://x.example:{}", closed.port()),
            "--ca",
            &demo.ca,
            "--connect",
            &closed.to_string(),
            "--json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["error"]["kind"], "network", "{doc}");

    // Grace leaves: her proposal waits at the hub until Frank commits it.
    let doc = ok(&grace, &["leave", "garden@x.example"]);
    assert_eq!(doc["left"], "proposed");
    let mut committed = None;
    for _ in 0..10 {
        let doc = ok(&frank, &["sync", "--wait", "5", "--commit-pending"]);
        if let Some(c) = doc["commits"].as_array().and_then(|c| c.first()) {
            committed = Some(c.clone());
            break;
        }
    }
    let committed = committed.expect("frank committed grace's leave");
    assert_eq!(committed["room"], "mimi://x.example/r/garden");
    let members = ok(&frank, &["members", "garden"]);
    assert_eq!(members["members"].as_array().unwrap().len(), 1, "{members}");

    // Consent: Frank asks Grace; she sees the request waiting for her and
    // grants it for the garden; Frank's provider learns of the grant.
    let doc = ok(&frank, &["consent", "request", "grace@z.example"]);
    assert_eq!(doc["requester"], "mimi://x.example/u/frank", "{doc}");
    assert_eq!(doc["target"], "mimi://z.example/u/grace", "{doc}");
    let doc = ok(&grace, &["consent", "list", "--pending"]);
    let pending = doc["consents"].as_array().unwrap();
    assert_eq!(pending.len(), 1, "{doc}");
    assert_eq!(pending[0]["requester"], "mimi://x.example/u/frank");
    assert_eq!(pending[0]["role"], "target");
    assert_eq!(pending[0]["state"], "requested");
    let out = mimi(&grace, &["consent", "list"]);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("mimi://x.example/u/frank → you  any room  requested"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    ok(
        &grace,
        &[
            "consent",
            "grant",
            "frank@x.example",
            "--room",
            "garden@x.example",
        ],
    );
    let doc = ok(&frank, &["consent", "list"]);
    assert!(
        doc["consents"].as_array().unwrap().iter().any(|c| {
            c["target"] == "mimi://z.example/u/grace"
                && c["room"] == "mimi://x.example/r/garden"
                && c["state"] == "granted"
                && c["role"] == "requester"
        }),
        "{doc}"
    );
    // The request for any room still waits: the grant covers the garden only.
    let doc = ok(&grace, &["consent", "list", "--pending"]);
    assert_eq!(doc["consents"].as_array().unwrap().len(), 1, "{doc}");
    assert!(doc["consents"][0]["room"].is_null(), "{doc}");
    // A user that does not exist is bad input (exit 2).
    let out = mimi(&frank, &["consent", "request", "nobody@z.example"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let status = demo.stop();
    assert!(status.success(), "the demo stopped with {status}");
}

/// Runs a command that must fail with `code`; returns its `--json` error.
fn fails(home: &Path, args: &[&str], code: i32) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = mimi(home, &all);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: no JSON error ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    assert!(doc["error"]["message"].is_string(), "{doc}");
    doc["error"].clone()
}

/// The room as `rooms --json` shows it to `home`.
fn room_view(home: &Path, room: &str) -> Value {
    let doc = ok(home, &["rooms"]);
    doc["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["room"] == room)
        .cloned()
        .unwrap_or_else(|| panic!("{room} not in {doc}"))
}

#[test]
fn the_client_cli_says_what_went_wrong() {
    let demo = Demo::start();
    let dir = tempfile::tempdir().unwrap();
    let nobody = dir.path().join("nobody");
    let (x_url, x_addr) = demo.provider("x.example");
    let (z_url, z_addr) = demo.provider("z.example");

    // Usage errors the argument parser catches print JSON under --json too.
    let error = fails(&nobody, &["add", "garden"], 2);
    assert_eq!(error["kind"], "bad_input", "{error}");
    let error = fails(&nobody, &["frobnicate"], 2);
    assert_eq!(error["kind"], "bad_input", "{error}");
    // A home that was never registered is a usage error, not broken state.
    let error = fails(&nobody, &["rooms"], 2);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("run `register` first"),
        "{error}"
    );
    // A user where a client is needed: the device is what is missing.
    let error = fails(
        &nobody,
        &[
            "register",
            "bob@x.example",
            "--server",
            x_url,
            "--ca",
            &demo.ca,
            "--connect",
            x_addr,
        ],
        2,
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("names no device"),
        "{error}"
    );

    // --connect names the whole address: its port wins over the URL's.
    let frank = dir.path().join("frank");
    let wrong_port = "https://x.example:1";
    register_at(
        &frank,
        "frank/laptop@x.example",
        &demo.ca,
        wrong_port,
        x_addr,
        &[],
    );
    let ivan = dir.path().join("ivan");
    register_at(&ivan, "ivan/laptop@x.example", &demo.ca, x_url, x_addr, &[]);
    let grace = dir.path().join("grace");
    register_at(
        &grace,
        "grace/phone@z.example",
        &demo.ca,
        z_url,
        z_addr,
        &[],
    );
    let judy = dir.path().join("judy");
    register_at(&judy, "judy/phone@z.example", &demo.ca, z_url, z_addr, &[]);
    ok(&frank, &["create-room", "garden"]);
    ok(
        &frank,
        &["add", "garden", "ivan@x.example", "--role", "admin"],
    );
    ok(&frank, &["add", "garden", "grace@z.example"]);
    ok(&frank, &["add", "garden", "judy@z.example"]);
    sync_until(&grace, |events| {
        events.iter().any(|e| e["type"] == "joined")
    });
    let room = "mimi://x.example/r/garden";

    // A user of a provider we do not federate with: said so, bad input,
    // whether the room's hub is our own provider or another.
    let error = fails(&frank, &["add", "garden", "nobody@w.example"], 2);
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("w.example") && message.contains("not a known provider"),
        "{error}"
    );
    let yara = dir.path().join("yara");
    register(&demo, &yara, "yara/phone@y.example", "y.example");
    ok(&yara, &["create-room", "porch"]);
    ok(
        &yara,
        &["add", "porch", "frank@x.example", "--role", "admin"],
    );
    sync_until(&frank, |events| {
        events.iter().any(|e| e["type"] == "joined")
    });
    let error = fails(&frank, &["add", "porch@y.example", "nobody@w.example"], 2);
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("y.example")
            && message.contains("w.example")
            && message.contains("not a known provider"),
        "{error}"
    );

    // Message IDs by any unique prefix, as `history` shows them.
    let sent = ok(&frank, &["send", "garden", "The tomatoes are ripe."]);
    let id = sent["message_id"].as_str().unwrap();
    let out = mimi(&frank, &["history", "garden"]);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains(&id[..12]), "{shown}");
    let reply = ok(
        &grace,
        &["reply", "garden@x.example", &id[..12], "On my way"],
    );
    ok(
        &grace,
        &["react", "garden@x.example", &id[..6].to_uppercase(), "🍅"],
    );
    let history = ok(&grace, &["history", "garden@x.example"]);
    let messages = history["messages"].as_array().unwrap();
    assert_eq!(messages[1]["message_id"], reply["message_id"], "{history}");
    assert_eq!(messages[1]["in_reply_to"], id, "{history}");
    assert_eq!(messages[2]["kind"], "reaction", "{history}");
    assert_eq!(messages[2]["in_reply_to"], id, "{history}");
    let error = fails(&frank, &["edit", "garden", &id[..3], "x"], 2);
    assert!(
        error["message"].as_str().unwrap().contains("at least 4"),
        "{error}"
    );
    let absent = if id.starts_with("ffff") {
        "0000"
    } else {
        "ffff"
    };
    let unknown = messages
        .iter()
        .all(|m| !m["message_id"].as_str().unwrap().starts_with(absent));
    if unknown {
        let error = fails(&frank, &["delete", "garden", absent], 2);
        assert!(
            error["message"].as_str().unwrap().contains("no message"),
            "{error}"
        );
    }
    ok(
        &frank,
        &["edit", "garden", &id[..8], "The tomatoes are very ripe."],
    );

    // A self-update: a commit with a fresh leaf, merged by every member.
    let before = room_view(&frank, room);
    let done = ok(&frank, &["update", "garden"]);
    let epoch = before["epoch"].as_u64().unwrap() + 1;
    assert_eq!(done["epoch"], epoch, "{done}");
    sync_until(&grace, |events| {
        events
            .iter()
            .any(|e| e["type"] == "committed" && e["epoch"] == epoch)
    });
    let (f, g) = (room_view(&frank, room), room_view(&grace, room));
    assert_eq!(f["epoch_authenticator"], g["epoch_authenticator"]);
    assert_ne!(f["epoch_authenticator"], before["epoch_authenticator"]);

    // A kicked client shows the last epoch it was a member of, with that
    // epoch's authenticator.
    let member = room_view(&grace, room);
    ok(&frank, &["kick", "garden", "grace@z.example"]);
    sync_until(&grace, |events| {
        events.iter().any(|e| e["type"] == "removed")
    });
    let removed = room_view(&grace, room);
    assert_eq!(removed["status"], "removed", "{removed}");
    assert_eq!(removed["epoch"], member["epoch"], "{removed}");
    assert_eq!(
        removed["epoch_authenticator"], member["epoch_authenticator"],
        "{removed}"
    );

    // Two admins kick judy at once: Ivan's commit, built on the epoch
    // before Frank's, loses. The answer says another commit won, and Ivan
    // is synced to the winner's epoch.
    let mut ivan_session = mimi_session::Session::open(&ivan).unwrap();
    ivan_session.sync(None).unwrap();
    let garden = mimi_proto::RoomId::parse(room).unwrap();
    let judy_user = mimi_proto::UserId::parse("mimi://z.example/u/judy").unwrap();
    let kicked = ok(&frank, &["kick", "garden", "judy@z.example"]);
    let lost = ivan_session
        .commit(&garden, |c| c.kick(&garden, &judy_user))
        .unwrap_err();
    assert_eq!(lost.refusal_code(), Some("wrongEpoch"), "{lost}");
    assert!(lost.to_string().contains("another commit won"), "{lost}");
    assert_eq!(
        ivan_session.client().room(&garden).unwrap().epoch(),
        kicked["epoch"].as_u64().unwrap(),
        "{lost}"
    );
    drop(ivan_session);
    // Asked again, Ivan is told there is nothing left to kick.
    let error = fails(&ivan, &["kick", "garden", "judy@z.example"], 2);
    assert!(
        error["message"].as_str().unwrap().contains("no clients"),
        "{error}"
    );

    // Server logs written to files carry no terminal colour codes.
    let mut logs = 0;
    for provider in ["x.example", "y.example", "z.example"] {
        let log = demo
            ._dir
            .path()
            .join("demo")
            .join(provider)
            .join("server.log");
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(!text.is_empty(), "{}", log.display());
        assert!(!text.contains('\u{1b}'), "{}: {text}", log.display());
        logs += 1;
    }
    assert_eq!(logs, 3);
}

fn register_at(home: &Path, client: &str, ca: &str, url: &str, addr: &str, more: &[&str]) -> Value {
    let mut args = vec![
        "register",
        client,
        "--server",
        url,
        "--ca",
        ca,
        "--connect",
        addr,
    ];
    args.extend_from_slice(more);
    ok(home, &args)
}

/// Issue #20: a member's refused `add` claims nothing and says who refused;
/// the admin then adds the user at once. `keys` shows the stock, `keys
/// refill` uploads more, and `sync` tops a low stock up.
#[test]
fn refused_adds_claim_nothing_and_the_key_package_stock_is_kept() {
    let demo = Demo::start();
    let dir = tempfile::tempdir().unwrap();
    let (frank, grace, henry) = (
        dir.path().join("frank"),
        dir.path().join("grace"),
        dir.path().join("henry"),
    );
    register(&demo, &frank, "frank/laptop@x.example", "x.example");
    register(&demo, &grace, "grace/phone@z.example", "z.example");
    register_with(
        &demo,
        &henry,
        "henry/tablet@y.example",
        "y.example",
        &["--key-packages", "1"],
    );
    let keys = ok(&henry, &["keys"]);
    assert_eq!(keys["available"], 1, "{keys}");
    assert_eq!(keys["last_resort"], true, "{keys}");
    // Below the low mark: the next sync tops up to the stock (8).
    let synced = ok(&henry, &["sync"]);
    assert_eq!(synced["key_packages_uploaded"], 7, "{synced}");
    assert_eq!(ok(&henry, &["keys"])["available"], 8);
    let refilled = ok(&henry, &["keys", "refill", "--count", "2"]);
    assert_eq!(
        (
            refilled["uploaded"].as_u64(),
            refilled["available"].as_u64()
        ),
        (Some(2), Some(10)),
        "{refilled}"
    );
    let full = ok(&henry, &["keys", "refill"]);
    assert_eq!(full["uploaded"], 0, "{full}");
    let out = mimi(&henry, &["keys"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("10 KeyPackages on the server")
            && text.contains("last-resort KeyPackage held"),
        "{text}"
    );

    ok(&frank, &["create-room", "lawn"]);
    ok(&frank, &["add", "lawn", "grace@z.example"]);
    sync_until(&grace, |events| {
        events.iter().any(|e| e["type"] == "joined")
    });
    // Grace is a plain member: her client refuses from the room policy, before
    // anything is claimed, every time.
    for _ in 0..50 {
        let out = mimi(
            &grace,
            &["add", "lawn@x.example", "henry@y.example", "--json"],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{stderr}");
        assert!(!stderr.contains("claiming"), "{stderr}");
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["error"]["code"], "policy", "{doc}");
        let message = doc["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("this client refused, from the room policy")
                && message.contains("POL-10"),
            "{message}"
        );
    }
    assert_eq!(ok(&henry, &["keys"])["available"], 10);
    // Frank, the admin, adds Henry at once.
    let added = ok(&frank, &["add", "lawn", "henry@y.example"]);
    assert_eq!(added["epoch"], 2, "{added}");
    sync_until(&henry, |events| {
        events.iter().any(|e| e["type"] == "joined")
    });
    assert_eq!(ok(&henry, &["keys"])["available"], 9);
}
