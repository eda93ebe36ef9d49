#!/bin/sh
# Q8.8, the challenge: train your MyModel (models/mymodel.py; the log goes to mymodel.log).
# Starter settings: choose your own. `python train.py -h` explains every option, among
# them --augment, --label-smoothing and --lr-schedule. On a CPU, try a design first with
# --num-train 5000 --epochs 1.
python -u train.py --model mymodel --hidden-dim 32 --kernel-size 3 --epochs 1 --batch-size 64 --lr 0.01 --momentum 0 --weight-decay 0 | tee mymodel.log
