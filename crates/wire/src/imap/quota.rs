//! The QUOTA commands (RFC 9208 §4.1, grammar in §6): GETQUOTA and
//! GETQUOTAROOT, and SETQUOTA, which postamt parses only to refuse it.

use super::command::CommandBody;
use super::parser::{Cursor, Step};

/// The arguments of the QUOTA command `name`, after the command name.
pub(crate) fn quota_command(c: &mut Cursor<'_>, name: &str) -> Step<CommandBody> {
    c.space()?;
    // quota_root_name = astring; mailbox = astring (RFC 9208 §6).
    let name_or_root = c.astring()?;
    Ok(match name {
        "GETQUOTA" => CommandBody::GetQuota { root: name_or_root },
        "GETQUOTAROOT" => CommandBody::GetQuotaRoot { mailbox: name_or_root },
        _ => {
            // setquota_list = "(" [setquota_resource *(SP setquota_resource)] ")"
            c.space()?;
            let limits = c.list(|c| {
                let resource = c.keyword()?;
                c.space()?;
                Ok((resource, c.number64()?))
            })?;
            CommandBody::SetQuota {
                root: name_or_root,
                limits,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use crate::imap::{CommandBody, Limits, parse_command};

    fn parse(input: &str) -> Result<CommandBody, String> {
        parse_command(input.as_bytes(), Limits::default())
            .map(|(command, _)| command.body)
            .map_err(|e| format!("{e:?}"))
    }

    #[test]
    fn the_rfc_9208_examples_parse() {
        assert_eq!(
            parse("G0001 GETQUOTA \"!partition/sda4\"\r\n"),
            Ok(CommandBody::GetQuota {
                root: b"!partition/sda4".to_vec()
            })
        );
        assert_eq!(
            parse("G0002 GETQUOTAROOT INBOX\r\n"),
            Ok(CommandBody::GetQuotaRoot {
                mailbox: b"INBOX".to_vec()
            })
        );
        assert_eq!(
            parse("S0001 SETQUOTA \"#user/alice\" (STORAGE 510)\r\n"),
            Ok(CommandBody::SetQuota {
                root: b"#user/alice".to_vec(),
                limits: vec![("STORAGE".into(), 510)],
            })
        );
        assert_eq!(
            parse("S0002 SETQUOTA \"\" ()\r\n"),
            Ok(CommandBody::SetQuota {
                root: Vec::new(),
                limits: Vec::new(),
            })
        );
        assert!(parse("x GETQUOTA\r\n").is_err());
        assert!(parse("x SETQUOTA \"\" (STORAGE)\r\n").is_err());
    }
}
