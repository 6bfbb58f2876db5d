"""Configuration files for connecting to an IMAP server (used by the interactive shell and
the live test), and the one function that turns a configuration into a connected,
logged-in :class:`~imapclient.IMAPClient`.

A configuration file is INI text with a ``[DEFAULT]`` section and, optionally, named
alternate sections that inherit every option they do not set from ``[DEFAULT]``::

    [DEFAULT]
    host = imap.example.com
    username = bob
    password = sekret

    [work]
    host = mail.work.example
    starttls = true

Each option missing from the file (or left empty) may come from the environment variable
``IMAPCLIENT_<OPTION>`` (``IMAPCLIENT_PASSWORD``, ``IMAPCLIENT_OAUTH2_REFRESH_TOKEN`` ...).
Every problem is a :class:`ConfigError` naming the file, the section and the option, and
is raised before any connection is tried. docs/config.md describes every option.
"""

from __future__ import annotations

import configparser
import dataclasses
import logging
import math
import os
import ssl as ssl_lib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .client import IMAPClient
from .oauth2 import check_token_url, forget_access_token, get_access_token, token_url_for
from .protocol.session import ConnectionState

__all__ = [
    "DEFAULT_SECTION",
    "ENV_PREFIX",
    "OPTIONS",
    "SECRET_OPTIONS",
    "ConfigError",
    "ConnectionConfig",
    "config_sections",
    "create_client_from_config",
    "parse_config_file",
]

logger = logging.getLogger("imapclient.config")

#: The section every file must have, and which every other section inherits from.
DEFAULT_SECTION = "DEFAULT"

#: Prefix of the environment variables that supply options missing from the file.
ENV_PREFIX = "IMAPCLIENT_"

_TRUE = frozenset({"1", "yes", "true", "on"})
_FALSE = frozenset({"0", "no", "false", "off"})

#: Options whose values are secrets: never shown in reprs, messages or logs.
SECRET_OPTIONS = frozenset({"password", "oauth2_client_secret", "oauth2_refresh_token"})

# A section name nobody writes: configparser's own DEFAULT handling is switched off so
# that the file's [DEFAULT] can be read as a section of its own, and every value's
# origin (the section it was written in) is known for error messages.
_NO_DEFAULT = "\x00imapclient: no default section\x00"


class ConfigError(ValueError):
    """A configuration is unusable: unreadable file, unknown section or option, a value
    of the wrong type, contradictory or missing settings.

    ``path`` is the file (None for a configuration built in code), ``section`` the
    section, ``option`` the option concerned (each None when it does not apply). The
    message names all three and never contains a secret.
    """

    def __init__(
        self,
        detail: str,
        *,
        path: str | None = None,
        section: str | None = None,
        option: str | None = None,
    ) -> None:
        self.detail = detail
        self.path = path
        self.section = section
        self.option = option
        where = []
        if path is not None:
            where.append(f"configuration file {path!r}")
        if section is not None:
            where.append(f"section [{section}]")
        if option is not None:
            where.append(f"option {option!r}")
        super().__init__(", ".join(where) + ": " + detail if where else detail)


@dataclass(frozen=True)
class ConnectionConfig:
    """How to connect to and log in to one IMAP server (one section of a file).

    ``port`` None means 993 with ``ssl`` and 143 otherwise. ``ssl`` (implicit TLS) is on
    by default; ``starttls=True`` or ``stream=True`` turn it off (a STARTTLS connection
    starts in plaintext, a stream is a local command). ``stream=True`` runs ``host`` as a
    command speaking IMAP on its stdin/stdout. With ``oauth2=True`` the refresh token is
    exchanged for an access token at ``oauth2_token_url`` (default: the provider's known
    endpoint for ``host``) and XOAUTH2 is used; ``password`` is then ignored.
    ``source`` and ``section`` say where the configuration came from, for messages.

    Invalid combinations raise :class:`ConfigError`. The repr and str never show the
    password, the client secret or the refresh token.
    """

    host: str
    port: int | None = None
    ssl: bool = True
    starttls: bool = False
    stream: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ssl_check_hostname: bool = True
    ssl_verify_cert: bool = True
    ssl_ca_file: str | None = None
    timeout: float | None = None
    oauth2: bool = False
    oauth2_client_id: str | None = None
    oauth2_client_secret: str | None = field(default=None, repr=False)
    oauth2_refresh_token: str | None = field(default=None, repr=False)
    oauth2_token_url: str | None = None
    source: str | None = None
    section: str = DEFAULT_SECTION

    def __post_init__(self) -> None:
        def error(option: str, detail: str) -> ConfigError:
            return ConfigError(detail, path=self.source, section=self.section, option=option)

        if not isinstance(self.host, str) or not self.host.strip():
            raise error("host", "no host given (the IMAP server's name, or the command)")
        for name in (
            "ssl",
            "starttls",
            "stream",
            "ssl_check_hostname",
            "ssl_verify_cert",
            "oauth2",
        ):
            if not isinstance(getattr(self, name), bool):
                raise error(name, f"must be a bool, not {type(getattr(self, name)).__name__}")
        if self.port is not None and (
            isinstance(self.port, bool)
            or not isinstance(self.port, int)
            or not 1 <= self.port <= 65535
        ):
            raise error("port", f"{self.port!r} is not a port number (1 to 65535)")
        if self.timeout is not None and (
            isinstance(self.timeout, bool)
            or not isinstance(self.timeout, (int, float))
            or not math.isfinite(self.timeout)
            or self.timeout <= 0
        ):
            raise error("timeout", f"{self.timeout!r} is not a positive number of seconds")
        if self.stream:
            if self.port is not None:
                raise error("port", "a stream connection runs a command: port does not apply")
            if self.starttls:
                raise error("starttls", "a stream connection runs a command: no STARTTLS")
        if self.starttls or self.stream:
            object.__setattr__(self, "ssl", False)
        if self.oauth2_token_url:
            try:
                check_token_url(self.oauth2_token_url)
            except ValueError as exc:
                raise error("oauth2_token_url", str(exc)) from None
        if self.oauth2:
            for name in ("oauth2_client_id", "oauth2_client_secret", "oauth2_refresh_token"):
                if not getattr(self, name):
                    env = ENV_PREFIX + name.upper()
                    raise error(name, f"oauth2 = true needs {name} (or the variable {env})")
            try:
                token_url_for(self.host, self.oauth2_token_url)
            except ValueError as exc:
                raise error("oauth2_token_url", str(exc)) from None

    def __repr__(self) -> str:
        """All fields, with secrets shown only as ``'<hidden>'`` (or None if unset)."""
        parts = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_OPTIONS and value is not None:
                parts.append(f"{f.name}='<hidden>'")
            else:
                parts.append(f"{f.name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def __str__(self) -> str:
        """A one-line summary: where to, how, as whom, from which file (no secrets)."""
        if self.stream:
            target = f"command {self.host!r}"
        else:
            port = self.port if self.port is not None else (993 if self.ssl else 143)
            mode = "TLS" if self.ssl else ("STARTTLS" if self.starttls else "plaintext")
            target = f"{self.host}:{port} ({mode})"
        who = f" as {self.username}" if self.username else ""
        how = " with OAuth2" if self.oauth2 else ""
        origin = f" [{self.section}]" + (f" from {self.source}" if self.source else "")
        return target + who + how + origin

    @property
    def effective_port(self) -> int | None:
        """The port connected to: ``port``, else 993 with ``ssl`` and 143 otherwise (None
        for a stream)."""
        if self.stream:
            return None
        return self.port if self.port is not None else (993 if self.ssl else 143)

    def ssl_context(self) -> ssl_lib.SSLContext:
        """The TLS context for ``ssl`` or ``starttls``: verified against the system's CAs,
        or only ``ssl_ca_file``'s when set; ``ssl_check_hostname=False`` skips the host
        name check, ``ssl_verify_cert=False`` skips certificate verification (and so the
        host name check too). Raises ConfigError if ``ssl_ca_file`` cannot be loaded."""
        try:
            context = ssl_lib.create_default_context(cafile=self.ssl_ca_file)
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            reason = getattr(exc, "strerror", None) or str(exc)
            raise ConfigError(
                f"cannot load CA certificates from {self.ssl_ca_file!r}: {reason}",
                path=self.source,
                section=self.section,
                option="ssl_ca_file",
            ) from None
        if not self.ssl_check_hostname or not self.ssl_verify_cert:
            context.check_hostname = False
        if not self.ssl_verify_cert:
            context.verify_mode = ssl_lib.CERT_NONE
        return context


# -- reading files -------------------------------------------------------------------


def _parse_str(value: str) -> str:
    return value


def _parse_bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{value!r} is not a boolean (use 1, yes, true or on; 0, no, false or off)")


def _parse_port(value: str) -> int:
    try:
        port = int(value, 10)
    except ValueError:
        raise ValueError(f"{value!r} is not a port number (an integer from 1 to 65535)") from None
    if not 1 <= port <= 65535:
        raise ValueError(f"{value!r} is out of range (a port is from 1 to 65535)")
    return port


def _parse_timeout(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a number of seconds") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"{value!r} is not a positive number of seconds")
    return seconds


#: Every option a section may set, with the function that converts its text.
OPTIONS: dict[str, Callable[[str], Any]] = {
    "host": _parse_str,
    "username": _parse_str,
    "password": _parse_str,
    "port": _parse_port,
    "ssl": _parse_bool,
    "starttls": _parse_bool,
    "stream": _parse_bool,
    "ssl_check_hostname": _parse_bool,
    "ssl_verify_cert": _parse_bool,
    "ssl_ca_file": _parse_str,
    "timeout": _parse_timeout,
    "oauth2": _parse_bool,
    "oauth2_client_id": _parse_str,
    "oauth2_client_secret": _parse_str,
    "oauth2_refresh_token": _parse_str,
    "oauth2_token_url": _parse_str,
}


def _read(path: str | os.PathLike[str]) -> tuple[str, dict[str, dict[str, str]]]:
    """The file's sections in order, each as its own options (no inheritance), with the
    path as a str (``~`` expanded). Checks the syntax and that [DEFAULT] is there."""
    name = os.path.expanduser(os.fspath(path))
    try:
        with open(name, encoding="utf-8-sig") as file:
            text = file.read()
    except OSError as exc:
        raise ConfigError(f"cannot read it: {exc.strerror or exc}", path=name) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte {exc.start})", path=name) from None
    parser = configparser.ConfigParser(
        interpolation=None,  # '%' in a password is just '%'
        default_section=_NO_DEFAULT,
        empty_lines_in_values=False,
    )
    try:
        parser.read_string(text, source=name)
    except configparser.DuplicateSectionError as exc:
        raise ConfigError(
            f"section [{exc.section}] appears twice (line {exc.lineno})",
            path=name,
            section=exc.section,
        ) from None
    except configparser.DuplicateOptionError as exc:
        raise ConfigError(
            f"set twice in the section (line {exc.lineno})",
            path=name,
            section=exc.section,
            option=exc.option,
        ) from None
    except configparser.MissingSectionHeaderError as exc:
        raise ConfigError(
            f"line {exc.lineno}: options before the first section header "
            f"(the file must start with [{DEFAULT_SECTION}])",
            path=name,
        ) from None
    except configparser.ParsingError as exc:
        # Never quote the line itself: it may be a password written without '='.
        lineno = exc.errors[0][0] if exc.errors else 0
        raise ConfigError(
            f"line {lineno} is not 'name = value', a [section] header or a comment",
            path=name,
            section=_section_at(parser, text, lineno),
        ) from None
    except configparser.Error as exc:  # pragma: no cover - other syntax errors
        raise ConfigError(f"not a valid INI file ({type(exc).__name__})", path=name) from None
    sections = {section: dict(parser.items(section, raw=True)) for section in parser.sections()}
    if DEFAULT_SECTION not in sections:
        raise ConfigError(
            f"there is no [{DEFAULT_SECTION}] section (every configuration file must have one)",
            path=name,
            section=DEFAULT_SECTION,
        )
    return name, sections


def _section_at(parser: configparser.ConfigParser, text: str, lineno: int) -> str | None:
    """The section a line of ``text`` belongs to (for messages), or None."""
    current = None
    for number, line in enumerate(text.splitlines(), 1):
        if number >= lineno:
            break
        match = parser.SECTCRE.match(line.strip())
        if match:
            current = match.group("header")
    return current


def config_sections(path: str | os.PathLike[str]) -> list[str]:
    """The named alternate sections of a configuration file, in file order (without
    ``DEFAULT``). Raises ConfigError if the file cannot be read or parsed."""
    _, sections = _read(path)
    return [section for section in sections if section != DEFAULT_SECTION]


def parse_config_file(
    path: str | os.PathLike[str],
    section: str = DEFAULT_SECTION,
    *,
    environ: Mapping[str, str] | None = None,
) -> ConnectionConfig:
    """Read one section of a configuration file (``~`` in ``path`` is expanded) into a
    :class:`ConnectionConfig`.

    A named section inherits every option it does not set from ``[DEFAULT]``. An option
    set in neither (or set to an empty value) is taken from the environment variable
    ``IMAPCLIENT_<OPTION>`` in ``environ`` (default :data:`os.environ`) when that is set
    and not empty, else it has its default. ``ssl`` defaults to true unless ``starttls``
    or ``stream`` is true. A relative ``ssl_ca_file`` is relative to the file's directory.

    Raises :class:`ConfigError` naming the file, section and option for: an unreadable
    file or bad syntax, no ``[DEFAULT]``, an unknown section or option, a value of the
    wrong type (booleans are 1/yes/true/on and 0/no/false/off), a port outside 1-65535,
    a timeout that is not a positive number, no host, ``ssl`` and ``starttls`` (or
    ``stream``) both true, ``oauth2`` without its client id, client secret and refresh
    token, or without a token endpoint. Missing ``username``/``password`` are allowed
    here (a caller may prompt for them); :func:`create_client_from_config` checks them.
    """
    name, sections = _read(path)
    if section not in sections:
        named = [s for s in sections if s != DEFAULT_SECTION]
        available = ", ".join(f"[{s}]" for s in named) if named else "none"
        raise ConfigError(
            f"no such section in the file (named sections: {available})",
            path=name,
            section=section,
        )
    env = os.environ if environ is None else environ
    layers = [section] if section == DEFAULT_SECTION else [section, DEFAULT_SECTION]
    for layer in layers:
        for option in sections[layer]:
            if option not in OPTIONS:
                raise ConfigError(
                    f"unknown option (known options: {', '.join(OPTIONS)})",
                    path=name,
                    section=layer,
                    option=option,
                )
    logger.debug("reading section [%s] of %s", section, name)
    values: dict[str, Any] = {}
    for option, convert in OPTIONS.items():
        origin = section
        raw: str | None = None
        for layer in layers:
            if option in sections[layer]:
                raw, origin = sections[layer][option], layer
                break
        source = "file"
        if not raw:
            variable = ENV_PREFIX + option.upper()
            raw, source = env.get(variable), variable
            origin = section
        if not raw:
            continue
        try:
            values[option] = convert(raw.strip())
        except ValueError as exc:
            detail = str(exc) if option not in SECRET_OPTIONS else "invalid value"
            if source != "file":
                detail += f" (from the environment variable {source})"
            raise ConfigError(detail, path=name, section=origin, option=option) from None
    if values.get("ssl") is True:
        for other in ("starttls", "stream"):
            if values.get(other):
                raise ConfigError(
                    f"ssl and {other} are both true: choose one (ssl is implicit TLS, "
                    "starttls upgrades a plaintext connection, stream runs a command)",
                    path=name,
                    section=section,
                    option=other,
                )
    ca_file = values.get("ssl_ca_file")
    if ca_file is not None:
        ca_file = os.path.expanduser(ca_file)
        if not os.path.isabs(ca_file):
            ca_file = os.path.join(os.path.dirname(os.path.abspath(name)), ca_file)
        values["ssl_ca_file"] = ca_file
    if "host" not in values:
        raise ConfigError(
            f"no host given (set host, or the variable {ENV_PREFIX}HOST)",
            path=name,
            section=section,
            option="host",
        )
    config = ConnectionConfig(**values, source=name, section=section)
    logger.debug("configuration: %r", config)
    return config


# -- connecting --------------------------------------------------------------------------


def _missing(config: ConnectionConfig, option: str, why: str) -> ConfigError:
    variable = ENV_PREFIX + option.upper()
    return ConfigError(
        f"{why} (set {option}, or the variable {variable})",
        path=config.source,
        section=config.section,
        option=option,
    )


def create_client_from_config(config: ConnectionConfig, *, login: bool = True) -> IMAPClient:
    """Connect to the server ``config`` describes and (with ``login``) log in.

    Connects with implicit TLS, plaintext then STARTTLS, or a command (``stream``), using
    :meth:`ConnectionConfig.ssl_context` and ``timeout``. Then, with ``oauth2``, the
    refresh token is exchanged for an access token (:func:`imapclient.oauth2.get_access_token`,
    cached for the process; done before connecting, so a refused token costs no
    connection) and ``oauth2_login(username, token)`` is used; otherwise
    ``login(username, password)``. A stream whose server greets with PREAUTH is already
    logged in and is returned as is.

    Missing credentials raise :class:`ConfigError` before any connection is tried (for a
    stream without credentials, once its greeting shows it is not PREAUTH). If logging in
    fails, the connection is closed and the error (e.g. :class:`~imapclient.LoginError`,
    :class:`~imapclient.oauth2.OAuth2Error`) raised.
    """
    access_token: str | None = None
    token_url: str | None = None
    if login:
        if not config.stream:
            _check_credentials(config)
        if config.oauth2 and config.username:
            token_url = token_url_for(config.host, config.oauth2_token_url)
            access_token = _access_token(config, token_url)
    context = config.ssl_context() if (config.ssl or config.starttls) else None
    logger.debug("connecting: %s", config)
    if config.stream:
        client = IMAPClient(config.host, stream=True, timeout=config.timeout)
    else:
        client = IMAPClient(
            config.host,
            config.port,
            ssl=config.ssl,
            ssl_context=context if config.ssl else None,
            timeout=config.timeout,
        )
    try:
        if config.starttls:
            client.starttls(context)
        if not login:
            return client
        if client._session.state is not ConnectionState.NOT_AUTHENTICATED:
            logger.debug("already authenticated (PREAUTH): not logging in")
            return client
        _check_credentials(config)
        assert config.username is not None
        if config.oauth2:
            if access_token is None:
                token_url = token_url_for(config.host, config.oauth2_token_url)
                access_token = _access_token(config, token_url)
            try:
                client.oauth2_login(config.username, access_token)
            except client.Error:
                # A refused token may have been revoked early: ask again next time.
                assert token_url is not None
                assert config.oauth2_client_id and config.oauth2_refresh_token
                forget_access_token(token_url, config.oauth2_client_id, config.oauth2_refresh_token)
                raise
        else:
            assert config.password is not None
            client.login(config.username, config.password)
    except BaseException:
        client.shutdown()
        raise
    return client


def _check_credentials(config: ConnectionConfig) -> None:
    if not config.username:
        raise _missing(config, "username", "no username to log in with")
    if not config.oauth2 and config.password is None:
        raise _missing(config, "password", "no password to log in with")


def _access_token(config: ConnectionConfig, token_url: str) -> str:
    assert config.oauth2_client_id and config.oauth2_refresh_token
    timeout = config.timeout if config.timeout is not None else 30.0
    return get_access_token(
        token_url,
        config.oauth2_client_id,
        config.oauth2_client_secret,
        config.oauth2_refresh_token,
        timeout=timeout,
    )
