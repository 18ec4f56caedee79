"""Every string a person reads has its Arabic: no untranslated or fuzzy msgid in any catalog,
and no template or module string missing from its app's catalog.

The second check runs Django's own `makemessages` over a copy of each app that has a catalog
(so the committed files are never touched) and reads the result with Babel: a `{% translate %}`
added to a template without its Arabic fails here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
CATALOGS = sorted(ROOT.glob("wasla/**/locale/ar/LC_MESSAGES/django.po")) + sorted(
    ROOT.glob("sandbox/**/locale/ar/LC_MESSAGES/django.po")
)


def _untranslated(po_path: Path) -> list[str]:
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale="ar")
    missing = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(str(message.id))
    return missing


def _app_dir(po_path: Path) -> Path:
    return po_path.parents[3]


def test_there_are_catalogs() -> None:
    assert any("wasla/common" in str(path) for path in CATALOGS)


@pytest.mark.parametrize("po_path", CATALOGS, ids=lambda p: str(_app_dir(p).relative_to(ROOT)))
def test_catalog_has_arabic_for_every_msgid(po_path: Path) -> None:
    assert _untranslated(po_path) == []


@pytest.mark.parametrize("po_path", CATALOGS, ids=lambda p: str(_app_dir(p).relative_to(ROOT)))
def test_every_string_of_the_app_is_in_its_catalog(po_path: Path, tmp_path: Path) -> None:
    app = _app_dir(po_path)
    copy = tmp_path / app.name
    shutil.copytree(app, copy, ignore=shutil.ignore_patterns("tests", "__pycache__", "*.mo"))
    subprocess.run(
        [
            sys.executable,
            # -P: the copy's own modules (an app's selectors.py) must not shadow the standard
            # library's (subprocess imports `selectors`), as `-m` would put the cwd first.
            "-P",
            "-m",
            "django",
            "makemessages",
            "-l",
            "ar",
            "--no-obsolete",
            "--no-location",
            "--ignore",
            "migrations/*",
        ],
        cwd=copy,
        check=True,
        capture_output=True,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
        },
    )
    missing = _untranslated(copy / "locale/ar/LC_MESSAGES/django.po")
    assert missing == [], f"{app.relative_to(ROOT)}: strings without Arabic: {missing}"


def test_one_english_text_has_one_arabic_text_in_every_catalog() -> None:
    """Django merges the catalogs into one, so a msgid translated two ways in two apps shows
    only one of them everywhere (the first app's): a sandbox badge took the portal's wording,
    and a portal label could have changed the wording of the invoice PDF. One text, one Arabic."""
    seen: dict[tuple[str, str | None], dict[str, str]] = {}
    for po_path in CATALOGS:
        with po_path.open("rb") as handle:
            for message in read_po(handle, locale="ar"):
                if message.id and isinstance(message.id, str) and message.string:
                    app = str(_app_dir(po_path).relative_to(ROOT))
                    seen.setdefault((message.id, message.context), {})[app] = str(message.string)
    differing = {key: apps for key, apps in seen.items() if len(set(apps.values())) > 1}
    assert differing == {}
