"""``chanjiao solve`` on instance directories."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import _register_commands, cli

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    _register_commands()
    return CliRunner()


def solve(runner: CliRunner, instance: Path, out: Path, *extra: str):
    return runner.invoke(cli, ["solve", "--instance", str(instance), "--out", str(out), *extra])


def test_internship_example(runner: CliRunner, tmp_path: Path) -> None:
    result = solve(runner, EXAMPLES / "instance-internship", tmp_path / "out")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "result.json").read_text(encoding="utf-8"))
    assert summary["status"] == "optimal"
    assert summary["gap"] == 0
    assert summary["counts"]["placed"] == 6
    assert summary["unplaced"] == [{"student": "stu-005", "college": "广州番禺职业技术学院", "reasons": ["full"]}]
    lines = (tmp_path / "out" / "placements.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "student,opening,score"
    assert "stu-002,op-sz-data,0.74" in lines


def test_lecturer_example(runner: CliRunner, tmp_path: Path) -> None:
    result = solve(runner, EXAMPLES / "instance-lecturer", tmp_path / "out")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "result.json").read_text(encoding="utf-8"))
    assert summary["status"] == "optimal"
    assert summary["programs"]["510205-大数据技术"]["shortfall_hours"] == 0
    header = (tmp_path / "out" / "placements.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "lecturer,course_need,score"


@pytest.mark.parametrize("executor", ["inline", "process"])
def test_same_seed_gives_byte_identical_placements(runner: CliRunner, tmp_path: Path, executor: str) -> None:
    instance = tmp_path / "inst"
    shutil.copytree(EXAMPLES / "instance-internship", instance)
    params = json.loads((instance / "params.json").read_text(encoding="utf-8"))
    params.update(mode="stable", college_floor=0, quotas=[])
    (instance / "enterprises.csv").unlink()
    (instance / "params.json").write_text(json.dumps(params), encoding="utf-8")
    outputs = []
    for run in range(2):
        result = solve(runner, instance, tmp_path / f"out{run}", "--executor", executor)
        assert result.exit_code == 0, result.output
        outputs.append((tmp_path / f"out{run}" / "placements.csv").read_bytes())
    assert outputs[0] == outputs[1]
    summary = json.loads((tmp_path / "out0" / "result.json").read_text(encoding="utf-8"))
    assert summary["stats"]["price_of_stability"] >= 1


def test_infeasible_instance_names_the_conflict(runner: CliRunner, tmp_path: Path) -> None:
    instance = tmp_path / "inst"
    shutil.copytree(EXAMPLES / "instance-internship", instance)
    params = json.loads((instance / "params.json").read_text(encoding="utf-8"))
    params["college_floor"] = 1.0
    (instance / "params.json").write_text(json.dumps(params), encoding="utf-8")
    result = solve(runner, instance, tmp_path / "out")
    assert result.exit_code == 1
    summary = json.loads((tmp_path / "out" / "result.json").read_text(encoding="utf-8"))
    assert summary["status"] == "infeasible"
    assert any("广州番禺职业技术学院" in c for c in summary["conflicts"])


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("candidates.csv", "stu-002,op-sz-data,0.74", "stu-002,op-sz-data,1.74",
         "candidates.csv, row 4, column score: '1.74' must be a score in [0, 1]"),
        ("candidates.csv", "stu-003,op-gz-iot,0.88", "stu-999,op-gz-iot,0.88",
         "candidates.csv, row 6, column student: unknown student 'stu-999'"),
        ("openings.csv", "op-gz-iot,广州云服务有限公司,1", "op-gz-iot,广州云服务有限公司,x",
         "openings.csv, row 4, column seats: 'x' is not a number (int)"),
        ("students.csv", "stu-002,", "stu-001,", "students.csv, row 3, column id: duplicate id 'stu-001'"),
        ("params.json", '"seed": 42', '"seed": 42, "colour": 1', "unknown key(s) colour"),
    ],
)
def test_bad_input_names_file_row_and_column(runner: CliRunner, tmp_path: Path, file: str, old: str, new: str,
                                             message: str) -> None:
    instance = tmp_path / "inst"
    shutil.copytree(EXAMPLES / "instance-internship", instance)
    path = instance / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = solve(runner, instance, tmp_path / "out")
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def _instance(tmp_path: Path) -> Path:
    instance = tmp_path / "inst"
    shutil.copytree(EXAMPLES / "instance-internship", instance)
    return instance


def _params(instance: Path, **changes: object) -> None:
    params = json.loads((instance / "params.json").read_text(encoding="utf-8"))
    params.update(changes)
    (instance / "params.json").write_text(json.dumps(params), encoding="utf-8")


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig"])
def test_chinese_locale_csv_encodings_are_read(runner: CliRunner, tmp_path: Path, encoding: str) -> None:
    instance = _instance(tmp_path)
    for name in ("students.csv", "openings.csv", "candidates.csv"):
        path = instance / name
        path.write_bytes(path.read_text(encoding="utf-8").encode(encoding))
    result = solve(runner, instance, tmp_path / "out")
    assert result.exit_code == 0, result.output
    expected = solve(runner, EXAMPLES / "instance-internship", tmp_path / "expected")
    assert expected.exit_code == 0
    assert (tmp_path / "out" / "placements.csv").read_bytes() == (tmp_path / "expected" / "placements.csv").read_bytes()


def test_a_file_in_another_encoding_is_exit_2_naming_it(runner: CliRunner, tmp_path: Path) -> None:
    instance = _instance(tmp_path)
    path = instance / "students.csv"
    # "é," is no GB18030 sequence: the file is Latin-1 for sure.
    text = path.read_text(encoding="utf-8").replace("510205-大数据技术", "510205-café")
    path.write_bytes(text.encode("latin-1", errors="replace"))
    result = solve(runner, instance, tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert "students.csv: the CSV file is neither UTF-8 nor GB18030 text" in " ".join(result.output.split())
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("openings.csv", "op-sz-data,深圳数据科技有限公司,2", "op-sz-data,深圳数据科技有限公司,9223372036854775807",
         "openings.csv, row 2, column seats: '9.22337e+18' is out of range (at most 2147483647)"),
        ("enterprises.csv", "广州云服务有限公司,2", "广州云服务有限公司,1e30",
         "enterprises.csv, row 2, column max_interns: '1e+30' is out of range"),
        ("candidates.csv", "stu-001,op-sz-data,0.91,1,1", "stu-001,op-sz-data,0.91,1e30,1",
         "candidates.csv, row 2, column student_rank: '1e+30' is out of range"),
    ],
)
def test_numbers_beyond_range_are_exit_2(runner: CliRunner, tmp_path: Path, file: str, old: str, new: str,
                                         message: str) -> None:
    instance = _instance(tmp_path)
    path = instance / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = solve(runner, instance, tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"default_quota": 1e30}, "params.json, key default_quota: 1e+30 is out of range"),
        ({"default_quota": 2**63}, "params.json, key default_quota: 9223372036854775808 is out of range"),
        ({"quotas": [{"college": "深圳职业技术大学", "enterprise": "深圳数据科技有限公司", "max_students": 2**63}]},
         "params.json, key quotas, item 1, max_students: 9223372036854775808 is out of range"),
        ({"quotas": [{"college": "深圳职业技术大学", "enterprise": "E 1", "max_students": 1}]},
         "params.json, key quotas, item 1: unknown enterprise 'E 1'"),
        ({"quotas": [{"college": "no such college", "enterprise": "深圳数据科技有限公司", "max_students": 1}]},
         "params.json, key quotas, item 1: unknown college 'no such college'"),
        ({"partition_key": "campus"}, "students.csv, row 1: missing column 'campus'"),
        ({"partition_key": 3}, "params.json, key partition_key: expected a column name"),
        ({"time_limit_s": float("inf")}, "params.json, key time_limit_s: inf is not a finite number"),
    ],
)
def test_params_out_of_range_or_unknown_are_exit_2(runner: CliRunner, tmp_path: Path, changes: dict[str, object],
                                                   message: str) -> None:
    instance = _instance(tmp_path)
    _params(instance, **changes)
    result = solve(runner, instance, tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())


def test_partition_key_is_honoured(runner: CliRunner, tmp_path: Path) -> None:
    instance = _instance(tmp_path)
    _params(instance, college_floor=0, quotas=[])
    (instance / "enterprises.csv").unlink()
    # One alliance over both provinces: partitioning by it gives one part, by province two.
    for name in ("students.csv", "openings.csv"):
        path = instance / name
        lines = path.read_text(encoding="utf-8").splitlines()
        path.write_text("\n".join([lines[0] + ",alliance", *(line + ",华南华东" for line in lines[1:])]) + "\n",
                        encoding="utf-8")
    parts, objectives = {}, set()
    for key in ("province", "alliance", None):
        _params(instance, partition_key=key)
        result = solve(runner, instance, tmp_path / str(key))
        assert result.exit_code == 0, result.output
        summary = json.loads((tmp_path / str(key) / "result.json").read_text(encoding="utf-8"))
        parts[key] = summary["stats"]["parts"]
        objectives.add(summary["objective"])
    assert parts == {"province": 2, "alliance": 1, None: 1}
    assert len(objectives) == 1  # parts are independent: the same optimum either way


def test_unknown_executor_is_refused_by_name(runner: CliRunner, tmp_path: Path) -> None:
    result = solve(runner, EXAMPLES / "instance-internship", tmp_path / "out", "--executor", "dask")
    assert result.exit_code == 2
    assert "'dask' is not one of inline, process, ray" in result.output
    instance = tmp_path / "inst"
    shutil.copytree(EXAMPLES / "instance-internship", instance)
    params = json.loads((instance / "params.json").read_text(encoding="utf-8"))
    (instance / "params.json").write_text(json.dumps({**params, "executor": "dask"}), encoding="utf-8")
    result = solve(runner, instance, tmp_path / "out")
    assert result.exit_code == 2
    assert "key executor: 'dask' is not 'inline', 'process' or 'ray'" in " ".join(result.output.split())
    assert not (tmp_path / "out").exists()


def test_reserved_seats_travel_with_an_instance(runner: CliRunner, tmp_path: Path) -> None:
    instance = _instance(tmp_path)
    # Both seats of op-sz-data held for the 物联网 program: the 大数据 students must go elsewhere.
    (instance / "reservations.csv").write_text(
        "partnership,opening,programs,seats\n订单班,op-sz-data,510102-物联网应用技术,2\n", encoding="utf-8")
    result = solve(runner, instance, tmp_path / "out")
    assert result.exit_code == 0, result.output
    placed = dict(line.split(",")[:2] for line in
                  (tmp_path / "out" / "placements.csv").read_text(encoding="utf-8").splitlines()[1:])
    at_data = sorted(s for s, o in placed.items() if o == "op-sz-data")
    assert at_data == ["stu-003"]  # the only 物联网 student with op-sz-data among their candidates
    (instance / "reservations.csv").write_text(
        "partnership,opening,programs,seats\n订单班,op-nowhere,510102-物联网应用技术,2\n", encoding="utf-8")
    refused = solve(runner, instance, tmp_path / "out2")
    assert refused.exit_code == 2
    assert "reservations.csv, row 2, column opening: unknown opening 'op-nowhere'" in " ".join(refused.output.split())
