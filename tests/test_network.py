"""The model code against the paper's text and Table 1, and against torchvision."""

import inspect
import re

import pytest
import torch
import torchvision
from torch import nn

from gooknet_helpers import (
    CIFAR,
    TABLE1,
    GoogLeNet,
    GoogLeNetOutputs,
    Inception,
    InceptionAux,
    NaiveInception,
    from_torchvision,
    googlenet_loss,
)
from gooknet_helpers.blocks import naive_with_pool_proj
from gooknet_helpers.network import TORCHVISION
from gooknet_helpers.shapes import forward_order
from gooknet_helpers.table1 import AUX, FINAL_DROPOUT, PRINTED, STEM, input_channels, scaled


def test_naive_inception_pass_through_pool_grows_channels():
    block = NaiveInception(192, 64, 128, 32)
    assert block(torch.randn(2, 192, 28, 28)).shape == (2, 64 + 128 + 32 + 192, 28, 28)
    projected = NaiveInception(192, 64, 128, 32, pool_proj=32)
    assert projected(torch.randn(1, 192, 28, 28)).shape[1] == 256


def test_table1_widths_agree_with_the_printed_output_sizes():
    for name, widths in TABLE1.items():
        assert widths.out_channels == PRINTED[f"inception{name}"].output[2], name
    assert input_channels("3a") == STEM.conv3 == PRINTED["conv2+conv3"].output[2] == PRINTED["maxpool2"].output[2]
    assert PRINTED["conv1"].output[2] == STEM.conv1
    assert TABLE1["5b"].ch5x5red == TABLE1["5b"][3]  # named fields, in the paper's column order
    assert TABLE1["3a"].scaled(1.0) == TABLE1["3a"]
    assert TABLE1["3a"].scaled(0.25, 8) == tuple(scaled(c, 0.25, 8) for c in TABLE1["3a"])


def test_inception_3a_matches_table1_output_and_has_real_5x5():
    block = Inception(input_channels("3a"), *TABLE1["3a"])
    c, h, w = PRINTED["inception3a"].shape
    assert block(torch.randn(1, input_channels("3a"), h, w)).shape == (1, c, h, w)
    assert block.branch3[1].conv.kernel_size == (5, 5)
    assert Inception(192, *TABLE1["3a"], branch3_kernel=3).branch3[1].conv.kernel_size == (3, 3)


def test_aux_head_layers_follow_the_paper():
    aux = InceptionAux(512, 1000)
    assert isinstance(aux.pool, nn.AvgPool2d) and (aux.pool.kernel_size, aux.pool.stride) == AUX[:2]
    assert aux.conv.conv.out_channels == AUX.conv_channels and aux.conv.conv.kernel_size == (1, 1)
    assert (aux.fc1.in_features, aux.fc1.out_features) == (AUX.conv_channels * 4 * 4, AUX.fc_features)
    assert aux.dropout.p == AUX.dropout
    assert aux(torch.randn(2, 512, 14, 14)).shape == (2, 1000)
    assert aux.pool(torch.randn(1, 512, 14, 14)).shape[-2:] == (4, 4)


def test_googlenet_defaults_follow_the_paper():
    model = GoogLeNet()
    assert isinstance(model.lrn1, nn.LocalResponseNorm) and isinstance(model.lrn2, nn.LocalResponseNorm)
    assert model.dropout.p == FINAL_DROPOUT
    assert model.conv1.bn is None and model.conv1.conv.bias is not None
    assert model.maxpool4.kernel_size == 3
    assert model.inception5b.out_channels == PRINTED["inception5b"].output[2]
    assert (model.aux1.conv.conv.in_channels, model.aux2.conv.conv.in_channels) == (
        TABLE1["4a"].out_channels,
        TABLE1["4d"].out_channels,
    )


def test_modules_are_registered_in_forward_order():
    """print(model) lists the layers as Figure 3 draws them: each aux head right after the module it reads."""
    for kwargs in ({}, TORCHVISION, {**CIFAR, "block": "naive"}):
        model = GoogLeNet(10, width=0.125, **kwargs).train()
        called = []
        for name, module in model.named_children():
            module.register_forward_hook(lambda *_, name=name, called=called: called.append(name))
        model(torch.randn(1, 3, 224, 224) if "stem" not in kwargs else torch.randn(1, 3, 32, 32))
        assert called == [name for name, _ in model.named_children()]
    names = [name for name, _ in model.named_children()]
    assert names.index("aux1") == names.index("inception4a") + 1
    assert names.index("aux2") == names.index("inception4d") + 1


def test_shape_comments_in_forward_are_the_real_shapes():
    shapes = dict(forward_order(GoogLeNet(aux_logits=False), 224))
    shapes["flatten"] = shapes["avgpool"][:1]
    source = inspect.getsource(GoogLeNet.forward)
    checked, layer = 0, None
    for line in source.splitlines():
        line = line.strip()
        if call := re.fullmatch(r"x = self\.([a-z]\w*)\(x\)", line):
            layer = call.group(1)
        elif line == "x = torch.flatten(x, 1)":
            layer = "flatten"
        elif comment := re.fullmatch(r"# N x ([\d x]+?)( \(num_classes\))?", line):
            dims = tuple(int(d) for d in comment.group(1).split(" x "))
            assert dims == ((3, 224, 224) if layer is None else shapes[layer]), (layer, line)
            checked += 1
    assert checked == 20  # the input, every layer that changes the shape, and the flattened vector


def test_width_scales_every_layer_and_config_rebuilds_the_model():
    model = GoogLeNet(10, **CIFAR, width=0.25, channel_multiple=8)
    assert model.conv3.conv.out_channels == scaled(STEM.conv3, 0.25, 8)
    assert model.inception4e.out_channels == TABLE1["4e"].scaled(0.25, 8).out_channels
    assert model.aux1.fc1.out_features == scaled(AUX.fc_features, 0.25, 8)
    assert model.aux1.conv.conv.out_channels == scaled(AUX.conv_channels, 0.25, 8)
    rebuilt = GoogLeNet(**model.config)
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == {k: v.shape for k, v in model.state_dict().items()}


def test_naive_block_is_naive_with_pool_projection():
    model = GoogLeNet(block="naive", aux_logits=False)
    assert isinstance(model.inception3b, NaiveInception) and len(model.inception3b.branch4) == 2
    for name, widths in TABLE1.items():
        assert getattr(model, f"inception{name}").out_channels == widths.out_channels
    module = naive_with_pool_proj(input_channels("3b"), *TABLE1["3b"])
    assert [p.shape for p in module.parameters()] == [p.shape for p in model.inception3b.parameters()]


def test_train_mode_returns_named_tuple_and_eval_returns_logits():
    model = GoogLeNet(num_classes=10)
    x = torch.randn(2, 3, 224, 224)
    out = model.train()(x)
    assert isinstance(out, GoogLeNetOutputs)
    assert [o.shape for o in out] == [(2, 10)] * 3
    with torch.no_grad():
        assert model.eval()(x).shape == (2, 10)
    assert GoogLeNet(num_classes=10, aux_logits=False).train()(x).shape == (2, 10)


def test_loss_weights_aux_heads_by_0_3():
    targets = torch.tensor([0, 1])
    logits, aux1, aux2 = (torch.randn(2, 3) for _ in range(3))
    ce = nn.functional.cross_entropy
    expected = ce(logits, targets) + 0.3 * (ce(aux1, targets) + ce(aux2, targets))
    assert torch.allclose(googlenet_loss(GoogLeNetOutputs(logits, aux1, aux2), targets), expected)
    assert torch.allclose(googlenet_loss(logits, targets), ce(logits, targets))


@pytest.mark.parametrize("aux", [True, False])
def test_from_torchvision_matches_outputs(aux):
    torch.manual_seed(0)
    tv = torchvision.models.googlenet(weights=None, aux_logits=aux, init_weights=True, transform_input=True)
    tv.eval()
    ours = from_torchvision(tv)
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        assert torch.equal(ours(x), tv(x))  # the same weights, the same operations: not one bit differs
    assert list(ours.state_dict()) == [k for k in ours.state_dict() if k in tv.state_dict()]
    assert set(ours.state_dict()) == set(tv.state_dict())


def test_small_stem_and_width():
    model = GoogLeNet(10, **CIFAR, width=0.25)
    out = model.train()(torch.randn(2, 3, 32, 32))
    assert [o.shape for o in out] == [(2, 10)] * 3
    assert model.inception5b.out_channels == TABLE1["5b"].scaled(0.25).out_channels


@pytest.mark.parametrize(
    "make",
    [
        lambda: Inception(192, 0, 96, 128, 16, 32, 32),
        lambda: NaiveInception(-1, 64, 128, 32),
        lambda: Inception(192, 64, 96, 128, 16, 32, 32.5),
        lambda: GoogLeNet(num_classes=0),
        lambda: GoogLeNet(stem="tiny"),
    ],
)
def test_bad_construction_raises_clear_error(make):
    with pytest.raises(ValueError, match="must be"):
        make()


def test_wrong_channel_count_and_too_small_image():
    model = GoogLeNet(10).eval()
    with pytest.raises(ValueError, match="3 input channels but got a tensor with 1"):
        model(torch.randn(1, 1, 224, 224))
    with pytest.raises(ValueError, match="4-D tensor"):
        model(torch.randn(3, 224, 224))
    n = model.min_input_size
    with pytest.raises(ValueError, match=f"at least {n}x{n}"):
        model(torch.randn(1, 3, n - 1, n - 1))
    with torch.no_grad():
        assert model(torch.randn(1, 3, n, n)).shape == (1, 10)
    with pytest.raises(ValueError, match="192 input channels but got a tensor with 100"):
        Inception(192, *TABLE1["3a"])(torch.randn(1, 100, 28, 28))


def test_training_mode_needs_the_size_its_aux_heads_need():
    """Regression (issue 22): at the reported smallest input, 31x31, training mode died inside PyTorch's aux pool."""
    model = GoogLeNet(10).train()
    # By hand, for the paper's stem: 223 -> conv1 112 -> pool 56 -> pool 28 -> pool 14 at 4a, which the 5x5/3 pool
    # takes to 4x4; 222 -> 111 -> 55 -> 27 -> 13 at 4a, which it would take to 3x3.
    assert (model.min_input_size, model.min_train_input_size) == (31, 223)
    with pytest.raises(ValueError, match=r"training mode.*223x223.*model\.eval\(\)"):
        model(torch.zeros(2, 3, 31, 31))
    with pytest.raises(ValueError, match="training mode"):
        model(torch.zeros(1, 3, 222, 222))
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 223, 223)).aux1.shape == (1, 10)
        assert model.eval()(torch.zeros(1, 3, 31, 31)).shape == (1, 10)  # without the heads, 31 is enough
    adaptive = GoogLeNet(10, **TORCHVISION)
    assert adaptive.min_train_input_size == adaptive.min_input_size == 15
    with pytest.raises(ValueError, match="14x14"):  # the head itself says so before its pool, not PyTorch after it
        InceptionAux(512, 10)(torch.zeros(1, 512, 4, 4))
