"""Pre-flight memory check: estimate a transfer's peak memory from the canvas size and refuse,
before any work, a size that would not fit (an InputError instead of an out-of-memory crash)."""
from __future__ import annotations

from ..common.errors import InputError
from .vgg import BLOCKS, LAYERS

GIB = 1024 ** 3
BACKWARD_FACTOR = 2.0     # activations kept for backward, their gradients, the allocator's slack
                          # (measured on CPU at 512x252: 0.5 GiB resident for an estimate of 0.8)
WEIGHTS_BYTES = 80e6      # VGG19's 16 convolutions in float32 (a bfloat16 copy adds a little)
SAFETY = 0.9              # leave a tenth of the free memory to everything else


def activation_elements(size: tuple[int, int], deepest: str) -> int:
    """Elements in all activations VGG19 produces for one (w, h) image, up to `deepest`."""
    w, h = size
    total, block = 0, 0
    for name in LAYERS[: LAYERS.index(deepest) + 1]:
        if name.startswith("pool"):
            w, h = w // 2, h // 2
            total += BLOCKS[block][1] * w * h
            block += 1
        else:
            total += BLOCKS[block][1] * w * h  # conv output, and the ReLU's separate output
    return total


def estimate_bytes(size: tuple[int, int], deepest: str, history: int = 50) -> int:
    """Peak bytes for a transfer at (w, h): activations x BACKWARD_FACTOR, the optimiser's
    curvature history (2 x history canvases), the weights. bfloat16 counts as float32: each stage
    starts with float32 evaluations and the losses read float32 copies of the features."""
    per_element = 4
    pixels = size[0] * size[1]
    activations = activation_elements(size, deepest) * per_element * BACKWARD_FACTOR
    optimiser = (2 * history + 4) * 3 * pixels * 4
    return int(activations + optimiser + WEIGHTS_BYTES)


def available_bytes(device: str) -> int | None:
    """Free memory where the transfer runs: CUDA's free memory plus what PyTorch's allocator has
    cached, or the host's MemAvailable; None when it can't be read."""
    if str(device).startswith("cuda"):
        import torch

        free, _ = torch.cuda.mem_get_info(torch.device(device))
        return int(free + torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device))
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def check_fits(size: tuple[int, int], deepest: str, device: str, history: int = 50,
               available: int | None = None) -> int:
    """Raise InputError('--size', ...) if the estimate exceeds the available memory; return the estimate."""
    need = estimate_bytes(size, deepest, history)
    have = available_bytes(device) if available is None else available
    if have is not None and need > have * SAFETY:
        raise InputError("--size", f"{size[0]}x{size[1]} px needs ~{need / GIB:.1f} GiB on {device}, "
                                   f"only {have / GIB:.1f} GiB available (use a smaller --size)")
    return need
