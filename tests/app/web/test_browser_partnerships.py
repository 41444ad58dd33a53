"""In a real browser (zh-CN): HR proposes a partnership, the college agrees, the scheduler runs an
allocation that honours its reserved seats, and the college reads the partnership's report."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import select

from app.db.engine import make_engine, make_session_factory
from app.db.models import AllocationRun, Opening, Partnership, Placement, Student
from tests.app.web.test_browser import (  # noqa: F401  (fixtures)
    Browser,
    Site,
    _page,
    _shot,
    _sign_in,
    _submit_run,
    browser,
    expect,
    site,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser"), pytest.mark.timeout(300)]


def test_propose_agree_allocate_and_report_a_partnership(browser: Browser, site: Site) -> None:  # noqa: F811
    college_id = site.colleges["placement_office@贵州"]
    page = _page(browser)
    _sign_in(page, site, "enterprise_hr")
    page.goto(site.url + "/partnerships")
    expect(page.locator("main h1")).to_have_text("校企合作")
    page.locator("#f-name").fill("浏览器订单班")
    page.locator("#f-college_id").select_option(str(college_id))
    programs = page.locator("input[name='program_ids']")
    expect(programs.first).to_be_visible()
    programs.first.check()
    page.locator("input[name='forms'][value='order_class']").check()
    page.locator("#f-term").fill("2027-spring")
    page.locator("#f-reserved_seats").fill("2")
    _shot(page, "hr-partnership-propose")
    page.get_by_role("button", name="提出").click()
    expect(page).to_have_url(re.compile(r"/partnerships/\d+$"))
    pid = int(page.url.rsplit("/", 1)[1])
    expect(page.locator(".flash.ok")).to_contain_text("待另一方确认")
    expect(page.locator("#agree")).to_have_count(0)  # the proposer does not agree
    page.context.close()

    page = _page(browser)
    _sign_in(page, site, "placement_office@贵州")
    page.goto(f"{site.url}/partnerships/{pid}")
    page.locator("#agree").click()
    expect(page.locator("#status")).to_have_text("已确认")
    _shot(page, "office-partnership-agreed")
    page.context.close()

    page = _submit_run(browser, site, "贵州")
    run_id = int(page.url.rsplit("/", 1)[1])
    expect(page.get_by_role("link", name=re.compile("^(发布…|Publish…)$"))).to_be_visible(timeout=120_000)
    page.context.close()
    engine = make_engine(site.database)
    with make_session_factory(engine)() as session:
        run = session.get(AllocationRun, run_id)
        partnership = session.get(Partnership, pid)
        assert run is not None and partnership is not None
        reservations = [r for r in (run.basis or {}).get("reservations", []) if str(pid) in str(r[0]).split("+")]
        assert reservations, run.basis
        for name, opening_id, programs_held, seats in reservations:
            opening = session.get(Opening, int(opening_id))
            assert opening is not None
            held = Counter(str(p) for p in session.scalars(
                select(Student.program_id).join(Placement, Placement.student_id == Student.id)
                .where(Placement.run_id == run_id, Placement.opening_id == int(opening_id))))
            others = sum(n for p, n in held.items() if p not in programs_held)
            # Other programs' students hold at most the seats the partnership does not reserve.
            assert others <= opening.seats - seats, (name, held, opening.seats, seats)
    engine.dispose()

    page = _page(browser)
    _sign_in(page, site, "placement_office@贵州")
    page.goto(f"{site.url}/partnerships/{pid}")
    expect(page.locator("#h-report")).to_have_text("分学期报告")
    expect(page.locator("figure.chart")).to_have_count(2)
    # The trend: earlier terms' placements of the programs at the enterprise, and this term's commitment.
    expect(page.locator("#report tbody tr")).to_have_count(2)
    this_term = page.locator("#report tbody tr").filter(has_text="2027年春季学期")
    expect(this_term.locator("td").nth(1)).to_have_text("2")
    _shot(page, "office-partnership-report")
    page.goto(site.url + "/partner-recommendations")
    expect(page.locator("#recommendations tbody tr").first).to_contain_text(re.compile(r"\d"))
    _shot(page, "office-partner-recommendations")
    page.context.close()
    # On a phone nothing overflows sideways except inside the scrollable table wrappers.
    page = _page(browser, width=390)
    _sign_in(page, site, "placement_office@贵州")
    for path in ("/partnerships", f"/partnerships/{pid}", "/partner-recommendations"):
        page.goto(site.url + path)
        expect(page.locator("main h1")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    _shot(page, "office-partnership-390")
    page.context.close()
    page = _page(browser)
    _sign_in(page, site, "scheduler")
    page.goto(site.url + "/alliances")
    page.get_by_role("link", name="贵阳大数据产教联合体").click()
    expect(page.locator("#alliance-partnerships")).to_contain_text("筑云大数据产业学院")
    expect(page.locator("#run-alliance")).to_be_visible()
    _shot(page, "scheduler-alliance")
    page.context.close()
