"""Languages of the web UI: Chinese (zh_CN, the default) and English, from gettext catalogues.

The language is the ``lang`` cookie when set (the switch in the header), else the best match of
Accept-Language, else Chinese.  Catalogues are compiled ``.mo`` files beside this module
(``make translations`` rebuilds them from the ``.po`` sources).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
COOKIE = "lang"
# BCP 47 tags for <html lang> and Content-Language.
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> NullTranslations:
    return Translations.load(str(TRANSLATIONS_DIR), [locale], domain="messages")


def from_accept_language(header: str | None) -> str | None:
    """The supported locale the header prefers most, or None."""
    best: tuple[float, int, str] | None = None
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        locale = _supported(tag.strip())
        if locale is None or quality <= 0:
            continue
        # Highest quality wins; among equals the one listed first.
        key = (-quality, position, locale)
        if best is None or key < best:
            best = key
    return best[2] if best else None


def _supported(tag: str) -> str | None:
    primary = tag.lower().replace("_", "-").split("-")[0]
    if primary == "zh":
        return "zh_CN"
    if primary == "en":
        return "en"
    return None


def choose_locale(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LOCALES:
        return cookie
    return from_accept_language(accept_language) or DEFAULT_LOCALE


@dataclass(frozen=True)
class Gettext:
    """The translation functions of one request's language."""

    locale: str

    @property
    def html_lang(self) -> str:
        return HTML_LANG[self.locale]

    def gettext(self, message: str) -> str:
        return translations(self.locale).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return translations(self.locale).ngettext(singular, plural, n)
