"""The live test, ``python -m imapclient.livetest CONFIG``, run as a person would: from a
configuration file, as a separate process, against the private Dovecot (plain, implicit
TLS and STARTTLS), and against Dovecot run as a command (``stream = true``) that
announces only IMAP4rev1 and LITERAL+, so that every check that needs an extension is
skipped with its reason.

Each run must pass, print one PASS/FAIL/SKIP line per check and the summary, and leave
the account as it found it: the throwaway folder gone, every other folder and INBOX
untouched. A run with a wrong password, or with checks that fail because the client gives
wrong answers, must fail clearly (expected and actual values, exit status 1) and still
remove its folder.
"""

from __future__ import annotations

import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from imapclient import IMAPClient, livetest
from imapclient.livetest import FOLDER_PREFIX

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed, (\d+) skipped$")
RESULT = re.compile(r"^(PASS|FAIL|SKIP) (.+?)(?:: (.*))?$")

#: Checks that need an extension the limited server does not announce, and the reasons.
LIMITED_SKIPS = {
    "server ID (ID)": "server has no ID capability",
    "namespace": "server has no NAMESPACE capability",
    "sort (use_uid=True)": "server has no SORT capability",
    "sort (use_uid=False)": "server has no SORT capability",
    "thread (use_uid=True)": (
        "server has no THREAD=REFERENCES or THREAD=ORDEREDSUBJECT capability"
    ),
    "thread (use_uid=False)": (
        "server has no THREAD=REFERENCES or THREAD=ORDEREDSUBJECT capability"
    ),
    "move (use_uid=True)": (
        "server has no MOVE capability (and moving without it needs UIDPLUS and UIDs)"
    ),
    "move (use_uid=False)": (
        "server has no MOVE capability (and moving without it needs UIDPLUS and UIDs)"
    ),
    "IDLE with a second connection": "server has no IDLE capability",
}


def write_config(path: Path, account: Any) -> Path:
    """A configuration file for ``account``: DEFAULT on the plain port without TLS, and
    sections for implicit TLS, STARTTLS, a wrong password, and the limited server."""
    argv, env = account.server.preauth_command(account.username)
    argv += ["-o", "imap_capability=IMAP4rev1 LITERAL+"]
    command = shlex.join(["env", *(f"{k}={v}" for k, v in env.items()), *argv])
    path.write_text(
        "[DEFAULT]\n"
        f"host = {account.host}\n"
        f"port = {account.port}\n"
        "ssl = false\n"
        f"username = {account.username}\n"
        f"password = {account.password}\n"
        "timeout = 20\n"
        "\n[tls]\n"
        f"port = {account.tls_port}\n"
        "ssl = true\n"
        f"ssl_ca_file = {account.ca_file}\n"
        "\n[starttls]\n"
        "starttls = true\n"
        f"ssl_ca_file = {account.ca_file}\n"
        "\n[wrong-password]\n"
        f"password = wrong-{account.password}\n"
        "\n[limited]\n"
        f"host = {command}\n"
        "stream = true\n"
        "port =\n"
    )
    return path


@pytest.fixture
def config_file(tmp_path: Path, imap_account: Any) -> Path:
    return write_config(tmp_path / "livetest.ini", imap_account)


def run_livetest(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMAPCLIENT_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    return subprocess.run(
        [sys.executable, "-m", "imapclient.livetest", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def results(stdout: str) -> dict[str, tuple[str, str]]:
    """``{check name: (status, detail)}`` from the output; every line must be a result,
    an information line (``# ...``) or the final summary."""
    lines = stdout.splitlines()
    assert SUMMARY.match(lines[-1]), lines[-1]
    found: dict[str, tuple[str, str]] = {}
    for line in lines[:-1]:
        if line.startswith("# "):
            continue
        match = RESULT.match(line)
        assert match, f"unexpected output line {line!r}"
        status, name, detail = match.groups()
        assert name not in found, f"{name} reported twice"
        found[name] = (status, detail or "")
    return found


def throwaway_folder(stdout: str) -> str:
    match = re.search(r"^# throwaway folder: (.+)$", stdout, re.MULTILINE)
    assert match, stdout
    return match.group(1)


def snapshot(account: Any) -> tuple[list[Any], dict[int, Any]]:
    """The account's folders, and INBOX's messages with their flags and sizes."""
    with IMAPClient(account.host, port=account.port, ssl=False) as client:
        client.login(account.username, account.password)
        folders = sorted(client.list_folders(), key=lambda entry: entry[2])
        client.select_folder("INBOX", readonly=True)
        inbox = client.fetch("1:*", ["FLAGS", "RFC822.SIZE"])
        return folders, {uid: (set(d[b"FLAGS"]), d[b"RFC822.SIZE"]) for uid, d in inbox.items()}


def seed_inbox(account: Any) -> None:
    account.seed(
        [
            (b"Subject: keep me\r\n\r\nDo not touch.\r\n", ["\\Seen"]),
            b"Subject: me too\r\n\r\nUnread.\r\n",
        ]
    )


@pytest.mark.parametrize("section", ["DEFAULT", "tls", "starttls"])
def test_livetest_passes_against_dovecot(config_file: Path, imap_account: Any, section: str):
    seed_inbox(imap_account)
    before = snapshot(imap_account)
    args = {  # the section as the spec's optional argument, or with --section
        "DEFAULT": [str(config_file)],
        "tls": [str(config_file), "tls"],
        "starttls": [str(config_file), "--section", "starttls"],
    }[section]
    result = run_livetest(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    found = results(result.stdout)
    assert [name for name, (status, _) in found.items() if status != "PASS"] == []
    passed, failed, skipped = map(int, SUMMARY.match(result.stdout.splitlines()[-1]).groups())
    assert (passed, failed, skipped) == (len(found), 0, 0)
    assert passed >= 39
    for name in (
        "IDLE with a second connection",
        "remove throwaway folder",
        "move (use_uid=False)",
    ):
        assert found[name] == ("PASS", "")
    mode = {"DEFAULT": "plaintext", "tls": "TLS", "starttls": "STARTTLS"}[section]
    assert (
        f":{imap_account.tls_port if section == 'tls' else imap_account.port} ({mode})"
        in (result.stdout.splitlines()[0])
    )

    folder = throwaway_folder(result.stdout)
    assert folder.startswith(FOLDER_PREFIX)
    assert snapshot(imap_account) == before  # nothing outside the throwaway folder changed
    with IMAPClient(imap_account.host, port=imap_account.port, ssl=False) as client:
        client.login(imap_account.username, imap_account.password)
        assert client.folder_exists(folder) is False
        assert [name for *_, name in client.list_folders() if FOLDER_PREFIX in name] == []


def test_livetest_skips_what_the_server_lacks(config_file: Path, imap_account: Any) -> None:
    seed_inbox(imap_account)
    before = snapshot(imap_account)
    result = run_livetest(str(config_file), "--section", "limited")
    assert result.returncode == 0, result.stdout + result.stderr
    found = results(result.stdout)
    skipped = {name: detail for name, (status, detail) in found.items() if status == "SKIP"}
    assert skipped == LIMITED_SKIPS
    assert all(status in ("PASS", "SKIP") for status, _ in found.values())
    for name in ("expunge (use_uid=True)", "search with UTF-8 charset (use_uid=False)"):
        assert found[name] == ("PASS", "")
    last = result.stdout.splitlines()[-1]
    assert (
        last == f"{len(found) - len(LIMITED_SKIPS)} passed, 0 failed, {len(LIMITED_SKIPS)} skipped"
    )
    assert "SKIP sort (use_uid=True): server has no SORT capability\n" in result.stdout
    assert snapshot(imap_account) == before


def test_wrong_password_fails_clearly(config_file: Path, imap_account: Any) -> None:
    result = run_livetest(str(config_file), "--section", "wrong-password")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[1:] == [
        f"FAIL connect and log in: login as {imap_account.username} refused: LOGIN failed: "
        "NO [AUTHENTICATIONFAILED] Authentication failed.",
        "0 passed, 1 failed, 0 skipped",
    ]
    assert imap_account.password not in result.stdout + result.stderr


def test_a_bad_configuration_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.ini"
    path.write_text("[DEFAULT]\nhost = imap.example.com\nport = nine\n")
    result = run_livetest(str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(
        f"python -m imapclient.livetest: error: configuration file {str(path)!r}, "
        "section [DEFAULT], option 'port': "
    )
    result = run_livetest(str(path), "--section", "nope")
    assert result.returncode == 2
    assert "section [nope]: no such section" in result.stderr


# -- the checks detect a misbehaving client, and clean up anyway --------------------------------


def run_in_process(config_file: Path, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    status = livetest.main([str(config_file), *args], out=out)
    return status, out.getvalue()


def test_wrong_answers_fail_with_expected_and_actual(
    config_file: Path, imap_account: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_search = IMAPClient.search

    def search_dropping_the_last(self: IMAPClient, *args: Any, **kwargs: Any) -> Any:
        ids = real_search(self, *args, **kwargs)
        return ids[:-1] if args == ("ALL",) else ids  # only when 'ALL' is given explicitly

    monkeypatch.setattr(IMAPClient, "search", search_dropping_the_last)
    status, output = run_in_process(config_file)
    assert status == 1
    found = results(output)
    failed = {name: detail for name, (status, detail) in found.items() if status == "FAIL"}
    assert failed.keys() == {"search (use_uid=True)", "search (use_uid=False)"}
    assert failed["search (use_uid=False)"] == "search('ALL'): expected [1, 2, 3], got [1, 2]"
    uids = re.fullmatch(
        r"search\('ALL'\): expected \[(\d+), (\d+), (\d+)\], got \[(\d+), (\d+)\]",
        failed["search (use_uid=True)"],
    )
    assert uids, failed["search (use_uid=True)"]
    assert uids.group(1, 2) == uids.group(4, 5) and uids.group(1) != "1"  # UIDs, not numbers
    assert found["remove throwaway folder"] == ("PASS", "")
    assert output.splitlines()[-1] == (
        f"{sum(s == 'PASS' for s, _ in found.values())} passed, "
        f"{sum(s == 'FAIL' for s, _ in found.values())} failed, "
        f"{sum(s == 'SKIP' for s, _ in found.values())} skipped"
    )
    with IMAPClient(imap_account.host, port=imap_account.port, ssl=False) as client:
        client.login(imap_account.username, imap_account.password)
        assert [n for *_, n in client.list_folders() if n.startswith(FOLDER_PREFIX)] == []


def test_a_broken_connection_is_a_failure_and_the_folder_is_still_removed(
    config_file: Path, imap_account: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def sort_breaks_the_connection(self: IMAPClient, *args: Any, **kwargs: Any) -> Any:
        self.shutdown()  # as if the server had hung up
        return self.noop()

    monkeypatch.setattr(IMAPClient, "sort", sort_breaks_the_connection)
    status, output = run_in_process(config_file)
    assert status == 1
    found = results(output)
    assert found["sort (use_uid=True)"][0] == "FAIL"
    assert found["sort (use_uid=True)"][1].startswith("IMAPClientAbortError: ")
    # The next check gets a new connection.
    assert found["thread (use_uid=True)"] == ("PASS", "")
    assert found["remove throwaway folder"] == ("PASS", "")


def test_an_interrupted_run_removes_its_folder(
    config_file: Path, imap_account: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(self: IMAPClient, *args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(IMAPClient, "thread", interrupted)
    status, output = run_in_process(config_file)
    assert status == 130
    lines = output.splitlines()
    assert lines[-3:-1] == ["PASS remove throwaway folder", "interrupted"]
    assert "thread (use_uid=True)" not in output
    with IMAPClient(imap_account.host, port=imap_account.port, ssl=False) as client:
        client.login(imap_account.username, imap_account.password)
        assert [n for *_, n in client.list_folders() if n.startswith(FOLDER_PREFIX)] == []
