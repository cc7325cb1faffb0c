"""Figures that read another figure's published file (its "upstream"): the fast networks' figure
scores the gallery's Gatys result of the same pair.

A spec names its upstream files in `params["upstream"]`, {role: "figure/name:file role"}. The build
settles every other figure first, then appends each upstream's cached file to the reader's inputs
(`resolved`, in the declared order), so the reader's cache key covers the bytes it reads and a
changed upstream recomputes it. `render` takes them back with `files`. Cheap: no torch, no model.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..common.errors import InputError

KEY = "upstream"


def declare(**roles: str) -> dict:
    """params["upstream"] for a spec: role -> "figure/name:file role"."""
    for role, target in roles.items():
        name, _, file_role = target.partition(":")
        if not name or not file_role:
            raise ValueError(f"upstream {role!r}: {target!r} is not 'figure/name:file role'")
    return dict(roles)


def wanted(spec) -> dict[str, tuple[str, str]]:
    """role -> (figure name, file role) of each file `spec` reads from another figure (empty if none)."""
    return {role: tuple(target.split(":", 1)) for role, target in (spec.params.get(KEY) or {}).items()}


def figures(spec) -> set[str]:
    """The names of the figures `spec` reads from."""
    return {name for name, _ in wanted(spec).values()}


def resolved(spec, find):
    """`spec` with each upstream file appended to its inputs; `find(figure name, file role)` gives
    the file's path (raising InputError when that figure is not in the build)."""
    paths = tuple(Path(find(name, role)) for name, role in wanted(spec).values())
    return replace(spec, inputs=tuple(spec.inputs) + paths) if paths else spec


def files(spec, own: int) -> dict[str, Path]:
    """role -> path of each upstream file of a resolved spec whose own inputs are the first `own`."""
    roles = wanted(spec)
    extra = tuple(spec.inputs)[own:]
    if len(extra) != len(roles):
        targets = ", ".join(f"{name}:{role}" for name, role in roles.values())
        raise InputError(spec.name, f"reads {targets}, which the build did not hand it (is that figure built?)")
    return dict(zip(roles, map(Path, extra)))
