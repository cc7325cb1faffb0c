"""The render context: everything device-bound that a figure uses.

A figure module that runs the network imports RenderContext (for its render's annotation), which
also puts the engine it reaches through the context (vgg, images, transfer) in its cache key.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class RenderContext:
    """Everything device-bound that a figure uses. A render function takes its model, the tensors
    the model reads and its transfers from here, never from generator.engine.vgg, images.to_tensor,
    generator.engine.transfer or generator.engine.batched directly, so every tensor reaches the model on the build's device. `dtype`
    is "float32" in a build; the GPU-safety test renders in "float64", where a tensor made
    elsewhere (float32, on the CPU) makes the convolution refuse it."""
    out: Path                        # empty folder to write this figure's files into
    device: str = "cpu"
    progress: object = None          # callable(n) advancing a progress bar, or None
    dtype: str = "float32"
    # One record per transfer this figure ran (transfer_plan), published in the manifest so the
    # pages state the start, stages and painting size each run used.
    transfers: list = field(default_factory=list)
    _models: dict = field(default_factory=dict, repr=False)

    def model(self, pooling: str = "max", **options):
        """The shared VGG19 on the device (a private copy when dtype is not float32); `options`
        go to generator.engine.models.get_model as they are."""
        from ..engine.models import get_model

        shared = get_model(pooling, self.device, **options)
        if self.dtype == "float32":
            return shared
        key = (pooling, tuple(sorted(options.items())))
        if key not in self._models:
            self._models[key] = copy.deepcopy(shared).to(self._torch_dtype())
        return self._models[key]

    def objective_model(self, settings):
        """The network an objective reads: its pooling, rescaled as its settings say."""
        return self.model(settings.pooling, rescale=settings.rescale_weights)

    def tensor(self, image):
        """A PIL image as the model's input: (1, 3, H, W), BGR, means removed, on the device."""
        from ..engine.images import to_tensor

        return to_tensor(image).to(self.device, self._torch_dtype())

    def run_transfer(self, content, styles, settings, size=None):
        """The engine's transfer on the device (with its own network, in the settings' precision),
        refusing a result whose loss is not finite: a diverged optimisation must fail its figure,
        not publish a blank image. `size` defaults to the content image's; a reconstruction is a
        transfer whose other weight is zero."""
        from ..engine import transfer

        size = size or content.size
        settings = self.runnable(settings)
        self.transfers.append(transfer_plan(settings, size, bool(styles) and settings.style_weight > 0))
        return _finite(transfer.run_transfer(content, styles, settings, size, self.device, self.progress))

    def run_batch(self, problems, size):
        """Several transfers of one canvas `size` optimised together (generator.engine.batched.run_batch:
        each canvas follows run_transfer alone; they must share its SHARED settings).
        `problems` are (content, styles, settings) tuples; results in their order, each refused as
        run_transfer's is when its loss is not finite. Every result's `seconds` is the batch's."""
        from ..engine import batched

        batch = [batched.Problem(content, tuple(styles), self.runnable(settings)) for content, styles, settings in problems]
        self.transfers.extend(transfer_plan(p.settings, size, bool(p.styles) and p.settings.style_weight > 0)
                              for p in batch)
        return [_finite(r) for r in batched.run_batch(batch, size, self.device, self.progress)]

    def runnable(self, settings):
        """`settings` in a precision the device runs at speed (runtime.runnable_precision: float32 for
        bfloat16 on a CPU without it), so the manifest states what ran."""
        from dataclasses import replace

        from ..engine.runtime import runnable_precision

        return replace(settings, precision=runnable_precision(settings.precision, self.device))

    def _torch_dtype(self):
        import torch

        return getattr(torch, self.dtype)


def _finite(result):
    """`result`, unless its loss stopped being finite: a diverged optimisation fails its figure."""
    import math

    bad = [h["evaluation"] for h in result.history if not math.isfinite(h["total"])]
    if bad:
        raise RuntimeError(f"the optimisation diverged (loss not finite from evaluation {bad[0]})")
    return result


def transfer_plan(settings, size, with_style: bool) -> dict:
    """What a transfer of final `size` (w, h) does before it runs: the objective it reads
    (picks.reads; the build merges its runs' into the manifest's "objective"), its start, the
    precision it runs in (the runnable one: ctx.runnable), L-BFGS's preconditioner ("none" under
    Adam), its copy guard (the threshold, 0 when none watches: transfer.guard_layer) and, per
    coarse-to-fine stage, the canvas's size, its evaluations and the painting's long side (None
    without a style term), as the engine plans them (transfer.plan_stages, transfer.style_side)."""
    from ..engine.transfer import guard_layer, plan_stages, style_side
    from .picks import reads

    stages = plan_stages(size, settings.scales, settings.steps, settings.final_share)
    guard = settings.copy_guard if with_style and guard_layer(settings) else 0.0   # 0: no copy guard ran
    return {"objective": reads(settings), "init": settings.init, "evaluations": sum(s.steps for s in stages),
            "precision": settings.precision, "precondition": settings.preconditioner(), "copy_guard": guard,
            "stages": [{"width": s.size[0], "height": s.size[1], "evaluations": s.steps,
                        "painting_long_side": style_side(s.size, settings.style_min_side, settings.style_scale)
                        if with_style else None} for s in stages]}
