"""read_image: every kind of image gives upright 8-bit RGB; every bad file an InputError naming it."""
import io
import struct
import zlib

import numpy as np
import pytest

from helpers import ROOT
from PIL import Image, features

from generator.common.errors import InputError
from generator.common.files import atomic_write_bytes
from generator.engine.images import encode_image, fit_long_side, fit_size, read_image, to_image, to_tensor


def halves(w=40, h=20, left=(255, 0, 0), right=(0, 0, 255)) -> Image.Image:
    img = Image.new("RGB", (w, h), right)
    img.paste(left, (0, 0, w // 2, h))
    return img


def assert_rgb(img, size):
    assert img.mode == "RGB"
    assert img.size == size


# --- images that must be read --------------------------------------------------------------------

def test_exif_orientation_is_applied(tmp_path):
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the stored image must be turned 90 degrees clockwise
    halves().save(path, exif=exif, quality=95)
    img = read_image(path)
    assert_rgb(img, (20, 40))
    top, bottom = img.getpixel((10, 5)), img.getpixel((10, 35))
    assert top[0] > 200 and top[2] < 60        # the stored left (red) half is now on top
    assert bottom[2] > 200 and bottom[0] < 60


def test_cmyk_jpeg(tmp_path):
    path = tmp_path / "cmyk.jpg"
    halves().convert("CMYK").save(path, quality=95)
    assert Image.open(path).mode == "CMYK"
    img = read_image(path)
    assert_rgb(img, (40, 20))
    assert img.getpixel((5, 10))[0] > 200 and img.getpixel((35, 10))[2] > 200


def test_greyscale(tmp_path):
    path = tmp_path / "grey.png"
    Image.new("L", (30, 10), 77).save(path)
    img = read_image(path)
    assert_rgb(img, (30, 10))
    assert img.getpixel((0, 0)) == (77, 77, 77)


def test_palette(tmp_path):
    path = tmp_path / "palette.png"
    halves().convert("P", palette=Image.ADAPTIVE, colors=4).save(path)
    assert Image.open(path).mode == "P"
    img = read_image(path)
    assert_rgb(img, (40, 20))
    assert img.getpixel((5, 5)) == (255, 0, 0) and img.getpixel((35, 5)) == (0, 0, 255)


def test_palette_with_transparency(tmp_path):
    path = tmp_path / "palette_t.gif"
    p = Image.new("P", (8, 8), 0)
    p.putpalette([0, 0, 0, 0, 255, 0] + [0] * 762)
    p.paste(1, (0, 0, 4, 8))
    p.save(path, transparency=0)
    img = read_image(path)
    assert img.getpixel((1, 1)) == (0, 255, 0)
    assert img.getpixel((6, 6)) == (255, 255, 255)  # transparent index on white


def test_rgba_alpha_composited_on_white(tmp_path):
    path = tmp_path / "alpha.png"
    rgba = Image.new("RGBA", (3, 1))
    rgba.putdata([(255, 0, 0, 0), (0, 0, 255, 255), (255, 0, 0, 128)])
    rgba.save(path)
    img = read_image(path)
    assert_rgb(img, (3, 1))
    assert img.getpixel((0, 0)) == (255, 255, 255)
    assert img.getpixel((1, 0)) == (0, 0, 255)
    r, g, b = img.getpixel((2, 0))
    assert r == 255 and abs(g - 127) <= 1 and abs(b - 127) <= 1


def test_16_bit_png(tmp_path):
    path = tmp_path / "deep.png"
    arr = np.array([[0, 32768, 65535]], dtype=np.uint16)
    Image.fromarray(arr).save(path)
    assert Image.open(path).mode.startswith("I")
    img = read_image(path)
    assert_rgb(img, (3, 1))
    assert [img.getpixel((x, 0))[0] for x in range(3)] == [0, 128, 255]


@pytest.mark.skipif(not features.check("webp"), reason="Pillow built without WebP")
def test_webp(tmp_path):
    path = tmp_path / "image.webp"
    halves().save(path, lossless=True)
    img = read_image(path)
    assert_rgb(img, (40, 20))
    assert img.getpixel((5, 5)) == (255, 0, 0)


def test_accents_and_spaces_in_name(tmp_path):
    path = tmp_path / "Café con leche — año ñ.png"
    halves().save(path)
    assert_rgb(read_image(str(path)), (40, 20))


# --- bad input -----------------------------------------------------------------------------------

def valid_bytes(fmt: str) -> bytes:
    rng = np.random.default_rng(0)  # noise, so that half the file is half the pixels
    img = Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), "RGB")
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def png_with_size(width: int, height: int) -> bytes:
    """A PNG whose header declares width x height (the data is a single pixel's)."""
    data = valid_bytes("PNG")
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return data[:8] + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk)) + data[33:]


BAD_FILES = {
    "corrupt.jpg": lambda: b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8,
    "corrupt.png": lambda: valid_bytes("PNG")[:40] + b"\x00garbage" * 50,
    "empty.png": lambda: b"",
    "half.jpg": lambda: valid_bytes("JPEG")[: len(valid_bytes("JPEG")) // 2],
    "half.png": lambda: valid_bytes("PNG")[: len(valid_bytes("PNG")) // 2],
    "notes.jpg": lambda: "esto no es una imagen\n".encode() * 20,
    "notes.txt": lambda: b"plain text\n",
    "bomb.png": lambda: png_with_size(100_000, 100_000),
    "big.png": lambda: png_with_size(8_000, 6_000),  # 48 Mpx: over MAX_PIXELS, under Pillow's limit
}


def assert_names(exc_info, path):
    message = str(exc_info.value)
    assert str(path) in message
    assert "\n" not in message
    assert exc_info.value.where == str(path)


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(BAD_FILES[name]())
    with pytest.raises(InputError) as exc_info:
        read_image(path)
    assert_names(exc_info, path)


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.jpg"
    with pytest.raises(InputError, match="not found") as exc_info:
        read_image(path)
    assert_names(exc_info, path)


def test_directory(tmp_path):
    path = tmp_path / "folder.jpg"
    path.mkdir()
    with pytest.raises(InputError, match="directory") as exc_info:
        read_image(path)
    assert_names(exc_info, path)


def test_max_pixels(tmp_path):
    path = tmp_path / "ok.png"
    halves().save(path)
    assert read_image(path, max_pixels=800).size == (40, 20)
    with pytest.raises(InputError, match="too large") as exc_info:
        read_image(path, max_pixels=799)
    assert_names(exc_info, path)


# --- conversions and writes ----------------------------------------------------------------------

def test_tensor_round_trip():
    img = halves(left=(12, 200, 99), right=(250, 3, 128))
    t = to_tensor(img)
    assert t.shape == (1, 3, 20, 40)
    # BGR order, Caffe means removed: red channel of (12, 200, 99) is index 2, 12 - 123.68
    assert t[0, 2, 0, 0].item() == pytest.approx(12 - 123.68, abs=1e-4)
    assert t[0, 0, 0, 0].item() == pytest.approx(99 - 103.939, abs=1e-4)
    assert to_image(t).tobytes() == img.tobytes()


def test_fit_long_side():
    img = halves(400, 100)
    assert fit_long_side(img, 100).size == (100, 25)
    assert fit_long_side(img, 800).size == (400, 100)
    assert fit_long_side(img, 800, allow_upscale=True).size == (800, 200)


@pytest.mark.parametrize("size, side", [((401, 99), 100), ((97, 333), 512), ((3, 1000), 64), ((512, 340), 256)])
def test_fit_size_is_the_size_fit_long_side_gives(size, side):
    """One formula for the engine's resizing and for stylize's report of the painting's sizes."""
    from generator.cli.stylize import fit_long_side_size

    expected = fit_long_side(Image.new("RGB", size), side, allow_upscale=True).size
    assert fit_size(size, side) == expected == fit_long_side_size(size, side)


@pytest.mark.parametrize("fmt", ["jpg", "png", "webp"])
def test_encode_is_deterministic(fmt):
    img = Image.fromarray(np.random.default_rng(1).integers(0, 256, (16, 16, 3), dtype=np.uint8))
    assert encode_image(img, fmt) == encode_image(img.copy(), fmt)


def test_atomic_write_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "file.bin"
    atomic_write_bytes(target, b"abc")
    atomic_write_bytes(target, b"defg")
    assert target.read_bytes() == b"defg"
    assert [p.name for p in target.parent.iterdir()] == ["file.bin"]


def test_atomic_write_failing_keeps_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "file.bin"
    atomic_write_bytes(target, b"abc")

    with pytest.raises(TypeError):
        atomic_write_bytes(target, "not bytes")
    assert target.read_bytes() == b"abc"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]


def test_one_atomic_write_in_the_package():
    """Every atomic write goes through common/files.py: no other module writes a temporary and renames it."""
    package = ROOT / "generator"
    writers = sorted(str(p.relative_to(package)) for p in package.rglob("*.py") if "mkstemp" in p.read_text())
    assert writers == ["common/files.py"]
