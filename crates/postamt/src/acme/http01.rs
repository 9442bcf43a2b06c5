//! HTTP-01 answers (RFC 8555 §8.3): while an order waits for validation,
//! `GET /.well-known/acme-challenge/TOKEN` on the plain HTTP listener
//! (`[listen] http`, port 80 for a public CA) answers the key
//! authorization of that token. The tokens are random and single-use, so
//! the answers are no secret; any other token gets a 404.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Where RFC 8555 §8.3 puts the answers.
pub const PREFIX: &str = "/.well-known/acme-challenge/";

/// The pending answers, shared by the order and the web listener. Cheap
/// to clone: clones share them.
#[derive(Debug, Clone, Default)]
pub struct Http01Answers {
    tokens: Arc<RwLock<HashMap<String, String>>>,
}

impl Http01Answers {
    pub fn set(&self, token: &str, key_authorization: &str) {
        self.write().insert(token.to_string(), key_authorization.to_string());
    }

    pub fn remove(&self, token: &str) {
        self.write().remove(token);
    }

    /// The answer for a request path, if it is a pending challenge's.
    pub fn answer(&self, path: &str) -> Option<String> {
        let token = path.strip_prefix(PREFIX)?;
        self.tokens
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(token)
            .cloned()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, String>> {
        self.tokens.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
