"""Install the desktop entry, icon and AppStream metainfo for the current user (``make install-desktop``).

After this the app is in the desktop's application menu and opens with a double-click. Files go
to ``$XDG_DATA_HOME`` (default ``~/.local/share``)::

    applications/io.github.musictagger.desktop      Exec= the absolute path of musictagger-gui
    icons/hicolor/scalable/apps/io.github.musictagger.svg
    metainfo/io.github.musictagger.metainfo.xml

then ``update-desktop-database`` (and ``gtk-update-icon-cache``) run when they are installed.
Deliberately Qt-free: it runs from a terminal, and imports only the resource names.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from musictagger.gui.resources import DESKTOP_FILE, ICON_FILE, METAINFO_FILE, resources_dir


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def gui_executable() -> str:
    """The installed ``musictagger-gui`` beside this interpreter (a venv's bin/), else on PATH."""
    beside = Path(sys.executable).parent / ("musictagger-gui.exe" if os.name == "nt" else "musictagger-gui")
    if beside.is_file():
        return str(beside.absolute())
    found = shutil.which("musictagger-gui")
    if found:
        return str(Path(found).absolute())
    raise SystemExit("musictagger-gui is not installed (run `make setup` or `pip install .` first)")


def _desktop_entry(template: str, exec_path: str) -> str:
    """The shipped entry with Exec/TryExec pointing at ``exec_path`` (quoted per the spec)."""
    quoted = f'"{exec_path}"' if any(c in exec_path for c in " \t\"'\\") else exec_path
    lines = []
    for line in template.splitlines():
        if line.startswith("Exec="):
            line = f"Exec={quoted} %F"
        elif line.startswith("TryExec="):
            line = f"TryExec={exec_path}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def install(target: Path | None = None, exec_path: str | None = None, *, refresh: bool = True) -> list[Path]:
    """Copy the three files under ``target`` (default: :func:`data_home`); returns the paths written."""
    source = resources_dir()
    if source is None:
        raise SystemExit("the resources folder (icon, desktop entry, metainfo) was not found")
    target = target or data_home()
    exec_path = exec_path or gui_executable()
    apps = target / "applications"
    icons = target / "icons" / "hicolor" / "scalable" / "apps"
    meta = target / "metainfo"
    for folder in (apps, icons, meta):
        folder.mkdir(parents=True, exist_ok=True)
    written = [apps / DESKTOP_FILE, icons / ICON_FILE, meta / METAINFO_FILE]
    written[0].write_text(
        _desktop_entry((source / DESKTOP_FILE).read_text(encoding="utf-8"), exec_path), encoding="utf-8"
    )
    shutil.copyfile(source / ICON_FILE, written[1])
    shutil.copyfile(source / METAINFO_FILE, written[2])
    if refresh:
        _run_if_present("update-desktop-database", "-q", str(apps))
        _run_if_present("gtk-update-icon-cache", "-q", "-t", "-f", str(target / "icons" / "hicolor"))
    return written


def _run_if_present(tool: str, *args: str) -> None:
    if shutil.which(tool):
        subprocess.run([tool, *args], check=False, timeout=60)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m musictagger.gui.install_desktop", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--prefix", type=Path, help="data folder to install into (default: $XDG_DATA_HOME or ~/.local/share)"
    )
    parser.add_argument("--exec", dest="exec_path", help="command for Exec= (default: the installed musictagger-gui)")
    args = parser.parse_args(argv)
    for path in install(args.prefix, args.exec_path):
        print(f"installed {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
