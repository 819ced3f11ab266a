#!/usr/bin/env bash
# Issue 16's ablation runs (notebook 04, section 8), resumable across sessions and machines:
#   make evidence            (or: bash tools/evidence.sh)
# Two workers of benchmarks/ablations.py, one thread on each CPU core (the layout that benchmarks/threads.py
# measures against one run on two threads). Each claims the next (arm, seed) pair that is neither in
# gooknet_helpers/reference/ablations.json nor claimed by the other, and writes its run to that file as soon as it
# ends: commit the file after each run, and a later call, on any machine, trains only what it lacks.
# Full CIFAR-10 is read from GOOKNET_FULL_DATA (default ../shared/data/cifar10-jpeg). Logs go to runs/*.log.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${GOOKNET_FULL_DATA:-../shared/data/cifar10-jpeg}
[ -d "$data/train" ] || { echo "no full CIFAR-10 at $data: set GOOKNET_FULL_DATA" >&2; exit 2; }
mkdir -p runs

worker() {  # worker CORE: trains missing runs on CPU core CORE, one thread, at low priority beside interactive work
  OMP_NUM_THREADS=1 taskset -c "$1" nice -n 5 .venv/bin/python benchmarks/ablations.py --data "$data" --threads 1 \
    >>"runs/ablations_$1.log" 2>&1
}

worker 0 &
worker 1
wait
.venv/bin/python benchmarks/ablations.py --report
