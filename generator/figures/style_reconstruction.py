"""From noise to the painting's style: a transfer with the content weight at zero, animated,
with its style-loss curve."""
from __future__ import annotations

from ..images import fit_long_side, read_image
from . import FigureSpec
from .picks import for_profile, painting

SIZES = {
    "tiny": {"long_side": 48, "steps": 8, "scales": [1.0], "frames": 4},
    "preview": {"long_side": 192, "steps": 100, "scales": [0.5, 1.0], "frames": 20},
    "full": {"long_side": 512, "steps": 500, "scales": [0.5, 1.0], "frames": 40},
}


def specs(catalog, profile, site_src):
    style = painting(catalog)
    size = for_profile(SIZES, profile)
    settings = profile.transfer(steps=size["steps"], scales=tuple(size["scales"]), content_weight=0.0,
                                init="noise", snapshot_every=max(1, size["steps"] // size["frames"]))
    return [FigureSpec(name="style/reconstruction", module=__name__.rsplit(".", 1)[1],
                       params={"settings": settings.to_dict(), "long_side": size["long_side"],
                               "painting": style.name},
                       inputs=(style.path(site_src),), heavy=True)]


def noise_image(settings, size):
    """The canvas the run starts from (same seed and first-stage size as run_transfer)."""
    import torch

    from ..images import resize_to, to_image
    from ..transfer import initial_canvas, stage_sizes

    w, h = stage_sizes(size, settings.scales)[0]
    canvas = initial_canvas("noise", torch.zeros(1, 3, h, w), None, settings.seed)
    return resize_to(to_image(canvas), size)


def scale_marks(settings) -> dict:
    """{evaluation: label} where coarse-to-fine moves to the next, larger canvas."""
    from ..transfer import stage_steps

    steps, scales = stage_steps(settings.steps, len(settings.scales)), settings.scales
    return {sum(steps[:i]) + 0.5: f"resolución ×{scales[i] / scales[i - 1]:g}".replace(".", ",")
            for i in range(1, len(steps))}


def render(spec, ctx):
    from ..animation import frames_from, save_animation
    from ..plotting import loss_plot
    from .picks import run, settings as make_settings

    settings = make_settings(spec.params["settings"])
    style = fit_long_side(read_image(spec.inputs[0]), spec.params["long_side"])
    result = run(style, [style], settings, style.size, ctx)
    frames = frames_from(result, noise_image(settings, style.size))
    files = save_animation(frames, ctx.out, "reconstruction")
    history = result.history
    loss_plot({"pérdida de estilo": ([h["evaluation"] for h in history], [h["style"] for h in history])},
              ctx.out / "loss.png", "evaluación de la pérdida", "$\\mathcal{L}_{estilo}$ (escala log.)",
              title="De ruido al estilo de la pintura", marks=scale_marks(settings))
    files["loss"] = "loss.png"
    return files, {"width": style.width, "height": style.height, "evaluations": len(history),
                   "initial_style_loss": history[0]["style"], "final_style_loss": history[-1]["style"],
                   "loss_reduction": history[0]["style"] / max(history[-1]["style"], 1e-30),
                   "frames": len(frames), "stages": len(settings.scales), "transfer_seconds": round(result.seconds, 3)}
