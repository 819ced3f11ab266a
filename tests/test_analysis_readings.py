"""What notebook 05's readings rest on (issue 17): an undefined damage share, the deletion margin's uncertainty, and
the branch ablation that works from each module's recorded output."""

import math

import pytest
import torch

from gooknet_helpers import GoogLeNet
from gooknet_helpers.analysis import ablate_branches, blank_top, damage_share, deletion_check, grad_cam, switch_off
from gooknet_helpers.data import normalize


def test_damage_share_is_undefined_when_no_branch_costs_anything():
    drops = torch.tensor(
        [
            [10.0, 20.0, 10.0, 0.0],  # the 3x3 and 5x5 do 30 of the 40 points
            [-1.0, 2.0, -3.0, 2.0],  # drops below 0 count as 0: 2 of 4
            [0.0, -0.2, -0.1, -0.3],  # nothing lost: undefined, not 0
            [5.0, 0.0, 0.0, 1.0],  # damage, none by the large kernels: 0
        ]
    )
    share = damage_share(drops)
    assert share[:2].tolist() == [0.75, 0.5] and share[3].item() == 0
    assert math.isnan(share[2].item())


@pytest.fixture(scope="module")
def small():
    torch.manual_seed(0)
    model = GoogLeNet(num_classes=10, stem="small", batch_norm=True, lrn=False, width=0.125).eval()
    images = torch.randint(0, 256, (10, 3, 32, 32), dtype=torch.uint8)
    return model, images


def test_deletion_margin_and_its_standard_error_are_the_per_image_ones(small):
    model, images = small
    check = deletion_check(model, model.inception4e, images, batch_size=5)
    x = normalize(images)
    own, other = [], []
    for part in (x[:5], x[5:]):  # the batches deletion_check makes, each blanked with its own maps
        maps = grad_cam(model, model.inception4e, part)
        with torch.no_grad():
            predicted = model(part).argmax(1)
        own.append(blank_top(model, part, maps, predicted))
        other.append(blank_top(model, part, maps.roll(1, 0), predicted))
    margins = torch.cat(own) - torch.cat(other)
    assert check.margin == pytest.approx(check.own_map - check.other_map, abs=1e-6)
    assert check.margin == pytest.approx(margins.mean().item(), abs=1e-6)
    assert check.margin_se == pytest.approx(margins.std().item() / math.sqrt(10), abs=1e-6)


def test_ablation_from_recorded_outputs_matches_switch_off_one_at_a_time(small):
    model, images = small
    labels = torch.arange(10) % 10
    ablation = ablate_branches(model, images, labels, batch_size=4, progress=False)
    with torch.no_grad():
        x = normalize(images)
        for m, name in ((0, "inception3a"), (4, "inception4c"), (8, "inception5b")):
            for b, branch in enumerate(("branch1", "branch2", "branch3", "branch4")):
                with switch_off(getattr(model, name), branch):
                    right = model(x).argmax(1) == labels
                assert torch.equal(ablation.ablated[m, b], right), (name, branch)
