"""check_module names the cause of the wrong attempts a cold read made (issue 17), not only the symptom."""

from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gooknet_helpers import BasicConv2d, NaiveInception
from gooknet_helpers.module_checks import check_module


class InceptionRight(nn.Module):
    """A correct Figure 2(b) module; the wrong attempts below change one thing each."""

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, ch1x1, 1)
        self.branch2 = nn.Sequential(BasicConv2d(in_channels, ch3x3red, 1), BasicConv2d(ch3x3red, ch3x3, 3, padding=1))
        self.branch3 = nn.Sequential(BasicConv2d(in_channels, ch5x5red, 1), BasicConv2d(ch5x5red, ch5x5, 5, padding=2))
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True), BasicConv2d(in_channels, pool_proj, 1)
        )

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], dim=1)


class AuxRight(nn.Module):
    """A correct Section 5 head; the wrong attempts below change one thing each."""

    def __init__(self, in_channels, num_classes, pool=None):
        super().__init__()
        self.pool = pool if pool is not None else nn.AvgPool2d(5, stride=3)
        self.conv = BasicConv2d(in_channels, 128, 1)
        self.fc1 = nn.Linear(128 * 4 * 4, 1024)
        self.relu = nn.ReLU(inplace=True)
        self.dropout = nn.Dropout(0.7)
        self.fc2 = nn.Linear(1024, num_classes)

    def forward(self, x):
        x = self.conv(self.pool(x))
        x = self.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc2(self.dropout(x))


# ---- 01: the naive module's forward ----


class NaiveAdded(NaiveInception):
    def forward(self, x):
        return self.branch1(x) + self.branch2(x) + self.branch3(x) + self.branch4(x)


class NaiveSummed(NaiveInception):
    def forward(self, x):
        return sum(branch(x) for branch in (self.branch1, self.branch2, self.branch3, self.branch4))


# ---- 02: the bottleneck module ----


class ReluThenConv(BasicConv2d):
    def forward(self, x):
        return self.conv(self.relu(x))


class InceptionReluBeforeReduction(InceptionRight):
    """A reduction block that applies its ReLU before the convolution."""

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__(in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj)
        self.branch2[0] = ReluThenConv(in_channels, ch3x3red, 1)


class InceptionReluBeforeReductionDict(InceptionRight):
    """The same, written as a Sequential of (relu, conv): the parameter names are the package's."""

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__(in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj)
        self.branch2[0] = nn.Sequential(OrderedDict(relu=nn.ReLU(), conv=nn.Conv2d(in_channels, ch3x3red, 1)))


class InceptionReluFirstInSequential(InceptionRight):
    """An nn.ReLU() put in front of the reduction: the parameter names shift."""

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__(in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj)
        self.branch3 = nn.Sequential(
            nn.ReLU(), BasicConv2d(in_channels, ch5x5red, 1), BasicConv2d(ch5x5red, ch5x5, 5, padding=2)
        )


class FunctionalReluThenConv(BasicConv2d):
    def forward(self, x):
        return self.conv(F.relu(x))


class InceptionFunctionalReluBeforeReduction(InceptionRight):
    """F.relu before the reduction's convolution: invisible to module hooks, seen in the convolution's input."""

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__(in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj)
        self.branch3[0] = FunctionalReluThenConv(in_channels, ch5x5red, 1)


class InceptionAveragePool(InceptionRight):
    def __init__(self, *args):
        super().__init__(*args)
        self.branch4[0] = nn.AvgPool2d(3, stride=1, padding=1)


class InceptionProjectionFirst(InceptionRight):
    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__(in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj)
        self.branch4 = nn.Sequential(
            BasicConv2d(in_channels, pool_proj, 1), nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True)
        )


class InceptionAdded(InceptionRight):
    def forward(self, x):
        return self.branch1(x) + self.branch2(x) + self.branch3(x) + self.branch4(x)


# ---- 03: the auxiliary head ----


class AuxFc1ReadsChannels(AuxRight):
    """fc1 sized for the 128 channels of the 1x1 convolution, not the flattened 128x4x4 map."""

    def __init__(self, in_channels, num_classes):
        super().__init__(in_channels, num_classes)
        self.fc1 = nn.Linear(128, 1024)


class AuxStride2(AuxRight):
    """Pool stride 2 (14x14 -> 5x5) and fc1 resized to match, so the shapes agree."""

    def __init__(self, in_channels, num_classes):
        super().__init__(in_channels, num_classes, pool=nn.AvgPool2d(5, stride=2))
        self.fc1 = nn.Linear(128 * 5 * 5, 1024)


class AuxDropoutInEval(AuxRight):
    def forward(self, x):
        x = self.conv(self.pool(x))
        x = self.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc2(F.dropout(x, 0.7))  # training=True by default


class AuxReluAfterClassifier(AuxRight):
    def forward(self, x):
        return torch.relu(super().forward(x))


class AuxFlattenAll(AuxRight):
    def forward(self, x):
        x = self.conv(self.pool(x))
        x = self.relu(self.fc1(torch.flatten(x)))
        return self.fc2(self.dropout(x))


class AuxViewAll(AuxRight):
    def forward(self, x):
        x = self.conv(self.pool(x))
        x = self.relu(self.fc1(x.view(-1)))
        return self.fc2(self.dropout(x))


class AuxNoFlatten(AuxRight):
    def forward(self, x):
        x = self.conv(self.pool(x))
        x = self.relu(self.fc1(x))
        return self.fc2(self.dropout(x))


def test_the_right_versions_pass():
    assert check_module("inception", InceptionRight) and check_module("aux", AuxRight)


CASES = [
    ("naive", NaiveAdded, r"combines the branches element by element.*2, 4, 6 and 10 channels.*torch\.cat"),
    (
        "naive",
        NaiveAdded,
        r"in the checker's own small test module the 4 branches make 2, 4, 6 and 10 channels, and the sum fails at "
        r"the first two outputs that differ, 2 and 4 channels",
    ),
    ("naive", NaiveSummed, r"combines the branches element by element.*torch\.cat\(\[\.\.\.\], dim=1\)"),
    (
        "inception",
        InceptionReluBeforeReduction,
        r"a ReLU runs before branch2\[0\]\.conv \(the 1x1 reduction of the 3x3 branch\).*convolution, then ReLU",
    ),
    (
        "inception",
        InceptionReluBeforeReductionDict,
        r"a ReLU runs before branch2\[0\]\.conv \(the 1x1 reduction of the 3x3 branch\)",
    ),
    (
        "inception",
        InceptionReluFirstInSequential,
        r"a ReLU runs before branch3\[1\]\.conv \(the 1x1 reduction of the 5x5 branch\)",
    ),
    (
        "inception",
        InceptionFunctionalReluBeforeReduction,
        r"a ReLU runs before branch3\[0\]\.conv \(the 1x1 reduction of the 5x5 branch\)",
    ),
    (
        "inception",
        InceptionAveragePool,
        r"branch4\[0\] \(the 3x3 max pool\) is an average pool where the paper has a 3x3/1 max pool.*"
        r"nn\.MaxPool2d\(3, stride=1, padding=1, ceil_mode=True\)",
    ),
    (
        "inception",
        InceptionProjectionFirst,
        r"your branch4 runs branch4\[0\]\.conv \(the pool projection\) before the 3x3 max pool.*"
        r"pool first, then project",
    ),
    ("inception", InceptionAdded, r"combines the branches element by element.*torch\.cat"),
    (
        "aux",
        AuxStride2,
        r"pool is a 5x5/2 average pool \(kernel 5, stride 2\) where Section 5 has 5x5/3.*14x14 map into 5x5, not 4x4.*"
        r"fc1 takes 3,200 inputs.*Change the pool's stride, not fc1",
    ),
    (
        "aux",
        AuxFc1ReadsChannels,
        r"fc1 \(the fully connected layer\) takes 128 .*inputs where it receives 2,048: it reads the flattened "
        r"128x4x4 = 2,048 features \(channels x height x width\), not the 128 channels alone",
    ),
    ("aux", AuxDropoutInEval, r"in eval mode.*dropout is still on.*training=self\.training"),
    ("aux", AuxReluAfterClassifier, r"a ReLU follows fc2 \(the classifier\).*never negative"),
    ("aux", AuxFlattenAll, r"fc1 \(the fully connected layer\) got one tensor.*flattens the batch.*start_dim=1"),
    ("aux", AuxViewAll, r"flattens the batch dimension too.*torch\.flatten\(x, 1\)"),
    ("aux", AuxNoFlatten, r"fc1 \(the fully connected layer\) got a 2x128x4x4 tensor.*torch\.flatten\(x, 1\)"),
]


@pytest.mark.parametrize(("kind", "cls", "cause"), CASES, ids=[cls.__name__ for _, cls, _ in CASES])
def test_the_message_names_the_cause(kind, cls, cause):
    with pytest.raises(AssertionError, match=cause):
        check_module(kind, cls)


def test_the_old_symptoms_are_gone():
    """What these attempts used to get: a layer blamed for its input, or a raw error."""
    for kind, cls, _ in CASES:
        with pytest.raises(AssertionError) as caught:
            check_module(kind, cls)
        text = str(caught.value)
        assert "computes something different" not in text and "computes something else" not in text, cls.__name__
        assert "must match the size" not in text and "cannot be multiplied" not in text, cls.__name__
        assert "Your module's parts are not the package's" not in text, cls.__name__
