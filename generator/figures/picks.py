"""Helpers shared by the style_* and work_* figure modules: which images, which settings."""
from __future__ import annotations

from ..engine.settings import TransferSettings

PHOTO = "rectoria2"
PAINTING = "starry_night"
SECOND_PAINTING = "great_wave"


def pick(entries, name: str, fallback: int = 0):
    """The catalogue entry called `name`, else the entry at `fallback` (or the first)."""
    for entry in entries:
        if entry.name == name:
            return entry
    return entries[min(fallback, len(entries) - 1)]


def photo(catalog):
    return pick(catalog.content, PHOTO)


def painting(catalog):
    return pick(catalog.style, PAINTING)


def second_painting(catalog):
    first = painting(catalog)
    other = [e for e in catalog.style if e.name != first.name]
    return pick(other, SECOND_PAINTING) if other else first


def settings(d: dict) -> TransferSettings:
    """TransferSettings from a JSON-style dict (lists back to tuples)."""
    return TransferSettings(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})



# The fields of TransferSettings that decide which responses a figure reads and how it weighs them.
OBJECTIVE_FIELDS = ("taps", "pooling", "rescale_weights", "content_layers", "style_layers", "style_layer_weights",
                    "style_balance", "content_normalise", "content_weight", "style_weight", "tv_weight",
                    "style_blend")
# Layer lists that, when a figure's runs differ in them, are recorded as their union in run order.
LAYER_FIELDS = ("content_layers", "content_reads", "style_layers", "style_reads")


def objective(settings: TransferSettings) -> dict:
    """The objective part of `settings`, JSON-style: what a figure without a transfer of its own
    puts in its params (so its cache key follows the objective, not the schedule)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in settings.to_dict().items() if k in OBJECTIVE_FIELDS}


def objective_settings(spec_params: dict) -> TransferSettings | None:
    """The TransferSettings a figure's params name: its transfer's ("settings") or the objective it
    reads ("objective"); None for a figure that reads no responses or runs several transfers."""
    d = spec_params.get("settings") or spec_params.get("objective")
    return settings(d) if d else None


def all_objective_settings(spec_params: dict) -> list[TransferSettings]:
    """Every TransferSettings a figure's params name: its one transfer or objective, or each of its
    "runs" (a dict or list) or "cells"; empty for a figure that reads no responses."""
    one = objective_settings(spec_params)
    if one is not None:
        return [one]
    many = spec_params.get("runs") or spec_params.get("cells") or []
    return [settings(d) for d in (many.values() if isinstance(many, dict) else many)]


def figure_reads(spec_params: dict) -> dict:
    """The manifest's record of the objective(s) a figure's params name (merged_reads)."""
    return merged_reads([reads(s) for s in all_objective_settings(spec_params)])


def merged_reads(records: list[dict]) -> dict:
    """One record for several reads(): the fields they all share plus "varies" (the sorted fields
    that differ); a layer list that differs is kept as the union of its runs' layers, in order."""
    if not records:
        return {}
    shared = {k: v for k, v in records[0].items() if all(r.get(k) == v for r in records[1:])}
    varies = sorted({k for r in records for k in r} - set(shared))
    for field in LAYER_FIELDS:
        if field in varies:
            shared[field] = list(dict.fromkeys(layer for r in records for layer in r.get(field) or []))
    return {**shared, "varies": varies} if varies else shared


def reads(settings: TransferSettings) -> dict:
    """The manifest's record of the objective a figure used: its settings' objective fields and the
    network layers its losses read (vgg.tap: relu4_2 for the paper's conv4_2 with post-ReLU taps),
    with the style layers' weights w_l before any balance."""
    from ..engine.transfer import content_taps, layer_weights

    weights = layer_weights(settings)
    return {**objective(settings), "content_reads": list(content_taps(settings)),
            "style_reads": list(weights), "style_weights": list(weights.values())}
