"""The gallery: every photo in the style of every painting, with the photo at the same size."""
from __future__ import annotations

from ..engine.images import fit_long_side, read_image, save_image
from . import Figure, FigureSpec
from .context import RenderContext
from .picks import settings as make_settings

FIGURE = Figure(order=20, outputs=("image", "photo", "thumb"),  # sizes: the profile's long_side, steps, thumb_side
                numbers=("width", "height", "evaluations", "final_loss", "content_loss", "style_loss",
                         "transfer_seconds", "content_weight", "style_weight",
                         # the copy guard's probe before the transfer (0: none ran); its time is
                         # in transfer_seconds, its evaluations are not in evaluations
                         "probe_evaluations",
                         # the settings a reader is told (Galería): the start and each
                         # coarse-to-fine stage's scale (of the result's size) and evaluations
                         "init", "stages", "stage_*_scale", "stage_*_evaluations"))


def specs(catalog, profile, site_src):
    out = []
    settings = profile.transfer().to_dict()
    for content in catalog.content:
        for style in catalog.style:
            out.append(FigureSpec(
                name=f"gallery/{content.name}/{style.name}",
                params={"settings": settings, "long_side": profile.long_side,
                        "thumb_side": profile.thumb_side},
                inputs=(content.path(site_src), style.path(site_src)), heavy=True))
    return out


def render(spec, ctx: RenderContext):
    from ..engine.transfer import effective_scales, plan_stages

    content, style = (read_image(p) for p in spec.inputs)
    photo = fit_long_side(content, spec.params["long_side"])
    settings = make_settings(spec.params["settings"])
    result = ctx.run_transfer(photo, [style], settings)
    save_image(result.image, ctx.out / "image.jpg")
    save_image(photo, ctx.out / "photo.jpg")
    save_image(fit_long_side(result.image, spec.params["thumb_side"] * 2), ctx.out / "thumb.jpg")
    last = result.history[-1]
    stages = plan_stages(photo.size, settings.scales, settings.steps, settings.final_share)
    plan = {"init": settings.init, "stages": len(stages)}
    for stage, scale in zip(stages, effective_scales(photo.size, settings.scales), strict=True):
        plan[f"stage_{stage.index}_scale"] = scale
        plan[f"stage_{stage.index}_evaluations"] = stage.steps
    return ({"image": "image.jpg", "photo": "photo.jpg", "thumb": "thumb.jpg"},
            {"width": photo.width, "height": photo.height, "evaluations": len(result.history),
             "final_loss": last["total"], "content_loss": last["content"], "style_loss": last["style"],
             "transfer_seconds": round(result.seconds, 3),
             "probe_evaluations": result.probe[1] if result.probe else 0,
             "content_weight": settings.content_weight, "style_weight": settings.style_weight, **plan})
