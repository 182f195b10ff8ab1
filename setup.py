"""mmfasternet: installs into an existing OpenMMLab 2.x environment without touching its
torch, torchvision or mmcv (loose lower bounds here; the exact pins of the two tested stacks
are in requirements.txt and requirements/compat.txt, used by `make setup*`).

Besides the package, the wheel carries the configs and mim metadata under
``mmfasternet/.mim/`` (symlinks to configs/ and model-index.yml in the checkout, copied into
wheels) and ``mmfasternet_config_lookup.pth`` (editable installs: run
``python -m mmfasternet_config_lookup`` once), which lets mmengine resolve
``mmfasternet::NAME.py`` configs (see mmfasternet_config_lookup.py).
"""
import os.path as osp
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

import mmfasternet_config_lookup


class BuildPyWithPth(build_py):
    """Also put the start-up ``.pth`` file at the root of site-packages."""

    def run(self):
        super().run()
        with open(self._pth_path(), 'w') as f:
            f.write(mmfasternet_config_lookup.PTH_LINE)

    def get_outputs(self, include_bytecode=1):
        return [*super().get_outputs(include_bytecode), self._pth_path()]

    def _pth_path(self):
        return osp.join(self.build_lib, mmfasternet_config_lookup.PTH_NAME)


version: dict = {}
exec(Path('mmfasternet/version.py').read_text(), version)

setup(
    name='mmfasternet',
    version=version['__version__'],
    description=('FasterNet (CVPR 2023) backbones for OpenMMLab 2.x: mmdet, mmseg, mmpretrain, '
                 'mmpose'),
    long_description=Path('README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.8',
    classifiers=[
        'Programming Language :: Python :: 3',
        *(f'Programming Language :: Python :: 3.{minor}' for minor in range(8, 13)),
        'License :: OSI Approved :: Apache Software License',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
    packages=find_packages(include=['mmfasternet', 'mmfasternet.*']),
    py_modules=['mmfasternet_config_lookup'],
    package_data={'mmfasternet': ['.mim/model-index.yml', '.mim/configs/*.py',
                                  '.mim/configs/*.yml', '.mim/configs/toy/*.py']},
    cmdclass={'build_py': BuildPyWithPth},
    # mmcv (full, with ops, or mmcv-lite for backbones and classifiers) is checked at import,
    # not required here: pip would otherwise build mmcv from source beside an mmcv-lite.
    # setuptools < 81: mmengine 0.10 resolves every `mmdet::`-style config path through
    # pkg_resources, which setuptools 81 removed (torch on Python >= 3.12 brings a newer one).
    install_requires=['torch>=2.0', 'mmengine>=0.10.0,<1.0', 'numpy', 'setuptools<81'],
    extras_require={
        'det': ['mmdet>=3.0.0,<4.0', 'pycocotools'],
        'seg': ['mmsegmentation>=1.0.0,<2.0', 'ftfy', 'regex'],
        'cls': ['mmpretrain>=1.0.0,<2.0'],
        # mmpose needs chumpy built without isolation and xtcocotools built against the
        # installed numpy first (docs/install.md).
        'pose': ['mmpose>=1.0.0,<2.0'],
        # mmdet's trackers (ByteTrack, OC-SORT, ...) solve their assignments with lap.
        'track': ['mmdet>=3.0.0,<4.0', 'lap'],
        # mmyolo's YOLO family beside mmcv 2.1: mmyolo 0.6.0's code with its mmcv assert
        # relaxed to <= 2.1.0 (docs/swap.md#mmyolo).
        'yolo': ['mmdet>=3.0.0,<4.0', 'mmyolo-open==0.6.1'],
        # onnxscript: torch >= 2.6 exports with the dynamo exporter, which needs it.
        'deploy': ['onnx', 'onnxruntime', 'onnxscript'],
        # int8: NNCF quantises the exported files (tools/deployment/quantize.py).
        'int8': ['onnx', 'onnxruntime', 'nncf'],
        'openvino': ['openvino'],
        # benchmarks/benchmark_peers.py (a checkout's, not the wheel's): today's peers from
        # timm (benchmarks/peers.yml names the models of this timm), every runtime and
        # quantiser of the deploy path.
        'benchmark': ['timm==1.0.31', 'onnx', 'onnxruntime', 'onnxscript', 'openvino', 'nncf'],
        'tests': ['pytest', 'openmim'],
    },
)
