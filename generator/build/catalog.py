"""The image catalogue (`site_src/catalog.toml`): load, validate, append."""
from __future__ import annotations

import json
import re
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

from ..common.errors import InputError
from ..common.files import atomic_write_bytes

CATALOG_FILE = "catalog.toml"
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
FIELDS = {
    # A photo's `artist` is its photographer ("No consta" when its source does not say).
    "content": {"required": ("name", "file", "title"), "optional": ("artist", "source", "license", "note")},
    "style": {"required": ("name", "file", "title", "artist", "year"),
              "optional": ("source", "license", "note", "public_domain")},
}
# A painting whose licence says it is in the public domain must say where and on what basis
# (the term differs: life + 70 years in the EU, life + 100 in Mexico, 95 years from publication in the US).
PUBLIC_DOMAIN_WORDS = ("dominio público", "dominio publico", "public domain")


@dataclass(frozen=True)
class Entry:
    section: str           # "content" (a photo) or "style" (a painting)
    name: str
    file: str              # relative to site_src/
    title: str
    artist: str = ""
    year: str = ""
    source: str = ""
    license: str = ""
    note: str = ""
    public_domain: str = ""  # where the work is in the public domain and on what basis (Spanish)

    def path(self, site_src: Path) -> Path:
        return site_src / self.file

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v != "" and k != "section"}


@dataclass(frozen=True)
class Catalog:
    content: tuple[Entry, ...]
    style: tuple[Entry, ...]

    def find(self, section: str, name: str) -> Entry:
        for entry in getattr(self, section):
            if entry.name == name:
                return entry
        raise KeyError(f"no {section} named {name!r}")


def load_catalog(site_src: Path) -> Catalog:
    """Read and validate the catalogue; any fault is an InputError naming the file and entry."""
    path = site_src / CATALOG_FILE
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InputError(path, "catalogue not found") from None
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not valid UTF-8 (byte {exc.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, f"invalid TOML: {exc}") from None
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise InputError(path, f"unknown section(s): {', '.join(sorted(unknown))} (expected [[content]] and [[style]])")
    sections = {}
    seen: set[str] = set()
    for section in FIELDS:
        items = data.get(section, [])
        if not isinstance(items, list):
            raise InputError(path, f"'{section}' must be an array of tables ([[{section}]])")
        entries = []
        for i, raw in enumerate(items, start=1):
            entry = validate_entry(section, raw, path, f"{section} #{i}", site_src)
            if entry.name in seen:
                raise InputError(path, f"duplicate name {entry.name!r} ({section} #{i})")
            seen.add(entry.name)
            entries.append(entry)
        sections[section] = tuple(entries)
    return Catalog(**sections)


def validate_entry(section: str, raw, path: Path, where: str, site_src: Path) -> Entry:
    if not isinstance(raw, dict):
        raise InputError(path, f"{where}: must be a table")
    spec = FIELDS[section]
    label = f"{where} ({raw.get('name')!r})" if isinstance(raw.get("name"), str) else where
    for key in spec["required"]:
        if key not in raw:
            raise InputError(path, f"{label}: missing field '{key}'")
    for key, value in raw.items():
        if key not in spec["required"] + spec["optional"]:
            raise InputError(path, f"{label}: unknown field '{key}'")
        if not isinstance(value, str):
            raise InputError(path, f"{label}: field '{key}' must be text, not {type(value).__name__}")
        if key in spec["required"] and not value.strip():
            raise InputError(path, f"{label}: field '{key}' is empty")
    fault = public_domain_fault(raw.get("license", ""), raw.get("public_domain"))
    if fault:
        raise InputError(path, f"{label}: {fault}")
    if not NAME_PATTERN.match(raw["name"]):
        raise InputError(path, f"{label}: name must be lower-case letters, digits, '-' or '_'")
    check_inside(site_src, raw["file"], path, label)
    return Entry(section=section, **raw)


def public_domain_fault(license: str, public_domain: str | None) -> str | None:
    """What is wrong with a painting's public-domain statement, or None."""
    if public_domain is not None and not public_domain.strip():
        return "field 'public_domain' is empty"
    if public_domain is None and any(w in license.lower() for w in PUBLIC_DOMAIN_WORDS):
        return ("licence says public domain but field 'public_domain' is missing "
                "(say where and on what basis, e.g. the author's death year and each country's term)")
    return None


def check_inside(site_src: Path, relative: str, path: Path, label: str) -> Path:
    """The file must resolve (symlinks followed) to a place inside site_src/."""
    candidate = Path(relative)
    if candidate.is_absolute() or ".." in candidate.parts:
        raise InputError(path, f"{label}: file {relative!r} is outside site_src/")
    resolved = (site_src / candidate).resolve()
    if not resolved.is_relative_to(site_src.resolve()):
        raise InputError(path, f"{label}: file {relative!r} points outside site_src/")
    return resolved


def toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML escapes)."""
    return json.dumps(value, ensure_ascii=False)


def append_entry(site_src: Path, entry: Entry) -> None:
    """Append one [[section]] table to the catalogue, atomically."""
    path = site_src / CATALOG_FILE
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    lines = [f"\n[[{entry.section}]]"] + [f"{k} = {toml_string(v)}" for k, v in entry.to_dict().items()]
    atomic_write_bytes(path, (text.rstrip("\n") + "\n" + "\n".join(lines) + "\n").encode("utf-8"))
