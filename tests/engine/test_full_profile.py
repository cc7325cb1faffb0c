"""The full profile is for a GPU and never runs in CI; its schedule logic does, at a tiny size:
every figure's `full` specs, with sizes and evaluations shrunk but their stages, shares, ratios and
rows kept, rendered on the CPU, and each transfer checked to follow the full schedule. The gallery
is checked here; every other figure in tests/engine/test_gpu_safety.py, which renders these same shrunk
specs (one render per figure serves both checks)."""
from __future__ import annotations

from dataclasses import replace

import pytest

from generator.build.catalog import load_catalog
from generator.engine import transfer
from generator.engine.transfer import stage_steps
from generator.figures.context import RenderContext
from generator.figures.profiles import PROFILES
from generator.figures.registry import registry

from helpers import ROOT

SITE_SRC = ROOT / "site_src"
# Upper bounds for the sizes a full row names; everything else in the row (scales, ratios, rows,
# layers) is the full profile's own.
SHRINK = {"long_side": 64, "side": 48, "steps": 9, "frames": 3, "patch": 16, "channels": 4}
# The painting's 512 px floor (style_min_side) is no schedule logic either: at 64 px a figure that
# feeds the painting to VGG19 itself (limits/copies, in float64 in test_gpu_safety.py) stays cheap, as
# the transfers' paintings already are (recorded_transfers, float64_network).
TINY_FULL = replace(PROFILES["full"], long_side=160, steps=9, thumb_side=32, style_min_side=64)
STAGE_FLOOR = 16   # the engine drops a coarse stage whose short side is under 64 px; tiny canvases need less


def shrunk(row: dict) -> dict:
    return {k: min(v, SHRINK[k]) if k in SHRINK and isinstance(v, int) else v for k, v in row.items()}


def test_the_full_profile_is_the_gpu_schedule_the_issue_asks_for():
    full = PROFILES["full"]
    assert full.long_side == 1024 and full.scales == (0.25, 0.5, 1.0)
    assert stage_steps(full.steps, len(full.scales), full.final_share)[-1] == 500   # 500 final evaluations
    assert full.rank > PROFILES["preview"].rank


def shrink_full_profile(monkeypatch) -> None:
    """Every figure's full row shrunk (SHRINK) and coarse stages allowed down to STAGE_FLOOR."""
    for kind in registry().values():
        if kind.figure.sizes is not None:
            monkeypatch.setitem(kind.figure.sizes, "full", shrunk(kind.figure.sizes["full"]))
    real_scales = transfer.effective_scales
    monkeypatch.setattr(transfer, "effective_scales", lambda size, scales, min_side=0: real_scales(size, scales, STAGE_FLOOR))


def assert_follows_its_schedule(settings, result, name: str = "") -> None:
    """The transfer spent each stage's planned evaluations, as plan_stages shares them out."""
    stages = [h["stage"] for h in result.history]
    planned = [s.steps for s in transfer.plan_stages(result.image.size, settings.scales, settings.steps,
                                                     settings.final_share)]
    assert [stages.count(i) for i in range(len(planned))] == planned, (name, settings)


@pytest.fixture
def recorded_transfers(monkeypatch):
    """The full profile shrunk; each transfer recorded with its settings and its result."""
    shrink_full_profile(monkeypatch)
    runs, real_run = [], transfer.run_transfer

    def recording_run(content, styles, settings, *args, **kwargs):
        # the painting's 512 px floor is not schedule logic; a small painting keeps the test fast
        result = real_run(content, styles, replace(settings, style_min_side=64), *args, **kwargs)
        runs.append((settings, result))
        return result

    monkeypatch.setattr(transfer, "run_transfer", recording_run)
    return runs


def test_the_gallery_runs_quarter_half_and_full_size(recorded_transfers, tmp_path):
    kind = registry()["gallery"]
    spec = kind.specs(load_catalog(SITE_SRC), TINY_FULL, SITE_SRC)[0]
    kind.render(spec, RenderContext(out=tmp_path))
    (settings, result), = recorded_transfers
    assert settings.scales == (0.25, 0.5, 1.0) and settings.precision == "float32"
    assert_follows_its_schedule(settings, result)
    assert [h["stage"] for h in result.history].count(2) == stage_steps(TINY_FULL.steps, 3, TINY_FULL.final_share)[-1]
    assert max(result.image.size) == 160
