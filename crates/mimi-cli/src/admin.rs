//! `mimi admin`: operator commands that read a server's own store.
//!
//! `mimi admin reports --config FILE` lists the abuse reports the server
//! accepted as a hub (protocol-06 §5.9), one per line, or as JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use mimi_server::Config;

use crate::exit;

/// `mimi admin …`.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// List the abuse reports this server accepted as a hub.
    Reports(ReportsArgs),
}

/// `mimi admin reports`.
#[derive(Debug, Args)]
pub struct ReportsArgs {
    /// The server's configuration file (its store is read directly).
    #[arg(long)]
    config: PathBuf,
    /// Only reports with an id above this one.
    #[arg(long, default_value_t = 0)]
    after: u64,
    /// Print a JSON array instead of one line per report.
    #[arg(long)]
    json: bool,
}

/// Runs an admin command.
pub fn run(command: AdminCommand) -> ExitCode {
    match command {
        AdminCommand::Reports(args) => reports(&args),
    }
}

fn reports(args: &ReportsArgs) -> ExitCode {
    let config = match Config::load(&args.config, std::env::vars()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mimi admin reports: {e}");
            return exit::BAD_INPUT.into();
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mimi admin reports: runtime: {e}");
            return exit::IO_ERROR.into();
        }
    };
    let reports = match runtime.block_on(mimi_server::stored_reports(&config, args.after)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mimi admin reports: {e}");
            return exit::UNAVAILABLE.into();
        }
    };
    if args.json {
        match serde_json::to_string_pretty(&reports) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("mimi admin reports: {e}");
                return exit::IO_ERROR.into();
            }
        }
        return ExitCode::SUCCESS;
    }
    if reports.is_empty() {
        println!("no abuse reports");
    }
    for r in &reports {
        println!(
            "#{} at {} in {}: {} reported by {} ({}), reason {}, {} message(s): {:?}",
            r.id,
            r.received_at,
            r.room,
            r.alleged_abuser,
            r.reporting_user.as_deref().unwrap_or("anonymous"),
            r.reporter,
            r.reason_code,
            r.message_count,
            r.note
        );
    }
    ExitCode::SUCCESS
}
