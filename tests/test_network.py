"""The model code against the paper's text and Table 1, and against torchvision."""

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


def test_naive_inception_pass_through_pool_grows_channels():
    block = NaiveInception(192, 64, 128, 32)
    assert block(torch.randn(2, 192, 28, 28)).shape == (2, 64 + 128 + 32 + 192, 28, 28)
    projected = NaiveInception(192, 64, 128, 32, pool_proj=32)
    assert projected(torch.randn(1, 192, 28, 28)).shape[1] == 256


def test_inception_3a_matches_table1_output_and_has_real_5x5():
    block = Inception(192, *TABLE1["3a"])
    assert block(torch.randn(1, 192, 28, 28)).shape == (1, 256, 28, 28)
    assert block.branch3[1].conv.kernel_size == (5, 5)
    assert Inception(192, *TABLE1["3a"], branch3_kernel=3).branch3[1].conv.kernel_size == (3, 3)


def test_aux_head_layers_follow_the_paper():
    aux = InceptionAux(512, 1000)
    assert isinstance(aux.pool, nn.AvgPool2d) and aux.pool.kernel_size == 5 and aux.pool.stride == 3
    assert aux.conv.conv.out_channels == 128 and aux.conv.conv.kernel_size == (1, 1)
    assert (aux.fc1.in_features, aux.fc1.out_features) == (2048, 1024)
    assert aux.dropout.p == 0.7
    assert aux(torch.randn(2, 512, 14, 14)).shape == (2, 1000)
    assert aux.pool(torch.randn(1, 512, 14, 14)).shape[-2:] == (4, 4)


def test_googlenet_defaults_follow_the_paper():
    model = GoogLeNet()
    assert isinstance(model.lrn1, nn.LocalResponseNorm) and isinstance(model.lrn2, nn.LocalResponseNorm)
    assert model.dropout.p == 0.4
    assert model.conv1.bn is None and model.conv1.conv.bias is not None
    assert model.maxpool4.kernel_size == 3
    assert model.inception5b.out_channels == 1024


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
        assert torch.allclose(ours(x), tv(x), atol=1e-5)
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in tv.parameters())


def test_small_stem_and_width():
    model = GoogLeNet(10, **CIFAR, width=0.25)
    out = model.train()(torch.randn(2, 3, 32, 32))
    assert [o.shape for o in out] == [(2, 10)] * 3
    assert model.inception5b.out_channels == 256


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
