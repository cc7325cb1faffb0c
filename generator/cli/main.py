"""Command line: `python -m generator build | stylize | add-style`. The only argument parsing."""
from __future__ import annotations

import argparse
import re
import signal
import sys
import unicodedata
from pathlib import Path

from ..common.errors import InputError
from ..common.paths import Paths


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {value}")
    return value


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, not {text}")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def positive_float(text: str) -> float:
    value = non_negative_float(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, not {text}")
    return value


def float_list(text: str) -> tuple:
    """'0.7,0.3' -> (0.7, 0.3), each a finite number >= 0."""
    return tuple(non_negative_float(part.strip()) for part in text.split(","))


def name_list(text: str) -> tuple:
    """'relu1_1, relu2_1' -> ('relu1_1', 'relu2_1'); the names are checked by stylize."""
    names = tuple(part.strip() for part in text.split(","))
    if not all(names):
        raise argparse.ArgumentTypeError(f"{text!r}: empty name in the comma-separated list")
    return names


class Parser(argparse.ArgumentParser):
    """Bad arguments get one line naming the argument and the fault (no usage dump), exit 2."""

    def error(self, message):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    from ..engine.settings import POOLINGS, PRECONDITIONERS, TransferSettings
    from ..figures.profiles import PROFILES
    from .stylize import StylizeOptions

    default = StylizeOptions()

    p = Parser(prog="python -m generator",
           description="Neural style transfer figures for the site, and a one-image tool.")
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="compute the stale figures and write docs/generated/")
    b.add_argument("--profile", choices=sorted(PROFILES), default=None,
                   help="tiny, preview (CPU default) or full (GPU default)")
    b.add_argument("--only", metavar="NAME", help="only this figure (or prefix / glob, e.g. gallery/rectoria2)")
    b.add_argument("--force", action="store_true", help="recompute even if cached")
    b.add_argument("--device", default="auto", help="auto, cpu or cuda")
    b.add_argument("--jobs", type=positive_int, default=1,
                   help="figures computed at once, each in its own process (default 1)")
    b.add_argument("--quiet", action="store_true",
                   help="errors and the summary only (no line per figure, no progress bars)")

    s = sub.add_parser("stylize", help="paint one photo in the style of one or more paintings")
    s.add_argument("content", type=Path, help="the photo")
    s.add_argument("styles", type=Path, nargs="+", help="one or more paintings (their styles blend)")
    s.add_argument("-o", "--output", type=Path, required=True, help="result file (.jpg, .png or .webp)")
    s.add_argument("--size", type=positive_int, default=default.size,
                   help=f"long side in pixels (default {default.size})")
    s.add_argument("--steps", type=positive_int, default=None, help="loss evaluations (default: by size)")
    s.add_argument("--content-weight", type=non_negative_float, default=None, help="alpha")
    s.add_argument("--style-weight", type=non_negative_float, default=None, help="beta")
    s.add_argument("--tv-weight", type=non_negative_float, default=None, help="total variation weight")
    s.add_argument("--init", choices=("content", "recoloured", "noise", "style"), default=default.init,
                   help="starting canvas: the photo, the photo in the paintings' palette, noise or the (first) "
                        f"painting (default {default.init})")
    s.add_argument("--optimizer", choices=("lbfgs", "adam"), default=default.optimizer)
    s.add_argument("--precondition", choices=PRECONDITIONERS, default=default.precondition,
                   help="L-BFGS's first guess of the curvature: pyramid (broad changes get larger steps; one "
                        "stage of 50 evaluations on a CPU up to 768 px) or none (plain L-BFGS, as in the papers; "
                        f"coarse to fine above 256 px) (default {default.precondition})")
    s.add_argument("--learning-rate", type=positive_float, default=None,
                   help=f"Adam's step in 0-255 pixel units (default {TransferSettings.learning_rate:g}; "
                        "L-BFGS has none)")
    s.add_argument("--seed", type=int, default=default.seed)
    s.add_argument("--keep-colors", action="store_true",
                   help="the painting's texture in the photo's colours: transfer the luminance only, "
                        "then give back the photo's chrominance (YCbCr)")
    s.add_argument("--style-scale", type=positive_float, default=default.style_scale,
                   help="the painting's size relative to its default (the result's long side, at least "
                        "512 px): above 1 bigger strokes, below 1 smaller (default 1)")
    s.add_argument("--copy-guard", type=non_negative_float, default=None, metavar="C",
                   help="leave out of the deepest style layer's target the painting positions the canvas "
                        "reproduces at a cosine of C or more (or the painting's own level where its texture "
                        "repeats itself more closely), so no face or eye of the painting is pasted; "
                        f"0 turns it off (default {TransferSettings.copy_guard:g})")
    s.add_argument("--style-blend-weights", type=float_list, default=None, metavar="W1,W2,...",
                   help="one weight per painting when several are blended, e.g. 0.7,0.3 "
                        "(normalised to sum 1; default equal)")
    # checked once, by StylizeOptions (as every other option's value), against engine.vgg.POOLINGS
    s.add_argument("--pooling", default=default.pooling, metavar="{" + ",".join(POOLINGS) + "}",
                   help="VGG19's pooling: max (the original network) or avg (Gatys et al.'s choice)")
    s.add_argument("--content-layers", type=name_list, default=None, metavar="LAYER,...",
                   help="VGG19 layers of the content loss, e.g. relu4_2 (default: printed at the end)")
    s.add_argument("--style-layers", type=name_list, default=None, metavar="LAYER,...",
                   help="VGG19 layers of the style loss, e.g. relu1_1,relu2_1,relu3_1,relu4_1,relu5_1 "
                        "(equal weights; default: printed at the end)")
    s.add_argument("--save-every", type=non_negative_int, default=default.save_every, metavar="N",
                   help="also write every N-th evaluation's result beside -o (resultado_0050.jpg; "
                        "coarse stages upsampled to the result's size; default 0: none)")
    s.add_argument("--device", default=default.device, help="auto, cpu or cuda")
    s.add_argument("--quiet", action="store_true", help="no progress bar")

    a = sub.add_parser("add-style", help="add a painting to the gallery")
    a.add_argument("image", type=Path)
    a.add_argument("--title", required=True)
    a.add_argument("--artist", required=True)
    a.add_argument("--year", required=True, help='text, e.g. "1889" or "c. 1831"')
    a.add_argument("--source", default="", help="where the image comes from (URL)")
    a.add_argument("--license", default="", help="its licence or status")
    a.add_argument("--public-domain", default=None,
                   help="where it is in the public domain and on what basis (required if --license says so)")
    a.add_argument("--name", default=None, help="identifier (default: from the file name)")
    return p


def _terminate(signum, frame):
    raise KeyboardInterrupt  # `kill` cleans up like Ctrl-C: half-made figures are discarded


def main(argv=None, root: Path | None = None) -> int:
    """The command line; `root` is the project folder (where site_src/, .cache/ and docs/generated/
    are), this package's by default."""
    args = parser().parse_args(argv)
    args.paths = Paths(root) if root is not None else Paths()
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return {"build": cmd_build, "stylize": cmd_stylize, "add-style": cmd_add_style}[args.command](args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def cmd_build(args) -> int:
    from ..build.pipeline import run_build
    from ..build.progress import BuildLog

    profile = args.profile or default_profile(args.device)
    log = BuildLog(sys.stderr, quiet=args.quiet)
    report = run_build(profile, device=args.device, only=args.only, force=args.force, paths=args.paths, log=log.line,
                       progress_factory=log.bar, on_figure=log.figure, jobs=args.jobs)
    print(report.summary(), flush=True)
    return 1 if report.failed else 0


def default_profile(device: str) -> str:
    """full on a GPU, preview on a CPU; decided without loading torch when the device is given."""
    if device == "cpu":
        return "preview"
    if device.startswith("cuda"):
        return "full"
    import torch

    return "full" if torch.cuda.is_available() else "preview"


def cmd_stylize(args) -> int:
    from ..engine.device import check_device
    from .stylize import StylizeOptions, stylize

    check_device(args.device)
    result, report = stylize(args.content, args.styles, args.output, StylizeOptions.from_args(args),
                             show_progress=not args.quiet and sys.stderr.isatty())
    w, h = result.image.size
    print(f"wrote {args.output}: {w}x{h}, {len(result.history)} evaluations in {result.seconds:.1f} s, "
          f"final loss {result.final_loss:.4g}")
    print("\n".join(report))
    return 0


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_") or "painting"


def cmd_add_style(args) -> int:
    from .add_style import add_style

    entry = add_style(args.image, title=args.title, artist=args.artist, year=args.year,
                      source=args.source, license=args.license, public_domain=args.public_domain,
                      name=args.name or slugify(args.image.stem), site_src=args.paths.site_src)
    print(f"added {entry.name}: site_src/{entry.file} (the next build computes its figures)")
    return 0
