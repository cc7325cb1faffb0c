"""A trained network beside the optimisation: Magenta's arbitrary-style networks (Ghiasi et al.
2017, fast_networks.py) on every gallery pair, timed on the build's machine and scored, with the
gallery's Gatys result of the same pair, by the same yardstick (yardsticks/quality_score.py) at the
same size.

The transformer's graph takes only ARBITRARY_SIDE x ARBITRARY_SIDE, so the network computes at that
long side and its result is resized (Lanczos) to the Gatys result's size, the size both are scored
and shown at. The Gatys result is the gallery figure's published file, read as an upstream input
(upstream.py): this figure never recomputes the gallery. Both scores are taken from the JPEG files
the site shows.
"""
from __future__ import annotations

from ..common.errors import InputError
from ..engine.images import fit_long_side, read_image, resize_to, save_image
from . import Figure, FigureSpec, upstream

FIGURE = Figure(order=160, outputs=("image", "thumb"),
                numbers=("width", "height", "network_side", "style_side", "style_vector", "timed_runs", "threads",
                         "network_seconds", "load_seconds", "score_side", "score_content_layer",
                         "score_style_layers",
                         "network_content", "network_style", "gatys_content", "gatys_style",
                         # each style layer's term of the balanced sum (its loss / the photo's own)
                         "network_style_relu*", "gatys_style_relu*", "onnxruntime", "package"),
                # timed_runs: timed runs of the two networks (after one untimed), their median published
                sizes={"tiny": {"timed_runs": 1}, "preview": {"timed_runs": 3}, "full": {"timed_runs": 5}})
OWN_INPUTS = 2  # the photo and the painting; the Gatys result follows (upstream)


def specs(catalog, profile, site_src):
    runs = FIGURE.size(profile)["timed_runs"]
    return [FigureSpec(name=f"fast/arbitrary/{content.name}/{style.name}",
                       params={"timed_runs": runs, "thumb_side": profile.thumb_side,
                               upstream.KEY: upstream.declare(gatys=f"gallery/{content.name}/{style.name}:image")},
                       inputs=(content.path(site_src), style.path(site_src)), heavy=True)
            for content in catalog.content for style in catalog.style]


def render(spec, ctx):
    import time

    import torch

    from ..yardsticks import quality_score
    from . import fast_networks as nets

    photo, painting = (read_image(p) for p in spec.inputs[:OWN_INPUTS])
    gatys_path = upstream.files(spec, OWN_INPUTS)["gatys"]
    gatys = read_image(gatys_path)
    size = gatys.size
    if fit_long_side(photo, max(size)).size != size:
        raise InputError(gatys_path, f"{size[0]}x{size[1]} is not the photo's shape at that size")

    threads = torch.get_num_threads()   # the same threads the optimisation had
    start = time.perf_counter()
    predict, transform = nets.session("arbitrary_predict", threads), nets.session("arbitrary_transform", threads)
    load_seconds = time.perf_counter() - start
    (native, style), seconds = nets.timed(lambda: nets.arbitrary(predict, transform, photo, painting),
                                          spec.params["timed_runs"])
    result = resize_to(native, size)
    save_image(result, ctx.out / "image.jpg")
    save_image(fit_long_side(result, spec.params["thumb_side"] * 2), ctx.out / "thumb.jpg")

    scorer = quality_score.Scorer(photo, painting, side=max(size))
    network = scorer.score(read_image(ctx.out / "image.jpg"))
    optimised = scorer.score(gatys)
    terms = {f"{who}_style_{layer}": score["style"][layer] / scorer.photo_style[layer]
             for who, score in (("network", network), ("gatys", optimised)) for layer in quality_score.STYLE_LAYERS}
    return ({"image": "image.jpg", "thumb": "thumb.jpg"},
            {"width": size[0], "height": size[1], "network_side": max(native.size), "style_side": nets.STYLE_SIDE,
             "style_vector": int(style.size), "timed_runs": spec.params["timed_runs"], "threads": threads,
             "network_seconds": round(seconds, 4), "load_seconds": round(load_seconds, 4),
             "score_side": scorer.side, "score_content_layer": quality_score.CONTENT_LAYER,
             "score_style_layers": len(quality_score.STYLE_LAYERS),
             "network_content": network["content"], "network_style": network["balanced_style"],
             "gatys_content": optimised["content"], "gatys_style": optimised["balanced_style"], **terms,
             "onnxruntime": nets.onnxruntime_version(), "package": nets.package_version()})
