"""Every workspace member declares only what it imports (deptry, as `make lint` runs it):
a dependency nobody imports is weight and attack surface in every image. DEP003 (importing
what a member only gets through another, e.g. a service importing sqlalchemy through
tangible-runtime) is the workspace's choice: the runtime is the services' stack.

And what production installs (the image's `uv sync --frozen --no-dev` of the services) holds
no development tool: no test runner, linter, type checker, nor `uvicorn[standard]`'s
watchfiles (a file watcher for reloading)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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


def _names(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(r).name) for r in requirements}


def _dev_only() -> set[str]:
    """The root's dev group, less what a member also declares to run (notifications draws
    its report charts with matplotlib), and watchfiles."""
    dev = _names(tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]["dev"])
    declared: set[str] = set()
    for member in MEMBERS:
        project = tomllib.loads((ROOT / member / "pyproject.toml").read_text())["project"]
        declared |= _names(project.get("dependencies", []))
    return (dev - declared) | {"watchfiles"}


DEV_ONLY = _dev_only()


def _image_packages() -> list[str]:
    """The services the image installs, as its Dockerfile names them."""
    found = re.search(r'ARG PACKAGES="([^"]+)"', (ROOT / "Dockerfile").read_text())
    assert found is not None, "the Dockerfile names the packages it installs in ARG PACKAGES"
    return re.findall(r"--package ([\w-]+)", found[1])


IMAGE_PACKAGES = _image_packages()
SERVICES = sorted(
    tomllib.loads((ROOT / member / "pyproject.toml").read_text())["project"]["name"]
    for member in MEMBERS
    if member.startswith("services/")
)


def _exported(*args: str) -> set[str]:
    """The names of what `uv export --frozen ARGS` resolves from uv.lock (no network)."""
    uv = os.environ.get("UV") or shutil.which("uv")  # `uv run` names itself in UV
    if uv is None:
        pytest.skip("uv exports the locked dependency set")
    result = subprocess.run(
        [
            uv,
            "export",
            "--frozen",
            "--no-hashes",
            "--no-header",
            "--no-annotate",
            "--no-emit-workspace",
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = [line.strip() for line in result.stdout.splitlines()]
    return {
        canonicalize_name(Requirement(line.split(";")[0]).name) for line in lines if line and line[0] != "#"
    }


def test_the_dev_tools_are_known() -> None:
    assert {"pytest", "deptry", "mypy", "ruff", "watchfiles"} <= DEV_ONLY
    assert "matplotlib" not in DEV_ONLY  # notifications' report charts
    assert sorted(IMAGE_PACKAGES) == SERVICES  # the image installs every service


def test_the_image_installs_no_dev_tool() -> None:
    installed = _exported("--no-dev", *(arg for name in IMAGE_PACKAGES for arg in ("--package", name)))
    assert {"uvicorn", "fastapi", "aiokafka", "sqlalchemy"} <= installed  # the services' real stack
    assert installed & DEV_ONLY == set()


@pytest.mark.parametrize("package", SERVICES)
def test_a_service_alone_installs_no_dev_tool(package: str) -> None:
    installed = _exported("--no-dev", "--package", package)
    assert "uvicorn" in installed
    assert installed & DEV_ONLY == set()


def test_the_workspace_with_its_dev_group_has_the_dev_tools() -> None:
    """The control: the same export, with the dev group, finds them."""
    assert {"pytest", "deptry", "mypy"} <= _exported("--only-dev")
