from __future__ import annotations

import csv
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from app.commands import rank

# A CLI of this command alone: these tests do not depend on the other commands' imports.
cli = typer.Typer()


@cli.callback()
def _root() -> None:
    """chanjiao (test)"""


rank.register(cli)

CATALOG = """code,name,description
510206,云计算技术应用,云平台部署 运维 虚拟化 容器
510102,物联网应用技术,传感器 嵌入式 设备联网
520201,护理,病人护理 临床护理
530302,大数据与会计,会计 财务 报表
"""
NEEDS = """id,title,description,skills
n1,云计算运维工程师,负责云平台部署与监控,Linux;Docker
n2,病房护士,,
n3,会计助理,记账与报税,"Excel，财务软件"
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _run(
    runner: CliRunner, tmp_path: Path, catalog: bytes, needs: bytes, top: int = 2, extra: tuple[str, ...] = ()
) -> tuple[int, str, Path]:
    (tmp_path / "catalog.csv").write_bytes(catalog)
    (tmp_path / "needs.csv").write_bytes(needs)
    out = tmp_path / "ranked.csv"
    result = runner.invoke(cli, ["rank", "--catalog", str(tmp_path / "catalog.csv"), "--needs",
                                 str(tmp_path / "needs.csv"), "--top", str(top), "--out", str(out), *extra])
    return result.exit_code, result.output, out


def _firsts(out: Path) -> dict[str, str]:
    return {r["need_id"]: r["code"] for r in csv.DictReader(out.open(encoding="utf-8")) if r["rank"] == "1"}


DADIAN = """code,name,description
4-07-03-08,招聘师,从事人才招聘需求分析、招聘渠道开发、人员甄选的人员
6-18-02-04,焊工,操作焊接设备，进行金属焊接的人员
4-02-02-02,道路货运汽车驾驶员,驾驶载货汽车，从事道路货物运输的人员
4-02-01-01,轨道交通列车司机,驾驶轨道交通列车，运送旅客或货物的人员
"""


def test_prints_its_timing(runner: CliRunner, tmp_path: Path) -> None:
    code, output, _ = _run(runner, tmp_path, CATALOG.encode(), NEEDS.encode())
    assert code == 0, output
    assert "s wall" in output and "s CPU" in output and "ranking" in output


def test_recruiting_words_do_not_pull_to_the_recruiter(runner: CliRunner, tmp_path: Path) -> None:
    needs = "id,title\na,高薪诚聘焊工\nb,急招货车司机 包吃住\n".encode()
    code, output, out = _run(runner, tmp_path, DADIAN.encode(), needs, top=1)
    assert code == 0, output
    assert _firsts(out) == {"a": "6-18-02-04", "b": "4-02-02-02"}


def test_no_lexicon_switch_turns_the_lexicon_off(runner: CliRunner, tmp_path: Path) -> None:
    needs = "id,title\nt,货车司机\n".encode()
    code, _, out = _run(runner, tmp_path, DADIAN.encode(), needs, top=1)
    assert code == 0 and _firsts(out) == {"t": "4-02-02-02"}  # 货车 → 道路货运 汽车 (lexicon)
    code, _, out = _run(runner, tmp_path, DADIAN.encode(), needs, top=1, extra=("--no-lexicon",))
    assert code == 0 and _firsts(out) == {"t": "4-02-01-01"}  # only 司机 is shared: the wrong driver


def test_fields_switch_chooses_the_columns(runner: CliRunner, tmp_path: Path) -> None:
    needs = "id,title,description,skills\nn,实习生,,会计;财务;报表\n".encode()
    code, _, out = _run(runner, tmp_path, CATALOG.encode(), needs, top=1)
    assert code == 0 and _firsts(out) == {"n": "530302"}
    code, output, out = _run(runner, tmp_path, CATALOG.encode(), needs, top=1, extra=("--fields", "title"))
    assert code == 0
    assert "not ranked" in output  # 实习生 alone shares nothing with the catalogue
    code, output, _ = _run(runner, tmp_path, CATALOG.encode(), needs, extra=("--fields", "title,salary"))
    assert code == 2 and "salary" in output


def test_a_skill_every_need_lists_weighs_nothing() -> None:
    from matching.scoring.catalog import skill_specificity

    w = skill_specificity([["Microsoft Excel", "AutoCAD"], ["microsoft excel", "SAP"], ["Microsoft Excel"]])
    assert w["microsoft excel"] == 0.0
    assert w["autocad"] == w["sap"] == 1.0


def test_ranks_each_need(runner: CliRunner, tmp_path: Path) -> None:
    code, output, out = _run(runner, tmp_path, CATALOG.encode(), NEEDS.encode())
    assert code == 0, output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == ["need_id", "rank", "code", "score"]
    by_need: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_need.setdefault(r["need_id"], []).append(r)
    assert {k: len(v) for k, v in by_need.items()} == {"n1": 2, "n2": 2, "n3": 2}
    assert by_need["n1"][0]["code"] == "510206"
    assert by_need["n2"][0]["code"] == "520201"
    assert by_need["n3"][0]["code"] == "530302"
    assert [r["rank"] for r in by_need["n1"]] == ["1", "2"]
    assert all(0.0 <= float(r["score"]) <= 1.0 for r in rows)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_reads_bom_and_gb18030(runner: CliRunner, tmp_path: Path, encoding: str) -> None:
    code, output, out = _run(runner, tmp_path, CATALOG.encode(encoding), NEEDS.encode(encoding))
    assert code == 0, output
    assert "510206" in out.read_text(encoding="utf-8")


def test_top_larger_than_catalogue_gives_all_entries(runner: CliRunner, tmp_path: Path) -> None:
    code, _, out = _run(runner, tmp_path, CATALOG.encode(), NEEDS.encode(), top=50)
    assert code == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1 + 3 * 4


def test_english_catalogue(runner: CliRunner, tmp_path: Path) -> None:
    catalog = b"code,name,description\na,Cloud Computing,Operate cloud infrastructure\nb,Nursing,Patient care\n"
    needs = b"id,title,description,skills\nx,Cloud operations engineer,,Kubernetes\n"
    code, _, out = _run(runner, tmp_path, catalog, needs, top=1)
    assert code == 0
    assert out.read_text(encoding="utf-8").splitlines()[1].startswith("x,1,a,")


def test_missing_column_is_named(runner: CliRunner, tmp_path: Path) -> None:
    code, output, _ = _run(runner, tmp_path, b"code,title\n1,x\n", NEEDS.encode())
    assert code == 2
    assert "catalog.csv row 1: missing column(s) name" in output


def test_empty_cell_is_named_with_its_row(runner: CliRunner, tmp_path: Path) -> None:
    code, output, _ = _run(runner, tmp_path, CATALOG.encode(), b"id,title\nn1,ok\n,no id\n")
    assert code == 2
    assert "needs.csv row 3: column 'id' is empty" in output


def test_duplicate_code_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    code, output, _ = _run(runner, tmp_path, b"code,name\n1,a\n1,b\n", NEEDS.encode())
    assert code == 2
    assert "row 3: column 'code' repeats '1' (first on row 2)" in output


def test_undecodable_file_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    code, output, _ = _run(runner, tmp_path, b"code,name\n1,\xff\xff\xff\n", NEEDS.encode())
    assert code == 2
    assert "not UTF-8 or GB18030" in output


def test_need_without_matchable_text_is_reported_not_scored(runner: CliRunner, tmp_path: Path) -> None:
    code, output, out = _run(runner, tmp_path, CATALOG.encode(), "id,title\nn1,护理\nn2,---\n".encode())
    assert code == 0
    assert "need 'n2': not ranked" in output
    assert "n2" not in out.read_text(encoding="utf-8")


def test_long_input_runs_with_progress(runner: CliRunner, tmp_path: Path) -> None:
    needs = "id,title\n" + "".join(f"n{i},护理岗位{i}\n" for i in range(250))
    code, output, out = _run(runner, tmp_path, CATALOG.encode(), needs.encode(), top=1)
    assert code == 0, output
    assert len(out.read_text(encoding="utf-8").splitlines()) == 251


def test_a_group_column_names_siblings_for_the_back_off(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text(
        "code,name,description,group\nA,急诊护士,急诊抢救护理,nurses\nB,手术室护士,手术配合护理,nurses\n"
        "C,医院护工,急诊手术陪护,\n", encoding="utf-8")
    entries = rank.read_catalog(tmp_path / "c.csv")
    assert [(e.code, e.subcategory) for e in entries] == [("A", "nurses"), ("B", "nurses"), ("C", "")]
