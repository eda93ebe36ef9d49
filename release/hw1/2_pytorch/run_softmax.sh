#!/bin/sh
# Q8.5: train the softmax classifier (one command; the log goes to softmax.log).
# Starter settings: tune them (learning rate, momentum, weight decay, batch size, epochs).
# `python train.py -h` explains every option.
python -u train.py --model softmax --epochs 1 --batch-size 64 --lr 0.01 --momentum 0 --weight-decay 0 | tee softmax.log
