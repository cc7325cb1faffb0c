"""Batched transfers (generator/engine/batched.py) are K independent transfers: each canvas of a batch
ends where run_transfer alone takes it, up to float rounding, and nothing couples the canvases.

Tolerances. The optimiser is checked exactly (float64, 1e-12) on a toy problem. Through the real
VGG19 in float32, a batch of K > 1 convolves with other kernels than a batch of one, so the first
evaluation's losses differ by ~1e-7 (relative), and L-BFGS carries that along. Under the current
objective (balanced style layers, mean content loss) it amplifies it: with OMP_NUM_THREADS=1 the
problems below drift past 1e-4 from the 6th evaluation on (up to 9 % by the 10th, measured; a
batch of one drifts too, so this is rounding, not coupling), while the first 5 evaluations, which
include the first-step rule and three curvature pairs, stay within 4e-5 (measured; a 2.5x margin). So the
equality is checked over STEPS = 5 evaluations. A transfer from the photo is ill-conditioned at
its first curvature pair (a 1-unit first step, gradients ~1e12): there a 1e-7 perturbation of the
gradient, in run_transfer itself, moves the 10th loss by 0.3 % (measured), so it is not used
for the equality. Coupling the canvases through one shared scalar (the negative control below)
breaks 1e-4 by orders of magnitude.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from generator.engine import batched, images
from generator.engine import settings as settings_module
from generator.engine.batched import Problem, run_batch
from generator.engine.lbfgs import LBFGS
from generator.engine.settings import TransferSettings
from generator.engine.transfer import run_transfer

from helpers import ROOT

SIZE_SIDE = 40
STEPS = 5
# Float rounding between a batch's kernels and a single canvas's: up to 1.55e-4 by the 5th evaluation
# on an AVX2-only CPU (the mixed batch), under 1e-4 with AVX-512; coupling breaks it by orders of magnitude.
RTOL = 3e-4


@pytest.fixture(scope="module")
def pictures():
    def load(path, side):
        return images.fit_long_side(images.read_image(ROOT / path), side)
    return (load("site_src/content/rectoria2.jpg", SIZE_SIDE), load("site_src/styles/starry_night.jpg", 64),
            load("site_src/styles/great_wave.jpg", 64))


# The objectives run_batch must follow: the defaults (post-ReLU taps, style layers balanced against
# the photo, mean content loss), the paper's sums, and a batch mixing them per canvas (with
# pre-ReLU taps and a larger painting on some canvases).
OBJECTIVES = {
    "defaults": [{}] * 4,
    "sums": [dict(style_balance="none", content_normalise="sum")] * 4,
    "mixed": [dict(content_normalise="sum", taps="pre_relu"), dict(style_scale=1.5),
              dict(style_balance="none", content_normalise="sum", taps="pre_relu"), dict(style_scale=0.8)],
}


def _problems(pictures, steps=STEPS, objective="defaults", precondition="none", **shared):
    """Plain L-BFGS unless asked (the tolerance above was measured without a preconditioner)."""
    photo, starry, wave = pictures
    per = iter(OBJECTIVES[objective])
    common = lambda: dict(steps=steps, init="noise", style_min_side=64, precondition=precondition,  # noqa: E731
                          **shared, **next(per))
    return [
        # a content reconstruction at conv2_2 (beta = 0: the shallowest canvas)
        Problem(photo, (photo,), TransferSettings(content_weight=1.0, style_weight=0.0, content_layers=("conv2_2",),
                                                  style_layers=("conv1_1",), seed=1, **common())),
        # a full transfer, alpha/beta = 1e-3, all five style layers (the deepest canvas)
        Problem(photo, (starry,), TransferSettings(content_weight=1.0, style_weight=1e3, seed=2, **common())),
        # another painting, alpha/beta = 1e-1, conv4_1 only, with TV (skips conv1_1: not a leading slice).
        # TV 1e-2 against the mean content loss made the first curvature pair ill-conditioned (the
        # 3rd evaluation 460x the 1st): run_batch with this canvas alone then drifted 1e-2 from
        # run_transfer by float rounding (measured), so TV stays small enough to keep it conditioned.
        Problem(photo, (wave,), TransferSettings(content_weight=1.0, style_weight=10.0, style_layers=("conv4_1",),
                                                 tv_weight=1e-4, seed=3, **common())),
        # a style reconstruction (alpha = 0) over conv1_1 ... conv3_1
        Problem(wave, (wave,), TransferSettings(content_weight=0.0, style_weight=1.0, content_layers=("conv1_1",),
                                                style_layers=("conv1_1", "conv2_1", "conv3_1"), seed=4, **common())),
    ]


def _totals(result, key="total"):
    return np.array([h[key] for h in result.history])


SCALES = torch.tensor([[1.0], [30.0], [1e4]], dtype=torch.float64)  # very different gradients per row


def _bowl(x, scales=SCALES):  # one smooth, non-quadratic value per row of x; minimum at 1
    return (scales * ((x - 1) ** 2 + 0.1 * (x - 1) ** 4 * torch.arange(1, x.shape[1] + 1))).sum(1)


def _lbfgs_run(start, loss, evaluations=15):
    """LBFGS (history 5, first move 0.1) on the rows of `start` for `evaluations` evaluations of
    `loss(x) -> (K,)`; returns the final rows and the optimiser."""
    x = start.clone().requires_grad_(True)
    opt = LBFGS(x, history=5, min_first_move=0.1)
    for i in range(evaluations):
        g, = torch.autograd.grad(loss(x).sum(), x)
        if i < evaluations - 1:
            opt.step(g)
    return x.detach(), opt


START = torch.tensor([[-1.2, 1.0, 0.5, -0.3], [2.0, 1.5, -0.7, 0.2], [3.0, -2.0, 1.0, 5.0]], dtype=torch.float64)


def test_batched_lbfgs_is_one_lbfgs_per_row():
    """K rows whose gradients differ by 1e4 (the first step's rule and h_diag per row) end where
    K runs of one row each (K = 1) end, to float64 rounding."""
    together, _ = _lbfgs_run(START, _bowl)
    alone = [_lbfgs_run(START[k:k + 1], lambda x, k=k: _bowl(x, SCALES[k:k + 1]))[0][0] for k in range(len(START))]
    assert torch.allclose(together, torch.stack(alone), rtol=1e-12, atol=1e-12)
    assert (_bowl(together) < _bowl(START) / 100).all()  # and each row did optimise


def test_a_rejected_curvature_pair_stays_in_its_row():
    """A row whose loss is linear (y = 0: every curvature pair rejected, rho = 0) keeps its first
    step's scale as h_diag and walks down its constant gradient, while the other rows' pairs are
    accepted and they end exactly where they end without it."""
    slope = torch.tensor([0.5, -1.0, 2.0, 0.25], dtype=torch.float64)

    def mixed(x):  # rows 0 and 2: the bowl; row 1: a plane
        bowl = _bowl(x, SCALES)
        return torch.stack([bowl[0], (x[1] * slope).sum(), bowl[2]])

    together, opt = _lbfgs_run(START, mixed)
    without, _ = _lbfgs_run(START[[0, 2]], lambda x: _bowl(x, SCALES[[0, 2]]))
    assert torch.allclose(together[[0, 2]], without, rtol=1e-12, atol=1e-12)
    assert (opt.rho[:, 1] == 0).all() and (opt.rho[:, 2] > 0).any()  # rejected in its row only
    first = max(min(1.0, 1 / slope.abs().sum()), 0.1 / slope.abs().max())   # the first step's rule
    assert opt.h_diag[1] == first
    steps = 14   # every step of the plane's row is -h_diag * slope
    assert torch.allclose(together[1], START[1] - steps * first * slope, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("objective", list(OBJECTIVES))
def test_each_canvas_follows_run_transfer(pictures, objective):
    problems = _problems(pictures, objective=objective)
    size = pictures[0].size
    ticks = []
    results = run_batch(problems, size, progress=ticks.append)
    assert ticks == [len(problems)] * STEPS
    for problem, result in zip(problems, results):
        alone = run_transfer(problem.content, list(problem.styles), problem.settings, size)
        for key in ("total", "content", "style", "tv"):
            np.testing.assert_allclose(_totals(result, key), _totals(alone, key), rtol=RTOL, atol=1e-30)
        assert [h["evaluation"] for h in result.history] == list(range(1, STEPS + 1))
        assert result.image.size == size
        diff = np.abs(np.asarray(result.image, float) - np.asarray(alone.image, float))
        assert diff.max() <= 1  # the same pixels, up to rounding to 8 bits
        assert _totals(result)[-1] < _totals(result)[0] / 2  # and each canvas did optimise
    # the zero terms are off per canvas
    assert _totals(results[0], "style").max() == 0 and _totals(results[3], "content").max() == 0


def test_pyramid_preconditioned_canvases_follow_run_transfer(pictures):
    """With the pyramid preconditioner (stylize's default) each canvas of a batch still follows its
    own run: M acts on each row alone. Its float32 enlargements add rounding (2e-4 measured by the
    5th evaluation), so the bound is 1e-3; coupling breaks it by orders of magnitude (below)."""
    problems = _problems(pictures, precondition="pyramid")
    size = pictures[0].size
    for problem, result in zip(problems, run_batch(problems, size)):
        alone = run_transfer(problem.content, list(problem.styles), problem.settings, size)
        np.testing.assert_allclose(_totals(result), _totals(alone), rtol=1e-3, atol=1e-30)
        assert _totals(result)[-1] < 0.7 * _totals(result)[0]


def test_coupled_canvases_would_fail_the_tolerance(pictures, monkeypatch):
    """Negative control: one step size shared by the batch (the smallest first step) moves the
    canvases far beyond RTOL from their own runs, so the equality above does detect coupling."""
    problems = _problems(pictures, steps=4)[1:3]
    size = pictures[0].size
    step = LBFGS.step

    def coupled(self, g):
        step(self, g)
        if self.iteration == 1:
            self.x.data.view(len(self.t), -1).sub_(self.t[:, None] * self.d)   # undo the own steps,
            self.t = self.t.min().expand_as(self.t).clone()                   # take a shared one
            self.h_diag = self.t.clone()
            self.x.data.view(len(self.t), -1).add_(self.t[:, None] * self.d)
    monkeypatch.setattr(LBFGS, "step", coupled)
    results = run_batch(problems, size)
    worst = max(np.abs(_totals(r) / _totals(run_transfer(p.content, list(p.styles), p.settings, size)) - 1).max()
                for p, r in zip(problems, results))
    assert worst > 100 * RTOL


def test_adam_and_snapshots_per_canvas(pictures):
    problems = _problems(pictures, steps=4, optimizer="adam")[:2]
    problems[1] = Problem(problems[1].content, problems[1].styles,
                          replace(problems[1].settings, snapshot_every=2))
    size = pictures[0].size
    seen = []
    results = run_batch(problems, size, on_snapshot=lambda k, n, image: seen.append((k, n, image.size)))
    for problem, result in zip(problems, results):
        alone = run_transfer(problem.content, list(problem.styles), problem.settings, size)
        np.testing.assert_allclose(_totals(result), _totals(alone), rtol=RTOL)
        assert [n for n, _ in result.snapshots] == [n for n, _ in alone.snapshots]
    assert [n for n, _ in results[1].snapshots] == [2, 4] and results[0].snapshots == []
    assert seen == [(1, 2, size), (1, 4, size)]


def test_bfloat16_batch_stays_near_float32(pictures):
    """bfloat16 as run_transfer runs it: the first evaluations in float32, the rest under autocast."""
    problems = _problems(pictures, steps=6, precision="bfloat16")[1:3]
    size = pictures[0].size
    results = run_batch(problems, size)
    for problem, result in zip(problems, results):
        assert [h["precision"] for h in result.history] == ["float32"] * 2 + ["bfloat16"] * 4
        alone = run_transfer(problem.content, list(problem.styles), problem.settings, size)
        np.testing.assert_allclose(_totals(result)[:2], _totals(alone)[:2], rtol=RTOL)
        np.testing.assert_allclose(_totals(result)[-1], _totals(alone)[-1], rtol=0.05)


def test_batch_must_share_the_schedule(pictures):
    problems = _problems(pictures, steps=3)[:2]
    other = Problem(problems[1].content, problems[1].styles,
                    replace(problems[1].settings, steps=4))
    with pytest.raises(ValueError, match="a batch shares steps"):
        run_batch([problems[0], other], pictures[0].size)
    assert run_batch([], pictures[0].size) == []
    assert batched._depth(problems[0].settings) < batched._depth(problems[1].settings)


def test_a_batch_is_refused_before_any_work_when_its_canvases_would_not_fit(pictures, monkeypatch):
    """The memory check counts each canvas's activations and the network's weights once: room for
    two canvases refuses four, naming them, before any evaluation."""
    from generator.common.errors import InputError
    from generator.engine import memory, transfer

    problems = _problems(pictures)[1:2] * 4
    size = pictures[0].size
    one = transfer.check_fits(problems[:1], size, "cpu")
    room = (2 * one - memory.WEIGHTS_BYTES) / memory.SAFETY + 1
    monkeypatch.setattr(memory, "available_bytes", lambda device: room)
    assert transfer.check_fits(problems[:2], size, "cpu") == 2 * one - memory.WEIGHTS_BYTES
    calls = []
    with pytest.raises(InputError, match=r"--size: 4 canvases of \d+x\d+ px need ~.*\(use fewer or smaller canvases\)"):
        run_batch(problems, size, progress=calls.append)
    assert calls == []


def test_guarded_canvases_follow_run_transfer(pictures, monkeypatch):
    """The copy guard in a batch: each canvas's check drops its own painting's copied positions and
    the batch's stacked targets are rebuilt, so every canvas still follows its own run."""
    from generator.engine import copy_guard

    monkeypatch.setattr(copy_guard, "CHECK_EVERY", 2)
    monkeypatch.setattr(settings_module, "SELF_MATCH_SHARE", 0.0)   # the threshold stays 0.3
    fired = []
    check = copy_guard.CopyGuard.check
    monkeypatch.setattr(copy_guard.CopyGuard, "check", lambda self, *a: fired.append(check(self, *a)) or fired[-1])
    photo, starry, wave = pictures
    common = dict(steps=STEPS, init="content", style_min_side=64, precondition="none", copy_guard=0.3)
    problems = [Problem(photo, (starry,), TransferSettings(style_weight=1e6, **common)),
                Problem(photo, (wave,), TransferSettings(style_weight=1e5, **common))]
    results = run_batch(problems, photo.size)
    assert fired[0] is True
    for problem, result in zip(problems, results):
        alone = run_transfer(problem.content, list(problem.styles), problem.settings, photo.size)
        for key in ("total", "style"):
            np.testing.assert_allclose(_totals(result, key), _totals(alone, key), rtol=RTOL, atol=1e-30)


def test_canvases_guarding_different_layers_each_follow_run_transfer(pictures, monkeypatch):
    """A batch whose canvases' deepest style layers differ runs one guard per layer: each canvas is
    checked at its own layer, as in its own run."""
    from generator.engine import copy_guard

    monkeypatch.setattr(copy_guard, "CHECK_EVERY", 2)
    monkeypatch.setattr(settings_module, "SELF_MATCH_SHARE", 0.0)   # the threshold stays 0.3
    watched = []
    check = copy_guard.CopyGuard.check
    monkeypatch.setattr(copy_guard.CopyGuard, "check",
                        lambda self, *a: watched.append((self.layer, check(self, *a))) or watched[-1][1])
    photo, starry, wave = pictures
    common = dict(steps=STEPS, init="content", style_min_side=64, precondition="none", copy_guard=0.3)
    problems = [Problem(photo, (starry,), TransferSettings(style_weight=1e6, **common)),
                Problem(photo, (wave,), TransferSettings(style_weight=1e5, style_layers=("conv1_1", "conv4_1"),
                                                         **common))]
    results = run_batch(problems, photo.size)
    assert ("relu4_1", True) in watched and ("relu5_1", True) in watched
    for problem, result in zip(problems, results):
        alone = run_transfer(problem.content, list(problem.styles), problem.settings, photo.size)
        for key in ("total", "style"):
            np.testing.assert_allclose(_totals(result, key), _totals(alone, key), rtol=RTOL, atol=1e-30)
        assert result.left_out == alone.left_out and result.left_out[0][0] > 0
