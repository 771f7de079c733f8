"""Output sizes and receptive fields, hand-checked and against real layers."""

from __future__ import annotations

import pytest

import ember as em
from ember.explain import conv_output_size, receptive_field


@pytest.mark.parametrize("W, F, P, S, expected", [
    (32, 5, 2, 1, 32),     # 'same' by hand: (32 - 5 + 4)/1 + 1
    (227, 11, 0, 4, 55),   # AlexNet's first layer in the paper: (227 - 11)/4 + 1
    (224, 7, 3, 2, 112),   # ResNet's stem: floor(223/2) + 1
    (7, 3, 0, 2, 3),       # CS231n: (7 - 3)/2 + 1
    (8, 3, 0, 2, 3),       # floor(5/2) + 1: the last column is not covered
    (28, 5, 0, 1, 24),     # LeNet C1 on 28x28 without padding
    (4, 2, 0, 2, 2),       # 2x2 pooling
])
def test_hand_checked_sizes(W, F, P, S, expected):
    e = conv_output_size(W=W, F=F, P=P, S=S)
    assert e.result == e.output_size == expected
    assert f"= {expected}" in str(e)


def test_the_working_shows_the_substitution():
    text = str(conv_output_size(W=32, F=5, P=2, S=1))
    assert "O = floor((W - F + 2P) / S) + 1" in text
    assert "floor((32 - 5 + 2*2) / 1) + 1" in text and "floor(31 / 1) + 1" in text
    assert "not a multiple" in str(conv_output_size(8, 3, 0, 2))
    assert "not a multiple" not in text


def test_same_and_valid():
    assert conv_output_size(W=10, F=3, P="same").result == 10
    even = conv_output_size(W=10, F=4, P="same")
    assert even.result == 10 and even.padding == (1, 2)
    assert "1 before and 2 after" in str(even)
    assert conv_output_size(W=10, F=3, P="valid").result == 8
    with pytest.raises(ValueError, match="stride 1"):
        conv_output_size(W=10, F=3, P="same", S=2)


@pytest.mark.parametrize("W, F, P, S, D", [
    (9, 3, 1, 2, 1), (10, 4, 0, 3, 1), (11, 3, 2, 1, 2), (12, 2, 1, 2, 3), (5, 5, 0, 1, 1),
    (13, 3, "same", 1, 2), (14, 4, "same", 1, 1)])
def test_agrees_with_conv2d(W, F, P, S, D):
    layer = em.nn.Conv2d(1, 1, F, stride=S, padding=P, dilation=D)
    assert conv_output_size(W, F, P, S, D).result == layer(em.zeros(1, 1, W, W)).shape[-1]


def test_bad_arguments():
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv_output_size(W=3, F=5)
    with pytest.raises(ValueError, match="whole number"):
        conv_output_size(W=3.5, F=1)
    with pytest.raises(ValueError, match="at least 1"):
        conv_output_size(W=8, F=3, S=0)
    with pytest.raises(ValueError, match="'same' or 'valid'"):
        conv_output_size(W=8, F=3, P="full")


@pytest.mark.parametrize("layers, expected", [
    ("conv3,conv3,pool2,conv3", 10),       # 1 + 2 + 2 + 1 + 2*2
    ("conv3,conv3,conv3", 7),              # three 3x3 see 7x7 (VGG's argument)
    ("conv3,conv3", 5),
    (["conv7s2", "maxpool3s2"], 11),       # ResNet's stem: 7 + 2*2
    ("conv11s4,pool3s2,conv5", 51),        # AlexNet: 11 + 2*4 + 4*8
    ("conv3d2", 5),                        # dilation 2: a 3x3 kernel spans 5
    ("pool2,pool2,pool2", 8),
])
def test_receptive_fields(layers, expected):
    e = receptive_field(layers)
    assert e.result == e.receptive_field == expected
    assert e.fields[-1] == expected


def test_receptive_field_working():
    e = receptive_field("conv3,conv3,pool2,conv3")
    assert e.fields == [3, 5, 6, 10] and e.jumps == [1, 1, 2, 2]
    assert "r_4 = 6 + (3 - 1)*2 = 10" in str(e)
    with pytest.raises(ValueError, match="cannot read layer 'fc3'"):
        receptive_field("conv3,fc3")
    with pytest.raises(ValueError, match="cannot read layer"):
        receptive_field("")
