//! What ManageSieve needs of the store, as a trait: the account behind a
//! login name and the account's scripts (RFC 5804 §2.5 to §2.11). It is
//! implemented for [`store::Store`], which decides the limits of an
//! upload in the same write as the upload itself. Also here: compiling a
//! script into the form the store keeps beside its text.

use std::future::Future;

use store::{Account, AccountId, SieveChange, SieveLimits, SieveRefusal, SieveScriptInfo, Store};

/// The store as ManageSieve uses it.
pub trait Scripts: Clone + Send + Sync + 'static {
    /// The account a login name belongs to (an address or an alias).
    fn account(&self, name: &str) -> impl Future<Output = store::Result<Option<Account>>> + Send;
    /// The account's scripts, by name (LISTSCRIPTS).
    fn list(&self, account: AccountId) -> impl Future<Output = store::Result<Vec<SieveScriptInfo>>> + Send;
    /// One script's text (GETSCRIPT).
    fn text(&self, account: AccountId, name: &str) -> impl Future<Output = store::Result<Option<String>>> + Send;
    /// Whether a script of `size` octets may be stored as `name`
    /// (HAVESPACE).
    fn space(
        &self,
        account: AccountId,
        name: &str,
        size: usize,
        limits: SieveLimits,
    ) -> impl Future<Output = store::Result<Result<(), SieveRefusal>>> + Send;
    /// Stores a script with its compiled form (PUTSCRIPT).
    fn put(
        &self,
        account: AccountId,
        name: &str,
        script: &str,
        compiled: &str,
        limits: SieveLimits,
    ) -> impl Future<Output = store::Result<Result<(), SieveRefusal>>> + Send;
    /// Makes `name` the active script, or none (SETACTIVE).
    fn activate(
        &self,
        account: AccountId,
        name: Option<&str>,
    ) -> impl Future<Output = store::Result<SieveChange>> + Send;
    /// Deletes a script that is not active (DELETESCRIPT).
    fn delete(&self, account: AccountId, name: &str) -> impl Future<Output = store::Result<SieveChange>> + Send;
    /// Renames a script (RENAMESCRIPT).
    fn rename(
        &self,
        account: AccountId,
        old: &str,
        new: &str,
    ) -> impl Future<Output = store::Result<SieveChange>> + Send;
}

impl Scripts for Store {
    async fn account(&self, name: &str) -> store::Result<Option<Account>> {
        self.find_account(name).await
    }

    async fn list(&self, account: AccountId) -> store::Result<Vec<SieveScriptInfo>> {
        self.sieve_scripts(account).await
    }

    async fn text(&self, account: AccountId, name: &str) -> store::Result<Option<String>> {
        Ok(self.sieve_script(account, name)?.map(|s| s.script))
    }

    async fn space(
        &self,
        account: AccountId,
        name: &str,
        size: usize,
        limits: SieveLimits,
    ) -> store::Result<Result<(), SieveRefusal>> {
        self.sieve_space(account, name, size, limits).await
    }

    async fn put(
        &self,
        account: AccountId,
        name: &str,
        script: &str,
        compiled: &str,
        limits: SieveLimits,
    ) -> store::Result<Result<(), SieveRefusal>> {
        self.put_sieve_script(account, name, script, compiled, limits).await
    }

    async fn activate(&self, account: AccountId, name: Option<&str>) -> store::Result<SieveChange> {
        self.activate_sieve_script(account, name).await
    }

    async fn delete(&self, account: AccountId, name: &str) -> store::Result<SieveChange> {
        self.delete_sieve_script(account, name).await
    }

    async fn rename(&self, account: AccountId, old: &str, new: &str) -> store::Result<SieveChange> {
        self.rename_sieve_script(account, old, new).await
    }
}

/// A script that compiled: its program serialised as the store keeps it,
/// and how many redirect commands it has (for the MAXREDIRECTS warning).
pub(crate) struct Compiled {
    pub json: String,
    pub redirects: usize,
}

/// Compiles `text`, or gives the line and reason of its first error as
/// clients show it (RFC 5804 §2.6: `NO "line 3: ..."`).
pub(crate) fn compile(text: &str) -> Result<Compiled, String> {
    let program = sieve::compile(text).map_err(|e| e.to_string())?;
    Ok(Compiled {
        json: program.stored(),
        redirects: program.redirects(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_redirects_in_every_branch() {
        let compiled = compile(
            "if true { redirect \"a@example.test\"; } elsif false { redirect \"b@example.test\"; }\n\
             else { redirect \"c@example.test\"; }\nredirect \"d@example.test\";\n",
        )
        .expect("valid");
        assert_eq!(compiled.redirects, 4);
    }

    #[test]
    fn errors_name_their_line() {
        let error = compile("keep;\n\nfileinto \"x\";\n").err().expect("invalid");
        assert!(error.starts_with("line 3: "), "{error}");
    }
}
