"""Double-click launch: the desktop entry, icon and AppStream metainfo are valid and install for
the user; and a screenshot of the real window under a real X server (Xvfb) is not blank."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import pytest  # noqa: E402

pytest.importorskip("PySide6.QtWidgets")

from musictagger.gui.resources import APP_ID, DESKTOP_FILE, ICON_FILE, METAINFO_FILE, resources_dir  # noqa: E402

RESOURCES = resources_dir()


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


def test_resources_are_consistent():
    assert RESOURCES is not None
    desktop = (RESOURCES / DESKTOP_FILE).read_text(encoding="utf-8")
    metainfo = (RESOURCES / METAINFO_FILE).read_text(encoding="utf-8")
    assert f"Icon={APP_ID}\n" in desktop
    assert f"<id>{APP_ID}</id>" in metainfo
    assert f'<launchable type="desktop-id">{DESKTOP_FILE}</launchable>' in metainfo
    from PySide6.QtSvg import QSvgRenderer

    assert QSvgRenderer(str(RESOURCES / ICON_FILE)).isValid()


def test_desktop_file_validates():
    out = subprocess.run(
        [_tool("desktop-file-validate"), str(RESOURCES / DESKTOP_FILE)], capture_output=True, text=True
    )
    assert out.returncode == 0 and not out.stdout.strip(), out.stdout + out.stderr


def test_metainfo_validates():
    out = subprocess.run(
        [_tool("appstreamcli"), "validate", "--no-net", str(RESOURCES / METAINFO_FILE)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_install_desktop_writes_the_three_files_with_exec_pointing_at_the_app(tmp_path):
    from musictagger.gui.install_desktop import install

    exe = tmp_path / "bin dir" / "musictagger-gui"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    written = install(tmp_path / "share", str(exe), refresh=False)
    desktop, icon, metainfo = written
    assert desktop == tmp_path / "share" / "applications" / DESKTOP_FILE
    assert icon == tmp_path / "share" / "icons" / "hicolor" / "scalable" / "apps" / ICON_FILE
    assert metainfo == tmp_path / "share" / "metainfo" / METAINFO_FILE
    text = desktop.read_text()
    assert f'Exec="{exe}" %F' in text and f"TryExec={exe}\n" in text
    assert icon.read_bytes() == (RESOURCES / ICON_FILE).read_bytes()
    if shutil.which("desktop-file-validate"):
        out = subprocess.run(["desktop-file-validate", str(desktop)], capture_output=True, text=True)
        assert out.returncode == 0, out.stdout


def test_screenshot_of_the_real_window_under_xvfb(tmp_path):
    """Runs the app on an X server and grabs the screen: many distinct colours, not a blank frame."""
    xvfb = _tool("Xvfb")
    from media import make_cover, make_track
    from PIL import Image

    for i, (name, colour) in enumerate([("Alpha", (180, 40, 40)), ("Beta", (40, 90, 180)), ("Gamma", (40, 160, 80))]):
        folder = tmp_path / "music" / f"Band {i}" / name
        folder.mkdir(parents=True)
        make_track(
            folder,
            "flac",
            title=f"{name} 1",
            artist=f"Band {i}",
            album=name,
            genres=["Heavy Metal"],
            cover=make_cover(colour, (200, 200), text=name),
        )

    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as fh:
            display = fh.readline().strip()
        assert display, "Xvfb did not start"
        shot = tmp_path / "window.png"
        env = {
            **os.environ,
            "DISPLAY": f":{display}",
            "QT_QPA_PLATFORM": "xcb",
            "MUSICTAGGER_HOME": str(tmp_path / "home"),
        }
        out = subprocess.run(
            [sys.executable, "-m", "musictagger.gui.screenshot", str(shot), str(tmp_path / "music")],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if out.returncode != 0 and "xcb" in out.stderr and "could not" in out.stderr.lower():
            pytest.skip(f"Qt's xcb platform cannot start here: {out.stderr[-300:]}")
        assert out.returncode == 0, out.stderr[-2000:]
    finally:
        server.terminate()
        server.wait(10)
    image = Image.open(shot).convert("RGB")
    assert image.width >= 800 and image.height >= 500
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) >= 64, f"only {len(colours or [])} colours: blank window?"
    target = os.environ.get("MUSICTAGGER_SCREENSHOT")
    if target:
        shutil.copyfile(shot, target)
