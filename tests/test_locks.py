"""The locks (requirements/*.txt) that `make run`, `make test` and the Dockerfile install from are
current with pyproject.toml: every declared dependency is pinned within its range and with hashes,
the runtime lock agrees with the dev lock, and this environment was installed from them."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


@dataclass
class Pin:
    version: Version
    hashes: list[str] = field(default_factory=list)


def read_lock(name: str) -> dict[str, Pin]:
    """Package → pin that applies to this interpreter (a universal lock may fork by Python version)."""
    pins: dict[str, Pin] = {}
    current: Pin | None = None
    for raw in (ROOT / "requirements" / name).read_text(encoding="utf-8").splitlines():
        line = raw.strip().rstrip("\\").strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("--hash="):
            assert current is not None, f"{name}: a hash before any requirement"
            current.hashes.append(line.removeprefix("--hash="))
            continue
        requirement = Requirement(line)
        (spec,) = requirement.specifier
        assert spec.operator == "==", f"{name}: {line} is not pinned"
        pin = Pin(Version(spec.version))
        current = pin
        if requirement.marker is None or requirement.marker.evaluate():
            pins[canonicalize_name(requirement.name)] = pin
    return pins


def declared(extra: str | None = None) -> list[Requirement]:
    project = PYPROJECT["project"]
    names = project["optional-dependencies"][extra] if extra else project["dependencies"]
    return [Requirement(r) for r in names] + [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]


@pytest.mark.parametrize(("lock", "extras"), [("runtime.txt", [None]), ("dev.txt", [None, "dev"])])
def test_every_dependency_is_pinned_in_range_with_hashes(lock: str, extras: list[str | None]) -> None:
    pins = read_lock(lock)
    for extra in extras:
        for requirement in declared(extra):
            pin = pins.get(canonicalize_name(requirement.name))
            assert pin is not None, f"{requirement.name} is not in requirements/{lock}: run `make lock`"
            assert requirement.specifier.contains(pin.version, prereleases=True), (
                f"requirements/{lock} pins {requirement.name}=={pin.version} outside {requirement.specifier}: "
                "run `make lock`")
    unhashed = sorted(name for name, pin in pins.items() if not pin.hashes)
    assert not unhashed, f"requirements/{lock} has pins without hashes: {unhashed}"
    assert all(h.startswith("sha256:") for pin in pins.values() for h in pin.hashes)


def test_run_and_test_use_the_same_versions() -> None:
    runtime, dev = read_lock("runtime.txt"), read_lock("dev.txt")
    assert set(runtime) <= set(dev)
    differ = {name: (str(pin.version), str(dev[name].version)) for name, pin in runtime.items()
              if pin.version != dev[name].version}
    assert not differ, f"runtime and dev locks disagree: {differ}"


def test_this_environment_was_installed_from_the_dev_lock() -> None:
    pins = read_lock("dev.txt")
    wrong = {}
    for requirement in declared(None) + declared("dev"):
        name = canonicalize_name(requirement.name)
        if name in {"setuptools", "wheel"}:
            continue  # build tools: used to install the project, not by it
        installed = Version(metadata.version(name))
        if installed != pins[name].version:
            wrong[name] = (str(installed), str(pins[name].version))
    assert not wrong, f"installed versions differ from requirements/dev.txt (installed, locked): {wrong}"
