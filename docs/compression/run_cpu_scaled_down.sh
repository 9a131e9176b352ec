#!/usr/bin/env bash
# The scaled-down CPU run (16 evaluations per run), superseded by run_cpu.sh; outputs in cpu_run/ (2-core CPU, shared with ~8 other jobs during the run).
# A: learned-kernel BO vs random search vs TPE, 3 seeds; B: BO ablations (K=1, objectives), seed 0;
# C: kernel transfer: kernels learned on the ResNet-8 teacher reused on a VGG-style teacher.
set -euo pipefail
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=1
COMMON=(--resolution 28 --in-channels 1 --dataset fashion-mnist --train-subset 800 --val-size 400 --batch-size 32
        --teacher-epochs 12 --epochs 1 --loss kl --trials 16 --kernels 4 --n-init 4 --candidates 500
        --top-k 4 --finetune-epochs 1 --cache-dir runs/teachers)
mkdir -p runs/compress
nice -n 10 .venv/bin/archspace compress run --teacher resnet8 "${COMMON[@]}" --methods bo-learned,random,tpe \
  --seeds 0,1,2 --db runs/compress/main.db --save-kernels runs/compress/kernels-resnet8.pt \
  --out docs/compression/cpu_run/main > runs/compress/main.log 2> runs/compress/main.err &
A=$!
until ls runs/teachers/teacher-*.pt >/dev/null 2>&1; do sleep 10; done
nice -n 10 .venv/bin/archspace compress run --teacher resnet8 "${COMMON[@]}" \
  --methods bo-k1,bo-marginal,bo-euclidean --seeds 0 --db runs/compress/ablations.db \
  --out docs/compression/cpu_run/ablations > runs/compress/ablations.log 2> runs/compress/ablations.err &
B=$!
until [ -f runs/compress/kernels-resnet8.pt ]; do sleep 10; done
sleep 5
nice -n 10 .venv/bin/archspace compress run --teacher vgg-small "${COMMON[@]}" --methods bo-learned,bo-transfer \
  --transfer runs/compress/kernels-resnet8.pt --seeds 0 --db runs/compress/transfer.db \
  --out docs/compression/cpu_run/transfer > runs/compress/transfer.log 2> runs/compress/transfer.err &
C=$!
wait $A $B $C
