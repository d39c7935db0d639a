//! `mimi demo`: the architecture's Figure 1 on loopback — providers X
//! (Alice, Bob; follower), Y (Charlie; hub) and Z (Diana, Evelyn; follower)
//! as three `mimi server` processes — and the protocol's example flow through
//! real client sessions, with a transcript. Exit 0 only if every check holds.

mod federation;
mod scenario;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;

use federation::Federation;
use scenario::Scenario;

/// Arguments of `mimi demo`.
#[derive(Debug, Args)]
#[command(after_help = "\
Exit status: 0 when every check holds, 1 otherwise (the failed checks are printed).

Examples:
  mimi demo
  mimi demo --keep-running              # then talk to it with `mimi client`
  mimi demo --dir /tmp/mimi-demo        # keep PKI, stores, logs and client homes")]
pub struct DemoArgs {
    /// Leave the federation running after the flow, until Ctrl-C.
    #[arg(long)]
    keep_running: bool,
    /// Put the PKI, server stores and logs, and client homes here (an empty
    /// or new directory) instead of a temporary directory removed at the end.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

const DOMAINS: [&str; 3] = ["x.example", "y.example", "z.example"];

/// Runs the demo.
pub fn run(args: DemoArgs) -> ExitCode {
    let started = Instant::now();
    let (dir, temp) = match &args.dir {
        Some(d) => (d.clone(), None),
        None => match tempfile::Builder::new().prefix("mimi-demo-").tempdir() {
            Ok(t) => (t.path().to_path_buf(), Some(t)),
            Err(e) => {
                eprintln!("mimi demo: temporary directory: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("mimi demo: {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    println!(
        "mimi demo: the architecture's Figure 1 on loopback, in {}",
        dir.display()
    );
    let mut fed = match Federation::start(&dir, &DOMAINS) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("mimi demo: {e}");
            keep_for_inspection(temp);
            return ExitCode::FAILURE;
        }
    };
    for p in fed.providers.values() {
        let role = if p.domain == "y.example" {
            "hub     "
        } else {
            "follower"
        };
        println!(
            "  {}  {role}  federation {}  client API {}  ({})",
            p.domain,
            p.federation,
            p.client,
            p.dir.display()
        );
    }
    println!("  servers up in {:.1} s\n", started.elapsed().as_secs_f64());

    let homes = dir.join("homes");
    let outcome = {
        let mut scenario = match Scenario::new(&fed, &homes) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("mimi demo: {e}");
                return ExitCode::FAILURE;
            }
        };
        scenario.run()
    };
    let elapsed = started.elapsed();
    let ok = match &outcome {
        Ok(verdict) => {
            println!("\nchecks:");
            for p in &verdict.passed {
                println!("  ok    {p}");
            }
            for f in &verdict.failed {
                println!("  FAIL  {f}");
            }
            verdict.failed.is_empty()
        }
        Err(e) => {
            println!("\nFAIL  {e}");
            false
        }
    };
    println!(
        "\n{} in {:.1} s",
        if ok {
            "mimi demo: all checks passed"
        } else {
            "mimi demo: FAILED"
        },
        elapsed.as_secs_f64()
    );
    if !ok {
        for p in fed.providers.values() {
            println!("  server log: {}", p.log().display());
        }
    }

    if args.keep_running {
        match Interrupt::watch() {
            Ok(interrupt) => {
                print_usage(&fed, &homes);
                interrupt.wait();
                println!("mimi demo: stopping the servers");
            }
            Err(e) => eprintln!("mimi demo: cannot watch for Ctrl-C ({e}); stopping"),
        }
    }
    let unclean = fed.shutdown();
    for u in &unclean {
        eprintln!("mimi demo: {u}");
    }
    if ok && unclean.is_empty() {
        ExitCode::SUCCESS
    } else {
        keep_for_inspection(temp);
        ExitCode::FAILURE
    }
}

/// A failed run keeps its directory, so the logs can be read.
fn keep_for_inspection(temp: Option<tempfile::TempDir>) {
    if let Some(t) = temp {
        let path = t.keep();
        eprintln!("mimi demo: kept {} for inspection", path.display());
    }
}

fn print_usage(fed: &Federation, homes: &std::path::Path) {
    println!("\nthe federation keeps running; talk to it with `mimi client`:");
    for p in fed.providers.values() {
        println!(
            "  provider {} client-api {} connect {}",
            p.domain,
            p.url(),
            p.client
        );
    }
    println!("  ca {}", fed.ca.display());
    println!("the demo's clients (their homes):");
    for (name, uri) in scenario::CLIENTS {
        let home = homes.join(name);
        if home.exists() {
            println!("  {name:<14} {uri:<36} --home {}", home.display());
        }
    }
    if let Some(x) = fed.provider("x.example") {
        println!("for example:");
        println!(
            "  mimi client --home {} rooms",
            homes.join("charlie").display()
        );
        println!(
            "  mimi client --home {} history {}",
            homes.join("diana").display(),
            scenario::ROOM
        );
        println!(
            "  mimi client --home /tmp/frank register frank/laptop@x.example --server {} --ca {} --connect {}",
            x.url(),
            fed.ca.display(),
            x.client
        );
    }
    println!("mimi demo: running; press Ctrl-C to stop");
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
}

/// SIGINT and SIGTERM, watched from before the usage is printed, so a
/// signal sent as soon as the "running" line appears is not lost.
struct Interrupt {
    runtime: tokio::runtime::Runtime,
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

impl Interrupt {
    fn watch() -> Result<Self, String> {
        use tokio::signal::unix::{SignalKind, signal};
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let _entered = runtime.enter();
        let int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
        let term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
        Ok(Self { runtime, int, term })
    }

    /// Blocks until one arrives.
    fn wait(mut self) {
        self.runtime.block_on(async {
            tokio::select! {
                _ = self.int.recv() => {}
                _ = self.term.recv() => {}
            }
        });
    }
}
