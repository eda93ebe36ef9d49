#!/bin/sh
# The reference's tuned settings for the two-layer network (one command; the log goes to twolayernn.log).
python -u train.py --model twolayernn --hidden-dim 512 --epochs 5 --batch-size 128 --lr 0.003 --momentum 0.9 --weight-decay 0.001 | tee twolayernn.log
