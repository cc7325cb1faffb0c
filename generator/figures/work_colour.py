"""Keeping the photo's colours (Gatys et al. 2017): an ordinary transfer, a luminance-only transfer
recombined with the photo's chrominance, and a transfer from a painting recoloured to the photo's
colour statistics."""
from __future__ import annotations

import numpy as np

from ..engine.images import fit_long_side, read_image, save_image
from . import Figure, FigureSpec
from .context import RenderContext
from .picks import painting, photo

FIGURE = Figure(
    order=110, outputs=("image", "paintings", "plain", "luminance", "matched", "recoloured"),
    numbers=("width", "height", "evaluations", "chroma_distance_plain", "chroma_distance_luminance",
             "chroma_distance_matched"),
    sizes={"tiny": {"long_side": 48, "steps": 6, "scales": [1.0]},
           "preview": {"long_side": 288, "steps": 70, "scales": [0.5, 1.0]},
           "full": {"long_side": 512, "steps": 500, "scales": [0.5, 1.0]}})


def specs(catalog, profile, site_src):
    c, s = photo(catalog), painting(catalog)
    size = FIGURE.size(profile)
    settings = profile.transfer(steps=size["steps"], scales=tuple(size["scales"]))
    return [FigureSpec(name="work/colour",
                       params={"settings": settings.to_dict(), "long_side": size["long_side"],
                               "photo": c.name, "painting": s.name},
                       inputs=(c.path(site_src), s.path(site_src)), heavy=True)]


def chroma_distance(a, b) -> float:
    """Mean absolute difference of the Cb and Cr channels (0-255 units) of two RGB images."""
    from ..engine.colour import rgb_to_ycbcr

    ca, cb = (rgb_to_ycbcr(np.asarray(x.convert("RGB")))[..., 1:] for x in (a, b))
    return float(np.abs(ca - cb).mean())


def render(spec, ctx: RenderContext):
    from ..engine import colour
    from .picks import settings as make_settings
    from .plotting import image_row

    content, style = (read_image(x) for x in spec.inputs)
    content = fit_long_side(content, spec.params["long_side"])
    settings = make_settings(spec.params["settings"])

    def transfer(c, s):
        return ctx.run_transfer(c, [s], settings, content.size).image

    plain = transfer(content, style)
    grey_photo, grey_painting = colour.luminance_pair(content, fit_long_side(style, 1024))
    luminance_only = colour.recombine(transfer(grey_photo, grey_painting), content)
    recoloured = colour.match_colours(fit_long_side(style, 1024), content)
    matched = transfer(content, recoloured)
    shown_painting = fit_long_side(style, spec.params["long_side"])
    shown_recoloured = fit_long_side(recoloured, spec.params["long_side"])
    files = {}
    # PNG: lossless, so the published file keeps exactly the photo's chrominance (JPEG subsamples it)
    for role, img in (("plain", plain), ("luminance", luminance_only), ("matched", matched),
                      ("recoloured", shown_recoloured)):
        save_image(img, ctx.out / f"{role}.png")
        files[role] = f"{role}.png"
    image_row([content, plain, luminance_only, matched],
              ["fotografía", "transferencia normal", "solo luminancia", "colores igualados"],
              ctx.out / "image.jpg")
    image_row([shown_painting, shown_recoloured], ["pintura original", "pintura con los colores de la foto"],
              ctx.out / "paintings.jpg")
    files.update(image="image.jpg", paintings="paintings.jpg")
    return files, {"width": content.width, "height": content.height, "evaluations": settings.steps,
                   "chroma_distance_plain": round(chroma_distance(plain, content), 3),
                   "chroma_distance_luminance": round(chroma_distance(luminance_only, content), 3),
                   "chroma_distance_matched": round(chroma_distance(matched, content), 3)}
