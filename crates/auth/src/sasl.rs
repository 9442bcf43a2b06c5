//! SASL mechanisms (RFC 4422) shared by SMTP AUTH, POP3 AUTH and IMAP
//! AUTHENTICATE.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The credentials of a PLAIN exchange (RFC 4616 §2).
#[derive(Debug, PartialEq, Eq)]
pub struct PlainCredentials {
    /// The identity to act as; empty means the same as `authcid`.
    pub authzid: String,
    pub authcid: String,
    pub password: String,
}

/// Why a SASL response was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SaslError {
    #[error("the response is not valid base64")]
    Base64,
    #[error("the response is not a valid PLAIN message")]
    Malformed,
}

/// Decodes a base64 PLAIN response: `authzid NUL authcid NUL password`.
pub fn decode_plain(response: &str) -> Result<PlainCredentials, SaslError> {
    let bytes = STANDARD.decode(response.trim()).map_err(|_| SaslError::Base64)?;
    let text = String::from_utf8(bytes).map_err(|_| SaslError::Malformed)?;
    let mut parts = text.split('\0');
    let (Some(authzid), Some(authcid), Some(password), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SaslError::Malformed);
    };
    if authcid.is_empty() || password.is_empty() {
        return Err(SaslError::Malformed);
    }
    Ok(PlainCredentials {
        authzid: authzid.to_string(),
        authcid: authcid.to_string(),
        password: password.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plain() {
        let encoded = STANDARD.encode("\0alice@example.test\0pw");
        let creds = decode_plain(&encoded).unwrap();
        assert_eq!(creds.authcid, "alice@example.test");
        assert_eq!(creds.password, "pw");
        assert_eq!(creds.authzid, "");
    }

    #[test]
    fn rejects_malformed_plain() {
        assert_eq!(decode_plain("***"), Err(SaslError::Base64));
        for raw in ["alice\0pw", "\0\0pw", "\0alice\0", "a\0b\0c\0d"] {
            assert_eq!(
                decode_plain(&STANDARD.encode(raw)),
                Err(SaslError::Malformed),
                "{raw:?}"
            );
        }
    }
}
