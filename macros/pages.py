"""What the pages may ask of the build's manifest (``docs/generated/manifest.json``).

Plain functions over the manifest dict, registered as Jinja globals by ``macros.define_env``.
A page asking for a figure, number or catalogue entry that is not there gets ``ManifestError``,
which fails the build with the page and line.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import markdown
from markupsafe import Markup, escape

from .spanish import NNBSP, NotANumber, format_es, literal

MANIFEST_REL = "generated/manifest.json"
KATEX_REL = "vendor/katex/katex.min.js"
# How the pages name the build profiles (generator/figures/profiles.py) to readers.
PROFILE_NAMES = {"tiny": "mínimo", "preview": "de vista previa", "full": "completo"}
# The same, in a reader's sentence: the site's versions and what each computes.
VERSION_NAMES = {"tiny": "mínima", "preview": "de vista previa", "full": "completa"}
VERSION_GLOSSES = {"tiny": "imágenes diminutas y muy pocas evaluaciones, solo para comprobar que todo funciona",
                   "preview": "imágenes medianas y optimizaciones cortas",
                   "full": "imágenes grandes y optimizaciones largas"}


# The figures that run without the copy guard (they compare losses), as a page names them.
UNGUARDED_WORDS = {"work/grid": "la rejilla de capas y cocientes α/β",
                   "work/init": "la figura del punto de partida",
                   "work/optim": "la figura de L-BFGS frente a Adam", "work/animation": "la animación de la optimización",
                   "limits/scales": "la figura del tamaño de la pintura (y de las zonas lisas)",
                   "texture/tv": "la figura de la variación total"}
# Cómo se hizo's table of figure times: each kind of figure (a figure name up to its first "/") in
# a reader's words; a new kind must be named here (figure_kinds fails without it).
KIND_WORDS = {"gallery": "Galería", "work": "El método, paso a paso", "representations": "Representaciones",
              "fast": "Redes rápidas", "texture": "Textura", "limits": "Límites", "style": "Estilo",
              "content": "Contenido", "live": "La página en vivo", "vgg": "La red VGG19",
              "painting": "Los cuadros del catálogo", "photo": "Las fotos del catálogo"}


# A coarse-to-fine stage's size, as a fraction of the result's, in a reader's words.
SCALE_WORDS = {1.0: "a tamaño completo", 0.5: "a la mitad del tamaño", 0.25: "a un cuarto del tamaño",
               0.125: "a un octavo del tamaño"}
# Where a transfer's canvas starts (TransferSettings.init).
INIT_WORDS = {"content": "partiendo de la foto", "recoloured": "partiendo de la foto recoloreada (con los colores del cuadro)",
              "noise": "partiendo de ruido", "style": "partiendo de la pintura"}


class ManifestError(Exception):
    """A page asked for something the manifest does not have."""


class SiteInputError(Exception):
    """docs/ lacks what the site is built from (the manifest, KaTeX)."""


def load_manifest(docs: Path) -> dict:
    """The manifest of ``docs/generated/``, checked for the keys the pages read."""
    path = docs / MANIFEST_REL
    if not path.is_file():
        raise SiteInputError("docs/generated/manifest.json not found: run `make site` "
                             "(or `python -m generator build`) before building the site.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise SiteInputError(f"docs/{MANIFEST_REL} is unreadable ({e}): run `make site` again.") from None
    for key in ("catalog", "figures", "hero"):
        if not isinstance(manifest, dict) or key not in manifest:
            raise SiteInputError(f"docs/{MANIFEST_REL} has no {key!r}: it is not a manifest this site understands.")
    return manifest


def check_katex(docs: Path) -> None:
    """Formulas must never silently stay raw LaTeX: KaTeX has to be in docs/vendor/katex/."""
    if not (docs / KATEX_REL).is_file():
        raise SiteInputError("docs/vendor/katex/ not found: run `make site` "
                             "(npm ci, then copy node_modules/katex/dist into docs/vendor/katex/).")


class Pages:
    """The manifest seen from the pages; each public method is a Jinja global of the same name."""

    def __init__(self, manifest: dict):
        self.manifest = manifest

    # ------------------------------------------------------------------ figures and numbers

    def figures(self) -> dict:
        return self.manifest.get("figures", {})

    def fig(self, name: str) -> dict:
        if name not in self.figures():
            raise ManifestError(f"figure {name!r} is not in the manifest (its build failed or it does not exist)")
        return self.figures()[name]

    def has_fig(self, name: str) -> bool:
        return name in self.figures()

    def lookup(self, path: str) -> Any:
        """``"figure/name:key"`` (the figure's numbers, then the entry itself, e.g. ``seconds``)
        or a dotted path from the manifest root (``"profile"``, ``"figures.x.numbers.y"``)."""
        if ":" in path:
            name, key = path.split(":", 1)
            entry = self.fig(name)
            numbers = entry.get("numbers", {})
            if key in numbers:
                return numbers[key]
            if key in entry:
                return entry[key]
            raise ManifestError(f"figure {name!r} has no number {key!r} (has: {', '.join(numbers) or 'none'})")
        node: Any = self.manifest
        walked = []
        for part in path.split("."):
            walked.append(part)
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise ManifestError(f"manifest has no {'.'.join(walked)!r} (while looking up {path!r})")
        return node

    def num(self, path: str, spec: str = ".3g", tex: bool = False) -> Markup:
        """A number from the manifest, formatted the Spanish way (TeX inside ``$ $`` with tex=True)."""
        try:
            return Markup(format_es(self.lookup(path), spec, "tex" if tex else "html"))
        except NotANumber as e:
            raise ManifestError(f"{path!r}: {e}") from None

    def text(self, path: str) -> Markup:
        value = self.lookup(path)
        if isinstance(value, (dict, list)):
            raise ManifestError(f"{path!r} is not a single value")
        return literal(value)

    def layers(self, name: str, kind: str = "style") -> list[dict]:
        """The layers figure `name`'s objective uses (its manifest entry's `objective`), as
        [{"paper": "conv4_1", "read": "relu4_1", "weight": 0.2}] ("weight" for style layers only):
        the paper's name and the network layer the site reads (post-ReLU taps: relu4_1)."""
        objective = self.fig(name).get("objective") or {}
        if f"{kind}_reads" not in objective:
            raise ManifestError(f"figure {name!r} records no objective with {kind} layers")
        rows = [{"paper": p, "read": r} for p, r in zip(objective[f"{kind}_layers"], objective[f"{kind}_reads"])]
        for row, w in zip(rows, objective.get(f"{kind}_weights", [])):
            row["weight"] = w
        return rows

    # ------------------------------------------------------------------ catalogue

    def catalog(self, kind: str) -> list[dict]:
        return self.manifest["catalog"][kind]

    def item(self, kind: str, name: str) -> dict:
        for entry in self.catalog(kind):
            if entry["name"] == name:
                return entry
        raise ManifestError(f"catalogue has no {kind} entry {name!r}")

    def hero_pair(self) -> tuple[str, str]:
        """(photo, painting) names of the Inicio figure."""
        return self.manifest["hero"]["content"], self.manifest["hero"]["style"]

    def photo(self, cname: str) -> dict | None:
        """The content photo at working size: its own ``photo/<name>`` figure, else the copy stored
        with any gallery result (``files.photo``, same pixel size as the result); None if neither."""
        if self.has_fig(f"photo/{cname}"):
            e = self.fig(f"photo/{cname}")
            n = e.get("numbers", {})
            return {"src": e["files"]["image"], "width": n.get("width"), "height": n.get("height")}
        for s in self.catalog("style"):
            e = self.figures().get(f"gallery/{cname}/{s['name']}")
            if e and "photo" in e.get("files", {}):
                n = e.get("numbers", {})
                return {"src": e["files"]["photo"], "width": n.get("width"), "height": n.get("height")}
        return None

    def result_size(self, cname: str) -> dict | None:
        """Width and height of the first gallery result of a photo (they all share its size)."""
        for name, entry in self.figures().items():
            if name.startswith(f"gallery/{cname}/"):
                n = entry.get("numbers", {})
                if n.get("width") and n.get("height"):
                    return {"width": n["width"], "height": n["height"]}
                return None
        return None

    # ------------------------------------------------------------------ how the figures were made

    def made_with(self, *prefixes: str) -> dict | None:
        """How the figures whose names start with one of ``prefixes`` (all figures without
        prefixes) were made, in readers' Spanish: ``{"profiles": "la versión de vista previa del sitio
        (imágenes medianas…)", "devices": "la CPU"}``, or "las versiones completa (2 figuras) y de
        vista previa (4 figuras) del sitio"
        when they differ (a cached full-profile figure may serve a preview build, so a page states
        the profile of what it shows, not the build's). None when no such figure was built."""
        chosen = [e for n, e in self.figures().items() if not prefixes or n.startswith(prefixes)]
        if not chosen:
            return None
        profiles = _counts(e.get("profile", "?") for e in chosen)
        devices = _counts(e.get("device", "?") for e in chosen)
        names = [VERSION_NAMES.get(p, p) for p in profiles]
        if len(profiles) == 1:
            only = next(iter(profiles))
            gloss = f" ({VERSION_GLOSSES[only]})" if only in VERSION_GLOSSES else ""
            profile_text = f"la versión {names[0]} del sitio{gloss}"
        else:
            parts = [f"{name} ({n} figura{'s' if n > 1 else ''})" for name, n in zip(names, profiles.values())]
            profile_text = "las versiones " + _and(parts) + " del sitio"
        return {"profiles": literal(profile_text), "devices": literal(_and([_device(d) for d in devices]))}

    def gallery_settings(self) -> list[dict]:
        """The settings of the gallery's transfers, read from the gallery figures' own numbers: one
        dict per distinct set (a cached figure of a better profile may serve a lesser build), with
        ``count`` (figures), ``content_weight``, ``style_weight``, ``init`` (words), ``copy_guard`` (the
        transfers' threshold, 0 without), ``evaluations`` (planned, all stages), ``probe_evaluations``
        (the copy guard's probe before them, 0 without) and ``schedule`` ("90 a la mitad del tamaño y 30
        a tamaño completo")."""
        groups: dict = {}
        for name, entry in self.figures().items():
            n = entry.get("numbers", {})
            if not name.startswith("gallery/") or "stages" not in n:
                continue
            stages = [(n[f"stage_{i}_scale"], n[f"stage_{i}_evaluations"]) for i in range(n["stages"])]
            guard = max((t.get("copy_guard") or 0 for t in entry.get("transfers") or []), default=0)
            key = (n["content_weight"], n["style_weight"], n["init"], tuple(stages), guard,
                   n.get("probe_evaluations", 0))
            groups.setdefault(key, []).append(name)
        out = []
        for (alpha, beta, init, stages, guard, probe), names in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            out.append({"count": len(names), "content_weight": alpha, "style_weight": beta,
                        "init": literal(INIT_WORDS.get(init, init)), "copy_guard": guard, "probe_evaluations": probe,
                        "evaluations": sum(e for _, e in stages), "schedule": schedule(stages)})
        return out

    def gallery_runs(self) -> dict:
        """What the gallery's transfers record: ``coarse`` (one painted a smaller canvas first) and
        ``bfloat16`` (one ran the network in bfloat16)."""
        runs = [t for name, entry in self.figures().items() if name.startswith("gallery/")
                for t in entry.get("transfers") or []]
        return {"coarse": any(len(t["stages"]) > 1 for t in runs),
                "bfloat16": any(t.get("precision") == "bfloat16" for t in runs)}

    def budget(self, profile: str) -> dict:
        """What a gallery transfer uses at ``profile`` (``manifest.profile_budgets``): ``long_side``,
        ``steps`` and ``schedule`` in words."""
        budgets = self.manifest.get("profile_budgets") or {}
        if profile not in budgets:
            raise ManifestError(f"manifest has no profile_budgets.{profile} (rebuild the figures)")
        b = budgets[profile]
        return {"long_side": b["long_side"], "steps": b["steps"],
                "schedule": schedule(list(zip(b["scales"], b["stage_steps"])))}

    def device(self, name: str) -> Markup:
        """Where a figure was computed, in a reader's sentence: "la CPU", "una GPU"."""
        return literal(_device(self.fig(name).get("device", "?")))

    def figure_kinds(self) -> list[dict]:
        """Cómo se hizo: per kind of figure (the name up to its first "/"), the count, total
        seconds and slowest figure, slowest kind first."""
        figs = self.figures()
        if not figs:
            raise ManifestError("the manifest has no figures")
        kinds: dict[str, list[tuple[str, dict]]] = {}
        for name, entry in figs.items():
            kinds.setdefault(name.split("/", 1)[0], []).append((name, entry))
        rows = []
        for kind, members in kinds.items():
            slowest, entry = max(members, key=lambda m: m[1]["seconds"])
            if kind not in KIND_WORDS:
                raise ManifestError(f"figure kind {kind!r} has no reader's name (macros/pages.py KIND_WORDS)")
            rows.append({"kind": kind, "words": KIND_WORDS[kind], "count": len(members),
                         "seconds": sum(e["seconds"] for _, e in members),
                         "slowest": slowest, "slowest_seconds": entry["seconds"]})
        return sorted(rows, key=lambda r: -r["seconds"])

    def transfer(self, name: str, index: int = 0) -> dict:
        """Transfer `index` of figure `name` as its manifest entry records it (FigureEntry.transfers),
        with its words: "start" ("partiendo de la foto"), "stages_text" ("60 a 144 × 71 y 20 a
        288 × 142 píxeles"; "a 288 × 142 píxeles" for one stage, whose count the sentence has
        already given), "painting" (the painting's long side at the final stage, None without a
        style term) and the raw record."""
        runs = self.fig(name).get("transfers") or []
        if not -len(runs) <= index < len(runs):
            raise ManifestError(f"figure {name!r} records no transfer {index} ({len(runs)} recorded)")
        run = runs[index]
        sizes = [f"a {format_es(s['width'], 'd')}{NNBSP}×{NNBSP}{format_es(s['height'], 'd')}" for s in run["stages"]]
        stages = sizes if len(sizes) == 1 else [f"{format_es(s['evaluations'], ',d')} {size}"
                                                for s, size in zip(run["stages"], sizes)]
        return {**run, "start": literal(INIT_WORDS.get(run["init"], run["init"])),
                "stages_text": Markup(_and(stages) + " píxeles"),
                "painting": run["stages"][-1]["painting_long_side"]}

    def probe_note(self, name: str) -> Markup:
        """After a gallery figure's evaluations and seconds: the copy guard's probe, whose evaluations
        that count leaves out and whose time those seconds include (" (más 11 de un ensayo previo…)");
        "" where none ran."""
        n = self.fig(name).get("numbers", {}).get("probe_evaluations") or 0
        if not n:
            return Markup("")
        return Markup(f" (más {format_es(n, 'd')} de un ensayo previo con el lienzo reducido, parte de la "
                      f"vigilancia de los objetos copiados)")

    def guard_note(self, *prefixes: str) -> Markup:
        """A sentence for a page whose figures named with `prefixes` compare losses: which of them ran
        every transfer without the copy guard (figures.profiles.compared_transfer), said when the
        build's transfers watch for copied objects (the method's copy_guard); else ""."""
        if not (self.manifest.get("method", {}).get("settings", {}).get("copy_guard") or 0):
            return Markup("")
        unguarded = [n for n, e in self.figures().items() if n.startswith(prefixes) and e.get("transfers")
                     and not any(t.get("copy_guard") for t in e["transfers"])]
        if not unguarded:
            return Markup("")
        missing = [n for n in unguarded if n not in UNGUARDED_WORDS]
        if missing:
            raise ManifestError(f"figure {missing[0]!r} runs without the copy guard and has no reader's name "
                                f"(macros/pages.py UNGUARDED_WORDS)")
        named = _and([UNGUARDED_WORDS[n] for n in sorted(unguarded, key=list(UNGUARDED_WORDS).index)])
        verb = "vigilan" if len(unguarded) > 1 or named.startswith("las ") else "vigila"
        return Markup(f"{named[0].upper()}{named[1:]} no {verb} los <a href=\"glosario.html\">objetos copiados</a> "
                      f"de la pintura, a diferencia de la galería: esa vigilancia cambia a media optimización la matriz "
                      f"de Gram objetivo de <code>relu5_1</code>, y entonces lo que miden no se podría comparar de una "
                      f"evaluación a otra ni entre transferencias.")

    def globals(self) -> dict:
        return {name: getattr(self, name) for name in (
            "figures", "fig", "has_fig", "num", "text", "catalog", "item", "hero_pair", "photo",
            "result_size", "made_with", "device", "gallery_settings", "gallery_runs", "budget", "figure_kinds",
            "layers", "transfer", "guard_note", "probe_note")}


def schedule(stages) -> Markup:
    """[(scale, evaluations), …] in words: "todas a tamaño completo" for one stage, else
    "90 a la mitad del tamaño y 30 a tamaño completo"."""
    if len(stages) == 1:
        return Markup("todas " + SCALE_WORDS[1.0]) if float(stages[0][0]) == 1.0 else Markup(
            f"todas {_scale_words(stages[0][0])}")
    return Markup(_and([f"{format_es(n, ',d')} {_scale_words(s)}" for s, n in stages]))


def _scale_words(scale: float) -> str:
    return SCALE_WORDS.get(float(scale)) or f"a {format_es(float(scale), '.3g')} del tamaño"


def _device(device: str) -> str:
    if device == "cpu":
        return "la CPU"
    if device.startswith("cuda"):
        return "una GPU"
    return device


def _counts(values) -> dict:
    counts: dict = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " y " + parts[-1]


# ---------------------------------------------------------------------- filters


def es(value: Any, spec: str = ".3g") -> Markup:
    """``<< x | es(",.0f") >>``: a number the Spanish way."""
    return Markup(format_es(value, spec))


def count(value: int, one: str, many: str) -> Markup:
    """``<< n | count("hilo", "hilos") >>``: the number the Spanish way and the noun it agrees
    with ("1 hilo", "2 hilos")."""
    return Markup(f"{format_es(value, 'd')} {escape(one if value == 1 else many)}")


def device_label(device: str) -> Markup:
    """A device in a table cell: "CPU", "GPU" (torch's "cpu", "cuda:0")."""
    return literal("CPU" if device == "cpu" else "GPU" if device.startswith("cuda") else device)


def profile_name(profile: str) -> Markup:
    return literal(PROFILE_NAMES.get(profile, profile))


def pixels(entry: dict) -> Markup:
    """"1024 × 640" for a catalogue entry with width and height, else "—"."""
    if entry.get("width") and entry.get("height"):
        return Markup(f"{format_es(entry['width'], 'd')}{NNBSP}×{NNBSP}{format_es(entry['height'], 'd')}")
    return Markup("—")


def inline_md(src: str) -> Markup:
    """A catalogue note (Markdown) as inline HTML, any raw HTML in it escaped."""
    html = markdown.markdown(str(escape(src)))
    return Markup(re.sub(r"^<p>(.*)</p>$", r"\1", html.strip(), flags=re.S))


def oneline(html: str) -> Markup:
    """``<% filter oneline %>``: an include lays HTML out readably over several lines and still
    emits it as one Markdown raw-HTML line: a line break between two tags vanishes, any other
    (between attributes or words) becomes one space."""
    text = re.sub(r">[ \t]*\n\s*<", "><", str(html).strip())
    return Markup(re.sub(r"[ \t]*\n\s*", " ", text))
