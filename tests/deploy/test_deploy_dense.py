"""Whole detectors and segmentors exported to one ONNX file of standard operators: parity
with mmdet's and mmseg's own inference, --verify, evaluation through tools/test.py, bad
input."""
import os.path as osp
import re
import textwrap

import onnx
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs
from mmengine.config import Config
from mmengine.registry import init_default_scope

from conftest import (REPO, TEST, TRAIN, assert_says, last_line, onnx_nodes, randomize_norms,
                      run_tool)
from mmfasternet.deploy.mask_rcnn_graph import export_mask_rcnn_onnx
from mmfasternet.deploy.masks import paste_box_masks, paste_masks
from mmfasternet.deploy.parity import match_detections
from mmfasternet.deploy.runtime_models import RuntimeDetector
from toy_configs import write_toy_config

EXPORT = osp.join(REPO, 'tools', 'deployment', 'pytorch2onnx.py')


def miou(result):
    return float(re.findall(r'mIoU: ([\d.]+)', result.stdout + result.stderr)[-1])


@pytest.mark.parametrize('masks', ['box', 'image'])
def test_exported_detector_matches_mmdet_at_rescaled_sizes(tmp_path, masks):
    """Boxes and masks come out in the original image, as mmdet's ``predict(rescale=True)``
    pastes them (in the file, or inside each box after it): two test scales that are not
    1:1 (one keeping the aspect ratio, one not), each padded to a multiple of 32."""
    init_default_scope('mmdet')
    cfg = Config.fromfile(f'{REPO}/configs/toy/mask_rcnn_fasternet_t0_toy.py')
    cfg.model.test_cfg.rcnn.update(score_thr=0.2)  # keep the scores apart from near ties
    torch.manual_seed(0)
    model = randomize_norms(MODELS.build(cfg.model)).eval()
    reference = MODELS.build(cfg.model).eval()
    reference.load_state_dict(model.state_dict())
    path = str(tmp_path / 'det.onnx')
    export_mask_rcnn_onnx(model, path, shape=(128, 128), masks=masks)
    exported_model = onnx.load(path)
    graph = list(onnx_nodes(exported_model.graph))
    assert {node.domain for node in graph} == {''}  # ONNX's own operators only
    ops = {node.op_type for node in graph}
    assert {'NonMaxSuppression', 'RoiAlign'} <= ops
    assert ('MatMul' in ops) == (masks == 'image')  # the paste's matrix products
    # The mask head's last conv computes one class per detection, not all of them.
    assert 'conv_logits' not in str([node.name for node in graph if node.op_type == 'Conv'])
    mask_output = exported_model.graph.output[3]
    assert mask_output.name == {'box': 'box_masks', 'image': 'masks'}[masks]
    rank = len(mask_output.type.tensor_type.shape.dim)
    assert rank == 3 and {p.key: p.value for p in exported_model.metadata_props}[
        'batch_sizes'] == '1'
    exported = RuntimeDetector(path, reference)
    assert exported.mask_form == masks
    # (resized image, original image): 333x333 from 250x250, and 1.6x keeping the ratio.
    for img_shape, ori_shape in [((333, 333), (250, 250)), ((192, 312), (120, 195))]:
        packed = demo_mm_inputs(batch_size=1, image_shapes=[(3, *img_shape)], num_items=[2],
                                num_classes=4, with_mask=True)
        scale_factor = (img_shape[1] / ori_shape[1], img_shape[0] / ori_shape[0])
        packed['data_samples'][0].set_metainfo(
            dict(scale_factor=scale_factor, ori_shape=ori_shape, img_shape=img_shape))
        with torch.no_grad():
            data = reference.data_preprocessor(packed, False)
            assert data['inputs'].shape[2] % 32 == 0 and data['inputs'].shape[2:] != img_shape
            expected = reference.predict(data['inputs'], data['data_samples'],
                                         rescale=True)[0].pred_instances
        got = exported.run(data['inputs'], data['data_samples'][0].metainfo)
        assert len(expected) > 20
        assert got['masks'].shape[1:] == ori_shape
        assert match_detections(expected, got) == []


@pytest.mark.parametrize('masks', ['box', 'image'])
def test_a_detector_that_finds_nothing_returns_no_masks_in_every_runtime(tmp_path, masks):
    init_default_scope('mmdet')
    cfg = Config.fromfile(f'{REPO}/configs/toy/mask_rcnn_fasternet_t0_toy.py')
    cfg.model.test_cfg.rcnn.update(score_thr=1.01)  # no score passes
    model = MODELS.build(cfg.model).eval()
    path = str(tmp_path / 'none.onnx')
    export_mask_rcnn_onnx(model, path, shape=(128, 128), masks=masks)
    packed = demo_mm_inputs(batch_size=1, image_shapes=[(3, 128, 160)], num_classes=4)
    data = model.data_preprocessor(packed, False)
    for backend in ('onnxruntime', 'openvino'):
        got = RuntimeDetector(path, model, backend=backend).run(
            data['inputs'], data['data_samples'][0].metainfo)
        assert got['boxes'].shape == (0, 4) and got['masks'].shape == (0, 128, 160)


def test_box_local_paste_gives_the_full_image_paste():
    torch.manual_seed(1)
    masks = torch.rand(60, 28, 28)
    corners = torch.rand(60, 2) * torch.tensor([300., 200.]) - 20  # some past the edges
    boxes = torch.cat([corners, corners + torch.rand(60, 2) * 150 + 0.5], dim=1)
    boxes[0, 2] = boxes[0, 0]  # no area
    boxes[1] = torch.tensor([400., 300., 420., 330.])  # outside the image
    boxes[2] = torch.tensor([0.2, 0.3, 1.1, 0.9])  # under a pixel
    expected = paste_masks(masks[:, None], boxes, torch.tensor(240), torch.tensor(320)) >= 0.5
    got = paste_box_masks(masks, boxes, 240, 320, threshold=0.5)
    assert got.dtype == torch.bool and got.shape == (60, 240, 320)
    assert torch.equal(got, expected)
    assert expected.flatten(1).any(1).sum() > 50 and not got[:2].any()
    assert paste_box_masks(masks[:0], boxes[:0], 240, 320).shape == (0, 240, 320)


def test_separable_paste_computes_mmdets_full_image_paste():
    from mmdet.models.roi_heads.mask_heads.fcn_mask_head import _do_paste_mask
    torch.manual_seed(0)
    masks = torch.rand(40, 1, 28, 28)
    corners = torch.rand(40, 2) * torch.tensor([300., 200.]) - 20  # some past the edges
    boxes = torch.cat([corners, corners + torch.rand(40, 2) * 150 + 0.5], dim=1)
    expected, _ = _do_paste_mask(masks, boxes, 240, 320, skip_empty=False)
    got = paste_masks(masks, boxes, torch.tensor(240), torch.tensor(320))
    assert got.shape == (40, 240, 320)
    assert torch.allclose(got, expected, atol=1e-5)
    assert torch.equal(got >= 0.5, expected >= 0.5)


@pytest.mark.long
def test_export_verifies_and_the_test_tool_refuses_a_file_of_other_classes(
        tmp_path, tiny_toy_coco):
    """The exported file's scores against the checkpoint's: test_deploy_demo.py, on the
    trained demo detector."""
    config = write_toy_config('det', tmp_path, tiny_toy_coco, max_epochs=1)
    work = tmp_path / 'work'
    run_tool(TRAIN, config, '--work-dir', str(work))
    checkpoint, exported = str(work / 'epoch_1.pth'), str(tmp_path / 'toy.onnx')
    result = run_tool(EXPORT, config, exported, '--checkpoint', checkpoint, '--shape', '256',
                      '256', '--verify')
    assert 'ONNX Runtime vs PyTorch on 4 test images: all ' in result.stdout
    assert ' instances agree (boxes within 1e-2 px, scores within 1e-4, same labels, mask ' \
           'IoU >= 0.99)' in result.stdout

    other = tmp_path / 'three_classes.py'
    other.write_text(textwrap.dedent(f"""\
        _base_ = [{config!r}]
        model = dict(roi_head=dict(bbox_head=dict(num_classes=3), mask_head=dict(num_classes=3)))
        metainfo = dict(classes=('sun', 'tile', 'leaf'))
        test_dataloader = dict(dataset=dict(metainfo=metainfo))
        val_dataloader = test_dataloader
        """))
    result = run_tool(TEST, str(other), exported, '--work-dir', str(work), check=False)
    assert result.returncode == 1 and 'Traceback' not in result.stderr
    assert_says(last_line(result), exported, '4 classes', 'the config has 3',
                'export it from this config')


def test_a_detector_without_an_onnx_path_is_refused_before_writing(tmp_path):
    config = tmp_path / 'retinanet.py'
    config.write_text(textwrap.dedent("""\
        _base_ = ['mmdet::retinanet/retinanet_r50_fpn_1x_coco.py']
        model = dict(backbone=dict(init_cfg=None))
        """))
    out = tmp_path / 'retinanet.onnx'
    result = run_tool(EXPORT, str(config), str(out), '--shape', '128', '128', check=False)
    assert result.returncode == 1 and 'Traceback' not in result.stderr
    assert_says(last_line(result), 'pytorch2onnx: ', 'RetinaNet', 'two-stage detectors',
                'nothing was written')
    assert not out.exists() and not (tmp_path / 'retinanet.onnx.tmp').exists()


@pytest.mark.long
def test_segmentor_exports_verifies_and_evaluates_whole_and_sliding(tmp_path, tiny_toy_ade):
    config = write_toy_config('seg', tmp_path, tiny_toy_ade)
    work = tmp_path / 'work'
    run_tool(TRAIN, config, '--work-dir', str(work))
    checkpoint = str(work / 'iter_4.pth')
    slide = tmp_path / 'slide.py'
    slide.write_text(textwrap.dedent(f"""\
        _base_ = [{config!r}]
        model = dict(test_cfg=dict(mode='slide', crop_size=(128, 128), stride=(96, 96)))
        """))
    for cfg, shape in ((config, ['--shape', '256', '256']), (str(slide), [])):
        exported = str(tmp_path / 'seg.onnx')
        result = run_tool(EXPORT, cfg, exported, '--checkpoint', checkpoint, '--seg-logits',
                          '--verify', *shape)
        assert 'ONNX Runtime vs PyTorch on 4 test images: the class maps agree on at least ' \
               '99.9% of every image' in result.stdout
        pytorch = miou(run_tool(TEST, cfg, checkpoint, '--work-dir', str(work)))
        onnxruntime = miou(run_tool(TEST, cfg, exported, '--work-dir', str(work)))
        assert abs(onnxruntime - pytorch) <= 0.5, (cfg, pytorch, onnxruntime)

    labels_only = str(tmp_path / 'labels.onnx')
    run_tool(EXPORT, config, labels_only, '--checkpoint', checkpoint, '--shape', '256', '256')
    result = run_tool(TEST, config, labels_only, '--work-dir', str(work), check=False)
    assert result.returncode == 1 and 'Traceback' not in result.stderr
    assert_says(last_line(result), labels_only, "returns ['labels']", 'logits', '--seg-logits')
