"""Two installable programs: each installs from its own lock into a clean venv and runs ``--help``.

A web server installs ``.[tracker]`` (no OpenCV, no numpy), a station server
``.[monitor]`` (no Flask, SQLAlchemy, psycopg, gunicorn). Each venv gets the
hash-checked lock of its program (``requirements/<program>.txt``) and the
project's wheel, built from a copy of the sources, and the programs run from
a directory outside the checkout, so nothing of the repository leaks in.
pip uses its cache (and the registry for what is not cached); every step is
bounded in time.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STEP_TIMEOUT_S = 300

FORBIDDEN = {
    "tracker": {"opencv-python-headless", "opencv-python", "numpy", "prometheus-client"},
    "monitor": {"flask", "sqlalchemy", "psycopg", "psycopg-binary", "gunicorn", "alembic"},
}
# Imports that must work in each program's venv (the modules with its heavy dependencies).
IMPORTS = {
    "tracker": "import tracker, tracker.cli, tracker.api.openapi, tracker.halls.station_api",
    "monitor": "import monitor.cli, monitor.probe, monitor.scheduler, monitor.client",
}
# And the other program's heart, which must not import there.
ABSENT = {"tracker": "import cv2", "monitor": "import flask"}

pytestmark = pytest.mark.slow


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, timeout=STEP_TIMEOUT_S, check=False
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from a copy of what the distribution is made of."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for pkg in ("tracker", "monitor"):
        shutil.copytree(ROOT / pkg, src / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    built = run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out),
                 str(src)], cwd=out)  # fmt: skip
    assert built.returncode == 0, built.stderr[-3000:]
    (whl,) = out.glob("village_tracker-*.whl")
    return whl


@pytest.mark.parametrize("program", ["tracker", "monitor"])
def test_each_program_installs_alone_and_runs_its_help(
    program: str, wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    made = run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    py, pip = venv / "bin" / "python", [str(venv / "bin" / "python"), "-m", "pip"]
    lock = ROOT / "requirements" / f"{program}.txt"
    deps = run([*pip, "install", "--quiet", "--require-hashes", "-r", str(lock)], cwd=tmp_path)
    assert deps.returncode == 0, deps.stderr[-3000:]
    own = run([*pip, "install", "--quiet", "--no-deps", f"{wheel}[{program}]"], cwd=tmp_path)
    assert own.returncode == 0, own.stderr[-3000:]
    # the installed set is the lock's, complete, and free of the other program's dependencies
    check = run([*pip, "check"], cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    names = run(
        [str(py), "-c", "import importlib.metadata as m; "
         "print('\\n'.join(d.metadata['Name'].lower() for d in m.distributions()))"],
        cwd=tmp_path,
    )  # fmt: skip
    installed = set(names.stdout.split())
    assert "village-tracker" in installed
    assert not installed & FORBIDDEN[program], installed & FORBIDDEN[program]

    helped = run([str(venv / "bin" / program), "--help"], cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr[-3000:]
    assert "Usage" in helped.stdout or "usage" in helped.stdout
    imported = run([str(py), "-c", IMPORTS[program]], cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr[-3000:]
    absent = run([str(py), "-c", ABSENT[program]], cwd=tmp_path)
    assert absent.returncode != 0 and "ModuleNotFoundError" in absent.stderr


def _pins(lock: Path) -> dict[str, str]:
    """``name → version`` of a pip-compile lock (names normalised)."""
    from packaging.utils import canonicalize_name

    pins: dict[str, str] = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith((" ", "#", "-")) and "==" in line:
            name, _, version = line.split(" ")[0].partition("==")
            pins[canonicalize_name(name)] = version
    return pins


@pytest.mark.parametrize(
    ("lock", "sets"),
    [("tracker", ["tracker"]), ("monitor", ["monitor"]), ("dev", ["tracker", "monitor", "test"])],
)
def test_each_lock_satisfies_the_ranges_of_its_program(lock: str, sets: list[str]) -> None:
    """A range changed in pyproject.toml without `make lock` fails here, not on a server."""
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = _pins(ROOT / "requirements" / f"{lock}.txt")
    wanted = list(project["dependencies"])
    for extra in sets:
        wanted += project["optional-dependencies"][extra]
    for spec in wanted:
        req = Requirement(spec)
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not in requirements/{lock}.txt (run make lock)"
        assert req.specifier.contains(pins[name], prereleases=True), (spec, pins[name])
        for extra in req.extras:  # psycopg[binary] → psycopg-binary, pinned alike
            assert canonicalize_name(f"{req.name}-{extra}") in pins, spec
    if lock != "dev":  # what a server runs is what the tests ran
        dev = _pins(ROOT / "requirements" / "dev.txt")
        assert {n: dev.get(n) for n in pins} == pins
