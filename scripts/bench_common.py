"""What every benchmark reports about the machine it ran on (shared by the bench scripts)."""
from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any, Sequence


def machine(packages: Sequence[str]) -> dict[str, Any]:
    """What the numbers were measured on (a shared 2-core VM and a laptop differ a lot)."""
    cpu_model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    ram_gib = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gib = round(int(line.split()[1]) / 2**20, 1)
    try:
        nproc = int(subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip())
    except (OSError, ValueError):
        nproc = os.cpu_count() or 0
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "nproc": nproc,
        "cpu_model": cpu_model,
        "ram_gib": ram_gib,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "versions": versions,
    }
