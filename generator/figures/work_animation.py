"""An animation of a whole transfer: the photo, step by step, taking on the painting's style."""
from __future__ import annotations

from ..images import fit_long_side, read_image
from . import Figure, FigureSpec
from .context import RenderContext
from .picks import painting, photo
FIGURE = Figure(
    order=140, outputs=("animation", "poster", "strip", "loss"),
    numbers=("width", "height", "evaluations", "initial_loss", "final_loss", "final_content_loss", "final_style_loss",
             "frames", "transfer_seconds", "noise_start_content_loss"),
    sizes={"tiny": {"long_side": 48, "steps": 8, "scales": [1.0], "frames": 4},
           "preview": {"long_side": 288, "steps": 100, "scales": [1.0], "frames": 20},
           "full": {"long_side": 512, "steps": 500, "scales": [1.0], "frames": 40}})


def specs(catalog, profile, site_src):
    c, s = photo(catalog), painting(catalog)
    size = FIGURE.size(profile)
    settings = profile.transfer(steps=size["steps"], scales=tuple(size["scales"]),
                                snapshot_every=max(1, size["steps"] // size["frames"]))
    return [FigureSpec(name="work/animation",
                       params={"settings": settings.to_dict(), "long_side": size["long_side"],
                               "photo": c.name, "painting": s.name},
                       inputs=(c.path(site_src), s.path(site_src)), heavy=True)]


def render(spec, ctx: RenderContext):
    from ..animation import frames_from, save_animation
    from ..plotting import loss_plot
    from .measures import noise_content_loss
    from .picks import settings as make_settings

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
    return files, {"width": content.width, "height": content.height, "evaluations": len(h),
                   "initial_loss": h[0]["total"], "final_loss": h[-1]["total"],
                   "final_content_loss": h[-1]["content"], "final_style_loss": h[-1]["style"],
                   "frames": len(frames), "transfer_seconds": round(result.seconds, 3),
                   "noise_start_content_loss": noise_content_loss(ctx, content, style, settings)}
