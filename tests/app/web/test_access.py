"""Access without a browser: tables as labelled cards, the error summary of forms, and the contrast
of the focus ring and field borders computed from app.css (the browser tests in test_axe.py check
the rendered pages)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from app.web.forms import error_links
from app.web.tables import stack_tables
from tests.app.web.conftest import csrf_of

CSS = Path(__file__).resolve().parents[3] / "app" / "web" / "static" / "app.css"
Login = Callable[[str], TestClient]


def test_every_headed_table_becomes_labelled_cards() -> None:
    html = ('<table aria-labelledby="t"><thead><tr><th scope="col">学号</th><th scope="col" colspan="2">姓名 &amp; '
            '<span class="visually-hidden">全称</span></th><th>"引号"</th></tr></thead><tbody>'
            '<tr><td>1</td><td class="num">a</td><td data-label="自定">b</td><td><a href="/x">c</a></td></tr>'
            '<tr><td colspan="4">暂无</td></tr>'
            '<tr><th scope="row">行</th><td>x</td></tr></tbody></table>')
    out = stack_tables(html)
    assert out.startswith('<table class="cards" aria-labelledby="t">')
    assert '<td data-label="学号">1</td>' in out
    # A header spanning two columns names both; an existing label stays; quotes cannot end the attribute.
    assert '<td data-label="姓名 &amp; 全称" class="num">a</td>' in out
    assert '<td data-label="自定">b</td>' in out
    assert '<td data-label="&quot;引号&quot;"><a href="/x">c</a></td>' in out
    # The "nothing yet" row spans the table: no label.  A row header is not labelled, the cell after it is.
    assert '<td colspan="4">暂无</td>' in out
    assert '<th scope="row">行</th><td data-label="姓名 &amp; 全称">x</td>' in out
    # A table without a header, or marked wide, is left alone.
    plain = '<table><tbody><tr><th scope="row">a</th><td>1</td></tr></tbody></table>'
    assert stack_tables(plain) == plain
    wide = '<table class="wide matrix"><thead><tr><th>a</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>'
    assert stack_tables(wide) == wide
    assert stack_tables('<table class="x"><thead><tr><th>a</th></tr></thead></table>').startswith(
        '<table class="x cards">')


def test_error_links_name_the_fields_by_their_labels() -> None:
    body = ('<p><label for="f-name">姓名 <span aria-hidden="true">*</span></label><input id="f-name"></p>'
            '<fieldset id="f-levels"><legend>层次 &amp; 类型</legend></fieldset><input id="f-bare">')
    links = error_links({"__all__": "整体", "name": "必填", "levels": "请选择", "bare": "错", "gone": "无"}, body)
    assert links == [("#f-name", "姓名", "必填"), ("#f-levels", "层次 & 类型", "请选择"), ("#f-bare", "bare", "错"),
                     ("#error-summary", "gone", "无")]


def test_a_failed_form_opens_on_a_summary_linked_to_its_marked_fields(as_user: Login) -> None:
    client = as_user("enterprise_a")
    token = csrf_of(client.get("/lecturers/new").text)
    assert 'id="error-summary"' not in client.get("/lecturers/new").text
    page = client.post("/lecturers/new", data={"csrf_token": token, "name": "", "max_weekly_hours": "abc"})
    assert page.status_code == 422
    html = page.text
    summary = re.search(r'<div class="error-summary" id="error-summary" role="alert" tabindex="-1"[^>]*>(.*?)</div>',
                        html, re.DOTALL)
    assert summary, html
    assert "<h2" in summary.group(1) and "提交的内容有问题" in summary.group(1)
    links = dict(re.findall(r'<a href="#(f-[a-z_]+)">([^<]+)</a>', summary.group(1)))
    assert links["f-name"].startswith("姓名:") and links["f-max_weekly_hours"].startswith("每周学时:")
    # The summary comes before the form; each invalid field is marked and described by its message.
    assert html.index('id="error-summary"') < html.index('action="/lecturers/new"')
    for name in ("name", "max_weekly_hours"):
        tag = re.search(rf'<(?:input|textarea) id="f-{name}"[^>]*>', html)
        assert tag and 'aria-invalid="true"' in tag.group(0), name
        described = re.search(r'aria-describedby="([^"]+)"', tag.group(0))
        assert described and f"e-{name}" in described.group(1).split()
        message = re.search(rf'<span class="field-error" id="e-{name}">([^<]+)</span>', html)
        assert message and re.search(r"[\u4e00-\u9fff]", message.group(1)), name
    valid = re.search(r'<input id="f-title"[^>]*>', html)
    assert valid and "aria-invalid" not in valid.group(0)  # a valid field is not marked


def test_failed_sign_in_and_password_change_use_the_summary(as_user: Login) -> None:
    client = as_user("enterprise_a")
    token = csrf_of(client.get("/account/password").text)
    page = client.post("/account/password", data={"csrf_token": token, "current_password": "x" * 12,
                                                  "new_password": "a" * 12, "confirm_password": "b" * 12})
    assert page.status_code == 422
    assert 'href="#f-confirm_password"' in page.text and 'id="e-confirm_password"' in page.text
    client.cookies.clear()
    token = csrf_of(client.get("/login").text)
    page = client.post("/login", data={"csrf_token": token, "username": "u-enterprise_a", "password": "wrong"})
    assert page.status_code == 401
    assert 'href="#f-username"' in page.text and "autofocus" not in page.text


# --------------------------------------------------------------------------- contrast from app.css


def _luminance(colour: str) -> float:
    value = colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    channels = [int(value[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_formula() -> None:
    assert round(contrast("#000", "#fff"), 1) == 21.0 and contrast("#777", "#777") == 1.0


def test_focus_ring_and_field_borders_have_3_to_1_against_every_background() -> None:
    css = CSS.read_text(encoding="utf-8")
    props = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{3,6})\b", css))
    # Every background colour the stylesheet paints (the page, cards, table heads, notices...).
    backgrounds = {props["bg"], props["card"], "#ffffff"}
    backgrounds |= set(re.findall(r"background(?:-color)?:\s*(#[0-9a-fA-F]{3,6})\b", css))
    # Filled buttons are painted in the accent and the danger colour; the ring sits outside them
    # (outline-offset), on the background around the button, so those fills are not its neighbours.
    assert len(backgrounds) >= 8, backgrounds
    focus = re.search(r":focus-visible\s*{[^}]*outline:\s*(\d+)px solid var\(--focus\)", css)
    assert focus and int(focus.group(1)) >= 2
    field = re.search(r"input, select, textarea {[^}]*border: 1px solid var\(--field-line\)", css)
    assert field
    for name in ("focus", "field-line", "bad"):  # bad: the border of an invalid field
        for background in backgrounds:
            ratio = contrast(props[name], background)
            assert ratio >= 3, (name, props[name], background, round(ratio, 2))
