"""A wheel built from this checkout works once installed: ``pip install`` of it into a fresh venv
gives a ``musictagger`` that lists the bundled packs and a desktop app whose window opens (offscreen)
with its icon and style sheet, from a folder that is not the checkout.

The fresh venv gets the heavy dependencies (torch, Qt…) through a ``.pth`` line naming the site
folder of the interpreter running the tests, added *after* its own site-packages, so the installed
musictagger is the wheel's, never this checkout or an editable install.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, f"{cmd} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


def _checkout_copy(dest: Path) -> Path:
    """The files a clean checkout has (tracked, plus new files not ignored), so stale build/ or
    egg-info folders of the working tree cannot leak into the wheel."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        timeout=60,
        check=False,
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout: cannot tell which files a clean checkout has")
    for name in filter(None, listed.stdout.decode().split("\0")):
        src = REPO / name
        if src.is_file():  # deleted in the working tree but still in the index: skip
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("wheel")
    source = _checkout_copy(root / "src")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_CONSTRAINT")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    wheels = root / "wheels"
    _run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels), "."],
        cwd=source,
        env=env,
    )
    (wheel,) = wheels.glob("musictagger-*.whl")

    prefix = root / "venv"
    venv.create(prefix, with_pip=False, symlinks=os.name != "nt")
    python = prefix / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
        cwd=root,
        env=env,
    )
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=root, env=env
        ).stdout.strip()
    )
    (site / "zz_test_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")

    env["MUSICTAGGER_HOME"] = str(root / "home")  # no user packs, nothing of the developer's
    env["HOME"] = str(root / "home")
    env["XDG_CONFIG_HOME"] = str(root / "home" / "config")
    env["XDG_DATA_HOME"] = str(root / "home" / "share")
    env["QT_QPA_PLATFORM"] = "offscreen"
    work = root / "elsewhere"
    work.mkdir()
    return {"prefix": prefix, "python": python, "bin": python.parent, "work": work, "env": env}


def test_installed_cli_lists_the_bundled_packs(installed: dict[str, Any]) -> None:
    where = _run(
        [str(installed["python"]), "-c", "import musictagger; print(musictagger.__file__)"],
        cwd=installed["work"],
        env=installed["env"],
    )
    assert Path(where.stdout.strip()).is_relative_to(installed["prefix"]), where.stdout

    result = _run(
        [str(installed["bin"] / "musictagger"), "models", "list", "--json"], cwd=installed["work"], env=installed["env"]
    )
    packs = json.loads(result.stdout)["packs"]
    bundled = {p["name"]: Path(p["path"]) for p in packs if p["bundled"]}
    shipped = {d.name for d in (REPO / "models").iterdir() if d.is_dir() and (d / "manifest.json").is_file()}
    assert set(bundled) == shipped
    share = installed["prefix"] / "share" / "musictagger" / "models"
    assert all(path.is_relative_to(share) for path in bundled.values()), bundled


def test_installed_app_opens_its_window_with_icon_and_style(installed: dict[str, Any]) -> None:
    snippet = """
import json, sys
from PySide6.QtWidgets import QApplication
app = QApplication([sys.argv[0]])
from musictagger.gui.app import create_window
from musictagger.gui.resources import app_icon, resources_dir, stylesheet
window = create_window([])
app.processEvents()
print(json.dumps({"visible": window.isVisible(), "title": window.windowTitle(), "resources": str(resources_dir()),
                  "icon": not app_icon().isNull(), "style": bool(stylesheet())}))
window.close()
"""
    result = _run([str(installed["python"]), "-c", snippet], cwd=installed["work"], env=installed["env"])
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    assert shown["visible"] and "musictagger" in shown["title"].lower(), shown
    assert Path(shown["resources"]) == installed["prefix"] / "share" / "musictagger" / "resources"
    assert shown["icon"] and shown["style"], shown
    # The gui-script entry point is there and starts (its --help exits before any window).
    helped = _run([str(installed["bin"] / "musictagger-gui"), "--help"], cwd=installed["work"], env=installed["env"])
    assert "musictagger-gui" in helped.stdout


def test_installed_desktop_files_install(installed: dict[str, Any]) -> None:
    target = installed["work"] / "share"
    result = _run(
        [
            str(installed["python"]),
            "-m",
            "musictagger.gui.install_desktop",
            "--prefix",
            str(target),
            "--exec",
            "musictagger-gui",
        ],
        cwd=installed["work"],
        env=installed["env"],
    )
    desktop = target / "applications" / "io.github.musictagger.desktop"
    assert desktop.is_file() and "Exec=musictagger-gui %F" in desktop.read_text(encoding="utf-8"), result.stdout
    assert (target / "icons" / "hicolor" / "scalable" / "apps" / "io.github.musictagger.svg").is_file()
    assert (target / "metainfo" / "io.github.musictagger.metainfo.xml").is_file()
