"""benchmarks.swap_zoo: a few configs of each library run as they are, then swapped, each
judged by how far it got; the pick of configs; workers that hang or die judged by their
step; the tables by family and library; one run of the benchmark (no timing is asserted)."""
import json
import os
import time

import pytest

from benchmarks.lab import report, swap_zoo
from benchmarks.lab.swap_zoo import check_config, library_configs, markdown, run_all, select
from conftest import run_tool

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
# The steps a config reports before it earns its status.
STEPS = {'not a candidate': [], 'control fails': ['control'], 'refused': ['control', 'swap'],
         'works': ['control', 'swap', 'build', 'forward']}
# What the reason of each config that does not work says.
REASONS = {
    'mmdet::fast_rcnn/fast-rcnn_r50_fpn_1x_coco.py': 'rpn_head',
    'mmseg::vit/vit_deit-s16_upernet_8xb2-80k_ade20k-512x512.py':
    'swap_in_fasternet: backbone VisionTransformer, neck none: ',
    'mmpose::body_3d_keypoint/video_pose_lift/h36m/'
    'video-pose-lift_tcn-27frm-supv_8xb128-160e_h36m.py':
    'a pose lifter: it reads keypoints, not images',
}


@pytest.mark.parametrize('name', CONFIGS)
def test_each_config_runs_as_it_is_then_swapped_and_is_judged_by_how_far_it_got(name):
    library, config = name.split('::')
    steps = []
    record = check_config(library, config, steps.append)
    status, family = CONFIGS[name]
    assert (record['status'], record['family'], steps) == (status, family, STEPS[status]), \
        record
    assert (record['library'], record['config']) == (library, config)
    assert record['seconds'] >= 0 and 'failed_in' not in record
    if status == 'works':
        assert record['reason'] == ''
    else:
        assert REASONS[name] in record['reason'], record


def test_select_picks_by_pattern_then_an_even_sample_then_every_kth_config():
    everything = library_configs('mmseg')
    assert len(everything) > 100 and everything == sorted(everything)
    assert not any('_base_' in config.split(os.sep) for config in everything)
    assert select(['mmseg', 'mmdet'], ['mmseg::pspnet/*r50-d8*', 'mmdet::retinanet/*r50_fpn_1x*']) \
        == ([('mmseg', c) for c in everything if c.startswith('pspnet/') and 'r50-d8' in c]
            + [('mmdet', 'retinanet/retinanet_r50_fpn_1x_coco.py')])
    sample = select(['mmseg'], sample=4)
    indices = [everything.index(config) for _, config in sample]
    assert indices[0] == 0 and sample == select(['mmseg'], sample=4)  # the same each run
    assert all(abs(b - a - len(everything) / 4) <= 1 for a, b in zip(indices, indices[1:]))
    pspnets = select(['mmseg'], ['mmseg::pspnet/*'])
    assert select(['mmseg'], ['mmseg::pspnet/*'], sample=len(pspnets) + 5) == pspnets
    assert select(['mmseg'], every=100) == [('mmseg', c) for c in everything[::100]]
    assert select(['mmseg'], ['mmseg::no_such_family/*']) == []


def fake_check(library: str, config: str, step) -> dict:
    """A worker's check by its config's name: ``works.py`` returns its record,
    ``dies.py`` exits with code 3 in its forward step, ``hangs.py`` sleeps in its build step,
    ``loads.py`` sleeps before it reports any step."""
    if config != 'd/loads.py':
        step('build' if config == 'a/hangs.py' else 'forward')
    if config == 'b/dies.py':
        os._exit(3)
    if config == 'c/works.py':
        return dict(library=library, family='c', config=config, status='works', reason='',
                    seconds=0.5)
    time.sleep(60)


def test_a_worker_that_hangs_or_dies_is_killed_and_judged_by_its_step(monkeypatch, capsys):
    monkeypatch.setattr(swap_zoo, 'check_config', fake_check)  # the forks inherit it
    jobs = [('mmseg', config) for config in ('d/loads.py', 'c/works.py', 'b/dies.py',
                                             'a/hangs.py')]
    start = time.monotonic()
    records = run_all(jobs, workers=2, timeout=2)
    assert time.monotonic() - start < 30
    assert [r.pop('seconds') > 2 for r in records] == [True, False, False, True]
    assert records == [
        dict(library='mmseg', config='a/hangs.py', family='a', status='build fails',
             reason='timed out after 2 s in the step build'),
        dict(library='mmseg', config='b/dies.py', family='b', status='forward fails',
             reason='the worker died (exit code 3) in the step forward'),
        dict(library='mmseg', config='c/works.py', family='c', status='works', reason=''),
        dict(library='mmseg', config='d/loads.py', family='d', status='not a candidate',
             reason='timed out after 2 s in the step load')]
    printed = capsys.readouterr().out.splitlines()
    assert [line.split('] ')[1].rsplit(' (', 1)[0] for line in printed] == [
        'mmseg::c/works.py: works', 'mmseg::b/dies.py: forward fails',
        'mmseg::d/loads.py: not a candidate', 'mmseg::a/hangs.py: build fails'], printed
    assert [line.split(']')[0] for line in printed] == ['[1/4', '[2/4', '[3/4', '[4/4']


def record(name: str, family: str, status: str, reason: str = '', **extra) -> dict:
    library, config = name.split('::')
    return dict(library=library, family=family, config=config, status=status, reason=reason,
                **extra, seconds=1.0)


def test_the_markdown_counts_each_status_by_family_and_library_and_lists_the_rest():
    not_pyramid = 'backbone VisionTransformer, neck none: not an image pyramid'
    records = [
        record('mmdet::fast_rcnn/f.py', 'fast_rcnn', 'control fails', 'KeyError: rpn_head'),
        record('mmdet::retinanet/a.py', 'retinanet', 'works'),
        record('mmdet::retinanet/b.py', 'retinanet', 'forward fails', 'RuntimeError: shapes',
               failed_in='head'),
        record('mmdet::retinanet/c.py', 'retinanet', 'swap crashes', 'KeyError: neck'),
        record('mmpose::body_3d_keypoint/lift/a.py', 'body_3d_keypoint/lift',
               'not a candidate', 'a pose lifter: it reads keypoints, not images'),
        record('mmseg::segformer/a.py', 'segformer', 'refused',
               'swap_in_fasternet: backbone MixVisionTransformer, neck none: no record'),
        record('mmseg::vit/a.py', 'vit', 'refused',
               f'swap_in_fasternet: {not_pyramid} (known: ResNet, HRNet)'),
        record('mmseg::vit/b.py', 'vit', 'refused', f'swap_in_fasternet: {not_pyramid}'),
        record('mmseg::vit/c.py', 'vit', 'build fails', 'TypeError: widths')]
    summary = dict(command="python -m benchmarks.swap_zoo --configs 'mmseg::vit/*'",
                   machine='A CPU, 2 cores', versions='torch 2.1, mmseg 1.2', date='2026-12-07',
                   seconds=90.0, arch='t0')
    header = ('| library / family | configs | not a candidate | control fails | works | '
              'refused | swap crashes | build fails | forward fails (only in head) | '
              'works / control runs |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n')
    assert '\n'.join(markdown(summary, records)) + '\n' == (
        '# FasterNet-T0 swapped into the model zoos (2026-12-07)\n\n'
        "`python -m benchmarks.swap_zoo --configs 'mmseg::vit/*'`\n\n"
        'A CPU, 2 cores; torch 2.1, mmseg 1.2; 9 configs in 1.5 min.\n\n'
        + header
        + '| mmdet fast_rcnn | 1 | 0 | 1 | 0 | 0 | 0 | 0 | 0 (0) | - |\n'
        '| mmdet retinanet | 3 | 0 | 0 | 1 | 0 | 1 | 0 | 1 (1) | 33% |\n'
        '| mmpose body_3d_keypoint/lift | 1 | 1 | 0 | 0 | 0 | 0 | 0 | 0 (0) | - |\n'
        '| mmseg segformer | 1 | 0 | 0 | 0 | 1 | 0 | 0 | 0 (0) | 0% |\n'
        '| mmseg vit | 3 | 0 | 0 | 0 | 2 | 0 | 1 | 0 (0) | 0% |\n\n'
        + header
        + '| **mmdet** | 4 | 0 | 1 | 1 | 0 | 1 | 0 | 1 (1) | 33% |\n'
        '| **mmseg** | 4 | 0 | 0 | 0 | 3 | 0 | 1 | 0 (0) | 0% |\n'
        '| **mmpose** | 1 | 1 | 0 | 0 | 0 | 0 | 0 | 0 (0) | - |\n'
        '| **all** | 9 | 1 | 1 | 1 | 3 | 1 | 1 | 1 (1) | 14% |\n\n'
        '## Refused, by reason\n\n'
        f'- {not_pyramid} (2): mmseg::vit/a.py, mmseg::vit/b.py\n'
        '- backbone MixVisionTransformer, neck none: no record (1): mmseg::segformer/a.py\n\n'
        '## Failures\n\n'
        '- mmdet::fast_rcnn/f.py: control fails: KeyError: rpn_head\n'
        '- mmdet::retinanet/b.py: forward fails in the head: RuntimeError: shapes\n'
        '- mmdet::retinanet/c.py: swap crashes: KeyError: neck\n'
        '- mmseg::vit/c.py: build fails: TypeError: widths\n\n'
        '## Not candidates\n\n'
        '- mmpose::body_3d_keypoint/lift/a.py: not a candidate: a pose lifter: it reads '
        'keypoints, not images\n')


@pytest.mark.long
def test_the_benchmark_writes_its_records_and_tables_with_its_command(tmp_path):
    out = tmp_path / 'zoo'
    picked = ['mmseg::pspnet/pspnet_r50-d8_4xb4-80k_ade20k-512x512.py',
              'mmseg::vit/vit_deit-s16_upernet_8xb2-80k_ade20k-512x512.py']
    args = ['--libraries', 'mmseg', '--configs', *picked, '--out', str(out)]
    result = run_tool('-m', 'benchmarks.swap_zoo', *args)
    assert sorted(p.name for p in out.iterdir()) == ['swap_zoo.json', 'swap_zoo.md']
    written = json.loads((out / 'swap_zoo.json').read_text())
    assert written['command'] == report.command('benchmarks.swap_zoo', args)
    assert written['machine'] == report.machine() and written['arch'] == 't0'
    assert written['versions'].startswith('torch ') and 'mmseg 1.' in written['versions']
    assert 'mmdet' not in written['versions'] and written['seconds'] > 0
    assert [(f"{r['library']}::{r['config']}", r['status']) for r in written['configs']] == \
        [(picked[0], 'works'), (picked[1], 'refused')]
    for name, status in ((picked[0], 'works'), (picked[1], 'refused')):
        assert f'{name}: {status}' in result.stdout
    assert '| mmseg | 2 | 0 | 0 | 1 | 1 | 0 | 0 | 0 (0) | 50% |' in result.stdout
    assert f'wrote {out}/swap_zoo.md and {out}/swap_zoo.json' in result.stdout
    table = (out / 'swap_zoo.md').read_text()
    assert table == '\n'.join(markdown(written, written['configs'])).rstrip('\n') + '\n'
    assert f"`python -m benchmarks.swap_zoo --libraries mmseg --configs {picked[0]} " in table
    assert '| **mmseg** | 2 | 0 | 0 | 1 | 1 | 0 | 0 | 0 (0) | 50% |' in table
