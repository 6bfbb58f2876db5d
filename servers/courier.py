"""A private Courier IMAP server for the test suite: pre-authenticated sessions.

Debian's ``courier-imap`` conflicts with ``dovecot-imapd`` (both provide
``imap-server``), so, as for Cyrus, ensure_installed() unpacks its .deb files
into a private root under ``/var/cache/imapclient-test-servers/courier``
(IMAPCLIENT_SERVERS_CACHE moves it) and apt-installs only the shared
libraries; see servers/cyrus.py, whose installer this module uses.

Courier's LOGIN goes through authdaemond, whose socket and configuration
paths are compiled in (/run/courier/authdaemon, /etc/courier).  This
instance leaves all of that alone and runs Courier's ``imapd``
pre-authenticated instead: with the ``AUTHENTICATED`` environment variable
set to the user and the user's maildir as its argument, ``imapd`` greets
with ``* PREAUTH`` and serves that maildir.  The configuration that
/etc/courier/imapd would hold is passed in the environment (IMAP_CAPABILITY
and friends), so nothing under /etc/courier is read.

Two ways in:

* ``preauth_command(user)`` gives argv and environment that a client runs
  itself, speaking IMAP on the process's stdin/stdout (imaplib.IMAP4_stream,
  or a client's stream=True).
* Over TCP: every user has a ``couriertcpd`` listening on 127.0.0.1 on two
  ports of its own: a plain one and an implicit-TLS one (``couriertls``, with
  a certificate signed by the private CA of servers/dovecot.py).  Whoever
  connects is that user, already authenticated: the client sends no LOGIN.
  ``server.port``/``server.tls_port`` are the default user's (alice);
  ``account.port``/``account.tls_port`` are each account's.

Layout of the state directory::

    server.json     connection facts of the last start
    users.json      users and their ports (kept for restarts while free)
    mail/USER/Maildir   each user's maildir ("INBOX." namespace, "." separator)
    shared/index    the (empty) shared-folder index
    run/            USER.pid: the pid of each user's couriertcpd
    log/            courier.log (imapd's log lines), startup.log
    tls/            private CA, certificates, and courier-CERT.pem (key + cert)

The processes run as root (Courier's imapd allows it; it only ever serves
the maildirs below the state directory).

What this Courier (Debian 12: Courier-IMAP 5.0.13) offers is CAPABILITIES:
no MOVE, CONDSTORE/QRESYNC, SPECIAL-USE, LIST-EXTENDED or METADATA (a LIST
with selection options ignores them).  IDLE looks for changes every second
(IMAP_ENHANCEDIDLE is off, so no Gamin daemon is started).  kick() makes the
user's imapd processes say ``* BYE`` and exit.

Use it from Python::

    with CourierServer(Path("/tmp/state")) as server:
        account = server.new_account()
        account.seed([b"Subject: hi\\r\\n\\r\\nhello\\r\\n"])
        ...  # connect to account.host, account.port: the greeting is * PREAUTH

or from the shell::

    python servers/courier.py start --state-dir DIR       # prints JSON
    python servers/courier.py seed-sample --state-dir DIR --user alice
    python servers/courier.py stop --state-dir DIR

Only the standard library is used.  Installing and starting need root.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``servers`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from servers._common import PrivateServer, ServerAccount
from servers.cyrus import (
    CACHE_DIR,
    HOST,
    SYSTEM_PATH,
    MessageSpec,
    ServerSetupError,
    answers,
    children,
    date_header,
    free_ports,
    install_private_packages,
    library_path,
    not_installed,
    process_alive,
    read_pid,
    split_message,
    tail,
    wait_for_exit,
)
from servers.dovecot import CERT_CHOICES, generate_tls, sample_messages

__all__ = [
    "CAPABILITIES",
    "COURIER_LIBRARIES",
    "COURIER_PACKAGES",
    "DEFAULT_USER",
    "CourierAccount",
    "CourierError",
    "CourierServer",
    "ensure_installed",
    "is_installed",
]

DEFAULT_USER = "alice"

#: Debian 12 packages unpacked into the private root (never apt-installed):
#: imapd (courier-imap), couriertcpd, couriertls, maildirmake and maildirkw
#: (courier-base), libcourierauth that imapd links (courier-authlib), and
#: libcourier-unicode.
COURIER_PACKAGES = ("courier-imap", "courier-base", "courier-authlib", "libcourier-unicode4")
#: Packages apt-installs: the shared libraries of those programs (libgamin0
#: provides libfam.so.0 and pulls in gamin), and openssl for the certificates.
COURIER_LIBRARIES = (
    "libc6", "libgamin0", "libgdbm6", "libgnutls30", "libidn12", "libpcre3", "openssl",
)
#: Programs of the private root that must start (checked with ldd after installing).
COURIER_PROGRAMS = (
    "usr/bin/imapd", "usr/sbin/couriertcpd", "usr/bin/couriertls",
    "usr/bin/maildirmake.courier", "usr/bin/maildirkw",
)

#: What imapd advertises with this configuration (no LOGIN: the session is
#: pre-authenticated, so there is nothing before login).  imapd itself adds
#: ACL ACL2=UNION (IMAP_ACL), ID (IMAP_ID_FIELDS), ENABLE and UTF8=ACCEPT.
IMAP_CAPABILITY = (
    "IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE"
)
CAPABILITIES = (*IMAP_CAPABILITY.split(), "ACL", "ACL2=UNION", "ID", "ENABLE", "UTF8=ACCEPT")

USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
#: Maildir info letters of the IMAP system flags (\Recent cannot be stored).
SYSTEM_FLAG_LETTERS = {
    "\\draft": "D",
    "\\flagged": "F",
    "\\answered": "R",
    "\\seen": "S",
    "\\deleted": "T",
}
STOP_GRACE_SECONDS = 2.0

# The program couriertcpd runs for each connection: plain imapd, or imapd
# behind couriertls on the TLS port ($TCPLOCALPORT is set by couriertcpd).
CONNECTION_SCRIPT = """\
tls_port=$1; imapd=$2; couriertls=$3; maildir=$4
if [ "$TCPLOCALPORT" = "$tls_port" ]; then
  exec "$couriertls" -server -tcpd "$imapd" "$maildir"
fi
exec "$imapd" "$maildir"
"""


class CourierError(ServerSetupError):
    """Courier could not be installed, started, stopped or driven."""


def courier_root() -> Path:
    """The private root that Courier is unpacked into."""
    return CACHE_DIR / "courier" / "root"


def is_installed() -> bool:
    """Tell whether the private Courier and its libraries are in place."""
    return ((CACHE_DIR / "courier" / "installed.json").exists()
            and all((courier_root() / program).exists() for program in COURIER_PROGRAMS)
            and not not_installed(COURIER_LIBRARIES))


def ensure_installed() -> Path:
    """Unpack Courier into its private root and install its libraries, unless done."""
    return install_private_packages("courier", COURIER_PACKAGES, COURIER_LIBRARIES,
                                    COURIER_PROGRAMS, error=CourierError)


@dataclass(frozen=True)
class CourierAccount(ServerAccount):
    """One maildir user of a CourierServer, with its own pre-authenticated ports."""

    server: CourierServer
    #: Unused: sessions are pre-authenticated (kept for the shape of Account).
    password: str = ""

    @property
    def port(self) -> int:
        """This user's plain port: the greeting is * PREAUTH."""
        return self.server.ports(self.username)[0]

    @property
    def tls_port(self) -> int:
        """This user's implicit-TLS port: * PREAUTH after the handshake."""
        return self.server.ports(self.username)[1]

    def preauth_command(self) -> tuple[list[str], dict[str, str]]:
        """argv and environment of an imapd logged in as this user (stdin/stdout)."""
        return self.server.preauth_command(self.username)


class CourierServer(PrivateServer):
    """A private Courier IMAP instance under one state directory.

    Constructing it touches nothing; start() installs Courier if needed and
    starts a listener for every user.  Another CourierServer for the same
    state directory can stop() it, seed() it or add users.
    """

    host: str = HOST

    def __init__(self, state_dir: Path, cert: str = "localhost", *,
                 start_timeout: float = 20.0) -> None:
        """Describe the server; nothing is started yet.

        state_dir: where everything lives; created if missing.
        cert: which server certificate the TLS ports present, one of CERT_CHOICES.
        start_timeout: seconds start() waits for each listener.
        """
        if cert not in CERT_CHOICES:
            raise ValueError(f"cert must be one of {CERT_CHOICES}, not {cert!r}")
        self.state_dir = Path(state_dir).absolute()
        self.cert = cert
        self.start_timeout = start_timeout
        self._lock = threading.RLock()
        self._last_seed_ns = 0
        self._listeners: dict[str, subprocess.Popen[bytes]] = {}

    # -- paths ---------------------------------------------------------------

    @property
    def facts_file(self) -> Path:
        """JSON file with the connection facts of the last start."""
        return self.state_dir / "server.json"

    @property
    def users_file(self) -> Path:
        """JSON object: user -> {"port": ..., "tls_port": ...}."""
        return self.state_dir / "users.json"

    @property
    def mail_root(self) -> Path:
        """One directory per user, each holding its Maildir."""
        return self.state_dir / "mail"

    @property
    def run_dir(self) -> Path:
        """The pid files of the listeners."""
        return self.state_dir / "run"

    @property
    def log_dir(self) -> Path:
        """Directory of the logs."""
        return self.state_dir / "log"

    @property
    def log_file(self) -> Path:
        """imapd's log lines (LOGIN, DISCONNECTED, errors) of every session over TCP."""
        return self.log_dir / "courier.log"

    @property
    def tls_cert_file(self) -> Path:
        """Key and certificate in one PEM file, as couriertls wants them."""
        return self.tls_dir / f"courier-{self.cert}.pem"

    @property
    def root(self) -> Path:
        """The private root with the unpacked Courier packages."""
        return courier_root()

    @property
    def imapd_binary(self) -> Path:
        """Courier's imapd (speaks IMAP on stdin/stdout)."""
        return self.root / "usr/bin/imapd"

    def maildir(self, user: str) -> Path:
        """A user's INBOX maildir."""
        return self.mail_root / user / "Maildir"

    # -- users -------------------------------------------------------------------

    def users(self) -> dict[str, dict[str, int]]:
        """The users and their ports (0 before the first start)."""
        try:
            return dict(json.loads(self.users_file.read_text()))
        except FileNotFoundError:
            return {}

    def ports(self, user: str) -> tuple[int, int]:
        """The (plain, TLS) ports of a user's listener."""
        try:
            entry = self.users()[user]
        except KeyError:
            raise KeyError(f"no such user: {user}") from None
        if not entry.get("port"):
            raise CourierError(f"{user} has no listener yet: start the server first")
        return int(entry["port"]), int(entry["tls_port"])

    @property
    def port(self) -> int:
        """The default user's plain port (pre-authenticated)."""
        return self.ports(DEFAULT_USER)[0]

    @property
    def tls_port(self) -> int:
        """The default user's implicit-TLS port (pre-authenticated)."""
        return self.ports(DEFAULT_USER)[1]

    def add_user(self, name: str) -> None:
        """Create a user's maildir; when the server runs, start its listener too."""
        if not USER_NAME.fullmatch(name):
            raise ValueError(f"unsupported user name {name!r}")
        with self._lock:
            users = self.users()
            if name not in users:
                users[name] = {"port": 0, "tls_port": 0}
                self._write_users(users)
            if not (self.maildir(name) / "cur").is_dir():
                self.maildir(name).parent.mkdir(parents=True, exist_ok=True)
                self._tool("maildirmake.courier", str(self.maildir(name)))
            if self.is_running() and self.listener_pid(name) is None:
                self._start_listener(name)

    def new_account(self, prefix: str = "user") -> CourierAccount:
        """Create a user with a unique name, an empty maildir and (if running) a listener."""
        name = f"{prefix}-{secrets.token_hex(4)}"
        self.add_user(name)
        return CourierAccount(self, name)

    def _write_users(self, users: dict[str, dict[str, int]]) -> None:
        """Replace users.json atomically."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        temporary = self.users_file.with_name(f".users.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(users, indent=2) + "\n")
        temporary.replace(self.users_file)

    def _tool(self, name: str, *args: str) -> str:
        """Run one of Courier's programs from the private root."""
        program = self.root / "usr/bin" / name
        result = subprocess.run([str(program), *args], stdin=subprocess.DEVNULL,
                                capture_output=True, env=self._base_env(), check=False)
        if result.returncode != 0:
            output = (result.stdout + result.stderr).decode(errors="replace").strip()
            raise CourierError(f"{name} {' '.join(args)} exited with {result.returncode}: {output}")
        return result.stdout.decode(errors="replace")

    # -- environment ---------------------------------------------------------------

    def _base_env(self) -> dict[str, str]:
        """PATH and LD_LIBRARY_PATH for the private root."""
        return {"PATH": SYSTEM_PATH, "LD_LIBRARY_PATH": library_path(self.root)}

    def imapd_env(self, user: str) -> dict[str, str]:
        """imapd's environment: the user, and what /etc/courier/imapd would set."""
        return {
            **self._base_env(),
            "AUTHENTICATED": user,
            "HOME": str(self.maildir(user).parent),
            "MAILDIR": str(self.maildir(user)),  # imapd may prefer it to its argument
            "USER": user,
            "IMAP_CAPABILITY": IMAP_CAPABILITY,
            "IMAP_KEYWORDS": "1",
            "IMAP_ACL": "1",
            "IMAP_ID_FIELDS": "1",
            # IDLE looks for changes every second (no FAM/Gamin daemon involved).
            "IMAP_USELOCKS": "1",
            "IMAP_ENHANCEDIDLE": "0",
            "IMAP_IDLE_TIMEOUT": "1",
            "IMAP_DISABLETHREADSORT": "0",
            "IMAP_CHECK_ALL_FOLDERS": "0",
            "IMAP_OBSOLETE_CLIENT": "0",
            "IMAP_MAILBOX_SANITY_CHECK": "1",
            "IMAP_TRASHFOLDERNAME": "Trash",
            "IMAP_MOVE_EXPUNGE_TO_TRASH": "0",
            "IMAP_SHAREDINDEXFILE": str(self.state_dir / "shared" / "index"),
            "IMAP_UMASK": "077",
            "SENDMAIL": "/bin/false",
            "HEADERFROM": "X-IMAP-Sender",
            "TLS_CERTFILE": str(self.tls_cert_file),
            "TLS_PROTOCOL": "TLS1_2+",
        }

    def preauth_command(self, user: str) -> tuple[list[str], dict[str, str]]:
        """argv and environment that run ``imapd`` already logged in as user.

        The process speaks IMAP on stdin/stdout, greeting with ``* PREAUTH``;
        it writes log lines to stderr.  The server need not be running; the
        user must exist.  Use the environment as it is (not merged into
        another one): it is complete.
        """
        if user not in self.users():
            raise KeyError(f"no such user: {user}")
        return [str(self.imapd_binary), str(self.maildir(user))], self.imapd_env(user)

    # -- lifecycle ------------------------------------------------------------

    def listener_pid(self, user: str) -> int | None:
        """The pid of a user's couriertcpd, or None when it is not running."""
        pid = read_pid(self.run_dir / f"{user}.pid")
        return pid if pid is not None and process_alive(pid, "couriertcpd") else None

    def is_running(self) -> bool:
        """Tell whether the default user's listener is alive."""
        return self.listener_pid(DEFAULT_USER) is not None

    def pid(self) -> int | None:
        """The default user's couriertcpd pid, or None when not running."""
        return self.listener_pid(DEFAULT_USER)

    def start(self) -> None:
        """Install if needed, make the default user and start every user's listener."""
        if os.geteuid() != 0:
            raise CourierError("the private Courier must be started as root")
        ensure_installed()
        if self.is_running():
            raise CourierError(f"Courier is already running for {self.state_dir}; stop it first")
        for directory in (self.state_dir, self.mail_root, self.run_dir, self.log_dir,
                          self.state_dir / "shared"):
            directory.mkdir(parents=True, exist_ok=True)
        (self.state_dir / "shared" / "index").touch()
        generate_tls(self.tls_dir)
        self._write_tls_cert_file()
        self.add_user(DEFAULT_USER)
        try:
            for user in self.users():
                if self.listener_pid(user) is None:
                    self._start_listener(user)
        except CourierError:
            self.stop()
            raise
        self.facts_file.write_text(json.dumps(self.facts(), indent=2) + "\n")

    def _write_tls_cert_file(self) -> None:
        """courier-CERT.pem: the key and the certificate of the chosen cert."""
        key = (self.tls_dir / f"{self.cert}.key").read_text()
        certificate = (self.tls_dir / f"{self.cert}.pem").read_text()
        temporary = self.tls_cert_file.with_name(f".{self.tls_cert_file.name}.tmp")
        temporary.write_text(key + certificate)
        temporary.chmod(0o600)
        temporary.replace(self.tls_cert_file)

    def _start_listener(self, user: str) -> None:
        """Start a couriertcpd for user on its ports (new free ones if they are taken)."""
        with self._lock:
            users = self.users()
            entry = users[user]
            for attempt in range(3):
                port, tls_port = int(entry.get("port", 0)), int(entry.get("tls_port", 0))
                if attempt or not (port and tls_port) or not self._free(port, tls_port):
                    port, tls_port = free_ports(2)
                entry.update(port=port, tls_port=tls_port)
                self._write_users(users)
                if self._launch_listener(user, port, tls_port):
                    return
            raise CourierError(f"couriertcpd for {user} did not start\n"
                               f"{tail(self.log_dir / 'startup.log')}")

    @staticmethod
    def _free(*ports: int) -> bool:
        """Tell whether nothing listens on these ports of 127.0.0.1."""
        return not any(answers(port, greeting=False) for port in ports)

    def _launch_listener(self, user: str, port: int, tls_port: int) -> bool:
        """Run couriertcpd in the foreground of a new session; wait until it answers."""
        couriertcpd = self.root / "usr/sbin/couriertcpd"
        argv = [
            str(couriertcpd), "-address=127.0.0.1", "-nodnslookup", "-noidentlookup",
            "-maxprocs=1000", "-maxperip=1000", "-maxperc=1000", "-listen=128",
            f"-stderr={self.log_file}", f"{port},{tls_port}",
            "/bin/sh", "-c", CONNECTION_SCRIPT, "courier-connection", str(tls_port),
            str(self.imapd_binary), str(self.root / "usr/bin/couriertls"),
            str(self.maildir(user)),
        ]
        with (self.log_dir / "startup.log").open("ab") as output:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=output,
                                       stderr=subprocess.STDOUT, env=self.imapd_env(user),
                                       start_new_session=True, close_fds=True)
        (self.run_dir / f"{user}.pid").write_text(f"{process.pid}\n")
        deadline = time.monotonic() + self.start_timeout
        while not (answers(port, greeting=True) and answers(tls_port, greeting=False)):
            if process.poll() is not None or time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                process.wait()
                return False
            time.sleep(0.02)  # polling interval
        self._listeners[user] = process
        return True

    def stop(self) -> None:
        """Stop every listener and the sessions they started; wait until all are gone."""
        for user in self.users():
            pid = self.listener_pid(user)
            if pid is None:
                continue
            sessions = self._descendants(pid)
            for process in [pid, *sessions]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process, signal.SIGTERM)
            for process in [pid, *sessions]:
                if not wait_for_exit(process, STOP_GRACE_SECONDS):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(process, signal.SIGKILL)
                    wait_for_exit(process, STOP_GRACE_SECONDS)
            (self.run_dir / f"{user}.pid").unlink(missing_ok=True)
        for listener in self._listeners.values():  # reap the ones this object started
            with contextlib.suppress(subprocess.TimeoutExpired):
                listener.wait(timeout=STOP_GRACE_SECONDS)
        self._listeners.clear()

    def facts(self) -> dict[str, object]:
        """The connection facts: host, ports of each user, CA file and more."""
        return {
            "host": self.host,
            "port": self.ports(DEFAULT_USER)[0] if self.is_running() else None,
            "tls_port": self.ports(DEFAULT_USER)[1] if self.is_running() else None,
            "ca_file": str(self.ca_file),
            "cert": self.cert,
            "users": self.users(),
            "preauth": True,
            "capabilities": list(CAPABILITIES),
            "state_dir": str(self.state_dir),
            "log_file": str(self.log_file),
            "pid": self.pid(),
        }

    @staticmethod
    def _descendants(pid: int) -> list[int]:
        """All processes below pid."""
        found: list[int] = []
        pending = [pid]
        while pending:
            below = children(pending.pop())
            found.extend(below)
            pending.extend(below)
        return found

    def kick(self, user: str) -> None:
        """End a user's TCP sessions (imapd says * BYE) and wait until they are gone."""
        pid = self.listener_pid(user)
        if pid is None:
            return
        sessions = self._descendants(pid)
        for process in sessions:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process, signal.SIGTERM)
        for process in sessions:
            if not wait_for_exit(process, STOP_GRACE_SECONDS * 5):
                raise CourierError(f"session process {process} of {user} did not exit")

    # -- mail -----------------------------------------------------------------

    def folder_dir(self, user: str, folder: str = "INBOX") -> Path:
        """The maildir of a user's folder, created (and subscribed) if missing.

        Folder names are those a client sees, with or without the "INBOX."
        prefix; "." separates levels.  Courier 5 keeps folder names in UTF-8
        on disk.
        """
        if user not in self.users():
            raise KeyError(f"no such user: {user}")
        maildir = self.maildir(user)
        name = folder[len("INBOX."):] if folder.upper().startswith("INBOX.") else folder
        if folder.upper() == "INBOX":
            return maildir
        if not name or "/" in name or name.startswith(".") or ".." in name or any(
                ord(char) < 0x20 for char in name):
            raise ValueError(f"unsupported folder name {folder!r}")
        path = maildir / f".{name}"
        if not (path / "cur").is_dir():
            self._tool("maildirmake.courier", "-f", name, str(maildir))
            subscribed = maildir / "courierimapsubscribed"
            with subscribed.open("a") as handle:
                handle.write(f"INBOX.{name}\n")
        return path

    def seed(self, user: str, messages: Sequence[MessageSpec], folder: str = "INBOX") -> None:
        """Write messages straight into a user's maildir, without IMAP.

        Each message is its raw bytes, or (bytes, flags) where flags are IMAP
        system flags (\\Seen, \\Answered, \\Flagged, \\Deleted, \\Draft) or
        keywords (set with Courier's maildirkw).  Messages go to cur/ with
        maildir info, line ends stored as LF as Courier wants (clients get
        CRLF), and get UIDs in list order.  INTERNALDATE (the file's
        time) is taken from the Date header when there is one.  Works while
        the server runs; a selected mailbox shows them at its next NOOP.
        """
        with self._lock:
            path = self.folder_dir(user, folder)
            for item in messages:
                raw, flags = split_message(item)
                # Courier keeps messages with bare LF line ends and sends them with CRLF.
                raw = raw.replace(b"\r\n", b"\n")
                letters, keywords = set(), []
                for flag in flags:
                    if flag.startswith("\\"):
                        try:
                            letters.add(SYSTEM_FLAG_LETTERS[flag.lower()])
                        except KeyError:
                            raise ValueError(f"cannot seed system flag {flag}") from None
                    else:
                        keywords.append(flag)
                base = f"{self._unique_name()},S={len(raw)}"
                temporary = path / "tmp" / base
                temporary.write_bytes(raw)
                temporary.chmod(0o600)
                received = date_header(raw)
                if received is not None:
                    os.utime(temporary, (received, received))
                temporary.rename(path / "cur" / f"{base}:2,{''.join(sorted(letters))}")
                if keywords:
                    self._tool("maildirkw", "-l", str(path), base, *keywords)

    def _unique_name(self) -> str:
        """A maildir base name; names sort (and so get UIDs) in creation order."""
        now = max(time.time_ns(), self._last_seed_ns + 1000)
        self._last_seed_ns = now
        seconds, nanoseconds = divmod(now, 1_000_000_000)
        return f"{seconds}.M{nanoseconds // 1000:06d}P{os.getpid()}.imapclient-seed"


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: start, stop or seed a private Courier."""
    parser = argparse.ArgumentParser(description="Run a private, pre-authenticated Courier IMAP.")
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="start it and print the connection facts as JSON")
    start.add_argument("--cert", choices=CERT_CHOICES, default="localhost")
    commands.add_parser("stop", help="stop it (nothing to do if it is not running)")
    commands.add_parser("install", help="only unpack Courier and install its libraries")
    seed = commands.add_parser("seed-sample", help="put sample messages into a user's INBOX")
    seed.add_argument("--user", default=DEFAULT_USER)
    for name, command in commands.choices.items():
        if name != "install":
            command.add_argument("--state-dir", type=Path, required=True)
    args = parser.parse_args(argv)

    try:
        if args.command == "start":
            server = CourierServer(args.state_dir, cert=args.cert)
            server.start()
            print(json.dumps(server.facts(), indent=2))
        elif args.command == "stop":
            CourierServer(args.state_dir).stop()
        elif args.command == "install":
            print(ensure_installed())
        else:
            messages = sample_messages()
            CourierServer(args.state_dir).seed(args.user, messages)
            print(f"seeded {len(messages)} messages into {args.user}'s INBOX")
    except (ServerSetupError, KeyError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
