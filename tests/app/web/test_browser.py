"""End to end in a real browser: Debian's Chromium (headless, through Playwright) against the real
server and worker processes on a migrated, demo-seeded SQLite file.

Flows: every role signs in; HR creates an opening with the 大典 suggestion; a scheduler runs and
publishes an allocation while the page follows its progress; the placement office accepts a
placement; a whole term (HR's opening and lecturer offer, the office's course need, runs, answers,
a supplementary round, agreements, a lecturer run, the office's student filter and course need page,
HR's interns and lecturers' placements).  Screenshots of the main pages go to
test-artifacts/screenshots/ (at 1280 px, and a few at 390 px).  Never downloads a browser: without
/usr/bin/chromium the tests skip, and under CI=true they fail instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from app.db.engine import make_engine, make_session_factory
from tests.support.browser import ARTIFACTS, CHROMIUM, Site, chromium, demo_site, new_page, sign_in

SHOTS = ARTIFACTS / "screenshots"

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]

if not CHROMIUM.exists():
    if os.environ.get("CI", "").lower() == "true":
        raise RuntimeError("CI=true but /usr/bin/chromium is missing: .ci/run installs the chromium package")
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect  # noqa: E402 - only with Chromium


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with demo_site(tmp_path_factory.mktemp("browser")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium() as launched:
        yield launched


_page = new_page
_sign_in = sign_in


def _shot(page: Page, name: str, *, full_page: bool = True) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def test_every_role_signs_in_and_sees_its_pages(browser: Browser, site: Site) -> None:
    pages: dict[str, list[tuple[str, str]]] = {
        "placement_office@贵州": [("/dashboard", "office-dashboard"), ("/programs", "office-programs"),
                                ("/programs/1", "office-program-matches"), ("/students", "office-students")],
        "enterprise_hr": [("/dashboard", "hr-dashboard"), ("/openings", "hr-openings"), ("/lecturers", "hr-lecturers"),
                          ("/notifications", "hr-notifications")],
        "scheduler": [("/runs", "scheduler-runs")],
        "admin": [("/runs", "admin-runs")],
    }
    for width in (1280, 390):
        for who, paths in pages.items():
            page = _page(browser, width=width)
            _sign_in(page, site, who)
            for path, name in paths:
                page.goto(site.url + path)
                expect(page.locator("main h1")).to_be_visible()
                if path.startswith("/programs/"):
                    expect(page.locator("figure.chart").first).to_be_visible()  # loaded by htmx
                # Nothing overflows sideways except inside the scrollable table wrappers.
                assert page.evaluate("document.documentElement.scrollWidth") <= width, (path, width)
                _shot(page, name if width == 1280 else f"{name}-{width}", full_page=width == 1280)
            page.context.close()
    # The sign-in page in English.
    page = _page(browser, locale="en-US")
    page.goto(site.url + "/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    _shot(page, "login-en")
    page.context.close()


def test_hr_creates_an_opening_with_the_occupation_suggestion(browser: Browser, site: Site) -> None:
    page = _page(browser)
    _sign_in(page, site, "enterprise_hr")
    page.goto(site.url + "/openings/new")
    title = page.locator("#f-title")
    title.fill("计算机程序设计员")
    title.press("End")  # a keyup: htmx asks for suggestions after 300 ms
    first = page.locator("#occupation-suggestions input[type=radio]").first
    # The first suggestion builds the 大典 index (a few seconds; longer on a busy CI machine).
    expect(first).to_be_visible(timeout=60_000)
    first.check()
    code = first.get_attribute("value")
    expect(page.locator("#f-occupation_code")).to_have_value(code or "")
    _shot(page, "hr-opening-new-suggestions")
    page.locator("#f-seats").fill("2")
    page.locator("#f-term").fill("2027-spring")
    page.locator("#f-province").fill("贵州")
    page.locator("#f-city").fill("贵阳")
    page.locator("#f-required_skills").fill("Python；SQL")
    page.get_by_role("button", name=re.compile("保存|Save")).click()
    expect(page).to_have_url(re.compile(r"/openings/\d+$"))
    expect(page.locator("main h1")).to_have_text("计算机程序设计员")
    _shot(page, "hr-opening-detail")
    page.context.close()


def _submit_run(browser: Browser, site: Site, province: str, kind: str = "internship") -> Page:
    """A scheduler's page on the run just submitted for ``province`` (20 s at most)."""
    page = _page(browser)
    _sign_in(page, site, "scheduler")
    page.goto(site.url + "/runs")
    page.locator("#f-kind").select_option(kind)
    page.locator("#f-province").fill(province)
    page.locator("#f-time_limit_s").fill("20")
    page.get_by_role("button", name=re.compile("^(提交|Submit run)$")).click()
    expect(page).to_have_url(re.compile(r"/runs/\d+$"))
    return page


def test_scheduler_runs_and_publishes_then_the_college_accepts(browser: Browser, site: Site) -> None:
    page = _submit_run(browser, site, "贵州")
    run_url = page.url
    _shot(page, "scheduler-run-progress")
    # htmx polls the status every second and reloads the page when the run ends.
    publish = page.get_by_role("link", name=re.compile("^(发布…|Publish…)$"))
    expect(publish).to_be_visible(timeout=90_000)
    expect(page.locator("figure.chart")).to_have_count(3)
    _shot(page, "scheduler-run-kpis")
    publish.click()
    # Publishing asks first, saying what it will publish.
    expect(page.locator("main")).to_contain_text(re.compile("将向院校和企业发布|offers go to"))
    _shot(page, "scheduler-publish-confirm")
    page.get_by_role("button", name=re.compile("^(发布|Publish)$")).click()
    expect(page.locator(".flash.ok")).to_be_visible()
    _shot(page, "scheduler-run-published")
    run_id = run_url.rsplit("/", 1)[1]
    page.goto(f"{site.url}/runs/compare?ids={run_id}")
    _shot(page, "scheduler-compare")
    page.context.close()

    page = _page(browser)
    _sign_in(page, site, "placement_office@贵州")
    page.goto(site.url + "/placements")
    accept = page.get_by_role("button", name=re.compile("^(接受|Accept placement)")).first
    expect(accept).to_be_visible()
    row = page.locator("tbody tr").filter(has=accept).first
    row_id = row.get_attribute("id")
    accept.click()
    expect(page.locator(f"#{row_id} .badge")).to_have_text(re.compile("已接受|accepted"))
    _shot(page, "office-placements")
    page.context.close()


def _students_file(rows: list[list[object]]) -> bytes:
    import io

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["学号", "姓名", "专业", "手机", "技能", "成绩", "省份", "城市"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _stored_students(site: Site, numbers: list[str]) -> list[str]:
    from app.db.models import Student

    engine = make_engine(site.database)
    try:
        with make_session_factory(engine)() as session:
            return sorted(session.scalars(select(Student.student_no).where(Student.student_no.in_(numbers))))
    finally:
        engine.dispose()


def _import_students(page: Page, site: Site, content: bytes) -> None:
    page.goto(site.url + "/students")
    page.locator("#import-file").set_input_files(
        {"name": "新生名单.xlsx", "buffer": content,
         "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
    page.get_by_label("试导入：只检查，不保存").uncheck()
    page.get_by_role("button", name="上传").click()
    page.wait_for_load_state()


def office_imports_students(browser: Browser, site: Site, who: str, prefix: str) -> None:
    """The office imports students from a Chinese-header workbook with one bad row (shown in Chinese,
    naming its row and column; nothing stored), fixes it and imports again."""
    from app.db.models import Program

    engine = make_engine(site.database)
    with make_session_factory(engine)() as session:
        program = session.scalars(select(Program).where(Program.college_id == site.colleges[who])
                                  .order_by(Program.id)).first()
        assert program is not None
        major = program.name
    engine.dispose()
    numbers = [f"{prefix}01", f"{prefix}02"]
    page = _page(browser)
    _sign_in(page, site, who)
    _import_students(page, site, _students_file([
        [numbers[0], "新生甲", major, "13800138000", "Python；SQL", 88, "贵州省", "贵阳"],
        [numbers[1], "新生乙", major, "13800138001", "Linux", 150, "贵州", "遵义"]]))
    report = page.locator("table", has=page.locator("caption", has_text="按行列出的错误"))
    expect(report.locator("tbody tr")).to_have_count(1)
    cells = report.locator("tbody tr td")
    expect(cells.nth(0)).to_have_text("3")
    expect(cells.nth(1)).to_have_text("成绩")
    expect(cells.nth(2)).to_have_text("请输入不大于 100 的数字。")
    expect(page.locator("main")).to_contain_text("未保存任何数据")
    _shot(page, "office-import-refused")
    assert _stored_students(site, numbers) == []  # nothing stored

    _import_students(page, site, _students_file([
        [numbers[0], "新生甲", major, "13800138000", "Python；SQL", 88, "贵州省", "贵阳"],
        [numbers[1], "新生乙", major, "13800138001", "Linux", 90, "贵州", "遵义"]]))
    expect(page.locator(".flash.ok")).to_have_text("已导入 2 行。")
    assert _stored_students(site, numbers) == numbers
    page.context.close()


def office_exports_placements(browser: Browser, site: Site, who: str) -> list[dict[str, object]]:
    """The office downloads its placements as a workbook: Chinese headers, frozen, one row a placement."""
    import io

    import openpyxl

    page = _page(browser)
    _sign_in(page, site, who)
    page.goto(site.url + "/placements")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出实习安排（XLSX）").click()
    sheet = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).worksheets[0]
    page.context.close()
    assert sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:8] == ("学号", "姓名", "学校", "专业", "岗位编号", "岗位名称", "企业", "城市")
    assert len(rows) > 1, "the college has published placements"
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    record = records[0]
    assert record["学号"] and record["姓名"] and record["企业"] and int(str(record["轮次"])) >= 1
    assert record["状态"] in {"已发布", "已接受", "已拒绝", "已签协议", "已被后续轮次替代", "已撤回"}
    return records


def test_office_imports_a_chinese_file_fixes_a_bad_row_and_exports_placements(browser: Browser, site: Site) -> None:
    office_imports_students(browser, site, "placement_office@贵州", "2099贵")
    office_exports_placements(browser, site, "placement_office@贵州")




def _wait_for_result(page: Page) -> None:
    # htmx polls the status every second and reloads the page when the run ends.
    expect(page.get_by_role("link", name=re.compile("^(发布…|Publish…)$"))).to_be_visible(timeout=90_000)


@pytest.mark.timeout(600)
def test_a_whole_term_in_the_browser(browser: Browser, site: Site) -> None:
    """The ledger through the pages, in zh-CN (辽宁, apart from the other tests' 贵州 runs): a run and
    a what-if compared with their parameters, publication after its confirmation, answers (accept,
    decline after its own page), a supplementary round that supersedes the first, the 三方协议 with
    its number, and the placements at 390 px as cards.  Around it: HR adds an opening and a lecturer
    offer, the office a course need, through their forms; a lecturer run places the lecturer; at the
    end the office filters its student list and reads the course need's page, and HR sees its
    interns and its lecturers' placements."""
    opening_title, lecturer_name, course = "电气自动化实习生（浏览器）", "孙工（浏览器）", "PLC 编程实训（浏览器）"
    hr = _page(browser)
    _sign_in(hr, site, "enterprise_hr")
    hr.goto(site.url + "/openings/new")
    hr.locator("#f-title").fill(opening_title)
    hr.locator("#f-description").fill("PLC 编程、电气控制柜装配与调试，供配电系统巡检，电气 CAD 图纸绘制")
    hr.locator("#f-required_skills").fill("PLC编程；电气控制；电气CAD")
    hr.locator("#f-seats").fill("3")
    hr.locator("#f-term").fill("2027-spring")
    hr.locator("#f-province").fill("辽宁省")  # stored as 辽宁, the runs' scope
    hr.locator("#f-city").fill("沈阳")
    hr.get_by_role("button", name="保存").click()
    expect(hr).to_have_url(re.compile(r"/openings/\d+$"))
    expect(hr.locator("main h1")).to_have_text(opening_title)
    hr.goto(site.url + "/lecturers/new")
    hr.locator("#f-name").fill(lecturer_name)
    hr.locator("#f-title").fill("电气高级工程师")
    hr.locator("#f-expertise").fill("PLC 编程与电气控制系统调试，十年产线自动化改造经验")
    hr.locator("#f-topics").fill("PLC编程；电气控制")
    hr.locator("#f-max_weekly_hours").fill("10")
    hr.locator("#f-available_slots").fill("mon4; fri4; wed2; wed3; tue3")
    hr.locator("#f-cities").fill("贵阳；遵义；六盘水；安顺；毕节；铜仁；凯里；都匀")
    hr.get_by_role("button", name="保存").click()
    expect(hr.locator(".flash.ok")).to_be_visible()
    expect(hr.locator("main")).to_contain_text(lecturer_name)
    hr.context.close()

    # A lecturer run's scope is the lecturers' enterprises' province: HR's enterprise is in 贵州.
    office = _page(browser)
    _sign_in(office, site, "placement_office@贵州")
    office.goto(site.url + "/course-needs/new")
    program = office.locator("#f-program_id option", has_text="2027年春季学期").first.get_attribute("value")
    office.locator("#f-program_id").select_option(program)
    office.locator("#f-course_name").fill(course)
    office.locator("#f-topics").fill("PLC编程；电气控制")
    office.locator("#f-weekly_hours").fill("2")
    office.locator("#f-term").fill("2027-spring")
    office.locator("#f-slots").fill("fri4")
    office.get_by_role("button", name="保存").click()
    expect(office).to_have_url(re.compile(r"/course-needs/\d+$"))
    need_url = office.url
    expect(office.locator("#current-lecturer")).to_have_text("尚无")
    office.context.close()

    page = _submit_run(browser, site, "辽宁")
    first = page.url
    _wait_for_result(page)
    page.locator("summary", has_text="假设方案").click()
    page.locator("#w-seed").fill("5")
    page.get_by_role("button", name="运行假设方案").click()
    expect(page).to_have_url(re.compile(r"/runs/\d+$"))
    what_if = page.url
    _wait_for_result(page)
    page.goto(f"{site.url}/runs/compare?ids={first.rsplit('/', 1)[1]}&ids={what_if.rsplit('/', 1)[1]}")
    expect(page.locator("main")).to_contain_text("随机种子")
    _shot(page, "scheduler-compare-whatif")
    page.goto(first)
    page.get_by_role("link", name="发布…").click()
    expect(page.locator("main")).to_contain_text("将向院校和企业发布")
    page.get_by_role("button", name=re.compile("^发布$")).click()
    expect(page.locator(".flash.ok")).to_be_visible()
    page.context.close()

    office = _page(browser)
    _sign_in(office, site, "placement_office@辽宁")
    office.goto(site.url + "/placements")
    accept = office.get_by_role("button", name=re.compile("^接受")).first
    expect(accept).to_be_visible()
    accepted_row = office.locator("tbody tr").filter(has=accept).first.get_attribute("id")
    accept.click()
    expect(office.locator(f"#{accepted_row} .badge")).to_have_text("已接受")
    decline = office.get_by_role("link", name=re.compile("^拒绝")).first
    declined_row = office.locator("tbody tr").filter(has=decline).first.get_attribute("id")
    decline.click()
    expect(office.locator("main h1")).to_have_text("确定拒绝该安排？")
    office.get_by_role("button", name="拒绝").click()
    expect(office.locator(f"#{declined_row} .badge")).to_have_text("已拒绝")
    office.context.close()

    page = _page(browser)
    _sign_in(page, site, "scheduler")
    page.goto(first)
    page.get_by_role("button", name="进行补录轮次").click()
    expect(page).to_have_url(re.compile(r"/runs/\d+$"))
    _wait_for_result(page)
    expect(page.locator("main")).to_contain_text("接续运行")
    page.get_by_role("link", name="发布…").click()
    expect(page.locator("main")).to_contain_text("它将替代第 1 轮")
    _shot(page, "scheduler-publish-round-2")
    page.get_by_role("button", name=re.compile("^发布$")).click()
    expect(page.locator(".flash.ok")).to_be_visible()
    page.goto(first)
    expect(page.locator("#run-status .badge")).to_have_text("已被后续轮次替代")
    page.context.close()

    office = _page(browser)
    _sign_in(office, site, "placement_office@辽宁")
    office.goto(site.url + "/placements?status=accepted")
    row = office.locator(f"#{accepted_row}")
    row.get_by_label("协议编号").fill("辽实协-2027-001")
    row.get_by_role("button", name="登记三方协议").click()
    expect(office.locator(".flash.ok")).to_be_visible()
    office.goto(site.url + "/placements?status=confirmed")
    expect(office.locator(f"#{accepted_row} .badge")).to_have_text("已签协议")
    expect(office.locator(f"#{accepted_row}")).to_contain_text("辽实协-2027-001")
    _shot(office, "office-placements-term")
    office.context.close()
    exported = office_exports_placements(browser, site, "placement_office@辽宁")
    signed = [r for r in exported if r["三方协议编号"] == "辽实协-2027-001"]
    assert [(r["状态"], r["轮次"]) for r in signed] == [("已签协议", 1)]

    # The lecturers: a lecturer run of 贵州, published, places HR's lecturer on the office's course.
    page = _submit_run(browser, site, "贵州", kind="lecturer")
    _wait_for_result(page)
    page.get_by_role("link", name="发布…").click()
    page.get_by_role("button", name=re.compile("^发布$")).click()
    expect(page.locator(".flash.ok")).to_be_visible()
    page.context.close()

    office = _page(browser)
    _sign_in(office, site, "placement_office@辽宁")
    office.goto(site.url + "/students")
    office.locator("#f-status").select_option("confirmed")
    office.get_by_role("button", name="搜索").click()
    expect(office.locator("#student-count")).to_have_text("共 1 名学生符合条件。")
    expect(office.locator("tbody tr")).to_have_count(1)
    expect(office.locator("tbody tr .badge")).to_have_text("已签协议")
    _shot(office, "office-students-filtered")
    office.context.close()

    office = _page(browser)
    _sign_in(office, site, "placement_office@贵州")
    office.goto(site.url + "/course-needs")
    expect(office.locator("tbody tr", has_text=course)).to_contain_text(lecturer_name)
    office.locator("tbody tr", has_text=course).get_by_role("link", name=course, exact=True).click()
    expect(office).to_have_url(need_url)
    expect(office.locator("#current-lecturer")).to_contain_text(lecturer_name)
    _shot(office, "office-course-need")
    office.context.close()

    hr = _page(browser)
    _sign_in(hr, site, "enterprise_hr")
    hr.goto(site.url + "/interns")
    expect(hr.locator("tbody tr", has_text=opening_title).first).to_be_visible()
    _shot(hr, "hr-interns")
    hr.goto(site.url + "/lecturers/placements")
    # The lecturer (10 hours a week) may teach more than the office's course; that one is among them.
    row = hr.locator("tbody tr", has_text=lecturer_name).filter(has_text=course)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("已发布")
    _shot(hr, "hr-lecturer-placements")
    hr.context.close()

    phone = _page(browser, width=390)
    _sign_in(phone, site, "placement_office@辽宁")
    phone.goto(site.url + "/placements")
    # Rows are labelled cards, a page at a time: nothing runs off the side of the screen, and the
    # page is no longer a scroll of every placement of the term (it was 104,071 px tall).
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    height = phone.evaluate("document.documentElement.scrollHeight")
    assert height < 20_000, height
    expect(phone.get_by_role("link", name=re.compile("下一页"))).to_be_visible()
    _shot(phone, "office-placements-term-390")
    phone.context.close()
