"""Keeping the painting's objects out of the canvas (settings.copy_guard).

The deepest style layer's Gram matrix of a painting dominated by one object (a face, an eye) has
directions that only that object's responses span, and the canvas matches them best by painting
the object: Kahlo's eyes appear in the sky and the water (bench/README.md, "What stops the
faces"). Every CHECK_EVERY evaluations the guard compares the canvas's responses at that layer
with the painting's, position by position; the painting positions the canvas reproduces at a
cosine of `threshold` or more (and their neighbours, RADIUS) leave that layer's target, so the
canvas keeps the painting's texture there and is pushed off the object it was copying. The
threshold rises to the painting's self_match where its texture repeats itself more closely than that:
matching such a painting is texture, not a copy. The papers have no such guard.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from . import losses
from . import settings as config

CHECK_EVERY = 10   # evaluations between two checks, in every stage
RADIUS = 1         # painting positions around a copied one that leave the target too


def unit_rows(feats: torch.Tensor) -> torch.Tensor:
    """(1, C, H, W) responses -> (H*W, C) unit vectors, one per position, in float32."""
    rows = feats[0].float().flatten(1).T
    return rows / rows.norm(dim=1, keepdim=True).clamp_min(1e-12)


def closest(feats: torch.Tensor, others: torch.Tensor) -> torch.Tensor:
    """(H, W) over the positions of `feats`: each one's highest cosine with any position of `others`.
    Both are (1, C, H, W) responses of the same layer."""
    return (unit_rows(feats) @ unit_rows(others).T).max(1).values.view(feats.shape[-2:])


def copied(painting: torch.Tensor, canvas: torch.Tensor, threshold: float, canvas_radius: int = 0,
           floor: float = config.CANVAS_FLOOR) -> torch.Tensor:
    """(H, W) bool over the painting's positions: reproduced by some canvas position at a cosine
    of `threshold` or more. With `canvas_radius`, also the closest painting position of every canvas
    position within that radius of a copying one, where they match at `floor` or more."""
    cosines = unit_rows(canvas) @ unit_rows(painting).T   # (canvas positions, painting positions)
    mask = cosines.max(0).values >= threshold
    if canvas_radius:
        best, nearest = cosines.max(1)
        around = grow((best >= threshold).view(canvas.shape[-2:]), canvas_radius).flatten() & (best >= floor)
        mask[nearest[around]] = True
    return mask.view(painting.shape[-2:])


def self_match(painting: torch.Tensor, share: float, radius: int = RADIUS, chunk: int = 1024) -> float:
    """How closely the painting's texture repeats itself: the cosine that a `share` of its positions
    reach or exceed with their closest position outside their own (2 radius + 1) square.
    (1, C, H, W) responses; `chunk` positions compared at a time."""
    rows = unit_rows(painting)
    w = painting.shape[-1]
    at = torch.arange(rows.shape[0], device=rows.device, dtype=torch.int32)
    ys, xs = at // w, at % w
    elsewhere = torch.cat([
        (rows[i:i + chunk] @ rows.T).masked_fill_(((ys[i:i + chunk, None] - ys[None]).abs() <= radius)
                                                  & ((xs[i:i + chunk, None] - xs[None]).abs() <= radius), -1.0)
        .max(1).values for i in range(0, rows.shape[0], chunk)])
    return float(elsewhere.quantile(1.0 - share))


def painting_level(painting: torch.Tensor) -> float:
    """The painting's self_match at settings.SELF_MATCH_SHARE, the level a guard's threshold rises to;
    0 where that share is 0 (the threshold stays the guard's own)."""
    share = config.SELF_MATCH_SHARE
    return self_match(painting, share) if share else 0.0


def grow(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """A bool (H, W) mask with every position within `radius` (a square) of a true one set."""
    if radius <= 0:
        return mask
    return F.max_pool2d(mask[None, None].float(), 2 * radius + 1, 1, radius)[0, 0] > 0


def masked_gram(feats: torch.Tensor, dropped: torch.Tensor, canvas_positions: int) -> torch.Tensor:
    """The Gram matrix of the painting's kept positions (`dropped` false), rescaled to a canvas of
    `canvas_positions` as transfer.style_targets rescales the whole painting's."""
    keep = (~dropped).to(feats.dtype)
    kept = int(keep.sum())
    if kept == 0:
        return losses.gram_matrix(feats) * 0.0
    return losses.canvas_gram(feats * keep, canvas_positions, kept)


class CopyGuard:
    """The guard of one layer in a run: for each canvas, the painting positions dropped so far at `layer`
    (unions of every check's, kept across coarse-to-fine stages)."""

    def __init__(self, layer: str, thresholds: list[float]):
        self.layer = layer
        self.thresholds = thresholds          # per canvas; 0 leaves a canvas unguarded
        self.dropped: dict[tuple[int, int], torch.Tensor] = {}   # (canvas, painting) -> (H, W) bool
        self.levels: dict[tuple, float] = {}   # (canvas, painting, (H, W)) -> self_match
        self.used: dict[tuple[int, int], float] = {}  # (canvas, painting) -> the last check's threshold
        self.probing = False                  # during the probe: settings.CANVAS_RADIUS around each copy too

    def due(self, i: int, steps: int) -> bool:
        """Whether the stage's evaluation i (from 0) of `steps` is followed by a check (not the
        last: no evaluation would read its change)."""
        return (i + 1) % CHECK_EVERY == 0 and i < steps - 1

    def check(self, canvas_feats: torch.Tensor, targets: list) -> bool:
        """Compare each guarded canvas's responses at the layer ((K, C, H, W)) with its paintings'
        (StageTargets.painting_feats); drop what is copied from the targets' Gram matrices (in place).
        True when a target changed."""
        changed = False
        for k, t in self._guarded(targets):
            grew = False
            for j, painting in enumerate(t.painting_feats[self.layer]):
                before = self._dropped(k, j, painting)
                found = copied(painting, canvas_feats[k:k + 1], self.threshold(k, j, painting),
                               config.CANVAS_RADIUS if self.probing else 0)
                now = before | grow(found, RADIUS)
                grew |= bool((now & ~before).any())
                self.dropped[(k, j)] = now
            if grew:
                self._rebuild(k, t)
                changed = True
        return changed

    def threshold(self, k: int, j: int, painting: torch.Tensor) -> float:
        """Canvas k's threshold for its painting j at this size: the guard's own, or the painting's
        painting_level where its texture repeats itself more closely."""
        key = (k, j, tuple(painting.shape[-2:]))
        if key not in self.levels:
            self.levels[key] = painting_level(painting)
        self.used[(k, j)] = max(self.thresholds[k], self.levels[key])
        return self.used[(k, j)]

    def last_thresholds(self, k: int, n_paintings: int) -> tuple:
        """Canvas k's threshold per painting at its last check; the guard's own for one never checked."""
        return tuple(self.used.get((k, j), self.thresholds[k]) for j in range(n_paintings))

    def apply(self, targets: list) -> bool:
        """Drop what earlier checks dropped from a new stage's targets (in place), each mask resized to
        the stage's painting. True when a target changed."""
        changed = False
        for k, t in self._guarded(targets):
            if any((k, j) in self.dropped for j in range(len(t.painting_feats[self.layer]))):
                self._rebuild(k, t)
                changed = True
        return changed

    def _guarded(self, targets: list):
        """(canvas index, StageTargets) of the canvases this guard watches."""
        return [(k, t) for k, (threshold, t) in enumerate(zip(self.thresholds, targets))
                if threshold and self.layer in t.grams]

    def _rebuild(self, k: int, t) -> None:
        """Canvas k's target Gram matrix at the layer: its paintings' kept positions, blended."""
        paintings = t.painting_feats[self.layer]
        t.grams[self.layer] = torch.stack([masked_gram(painting, self._dropped(k, j, painting),
                                                       t.canvas_positions[self.layer]) * t.blend[j]
                                           for j, painting in enumerate(paintings)]).sum(0)

    def left_out(self, k: int, n_paintings: int) -> tuple:
        """Canvas k's (positions left out, positions) per painting; (0, 0) for one never checked."""
        masks = [self.dropped.get((k, j)) for j in range(n_paintings)]
        return tuple((int(m.sum()), m.numel()) if m is not None else (0, 0) for m in masks)

    def _dropped(self, k: int, j: int, painting: torch.Tensor) -> torch.Tensor:
        shape = tuple(painting.shape[-2:])
        mask = self.dropped.get((k, j))
        if mask is None:
            return torch.zeros(shape, dtype=torch.bool, device=painting.device)
        if tuple(mask.shape) != shape:   # another stage's painting size
            mask = F.interpolate(mask[None, None].float(), size=shape, mode="nearest")[0, 0] > 0
        return mask
