import subprocess
import sys
import textwrap

import pytest
from mmdet.registry import MODELS as MMDET_MODELS
from mmpose.registry import MODELS as MMPOSE_MODELS
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
from mmseg.registry import MODELS as MMSEG_MODELS

from mmfasternet import FasterNet
from mmfasternet.registry import MODELS

REGISTRIES = {'mmdet': MMDET_MODELS, 'mmseg': MMSEG_MODELS, 'mmpretrain': MMPRETRAIN_MODELS,
              'mmpose': MMPOSE_MODELS}


@pytest.mark.parametrize('library', sorted(REGISTRIES))
@pytest.mark.parametrize('type_name', ['FasterNet', 'mmfasternet.FasterNet'])
def test_builds_from_each_task_registry(library, type_name):
    model = REGISTRIES[library].build(dict(type=type_name, arch='t1', out_indices=(-1, )))
    assert isinstance(model, FasterNet)
    assert model.channels == [64, 128, 256, 512] and model.out_indices == (3, )


def test_mmfasternet_scope_registry():
    assert MODELS.scope == 'mmfasternet'
    assert MODELS.get('FasterNet') is FasterNet


def test_custom_imports_register_the_backbone_in_a_fresh_process(tmp_path):
    """A user's config that only names mmfasternet in custom_imports builds FasterNet
    from all four task libraries, without importing mmfasternet by hand."""
    config = tmp_path / 'config.py'
    config.write_text(textwrap.dedent("""\
        custom_imports = dict(imports=['mmfasternet'], allow_failed_imports=False)
        backbone = dict(type='FasterNet', arch='s', out_indices=(1, 2, 3))
    """))
    script = textwrap.dedent(f"""\
        import sys
        from mmengine.config import Config
        from mmdet.registry import MODELS as DET
        from mmpose.registry import MODELS as POSE
        from mmpretrain.registry import MODELS as CLS
        from mmseg.registry import MODELS as SEG
        assert 'mmfasternet' not in sys.modules
        cfg = Config.fromfile({str(config)!r})
        for registry in (DET, SEG, CLS, POSE):
            model = registry.build(cfg.backbone)
            print(type(model).__module__, type(model).__name__, model.out_indices)
    """)
    result = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines == ['mmfasternet.models.backbones.fasternet FasterNet (1, 2, 3)'] * 4


def run_fresh(script: str) -> str:
    """``script``'s output in a new process; it fails the test if the script fails."""
    result = subprocess.run([sys.executable, '-c', textwrap.dedent(script)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_importing_the_package_imports_only_the_core():
    """No task library, no OpenCV (mmcv loads it), no runtime and none of the package's
    layers above the backbone: nothing beyond what mmengine's models bring (on torch 2.1
    those import onnx themselves)."""
    loaded = run_fresh("""\
        import sys
        import mmengine.model
        before = set(sys.modules)
        import mmfasternet
        heavy = ('mmdet', 'mmseg', 'mmpretrain', 'mmpose', 'mmcv', 'cv2', 'onnx',
                 'onnxruntime', 'openvino', 'nncf', 'mmfasternet.deploy', 'mmfasternet.engine',
                 'mmfasternet.analysis', 'mmfasternet.visualization', 'mmfasternet.testing',
                 'mmfasternet.models.heads')
        print(sorted(m for m in set(sys.modules) - before if sys.modules[m] is not None
                     and (m.split('.')[0] in heavy or m.startswith(heavy))))
    """)
    assert loaded == '[]'


def test_scoped_names_register_the_head_and_the_hook_on_first_use():
    """A config's ``mmfasternet.FasterNetClsHead`` and ``mmfasternet.RandomStateHook`` build
    from the task libraries' scopes in a process that only imported the package."""
    out = run_fresh("""\
        import mmfasternet
        from mmdet.registry import HOOKS
        from mmengine.registry import DefaultScope
        from mmpretrain.registry import MODELS
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            head = MODELS.build(dict(type='mmfasternet.FasterNetClsHead', num_classes=10,
                                     in_channels=320))
        with DefaultScope.overwrite_default_scope('mmdet'):
            hook = HOOKS.build(dict(type='mmfasternet.RandomStateHook'))
        print(type(head).__module__, type(hook).__module__)
    """)
    assert out == ('mmfasternet.models.heads.fasternet_cls_head '
                   'mmfasternet.engine.hooks.random_state_hook')


def test_any_librarys_registry_builds_the_plain_name():
    """A registry under mmengine's root, as mmyolo's and every OpenMMLab 2.x library's are,
    finds ``FasterNet`` by its plain name (mmyolo itself does not install beside mmcv 2.1)."""
    from mmengine.registry import MODELS as ROOT_MODELS
    from mmengine.registry import Registry
    library = Registry('model', parent=ROOT_MODELS, scope='some_library')
    model = library.build(dict(type='FasterNet', arch='t0', out_indices=(3, )))
    assert isinstance(model, FasterNet) and model.out_indices == (3, )
