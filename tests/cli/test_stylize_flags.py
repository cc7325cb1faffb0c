"""stylize's neural-style options: each one validated, in --help, and shown to change the result
(the real VGG19 at tiny sizes: 48-192 px, a few evaluations). The command line runs in this process
(helpers.run_cli); tests/cli/test_cli.py runs the real `python -m generator`."""
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from generator.cli.stylize import (
    StylizeOptions,
    blend_weights,
    check_layers,
    painting_sizes,
    schedule_report,
    snapshot_path,
    stylize,
    transfer_settings,
)
from generator.common.errors import InputError
from generator.engine.images import fit_long_side, read_image
from generator.engine.transfer import style_side
from generator.figures.work_colour import chroma_distance

from helpers import ROOT, one_line_error, run_cli

CONTENT = ROOT / "site_src" / "content" / "rectoria.jpg"
STYLE = ROOT / "site_src" / "styles" / "the_scream.jpg"
STYLE2 = ROOT / "site_src" / "styles" / "starry_night.jpg"
FLAGS = ("--keep-colors", "--style-scale", "--style-blend-weights", "--pooling", "--content-layers",
         "--style-layers", "--save-every", "--learning-rate", "--precondition")


def run(tmp_path, name="out.png", styles=(STYLE,), size=48, steps=3, style_scale=0.25, **options):
    """stylize in this process (the network loads once); the painting at 128 px, not 512, for speed."""
    output = tmp_path / name
    options["style_scale"] = style_scale
    result, report = stylize(CONTENT, list(styles), output, size=size, device="cpu", show_progress=False,
                             steps=steps, **options)
    return np.asarray(Image.open(output), dtype=np.float64), report


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """run()'s defaults, computed once for the tests that compare an option's result with them."""
    return run(tmp_path_factory.mktemp("default_run"))


def settings_for(size, n_paintings=1, **options):
    """transfer_settings for a run on the CPU at `size` with `options`."""
    return transfer_settings(StylizeOptions(size=size, device="cpu", **options), n_paintings)


def photo_at(size):
    return fit_long_side(read_image(CONTENT), size, allow_upscale=True)


# --- pure pieces ----------------------------------------------------------------------------------

def test_style_scale_multiplies_the_default_painting_side():
    assert style_side((256, 126), 512) == style_side((256, 126), 512, 1.0) == 512  # the floor, unchanged
    assert style_side((256, 126), 512, 0.5) == 256
    assert style_side((1024, 504), 512, 1.5) == 1536
    assert style_side((1024, 504), 0, 0.25) == 256


def test_blend_weights_are_normalised_and_counted():
    assert blend_weights(None, 2) is None
    assert blend_weights((7, 3), 2) == pytest.approx((0.7, 0.3))
    with pytest.raises(InputError, match="--style-blend-weights: 1 weight.* for 2 painting"):
        blend_weights((1,), 2)
    with pytest.raises(InputError, match="--style-blend-weights: .*not all zero"):
        blend_weights((0, 0), 2)


def test_layer_names_are_checked_against_vgg():
    assert check_layers("--style-layers", ["relu1_1", "conv4_2", "pool5"]) == ("relu1_1", "conv4_2", "pool5")
    with pytest.raises(InputError, match=r"^--content-layers: unknown VGG19 layer 'relu4_5'"):
        check_layers("--content-layers", ["relu4_5"])
    with pytest.raises(InputError, match="--style-layers: give at least one"):
        check_layers("--style-layers", [])


def test_options_reach_the_transfer_settings():
    default = settings_for(512)
    s = settings_for(512, 2, pooling="avg", content_layers=["relu4_2"], style_layers=["relu1_1", "relu3_1"],
                     style_blend_weights=(1, 3), style_scale=0.5, save_every=10, optimizer="adam", learning_rate=2.0)
    assert (s.pooling, s.content_layers, s.style_layers) == ("avg", ("relu4_2",), ("relu1_1", "relu3_1"))
    assert s.style_blend == pytest.approx((0.25, 0.75))
    assert (s.style_scale, s.snapshot_every, s.learning_rate) == (0.5, 10, 2.0)
    assert (s.steps, s.scales, s.precision) == (default.steps, default.scales, default.precision)
    assert (default.style_scale, default.snapshot_every, default.style_blend) == (1.0, 0, None)


def test_style_layers_drop_default_layer_weights_meant_for_other_layers(monkeypatch):
    from generator.engine import runtime

    schedule = runtime.device_schedule
    monkeypatch.setattr(runtime, "device_schedule", lambda size, device, precondition="pyramid": {
        **schedule(size, device), "style_layer_weights": (0.1, 0.2, 0.3, 0.2, 0.2)})
    assert settings_for(512).style_layer_weights == (0.1, 0.2, 0.3, 0.2, 0.2)
    assert settings_for(512, style_layers=["relu2_1", "relu4_1"]).style_layer_weights is None


@pytest.mark.parametrize("option, value, fragment", [
    ("style_scale", -1.0, "--style-scale"), ("style_scale", 0.0, "--style-scale"),
    ("save_every", -1, "--save-every"), ("pooling", "min", "--pooling"), ("learning_rate", 0.0, "--learning-rate"),
    ("precondition", "multigrid", "--precondition"), ("copy_guard", 1.5, "--copy-guard"),
])
def test_bad_option_values(option, value, fragment):
    with pytest.raises(InputError, match=fragment):
        StylizeOptions(size=256, device="cpu", **{option: value})
    with pytest.raises(InputError, match=fragment):  # stylize refuses them before reading any file
        stylize(CONTENT.parent / "no_existe.jpg", [STYLE], CONTENT.parent / "no_existe.png", size=256,
                device="cpu", show_progress=False, **{option: value})


def test_the_command_line_builds_the_options_once():
    from generator.cli.main import parser

    args = parser().parse_args(["stylize", "a.jpg", "b.jpg", "c.jpg", "-o", "o.png", "--size", "300", "--pooling",
                                "avg", "--style-layers", "relu1_1,relu2_1", "--style-blend-weights", "1,3",
                                "--save-every", "5", "--keep-colors", "--optimizer", "adam", "--learning-rate", "2",
                                "--copy-guard", "0"])
    options = StylizeOptions.from_args(args)
    assert options == StylizeOptions(size=300, pooling="avg", style_layers=("relu1_1", "relu2_1"),
                                     style_blend_weights=(1.0, 3.0), save_every=5, keep_colors=True,
                                     optimizer="adam", learning_rate=2.0, copy_guard=0.0)
    assert transfer_settings(options, 2).copy_guard == 0.0
    # every default on the command line is the dataclass's
    bare = StylizeOptions.from_args(parser().parse_args(["stylize", "a.jpg", "b.jpg", "-o", "o.png"]))
    assert bare == StylizeOptions()


def test_stylize_takes_options_or_their_fields_not_both(tmp_path):
    with pytest.raises(TypeError, match="not both"):
        stylize(CONTENT, [STYLE], tmp_path / "o.png", StylizeOptions(), size=48)


def test_snapshot_names_sit_beside_the_output(tmp_path):
    assert snapshot_path(tmp_path / "resultado.jpg", 50, 60) == tmp_path / "resultado_0050.jpg"
    assert snapshot_path(tmp_path / "a.b.png", 7, 20000) == tmp_path / "a.b_00007.png"


def test_painting_sizes_follow_the_stages_and_the_scale():
    s = settings_for(1024, style_scale=0.5)
    sizes = painting_sizes((1024, 682), (800, 600), s)
    assert len(sizes) == len(s.scales) >= 2
    assert sizes[-1] == (512, 384) and sizes[0] == (256, 192)  # half of max(stage, 512) at each stage


def test_schedule_report_counts_what_ran():
    s = replace(settings_for(512, style_layers=["relu1_1", "relu2_1"]), scales=(0.5, 1.0))  # two stages
    history = ([{"stage": 0, "precision": "float32"}] * 2 + [{"stage": 0, "precision": "bfloat16"}] * 10
               + [{"stage": 1, "precision": "float32"}] * 2 + [{"stage": 1, "precision": "bfloat16"}] * 46)
    lines = schedule_report(s, history, (512, 340), [("cuadro.jpg", [(512, 512), (512, 512)])])
    text = "\n".join(lines)
    assert f"style {s.style_weight:g} at relu1_1 0.5, relu2_1 0.5; tv" in lines[0]
    assert "stage 1: 256x170, 12 evaluations (2 float32, 10 bfloat16), painting 512x512" in text
    assert "stage 2: 512x340, 48 evaluations (2 float32, 46 bfloat16)" in text
    assert "init recoloured" in text and "lbfgs" in text and "pooling max" in text
    assert f"copy guard: {s.copy_guard:g} at relu2_1; painting positions left out of its target: none" in text
    guarded = schedule_report(s, history, (512, 340), [("cuadro.jpg", [(512, 512)] * 2)], left_out=[(12, 1024)])
    assert "left out of its target: 12 of 1024" in "\n".join(guarded)
    probed = schedule_report(s, history, (512, 340), [("cuadro.jpg", [(512, 512)] * 2)], left_out=[(12, 1024)],
                             probe=((256, 170), 11))
    assert f"copy guard: {s.copy_guard:g} at relu2_1, after a probe of 11 evaluations at 256x170; painting" in "\n".join(probed)
    two = [("cuadro.jpg", [(512, 512)] * 2), ("grito.jpg", [(512, 512)] * 2)]
    raised = "\n".join(schedule_report(s, history, (512, 340), two, left_out=[(12, 1024), (0, 1024)],
                                       copy_thresholds=(s.copy_guard, 0.72)))
    assert f"copy guard: {s.copy_guard:g} at relu2_1 (raised to 0.72 for grito.jpg: the painting repeats" in raised
    assert "cuadro.jpg:" not in raised and "for cuadro.jpg" not in raised
    off = schedule_report(replace(s, copy_guard=0.0), history, (512, 340), [("cuadro.jpg", [(512, 512)] * 2)])
    assert "copy guard: off" in "\n".join(off)


# --- effects on the result (real VGG19) -------------------------------------------------------------

def test_keep_colors_gives_back_the_photos_chrominance(tmp_path):
    # From noise, so a plain transfer's colours come from the painting, not from the starting canvas.
    keep, report = run(tmp_path, "keep.png", steps=8, init="noise", keep_colors=True, save_every=4)
    plain, _ = run(tmp_path, "plain.png", steps=8, init="noise")
    photo = photo_at(48)
    for name in ("keep.png", "keep_0004.png", "keep_0008.png"):
        assert chroma_distance(Image.open(tmp_path / name), photo) < 1.0, name
    assert chroma_distance(Image.open(tmp_path / "plain.png"), photo) > 10.0
    assert np.abs(keep - plain).mean() > 5.0
    assert "colours: the photo's" in "\n".join(report)


def test_save_every_writes_the_intermediate_results_at_the_results_size(tmp_path, monkeypatch):
    # Two stages at a small size: the half-size stage's snapshots come out at the result's size.
    from generator.engine import runtime

    monkeypatch.setattr(runtime, "device_schedule",
                        lambda size, device, precondition="pyramid": {"steps": 6, "scales": (0.5, 1.0), "precision": "float32"})
    output = tmp_path / "resultado.jpg"
    result, report = stylize(CONTENT, [STYLE], output, size=192, device="cpu", show_progress=False, save_every=2,
                             style_scale=0.25)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["resultado.jpg", "resultado_0002.jpg", "resultado_0004.jpg", "resultado_0006.jpg"]
    assert {Image.open(tmp_path / n).size for n in names} == {(192, 128)}
    assert [e["stage"] for e in result.history].count(0) >= 1  # resultado_0002 was taken at the half-size stage
    first, last = (np.asarray(Image.open(tmp_path / n), dtype=float) for n in ("resultado_0002.jpg", "resultado.jpg"))
    assert np.abs(first - last).mean() > 1.0
    assert "stage 1: 96x64" in "\n".join(report) and "intermediate results: 3" in "\n".join(report)


def test_precondition_none_is_plain_lbfgs_and_changes_the_result(tmp_path, default_run):
    a, report_a = default_run  # the pyramid
    b, report = run(tmp_path, "plain.png", precondition="none")
    assert np.abs(a - b).mean() > 0.5
    assert "preconditioner pyramid" in "\n".join(report_a) and "preconditioner none" in "\n".join(report)
    assert settings_for(512, precondition="none").scales == (0.5, 1.0)   # coarse to fine without it
    assert settings_for(512).scales == (1.0,) and settings_for(512).precondition == "pyramid"


def test_pooling_avg_changes_the_result(tmp_path, default_run):
    a, _ = default_run  # pooling max
    b, report = run(tmp_path, "avg.png", pooling="avg")
    assert np.abs(a - b).mean() > 0.5
    assert "pooling avg" in "\n".join(report)


def test_style_scale_changes_the_painting_and_the_result(tmp_path, default_run):
    a, _ = default_run  # style_scale 0.25
    b, report = run(tmp_path, "half.png", style_scale=0.5)
    assert np.abs(a - b).mean() > 0.5
    # the painting's long side is 0.5 x max(48, 512) = 256 px, its short side in proportion
    width, height = Image.open(STYLE).size
    expected = (round(width * 256 / max(width, height)), round(height * 256 / max(width, height)))
    assert f"painting {expected[0]}x{expected[1]}" in "\n".join(report)


def test_blend_weights_choose_between_paintings(tmp_path, default_run):
    only_first, _ = default_run  # STYLE alone
    blend_10, report = run(tmp_path, "b10.png", styles=(STYLE, STYLE2), style_blend_weights=(1, 0))
    blend_01, _ = run(tmp_path, "b01.png", styles=(STYLE, STYLE2), style_blend_weights=(0, 1))
    assert np.abs(blend_10 - only_first).max() == 0  # a zero weight adds nothing to the target Grams
    assert np.abs(blend_10 - blend_01).mean() > 0.5
    assert "the_scream.jpg x1, starry_night.jpg x0" in "\n".join(report)
    twice, report = run(tmp_path, "twice.png", styles=(STYLE, STYLE), style_blend_weights=(1, 3))
    assert "the_scream.jpg x0.25, the_scream.jpg x0.75" in "\n".join(report)  # the same painting twice is two paintings
    assert np.abs(twice - only_first).mean() < 0.5


def test_layers_change_the_result(tmp_path, default_run):
    a, _ = default_run
    b, report = run(tmp_path, "shallow.png", content_layers=["relu2_2"], style_layers=["relu1_1", "relu2_1"])
    assert np.abs(a - b).mean() > 0.5
    assert f"content {settings_for(48).content_weight:g} at relu2_2;" in report[0]
    assert "at relu1_1 0.5, relu2_1 0.5;" in report[0]


def test_learning_rate_changes_adams_steps(tmp_path):
    a, _ = run(tmp_path, "lr10.png", optimizer="adam")
    b, report = run(tmp_path, "lr2.png", optimizer="adam", learning_rate=2.0)
    assert np.abs(a - b).mean() > 0.5
    assert "adam (learning rate 2)" in "\n".join(report)


# --- the command line -----------------------------------------------------------------------------

def test_help_lists_every_flag(bare_project):
    proc = run_cli(["stylize", "--help"], bare_project)
    assert proc.returncode == 0
    for flag in FLAGS:
        assert flag in proc.stdout, flag


def test_cli_prints_the_weights_and_schedule(bare_project, tmp_path):
    output = tmp_path / "resultado.png"
    proc = run_cli(["stylize", CONTENT, STYLE, STYLE2, "-o", output, "--size", "48", "--steps", "4",
                    "--quiet", "--device", "cpu", "--style-layers", "relu1_1,relu3_1", "--save-every", "2",
                    "--style-blend-weights", "0.7,0.3", "--keep-colors", "--pooling", "avg"], bare_project)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith(f"wrote {output}: 48x32, 4 evaluations")
    assert "at relu1_1 0.5, relu3_1 0.5;" in out and "conv5_1" not in out
    assert "the_scream.jpg x0.7, starry_night.jpg x0.3" in out and "pooling avg" in out
    assert "stage 1: 48x32, 4 evaluations (" in out and "init recoloured" in out and "precision " in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["resultado.png", "resultado_0002.png",
                                                          "resultado_0004.png"]


@pytest.mark.parametrize("args, fragment", [
    (["--style-layers", "relu1_1,relu9_1"], "--style-layers: unknown VGG19 layer 'relu9_1'"),
    (["--content-layers", "conv4_2,"], "argument --content-layers: 'conv4_2,': empty name"),
    (["--style-scale", "-0.5"], "argument --style-scale: must be a finite number >= 0"),
    (["--style-scale", "0"], "argument --style-scale: must be a finite number > 0"),
    (["--style-scale", "0.05"], "--style-scale: 0.05 makes"),
    (["--style-blend-weights", "0.7,0.3"], "--style-blend-weights: 2 weight(s) for 1 painting(s)"),
    (["--style-blend-weights", "0.7,x"], "argument --style-blend-weights: 'x' is not a number"),
    (["--save-every", "-1"], "argument --save-every: must be 0 or more, not -1"),
    (["--pooling", "min"], "--pooling: must be max or avg, not 'min'"),
])
def test_cli_bad_values(bare_project, tmp_path, args, fragment):
    output = tmp_path / "salida.jpg"
    proc = run_cli(["stylize", CONTENT, STYLE, "-o", output, "--size", "48", "--steps", "2",
                    "--quiet", "--device", "cpu", *args], bare_project)
    one_line_error(proc, fragment)
    assert list(tmp_path.iterdir()) == []


def test_option_errors_come_before_reading_the_images(bare_project, tmp_path):
    proc = run_cli(["stylize", CONTENT, tmp_path / "no_existe.jpg", "-o", tmp_path / "o.jpg",
                    "--style-blend-weights", "1,2,3", "--quiet", "--device", "cpu"], bare_project)
    one_line_error(proc, "--style-blend-weights: 3 weight(s) for 1 painting(s)")
