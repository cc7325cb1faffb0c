"""VGG19 with the Caffe weights: structure, shapes, early stop, pooling, reference activations."""
import numpy as np
import pytest
import torch
from PIL import Image

from generator import vgg
from generator.images import to_tensor


@pytest.fixture(scope="module")
def model():
    return vgg.get_model("max", "cpu")


def smooth_image(w=64, h=48) -> Image.Image:
    """A deterministic smooth image: horizontal and vertical ramps plus a diagonal sine."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 255 * x / (w - 1)
    g = 255 * y / (h - 1)
    b = 127.5 + 127.5 * np.sin(2 * np.pi * (x + y) / 40)
    return Image.fromarray(np.rint(np.stack([r, g, b], -1)).astype(np.uint8), "RGB")


def test_weights_load_weights_only(monkeypatch):
    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    weights = vgg.load_weights()
    assert calls and all(c.get("weights_only") is True for c in calls)
    assert set(weights) == set(vgg.CONV_LAYERS)


def test_sixteen_convs_with_channels(model):
    expected = [(3, 64), (64, 64),
                (64, 128), (128, 128),
                (128, 256)] + [(256, 256)] * 3 + [(256, 512)] + [(512, 512)] * 7
    assert len(vgg.CONV_LAYERS) == 16
    got = [(model.convs[n].in_channels, model.convs[n].out_channels) for n in vgg.CONV_LAYERS]
    assert got == expected
    assert [vgg.conv_channels()[n] for n in vgg.CONV_LAYERS] == expected
    for n in vgg.CONV_LAYERS:
        assert model.convs[n].weight.shape[2:] == (3, 3)
        assert not model.convs[n].weight.requires_grad
    assert len(vgg.LAYERS) == 16 * 2 + 5


def test_output_shapes(model):
    x = to_tensor(smooth_image())  # 64 wide, 48 high
    assert x.shape == (1, 3, 48, 64)
    with torch.no_grad():
        out = model(x, vgg.LAYERS)
    assert list(out) == vgg.LAYERS
    for name, t in out.items():
        block = int(name[4])  # conv3_1, relu3_1, pool3 -> 3
        channels = vgg.BLOCKS[block - 1][1]
        halvings = block if name.startswith("pool") else block - 1
        assert t.shape == (1, channels, 48 >> halvings, 64 >> halvings), name


def test_forward_stops_early(model):
    fired = []
    handles = [model.convs[n].register_forward_hook(lambda m, i, o, n=n: fired.append(n))
               for n in vgg.CONV_LAYERS]
    try:
        with torch.no_grad():
            out = model(torch.zeros(1, 3, 16, 16), ["conv1_1"])
            assert fired == ["conv1_1"] and list(out) == ["conv1_1"]
            fired.clear()
            model(torch.zeros(1, 3, 16, 16), ["relu2_1", "conv1_2"])
            assert fired == ["conv1_1", "conv1_2", "conv2_1"]
    finally:
        for h in handles:
            h.remove()


def test_unknown_layer_refused(model):
    with pytest.raises(KeyError, match="conv9_9"):
        model(torch.zeros(1, 3, 16, 16), ["conv9_9"])


def test_max_and_avg_pooling_differ(model):
    avg = vgg.get_model("avg", "cpu")
    x = to_tensor(smooth_image())
    with torch.no_grad():
        a, m = avg(x, ["pool1", "conv1_2"]), model(x, ["pool1", "conv1_2"])
    assert torch.equal(a["conv1_2"], m["conv1_2"])  # same weights before the first pool
    assert a["pool1"].shape == m["pool1"].shape
    assert (m["pool1"] - a["pool1"]).abs().max() > 1.0
    assert torch.all(m["pool1"] >= a["pool1"] - 1e-4)  # max of a window is at least its mean
    with pytest.raises(ValueError):
        vgg.VGG19("median", weights={})


# mean and std of activations for smooth_image(), computed with torch 2.13 CPU float32
REFERENCE = {
    "conv1_1": (1.3314892349038938, 104.82398399270438),
    "relu2_1": (165.04872584793262, 265.1158754922478),
    "conv3_1": (52.81265951828876, 705.1962298589532),
    "relu4_2": (583.3538928014847, 1180.802707987733),
    "conv5_1": (-191.3008730255145, 475.2045762223956),
}


def test_reference_statistics(model):
    with torch.no_grad():
        out = model(to_tensor(smooth_image()), list(REFERENCE))
    for name, (mean, std) in REFERENCE.items():
        t = out[name].double()
        assert t.std().item() == pytest.approx(std, rel=1e-3), name
        # the mean can be near zero: compare it on the scale of the spread
        assert abs(t.mean().item() - mean) <= 1e-3 * std, name
