""""Diferencias con el artículo": the manifest's `method` entry (generator/build/method.py) in Spanish.

Each row names a choice, what Gatys et al. did and what this build's transfers did; the text is
picked by value, so a changed default changes the page. A value without a phrase here is shown
literally rather than described wrongly.
"""
from __future__ import annotations

import re

from markupsafe import Markup, escape

# name -> (topic, {value: phrase}); phrases are HTML.
PHRASES: dict[str, tuple[str, dict]] = {
    "taps": ("Dónde se leen las capas", {
        "post_relu": "después de la ReLU (en Caffe, donde se publicó la VGG19 que usa el artículo, la ReLU se aplica "
                     "sobre la propia salida de la convolución, así que <code>conv4_2</code> ya no tiene valores negativos)",
        "pre_relu": "antes de la ReLU: <code>conv4_2</code> es la salida de la convolución, que puede ser negativa",
    }),
    "pooling": ("<i>Pooling</i> (la reducción a la mitad entre bloques)", {
        "avg": "con la media de cada grupo de 2 × 2 posiciones (<i>average pooling</i>)",
        "max": "con el máximo de cada grupo de 2 × 2 posiciones (<i>max-pooling</i>, el de la red original)",
    }),
    "rescale_weights": ("Escala de los pesos de la red", {
        True: "reescalados para que la respuesta media de cada filtro, sobre imágenes y posiciones, valga 1",
        False: "sin reescalar, tal como se entrenaron (las capas profundas responden con números mucho mayores)",
    }),
    "style_balance": ("Peso de cada capa de estilo", {
        "none": "el mismo para las cinco capas",
        "photo": "cada capa dividida por la pérdida de estilo de la propia foto en esa capa, para que "
                 "un lienzo igual a la foto reciba de todas lo mismo (sin foto, como al reconstruir solo el "
                 "estilo, no hay con qué dividir y el peso queda igual)",
    }),
    "content_normalise": ("Pérdida de contenido", {
        "sum": "la mitad de la suma de las diferencias al cuadrado",
        "mean": "la media de las diferencias al cuadrado",
    }),
    "rescale_images": ("Imágenes para reescalar los pesos", {
        "unstated": "no se detallan",
        "site_images": "las fotos y pinturas de este sitio",
    }),
    "init": ("Lienzo inicial", {
        "noise": "ruido blanco",
        "content": "la fotografía",
        "recoloured": "la foto recoloreada: la fotografía con la media y la covarianza de color de la pintura",
        "style": "la pintura",
    }),
    "optimizer": ("Optimizador", {"lbfgs": "L-BFGS", "adam": "Adam"}),
    "precondition": ("Precondicionador de L-BFGS", {
        "none": "ninguno mencionado (L-BFGS sin más: al empezar trata cada píxel por separado)",
        "pyramid": "una pirámide de resoluciones: un cambio que abarca muchos píxeles vecinos recibe un paso "
                   "mayor que uno de un solo píxel, como si se optimizara a la vez el lienzo y versiones suyas "
                   "a la mitad, a un cuarto y a un octavo del tamaño; el óptimo buscado es el mismo, pero se "
                   "llega con menos evaluaciones",
    }),
    "line_search": ("Búsqueda de línea", {
        "unstated": "no se detalla (la versión de 2016 solo dice L-BFGS)",
        "none": "ninguna: se da el paso que propone L-BFGS tal cual, sin probar otros más cortos o más "
                "largos (su longitud cambia de un paso a otro, según los gradientes), así que cada paso "
                "cuesta exactamente una evaluación",
    }),
    "scales": ("Resolución durante la optimización", {
        "single": "toda la optimización al tamaño final",
        "coarse_to_fine": "de lo grueso a lo fino: primero a menor resolución, luego al tamaño final, "
                          "partiendo cada vez del resultado anterior ampliado",
    }),
    "precision": ("Precisión de los cálculos", {
        "unstated": "no se detalla",
        "float32": "32 bits (<i>float32</i>)",
        "bfloat16": "la red en 16 bits (<i>bfloat16</i>), las pérdidas en 32 bits",
    }),
    "painting_size": ("Tamaño de la pintura", {
        "unstated": "no se detalla",
        "content_size": "escalada al tamaño de la foto antes de calcular sus respuestas",
    }),
    "copy_guard": ("Objetos copiados de la pintura", {
        0.0: "no se vigilan: el artículo no trata el caso",
    }),
    "weights_8bit": ("Pesos de VGG19", {
        False: "los originales, de 32 bits",
        True: "cuantizados a 8 bits: cada capa guarda 256 valores distintos",
    }),
}


# The choices the 2015 paper leaves out and its 2016 version (CVPR) states: said beside its value.
FROM_2016 = {"optimizer", "rescale_weights", "painting_size"}

FRACTIONS = {0.5: "la mitad", 0.25: "un cuarto", 0.125: "un octavo"}


def _stages(scales) -> str:
    """'a la mitad y después a tamaño completo' for (0.5, 1.0): the coarse-to-fine stages in words."""
    words = [FRACTIONS.get(float(s), f"{100 * float(s):.0f} %") for s in scales[:-1]]
    if not words:
        return ""
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " y " + words[-1]
    return f" (aquí, {listed} del tamaño final antes del tamaño completo)"


def _probe_phrase(probe: dict | None) -> str:
    """The copy guard's probe (the manifest's method.copy_probe), as a sentence; "" without one."""
    if not probe:
        return ""
    return (f". Antes de la transferencia, un ensayo de {probe['evaluations']:d} evaluaciones con el lienzo y la "
            f"pintura reducidos a {probe['scale']:g} veces su tamaño hace una primera revisión, y lo que pinta se "
            f"descarta. En esa revisión, para cada vecina de una posición del lienzo que copia se busca la posición de "
            f"la pintura más parecida, y también se quita si la similitud coseno llega a {probe['floor']:g}: el "
            f"resto del objeto pegado, como la boca y la barbilla bajo un ojo copiado")


def _self_match_phrase(self_match: dict | None) -> str:
    """The copy guard's threshold raised by the painting's own texture (method.copy_self_match); ""
    without it."""
    if not self_match:
        return ""
    return (f", o el nivel al que la pintura se parece a sí misma si es mayor: a cada posición de la pintura "
            f"se le busca la más parecida fuera de sus vecinas inmediatas, y se toma la similitud que solo el "
            f"{100 * self_match['share']:.0f} % de las posiciones alcanza o supera; una textura que se repite no "
            f"es una copia")


def _phrase(name: str, value, settings: dict | None = None) -> Markup:
    phrases = PHRASES.get(name, ("", {}))[1]
    if name == "painting_size" and isinstance(value, int) and not isinstance(value, bool):
        return Markup(f"escalada a un lado mayor igual al del lienzo, pero nunca menor de {value} píxeles "
                      f"(se amplía si hace falta)")
    if name == "copy_guard" and isinstance(value, float) and value > 0:
        return Markup(f"se vigilan: cada pocas evaluaciones se compara, en <code>relu5_1</code>, la lista de "
                      f"respuestas de cada posición del lienzo (una por filtro) con las de cada posición de la "
                      f"pintura. Cuando el lienzo reproduce casi igual una posición de la pintura (la similitud "
                      f"coseno entre las dos listas, que vale 1 si son proporcionales, es de {value:g} o más"
                      f"{_self_match_phrase((settings or {}).get('copy_self_match'))}), esa posición y "
                      f"sus vecinas inmediatas (hasta ocho) dejan de contar en la matriz de Gram objetivo de esa capa hasta el final. "
                      f"Así se busca que el lienzo tome la textura de la pintura y no sus objetos (una cara, un "
                      f"ojo, una estrella)" + _probe_phrase((settings or {}).get("copy_probe")))
    if value in phrases:
        text = phrases[value]
        if name == "scales" and value == "coarse_to_fine" and (settings or {}).get("scales"):
            text += _stages(settings["scales"])
        return Markup(text)
    return escape(str(value))


def paper_differences(manifest: dict, only_different: bool = True) -> list[dict]:
    """Rows {name, topic, paper, ours, same} of the build's method entry, in the order above."""
    rows = manifest.get("method", {}).get("differences", {})
    method = manifest.get("method", {})
    settings = method.get("settings", {}) | {key: method.get(key) for key in ("copy_probe", "copy_self_match")}
    names = [n for n in PHRASES if n in rows] + [n for n in rows if n not in PHRASES]
    out = []
    for name in names:
        row = rows[name]
        if only_different and row.get("same"):
            continue
        topic = PHRASES[name][0] if name in PHRASES else name
        paper = _phrase(name, row["paper"])
        if name in FROM_2016:
            paper += Markup(" (lo precisa la versión de 2016)")
        out.append({"name": name, "topic": Markup(topic), "paper": paper,
                    "ours": _phrase(name, row["ours"], settings), "same": bool(row.get("same"))})
    return out


def plain_differences(differences: dict) -> list[str]:
    """The rows that differ, as plain-text lines (the Pruébalo notebook prints them)."""
    rows = paper_differences({"method": {"differences": differences}})
    untag = lambda html: re.sub(r"<[^>]+>", "", str(html))  # noqa: E731
    return [f"{untag(r['topic'])}: en el artículo, {untag(r['paper'])}; aquí, {untag(r['ours'])}." for r in rows]
