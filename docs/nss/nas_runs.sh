#!/bin/bash
# NAS inside Elite Spaces vs the expanded space, measured (issue 16, session 4). Resumable: rerun to continue.
cd /work/main
export OMP_NUM_THREADS=1
A=949365:1017507   # 3.2GF regime moved to d<=2, w<=16 at 28x28 (nss regimes)
B=444779:464790    # 800MF regime, same scaling
DB=runs/nss/nas.db; O=runs/nss/nas; mkdir -p $O
EX=nss:d1-2w1-16_d1-2w1-16_d1-2w1-16
S0=nss:d1-1w1-4_d2-2w9-12_d2-2w13-16; S1=nss:d2-2w1-4_d1-1w5-8_d2-2w13-16          # searched, regime A
QA=nss:d2-2w1-4_d1-1w1-4_d1-1w1-4; QB=nss:d1-1w1-4_d1-1w1-4_d1-1w5-8              # Table 1 analytic Elite Spaces (screened)
trained() {  # min(3, networks of space $1 within flops <= upper end of $2)
  .venv/bin/python -c "from archspace.nss.nas import NASConfig, plan_nas; from archspace.nss.distribution import flops_below, InputSpec; from archspace.nss.regimes import parse_regime; from archspace.spaces.registry import get_space; r=parse_regime('$2'); print(min(3, int(flops_below(get_space('$1'), [r.high], InputSpec(28, 10, 1)).counts[0])))"
}
nas() {  # name space flops seed
  [ -s $O/$1.json ] && return
  local t; t=$(trained $2 $3)
  echo "$(date -u +%T) start $1 $2 $3 trained=$t seed=$4" >> $O/log
  /usr/bin/time -f "%e s wall %U s user %S s sys" -a -o $O/log nice -n 10 .venv/bin/archspace nss nas $1 --space $2 --flops $3 \
    --trained $t --seed $4 --epochs 4 --subset 10000 --threads 1 --no-progress --db $DB --json > $O/$1.json.tmp 2> $O/$1.err \
    && mv $O/$1.json.tmp $O/$1.json
}
search_b() {
  [ -s runs/nss/800mf-seed0/result.json ] && return
  echo "$(date -u +%T) start search B seed 0" >> $O/log
  /usr/bin/time -f "%e s wall %U s user %S s sys" -a -o $O/log nice -n 10 .venv/bin/archspace nss search --dataset fashion-mnist \
    --flops $B --max-depth 2 --max-width 16 --depth-bins 2 --width-bins 4 --epochs 8 --warmup-epochs 2 --batch-size 64 \
    --steps-per-epoch 20 --train-subset 5000 --val-size 2000 --arch-lr 0.05 --seed 0 --threads 1 --out runs/nss/800mf-seed0 \
    --json > runs/nss/800mf-seed0.json 2> runs/nss/800mf-seed0.err
}
nas A-elite-s0-0 $S0 $A 0; nas A-elite-s1-0 $S1 $A 0; nas A-expanded-0 $EX $A 0
search_b
EB=$(.venv/bin/python -c "import json; print(json.load(open('runs/nss/800mf-seed0/result.json'))['elite']['space'])")
nas B-elite-0 $EB $B 0; nas B-expanded-0 $EX $B 0
for s in 1 2; do nas A-elite-s0-$s $S0 $A $s; nas A-elite-s1-$s $S1 $A $s; nas A-expanded-$s $EX $A $s; done
for s in 1 2; do nas B-elite-$s $EB $B $s; nas B-expanded-$s $EX $B $s; done
for s in 0 1 2; do nas A-analytic-$s $QA $A $s; nas B-analytic-$s $QB $B $s; done
echo "$(date -u +%T) done" >> $O/log
