"""Every public name is documented, and docs/api.md matches the docstrings."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import imapclient
from imapclient import IMAPClient

ROOT = Path(__file__).resolve().parents[1]


def test_every_public_method_has_a_docstring() -> None:
    missing = [
        name
        for klass in IMAPClient.__mro__[:-1]
        for name, member in vars(klass).items()
        if not name.startswith("_")
        and (inspect.isfunction(member) or isinstance(member, property))
        and not (member.__doc__ or "").strip()
    ]
    assert missing == []


def test_generated_methods_show_the_operation_signature() -> None:
    params = list(inspect.signature(IMAPClient.select_folder).parameters)
    assert params == ["self", "folder", "readonly"]
    assert inspect.signature(IMAPClient.select_folder).return_annotation == "ResponseDict"
    assert "EXAMINE" in (IMAPClient.select_folder.__doc__ or "")


def test_every_exported_name_has_a_docstring() -> None:
    for name in imapclient.__all__:
        obj = getattr(imapclient, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert (obj.__doc__ or "").strip(), name


def test_api_reference_is_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "gen_api.py"), "--check"], check=False
    )
    assert result.returncode == 0, "docs/api.md is stale: run python docs/gen_api.py"
