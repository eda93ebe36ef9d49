#!/bin/sh
# The reference's tuned settings for the softmax classifier (one command; the log goes to softmax.log).
python -u train.py --model softmax --epochs 5 --batch-size 128 --lr 0.001 --momentum 0.9 --weight-decay 0.01 | tee softmax.log
