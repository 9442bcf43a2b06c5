//! argon2id password hashes in PHC string form (`$argon2id$v=19$...`).

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use ring::rand::{SecureRandom, SystemRandom};

use crate::Error;

/// Hashes a password with argon2id, the crate's default parameters (the
/// OWASP recommendation: 19 MiB, 2 passes) and a fresh 16-byte salt.
pub fn hash_password(password: &str) -> Result<String, Error> {
    let mut salt = [0u8; 16];
    SystemRandom::new().fill(&mut salt).map_err(|_| Error::Random)?;
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| Error::Hash(e.to_string()))
}

/// Checks a password against a stored hash; the comparison inside argon2 is
/// constant-time. A malformed hash never matches.
pub fn verify_password(stored_hash: &str, password: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), stored_hash)
        .is_ok()
}

/// Checks a login: `stored_hash` is `None` for an unknown user, who is
/// refused after the same work a known one costs, so that neither the
/// answer nor its timing tells which users exist.
pub fn verify_login(stored_hash: Option<&str>, password: &str) -> bool {
    match stored_hash {
        Some(hash) => verify_password(hash, password),
        None => {
            // A valid hash of a password nobody has, made once.
            static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
            let hash = DUMMY.get_or_init(|| hash_password("postamt-unknown-user").unwrap_or_default());
            verify_password(hash, password);
            false
        }
    }
}

/// [`verify_login`] off the async executor, with at most one verification
/// per CPU core at a time. Each takes argon2id's 19 MiB and a core's worth
/// of work, so running more at once would only add memory (a flood of
/// logins could otherwise take tokio's 512 blocking threads, nearly 10 GB)
/// and make each slower; the others wait their turn.
pub async fn verify_login_limited(stored_hash: Option<String>, password: String) -> bool {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let slots =
        SLOTS.get_or_init(|| tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())));
    let Ok(_slot) = slots.acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || verify_login(stored_hash.as_deref(), &password))
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let a = hash_password("correct horse").unwrap();
        let b = hash_password("correct horse").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "every hash must have its own salt");
        assert!(verify_password(&a, "correct horse"));
        assert!(!verify_password(&a, "correct horse!"));
        assert!(!verify_password("not a hash", "correct horse"));
        assert!(verify_login(Some(&a), "correct horse"));
        assert!(!verify_login(None, "correct horse"));
    }
}
