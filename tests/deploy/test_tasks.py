"""The one dispatch (mmfasternet.deploy.tasks): every kind of model is found from its built
model and from its config, another kind is refused naming the kinds there are, and a bare
network's parity check finds a file of other weights."""
import copy
import os.path as osp

import pytest
from mmengine.config import Config

from conftest import REPO, assert_says, randomize_norms
from mmfasternet import FasterNet, MMFasterNetError
from mmfasternet.deploy import export_onnx
from mmfasternet.deploy.parity import tensor_parity
from mmfasternet.deploy.tasks import TASKS, UnsupportedModel, task_of, task_of_config
from mmfasternet.engine.tool_config import build_model

# One config of each registered kind: a new Task fails here until it has one.
CONFIGS = {'detector': 'mask_rcnn_fasternet_t0.py', 'segmentor': 'upernet_fasternet_t0.py',
           'classifier': 'fasternet_t0_in1k.py'}


@pytest.mark.parametrize('task', TASKS.values(), ids=lambda task: task.name)
def test_every_task_is_found_from_its_model_and_its_config(task):
    cfg = Config.fromfile(osp.join(REPO, 'configs', CONFIGS[task.name]))
    cfg.model.backbone.init_cfg = None
    assert task_of_config(cfg) is task
    assert task_of(build_model(cfg)) is task


def test_a_model_or_config_of_another_kind_is_refused_naming_the_kinds():
    with pytest.raises(UnsupportedModel) as error:
        task_of(FasterNet('t0'))
    assert_says(str(error.value), 'Mask R-CNN detectors (mmdet)', 'segmentors (mmseg)',
                'classifiers (mmpretrain)', 'builds a FasterNet')
    assert isinstance(error.value, MMFasterNetError) and isinstance(error.value, ValueError)
    with pytest.raises(UnsupportedModel) as error:
        task_of_config(Config(dict(default_scope='mmaction')))
    assert_says(str(error.value), "default_scope='mmaction'", "['mmdet', 'mmseg', 'mmpretrain']")


def test_tensor_parity_passes_the_exported_network_and_finds_other_weights(tmp_path):
    model = randomize_norms(FasterNet('t0'), seed=0).eval()
    path = str(tmp_path / 't0.onnx')
    export_onnx(copy.deepcopy(model), path, shape=(1, 3, 64, 64))
    same = tensor_parity(model, path, images=2)
    assert same.problems == []
    assert same.agreed.startswith('2 random images: max abs diff ')
    other = randomize_norms(FasterNet('t0'), seed=1).eval()
    problems = tensor_parity(other, path, images=2).problems
    assert len(problems) == 1 and problems[0].startswith('an output differs by up to ')
