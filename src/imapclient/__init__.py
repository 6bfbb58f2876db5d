"""imapclient: an easy-to-use, Pythonic and complete IMAP client library.

``from imapclient import IMAPClient`` gives the blocking client. The protocol core lives
in :mod:`imapclient.protocol` (sans-IO), every operation once in
:mod:`imapclient.commands`.
"""

from ._version import __version__
from .aio import AsyncIMAPClient
from .client import IMAPClient
from .config import ConfigError
from .exceptions import (
    CapabilityError,
    CommandError,
    IllegalStateError,
    IMAPClientAbortError,
    IMAPClientError,
    IMAPClientReadOnlyError,
    InvalidCriteriaError,
    LoginError,
    ProtocolError,
    TLSRequiredError,
)
from .oauth2 import OAuth2Error
from .response_types import (
    Address,
    BodyData,
    Envelope,
    MailboxQuotaRoots,
    Namespace,
    Quota,
    SearchIds,
    SequenceSet,
)
from .transport import SocketTimeout

# Common message flags, as bytes (the form flags take in responses).
DELETED = rb"\Deleted"
SEEN = rb"\Seen"
ANSWERED = rb"\Answered"
FLAGGED = rb"\Flagged"
DRAFT = rb"\Draft"
RECENT = rb"\Recent"  # read-only: set by the server

# Special-use folder attributes (RFC 6154), for find_special_folder().
ALL = rb"\All"
ARCHIVE = rb"\Archive"
DRAFTS = rb"\Drafts"
JUNK = rb"\Junk"
SENT = rb"\Sent"
TRASH = rb"\Trash"

__all__ = [
    "ALL",
    "ANSWERED",
    "ARCHIVE",
    "DELETED",
    "DRAFT",
    "DRAFTS",
    "FLAGGED",
    "JUNK",
    "RECENT",
    "SEEN",
    "SENT",
    "TRASH",
    "Address",
    "AsyncIMAPClient",
    "BodyData",
    "CapabilityError",
    "CommandError",
    "ConfigError",
    "Envelope",
    "IMAPClient",
    "IMAPClientAbortError",
    "IMAPClientError",
    "IMAPClientReadOnlyError",
    "IllegalStateError",
    "InvalidCriteriaError",
    "LoginError",
    "MailboxQuotaRoots",
    "Namespace",
    "OAuth2Error",
    "ProtocolError",
    "Quota",
    "SearchIds",
    "SequenceSet",
    "SocketTimeout",
    "TLSRequiredError",
    "__version__",
]
