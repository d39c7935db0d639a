//! `mimi-server --config FILE`: runs one provider's server until SIGINT or
//! SIGTERM. The same as `mimi server`; this binary exists so the crate's own
//! tests can start real server processes.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let config = match (args.next().as_deref(), args.next(), args.next()) {
        (Some("--config"), Some(path), None) => PathBuf::from(path),
        _ => {
            eprintln!("usage: mimi-server --config FILE");
            return ExitCode::from(64);
        }
    };
    mimi_server::run_from_file(&config)
}
