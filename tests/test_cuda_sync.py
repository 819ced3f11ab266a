"""On a CUDA GPU, fit's training steps never make the CPU wait for the GPU (skipped without CUDA).

`torch.cuda.set_sync_debug_mode("error")` turns the operations that make the CPU wait for the GPU (`.item()`,
`.tolist()`, a blocking copy between host and device, `nonzero`, ...) into errors. It is on for the whole of
every `train_epoch` after the first: data (shuffle, crops, normalisation), forward, backward, the gradient scaler,
fused SGD, the logged sums, gradient norms and timing events. The first epoch warms up without it (cuDNN's
autotuning and the allocator's growth may sync once). `end_epoch` reads the numbers back once per epoch, on
purpose; it runs with the check off. fp16 (with its gradient scaler) and bf16 both run, on any GPU, with the aux
heads on and off. tests/test_gpu_paths.py runs the same on the CPU with a read-back guard.
"""

import pytest
import torch

from gooknet_helpers import training
from gooknet_helpers.config import TrainConfig, build_model, make_optimizer
from gooknet_helpers.data import normalize, synthetic_data
from gooknet_helpers.training import fit

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.mark.parametrize("amp", ["fp16", "bf16"])
@pytest.mark.parametrize("aux", [False, True], ids=["aux off", "aux on"])
def test_training_steps_never_synchronise(amp, aux, monkeypatch):
    if amp == "bf16" and not torch.cuda.is_bf16_supported(including_emulation=False):
        pytest.skip("this GPU has no native bf16 (compute capability below 8)")
    device = torch.device("cuda")
    data = synthetic_data(train_per_class=20, test_per_class=2).to(device)  # 200 images: 4 steps of 50 per epoch
    config = TrainConfig(epochs=3, batch_size=50, width=0.125, aux_logits=aux, amp=amp)
    model = build_model(config).to(device)
    assert make_optimizer(model, config).defaults["fused"]
    normalize(data.train_images[:1])  # the CIFAR mean and std are copied to the GPU once (cached), not per batch
    train_epoch, steps = training.train_epoch, []

    def strict_train_epoch(*args, **kwargs):
        if not steps:  # the warm-up epoch
            steps.append(None)
            return train_epoch(*args, **kwargs)
        torch.cuda.set_sync_debug_mode("error")
        try:
            run = train_epoch(*args, **kwargs)
        finally:
            torch.cuda.set_sync_debug_mode("default")
        steps.append(run.steps)
        return run

    monkeypatch.setattr(training, "train_epoch", strict_train_epoch)
    history = fit(model, data, config, progress=False)
    assert steps == [None, 4, 4] and history["step"] == [4, 8, 12]
    assert len(history["grad_norm"]["conv1"]) == 12 and all(s > 0 for s in history["data_s"])
