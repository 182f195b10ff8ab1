import hashlib
import json

import numpy as np
from mmdet.datasets import CocoDataset
from pycocotools.coco import COCO

from mmfasternet.testing.toy_coco import CLASSES, generate_toy_coco


def digest(root):
    h = hashlib.sha256()
    for path in sorted(root.rglob('*')):
        if path.is_file():
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def test_generator_is_deterministic(tmp_path):
    generate_toy_coco(str(tmp_path / 'a'), num_train=6, num_val=2, image_size=96, seed=3)
    generate_toy_coco(str(tmp_path / 'b'), num_train=6, num_val=2, image_size=96, seed=3)
    generate_toy_coco(str(tmp_path / 'c'), num_train=6, num_val=2, image_size=96, seed=4)
    assert digest(tmp_path / 'a') == digest(tmp_path / 'b')
    assert digest(tmp_path / 'a') != digest(tmp_path / 'c')


def test_annotations_are_valid_coco_with_every_kind_of_instance(tmp_path):
    files = generate_toy_coco(str(tmp_path), num_train=60, num_val=10, image_size=128)
    coco = COCO(files['train'])
    anns = coco.loadAnns(coco.getAnnIds())
    assert [c['name'] for c in coco.loadCats(coco.getCatIds())] == list(CLASSES)
    assert {a['category_id'] for a in anns} == {1, 2, 3, 4}
    kinds = {(a['iscrowd'], type(a['segmentation']).__name__) for a in anns}
    assert kinds == {(0, 'list'), (0, 'dict'), (1, 'dict')}  # polygons, RLEs, crowds
    per_image = [len(coco.getAnnIds(imgIds=i, iscrowd=False)) for i in coco.getImgIds()]
    assert 0 in per_image and max(per_image) <= 5
    for ann in anns:
        mask = coco.annToMask(ann)
        assert mask.sum() == ann['area'] > 0
        ys, xs = np.nonzero(mask)
        x, y, w, h = ann['bbox']
        assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == (x, y, x + w, y + h)
    val = json.loads(open(files['val']).read())
    assert len(val['images']) == 10


def test_occluded_objects_are_annotated_by_their_visible_part(tmp_path):
    files = generate_toy_coco(str(tmp_path), num_train=40, num_val=1, image_size=128)
    coco = COCO(files['train'])
    overlaps = 0
    for image_id in coco.getImgIds():
        masks = [coco.annToMask(a) for a in coco.loadAnns(coco.getAnnIds(imgIds=image_id))]
        for i in range(len(masks)):
            for j in range(i + 1, len(masks)):
                overlaps += int((masks[i] & masks[j]).sum())
    assert overlaps == 0  # each pixel belongs to at most one instance
    assert any(isinstance(a['segmentation'], dict) and not a['iscrowd']
               for a in coco.loadAnns(coco.getAnnIds()))


def test_loads_in_mmdet_coco_dataset(tiny_toy_coco):
    dataset = CocoDataset(
        data_root=str(tiny_toy_coco), ann_file='annotations/instances_train.json',
        data_prefix=dict(img='train/'), metainfo=dict(classes=CLASSES),
        filter_cfg=dict(filter_empty_gt=True), pipeline=[])
    assert 0 < len(dataset) <= 8
    instances = [inst for i in range(len(dataset)) for inst in dataset[i]['instances']]
    assert {inst['bbox_label'] for inst in instances} <= {0, 1, 2, 3}
