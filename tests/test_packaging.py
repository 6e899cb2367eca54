"""`pip install .`: the wheel holds lstm_core, the app around it and the lstm-explorer command."""

from __future__ import annotations

import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "requirements.txt", "README.md", "app.py")
FOLDERS = ("lstm_core", "pages", "ui", ".streamlit")
SHARE = "share/lstm-state-explorer"
OFFLINE = ("--no-deps", "--no-index", "-q")
# Building and installing a wheel takes a while on a busy machine.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built offline from a copy of the sources (the build leaves files behind)."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        shutil.copy2(ROOT / name, source / name)
    for name in FOLDERS:
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            *OFFLINE,
            "--no-build-isolation",
            "-w",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    (built,) = out.glob("lstm_state_explorer-*.whl")
    return built


def test_the_wheel_holds_the_package_the_app_and_the_command(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = next(n for n in names if n.endswith(".dist-info/METADATA")).rsplit("/", 1)[0]
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
        metadata = archive.read(f"{info}/METADATA").decode()
    data = next(n for n in names if ".data/data/" in n).split("/data/")[0] + "/data/"
    for module in ("lstm_core/__init__.py", "lstm_core/model/stack.py", "lstm_core/launch.py"):
        assert module in names
    for path in ROOT.glob("lstm_core/**/*.py"):
        assert path.relative_to(ROOT).as_posix() in names
    app_files = ["app.py", ".streamlit/config.toml"]
    app_files += [
        p.relative_to(ROOT).as_posix() for p in (*ROOT.glob("pages/*.py"), *ROOT.glob("ui/*.py"))
    ]
    for name in app_files:
        assert f"{data}{SHARE}/{name}" in names, name
    assert not any(n.startswith(("tests/", "benchmarks/", "ui/", "pages/")) for n in names)
    assert "lstm-explorer = lstm_core.launch:main" in entry_points
    requirements = [
        line.strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert "Requires-Dist: torch==2.13.0" in metadata
    for requirement in requirements:
        assert f"Requires-Dist: {requirement}" in metadata


def test_installed_the_command_finds_and_starts_the_installed_app(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    # The test environment's packages (torch, streamlit, ...) seen from the new venv.
    (next(venv.glob("lib/python*/site-packages")) / "base.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", *OFFLINE, str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    found = subprocess.run(
        [
            str(python),
            "-c",
            "import lstm_core.launch as l; print(l.__file__); print(l.app_folder())",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    module, folder = found.stdout.split()
    assert module.startswith(str(venv)) and Path(folder) == venv / SHARE
    # `streamlit run app.py --help` prints its usage and exits: the command reaches Streamlit.
    started = subprocess.run(
        [str(venv / "bin" / "lstm-explorer"), "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode == 0 and "Usage:" in started.stdout, started.stderr
