"""The gettext catalogues: every message of the code and templates is in both, Chinese is complete,
and the committed .mo files are what the .po files compile to."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from app.web.i18n import LOCALES, TRANSLATIONS_DIR, choose_locale, from_accept_language

ROOT = Path(__file__).resolve().parents[3]


def _extracted() -> set[str]:
    method_map = [("app/web/**.py", "python"), ("app/web/templates/**.html", "jinja2")]
    options = {"app/web/templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true",
                                             "lstrip_blocks": "true"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options, keywords=keywords):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_is_complete_and_compiled(locale: str) -> None:
    po_path = TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as handle:
        catalogue = read_po(handle, locale=locale)
    ids = {m.id for m in catalogue if m.id}
    missing = _extracted() - ids
    assert not missing, f"run `make translations`: {sorted(missing)[:10]}"
    if locale == "zh_CN":
        untranslated = sorted(m.id for m in catalogue if m.id and not m.string)  # type: ignore[type-var]
        assert not untranslated, f"untranslated in zh_CN: {untranslated[:10]}"
    with (TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        compiled = read_mo(io.BytesIO(handle.read()))
    expected = {m.id: m.string for m in catalogue if m.id and m.string and not m.fuzzy}
    assert {m.id: m.string for m in compiled if m.id} == expected, "run `make translations` to recompile"


def test_language_negotiation() -> None:
    assert from_accept_language("en-GB,en;q=0.8") == "en"
    assert from_accept_language("fr-FR, zh-TW;q=0.7, en;q=0.3") == "zh_CN"
    assert from_accept_language("fr, de") is None
    assert from_accept_language("en;q=0, zh;q=0.1") == "zh_CN"
    assert choose_locale(None, None) == "zh_CN"
    assert choose_locale("en", "zh-CN") == "en"
    assert choose_locale("xx", "en") == "en"
