"""Every table of every page as labelled cards on a phone, from its own header.

At narrow widths (app.css, ``table.cards``) a row becomes a card and each cell shows its column's
name before it (``td::before { content: attr(data-label) }``).  Rather than each template repeating
every column's name on every cell (and a new page forgetting to), ``render`` passes the finished
page through :func:`stack_tables` once: each ``<table>`` with a ``<thead>`` gets the class
``cards`` and each body cell a ``data-label`` naming its column.  The markup is the templates' own
(autoescaped) output, never user HTML, so a tag-level scan is enough: cells do not nest tables.

A cell that already has a ``data-label`` keeps it; a cell spanning the whole row (the "nothing
yet" row) and row headers (``<th scope="row">``) get none; ``<table class="wide">`` opts out (a
matrix that only makes sense as a grid, scrolled sideways inside its wrapper).
"""

from __future__ import annotations

import re

_TABLE = re.compile(r"(<table\b)([^>]*)(>)(.*?)(</table>)", re.DOTALL | re.IGNORECASE)
_THEAD = re.compile(r"<thead\b[^>]*>(.*?)</thead>", re.DOTALL | re.IGNORECASE)
_TBODY = re.compile(r"(<tbody\b[^>]*>)(.*?)(</tbody>)", re.DOTALL | re.IGNORECASE)
_HEAD_CELL = re.compile(r"<th\b([^>]*)>(.*?)</th>", re.DOTALL | re.IGNORECASE)
_ROW = re.compile(r"(<tr\b[^>]*>)(.*?)(</tr>)", re.DOTALL | re.IGNORECASE)
_CELL = re.compile(r"<(td|th)\b([^>]*)>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_SPAN = re.compile(r"""\bcolspan\s*=\s*["']?(\d+)""", re.IGNORECASE)
_CLASS = re.compile(r"""\bclass\s*=\s*(["'])(.*?)\1""", re.IGNORECASE | re.DOTALL)


def _span(attrs: str) -> int:
    found = _SPAN.search(attrs)
    return max(1, int(found.group(1))) if found else 1


def _classes(attrs: str) -> list[str]:
    found = _CLASS.search(attrs)
    return found.group(2).split() if found else []


def _label(inner: str) -> str:
    # The header's text as shown (its visually hidden words included), already HTML-escaped by the
    # template; only a quote would end the attribute early.
    return " ".join(_TAG.sub(" ", inner).split()).replace('"', "&quot;")


def _with_class(attrs: str, name: str) -> str:
    found = _CLASS.search(attrs)
    if found is None:
        return f' class="{name}"{attrs}'
    if name in found.group(2).split():
        return attrs
    quote = found.group(1)
    return attrs[: found.start()] + f"class={quote}{found.group(2)} {name}{quote}" + attrs[found.end():]


def _label_row(row: str, labels: list[str]) -> str:
    width = len(labels)
    out: list[str] = []
    last = 0
    column = 0
    for cell in _CELL.finditer(row):
        kind, attrs = cell.group(1).lower(), cell.group(2)
        span = _span(attrs)
        out.append(row[last:cell.start()])
        label = labels[column] if column < width else ""
        if kind == "td" and span < width and label and "data-label" not in attrs:
            out.append(f'<td data-label="{label}"{attrs}>')
        else:
            out.append(cell.group(0))
        last = cell.end()
        column += span
    out.append(row[last:])
    return "".join(out)


def _stack(match: re.Match[str]) -> str:
    open_tag, attrs, close, inner, end = match.groups()
    head = _THEAD.search(inner)
    if head is None or "wide" in _classes(attrs):
        return match.group(0)
    labels: list[str] = []
    for cell in _HEAD_CELL.finditer(head.group(1)):
        labels.extend([_label(cell.group(2))] * _span(cell.group(1)))

    def body(part: re.Match[str]) -> str:
        rows = _ROW.sub(lambda r: r.group(1) + _label_row(r.group(2), labels) + r.group(3), part.group(2))
        return part.group(1) + rows + part.group(3)

    return open_tag + _with_class(attrs, "cards") + close + _TBODY.sub(body, inner) + end


def stack_tables(html: str) -> str:
    """``html`` with every headed table marked as ``cards`` and its body cells labelled by column."""
    if "<table" not in html:
        return html
    return _TABLE.sub(_stack, html)


__all__ = ["stack_tables"]
