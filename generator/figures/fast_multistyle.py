"""One network, many styles: Dumoulin et al.'s conditional-instance-normalisation network
(fast_networks.py) in each of the styles it learned, on the hero photo. The styles are fixed and
unnamed (the model came without names or paintings): tile i is style i, one-hot weights."""
from __future__ import annotations

from ..engine.images import fit_long_side, read_image, save_image
from . import Figure, FigureSpec
from .picks import photo as hero_photo

FIGURE = Figure(order=161, outputs=("style_*",),
                numbers=("styles", "width", "height", "tile_width", "tile_height", "timed_runs", "threads",
                         "style_seconds", "onnxruntime", "package"),
                # long_side: the network's input (and output) size; tile_side: the files' long side
                sizes={"tiny": {"long_side": 64, "tile_side": 48, "timed_runs": 1},
                       "preview": {"long_side": 512, "tile_side": 240, "timed_runs": 3},
                       "full": {"long_side": 1024, "tile_side": 320, "timed_runs": 3}})


def specs(catalog, profile, site_src):
    content = hero_photo(catalog)
    return [FigureSpec(name=f"fast/multistyle/{content.name}", params=FIGURE.size(profile),
                       inputs=(content.path(site_src),), heavy=True)]


def one_hot(index: int, count: int):
    import numpy as np

    weights = np.zeros(count, dtype=np.float32)
    weights[index] = 1.0
    return weights


def render(spec, ctx):
    import statistics

    import torch

    from . import fast_networks as nets

    photo = fit_long_side(read_image(spec.inputs[0]), spec.params["long_side"])
    threads = torch.get_num_threads()
    network = nets.session("multistyle26", threads)
    count = nets.style_count(network)
    files, seconds = {}, []
    for i in range(count):
        weights = one_hot(i, count)
        tile, time_taken = nets.timed(lambda w=weights: nets.multistyle(network, photo, w), spec.params["timed_runs"])
        seconds.append(time_taken)
        tile = fit_long_side(tile, spec.params["tile_side"])
        files[f"style_{i:02d}"] = f"style_{i:02d}.jpg"
        save_image(tile, ctx.out / files[f"style_{i:02d}"])
    return files, {"styles": count, "width": photo.width, "height": photo.height,
                   "tile_width": tile.width, "tile_height": tile.height, "timed_runs": spec.params["timed_runs"],
                   "threads": threads, "style_seconds": round(statistics.median(seconds), 4),
                   "onnxruntime": nets.onnxruntime_version(), "package": nets.package_version()}
