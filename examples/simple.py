"""The spec's "A Simple Example", for Python 3.

Shows the message ID, size and flags of every message in INBOX that is not
deleted.  The server and account come from the environment:

    IMAP_HOST      (default imap.host.com)
    IMAP_PORT      (default 993 with SSL, else 143)
    IMAP_USER      (default someuser)
    IMAP_PASSWORD  (default secret)
    IMAP_SSL       1/yes/true/on or 0/no/false/off (default off)

scripts/demo runs it against a private Dovecot.
"""

# ruff: noqa: UP031  (the printf-style formatting is kept as in the spec)

import os

from imapclient import IMAPClient


def env_flag(name: str, default: bool) -> bool:
    """A boolean from the environment, spelled as in the spec's config files."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "yes", "true", "on"):
        return True
    if value.lower() in ("0", "no", "false", "off"):
        return False
    raise SystemExit(f"{name} must be one of 1/yes/true/on or 0/no/false/off, not {value!r}")


HOST = os.environ.get("IMAP_HOST", "imap.host.com")
USERNAME = os.environ.get("IMAP_USER", "someuser")
PASSWORD = os.environ.get("IMAP_PASSWORD", "secret")
ssl = env_flag("IMAP_SSL", False)
PORT = int(os.environ.get("IMAP_PORT") or (993 if ssl else 143))

server = IMAPClient(HOST, port=PORT, use_uid=True, ssl=ssl)
server.login(USERNAME, PASSWORD)

select_info = server.select_folder("INBOX")
print("%d messages in INBOX" % select_info[b"EXISTS"])

messages = server.search(["NOT", "DELETED"])
print("%d messages that aren't deleted" % len(messages))

print()
print("Messages:")
response = server.fetch(messages, ["FLAGS", "RFC822.SIZE"])
for msgid, data in response.items():
    print("   ID %d: %d bytes, flags=%s" % (msgid, data[b"RFC822.SIZE"], data[b"FLAGS"]))

server.logout()
