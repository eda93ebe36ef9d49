#!/bin/sh
# Q8.6: train the two-layer network (one command; the log goes to twolayernn.log).
# Starter settings: tune them (--hidden-dim, learning rate, momentum, weight decay, batch
# size, epochs). `python train.py -h` explains every option.
python -u train.py --model twolayernn --hidden-dim 100 --epochs 1 --batch-size 64 --lr 0.01 --momentum 0 --weight-decay 0 | tee twolayernn.log
