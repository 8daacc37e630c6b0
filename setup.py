"""Builds NovelSelect's compiled loops; everything else is configured in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("planfusion.novelsum._kernels", ["planfusion/novelsum/_kernels.c"], extra_compile_args=["-O3", "-pthread"], extra_link_args=["-pthread"])
    ]
)
