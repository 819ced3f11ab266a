#!/usr/bin/env bash
# Issue 16's long CPU runs, resumable across sessions and machines: each call runs only what the committed files lack.
#   make evidence            (or: bash tools/evidence.sh)
# 1. The reference network (40 epochs, width 0.25, aux heads) on CPU core 0, one thread: it resumes from the
#    checkpoint committed in benchmarks/results/reference_run/ (copied there every few minutes; commit it before a
#    session ends), and when it has finished, tools/export_reference.py replaces the shipped weights.
# 2. The ablations on the other core, one thread per run (benchmarks/ablations.py; a second worker joins on core 0
#    when the reference is done). Each finished run is written to gooknet_helpers/reference/ablations.json at once.
# Full CIFAR-10 is read from GOOKNET_FULL_DATA (default ../shared/data/cifar10-jpeg). Logs go to runs/*.log.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${GOOKNET_FULL_DATA:-../shared/data/cifar10-jpeg}
py=.venv/bin/python
run=runs/reference40
saved=benchmarks/results/reference_run/checkpoint.pt
args=(--data "$data" --width 0.25 --aux --epochs 40 --batch-size 256 --lr 0.2 --out "$run" --resume --no-progress)
[ -d "$data/train" ] || { echo "no full CIFAR-10 at $data: set GOOKNET_FULL_DATA" >&2; exit 2; }
mkdir -p runs "$run"

core() {  # core N COMMAND...: run on CPU core N with one thread, at low priority beside interactive work
  OMP_NUM_THREADS=1 taskset -c "$1" nice -n 5 "${@:2}"
}

ablations() {  # ablations CORE: a worker that trains missing runs until none is left unclaimed
  core "$1" $py benchmarks/ablations.py --data "$data" --threads 1 >>"runs/ablations_$1.log" 2>&1
}

keep_checkpoint() {  # copy the run's checkpoint into the tracked folder whenever it changes
  while sleep 120; do
    if [ -f "$run/checkpoint.pt" ] && ! cmp -s "$run/checkpoint.pt" "$saved" 2>/dev/null; then
      mkdir -p "$(dirname "$saved")" && cp "$run/checkpoint.pt" "$saved.tmp" && mv "$saved.tmp" "$saved"
    fi
  done
}

if [ -f "$saved" ]; then  # a reference run in progress: continue it
  [ -f "$run/checkpoint.pt" ] || cp "$saved" "$run/checkpoint.pt"
  ablations 1 &
  keep_checkpoint &
  keeper=$!
  core 0 $py -m gooknet_helpers.train "${args[@]}" >>runs/reference40.log 2>&1
  kill "$keeper"
  $py tools/export_reference.py "$run" --data "$data" --command "python -m gooknet_helpers.train ${args[*]}"
  rm -f "$saved"
  echo "reference exported: commit gooknet_helpers/reference/ and the removal of $saved"
  ablations 0
  wait
else
  ablations 0 &
  ablations 1
  wait
fi
$py benchmarks/ablations.py --report
