"""An infeasible run explained in sentences with names (zh-CN and en), never ids, and kept out of
comparisons."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from app.web.i18n import Gettext
from app.web.infeasibility import CONFLICTS, PREFIX, explain, parse
from app.worker import Worker
from tests.app.web.conftest import TERM
from tests.conftest import World

API = "/api/v1"
Login = Callable[[str], TestClient]

# One sentence of each form the solver writes (matching/allocation/constraints.py, internships.py).
SOLVER_SENTENCES = {
    "lock_not_candidate": "lock (11, 21) is not a candidate pair",
    "lock_forbidden": "lock (11, 21) is also a forbidden pair",
    "student_locked_twice": "student 11 is locked to 2 openings",
    "locks_exceed_seats": "locks on opening 21 exceed its 1 seats",
    "locks_exceed_cap": "locks at enterprise 31 exceed its cap max_interns=3",
    "locks_exceed_quota": "locks exceed quota (41, 31) of 2",
    "floors_exceed_seats": "college floors need 10 placements but only 6 seats remain",
    "college_floor_unreachable": "floor of college 41 needs 7 placements, at most 3 reachable with seats, caps and "
                                 "quotas",
    "program_floor_unreachable": "floor of program 51 needs 7 placements, at most 3 reachable with seats, caps and "
                                 "quotas",
    "college_floor_students": "floor of college 41 needs 4 more placements, its students and (college, enterprise) "
                              "quotas allow at most 2",
    "college_floor_quotas": "floor of college 41 needs 4 placements, its (college, enterprise) quotas allow at most 2",
    "floors_within_quotas": "floors cannot be met within the (college, enterprise) quotas",
    "reserved_locks": "locks of 2 students outside partnership 7 on opening 21 exceed the 1 seats it does not reserve",
    "reserved_seats": "3 of the 4 seats of opening 21 are reserved for partnership 7's programs",
}
NAMES = {"students": {11: "S-11（数据）"}, "openings": {21: "运维岗（云数）"}, "enterprises": {31: "云数科技"},
         "colleges": {41: "测试学院"}, "programs": {51: "大数据技术"}}


def test_every_solver_sentence_is_read_and_worded_with_names() -> None:
    assert set(SOLVER_SENTENCES) == set(CONFLICTS)
    error = PREFIX + "; ".join(SOLVER_SENTENCES.values())
    asked: list[dict[str, set[int]]] = []

    def names_of(ids: dict[str, set[int]]) -> dict[str, dict[int, str]]:
        asked.append(ids)
        return NAMES

    for code, sentence in SOLVER_SENTENCES.items():
        assert parse(sentence) is not None and parse(sentence)[0] == code  # type: ignore[index]
    zh = explain(Gettext("zh_CN"), error, names_of)
    en = explain(Gettext("en"), error, names_of)
    assert len(zh) == len(en) == len(SOLVER_SENTENCES)
    assert asked[0] == {"students": {11}, "openings": {21}, "enterprises": {31}, "colleges": {41}, "programs": {51}}
    for text in zh + en:
        assert not re.search(r"\b(college|program|enterprise|opening|student|lock) \d", text), text
        assert "%(" not in text
    assert "测试学院 要达到最低安排率至少需要 7 个安排" in zh[7]
    assert "S-11（数据）" in zh[0] and "运维岗（云数）" in zh[0]
    assert not any(re.search(r"[A-Za-z]{4,}", t.replace("S-11", "")) for t in zh), zh
    assert en[6] == "The colleges' minimum placement rates need 10 placements, but only 6 seats remain."
    # A sentence of no known form: its own words in English, a general sentence in Chinese.
    odd = PREFIX + "something new 7"
    assert explain(Gettext("en"), odd, names_of) == ["something new 7"]
    assert explain(Gettext("zh_CN"), odd, names_of) == ["本次运行的某条规则与其他规则无法同时满足。"]
    # Ids without a name (deleted since) show as #id.
    assert "#41" in explain(Gettext("en"), PREFIX + SOLVER_SENTENCES["college_floor_quotas"], lambda _ids: {})[0]


def _worker(factory: sessionmaker[Session]) -> Worker:
    return Worker(factory, Settings(database_url="sqlite://", solve_in_subprocess=False,
                                    allocation_executor="inline", worker_heartbeat_s=3600), owner="infeasible")


def _run(client: TestClient, world: World, factory: sessionmaker[Session], parameters: dict[str, Any]) -> int:
    run = client.post(f"{API}/allocation-runs", json={"kind": "internship", "scope": {"term": TERM},
                                                      "parameters": parameters}, headers=world.h("scheduler"))
    assert run.status_code == 202, run.text
    assert _worker(factory).run_once() == run.json()["id"]
    return int(run.json()["id"])


def test_an_infeasible_run_names_the_college_and_stays_out_of_comparisons(
        as_user: Login, market: dict[str, Any], world: World, app_client: TestClient,
        session_factory: sessionmaker[Session]) -> None:
    for n in range(4):  # seven students of college_a, six seats in all
        created = app_client.post(f"{API}/students", json={"program_id": market["programs"]["college_a"],
                                                           "student_no": f"extra-{n}", "name": f"加{n}"},
                                  headers=world.h("college_a"))
        assert created.status_code == 201, created.text
    infeasible = _run(app_client, world, session_factory, {"college_floor": 1.0})
    first = _run(app_client, world, session_factory, {"seed": 1})
    second = _run(app_client, world, session_factory, {"seed": 2})
    client = as_user("scheduler")
    assert app_client.get(f"{API}/allocation-runs/{infeasible}", headers=world.h("scheduler")).json()[
        "status"] == "infeasible"
    page = client.get(f"/runs/{infeasible}")
    assert page.status_code == 200
    block = page.text.split('id="infeasible"', 1)[1].split("</div>", 1)[0]
    assert "为什么无法完成分配" in block and world.college_a.name in block and "最低安排率" in block
    assert not re.search(r"\b(college|program|enterprise) \d", block) and "constraints in conflict" not in block
    english = client.get(f"/runs/{infeasible}", headers={"Accept-Language": "en"}).text
    assert "Why no allocation is possible" in english and world.college_a.name in english
    compared = client.get(f"/runs/compare?ids={first}&ids={second}&ids={infeasible}")
    assert compared.status_code == 200
    notice = compared.text.split(f'id="left-out-{infeasible}"', 1)[1].split("</p>", 1)[0]
    assert f"运行 {infeasible} 未参与比较" in notice and "无可行解" in notice
    assert f'href="/runs/{first}"' in compared.text and f'href="/runs/{second}"' in compared.text
    assert f'<a href="/runs/{infeasible}">' not in compared.text
    # The choices never offer it either.
    assert f'name="ids" value="{infeasible}"' not in compared.text
