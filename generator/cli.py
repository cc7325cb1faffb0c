"""Command line: `python -m generator build | stylize | add-style`. The only argument parsing."""
from __future__ import annotations

import argparse
import re
import signal
import sys
import unicodedata
from pathlib import Path

from .errors import InputError

OUTPUT_FORMATS = (".jpg", ".jpeg", ".png", ".webp")


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


class Parser(argparse.ArgumentParser):
    """Bad arguments get one line naming the argument and the fault (no usage dump), exit 2."""

    def error(self, message):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    from .config import PROFILES

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
    b.add_argument("--quiet", action="store_true", help="no progress bars")

    s = sub.add_parser("stylize", help="paint one photo in the style of one or more paintings")
    s.add_argument("content", type=Path)
    s.add_argument("styles", type=Path, nargs="+")
    s.add_argument("-o", "--output", type=Path, required=True, help="result file (.jpg, .png or .webp)")
    s.add_argument("--size", type=positive_int, default=512, help="long side in pixels (default 512)")
    s.add_argument("--steps", type=positive_int, default=None, help="loss evaluations (default: by size)")
    s.add_argument("--content-weight", type=non_negative_float, default=None, help="alpha")
    s.add_argument("--style-weight", type=non_negative_float, default=None, help="beta")
    s.add_argument("--tv-weight", type=non_negative_float, default=None, help="total variation weight")
    s.add_argument("--init", choices=("content", "noise", "style"), default="content")
    s.add_argument("--optimizer", choices=("lbfgs", "adam"), default="lbfgs")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--device", default="auto", help="auto, cpu or cuda")
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


def main(argv=None) -> int:
    args = parser().parse_args(argv)
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
    from .build import run_build

    profile = args.profile or default_profile(args.device)
    progress = None if args.quiet else _figure_bar
    report = run_build(profile, device=args.device, only=args.only, force=args.force,
                       log=lambda line: print(line, file=sys.stderr), progress_factory=progress, jobs=args.jobs)
    print(report.summary())
    return 1 if report.failed else 0


def default_profile(device: str) -> str:
    """full on a GPU, preview on a CPU; decided without loading torch when the device is given."""
    if device == "cpu":
        return "preview"
    if device.startswith("cuda"):
        return "full"
    import torch

    return "full" if torch.cuda.is_available() else "preview"


def _figure_bar(spec):
    from tqdm import tqdm

    if not spec.heavy:
        return None
    total = spec_evaluations(spec)
    return tqdm(total=total, desc=spec.name, unit="eval" if total else "it", leave=False,
                file=sys.stderr, dynamic_ncols=True)


def spec_evaluations(spec):
    settings = spec.params.get("settings")
    return settings["steps"] if isinstance(settings, dict) else None


def cmd_stylize(args) -> int:
    from .build import check_device
    from .stylize import stylize

    check_device(args.device)
    result = stylize(args.content, args.styles, args.output, size=args.size, steps=args.steps,
                     content_weight=args.content_weight, style_weight=args.style_weight,
                     tv_weight=args.tv_weight, init=args.init, optimizer=args.optimizer, seed=args.seed,
                     device=args.device, show_progress=not args.quiet)
    w, h = result.image.size
    print(f"wrote {args.output}: {w}x{h}, {len(result.history)} evaluations in {result.seconds:.1f} s, "
          f"final loss {result.final_loss:.4g}")
    return 0


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_") or "painting"


def cmd_add_style(args) -> int:
    from .add_style import add_style

    entry = add_style(args.image, title=args.title, artist=args.artist, year=args.year,
                      source=args.source, license=args.license, public_domain=args.public_domain,
                      name=args.name or slugify(args.image.stem))
    print(f"added {entry.name}: site_src/{entry.file} (the next build computes its figures)")
    return 0
