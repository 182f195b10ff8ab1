"""The tools stop on bad input with one clear message (exit code 1 or 2), no traceback, and
nothing written."""
import os.path as osp
import textwrap

import pytest

from conftest import REPO, run_tool

TRAIN = osp.join(REPO, 'tools', 'train.py')


def train_in_empty_folder(tmp_path, config, *args):
    result = run_tool(TRAIN, config, *args, cwd=tmp_path, timeout=300, check=False)
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    assert not (tmp_path / 'work_dirs').exists()
    return result


@pytest.mark.parametrize('options, missing', [
    ([], 'train_dataloader (ImageNet): data/imagenet/train does not exist'),
    (['--cfg-options', 'train_dataloader.dataset.data_prefix=images/train'],
     'train_dataloader (ImageNet): data/imagenet/images/train does not exist'),
])
def test_train_without_imagenet_names_the_split_folder(tmp_path, options, missing):
    result = train_in_empty_folder(tmp_path, osp.join(REPO, 'configs', 'fasternet_t0_in1k.py'),
                                   *options)
    assert result.returncode == 1
    assert missing in result.stderr
    assert 'val_dataloader (ImageNet): data/imagenet/val does not exist' in result.stderr
    assert 'ImageNet expects ILSVRC2012' in result.stderr


def test_train_without_the_data_of_a_wrapped_dataset_names_it(tmp_path):
    config = tmp_path / 'repeated.py'
    config.write_text(textwrap.dedent(f"""\
        _base_ = [{osp.join(REPO, 'configs', 'mask_rcnn_fasternet_t0.py')!r}]
        train_dataloader = dict(dataset=dict(_delete_=True, type='RepeatDataset', times=2,
                                             dataset={{{{_base_.train_dataloader.dataset}}}}))
        """).replace('{{{{', '{{').replace('}}}}', '}}'))
    result = train_in_empty_folder(tmp_path, str(config))
    assert result.returncode == 1
    assert ('train_dataloader (CocoDataset): data/coco/annotations/instances_train2017.json '
            'does not exist') in result.stderr


def test_amp_refuses_an_optimizer_wrapper_it_would_replace(tmp_path):
    result = train_in_empty_folder(
        tmp_path, osp.join(REPO, 'configs', 'mask_rcnn_fasternet_t0.py'), '--amp',
        '--cfg-options', 'optim_wrapper.type=ApexOptimWrapper')
    assert result.returncode == 1
    assert ('--amp turns the plain OptimWrapper into an AmpOptimWrapper; this config uses '
            'ApexOptimWrapper') in result.stderr


def test_cpu_training_refuses_a_launcher_other_than_torchrun(tmp_path):
    result = train_in_empty_folder(
        tmp_path, osp.join(REPO, 'configs', 'mask_rcnn_fasternet_t0.py'),
        '--launcher', 'slurm')
    assert result.returncode == 1
    assert ('on a machine without CUDA only --launcher pytorch (torchrun) is supported, '
            'got --launcher slurm') in result.stderr
