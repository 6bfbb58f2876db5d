"""Assertions shared by the parser test modules."""

from __future__ import annotations

from imapclient.exceptions import ProtocolError
from imapclient.protocol.parser import parse_response
from imapclient.protocol.responses import UntaggedResponse
from imapclient.response_types import Unparsed


def assert_rejected_or_unparsed(raw: bytes) -> None:
    """Under the default tolerances a malformed response is either rejected, or, when only
    a FETCH item's value is bad, returned with that item as Unparsed."""
    try:
        response = parse_response(raw)
    except ProtocolError:
        return
    assert isinstance(response, UntaggedResponse) and response.name == b"FETCH", response
    assert any(isinstance(v, Unparsed) for v in response.data.values()), response
