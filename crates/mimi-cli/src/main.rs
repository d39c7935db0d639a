//! `mimi`: one binary for operators and developers.
//!
//! Each subcommand lives in its own module. Exit codes are shared by all of them
//! (see [`exit`]) so scripts can tell a policy refusal from a network failure
//! from bad input.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod admin;
mod bench;
mod client;
mod content;
mod demo;
mod exit;
mod pki;
mod server;

/// mimi: a MIMI (More Instant Messaging Interoperability) server, client and toolkit.
///
/// Users of different messaging providers share end-to-end encrypted rooms. Each
/// room lives on one hub server; the other providers' servers follow it.
#[derive(Debug, Parser)]
#[command(name = "mimi", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a provider's MIMI server (hub for its rooms, follower elsewhere).
    Server(server::ServerArgs),
    /// Act as a user's client against a provider's server.
    Client(client::ClientArgs),
    /// Create a development PKI: a CA and one mutual-TLS certificate per provider.
    #[command(subcommand)]
    Pki(pki::PkiCommand),
    /// Inspect MIMI message content (CBOR).
    #[command(subcommand)]
    Content(content::ContentCommand),
    /// Bring up three providers on loopback and run the protocol's example flow.
    Demo(demo::DemoArgs),
    /// Measure the server: a local federation under load.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Operator commands on a server's store (abuse reports).
    #[command(subcommand)]
    Admin(admin::AdminCommand),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    match cli.command {
        Command::Content(cmd) => content::run(cmd),
        Command::Pki(cmd) => pki::run(cmd),
        Command::Server(args) => server::run(args),
        Command::Bench(cmd) => bench::run(cmd),
        Command::Client(args) => client::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Admin(cmd) => admin::run(cmd),
    }
}

/// A command line the argument parser refused (or `--help`, `--version`):
/// clap's own text on its stream and exit status, plus, for an error under
/// `--json`, the same `{"error": …}` document every `mimi client` failure
/// prints, so a script reading stdout sees every failure the same way.
fn usage_error(e: &clap::Error) -> ExitCode {
    if e.use_stderr() && json_requested(std::env::args_os()) {
        println!("{}", client::usage_error_json(e));
    }
    // Printing to a closed stdout or stderr leaves nothing more to report.
    let _ = e.print();
    ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(exit::CLIENT_BAD_INPUT.0))
}

/// Whether `--json` is among the arguments (before a `--` that ends options).
fn json_requested(args: impl IntoIterator<Item = std::ffi::OsString>) -> bool {
    args.into_iter()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_requested_only_as_an_option() {
        let args = |v: &[&str]| v.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert!(json_requested(args(&["mimi", "client", "--json", "add"])));
        assert!(!json_requested(args(&[
            "mimi", "client", "send", "r", "--", "--json"
        ])));
        assert!(!json_requested(args(&["--json"])));
    }
}
