"""tools/deployment/quantize.py on the toy configs: calibrates on the config's own images,
writes an int8 file that tools/test.py evaluates in ONNX Runtime and OpenVINO, and stops
before any work, writing nothing, when the calibration images cannot be had."""
import json
import os.path as osp
import re
import shutil
import textwrap

import onnx
import pytest

from conftest import REPO, TEST, assert_says, coco_metrics, last_line, onnx_nodes, run_tool
from toy_configs import write_toy_config

EXPORT = osp.join(REPO, 'tools', 'deployment', 'pytorch2onnx.py')
QUANTIZE = osp.join(REPO, 'tools', 'deployment', 'quantize.py')


@pytest.mark.long
def test_quantized_detector_is_evaluated_like_a_checkpoint(tmp_path, tiny_toy_coco):
    config = write_toy_config('det', tmp_path, tiny_toy_coco, max_epochs=1)
    fp32, int8 = str(tmp_path / 'det.onnx'), str(tmp_path / 'det_int8.onnx')
    run_tool(EXPORT, config, fp32, '--shape', '256', '256')
    result = run_tool(QUANTIZE, config, fp32, int8, '--calib-images', '3', '--verify-images',
                      '2')
    assert 'calibrating on 3 images of val_dataloader' in result.stdout
    assert f'wrote {int8}: ' in result.stdout
    assert 'int8 vs fp32 in onnxruntime: ' in result.stdout
    assert 'reference detections found again' in result.stdout \
        or 'no detections in the reference on 2 images' in result.stdout
    model = onnx.load(int8)
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta['num_classes'] == '4' and meta['calibration_images'] == '3'
    ops = {node.op_type for node in onnx_nodes(model.graph)}  # inside If branches too
    assert {'QuantizeLinear', 'DequantizeLinear', 'NonMaxSuppression', 'RoiAlign'} <= ops

    assert 'If' not in ops  # NNCF quantises the detector for OpenVINO too
    metrics = coco_metrics(run_tool(TEST, config, int8, '--work-dir', str(tmp_path)))
    assert 'coco/bbox_mAP' in metrics and 'coco/segm_mAP' in metrics
    # OpenVINO runs the fp32 file as ONNX Runtime does, images without detections included.
    assert coco_metrics(run_tool(TEST, config, fp32, '--backend', 'openvino', '--work-dir',
                                 str(tmp_path))) == coco_metrics(
        run_tool(TEST, config, fp32, '--work-dir', str(tmp_path)))

    result = run_tool(TEST, config, fp32, '--precision', 'bf16', '--work-dir', str(tmp_path),
                      check=False)
    assert result.returncode == 1 and 'Traceback' not in result.stderr
    assert_says(last_line(result), 'onnxruntime', 'bf16', 'add --backend openvino')


@pytest.mark.long
def test_calibration_images_that_cannot_be_had_stop_before_any_work(tmp_path, tiny_toy_coco):
    config = write_toy_config('det', tmp_path, tiny_toy_coco, max_epochs=1)
    fp32 = str(tmp_path / 'det.onnx')
    run_tool(EXPORT, config, fp32, '--shape', '128', '128')

    empty = tmp_path / 'empty'
    shutil.copytree(tiny_toy_coco, empty)
    annotations = empty / 'annotations' / 'instances_val.json'
    coco = json.loads(annotations.read_text())
    annotations.write_text(json.dumps(dict(coco, images=[], annotations=[])))
    empty_config = tmp_path / 'empty.py'
    empty_config.write_text(textwrap.dedent(f"""\
        _base_ = [{config!r}]
        val_dataloader = dict(dataset=dict(data_root='{empty}/'))
        """))
    out = tmp_path / 'det_int8.onnx'
    result = run_tool(QUANTIZE, str(empty_config), fp32, str(out), check=False)
    assert result.returncode == 1 and 'Traceback' not in result.stderr
    assert_says(last_line(result), 'quantize: ', 'val_dataloader', 'no images')
    assert not out.exists() and not osp.exists(f'{out}.tmp')

    broken = tmp_path / 'broken'
    shutil.copytree(tiny_toy_coco, broken)
    first = json.loads((broken / 'annotations' / 'instances_val.json').read_text())['images'][0]
    (broken / 'val' / first['file_name']).write_bytes(b'not an image')
    broken_config = tmp_path / 'broken.py'
    broken_config.write_text(textwrap.dedent(f"""\
        _base_ = [{config!r}]
        val_dataloader = dict(dataset=dict(data_root='{broken}/'))
        """))
    result = run_tool(QUANTIZE, str(broken_config), fp32, str(out), check=False)
    assert result.returncode == 1 and 'Traceback' not in result.stderr
    assert 'quantize: val_dataloader: image 0 could not be read: ' in result.stderr
    assert not out.exists() and not osp.exists(f'{out}.tmp')


@pytest.mark.long
def test_classifier_exports_quantises_and_evaluates(tmp_path, tiny_image_folder):
    config = write_toy_config('cls', tmp_path, tiny_image_folder, max_epochs=1)
    fp32, int8 = str(tmp_path / 'cls.onnx'), str(tmp_path / 'cls_int8.xml')
    run_tool(EXPORT, config, fp32)
    result = run_tool(QUANTIZE, config, fp32, str(tmp_path / 'cls_int8.onnx'), '--backend',
                      'openvino', check=False)
    assert result.returncode == 1 and 'calibrating' not in result.stdout  # before any work
    assert_says(last_line(result), 'quantize: ', 'openvino', '.xml', f'name the output {int8}')
    result = run_tool(QUANTIZE, config, fp32, int8, '--calib-images', '4', '--backend',
                      'openvino')
    assert 'calibrating on 4 images of val_dataloader' in result.stdout
    assert re.search(r'int8 vs fp32 in openvino: top-1 agrees on [\d.]+% of 4 images',
                     result.stdout)

    def top1(path, *args):
        out = run_tool(TEST, config, path, '--work-dir', str(tmp_path), *args)
        return float(re.findall(r'accuracy/top1: ([\d.]+)', out.stdout + out.stderr)[-1])

    # fp32 gives the same top-1 in both runtimes; the int8 model runs through mmpretrain's
    # test loop in OpenVINO (its accuracy is held by the long tests on a trained model).
    assert top1(fp32) == top1(fp32, '--backend', 'openvino')
    assert re.search(r'accuracy/top1: [\d.]+', run_tool(
        TEST, config, int8, '--backend', 'openvino', '--work-dir', str(tmp_path)).stdout)
