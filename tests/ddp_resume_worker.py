"""Run by tests/test_distributed.py under torchrun (CPU processes, gloo backend), not collected by pytest.

Each rank trains three times: straight through; stopped after the first epoch (its checkpoint written); resumed from
that checkpoint. Rank 0 writes result.json: whether the resumed weights equal the straight run's, and the random
states the checkpoint holds for every rank.
"""

import contextlib
import json
import sys
from pathlib import Path

import torch
import torch.distributed as dist

from gooknet_helpers.config import TrainConfig, build_model
from gooknet_helpers.data import synthetic_data
from gooknet_helpers.training import fit


class StopAfterFirstEpoch(Exception):
    pass


def stop(history: dict) -> None:
    raise StopAfterFirstEpoch


def main(out: Path) -> None:
    dist.init_process_group("gloo")
    torch.set_num_threads(1)
    data = synthetic_data(train_per_class=10, test_per_class=2)  # 100 images: 50 per rank, 5 steps of 10
    config = TrainConfig(epochs=2, width=0.125, batch_size=10, lr=0.2, aux_logits=True, track_grads=())
    straight = build_model(config)
    fit(straight, data, config, progress=False)
    checkpoint = out / "checkpoint.pt"
    with contextlib.suppress(StopAfterFirstEpoch):  # the checkpoint of epoch 1 is written before on_epoch runs
        fit(build_model(config), data, config, checkpoint=checkpoint, on_epoch=stop, progress=False)
    resumed = build_model(config)
    history = fit(resumed, data, config, checkpoint=checkpoint, resume=True, progress=False)
    if dist.get_rank() == 0:
        state = torch.load(checkpoint, weights_only=True)
        same = all(
            torch.allclose(a, b, atol=1e-6)
            for a, b in zip(straight.state_dict().values(), resumed.state_dict().values(), strict=True)
        )
        result = dict(
            epochs=history["epoch"],
            same_weights=same,
            world_size=state["world_size"],
            ranks=len(state["ranks"]),
            augment_differ=not torch.equal(state["ranks"][0]["augment_rng"], state["ranks"][1]["augment_rng"]),
            dropout_differ=not torch.equal(state["ranks"][0]["torch_rng"], state["ranks"][1]["torch_rng"]),
            rank0_on_top=torch.equal(state["augment_rng"], state["ranks"][0]["augment_rng"]),
        )
        (out / "result.json").write_text(json.dumps(result))
    dist.destroy_process_group()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
