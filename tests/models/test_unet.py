"""U-Net and UNet++: shapes at odd sizes, the paper's unpadded sizes, skips, deep
supervision and pruning, training steps and checkpoints."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.models.segmentation import UNet, UNetPlusPlus, unet, unet_plus_plus
from ember.models.segmentation.unet import unpadded_output_size


@pytest.mark.parametrize("bilinear", [False, True])
@pytest.mark.parametrize("size", [(16, 16), (17, 23), (31, 20), (45, 33)])
def test_padded_unet_keeps_any_size(size, bilinear):
    model = unet(3, 5, base_channels=4, bilinear=bilinear, depth=3)
    assert model(em.zeros(2, 3, *size)).shape == (2, 5, *size)


@pytest.mark.parametrize("skip", ["concat", "add", "none"])
def test_skip_modes(skip):
    model = unet(1, 2, base_channels=4, depth=2, skip=skip)
    assert model(em.zeros(1, 1, 13, 19)).shape == (1, 2, 13, 19)
    first_decoder_conv = model.decoder[-1].conv[0]
    # concat: the skip's 4 channels join the 4 upsampled ones; add/none keep 4
    assert first_decoder_conv.in_channels == (8 if skip == "concat" else 4)


def test_skip_none_ignores_the_encoder_maps_and_add_sums_them():
    em.manual_seed(0)
    plain = unet(1, 2, base_channels=4, depth=1, skip="none").eval()
    x = em.randn(1, 1, 8, 8)
    with em.no_grad():
        top = plain.encoder[0](x)
        up = plain.decoder[0].up(plain.encoder[1](plain.pool(top)))
        np.testing.assert_allclose(plain(x).numpy(),
                                   plain.head(plain.decoder[0].conv(up)).numpy(), rtol=1e-6)
    added = unet(1, 2, base_channels=4, depth=1, skip="add").eval()
    with em.no_grad():
        top = added.encoder[0](x)
        up = added.decoder[0].up(added.encoder[1](added.pool(top)))
        np.testing.assert_allclose(added(x).numpy(),
                                   added.head(added.decoder[0].conv(up + top)).numpy(),
                                   rtol=1e-6)


def test_the_papers_unpadded_unet():
    """572x572 in, 388x388 out, skips centre-cropped; 31,030,658 parameters (1 input
    channel, 2 classes, no BatchNorm), counted by hand from the paper's figure 1."""
    paper = unet(1, 2, padding=False, batch_norm=False)
    assert sum(p.numel() for p in paper.parameters()) == 31_030_658
    narrow = unet(1, 2, base_channels=1, padding=False)
    assert narrow(em.zeros(1, 1, 572, 572)).shape == (1, 2, 388, 388)
    assert unpadded_output_size(572) == 388
    # other valid sides (16 k + 188 at depth 4): output = input - 184, per axis
    assert narrow(em.zeros(1, 1, 188, 204)).shape == (1, 2, 4, 20)
    assert [unpadded_output_size(s) for s in (188, 252, 316)] == [4, 68, 132]
    with pytest.raises(ValueError, match="570.*279-pixel.*572"):
        narrow(em.zeros(1, 1, 570, 570))
    with pytest.raises(ValueError, match="nothing at the bottom"):
        unpadded_output_size(124)


def test_unet_paper_channels_and_defaults():
    model = unet(3, 2)
    assert [block[0].out_channels for block in model.encoder] == [64, 128, 256, 512, 1024]
    assert sum(p.numel() for p in model.parameters()) == 31_037_698
    assert isinstance(model.decoder[0].up, em.nn.ConvTranspose2d)
    with pytest.raises(ValueError, match="too small for depth 4"):
        unet(1, 2, base_channels=2)(em.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match="skip must be one of"):
        UNet(skip="sum")


@pytest.mark.parametrize("size", [(16, 16), (19, 23), (33, 17)])
def test_unet_plus_plus_outputs_one_map_per_depth(size):
    model = unet_plus_plus(2, 3, base_channels=4, depth=3)
    outputs = model(em.zeros(2, 2, *size))
    assert isinstance(outputs, list) and len(outputs) == 3
    assert all(o.shape == (2, 3, *size) for o in outputs)
    model.eval()
    assert model(em.zeros(2, 2, *size)).shape == (2, 3, *size)


def test_unet_plus_plus_nodes_and_channels():
    model = unet_plus_plus(1, 2, base_channels=4, depth=3)
    assert sorted(model.blocks) == sorted(f"{i}_{j}" for j in range(4) for i in range(4 - j))
    # X^{i,j} reads j maps of level i and one upsampled map of level i + 1
    assert model.blocks["0_3"][0].in_channels == 3 * 4 + 8
    assert model.blocks["1_2"][0].in_channels == 2 * 8 + 16
    assert len(model.heads) == 3
    single = unet_plus_plus(1, 2, base_channels=4, depth=3, deep_supervision=False)
    assert len(single.heads) == 1 and single(em.zeros(1, 1, 16, 16)).shape == (1, 2, 16, 16)


def test_pruning_runs_only_the_smaller_network():
    model = unet_plus_plus(1, 2, base_channels=4, depth=3).eval().prune(1)
    calls = []
    hook = model.blocks["2_0"].register_forward_hook(lambda *args: calls.append(1))
    with em.no_grad():
        assert model(em.randn(1, 1, 16, 16)).shape == (1, 2, 16, 16)
    assert calls == []  # level 2 is pruned away at depth 1
    model.prune(3)
    with em.no_grad():
        model(em.randn(1, 1, 16, 16))
    assert calls == [1]
    hook.remove()
    with pytest.raises(ValueError, match="1..3"):
        model.prune(4)
    with pytest.raises(ValueError, match="deep_supervision"):
        unet_plus_plus(1, 2, base_channels=4, depth=3, deep_supervision=False).prune(2)


def test_pruned_output_equals_the_full_models_output_at_that_depth():
    """In eval mode (running statistics) the depth-k prediction of the full network and
    of the pruned one are the same numbers: pruning drops only unused nodes."""
    em.manual_seed(0)
    model = UNetPlusPlus(1, 2, base_channels=4, depth=3).eval()
    x = em.randn(2, 1, 20, 20)
    with em.no_grad():
        model.training = True  # the list of all outputs ...
        for m in model.modules():
            if m is not model:
                m.training = False  # ... with BatchNorm in eval mode
        everything = [o.numpy() for o in model(x)]
        model.eval()
        for k in (1, 2, 3):
            np.testing.assert_allclose(model.prune(k)(x).numpy(), everything[k - 1],
                                       rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("builder", [
    lambda: unet(3, 3, base_channels=4, depth=2),
    lambda: unet_plus_plus(3, 3, base_channels=4, depth=2)])
def test_a_few_steps_reduce_the_loss_and_reach_every_parameter(builder):
    em.manual_seed(0)
    model = builder()
    x = em.randn(4, 3, 12, 12)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 1).long()
    loss_fn = em.nn.DeepSupervisionLoss(em.nn.CrossEntropyLoss())
    optimizer = em.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(5):
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        if not losses:
            assert all(p.grad is not None and np.abs(p.grad.numpy()).sum() > 0
                       for p in model.parameters())
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_checkpoint_round_trip(tmp_path):
    em.manual_seed(0)
    model = unet_plus_plus(3, 4, base_channels=4, depth=2)
    model(em.randn(2, 3, 8, 8))  # move the running statistics
    em.save(model.state_dict(), tmp_path / "unetpp.safetensors")
    copy = unet_plus_plus(3, 4, base_channels=4, depth=2)
    copy.load_state_dict(em.load(tmp_path / "unetpp.safetensors"))
    assert list(copy.state_dict()) == list(model.state_dict())
    for (name, a), b in zip(model.state_dict().items(), copy.state_dict().values(), strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    x = em.randn(1, 3, 9, 11)
    with em.no_grad():
        np.testing.assert_array_equal(model.eval()(x).numpy(), copy.eval()(x).numpy())
