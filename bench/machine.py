"""The lines every benchmark prints first: which machine, which Python, how busy it was."""

from __future__ import annotations

import os
import platform


def print_machine() -> None:
    """Platform, Python, CPU count and the load average before the run (timings on a busy machine
    are inflated: the numbers say how much)."""
    print(f"# {platform.platform()} · {os.cpu_count()} cpus · python {platform.python_version()}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
