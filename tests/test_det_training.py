"""End-to-end training on a tiny generated toy COCO set through the real tools."""
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time

import torch

from conftest import RANK_HOOKS, REPO, dist_train, run_tool

TRAIN = os.path.join(REPO, 'tools', 'train.py')
TEST = os.path.join(REPO, 'tools', 'test.py')


def write_config(tmp_path, data_root, max_epochs, val_interval=1, extra=''):
    config = tmp_path / 'tiny_toy.py'
    config.write_text(textwrap.dedent(f"""\
        _base_ = [{os.path.join(REPO, 'configs', 'toy', 'mask_rcnn_fasternet_t0_toy.py')!r}]
        data_root = '{data_root}/'
        train_dataloader = dict(batch_size=2, dataset=dict(data_root=data_root))
        val_dataloader = dict(batch_size=2, dataset=dict(data_root=data_root))
        test_dataloader = val_dataloader
        val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
        test_evaluator = val_evaluator
        train_cfg = dict(max_epochs={max_epochs}, val_interval={val_interval})
        param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
                                end=4)]
        default_hooks = dict(logger=dict(interval=1), checkpoint=dict(max_keep_ckpts=-1))
        """) + extra)
    return str(config)


def final_metrics(work_dir):
    """The last validation record that mmengine logged in a work dir."""
    records = []
    for run in sorted(os.listdir(work_dir)):
        scalars = os.path.join(work_dir, run, 'vis_data', 'scalars.json')
        if os.path.exists(scalars):
            records += [json.loads(line) for line in open(scalars)]
    last = [r for r in records if 'coco/bbox_mAP' in r][-1]
    return {k: v for k, v in last.items() if k.startswith('coco/')}


def test_sigkill_then_resume_is_bit_identical_to_an_uninterrupted_run(tmp_path, tiny_toy_coco):
    config = write_config(tmp_path, tiny_toy_coco, max_epochs=3)
    straight, resumed = tmp_path / 'straight', tmp_path / 'resumed'
    run_tool(TRAIN, config, '--work-dir', str(straight))

    process = subprocess.Popen([sys.executable, TRAIN, config, '--work-dir', str(resumed)],
                               cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not (resumed / 'last_checkpoint').exists() and time.time() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    assert not (resumed / 'epoch_3.pth').exists()
    killed_at = open(resumed / 'last_checkpoint').read().strip()

    result = run_tool(TRAIN, config, '--work-dir', str(resumed), '--resume')
    assert f'Load checkpoint from {killed_at}' in result.stdout + result.stderr

    a = torch.load(straight / 'epoch_3.pth')
    b = torch.load(resumed / 'epoch_3.pth')
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for key in a['state_dict']:
        assert torch.equal(a['state_dict'][key], b['state_dict'][key]), key
    assert 'random_states' in b
    assert final_metrics(straight) == final_metrics(resumed)


def test_test_tool_reports_coco_metrics_and_draws(tmp_path, tiny_toy_coco):
    config = write_config(tmp_path, tiny_toy_coco, max_epochs=1)
    work_dir = tmp_path / 'work'
    run_tool(TRAIN, config, '--work-dir', str(work_dir))
    result = run_tool(TEST, config, str(work_dir / 'epoch_1.pth'), '--work-dir',
                      str(work_dir), '--out', str(tmp_path / 'preds.pkl'), '--show-dir', 'vis')
    output = result.stdout + result.stderr
    assert 'coco/bbox_mAP:' in output and 'coco/segm_mAP:' in output
    with open(tmp_path / 'preds.pkl', 'rb') as f:
        predictions = pickle.load(f)
    assert len(predictions) == 4 and 'masks' in predictions[0]['pred_instances']
    drawn = [f for _, _, files in os.walk(work_dir) for f in files if f.endswith('.jpg')]
    assert len(drawn) == 4


def test_dist_train_two_cpu_processes_end_with_identical_weights(tmp_path, tiny_toy_coco):
    config = write_config(tmp_path, tiny_toy_coco, max_epochs=1, val_interval=10,
                          extra=RANK_HOOKS)
    log, weights, work_dir = dist_train(tmp_path, config)
    assert 'Epoch(train) [1][2/2]' in log  # 2 images per rank
    saved = torch.load(work_dir / 'epoch_1.pth')['state_dict']
    for key in weights:
        assert torch.equal(weights[key], saved[key]), key
