"""The data of the pages' explorers (docs/javascripts/explorers.js): the alpha/beta x style-layers
grid cell by cell and the transfer's snapshots with its loss curve, read from the manifest
(generator/figures/work_grid.py and work_animation.py say which numbers) and embedded in the page
as JSON. Every number comes with its Spanish text (the site's one formatter), so the script only
shows what the build measured, formatted as the rest of the page."""
from __future__ import annotations

import json
import re

from markupsafe import Markup

from .pages import ManifestError, Pages
from .spanish import format_es

LOSS_SPEC = ".3g"


def _text(value: float, spec: str = LOSS_SPEC) -> str:
    return format_es(value, spec, "text")


def _numbers(pages: Pages, name: str) -> dict:
    return pages.fig(name).get("numbers", {})


def _need(numbers: dict, key: str, name: str):
    if key not in numbers:
        raise ManifestError(f"figure {name!r} has no number {key!r} (the explorer needs it; rebuild the figures)")
    return numbers[key]


def layers_label(layers: list[str]) -> str:
    """How a row's style layers read: "solo conv1_1", "de conv1_1 a conv3_1 (3 capas)"."""
    if len(layers) == 1:
        return f"solo {layers[0]}"
    return f"de {layers[0]} a {layers[-1]} ({len(layers)} capas)"


def grid_data(pages: Pages, name: str) -> dict:
    """The grid explorer's data: columns (alpha/beta), rows (style layers) and each cell's image
    and final losses, row by row."""
    entry, n = pages.fig(name), _numbers(pages, name)
    style_layers = list(pages.lookup("method.settings.style_layers"))
    rows, columns = int(_need(n, "rows", name)), int(_need(n, "columns", name))
    row_data = []
    for r in range(rows):
        count = int(_need(n, f"row_layers_{r}", name))
        if not 1 <= count <= len(style_layers):
            raise ManifestError(f"{name}: row_layers_{r} = {count}, but the build's style layers are {style_layers}")
        row_data.append({"layers": style_layers[:count], "label": layers_label(style_layers[:count])})
    column_data = [{"ratio": _need(n, f"ratio_{c}", name),
                    "label": f"α/β = {_text(_need(n, f'ratio_{c}', name), '.0e')}"} for c in range(columns)]
    cells = []
    for r in range(rows):
        for c in range(columns):
            role = f"cell_{r}_{c}"
            if role not in entry.get("files", {}):
                raise ManifestError(f"figure {name!r} has no file {role!r} (the explorer needs it; rebuild the figures)")
            content, style = _need(n, f"cell_content_loss_{r}_{c}", name), _need(n, f"cell_style_loss_{r}_{c}", name)
            cells.append({"row": r, "column": c, "src": entry["files"][role], "content": content, "style": style,
                          "contentText": _text(content), "styleText": _text(style)})
    return {"rows": row_data, "columns": column_data, "cells": cells,
            "width": n.get("width"), "height": n.get("height")}


def animation_data(pages: Pages, name: str) -> dict:
    """The animation explorer's data: each frame's image, evaluation and losses (content and
    style weighted by alpha and beta, as the curve draws them, and the total) and the curve."""
    entry, n = pages.fig(name), _numbers(pages, name)
    alpha, beta = _need(n, "content_weight", name), _need(n, "style_weight", name)
    frames = []
    for i in range(int(_need(n, "frames", name))):
        role = f"frame_{i}"
        if role not in entry.get("files", {}):
            raise ManifestError(f"figure {name!r} has no file {role!r} (the explorer needs it; rebuild the figures)")
        parts = {"content": alpha * _need(n, f"snapshot_content_loss_{i}", name),
                 "style": beta * _need(n, f"snapshot_style_loss_{i}", name),
                 "total": _need(n, f"snapshot_total_loss_{i}", name)}
        evaluation = int(_need(n, f"snapshot_evaluation_{i}", name))
        frames.append({"src": entry["files"][role], "evaluation": evaluation, "measured": max(evaluation, 1),
                       **parts, **{f"{k}Text": _text(v) for k, v in parts.items()}})
    keyed = {}
    for key, value in n.items():
        m = re.fullmatch(r"curve_(content|style|total)_(\d+)", key)
        if m:
            keyed.setdefault(int(m.group(2)), {})[m.group(1)] = value
    points = sorted(e for e, parts in keyed.items() if len(parts) == 3)
    if not points:
        raise ManifestError(f"figure {name!r} has no curve_* numbers (the explorer needs them; rebuild the figures)")
    curve = {"evaluation": points, "content": [alpha * keyed[e]["content"] for e in points],
             "style": [beta * keyed[e]["style"] for e in points], "total": [keyed[e]["total"] for e in points]}
    return {"frames": frames, "curve": curve, "evaluations": int(_need(n, "evaluations", name)),
            "width": n.get("width"), "height": n.get("height")}


def json_blob(data) -> Markup:
    """`data` as JSON safe inside <script type="application/json"> (no "<", ">" or "&" in it)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return Markup(text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e"))
