"""How the optimisation runs, whatever it optimises: the network in the chosen precision, the
evaluations' clock, the precision of each evaluation and the optimiser's loop. transfer.py (one or
several canvases) and synthesis.py run through these.

Speed (see README, performance): the network runs only as deep as the losses need, with frozen
weights; the optimiser is a synchronisation-free L-BFGS (lbfgs.py) and the loops record losses as
device tensors, read once at the end; precision "bfloat16" runs the network under autocast in
channels-last (the first evaluations of each stage stay in float32, see WARMUP_FLOAT32).
"""
from __future__ import annotations

import copy
import time
from contextlib import contextmanager

import torch

from .lbfgs import LBFGS
from .models import get_model
from .precondition import PRECONDITIONERS, preconditioner
from .settings import default_schedule

# torch.optim.LBFGS's first step, t = 1/|g|_1, moves pixels by ~1e-4 at these loss scales: below
# bfloat16's resolution (the second gradient equals the first, no curvature pair forms, the next
# step of size |g| ~ 1e9 overflows) and at float32's rounding level. So the first step moves the
# largest pixel change to FIRST_MOVE (0-255 units), and each stage's first evaluations, which form
# the first curvature pair, run in float32.
FIRST_MOVE = 1.0
WARMUP_FLOAT32 = 2
LBFGS_HISTORY = 50
PRECISIONS = ("float32", "bfloat16")
OPTIMIZERS = ("lbfgs", "adam")
STOP_CHECK_CUDA = 10


def check_schedule(precision: str, optimizer: str, precondition: str = "none") -> None:
    """Refuse an unknown precision, optimiser or preconditioner before any work."""
    _check_choice("precision", precision, PRECISIONS)
    _check_choice("optimizer", optimizer, OPTIMIZERS)
    _check_choice("precondition", precondition, PRECONDITIONERS)


def native_bfloat16(device: str) -> bool:
    """Whether `device` runs bfloat16 convolutions at speed. On a CPU that is oneDNN's bfloat16 path
    (AVX-512 or newer, Arm's BF16): without it PyTorch falls back to scalar kernels, on an AVX2-only
    CPU a 512 px evaluation took minutes instead of seconds (bench/README.md, speed)."""
    device = str(device)
    if device.startswith("cuda"):
        try:
            return torch.cuda.is_bf16_supported(including_emulation=False)
        except TypeError:   # torch without the argument
            return torch.cuda.is_bf16_supported()
    if device == "cpu":
        try:
            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):
            return False
    return True


def runnable_precision(precision: str, device: str) -> str:
    """`precision`, or float32 where bfloat16 would be slower than float32 (native_bfloat16)."""
    return "float32" if precision == "bfloat16" and not native_bfloat16(device) else precision


def device_schedule(size: int, device: str, precondition: str = "pyramid") -> dict:
    """stylize's default schedule (settings.default_schedule) in a precision this device runs at speed."""
    schedule = default_schedule(size, device, precondition)
    return {**schedule, "precision": runnable_precision(schedule["precision"], device)}


def _check_choice(what: str, value: str, allowed: tuple) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r} ({' or '.join(allowed)})")


_FAST_MODELS: dict = {}


def network(pooling: str, device: str, precision: str, rescale: bool = False):
    """The shared VGG19, or for bfloat16 a channels-last copy of it (convolutions in NHWC)."""
    model = get_model(pooling, device, rescale)
    if precision == "float32":
        return model
    key = (pooling, str(device), bool(rescale))
    if key not in _FAST_MODELS:
        _FAST_MODELS[key] = copy.deepcopy(model).to(memory_format=torch.channels_last)
    return _FAST_MODELS[key]


def features(model, canvas, layers, precision: str) -> dict:
    """Network activations, in float32 or under bfloat16 autocast (channels-last, bfloat16 out).
    The losses promote bfloat16 features to float32 (losses.gram_matrix, the content difference), so
    Gram matrices and losses are always summed in float32."""
    if precision == "float32":
        return model(canvas, layers)
    x = canvas.contiguous(memory_format=torch.channels_last)  # the parameter itself stays NCHW
    with torch.autocast(canvas.device.type, dtype=torch.bfloat16):
        return model(x, layers)


@contextmanager
def fast_math(device: str, precision: str):
    """TF32 matmuls/convolutions on CUDA for the bfloat16 path (float32 stays exact)."""
    if not str(device).startswith("cuda") or precision == "float32":
        yield
        return
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32, torch.backends.cudnn.benchmark
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    try:
        yield
    finally:
        (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
         torch.backends.cudnn.benchmark) = saved


class Clock:
    """Seconds since the start at each evaluation: CUDA events on a GPU (no host waits until
    read()), the host clock on a CPU."""

    def __init__(self, device: str):
        self.cuda = str(device).startswith("cuda")
        self.start = time.perf_counter()
        self.marks: list = []
        if self.cuda:
            self.first = torch.cuda.Event(enable_timing=True)
            self.first.record()

    def tick(self) -> None:
        if self.cuda:
            event = torch.cuda.Event(enable_timing=True)
            event.record()
            self.marks.append(event)
        else:
            self.marks.append(time.perf_counter() - self.start)

    def read(self) -> tuple[float, list[float]]:
        if self.cuda:
            torch.cuda.synchronize()
            self.marks = [self.first.elapsed_time(e) / 1000.0 for e in self.marks]
        return time.perf_counter() - self.start, self.marks


def stage_precision(i: int, precision: str) -> str:
    """The precision of a stage's i-th evaluation: float32 for the warm-up."""
    return "float32" if i < WARMUP_FLOAT32 else precision


def loss_reached(target: float | None, device: str):
    """A test `(i, total) -> bool` for a run's stop_below, or None. A bfloat16 evaluation reads the
    loss ~1.5 % low at 512 px (measured): the benchmark stops below its target and rescores in
    float32."""
    if target is None:
        return None
    every = STOP_CHECK_CUDA if str(device).startswith("cuda") else 1
    return lambda i, total: i >= WARMUP_FLOAT32 and (i + 1) % every == 0 and total.item() <= target


def optimise(canvas: torch.Tensor, evaluate, steps: int, optimizer: str = "lbfgs", learning_rate: float = 10.0,
             reached=None, precondition: str = "none") -> None:
    """Spend `steps` evaluations on `canvas` (K canvases, (K, ...)) with the chosen optimiser, fewer
    if `reached(i, total)` says so. `evaluate(i)` returns the loss of each canvas ((K,), or a
    scalar for one); their sum's gradient with respect to canvas k is canvas k's own, as no loss
    reads two canvases. `precondition` (precondition.PRECONDITIONERS) is L-BFGS's initial inverse Hessian."""
    _check_choice("optimizer", optimizer, OPTIMIZERS)
    if optimizer == "lbfgs":
        opt = LBFGS(canvas, lr=1.0, history=LBFGS_HISTORY, min_first_move=FIRST_MOVE,
                    precondition=preconditioner(precondition, tuple(canvas.shape)))
        for i in range(steps):
            total = evaluate(i)
            if reached and reached(i, total):
                return
            if i < steps - 1:  # like torch.optim.LBFGS, end on an evaluation of the final canvas
                grad, = torch.autograd.grad(total.sum(), canvas)
                opt.step(grad)
    else:
        opt = torch.optim.Adam([canvas], lr=learning_rate)
        for i in range(steps):
            opt.zero_grad(set_to_none=True)
            total = evaluate(i)
            if reached and reached(i, total):
                return
            total.sum().backward()
            opt.step()
