"""The exported demo models score like their checkpoints on the toy sets' test splits:
Mask R-CNN after `make demo` (bbox and segm mAP within 0.01), UperNet after `make demo-seg`
(mIoU within 0.5). Long: `make test-deploy` trains both demos first."""
import os.path as osp
import re

import pytest

from conftest import REPO, TEST, coco_metrics, run_tool

EXPORT = osp.join(REPO, 'tools', 'deployment', 'pytorch2onnx.py')
pytestmark = pytest.mark.long


def demo_checkpoint(work_dir: str, command: str) -> str:
    last = osp.join(REPO, work_dir, 'last_checkpoint')
    assert osp.isfile(last), f'{last} is missing: run `{command}` first (make test-deploy does)'
    return open(last).read().strip()


def test_exported_demo_detector_scores_like_its_checkpoint(tmp_path):
    config = osp.join(REPO, 'configs', 'toy', 'mask_rcnn_fasternet_t0_toy.py')
    checkpoint = demo_checkpoint('work_dirs/demo', 'make demo')
    exported = str(tmp_path / 'demo.onnx')
    result = run_tool(EXPORT, config, exported, '--checkpoint', checkpoint, '--shape', '256',
                      '256', '--verify')
    assert 'instances agree' in result.stdout
    pytorch = coco_metrics(run_tool(TEST, config, checkpoint, '--work-dir', str(tmp_path)))
    onnxruntime = coco_metrics(run_tool(TEST, config, exported, '--work-dir', str(tmp_path)))
    assert pytorch['coco/bbox_mAP'] > 0.5 and pytorch['coco/segm_mAP'] > 0.5  # trained
    for metric in ('coco/bbox_mAP', 'coco/segm_mAP'):
        assert abs(onnxruntime[metric] - pytorch[metric]) <= 0.01, (metric, pytorch, onnxruntime)


def test_exported_demo_segmentor_scores_like_its_checkpoint(tmp_path):
    config = osp.join(REPO, 'configs', 'toy', 'upernet_fasternet_t0_toy.py')
    checkpoint = demo_checkpoint('work_dirs/demo-seg', 'make demo-seg')
    exported = str(tmp_path / 'demo_seg.onnx')
    run_tool(EXPORT, config, exported, '--checkpoint', checkpoint, '--shape', '256', '256',
             '--seg-logits', '--verify')

    def miou(path):
        result = run_tool(TEST, config, path, '--work-dir', str(tmp_path))
        return float(re.findall(r'mIoU: ([\d.]+)', result.stdout + result.stderr)[-1])

    pytorch, onnxruntime = miou(checkpoint), miou(exported)
    assert pytorch > 80  # trained
    assert abs(onnxruntime - pytorch) <= 0.5, (pytorch, onnxruntime)
