//! `mimi demo`, run as the built binary: three server processes, the example
//! flow, and a zero exit only when every check holds.

use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn the_demo_runs_the_example_flow_and_passes_its_checks() {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_mimi"))
        .arg("demo")
        .output()
        .expect("the mimi binary runs");
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "demo failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    for line in [
        "x.example  follower",
        "y.example  hub",
        "z.example  follower",
        "charlie@y creates mimi://y.example/r/clubhouse",
        "charlie@y adds alice@x",
        "key material: charlie@y → y.example (hub) → z.example",
        "alice@x → x.example → y.example (hub) → fan-out to x.example, y.example (local), z.example",
        "sends a reply",
        "sends a reaction",
        "kicks bob@x",
        "bans alice@x",
        "refused by the hub (notAuthorized)",
        "evelyn@z leaves",
        "charlie@y commits evelyn's leave",
        "diana@z (new laptop) joins by external commit",
        "each decrypted by exactly the clients in the room when it was sent",
        "agree on epoch",
        "the MLS group holds exactly the remaining clients",
        "mimi demo: all checks passed",
    ] {
        assert!(
            stdout.contains(line),
            "transcript lacks {line:?}:\n{stdout}"
        );
    }
    assert!(!stdout.contains("FAIL"), "{stdout}");
    // The budget is 60 s on 2 cores for a release build; a debug
    // test build on a shared machine gets some slack.
    assert!(elapsed < Duration::from_secs(120), "took {elapsed:?}");
}
