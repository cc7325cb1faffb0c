"""What the layers of VGG19 keep, after Gatys et al. Fig. 1: the photo rebuilt from noise out of
one layer's responses (conv1_2 ... conv5_2), and the painting's style rebuilt out of the Gram
matrices of growing sets of layers (conv1_1; conv1_1 + conv2_1; ... up to conv5_1), around a
schematic of the network. As in the gallery, the target Gram matrices are taken from the painting
at the profile's painting size (the engine's style_side: at least 512 px but in the tiny profile),
not from the small copy shown.
The layers are the paper's names, read as the site's default objective reads them (its taps and
pooling, recorded in the params and so in the manifest: relu4_2 for conv4_2 with post-ReLU taps)."""
from __future__ import annotations

from dataclasses import replace

from ..engine.images import fit_long_side, read_image, save_image
from ..engine.settings import STYLE_LAYERS
from . import Figure, FigureSpec
from .context import RenderContext
from .picks import objective, objective_settings, painting, photo

CONTENT_LAYERS = ("conv1_2", "conv2_2", "conv3_2", "conv4_2", "conv5_2")
FIGURE = Figure(
    order=50,
    outputs=("image", "photo", "painting", "crop_photo", *(f"content_{n}" for n in CONTENT_LAYERS),
             *(f"crop_{n}" for n in CONTENT_LAYERS), *(f"style_{n}" for n in STYLE_LAYERS)),
    numbers=("photo_width", "photo_height", "painting_width", "painting_height", "evaluations", "crop_side",
             *(f"psnr_{n}" for n in CONTENT_LAYERS), *(f"content_loss_{n}" for n in CONTENT_LAYERS),
             *(f"style_loss_{n}" for n in STYLE_LAYERS)),
    sizes={"tiny": {"long_side": 48, "steps": 8},
           "preview": {"long_side": 240, "steps": 100, "precision": "bfloat16", "scales": [0.5, 1.0],
                       "final_share": 0.5},
           "full": {"long_side": 512, "steps": 600}})
CROP = (0.435, 0.45, 0.30)   # zoomed detail: centre x, centre y (fractions), side (fraction of height)
CROP_SIDE = 200              # the zoomed detail is shown about this many pixels wide (nearest neighbour)


def specs(catalog, profile, site_src):
    content, style = photo(catalog), painting(catalog)
    reads = replace(profile.transfer(), content_layers=CONTENT_LAYERS, style_layers=STYLE_LAYERS)
    params = dict(FIGURE.size(profile), precondition=profile.precondition, photo=content.name,
                  painting=style.name, objective=objective(reads),
                  content_layers=list(CONTENT_LAYERS), style_layers=list(STYLE_LAYERS),
                  crop=list(CROP), crop_side=CROP_SIDE, painting_min_side=reads.style_min_side)
    return [FigureSpec(name="representations", params=params,
                       inputs=(content.path(site_src), style.path(site_src)), heavy=True)]


def crop_box(size, crop) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of a square of side crop[2]*height centred at (crop[0], crop[1])
    of an image of `size` (w, h), kept inside the image; at least 4 px."""
    w, h = size
    side = max(4, min(w, h, round(crop[2] * h)))
    left = min(max(0, round(crop[0] * w - side / 2)), w - side)
    top = min(max(0, round(crop[1] * h - side / 2)), h - side)
    return left, top, left + side, top + side


def zoom(img, box, display: int):
    """The crop `box` of `img`, enlarged by a whole factor with nearest neighbour (pixels stay visible)."""
    from PIL import Image

    part = img.crop(box)
    factor = max(1, round(display / part.width))
    return part.resize((part.width * factor, part.height * factor), Image.NEAREST)


def style_label(layers) -> str:
    if len(layers) == 1:
        return layers[0]
    if len(layers) == 2:
        return f"{layers[0]} + {layers[1]}"
    return f"{layers[0]} … {layers[-1]}"


def render(spec, ctx: RenderContext):
    from ..engine.metrics import psnr
    from ..engine.reconstruct import content_settings, growing_subsets, schedule, style_settings
    from .representations_plot import draw_composite

    p = spec.params
    reads = objective_settings(p)
    # each reconstruction reads as the objective does, with the painting at the profile's size
    read_as = {"taps": reads.taps, "pooling": reads.pooling, "style_min_side": p["painting_min_side"]}
    content = fit_long_side(read_image(spec.inputs[0]), p["long_side"])
    painting = read_image(spec.inputs[1])   # the Gram matrices come from it at the profile's size
    style = fit_long_side(painting, p["long_side"])
    box = crop_box(content.size, p["crop"])
    # The photo and its reconstructions are lossless: the PSNR stated is the one of the files shown.
    files = {"photo": "photo.png", "painting": "painting.jpg", "crop_photo": "crop_photo.png"}
    save_image(content, ctx.out / files["photo"])
    save_image(style, ctx.out / files["painting"])
    photo_crop = zoom(content, box, p["crop_side"])
    save_image(photo_crop, ctx.out / files["crop_photo"])
    numbers = {"photo_width": content.width, "photo_height": content.height, "painting_width": style.width,
               "painting_height": style.height, "evaluations": p["steps"],
               "crop_side": box[2] - box[0]}

    content_rows = []
    for layer in p["content_layers"]:
        result = ctx.run_transfer(content, [content], replace(content_settings(layer, p["steps"], **schedule(p)), **read_as))
        quality = psnr(content, result.image)
        crop = zoom(result.image, box, p["crop_side"])
        files[f"content_{layer}"], files[f"crop_{layer}"] = f"content_{layer}.png", f"crop_{layer}.png"
        save_image(result.image, ctx.out / files[f"content_{layer}"])
        save_image(crop, ctx.out / files[f"crop_{layer}"])
        numbers[f"psnr_{layer}"] = round(quality, 3)
        numbers[f"content_loss_{layer}"] = result.history[-1]["content"]
        content_rows.append((layer, result.image, crop, quality))

    style_rows = []
    for layers in growing_subsets(p["style_layers"]):
        result = ctx.run_transfer(style, [painting], replace(style_settings(layers, p["steps"], **schedule(p)), **read_as))
        key = f"style_{layers[-1]}"
        files[key] = f"{key}.jpg"
        save_image(result.image, ctx.out / files[key])
        numbers[f"style_loss_{layers[-1]}"] = result.history[-1]["style"]
        style_rows.append((style_label(layers), result.image))

    files["image"] = "representations.jpg"
    draw_composite(ctx.out / files["image"], style, content, photo_crop, box, style_rows, content_rows)
    return files, numbers
