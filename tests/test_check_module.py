"""module_checks.check_module: the usual wrong modules are caught with a message that names the mistake."""

import pytest
import torch
from torch import nn

from gooknet_helpers import BasicConv2d, Inception, InceptionAux, NaiveInception
from gooknet_helpers.module_checks import check_module

# ---- Notebook 01: the naive module's forward (the constructor is the package's) ----


class NaiveRight(NaiveInception):
    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], dim=1)


class NaiveBatchDim(NaiveInception):
    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], dim=0)


class NaiveNoPool(NaiveInception):
    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x)], dim=1)


class NaiveOrder(NaiveInception):
    def forward(self, x):
        return torch.cat([self.branch2(x), self.branch1(x), self.branch3(x), self.branch4(x)], dim=1)


class NaiveShrinkingPool(NaiveInception):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=2, padding=1))


class NaiveReluAfterCat(NaiveInception):
    def forward(self, x):
        return torch.relu(super().forward(x))


# ---- Notebook 02: the bottleneck module, constructor and forward ----


class InceptionRight(nn.Module):
    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj, kernel=5, pool_stride=1):
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, ch1x1, 1)
        self.branch2 = nn.Sequential(BasicConv2d(in_channels, ch3x3red, 1), BasicConv2d(ch3x3red, ch3x3, 3, padding=1))
        self.branch3 = nn.Sequential(
            BasicConv2d(in_channels, ch5x5red, 1), BasicConv2d(ch5x5red, ch5x5, kernel, padding=kernel // 2)
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(3, stride=pool_stride, padding=1, ceil_mode=True), BasicConv2d(in_channels, pool_proj, 1)
        )

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], dim=1)


class InceptionThreeByThree(InceptionRight):
    def __init__(self, *args):
        super().__init__(*args, kernel=3)


class InceptionPoolStride2(InceptionRight):
    def __init__(self, *args):
        super().__init__(*args, pool_stride=2)


class InceptionNoPoolPadding(InceptionRight):
    def __init__(self, *args):
        super().__init__(*args)
        self.branch4[0] = nn.MaxPool2d(3, stride=1)


class InceptionBareReduction(InceptionRight):
    """The 1x1 reduction as a plain nn.Conv2d: no ReLU after it."""

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__(in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj)
        self.branch2[0] = nn.Conv2d(in_channels, ch3x3red, 1)


class ConvNoReLU(BasicConv2d):
    def forward(self, x):
        return self.conv(x)


class InceptionSkippedReLU(InceptionRight):
    """The 5x5 branch's reduction keeps BasicConv2d's names but never applies its ReLU."""

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__(in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj)
        self.branch3[0] = ConvNoReLU(in_channels, ch5x5red, 1)


class InceptionNoPoolBranch(InceptionRight):
    def __init__(self, *args):
        super().__init__(*args)
        del self.branch4

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x)], dim=1)


class InceptionSwappedWidths(InceptionRight):
    """Reduction and output widths of the 3x3 branch swapped."""

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__(in_channels, ch1x1, ch3x3, ch3x3red, ch5x5red, ch5x5, pool_proj)


class InceptionWrongSignature(InceptionRight):
    def __init__(self, in_channels, widths):
        super().__init__(in_channels, *widths)


# ---- Notebook 03: the auxiliary head ----


class AuxRight(nn.Module):
    def __init__(self, in_channels, num_classes, pool=None, dropout=0.7, relu_after_fc1=True):
        super().__init__()
        self.pool = pool if pool is not None else nn.AvgPool2d(5, stride=3)
        self.conv = BasicConv2d(in_channels, 128, 1)
        self.fc1 = nn.Linear(128 * 4 * 4, 1024)
        self.relu = nn.ReLU(inplace=True) if relu_after_fc1 else nn.Identity()
        self.dropout = nn.Dropout(dropout)
        self.fc2 = nn.Linear(1024, num_classes)

    def forward(self, x):
        x = self.conv(self.pool(x))
        x = self.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc2(self.dropout(x))


class AuxAdaptive(AuxRight):
    def __init__(self, in_channels, num_classes):
        super().__init__(in_channels, num_classes, pool=nn.AdaptiveAvgPool2d(4))


class AuxMaxPool(AuxRight):
    def __init__(self, in_channels, num_classes):
        super().__init__(in_channels, num_classes, pool=nn.MaxPool2d(5, stride=3))


class AuxNoReLU(AuxRight):
    def __init__(self, in_channels, num_classes):
        super().__init__(in_channels, num_classes, relu_after_fc1=False)


class AuxHalfDropout(AuxRight):
    def __init__(self, in_channels, num_classes):
        super().__init__(in_channels, num_classes, dropout=0.5)


class AuxNarrowConv(AuxRight):
    def __init__(self, in_channels, num_classes):
        super().__init__(in_channels, num_classes)
        self.conv = BasicConv2d(in_channels, 64, 1)
        self.fc1 = nn.Linear(64 * 4 * 4, 1024)


CORRECT = [("naive", NaiveRight), ("naive", NaiveInception), ("inception", InceptionRight), ("inception", Inception)]
CORRECT += [("aux", AuxRight), ("aux", InceptionAux)]


@pytest.mark.parametrize(("kind", "cls"), CORRECT)
def test_a_correct_module_passes(kind, cls, capsys):
    state = torch.random.get_rng_state()
    assert check_module(kind, cls) is True
    assert "Correct" in capsys.readouterr().out
    assert torch.equal(torch.random.get_rng_state(), state)  # the notebook's random numbers are left alone


WRONG = [
    ("naive", NaiveBatchDim, r"dimension 0, the batch.*dim=1"),
    ("naive", NaiveNoPool, r"branch4 \(the pool branch\) is missing"),
    ("naive", NaiveOrder, r"wrong order: yours are branch2, branch1, branch3, branch4"),
    ("naive", NaiveShrinkingPool, r"branch4\[0\] \(the 3x3 max pool\) turns the 8x8 map into 4x4.*stride=1"),
    ("naive", NaiveReluAfterCat, r"a ReLU runs after the concatenation"),
    (
        "inception",
        InceptionThreeByThree,
        r"branch3\[1\] \(the 5x5 convolution\) has a 3x3 kernel where the paper has 5x5",
    ),
    ("inception", InceptionPoolStride2, r"branch4\[0\] \(the 3x3 max pool\) turns the 8x8 map into 5x5.*stride=1"),
    ("inception", InceptionNoPoolPadding, r"into 6x6.*padding=1"),
    ("inception", InceptionBareReduction, r"branch2\[0\] \(the 1x1 reduction of the 3x3 branch\) is a bare.*ReLU"),
    ("inception", InceptionSkippedReLU, r"the ReLU after branch3\[0\].conv \(the 1x1 reduction of the 5x5 branch\)"),
    ("inception", InceptionNoPoolBranch, r"missing: branch4 \(the pool branch\)"),
    (
        "inception",
        InceptionSwappedWidths,
        r"branch2\[0\] \(the 1x1 reduction of the 3x3 branch\) makes 4 \(ch3x3\) channels "
        r"where it should make 3 \(ch3x3red\)",
    ),
    ("inception", InceptionWrongSignature, r"must take the arguments Inception takes"),
    ("aux", AuxAdaptive, r"adaptive average pool.*5x5 average pool with stride 3"),
    ("aux", AuxMaxPool, r"maximum where the paper averages"),
    ("aux", AuxNoReLU, r"the ReLU after fc1"),
    ("aux", AuxHalfDropout, r"drops 50% of its inputs; Section 5 drops 70%"),
    (
        "aux",
        AuxNarrowConv,
        r"conv \(the 1x1 convolution\) makes 64 channels where it should make 128 \(conv_channels",
    ),
]


@pytest.mark.parametrize(("kind", "cls", "message"), WRONG, ids=[cls.__name__ for _, cls, _ in WRONG])
def test_a_wrong_module_is_caught_with_its_mistake_named(kind, cls, message):
    with pytest.raises(AssertionError, match=message):
        check_module(kind, cls)


def test_bad_calls_are_explained(capsys):
    with pytest.raises(ValueError, match="'naive', 'inception', 'aux'"):
        check_module("resnet", InceptionRight)
    with pytest.raises(AssertionError, match="pass your class itself"):
        check_module("inception", InceptionRight(10, 2, 3, 4, 5, 6, 7))


def test_show_displays_the_package_code(capsys):
    assert check_module("naive", NaiveRight, show=True)
    assert "class NaiveInception(nn.Module):" in capsys.readouterr().out


class NaiveEllipsis(NaiveInception):
    def forward(self, x):
        return ...


def test_a_forward_returning_no_tensor_is_named_with_the_right_article():
    with pytest.raises(AssertionError, match="forward returns an ellipsis, not a tensor"):
        check_module("naive", NaiveEllipsis)
