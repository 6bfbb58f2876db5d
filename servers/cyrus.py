"""A private Cyrus IMAP server for the test suite, shaped like servers/dovecot.py.

Debian's ``cyrus-imapd`` conflicts with ``dovecot-imapd`` (both provide
``imap-server``) and Dovecot must stay installed, so Cyrus is never installed
with apt: ensure_installed() downloads its .deb files with ``apt-get
download``, unpacks them with ``dpkg -x`` into a private root under
``/var/cache/imapclient-test-servers/cyrus`` (IMAPCLIENT_SERVERS_CACHE moves
it) and apt-installs only the shared libraries they need, which conflict
with nothing.  The binaries run from there with LD_LIBRARY_PATH.

Every Cyrus program is given ``-C imapd.conf`` of the state directory, so
nothing reads or changes the machine's /etc/imapd.conf or /etc/cyrus.conf.
It listens on 127.0.0.1 only, on ports picked at start-up.

Layout of the state directory::

    imapd.conf      the generated Cyrus configuration (``-C``)
    cyrus.conf      the generated master configuration (``-M``)
    server.json     connection facts of the last start (its ports are reused)
    users.json      users and passwords (the admin is not among them)
    admin.json      the admin's name and password
    sasldb2         the same users for SASL (written with saslpasswd2)
    lib/            configdirectory: mailboxes.db, quotas, seen state ...
    spool/          partition-default: the mail
    run/            master.pid, supervisor.pid, proc/, lock/, sockets
    log/            cyrus.log (everything Cyrus logs), master.log, startup.log
    tls/            private CA, server certificates and keys (as for Dovecot)

How it runs.  Cyrus refuses to run as root and logs only through syslog(3),
and the state directory may sit below a directory that only root may enter
(pytest's temporary directories are mode 0700).  So the master runs in a
user namespace in which the system user ``mail`` is mapped to root: inside,
Cyrus is the unprivileged "cyrus user" it wants to be; outside, its files
belong to root and it can reach the state directory.  The same unshare(1)
call makes a private mount namespace whose /dev is a small tmpfs holding the
usual device nodes and a /dev/log that leads to a datagram socket in run/;
a small supervisor process (this file, ``_supervise``) reads that socket
into log/cyrus.log.  The machine's own /dev and /dev/log are not touched.
The namespace satisfies Cyrus's uid check; it is no sandbox: being root's
files' owner, the Cyrus processes may change what root may (all
capabilities are dropped, though), as a root-run test server would.

kick() ends a user's imapd processes; Cyrus then drops the connection
without a BYE.  There is no pre-authenticated mode over a pipe.

Users authenticate against sasldb2 (auxprop), so PLAIN, LOGIN, CRAM-MD5,
SCRAM-SHA-1 and SCRAM-SHA-256 all work with real passwords; a wrong password
fails at once (failedloginpause 0).  A user's INBOX (with Drafts, Sent,
Trash, Junk and Archive, special-use flags set, and a 100 MiB quota) is
created at the user's first login; new_account() logs in once to do that.
Mail is seeded over IMAP (APPEND as the user, so that \\Seen is the user's):
Cyrus does not support writing its storage directly.

Use it from Python::

    with CyrusServer(Path("/tmp/state")) as server:
        account = server.new_account()
        account.seed([b"Subject: hi\\r\\n\\r\\nhello\\r\\n"])
        ...  # connect to account.host, account.port / account.tls_port

or from the shell::

    python servers/cyrus.py start --state-dir DIR       # prints JSON
    python servers/cyrus.py seed-sample --state-dir DIR --user alice
    python servers/cyrus.py stop --state-dir DIR

Only the standard library is used.  Installing and starting need root.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import email.parser
import email.policy
import email.utils
import fcntl
import imaplib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template

if __package__ in (None, ""):  # run as a script: make ``servers`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from servers._common import PrivateServer, ServerAccount, check_ports
from servers.dovecot import CERT_CHOICES, generate_tls, sample_messages

__all__ = [
    "ADMIN_USER",
    "CYRUS_LIBRARIES",
    "CYRUS_PACKAGES",
    "DEFAULT_PASSWORD",
    "DEFAULT_USER",
    "CyrusAccount",
    "CyrusError",
    "CyrusServer",
    "ServerSetupError",
    "ensure_installed",
    "install_private_packages",
    "is_installed",
]

HOST = "127.0.0.1"
DEFAULT_USER = "alice"
DEFAULT_PASSWORD = "alice-secret"
ADMIN_USER = "cyrusadmin"

#: Debian 12 packages unpacked into the private root (never apt-installed).
CYRUS_PACKAGES = ("cyrus-common", "cyrus-imapd", "sasl2-bin")
#: Packages apt-installs: the shared libraries of master, imapd, idled,
#: ctl_cyrusdb and saslpasswd2 (and the SASL plugins), and the openssl CLI
#: for the certificates.  None of them conflicts with Dovecot.
CYRUS_LIBRARIES = (
    "libc6", "libcom-err2", "libdb5.3", "libgcc-s1", "libical3", "libicu72", "libjansson4",
    "libkrb5-3", "libpcre3", "libpq5", "libsasl2-2", "libsasl2-modules",
    "libsasl2-modules-db", "libsqlite3-0", "libssl3", "libstdc++6", "libwrap0",
    "libxapian30", "libxml2", "zlib1g", "openssl",
)
#: Programs of the private root that must start (checked with ldd after installing).
CYRUS_PROGRAMS = (
    "usr/lib/cyrus/bin/master", "usr/lib/cyrus/bin/imapd", "usr/lib/cyrus/bin/idled",
    "usr/lib/cyrus/bin/ctl_cyrusdb", "usr/sbin/saslpasswd2",
)

CACHE_DIR = Path(os.environ.get("IMAPCLIENT_SERVERS_CACHE", "/var/cache/imapclient-test-servers"))
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: The system user that is the "cyrus user" inside the user namespace.
NAMESPACE_USER = "mail"
#: SASL realm of the users: Cyrus passes its servername to SASL.
SERVERNAME = "localhost"

SAFE_PATH = re.compile(r"[A-Za-z0-9._/+-]+")
USER_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
# Unix socket paths are limited to 108 bytes; the longest below run/ is ~20.
MAX_RUN_DIR_LENGTH = 85
STOP_GRACE_SECONDS = 5.0
TIMEOUT = 10.0

#: A message to seed: its raw bytes, or its bytes and IMAP flags/keywords.
MessageSpec = bytes | tuple[bytes, Sequence[str]]

#: What this Cyrus (Debian 12, 3.6.1) advertises with the generated configuration.
#: The greeting's CAPABILITY code on the plain port is short: IMAP4rev1 LITERAL+ ID
#: ENABLE STARTTLS AUTH=PLAIN AUTH=LOGIN AUTH=CRAM-MD5 AUTH=SCRAM-SHA-1
#: AUTH=SCRAM-SHA-256 SASL-IR (the TLS port: no STARTTLS, SCRAM-SHA-*-PLUS added).
#: A CAPABILITY command before login lists everything below except LOGINDISABLED,
#: plus STARTTLS and the AUTH= mechanisms.  After login: the list below
#: (LOGINDISABLED included: no second LOGIN).
CAPABILITIES_AFTER_LOGIN = (
    "IMAP4rev1 LITERAL+ ID ENABLE ACL ANNOTATE-EXPERIMENT-1 BINARY CATENATE CHILDREN "
    "CONDSTORE CREATE-SPECIAL-USE ESEARCH ESORT LIST-EXTENDED LIST-MYRIGHTS LIST-STATUS "
    "MAILBOX-REFERRALS METADATA MOVE MULTIAPPEND NAMESPACE OBJECTID PREVIEW QRESYNC QUOTA "
    "RIGHTS=kxten SAVEDATE SEARCH=FUZZY SORT SORT=DISPLAY SPECIAL-USE STATUS=SIZE "
    "THREAD=ORDEREDSUBJECT THREAD=REFERENCES UIDPLUS UNSELECT URLAUTH URLAUTH=BINARY WITHIN "
    "DIGEST=SHA1 LIST-METADATA NO_ATOMIC_RENAME SCAN SORT=MODSEQ SORT=UID THREAD=REFS "
    "X-CREATEDMODSEQ X-REPLICATION X-SIEVE-MAILBOX XLIST XMOVE LOGINDISABLED XCONVERSATIONS "
    "COMPRESS=DEFLATE "
    "X-QUOTA=STORAGE X-QUOTA=MESSAGE X-QUOTA=X-ANNOTATION-STORAGE X-QUOTA=X-NUM-FOLDERS IDLE "
    "APPENDLIMIT=4294967295"
).split()

#: Folders every user gets at the first login, with their special-use flag.
SPECIAL_FOLDERS = {"Drafts": "drafts", "Sent": "sent", "Trash": "trash", "Junk": "junk",
                   "Archive": "archive"}
QUOTA_KIB = 102400


class ServerSetupError(RuntimeError):
    """A private server could not be installed, started, stopped or driven."""


class CyrusError(ServerSetupError):
    """Cyrus could not be installed, started, stopped or driven."""


# --------------------------------------------------------------------------
# Installation into a private root (shared with servers/courier.py)
# --------------------------------------------------------------------------


def which(name: str) -> str | None:
    """Find a program on PATH or in the system's sbin/bin directories."""
    path = os.pathsep.join(filter(None, (os.environ.get("PATH"), SYSTEM_PATH)))
    return shutil.which(name, path=path)


def run(argv: Sequence[str], *, env: dict[str, str] | None = None, input: bytes | None = None,
        cwd: Path | None = None, error: type[ServerSetupError] = ServerSetupError) -> str:
    """Run a command and return its standard output; raise `error` on failure."""
    result = subprocess.run(
        list(argv), input=input, stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True, env=env, cwd=cwd, check=False,
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).decode(errors="replace").strip()
        raise error(f"{' '.join(argv)} exited with {result.returncode}:\n{output}")
    return result.stdout.decode(errors="replace")


def library_dirs(root: Path) -> list[Path]:
    """The directories of a private root that hold shared libraries (LD_LIBRARY_PATH)."""
    candidates = [*sorted((root / "usr/lib").glob("*-linux-gnu*")), root / "usr/lib"]
    return [path for path in candidates if path.is_dir()]


def library_path(root: Path) -> str:
    """LD_LIBRARY_PATH for the programs of a private root."""
    return os.pathsep.join(str(path) for path in library_dirs(root))


def missing_libraries(root: Path, programs: Sequence[str]) -> list[str]:
    """Shared libraries that ldd cannot find for the given programs of a private root."""
    env = {"PATH": SYSTEM_PATH, "LD_LIBRARY_PATH": library_path(root)}
    missing: set[str] = set()
    for program in programs:
        output = subprocess.run(["ldd", str(root / program)], capture_output=True, env=env,
                                check=False).stdout.decode(errors="replace")
        missing.update(line.split()[0] for line in output.splitlines() if "not found" in line)
    return sorted(missing)


def not_installed(packages: Sequence[str]) -> list[str]:
    """The packages dpkg does not list as installed."""
    result = subprocess.run(
        ["dpkg-query", "-W", "-f", "${binary:Package} ${db:Status-Status}\\n", *packages],
        capture_output=True, env={"PATH": SYSTEM_PATH}, check=False,
    )
    installed = {line.split()[0].split(":")[0] for line in result.stdout.decode().splitlines()
                 if line.endswith(" installed")}
    return [package for package in packages if package not in installed]


def _apt_get(args: Sequence[str], *, cwd: Path | None = None,
             error: type[ServerSetupError]) -> None:
    """Run apt-get; on failure run apt-get update once and try again."""
    apt_get = which("apt-get")
    if apt_get is None:
        raise error("apt-get is not available")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive", "PATH": SYSTEM_PATH}
    argv = [apt_get, "-q", "-o", "DPkg::Lock::Timeout=300", *args]
    try:
        run(argv, env=env, cwd=cwd, error=error)
    except ServerSetupError:
        run([apt_get, "-q", "-o", "DPkg::Lock::Timeout=300", "update"], env=env, error=error)
        run(argv, env=env, cwd=cwd, error=error)


def install_private_packages(
    name: str,
    packages: Sequence[str],
    libraries: Sequence[str],
    programs: Sequence[str],
    *,
    error: type[ServerSetupError] = ServerSetupError,
) -> Path:
    """Unpack Debian packages into a private root and apt-install their libraries.

    The root is CACHE_DIR/name/root; CACHE_DIR/name/installed.json records
    what was unpacked.  Idempotent, and fast when done (one dpkg-query);
    serialised with a lock file for concurrent callers.  The packages are
    fetched with ``apt-get download`` and unpacked with ``dpkg -x``: dpkg
    never learns of them, so they conflict with nothing; ``apt-get install``
    only sees the libraries.  Returns the root.
    """
    base = CACHE_DIR / name
    root, marker = base / "root", base / "installed.json"

    def done() -> bool:
        try:
            facts = json.loads(marker.read_text())
        except (OSError, ValueError):
            return False
        return (sorted(facts.get("packages", {})) == sorted(packages)
                and all((root / program).exists() for program in programs)
                and not not_installed(libraries))

    if done():
        return root
    if os.geteuid() != 0:
        raise error(f"{name} is not installed in {root} and installing it needs root")
    base.mkdir(parents=True, exist_ok=True)
    with (base / "install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done():  # another process installed it while we waited
            return root
        started = time.monotonic()
        print(f"Installing a private {name} into {root} ...", file=sys.stderr, flush=True)
        missing = not_installed(libraries)
        if missing:
            _apt_get(["install", "-y", "--no-install-recommends", *missing], error=error)
        with tempfile.TemporaryDirectory(dir=base) as scratch:
            debs = Path(scratch) / "debs"
            debs.mkdir()
            with contextlib.suppress(KeyError, OSError):  # let apt's sandbox user write here
                apt_user = pwd.getpwnam("_apt")
                os.chown(scratch, apt_user.pw_uid, 0)
                os.chown(debs, apt_user.pw_uid, 0)
            _apt_get(["download", *packages], cwd=debs, error=error)
            unpacked = Path(scratch) / "root"
            versions = {}
            for deb in sorted(debs.glob("*.deb")):
                run(["dpkg-deb", "-x", str(deb), str(unpacked)], env={"PATH": SYSTEM_PATH},
                    error=error)
                package, version = deb.name.split("_")[:2]
                versions[package] = version.replace("%3a", ":")
            if sorted(versions) != sorted(packages):
                raise error(f"apt-get download fetched {sorted(versions)}, not {list(packages)}")
            shutil.rmtree(root, ignore_errors=True)
            unpacked.rename(root)
        still_missing = missing_libraries(root, programs)
        if still_missing:
            raise error(f"{name}: shared libraries not found after installing: {still_missing}")
        marker.write_text(json.dumps({
            "packages": versions,
            "libraries": list(libraries),
            "seconds": round(time.monotonic() - started, 1),
        }, indent=2) + "\n")
        print(f"Installed {name} in {time.monotonic() - started:.1f} s", file=sys.stderr,
              flush=True)
    return root


def cyrus_root() -> Path:
    """The private root that Cyrus is unpacked into."""
    return CACHE_DIR / "cyrus" / "root"


def is_installed() -> bool:
    """Tell whether the private Cyrus and its libraries are in place."""
    try:
        facts = json.loads((CACHE_DIR / "cyrus" / "installed.json").read_text())
    except (OSError, ValueError):
        return False
    return (sorted(facts.get("packages", {})) == sorted(CYRUS_PACKAGES)
            and all((cyrus_root() / program).exists() for program in CYRUS_PROGRAMS)
            and not not_installed(CYRUS_LIBRARIES))


def ensure_installed() -> Path:
    """Unpack Cyrus into its private root and install its libraries, unless done."""
    return install_private_packages("cyrus", CYRUS_PACKAGES, CYRUS_LIBRARIES, CYRUS_PROGRAMS,
                                    error=CyrusError)


# --------------------------------------------------------------------------
# Helpers shared with servers/courier.py
# --------------------------------------------------------------------------


def free_ports(count: int) -> list[int]:
    """Ports on 127.0.0.1 that are free right now (all held open while picking)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in sockets]


def answers(port: int, greeting: bool) -> bool:
    """Tell whether 127.0.0.1:port accepts connections (and greets with * OK/PREAUTH)."""
    try:
        with socket.create_connection((HOST, port), timeout=2.0) as sock:
            if not greeting:
                return True
            line = sock.makefile("rb").readline()
            return line.startswith((b"* OK", b"* PREAUTH"))
    except OSError:
        return False


def process_alive(pid: int, comm: str | None = None) -> bool:
    """Tell whether pid is alive (a zombie counts as gone), optionally with that name."""
    proc = Path("/proc", str(pid))
    try:
        name = (proc / "comm").read_text().strip()
        state = (proc / "stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X") and (comm is None or name == comm)


def children(pid: int) -> list[int]:
    """The ids of the processes whose parent is pid."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                if int(stat.rpartition(")")[2].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def wait_for_exit(pid: int, timeout: float) -> bool:
    """Poll until process pid is gone (or a zombie); False on timeout."""
    deadline = time.monotonic() + timeout
    while process_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)  # polling interval
    return True


def read_pid(path: Path) -> int | None:
    """The number in a pid file, or None."""
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def date_header(raw: bytes) -> float | None:
    """The Date header of a message as a timestamp, or None."""
    value = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw).get(
        "Date")
    if value is None:
        return None
    try:
        return email.utils.parsedate_to_datetime(str(value)).timestamp()
    except (TypeError, ValueError):
        return None


def encode_mutf7(name: str) -> str:
    """A mailbox name in IMAP's modified UTF-7 (RFC 3501, 5.1.3)."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log file, for error messages."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"({path} missing)"
    return f"{path.name} tail:\n" + "\n".join(text.splitlines()[-lines:])


def split_message(item: MessageSpec) -> tuple[bytes, tuple[str, ...]]:
    """(raw bytes, flags) of a message to seed."""
    if isinstance(item, bytes):
        return item, ()
    raw, flags = item
    return raw, tuple(flags)


# --------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------


class _ConfigTemplate(Template):
    """A template with @name placeholders."""

    delimiter = "@"


IMAPD_CONF_TEMPLATE = _ConfigTemplate("""\
# Generated by servers/cyrus.py for a private test instance; rewritten on
# every start.  Every Cyrus program of this instance is run with -C naming
# this file, so the machine's /etc/imapd.conf is never read.
configdirectory: @lib_dir
defaultpartition: default
partition-default: @spool_dir
sievedir: @lib_dir/sieve
proc_path: @run_dir/proc
mboxname_lockpath: @run_dir/lock
idlesocket: @run_dir/idle
lmtpsocket: @run_dir/lmtp
notifysocket: @run_dir/notify
temp_path: @run_dir/tmp
servername: @servername
syslog_prefix: imapclient-cyrus
# The "cyrus user": inside the master's user namespace this is root outside.
cyrus_user: @cyrus_user
master_bind_errors_fatal: yes
umask: 077

admins: @admin
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: @sasldb
sasl_mech_list: PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256
# Tests try wrong passwords on purpose: answer at once.
failedloginpause: 0
maxlogins_per_user: 0
maxlogins_per_host: 0

tls_server_cert: @cert_file
tls_server_key: @key_file
tls_versions: tls1_2 tls1_3
tls_client_certs: off
tls_session_timeout: 0

# "/" separator, personal folders beside INBOX (Cyrus 3 defaults, made explicit).
unixhierarchysep: yes
altnamespace: yes
virtdomains: off

# INBOX and the special-use folders are created at the first login.
autocreate_quota: @quota
autocreate_inbox_folders: Drafts | Sent | Trash | Junk | Archive
autocreate_subscribe_folders: Drafts | Sent | Trash | Junk | Archive
xlist-drafts: Drafts
xlist-sent: Sent
xlist-trash: Trash
xlist-junk: Junk
xlist-archive: Archive
specialusealways: yes

# METADATA/ANNOTATE entries of any name, conversations for THREADID (OBJECTID).
annotation_allow_undefined: yes
conversations: yes
# IDLE: idled pushes changes; polling every second is the fallback.
imapidlepoll: 1
""")

CYRUS_CONF_TEMPLATE = _ConfigTemplate("""\
# Generated by servers/cyrus.py: the master's configuration (-M), rewritten on
# every start.  Services listen on 127.0.0.1 only.
START {
  recover cmd="@bin_dir/ctl_cyrusdb -C @imapd_conf -r"
}
SERVICES {
  imap cmd="@bin_dir/imapd -C @imapd_conf" listen="127.0.0.1:@port" prefork=1 maxchild=1000
  imaps cmd="@bin_dir/imapd -s -C @imapd_conf" listen="127.0.0.1:@tls_port" prefork=1 maxchild=1000
}
EVENTS {
  checkpoint cmd="@bin_dir/ctl_cyrusdb -C @imapd_conf -c" period=30
}
DAEMON {
  idled cmd="@bin_dir/idled -C @imapd_conf"
}
""")

# Run by sh inside the new user and mount namespaces, still with their
# capabilities: give the namespace its own /dev with /dev/log leading to the
# supervisor's socket, then drop every capability and exec the master.
NAMESPACE_SCRIPT = """\
set -e
run_dir=$1; shift
mount --rbind /dev "$run_dir/hostdev"
mount -t tmpfs -o mode=0755,size=64k imapclient-dev /dev
for node in null zero full random urandom tty; do
  if [ -e "$run_dir/hostdev/$node" ]; then
    : > "/dev/$node"
    mount --bind "$run_dir/hostdev/$node" "/dev/$node"
  fi
done
umount -l "$run_dir/hostdev"
mkdir /dev/shm
mount -t tmpfs -o mode=1777,size=16m imapclient-shm /dev/shm
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
ln -s "$run_dir/syslog.sock" /dev/log
exec setpriv --inh-caps=-all --ambient-caps=-all --bounding-set=-all -- "$@"
"""


# --------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class CyrusAccount(ServerAccount):
    """One user on a CyrusServer (its seed() APPENDs as the user)."""

    server: CyrusServer


class CyrusServer(PrivateServer):
    """A private Cyrus IMAP instance under one state directory.

    Constructing it touches nothing; start() installs Cyrus if needed,
    writes the configuration and starts the master.  Another CyrusServer
    for the same state directory (another process, say) can stop() it,
    seed() it or add users.
    """

    host: str = HOST

    def __init__(
        self,
        state_dir: Path,
        cert: str = "localhost",
        *,
        port: int = 0,
        tls_port: int = 0,
        start_timeout: float = 30.0,
    ) -> None:
        """Describe the server; nothing is started yet.

        state_dir: where everything lives; created if missing.
        cert: which server certificate to present, one of CERT_CHOICES.
        port, tls_port: fixed ports, both or neither; by default free ones
            are picked at the first start and kept for restarts while free.
        start_timeout: seconds start() and stop() wait for the server.
        """
        if cert not in CERT_CHOICES:
            raise ValueError(f"cert must be one of {CERT_CHOICES}, not {cert!r}")
        check_ports(port, tls_port)
        self.state_dir = Path(state_dir).absolute()
        self.cert = cert
        self.start_timeout = start_timeout
        self._fixed_ports = bool(port or tls_port)
        self.port = port
        self.tls_port = tls_port
        self._lock = threading.Lock()
        self._supervisor: subprocess.Popen[bytes] | None = None
        if not self._fixed_ports and self.facts_file.exists():
            saved = json.loads(self.facts_file.read_text())
            self.port, self.tls_port = int(saved["port"]), int(saved["tls_port"])

    # -- paths ---------------------------------------------------------------

    @property
    def config_file(self) -> Path:
        """The generated imapd.conf (every Cyrus program gets ``-C`` with it)."""
        return self.state_dir / "imapd.conf"

    @property
    def master_config_file(self) -> Path:
        """The generated cyrus.conf (the master's ``-M``)."""
        return self.state_dir / "cyrus.conf"

    @property
    def facts_file(self) -> Path:
        """JSON file with the connection facts of the last start."""
        return self.state_dir / "server.json"

    @property
    def users_file(self) -> Path:
        """JSON object of the users and their passwords."""
        return self.state_dir / "users.json"

    @property
    def admin_file(self) -> Path:
        """JSON object with the admin's name and password."""
        return self.state_dir / "admin.json"

    @property
    def sasldb(self) -> Path:
        """The SASL user database that Cyrus checks passwords against."""
        return self.state_dir / "sasldb2"

    @property
    def lib_dir(self) -> Path:
        """Cyrus's configdirectory."""
        return self.state_dir / "lib"

    @property
    def spool_dir(self) -> Path:
        """The default partition: the mail."""
        return self.state_dir / "spool"

    @property
    def run_dir(self) -> Path:
        """Pid files, the process registry (proc/), locks and sockets."""
        return self.state_dir / "run"

    @property
    def log_dir(self) -> Path:
        """Directory of the logs."""
        return self.state_dir / "log"

    @property
    def log_file(self) -> Path:
        """Everything Cyrus sends to syslog: logins, errors, ..."""
        return self.log_dir / "cyrus.log"

    @property
    def root(self) -> Path:
        """The private root with the unpacked Cyrus packages."""
        return cyrus_root()

    @property
    def bin_dir(self) -> Path:
        """Directory of master, imapd and the other Cyrus programs."""
        return self.root / "usr/lib/cyrus/bin"

    # -- admin and users -----------------------------------------------------------

    @property
    def admin_user(self) -> str:
        """The Cyrus admin (``admins:``): may create and delete any mailbox."""
        return ADMIN_USER

    @property
    def admin_password(self) -> str:
        """The admin's password, made at the first start."""
        try:
            return str(json.loads(self.admin_file.read_text())["password"])
        except (OSError, ValueError, KeyError):
            raise CyrusError("no admin yet: start the server first") from None

    def users(self) -> dict[str, str]:
        """The users (not the admin) and their passwords."""
        try:
            return dict(json.loads(self.users_file.read_text()))
        except FileNotFoundError:
            return {}

    def add_user(self, name: str, password: str) -> None:
        """Add a user, or change the password of an existing one.

        Works while the server runs.  The user's INBOX is created at its
        first login; when the server runs, this logs in once to do that.
        """
        if not USER_NAME.fullmatch(name) or name == ADMIN_USER:
            raise ValueError(f"unsupported user name {name!r}")
        if not password or any(char in password for char in "\r\n\0"):
            raise ValueError("passwords must be non-empty and free of NUL and line breaks")
        with self._lock:
            self._set_sasl_password(name, password)
            users = self.users()
            users[name] = password
            self._write_json(self.users_file, users)
        if self.is_running():
            with self.connect(name, password):
                pass  # the login creates INBOX and the special-use folders

    def new_account(self, prefix: str = "user") -> CyrusAccount:
        """Create a user with a unique name and a random password (and its INBOX)."""
        name = f"{prefix}-{secrets.token_hex(4)}"
        password = secrets.token_urlsafe(12)
        self.add_user(name, password)
        return CyrusAccount(self, name, password)

    def _set_sasl_password(self, name: str, password: str) -> None:
        """Store a user's password in sasldb2 (saslpasswd2 -c creates or replaces)."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        run([str(self.root / "usr/sbin/saslpasswd2"), "-f", str(self.sasldb), "-u", SERVERNAME,
             "-p", "-c", name], input=password.encode(), env=self._env(), error=CyrusError)

    @staticmethod
    def _write_json(path: Path, value: object) -> None:
        """Replace a JSON file atomically, readable by root only."""
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(value, indent=2) + "\n")
        temporary.chmod(0o600)
        temporary.replace(path)

    def _env(self) -> dict[str, str]:
        """Environment of the Cyrus programs."""
        return {"PATH": SYSTEM_PATH, "LD_LIBRARY_PATH": library_path(self.root)}

    # -- lifecycle ------------------------------------------------------------

    def pid(self) -> int | None:
        """The master process id, or None when the server is not running."""
        pid = read_pid(self.run_dir / "master.pid")
        return pid if pid is not None and process_alive(pid, "master") else None

    def is_running(self) -> bool:
        """Tell whether this state directory's Cyrus master is alive."""
        return self.pid() is not None

    def start(self) -> None:
        """Write the configuration, start Cyrus and wait until both ports answer."""
        if os.geteuid() != 0:
            raise CyrusError("the private Cyrus must be started as root")
        ensure_installed()
        if self.is_running():
            raise CyrusError(f"Cyrus is already running for {self.state_dir}; stop it first")
        self._prepare_state_dir()
        if self.users().get(DEFAULT_USER) != DEFAULT_PASSWORD:
            self.add_user(DEFAULT_USER, DEFAULT_PASSWORD)

        attempts = 1 if self._fixed_ports else 3
        for attempt in range(attempts):
            if not self._fixed_ports and (attempt or not (self.port and self.tls_port)):
                self.port, self.tls_port = free_ports(2)
            self.config_file.write_text(self._render(IMAPD_CONF_TEMPLATE))
            self.master_config_file.write_text(self._render(CYRUS_CONF_TEMPLATE))
            try:
                self._launch()
                break
            except CyrusError as error:
                if attempt + 1 == attempts or "in use" not in str(error):
                    raise
        self.facts_file.write_text(json.dumps(self.facts(), indent=2) + "\n")
        # The users' INBOXes: created at the first login (they may predate this start).
        for name, password in self.users().items():
            with self.connect(name, password):
                pass

    def stop(self) -> None:
        """Stop the master and its processes, and wait until they are gone.

        Does nothing when it is not running.  Connected clients are cut off.
        """
        pid = self.pid()
        supervisor = read_pid(self.run_dir / "supervisor.pid")
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            if not wait_for_exit(pid, STOP_GRACE_SECONDS):
                for process in [*children(pid), pid]:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(process, signal.SIGKILL)
                if not wait_for_exit(pid, self.start_timeout):
                    raise CyrusError(f"Cyrus master {pid} did not exit")
        if supervisor is not None and process_alive(supervisor):
            # It exits by itself once the master is gone; this is a fallback.
            if not wait_for_exit(supervisor, 2.0):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(supervisor, signal.SIGKILL)
        if self._supervisor is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._supervisor.wait(timeout=2.0)
            self._supervisor = None

    def facts(self) -> dict[str, object]:
        """The connection facts: host, ports, CA file, users, admin and more."""
        admin_password: str | None
        try:
            admin_password = self.admin_password
        except CyrusError:
            admin_password = None
        return {
            "host": self.host,
            "port": self.port,
            "tls_port": self.tls_port,
            "ca_file": str(self.ca_file),
            "cert": self.cert,
            "users": self.users(),
            "admin_user": self.admin_user,
            "admin_password": admin_password,
            "state_dir": str(self.state_dir),
            "config_file": str(self.config_file),
            "log_file": str(self.log_file),
            "pid": self.pid(),
        }

    def _prepare_state_dir(self) -> None:
        """Create the directories, the admin and the TLS material; check paths."""
        if not SAFE_PATH.fullmatch(str(self.state_dir)):
            raise CyrusError(f"unsupported characters in state directory {self.state_dir}")
        if len(str(self.run_dir)) > MAX_RUN_DIR_LENGTH:
            raise CyrusError(f"state directory path too long for Unix sockets: {self.state_dir}")
        try:
            pwd.getpwnam(NAMESPACE_USER)
        except KeyError:
            raise CyrusError(f"system user {NAMESPACE_USER!r} does not exist") from None
        for directory in (
            self.state_dir, self.spool_dir, self.log_dir, self.run_dir,
            self.run_dir / "proc", self.run_dir / "lock", self.run_dir / "tmp",
            self.run_dir / "hostdev", *(self.lib_dir / sub for sub in (
                "db", "socket", "log", "msg", "ptclient", "quota", "user", "sieve", "lock")),
        ):
            directory.mkdir(parents=True, exist_ok=True)
        generate_tls(self.tls_dir)
        if not self.admin_file.exists():
            password = secrets.token_urlsafe(12)
            self._set_sasl_password(ADMIN_USER, password)
            self._write_json(self.admin_file, {"user": ADMIN_USER, "password": password})

    def _render(self, template: _ConfigTemplate) -> str:
        """A configuration file's text for the current settings."""
        return template.substitute(
            lib_dir=self.lib_dir,
            spool_dir=self.spool_dir,
            run_dir=self.run_dir,
            servername=SERVERNAME,
            cyrus_user=NAMESPACE_USER,
            admin=ADMIN_USER,
            sasldb=self.sasldb,
            cert_file=self.cert_file,
            key_file=self.key_file,
            quota=QUOTA_KIB,
            bin_dir=self.bin_dir,
            imapd_conf=self.config_file,
            port=self.port,
            tls_port=self.tls_port,
        )

    def master_argv(self) -> list[str]:
        """The master's command line (it stays in the foreground)."""
        return [str(self.bin_dir / "master"), "-C", str(self.config_file),
                "-M", str(self.master_config_file), "-p", str(self.run_dir / "master.pid"),
                "-L", str(self.log_dir / "master.log")]

    def namespace_argv(self) -> list[str]:
        """unshare(1) + sh + setpriv(1) + master: see the module's docstring."""
        entry = pwd.getpwnam(NAMESPACE_USER)
        unshare = which("unshare") or "unshare"
        return [unshare, "--user", f"--map-user={entry.pw_uid}", f"--map-group={entry.pw_gid}",
                "--mount", "--propagation", "private", "--keep-caps",
                "/bin/sh", "-c", NAMESPACE_SCRIPT, "cyrus-namespace", str(self.run_dir),
                *self.master_argv()]

    def _launch(self) -> None:
        """Start the supervisor (which starts the master) and wait until Cyrus answers."""
        for stale in ("master.pid", "supervisor.pid"):
            (self.run_dir / stale).unlink(missing_ok=True)
        startup_log = self.log_dir / "startup.log"
        with startup_log.open("wb") as output:
            self._supervisor = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), "_supervise",
                 "--state-dir", str(self.state_dir)],
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True, close_fds=True,
            )
        deadline = time.monotonic() + self.start_timeout
        pending = [self.port, self.tls_port]
        while pending:
            if self._supervisor.poll() is not None:
                self._supervisor = None
                raise CyrusError(f"Cyrus exited during start-up\n{self._log_tails()}")
            pending = [port for port in pending if not answers(port, port == self.port)]
            if pending and time.monotonic() > deadline:
                self.stop()
                raise CyrusError(f"Cyrus did not accept connections on {pending} within "
                                 f"{self.start_timeout} s\n{self._log_tails()}")
            if pending:
                time.sleep(0.05)  # polling interval

    def _log_tails(self) -> str:
        """The ends of the logs, for error messages."""
        return "\n".join(tail(self.log_dir / name) for name in
                         ("startup.log", "master.log", "cyrus.log"))

    # -- IMAP access ------------------------------------------------------------

    @contextlib.contextmanager
    def connect(self, user: str | None = None, password: str | None = None,
                *, tls: bool = False) -> Iterator[imaplib.IMAP4]:
        """An imaplib connection logged in as user (default: the admin); logs out after."""
        if user is None:
            user, password = ADMIN_USER, self.admin_password
        elif password is None:
            password = self.users()[user]
        client: imaplib.IMAP4
        if tls:
            context = ssl.create_default_context(cafile=str(self.ca_file))
            client = imaplib.IMAP4_SSL(self.host, self.tls_port, ssl_context=context,
                                       timeout=TIMEOUT)
        else:
            client = imaplib.IMAP4(self.host, self.port, timeout=TIMEOUT)
        try:
            client.login(user, password)
            yield client
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                client.logout()

    def capabilities(self, user: str | None = None, *, tls: bool = False) -> list[str]:
        """The capabilities advertised after logging in as user (default: the admin)."""
        with self.connect(user, tls=tls) as client:
            typ, data = client.capability()
            if typ != "OK":
                raise CyrusError(f"CAPABILITY failed: {data!r}")
            return bytes(data[0]).decode().split()

    def greeting_capabilities(self, *, tls: bool = False) -> list[str]:
        """The capabilities advertised before login (from the greeting)."""
        if tls:
            context = ssl.create_default_context(cafile=str(self.ca_file))
            client: imaplib.IMAP4 = imaplib.IMAP4_SSL(self.host, self.tls_port,
                                                      ssl_context=context, timeout=TIMEOUT)
        else:
            client = imaplib.IMAP4(self.host, self.port, timeout=TIMEOUT)
        try:
            typ, data = client.capability()
            return bytes(data[0]).decode().split() if typ == "OK" else []
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                client.logout()

    def seed(self, user: str, messages: Sequence[MessageSpec], folder: str = "INBOX") -> None:
        """APPEND messages to a user's folder over IMAP, logged in as the user.

        Each message is its raw bytes, or (bytes, flags) where flags are IMAP
        system flags or keywords (\\Recent cannot be set); bare LF line ends
        become CRLF, which Cyrus insists on.  INTERNALDATE is
        taken from the Date header when there is one.  A missing folder is
        created (and subscribed).  Messages get UIDs in list order; a
        selected mailbox shows them at its next NOOP.
        """
        password = self.users().get(user)
        if password is None:
            raise KeyError(f"no such user: {user}")
        mailbox = '"' + encode_mutf7(folder).replace("\\", "\\\\").replace('"', '\\"') + '"'
        with self.connect(user, password) as client:
            if folder.upper() != "INBOX":
                _typ, data = client.list('""', mailbox)
                if not any(item for item in data if item):
                    self._check(client.create(mailbox), "CREATE")
                    self._check(client.subscribe(mailbox), "SUBSCRIBE")
            for item in messages:
                raw, flags = split_message(item)
                raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")  # no bare LF
                if any(flag.lower() == "\\recent" for flag in flags):
                    raise ValueError("cannot seed \\Recent")
                received = date_header(raw)
                date = imaplib.Time2Internaldate(received) if received is not None else None
                flag_list = f"({' '.join(flags)})" if flags else None
                self._check(client.append(mailbox, flag_list, date, raw), "APPEND")

    @staticmethod
    def _check(response: tuple[str, Sequence[object]], command: str) -> None:
        """Raise CyrusError unless an imaplib response is OK."""
        typ, data = response
        if typ != "OK":
            raise CyrusError(f"{command} failed: {data!r}")

    # -- administration ------------------------------------------------------

    def sessions(self, user: str | None = None) -> dict[int, str]:
        """pid -> user of the imapd processes with a logged-in user (run/proc/)."""
        found: dict[int, str] = {}
        for entry in (self.run_dir / "proc").glob("[0-9]*"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = entry.read_text().split("\t")
                pid, who = int(entry.name), fields[2]
                if who and (user is None or who == user) and process_alive(pid):
                    found[pid] = who
        return found

    def kick(self, user: str) -> None:
        """Close all connections of a user and wait until their processes are gone.

        Cyrus has no kick command; its imapd processes register in run/proc/
        and end gracefully on SIGTERM, dropping the connection.
        """
        pids = list(self.sessions(user))
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for pid in pids:
            if not wait_for_exit(pid, TIMEOUT):
                raise CyrusError(f"imapd {pid} of {user} did not exit")

    def preauth_command(self, user: str) -> tuple[list[str], dict[str, str]]:
        """Not offered: Cyrus's imapd has no pre-authenticated stdin/stdout mode."""
        raise NotImplementedError("Cyrus's imapd cannot run pre-authenticated on a pipe")


# --------------------------------------------------------------------------
# The supervisor: runs the master in its namespaces and writes its syslog
# --------------------------------------------------------------------------


def _supervise(state_dir: Path) -> int:
    """Receive the master's syslog datagrams into log/cyrus.log until it exits.

    Runs detached from whoever started the server; SIGTERM or SIGINT is
    passed on to the master, which then stops its processes and exits.
    """
    server = CyrusServer(state_dir)
    (server.run_dir / "supervisor.pid").write_text(f"{os.getpid()}\n")
    address = server.run_dir / "syslog.sock"
    address.unlink(missing_ok=True)
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    # Bind by a short relative name: the full path may exceed 108 bytes.
    os.chdir(server.run_dir)
    receiver.bind(address.name)
    receiver.settimeout(0.2)
    os.chdir("/")
    master = subprocess.Popen(
        server.namespace_argv(), stdin=subprocess.DEVNULL, env=server._env(), close_fds=True)

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            master.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    with server.log_file.open("ab", buffering=0) as log:
        while True:
            try:
                datagram = receiver.recv(65536)
            except TimeoutError:
                if master.poll() is not None:
                    break
                continue
            # "<PRI>Mmm dd hh:mm:ss tag[pid]: text": drop the priority, keep the rest.
            log.write(re.sub(rb"^<\d+>", b"", datagram).rstrip(b"\0\n") + b"\n")
    receiver.close()
    address.unlink(missing_ok=True)
    (server.run_dir / "supervisor.pid").unlink(missing_ok=True)
    return master.returncode or 0


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: start, stop or seed a private Cyrus."""
    parser = argparse.ArgumentParser(description="Run a private Cyrus IMAP server.")
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="start it and print the connection facts as JSON")
    start.add_argument("--cert", choices=CERT_CHOICES, default="localhost")
    commands.add_parser("stop", help="stop it (nothing to do if it is not running)")
    commands.add_parser("install", help="only unpack Cyrus and install its libraries")
    seed = commands.add_parser("seed-sample", help="put sample messages into a user's INBOX")
    seed.add_argument("--user", default=DEFAULT_USER)
    commands.add_parser("_supervise", help=argparse.SUPPRESS)
    for name, command in commands.choices.items():
        if name != "install":
            command.add_argument("--state-dir", type=Path, required=True)
    args = parser.parse_args(argv)

    try:
        if args.command == "start":
            server = CyrusServer(args.state_dir, cert=args.cert)
            server.start()
            print(json.dumps(server.facts(), indent=2))
        elif args.command == "stop":
            CyrusServer(args.state_dir).stop()
        elif args.command == "install":
            print(ensure_installed())
        elif args.command == "_supervise":
            return _supervise(args.state_dir)
        else:
            messages = sample_messages()
            CyrusServer(args.state_dir).seed(args.user, messages)
            print(f"seeded {len(messages)} messages into {args.user}'s INBOX")
    except (ServerSetupError, KeyError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
