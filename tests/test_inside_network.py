"""Looking inside the network (shapes, gradients, pitfalls, pretrained; costs.count_params) against Table 1, hand
arithmetic and PyTorch itself."""

import socket

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gooknet_helpers import costs, gradients, pitfalls, pretrained, shapes
from gooknet_helpers.network import TORCHVISION, GoogLeNet
from gooknet_helpers.table1 import PRINTED


@pytest.fixture(scope="module")
def paper() -> GoogLeNet:
    torch.manual_seed(0)
    return GoogLeNet()


def test_shapes_at_224_match_table1(paper):
    outputs = dict(shapes.forward_order(paper, 224))
    for row in PRINTED.values():
        flat = row.name in ("dropout", "fc")  # after torch.flatten: (C,) where Table 1 prints 1x1xC
        assert outputs[row.layers[-1]] == (row.shape[:1] if flat else row.shape), row.name
    assert "aux1" not in outputs and "aux2" not in outputs  # eval mode: the heads do not run


def test_forward_order_follows_forward_and_skips_identity():
    names = [name for name, _ in shapes.forward_order(GoogLeNet(aux_logits=False, **TORCHVISION))]
    assert "lrn1" not in names and "lrn2" not in names
    assert names.index("maxpool3") == names.index("inception3b") + 1
    assert names.index("maxpool4") == names.index("inception4e") + 1
    assert names[-3:] == ["avgpool", "dropout", "fc"]


def test_depth_is_22_and_27_with_pooling(paper):
    assert shapes.network_depth(paper) == 22
    assert shapes.network_depth(paper, count_pools=True) == 27
    assert shapes.loss_depths(paper) == {"main": 22, "aux1": 12, "aux2": 18}


def test_receptive_fields_by_hand(paper):
    fields = {f.name: (f.size, f.stride) for f in shapes.receptive_fields(paper)}
    assert fields["conv1"] == (7, 2)
    assert fields["maxpool1"] == (7 + 2 * 2, 4)
    assert fields["conv3"] == (11 + 2 * 4, 4)
    assert fields["maxpool2"] == (19 + 2 * 4, 8)
    assert fields["inception3a"] == (27 + 4 * 8, 8)  # widest branch: 1x1 then 5x5
    assert fields["inception5b"] == (715, 32)
    assert "avgpool" not in fields


def test_receptive_field_shrinks_with_torchvision_3x3_branch():
    fields = {f.name: f.size for f in shapes.receptive_fields(GoogLeNet(aux_logits=False, **TORCHVISION))}
    assert fields["inception3a"] == 27 + 2 * 8
    assert fields["maxpool4"] == fields["inception4e"] + 1 * 16  # 2x2 pool adds one step
    assert fields["inception5b"] == 379


def test_receptive_field_matches_gradient_support():
    """The theoretical field is where an output unit's input gradient can be non-zero."""
    torch.manual_seed(0)
    stem = nn.Sequential(nn.Conv2d(1, 4, 7, 2, 3), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True), nn.Conv2d(4, 4, 3))
    size, _ = shapes.geometry(stem)
    x = torch.rand(1, 1, 64, 64, requires_grad=True)
    out = stem(x)
    out[0, :, out.shape[2] // 2, out.shape[3] // 2].sum().backward()
    rows = x.grad[0, 0].abs().sum(dim=1).nonzero()
    assert rows.max() - rows.min() + 1 <= size == 7 + 2 * 2 + 2 * 4


def test_geometry_refuses_unknown_layers():
    with pytest.raises(TypeError, match="Upsample"):
        shapes.geometry(nn.Upsample(scale_factor=2))


def test_padding_share_by_hand():
    assert shapes.padding_share(7, 5) == pytest.approx(1 - 29**2 / (49 * 25))
    assert shapes.padding_share(100, 1) == 0


@pytest.mark.parametrize("pool", ["paper", "adaptive"])
def test_pool_windows_are_what_pytorch_averages(pool):
    layer = nn.AvgPool2d(5, stride=3) if pool == "paper" else nn.AdaptiveAvgPool2d((4, 4))
    ramp = torch.arange(14.0).view(1, 1, 14, 1).expand(1, 1, 14, 14)
    expected = [sum(range(a, b)) / (b - a) for a, b in shapes.pool_windows(14, pool)]
    assert layer(ramp)[0, 0, :, 0].tolist() == pytest.approx(expected)


def test_aux_windows_differ_at_14x14():
    assert shapes.pool_windows(14, "paper") != shapes.pool_windows(14, "adaptive")


def test_aux_losses_raise_early_gradient_and_leave_late_stages_alone(paper):
    torch.manual_seed(0)
    rows = gradients.gradient_norms(paper, torch.randn(2, 3, 224, 224), torch.tensor([1, 2]))
    by_name = {r.name: r for r in rows}
    assert [r.name for r in rows][:3] == ["conv1", "conv2", "conv3"] and len(rows) == 12
    assert by_name["conv1"].with_aux > 10 * by_name["conv1"].main  # default init: the main gradient vanishes
    assert by_name["inception5b"].main > 1000 * by_name["conv1"].main
    for name in ("inception4e", "inception5a", "inception5b"):
        assert by_name[name].with_aux == by_name[name].main


def test_gradient_norms_are_rms_per_parameter():
    model = GoogLeNet(num_classes=4, width=0.25)
    x, y = torch.randn(2, 3, 224, 224), torch.tensor([1, 2])
    torch.manual_seed(1)  # the same dropout masks in both forward passes
    rows = gradients.gradient_norms(model, x, y)
    torch.manual_seed(1)
    F.cross_entropy(model.train()(x).logits, y).backward()
    grads = torch.cat([p.grad.flatten() for p in model.conv1.parameters()])
    assert rows[0].main == pytest.approx(grads.square().mean().sqrt().item(), rel=1e-4)


def test_gradient_norms_restores_mode_and_needs_aux(paper):
    paper.eval()
    gradients.gradient_norms(paper, torch.randn(1, 3, 224, 224), torch.tensor([0]))
    assert not paper.training
    with pytest.raises(ValueError, match="aux_logits=True"):
        gradients.gradient_norms(GoogLeNet(aux_logits=False), torch.randn(1, 3, 224, 224), torch.tensor([0]))


def test_he_init_keeps_gradient_from_vanishing():
    torch.manual_seed(0)
    model = gradients.he_init(GoogLeNet())
    rows = gradients.gradient_norms(model, torch.randn(2, 3, 224, 224), torch.tensor([1, 2]))
    assert rows[0].with_aux < 1.5 * rows[0].main
    rms = [r.main for r in rows]
    assert max(rms) < 10 * min(rms)  # about the same gradient per parameter in every stage


def test_aux_heads_roughly_double_the_parameters(paper):
    aux = costs.count_params(paper.aux1) + costs.count_params(paper.aux2)
    main = costs.count_params(paper) - aux
    assert main == 6_998_552
    assert costs.count_params(paper.aux1) == 512 * 128 + 128 + 2048 * 1024 + 1024 + 1024 * 1000 + 1000
    assert 1.8 < (main + aux) / main < 2.0


def test_towards_torchvision_ends_at_torchvision_counts():
    torchvision = pytest.importorskip("torchvision")
    rows = costs.towards_torchvision()
    assert rows[0] == ("paper", 6_998_552, 13_378_280)
    with torch.device("meta"):
        plain = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False)
        full = torchvision.models.googlenet(weights=None, aux_logits=True, init_weights=False)
    assert rows[-1][1:] == (costs.count_params(plain), costs.count_params(full))


def test_fuse_1x1_equals_the_two_convolutions_inside_the_border():
    torch.manual_seed(0)
    reduce, conv = nn.Conv2d(12, 3, 1), nn.Conv2d(3, 5, 5, padding=2)
    x = torch.randn(2, 12, 10, 10)
    two, one = conv(reduce(x)), pitfalls.fuse_1x1(reduce, conv)(x)
    assert torch.allclose(two[..., 2:-2, 2:-2], one[..., 2:-2, 2:-2], atol=1e-5)
    assert not torch.allclose(two, one, atol=1e-5)  # the border differs: padding meets the 1x1's bias


@pytest.mark.parametrize("biases", [(False, False), (False, True), (True, False)])
def test_fuse_1x1_takes_convolutions_without_bias(biases):
    """Regression (issue 22): the batch-norm blocks' convolutions have no bias, and fuse_1x1 raised TypeError."""
    torch.manual_seed(0)
    reduce, conv = nn.Conv2d(12, 3, 1, bias=biases[0]), nn.Conv2d(3, 5, 5, padding=2, bias=biases[1])
    x = torch.randn(2, 12, 10, 10)
    fused = pitfalls.fuse_1x1(reduce, conv)
    assert (fused.bias is not None) == any(biases)
    two, one = conv(reduce(x)), fused(x)
    assert torch.allclose(two[..., 2:-2, 2:-2], one[..., 2:-2, 2:-2], atol=1e-5)
    if not biases[0]:  # no 1x1 bias for the padding to meet: equal at the border too
        assert torch.allclose(two, one, atol=1e-5)


def test_shadowed_train_breaks_eval():
    with pytest.raises(TypeError, match="not callable"):
        pitfalls.ShadowedTrain().eval()


def test_aux_only_forward_starves_the_main_head():
    torch.manual_seed(0)
    model = pitfalls.AuxOnlyGoogLeNet(num_classes=4, width=0.25).train()
    out = model(torch.randn(2, 3, 224, 224))
    sum(F.cross_entropy(o, torch.tensor([0, 1])) for o in out).backward()
    assert model.fc.weight.grad is None and model.inception5b.branch1.conv.weight.grad is None
    assert model.conv1.conv.weight.grad is not None


def test_pretrained_loader_skips_quietly_and_restores_timeout(monkeypatch, capsys):
    torchvision = pytest.importorskip("torchvision")

    def offline(**kwargs):
        raise OSError("no network")

    monkeypatch.setattr(torchvision.models, "googlenet", offline)
    before = socket.getdefaulttimeout()
    assert pretrained.load_pretrained_googlenet(timeout=1) is None
    assert socket.getdefaulttimeout() == before
    assert "skipping" in capsys.readouterr().out


def test_printed_rows_name_model_layers_and_depths(paper):
    names = [name for name, _ in shapes.forward_order(paper)]
    layers = [layer for row in PRINTED.values() for layer in row.layers]
    assert layers == [n for n in names if not n.startswith("lrn")]  # Table 1 leaves out only the LRNs
    for row in PRINTED.values():
        assert sum(shapes.depth(getattr(paper, layer)) for layer in row.layers) == row.depth, row.name
    assert shapes.network_depth(paper) == sum(row.depth for row in PRINTED.values())


def test_top_k_reads_labels_from_the_weights_enum():
    torchvision = pytest.importorskip("torchvision")
    from gooknet_helpers.network import from_torchvision

    weights = torchvision.models.GoogLeNet_Weights.DEFAULT  # metadata only: nothing is downloaded
    torch.manual_seed(0)
    model = from_torchvision(torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=True))
    photo = pretrained.sample_photo()
    assert photo is not None and photo.mode == "RGB"
    top = pretrained.top_k(model, weights, photo, k=5)
    probs = [p for _, p in top]
    assert len(top) == 5 and probs == sorted(probs, reverse=True) and sum(probs) <= 1
    assert all(label in weights.meta["categories"] for label, _ in top)
