"""The data-check benchmark (benchmarks/lab/data_check.py, ``python -m
benchmarks.benchmark_data_check``): the generated COCO-sized set, and a full temporary folder
stops it with one line naming the file, the space it needs and what is free."""
import json

import pytest

from benchmarks.lab.data_check import write_coco_sized_set
from conftest import assert_says, last_line, run_limited, stops


def test_the_generated_set_has_every_image_and_annotation_asked_for(tmp_path):
    size = write_coco_sized_set(str(tmp_path), 10, 25, ('cat', 'dog'))
    path = tmp_path / 'annotations' / 'instances_train2017.json'
    assert size == path.stat().st_size
    coco = json.loads(path.read_text())
    names = [image['file_name'] for image in coco['images']]
    assert names[:2] == ['000000000000.jpg', '000000000001.jpg']
    assert sorted(p.name for p in (tmp_path / 'train2017').iterdir()) == names
    assert len(names) == 10
    assert len(coco['annotations']) == 25
    assert {a['category_id'] for a in coco['annotations']} == {1, 2}
    assert all(len(a['segmentation'][0]) == 32 and 0 <= a['image_id'] < 10
               for a in coco['annotations'])  # polygons of 16 points
    assert coco['categories'] == [dict(id=1, name='cat'), dict(id=2, name='dog')]


@pytest.mark.parametrize('small_disk', [1], indirect=True)
def test_the_data_check_benchmark_on_a_full_temporary_folder_stops_with_one_line(
        small_disk, tmp_path):
    folder, prefix = small_disk
    result = run_limited(['env', f'TMPDIR={folder}', *prefix], '-m',
                         'benchmarks.benchmark_data_check', '--images', '100', '--annotations',
                         '5000', '--out', str(tmp_path))
    stops(result)
    # The generated annotation file is streamed: its size is not known before writing.
    assert_says(last_line(result), 'no space left to write ',
                'annotations/instances_train2017.json: it needs more than ',
                ' are free; nothing was written')
    assert list(folder.iterdir()) == [] and list(tmp_path.iterdir()) == [folder]
