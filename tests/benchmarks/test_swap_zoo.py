"""tools/analysis/swap_zoo.py over a few configs of each library: each config's status, the
control runs, the tables by family (no timing is asserted)."""
import json
import os.path as osp
import re

from conftest import REPO, run_tool

SWAP_ZOO = osp.join(REPO, 'tools', 'analysis', 'swap_zoo.py')
# config: (status, family). The refusal depends on the swap's rule: a plain ViT's (DeiT's)
# outputs all have stride 16, and FasterNet gives one output per stride.
CONFIGS = {
    'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py': ('works', 'retinanet'),
    # Fast R-CNN reads its proposals from files: without them (and an RPN) it cannot predict.
    'mmdet::fast_rcnn/fast-rcnn_r50_fpn_1x_coco.py': ('control fails', 'fast_rcnn'),
    'mmseg::pspnet/pspnet_r50-d8_4xb4-80k_ade20k-512x512.py': ('works', 'pspnet'),
    'mmseg::vit/vit_deit-s16_upernet_8xb2-80k_ade20k-512x512.py': ('refused', 'vit'),
    'mmpose::body_2d_keypoint/rtmpose/coco/rtmpose-s_8xb256-420e_coco-256x192.py':
    ('works', 'body_2d_keypoint/rtmpose'),
    'mmpose::body_3d_keypoint/video_pose_lift/h36m/'
    'video-pose-lift_tcn-27frm-supv_8xb128-160e_h36m.py':
    ('not a candidate', 'body_3d_keypoint/video_pose_lift'),
}


def test_swap_zoo_runs_each_config_as_it_is_then_swapped_and_tables_them(tmp_path):
    out = tmp_path / 'zoo'
    result = run_tool(SWAP_ZOO, '--configs', *CONFIGS, '--out', str(out))
    assert sorted(p.name for p in out.iterdir()) == ['swap_zoo.json', 'swap_zoo.md']
    report = json.loads((out / 'swap_zoo.json').read_text())
    assert report['machine'] and 'mmdet 3.' in report['versions'] and report['seconds'] > 0
    records = {f"{r['library']}::{r['config']}": r for r in report['configs']}
    assert records.keys() == CONFIGS.keys()
    for name, (status, family) in CONFIGS.items():
        record = records[name]
        assert (record['status'], record['family']) == (status, family), record
        assert record['seconds'] >= 0 and f'{name}: {status}' in result.stdout
    assert 'backbone VisionTransformer, neck none: ' in \
        records['mmseg::vit/vit_deit-s16_upernet_8xb2-80k_ade20k-512x512.py']['reason']
    assert 'rpn_head' in records['mmdet::fast_rcnn/fast-rcnn_r50_fpn_1x_coco.py']['reason']

    table = (out / 'swap_zoo.md').read_text()
    # configs, not a candidate, control fails, works, refused, swap crashes, build fails,
    # forward fails (only in head), works / control runs
    for row in ('| mmdet retinanet | 1 | 0 | 0 | 1 | 0 | 0 | 0 | 0 (0) | 100% |',
                '| mmdet fast_rcnn | 1 | 0 | 1 | 0 | 0 | 0 | 0 | 0 (0) | - |',
                '| mmseg vit | 1 | 0 | 0 | 0 | 1 | 0 | 0 | 0 (0) | 0% |',
                '| mmpose body_2d_keypoint/rtmpose | 1 | 0 | 0 | 1 | 0 | 0 | 0 | 0 (0) | 100% |',
                '| mmpose body_3d_keypoint/video_pose_lift | 1 | 1 | 0 | 0 | 0 | 0 | 0 | 0 (0) '
                '| - |',
                '| **mmdet** | 2 | 0 | 1 | 1 | 0 | 0 | 0 | 0 (0) | 100% |',
                '| **mmseg** | 2 | 0 | 0 | 1 | 1 | 0 | 0 | 0 (0) | 50% |',
                '| **all** | 6 | 1 | 1 | 3 | 1 | 0 | 0 | 0 (0) | 75% |'):
        assert row in table, table
    assert re.search(r'^- backbone VisionTransformer, neck none: .+ \(1\): '
                     r'mmseg::vit/vit_deit-s16_upernet_8xb2-80k_ade20k-512x512\.py$', table,
                     re.MULTILINE), table
    assert '- mmdet::fast_rcnn/fast-rcnn_r50_fpn_1x_coco.py: control fails: ' in table


def test_a_config_past_its_time_limit_is_killed_and_judged_by_its_step(tmp_path):
    run_tool(SWAP_ZOO, '--configs', 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
             '--timeout', '0.01', '--out', str(tmp_path))
    record, = json.loads((tmp_path / 'swap_zoo.json').read_text())['configs']
    # Killed at the first look after its start, in the step it was in (loading or the control).
    step = re.fullmatch(r'timed out after 0.01 s in the step (\w+)', record['reason'])
    assert step, record
    assert (step[1], record['status']) in (('load', 'not a candidate'),
                                           ('control', 'control fails')), record
