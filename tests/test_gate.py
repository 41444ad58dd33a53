"""The test gate itself: every test runs under a timeout, and `make test` enforces the coverage floor."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_every_collected_test_has_a_timeout(request: pytest.FixtureRequest) -> None:
    config = request.config
    assert config.pluginmanager.hasplugin("timeout")
    default = float(config.getini("timeout"))
    assert 0 < default <= 120
    slow = [item for item in request.session.items if item.get_closest_marker("slow")]
    for item in slow:
        marker = item.get_closest_marker("timeout")
        assert marker is not None and marker.args[0] > default, item.nodeid


def test_a_hanging_test_fails_instead_of_holding_up_the_suite(tmp_path: Path) -> None:
    (tmp_path / "test_hangs.py").write_text("import time\n\ndef test_hangs():\n    time.sleep(30)\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "timeout=1",
                           "test_hangs.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1, done.stdout
    assert "Timeout" in done.stdout + done.stderr


def test_make_test_measures_coverage_against_a_floor() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^test:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe and "--cov" in recipe.group(1)
    coverage = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["coverage"]
    assert set(coverage["run"]["source"]) == {"app", "matching"}
    assert 90 <= coverage["report"]["fail_under"] < 100
