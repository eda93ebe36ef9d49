"""cs231n: the numpy building blocks of Part 1 (classifiers, layers, solver, utilities)."""
