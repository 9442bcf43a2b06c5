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

    /// Waits for the next command, as [`Self::read_more`], except when
    /// nothing of one has arrived yet and the server stops: then the
    /// client hears the stop farewell (given with [`Self::stop_on`]) and
    /// the session ends. Between commands is the one place where a
    /// session loses nothing by ending; a command under way, an SMTP
    /// message in its data included, is read to its end and answered.
    pub async fn read_command(&mut self, farewell: &[u8]) -> Result<(), Disconnect> {
        let Some((mut shutdown, _)) = self.stop.clone() else {
            return self.read_more(farewell).await;
        };
        if !self.buffered().is_empty() || self.command_started.is_some() {
            return self.read_more(farewell).await;
        }
        // The read below is cancelled by the stop: it is safe to cancel
        // only with nothing left to write (see `fill`), so the reply goes
        // out first, as `fill` would send it.
        let replied = self.pending_output() > 0;
        if let Err(e) = self.flush().await {
            return Err(self.read_failed(ReadError::Io(e), farewell).await);
        }
        let read = tokio::select! {
            read = self.read_input(replied) => Some(read),
            () = shutdown.requested() => None,
        };
        match read {
            Some(Ok(_)) => Ok(()),
            Some(Err(e)) => Err(self.read_failed(e, farewell).await),
            None => Err(self.end_for_stop().await),
        }
    }

    /// Whether nothing of a next command has arrived (none buffered, none
    /// discarded): the session is between commands, where IMAP NOTIFY may
    /// send notifications while it waits (RFC 5465 §3).
    pub fn between_commands(&self) -> bool {
        self.buffered().is_empty() && self.command_started.is_none()
    }

    /// Makes [`Self::read_command`] end the session when `shutdown` fires,
    /// after sending `farewell` (SMTP's 421 of RFC 5321 §3.8, IMAP's
    /// `* BYE`, POP3's `-ERR`).
    pub fn stop_on(&mut self, shutdown: crate::Shutdown, farewell: &'static [u8]) {
        self.stop = Some((shutdown, farewell));
    }

    /// The server's stop, for a session that waits for something else
    /// than a command as well (IMAP IDLE); one that never fires if the
    /// connection has none.
    pub fn shutdown(&self) -> crate::Shutdown {
        self.stop
            .as_ref()
            .map_or_else(crate::Shutdown::never, |(shutdown, _)| shutdown.clone())
    }

    /// Says the stop farewell and closes: the session ends.
    pub async fn end_for_stop(&mut self) -> Disconnect {
        tracing::debug!("closing for the server's stop");
        if let Some(farewell) = self.stop.as_ref().map(|(_, farewell)| *farewell) {
            self.send(farewell);
        }
        self.close().await;
        Disconnect
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
    async fn a_stop_ends_a_wait_for_a_command_but_not_a_command_under_way() {
        use tokio::io::AsyncWriteExt;
        let (stopper, shutdown) = crate::Stopper::new();
        let (idle_client, server) = tokio::io::duplex(1024);
        let mut idle = Connection::new(Stream::Plain(server), Duration::from_secs(5));
        idle.stop_on(shutdown.clone(), b"421 stopping\r\n");
        let (mut busy_client, server) = tokio::io::duplex(1024);
        let mut busy = Connection::new(Stream::Plain(server), Duration::from_secs(5));
        busy.stop_on(shutdown, b"421 stopping\r\n");
        busy_client.write_all(b"NOOP, half").await.unwrap();
        busy.fill_command().await.unwrap();

        stopper.stop();
        assert_eq!(idle.read_command(b"421 timeout\r\n").await, Err(Disconnect));
        assert_eq!(heard(idle_client).await, b"421 stopping\r\n");
        busy_client.write_all(b" and the rest\r\n").await.unwrap();
        while !busy.buffered().ends_with(b"\r\n") {
            assert_eq!(busy.read_command(b"421 timeout\r\n").await, Ok(()));
        }
        assert_eq!(busy.buffered(), b"NOOP, half and the rest\r\n");
        // Once answered, its next wait ends it.
        busy.consume(busy.buffered().len());
        assert_eq!(busy.read_command(b"421 timeout\r\n").await, Err(Disconnect));
        drop((idle, busy));
        tokio::time::timeout(Duration::from_secs(5), stopper.drained())
            .await
            .expect("every session let go");
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
