"""The wheel as a deployer installs it: one package, every data file, and a controller that serves.

Every other test runs on the editable install, which finds its templates, menus and pages in this tree;
only an installed wheel shows a file the wheel lacks, or code that finds its data where only the tree has
it. So the wheel is built from what pyproject.toml maps (nothing else is copied), installed with its
dependencies into a venv of its own, and run from a folder outside the tree, where nothing of it imports.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hotline.kernel.runtime.config import read_env_file
from hotline.lab.blocks import LISTENERS, LabBlock
from tests.workers import lab_number

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
#: Each installed package and the tree's folder it comes from ("hotline.acd" lives in acd/).
PACKAGE_DIR: dict[str, str] = PYPROJECT["tool"]["setuptools"]["package-dir"]
#: A stopping controller frees its ports within this: each stop step is bounded (kernel/runtime/stopping.py).
STOP_SECONDS = 15
START_SECONDS = 60
#: The wheel and its venv are built once a module: its tests run on one worker.
pytestmark = pytest.mark.xdist_group("wheel")


def source_files(folder: Path) -> list[Path]:
    """A folder's files as the tree holds them, without Python's caches."""
    return [
        path
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    ]


def expected_wheel_files() -> set[str]:
    """Every file of every mapped folder, at its installed place: a new template, menu or module cannot be
    left out of the wheel unnoticed."""
    return {
        "/".join([*package.split("."), *path.relative_to(REPO / folder).parts])
        for package, folder in PACKAGE_DIR.items()
        for path in source_files(REPO / folder)
    }


def clean_env() -> dict[str, str]:
    """This environment without the caller's hotline settings and without a Python path into this tree."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("HOTLINE_") and key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }


def outside_env(folder: Path, **settings: str) -> dict[str, str]:
    """A hotline process's environment outside the tree: its settings file, home and Asterisk root in
    ``folder``."""
    return {
        **clean_env(),
        "HOTLINE_CONFIG_FILE": str(folder / "hotline.env"),
        "HOTLINE_HOME": str(folder / "home"),
        "HOTLINE_ASTERISK_ROOT": str(folder / "asterisk-root"),
        **settings,
    }


def run(what: str, argv: list[str | Path], cwd: Path, env: dict[str, str]) -> str:
    """Run one step to its end, print how long it took, and return its output; a failure shows its own."""
    started = time.monotonic()
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)
    print(f"wheel test: {what}: {time.monotonic() - started:.1f} s", flush=True)
    assert result.returncode == 0, f"{what} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result.stdout


@contextmanager
def redis_server(port: int, folder: Path) -> Iterator[None]:
    """A Redis of this test's own, without persistence, stopped at the end whatever happens."""
    options = [*f"--bind 127.0.0.1 --port {port} --appendonly no --dir {folder}".split(), "--save", ""]
    process = subprocess.Popen(["redis-server", *options], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"redis-server did not listen on port {port}") from None
                time.sleep(0.05)
        yield
    finally:
        process.terminate()
        process.wait(10)


def get(url: str) -> tuple[int, bytes]:
    """A GET's status and body; error statuses are answers too (503 is how /healthz says degraded)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def get_or_none(url: str) -> tuple[int, bytes] | None:
    """None while nothing listens yet (or any more)."""
    try:
        return get(url)
    except OSError:  # refused, reset or timed out (URLError is one)
        return None


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a copy holding only pyproject.toml and the folders it maps: the build reads
    nothing else, and leaves this tree (and its build/ folder, which scripts/lint-layers uses) alone."""
    source = tmp_path_factory.mktemp("source")
    shutil.copy2(REPO / "pyproject.toml", source)
    for folder in PACKAGE_DIR.values():
        shutil.copytree(REPO / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("wheel")
    run(
        "pip wheel",
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", out, source],
        source,
        clean_env(),
    )
    (built,) = out.glob("hotline-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Iterator[Path]:
    """A clean venv (no system site-packages) with the wheel installed, not editable, and its dependencies;
    removed afterwards (200 MB, where pytest keeps its last three runs' folders)."""
    home = tmp_path_factory.mktemp("venv")
    run("python -m venv", [sys.executable, "-m", "venv", home], home, clean_env())
    install = [home / "bin" / "python", "-m", "pip", "install", "-q", wheel]
    run("pip install the wheel and its dependencies", install, home, clean_env())
    yield home
    shutil.rmtree(home)


def test_the_wheel_holds_one_package_with_every_file_of_the_tree(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = {name for name in archive.namelist() if not name.endswith("/")}
        name, version = wheel.name.split("-")[:2]
        dist_info = f"{name}-{version}.dist-info"
        top_level = archive.read(f"{dist_info}/top_level.txt").decode().split()
    assert {entry.split("/")[0] for entry in names} == {"hotline", dist_info}
    assert top_level == ["hotline"]
    shipped = {entry for entry in names if entry.startswith("hotline/")}
    expected = expected_wheel_files()
    missing, stray = sorted(expected - shipped), sorted(shipped - expected)
    assert not missing, f"in the tree, not in the wheel (pyproject.toml's packages, package-data): {missing}"
    assert not stray, f"in the wheel, not in the tree: {stray}"


def test_installed_it_is_one_package_that_finds_its_menus_policies_and_scenarios(venv, tmp_path):
    """Run in the venv from outside the tree: the package comes from site-packages, the design card's
    folders are not importable on their own, and every preset loads from the installed files."""
    check = """
import importlib.metadata, importlib.util, json, sys
from pathlib import Path
import hotline
from hotline.acd.simulator import load_scenario
from hotline.ivr.menu import load_menu
from hotline.ticketing.policy import load_policy

asked = json.loads(sys.argv[1])
root = Path(hotline.__file__).parent
dist = importlib.metadata.distribution("hotline")
print(json.dumps({
    "package": str(root),
    "dist_info": f"hotline-{dist.version}.dist-info",
    "top_level": dist.read_text("top_level.txt").split(),
    "installed": sorted({file.parts[0] for file in dist.files if file.parts[0] != ".."}),
    "importable": [name for name in asked["folders"] if importlib.util.find_spec(name)],
    "menus": {name: sorted(load_menu(name).options) for name in asked["menus"]},
    "lab_menu": sorted(load_menu(str(root / "lab" / "menu.toml")).options),
    "policies": [name for name in asked["policies"] if load_policy(name)],
    "scenarios": sorted(p.name for p in (root / "acd" / "scenarios").glob("*.toml") if load_scenario(p)),
}))
"""
    menus = sorted(path.stem for path in (REPO / "ivr" / "menus").glob("*.toml"))
    asked = {
        "folders": [package.rsplit(".", 1)[-1] for package in PACKAGE_DIR if package != "hotline"],
        "menus": menus,
        "policies": sorted(path.stem for path in (REPO / "ticketing" / "policies").glob("*.toml")),
    }
    argv = [venv / "bin" / "python", "-c", check, json.dumps(asked)]
    found = json.loads(run("the installed package's checks", argv, tmp_path, outside_env(tmp_path)))
    assert Path(found["package"]).is_relative_to(venv), found["package"]
    assert found["top_level"] == ["hotline"]
    assert found["installed"] == ["hotline", found["dist_info"]]
    assert found["importable"] == []
    assert sorted(found["menus"]) == menus
    assert found["menus"]["keyed"], "the keyed preset lost its options"
    assert found["lab_menu"], "the lab's menu lost its options"
    assert found["policies"] == asked["policies"]
    assert found["scenarios"] == sorted(path.name for path in (REPO / "acd" / "scenarios").glob("*.toml"))


def test_installed_it_renders_the_asterisk_configuration(venv, tmp_path):
    out = tmp_path / "asterisk"
    argv = [venv / "bin" / "hotline", "render-conf", "--out", out]
    printed = run("hotline render-conf", argv, tmp_path, outside_env(tmp_path))
    templates = sorted(path.name for path in (REPO / "asterisk-conf").glob("*.conf"))
    assert sorted(path.name for path in out.iterdir()) == templates
    assert sorted(Path(line).name for line in printed.split()) == templates
    for path in out.iterdir():
        text = path.read_text(encoding="utf-8")
        assert text.strip(), f"{path.name} is empty"
        assert "{{" not in text and "{%" not in text, f"{path.name} holds unrendered template markup"
    secrets = read_env_file(tmp_path / "hotline.env")
    assert f"secret = {secrets['HOTLINE_AMI_SECRET']}" in (out / "manager.conf").read_text(encoding="utf-8")
    assert "[1001]" in (out / "pjsip.conf").read_text(encoding="utf-8")
    assert "exten => 12345," in (out / "extensions.conf").read_text(encoding="utf-8")


def test_installed_it_serves_and_stops_on_sigterm(venv, tmp_path):
    """`hotline serve` from the wheel, on SQLite and its own Redis, without an Asterisk: it serves the API
    and the wallboard's files, reports itself degraded (no AMI), and stops at SIGTERM with exit code 0."""
    # The spare half of this worker's lab block: apart from every lab and from other workers.
    block = LabBlock(lab_number(), spare=True)
    ports = {
        name: block.port(LISTENERS[f"{name}_PORT"])
        for name in ("REDIS", "WEB", "FASTAGI", "AUDIOSOCKET", "SMTP", "AMI")
    }
    env = outside_env(
        tmp_path,
        **{f"HOTLINE_{name}_PORT": str(port) for name, port in ports.items()},
        # A preset other than the default, so the installed menus are read by the controller itself.
        HOTLINE_IVR_MENU="keyed",
    )
    base = f"http://127.0.0.1:{ports['WEB']}"
    log = tmp_path / "serve.log"
    with redis_server(ports["REDIS"], tmp_path), log.open("w") as output:
        started = time.monotonic()
        process = subprocess.Popen(
            [venv / "bin" / "hotline", "serve"],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            while (status := get_or_none(f"{base}/healthz")) is None:
                assert process.poll() is None, f"hotline serve exited:\n{log.read_text()}"
                assert time.monotonic() - started < START_SECONDS, f"no /healthz yet:\n{log.read_text()}"
                time.sleep(0.2)
            print(f"wheel test: hotline serve answered /healthz after {time.monotonic() - started:.1f} s")
            code, body = status
            health = json.loads(body)
            assert (code, health["status"]) == (503, "degraded"), health
            assert health["checks"] == {"ami": False, "redis": True, "database": True}, health

            code, body = get(f"{base}/api/openapi.json")
            assert code == 200
            assert "/api/tickets" in json.loads(body)["paths"]
            wallboard = (REPO / "supervision" / "web" / "wallboard.html").read_bytes()
            assert get(f"{base}/wallboard") == (200, wallboard)
            for path in source_files(REPO / "supervision" / "web"):
                assert get(f"{base}/static/supervision/{path.name}") == (200, path.read_bytes()), path.name

            stopping = time.monotonic()
            process.send_signal(signal.SIGTERM)
            assert process.wait(STOP_SECONDS) == 0, log.read_text()
            print(f"wheel test: hotline serve stopped {time.monotonic() - stopping:.1f} s after SIGTERM")
            assert get_or_none(f"{base}/healthz") is None, "the web port is still answering after the stop"
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)
