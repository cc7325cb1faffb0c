"""Fuzzing where input enters: whatever the catalogue or an image file holds, the reader either
returns sound data or raises InputError (one line naming the file); never anything else."""
from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from generator.build.catalog import FIELDS, NAME_PATTERN, load_catalog
from generator.common.errors import InputError
from generator.engine.images import read_image

# FUZZ_EXAMPLES=5000 for a longer hunt than the suite's few seconds
FUZZ = settings(deadline=None, max_examples=int(os.environ.get("FUZZ_EXAMPLES", 250)), database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def check_error(exc: InputError, where: Path) -> None:
    assert str(where) in str(exc)
    assert "\n" not in str(exc)


# --- metadata ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site_src(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fuzz") / "site_src"
    for rel in ("content/casa.jpg", "styles/ola.jpg"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (8, 8), "red").save(root / rel)
    return root


KEYS = sorted({k for spec in FIELDS.values() for k in spec["required"] + spec["optional"]})
scalars = st.one_of(st.text(max_size=12), st.sampled_from(["content/casa.jpg", "styles/ola.jpg", "../x.jpg",
                                                           "/etc/passwd", "casa", "ola", ""]),
                    st.integers(), st.floats(allow_nan=False), st.booleans())
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=4)
tables = st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(min_size=1, max_size=6)), values, max_size=9)
catalogs = st.dictionaries(st.sampled_from(["content", "style", "extra"]),
                           st.one_of(st.lists(tables, max_size=3), values), max_size=3)


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if not isinstance(value, float) or value == value and abs(value) != float("inf") else "0.0"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value)  # JSON's escapes are TOML's (a lone surrogate makes invalid TOML: also input)


def to_toml(data: dict) -> str:
    lines = []
    for section, body in data.items():
        if isinstance(body, list) and all(isinstance(t, dict) for t in body):
            for table in body:
                lines.append(f"[[{section}]]")
                lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in table.items()]
        else:
            lines.insert(0, f"{json.dumps(section)} = {toml_value(body)}")
    return "\n".join(lines) + "\n"


def check_catalog(site_src: Path) -> None:
    path = site_src / "catalog.toml"
    try:
        catalog = load_catalog(site_src)
    except InputError as exc:
        check_error(exc, path)
        return
    names = [e.name for e in catalog.content + catalog.style]
    assert len(names) == len(set(names))
    for entry in catalog.content + catalog.style:
        assert NAME_PATTERN.match(entry.name)
        for key in FIELDS[entry.section]["required"]:
            assert isinstance(getattr(entry, key), str) and getattr(entry, key).strip()
        assert entry.path(site_src).resolve().is_relative_to(site_src.resolve())


@FUZZ
@given(data=catalogs)
@example(data={"style": [{"name": "ola", "file": "styles/ola.jpg", "title": "<b>x</b> *y*", "artist": "A",
                          "year": "1900"}]})
def test_catalog_structures(site_src, data):
    (site_src / "catalog.toml").write_text(to_toml(data), encoding="utf-8", errors="surrogatepass")
    check_catalog(site_src)


VALID = (b'[[content]]\nname = "casa"\nfile = "content/casa.jpg"\ntitle = "Una casa"\n\n'
         b'[[style]]\nname = "ola"\nfile = "styles/ola.jpg"\ntitle = "La ola"\nartist = "Hokusai"\n'
         b'year = "c. 1831"\n')


@FUZZ
@given(edits=st.lists(st.tuples(st.integers(0, len(VALID)), st.integers(0, 3), st.binary(max_size=4)),
                      max_size=4))
def test_catalog_bytes(site_src, edits):
    """Byte-level damage to a valid catalogue: bad UTF-8, broken TOML, cut strings, stray bytes."""
    data = bytearray(VALID)
    for at, remove, insert in edits:
        data[at:at + remove] = insert
    (site_src / "catalog.toml").write_bytes(bytes(data))
    check_catalog(site_src)


# --- image headers -------------------------------------------------------------------------------

def saved(img: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


def gradient(mode: str = "RGB") -> Image.Image:
    img = Image.new("RGB", (12, 9))
    img.putdata([(x * 20, y * 28, 90) for y in range(9) for x in range(12)])
    return img.convert(mode)


def rotated_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    return exif


SAMPLES = {
    "jpeg": saved(gradient(), "JPEG", quality=90),
    "jpeg_exif": saved(gradient(), "JPEG", exif=rotated_exif()),
    "png": saved(gradient(), "PNG"),
    "png16": saved(Image.new("I;16", (5, 4), 40000), "PNG"),
    "gif": saved(gradient("P"), "GIF"),
    "webp": saved(gradient(), "WEBP", quality=80),
    "bmp": saved(gradient(), "BMP"),
    "tiff": saved(gradient(), "TIFF"),
}


@FUZZ
@given(fmt=st.sampled_from(sorted(SAMPLES)),
       edits=st.lists(st.tuples(st.integers(0, 63), st.integers(0, 255)), min_size=1, max_size=6),
       cut=st.one_of(st.none(), st.integers(0, 400)))
def test_image_headers(tmp_path, fmt, edits, cut):
    """Bytes changed in the first 64 (the header, size fields, EXIF), and maybe the file cut short."""
    data = bytearray(SAMPLES[fmt])
    for at, value in edits:
        if at < len(data):
            data[at] = value
    if cut is not None:
        data = data[:cut]
    path = tmp_path / f"imagen.{fmt}"
    path.write_bytes(bytes(data))
    try:
        img = read_image(path)
    except InputError as exc:
        check_error(exc, path)
        return
    assert img.mode == "RGB" and img.width > 0 and img.height > 0
    img.tobytes()
