"""A convolution worked by hand, against the classic example and PyTorch's conv2d."""

from __future__ import annotations

import numpy as np
import pytest

from ember.explain import convolution

PATCH = [[1, 0, 2], [5, 4, 2], [3, 4, 5]]
EDGE = [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]  # a vertical-edge (Prewitt) kernel


def test_the_classic_example_gives_one():
    # (-1 + 0 + 2) + (-5 + 0 + 2) + (-3 + 0 + 5) + bias 1 = 1 - 3 + 2 + 1 = 1
    e = convolution(PATCH, EDGE, bias=1)
    assert e.result.tolist() == [[1.0]]
    text = str(e)
    assert "y[0,0] = 1*(-1) + 0*0 + 2*1 + 5*(-1) + 4*0 + 2*1 + 3*(-1) + 4*0 + 5*1 + 1" in text
    assert "= -1 + 0 + 2 - 5 + 0 + 2 - 3 + 0 + 5 + 1" in text
    assert text.rstrip().endswith("Output:\n    1")
    # the same from text, as on the command line
    assert convolution("1 0 2; 5 4 2; 3 4 5", "-1 0 1; -1 0 1; -1 0 1", 1).result[0, 0] == 1


def test_not_flipped():
    # a true (flipped) convolution would give -1 here; deep learning's does not flip
    assert convolution([[1, 2]], [[1, 0]]).result.tolist() == [[1.0]]


def test_stride_padding_and_every_output():
    e = convolution(np.arange(1, 10).reshape(3, 3), [[1, 0], [0, -1]], bias=-0.5, stride=2,
                    padding=1)
    assert e.result.tolist() == [[-1.5, -3.5], [-7.5, -4.5]]
    assert e.padded.shape == (5, 5)
    assert str(e).count("y[") == 4 + 1  # four outputs and the formula line


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("shape, kernel, stride, padding", [
    ((5, 5), (3, 3), 1, 0), ((6, 7), (2, 3), 2, 1), ((4, 4), (3, 3), 1, "same"),
    ((5, 4), (2, 2), 1, "same"), ((3, 3), (3, 3), 3, 2)])
def test_matches_torch(torch, rng, shape, kernel, stride, padding):
    x, w, b = rng.standard_normal(shape), rng.standard_normal(kernel), rng.standard_normal()
    e = convolution(x, w, b, stride, padding)
    expected = torch.nn.functional.conv2d(torch.tensor(x)[None, None], torch.tensor(w)[None, None],
                                          torch.tensor([b]), stride, padding)[0, 0].numpy()
    np.testing.assert_allclose(e.result, expected, rtol=1e-12, atol=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="larger than the padded input"):
        convolution([[1, 2]], EDGE)
    with pytest.raises(ValueError, match="rows have different lengths"):
        convolution("1 2; 3", EDGE)
    with pytest.raises(ValueError, match="stride 1"):
        convolution(PATCH, EDGE, stride=2, padding="same")
