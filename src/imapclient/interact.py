"""An interactive Python shell with a connected, logged-in :class:`~imapclient.IMAPClient`.

Run it as ``python -m imapclient.interact`` (or the ``imapclient-interact`` console
script)::

    python -m imapclient.interact -H imap.example.com -u bob
    python -m imapclient.interact -f ~/.imapclient.ini --section work
    python -m imapclient.interact -f ~/.imapclient.ini work      # the same

Connection details come from the command line or from a configuration file (the format of
:mod:`imapclient.config`; command-line options override the file). A missing host or user
name is asked for, and a missing password is read without echo. The connection uses TLS
(port 993) unless ``--starttls`` or ``--insecure`` says otherwise. The shell is IPython
when installed, else ptpython, else the standard Python console; the client is the
variable ``c``, and it is logged out when the shell ends, however it ends.

A connection or login failure is reported in one line (never with the password) and the
exit status is 1.
"""

from __future__ import annotations

import argparse
import code
import dataclasses
import getpass
import importlib
import importlib.util
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from .client import IMAPClient
from .config import ConfigError, ConnectionConfig, create_client_from_config, parse_config_file
from .exceptions import IMAPClientError, LoginError

__all__ = [
    "BANNER",
    "SHELLS",
    "InteractError",
    "available_shells",
    "build_parser",
    "connect",
    "main",
    "resolve_config",
    "run_shell",
]

#: What the shell prints before its first prompt (after a blank line).
BANNER = 'IMAPClient instance is "c"'

#: The embedded shells ``--shell`` may name, in the order ``auto`` tries them, and the
#: module each one needs.
SHELLS = {"ipython": "IPython", "ptpython": "ptpython", "python": "code"}

PROG = "python -m imapclient.interact"


class InteractError(Exception):
    """A problem to report to the user in one line (exit status 1)."""


# -- command line ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser of the interactive shell."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Open an interactive Python shell with an IMAPClient connected to and logged "
            'in to an IMAP server, as the variable "c". The connection uses TLS unless '
            "--starttls or --insecure is given. Missing host, user name and password "
            "are prompted for (the password without echo)."
        ),
        epilog=(
            "With -f, options given on the command line override the file's values. "
            "Example: %(prog)s -H imap.example.com -u bob"
        ),
    )
    parser.add_argument("-H", "--host", help="the IMAP server's host name")
    parser.add_argument("-u", "--username", help="the user name to log in as")
    parser.add_argument(
        "-p",
        "--password",
        help="the password (prompted for, without echo, when missing; "
        "note that other users of this machine may see command-line arguments)",
    )
    parser.add_argument(
        "-P", "--port", type=_port, help="the server port (default 993 with TLS, else 143)"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "-s",
        "--ssl",
        dest="transport",
        action="store_const",
        const="ssl",
        help="connect with TLS (implicit TLS, port 993 by default); this is the default",
    )
    mode.add_argument(
        "--starttls",
        dest="transport",
        action="store_const",
        const="starttls",
        help="connect in plain text (port 143 by default), then switch to TLS with "
        "STARTTLS; fails rather than continue without TLS",
    )
    mode.add_argument(
        "--insecure",
        dest="transport",
        action="store_const",
        const="insecure",
        help="plain TCP without TLS: the password and all mail cross the network unencrypted",
    )
    parser.add_argument(
        "--ssl-ca-file",
        metavar="FILE",
        help="PEM file of the certificate authorities to verify the server with "
        "(default: the system's)",
    )
    parser.add_argument(
        "-f",
        "--file",
        metavar="CONFIG",
        help="read connection details from this INI configuration file",
    )
    parser.add_argument(
        "--section",
        metavar="NAME",
        help="the section of the configuration file to use (default: DEFAULT)",
    )
    parser.add_argument(
        "section_name",
        nargs="?",
        metavar="SECTION",
        help="the same as --section NAME (with -f)",
    )
    parser.add_argument(
        "--shell",
        choices=("auto", *SHELLS),
        default="auto",
        help="the shell to open: auto (the default) tries IPython, then ptpython, then "
        "the standard Python console",
    )
    return parser


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1 to 65535)")
    return port


def _apply_transport(config: ConnectionConfig, transport: str | None) -> ConnectionConfig:
    """``config`` with the TLS mode a command-line switch asked for (None: unchanged)."""
    if transport == "ssl":
        return dataclasses.replace(config, ssl=True, starttls=False)
    if transport == "starttls":
        return dataclasses.replace(config, ssl=False, starttls=True)
    if transport == "insecure":
        return dataclasses.replace(config, ssl=False, starttls=False)
    return config


def resolve_config(
    args: argparse.Namespace,
    *,
    ask: Callable[[str], str] = input,
    ask_secret: Callable[[str], str] = getpass.getpass,
) -> ConnectionConfig:
    """The connection settings from parsed arguments, asking for what is missing.

    With ``args.file`` the file's section is read first and options given on the command
    line override it; otherwise TLS is the default. The host and user name are asked for
    with ``ask``, the password with ``ask_secret`` (no echo), unless OAuth2 is used.
    Raises :class:`~imapclient.config.ConfigError` for a bad file and
    :class:`InteractError` when a required answer is empty.
    """
    if args.file:
        section = getattr(args, "section_name", None) or args.section or "DEFAULT"
        config = parse_config_file(args.file, section)
        if args.host:
            config = dataclasses.replace(config, host=args.host)
    else:
        host = args.host or _ask_required(ask, "Host: ", "a host name is required")
        config = ConnectionConfig(host=host)
    config = _apply_transport(config, args.transport)
    changes: dict[str, Any] = {}
    if args.port is not None:
        changes["port"] = args.port
    if args.ssl_ca_file:
        changes["ssl_ca_file"] = args.ssl_ca_file
    if args.username:
        changes["username"] = args.username
    if args.password is not None:
        changes["password"] = args.password
    if changes:
        config = dataclasses.replace(config, **changes)
    if not config.stream:  # a command may log in by itself (PREAUTH)
        if not config.username:
            username = _ask_required(ask, "Username: ", "a user name is required")
            config = dataclasses.replace(config, username=username)
        if config.password is None and not config.oauth2:
            try:
                password = ask_secret(f"Password for {config.username}@{config.host}: ")
            except EOFError:
                raise InteractError("no password given") from None
            config = dataclasses.replace(config, password=password)
    return config


def _ask_required(ask: Callable[[str], str], prompt: str, missing: str) -> str:
    try:
        answer = ask(prompt).strip()
    except EOFError:
        answer = ""
    if not answer:
        raise InteractError(missing)
    return answer


# -- connecting -----------------------------------------------------------------------------


def _scrub(text: str, config: ConnectionConfig) -> str:
    """``text`` with the secrets masked: belt and braces for error messages, which should
    never contain them anyway (secrets shorter than 4 characters are left alone: masking
    them would garble the message and reveal them)."""
    for secret in (config.password, config.oauth2_client_secret, config.oauth2_refresh_token):
        if secret and len(secret) >= 4:
            text = text.replace(secret, "********")
    return text


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


def connect(config: ConnectionConfig) -> IMAPClient:
    """Connect and log in with ``config``; raise :class:`InteractError` with a one-line
    explanation (without secrets) when that fails."""
    where = (
        f"command {config.host!r}" if config.stream else f"{config.host}:{config.effective_port}"
    )
    try:
        return create_client_from_config(config, login=True)
    except ConfigError as exc:  # e.g. an unreadable ssl_ca_file
        message = str(exc)
    except LoginError as exc:
        message = f"login to {where} as {config.username} failed: {_reason(exc)}"
    except (IMAPClientError, OSError, ValueError) as exc:
        message = f"could not connect to {where}: {_reason(exc)}"
    raise InteractError(_scrub(" ".join(message.split()), config))


# -- shells ---------------------------------------------------------------------------------


def available_shells() -> list[str]:
    """The shells that can be opened here, in the order ``--shell auto`` tries them."""
    return [name for name, module in SHELLS.items() if importlib.util.find_spec(module)]


def _choose_shell(requested: str) -> str:
    available = available_shells()
    if requested == "auto":
        return available[0]
    if requested not in available:
        raise InteractError(
            f"--shell {requested}: {SHELLS[requested]} is not installed (pip install {requested})"
        )
    return requested


def _run_ipython(namespace: dict[str, Any]) -> None:
    ipython: Any = importlib.import_module("IPython")
    traitlets_config: Any = importlib.import_module("traitlets.config")
    config = traitlets_config.Config()
    config.TerminalInteractiveShell.banner1 = "\n" + BANNER + "\n"
    config.TerminalInteractiveShell.banner2 = ""
    ipython.start_ipython(argv=[], user_ns=namespace, config=config)


def _run_ptpython(namespace: dict[str, Any]) -> None:
    repl: Any = importlib.import_module("ptpython.repl")
    print("\n" + BANNER, flush=True)
    repl.embed(globals=namespace, locals=namespace)


def _run_python(namespace: dict[str, Any]) -> None:
    try:
        import readline
        import rlcompleter
    except ImportError:  # pragma: no cover - readline is missing on some platforms
        pass
    else:
        readline.set_completer(rlcompleter.Completer(namespace).complete)
        readline.parse_and_bind("tab: complete")
    code.interact(banner="\n" + BANNER, local=namespace, exitmsg="")


_RUNNERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "ipython": _run_ipython,
    "ptpython": _run_ptpython,
    "python": _run_python,
}


def run_shell(client: IMAPClient, shell: str = "auto") -> None:
    """Open ``shell`` (``auto``, ``ipython``, ``ptpython`` or ``python``) with ``client``
    as ``c``; return when the user leaves it. The caller logs out."""
    name = _choose_shell(shell)
    namespace: dict[str, Any] = {"c": client}
    if name != "ipython":  # IPython sets up its own __name__
        namespace["__name__"] = "__console__"
    _RUNNERS[name](namespace)


# -- main -----------------------------------------------------------------------------------


def _exit_status(exc: SystemExit, err: TextIO) -> int:
    """The status ``sys.exit(x)`` in the shell asked for, as the interpreter would."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=err)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the interactive shell; returns the exit status (0, or 1 on failure)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.section_name is not None:
        if args.section not in (None, args.section_name):
            parser.error("give the section once: SECTION or --section NAME")
        args.section = args.section_name
    if args.section is not None and not args.file:
        parser.error("a section needs a configuration file (-f CONFIG)")
    out, err = sys.stdout, sys.stderr
    try:
        shell = _choose_shell(args.shell)  # before asking or connecting
        config = resolve_config(args)
        print("Connecting...", file=out, flush=True)
        client = connect(config)
    except (InteractError, ConfigError) as exc:
        print(f"{PROG}: error: {exc}", file=err, flush=True)
        return 1
    except KeyboardInterrupt:
        print(file=err)
        return 130
    print("Connected.", file=out, flush=True)
    try:
        with client:  # logs out however the shell ends (and if already logged out, nothing)
            run_shell(client, shell)
    except SystemExit as exc:
        return _exit_status(exc, err)
    except Exception as exc:  # the shell itself failed (the client is logged out)
        print(f"{PROG}: error: the {shell} shell failed: {_reason(exc)}", file=err)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
