#!/bin/sh
# Q8.5: train the softmax classifier (one command; the log goes to softmax.log).
# Starter settings: tune them (learning rate, momentum, weight decay, batch size, epochs).
# `python train.py -h` explains every option.
### BEGIN SOLUTION
# starter: python -u train.py --model softmax --epochs 1 --batch-size 64 --lr 0.01 --momentum 0 --weight-decay 0 | tee softmax.log
# The reference's tuned settings (stay in source/).
python -u train.py --model softmax --epochs 5 --batch-size 128 --lr 0.001 --momentum 0.9 --weight-decay 0.01 | tee softmax.log
### END SOLUTION
