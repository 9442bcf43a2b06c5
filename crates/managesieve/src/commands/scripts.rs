//! The commands on an account's scripts (RFC 5804 §2.5 to §2.12). A
//! script is compiled before it is stored or declared valid, so one with
//! an error is refused with the line it is on (§2.6).

use store::{AccountId, SieveChange, SieveRefusal};
use tokio::io::{AsyncRead, AsyncWrite};

use super::{script_name, script_text, strings};
use crate::Scripts;
use crate::codec::Token;
use crate::error::{Error, Handled};
use crate::response::string;
use crate::scripts::{Compiled, compile};
use crate::session::{Flow, Session, no_arguments};

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// §2.5 HAVESPACE name size.
    pub(crate) async fn havespace(&mut self, account: AccountId, args: Vec<Token>) -> Handled {
        let [Token::String(name), Token::Number(size)] =
            <[Token; 2]>::try_from(args).map_err(|_| Error::plain("HAVESPACE takes a script name and a size"))?
        else {
            return Err(Error::plain("HAVESPACE takes a script name and a size"));
        };
        let name = script_name(name)?;
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        let limits = self.config.limits;
        let room = self.server.store.space(account, &name, size, limits).await;
        room.map_err(Error::store("Cannot check the account's scripts, try again later"))?
            .map_err(refused)?;
        Ok(self.ok(None, "There is room for it"))
    }

    /// §2.6 PUTSCRIPT name script: compiled, then stored within the
    /// account's limits; a script with more redirects than a message may
    /// get is stored with a warning (WARNINGS).
    pub(crate) async fn putscript(&mut self, account: AccountId, args: Vec<Token>) -> Handled {
        let [name, text] = strings("PUTSCRIPT", args)?;
        let name = script_name(name)?;
        let text = script_text(text)?;
        let compiled = compile(&text).map_err(Error::plain)?;
        let limits = self.config.limits;
        let stored = self
            .server
            .store
            .put(account, &name, &text, &compiled.json, limits)
            .await;
        stored
            .map_err(Error::store("Cannot store the script, try again later"))?
            .map_err(refused)?;
        tracing::info!(script = %name, size = text.len(), "script stored");
        Ok(self.valid(&compiled, "Stored"))
    }

    /// §2.12 CHECKSCRIPT script: as PUTSCRIPT, without storing it.
    pub(crate) fn checkscript(&mut self, args: Vec<Token>) -> Handled {
        let [text] = strings("CHECKSCRIPT", args)?;
        let text = script_text(text)?;
        let compiled = compile(&text).map_err(Error::plain)?;
        Ok(self.valid(&compiled, "The script is valid"))
    }

    /// OK, or OK (WARNINGS) for a script that redirects more than one
    /// message may be (§1.3, §1.7 MAXREDIRECTS).
    fn valid(&mut self, compiled: &Compiled, text: &str) -> Flow {
        let max = self.config.max_redirects;
        if compiled.redirects > max {
            let warning = format!(
                "{text}, but it has {} redirect commands and at most {max} are carried out for one message",
                compiled.redirects
            );
            return self.ok(Some("WARNINGS"), &warning);
        }
        self.ok(None, text)
    }

    /// §2.7 LISTSCRIPTS: one line per script, the active one marked.
    pub(crate) async fn listscripts(&mut self, account: AccountId, args: Vec<Token>) -> Handled {
        no_arguments(&args)?;
        let scripts = self.server.store.list(account).await;
        let scripts = scripts.map_err(Error::store("Cannot list the scripts, try again later"))?;
        let out = self.conn.output();
        for script in scripts {
            string(out, script.name.as_bytes());
            if script.active {
                out.extend_from_slice(b" ACTIVE");
            }
            out.extend_from_slice(b"\r\n");
        }
        Ok(self.ok(None, ""))
    }

    /// §2.8 SETACTIVE name; the empty name deactivates every script.
    pub(crate) async fn setactive(&mut self, account: AccountId, args: Vec<Token>) -> Handled {
        let [name] = strings("SETACTIVE", args)?;
        let name = match name.is_empty() {
            true => None,
            false => Some(script_name(name)?),
        };
        let change = self.server.store.activate(account, name.as_deref()).await;
        match change.map_err(Error::store("Cannot activate the script, try again later"))? {
            SieveChange::Done if name.is_some() => Ok(self.ok(None, "Active")),
            SieveChange::Done => Ok(self.ok(None, "No script is active")),
            _ => Err(Error::no_such_script()),
        }
    }

    /// §2.9 GETSCRIPT name: the script as a literal, then OK.
    pub(crate) async fn getscript(&mut self, account: AccountId, args: Vec<Token>) -> Handled {
        let [name] = strings("GETSCRIPT", args)?;
        let name = script_name(name)?;
        let text = self.server.store.text(account, &name).await;
        let text = text
            .map_err(Error::store("Cannot read the script, try again later"))?
            .ok_or_else(Error::no_such_script)?;
        let out = self.conn.output();
        // Always a literal (literal-s2c): scripts have line breaks.
        out.extend_from_slice(format!("{{{}}}\r\n", text.len()).as_bytes());
        out.extend_from_slice(text.as_bytes());
        out.extend_from_slice(b"\r\n");
        Ok(self.ok(None, ""))
    }

    /// §2.10 DELETESCRIPT name: not the active one (ACTIVE).
    pub(crate) async fn deletescript(&mut self, account: AccountId, args: Vec<Token>) -> Handled {
        let [name] = strings("DELETESCRIPT", args)?;
        let name = script_name(name)?;
        let change = self.server.store.delete(account, &name).await;
        match change.map_err(Error::store("Cannot delete the script, try again later"))? {
            SieveChange::Done => Ok(self.ok(None, "Deleted")),
            SieveChange::Active => Err(Error::coded(
                "ACTIVE",
                "The active script cannot be deleted; activate another (or none) first",
            )),
            _ => Err(Error::no_such_script()),
        }
    }

    /// §2.11 RENAMESCRIPT old new: keeps whether the script is active.
    pub(crate) async fn renamescript(&mut self, account: AccountId, args: Vec<Token>) -> Handled {
        let [old, new] = strings("RENAMESCRIPT", args)?;
        let (old, new) = (script_name(old)?, script_name(new)?);
        let change = self.server.store.rename(account, &old, &new).await;
        match change.map_err(Error::store("Cannot rename the script, try again later"))? {
            SieveChange::Done => Ok(self.ok(None, "Renamed")),
            SieveChange::NameTaken => Err(Error::coded("ALREADYEXISTS", "A script of that name exists already")),
            _ => Err(Error::no_such_script()),
        }
    }
}

/// An upload the account's limits refuse, with its QUOTA code (§1.3).
fn refused(refusal: SieveRefusal) -> Error {
    match refusal {
        SieveRefusal::TooManyScripts { max_scripts } => Error::coded(
            "QUOTA/MAXSCRIPTS",
            format!("The account has {max_scripts} scripts, the most it may have"),
        ),
        SieveRefusal::TooLarge { max_size } => Error::coded(
            "QUOTA/MAXSIZE",
            format!("The script is larger than {max_size} octets, the most it may have"),
        ),
    }
}
