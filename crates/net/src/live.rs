//! A value many tasks read and a reload replaces: a server's settings.
//! Readers take the whole current value (an `Arc`), never a half-written
//! one; a session keeps what it took for its whole life, so the limits it
//! announced (SMTP's SIZE in EHLO) are the ones it enforces.

use std::sync::{Arc, PoisonError, RwLock};

#[derive(Debug)]
pub struct Live<T> {
    current: RwLock<Arc<T>>,
}

impl<T> Live<T> {
    pub fn new(value: T) -> Self {
        Live {
            current: RwLock::new(Arc::new(value)),
        }
    }

    /// The value now.
    pub fn get(&self) -> Arc<T> {
        // Only ever replaced whole: a poisoned lock still holds a value.
        self.current.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Replaces the value for every later [`Self::get`].
    pub fn set(&self, value: T) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(value);
    }
}
