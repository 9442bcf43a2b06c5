//! ManageSieve commands (RFC 5804 §2), grouped by what they deal with,
//! and the checks of their arguments that several share.

mod auth;
mod capability;
mod scripts;

use crate::codec::Token;
use crate::error::Error;

/// The arguments of a command that takes exactly `N` strings.
pub(crate) fn strings<const N: usize>(command: &str, args: Vec<Token>) -> Result<[Vec<u8>; N], Error> {
    let wrong = || {
        Error::plain(format!(
            "{command} takes {N} string argument{}",
            if N == 1 { "" } else { "s" }
        ))
    };
    if args.len() != N {
        return Err(wrong());
    }
    let strings: Vec<Vec<u8>> = args
        .into_iter()
        .map(|arg| match arg {
            Token::String(s) => Ok(s),
            _ => Err(wrong()),
        })
        .collect::<Result<_, _>>()?;
    strings.try_into().map_err(|_| wrong())
}

/// A script name as RFC 5804 §1.6 allows it: UTF-8 without control
/// characters (nor the Unicode line and paragraph separators), not
/// empty; at most 512 octets here, as `postamt sieve` checks too.
pub(crate) fn script_name(octets: Vec<u8>) -> Result<String, Error> {
    let refused = || Error::plain("Not a valid script name (1 to 512 octets of UTF-8, no control characters)");
    let name = String::from_utf8(octets).map_err(|_| refused())?;
    let bad = |c: char| c.is_control() || c == '\u{2028}' || c == '\u{2029}';
    if name.is_empty() || name.len() > 512 || name.chars().any(bad) {
        return Err(refused());
    }
    Ok(name)
}

/// A script's text, which RFC 5228 §2.2 has in UTF-8.
pub(crate) fn script_text(octets: Vec<u8>) -> Result<String, Error> {
    String::from_utf8(octets).map_err(|_| Error::plain("The script is not valid UTF-8"))
}
