"""The committed bundle is exactly what `npm ci && npm run build` makes of web/elements/, whose
TypeScript type-checks (strict) and whose unit tests pass. Runs in a copy, so a developer's
node_modules is never touched; needs node and the npm registry (or npm's cache)."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
SOURCE = ROOT / "web" / "elements"
BUNDLE = ROOT / "services/notifications/src/tangible_notifications/static/elements/v1/tangible-elements.js"
COPIED = ("package.json", "package-lock.json", "tsconfig.json", "build.mjs", "src", "test")


def npm(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["npm", *args], cwd=folder, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, f"npm {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("npm") is None:
        pytest.fail("npm is needed to build the web components (Node 20+)")
    folder = tmp_path_factory.mktemp("elements")
    for name in COPIED:
        source = SOURCE / name
        if source.is_dir():
            shutil.copytree(source, folder / name)
        else:
            shutil.copy2(source, folder / name)
    npm(folder, "ci", "--no-audit", "--no-fund")
    return folder


def test_the_committed_bundle_is_the_build_of_the_sources(installed: Path) -> None:
    npm(installed, "run", "build", "--", "out/tangible-elements.js")
    assert (installed / "out/tangible-elements.js").read_bytes() == BUNDLE.read_bytes(), (
        "the bundle differs from its sources: run `npm ci && npm run build` in web/elements and commit it"
    )


def test_the_typescript_type_checks_strictly(installed: Path) -> None:
    npm(installed, "run", "typecheck")


def test_the_unit_tests_of_the_pure_modules_pass(installed: Path) -> None:
    result = npm(installed, "test")
    assert "# fail 0" in result.stdout, result.stdout


def test_the_wheel_carries_the_bundle(tmp_path: Path) -> None:
    uv = os.environ.get("UV") or shutil.which("uv")  # `uv run` names itself in UV
    if uv is None:
        pytest.skip("uv builds the wheel")
    subprocess.run(
        [
            uv,
            "build",
            "--wheel",
            "--quiet",
            "--out-dir",
            str(tmp_path),
            str(ROOT / "services" / "notifications"),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = tmp_path.glob("tangible_notifications-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packaged = archive.read("tangible_notifications/static/elements/v1/tangible-elements.js")
    assert packaged == BUNDLE.read_bytes()
