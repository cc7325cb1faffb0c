"""An animation of a whole transfer: the photo, step by step, taking on the painting's style.

Besides the animated WebP, its poster, strip and loss plot, each frame is its own image (role
frame_<i>) with its numbers: snapshot_evaluation_<i> (0: the starting canvas, which evaluation 1
measures) and the losses of the canvas it shows, snapshot_content_loss_<i>, snapshot_style_loss_<i>
and snapshot_total_loss_<i>. The loss curve, for the pages' explorer to draw, is curve_content_<e>,
curve_style_<e> and curve_total_<e> at the evaluations e that curve_evaluations picks; the content
and style losses are unweighted, content_weight and style_weight are alpha and beta."""
from __future__ import annotations

import math

from ..engine.images import fit_long_side, read_image
from . import Figure, FigureSpec
from .context import RenderContext
from .picks import painting, photo

CURVE_POINTS = 200   # at most this many evaluations on the curve (plus the frames'), however long the run
FIGURE = Figure(
    order=140, outputs=("animation", "poster", "strip", "loss", "frame_*"),
    numbers=("width", "height", "evaluations", "initial_loss", "final_loss", "final_content_loss", "final_style_loss",
             "frames", "transfer_seconds", "noise_start_content_loss", "content_weight", "style_weight",
             "snapshot_evaluation_*", "snapshot_content_loss_*", "snapshot_style_loss_*", "snapshot_total_loss_*",
             "curve_content_*", "curve_style_*", "curve_total_*"),
    sizes={"tiny": {"long_side": 48, "steps": 8, "scales": [1.0], "frames": 4},
           "preview": {"long_side": 288, "steps": 100, "scales": [1.0], "frames": 20},
           "full": {"long_side": 512, "steps": 500, "scales": [1.0], "frames": 40}})


def specs(catalog, profile, site_src):
    c, s = photo(catalog), painting(catalog)
    size = FIGURE.size(profile)
    settings = profile.compared_transfer(steps=size["steps"], scales=tuple(size["scales"]),
                                snapshot_every=max(1, size["steps"] // size["frames"]))
    return [FigureSpec(name="work/animation",
                       params={"settings": settings.to_dict(), "long_side": size["long_side"],
                               "photo": c.name, "painting": s.name},
                       inputs=(c.path(site_src), s.path(site_src)), heavy=True)]


def measured_by(frame_evaluation: int) -> int:
    """The evaluation that measured a frame's canvas: the starting canvas (frame 0) is evaluation 1's."""
    return max(frame_evaluation, 1)


def curve_evaluations(evaluations: int, frames: list[int], cap: int = CURVE_POINTS) -> list[int]:
    """The evaluations (1-based) the curve keeps: all of them up to `cap`, else every k-th, always
    the last one and each frame's, so every frame's cursor sits on the curve."""
    stride = max(1, math.ceil(evaluations / cap))
    kept = set(range(1, evaluations + 1, stride)) | {evaluations} | {measured_by(e) for e in frames}
    return sorted(e for e in kept if 1 <= e <= evaluations)


def render(spec, ctx: RenderContext):
    from ..engine.images import save_image
    from .animation import frames_from, save_animation
    from .measures import noise_content_loss
    from .picks import settings as make_settings
    from .plotting import loss_plot

    content, style = (read_image(x) for x in spec.inputs)
    content = fit_long_side(content, spec.params["long_side"])
    settings = make_settings(spec.params["settings"])
    result = ctx.run_transfer(content, [style], settings, content.size)
    frames = frames_from(result, content if settings.init == "content" else None)
    files = save_animation(frames, ctx.out, "transfer")
    h = result.history
    evals = [x["evaluation"] for x in h]
    loss_plot({"estilo (β·L)": (evals, [settings.style_weight * x["style"] for x in h]),
               "contenido (α·L)": (evals, [settings.content_weight * x["content"] for x in h]),
               "total": (evals, [x["total"] for x in h])},
              ctx.out / "loss.png", "evaluación de la pérdida", "pérdida (escala log.)", dashed={"total"})
    files["loss"] = "loss.png"
    numbers = {"width": content.width, "height": content.height, "evaluations": len(h),
               "initial_loss": h[0]["total"], "final_loss": h[-1]["total"],
               "final_content_loss": h[-1]["content"], "final_style_loss": h[-1]["style"],
               "frames": len(frames), "transfer_seconds": round(result.seconds, 3),
               "noise_start_content_loss": noise_content_loss(ctx, content, style, settings),
               "content_weight": settings.content_weight, "style_weight": settings.style_weight}
    by_evaluation = {x["evaluation"]: x for x in h}
    for i, (evaluation, image) in enumerate(frames):
        files[f"frame_{i}"] = f"frame_{i:02d}.jpg"
        save_image(image, ctx.out / files[f"frame_{i}"], quality=85)
        measured = by_evaluation[measured_by(evaluation)]
        numbers[f"snapshot_evaluation_{i}"] = evaluation
        for part in ("content", "style", "total"):
            numbers[f"snapshot_{part}_loss_{i}"] = measured[part]
    for e in curve_evaluations(len(h), [e for e, _ in frames]):
        for part in ("content", "style", "total"):
            numbers[f"curve_{part}_{e}"] = by_evaluation[e][part]
    return files, numbers
