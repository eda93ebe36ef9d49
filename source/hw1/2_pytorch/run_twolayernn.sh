#!/bin/sh
# Q8.6: train the two-layer network (one command; the log goes to twolayernn.log).
# Starter settings: tune them (--hidden-dim, learning rate, momentum, weight decay, batch
# size, epochs). `python train.py -h` explains every option.
### BEGIN SOLUTION
# starter: python -u train.py --model twolayernn --hidden-dim 100 --epochs 1 --batch-size 64 --lr 0.01 --momentum 0 --weight-decay 0 | tee twolayernn.log
# The reference's tuned settings (stay in source/).
python -u train.py --model twolayernn --hidden-dim 512 --epochs 5 --batch-size 128 --lr 0.003 --momentum 0.9 --weight-decay 0.001 | tee twolayernn.log
### END SOLUTION
