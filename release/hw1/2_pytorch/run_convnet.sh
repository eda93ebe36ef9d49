#!/bin/sh
# The reference's tuned settings for the ConvNet (one command; the log goes to convnet.log).
python -u train.py --model convnet --hidden-dim 64 --kernel-size 5 --epochs 10 --batch-size 128 --lr 0.01 --momentum 0.9 --weight-decay 0.0005 | tee convnet.log
