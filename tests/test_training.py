"""The training recipe: schedule, optimizer groups, model sizes, logged quantities, clear errors, and that learning
happens (real data in CI). Stopping and checkpoints: test_interrupt.py and test_checkpoints.py."""

import os
import time
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from gooknet_helpers import config as config_module
from gooknet_helpers import training
from gooknet_helpers.checkpoints import load_model
from gooknet_helpers.config import TrainConfig, amp_dtype, build_model, make_optimizer, one_cycle
from gooknet_helpers.data import load_data, normalize, synthetic_data
from gooknet_helpers.metrics import summarize
from gooknet_helpers.network import CIFAR, GoogLeNet, googlenet_loss
from gooknet_helpers.timing import step_speed
from gooknet_helpers.training import (
    BatchSizeError,
    OutOfMemoryError,
    checked_steps_per_epoch,
    evaluate,
    fit,
    grad_norms,
    predict,
)

TINY = dict(width=0.125, batch_size=50, lr=0.2, track_grads=("conv1",))


def test_one_cycle_rises_to_one_then_falls_and_never_stops():
    total = 100
    factors = [one_cycle(s, total, warmup=0.2) for s in range(total)]
    assert factors[19] == 1.0 and max(factors) == 1.0
    assert all(a < b for a, b in zip(factors[:20], factors[1:20], strict=False))
    assert all(a > b for a, b in zip(factors[19:], factors[20:], strict=False))
    assert factors[0] == 1 / 20 and factors[-1] == 1 / 81 and min(factors) > 0


def test_amp_dtype_choices():
    cpu = torch.device("cpu")
    assert amp_dtype(cpu) is None and amp_dtype(cpu, "none") is None
    assert amp_dtype(cpu, "bf16") == torch.bfloat16 and amp_dtype(cpu, "fp16") == torch.float16
    with pytest.raises(ValueError, match="amp must be"):
        amp_dtype(cpu, "fp8")


def test_no_weight_decay_on_batch_norm_and_biases():
    config = TrainConfig(width=0.125)
    model = build_model(config)
    decay, no_decay = make_optimizer(model, config).param_groups
    assert decay["weight_decay"] == config.weight_decay and no_decay["weight_decay"] == 0.0
    assert decay["nesterov"] and all(p.ndim == 4 or p.ndim == 2 for p in decay["params"])
    assert any(p is model.conv1.bn.weight for p in no_decay["params"])
    assert any(p is model.fc.bias for p in no_decay["params"])


def test_build_model_is_seeded_and_uses_the_small_stem():
    a, b = build_model(TrainConfig(width=0.125)), build_model(TrainConfig(width=0.125))
    assert torch.equal(a.conv1.conv.weight, b.conv1.conv.weight)
    assert a.conv1.conv.kernel_size == (3, 3) and a.conv1.conv.stride == (1, 1)


def test_loss_falls_on_synthetic_data_and_history_is_complete(one_thread):
    data = synthetic_data(train_per_class=30, test_per_class=5)
    config = TrainConfig(epochs=3, **{**TINY, "batch_size": 30})
    history = fit(build_model(config), data, config, progress=False)
    assert history["train_loss"][-1] < 0.8 * history["train_loss"][0]
    assert history["epoch"] == [1, 2, 3] and history["step"] == [10, 20, 30]
    assert len(history["grad_norm"]["conv1"]) == 30 and min(history["grad_norm"]["conv1"]) > 0
    assert all(t > 0 for t in history["images_per_s"]) and history["data_s"][0] < history["epoch_s"][0]


def test_a_run_cut_short_by_max_steps_records_the_part_of_the_epoch_it_did(one_thread):
    """Regression (issue 22): 5 of an epoch's 20 steps were recorded as epoch 1."""
    data = synthetic_data(train_per_class=100, test_per_class=1)  # 1,000 images in batches of 50: 20 steps an epoch
    config = TrainConfig(epochs=1, max_steps=5, **TINY)
    history = fit(build_model(config), data, config, progress=False)
    assert history["epoch"] == [0.25] and history["step"] == [5] and not history["interrupted"]
    config = replace(config, epochs=2, max_steps=25)
    history = fit(build_model(config), data, config, progress=False)
    assert history["epoch"] == [1, 1.25] and history["step"] == [20, 25]


def test_checkpoint_resume_reproduces_an_uninterrupted_run(tmp_path, one_thread):
    data = synthetic_data(train_per_class=10, test_per_class=2)
    config = TrainConfig(epochs=2, aux_logits=True, **TINY)
    straight = build_model(config)
    fit(straight, data, config, progress=False)

    def interrupt(history):
        raise KeyboardInterrupt  # a hook interrupting at the end of epoch 1: fit stops there and returns

    path = tmp_path / "checkpoint.pt"
    partial = fit(build_model(config), data, config, checkpoint=path, on_epoch=interrupt, progress=False)
    assert partial["epoch"] == [1] and partial["interrupted"]
    resumed = build_model(config)
    history = fit(resumed, data, config, checkpoint=path, resume=True, progress=False)
    assert history["epoch"] == [1, 2]
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.allclose(a, b, atol=1e-6), name
    loaded, loaded_config = load_model(path)  # torch.load(..., weights_only=True) inside
    assert loaded_config == config
    assert torch.allclose(predict(loaded, data, config), predict(resumed.eval(), data, config), atol=1e-5)


def test_summary_and_step_speed(one_thread):
    data = synthetic_data(train_per_class=10, test_per_class=2)
    config = TrainConfig(epochs=1, **TINY)
    model = build_model(config)
    summary = summarize(config, fit(model, data, config, progress=False), data, model)
    assert summary.macs > 0 and "SYNTHETIC" in summary.data and 0 < summary.data_fraction < 1
    speed, peak = step_speed(model, torch.device("cpu"), batch_size=8, steps=1, warmup=1)
    assert speed > 0 and peak is None


def aux_share(model: GoogLeNet) -> float:
    """Parameters of the two aux heads per parameter of the rest of the network."""
    aux = sum(p.numel() for head in (model.aux1, model.aux2) for p in head.parameters())
    return aux / (sum(p.numel() for p in model.parameters()) - aux)


def test_aux_heads_scale_with_width():
    """At width 1 the aux heads have the paper's 1x1 conv of 128 and FC of 1024; narrower networks scale them with the
    trunk, so they keep about the paper's share (0.73 x the trunk) instead of dwarfing it (44x at width 0.125 when
    they stayed full size)."""
    full = GoogLeNet(10, True, **CIFAR, width=1.0, channel_multiple=1)
    assert full.aux1.conv.conv.out_channels == 128 and full.aux1.fc1.out_features == 1024
    assert full.aux2.conv.conv.out_channels == 128 and full.aux2.fc1.out_features == 1024
    narrow = build_model(TrainConfig(width=0.125, aux_logits=True))
    assert (narrow.aux1.conv.conv.out_channels, narrow.aux1.fc1.out_features) == (16, 128)
    assert 0.5 < aux_share(narrow) < 1.0 and abs(aux_share(full) - 0.73) < 0.01


def test_channel_counts_round_to_multiples_of_8_for_training_and_stay_exact_for_teaching():
    def channels(model: GoogLeNet) -> list[int]:
        return [m.out_channels for m in model.modules() if isinstance(m, torch.nn.Conv2d)]

    assert TrainConfig().channel_multiple == 8
    assert all(c % 8 == 0 for c in channels(build_model(TrainConfig(width=0.25, aux_logits=True))))
    exact = channels(GoogLeNet(10, True, **CIFAR, width=0.25, channel_multiple=1))
    assert 52 in exact and 6 in exact  # 208 x 0.25 (4a's 3x3) and 24 x 0.25 (4b's 5x5 reduce), as scaled
    assert channels(build_model(TrainConfig(width=0.25, aux_logits=True, channel_multiple=1))) == exact


def test_train_and_test_loss_are_the_same_quantity(one_thread):
    """The logged train loss is plain cross entropy of the main head, as the test loss is (no label smoothing, no aux
    losses): with the test set = the training set and a learning rate of ~0, the two agree closely, while the
    optimised loss (what was logged before) is far higher."""
    data = synthetic_data(train_per_class=10, test_per_class=2)
    tensors = data.train_images, data.train_labels
    same = replace(data, test_images=tensors[0], test_labels=tensors[1])
    config = TrainConfig(epochs=1, **{**TINY, "lr": 1e-9, "batch_size": 100}, aux_logits=True, label_smoothing=0.5)
    model = build_model(config)
    history = fit(model, same, config, progress=False)
    test_loss, _ = evaluate(model, same, config)
    # Train mode (batch statistics, dropout, augmented crops) vs eval mode: close, not equal.
    assert abs(history["train_loss"][0] - test_loss) < 0.1 * test_loss
    with torch.no_grad():
        out = model.train()(normalize(same.train_images))
    optimised = googlenet_loss(out, same.train_labels, config.aux_weight, config.label_smoothing)
    assert optimised > 1.3 * F.cross_entropy(out.logits, same.train_labels)


def test_grad_norms_match_the_per_parameter_definition():
    model = build_model(TrainConfig(width=0.125))
    model(torch.randn(4, 3, 32, 32)).sum().backward()
    modules = [model.conv1, model.inception3a, model.inception4a]
    expected = [torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in m.parameters()])) for m in modules]
    assert torch.allclose(grad_norms(modules), torch.stack(expected), rtol=1e-5)


def test_fused_sgd_on_cuda_only(monkeypatch):
    config = TrainConfig(width=0.125)
    model = build_model(config)
    assert not make_optimizer(model, config).defaults["fused"]  # CPU: PyTorch's default (foreach)
    # The choice for a model on CUDA, made here without a GPU: the device the optimizer sees is reported as CUDA (and
    # the fused kernel built on the CPU, which PyTorch has too).
    monkeypatch.setattr(config_module, "module_device", lambda model: torch.device("cuda"))
    assert make_optimizer(model, config).defaults["fused"] is True


def test_a_batch_larger_than_a_shard_is_a_clear_error():
    assert checked_steps_per_epoch(1000, 100, 2) == 5
    with pytest.raises(BatchSizeError, match="250 training images each of the 4 process"):
        checked_steps_per_epoch(1000, 300, 4)  # 250 images per process: not one batch of 300
    data = synthetic_data(train_per_class=3, test_per_class=1)
    config = TrainConfig(width=0.125, batch_size=64)
    with pytest.raises(BatchSizeError, match="--batch-size"):
        fit(build_model(config), data, config, progress=False)


def no_memory(*args, **kwargs):
    raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has 1.2 GiB free.")


def test_out_of_memory_in_training_names_the_batch_size(monkeypatch, one_thread):
    data = synthetic_data(train_per_class=10, test_per_class=2)
    config = TrainConfig(epochs=1, **TINY)
    monkeypatch.setattr(training, "train_step", no_memory)
    with pytest.raises(OutOfMemoryError, match=r"batch_size=50 \(CUDA out of memory\)") as error:
        fit(build_model(config), data, config, progress=False)
    assert "--batch-size 25" in str(error.value) and "expandable_segments:True" in str(error.value)
    assert isinstance(error.value, torch.OutOfMemoryError)  # code that catches PyTorch's error still catches it
    assert error.value.__context__ is None  # raised after the failed step's tensors were released


def test_out_of_memory_in_evaluation_names_the_eval_batch_size(monkeypatch):
    data = synthetic_data(train_per_class=1, test_per_class=2)
    config = TrainConfig(width=0.125)
    model = build_model(config)
    monkeypatch.setattr(model, "forward", no_memory)
    with pytest.raises(OutOfMemoryError, match="eval_batch_size=1000") as error:
        predict(model.train(), data, config)
    assert "--eval-batch-size 500" in str(error.value) and model.training  # the mode is restored


def test_checkpoint_rebuilds_its_own_architecture_after_the_preset_changes(tmp_path, monkeypatch, one_thread):
    data = synthetic_data(train_per_class=5, test_per_class=1)
    config = TrainConfig(epochs=1, **TINY)
    model = build_model(config)
    fit(model, data, config, checkpoint=tmp_path / "checkpoint.pt", progress=False)
    monkeypatch.setitem(CIFAR, "stem", "imagenet")  # a later edit of the preset
    monkeypatch.setitem(CIFAR, "aux_pool", "paper")
    assert build_model(config).stem == "imagenet"
    loaded, _ = load_model(tmp_path / "checkpoint.pt")
    assert loaded.stem == "small" and loaded.config == model.config
    assert torch.equal(predict(loaded, data, config), predict(model.eval(), data, config))


# The smoke learning assertion on the real CIFAR-10 subset: 5 epochs over its 5,000 training images, about 1.5
# minutes on one CPU thread (an eighth-width network learns faster per second here than a wider one).
SMOKE = TrainConfig(epochs=5, batch_size=64, lr=0.2, width=0.125, label_smoothing=0.0, warmup=0.25, track_grads=())


@pytest.mark.skipif(
    not os.environ.get("GOOKNET_DATA_DIR") and os.environ.get("CI", "").lower() != "true",
    reason="set GOOKNET_DATA_DIR to the CIFAR-10 subset (ImageFolder) to run the real-data learning check",
)
def test_real_cifar10_subset_learns_above_35_percent(one_thread):
    data = load_data()  # under CI=true without GOOKNET_DATA_DIR this raises: the check never turns synthetic
    assert not data.synthetic
    start = time.perf_counter()
    history = fit(build_model(SMOKE), data, SMOKE, progress=False)
    print(f"{data.describe()}\ntest accuracy {history['test_acc']} in {time.perf_counter() - start:.0f} s")
    assert history["test_acc"][-1] >= 0.35
