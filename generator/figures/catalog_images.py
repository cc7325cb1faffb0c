"""Each photo and painting of the catalogue, resized for the pages, with a thumbnail."""
from __future__ import annotations

from ..engine.images import fit_long_side, read_image, save_image
from . import Figure, FigureSpec

LARGE_SIDE = 1024
FIGURE = Figure(order=10, outputs=("image", "thumb"),
                numbers=("width", "height", "shown_width", "shown_height"))  # thumb_side: the profile's


def specs(catalog, profile, site_src):
    out = []
    for entry in catalog.content + catalog.style:
        kind = "photo" if entry.section == "content" else "painting"
        out.append(FigureSpec(
            name=f"{kind}/{entry.name}",
            params={"kind": kind, "large_side": LARGE_SIDE, "thumb_side": profile.thumb_side},
            inputs=(entry.path(site_src),)))
    return out


def render(spec, ctx):
    img = read_image(spec.inputs[0])
    large = fit_long_side(img, spec.params["large_side"])
    save_image(large, ctx.out / "image.jpg")
    save_image(fit_long_side(img, spec.params["thumb_side"]), ctx.out / "thumb.jpg")
    return ({"image": "image.jpg", "thumb": "thumb.jpg"},
            {"width": img.width, "height": img.height,
             "shown_width": large.width, "shown_height": large.height})
