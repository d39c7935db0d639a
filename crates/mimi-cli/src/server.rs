//! `mimi server --config FILE`: runs one provider's MIMI server (hub for the
//! rooms it hosts, follower elsewhere) until SIGINT or SIGTERM.
//!
//! The configuration is a TOML file plus `MIMI_*` environment overrides (see
//! `mimi_server::Config`). Once both listeners are bound, one line goes to
//! stdout: `mimi-server ready domain=<d> federation=<addr> client=<addr>`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

/// Arguments of `mimi server`.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// The server's TOML configuration file.
    #[arg(long, value_name = "FILE", env = "MIMI_CONFIG")]
    config: PathBuf,
}

/// Runs the server; exit 0 after a clean shutdown, 78 for a bad configuration.
pub fn run(args: ServerArgs) -> ExitCode {
    mimi_server::run_from_file(&args.config)
}
