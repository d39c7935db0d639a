//! `mimi pki …`: a development PKI for a local federation.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

/// Subcommands of `mimi pki`.
#[derive(Debug, Subcommand)]
pub enum PkiCommand {
    /// Create a CA and one mutual-TLS certificate per provider domain.
    ///
    /// Writes `ca.pem` (trusted by every provider), and `<domain>.pem` /
    /// `<domain>.key` per provider. Rerunning with the same `--out` reuses the CA,
    /// so providers can be added later. For development and tests only: the CA
    /// key sits next to the certificates.
    Init {
        /// Directory to write into (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Provider domains, comma-separated (e.g. a.example,b.example,c.example).
        #[arg(long, value_name = "DOMAINS", value_delimiter = ',', required = true)]
        providers: Vec<String>,
    },
}

/// Runs a `mimi pki` subcommand.
pub fn run(cmd: PkiCommand) -> ExitCode {
    match cmd {
        PkiCommand::Init { out, providers } => match mimi_server::init_pki(&out, &providers) {
            Ok(files) => {
                println!("CA certificate: {}", files.ca_cert.display());
                for p in files.providers {
                    println!("{}: {} {}", p.domain, p.cert.display(), p.key.display());
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("mimi pki init: {e}");
                crate::exit::BAD_INPUT.into()
            }
        },
    }
}
