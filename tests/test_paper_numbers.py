"""configs/paper.yml is the one place of the paper's numbers: the README's table,
docs/model_zoo.md and the mim metafiles say the same."""
import os.path as osp
import re

import pytest
import yaml

from benchmarks.lab.paper import paper_numbers
from conftest import REPO

FASTERNETS = ['t0', 't1', 't2', 's', 'm', 'l']


def table_rows(path: str, first_cell: str) -> dict:
    """The rows of the markdown tables in ``path`` whose first cell matches the regex
    ``first_cell`` (one group: the variant), to their other cells."""
    rows = {}
    with open(osp.join(REPO, path)) as f:
        for line in f:
            cells = [cell.strip() for cell in line.strip().strip('|').split('|')]
            found = re.fullmatch(first_cell, cells[0])
            if line.startswith('|') and found:
                rows.setdefault(found.group(1).lower(), cells[1:])
    return rows


def number(cell: str) -> float:
    return float(re.match(r'[\d.]+', cell).group())


def test_the_readme_table_is_the_papers():
    imagenet = paper_numbers()['imagenet']
    rows = table_rows('README.md', r'FasterNet-(\w+)')
    assert sorted(rows) == sorted(FASTERNETS)
    for arch, (params, gflops, top1, gpu_fps, cpu_ms) in rows.items():
        paper = imagenet[f'fasternet_{arch}']
        assert number(params) == paper['params'] and number(top1) == paper['top1']
        assert number(gflops) == pytest.approx(paper['gflops'], abs=0.006)  # two decimals
        assert number(gpu_fps) == paper['gpu_fps'] and number(cpu_ms) == paper['cpu_ms']


def test_the_model_zoo_tables_are_the_papers():
    numbers = paper_numbers()
    rows = table_rows('docs/model_zoo.md', r'\[fasternet_(\w+)_in1k\.py\].*')
    assert sorted(rows) == sorted(FASTERNETS)
    for arch, (params, gflops, top1, _) in rows.items():
        paper = numbers['imagenet'][f'fasternet_{arch}']
        assert (number(params), number(top1)) == (paper['params'], paper['top1'])
        assert number(gflops) == pytest.approx(paper['gflops'], abs=0.006)
    rows = table_rows('docs/model_zoo.md', r'\[mask_rcnn_fasternet_(\w+)\.py\].*')
    published = {arch: cells for arch, cells in rows.items() if cells[0] != '-'}
    assert sorted(published) == sorted(n[len('fasternet_'):] for n in numbers['coco_mask_rcnn'])
    for arch, (params, gflops, box_ap, mask_ap, _) in published.items():
        paper = numbers['coco_mask_rcnn'][f'fasternet_{arch}']
        assert [number(c) for c in (params, gflops, box_ap, mask_ap)] == [
            paper['params'], paper['gflops'], paper['box_ap'], paper['mask_ap']]


def test_the_metafiles_are_the_papers():
    numbers = paper_numbers()
    models = {}
    for name in ('metafile_in1k.yml', 'metafile_mask_rcnn.yml'):
        with open(osp.join(REPO, 'configs', name)) as f:
            models.update({model['Name']: model for model in yaml.safe_load(f)['Models']})
    for arch in FASTERNETS:
        model, paper = models[f'fasternet-{arch}_in1k'], numbers['imagenet'][f'fasternet_{arch}']
        assert model['Metadata']['Parameters'] == pytest.approx(paper['params'] * 1e6)
        assert model['Metadata']['FLOPs'] == pytest.approx(paper['gflops'] * 1e9, abs=6e6)
        assert model['Results'][0]['Metrics']['Top 1 Accuracy'] == paper['top1']
    for name, paper in numbers['coco_mask_rcnn'].items():
        model = models[f'mask-rcnn_{name.replace("_", "-")}_fpn_1x_coco']
        assert model['Metadata']['Parameters'] == pytest.approx(paper['params'] * 1e6)
        assert model['Metadata']['FLOPs'] == pytest.approx(paper['gflops'] * 1e9)
        metrics = {r['Task']: r['Metrics'] for r in model['Results']}
        assert metrics['Object Detection']['box AP'] == paper['box_ap']
        assert metrics['Instance Segmentation']['mask AP'] == paper['mask_ap']
