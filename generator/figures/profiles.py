"""Build profiles: how big and how long every figure is (tiny for tests, preview on a CPU, full on a GPU)."""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..common.errors import InputError
from ..engine.settings import CPU_FINAL_SHARE, CPU_STEPS, FINAL_SHARE, TransferSettings


@dataclass(frozen=True)
class Profile:
    """A build profile: how big and how long every figure is."""
    name: str
    long_side: int          # gallery and hero results, in pixels (never above the photo's own)
    steps: int              # L-BFGS evaluations per gallery transfer
    scales: tuple = (1.0,)  # coarse-to-fine schedule
    precision: str = "float32"
    thumb_side: int = 160
    rank: int = 0           # higher = better quality; a better profile's cache serves a lower one
    final_share: float = FINAL_SHARE  # coarse-to-fine: the final size's share of every transfer's evaluations
    # The site's figures optimise as the papers do, with plain L-BFGS: the pyramid preconditioner
    # (stylize's default) would add a departure to every figure for no better picture with their
    # coarse-to-fine schedules (bench/README.md, speed).
    precondition: str = "none"
    # The painting's long side is at least this (TransferSettings.style_min_side). The tiny profile's
    # 64 px canvases take a 128 px painting: at 512 px its VGG19 pass cost more than the transfers.
    style_min_side: int = TransferSettings.style_min_side

    def transfer(self, **overrides) -> TransferSettings:
        base = TransferSettings(steps=self.steps, scales=self.scales, precision=self.precision,
                                final_share=self.final_share, precondition=self.precondition,
                                style_min_side=self.style_min_side)
        return replace(base, **overrides)

    def compared_transfer(self, **overrides) -> TransferSettings:
        """A transfer whose losses a figure compares, between runs or along one run: without the
        copy guard, which changes relu5_1's target during a run (engine/copy_guard.py), so that every
        run optimises one loss from its start to its end."""
        return self.transfer(**{"copy_guard": 0.0, **overrides})


PROFILES = {
    "tiny": Profile("tiny", long_side=64, steps=12, thumb_side=48, rank=0, style_min_side=128),
    # The CPU default: the gallery with the coarse-to-fine schedule stylize uses without the
    # preconditioner (CPU_STEPS, CPU_FINAL_SHARE), every other figure coarse-to-fine with the same
    # final share where its size table asks for two scales.
    "preview": Profile("preview", long_side=512, steps=CPU_STEPS, scales=(0.5, 1.0), precision="bfloat16",
                       thumb_side=240, rank=1, final_share=CPU_FINAL_SHARE),
    # For a GPU: 1024 px gallery, quarter, half then full size, 500 evaluations at full size.
    "full": Profile("full", long_side=1024, steps=625, scales=(0.25, 0.5, 1.0), thumb_side=320, rank=2),
}


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise InputError("--profile", f"unknown profile {name!r} (choose from {', '.join(PROFILES)})")
    return PROFILES[name]
