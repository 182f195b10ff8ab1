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
