"""Where the project's files live: the repository root and the build's folders under it."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The images the paper's weight rescaling averages over (engine/rescale.py): the site's two photos
# and five paintings, stated here since the paper's own set (ImageNet's validation images) is not ours.
RESCALE_IMAGES = (
    ROOT / "site_src/content/rectoria.jpg", ROOT / "site_src/content/rectoria2.jpg",
    ROOT / "site_src/styles/composition_vii.jpg", ROOT / "site_src/styles/great_wave.jpg",
    ROOT / "site_src/styles/shipwreck_of_the_minotaur.jpg", ROOT / "site_src/styles/starry_night.jpg",
    ROOT / "site_src/styles/the_scream.jpg")
RESCALE_CACHE = ROOT / ".cache" / "vgg-rescale"


@dataclass
class Paths:
    root: Path = ROOT

    @property
    def site_src(self) -> Path:
        return self.root / "site_src"

    @property
    def generated(self) -> Path:
        return self.root / "docs" / "generated"

    @property
    def store(self) -> Path:
        return self.root / ".cache" / "figures"

    @property
    def lock(self) -> Path:
        return self.root / ".cache" / "build.lock"
