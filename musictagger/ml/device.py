"""Choosing where models run: CUDA, Apple MPS or the CPU, and how many CPU threads to use.

Importing this module does not import torch; each function imports it when called.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from musictagger.errors import DeviceError

if TYPE_CHECKING:  # pragma: no cover - typing only
    import torch

_CUDA_RE = re.compile(r"^cuda(?::(\d+))?$")


def select_device(preference: str = "auto") -> torch.device:
    """The device for ``preference``: "auto" (CUDA > MPS > CPU), "cpu", "cuda", "cuda:N" or "mps".

    "auto" never fails. An explicit choice that this machine cannot honour raises
    :class:`DeviceError` saying why, rather than silently running somewhere slower than asked.
    """
    import torch

    choice = preference.strip().lower()
    if choice == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", torch.cuda.current_device())
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if choice == "cpu":
        return torch.device("cpu")
    if choice == "mps":
        if not _mps_available():
            raise DeviceError('device "mps" was asked for, but Apple Metal (MPS) is not available here')
        return torch.device("mps")
    m = _CUDA_RE.match(choice)
    if m:
        if not torch.cuda.is_available():
            build = (
                "this torch build has no CUDA support"
                if torch.version.cuda is None
                else "no usable NVIDIA GPU/driver was found"
            )
            raise DeviceError(
                f'device "{preference}" was asked for, but CUDA is not available ({build}); use "auto" or "cpu"'
            )
        index = int(m.group(1)) if m.group(1) is not None else torch.cuda.current_device()
        count = torch.cuda.device_count()
        if index >= count:
            raise DeviceError(
                f'device "{preference}" was asked for, but there {"is" if count == 1 else "are"} only '
                f"{count} CUDA device{'s' if count != 1 else ''} (cuda:0 to cuda:{count - 1})"
            )
        return torch.device("cuda", index)
    raise DeviceError(f'unknown device "{preference}"; use "auto", "cpu", "cuda", "cuda:N" or "mps"')


def _mps_available() -> bool:
    import torch

    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def describe_device(device: str | torch.device) -> str:
    """A short human description, e.g. "NVIDIA H100 80GB HBM3 (cuda:0)" or "CPU (8 threads)"."""
    import torch

    dev = torch.device(device)
    if dev.type == "cuda":
        index = dev.index if dev.index is not None else torch.cuda.current_device()
        return f"{torch.cuda.get_device_name(index)} (cuda:{index})"
    if dev.type == "mps":
        return "Apple GPU (mps)"
    if dev.type == "cpu":
        threads = torch.get_num_threads()
        return f"CPU ({threads} thread{'s' if threads != 1 else ''})"
    return str(dev)


def available_cores() -> int:
    """CPU cores this process may run on (respects affinity masks and container CPU sets)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def set_cpu_threads(n: int) -> int:
    """Let torch use ``n`` CPU threads; 0 means all cores (the app runs its models in a niced core
    process, so the desktop stays responsive).

    Returns the count actually set.
    """
    import torch

    if n < 0:
        raise ValueError(f"the number of CPU threads must be 0 (automatic) or more, not {n}")
    count = n if n > 0 else max(1, available_cores())
    torch.set_num_threads(count)
    return count


#: torch's largest shared libraries, in load order (each needs the ones before it).
_TORCH_LIBRARIES = ("c10", "torch_cpu", "torch")


def preload_torch_libraries() -> int:
    """Map torch's largest shared libraries before ``import torch``, so that the import holds the
    GIL for much less time; returns how many were loaded.

    ``import torch`` loads them with the GIL held — every other thread of the process waits, up to
    ~0.2 s at a time on an idle machine (more on a busy one). ``ctypes`` loads a library with the
    GIL released, and the import then finds them in place. The app's core process calls this
    before loading the models, so its other jobs (an Undo, covers for the window) keep running;
    measured: the longest wait of another thread 220 → 60 ms. Linux and macOS; elsewhere, when
    torch is already imported or anything is amiss, nothing happens and torch loads as usual.
    """
    import sys

    if "torch" in sys.modules or sys.platform not in ("linux", "darwin"):
        return 0
    import ctypes
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("torch")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return 0
    folder = Path(next(iter(spec.submodule_search_locations))) / "lib"
    suffix = ".dylib" if sys.platform == "darwin" else ".so"
    loaded = 0
    for name in _TORCH_LIBRARIES:
        path = folder / f"lib{name}{suffix}"
        try:
            ctypes.CDLL(str(path))
        except OSError:  # not this layout, or a library it needs is missing: torch will say so
            break
        loaded += 1
    return loaded
