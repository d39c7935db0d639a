//! `mimi client keys [refill]`: this client's KeyPackages on its provider.
//! Others claim one to add us to a room; the provider serves our last-resort
//! KeyPackage when the rest are gone (decisions KP-4), and every `sync` tops
//! the stock up when it runs low (KP-5). `keys` shows the stock, `keys
//! refill` uploads more now.

use clap::Subcommand;
use mimi_session::{KeyPackageCount, Session, SessionError};
use serde_json::json;

use super::Output;

pub(super) const AFTER_HELP: &str = "\
The stock is what others can still claim; the last-resort KeyPackage is kept
besides and served only when the stock is empty. `sync` tops up to `stock`
whenever fewer than `low` are left (session.toml, [key_packages]).

Examples:
  mimi client --home ~/.mimi/bob keys
  mimi client --home ~/.mimi/bob --json keys refill --count 20";

/// `mimi client keys` subcommands.
#[derive(Debug, Subcommand)]
pub(super) enum KeysCommand {
    /// Upload KeyPackages now: up to the configured stock, or `--count` more;
    /// and a last-resort KeyPackage if the provider holds none.
    Refill {
        /// Upload exactly this many (besides a missing last-resort one).
        #[arg(long)]
        count: Option<usize>,
    },
}

/// Shows the stock, or runs a `keys` subcommand.
pub(super) fn run(s: &mut Session, command: Option<KeysCommand>) -> Result<Output, SessionError> {
    let settings = s.key_package_settings();
    let uploaded = match command {
        None => None,
        Some(KeysCommand::Refill { count: None }) => {
            let before = s.key_package_stock()?;
            let count = settings
                .stock
                .saturating_sub(usize::try_from(before.remaining).unwrap_or(usize::MAX));
            Some(upload(s, count, &before)?)
        }
        Some(KeysCommand::Refill { count: Some(count) }) => {
            let before = s.key_package_stock()?;
            Some(upload(s, count, &before)?)
        }
    };
    let stock = s.key_package_stock()?;
    let last_resort = if stock.last_resort { "held" } else { "missing" };
    let mut text = format!(
        "{} KeyPackages on the server (top-up below {} to {}); last-resort KeyPackage {last_resort}",
        stock.remaining, settings.low, settings.stock
    );
    if let Some(n) = uploaded {
        text = format!("uploaded {n} KeyPackages\n{text}");
    }
    Ok(Output {
        json: json!({
            "available": stock.remaining,
            "last_resort": stock.last_resort,
            "stock": settings.stock,
            "low": settings.low,
            "uploaded": uploaded,
        }),
        text,
    })
}

/// Uploads `count` KeyPackages and a missing last-resort one; how many went up.
fn upload(s: &mut Session, count: usize, before: &KeyPackageCount) -> Result<usize, SessionError> {
    let last_resort = !before.last_resort;
    if count > 0 || last_resort {
        s.upload_key_packages(count, last_resort)?;
    }
    Ok(count + usize::from(last_resort))
}
