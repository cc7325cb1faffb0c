"""The device a computation runs on: `--device` checked and resolved (auto, cpu, cuda, cuda:N)."""
from __future__ import annotations

import re

from ..common.errors import InputError

DEVICE_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def check_device(device: str) -> None:
    """Refuse a bad --device before any work; CUDA's presence is checked when it is named."""
    if not DEVICE_PATTERN.match(device):
        raise InputError("--device", f"unknown device {device!r} (auto, cpu, cuda or cuda:N)")
    if device.startswith("cuda"):
        resolve_device(device)


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InputError("--device", f"{device!r} asked for, but no CUDA device is available")
    if device != "cpu" and not device.startswith("cuda"):
        raise InputError("--device", f"unknown device {device!r} (auto, cpu or cuda)")
    return device
