"""End-to-end training on a tiny generated toy COCO set through the real tools."""
import os
import pickle
import signal
import subprocess
import sys
import time

import pytest
import torch

from conftest import (RANK_HOOKS, REPO, TEST, TRAIN, coco_metrics, dist_train, final_metrics,
                      run_tool)
from mmfasternet.checkpoint import read_checkpoint
from toy_configs import write_toy_config


@pytest.mark.long
def test_sigkill_then_resume_is_bit_identical_to_an_uninterrupted_run(tmp_path, tiny_toy_coco):
    config = write_toy_config('det', tmp_path, tiny_toy_coco, max_epochs=3)
    straight, resumed = tmp_path / 'straight', tmp_path / 'resumed'
    run_tool(TRAIN, config, '--work-dir', str(straight))

    # In a process group of its own: the kill takes its dataloader worker too, which
    # otherwise outlived the run, blocked, and the test.
    process = subprocess.Popen([sys.executable, TRAIN, config, '--work-dir', str(resumed)],
                               cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.time() + 300
    while not (resumed / 'last_checkpoint').exists() and time.time() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    assert not (resumed / 'epoch_3.pth').exists()
    killed_at = open(resumed / 'last_checkpoint').read().strip()

    result = run_tool(TRAIN, config, '--work-dir', str(resumed), '--resume')
    assert f'Load checkpoint from {killed_at}' in result.stdout + result.stderr

    a = read_checkpoint(str(straight / 'epoch_3.pth'))
    b = read_checkpoint(str(resumed / 'epoch_3.pth'))
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for key in a['state_dict']:
        assert torch.equal(a['state_dict'][key], b['state_dict'][key]), key
    assert 'random_states' in b
    assert final_metrics(straight) == final_metrics(resumed)


@pytest.mark.long
def test_test_tool_reports_coco_metrics_draws_and_folds(tmp_path, tiny_toy_coco):
    config = write_toy_config('det', tmp_path, tiny_toy_coco, max_epochs=1)
    work_dir = tmp_path / 'work'
    run_tool(TRAIN, config, '--work-dir', str(work_dir))
    result = run_tool(TEST, config, str(work_dir / 'epoch_1.pth'), '--work-dir',
                      str(work_dir), '--out', str(tmp_path / 'preds.pkl'), '--show-dir', 'vis')
    metrics = coco_metrics(result)
    assert 'coco/bbox_mAP' in metrics and 'coco/segm_mAP' in metrics
    with open(tmp_path / 'preds.pkl', 'rb') as f:
        predictions = pickle.load(f)
    assert len(predictions) == 4 and 'masks' in predictions[0]['pred_instances']
    drawn = [f for _, _, files in os.walk(work_dir) for f in files if f.endswith('.jpg')]
    assert len(drawn) == 4

    # Predictions themselves are compared in tests/test_deploy.py: a detector trained for
    # one epoch has near-tied scores, whose order folding may swap.
    result = run_tool(TEST, config, str(work_dir / 'epoch_1.pth'), '--work-dir',
                      str(tmp_path / 'fused'), '--fuse-conv-bn')
    fused_metrics = coco_metrics(result)
    assert fused_metrics.keys() == metrics.keys()
    for key in metrics:
        assert abs(fused_metrics[key] - metrics[key]) <= 1e-3, key


@pytest.mark.long
def test_dist_train_two_cpu_processes_end_with_identical_weights(tmp_path, tiny_toy_coco):
    config = write_toy_config('det', tmp_path, tiny_toy_coco, max_epochs=1, val_interval=10,
                              extra=RANK_HOOKS)
    log, weights, work_dir = dist_train(tmp_path, config)
    assert 'Epoch(train) [1][2/2]' in log  # 2 images per rank
    saved = read_checkpoint(str(work_dir / 'epoch_1.pth'))['state_dict']
    for key in weights:
        assert torch.equal(weights[key], saved[key]), key
