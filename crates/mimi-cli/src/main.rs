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
    let cli = Cli::parse();
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
