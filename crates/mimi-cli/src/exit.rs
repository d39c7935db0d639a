//! Exit codes shared by every subcommand, following sysexits(3) where one fits.
//!
//! `ExitCode::from(u8)` is not a `const fn`, so an `ExitCode` constant cannot
//! hold 65: the codes are [`Code`] constants, converted with `.into()` where a
//! subcommand returns its `ExitCode`.

use std::process::ExitCode;

/// A process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code(pub u8);

impl From<Code> for ExitCode {
    fn from(code: Code) -> Self {
        ExitCode::from(code.0)
    }
}

/// Bad input: a malformed file, argument or message (EX_DATAERR).
pub const BAD_INPUT: Code = Code(65);
/// An input file cannot be opened or read (EX_NOINPUT).
pub const NO_INPUT: Code = Code(66);
/// The feature or service is not available (EX_UNAVAILABLE).
pub const UNAVAILABLE: Code = Code(69);
/// Writing output failed (EX_IOERR).
pub const IO_ERROR: Code = Code(74);

// `mimi client` uses its own small set (its `--help` lists them), so that a
// script can tell the three failures it must handle differently apart; clap's
// usage errors already exit 2.

/// `mimi client`: anything else (local state, storage).
pub const CLIENT_FAILURE: Code = Code(1);
/// `mimi client`: bad input or usage.
pub const CLIENT_BAD_INPUT: Code = Code(2);
/// `mimi client`: refused by room policy or by the protocol.
pub const CLIENT_REFUSED: Code = Code(3);
/// `mimi client`: the provider or the room's hub could not be reached.
pub const CLIENT_NETWORK: Code = Code(4);
