"""Copies, moves and expunges alice's mail over IMAP until the server goes
away (the crash torture kills it): COPY from INBOX to Archive, MOVE from
Archive to Trash, EXPUNGE in Trash, so that kills land in the middle of
each and the quota usage must stay exact through them. INBOX itself is
never changed: the torture checks its messages afterwards. Prints how many
rounds completed."""

import imaplib, socket, ssl, sys, time

import mailtest

done = 0
try:
    client = mailtest.imap("alice@example.test", "implicit")
    while True:
        typ, data = client.select("INBOX", readonly=True)
        count = int(data[0])
        if count:
            client.copy("%d:%d" % (max(1, count - 2), count), "Archive")
        typ, data = client.select("Archive")
        if int(data[0]):
            client._simple_command("MOVE", "1:*", "Trash")
        typ, data = client.select("Trash")
        if int(data[0]):
            client.store("1:*", "+FLAGS.SILENT", "(\\Deleted)")
            client.expunge()
        done += 1
        # Paced: the torture's sender must keep most of the two cores.
        time.sleep(0.02)
except (OSError, EOFError, imaplib.IMAP4.error, ssl.SSLError, socket.error):
    pass
print(done)
sys.exit(0)
