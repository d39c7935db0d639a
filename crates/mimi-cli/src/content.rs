//! `mimi content …`: tools for MIMI message content (delivered with the content issue).

use std::process::ExitCode;

use clap::Subcommand;

/// Subcommands of `mimi content`.
#[derive(Debug, Subcommand)]
pub enum ContentCommand {
    /// Decode one CBOR message and print it as JSON.
    Inspect {
        /// The file to read, or `-` for standard input.
        file: String,
    },
}

/// Runs a `mimi content` subcommand.
pub fn run(cmd: ContentCommand) -> ExitCode {
    match cmd {
        ContentCommand::Inspect { file: _ } => {
            eprintln!("mimi content inspect: not available yet");
            crate::exit::UNAVAILABLE
        }
    }
}
