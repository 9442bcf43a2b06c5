//! What every server's command loop says after a command: go on, close, or
//! give up on a broken connection.

/// Whether a session goes on after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Close,
}

/// The connection failed or timed out; the session ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disconnect;

/// The result of handling one command.
pub type Outcome = Result<Flow, Disconnect>;

use tokio::io::{AsyncRead, AsyncWrite};

use crate::{Connection, ReadError};

/// The end of every server's command loop, written once. Each takes the
/// protocol's farewell to a client that timed out, already encoded (POP3's
/// `-ERR`, SMTP's 421 of RFC 5321 §4.5.3.2, IMAP's untagged `BYE`).
impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    /// Waits for more of a command; a failed read ends the session (see
    /// [`Self::read_failed`]).
    pub async fn read_more(&mut self, farewell: &[u8]) -> Result<(), Disconnect> {
        match self.fill_command().await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.read_failed(e, farewell).await),
        }
    }

    /// Drops the rest of a line too long for the codec, so the session can
    /// refuse it and read the next command; a failed read ends the session.
    pub async fn skip_long_line(&mut self, farewell: &[u8]) -> Result<(), Disconnect> {
        match self.skip_line().await {
            Ok(()) => Ok(()),
            Err(e) => Err(self.read_failed(e, farewell).await),
        }
    }

    /// Ends the session after a failed read, telling a client that timed
    /// out why: `farewell` is sent before the connection closes.
    pub async fn read_failed(&mut self, error: ReadError, farewell: &[u8]) -> Disconnect {
        match error {
            ReadError::Timeout(after) => {
                tracing::info!(?after, "client timed out");
                self.send(farewell);
                self.close().await;
            }
            ReadError::Closed => {}
            ReadError::Io(e) => tracing::debug!(error = %e, "connection failed"),
        }
        Disconnect
    }

    /// After a command: whether the session goes on. A session that ends
    /// by its own choice flushes its last reply and closes the connection;
    /// one whose connection failed has nothing left to say.
    pub async fn proceed(&mut self, outcome: Outcome) -> bool {
        match outcome {
            Ok(Flow::Continue) => true,
            Ok(Flow::Close) => {
                self.close().await;
                false
            }
            Err(Disconnect) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::AsyncReadExt;

    use super::*;
    use crate::Stream;

    /// What the client received until the server closed; the test fails
    /// if the server does not close.
    async fn heard(mut client: tokio::io::DuplexStream) -> Vec<u8> {
        let mut heard = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut heard))
            .await
            .expect("the server closes the connection")
            .expect("read");
        heard
    }

    #[tokio::test]
    async fn a_client_that_times_out_hears_the_farewell_and_the_close() {
        let (client, server) = tokio::io::duplex(1024);
        let mut conn = Connection::new(Stream::Plain(server), Duration::from_millis(50));
        assert_eq!(conn.read_more(b"421 bye\r\n").await, Err(Disconnect));
        assert_eq!(heard(client).await, b"421 bye\r\n");
    }

    #[tokio::test]
    async fn a_client_that_hung_up_is_told_nothing() {
        let (client, server) = tokio::io::duplex(1024);
        let mut conn = Connection::new(Stream::Plain(server), Duration::from_secs(5));
        drop(client);
        assert_eq!(conn.read_more(b"421 bye\r\n").await, Err(Disconnect));
        assert!(conn.output().is_empty(), "nothing queued for a closed peer");
    }

    #[tokio::test]
    async fn a_session_that_ends_sends_its_last_reply_then_closes() {
        let (client, server) = tokio::io::duplex(1024);
        let mut conn = Connection::new(Stream::Plain(server), Duration::from_secs(5));
        conn.send(b"221 Bye\r\n");
        assert!(conn.proceed(Ok(Flow::Continue)).await);
        assert!(!conn.proceed(Ok(Flow::Close)).await);
        assert_eq!(heard(client).await, b"221 Bye\r\n");
    }
}
