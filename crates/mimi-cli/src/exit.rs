//! Exit codes shared by every subcommand, following sysexits(3) where one fits.

use std::process::ExitCode;

/// Bad input: a malformed file, argument or message (EX_DATAERR).
pub const BAD_INPUT: ExitCode = ExitCode::from(65);
/// The feature or service is not available (EX_UNAVAILABLE).
pub const UNAVAILABLE: ExitCode = ExitCode::from(69);
