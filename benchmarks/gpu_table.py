"""The README's GPU table, rendered from benchmarks/results/gpu_check.json (no torch needed).

`benchmarks/gpu_check.py` writes the JSON; `tools/readme_numbers.py` (make readme) puts `render_table(results)`
between the README's `<!-- gpu-check:start -->` and `<!-- gpu-check:end -->` markers, and its `--check` (run by
the tests) fails when the table there differs from the committed JSON. Without the JSON every item reads
"unmeasured".
"""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path("benchmarks/results/gpu_check.json")  # relative to the repository root
START, END = "<!-- gpu-check:start -->", "<!-- gpu-check:end -->"

# The check's items, in the order it runs and the table lists them: name -> what it checks.
ITEMS = {
    "data": "the whole CIFAR-10 (50,000 train / 10,000 test images); a subset is refused",
    "dtype and fused SGD": "bf16 from sm_80, fp16 + gradient scaler below; fused SGD on CUDA",
    "syncs per step": "0 host syncs per training step after a warm-up epoch (fp16 and bf16, aux heads on and off)",
    "gradient scaler": "a forced fp16 overflow on the first steps: steps skipped, weights finite, same as foreach SGD",
    "throughput": "images/s of `fit` (default recipe); host vs wall time per step (launch-bound?)",
    "peak memory": "peak GPU memory of the default recipe",
    "fit overhead": "`fit` (data pipeline, bookkeeping) against the bare model step",
    "ours / torchvision": "training step images/s, ours / torchvision's GoogLeNet at 224x224, batch 256",
    "resume": "a stopped and resumed run ends within the gap between two straight runs",
    "DDP": "a 2-process torchrun smoke run (more than one GPU only)",
    "torch.compile": "compile time, compiled against eager `fit` images/s, no recompile for a second model alike",
    "real-data run": "the default recipe on CIFAR-10 within the time budget: accuracy, time to 93%",
    "budget": "the whole check within its --minutes budget",
}


def render_table(results: dict | None) -> str:
    """The markdown between the README's gpu-check markers: one row per item, its verdict and its numbers."""
    if results is None:
        caption = (
            "GPU: no GPU was available where this was committed, so every item is unmeasured "
            "(`make gpu-check` on a CUDA machine measures them)."
        )
        rows = [f"| {name} | {what} | unmeasured |" for name, what in ITEMS.items()]
    else:
        caption = (
            f"GPU check ({results['verdict']}), measured by `make gpu-check` on {results['measured']}: "
            f"{results['device']}, torch {results['torch']}, data: {results['data']}."
        )
        items = {item["name"]: item for item in results["items"]}
        rows = []
        for name, what in ITEMS.items():
            item = items.get(name)
            result = f"**{item['verdict']}**: {item['summary']}" if item else "not run"
            rows.append(f"| {name} | {what} | {result.replace('|', '/')} |")
    return "\n".join([caption, "", "| item | what it checks | result |", "|---|---|---|", *rows]) + "\n"


def load_results(root: Path) -> dict | None:
    """The committed GPU check results under `root`, or None where there are none."""
    path = root / RESULTS
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
