"""Held-out pages from another generator: typed pages degraded by augraphy, for bench_clean.py.

augraphy depends on opencv-python, which would shadow the opencv-contrib build archocr needs, so it is
kept out of archocr's own environment. Make the pages once with a separate one:

    python -m venv /tmp/augenv && /tmp/augenv/bin/pip install augraphy==8.2.6
    PYTHONPATH=$PWD /tmp/augenv/bin/python -m benchmarks.make_augraphy_pages [OUT_DIR]

They go to bench-out/augraphy-pages/ (or OUT_DIR, or $ARCHOCR_AUGRAPHY_PAGES): `<name>.png` with
`<name>.gt.txt`. Fonts, text and seeds are the held-out ones; augraphy's degradations (photocopier
noise, dirty drum, ink bleed, letterpress, low-ink lines, fax halftone, textures, lighting) are ones
archocr's own synth does not make.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import augraphy as ag
import cv2
import numpy as np

from .common import OUT, bench_text
from .pages import render_ink

FONTS = ("PTS55F.ttf", "LiberationSans-Regular.ttf", "PTZ55F.ttf", "DejaVuSansMono.ttf")
PAGES = 8
SEED = 31337


def pipeline(seed: int) -> ag.AugraphyPipeline:
    ink = [
        ag.OneOf([ag.InkBleed(p=1), ag.Letterpress(p=1), ag.LowInkRandomLines(p=1)], p=0.8),
        ag.InkShifter(p=0.3),
    ]
    paper = [ag.NoiseTexturize(p=0.6), ag.BrightnessTexturize(p=0.5)]
    post = [
        ag.OneOf([ag.BadPhotoCopy(p=1), ag.DirtyDrum(p=1), ag.Faxify(p=1)], p=0.8),
        ag.LightingGradient(p=0.4),
        ag.SubtleNoise(p=0.5),
        ag.Jpeg(p=0.5),
    ]
    return ag.AugraphyPipeline(ink_phase=ink, paper_phase=paper, post_phase=post, random_seed=seed)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    words = bench_text().split()
    words = words[len(words) // 2 :]  # the held-out half of the text
    for i in range(PAGES):
        rng = np.random.default_rng([SEED, i])
        font = FONTS[i % len(FONTS)]
        ink, lines = render_ink(
            words, 900 * i + 50, font, rng, size_pt=float(rng.uniform(10.5, 12.5)), lines=22
        )
        page = np.clip(255 * (1 - ink), 0, 255).astype(np.uint8)
        degraded = pipeline(SEED + i)(cv2.cvtColor(page, cv2.COLOR_GRAY2BGR))
        grey = degraded if degraded.ndim == 2 else cv2.cvtColor(degraded, cv2.COLOR_BGR2GRAY)
        if grey.shape != page.shape:  # some effects rescale; ground truth is line text, so size is free
            grey = cv2.resize(grey, (page.shape[1], page.shape[0]), interpolation=cv2.INTER_AREA)
        name = f"augraphy-{i}-{font.split('.')[0]}"
        cv2.imwrite(str(out / f"{name}.png"), grey)
        (out / f"{name}.gt.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(name)


if __name__ == "__main__":
    main(
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(os.environ.get("ARCHOCR_AUGRAPHY_PAGES", OUT / "augraphy-pages"))
    )
