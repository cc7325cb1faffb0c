"""Add a painting to the gallery: validate the image, copy it into site_src/, append its entry."""
from __future__ import annotations

from pathlib import Path

from ..build.catalog import NAME_PATTERN, Entry, append_entry, load_catalog, public_domain_fault
from ..common.errors import InputError
from ..common.files import atomic_write_bytes
from ..engine.images import read_image

STYLE_DIR = "styles"


def add_style(image: Path, *, title: str, artist: str, year: str, source: str = "", license: str = "",
              name: str, public_domain: str | None = None, site_src: Path | None = None) -> Entry:
    from ..common.paths import Paths

    site_src = site_src or Paths().site_src
    image = Path(image)
    read_image(image)  # refuses anything that is not a readable, sane image
    catalog = load_catalog(site_src)
    for field, value in (("--title", title), ("--artist", artist), ("--year", year)):
        if not value.strip():
            raise InputError(field, "must not be empty")
    fault = public_domain_fault(license, public_domain)
    if fault:
        raise InputError("--public-domain", fault.replace("field 'public_domain'", "--public-domain"))
    if not NAME_PATTERN.match(name):
        raise InputError("--name", f"{name!r}: use lower-case letters, digits, '-' or '_'")
    if any(e.name == name for e in catalog.content + catalog.style):
        raise InputError(site_src / "catalog.toml", f"an entry named {name!r} already exists (choose --name)")
    relative = f"{STYLE_DIR}/{name}{image.suffix.lower()}"
    target = site_src / relative
    if target.exists():
        raise InputError(target, "already exists; choose another --name")
    entry = Entry(section="style", name=name, file=relative, title=title, artist=artist, year=year,
                  source=source, license=license, public_domain=public_domain or "")
    atomic_write_bytes(target, image.read_bytes())
    try:
        append_entry(site_src, entry)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return entry
