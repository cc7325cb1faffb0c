"""From noise to the painting's style: a transfer with the content weight at zero, animated,
with its style-loss curve. The target Gram matrices come from the painting at full resolution
(the engine's style_side, at least 512 px), as in the gallery; the canvas is the size shown."""
from __future__ import annotations

from ..common.spanish_numbers import format_es
from ..engine.images import fit_long_side, read_image
from . import Figure, FigureSpec
from .context import RenderContext
from .picks import painting

FIGURE = Figure(
    order=80, outputs=("animation", "poster", "strip", "loss"),
    numbers=("width", "height", "evaluations", "initial_style_loss", "final_style_loss", "loss_reduction",
             "frames", "stages", "transfer_seconds", "style_share_*",   # style_share_<layer>: w_l E_l / L at the end
             # the last stage alone (like with like: one canvas size): its first evaluation's loss,
             # how many times it fell within it, and the jump at the switch from the stage before
             "final_stage_initial_style_loss", "final_stage_reduction", "stage_jump"),
    sizes={"tiny": {"long_side": 48, "steps": 8, "scales": [1.0], "frames": 4},
           "preview": {"long_side": 288, "steps": 100, "scales": [0.5, 1.0], "frames": 20, "final_share": 0.6},
           "full": {"long_side": 512, "steps": 500, "scales": [0.5, 1.0], "frames": 40, "final_share": 0.8}})
# From noise, the upsampled half-size texture lacks the fine scale's statistics (the style loss
# jumps ~100x at the switch): the final size needs most of the evaluations, not stylize's quarter.


def specs(catalog, profile, site_src):
    style = painting(catalog)
    size = FIGURE.size(profile)
    # No photo, so nothing to balance the style layers against: say so in the settings (and manifest).
    settings = profile.transfer(steps=size["steps"], scales=tuple(size["scales"]), content_weight=0.0,
                                style_balance="none", init="noise", final_share=size.get("final_share", profile.final_share),
                                snapshot_every=max(1, size["steps"] // size["frames"]))
    return [FigureSpec(name="style/reconstruction",
                       params={"settings": settings.to_dict(), "long_side": size["long_side"],
                               "painting": style.name},
                       inputs=(style.path(site_src),), heavy=True)]


def scale_marks(settings) -> dict:
    """{evaluation: label} where coarse-to-fine moves to the next, larger canvas."""
    from ..engine.settings import stage_steps

    steps, scales = stage_steps(settings.steps, len(settings.scales), settings.final_share), settings.scales
    return {sum(steps[:i]) + 0.5: f"resolución ×{format_es(scales[i] / scales[i - 1], 'g', 'text')}"
            for i in range(1, len(steps))}


def render(spec, ctx: RenderContext):
    from ..engine.reconstruct import noise_image
    from .animation import frames_from, save_animation
    from .measures import style_layer_shares
    from .picks import settings as make_settings
    from .plotting import loss_plot

    settings = make_settings(spec.params["settings"])
    painting = read_image(spec.inputs[0])
    style = fit_long_side(painting, spec.params["long_side"])    # the canvas
    result = ctx.run_transfer(style, [painting], settings)        # Gram matrices at full resolution
    frames = frames_from(result, noise_image(settings, style.size))
    files = save_animation(frames, ctx.out, "reconstruction")
    history = result.history
    loss_plot({"pérdida de estilo": ([h["evaluation"] for h in history], [h["style"] for h in history])},
              ctx.out / "loss.png", "evaluación de la pérdida", "$\\mathcal{L}_{estilo}$ (escala log.)",
              title="Del ruido al estilo de la pintura", marks=scale_marks(settings))
    files["loss"] = "loss.png"
    shares = style_layer_shares(ctx, result.image, painting, settings)
    last = [h for h in history if h["stage"] == history[-1]["stage"]]
    before = [h for h in history if h["stage"] != history[-1]["stage"]]
    final_stage = {"final_stage_initial_style_loss": last[0]["style"],
                   "final_stage_reduction": last[0]["style"] / max(last[-1]["style"], 1e-30),
                   "stage_jump": last[0]["style"] / max(before[-1]["style"], 1e-30) if before else 1.0}
    return files, {**final_stage, **{f"style_share_{name}": share for name, share in shares.items()}, "width": style.width, "height": style.height, "evaluations": len(history),
                   "initial_style_loss": history[0]["style"], "final_style_loss": history[-1]["style"],
                   "loss_reduction": history[0]["style"] / max(history[-1]["style"], 1e-30),
                   "frames": len(frames), "stages": len(settings.scales), "transfer_seconds": round(result.seconds, 3)}
