"""The machine a table was measured on, in one line: the CPU's model and the features that decide
its speed (from /proc/cpuinfo where there is one). Every bench table prints it."""
from __future__ import annotations

import contextlib
import os
import platform
from pathlib import Path

FEATURES = ("avx2", "avx512f", "avx512_bf16", "amx_tile")


def describe() -> str:
    name, flags = platform.processor() or platform.machine(), set()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                name = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    features = ", ".join(f"{f} {'yes' if f in flags else 'no'}" for f in FEATURES)
    return f"{name}, {os.cpu_count()} logical cores ({features})"
