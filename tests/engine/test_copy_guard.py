"""The copy guard (generator/engine/copy_guard.py): painting positions the canvas reproduces leave
the deepest style layer's target, and only those, from the check on."""
from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from generator.engine import copy_guard, images, losses
from generator.engine import settings as settings_module
from generator.engine.settings import TransferSettings, paper_differences
from generator.engine.transfer import guard_layer, run_transfer

from helpers import ROOT


def _painting(seed=0, shape=(1, 8, 3, 4)):
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed))


def _canvas_copying(painting, at=(1, 2), scale=3.0):
    """A 2x2 canvas whose first position is the painting's position `at` (scaled: the cosine does not
    care) and whose others point away from every painting position (negative responses)."""
    canvas = -_painting(1, (1, painting.shape[1], 2, 2))
    canvas[0, :, 0, 0] = scale * painting[0, :, at[0], at[1]]
    return canvas


def test_copied_marks_the_painting_positions_the_canvas_reproduces():
    painting = _painting()
    marked = copy_guard.copied(painting, _canvas_copying(painting), 0.99)
    expected = torch.zeros(3, 4, dtype=torch.bool)
    expected[1, 2] = True
    assert torch.equal(marked, expected)
    assert not copy_guard.copied(painting, -_painting(1, (1, 8, 2, 2)), 0.5).any()


def test_copied_with_a_canvas_radius_takes_the_rest_of_the_pasted_object():
    """Around a copying canvas position, its neighbours' closest painting positions go too, where
    they match at the floor or more: not the far ones."""
    painting = _painting()
    canvas = _canvas_copying(painting)                   # (0, 0) copies the painting's (1, 2)
    canvas[0, :, 0, 1] = painting[0, :, 0, 0] + 0.2 * torch.arange(8.0)   # near the painting's (0, 0)
    rows = copy_guard.unit_rows(canvas) @ copy_guard.unit_rows(painting).T
    near = float(rows[1].max())
    assert int(rows[1].argmax()) == 0 and near < 0.99   # (0, 1) reproduces none at the threshold
    alone = copy_guard.copied(painting, canvas, 0.99)
    grown = copy_guard.copied(painting, canvas, 0.99, canvas_radius=1, floor=near - 0.01)
    assert alone.nonzero().tolist() == [[1, 2]]
    assert grown.nonzero().tolist() == [[0, 0], [1, 2]]
    assert torch.equal(copy_guard.copied(painting, canvas, 0.99, canvas_radius=1, floor=near + 0.01), alone)
    lone = -_painting(1, (1, 8, 2, 2))                   # nothing copied: nothing around to take
    lone[0, :, 0, 1] = canvas[0, :, 0, 1]
    assert not copy_guard.copied(painting, lone, 0.99, canvas_radius=1, floor=0.0).any()


def _texture(pattern, shape=(4, 6)):
    """(1, C, H, W) responses with pattern[(y + x) % len(pattern)] at (y, x): a texture repeating itself."""
    h, w = shape
    return torch.stack([torch.stack([pattern[(y + x) % len(pattern)] for x in range(w)], -1)
                        for y in range(h)], -2)[None]


def test_self_match_is_how_closely_the_painting_repeats_itself_outside_each_neighbourhood():
    """A texture repeating one motif matches itself at 1; positions that are all different, at 0; a
    motif repeated only beside itself (inside the radius) does not count."""
    motifs = torch.eye(6)
    assert copy_guard.self_match(_texture([motifs[0], motifs[1]]), 0.25) == pytest.approx(1.0)
    distinct = torch.eye(24).T.reshape(1, 24, 4, 6)          # 24 positions, each its own filter
    assert copy_guard.self_match(distinct, 0.25) == pytest.approx(0.0)
    pairs = torch.zeros(1, 12, 1, 6)                         # (0, 2k) and (0, 2k + 1) share a filter
    for x in range(6):
        pairs[0, x // 2, 0, x] = 1.0
    assert copy_guard.self_match(pairs, 0.25, radius=1) == pytest.approx(0.0)
    assert copy_guard.self_match(pairs, 0.25, radius=0) == pytest.approx(1.0)
    half = torch.cat([_texture([motifs[0]], (2, 6)), torch.eye(12).T.reshape(1, 12, 2, 6)[:, :6]], -2)
    levels = [copy_guard.self_match(half, share) for share in (0.75, 0.1)]  # half texture, half distinct
    assert levels[0] < 0.5 < levels[1]


def test_a_painting_that_repeats_itself_raises_the_guard_s_threshold():
    """The threshold is the guard's own or the painting's self_match, whichever is higher: a canvas
    matching a self-similar painting below that painting's own level is texture, not a copy."""
    basis = torch.eye(26)
    # 24 variations on one motif (filter 0 plus a little of filter 1..24): any two at cosine 1/1.09
    texture = torch.stack([basis[0] + 0.3 * basis[1 + i] for i in range(24)], 1).reshape(1, 26, 4, 6)
    level = copy_guard.self_match(texture, settings_module.SELF_MATCH_SHARE)
    assert level == pytest.approx(1 / 1.09)
    guard = copy_guard.CopyGuard("relu5_1", [0.65])
    assert guard.threshold(0, 0, texture) == pytest.approx(level)
    distinct = torch.eye(24).T.reshape(1, 24, 4, 6)
    assert copy_guard.CopyGuard("relu5_1", [0.65]).threshold(0, 0, distinct) == pytest.approx(0.65)
    canvas = -torch.ones(1, 26, 2, 2)
    canvas[0, :, 0, 0] = basis[0] + 0.5 * basis[25]          # the motif, none of its variations
    closest = float(copy_guard.closest(canvas, texture).max())
    assert 0.65 < closest < level
    assert not guard.check(canvas, [_targets(texture)])      # under the painting's own level: kept
    canvas[0, :, 0, 0] = texture[0, :, 0, 0]                 # one variation itself: copied
    assert guard.check(canvas, [_targets(texture)])


def test_grow_sets_the_square_around_each_position():
    mask = torch.zeros(4, 5, dtype=torch.bool)
    mask[0, 4] = True
    grown = copy_guard.grow(mask, 1)
    assert grown.sum() == 4 and grown[:2, 3:].all()
    assert torch.equal(copy_guard.grow(mask, 0), mask)


def test_masked_gram_is_the_kept_positions_gram_at_the_canvas_scale():
    painting = _painting()
    none = torch.zeros(3, 4, dtype=torch.bool)
    full = losses.gram_matrix(painting) * (6 / 12)   # transfer.style_targets' rescaling to 6 positions
    torch.testing.assert_close(copy_guard.masked_gram(painting, none, 6), full)
    dropped = none.clone()
    dropped[0] = True                                # the first row of positions leaves: 8 kept
    kept = painting[:, :, 1:].reshape(1, 8, 8)
    torch.testing.assert_close(copy_guard.masked_gram(painting, dropped, 6), kept @ kept.transpose(1, 2) * (6 / 8))


def _targets(painting, layer="relu5_1"):
    return SimpleNamespace(grams={layer: copy_guard.masked_gram(painting, torch.zeros(painting.shape[-2:], dtype=torch.bool), 4)},
                           painting_feats={layer: [painting]}, blend=(1.0,), canvas_positions={layer: 4})


def test_a_check_drops_the_copied_neighbourhood_once():
    painting = _painting()
    targets = [_targets(painting)]
    guard = copy_guard.CopyGuard("relu5_1", [0.99])
    canvas = _canvas_copying(painting)
    assert guard.check(canvas, targets)
    dropped = guard.dropped[(0, 0)]
    assert dropped.sum() == 9 and dropped[0:3, 1:4].all()   # (1, 2) and its neighbours
    torch.testing.assert_close(targets[0].grams["relu5_1"], copy_guard.masked_gram(painting, dropped, 4))
    before = targets[0].grams["relu5_1"].clone()
    assert not guard.check(canvas, targets)                   # nothing new: the target stays
    assert torch.equal(targets[0].grams["relu5_1"], before)
    unguarded = [_targets(painting)]
    assert not copy_guard.CopyGuard("relu5_1", [0.0]).check(canvas, unguarded)


def test_a_new_stage_starts_without_what_earlier_checks_dropped():
    """The next coarse-to-fine stage's painting is larger: the mask follows it (nearest), so the
    same part of the painting stays out."""
    painting = _painting()
    guard = copy_guard.CopyGuard("relu5_1", [0.99])
    assert not guard.apply([_targets(painting)])                 # nothing dropped yet
    assert guard.check(_canvas_copying(painting), [_targets(painting)])
    larger = torch.nn.functional.interpolate(painting, scale_factor=2, mode="nearest")
    targets = [_targets(larger)]
    assert guard.apply(targets)
    resized = guard.dropped[(0, 0)].repeat_interleave(2, 0).repeat_interleave(2, 1)
    torch.testing.assert_close(targets[0].grams["relu5_1"], copy_guard.masked_gram(larger, resized, 4))
    unguarded = [_targets(larger)]
    before = unguarded[0].grams["relu5_1"].clone()
    assert not copy_guard.CopyGuard("relu5_1", [0.0]).apply(unguarded)
    assert torch.equal(unguarded[0].grams["relu5_1"], before)


def test_checks_follow_every_check_every_evaluations():
    guard = copy_guard.CopyGuard("relu5_1", [0.7])
    every = copy_guard.CHECK_EVERY
    assert [i for i in range(3 * every) if guard.due(i, 3 * every)] == [every - 1, 2 * every - 1]  # not the last


def test_the_guard_watches_the_deepest_style_layer_of_a_transfer_only():
    on = TransferSettings()
    assert on.copy_guard > 0 and guard_layer(on) == "relu5_1"
    assert guard_layer(replace(on, style_layers=("conv1_1", "conv4_1"))) == "relu4_1"
    assert guard_layer(replace(on, taps="pre_relu")) == "conv5_1"
    for off in (dict(copy_guard=0.0), dict(content_weight=0.0), dict(style_weight=0.0), dict(init="style")):
        assert guard_layer(replace(on, **off)) is None
    row = paper_differences(on)["copy_guard"]
    assert row == {"paper": 0.0, "ours": on.copy_guard, "same": False}


@pytest.fixture(scope="module")
def pair():
    def load(path, side):
        return images.fit_long_side(images.read_image(ROOT / path), side)
    return load("site_src/content/rectoria2.jpg", 64), load("site_src/styles/the_scream.jpg", 64)


def test_a_transfer_changes_its_target_after_a_check_and_not_before(pair, monkeypatch):
    """With a low threshold the photo itself already "copies" some painting positions: the check
    after the 2nd evaluation drops them, so from the 3rd evaluation on the style loss differs from
    an unguarded run's."""
    monkeypatch.setattr(copy_guard, "CHECK_EVERY", 2)
    monkeypatch.setattr(settings_module, "SELF_MATCH_SHARE", 0.0)   # the threshold stays 0.3
    photo, painting = pair
    base = TransferSettings(steps=4, init="content", precondition="none", style_min_side=64, copy_guard=0.3)
    checks = []
    check = copy_guard.CopyGuard.check
    monkeypatch.setattr(copy_guard.CopyGuard, "check",
                        lambda self, *a: checks.append(check(self, *a)) or checks[-1])
    guarded = run_transfer(photo, [painting], base, photo.size)
    assert checks == [True]   # after the 2nd evaluation; none after the last
    plain = run_transfer(photo, [painting], replace(base, copy_guard=0.0), photo.size)
    style = lambda r: np.array([h["style"] for h in r.history])  # noqa: E731
    np.testing.assert_allclose(style(guarded)[:2], style(plain)[:2], rtol=1e-6)
    assert abs(style(guarded)[2] - style(plain)[2]) > 1e-3 * style(plain)[2]


def test_a_coarse_to_fine_transfer_keeps_the_dropped_positions_out_of_the_next_stage(pair, monkeypatch):
    monkeypatch.setattr(copy_guard, "CHECK_EVERY", 2)
    monkeypatch.setattr(settings_module, "SELF_MATCH_SHARE", 0.0)   # the threshold stays 0.3
    monkeypatch.setattr(settings_module, "PROBE_STEPS", 0)   # no probe: the first stage starts whole
    painting = pair[1]
    photo = images.resize_to(pair[0], (176, 128))   # a half-size stage keeps a 64 px side
    settings = TransferSettings(steps=8, scales=(0.5, 1.0), final_share=0.5, init="content", precondition="none",
                                style_min_side=64, copy_guard=0.3)
    applied = []
    apply = copy_guard.CopyGuard.apply
    monkeypatch.setattr(copy_guard.CopyGuard, "apply", lambda self, t: applied.append(apply(self, t)) or applied[-1])
    run_transfer(photo, [painting], settings, photo.size)
    assert applied == [False, True]   # the first stage starts whole; the second without what it dropped


def test_a_probe_at_half_size_drops_before_the_run_starts(pair, monkeypatch):
    """The probe: the problem at half size (the painting too), its check with the canvas radius, its
    drops in the run's target from the first evaluation; reported in the result, and its time in the
    result's. Under MIN_STAGE_SIDE, or with PROBE_STEPS 0, no probe."""
    monkeypatch.setattr(copy_guard, "CHECK_EVERY", 2)
    monkeypatch.setattr(settings_module, "SELF_MATCH_SHARE", 0.0)   # the threshold stays 0.3
    monkeypatch.setattr(settings_module, "PROBE_STEPS", 3)   # one check, after its 2nd evaluation
    painting = pair[1]
    photo = images.resize_to(pair[0], (176, 128))
    settings = TransferSettings(steps=4, init="content", precondition="none", style_min_side=64, copy_guard=0.3)
    events = []
    check, apply = copy_guard.CopyGuard.check, copy_guard.CopyGuard.apply
    monkeypatch.setattr(copy_guard.CopyGuard, "check", lambda self, feats, t: events.append(
        ("check", self.probing, tuple(feats.shape[-2:]), tuple(t[0].painting_feats["relu5_1"][0].shape[-2:])))
        or check(self, feats, t))
    monkeypatch.setattr(copy_guard.CopyGuard, "apply", lambda self, t: events.append(("apply", apply(self, t)))
                        or events[-1][1])
    result = run_transfer(photo, [painting], settings, photo.size)
    # the probe: an 88x64 canvas (relu5_1 4x5) and the painting at 88 px (5x4); then the run at
    # 176x128 (8x11) with the painting at 176 px (11x8), starting without what the probe dropped
    assert events == [("apply", False), ("check", True, (4, 5), (5, 4)), ("apply", True),
                      ("check", False, (8, 11), (11, 8))]
    assert result.probe == ((88, 64), 3) and len(result.history) == 4
    assert result.seconds > sum(h["seconds"] for h in result.history[-1:]) - 1e-9
    assert result.left_out[0][0] > 0
    for size in ((120, 96), (176, 128)):   # a 48 px probe is under MIN_STAGE_SIDE; PROBE_STEPS 0
        if size == (176, 128):
            monkeypatch.setattr(settings_module, "PROBE_STEPS", 0)
        assert run_transfer(images.resize_to(pair[0], size), [painting], settings, size).probe is None


def test_a_transfer_reports_the_threshold_its_paintings_raised(pair, monkeypatch):
    """TransferResult.copy_thresholds: the guard's own, or the painting's self_match where higher."""
    monkeypatch.setattr(copy_guard, "CHECK_EVERY", 2)
    monkeypatch.setattr(copy_guard, "self_match", lambda painting, share: 0.5)
    photo, painting = pair
    base = TransferSettings(steps=3, init="content", precondition="none", style_min_side=64)
    assert run_transfer(photo, [painting], replace(base, copy_guard=0.3), photo.size).copy_thresholds == (0.5,)
    assert run_transfer(photo, [painting], replace(base, copy_guard=0.6), photo.size).copy_thresholds == (0.6,)
    assert run_transfer(photo, [painting], replace(base, copy_guard=0.0), photo.size).copy_thresholds == ()


def test_self_match_in_chunks_is_the_whole_comparison():
    painting = _painting(3, (1, 16, 7, 9))
    whole = copy_guard.self_match(painting, 0.1, chunk=10_000)
    assert copy_guard.self_match(painting, 0.1, chunk=5) == pytest.approx(whole, abs=1e-6)
