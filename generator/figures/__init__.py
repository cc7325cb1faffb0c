"""Figures: one small module per kind, each a plug-in found by scanning this package.

A figure module declares what it makes in `FIGURE = Figure(...)` (its place in the build's order,
its file roles, its number keys, its sizes for every profile) and offers two functions:

    specs(catalog, profile, site_src) -> list[FigureSpec]   which figures, with which parameters
    render(spec, ctx) -> (files, numbers)                    one figure into ctx.out

`files` maps each declared role to a file written under `ctx.out`; `numbers` holds what it
measured, for the manifest and the pages. Everything device-bound comes from `ctx`
(context.RenderContext): the model, the tensors it reads, the transfers. registry.py finds the
modules that declare FIGURE; modules without it (picks, palette, the *_plot drawings) are shared
pieces. The registry imports every module here, so none may import torch (or generator.engine.vgg,
transfer...) at its top: deciding what is stale must not load the model. This
file imports no other generator module: it is in every figure's cache key.
See CONTRIBUTING.md, "Adding a kind of figure".
"""
from __future__ import annotations

import copy
import fnmatch
from dataclasses import dataclass, field
from pathlib import Path


class FigureDeclarationError(ValueError):
    """A figure module whose declaration is incomplete or whose output breaks it."""


@dataclass(frozen=True)
class Figure:
    """What a figure module declares as FIGURE."""
    order: int                        # place in the build's computation order (ties: by module name)
    outputs: tuple[str, ...]          # the file roles render() returns, all of them; fnmatch patterns
                                      # for a profile-dependent count ("cell_*": one file per grid cell)
    numbers: tuple[str, ...]          # the number keys render() returns; fnmatch patterns for
                                      # profile-dependent ones ("ratio_*"); "time_dependent" is implicit
    sizes: dict | None = None         # {profile name: sizes} for EVERY profile; None: the figure takes
                                      # its sizes from the Profile itself (long_side, steps, thumb_side)

    def size(self, profile) -> dict:
        """This profile's row of `sizes` (a copy); every profile has one (checked at registration)."""
        if self.sizes is None:
            raise FigureDeclarationError("this figure declares no sizes; it reads them from the profile")
        return copy.deepcopy(self.sizes[profile.name])

    def check_numbers(self, numbers: dict) -> list[str]:
        """Faults of a render's numbers against the declaration (empty when they agree)."""
        return _check_keys(self.numbers, [k for k in numbers if k != "time_dependent"], "number")

    def check_files(self, files: dict) -> list[str]:
        """Faults of a render's file roles against the declaration (empty when they agree)."""
        return _check_keys(self.outputs, list(files), "file role")


def _check_keys(declared, keys, what: str) -> list[str]:
    """Every exact declared key present, every key matching a declared key or pattern."""
    missing = [k for k in declared if not _is_pattern(k) and k not in keys]
    extra = [k for k in keys if not any(fnmatch.fnmatchcase(k, pattern) for pattern in declared)]
    return ([f"missing {what}(s) {missing}"] if missing else []) + \
           ([f"undeclared {what}(s) {extra}"] if extra else [])


def _is_pattern(key: str) -> bool:
    return any(c in key for c in "*?[")


@dataclass(frozen=True)
class FigureSpec:
    name: str                        # unique, path-like: "gallery/rectoria2/starry_night"
    module: str = ""                 # the kind (module in generator.figures); set by Kind.specs
    params: dict = field(default_factory=dict, hash=False)
    inputs: tuple[Path, ...] = ()    # files whose bytes change the result
    heavy: bool = False              # runs the network (for progress reporting)

    @property
    def module_path(self) -> str:
        if not self.module:
            raise FigureDeclarationError(f"{self.name}: spec made outside registry.kind(...).specs()")
        return f"{__name__}.{self.module}"
