"""Every workspace member declares only what it imports (deptry, as `make lint` runs it):
a dependency nobody imports is weight and attack surface in every image. DEP003 (importing
what a member only gets through another, e.g. a service importing sqlalchemy through
tangible-runtime) is the workspace's choice: the runtime is the services' stack."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MEMBERS = sorted(
    str(p.parent.relative_to(ROOT))
    for p in ROOT.glob("*/*/pyproject.toml")
    if p.parts[-3] in {"libs", "services"}
)
DEPTRY = Path(sys.executable).parent / "deptry"


def _deptry(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DEPTRY), ".", "--ignore", "DEP003", "--no-ansi"],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("member", MEMBERS)
def test_the_member_declares_only_what_it_imports(member: str) -> None:
    result = _deptry(ROOT / member)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_unused_declared_dependency_fails(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "probe"\nversion = "0"\ndependencies = ["pydantic>=2", "orjson>=3"]\n'
    )
    (tmp_path / "probe").mkdir()
    (tmp_path / "probe" / "__init__.py").write_text("import pydantic\n")
    result = _deptry(tmp_path)
    assert result.returncode != 0
    assert "DEP002 'orjson' defined as a dependency but not used" in result.stdout + result.stderr
