#!/bin/sh
# Q8.7: train the ConvNet (one command; the log goes to convnet.log).
# Starter settings: tune them (--hidden-dim filters per convolution, --kernel-size,
# learning rate, momentum, weight decay, batch size, epochs). `python train.py -h`
# explains every option.
### BEGIN SOLUTION
# starter: python -u train.py --model convnet --hidden-dim 16 --kernel-size 3 --epochs 1 --batch-size 64 --lr 0.01 --momentum 0 --weight-decay 0 | tee convnet.log
# The reference's tuned settings (stay in source/).
python -u train.py --model convnet --hidden-dim 64 --kernel-size 5 --epochs 10 --batch-size 128 --lr 0.01 --momentum 0.9 --weight-decay 0.0005 | tee convnet.log
### END SOLUTION
