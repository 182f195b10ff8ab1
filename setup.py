from pathlib import Path

from setuptools import find_packages, setup

version: dict = {}
exec(Path('mmfasternet/version.py').read_text(), version)

setup(
    name='mmfasternet',
    version=version['__version__'],
    description='FasterNet (CVPR 2023) backbones for OpenMMLab 2.x: mmdet, mmseg, mmpretrain',
    long_description=Path('README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.8',
    packages=find_packages(include=['mmfasternet', 'mmfasternet.*']),
    install_requires=['torch', 'mmengine>=0.10.0', 'mmcv>=2.0.0,<2.2.0'],
    extras_require={
        'det': ['mmdet>=3.0.0', 'pycocotools'],
        'seg': ['mmsegmentation>=1.0.0', 'ftfy', 'regex'],
        'cls': ['mmpretrain>=1.0.0'],
        'tests': ['pytest'],
    },
)
