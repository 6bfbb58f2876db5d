"""A private Dovecot IMAP server for the test suite and the demo.

The server is a separate Dovecot instance that lives entirely under a state
directory chosen by the caller: its configuration (used with ``dovecot -c``),
sockets, logs, TLS material, user list and maildirs.  It never reads or
changes the machine's own ``/etc/dovecot`` and only listens on 127.0.0.1, on
ports picked at start-up.

Layout of the state directory::

    dovecot.conf    the generated configuration
    server.json     connection facts of the last start (its ports are reused)
    users.dict      users and {PLAIN} passwords (a Dovecot file dict)
    passdb.conf.ext how Dovecot's dict passdb reads users.dict
    run/            base_dir: master.pid and the internal sockets
    lib/            state_dir
    log/            dovecot.log (everything) and startup.log
    tls/            private CA, server certificates and keys
    mail/           the mail processes' chroot, one home per user:
                    mail/USER/Maildir (maildir, LAYOUT=fs, "/" separator)

Dovecot refuses uid 0 for mail access, so the mail processes run as the
``mail`` system user.  They chroot into ``mail/`` before dropping
privileges, which lets the state directory sit below directories that only
root may enter (pytest's temporary directories are mode 0700).

Users are not kept in a passwd-file: Dovecot's passwd-file driver looks at
the file at most once a second, so a user added in the same second as the
last login would be unknown.  The dict passdb with a file dict re-reads its
file whenever it was replaced, which add_user() does atomically.

Use it from Python::

    with DovecotServer(Path("/tmp/state")) as server:
        server.add_user("bob", "bob-secret")
        server.seed("bob", [(b"Subject: hi\\r\\n\\r\\nhello\\r\\n", ["\\\\Seen"])])
        ...  # connect to server.host, server.port / server.tls_port

or from the shell::

    python servers/dovecot.py start --state-dir DIR       # prints JSON
    python servers/dovecot.py seed-sample --state-dir DIR --user alice
    python servers/dovecot.py stop --state-dir DIR

Only the standard library is used.  Installing Dovecot (with apt-get, when
it is missing) and running it need root.
"""

from __future__ import annotations

import argparse
import contextlib
import email.parser
import email.policy
import email.utils
import fcntl
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from string import Template

if __package__ in (None, ""):  # run as a script: make ``servers`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from servers._common import PrivateServer, ServerAccount, check_ports

__all__ = [
    "CERT_CHOICES",
    "DEFAULT_PASSWORD",
    "DEFAULT_USER",
    "Account",
    "DovecotError",
    "DovecotServer",
    "ensure_installed",
    "is_installed",
    "sample_messages",
]

HOST = "127.0.0.1"
DEFAULT_USER = "alice"
DEFAULT_PASSWORD = "alice-secret"

#: Server certificates a DovecotServer can present:
#: "localhost" is signed by the private CA for DNS:localhost and IP:127.0.0.1,
#: "wrong-host" is signed by the same CA but only for DNS:wrong.example,
#: "self-signed" names localhost and 127.0.0.1 but is signed by nobody.
CERT_CHOICES = ("localhost", "wrong-host", "self-signed")

APT_PACKAGES = ("dovecot-imapd", "openssl")
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
LIBEXEC_DIRS = (Path("/usr/lib/dovecot"), Path("/usr/libexec/dovecot"))
POLICY_RC_D = Path("/usr/sbin/policy-rc.d")

# Unix socket paths are limited to 108 bytes; Dovecot's longest socket name
# below base_dir is about 30 characters.
MAX_BASE_DIR_LENGTH = 75
# Characters that may appear in paths written into dovecot.conf unquoted:
# no spaces, and none of Dovecot's expansion characters ($, %).
SAFE_PATH = re.compile(r"[A-Za-z0-9._/+-]+")
USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")

#: Maildir info letters of the IMAP system flags (\Recent cannot be stored).
SYSTEM_FLAG_LETTERS = {
    "\\draft": "D",
    "\\flagged": "F",
    "\\answered": "R",
    "\\seen": "S",
    "\\deleted": "T",
}
KEYWORDS_FILE = "dovecot-keywords"
MAX_KEYWORDS = 26  # one maildir letter each: a-z
# How long stop() lets Dovecot shut down cleanly before killing its processes.
STOP_GRACE_SECONDS = 1.5

#: A message to seed: its raw bytes, or its bytes and IMAP flags/keywords.
MessageSpec = bytes | tuple[bytes, Sequence[str]]


class DovecotError(RuntimeError):
    """Dovecot could not be installed, started, stopped or driven."""


# --------------------------------------------------------------------------
# Installation
# --------------------------------------------------------------------------


def _which(name: str) -> str | None:
    """Find a program on PATH or in the system's sbin/bin directories."""
    path = os.pathsep.join(filter(None, (os.environ.get("PATH"), SYSTEM_PATH)))
    return shutil.which(name, path=path)


def _libexec(name: str) -> Path | None:
    """Find one of Dovecot's internal executables (imap, imap-login, ...)."""
    for directory in LIBEXEC_DIRS:
        candidate = directory / name
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def is_installed() -> bool:
    """Tell whether Dovecot with IMAP support and the openssl CLI are present."""
    programs = [_which(name) for name in ("dovecot", "doveadm", "openssl")]
    internals = [_libexec(name) for name in ("imap", "imap-login")]
    return all(programs) and all(internals)


@contextlib.contextmanager
def _services_blocked() -> Iterator[None]:
    """Make invoke-rc.d refuse to start services while packages install.

    A policy-rc.d that exits 101 stops the dovecot package from starting the
    machine-wide service.  An existing policy-rc.d is put back afterwards.
    """
    backup = POLICY_RC_D.with_name("policy-rc.d.imapclient-backup")
    had_policy = POLICY_RC_D.exists()
    if had_policy:
        POLICY_RC_D.replace(backup)
    POLICY_RC_D.write_text("#!/bin/sh\n# servers/dovecot.py: start no services\nexit 101\n")
    POLICY_RC_D.chmod(0o755)
    try:
        yield
    finally:
        if had_policy:
            backup.replace(POLICY_RC_D)
        else:
            POLICY_RC_D.unlink(missing_ok=True)


def ensure_installed() -> None:
    """Install dovecot-imapd and openssl with apt-get unless already there.

    Fast when they are installed.  Serialised with a lock file so that
    several test processes can call it at once.  The package is kept from
    starting the system-wide Dovecot service.
    """
    if is_installed():
        return
    if os.geteuid() != 0:
        raise DovecotError(
            "Dovecot is not installed and installing it needs root: "
            "apt-get install dovecot-imapd openssl"
        )
    apt_get = _which("apt-get")
    if apt_get is None:
        raise DovecotError("Dovecot is not installed and apt-get is not available")
    lock_path = Path(tempfile.gettempdir()) / "imapclient-dovecot-install.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_installed():  # another process installed it while we waited
            return
        print("Installing Dovecot with apt-get ...", file=sys.stderr, flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive", "PATH": SYSTEM_PATH}
        with _services_blocked():
            _run([apt_get, "update"], env=env)
            _run(
                [apt_get, "install", "-y", "--no-install-recommends", *APT_PACKAGES],
                env=env,
            )
    if not is_installed():
        raise DovecotError(f"apt-get installed {' '.join(APT_PACKAGES)} but Dovecot is incomplete")


def _run(argv: Sequence[str], *, env: dict[str, str] | None = None) -> str:
    """Run a command, returning its standard output; raise DovecotError on failure."""
    result = subprocess.run(
        list(argv), stdin=subprocess.DEVNULL, capture_output=True, env=env, check=False
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).decode(errors="replace").strip()
        raise DovecotError(f"{' '.join(argv)} exited with {result.returncode}:\n{output}")
    return result.stdout.decode(errors="replace")


# --------------------------------------------------------------------------
# TLS material
# --------------------------------------------------------------------------


def _new_key_args(key_file: Path) -> list[str]:
    """openssl arguments that create an unencrypted P-256 key (fast to make)."""
    return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(key_file)]


def _issue_certificate(tls_dir: Path, name: str, common_name: str, san: str) -> None:
    """Create NAME.key and NAME.pem signed by the private CA in tls_dir."""
    openssl = _which("openssl") or "openssl"
    key, csr, ext, pem = (tls_dir / f"{name}.{kind}" for kind in ("key", "csr", "ext", "pem"))
    _run([openssl, "req", "-new", *_new_key_args(key), "-subj", f"/CN={common_name}",
          "-out", str(csr)])
    ext.write_text(
        f"subjectAltName = {san}\n"
        "basicConstraints = critical, CA:FALSE\n"
        "keyUsage = critical, digitalSignature\n"
        "extendedKeyUsage = serverAuth\n"
        "subjectKeyIdentifier = hash\n"
        "authorityKeyIdentifier = keyid, issuer\n"
    )
    _run([openssl, "x509", "-req", "-in", str(csr), "-CA", str(tls_dir / "ca.pem"),
          "-CAkey", str(tls_dir / "ca.key"), "-set_serial", str(secrets.randbits(63)),
          "-days", "3650", "-extfile", str(ext), "-out", str(pem)])
    csr.unlink()
    ext.unlink()


def generate_tls(tls_dir: Path) -> None:
    """Create the private CA and the three server certificates, if missing.

    Files: ca.pem/ca.key, localhost.pem/.key (SAN DNS:localhost,
    IP:127.0.0.1, signed by the CA), wrong-host.pem/.key (SAN
    DNS:wrong.example, signed by the CA) and self-signed.pem/.key (SAN
    DNS:localhost, IP:127.0.0.1, signed by itself).
    """
    if all((tls_dir / f"{name}.pem").exists() for name in ("ca", *CERT_CHOICES)):
        return
    tls_dir.mkdir(parents=True, exist_ok=True)
    tls_dir.chmod(0o700)
    openssl = _which("openssl") or "openssl"
    _run([openssl, "req", "-x509", *_new_key_args(tls_dir / "ca.key"),
          "-subj", "/CN=imapclient test CA", "-days", "3650",
          "-addext", "basicConstraints = critical, CA:TRUE",
          "-addext", "keyUsage = critical, keyCertSign, cRLSign",
          "-addext", "subjectKeyIdentifier = hash",
          "-out", str(tls_dir / "ca.pem")])
    _issue_certificate(tls_dir, "localhost", "localhost", "DNS:localhost, IP:127.0.0.1")
    _issue_certificate(tls_dir, "wrong-host", "wrong.example", "DNS:wrong.example")
    _run([openssl, "req", "-x509", *_new_key_args(tls_dir / "self-signed.key"),
          "-subj", "/CN=localhost", "-days", "3650",
          "-addext", "subjectAltName = DNS:localhost, IP:127.0.0.1",
          "-addext", "basicConstraints = critical, CA:FALSE",
          "-addext", "extendedKeyUsage = serverAuth",
          "-out", str(tls_dir / "self-signed.pem")])


# --------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------


class _ConfigTemplate(Template):
    """A template with @name placeholders: dovecot.conf uses $, % and braces."""

    delimiter = "@"


CONFIG_TEMPLATE = _ConfigTemplate("""\
# Generated by servers/dovecot.py for a private test instance; rewritten on
# every start.  Nothing here refers to the machine's own /etc/dovecot.

instance_name = @instance
base_dir = @base_dir
state_dir = @lib_dir
log_path = @log_file
info_log_path = @log_file
auth_verbose = yes

protocols = imap
listen = 127.0.0.1
shutdown_clients = yes

ssl = yes
ssl_cert = <@cert_file
ssl_key = <@key_file
ssl_min_protocol = TLSv1.2

# Plaintext LOGIN is allowed on the plain port too (an ssl=False client).
disable_plaintext_auth = no
auth_mechanisms = plain login scram-sha-1 scram-sha-256
# Tests try wrong passwords on purpose: answer at once, and never slow down
# the address 127.0.0.1 (disabling the auth penalty logs one harmless error).
auth_failure_delay = 0
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}

# Users and passwords: see passdb.conf.ext.  The lookups run in the
# auth-worker process, as root, so users.dict may sit in a private directory.
passdb {
  driver = dict
  args = @passdb_conf
}
# Mail runs as a non-root user, chrooted into the mail directory ("/./").
userdb {
  driver = static
  args = uid=@mail_uid gid=@mail_gid home=@mail_root/./%u
}
first_valid_uid = @mail_uid
last_valid_uid = @mail_uid
valid_chroot_dirs = @mail_root

mail_location = maildir:~/Maildir:LAYOUT=fs
# IDLE notices changes through inotify, falling back to polling at this interval when
# inotify instances run out (fs.inotify.max_user_instances, 128 by default, is shared by
# every imap process of the mail user): keep the fallback quick for tests.
mailbox_idle_check_interval = 1 secs

# Room for the asyncio tests' 200 concurrent sessions (Dovecot's defaults cap at 100).
mail_max_userip_connections = 1000
default_process_limit = 1000
default_client_limit = 4000
mail_plugins = $mail_plugins acl quota zlib
protocol imap {
  mail_plugins = $mail_plugins imap_acl imap_quota imap_zlib
}
imap_metadata = yes
mail_attribute_dict = file:%h/dovecot-attributes
plugin {
  acl = vfile
  quota = count:User quota
  quota_rule = *:storage=100M
  quota_vsizes = yes
}

namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
  mailbox Junk {
    special_use = \\Junk
    auto = subscribe
  }
  mailbox Archive {
    special_use = \\Archive
    auto = subscribe
  }
}

service imap-login {
  # High-performance mode: a few long-lived login processes instead of one per
  # connection, so hundreds of test connections log in quickly on two cores.
  service_count = 0
  process_min_avail = 2
  inet_listener imap {
    address = 127.0.0.1
    port = @port
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = @tls_port
    ssl = yes
  }
}
""")


# The dict passdb looks up "shared/" + password_key; the file dict holds
# key and value lines, the value being JSON with the passdb fields.
USERS_DICT_PREFIX = "shared/passdb/"
PASSDB_TEMPLATE = _ConfigTemplate("""\
# Generated by servers/dovecot.py: users and passwords for the dict passdb.
uri = file:@users_file
password_key = passdb/%u
iterate_disable = yes
""")


def _free_ports(count: int) -> list[int]:
    """Ports on 127.0.0.1 that are free right now (all held open while picking)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in sockets]


def _answers(port: int, greeting: bool) -> bool:
    """Tell whether 127.0.0.1:port accepts connections (and greets, if asked).

    The listening sockets exist as soon as the master runs; the greeting
    comes only once a login process and the auth process are up.
    """
    try:
        with socket.create_connection((HOST, port), timeout=1.0) as sock:
            return not greeting or sock.makefile("rb").readline().startswith(b"* OK")
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    """The ids of the processes whose parent is pid."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                if int(stat.rpartition(")")[2].split()[1]) == pid:
                    children.append(int(entry.name))
    return children


def _process_alive(pid: int) -> bool:
    """Tell whether pid is a live Dovecot master (a zombie counts as gone)."""
    proc = Path("/proc", str(pid))
    try:
        comm = (proc / "comm").read_text().strip()
        stat = (proc / "stat").read_text()
    except OSError:
        return False
    state = stat.rpartition(")")[2].split()[0]
    return comm == "dovecot" and state not in ("Z", "X")


# --------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Account(ServerAccount):
    """One user on a DovecotServer (its seed() writes the maildir directly)."""

    server: DovecotServer


class DovecotServer(PrivateServer):
    """A private Dovecot instance under one state directory.

    Constructing it touches nothing; start() installs Dovecot if needed,
    writes the configuration and starts the server.  Another
    DovecotServer for the same state directory (another process, say) can
    stop() it, seed() it or add users.
    """

    host: str = HOST

    def __init__(
        self,
        state_dir: Path,
        cert: str = "localhost",
        *,
        port: int = 0,
        tls_port: int = 0,
        mail_user: str = "mail",
        start_timeout: float = 20.0,
    ) -> None:
        """Describe the server; nothing is started yet.

        state_dir: where everything lives; created if missing.
        cert: which server certificate to present, one of CERT_CHOICES.
        port, tls_port: fixed ports, both or neither; by default free ones
            are picked at the first start and kept for restarts while free.
        mail_user: the non-root system user that the mail processes run as.
        start_timeout: seconds start() and stop() wait for the server.
        """
        if cert not in CERT_CHOICES:
            raise ValueError(f"cert must be one of {CERT_CHOICES}, not {cert!r}")
        check_ports(port, tls_port)
        self.state_dir = Path(state_dir).absolute()
        self.cert = cert
        self.mail_user = mail_user
        self.start_timeout = start_timeout
        self._fixed_ports = bool(port or tls_port)
        self.port = port
        self.tls_port = tls_port
        self._lock = threading.Lock()
        self._last_seed_ns = 0
        if not self._fixed_ports and self.facts_file.exists():
            saved = json.loads(self.facts_file.read_text())
            self.port, self.tls_port = int(saved["port"]), int(saved["tls_port"])

    # -- paths ---------------------------------------------------------------

    @property
    def config_file(self) -> Path:
        """The generated dovecot.conf (for ``dovecot -c`` / ``doveadm -c``)."""
        return self.state_dir / "dovecot.conf"

    @property
    def facts_file(self) -> Path:
        """JSON file with the connection facts of the last start."""
        return self.state_dir / "server.json"

    @property
    def base_dir(self) -> Path:
        """Dovecot's base_dir: master.pid and the internal sockets."""
        return self.state_dir / "run"

    @property
    def log_file(self) -> Path:
        """Dovecot's log: errors, logins and disconnections."""
        return self.state_dir / "log" / "dovecot.log"

    @property
    def users_file(self) -> Path:
        """The users and their passwords, in Dovecot's file dict format."""
        return self.state_dir / "users.dict"

    @property
    def passdb_conf(self) -> Path:
        """Configuration of the dict passdb that reads users_file."""
        return self.state_dir / "passdb.conf.ext"

    @property
    def mail_root(self) -> Path:
        """The mail processes' chroot; each user's home is a directory in it."""
        return self.state_dir / "mail"

    @property
    def imap_binary(self) -> Path:
        """Dovecot's ``imap`` executable (speaks IMAP on stdin/stdout)."""
        binary = _libexec("imap")
        if binary is None:
            raise DovecotError("Dovecot's imap executable is not installed")
        return binary

    # -- lifecycle ------------------------------------------------------------

    def pid(self) -> int | None:
        """The master process id, or None when the server is not running."""
        try:
            pid = int((self.base_dir / "master.pid").read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _process_alive(pid) else None

    def is_running(self) -> bool:
        """Tell whether this state directory's Dovecot master is alive."""
        return self.pid() is not None

    def start(self) -> None:
        """Write the configuration, start Dovecot and wait until both ports answer.

        Raises DovecotError if it is already running, fails to start or
        does not accept connections within start_timeout seconds.
        """
        if os.geteuid() != 0:
            raise DovecotError("the private Dovecot must be started as root")
        ensure_installed()
        if self.is_running():
            raise DovecotError(f"Dovecot is already running for {self.state_dir}; stop it first")
        self._prepare_state_dir()
        if self.users().get(DEFAULT_USER) != DEFAULT_PASSWORD:
            self.add_user(DEFAULT_USER, DEFAULT_PASSWORD)

        attempts = 1 if self._fixed_ports else 3
        for attempt in range(attempts):
            if not self._fixed_ports and (attempt or not (self.port and self.tls_port)):
                self.port, self.tls_port = _free_ports(2)
            self.passdb_conf.write_text(PASSDB_TEMPLATE.substitute(users_file=self.users_file))
            self.config_file.write_text(self._render_config())
            (self.base_dir / "master.pid").unlink(missing_ok=True)  # stale: not running
            try:
                self._launch()
                break
            except DovecotError as error:
                if attempt + 1 == attempts or "in use" not in str(error):
                    raise
        self._wait_until_ready()
        self.facts_file.write_text(json.dumps(self.facts(), indent=2) + "\n")

    def stop(self) -> None:
        """Stop the server and wait until its master process is gone.

        Does nothing when it is not running.  Connected clients are cut off.
        """
        pid = self.pid()
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        if self._wait_for_exit(pid, STOP_GRACE_SECONDS):
            return
        # Login processes can linger for seconds; nothing of value is lost.
        for process in [*_children(pid), pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process, signal.SIGKILL)
        if not self._wait_for_exit(pid, self.start_timeout):
            raise DovecotError(f"Dovecot master {pid} did not exit")

    def facts(self) -> dict[str, object]:
        """The connection facts: host, ports, CA file, users and more."""
        return {
            "host": self.host,
            "port": self.port,
            "tls_port": self.tls_port,
            "ca_file": str(self.ca_file),
            "cert": self.cert,
            "users": self.users(),
            "state_dir": str(self.state_dir),
            "config_file": str(self.config_file),
            "log_file": str(self.log_file),
            "pid": self.pid(),
        }

    def _mail_ids(self) -> tuple[int, int]:
        """uid and gid of the mail user."""
        try:
            entry = pwd.getpwnam(self.mail_user)
        except KeyError:
            raise DovecotError(f"system user {self.mail_user!r} does not exist") from None
        if entry.pw_uid == 0:
            raise DovecotError("Dovecot refuses to access mail as root; choose another mail_user")
        return entry.pw_uid, entry.pw_gid

    def _prepare_state_dir(self) -> None:
        """Create the directories and the TLS material; check path constraints."""
        for path in (self.state_dir, self.base_dir):
            if not SAFE_PATH.fullmatch(str(path)):
                raise DovecotError(f"unsupported characters in state directory {path}")
        if len(str(self.base_dir)) > MAX_BASE_DIR_LENGTH:
            raise DovecotError(f"state directory path too long for Unix sockets: {self.state_dir}")
        for directory in (self.state_dir, self.base_dir, self.state_dir / "lib",
                          self.log_file.parent):
            directory.mkdir(parents=True, exist_ok=True)
        # The chroot: root-owned and enterable; the homes in it belong to the mail user.
        self.mail_root.mkdir(mode=0o755, exist_ok=True)
        generate_tls(self.tls_dir)

    def _render_config(self) -> str:
        """The dovecot.conf text for the current settings."""
        uid, gid = self._mail_ids()
        tag = re.sub(r"[^A-Za-z0-9-]", "-", self.state_dir.name)
        return CONFIG_TEMPLATE.substitute(
            instance=f"imapclient-{tag}",
            base_dir=self.base_dir,
            lib_dir=self.state_dir / "lib",
            log_file=self.log_file,
            cert_file=self.cert_file,
            key_file=self.key_file,
            passdb_conf=self.passdb_conf,
            mail_uid=uid,
            mail_gid=gid,
            mail_root=self.mail_root,
            port=self.port,
            tls_port=self.tls_port,
        )

    def _launch(self) -> None:
        """Run ``dovecot -c CONFIG``, which checks the config and daemonizes.

        Its output goes to a file, not a pipe: the daemon may keep the
        inherited descriptors open.
        """
        dovecot = _which("dovecot")
        if dovecot is None:
            raise DovecotError("dovecot is not installed")
        startup_log = self.log_file.with_name("startup.log")
        with startup_log.open("wb") as output:
            returncode = subprocess.call(
                [dovecot, "-c", str(self.config_file)],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env={"PATH": SYSTEM_PATH},
            )
        if returncode != 0:
            raise DovecotError(
                f"dovecot exited with {returncode}:\n"
                f"{startup_log.read_text(errors='replace').strip()}\n{self._log_tail()}"
            )

    def _wait_until_ready(self) -> None:
        """Poll until the plain port greets and the TLS port accepts connections."""
        deadline = time.monotonic() + self.start_timeout
        pending = [self.port, self.tls_port]
        while pending:
            # The daemon writes master.pid a moment after `dovecot` returns.
            if (self.base_dir / "master.pid").exists() and not self.is_running():
                raise DovecotError(f"Dovecot exited during start-up\n{self._log_tail()}")
            pending = [port for port in pending if not _answers(port, port == self.port)]
            if pending and time.monotonic() > deadline:
                self.stop()
                raise DovecotError(
                    f"Dovecot did not accept connections on {pending} within "
                    f"{self.start_timeout} s\n{self._log_tail()}"
                )
            if pending:
                time.sleep(0.02)  # polling interval

    def _wait_for_exit(self, pid: int, timeout: float) -> bool:
        """Poll until process pid is gone (or a zombie); False on timeout."""
        deadline = time.monotonic() + timeout
        while _process_alive(pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)  # polling interval
        return True

    def _log_tail(self, lines: int = 20) -> str:
        """The last lines of the Dovecot log, for error messages."""
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "log tail:\n" + "\n".join(text.splitlines()[-lines:])

    # -- users ----------------------------------------------------------------

    def users(self) -> dict[str, str]:
        """The users and their passwords."""
        try:
            lines = self.users_file.read_text().splitlines()
        except FileNotFoundError:
            return {}
        # A file dict alternates key and value lines.
        users: dict[str, str] = {}
        for key, value in zip(lines[::2], lines[1::2], strict=False):
            name = key.removeprefix(USERS_DICT_PREFIX)
            users[name] = json.loads(value)["password"].removeprefix("{PLAIN}")
        return users

    def add_user(self, name: str, password: str) -> None:
        """Add a user, or change the password of an existing one.

        Works while the server runs: the user list is replaced atomically
        and Dovecot re-reads it at the next login.
        """
        if not USER_NAME.fullmatch(name):
            raise ValueError(f"unsupported user name {name!r}")
        if not password or any(char in password for char in "\r\n\0"):
            raise ValueError("passwords must be non-empty and free of NUL and line breaks")
        with self._lock:
            users = self.users()
            users[name] = password
            text = "".join(
                f"{USERS_DICT_PREFIX}{user}\n{json.dumps({'password': '{PLAIN}' + secret})}\n"
                for user, secret in users.items()
            )
            self.state_dir.mkdir(parents=True, exist_ok=True)
            temporary = self.users_file.with_name(f".users.{os.getpid()}.tmp")
            temporary.write_text(text)
            temporary.chmod(0o600)
            temporary.replace(self.users_file)
            self._make_mail_dirs(self.mail_root / name)

    def new_account(self, prefix: str = "user") -> Account:
        """Create a user with a unique name and a random password."""
        name = f"{prefix}-{secrets.token_hex(4)}"
        password = secrets.token_urlsafe(12)
        self.add_user(name, password)
        return Account(self, name, password)

    # -- mail -----------------------------------------------------------------

    def _make_mail_dirs(self, path: Path) -> None:
        """Create path and its missing parents below mail_root for the mail user."""
        uid, gid = self._mail_ids()
        relative = path.relative_to(self.mail_root)
        current = self.mail_root
        self.mail_root.mkdir(mode=0o755, parents=True, exist_ok=True)
        for part in relative.parts:
            current = current / part
            if not current.exists():
                current.mkdir(mode=0o700)
                os.chown(current, uid, gid)

    def mailbox_dir(self, user: str, folder: str = "INBOX") -> Path:
        """The maildir of a user's folder, created (and subscribed) if missing."""
        if user not in self.users():
            raise KeyError(f"no such user: {user}")
        if folder.upper() == "INBOX":
            path = self.mail_root / user / "Maildir"
        else:
            # Dovecot knows how folder names map to directories (mUTF-7, layout).
            inside_chroot = self.doveadm("mailbox", "path", "-u", user, folder).strip()
            path = self.mail_root / inside_chroot.lstrip("/")
            if not (path / "cur").is_dir():
                self.doveadm("mailbox", "create", "-s", "-u", user, folder)
        for sub in ("cur", "new", "tmp"):
            self._make_mail_dirs(path / sub)
        return path

    def seed(self, user: str, messages: Sequence[MessageSpec], folder: str = "INBOX") -> None:
        """Write messages straight into a user's maildir, without IMAP.

        Each message is its raw bytes, or (bytes, flags) where flags are IMAP
        system flags (\\Seen, \\Answered, \\Flagged, \\Deleted, \\Draft) or
        keywords.  Messages go to cur/ with maildir info (":2,S" for \\Seen)
        and get UIDs in list order.  INTERNALDATE is taken from the Date
        header when there is one.  Works while the server runs; a selected
        mailbox shows the new messages at its next NOOP.
        """
        uid, gid = self._mail_ids()
        with self._lock:
            maildir = self.mailbox_dir(user, folder)
            for item in messages:
                raw, flags = (item, ()) if isinstance(item, bytes) else item
                letters = self._flag_letters(maildir, flags)
                name = f"{self._unique_name()},S={len(raw)}"
                temporary = maildir / "tmp" / name
                temporary.write_bytes(raw)
                os.chown(temporary, uid, gid)
                temporary.chmod(0o600)
                received = _date_header(raw)
                if received is not None:
                    os.utime(temporary, (received, received))
                temporary.rename(maildir / "cur" / f"{name}:2,{letters}")

    def _unique_name(self) -> str:
        """A maildir base name; names sort (and so get UIDs) in creation order."""
        now = max(time.time_ns(), self._last_seed_ns + 1000)
        self._last_seed_ns = now
        seconds, nanoseconds = divmod(now, 1_000_000_000)
        return f"{seconds}.M{nanoseconds // 1000}P{os.getpid()}.imapclient-seed"

    def _flag_letters(self, maildir: Path, flags: Sequence[str]) -> str:
        """Maildir info letters for flags; keywords get letters a-z.

        Keywords are numbered in the folder's dovecot-keywords file, which
        is extended as needed.
        """
        letters: set[str] = set()
        keywords = [flag for flag in flags if not flag.startswith("\\")]
        for flag in flags:
            if flag.startswith("\\"):
                try:
                    letters.add(SYSTEM_FLAG_LETTERS[flag.lower()])
                except KeyError:
                    raise ValueError(f"cannot seed system flag {flag}") from None
        if keywords:
            known = self._read_keywords(maildir)
            for keyword in keywords:
                if keyword not in known:
                    if len(known) >= MAX_KEYWORDS:
                        raise ValueError(f"more than {MAX_KEYWORDS} keywords in {maildir}")
                    known.append(keyword)
                letters.add(chr(ord("a") + known.index(keyword)))
            self._write_keywords(maildir, known)
        return "".join(sorted(letters))

    @staticmethod
    def _read_keywords(maildir: Path) -> list[str]:
        """The keywords of dovecot-keywords, indexed by their number."""
        keywords: list[str] = []
        with contextlib.suppress(FileNotFoundError):
            for line in (maildir / KEYWORDS_FILE).read_text().splitlines():
                number, _, keyword = line.partition(" ")
                index = int(number)
                keywords.extend([""] * (index + 1 - len(keywords)))
                keywords[index] = keyword
        return keywords

    def _write_keywords(self, maildir: Path, keywords: list[str]) -> None:
        """Replace dovecot-keywords atomically, owned by the mail user."""
        uid, gid = self._mail_ids()
        text = "".join(f"{index} {keyword}\n" for index, keyword in enumerate(keywords) if keyword)
        temporary = maildir / "tmp" / f"{KEYWORDS_FILE}.{os.getpid()}"
        temporary.write_text(text)
        os.chown(temporary, uid, gid)
        temporary.replace(maildir / KEYWORDS_FILE)

    # -- administration ------------------------------------------------------

    def doveadm(self, *args: str) -> str:
        """Run ``doveadm -c CONFIG ARGS...`` and return its standard output."""
        doveadm = _which("doveadm")
        if doveadm is None:
            raise DovecotError("doveadm is not installed")
        return _run([doveadm, "-c", str(self.config_file), *args], env={"PATH": SYSTEM_PATH})

    def kick(self, user: str) -> None:
        """Make the server close all connections of a user (doveadm kick)."""
        self.doveadm("kick", user)

    def preauth_command(self, user: str) -> tuple[list[str], dict[str, str]]:
        """argv and environment that run ``imap`` already logged in as user.

        The process speaks IMAP on stdin/stdout, greeting with ``* PREAUTH``;
        it writes log lines to stderr.  The server need not be running, but
        the configuration must have been written by a start().
        """
        argv = [str(self.imap_binary), "-c", str(self.config_file), "-u", user]
        return argv, {"PATH": SYSTEM_PATH}


def _date_header(raw: bytes) -> float | None:
    """The Date header of a message as a timestamp, or None."""
    parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)
    value = parser.parsebytes(raw).get("Date")
    if value is None:
        return None
    try:
        return email.utils.parsedate_to_datetime(str(value)).timestamp()
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------
# Sample mail for the demo
# --------------------------------------------------------------------------


def _message(
    sender: str, subject: str, date: str, body: str, *, to: str = "Alice <alice@example.org>"
) -> EmailMessage:
    """A plain-text message with the usual headers."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = date
    message["Message-ID"] = email.utils.make_msgid(domain="example.org")
    message.set_content(body)
    return message


def sample_messages() -> list[tuple[bytes, list[str]]]:
    """About a dozen realistic messages with a mix of flags and sizes.

    One is \\Deleted, one has a keyword, one has an attachment, one is a
    large newsletter and one has a non-ASCII subject and body.
    """
    samples: list[tuple[EmailMessage, list[str]]] = []

    samples.append((_message(
        "Bob Martin <bob@example.com>", "Lunch on Friday?", "Mon, 04 Mar 2024 09:12:00 +0100",
        "Hi Alice,\n\nAre you free for lunch on Friday? The new place on Elm Street\n"
        "does a good risotto.\n\nBob\n"), ["\\Seen", "\\Answered"]))

    samples.append((_message(
        "Carol Diaz <carol@example.net>", "Quarterly report draft",
        "Tue, 05 Mar 2024 14:30:00 +0000",
        "Alice,\n\nThe draft of the quarterly report is attached. Please check the\n"
        "figures in section 3 before Thursday.\n\nThanks,\nCarol\n"), ["\\Seen", "\\Flagged"]))
    report = samples[-1][0]
    report.add_attachment(
        bytes(range(256)) * 24, maintype="application", subtype="pdf", filename="report-q1.pdf"
    )

    samples.append((_message(
        "GitHub <noreply@github.example>", "[project] Build failed on main",
        "Tue, 05 Mar 2024 16:02:11 +0000",
        "The workflow 'tests' failed on branch main.\n\n3 tests failed, 214 passed.\n"), []))

    samples.append((_message(
        "Dana Lee <dana@example.org>", "Re: Conference talk",
        "Wed, 06 Mar 2024 08:45:00 -0500",
        "> Would you like to give a talk at the conference?\n\nYes, gladly! I will send\n"
        "the abstract next week.\n\nDana\n"), ["\\Seen"]))
    samples[-1][0]["In-Reply-To"] = "<talk-invite@example.org>"

    newsletter = _message(
        "Weekly Digest <digest@news.example>", "Your weekly digest: 40 new articles",
        "Thu, 07 Mar 2024 06:00:00 +0000",
        "\n\n".join(
            f"Article {number}: Notes on topic {number}\n" + "Lorem ipsum dolor sit amet. " * 40
            for number in range(1, 41)
        ) + "\n")
    newsletter.add_alternative(
        "<html><body><h1>Weekly digest</h1><p>40 new articles this week.</p></body></html>\n",
        subtype="html",
    )
    samples.append((newsletter, []))

    samples.append((_message(
        "Spammy Offers <win@prizes.example>", "You have WON!!!",
        "Thu, 07 Mar 2024 11:11:11 +0000",
        "Click here to claim your prize.\n"), ["\\Seen", "\\Deleted"]))

    samples.append((_message(
        "Émile Zola <emile@example.fr>", "Réunion à Paris — café ☕",
        "Fri, 08 Mar 2024 10:00:00 +0100",
        "Bonjour Alice,\n\nRendez-vous au café près de l'Opéra à 15 h ?\n\nÉmile\n"), []))

    samples.append((_message(
        "Bob Martin <bob@example.com>", "Fwd: Holiday photos",
        "Sat, 09 Mar 2024 19:20:00 +0100",
        "Forwarding the photos from last summer.\n\nBob\n"), ["\\Seen", "$Forwarded"]))
    samples[-1][0].add_attachment(
        bytes(range(256)) * 48, maintype="image", subtype="jpeg", filename="beach.jpg"
    )

    samples.append((_message(
        "IT Support <it@example.org>", "Password expiry notice",
        "Mon, 11 Mar 2024 07:00:00 +0000",
        "Your password expires in 7 days. Please change it.\n"), ["\\Flagged"]))

    samples.append((_message(
        "Carol Diaz <carol@example.net>", "Re: Quarterly report draft",
        "Mon, 11 Mar 2024 13:15:00 +0000",
        "Never mind the figures, I fixed them myself.\n"), []))

    samples.append((_message(
        "Alice <alice@example.org>", "Notes to self", "Tue, 12 Mar 2024 22:05:00 +0100",
        "- renew passport\n- call the plumber\n- book train tickets\n",
        to="Alice <alice@example.org>"), ["\\Seen"]))

    samples.append((_message(
        "Erin Walsh <erin@example.com>", "Meeting moved to 3pm",
        "Wed, 13 Mar 2024 09:30:00 +0000",
        "Hi all,\n\nToday's meeting is moved to 3pm, same room.\n\nErin\n",
        to="Team <team@example.org>"), []))

    return [(message.as_bytes(policy=email.policy.SMTP), flags) for message, flags in samples]


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: start, stop or seed a private Dovecot."""
    parser = argparse.ArgumentParser(description="Run a private Dovecot IMAP server.")
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="start it and print the connection facts as JSON")
    start.add_argument("--cert", choices=CERT_CHOICES, default="localhost")
    commands.add_parser("stop", help="stop it (nothing to do if it is not running)")
    seed = commands.add_parser("seed-sample", help="put sample messages into a user's INBOX")
    seed.add_argument("--user", default=DEFAULT_USER)
    for command in commands.choices.values():
        command.add_argument("--state-dir", type=Path, required=True)
    args = parser.parse_args(argv)

    try:
        if args.command == "start":
            server = DovecotServer(args.state_dir, cert=args.cert)
            server.start()
            print(json.dumps(server.facts(), indent=2))
        elif args.command == "stop":
            DovecotServer(args.state_dir).stop()
        else:
            messages = sample_messages()
            DovecotServer(args.state_dir).seed(args.user, messages)
            print(f"seeded {len(messages)} messages into {args.user}'s INBOX")
    except (DovecotError, KeyError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
