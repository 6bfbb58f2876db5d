"""Tests for imapclient.sasl: SASL mechanisms checked against published vectors
(RFC 4013, 4616, 5802, 7628, 7677, Google's XOAUTH2 page, the OAuth Core 1.0
signature example) and against values computed independently in this file."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
import urllib.parse

import pytest

from imapclient import sasl

SASLError = sasl.SASLError


# ---------------------------------------------------------------------------------
# SCRAM
# ---------------------------------------------------------------------------------

# RFC 5802 section 5 (SCRAM-SHA-1, user "user", password "pencil").
SHA1_NONCE = "fyko+d2lbbFgONRv9qkxdawL"
SHA1_CLIENT_FIRST = b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"
SHA1_SERVER_FIRST = b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"
SHA1_CLIENT_FINAL = (
    b"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
)
SHA1_SERVER_FINAL = b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ="

# RFC 7677 section 3 (SCRAM-SHA-256, same user and password).
SHA256_NONCE = "rOprNGfwEbeRWgbNEkqO"
SHA256_CLIENT_FIRST = b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
SHA256_SERVER_FIRST = (
    b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
)
SHA256_CLIENT_FINAL = (
    b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
)
SHA256_SERVER_FINAL = b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


def test_scram_sha1_rfc5802_example() -> None:
    mech = sasl.Scram("user", "pencil", "sha1", nonce=SHA1_NONCE)
    assert mech.name == b"SCRAM-SHA-1"
    assert mech.client_first is True
    assert mech.initial_response() == SHA1_CLIENT_FIRST
    assert mech.respond(SHA1_SERVER_FIRST) == SHA1_CLIENT_FINAL
    assert mech.respond(SHA1_SERVER_FINAL) == b""
    mech.done()


def test_scram_sha256_rfc7677_example() -> None:
    mech = sasl.Scram("user", "pencil", nonce=SHA256_NONCE)
    assert mech.name == b"SCRAM-SHA-256"
    assert mech.initial_response() == SHA256_CLIENT_FIRST
    assert mech.respond(SHA256_SERVER_FIRST) == SHA256_CLIENT_FINAL
    assert mech.respond(SHA256_SERVER_FINAL) == b""
    mech.done()


def test_scram_without_sasl_ir_answers_the_empty_challenge_with_client_first() -> None:
    mech = sasl.Scram("user", "pencil", nonce=SHA256_NONCE)
    assert mech.respond(b"") == SHA256_CLIENT_FIRST
    assert mech.respond(SHA256_SERVER_FIRST) == SHA256_CLIENT_FINAL
    mech.respond(SHA256_SERVER_FINAL)
    mech.done()


def test_scram_rejects_a_nonempty_opening_challenge() -> None:
    mech = sasl.Scram("user", "pencil", nonce=SHA256_NONCE)
    with pytest.raises(SASLError):
        mech.respond(SHA256_SERVER_FIRST)


@pytest.mark.parametrize(
    "hash_name", ["sha256", "SHA256", "SHA-256", "sha-256"], ids=lambda name: name
)
def test_scram_hash_name_spellings(hash_name: str) -> None:
    assert sasl.Scram("u", "p", hash_name).name == b"SCRAM-SHA-256"


def test_scram_unknown_hash() -> None:
    with pytest.raises(ValueError):
        sasl.Scram("u", "p", "md5")


def _scram_at_final(server_final: bytes) -> object:
    """An RFC 7677 exchange up to the server-final message, fed ``server_final``."""
    mech = sasl.Scram("user", "pencil", nonce=SHA256_NONCE)
    mech.initial_response()
    mech.respond(SHA256_SERVER_FIRST)
    return mech.respond(server_final)


def test_scram_wrong_server_signature() -> None:
    mech = sasl.Scram("user", "pencil", nonce=SHA256_NONCE)
    mech.initial_response()
    mech.respond(SHA256_SERVER_FIRST)
    wrong = bytearray(base64.b64decode(SHA256_SERVER_FINAL[2:]))
    wrong[0] ^= 1
    with pytest.raises(SASLError, match="server signature"):
        mech.respond(b"v=" + base64.b64encode(bytes(wrong)))
    with pytest.raises(SASLError):
        mech.done()
    with pytest.raises(SASLError):  # the exchange stays failed
        mech.respond(SHA256_SERVER_FINAL)


def test_scram_signature_of_another_hash_is_rejected() -> None:
    # The RFC 5802 (SHA-1) signature must not verify an SHA-256 exchange.
    with pytest.raises(SASLError):
        _scram_at_final(SHA1_SERVER_FINAL)


@pytest.mark.parametrize("server_final", [b"v=!!!", b"x=abc", b"v", b"", b"\xff=1"], ids=repr)
def test_scram_malformed_server_final(server_final: bytes) -> None:
    with pytest.raises(SASLError):
        _scram_at_final(server_final)


def test_scram_server_error_in_server_final() -> None:
    mech = sasl.Scram("user", "pencil", nonce=SHA256_NONCE)
    mech.initial_response()
    mech.respond(SHA256_SERVER_FIRST)
    with pytest.raises(SASLError, match="invalid-proof"):
        mech.respond(b"e=invalid-proof")
    assert mech.error == "invalid-proof"
    with pytest.raises(SASLError):
        mech.done()


def test_scram_server_error_in_server_first() -> None:
    mech = sasl.Scram("user", "pencil", nonce=SHA256_NONCE)
    mech.initial_response()
    with pytest.raises(SASLError, match="unknown-user"):
        mech.respond(b"e=unknown-user")
    assert mech.error == "unknown-user"


BAD_SERVER_FIRST = {
    "nonce of someone else": b"r=XXXXNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    "nonce not extended": b"r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    "nonce truncated": b"r=rOprNGfwEbeRWgbNEk,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    "nonce with a space": b"r=rOprNGfwEbeRWgbNEkqO x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    "missing r": b"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    "missing s": b"r=rOprNGfwEbeRWgbNEkqO%hvYD,i=4096",
    "missing i": b"r=rOprNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==",
    "empty": b"",
    "out of order": b"s=W22ZaJ0SNY7soEsUEjb6gQ==,r=rOprNGfwEbeRWgbNEkqO%hvYD,i=4096",
    "repeated attribute": b"r=rOprNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,i=1",
    "mandatory extension": b"m=ext,r=rOprNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    "zero iterations": b"r=rOprNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0",
    "negative iterations": b"r=rOprNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-1",
    "leading zero": b"r=rOprNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=04096",
    "iterations not a number": b"r=rOprNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=many",
    "huge iterations": b"r=rOprNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=10000001",
    "absurd iterations": b"r=rOprNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=" + b"9" * 50,
    "salt not base64": b"r=rOprNGfwEbeRWgbNEkqO%hvYD,s=not base64!,i=4096",
    "empty salt": b"r=rOprNGfwEbeRWgbNEkqO%hvYD,s=,i=4096",
    "no attribute syntax": b"rOprNGfwEbeRWgbNEkqO%hvYD",
    "not UTF-8": b"r=rOprNGfwEbeRWgbNEkqO%hvYD\xff,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
}


@pytest.mark.parametrize("server_first", BAD_SERVER_FIRST.values(), ids=BAD_SERVER_FIRST.keys())
def test_scram_rejects_bad_server_first(server_first: bytes) -> None:
    mech = sasl.Scram("user", "pencil", nonce=SHA256_NONCE)
    mech.initial_response()
    with pytest.raises(SASLError):
        mech.respond(server_first)
    with pytest.raises(SASLError):
        mech.done()


def test_scram_iteration_limit_is_configurable() -> None:
    assert sasl.SCRAM_MAX_ITERATIONS == 10_000_000
    mech = sasl.Scram("user", "pencil", nonce=SHA256_NONCE, max_iterations=4095)
    mech.initial_response()
    with pytest.raises(SASLError, match="4096"):
        mech.respond(SHA256_SERVER_FIRST)
    mech = sasl.Scram("user", "pencil", nonce=SHA256_NONCE, max_iterations=4096)
    mech.initial_response()
    assert mech.respond(SHA256_SERVER_FIRST) == SHA256_CLIENT_FINAL


def test_scram_ignores_unknown_optional_extensions() -> None:
    mech = sasl.Scram("user", "pencil", nonce=SHA256_NONCE)
    mech.initial_response()
    answer = mech.respond(SHA256_SERVER_FIRST + b",x=future")
    # The extension is part of the AuthMessage, so the proof changes.
    assert answer.startswith(SHA256_CLIENT_FINAL[: SHA256_CLIENT_FINAL.index(b",p=")])
    assert answer != SHA256_CLIENT_FINAL


def test_scram_done_without_verification_raises() -> None:
    mech = sasl.Scram("user", "pencil", nonce=SHA256_NONCE)
    with pytest.raises(SASLError):
        mech.done()
    mech.initial_response()
    with pytest.raises(SASLError):
        mech.done()
    mech.respond(SHA256_SERVER_FIRST)
    # The server said OK without sending v=: it never proved it knows the password.
    with pytest.raises(SASLError, match="prove"):
        mech.done()


def test_scram_challenge_after_the_end_is_rejected() -> None:
    mech = sasl.Scram("user", "pencil", nonce=SHA256_NONCE)
    mech.initial_response()
    mech.respond(SHA256_SERVER_FIRST)
    mech.respond(SHA256_SERVER_FINAL)
    with pytest.raises(SASLError):
        mech.respond(b"")


def test_scram_random_nonce() -> None:
    first = sasl.Scram("user", "pencil").initial_response()
    second = sasl.Scram("user", "pencil").initial_response()
    assert first != second
    match = re.fullmatch(rb"n,,n=user,r=([\x21-\x2b\x2d-\x7e]+)", first)
    assert match is not None and len(match.group(1)) >= 24


@pytest.mark.parametrize("nonce", ["", "a,b", "caf\u00e9", "a b"], ids=repr)
def test_scram_rejects_bad_injected_nonce(nonce: str) -> None:
    with pytest.raises(ValueError):
        sasl.Scram("user", "pencil", nonce=nonce)


def test_scram_username_escaping() -> None:
    mech = sasl.Scram("a,b=c", "pencil", nonce="abc")
    assert mech.initial_response() == b"n,,n=a=2Cb=3Dc,r=abc"


def test_scram_username_is_saslprepped_as_a_query() -> None:
    assert sasl.Scram("I\u00adX", "p", nonce="abc").initial_response() == b"n,,n=IX,r=abc"
    # Unassigned code points are allowed in queries.
    emoji = sasl.Scram("\U0001f600", "p", nonce="abc").initial_response()
    assert emoji == "n,,n=\U0001f600,r=abc".encode()


@pytest.mark.parametrize("username", ["", "\u00ad", "bad\u0007", "\u0627\u0031"], ids=repr)
def test_scram_rejects_bad_usernames(username: str) -> None:
    with pytest.raises(ValueError):
        sasl.Scram(username, "pencil")


def _proof(password: str) -> bytes:
    mech = sasl.Scram("user", password, nonce=SHA256_NONCE)
    mech.initial_response()
    answer: bytes = mech.respond(SHA256_SERVER_FIRST)
    return answer


def test_scram_password_is_saslprepped() -> None:
    # Soft hyphens vanish and a no-break space becomes a space before hashing.
    assert _proof("pen\u00adcil") == SHA256_CLIENT_FINAL
    assert _proof("pen\u00a0cil") == _proof("pen cil")
    assert _proof("\u2168") == _proof("IX")
    assert _proof("pen cil") != SHA256_CLIENT_FINAL


@pytest.mark.parametrize(
    "password",
    ["bad\u0007", "\u0627\u0031", "private\ue000", "\u0221", "\U0001f600"],
    ids=["control", "bidi", "private use", "unassigned", "emoji (unassigned in 3.2)"],
)
def test_scram_rejects_bad_passwords_without_quoting_them(password: str) -> None:
    with pytest.raises(ValueError) as info:
        sasl.Scram("user", password)
    assert password not in str(info.value)


def _independent_scram(
    hash_name: str, password: bytes, salt: bytes, iterations: int, auth_message: bytes
) -> tuple[bytes, bytes]:
    """RFC 5802 section 3 written out again: (client proof, server signature)."""
    salted = hashlib.pbkdf2_hmac(hash_name, password, salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hash_name).digest()
    stored_key = hashlib.new(hash_name, client_key).digest()
    client_signature = hmac.new(stored_key, auth_message, hash_name).digest()
    proof = bytes(x ^ y for x, y in zip(client_key, client_signature, strict=True))
    server_key = hmac.new(salted, b"Server Key", hash_name).digest()
    return proof, hmac.new(server_key, auth_message, hash_name).digest()


def test_scram_sha512_against_an_independent_server() -> None:
    salt = b"0123456789abcdef"
    server_first = b"r=clientNONCEserverNONCE,s=" + base64.b64encode(salt) + b",i=1000"
    mech = sasl.Scram("j\u00fcrgen", "secr\u00e9t", "sha512", nonce="clientNONCE")
    assert mech.name == b"SCRAM-SHA-512"
    client_first = mech.initial_response()
    assert client_first == "n,,n=j\u00fcrgen,r=clientNONCE".encode()
    client_final = mech.respond(server_first)
    without_proof, _, proof_b64 = client_final.partition(b",p=")
    assert without_proof == b"c=biws,r=clientNONCEserverNONCE"
    auth_message = client_first[3:] + b"," + server_first + b"," + without_proof
    proof, signature = _independent_scram(
        "sha512", "secr\u00e9t".encode(), salt, 1000, auth_message
    )
    assert base64.b64decode(proof_b64) == proof
    assert mech.respond(b"v=" + base64.b64encode(signature)) == b""
    mech.done()


# ---------------------------------------------------------------------------------
# SASLprep
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "prepared"),
    [
        # RFC 4013 section 3.
        ("I\u00adX", "IX"),  # soft hyphen mapped to nothing
        ("user", "user"),  # no transformation
        ("USER", "USER"),  # case preserved, will not match #2
        ("\u00aa", "a"),  # output is NFKC, input in ISO 8859-1
        ("\u2168", "IX"),  # output is NFKC, will match #1
        # Non-ASCII spaces (table C.1.2) become U+0020.
        ("a\u00a0b", "a b"),
        ("a\u2003b\u3000c", "a b c"),
        # "Commonly mapped to nothing" characters (table B.1).  The zero width space is
        # in C.1.2 too; mapping it to nothing, like the other invisible ones, is the
        # choice sasl.saslprep documents.
        ("a\u200db\ufeffc", "abc"),
        ("a\u200bb", "ab"),
        # Well-formed right-to-left text passes.
        ("\u0627\u0628", "\u0627\u0628"),
        ("\u0627 1 \u0628", "\u0627 1 \u0628"),
        ("", ""),
    ],
    ids=repr,
)
def test_saslprep_maps(text: str, prepared: str) -> None:
    assert sasl.saslprep(text) == prepared


@pytest.mark.parametrize(
    "text",
    [
        "\u0007",  # RFC 4013 section 3 #6: prohibited character
        "\u0627\u0031",  # RFC 4013 section 3 #7: bidi check
        "\u0627a\u0628",  # right-to-left mixed with left-to-right
        "1\u0627",  # right-to-left text not starting with a right-to-left character
        "a\x00b",
        "\x7f",
        "\u0080",
        "\ue000",  # private use
        "\ufffe",  # non-character
        "\ufff9",  # inappropriate for plain text
        "\u2ff0",  # inappropriate for canonical representation
        "\u200e",  # left-to-right mark, a change-display-property character
        "\U000e0001",  # tagging character
    ],
    ids=repr,
)
def test_saslprep_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="SASLprep"):
        sasl.saslprep(text)


def test_saslprep_unassigned_code_points() -> None:
    # U+0221 and the emoji were unassigned in Unicode 3.2, the version stringprep uses.
    for text in ("\u0221", "x\U0001f600"):
        with pytest.raises(ValueError, match="unassigned"):
            sasl.saslprep(text)
        assert sasl.saslprep(text, allow_unassigned=True) == text


# ---------------------------------------------------------------------------------
# PLAIN and LOGIN
# ---------------------------------------------------------------------------------


def test_plain_without_authzid() -> None:
    # RFC 4616 section 4.
    mech = sasl.Plain("tim", "tanstaaftanstaaf")
    assert mech.name == b"PLAIN"
    assert mech.client_first is True
    assert mech.initial_response() == b"\0tim\0tanstaaftanstaaf"
    mech.done()


def test_plain_with_authzid() -> None:
    # RFC 4616 section 4.
    mech = sasl.Plain("Kurt", "xipj3plmq", "Ursel")
    assert mech.initial_response() == b"Ursel\0Kurt\0xipj3plmq"


def test_plain_is_utf8() -> None:
    mech = sasl.Plain("j\u00fcrgen", "p\u00e4ss", "")
    assert mech.initial_response() == b"\0j\xc3\xbcrgen\0p\xc3\xa4ss"


@pytest.mark.parametrize(
    "args",
    [("a\0b", "p", None), ("a", "p\0", None), ("a", "p", "\0z")],
    ids=["identity", "password", "authorization identity"],
)
def test_plain_rejects_nul(args: tuple[str, str, str | None]) -> None:
    with pytest.raises(ValueError, match="NUL"):
        sasl.Plain(*args)


def test_plain_without_sasl_ir() -> None:
    mech = sasl.Plain("tim", "tanstaaftanstaaf")
    assert mech.respond(b"") == b"\0tim\0tanstaaftanstaaf"
    with pytest.raises(SASLError):
        mech.respond(b"more?")


def test_plain_rejects_challenges_it_cannot_answer() -> None:
    with pytest.raises(SASLError):
        sasl.Plain("tim", "pw").respond(b"unexpected")
    mech = sasl.Plain("tim", "pw")
    mech.initial_response()
    with pytest.raises(SASLError):
        mech.respond(b"")


def test_login_answers_prompts_in_order() -> None:
    mech = sasl.Login("bob", "s\u00e9cret")
    assert mech.name == b"LOGIN"
    assert mech.client_first is False
    assert mech.initial_response() is None
    assert mech.respond(b"Username:") == b"bob"
    assert mech.respond(b"Password:") == "s\u00e9cret".encode()
    with pytest.raises(SASLError):
        mech.respond(b"Password:")
    mech.done()


# ---------------------------------------------------------------------------------
# XOAUTH2 and OAUTHBEARER
# ---------------------------------------------------------------------------------


def test_xoauth2_google_example() -> None:
    # https://developers.google.com/gmail/imap/xoauth2-protocol
    mech = sasl.XOAuth2("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg")
    assert mech.name == b"XOAUTH2"
    assert mech.client_first is True
    message = mech.initial_response()
    assert message == (
        b"user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"
        b"\x01\x01"
    )
    assert base64.b64encode(message) == (
        b"dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52"
        b"YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ=="
    )
    assert mech.error is None
    mech.done()


def test_xoauth2_vendor() -> None:
    mech = sasl.XOAuth2("u@yahoo.com", "tok", vendor="client-id")
    assert (
        mech.initial_response()
        == b"user=u@yahoo.com\x01auth=Bearer tok\x01vendor=client-id\x01\x01"
    )


def test_xoauth2_error_challenge() -> None:
    mech = sasl.XOAuth2("someuser@example.com", "expired")
    mech.initial_response()
    # Google's example error, already base64-decoded by the command layer.
    error = base64.b64decode(
        "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ=="
    )
    assert mech.respond(error) == b""
    assert mech.error == '{"status":"401","schemes":"Bearer","scope":"https://mail.google.com/"}'
    with pytest.raises(SASLError):
        mech.respond(error)


def test_xoauth2_without_sasl_ir_and_renaming() -> None:
    mech = sasl.XOAuth2("u", "t")
    mech.name = b"XOAUTH2-CUSTOM"  # the command layer may rename it
    assert mech.respond(b"") == b"user=u\x01auth=Bearer t\x01\x01"
    assert mech.respond(b"not json \xff") == b""
    assert mech.error == "not json \ufffd"


@pytest.mark.parametrize("args", [("u\x01", "t", None), ("u", "t\x01", None), ("u", "t", "\x01")])
def test_xoauth2_rejects_the_separator(args: tuple[str, str, str | None]) -> None:
    with pytest.raises(ValueError):
        sasl.XOAuth2(*args)


def test_oauthbearer_rfc7628_example() -> None:
    # RFC 7628 section 4.1.
    mech = sasl.OAuthBearer(
        "user@example.com", "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==", "server.example.com", 143
    )
    assert mech.name == b"OAUTHBEARER"
    assert mech.client_first is True
    message = mech.initial_response()
    assert message == (
        b"n,a=user@example.com,\x01host=server.example.com\x01port=143\x01"
        b"auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01"
    )
    assert base64.b64encode(message) == (
        b"bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9"
        b"QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB"
    )


def test_oauthbearer_without_host_and_port() -> None:
    mech = sasl.OAuthBearer("user@example.com", "tok")
    assert mech.initial_response() == b"n,a=user@example.com,\x01auth=Bearer tok\x01\x01"


def test_oauthbearer_identity_escaping_and_empty_identity() -> None:
    assert sasl.OAuthBearer("a,b=c", "t").initial_response() == (
        b"n,a=a=2Cb=3Dc,\x01auth=Bearer t\x01\x01"
    )
    assert sasl.OAuthBearer("", "t", port=993).initial_response() == (
        b"n,,\x01port=993\x01auth=Bearer t\x01\x01"
    )


def test_oauthbearer_error_challenge() -> None:
    # RFC 7628 section 4.3: the server's error, then the client's %x01 ("AQ==").
    mech = sasl.OAuthBearer("user@example.com", "expired", "server.example.com", 143)
    mech.initial_response()
    error = base64.b64decode(
        "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJleGFtcGxlX3Njb3BlIiwi"
        "b3BlbmlkLWNvbmZpZ3VyYXRpb24iOiJodHRwczovL2V4YW1wbGUuY29tLy53ZWxsLWtub3duL29wZW5p"
        "ZC1jb25maWd1cmF0aW9uIn0="
    )
    answer = mech.respond(error)
    assert base64.b64encode(answer) == b"AQ=="
    assert mech.error is not None and '"status":"invalid_token"' in mech.error
    with pytest.raises(SASLError):
        mech.respond(b"")


def test_oauthbearer_rejects_the_separator() -> None:
    with pytest.raises(ValueError):
        sasl.OAuthBearer("u", "t", host="h\x01")


# ---------------------------------------------------------------------------------
# XOAUTH (OAuth 1.0)
# ---------------------------------------------------------------------------------


def _signature_from(message: bytes) -> str:
    """The oauth_signature value of an XOAUTH message, percent-decoded."""
    match = re.search(rb'oauth_signature="([^"]*)"', message)
    assert match is not None
    return urllib.parse.unquote(match.group(1).decode())


def test_xoauth_signature_against_a_hand_built_base_string() -> None:
    url = "https://mail.google.com/mail/b/someuser@example.com/imap/"
    mech = sasl.XOAuth(
        url,
        "1/tok+en=",
        "token secret&",
        "example.com",
        "consumer/secret",
        nonce="n o~n-c.e_",
        timestamp=1300000000,
    )
    assert mech.name == b"XOAUTH"
    message = mech.initial_response()
    # RFC 5849 section 3.4.1 by hand: method, encoded base URI, and the encoded
    # (so doubly encoded) sorted parameter string.
    base_string = (
        "GET"
        "&https%3A%2F%2Fmail.google.com%2Fmail%2Fb%2Fsomeuser%40example.com%2Fimap%2F"
        "&oauth_consumer_key%3Dexample.com"
        "%26oauth_nonce%3Dn%2520o~n-c.e_"
        "%26oauth_signature_method%3DHMAC-SHA1"
        "%26oauth_timestamp%3D1300000000"
        "%26oauth_token%3D1%252Ftok%252Ben%253D"
        "%26oauth_version%3D1.0"
    )
    # Section 3.4.2: the key is the encoded consumer secret "&" the encoded token secret.
    key = b"consumer%2Fsecret&token%20secret%26"
    expected = base64.b64encode(hmac.new(key, base_string.encode(), hashlib.sha1).digest())
    assert _signature_from(message) == expected.decode()
    encoded_signature = expected.decode().replace("+", "%2B").replace("/", "%2F")
    encoded_signature = encoded_signature.replace("=", "%3D")
    assert (
        message
        == (
            f"GET {url} "
            'oauth_consumer_key="example.com",'
            'oauth_nonce="n%20o~n-c.e_",'
            f'oauth_signature="{encoded_signature}",'
            'oauth_signature_method="HMAC-SHA1",'
            'oauth_timestamp="1300000000",'
            'oauth_token="1%2Ftok%2Ben%3D",'
            'oauth_version="1.0"'
        ).encode()
    )


def test_xoauth_oauth_core_example() -> None:
    # OAuth Core 1.0 Appendix A.5 (the RFC 5849 photos example, with oauth_version):
    # query parameters are signed, the default port and the query leave the base URI.
    mech = sasl.XOAuth(
        "http://photos.example.net:80/photos?file=vacation.jpg&size=original",
        "nnch734d00sl2jdk",
        "pfkkdhi9sl3r4s00",
        "dpf43f3p2l4k3l03",
        "kd94hf93k423kf44",
        nonce="kllo9940pd9333jh",
        timestamp=1191242096,
    )
    base_string = (
        "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg"
        "%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3Dkllo9940pd9333jh"
        "%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1191242096"
        "%26oauth_token%3Dnnch734d00sl2jdk%26oauth_version%3D1.0%26size%3Doriginal"
    )
    key = b"kd94hf93k423kf44&pfkkdhi9sl3r4s00"
    independent = base64.b64encode(hmac.new(key, base_string.encode(), hashlib.sha1).digest())
    assert independent == b"tR3+Ty81lMeYAr/Fid0kMTYa/WM="  # the published value
    message = mech.initial_response()
    assert _signature_from(message) == "tR3+Ty81lMeYAr/Fid0kMTYa/WM="
    assert message.startswith(
        b"GET http://photos.example.net:80/photos?file=vacation.jpg&size=original "
    )


def test_xoauth_two_legged() -> None:
    # No token: oauth_token is left out and only the consumer secret keys the HMAC.
    url = "https://mail.google.com/mail/b/a@example.com/imap/?xoauth_requestor_id=a%40example.com"
    mech = sasl.XOAuth(url, "", "", "example.com", "secret", nonce="1", timestamp=2)
    message = mech.initial_response()
    assert b"oauth_token" not in message
    base_string = (
        "GET&https%3A%2F%2Fmail.google.com%2Fmail%2Fb%2Fa%40example.com%2Fimap%2F"
        "&oauth_consumer_key%3Dexample.com%26oauth_nonce%3D1"
        "%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D2"
        "%26oauth_version%3D1.0%26xoauth_requestor_id%3Da%2540example.com"
    )
    expected = base64.b64encode(hmac.new(b"secret&", base_string.encode(), hashlib.sha1).digest())
    assert _signature_from(message) == expected.decode()


def test_xoauth_defaults() -> None:
    url = "https://mail.google.com/mail/b/u@example.com/imap/"
    before = int(time.time())
    mech = sasl.XOAuth(url, "tok", "sec")
    message = mech.initial_response()
    after = int(time.time())
    assert mech.initial_response() == message  # built once
    assert b'oauth_consumer_key="anonymous"' in message
    stamp = re.search(rb'oauth_timestamp="(\d+)"', message)
    assert stamp is not None and before <= int(stamp.group(1)) <= after
    nonce = re.search(rb'oauth_nonce="([^"]+)"', message)
    other = sasl.XOAuth(url, "tok", "sec").initial_response()
    assert nonce is not None and nonce.group(0) not in other


@pytest.mark.parametrize("url", ["mail.google.com/imap/", "ftp://example.com/", "https:///x"])
def test_xoauth_rejects_unsignable_urls(url: str) -> None:
    with pytest.raises(ValueError):
        sasl.XOAuth(url, "t", "s")


def test_xoauth_error_challenge() -> None:
    mech = sasl.XOAuth("https://mail.google.com/mail/b/u@example.com/imap/", "t", "s")
    mech.initial_response()
    assert mech.respond(b'{"status":"401"}') == b""
    assert mech.error == '{"status":"401"}'


# ---------------------------------------------------------------------------------
# Callback
# ---------------------------------------------------------------------------------


def test_callback_str_bytes_and_none() -> None:
    seen: list[bytes] = []
    answers: list[bytes | str | None] = ["caf\u00e9", b"\x00raw\xff", None]

    def callback(challenge: bytes) -> bytes | str | None:
        seen.append(challenge)
        return answers.pop(0)

    mech = sasl.Callback("x-custom", callback)
    assert mech.name == b"X-CUSTOM"
    assert mech.client_first is False
    assert mech.initial_response() is None
    assert mech.respond(b"first") == b"caf\xc3\xa9"
    assert mech.respond(b"") == b"\x00raw\xff"
    with pytest.raises(sasl.SASLCancel):
        mech.respond(b"third")
    assert issubclass(sasl.SASLCancel, SASLError)
    assert seen == [b"first", b"", b"third"]
    mech.done()


def test_callback_bad_return_type() -> None:
    # A callback breaking its contract (an int) must still cancel cleanly.
    mech = sasl.Callback(b"CRAM-MD5", lambda challenge: 42)
    assert mech.name == b"CRAM-MD5"
    with pytest.raises(SASLError) as info:
        mech.respond(b"")
    assert not isinstance(info.value, sasl.SASLCancel)


@pytest.mark.parametrize("name", ["", "WITH SPACE", "A" * 21, "CAF\u00c9"], ids=repr)
def test_callback_rejects_bad_names(name: str) -> None:
    with pytest.raises(ValueError):
        sasl.Callback(name, lambda challenge: b"")


# ---------------------------------------------------------------------------------
# Common behaviour
# ---------------------------------------------------------------------------------


def _all_mechanisms() -> list[object]:
    return [
        sasl.Plain("user", "hunter2-secret"),
        sasl.Login("user", "hunter2-secret"),
        sasl.Scram("user", "hunter2-secret"),
        sasl.XOAuth2("user", "hunter2-secret"),
        sasl.OAuthBearer("user", "hunter2-secret"),
        sasl.XOAuth("https://example.com/", "hunter2-secret", "hunter2-secret"),
        sasl.Callback("X", lambda challenge: b"hunter2-secret"),
    ]


@pytest.mark.parametrize("mech", _all_mechanisms(), ids=lambda mech: type(mech).__name__)
def test_protocol_and_repr(mech: object) -> None:
    assert isinstance(mech, sasl.Mechanism)
    assert "hunter2" not in repr(mech)
    assert mech.name.decode() in repr(mech)
