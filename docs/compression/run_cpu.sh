#!/usr/bin/env bash
# The CPU run behind docs/compression/README.md ("run40": the issue's budget, 40 evaluations per run).
# 2-core CPU, shared with other jobs during this run. Two processes in parallel, each a sequence of
# `archspace compress run` calls with its own --db. Every (method, seed) is a Study: rerunning this
# script resumes whatever was cut short (finished trials are never evaluated again) and redoes only
# the final stages, which are not stored. `compress progress` reads the in-search comparison from
# the databases at any time (no training), `compress table` merges the final-stage summaries.
#   P1: bo-learned, 3 seeds; random search seed 0; kernel transfer Fashion-MNIST -> digits, seed 0;
#       ablation: Euclidean-regression kernels, seed 0
#   P2: TPE, 3 seeds; random search seeds 1, 2; ablations: K = 1 and marginal likelihood, seed 0
set -euo pipefail
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=1
R=runs/compress/run40
D=docs/compression/run40
mkdir -p "$R" "$D"
AS=(nice -n 10 /usr/bin/time -f "%e s wall, %U s user, %S s sys" .venv/bin/archspace compress run)
# Fashion-MNIST: CIFAR ResNet-8 teacher (77,754 params), 2,000 training images (teacher and candidates),
# 1,000 held-out validation images (A(x)), the 10,000 test images; BO = 8 random + 4 steps x 8 kernels = 40.
FMNIST=(--teacher resnet8 --dataset fashion-mnist --train-subset 2000 --val-size 1000
        --batch-size 32 --teacher-epochs 15 --epochs 1 --loss kl --trials 40 --kernels 8 --n-init 8 --candidates 1000
        --top-k 4 --finetune-epochs 2 --cache-dir runs/teachers)
# scikit-learn digits (8x8, 1 channel): the same ResNet-8 teacher graph at resolution 8; the default split
# (1,151 train / 287 val / 359 test), the same budget.
DIGITS=(--teacher resnet8 --dataset digits --batch-size 32 --teacher-epochs 30
        --epochs 1 --loss kl --trials 40 --kernels 8 --n-init 8 --candidates 1000 --top-k 4 --finetune-epochs 2
        --cache-dir runs/teachers)

p1() {
  # --save-kernels: bo-learned writes its last step's kernels after each seed (last wins); the
  # transfer uses seed 0's, copied as soon as they appear
  ( until [ -f "$R/kernels-fmnist.pt" ]; do sleep 5; done; sleep 2
    [ -f "$R/kernels-fmnist-s0.pt" ] || cp "$R/kernels-fmnist.pt" "$R/kernels-fmnist-s0.pt" ) &
  "${AS[@]}" "${FMNIST[@]}" --methods bo-learned --seeds 0,1,2 --db "$R/main-p1.db" \
    --save-kernels "$R/kernels-fmnist.pt" --out "$D/main-bo" > "$R/main-bo.log" 2> "$R/main-bo.err"
  "${AS[@]}" "${FMNIST[@]}" --methods random --seeds 0 --db "$R/main-p1.db" --out "$D/main-random-s0" \
    > "$R/main-random-s0.log" 2> "$R/main-random-s0.err"
  wait
  "${AS[@]}" "${DIGITS[@]}" --methods bo-learned,bo-transfer,random --transfer "$R/kernels-fmnist-s0.pt" \
    --seeds 0 --db "$R/transfer-digits.db" --out "$D/transfer-digits" \
    > "$R/transfer-digits.log" 2> "$R/transfer-digits.err"
  "${AS[@]}" "${FMNIST[@]}" --methods bo-euclidean --seeds 0 --db "$R/ablations-s0b.db" \
    --out "$D/ablations-s0b" > "$R/ablations-s0b.log" 2> "$R/ablations-s0b.err"
}

p2() {
  # the teacher is trained once, by P1; wait for its cache file
  until grep -qs '"train_subset": 2000' runs/teachers/teacher-*.json; do sleep 5; done
  "${AS[@]}" "${FMNIST[@]}" --methods tpe --seeds 0,1,2 --db "$R/main-p2.db" \
    --out "$D/main-tpe" > "$R/main-tpe.log" 2> "$R/main-tpe.err"
  "${AS[@]}" "${FMNIST[@]}" --methods random --seeds 1,2 --db "$R/main-p2.db" --out "$D/main-random-s12" \
    > "$R/main-random-s12.log" 2> "$R/main-random-s12.err"
  # the marginal-likelihood ablation was added after the other runs ended (bo-k1's search is reused)
  "${AS[@]}" "${FMNIST[@]}" --methods bo-k1,bo-marginal --seeds 0 --db "$R/ablations-s0.db" \
    --out "$D/ablations-s0" > "$R/ablations-s0.log" 2> "$R/ablations-s0.err"
}

p1 & P1=$!
p2 & P2=$!
wait $P1 $P2
.venv/bin/archspace compress progress --db "$R/main-p1.db" --db "$R/main-p2.db" --out "$D/search"
.venv/bin/archspace compress table "$D"/main-{bo,random-s0,tpe,random-s12}/summary.json --out "$D/main"
.venv/bin/archspace compress progress --db "$R/ablations-s0.db" --db "$R/ablations-s0b.db" --out "$D/ablations-search"
.venv/bin/archspace compress table "$D"/ablations-s0{,b}/summary.json --out "$D/ablations"
