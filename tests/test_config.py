"""imapclient.config: configuration files (every option, its type and default, inheritance
from [DEFAULT], environment variables, every error), secrets kept out of reprs, messages
and logs, and create_client_from_config against the private Dovecot (plain, implicit TLS,
STARTTLS, stream, a refused login)."""

from __future__ import annotations

import dataclasses
import logging
import os
import shlex
import ssl
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import imapclient.config as config_module
from imapclient import IMAPClient, LoginError
from imapclient.config import (
    ConfigError,
    ConnectionConfig,
    config_sections,
    create_client_from_config,
    parse_config_file,
)

PASSWORD = "Pw-50%off;#not-a-comment %(host)s"  # interpolation must leave this alone
SECRET = "client-Secret-8d7f"
REFRESH = "1//refresh-Token-Secret-4a1b"

BOOL_OPTIONS = ("ssl", "starttls", "stream", "ssl_check_hostname", "ssl_verify_cert", "oauth2")
TRUE_WORDS = ("1", "yes", "true", "on", "YES", "True", "ON", "tRuE")
FALSE_WORDS = ("0", "no", "false", "off", "NO", "False", "OFF", "fAlSe")


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """``write(text, name="imapclient.ini")``: a configuration file in tmp_path."""

    def write(text: str, name: str = "imapclient.ini") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def parse(path: Path, section: str = "DEFAULT", **environ: str) -> ConnectionConfig:
    """parse_config_file with an environment holding only ``environ``."""
    return parse_config_file(path, section, environ=environ)


def error_of(path: Path, section: str = "DEFAULT", **environ: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse(path, section, **environ)
    return info.value


def assert_names(error: ConfigError, path: Path | None, section: str | None, option: str | None):
    """The error's attributes and its message name the file, section and option."""
    message = str(error)
    assert error.path == (str(path) if path is not None else None)
    assert error.section == section
    assert error.option == option
    if path is not None:
        assert str(path) in message
    if section is not None:
        assert f"[{section}]" in message
    if option is not None:
        assert repr(option) in message


# -- options, types and defaults ------------------------------------------------------


def test_defaults(write) -> None:
    path = write("[DEFAULT]\nhost = imap.example.com\n")
    config = parse(path)
    assert config == ConnectionConfig(host="imap.example.com", source=str(path))
    assert config.port is None and config.effective_port == 993
    assert config.ssl is True and config.starttls is False and config.stream is False
    assert config.username is None and config.password is None
    assert config.ssl_check_hostname is True and config.ssl_verify_cert is True
    assert config.ssl_ca_file is None and config.timeout is None
    assert config.oauth2 is False
    assert config.oauth2_client_id is None and config.oauth2_client_secret is None
    assert config.oauth2_refresh_token is None and config.oauth2_token_url is None
    assert config.section == "DEFAULT"


def test_every_option_with_its_type(write, tmp_path) -> None:
    path = write(
        "[DEFAULT]\n"
        "host = imap.gmail.com\n"
        "username = bob@example.com\n"
        f"password = {PASSWORD}\n"
        "port = 1993\n"
        "ssl = yes\n"
        "starttls = no\n"
        "stream = off\n"
        "ssl_check_hostname = false\n"
        "ssl_verify_cert = 0\n"
        "ssl_ca_file = /etc/ssl/certs/ca.pem\n"
        "timeout = 12.5\n"
        "oauth2 = on\n"
        "oauth2_client_id = 123.apps.example\n"
        f"oauth2_client_secret = {SECRET}\n"
        f"oauth2_refresh_token = {REFRESH}\n"
        "oauth2_token_url = https://tokens.example/token\n"
    )
    config = parse(path)
    assert config == ConnectionConfig(
        host="imap.gmail.com",
        port=1993,
        ssl=True,
        starttls=False,
        stream=False,
        username="bob@example.com",
        password=PASSWORD,
        ssl_check_hostname=False,
        ssl_verify_cert=False,
        ssl_ca_file="/etc/ssl/certs/ca.pem",
        timeout=12.5,
        oauth2=True,
        oauth2_client_id="123.apps.example",
        oauth2_client_secret=SECRET,
        oauth2_refresh_token=REFRESH,
        oauth2_token_url="https://tokens.example/token",
        source=str(path),
        section="DEFAULT",
    )
    assert isinstance(config.port, int) and isinstance(config.timeout, float)


def test_integer_timeout_and_option_names_are_case_insensitive(write) -> None:
    config = parse(write("[DEFAULT]\nHOST = h\nTimeout = 30\nPort=143\n"))
    assert (config.host, config.timeout, config.port) == ("h", 30.0, 143)


def test_port_defaults_to_143_without_ssl(write) -> None:
    config = parse(write("[DEFAULT]\nhost = h\nssl = false\n"))
    assert config.port is None and config.ssl is False and config.effective_port == 143


def test_starttls_alone_turns_implicit_tls_off(write) -> None:
    config = parse(write("[DEFAULT]\nhost = h\nstarttls = true\n"))
    assert config.starttls is True and config.ssl is False and config.effective_port == 143


def test_stream_takes_a_command_as_host(write) -> None:
    config = parse(write("[DEFAULT]\nhost = ssh mail.example imapd\nstream = yes\n"))
    assert config.stream is True and config.ssl is False and config.effective_port is None
    assert config.host == "ssh mail.example imapd"


@pytest.mark.parametrize("option", BOOL_OPTIONS)
@pytest.mark.parametrize("word", TRUE_WORDS + FALSE_WORDS)
def test_booleans_exactly_as_the_spec_lists(write, option, word) -> None:
    extra = "oauth2_client_id = i\noauth2_client_secret = s\noauth2_refresh_token = r\n"
    path = write(f"[DEFAULT]\nhost = imap.gmail.com\n{extra}{option} = {word}\n")
    assert getattr(parse(path), option) is (word in TRUE_WORDS)


@pytest.mark.parametrize("option", BOOL_OPTIONS)
@pytest.mark.parametrize("word", ["y", "n", "2", "-1", "enabled", "truee", "t", "none", "ja"])
def test_anything_else_is_not_a_boolean(write, option, word) -> None:
    path = write(f"[DEFAULT]\nhost = h\n{option} = {word}\n")
    error = error_of(path)
    assert_names(error, path, "DEFAULT", option)
    assert repr(word) in str(error) and "1, yes, true or on" in str(error)


def test_percent_hash_and_semicolon_are_kept_in_values(write) -> None:
    config = parse(write(f"[DEFAULT]\nhost = h\npassword = {PASSWORD}\n"))
    assert config.password == PASSWORD


def test_comments_and_blank_lines(write) -> None:
    path = write("# my servers\n[DEFAULT]\n; the default one\n\nhost = h\n\n# end\n")
    assert parse(path).host == "h"


def test_a_byte_order_mark_is_accepted(tmp_path) -> None:
    path = tmp_path / "bom.ini"
    path.write_bytes(b"\xef\xbb\xbf[DEFAULT]\nhost = h\n")
    assert parse(path).host == "h"


def test_empty_value_means_not_set(write) -> None:
    config = parse(write("[DEFAULT]\nhost = h\nport =\nssl =\ntimeout =\nusername =\n"))
    assert (config.port, config.ssl, config.timeout, config.username) == (None, True, None, None)


def test_relative_ca_file_is_relative_to_the_config_file(write, tmp_path) -> None:
    path = write("[DEFAULT]\nhost = h\nssl_ca_file = certs/ca.pem\n")
    assert parse(path).ssl_ca_file == str(tmp_path / "certs" / "ca.pem")


def test_the_path_may_start_with_a_tilde(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".imapclient.ini").write_text("[DEFAULT]\nhost = h\n")
    config = parse_config_file("~/.imapclient.ini", environ={})
    assert config.source == str(tmp_path / ".imapclient.ini")


def test_ca_file_in_home_directory_is_expanded(write, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = write("[DEFAULT]\nhost = h\nssl_ca_file = ~/ca.pem\n")
    assert parse(path).ssl_ca_file == str(tmp_path / "home" / "ca.pem")


# -- sections -------------------------------------------------------------------------

SECTIONS = """\
[DEFAULT]
host = imap.example.com
username = bob
password = default-pass
timeout = 10

[work]
host = mail.work.example
starttls = true
username = robert

[plain]
ssl = false
port = 1143
"""


def test_named_sections_inherit_from_default(write) -> None:
    path = write(SECTIONS)
    work = parse(path, "work")
    assert work.host == "mail.work.example"
    assert work.username == "robert"
    assert work.password == "default-pass"  # inherited
    assert work.timeout == 10.0  # inherited
    assert work.starttls is True and work.ssl is False
    assert work.section == "work" and work.source == str(path)

    plain = parse(path, "plain")
    assert (plain.host, plain.username, plain.ssl, plain.port) == (
        "imap.example.com",
        "bob",
        False,
        1143,
    )


def test_default_section_does_not_see_named_sections(write) -> None:
    default = parse(write(SECTIONS))
    assert (default.host, default.username, default.starttls, default.port) == (
        "imap.example.com",
        "bob",
        False,
        None,
    )


def test_config_sections_lists_the_named_sections_in_order(write) -> None:
    assert config_sections(write(SECTIONS)) == ["work", "plain"]
    assert config_sections(write("[DEFAULT]\nhost = h\n", "only.ini")) == []


def test_unknown_section(write) -> None:
    path = write(SECTIONS)
    error = error_of(path, "home")
    assert_names(error, path, "home", None)
    assert "[work], [plain]" in str(error)


def test_section_names_are_case_sensitive(write) -> None:
    path = write(SECTIONS)
    assert_names(error_of(path, "WORK"), path, "WORK", None)


def test_a_file_must_have_a_default_section(write) -> None:
    path = write("[work]\nhost = h\n")
    error = error_of(path, "work")
    assert_names(error, path, "DEFAULT", None)
    assert "no [DEFAULT] section" in str(error)
    with pytest.raises(ConfigError, match=r"no \[DEFAULT\]"):
        config_sections(path)


# -- errors ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["abc", "0", "65536", "-1", "1.5", "99999999999", "0x10"])
def test_bad_port(write, value) -> None:
    path = write(f"[DEFAULT]\nhost = h\n\n[s]\nport = {value}\n")
    error = error_of(path, "s")
    assert_names(error, path, "s", "port")
    assert repr(value) in str(error)


@pytest.mark.parametrize("value", ["1", "65535"])
def test_port_limits(write, value) -> None:
    assert parse(write(f"[DEFAULT]\nhost = h\nport = {value}\n")).port == int(value)


@pytest.mark.parametrize("value", ["abc", "0", "-3", "nan", "inf", "1e999", "10s"])
def test_bad_timeout(write, value) -> None:
    path = write(f"[DEFAULT]\nhost = h\ntimeout = {value}\n")
    error = error_of(path)
    assert_names(error, path, "DEFAULT", "timeout")


def test_error_names_the_section_the_value_came_from(write) -> None:
    path = write("[DEFAULT]\nhost = h\nport = nine\n\n[work]\nusername = bob\n")
    assert_names(error_of(path, "work"), path, "DEFAULT", "port")


def test_unknown_option_in_a_named_section(write) -> None:
    path = write("[DEFAULT]\nhost = h\n\n[work]\nusername = bob\npasword = oops\n")
    error = error_of(path, "work")
    assert_names(error, path, "work", "pasword")
    assert "unknown option" in str(error) and "oops" not in str(error)


def test_unknown_option_in_default(write) -> None:
    path = write("[DEFAULT]\nhost = h\nssl_verify = no\n\n[work]\nusername = bob\n")
    assert_names(error_of(path, "work"), path, "DEFAULT", "ssl_verify")
    assert_names(error_of(path), path, "DEFAULT", "ssl_verify")


def test_unknown_option_in_another_section_does_not_matter(write) -> None:
    path = write("[DEFAULT]\nhost = h\n\n[other]\nbogus = 1\n")
    assert parse(path).host == "h"


@pytest.mark.parametrize("text", ["[DEFAULT]\nusername = bob\n", "[DEFAULT]\nhost =\n"])
def test_missing_host(write, text) -> None:
    path = write(text)
    assert_names(error_of(path), path, "DEFAULT", "host")


def test_missing_host_in_named_section(write) -> None:
    path = write("[DEFAULT]\nusername = bob\n\n[work]\nport = 143\n")
    assert_names(error_of(path, "work"), path, "work", "host")


def test_missing_file(tmp_path) -> None:
    path = tmp_path / "nope.ini"
    error = error_of(path)
    assert_names(error, path, None, None)
    assert "cannot read" in str(error) and "No such file" in str(error)
    with pytest.raises(ConfigError, match="cannot read"):
        config_sections(path)


def test_unreadable_file(tmp_path) -> None:
    path = tmp_path / "a-directory.ini"
    path.mkdir()
    error = error_of(path)
    assert_names(error, path, None, None)
    assert "cannot read" in str(error)


def test_file_that_is_not_utf8(tmp_path) -> None:
    path = tmp_path / "latin1.ini"
    path.write_bytes("[DEFAULT]\nhost = h\npassword = \xe9t\xe9\n".encode("latin-1"))
    assert "not UTF-8" in str(error_of(path))


def test_options_before_any_section(write) -> None:
    path = write("host = h\n[DEFAULT]\n")
    error = error_of(path)
    assert_names(error, path, None, None)
    assert "line 1" in str(error)


def test_line_without_equals_is_an_error_that_does_not_quote_it(write) -> None:
    path = write("[DEFAULT]\nhost = h\n\n[work]\nusername = bob\nS3cret-typed-without-key\n")
    error = error_of(path, "work")
    assert_names(error, path, "work", None)
    assert "line 6" in str(error)
    assert "S3cret" not in str(error)


def test_option_set_twice(write) -> None:
    path = write("[DEFAULT]\nhost = h\nport = 1\nport = 2\n")
    error = error_of(path)
    assert_names(error, path, "DEFAULT", "port")
    assert "twice" in str(error)


def test_section_twice(write) -> None:
    path = write("[DEFAULT]\nhost = h\n[a]\n[a]\n")
    assert_names(error_of(path, "a"), path, "a", None)


@pytest.mark.parametrize("other", ["starttls", "stream"])
@pytest.mark.parametrize("where", ["same", "inherited"])
def test_ssl_and_starttls_or_stream_both_true(write, other, where) -> None:
    if where == "same":
        path = write(f"[DEFAULT]\nhost = h\n\n[s]\nssl = true\n{other} = true\n")
    else:
        path = write(f"[DEFAULT]\nhost = h\nssl = on\n\n[s]\n{other} = yes\n")
    error = error_of(path, "s")
    assert_names(error, path, "s", other)
    assert "both true" in str(error)


def test_ssl_false_with_starttls_is_fine(write) -> None:
    config = parse(write("[DEFAULT]\nhost = h\nssl = false\nstarttls = true\n"))
    assert (config.ssl, config.starttls) == (False, True)


def test_stream_with_a_port_or_starttls(write) -> None:
    path = write("[DEFAULT]\nhost = cmd\nstream = yes\n\n[p]\nport = 143\n\n[t]\nstarttls = on\n")
    assert_names(error_of(path, "p"), path, "p", "port")
    assert_names(error_of(path, "t"), path, "t", "starttls")


OAUTH = """\
[DEFAULT]
host = imap.gmail.com
username = bob@gmail.com
oauth2 = true
oauth2_client_id = id
oauth2_client_secret = {secret}
oauth2_refresh_token = {refresh}
"""


def test_oauth2_with_a_known_host_needs_no_token_url(write) -> None:
    config = parse(write(OAUTH.format(secret=SECRET, refresh=REFRESH)))
    assert config.oauth2 and config.oauth2_token_url is None
    assert config.oauth2_client_secret == SECRET and config.oauth2_refresh_token == REFRESH


@pytest.mark.parametrize(
    "option", ["oauth2_client_id", "oauth2_client_secret", "oauth2_refresh_token"]
)
def test_oauth2_without_its_credentials(write, option) -> None:
    text = OAUTH.format(secret=SECRET, refresh=REFRESH)
    lines = [line for line in text.splitlines() if not line.startswith(option)]
    path = write("\n".join(lines) + "\n\n[s]\nusername = x\n")
    for section in ("DEFAULT", "s"):
        error = error_of(path, section)
        assert_names(error, path, section, option)
        assert "IMAPCLIENT_" + option.upper() in str(error)


def test_oauth2_with_an_unknown_host_needs_a_token_url(write) -> None:
    text = OAUTH.format(secret=SECRET, refresh=REFRESH).replace("imap.gmail.com", "imap.corp")
    path = write(text)
    error = error_of(path)
    assert_names(error, path, "DEFAULT", "oauth2_token_url")
    path = write(text + "oauth2_token_url = https://sso.corp/token\n", "ok.ini")
    assert parse(path).oauth2_token_url == "https://sso.corp/token"


@pytest.mark.parametrize(
    "url", ["http://sso.corp/token", "ftp://sso.corp/token", "file:///etc/passwd", "not a url"]
)
def test_token_url_must_be_https(write, url) -> None:
    path = write(f"[DEFAULT]\nhost = h\noauth2_token_url = {url}\n")
    assert_names(error_of(path), path, "DEFAULT", "oauth2_token_url")


def test_oauth2_false_needs_no_oauth2_options(write) -> None:
    assert parse(write("[DEFAULT]\nhost = h\noauth2 = false\n")).oauth2 is False


def test_missing_username_and_password_are_allowed_when_parsing(write) -> None:
    # A caller (the interactive shell) may ask for them; create_client_from_config checks.
    config = parse(write("[DEFAULT]\nhost = h\n"))
    assert config.username is None and config.password is None


# -- environment variables --------------------------------------------------------------


def test_credentials_from_the_environment(write) -> None:
    path = write("[DEFAULT]\nhost = imap.gmail.com\noauth2 = yes\noauth2_client_id = id\n")
    config = parse(
        path,
        IMAPCLIENT_USERNAME="env-user",
        IMAPCLIENT_PASSWORD=PASSWORD,
        IMAPCLIENT_OAUTH2_CLIENT_SECRET=SECRET,
        IMAPCLIENT_OAUTH2_REFRESH_TOKEN=REFRESH,
    )
    assert config.username == "env-user"
    assert config.password == PASSWORD
    assert config.oauth2_client_secret == SECRET
    assert config.oauth2_refresh_token == REFRESH


def test_every_option_may_come_from_the_environment(write) -> None:
    path = write("[DEFAULT]\n")
    config = parse(
        path,
        IMAPCLIENT_HOST="env.example",
        IMAPCLIENT_PORT="1143",
        IMAPCLIENT_SSL="no",
        IMAPCLIENT_TIMEOUT="3",
        IMAPCLIENT_SSL_VERIFY_CERT="off",
        IMAPCLIENT_OAUTH2_TOKEN_URL="https://t.example/token",
    )
    assert (config.host, config.port, config.ssl, config.timeout) == ("env.example", 1143, False, 3)
    assert config.ssl_verify_cert is False
    assert config.oauth2_token_url == "https://t.example/token"


def test_the_file_wins_over_the_environment(write) -> None:
    path = write(SECTIONS)
    env = {"IMAPCLIENT_PASSWORD": "env-pass", "IMAPCLIENT_USERNAME": "env-user"}
    work = parse(path, "work", **env)
    assert work.username == "robert"  # the section's own
    assert work.password == "default-pass"  # from [DEFAULT], still the file


def test_environment_fills_what_neither_section_sets(write) -> None:
    path = write("[DEFAULT]\nhost = h\n\n[work]\nusername = w\n")
    assert parse(path, "work", IMAPCLIENT_PASSWORD="from-env").password == "from-env"


def test_an_empty_value_in_the_file_defers_to_the_environment(write) -> None:
    path = write("[DEFAULT]\nhost = h\npassword =\n")
    assert parse(path, IMAPCLIENT_PASSWORD="from-env").password == "from-env"
    assert parse(path, IMAPCLIENT_PASSWORD="").password is None


def test_os_environ_is_the_default(write, monkeypatch) -> None:
    monkeypatch.setenv("IMAPCLIENT_PASSWORD", "from-os-environ")
    path = write("[DEFAULT]\nhost = h\n")
    assert parse_config_file(path).password == "from-os-environ"
    assert parse_config_file(path, environ={}).password is None


def test_a_bad_value_from_the_environment_names_the_variable(write) -> None:
    path = write("[DEFAULT]\nhost = h\n\n[s]\n")
    error = error_of(path, "s", IMAPCLIENT_PORT="imap")
    assert_names(error, path, "s", "port")
    assert "IMAPCLIENT_PORT" in str(error)
    error = error_of(path, IMAPCLIENT_STARTTLS="maybe")
    assert_names(error, path, "DEFAULT", "starttls")


def test_unrelated_environment_variables_are_ignored(write) -> None:
    assert parse(write("[DEFAULT]\nhost = h\n"), IMAPCLIENT_COLOUR="blue").host == "h"


# -- ConnectionConfig built in code --------------------------------------------------------


def test_connection_config_validates_itself() -> None:
    with pytest.raises(ConfigError) as info:
        ConnectionConfig(host="")
    assert_names(info.value, None, "DEFAULT", "host")
    for kwargs, option in [
        ({"port": 0}, "port"),
        ({"port": 70000}, "port"),
        ({"port": True}, "port"),
        ({"timeout": -1}, "timeout"),
        ({"timeout": float("nan")}, "timeout"),
        ({"ssl": "yes"}, "ssl"),
        ({"stream": True, "port": 143}, "port"),
        ({"oauth2": True}, "oauth2_client_id"),
        ({"oauth2_token_url": "http://example.com/t"}, "oauth2_token_url"),
    ]:
        with pytest.raises(ConfigError) as info:
            ConnectionConfig(host="h", section="mine", **kwargs)
        assert_names(info.value, None, "mine", option)


def test_starttls_in_code_implies_no_implicit_tls() -> None:
    config = ConnectionConfig(host="h", starttls=True)
    assert config.ssl is False and config.effective_port == 143
    again = dataclasses.replace(config, ssl=True, starttls=False)
    assert again.ssl is True and again.effective_port == 993


def test_config_error_is_a_value_error() -> None:
    error = ConfigError("bad", path="/x.ini", section="s", option="port")
    assert isinstance(error, ValueError)
    assert str(error) == "configuration file '/x.ini', section [s], option 'port': bad"
    assert str(ConfigError("bad")) == "bad"


# -- secrets ------------------------------------------------------------------------------


def full_secret_config(path: Path) -> ConnectionConfig:
    return dataclasses.replace(
        parse(path),
        password=PASSWORD,
        oauth2_client_secret=SECRET,
        oauth2_refresh_token=REFRESH,
    )


def assert_no_secret(text: str) -> None:
    for secret in (PASSWORD, SECRET, REFRESH):
        assert secret not in text
        assert repr(secret)[1:-1] not in text


def test_repr_and_str_never_show_secrets(write) -> None:
    path = write(OAUTH.format(secret=SECRET, refresh=REFRESH) + f"password = {PASSWORD}\n")
    config = parse(path)
    assert config.password == PASSWORD
    for text in (repr(config), str(config), f"{config}", f"{config!r}", repr([config])):
        assert_no_secret(text)
    assert "password='<hidden>'" in repr(config)
    assert "oauth2_refresh_token='<hidden>'" in repr(config)
    assert "username='bob@gmail.com'" in repr(config)
    assert "password=None" in repr(ConnectionConfig(host="h"))


def test_error_messages_never_show_secrets(write) -> None:
    base = OAUTH.format(secret=SECRET, refresh=REFRESH) + f"password = {PASSWORD}\n"
    for extra in ["port = x\n", "bogus = 1\n", "ssl = true\nstarttls = true\n", f"{PASSWORD}\n"]:
        path = write(base + extra)
        assert_no_secret(str(error_of(path)))
    path = write(f"[DEFAULT]\nhost = h\npassword = {PASSWORD}\n[DEFAULT]\n")
    assert_no_secret(str(error_of(path)))


def test_parsing_logs_no_secrets(write, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="imapclient")
    path = write(OAUTH.format(secret=SECRET, refresh=REFRESH) + f"password = {PASSWORD}\n")
    parse(path)
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "imap.gmail.com" in text  # the configuration is logged, without secrets
    assert_no_secret(text)


# -- TLS contexts ----------------------------------------------------------------------------


def test_ssl_context_verifies_by_default() -> None:
    context = ConnectionConfig(host="h").ssl_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname is True


def test_ssl_context_without_hostname_check() -> None:
    context = ConnectionConfig(host="h", ssl_check_hostname=False).ssl_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname is False


def test_ssl_context_without_verification() -> None:
    context = ConnectionConfig(host="h", ssl_verify_cert=False).ssl_context()
    assert context.verify_mode == ssl.CERT_NONE and context.check_hostname is False


def test_ssl_context_with_a_missing_ca_file(write, tmp_path) -> None:
    path = write("[DEFAULT]\nhost = h\n\n[s]\nssl_ca_file = missing.pem\n")
    config = parse(path, "s")
    with pytest.raises(ConfigError) as info:
        config.ssl_context()
    assert_names(info.value, path, "s", "ssl_ca_file")
    assert "missing.pem" in str(info.value)


def test_ssl_context_with_a_ca_file_that_is_not_pem(write, tmp_path) -> None:
    (tmp_path / "junk.pem").write_text("not a certificate\n")
    config = parse(write("[DEFAULT]\nhost = h\nssl_ca_file = junk.pem\n"))
    with pytest.raises(ConfigError, match="ssl_ca_file"):
        config.ssl_context()


# -- create_client_from_config: checks before connecting ----------------------------------


@pytest.fixture
def no_connection(monkeypatch) -> None:
    """Any attempt to connect fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(config_module, "IMAPClient", refuse)


def test_missing_username_is_reported_before_connecting(write, no_connection) -> None:
    path = write("[DEFAULT]\nhost = 127.0.0.1\npassword = p\n")
    with pytest.raises(ConfigError) as info:
        create_client_from_config(parse(path))
    assert_names(info.value, path, "DEFAULT", "username")
    assert "IMAPCLIENT_USERNAME" in str(info.value)


def test_missing_password_is_reported_before_connecting(write, no_connection) -> None:
    path = write("[DEFAULT]\nhost = 127.0.0.1\n\n[s]\nusername = bob\n")
    with pytest.raises(ConfigError) as info:
        create_client_from_config(parse(path, "s"))
    assert_names(info.value, path, "s", "password")


def test_oauth2_needs_a_username(write, no_connection) -> None:
    text = OAUTH.format(secret=SECRET, refresh=REFRESH).replace("username = bob@gmail.com\n", "")
    path = write(text)
    with pytest.raises(ConfigError) as info:
        create_client_from_config(parse(path))
    assert_names(info.value, path, "DEFAULT", "username")


def test_missing_ca_file_is_reported_before_connecting(write, no_connection) -> None:
    path = write("[DEFAULT]\nhost = h\nssl_ca_file = /nonexistent/ca.pem\n")
    with pytest.raises(ConfigError, match="ssl_ca_file"):
        create_client_from_config(parse(path), login=False)


# -- create_client_from_config against Dovecot ----------------------------------------------


@pytest.fixture
def recorded(monkeypatch) -> Iterator[list[IMAPClient]]:
    """Every IMAPClient create_client_from_config makes; closed at teardown."""
    made: list[IMAPClient] = []

    class Recording(IMAPClient):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            made.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(config_module, "IMAPClient", Recording)
    yield made
    for client in made:
        client.shutdown()


def account_file(write, account, extra: str = "", section: str = "DEFAULT") -> Path:
    return write(
        f"[DEFAULT]\nhost = {account.host}\nusername = {account.username}\n"
        f"password = {account.password}\ntimeout = 20\n\n[{section}]\n{extra}"
    )


@pytest.mark.integration
def test_plain_connection_from_a_file(write, imap_account, recorded) -> None:
    path = account_file(write, imap_account, f"ssl = no\nport = {imap_account.port}\n", "plain")
    client = create_client_from_config(parse(path, "plain"))
    try:
        assert client.ssl is False
        assert client.select_folder("INBOX")[b"EXISTS"] == 0
    finally:
        client.logout()
    assert recorded == [client]


@pytest.mark.integration
def test_implicit_tls_with_ca_file(write, imap_account) -> None:
    path = account_file(
        write,
        imap_account,
        f"port = {imap_account.tls_port}\nssl_ca_file = {imap_account.ca_file}\n",
        "tls",
    )
    config = parse(path, "tls")
    assert config.ssl is True
    with create_client_from_config(config) as client:
        sock = client.socket()
        assert isinstance(sock, ssl.SSLSocket) and sock.version() is not None
        assert client.select_folder("INBOX")[b"EXISTS"] == 0


@pytest.mark.integration
def test_implicit_tls_verifies_by_default(imap_account, recorded) -> None:
    config = ConnectionConfig(
        host=imap_account.host,
        port=imap_account.tls_port,
        username=imap_account.username,
        password=imap_account.password,
        timeout=20,
    )
    with pytest.raises(ssl.SSLCertVerificationError):
        create_client_from_config(config)


@pytest.mark.integration
def test_starttls(write, imap_account) -> None:
    path = account_file(
        write,
        imap_account,
        f"starttls = yes\nport = {imap_account.port}\nssl_ca_file = {imap_account.ca_file}\n",
        "starttls",
    )
    with create_client_from_config(parse(path, "starttls")) as client:
        assert client.ssl is True
        assert isinstance(client.socket(), ssl.SSLSocket)
        assert b"STARTTLS" not in client.capabilities()
        assert client.select_folder("INBOX")[b"EXISTS"] == 0


@pytest.mark.integration
def test_starttls_checks_the_certificate(dovecot_wrong_host, recorded) -> None:
    config = ConnectionConfig(
        host=dovecot_wrong_host.host,
        port=dovecot_wrong_host.port,
        starttls=True,
        ssl_ca_file=str(dovecot_wrong_host.ca_file),
        timeout=20,
    )
    with pytest.raises(ssl.SSLCertVerificationError):
        create_client_from_config(config, login=False)
    assert recorded[0].socket() is None


@pytest.mark.integration
def test_ssl_check_hostname_false(dovecot_wrong_host) -> None:
    base = ConnectionConfig(
        host=dovecot_wrong_host.host,
        port=dovecot_wrong_host.tls_port,
        ssl_ca_file=str(dovecot_wrong_host.ca_file),
        timeout=20,
    )
    with pytest.raises(ssl.SSLCertVerificationError, match=r"(?i)hostname|match"):
        create_client_from_config(base, login=False)
    client = create_client_from_config(
        dataclasses.replace(base, ssl_check_hostname=False), login=False
    )
    with client:
        assert isinstance(client.socket(), ssl.SSLSocket)


@pytest.mark.integration
def test_ssl_verify_cert_false(dovecot_self_signed) -> None:
    base = ConnectionConfig(
        host=dovecot_self_signed.host,
        port=dovecot_self_signed.tls_port,
        ssl_ca_file=str(dovecot_self_signed.ca_file),
        timeout=20,
    )
    with pytest.raises(ssl.SSLCertVerificationError):
        create_client_from_config(base, login=False)
    client = create_client_from_config(
        dataclasses.replace(base, ssl_verify_cert=False), login=False
    )
    with client:
        assert isinstance(client.socket(), ssl.SSLSocket)


@pytest.mark.integration
def test_stream(write, dovecot, imap_account) -> None:
    argv, env = dovecot.preauth_command(imap_account.username)
    command = shlex.join(["env", *(f"{k}={v}" for k, v in env.items()), *argv])
    path = write(f"[DEFAULT]\nhost = {command}\nstream = true\ntimeout = 20\n")
    config = parse(path)
    assert config.stream and config.username is None
    with create_client_from_config(config) as client:  # PREAUTH: no login needed
        assert client.select_folder("INBOX")[b"EXISTS"] == 0


@pytest.mark.integration
def test_stream_with_credentials_skips_login_after_preauth(dovecot, imap_account) -> None:
    argv, env = dovecot.preauth_command(imap_account.username)
    command = shlex.join(["env", *(f"{k}={v}" for k, v in env.items()), *argv])
    config = ConnectionConfig(host=command, stream=True, username="ignored", password="ignored")
    with create_client_from_config(config) as client:
        assert client.select_folder("INBOX")[b"EXISTS"] == 0


@pytest.mark.integration
def test_wrong_password_raises_login_error_and_closes(imap_account, recorded, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="imapclient")
    config = ConnectionConfig(
        host=imap_account.host,
        port=imap_account.port,
        ssl=False,
        username=imap_account.username,
        password=PASSWORD,
        timeout=20,
    )
    with pytest.raises(LoginError) as info:
        create_client_from_config(config)
    assert info.value.code == b"AUTHENTICATIONFAILED"
    assert len(recorded) == 1 and recorded[0].socket() is None  # closed
    assert_no_secret(str(info.value))
    assert_no_secret("\n".join(record.getMessage() for record in caplog.records))


@pytest.mark.integration
def test_login_false_connects_without_logging_in(imap_account) -> None:
    config = ConnectionConfig(
        host=imap_account.host, port=imap_account.port, ssl=False, timeout=20
    )  # no credentials at all
    with create_client_from_config(config, login=False) as client:
        client.login(imap_account.username, imap_account.password)
        assert client.select_folder("INBOX")[b"EXISTS"] == 0


@pytest.mark.integration
def test_timeout_is_passed_on(imap_account) -> None:
    config = ConnectionConfig(
        host=imap_account.host,
        port=imap_account.port,
        ssl=False,
        username=imap_account.username,
        password=imap_account.password,
        timeout=7.5,
    )
    with create_client_from_config(config) as client:
        assert client.socket().gettimeout() == 7.5


@pytest.mark.integration
def test_password_from_the_environment_logs_nothing_secret(write, imap_account, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="imapclient")
    path = write(
        f"[DEFAULT]\nhost = {imap_account.host}\nport = {imap_account.port}\nssl = no\n"
        f"username = {imap_account.username}\ntimeout = 20\n"
    )
    config = parse_config_file(path, environ={"IMAPCLIENT_PASSWORD": imap_account.password})
    with create_client_from_config(config) as client:
        client.select_folder("INBOX")
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert imap_account.password not in text
    assert imap_account.username in text
    assert os.path.basename(path) in text


def test_stream_without_preauth_needs_credentials(recorded) -> None:
    # A command that greets without PREAUTH and then waits for its input to close.
    code = (
        "import sys; sys.stdout.write('* OK not preauth\\r\\n'); sys.stdout.flush(); "
        "sys.stdin.read()"
    )
    config = ConnectionConfig(
        host=shlex.join([sys.executable, "-c", code]), stream=True, timeout=20
    )
    with pytest.raises(ConfigError) as info:
        create_client_from_config(config)
    assert_names(info.value, None, "DEFAULT", "username")
    assert recorded[0].socket() is None  # the command was stopped
    client = create_client_from_config(config, login=False)
    assert client.welcome == b"not preauth"
    client.shutdown()
