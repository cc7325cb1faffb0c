"""The paper-faithful options (post-ReLU taps, the rescaled network, average pooling, the balanced
objective) and the independent quality scorer."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from generator.common.paths import RESCALE_IMAGES
from generator.engine import images, models, rescale, transfer, vgg
from generator.engine.settings import TransferSettings, paper_differences
from generator.engine.transfer import run_transfer
from generator.yardsticks import quality_score

from helpers import ROOT

SMALL = [ROOT / "site_src/content/rectoria2.jpg", ROOT / "site_src/styles/the_scream.jpg"]


@pytest.fixture(scope="module")
def model():
    return models.get_model("max", "cpu")


@pytest.fixture(scope="module")
def pair():
    content = images.fit_long_side(images.read_image(SMALL[0]), 48)
    style = images.fit_long_side(images.read_image(SMALL[1]), 64)
    return content, style


def test_tap_names():
    assert vgg.tap("conv4_2", "post_relu") == "relu4_2"
    assert vgg.tap("conv4_2", "pre_relu") == "conv4_2"
    assert vgg.tap("pool3", "post_relu") == "pool3"
    with pytest.raises(ValueError, match="taps"):
        vgg.tap("conv1_1", "after")


def test_post_relu_taps_are_relu_of_pre_relu(model, pair):
    x = images.to_tensor(pair[0])
    out = model(x, ["conv1_1", "relu1_1", "conv4_2", "relu4_2"])
    for conv in ("conv1_1", "conv4_2"):
        post = out[vgg.tap(conv, "post_relu")]
        assert torch.equal(post, F.relu(out[conv]))
        assert (out[conv] < 0).any() and not torch.equal(post, out[conv])


def _small_tensors(side=48):
    return [images.to_tensor(images.fit_long_side(images.read_image(p), side)) for p in SMALL]


def test_rescaled_network_has_unit_mean_activations():
    original = vgg.VGG19("avg")
    means = vgg.mean_activations(original, _small_tensors())
    assert any(not torch.allclose(m, torch.ones_like(m), rtol=0.1) for m in means.values())
    rescaled = vgg.VGG19("avg", vgg.rescaled_weights(vgg.load_weights(), means))
    after = vgg.mean_activations(rescaled, _small_tensors())
    for name, m in after.items():
        fired = means[name] > 0
        assert torch.allclose(m[fired], torch.ones_like(m[fired]), rtol=1e-2), name  # float32 rounding
        assert torch.equal(m[~fired], torch.zeros_like(m[~fired]))


def test_rescaling_only_scales_each_channel(pair):
    """The rescaled network's responses are the original's divided channel by channel."""
    x = images.to_tensor(pair[0])
    original = vgg.VGG19("max")
    means = vgg.mean_activations(original, _small_tensors())
    rescaled = vgg.VGG19("max", vgg.rescaled_weights(vgg.load_weights(), means))
    a, b = original(x, ["relu3_1"])["relu3_1"], rescaled(x, ["relu3_1"])["relu3_1"]
    scale = torch.where(means["conv3_1"] > 0, means["conv3_1"], torch.ones(()))
    assert torch.allclose(b * scale.view(1, -1, 1, 1), a, rtol=1e-3, atol=1e-2)


def test_rescale_statistics_are_cached_by_inputs(tmp_path, monkeypatch):
    first = rescale.cached_means("max", SMALL, side=32, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.pt"))) == 1
    monkeypatch.setattr(rescale, "compute_means", lambda *a: pytest.fail("recomputed a cached statistic"))
    again = rescale.cached_means("max", SMALL, side=32, cache_dir=tmp_path)
    assert all(torch.equal(first[n], again[n]) for n in first)
    assert rescale.statistics_key(SMALL, "max", 32) != rescale.statistics_key(SMALL, "avg", 32)
    assert rescale.statistics_key(SMALL, "max", 32) != rescale.statistics_key(SMALL[:1], "max", 32)


def test_stated_rescale_images_exist():
    assert all(p.is_file() for p in RESCALE_IMAGES)


def test_average_pooling_path(pair):
    content, style = pair
    # unbalanced, so the first style loss shows the pooling (balanced, both would start at 1)
    avg = run_transfer(content, [style], TransferSettings(steps=4, pooling="avg", style_balance="none"), content.size)
    mx = run_transfer(content, [style], TransferSettings(steps=4, pooling="max", style_balance="none"), content.size)
    assert all(torch.isfinite(torch.tensor(h["total"])) for h in avg.history)
    assert avg.history[0]["style"] != pytest.approx(mx.history[0]["style"], rel=1e-3)
    x = images.to_tensor(content)
    pooled = models.get_model("avg")(x, ["relu1_2", "pool1"])
    assert torch.allclose(pooled["pool1"], F.avg_pool2d(pooled["relu1_2"], 2))


def test_balanced_style_starts_at_the_sum_of_layer_weights(pair):
    """style_balance="photo": a canvas equal to the photo has style loss sum(w_l) = 1, whatever the
    layers' scales; the content term "mean" is the mean squared difference."""
    content, style = pair
    settings = TransferSettings(steps=2, init="content", taps="post_relu", style_balance="photo",
                                content_normalise="mean")
    result = run_transfer(content, [style], settings, content.size)
    assert result.history[0]["style"] == pytest.approx(1.0, rel=1e-4)
    assert result.history[0]["content"] == 0.0
    unbalanced = run_transfer(content, [style], TransferSettings(steps=1, taps="post_relu", style_balance="none"),
                              content.size)
    assert unbalanced.history[0]["style"] != pytest.approx(1.0, rel=0.1)


def test_content_term_normalisations():
    x, p = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]]), torch.tensor([[[[0.0, 2.0], [5.0, 1.0]]]])
    assert transfer.content_term(x, p, "sum").item() == pytest.approx(7.0)  # (1 + 0 + 4 + 9) / 2
    assert transfer.content_term(x, p, "mean").item() == pytest.approx(14.0 / 4)
    with pytest.raises(ValueError):
        transfer.content_term(x, p, "max")


def test_style_reconstruction_ignores_the_balance(pair):
    """No photo to balance against when the content weight is zero: equal weights, no crash."""
    content, style = pair
    settings = TransferSettings(steps=2, init="noise", content_weight=0.0, style_balance="photo")
    result = run_transfer(style, [style], settings, content.size)
    assert result.history[0]["style"] > 0 and result.history[0]["content"] == 0.0


def test_paper_differences_names_every_departure():
    d = paper_differences(TransferSettings())
    for key in ("taps", "pooling", "rescale_weights", "init", "optimizer", "line_search", "precision",
                "weights_8bit", "style_balance"):
        assert key in d


# --- the scorer ----------------------------------------------------------------------------------

def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(("." * node.level) + (node.module or ""))
    return names


def test_scorer_imports_nothing_from_the_engine():
    imported = _imports(ROOT / "generator" / "yardsticks" / "quality_score.py")
    assert not [n for n in imported if n.startswith(".") or n.startswith("generator")], imported


def _identity_convs():
    """16 one-channel 3x3 convolutions that pass the blue (first, BGR) channel through unchanged."""
    convs, cin = [], 3
    for block, count in enumerate((2, 2, 4, 4, 4), start=1):
        for i in range(1, count + 1):
            kernel = torch.zeros(1, cin, 3, 3)
            kernel[0, 0, 1, 1] = 1.0
            convs.append((f"relu{block}_{i}", kernel, torch.zeros(1)))
            cin = 1
    return convs


def test_scorer_on_a_synthetic_case_by_hand():
    """Flat images through an identity network: every response is the blue value minus its mean,
    so each Gram matrix (1x1, divided by C*H*W) is that value squared."""
    def flat(blue):
        return Image.new("RGB", (32, 24), (10, 20, blue))

    a, b, c = (200 - 103.939), (150 - 103.939), (180 - 103.939)
    scorer = quality_score.Scorer(flat(200), flat(150), side=32, convs=_identity_convs())
    score = scorer.score(flat(180))
    assert score["content"] == pytest.approx((c - a) ** 2, rel=1e-5)
    for layer in quality_score.STYLE_LAYERS:
        assert score["style"][layer] == pytest.approx((c**2 - b**2) ** 2, rel=1e-4)
        assert scorer.photo_style[layer] == pytest.approx((a**2 - b**2) ** 2, rel=1e-4)
    assert score["balanced_style"] == pytest.approx(5 * (c**2 - b**2) ** 2 / (a**2 - b**2) ** 2, rel=1e-4)
    assert scorer.score(flat(200))["balanced_style"] == pytest.approx(5.0)


def test_scorer_gram_and_forward_against_plain_torch():
    f = torch.arange(12, dtype=torch.float32).reshape(1, 3, 2, 2)
    flat = f.reshape(3, 4).double()
    assert torch.allclose(quality_score.gram(f), flat @ flat.T / 12)
    convs = quality_score.load_vgg19()
    x = torch.randn(1, 3, 20, 20) * 50
    got = quality_score.responses(convs, x, ["relu2_1"])["relu2_1"]
    h = x
    for _, k, bias in convs[:2]:
        h = F.relu(F.conv2d(h, k, bias, padding=1))
    h = F.relu(F.conv2d(F.max_pool2d(h, 2), convs[2][1], convs[2][2], padding=1))
    assert torch.allclose(got, h)


def test_quality_table_and_contact_sheet():
    from generator.bench import quality as bench_quality

    layers = quality_score.STYLE_LAYERS
    def m(c, b, copy=0.5, cells=()):
        return {"content": c, "balanced_style": b, "style": {n: b for n in layers}, "copy": copy,
                "copied_cells": list(cells), "scored_size": (512, 384)}
    d = bench_quality.BENCH_DIR
    rows = [{"pair": "starry", "photo": "tubingen.jpg", "paintings": ["starry_night.jpg"], "seconds": 12.0,
             "ours": m(1.0, 0.5, copy=0.95, cells=[(256, 192, 272, 208), (0, 0, 16, 16)]), "neural_style": [m(2.0, 0.6)], "verdict": "win",
             "photo_style": {n: 1.0 for n in layers},
             "ours_path": str(d / "tubingen_scream.png"), "theirs_paths": [str(d / "tubingen_starry.png")]},
            {"pair": "portrait", "photo": "brad_pitt.jpg", "paintings": ["picasso_selfport1907.jpg"],
             "seconds": 12.0, "ours": m(1.0, 0.7), "neural_style": [m(2.0, 0.6), m(0.5, 0.9)],
             "verdict": "on the frontier", "photo_style": {n: 1.0 for n in layers},
             "ours_path": str(d / "tubingen_scream.png"),
             "theirs_paths": [str(d / "pitt_picasso_content_5_style_10.png"),
                              str(d / "pitt_picasso_content_1_style_10.png")]}]
    text = bench_quality.table(rows)
    assert [line.split()[-1] for line in text.splitlines() if line.endswith(("WIN", "FRONTIER"))] == ["WIN", "FRONTIER"]
    assert "neural-style 5_style_10" in text or "neural-style 5" in text
    assert "0.95!2" in text and "0.50!" not in text
    sheet = bench_quality.contact_sheet(rows)
    assert sheet.width >= 5 * bench_quality.CELL and sheet.height >= 2 * bench_quality.CELL
    # the third column of the first row shows "ours" (here the Scream output): reddish, not Starry's blue
    x = 8 + 2 * (bench_quality.CELL + 8) + bench_quality.CELL // 2
    r, g, b = sheet.getpixel((x, 8 + 15 + 40))
    assert r > b
    # the copied cell at (256, 192) of the 512 px result is outlined in red at half scale on ours only
    ours_x, top = 8 + 2 * (bench_quality.CELL + 8), 8 + 15
    assert sheet.getpixel((ours_x + 128, top + 96)) == (255, 0, 0)
    assert sheet.getpixel((ours_x + 132, top + 100)) != (255, 0, 0)  # inside the box: the picture
    theirs_x = ours_x + bench_quality.CELL + 8
    assert sheet.getpixel((theirs_x + 128, top + 96)) != (255, 0, 0)


def test_verdicts_single_and_frontier():
    from generator.bench.quality import verdict

    def m(c, b):
        return {"content": c, "balanced_style": b}
    assert verdict(m(1, 1), [m(1, 1)]) == "win"
    assert verdict(m(1, 1.1), [m(2, 1)]) == "loss"
    frontier = [m(5, 1), m(3, 2), m(1, 4)]
    assert verdict(m(4, 3), frontier) == "beaten"         # (3, 2) is better on both
    assert verdict(m(0.5, 5), frontier) == "on the frontier"
    assert verdict(m(2.5, 1.5), frontier) == "win"


def test_blend_scorer_averages_the_paintings_grams():
    def flat(blue):
        return Image.new("RGB", (32, 24), (10, 20, blue))

    convs = _identity_convs()
    blend = quality_score.Scorer(flat(200), [(flat(150), 1.0), (flat(120), 3.0)], side=32, convs=convs)
    b1, b2 = (150 - 103.939) ** 2, (120 - 103.939) ** 2
    target = 0.25 * b1 + 0.75 * b2
    c = (180 - 103.939) ** 2
    assert blend.score(flat(180))["style"]["relu1_1"] == pytest.approx((c - target) ** 2, rel=1e-4)


def test_benchmark_files_are_in_the_project():
    from generator.bench import quality as bench_quality

    names = {"README.md", "LICENSE"}
    for pair in bench_quality.PAIRS.values():
        names |= {pair.photo, *pair.paintings, *pair.references}
    assert all((bench_quality.BENCH_DIR / n).is_file() for n in names), names
    assert "shared" not in str(bench_quality.BENCH_DIR.resolve().relative_to(ROOT))
    assert {"starry+scream", "portrait", "starry-colors"} <= set(bench_quality.PAIRS)


def test_shown_canvas_keeps_the_photos_chrominance_and_the_canvass_luminance():
    from generator.engine import colour, images
    from generator.engine.transfer import shown_canvas

    gen = torch.Generator().manual_seed(0)
    photo_img = Image.fromarray(np.random.default_rng(0).integers(100, 160, (6, 8, 3), dtype=np.uint8))
    canvas_img = Image.fromarray(np.random.default_rng(1).integers(90, 170, (6, 8, 3), dtype=np.uint8))
    photo, canvas = images.to_tensor(photo_img), images.to_tensor(canvas_img)  # in gamut: no clipping
    shown = images.to_image(shown_canvas(canvas, photo, "photo"))
    ycc_shown = colour.rgb_to_ycbcr(np.asarray(shown))
    ycc_photo = colour.rgb_to_ycbcr(np.asarray(photo_img))
    assert np.abs(ycc_shown[..., 1:] - ycc_photo[..., 1:]).max() < 1.5          # chrominance: the photo's
    assert np.abs(ycc_shown[..., 0] - colour.luminance(canvas_img)).max() < 1.0  # luminance: the canvas's
    assert shown_canvas(canvas, photo, "painting") is canvas
    # the gradient reaching the canvas moves only its luminance: equal in B, G and R up to the weights
    x = canvas.clone().requires_grad_(True)
    (shown_canvas(x, photo, "photo") * torch.randn(photo.shape, generator=gen)).sum().backward()
    ratio = x.grad / x.grad.new_tensor((0.114, 0.587, 0.299)).view(1, 3, 1, 1)
    assert torch.allclose(ratio[:, 0], ratio[:, 1], rtol=1e-4) and torch.allclose(ratio[:, 0], ratio[:, 2], rtol=1e-4)
    with pytest.raises(ValueError, match="unknown colours"):
        shown_canvas(canvas, photo, "sepia")


def test_copy_flags_a_pasted_object():
    """A photo with the painting's face pasted in reaches COPY_FLAG; the photo itself does not."""
    convs = quality_score.load_vgg19()
    from generator.bench.quality import BENCH_DIR

    photo = quality_score.fit(quality_score.read(BENCH_DIR / "golden_gate.jpg"), 256)
    painting = quality_score.fit(quality_score.read(BENCH_DIR / "frida_kahlo.jpg"), 256)
    scorer = quality_score.Scorer(photo, painting, side=256, convs=convs)
    pasted = photo.copy()
    pasted.paste(painting.crop((40, 20, 160, 140)), (120, 10))  # the face, into the sky
    scores = scorer.score(pasted)
    assert scores["copy"] >= quality_score.COPY_FLAG > scorer.score(photo)["copy"]
    assert scorer.score(photo)["copied_cells"] == []
    # the copied positions lie over the pasted face (120..240, 10..130)
    assert scores["copied_cells"] and all(100 <= (x0 + x1) / 2 <= 260 and (y0 + y1) / 2 <= 150
                                          for x0, y0, x1, y1 in scores["copied_cells"])
