"""Después de 2015's comparison of the optimisation with a trained network, read from the manifest:
per gallery pair, the Gatys result (gallery/<photo>/<painting>) beside Magenta's arbitrary-style
network (fast/arbitrary/<photo>/<painting>, generator/figures/fast_arbitrary.py), with both times
and both scores, and a summary the page's sentences are conditional on. Both scores of a pair are
the same yardstick's at the same size, so they compare; lower is closer (to the photo's content, to
the painting's style)."""
from __future__ import annotations

import statistics

from .pages import ManifestError, Pages, _and, _device

PREFIX = "fast/arbitrary/"
SHEET_PREFIX = "fast/multistyle/"


def sheet_name(pages: Pages) -> str | None:
    """The 26-style network's sheet (fast/multistyle/<photo>), or None when the build has none."""
    return next((name for name in pages.figures() if name.startswith(SHEET_PREFIX)), None)


def pairs(pages: Pages) -> list[dict]:
    """Every pair with both figures, in the catalogue's order: the entries, the catalogue items and
    the numbers, with the ratios network / Gatys (time, content loss, style loss)."""
    rows = []
    for photo in pages.catalog("content"):
        for painting in pages.catalog("style"):
            pair = f"{photo['name']}/{painting['name']}"
            if not (pages.has_fig(PREFIX + pair) and pages.has_fig("gallery/" + pair)):
                continue
            network, gatys = pages.fig(PREFIX + pair), pages.fig("gallery/" + pair)
            n, g = network["numbers"], gatys["numbers"]
            for key in ("network_seconds", "network_content", "network_style", "gatys_content", "gatys_style"):
                if not n.get(key):
                    raise ManifestError(f"figure {PREFIX + pair!r} has no positive number {key!r} (rebuild the figures)")
            rows.append({"pair": pair, "photo": photo, "painting": painting, "network": network, "gatys": gatys,
                         "network_seconds": n["network_seconds"], "gatys_seconds": g["transfer_seconds"],
                         "speedup": g["transfer_seconds"] / n["network_seconds"],
                         "content_ratio": n["network_content"] / n["gatys_content"],
                         "style_ratio": n["network_style"] / n["gatys_style"]})
    return rows


def summary(pages: Pages) -> dict | None:
    """What the page's sentences say, counted over the pairs (None without any): how many, in how
    many the network was faster and closer in content and in style, the ranges of the ratios and
    of the times, and where each side was computed."""
    rows = pairs(pages)
    if not rows:
        return None

    def span(key):
        values = [r[key] for r in rows]
        return {"min": min(values), "max": max(values)}

    first = rows[0]["network"]["numbers"]
    layer_rows = layers(rows)
    style_layers = first["score_style_layers"]
    terms = [v for r in rows for k, v in r["network"]["numbers"].items() if k.startswith("network_style_relu")]
    return {"count": len(rows),
            # The balanced style sums one term per layer, each the result's loss over the photo's own:
            # the untouched photo scores one per layer, style_layers in all.
            "style_layers": style_layers,
            "network_style_above_one": sum(r["network"]["numbers"]["network_style"] > 1 for r in rows),
            "network_style_above_photo": sum(r["network"]["numbers"]["network_style"] > style_layers for r in rows),
            "network_term_max": max(terms),
            "run": run_versus_yardstick(rows),
            "faster": sum(r["network_seconds"] < r["gatys_seconds"] for r in rows),
            "content_closer": sum(r["content_ratio"] < 1 for r in rows),
            "style_closer": sum(r["style_ratio"] < 1 for r in rows),
            "both_farther": sum(r["content_ratio"] > 1 and r["style_ratio"] > 1 for r in rows),
            "speedup": span("speedup"), "content_ratio": span("content_ratio"), "style_ratio": span("style_ratio"),
            "network_seconds": span("network_seconds"), "gatys_seconds": span("gatys_seconds"),
            "gatys_on_cpu": all(r["gatys"].get("device") == "cpu" for r in rows),
            "gatys_devices": _and([_device(d) for d in sorted({r["gatys"].get("device", "?") for r in rows})]),
            "network_side": first["network_side"], "style_side": first["style_side"],
            "style_vector": first["style_vector"], "timed_runs": first["timed_runs"], "threads": first["threads"],
            "sizes": sorted({(r["network"]["numbers"]["width"], r["network"]["numbers"]["height"]) for r in rows}),
            "onnxruntime": first["onnxruntime"], "package": first["package"],
            "layers": layer_rows, "all_layers_farther": all(r["ratio"] > 1 for r in layer_rows),
            "layers_ordered": ordered([r["ratio"] for r in layer_rows]),
            "most": max(layer_rows, key=lambda r: r["ratio"]), "least": min(layer_rows, key=lambda r: r["ratio"])}


def run_versus_yardstick(rows: list[dict]) -> dict | None:
    """How the yardstick's numbers for Gatys' results compare with the losses the optimisation itself
    ended with (the gallery figure's content_loss and style_loss): the ratios' ranges, whether the
    optimisation weighs its style layers equally (a mean, where the yardstick sums), and the
    painting's long side in the optimisation's last stage against the yardstick's side. None when
    a gallery entry lacks what this needs (an older manifest)."""
    style, content, run_sides, score_sides, equal = [], [], set(), set(), True
    for r in rows:
        g, n = r["gatys"], r["network"]["numbers"]
        numbers, transfers, weights = g["numbers"], g.get("transfers") or [], (g.get("objective") or {}).get("style_weights")
        if not (numbers.get("style_loss") and numbers.get("content_loss") and transfers and weights):
            return None
        style.append(n["gatys_style"] / numbers["style_loss"])
        content.append(n["gatys_content"] / numbers["content_loss"])
        run_sides.add(transfers[-1]["stages"][-1]["painting_long_side"])
        score_sides.add(n["score_side"])
        equal = equal and max(weights) - min(weights) < 1e-9 * max(weights)
    return {"style": {"min": min(style), "max": max(style)}, "content": {"min": min(content), "max": max(content)},
            "mean": equal, "painting_sides": sorted(run_sides), "score_sides": sorted(score_sides),
            "painting_differs": any(r["network"]["numbers"]["score_side"]
                                    != (r["gatys"]["transfers"][-1]["stages"][-1]["painting_long_side"]) for r in rows)}


# What a style layer's Gram matrices describe, by its place among the layers the yardstick reads
# (lowest first): small details (few pixels), middle-sized motifs, large ones (vgg19.md, the
# receptive field).
SCALES = ("los detalles más pequeños", "los motivos de tamaño medio", "los motivos más grandes")


def scale_words(index: int, count: int) -> str:
    """The first two-fifths of the layers read small details, the last two-fifths large motifs."""
    position = (index + 0.5) / count
    return SCALES[0] if position < 0.4 else SCALES[2] if position > 0.6 else SCALES[1]


def ordered(values: list[float]) -> bool:
    """Whether the values only grow or only shrink from the first layer to the last (a trend with
    depth the page may name)."""
    pairs = list(zip(values, values[1:]))
    return all(a <= b for a, b in pairs) or all(a >= b for a, b in pairs)


def layers(rows: list[dict]) -> list[dict]:
    """Per style layer of the yardstick, in its order: the median over the pairs of the network's
    term divided by Gatys' (how many times farther from the painting the network is there) and the
    words for the scale that layer reads."""
    first = rows[0]["network"]["numbers"]
    names = [k.removeprefix("network_style_") for k in first if k.startswith("network_style_")]
    out = []
    for i, name in enumerate(names):
        ratios = [r["network"]["numbers"][f"network_style_{name}"] / r["network"]["numbers"][f"gatys_style_{name}"]
                  for r in rows]
        out.append({"name": name, "ratio": statistics.median(ratios), "scale": scale_words(i, len(names))})
    if not out:
        raise ManifestError(f"figure {PREFIX + rows[0]['pair']!r} has no per-layer style terms (rebuild the figures)")
    return out
