"""Every sentence that says what a figure shows follows a number the build measured, and every
sentence about the method follows the settings the build used (the manifest's `method`): each
page is rendered over the tiny build's manifest with one number or setting flipped at a time, and
the text must change with it."""
from __future__ import annotations

import copy
import re
from dataclasses import replace

import pytest

from generator.build.method import differences, method_entry
from generator.engine.settings import TransferSettings
from generator.engine.vgg import tap
from generator.figures.plotting import es_number
from generator.figures.profiles import PROFILES
from macros.method import PHRASES, paper_differences, plain_differences

from helpers import ROOT
from pagesenv import page_env

PAGES = sorted(p.name for p in (ROOT / "docs").glob("*.md"))


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


# The style layers as the engine reads them (relu1_1 ... with post-ReLU taps): the figure's
# style_share_<layer> keys follow the default settings.
STYLE_LAYER_SEEN = [tap(layer, TransferSettings().taps) for layer in TransferSettings().style_layers]


def _shares(manifest: dict, values) -> None:
    for layer, value in zip(STYLE_LAYER_SEEN, values):
        _set(manifest, f"style/reconstruction:style_share_{layer}", value)


def _set(manifest: dict, path: str, value) -> None:
    """`path` is "figure/name:number" or a dotted path from the manifest root."""
    if path.startswith(BL + ":mix"):  # the ends of the blend far apart: the mix's own colour decides
        manifest["figures"][BL]["numbers"]["ends_colour_distance"] = 60.0
    if ":" in path:
        name, key = path.split(":", 1)
        manifest["figures"][name]["numbers"][key] = value
        return
    *parents, last = path.split(".")
    node = manifest
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    node[int(last) if isinstance(node, list) else last] = value


@pytest.fixture(scope="module")
def base(tiny_site) -> dict:
    return tiny_site.manifest


def render_page(tmp_path, manifest: dict, page: str) -> str:
    render = page_env(tmp_path, manifest)
    return _flat(render((ROOT / "docs" / page).read_text(encoding="utf-8")))


def test_every_page_renders_over_the_tiny_manifest(tmp_path, base):
    for i, page in enumerate(PAGES):
        assert render_page(tmp_path / str(i), base, page).strip(), page


GR, IN, CO, BL, AN, R = "work/grid", "work/init", "work/colour", "work/blend", "work/animation", "representations"
G, CL = "style/gram", "content/loss"


def _stages(m, jump):
    """The style reconstruction in two stages, the loss jumping `jump` times at the switch."""
    n = m["figures"]["style/reconstruction"]["numbers"]
    n.update(stages=2, stage_jump=jump, final_stage_initial_style_loss=1.0, final_stage_reduction=10.0)


def _pre_relu(m, name):
    """Figure `name` recorded as reading pre-ReLU responses: the objective's reads are the paper's
    names, and so are the keys of its per-layer numbers."""
    objective = m["figures"][name]["objective"]
    renamed = {}
    for kind in ("content", "style"):
        if f"{kind}_layers" not in objective:   # a figure whose runs differ in these layers (work/grid)
            continue
        for paper, read in zip(objective[f"{kind}_layers"], objective[f"{kind}_reads"]):
            renamed[read] = paper
        objective[f"{kind}_reads"] = list(objective[f"{kind}_layers"])
    objective["taps"] = "pre_relu"
    numbers = m["figures"][name]["numbers"]
    for key in list(numbers):
        for read, paper in renamed.items():
            if key.endswith("_" + read) or key.startswith(read + "_"):
                numbers[key.replace(read, paper)] = numbers.pop(key)
                break


def _grid_kept(m, fraction):
    n = m["figures"][GR]["numbers"]
    n[f"content_loss_{n['columns'] - 1}"] = fraction * n["noise_start_content_loss"]


def _init_kept(m, start, fraction):
    n = m["figures"][IN]["numbers"]
    n[f"{start}_content_loss"] = fraction * n["noise_start_content_loss"]


def _style_ends(m, first, last):
    """The grid's last row: style loss `first` in the first column, `last` in the last."""
    n = m["figures"][GR]["numbers"]
    n.update({"style_loss_0": first, f"style_loss_{n['columns'] - 1}": last})


def _psnr(m, values):
    """The content reconstructions' PSNR, conv1_2 ... conv5_2."""
    for layer, value in zip(("conv1_2", "conv2_2", "conv3_2", "conv4_2", "conv5_2"), values):
        m["figures"][R]["numbers"][f"psnr_{layer}"] = value


def _two_stages(m, name, index):
    """Figure `name`'s transfer `index` recorded in two stages: 4 evaluations at half size, then 4."""
    run = m["figures"][name]["transfers"][index]
    last = run["stages"][-1]
    run["stages"] = [dict(last, evaluations=4, width=last["width"] // 2, height=last["height"] // 2),
                     dict(last, evaluations=4)]


def _probed(m, evaluations):
    """Every gallery transfer after a copy-guard probe of `evaluations` (0: none ran)."""
    for name in [n for n in m["figures"] if n.startswith("gallery/")]:
        m["figures"][name]["numbers"]["probe_evaluations"] = evaluations


LI, TV = "limits/scales", "texture/tv"


def _tv(m, with_tv, without_tv, photo_tv, with_content):
    """The TV figure's measures; `with_content` as a share of the seeded noise's content loss."""
    n = m["figures"][TV]["numbers"]
    n.update(with_tv=with_tv, without_tv=without_tv, photo_tv=photo_tv, tv_ratio=with_tv / without_tv,
             tv_to_photo=with_tv / photo_tv, with_content_loss=with_content * n["noise_start_content_loss"])


def _content_peak(m, rises_then_falls: bool):
    """The animation's content-loss curve: a peak at evaluation 2 then lower, or rising to the end."""
    n = m["figures"][AN]["numbers"]
    for key in [k for k in n if k.startswith("curve_content_")]:
        del n[key]
    values = [0.0, 10.0, 6.0] if rises_then_falls else [0.0, 5.0, 10.0]
    for i, v in enumerate(values, start=1):
        n[f"curve_content_{i}"] = v
    n["final_content_loss"] = values[-1]


def _anim_kept(m, fraction):
    n = m["figures"][AN]["numbers"]
    n["final_content_loss"] = fraction * n["noise_start_content_loss"]


FAST = "fast/arbitrary/"


def _fast(m, speedup=100.0, content=2.0, style=3.0, layers=None, device=None, mixed=False):
    """Every pair's network result `speedup` times faster than Gatys' and `content` and `style` times
    its losses (`mixed`: the first pair's ratios inverted); `layers` sets the network's per-layer
    terms as multiples of Gatys'."""
    for i, name in enumerate(sorted(n for n in m["figures"] if n.startswith(FAST))):
        n, gallery = m["figures"][name]["numbers"], m["figures"]["gallery/" + name.removeprefix(FAST)]
        flip = mixed and i == 0
        n["network_seconds"] = gallery["numbers"]["transfer_seconds"] / speedup
        n["network_content"] = n["gatys_content"] * (1 / content if flip else content)
        n["network_style"] = n["gatys_style"] * (1 / style if flip else style)
        for k, ratio in (layers or {}).items():
            n[f"network_style_{k}"] = n[f"gatys_style_{k}"] * ratio
        if device:
            gallery["device"] = device


def _no_fast(m):
    for name in [n for n in m["figures"] if n.startswith("fast/")]:
        del m["figures"][name]


def _net_style(m, total, term):
    """Every pair's network style score `total` and each of its per-layer terms `term` (its loss
    over the photo's own at that layer: the untouched photo scores 1 per layer)."""
    for name in [n for n in m["figures"] if n.startswith(FAST)]:
        n = m["figures"][name]["numbers"]
        n["network_style"] = total
        for k in [k for k in n if k.startswith("network_style_relu")]:
            n[k] = term


def _run_like_yardstick(m, unequal=False):
    """The optimisation's painting read at the yardstick's side (or its style weights unequal)."""
    for name in [n for n in m["figures"] if n.startswith(FAST)]:
        gallery = m["figures"]["gallery/" + name.removeprefix(FAST)]
        gallery["transfers"][-1]["stages"][-1]["painting_long_side"] = m["figures"][name]["numbers"]["score_side"]
        if unequal:
            weights = gallery["objective"]["style_weights"]
            gallery["objective"]["style_weights"] = [0.5] + [0.5 / (len(weights) - 1)] * (len(weights) - 1)


FINE = {"relu1_1": 9.0, "relu2_1": 5.0, "relu3_1": 4.0, "relu4_1": 3.0, "relu5_1": 2.0}
COARSE = {"relu1_1": 2.0, "relu2_1": 3.0, "relu3_1": 4.0, "relu4_1": 5.0, "relu5_1": 9.0}


# (page, change to the manifest, a text that must appear, a text that must not)
CASES = [
    ("obra.md", lambda m: (_set(m, GR + ":first_row_colour_to_painting", 5.0), _set(m, GR + ":row_layers_0", 1),
                           _set(m, GR + ":first_row_colour_to_photo", 60.0)),
     "Con `conv1_1` sola, lo que pasa del cuadro es sobre todo su color", "sigue más cerca del de la foto"),
    ("obra.md", lambda m: (_set(m, GR + ":first_row_colour_to_painting", 60.0), _set(m, GR + ":row_layers_0", 1),
                           _set(m, GR + ":first_row_colour_to_photo", 5.0)),
     "sigue más cerca del color de la foto", "lo que pasa del cuadro es sobre todo su color"),
    ("obra.md", lambda m: (_set(m, GR + ":first_row_colour_to_painting", 5.0), _set(m, GR + ":row_layers_0", 4),
                           _set(m, GR + ":first_row_colour_to_photo", 60.0)),
     "Con las capas hasta `conv4_1`, el color medio de la primera celda queda a 5 niveles",
     "sobre todo su color"),
    ("obra.md", lambda m: (_set(m, GR + ":first_row_colour_to_painting", 60.0), _set(m, GR + ":row_layers_0", 4),
                           _set(m, GR + ":first_row_colour_to_photo", 5.0)),
     "Con las capas hasta `conv4_1`, en cambio, el color medio de la primera celda sigue más cerca",
     "No es que esa capa"),
    ("obra.md", lambda m: _grid_kept(m, 0.2), "la fachada vuelve a distinguirse", "ni así llega a distinguirse"),
    ("obra.md", lambda m: _grid_kept(m, 0.9), "ni así llega a distinguirse", "la fachada vuelve a distinguirse"),
    ("obra.md", lambda m: (_init_kept(m, "content", 0.50), _init_kept(m, "noise", 0.52)),
     "Las que parten de la foto y de ruido están cerca", "Partir de la foto conserva"),
    ("obra.md", lambda m: (_init_kept(m, "content", 0.48), _init_kept(m, "noise", 0.54)),
     "Partir de la foto conserva algo más de la escena", "están cerca"),
    ("obra.md", lambda m: (_init_kept(m, "content", 0.2), _init_kept(m, "noise", 0.9)),
     "Partir de la foto conserva más de la escena", "están cerca"),
    ("obra.md", lambda m: (_init_kept(m, "content", 0.9), _init_kept(m, "noise", 0.2)),
     "partir de ruido terminó más cerca de la foto", "están cerca"),
    ("variantes.md", lambda m: _set(m, BL + ":ends_colour_distance", 1.0), "en color los tres apenas se distinguen",
     "se parece mucho más"),
    ("variantes.md", lambda m: (_set(m, BL + ":mix_colour_to_first", 5.0), _set(m, BL + ":mix_colour_to_second", 50.0)),
     "se parece mucho más al de la primera pintura", "color queda entre los dos"),
    ("variantes.md", lambda m: (_set(m, BL + ":mix_colour_to_first", 50.0), _set(m, BL + ":mix_colour_to_second", 5.0)),
     "se parece mucho más al de la segunda pintura", "color queda entre los dos"),
    ("variantes.md", lambda m: (_set(m, BL + ":mix_colour_to_first", 20.0), _set(m, BL + ":mix_colour_to_second", 25.0)),
     "color queda entre los dos", "se parece mucho más"),
    ("variantes.md", lambda m: (_set(m, CO + ":chroma_distance_plain", 37.3),
                                _set(m, CO + ":chroma_distance_matched", 4.5)),
     "se aleja 37.3 niveles; la de colores igualados, 4.5;", None),
    ("obra.md", lambda m: _anim_kept(m, 0.1), "el contenido se resiente poco", "se resiente bastante"),
    ("obra.md", lambda m: _anim_kept(m, 0.5), "el contenido se resiente bastante", "se resiente poco"),
    ("obra.md", lambda m: _anim_kept(m, 0.9), "casi tan lejos de la foto como el ruido", "se resiente"),
    ("obra.md", lambda m: _set(m, "method.settings.init", "content"), "La galería de este sitio parte de la foto",
     "parte de ruido, como el artículo"),
    ("obra.md", lambda m: _set(m, "method.settings.init", "noise"), "parte de ruido, como el artículo",
     "Al principio la pérdida de contenido es nula"),
    ("obra.md", lambda m: _set(m, "method.settings.init", "recoloured"),
     "La galería de este sitio parte de la foto recoloreada", "Al principio la pérdida de contenido es nula"),
    ("obra.md", lambda m: _set(m, GR + ":paper_losses", 1), "Esta rejilla usa las del artículo",
     "no usa las pérdidas del artículo"),
    ("obra.md", lambda m: _set(m, GR + ":paper_losses", 0), "no usa las pérdidas del artículo",
     "Esta rejilla usa las del artículo"),
    ("obra.md", lambda m: (_set(m, "method.settings.content_normalise", "mean"),
                           _set(m, "method.settings.style_balance", "photo")),
     "La galería usa otras definiciones", None),
    ("obra.md", lambda m: _set(m, "method.settings.style_balance", "none"), None,
     "La galería usa otras definiciones"),
    ("limites.md", lambda m: (_set(m, LI + ":stroke_ratio", 2.0), _set(m, LI + ":painting_stroke_ratio", 2.2)),
     "los trazos del resultado siguen el tamaño", "**bajó**"),
    ("limites.md", lambda m: (_set(m, LI + ":stroke_ratio", 0.7), _set(m, LI + ":painting_stroke_ratio", 2.2)),
     "el ancho típico del resultado **bajó**", "los trazos del resultado siguen el tamaño"),
    ("limites.md", lambda m: (_set(m, LI + ":stroke_ratio", 1.0), _set(m, LI + ":painting_stroke_ratio", 1.0)),
     "apenas cambió", "los trazos del resultado siguen el tamaño"),
    ("limites.md", lambda m: (_set(m, LI + ":stroke_ratio", 2.0), _set(m, LI + ":painting_stroke_ratio", 2.2)),
     "muestran que ampliar la pintura agranda", "no reproduce ese resultado"),
    ("limites.md", lambda m: (_set(m, LI + ":stroke_ratio", 0.7), _set(m, LI + ":painting_stroke_ratio", 2.2)),
     "no reproduce ese resultado", None),
    ("limites.md", lambda m: _tv(m, with_tv=0.7, without_tv=1250.0, photo_tv=740.0, with_content=0.9),
     "el término borró la escena junto con el grano", "la escena sigue ahí"),
    ("limites.md", lambda m: _tv(m, with_tv=0.7, without_tv=1250.0, photo_tv=740.0, with_content=0.9),
     "a menos del 0", None),
    ("limites.md", lambda m: _tv(m, with_tv=800.0, without_tv=1250.0, photo_tv=740.0, with_content=0.5),
     "y la escena sigue ahí", "borró la escena"),
    ("limites.md", lambda m: _tv(m, with_tv=1300.0, without_tv=1250.0, photo_tv=740.0, with_content=0.5),
     "el término no bajó la variación total", "la escena sigue ahí"),
    ("obra.md", lambda m: _set(m, GR + ":row_layers_0", 1), "(la primera fila solo `conv1_1`; la última",
     "primeras, hasta"),
    ("obra.md", lambda m: _set(m, GR + ":row_layers_0", 4), "(la primera fila, las cuatro primeras, hasta `conv4_1`;",
     "Con `conv1_1` sola"),
    ("obra.md", lambda m: _style_ends(m, 1e10, 3e10), "el precio, en estilo, de conservar el contenido",
     "apenas cambia"),
    ("obra.md", lambda m: _style_ends(m, 3.09e10, 3.1e10), "apenas cambia de la primera columna a la última",
     "el precio, en estilo"),
    ("obra.md", lambda m: _style_ends(m, 3e10, 1e10), "dar más peso al contenido no le costó estilo", "apenas cambia"),
    ("representaciones.md", lambda m: _psnr(m, (20.0, 15.0, 12.0, 10.0, 8.0)), "la PSNR cae hasta", "la más baja"),
    ("representaciones.md", lambda m: _psnr(m, (20.0, 15.0, 12.0, 8.0, 9.0)),
     "con la más baja, 8.0 dB, en `conv4_2`", "la PSNR cae hasta"),
    ("contenido.md", lambda m: (_set(m, R + ":photo_width", 999), _set(m, R + ":evaluations", 999)),
     "de otro tamaño y con otro número de evaluaciones, da", None),
    ("contenido.md", lambda m: (_set(m, R + ":photo_width", m["figures"][CL]["numbers"]["width"]),
                                _set(m, R + ":evaluations", m["figures"][CL]["numbers"]["evaluations"])),
     "donde otra reconstrucción desde esta capa da", "de otro tamaño"),
    ("representaciones.md", lambda m: None, "evaluaciones de la pérdida con L-BFGS: las de la foto, a ", None),
    ("representaciones.md", lambda m: _two_stages(m, R, 0), "las de la foto, 4 a ", "las de la foto, a "),
    ("limites.md", lambda m: (_set(m, LI + ":stroke_ratio", 1.4), _set(m, LI + ":painting_stroke_ratio", 1.0)),
     "el ancho típico del resultado creció", "apenas cambió"),
    ("limites.md", lambda m: (_set(m, LI + ":stroke_ratio", 1.0), _set(m, LI + ":painting_stroke_ratio", 1.0)),
     "apenas cambió", "no reproduce ese resultado"),
    ("limites.md", lambda m: _set(m, LI + ":flat_gain_1", 1.0), "siguen casi igual de lisas", None),
    ("limites.md", lambda m: _set(m, LI + ":flat_gain_1", 0.5), "en las zonas lisas de la foto el resultado tiene",
     "casi igual de lisas"),
    ("limites.md", lambda m: _set(m, "method.copy_probe", {"evaluations": 11, "scale": 0.5, "canvas_radius": 1,
                                                            "floor": 0.5}),
     "el ensayo de 11 evaluaciones con el lienzo reducido", None),
    ("galeria.md", lambda m: _probed(m, 11), "más 11 de un ensayo previo con el lienzo reducido", None),
    ("galeria.md", lambda m: _probed(m, 0), None, "ensayo previo"),
    ("index.md", lambda m: _probed(m, 11), "(más 11 de un ensayo previo con el lienzo reducido", None),
    ("limites.md", lambda m: _probed(m, 11), "Donde dice «a + b»", None),
    ("limites.md", lambda m: _probed(m, 0), None, "Donde dice «a + b»"),
    ("representaciones.md", lambda m: _set(m, R + ":psnr_conv1_2", 30.0), "la foto reaparece casi entera",
     "llega a ser fiel"),
    ("representaciones.md", lambda m: _set(m, R + ":psnr_conv1_2", 12.0), "llega a ser fiel",
     "la foto reaparece casi entera"),
    ("contenido.md", lambda m: _pre_relu(m, CL), "antes de su ReLU: allí", "también mide <code>conv4&#95;2</code> después"),
    ("contenido.md", lambda m: None, "también mide <code>conv4&#95;2</code> después", "antes de su ReLU: allí"),
    ("contenido.md", lambda m: (_set(m, CL + ":negative_share", 0.0), _set(m, CL + ":signed_scale", 0)),
     "se pintan en una escala que empieza en cero", "rojo es positivo y azul, negativo"),
    ("contenido.md", lambda m: (_set(m, CL + ":negative_share", 0.4), _set(m, CL + ":signed_scale", 1)),
     "rojo es positivo y azul, negativo", "Ninguna respuesta de la foto es negativa"),
    ("limites.md", lambda m: _set(m, f"figures.{TV}.transfers.0.init", "content"),
     "las dos transferencias parten de la foto", None),
    ("limites.md", lambda m: _set(m, f"figures.{TV}.transfers.0.init", "noise"),
     "partiendo de ruido", "las dos transferencias parten de la foto"),
    ("obra.md", lambda m: _content_peak(m, rises_then_falls=True), "sube deprisa: llega a",
     "A medida que el estilo entra, la pérdida de contenido crece"),
    ("obra.md", lambda m: _content_peak(m, rises_then_falls=False),
     "A medida que el estilo entra, la pérdida de contenido crece", "sube deprisa"),
    ("variantes.md", lambda m: (_set(m, BL + ":mix_colour_to_first", 20.0), _set(m, BL + ":mix_colour_to_second", 25.0)),
     None, "Que una pintura domine la mezcla"),
    ("variantes.md", lambda m: (_set(m, BL + ":mix_colour_to_first", 5.0), _set(m, BL + ":mix_colour_to_second", 50.0)),
     "Que una pintura domine la mezcla", None),
    ("contenido.md", lambda m: _set(m, f"figures.{CL}.objective.content_normalise", "sum"),
     "que es el gradiente de la pérdida", "proporcional al gradiente"),
    ("contenido.md", lambda m: _set(m, f"figures.{CL}.objective.content_normalise", "mean"),
     "proporcional al gradiente", "que es el gradiente de la pérdida"),
    ("representaciones.md", lambda m: None, "leída después de su ReLU", None),
    ("representaciones.md", lambda m: _pre_relu(m, R), None, "leída después de su ReLU"),
    ("estilo.md", lambda m: _set(m, G + ":negative_entries", 0), "Ninguna entrada es negativa: este sitio toma las "
     "respuestas después de la ReLU", "Hay entradas negativas"),
    ("estilo.md", lambda m: _set(m, G + ":negative_entries", 12), "Hay entradas negativas",
     "Ninguna entrada es negativa"),
    ("estilo.md", lambda m: (_set(m, G + ":gram_change_relu1_1", 0.1), _set(m, G + ":gram_change_relu5_1", 0.5)),
     "La matriz de Gram cambia más al subir", None),
    ("estilo.md", lambda m: (_set(m, G + ":gram_change_relu1_1", 0.5), _set(m, G + ":gram_change_relu5_1", 0.1)),
     None, "La matriz de Gram cambia más al subir"),
    ("estilo.md", lambda m: (_set(m, G + ":response_change_relu1_1", 1.2)), "más que su propio tamaño", None),
    ("estilo.md", lambda m: (_set(m, G + ":response_change_relu1_1", 0.8)), None, "más que su propio tamaño"),
    ("estilo.md", lambda m: _stages(m, 30.0), "sube de golpe, 30 veces", "La pérdida de estilo empezó en"),
    ("estilo.md", lambda m: _stages(m, 0.5), "En esa etapa final", "sube de golpe"),
    ("estilo.md", lambda m: _set(m, "style/reconstruction:stages", 1), "La pérdida de estilo empezó en",
     "En esa etapa final"),
    ("vgg19.md", lambda m: (_set(m, "vgg/feature_maps:relu1_1_zero_percent", 40.0),
                            _set(m, "vgg/feature_maps:relu5_1_zero_percent", 90.0)),
     "las respuestas son dispersas: el 90 % valen cero", None),
    ("vgg19.md", lambda m: (_set(m, "vgg/feature_maps:relu1_1_zero_percent", 40.0),
                            _set(m, "vgg/feature_maps:relu5_1_zero_percent", 30.0)),
     None, "las respuestas son escasas"),
    ("vgg19.md", lambda m: [_set(m, f"vgg/feature_maps:relu{i}_1_zero_percent", 10.0 * i) for i in range(1, 6)],
     "Cuanto más profunda la capa", "esa proporción no crece capa a capa"),
    ("vgg19.md", lambda m: [_set(m, f"vgg/feature_maps:relu{i}_1_zero_percent", z)
                            for i, z in zip(range(1, 6), (46.0, 38.0, 53.0, 48.0, 75.0))],
     "esa proporción no crece capa a capa", "Cuanto más profunda la capa"),
    ("estilo.md", lambda m: _set(m, "method.settings.style_balance", "photo"), "A diferencia del artículo",
     "todas con el mismo peso"),
    ("estilo.md", lambda m: _set(m, "method.settings.style_balance", "none"), "todas con el mismo peso",
     "A diferencia del artículo"),
    ("estilo.md", lambda m: _set(m, "method.settings.rescale_weights", True), "aunque los pesos de la red se hayan",
     "en la red tal como se entrenó"),
    ("estilo.md", lambda m: _set(m, "method.settings.pooling", "avg"), "usan la media, como el artículo",
     "usan la original, el máximo"),
    ("estilo.md", lambda m: _set(m, "method.settings.pooling", "max"), "usan la original, el máximo",
     "usan la media, como el artículo"),
    ("creditos.md", lambda m: _set(m, "method.settings.rescale_weights", True), "también los reescala", None),
    ("estilo.md", lambda m: _shares(m, (0.05, 0.8, 0.05, 0.05, 0.05)),
     STYLE_LAYER_SEEN[1].replace("_", "&#95;") + "</code> aporta el 80 %", None),
    ("estilo.md", lambda m: _shares(m, (0.05, 0.8, 0.05, 0.05, 0.05)), "reescalan los pesos de la red", None),
    ("estilo.md", lambda m: _shares(m, (0.3, 0.25, 0.2, 0.15, 0.1)),
     STYLE_LAYER_SEEN[0].replace("_", "&#95;") + "</code> aporta el 30 % de la pérdida de estilo y <code>"
     + STYLE_LAYER_SEEN[4].replace("_", "&#95;") + "</code>, el 10 %", "reescalan los pesos de la red"),
    ("creditos.md", lambda m: _set(m, "method.settings.rescale_weights", False), "los reescalaron",
     "también los reescala"),
    ("textura.md", lambda m: (_set(m, "texture/statistics:mean_std_gram_reduction", 50.0),
                              _set(m, "texture/statistics:gram_gram_reduction", 400.0)),
     "la de Gram, 400 veces", None),
    ("textura.md", lambda m: _set(m, "texture/statistics:mean_std_gram_reduction", 2.0), None,
     "sin buscarlo"),
    ("textura.md", lambda m: _set(m, "texture/statistics:gram_loss_ratio", 3.0), "veces más lejos de las matrices",
     "no llegó a medirse"),
    ("textura.md", lambda m: _set(m, "texture/statistics:gram_loss_ratio", 0.9), "no llegó a medirse",
     "veces más lejos de las matrices"),
    ("despues.md", lambda m: _fast(m, speedup=100.0), "la red fue entre 100 y 100 veces más rápida que la optimización, "
     "pero según esta vara quedó en todos más lejos de la foto y de la pintura", "Ninguno se calcula aquí"),
    ("despues.md", lambda m: _fast(m, speedup=100.0), "su pérdida de contenido fue entre 2 y 2 veces la de Gatys, y su "
     "pérdida de estilo, entre 3 y 3 veces", "quedó en todos más cerca"),
    ("despues.md", lambda m: _fast(m, speedup=0.5), "En ninguno de los", "veces más rápida"),
    ("despues.md", lambda m: _fast(m, content=0.5, style=0.5), "y además, según esta vara, quedó en todos más cerca",
     "quedó en todos más lejos"),
    ("despues.md", lambda m: _fast(m, mixed=True), "quedó más cerca de la foto que la optimización en 1 de los pares y "
     "más cerca de la pintura en 1.", "quedó en todos más lejos"),
    ("despues.md", lambda m: _fast(m, layers=FINE), "la mayor diferencia frente a la optimización está en los detalles "
     "más pequeños, y la menor, en los motivos más grandes", "está en los motivos más grandes"),
    ("despues.md", lambda m: _fast(m, layers=COARSE), "la mayor diferencia frente a la optimización está en los motivos "
     "más grandes", "está en los detalles más pequeños"),
    ("despues.md", lambda m: _fast(m, layers={k: 1 / v for k, v in FINE.items()}), "el cociente entre la red y la "
     "optimización", "la mayor diferencia"),
    # medians with no trend with depth: listed, and no scale named
    ("despues.md", lambda m: _fast(m, layers={**FINE, "relu4_1": 8.0}), "sin un orden claro entre las capas",
     "la mayor diferencia"),
    ("despues.md", lambda m: _fast(m, device="cuda"), "La optimización se calculó en una GPU y la red en la CPU",
     "Las dos se calcularon en la CPU"),
    ("despues.md", lambda m: _fast(m, device="cpu"), "Las dos se calcularon en la CPU", "no son de la misma máquina"),
    # a network style score above one: what it means (the photo scores one per layer)
    ("despues.md", lambda m: _net_style(m, 2.0, 0.4), "Que la pérdida de estilo de la red pase de uno no la pone "
     "más lejos de la pintura que la foto sin tocar", "eso sí pasó"),
    ("despues.md", lambda m: _net_style(m, 2.0, 0.4), "en cada capa de cada par, la red quedó más cerca de la "
     "pintura que la foto (su término más alto fue 0.4", "en alguna capa"),
    ("despues.md", lambda m: _net_style(m, 2.0, 1.5), "en alguna capa la red llegó a 1.5 veces lo que difiere la foto",
     "en cada capa de cada par"),
    ("despues.md", lambda m: _net_style(m, 9.0, 1.8), "eso sí pasó en", "en cada capa de cada par"),
    ("despues.md", lambda m: _net_style(m, 0.5, 0.1), None, "pase de uno"),
    # the yardstick's numbers against the optimisation's own: what differs
    ("despues.md", lambda m: None, "ella promedia sus capas de estilo en lugar de sumarlas",
     "pesa sus capas de estilo de otra manera"),
    ("despues.md", lambda m: _run_like_yardstick(m), "no el archivo JPEG que publica el sitio", "lee la pintura a"),
    ("despues.md", lambda m: _run_like_yardstick(m, unequal=True), "pesa sus capas de estilo de otra manera",
     "promedia sus capas"),
    ("despues.md", lambda m: None, "Dos de ellos se calculan aquí", "Ninguno se calcula aquí"),
    ("despues.md", _no_fast, "Ninguno se calcula aquí", "Dos de ellos se calculan aquí"),
    ("despues.md", _no_fast, None, "Una red de este tipo se calcula en este sitio"),
    ("galeria.md", _no_fast, None, "Red entrenada"),
    ("galeria.md", lambda m: None, "Red entrenada · ", None),
    ("creditos.md", _no_fast, None, "Las redes entrenadas"),
    ("creditos.md", lambda m: None, "Las redes entrenadas", None),
]


@pytest.mark.parametrize("page, change, present, absent", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_the_text_follows_the_number(tmp_path, base, page, change, present, absent):
    manifest = copy.deepcopy(base)
    change(manifest)
    text = render_page(tmp_path, manifest, page)
    if present:
        assert _flat(present) in text, f"{page}: {present!r} missing"
    if absent:
        assert _flat(absent) not in text, f"{page}: {absent!r} should not be there"


def test_index_names_the_device_of_the_hero(tmp_path, base):
    hero = f"gallery/{base['hero']['content']}/{base['hero']['style']}"
    for device, words in (("cpu", "en la CPU (el procesador general"), ("cuda", "en una GPU (el procesador gráfico")):
        manifest = copy.deepcopy(base)
        manifest["figures"][hero]["device"] = device
        assert words in render_page(tmp_path / device, manifest, "index.md")


def test_the_differences_box_follows_the_settings(tmp_path, base):
    manifest = copy.deepcopy(base)
    manifest["method"] = method_entry(PROFILES["preview"])
    rows = manifest["method"]["differences"]
    text = render_page(tmp_path / "a", manifest, "obra.md")
    assert "Diferencias con el artículo" in text
    differing = [name for name in ("init", "optimizer", "precision", "weights_8bit") if not rows[name]["same"]]
    assert {"init", "precision", "weights_8bit"} <= set(differing)  # the preview's departures
    for name in differing:
        assert _flat(str(PHRASES[name][0])) in text, name
    # A build whose choices all match the paper says so instead of listing anything.
    for row in rows.values():
        row["same"] = True
    text = render_page(tmp_path / "b", manifest, "obra.md")
    assert "se calcularon como en el artículo" in text
    assert "Lienzo inicial" not in text


def test_the_copy_guards_probe_is_stated_where_the_gallery_runs_it(tmp_path, base):
    """The method entry carries the probe (engine/copy_guard.py) where the profile's canvas is large
    enough for it (preview), not where it is not (tiny); the differences table and the limits page say
    so from the manifest's numbers."""
    from generator.engine import settings as settings_module

    probe = method_entry(PROFILES["preview"])["copy_probe"]
    assert probe == {"evaluations": settings_module.PROBE_STEPS, "scale": settings_module.PROBE_SCALE,
                     "canvas_radius": settings_module.CANVAS_RADIUS, "floor": settings_module.CANVAS_FLOOR}
    assert "copy_probe" not in method_entry(PROFILES["tiny"]) and "copy_probe" not in base["method"]
    manifest = copy.deepcopy(base)
    manifest["method"] = method_entry(PROFILES["preview"])
    assert f"un ensayo de {settings_module.PROBE_STEPS} evaluaciones" in _flat(render_page(tmp_path / "a", manifest, "como-se-hizo.md"))
    assert "un ensayo de" not in _flat(render_page(tmp_path / "b", base, "como-se-hizo.md"))
    limits = "limits/copies"
    assert base["figures"][limits]["numbers"]["probe_evaluations"] == 0   # tiny: no probe
    assert "la vigilancia hace un ensayo" not in render_page(tmp_path / "c", base, "limites.md")
    manifest["figures"][limits]["numbers"].update({"probe_evaluations": 11, "probe_width": 256, "probe_height": 192})
    text = _flat(render_page(tmp_path / "d", manifest, "limites.md"))
    assert "la vigilancia hace un ensayo: 11 evaluaciones con el lienzo reducido a 256 × 192 píxeles" in text


def test_the_copy_guards_threshold_follows_the_paintings_own_texture(tmp_path, base):
    """The method entry and the limits page state the rule that raises the guard's threshold
    (copy_guard.self_match) and, on the limits page, which way it went for the figure's painting."""
    from generator.engine import settings as settings_module

    share = settings_module.SELF_MATCH_SHARE
    assert method_entry(PROFILES["preview"])["copy_self_match"] == {"share": share} == base["method"]["copy_self_match"]
    said = f"la similitud que solo el {100 * share:.0f} % de las posiciones alcanza o supera"
    assert said in _flat(render_page(tmp_path / "a", base, "como-se-hizo.md"))
    manifest = copy.deepcopy(base)
    del manifest["method"]["copy_self_match"]
    assert "se parece a sí misma" not in _flat(render_page(tmp_path / "b", manifest, "como-se-hizo.md"))
    numbers = manifest["figures"]["limits/copies"]["numbers"]
    for level, way in ((0.72, "mayor que 0.65, y ese es el umbral"),
                       (0.56, "menor que 0.65, así que el umbral se queda en 0.65")):
        numbers.update({"guard_threshold": 0.65, "self_match": level, "self_match_share": 0.25,
                        "threshold": max(0.65, level)})
        text = _flat(render_page(tmp_path / f"c{level}", manifest, "limites.md"))
        assert "El umbral depende de la pintura" in text and "solo el 25 % de las posiciones" in text
        assert f"consigo misma es {level:.2f}, {way})" in text
        assert f"cuando la similitud llega a {max(0.65, level):.2g}" in text
    numbers.update({"self_match_share": 0.0, "self_match": 0.0, "threshold": 0.65})
    text = _flat(render_page(tmp_path / "d", manifest, "limites.md"))
    assert "El umbral depende de la pintura" not in text and "consigo misma es" not in text


def test_the_build_writes_the_method_it_used(base):
    method = base["method"]
    assert method["profile"] == "tiny"
    assert method["settings"] == method_entry(PROFILES["tiny"])["settings"]
    assert {"pooling", "init", "optimizer", "weights_8bit"} <= set(method["differences"])


def test_differences_follow_a_changed_default():
    plain = differences(TransferSettings())
    paper_like = differences(replace(TransferSettings(), pooling="avg", init="noise"))
    assert not plain["pooling"]["same"] and paper_like["pooling"]["same"]
    assert not plain["init"]["same"] and paper_like["init"]["same"]
    lines = plain_differences(plain)
    assert any(line.startswith("Lienzo inicial: en el artículo, ruido blanco; aquí, la foto recoloreada") for line in lines)
    assert not any(line.startswith("Lienzo inicial") for line in plain_differences(paper_like))


def test_an_unknown_choice_is_shown_literally():
    rows = paper_differences({"method": {"differences": {"warp": {"paper": "a<b", "ours": "c", "same": False}}}})
    assert rows[0]["topic"] == "warp" and str(rows[0]["paper"]) == "a&lt;b"


@pytest.mark.parametrize("value, label", [
    (0.5, "0.5"), (1e-3, "0.001"), (1.0, "1"), (1e4, "1\u202f×\u202f10⁴"),
    (12345.6, "1.2\u202f×\u202f10⁴"), (-3e-7, "\u22123\u202f×\u202f10⁻⁷")])
def test_plot_labels_print_numbers_as_the_pages_do(value, label):
    """Plot labels: two significant digits, decimal point, powers of ten in Unicode, a true minus."""
    assert es_number(value) == label


# Words the pages avoid (CONTRIBUTING.md, "Readers' Spanish"): one variant, one term per idea.
AVOIDED = [r"\bsólo\b", r"\bcompilación", r"\bactivaci[oó]n", r"\bcorre\b", r"\bordenador", r"\bvosotros\b",
           r"\bdistancias? de (contenido|estilo)\b", r"\bcomo en el artículo: \$\\beta = 10\^4",
           r"\bsetas\b", r"\bdesviaci[oó]n(es)? t[ií]picas?\b", r"\bponen? a cero\b", r"\bhacia\s+delante\b",
           r"\bdel del\b", r"\(cpu\)", r"\ben (la )?cpu\b", r"\bcanal \d"]


def test_pages_keep_one_spanish(tmp_path, base):
    # The glossary names the avoided words on purpose ("no se dice «compilación»").
    for i, page in enumerate(p for p in PAGES if p != "glosario.md"):
        text = render_page(tmp_path / str(i), base, page)
        for pattern in AVOIDED:
            assert not re.search(pattern, text), f"{page}: {pattern}"
    nb = (ROOT / "docs" / "pruebalo.ipynb").read_text(encoding="utf-8")
    for pattern in AVOIDED:
        assert not re.search(pattern, nb), f"pruebalo.ipynb: {pattern}"


def _nav_pages() -> list[str]:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8").split("\nnav:", 1)[1]
    return re.findall(r"^\s*-\s.*?:\s*(\S+\.(?:md|ipynb))\s*$", nav, flags=re.M)


def test_nav_puts_the_model_before_the_representations():
    pages = _nav_pages()
    assert pages.index("vgg19.md") < pages.index("representaciones.md") < pages.index("contenido.md")


def test_variantes_follows_the_work_page():
    pages = _nav_pages()
    assert pages[pages.index("obra.md") + 1] == "variantes.md"


def test_home_page_walks_every_page_in_nav_order(tmp_path, base):
    """Inicio's "Para seguir" links each page of the menu once, in the menu's order."""
    render = page_env(tmp_path, base)
    for page in _nav_pages():  # as on the real site, every page of the menu exists (page_exists)
        (tmp_path / "docs" / page).touch()
    text = _flat(render((ROOT / "docs" / "index.md").read_text(encoding="utf-8")))
    section = text.split("## Para seguir", 1)[1]
    linked = re.findall(r"\]\(([^)#]+\.(?:md|ipynb))\)", section)
    assert linked == [page for page in _nav_pages() if page != "index.md"]


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_difference_the_build_states_has_a_spanish_phrase(profile):
    """No row of a real build falls back to showing its raw value (English code words) to readers."""
    for rescale in (False, True):
        settings = replace(PROFILES[profile].transfer(), rescale_weights=rescale)
        for name, row in differences(settings).items():
            assert name in PHRASES, name
            for side in ("paper", "ours"):
                if name == "painting_size" and side == "ours":   # a size in pixels, phrased by macros.method
                    assert isinstance(row[side], int) and str(row[side]) in str(paper_differences(
                        {"method": {"differences": {name: row}}}, False)[0]["ours"])
                    continue
                if name == "copy_guard" and side == "ours":      # a cosine, phrased by macros.method
                    phrase = str(paper_differences({"method": {"differences": {name: row}}}, False)[0]["ours"])
                    assert f"es de {row[side]:g} o más" in phrase and "relu5_1" in phrase
                    continue
                assert row[side] in PHRASES[name][1], (name, side, row[side])


def test_one_full_differences_table_and_notes_that_link_to_it(tmp_path, base):
    manifest = copy.deepcopy(base)
    manifest["method"] = method_entry(PROFILES["preview"])
    rows = manifest["method"]["differences"]
    table = render_page(tmp_path / "a", manifest, "como-se-hizo.md")
    assert "{#diferencias-con-el-articulo}" in table
    for name in rows:  # every choice, the same ones too
        assert _flat(str(PHRASES[name][0])) in table, name
    for page in ("obra.md", "variantes.md", "contenido.md", "estilo.md"):
        text = render_page(tmp_path / page, manifest, page)
        assert 'como-se-hizo.html#diferencias-con-el-articulo' in text, page
        assert "<li><strong>" not in text, page  # the note names the points; the table compares them
    assert str(PHRASES["precision"][0]) in render_page(tmp_path / "c", manifest, "contenido.md")


def test_the_step_and_the_scales_are_stated():
    preview = differences(PROFILES["preview"].transfer())
    assert preview["scales"] == {"paper": "single", "ours": "coarse_to_fine", "same": False}
    assert differences(replace(TransferSettings(), scales=(1.0,)))["scales"]["same"]
    line = next(x for x in plain_differences(preview) if x.startswith("Búsqueda de línea"))
    assert "tamaño fijo" not in line and "su longitud cambia" in line
    rows = paper_differences({"method": method_entry(PROFILES["preview"])})
    scales = next(r for r in rows if r["name"] == "scales")
    assert "la mitad del tamaño final" in str(scales["ours"])


# Each page prints the layer names its figures' objective recorded (manifest: figures[name].objective):
# the network layer read, relu4_2 for the paper's conv4_2 with post-ReLU taps. Recorded as pre-ReLU,
# the same page must print the convolutions' names and no ReLU's.
READS = [("estilo.md", "style/gram", "style"), ("contenido.md", "content/loss", "content"),
         ("vgg19.md", "vgg/feature_maps", "style")]


@pytest.mark.parametrize("page, name, kind", READS)
def test_pages_print_the_layers_their_figures_read(tmp_path, base, page, name, kind):
    objective = base["figures"][name]["objective"]
    expected = [tap(layer, TransferSettings().taps) for layer in getattr(TransferSettings(), f"{kind}_layers")]
    assert objective["taps"] == TransferSettings().taps and objective[f"{kind}_reads"] == expected
    text = render_page(tmp_path / "post", base, page)
    assert objective[f"{kind}_reads"][0] in text.replace("&#95;", "_")

    flipped = copy.deepcopy(base)
    for other, entry in base["figures"].items():   # every figure the page shows reads pre-ReLU
        if entry.get("objective"):
            _pre_relu(flipped, other)
    text = render_page(tmp_path / "pre", flipped, page).replace("&#95;", "_")
    assert flipped["figures"][name]["objective"][f"{kind}_reads"][0] in text
    printed = set(re.findall(r"\brelu\d_\d\b", text))
    assert not printed & set(objective[f"{kind}_reads"]), f"{page} prints {printed} for a pre-ReLU figure"


def test_counts_agree_with_their_nouns(tmp_path, base):
    """A count of one takes the singular (tiny builds have such counts): "1 posición parecida",
    "queda 1", "1 hilo", "una sola pasada"."""
    manifest = copy.deepcopy(base)
    numbers = manifest["figures"]["limits/copies"]["numbers"]
    numbers.update(copied_unguarded=1, copied_guarded=1, closest_unguarded=0.7, closest_guarded=0.7, left_out=4)
    text = render_page(tmp_path / "a", manifest, "limites.md")
    assert "no mejora en las dos medidas a la vez: 1 posición parecida contra 1," in text and "1 posiciones" not in text
    numbers.update(detail_cells=1)
    assert "De las posiciones de relu5_1 marcadas sin vigilancia, la que la vigilancia más alejó" in render_page(tmp_path / "a1", manifest, "limites.md")
    numbers.update(detail_cells=3)
    assert "El cuadrado de 3 × 3 posiciones de relu5_1" in render_page(tmp_path / "a3", manifest, "limites.md")
    numbers.update(copied_unguarded=1, copied_guarded=0, closest_unguarded=0.8)
    text = render_page(tmp_path / "b", manifest, "limites.md")
    assert "Sin vigilancia, 1 posición del lienzo repite alguna de la pintura" in text and "Con ella quedan 0," in text
    numbers.update(copied_unguarded=3, copied_guarded=1)
    text = render_page(tmp_path / "c", manifest, "limites.md")
    assert "Sin vigilancia, 3 posiciones del lienzo repiten alguna" in text and "Con ella queda 1," in text

    for i, (threads, runs, said) in enumerate(((1, 1, ["con 1 hilo de cálculo", "una sola pasada por sus dos"]),
                                               (2, 5, ["con 2 hilos de cálculo", "la mediana de 5 pasadas por"]))):
        for name, figure in manifest["figures"].items():
            if name.startswith("fast/"):
                figure["numbers"].update(threads=threads, timed_runs=runs)
        text = render_page(tmp_path / f"d{i}", manifest, "despues.md")
        assert all(words in text for words in said), said


def test_the_live_page_states_what_the_build_ran(tmp_path, base):
    """En vivo's comparisons with the site's build follow the gallery's recorded transfers: bfloat16
    only where one ran in it, the gallery's coarse stage only where one had it."""
    manifest = copy.deepcopy(base)
    manifest["figures"]["live/network"]["numbers"]["coarse_scale"] = 1
    said = ["y es el que usa la red en la construcción del sitio", "sí pintan primero a menor tamaño"]
    text = render_page(tmp_path / "a", manifest, "en-vivo.md")
    assert "otro formato de 16 bits, *bfloat16*, llega tan lejos como los de 32" in text
    assert not any(words in text for words in said)    # the tiny gallery: one stage, float32
    gallery = next(e for n, e in manifest["figures"].items() if n.startswith("gallery/"))
    run = gallery["transfers"][-1]
    run.update(precision="bfloat16", stages=[dict(run["stages"][-1])] * 2)
    text = render_page(tmp_path / "b", manifest, "en-vivo.md")
    assert all(words in text for words in said)
