#!/bin/sh
# Q8.7: train the ConvNet (one command; the log goes to convnet.log).
# Starter settings: tune them (--hidden-dim filters per convolution, --kernel-size,
# learning rate, momentum, weight decay, batch size, epochs). `python train.py -h`
# explains every option.
python -u train.py --model convnet --hidden-dim 16 --kernel-size 3 --epochs 1 --batch-size 64 --lr 0.01 --momentum 0 --weight-decay 0 | tee convnet.log
