"""``ember vision OP IMAGE -o OUT``: each operation's file equals the library's result;
one-line errors."""

from __future__ import annotations

import numpy as np
import pytest

import ember.vision as V
from ember.cli import main
from ember.cli.vision import OPERATIONS, _operations

pytest.importorskip("PIL")


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    data = pytest.importorskip("skimage.data")
    folder = tmp_path_factory.mktemp("vision")
    colour = data.astronaut()[40:136, 140:236]
    V.write_image(folder / "colour.png", colour)
    V.write_image(folder / "template.png", V.rgb_to_grayscale(colour)[30:50, 40:64])
    return folder, colour


def test_every_operation_runs(photo, capsys):
    folder, _ = photo
    assert set(OPERATIONS) == set(_operations())
    for name in OPERATIONS:
        extra = ["--template", str(folder / "template.png")] if name == "match" else []
        out = folder / f"{name}.png"
        assert main(["vision", name, str(folder / "colour.png"), "-o", str(out), *extra]) == 0
        assert V.read_image(out).shape[:2] == (96, 96), name
    printed = capsys.readouterr().out
    assert "Otsu threshold" in printed and "best match at row 30, column 40" in printed


def test_files_equal_the_library(photo):
    folder, colour = photo
    grey = V.rgb_to_grayscale(colour)
    main(["vision", "canny", str(folder / "colour.png"), "-o", str(folder / "c.png"),
          "--low", "40", "--high", "120", "--sigma", "1.2"])
    np.testing.assert_array_equal(V.read_image(folder / "c.png"),
                                  V.canny(grey, 40, 120, sigma=1.2))
    main(["vision", "gaussian", str(folder / "colour.png"), "-o", str(folder / "g.png"),
          "--size", "7", "--sigma", "2"])
    np.testing.assert_array_equal(V.read_image(folder / "g.png"),
                                  V.gaussian_blur2d(colour, 7, 2.0))
    main(["vision", "open", str(folder / "colour.png"), "-o", str(folder / "o.png"), "--gray",
          "--shape", "ellipse", "--size", "5"])
    np.testing.assert_array_equal(V.read_image(folder / "o.png"),
                                  V.opening(grey, V.structuring_element("ellipse", 5)))


def test_errors_are_one_line(photo, capsys):
    folder, _ = photo
    assert main(["vision", "canny", str(folder / "missing.png"), "-o", "x.png"]) == 1
    assert capsys.readouterr().err.strip().startswith("ember: error: read_image: no such file")
    assert main(["vision", "median", str(folder / "colour.png"), "-o",
                 str(folder / "m.png"), "--size", "4"]) == 1
    assert "kernel_size must be an odd" in capsys.readouterr().err
    assert main(["vision", "--list"]) == 0
    assert "canny" in capsys.readouterr().out
