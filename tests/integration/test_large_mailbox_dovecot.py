"""Large mailboxes, through both front ends, against the private Dovecot: ESEARCH,
chunked iteration with pipelined FETCHes; and a million-UID SEARCH answer."""

from __future__ import annotations

import logging

import pytest

from imapclient import SequenceSet
from imapclient.protocol.encoder import Atom, Command
from imapclient.protocol.framing import Framer
from imapclient.protocol.limits import DEFAULT_LIMITS
from imapclient.protocol.parser import _Cursor
from imapclient.protocol.session import Session
from imapclient.protocol.tolerances import DEFAULT_TOLERANCES

pytestmark = pytest.mark.integration

COUNT = 3000


@pytest.fixture
def big_box(imap_account, make_client):
    imap_account.seed(
        [
            (f"Subject: m{n}\r\n\r\nbody {n}\r\n".encode(), ["\\Seen"] if n % 3 else [])
            for n in range(1, COUNT + 1)
        ]
    )
    client = make_client(imap_account.host, port=imap_account.port, ssl=False, timeout=60)
    client.login(imap_account.username, imap_account.password)
    client.select_folder("INBOX")
    return client


def test_search_uses_esearch_and_gives_the_same_list(big_box) -> None:
    assert big_box.has_capability("ESEARCH")
    assert big_box.search("ALL") == list(range(1, COUNT + 1))
    assert big_box.search("UNSEEN") == list(range(3, COUNT + 1, 3))


def test_esearch_min_max_count_and_ranges(big_box) -> None:
    result = big_box.esearch("SEEN")
    assert result[b"MIN"] == 1 and result[b"MAX"] == COUNT - 1
    assert result[b"COUNT"] == COUNT - COUNT // 3
    assert isinstance(result[b"ALL"], SequenceSet)
    assert len(result[b"ALL"]) == result[b"COUNT"]
    only_count = big_box.esearch("ALL", returns=["COUNT"])
    assert dict(only_count) == {b"COUNT": COUNT}
    nothing = big_box.esearch(["SUBJECT", "no such subject"])
    assert nothing[b"COUNT"] == 0 and nothing[b"MIN"] is None and len(nothing[b"ALL"]) == 0


def test_iter_fetch_walks_every_message_in_pipelined_chunks(big_box) -> None:
    uids = big_box.search("ALL")
    seen = [
        (uid, data[b"RFC822.SIZE"])
        for uid, data in big_box.iter_fetch(uids, ["RFC822.SIZE"], chunk_size=250, in_flight=3)
    ]
    assert [uid for uid, _ in seen] == uids
    assert all(size > 10 for _, size in seen)
    with pytest.raises(ValueError):
        list(big_box.iter_fetch(uids, ["FLAGS"], chunk_size=0))


def test_a_million_uid_search_answer_parses_within_the_default_limits() -> None:
    session = Session()
    session.receive_data(b"* OK ready\r\n")
    pending = session.send(Command(b"UID SEARCH", [Atom(b"ALL")]))
    session.data_to_send()
    line = b"* SEARCH " + b" ".join(b"%d" % n for n in range(1, 1_000_001)) + b"\r\n"
    assert len(line) > 6_000_000
    for start in range(0, len(line), 65536):  # as a socket would deliver it
        session.receive_data(line[start : start + 65536])
    session.receive_data(pending.tag + b" OK done\r\n")
    ids = pending.untagged[0].data
    assert len(ids) == 1_000_000 and ids[0] == 1 and ids[-1] == 1_000_000


def test_listings_read_from_the_buffer_agree_with_the_general_parser(
    imap_account, make_client, caplog
) -> None:
    # Folded subjects (which Dovecot sends as literals) and bodies from 1 KB to 300 KB
    # (cut by read boundaries): the listings, read straight from the receive buffer by
    # the compiled readers, must give what the general parser makes of the same bytes.
    messages = []
    for n in range(1, 41):
        subject = (
            b"Subject: a long subject, number %d,\r\n\tthat was folded by its sender" % n
            if n % 3 == 0
            else b"Subject: plain %d" % n
        )
        body = b"".join(b"line %d of message %d\r\n" % (i, n) for i in range(1 + n * n * 12))
        messages.append((subject + b"\r\n\r\n" + body, []))
    imap_account.seed(messages)
    client = make_client(imap_account.host, port=imap_account.port, ssl=False, timeout=60)
    client.login(imap_account.username, imap_account.password)
    client.select_folder("INBOX", readonly=True)
    client.normalise_times = False  # the general parser's aware dates, to compare
    with caplog.at_level(logging.DEBUG, logger="imapclient.wire"):
        envelopes = client.fetch("1:*", ["ENVELOPE"])
        bodies = client.fetch("1:*", ["BODY.PEEK[]"])
    received = b"".join(
        r.args[0] for r in caplog.records if r.name == "imapclient.wire" and r.msg == "< %r"
    )
    framer = Framer()
    framer.feed(received)
    reference = {}
    while (frame := framer.next_response()) is not None:
        response = _Cursor(frame, DEFAULT_LIMITS, DEFAULT_TOLERANCES).response()
        if getattr(response, "name", None) == b"FETCH":
            data = response.data
            reference.setdefault(data[b"UID"], {}).update(data)
    assert b"}\r\na long subject, number 3," in received  # a literal subject, as expected
    assert sorted(envelopes) == sorted(bodies) == sorted(reference) == list(range(1, 41))
    for uid in range(1, 41):
        assert envelopes[uid][b"ENVELOPE"] == reference[uid][b"ENVELOPE"]
        assert bodies[uid][b"BODY[]"] == reference[uid][b"BODY[]"]
        assert bodies[uid][b"BODY[]"].endswith(messages[uid - 1][0][-30:])
    assert len(bodies[40][b"BODY[]"]) > 300_000
