"""Each catalogue painting's Gram matrices for the live page, so a reader who picks one of the
site's paintings never waits for its 512 px forward pass in the browser.

grams-<objective id>.bin holds, per style layer of the live objective in order, the upper triangle
(row by row, i <= j) of G = F F^T as float32 little-endian; grams.json gives each layer's channels,
number of positions M and offset, the painting's size, the objective's id and the file's SHA-256.
The page uses the file only when the id matches the objective it runs, and checks the SHA-256.
"""
from __future__ import annotations

import hashlib
import json

from ..engine.images import read_image
from . import Figure, FigureSpec
from .context import RenderContext

FORMAT = "gram-f32-upper"
# The same for every profile: the painting is read at the page's fixed style side.
FIGURE = Figure(order=151, outputs=("grams", "index"),
                numbers=("sha256", "bytes", "objective_id", "width", "height"),
                sizes={"tiny": {}, "preview": {}, "full": {}})


def specs(catalog, profile, site_src):
    return [FigureSpec(name=f"live/painting/{entry.name}", params={"format": FORMAT},
                       inputs=(entry.path(site_src),)) for entry in catalog.style]


def upper_triangles(grams: dict) -> tuple[bytes, list[dict]]:
    """The file's bytes and its per-layer index, from {layer: (G, M)} (G a C x C tensor)."""
    import numpy as np

    blob, index = bytearray(), []
    for name, (gram, positions) in grams.items():
        g = gram.double().numpy()
        rows, cols = np.triu_indices(g.shape[0])
        index.append({"name": name, "channels": int(g.shape[0]), "positions": int(positions), "offset": len(blob)})
        blob.extend(g[rows, cols].astype("<f4").tobytes())
    return bytes(blob), index


def render(spec, ctx: RenderContext):
    from ..engine.live_objective import objective, page_settings, painting_grams, painting_image

    settings = page_settings()
    obj = objective(settings)
    painting = painting_image(read_image(spec.inputs[0]), settings)
    grams = painting_grams(ctx.objective_model(settings), ctx.tensor(painting), settings)
    blob, index = upper_triangles(grams)
    sha = hashlib.sha256(blob).hexdigest()
    name = f"grams-{obj['id'][:16]}.bin"
    (ctx.out / name).write_bytes(blob)
    meta = {"format": FORMAT, "objective_id": obj["id"], "width": painting.width, "height": painting.height,
            "bytes": len(blob), "sha256": sha, "layers": index}
    (ctx.out / "grams.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return ({"grams": name, "index": "grams.json"},
            {"sha256": sha, "bytes": len(blob), "objective_id": obj["id"], "width": painting.width,
             "height": painting.height})
