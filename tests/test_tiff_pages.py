"""Pages of a multi-page TIFF are reached by their directory offsets, not by parsing every page before."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from pipeline import scans
from pipeline.config import Settings


def _frames(count: int) -> list[Image.Image]:
    frames = []
    for index in range(count):
        im = Image.new("L", (160, 60), 255)
        ImageDraw.Draw(im).rectangle((5 + index, 5, 20 + 2 * index, 40), fill=0)  # differs on every page
        frames.append(im)
    return frames


def test_every_page_of_a_long_tiff_is_its_own_page(tmp_path):
    frames = _frames(40)
    path = tmp_path / "scan.tif"
    frames[0].save(path, save_all=True, append_images=frames[1:], compression="tiff_lzw")
    settings = Settings()
    assert scans.page_count(path, settings) == 40
    for number in (40, 1, 17, 2, 39):  # out of order, as Dask workers take them
        page = scans.load_page(path, number, settings)
        assert np.array_equal(page.pixels, np.asarray(frames[number - 1])), number
    with pytest.raises(scans.ScanError, match="no page 41"):
        scans.load_page(path, 41, settings)


def test_directory_offsets_stop_at_a_looping_chain(tmp_path):
    frames = _frames(3)
    path = tmp_path / "scan.tif"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    offsets = scans._tiff_directory_offsets(path, 10)
    assert len(offsets) == 3 and offsets == sorted(set(offsets), key=offsets.index)
