"""Build the compiled helpers of the fast layers: run `python setup.py build_ext --inplace` here."""
from Cython.Build import cythonize
from setuptools import Extension, setup

extensions = [
    Extension("im2col_cython", ["im2col_cython.pyx"], extra_compile_args=["-O3"]),
]

setup(
    name="cs231n-im2col",
    ext_modules=cythonize(extensions, compiler_directives={"language_level": 3}, quiet=True),
)
