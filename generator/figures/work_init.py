"""The same transfer started from the photo, from the photo in the painting's palette, from noise and
from the painting."""
from __future__ import annotations

from ..engine.images import fit_long_side, read_image, save_image
from . import Figure, FigureSpec
from .context import RenderContext
from .picks import painting, photo

INITS = ("content", "recoloured", "noise", "style")
TITLES = {"content": "desde la foto", "recoloured": "desde la foto recoloreada", "noise": "desde ruido",
          "style": "desde la pintura"}
FIGURE = Figure(
    order=100, outputs=("image", *INITS),
    numbers=("width", "height", "evaluations",
             *(f"{i}_{loss}_loss" for i in INITS for loss in ("total", "content", "style")), "noise_start_content_loss"),
    sizes={"tiny": {"long_side": 48, "steps": 6, "scales": [1.0]},
           "preview": {"long_side": 288, "steps": 70, "scales": [0.5, 1.0]},
           "full": {"long_side": 512, "steps": 500, "scales": [0.5, 1.0]}})


def specs(catalog, profile, site_src):
    c, s = photo(catalog), painting(catalog)
    size = FIGURE.size(profile)
    runs = {init: profile.compared_transfer(steps=size["steps"], scales=tuple(size["scales"]), init=init).to_dict()
            for init in INITS}
    return [FigureSpec(name="work/init",
                       params={"runs": runs, "long_side": size["long_side"], "photo": c.name, "painting": s.name},
                       inputs=(c.path(site_src), s.path(site_src)), heavy=True)]


def render(spec, ctx: RenderContext):
    from .measures import noise_content_loss
    from .picks import settings as make_settings
    from .plotting import image_row

    content, style = (read_image(x) for x in spec.inputs)
    content = fit_long_side(content, spec.params["long_side"])
    files, numbers, images = {}, {"width": content.width, "height": content.height}, []
    for init, d in spec.params["runs"].items():
        result = ctx.run_transfer(content, [style], make_settings(d), content.size)
        save_image(result.image, ctx.out / f"{init}.jpg")
        files[init] = f"{init}.jpg"
        images.append(result.image)
        last = result.history[-1]
        numbers[f"{init}_total_loss"] = last["total"]
        numbers[f"{init}_content_loss"] = last["content"]
        numbers[f"{init}_style_loss"] = last["style"]
        numbers["evaluations"] = len(result.history)
    # The seeded noise's content loss at this size: how far from the photo "nothing" is.
    numbers["noise_start_content_loss"] = noise_content_loss(ctx, content, style, make_settings(spec.params["runs"]["noise"]))
    image_row(images, [TITLES[i] for i in spec.params["runs"]], ctx.out / "image.jpg")
    files["image"] = "image.jpg"
    return files, numbers
