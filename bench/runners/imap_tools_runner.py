"""imap-tools, used as its documentation says: ``MailBox.uids()``, and ``MailBox.fetch()``
yielding parsed ``MailMessage`` objects, with ``mark_seen=False`` (BODY.PEEK),
``bulk=5000`` (5,000 UIDs per FETCH, as for the upstream imapclient: ``bulk=True``
would put every UID of a 100,000-message box on one command line, longer than Dovecot
accepts) and ``headers_only=True``
where only headers are wanted. IDLE through ``mailbox.idle.start/poll/stop``.

imap-tools has no call for FLAGS/INTERNALDATE/RFC822.SIZE alone, nor for ENVELOPE or
BODYSTRUCTURE: its narrowest fetch is ``(BODY.PEEK[HEADER] UID FLAGS RFC822.SIZE)``,
parsed with the email package. Both metadata tasks use it (and read what the task asks
for from the MailMessage), so imap-tools asks the server for more than the others do.
"""

from __future__ import annotations

import time
from typing import Any

import _runner
import imap_tools
from imap_tools import MailBoxUnencrypted

BULK = 5000


def describe() -> str:
    return f"imap-tools {imap_tools.__version__}"


def connect(job: dict[str, Any]) -> MailBoxUnencrypted:
    mailbox = MailBoxUnencrypted(job["host"], job["port"], timeout=600)
    mailbox.login(job["user"], job["password"], initial_folder=None)
    mailbox.folder.set(job["folder"], readonly=True)
    return mailbox


def close(mailbox: MailBoxUnencrypted) -> None:
    mailbox.logout()


def search(mailbox: MailBoxUnencrypted, job: dict[str, Any]) -> dict[str, Any]:
    return {"count": len(mailbox.uids("ALL"))}


NOTE = "fetches (BODY.PEEK[HEADER] UID FLAGS RFC822.SIZE): no narrower call"


def meta(mailbox: MailBoxUnencrypted, job: dict[str, Any]) -> dict[str, Any]:
    count = size = 0
    for msg in mailbox.fetch(mark_seen=False, headers_only=True, bulk=BULK):
        _ = msg.uid, msg.flags, msg.date  # the Date header: imap-tools has no INTERNALDATE
        size += msg.size_rfc822
        count += 1
    return {"count": count, "bytes": size, "note": NOTE}


def envelope(mailbox: MailBoxUnencrypted, job: dict[str, Any]) -> dict[str, Any]:
    count = 0
    for msg in mailbox.fetch(mark_seen=False, headers_only=True, bulk=BULK):
        # What ENVELOPE holds, from the parsed headers (BODYSTRUCTURE has no equivalent).
        _ = (msg.date, msg.subject, msg.from_values, msg.to_values, msg.cc_values,
             msg.bcc_values, msg.reply_to_values, msg.headers.get("message-id"),
             msg.headers.get("in-reply-to"))
        count += 1
    return {"count": count, "note": NOTE + "; no BODYSTRUCTURE"}


def body(mailbox: MailBoxUnencrypted, job: dict[str, Any]) -> dict[str, Any]:
    count = size = 0
    for msg in mailbox.fetch(mark_seen=False, bulk=BULK):
        _ = msg.obj  # parsed by the email package in MailMessage()
        size += msg.size_rfc822
        count += 1
    return {"count": count, "bytes": size, "note": "bytes: RFC822.SIZE as reported"}


def stream(mailbox: MailBoxUnencrypted, job: dict[str, Any]) -> dict[str, Any]:
    msg = next(mailbox.fetch(uid_list=[str(job["uid"])], mark_seen=False))
    data = bytes(msg.obj)
    with open(job["sink"], "wb") as sink:
        sink.write(data)
    return {"count": 1, "bytes": len(data),
            "note": "no streaming: fetch() parses the whole message, bytes(msg.obj) written"}


def idle(mailbox: MailBoxUnencrypted, job: dict[str, Any]) -> dict[str, Any]:
    appender = _runner.Appender(job)
    latencies = []
    try:
        mailbox.idle.start()
        for _ in range(job["rounds"]):
            start = appender.fire()
            while not any(b"EXISTS" in line for line in mailbox.idle.poll(timeout=30)):
                pass
            latencies.append(time.perf_counter() - start)
            appender.finish()
        mailbox.idle.stop()
    finally:
        appender.close()
    return {"latencies": latencies}


if __name__ == "__main__":
    _runner.main(
        "imap-tools",
        connect,
        {"search": search, "meta": meta, "envelope": envelope, "body": body,
         "stream": stream, "idle": idle},
        close,
        describe=describe,
    )
