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
