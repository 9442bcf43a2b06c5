//! CREATE's parameters (RFC 4466 §2.2 create-params): the only one known
//! is USE, the special uses of the new mailbox (RFC 6154 §3,
//! CREATE-SPECIAL-USE).

use super::parser::{Cursor, Step, bad};

/// `[SP "(" create-param *(SP create-param) ")"]` after CREATE's mailbox:
/// the special uses asked for (`\Drafts`), none when there are no
/// parameters.
pub(crate) fn create_params(c: &mut Cursor<'_>) -> Step<Vec<String>> {
    if c.peek() != Some(b' ') {
        return Ok(Vec::new());
    }
    c.space()?;
    let mut uses = Vec::new();
    let params = c.list(|c| {
        let name = c.keyword()?;
        if name != "USE" {
            return bad(format!("unknown CREATE parameter {name}"));
        }
        c.space()?;
        // use-attr = "\" atom (RFC 6154 §6); an empty list is allowed.
        c.list(|c| {
            c.expect(b'\\', "a special-use attribute")?;
            Ok(format!("\\{}", c.atom()?))
        })
    })?;
    if params.is_empty() {
        return bad("CREATE parameters cannot be an empty list");
    }
    for list in params {
        uses.extend(list);
    }
    Ok(uses)
}

#[cfg(test)]
mod tests {
    use crate::imap::{CommandBody, Limits, parse_command};

    fn parse(line: &str) -> Result<CommandBody, crate::imap::ParseError> {
        parse_command(line.as_bytes(), Limits::default()).map(|(command, _)| command.body)
    }

    #[test]
    fn uses_are_read() {
        // RFC 6154 §5.2's example.
        assert_eq!(
            parse("t1 CREATE MySpecial (USE (\\Drafts \\Sent))\r\n").unwrap(),
            CommandBody::Create {
                mailbox: b"MySpecial".to_vec(),
                uses: vec!["\\Drafts".into(), "\\Sent".into()],
            }
        );
        assert_eq!(
            parse("t1 CREATE x\r\n").unwrap(),
            CommandBody::Create {
                mailbox: b"x".to_vec(),
                uses: vec![],
            }
        );
        assert_eq!(
            parse("t1 CREATE x (USE ())\r\n").unwrap(),
            CommandBody::Create {
                mailbox: b"x".to_vec(),
                uses: vec![],
            }
        );
    }

    #[test]
    fn other_parameters_are_bad() {
        for line in [
            "t1 CREATE x (FOO (\\Drafts))\r\n",
            "t1 CREATE x ()\r\n",
            "t1 CREATE x (USE (Drafts))\r\n",
            "t1 CREATE x (USE \\Drafts)\r\n",
        ] {
            assert!(parse(line).is_err(), "{line}");
        }
    }
}
