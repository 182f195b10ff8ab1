"""The pre-flight data check of the tools: fail fast, and clearly, when the data a run
will read is not on disk, is broken, or does not fit the model.

:func:`check_data` runs before the runner is built, so a bad dataset costs seconds and
writes nothing. For every dataset of the checked dataloaders (inside wrappers too) it uses
the dataset class itself (built with ``lazy_init=True``) for paths and classes, then checks:
the annotation file parses, its annotations hold what mmdet reads and its masks fit their
images, every listed image and segmentation map exists, the classes agree with every
head's ``num_classes``, segmentation maps hold no label outside the
classes and the ignore index, and, when asked, that every image decodes.
"""
import json
import logging
import os
import os.path as osp
import textwrap
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.config import Config, ConfigDict
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from mmengine.registry import DATASETS, init_default_scope
from mmengine.utils import ProgressBar

from mmfasternet.errors import MMFasterNetError

# Where each dataset type is expected by mmdet's and mmseg's configs, and where to get it.
DATA_HINTS = {
    'CocoDataset': 'COCO 2017 (https://cocodataset.org): train2017/, val2017/, annotations/',
    'ADE20KDataset': 'ADEChallengeData2016 (http://sceneparsing.csail.mit.edu): '
                     'images/ and annotations/',
    'ImageNet': 'ILSVRC2012 (https://image-net.org): train/ and val/ with one folder per '
                'class, or meta/train.txt and meta/val.txt lists',
}
# mmpretrain datasets whose ``split`` names the image folder under ``data_root`` when no
# ``data_prefix`` is given; other datasets with a ``split`` (CIFAR, MNIST) only need the root.
SPLIT_FOLDER_DATASETS = ('ImageNet', 'ImageNet21k')


def _leaf_datasets(dataset: dict) -> Iterator[dict]:
    """Yield the datasets inside wrappers such as RepeatDataset or ConcatDataset."""
    if 'datasets' in dataset:
        for child in dataset['datasets']:
            yield from _leaf_datasets(child)
    elif 'dataset' in dataset:
        yield from _leaf_datasets(dataset['dataset'])
    else:
        yield dataset


def _required_paths(dataset: dict) -> List[str]:
    """The files and folders a dataset reads: its annotation file and its data prefixes
    (a dict of them, as in mmdet and mmseg, or one string, as in mmpretrain), or the
    folder its ``split`` names."""
    root = dataset.get('data_root') or ''
    prefixes = dataset.get('data_prefix') or {}
    if isinstance(prefixes, str):
        prefixes = {'img_path': prefixes}
    paths = [dataset['ann_file']] if dataset.get('ann_file') else []
    paths += [prefix for prefix in prefixes.values() if isinstance(prefix, str) and prefix]
    if dataset.get('split') and not paths:
        paths.append(dataset['split'] if dataset.get('type') in SPLIT_FOLDER_DATASETS else '')
    return [osp.join(root, path) for path in paths] or ([root] if root else [])


def missing_data(cfg: Config, loaders: Sequence[str]) -> List[Tuple[str, str, str]]:
    """Return ``(loader, dataset type, path)`` for every dataset path that does not exist."""
    missing = []
    for loader in loaders:
        loader_cfg = cfg.get(loader)
        if not isinstance(loader_cfg, (dict, ConfigDict)) or 'dataset' not in loader_cfg:
            continue
        for dataset in _leaf_datasets(loader_cfg['dataset']):
            for path in _required_paths(dataset):
                if not osp.exists(path):
                    missing.append((loader, str(dataset.get('type')), path))
    return missing


def check_data_exists(cfg: Config, loaders: Sequence[str]) -> None:
    """Raise ``FileNotFoundError`` naming every missing dataset path and how to fix it.

    Args:
        cfg (Config): The full config.
        loaders (Sequence[str]): Dataloader keys to check, e.g. ``['train_dataloader']``.
    """
    missing = missing_data(cfg, loaders)
    if not missing:
        return
    lines = ['The dataset this config trains or tests on is not on disk:']
    lines += [f'  {loader} ({dataset_type}): {path} does not exist'
              for loader, dataset_type, path in missing]
    for dataset_type in sorted({dataset_type for _, dataset_type, _ in missing}):
        if dataset_type in DATA_HINTS:
            lines.append(f'{dataset_type} expects {DATA_HINTS[dataset_type]}.')
    first_loader = missing[0][0]
    lines += [
        'Put the data at the paths above (a symlink to your copy works, e.g. '
        '`ln -s /path/to/coco data/coco`),',
        'or point the config at your copy, e.g.',
        f'  --cfg-options {first_loader}.dataset.data_root=/path/to/data/',
        "(and the same for the other dataloaders and the evaluator's ann_file).",
    ]
    raise DataNotFound('\n'.join(lines))


class DataCheckError(MMFasterNetError, ValueError):
    """The data a run would read is broken or does not fit the model."""


class DataNotFound(DataCheckError, FileNotFoundError):
    """The dataset a run would read is not on disk."""


# How many missing or broken files a message lists before it only counts the rest.
LISTED = 10
# Heads whose ``num_classes`` is not the dataset's (an RPN has one class: "object").
NOT_CLASS_HEADS = ('rpn_head', 'data_preprocessor', 'train_cfg', 'test_cfg')


def head_num_classes(model: dict, path: str = 'model') -> List[Tuple[str, int]]:
    """``(config path, num_classes)`` of every head of a model config."""
    found = []
    items = model.items() if isinstance(model, dict) else enumerate(
        model if isinstance(model, (list, tuple)) else [])
    for key, value in items:
        if key in NOT_CLASS_HEADS:
            continue
        if key == 'num_classes' and isinstance(value, int):
            found.append((path, value))
        else:
            found += head_num_classes(value, f'{path}.{key}')
    return found


def read_json(path: str):
    """Parse a JSON file; a syntax error names the file, line and column."""
    try:
        with open(path) as f:
            return json.load(f)
    except json.JSONDecodeError as error:
        raise DataCheckError(f'{path} is not valid JSON: {error.msg} at line {error.lineno}, '
                             f'column {error.colno} (a cut-short or hand-edited file?)') from None


def missing_files(paths: Iterable[str]) -> List[str]:
    """The paths that do not exist, checked with one directory listing per folder (a
    COCO-sized set in about a second)."""
    by_folder = {}
    for path in paths:
        by_folder.setdefault(osp.dirname(path), []).append(path)
    missing = []
    for folder, files in by_folder.items():
        present = set(os.listdir(folder)) if osp.isdir(folder) else set()
        missing += [p for p in files if osp.basename(p) not in present]
    return missing


def _listed(paths: Sequence[str], what: str) -> str:
    shown = '\n'.join(f'    {p}' for p in paths[:LISTED])
    more = f'\n    ... and {len(paths) - LISTED} more' if len(paths) > LISTED else ''
    return f'{len(paths)} {what}:\n{shown}{more}'


def _coco_files(dataset: BaseDataset, problems: List[str]) -> List[dict]:
    """The images of a COCO-style annotation file, read without building the index (the
    dataset does that when the run starts); classes missing from its categories are a
    problem, since mmdet would silently train without their annotations."""
    annotations = read_json(dataset.ann_file)
    if not isinstance(annotations, dict) or not isinstance(annotations.get('images'), list):
        raise DataCheckError(f'{dataset.ann_file} is not a COCO annotation file: it has no '
                             f'"images" list')
    names = {c.get('name') for c in annotations.get('categories', [])}
    absent = [c for c in dataset.metainfo.get('classes', ()) if c not in names]
    if absent:
        problems.append(f'{dataset.ann_file} has no category named {absent[:LISTED]}; its '
                        f'categories are {sorted(names)[:20]}: set the dataset\'s '
                        f'metainfo=dict(classes=...) to names in the file')
    problems += _annotation_problems(dataset.ann_file, annotations, _loads_masks(dataset))
    prefix = dataset.data_prefix.get('img', '')
    names = [image.get('file_name') for image in annotations['images']]
    if None in names:  # LVIS-style files name images by URL: the dataset resolves them
        return []
    return [dict(img_path=osp.join(prefix, name)) for name in names]


def _loads_masks(dataset: BaseDataset) -> bool:
    """Whether the dataset's pipeline loads instance masks (``LoadAnnotations`` with
    ``with_mask``)."""
    steps = getattr(getattr(dataset, 'pipeline', None), 'transforms', [])
    return any(getattr(step, 'with_mask', False) for step in steps)


def _box_drop(ann: dict, image: dict) -> Optional[str]:
    """Why mmdet's ``CocoDataset`` drops the box of ``ann`` on ``image``, or None."""
    x, y, w, h = ann['bbox']
    if (min(x + w, image['width']) - max(x, 0) <= 0
            or min(y + h, image['height']) - max(y, 0) <= 0):
        return 'boxes outside their image'
    if ann['area'] <= 0 or w < 1 or h < 1:
        return 'boxes under 1 pixel wide or high, or of area 0'
    return None


def _mask_fault(ann: dict, image: dict) -> Optional[str]:
    """Why mmdet cannot train on the mask of ``ann``, or None: an empty ``segmentation``
    (mmdet then has no mask for the instance, and a DataLoader worker fails with
    ``KeyError: 'mask'``), polygons of fewer than 3 points (an all-zero mask target), or an
    RLE mask of another size than its image (its mask would not fit the image's)."""
    segmentation = ann.get('segmentation')
    if not segmentation:
        return 'an empty segmentation'
    if isinstance(segmentation, dict):
        size = list(segmentation.get('size') or [])
        if size and size != [image['height'], image['width']]:
            return (f'an RLE mask of {size[0]}x{size[1]} (height x width) on an image of '
                    f'{image["height"]}x{image["width"]}')
        return None
    if not ann.get('iscrowd') and any(len(polygon) < 6 for polygon in segmentation):
        return 'a polygon of fewer than 3 points'
    return None


def _has_fields(ann: dict) -> bool:
    """Whether ``ann`` holds what ``CocoDataset`` reads of every annotation."""
    bbox = ann.get('bbox')
    return (isinstance(bbox, (list, tuple)) and len(bbox) == 4
            and all(isinstance(v, (int, float)) for v in bbox)
            and isinstance(ann.get('area'), (int, float)) and 'category_id' in ann)


def _annotation_problems(ann_file: str, annotations: dict, masks: bool) -> List[str]:
    """What mmdet's ``CocoDataset`` (and, with ``masks``, ``LoadAnnotations``) would crash
    on or silently train wrong, each annotation named by its id and its image's id and
    file; what it drops harmlessly (boxes outside their image or under a pixel, category
    ids or image ids the file does not list) is one warning with the counts."""
    images = {image.get('id'): image for image in annotations['images']}
    categories = {category.get('id') for category in annotations.get('categories') or []}
    sizeless = [f'image {i} ({image.get("file_name")})' for i, image in images.items()
                if not {'width', 'height'} <= set(image)]
    if sizeless:
        return [_listed(sizeless, f'images in {ann_file} have no width and height, which '
                                  f'mmdet reads for every image: add them')]
    unreadable, no_mask, dropped = [], [], Counter()
    listed = annotations.get('annotations') or []
    for ann in listed:
        image = images.get(ann.get('image_id'))
        name = f'annotation {ann.get("id")} of image {ann.get("image_id")}'
        if image is None:
            dropped['of an image the file does not list'] += 1
            continue
        name += f' ({image.get("file_name")})'
        if ann.get('ignore'):
            continue
        if not _has_fields(ann):
            unreadable.append(name)
            continue
        why = _box_drop(ann, image) or (
            None if ann['category_id'] in categories else
            'of a category id the file does not list')
        if why:
            dropped[why] += 1
            continue
        fault = _mask_fault(ann, image) if masks else None
        if fault:
            no_mask.append(f'{name} has {fault}')
    problems = []
    if unreadable:
        problems.append(_listed(unreadable, f'annotations in {ann_file} lack what mmdet reads '
                                            f'of each: a bbox of 4 numbers [x, y, width, '
                                            f'height], an area and a category_id'))
    if no_mask:
        problems.append(_listed(no_mask, f'instances in {ann_file} have no mask mmdet can '
                                         f'train on (give them a polygon of at least 3 '
                                         f'points, or an RLE mask of their image\'s size, or '
                                         f'remove them)'))
    if dropped:
        counts = ', '.join(f'{count} {why}' for why, count in dropped.items())
        print_log(f'mmdet will leave out {sum(dropped.values())} of the {len(listed)} '
                  f'annotations in {ann_file}: {counts}', logger='current',
                  level=logging.WARNING)
    return problems


def _data_list(dataset: BaseDataset, problems: List[str]) -> List[dict]:
    try:
        from mmdet.datasets import CocoDataset
        if isinstance(dataset, CocoDataset):
            return _coco_files(dataset, problems)
    except ImportError:
        pass
    try:
        return dataset.load_data_list()
    except (AssertionError, RuntimeError, ValueError, OSError) as error:
        raise DataCheckError(f'{type(dataset).__name__} could not list its data: '
                             f'{error}') from None


def _label_problem(dataset: BaseDataset, seg_maps: Sequence[str]) -> List[str]:
    """Segmentation maps with a label that is neither a class nor the ignore index."""
    label_map = getattr(dataset, 'label_map', None)
    num = len(label_map) if label_map else len(dataset.metainfo['classes'])
    # With reduce_zero_label, 0 becomes the ignore index and 1..num the classes.
    allowed = set(range(num + 1 if dataset.reduce_zero_label else num))
    allowed.add(dataset.ignore_index)

    def bad_labels(path: str):
        labels = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if labels is None:
            return path, 'does not decode'
        extra = sorted(set(np.unique(labels).tolist()) - allowed)
        return path, (f'has labels {extra[:5]}' if extra else '')

    with ThreadPoolExecutor(max_workers=2 * (os.cpu_count() or 1)) as pool:
        found = [(p, why) for p, why in pool.map(bad_labels, seg_maps) if why]
    if not found:
        return []
    zero = ', label 0 is ignored' if dataset.reduce_zero_label else ''
    what = (f'segmentation maps hold labels outside 0..{max(allowed - {dataset.ignore_index})}'
            f' and the ignore index {dataset.ignore_index} ({num} classes{zero})')
    return [_listed([f'{p} {why}' for p, why in found], what)]


def decode_failures(paths: Sequence[str]) -> List[str]:
    """The images among ``paths`` that do not decode, with a progress bar."""
    def broken(path: str) -> bool:
        return cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_UNCHANGED) is None

    bar, failed = ProgressBar(len(paths)), []
    with ThreadPoolExecutor(max_workers=2 * (os.cpu_count() or 1)) as pool:
        for path, is_broken in zip(paths, pool.map(broken, paths)):
            bar.update()
            if is_broken:
                failed.append(path)
    print()
    return failed


def _check_dataset(dataset: BaseDataset, heads: List[Tuple[str, int]],
                   decode_images: bool) -> List[str]:
    problems = []
    data_list = _data_list(dataset, problems)
    images = [info['img_path'] for info in data_list if info.get('img_path')]
    seg_maps = [info['seg_map_path'] for info in data_list if info.get('seg_map_path')]
    missing = missing_files(images)
    if missing:
        problems.append(_listed(missing, f'of {len(images)} images are missing'))
    missing_maps = missing_files(seg_maps)
    if missing_maps:
        problems.append(_listed(missing_maps,
                                f'of {len(seg_maps)} segmentation maps are missing'))
    classes = dataset.metainfo.get('classes')
    folders = getattr(dataset, 'folder_to_idx', None)  # mmpretrain's class folders
    if classes and folders:
        in_order = tuple(sorted(folders, key=folders.get))
        if tuple(classes) != in_order:
            problems.append(f'the config names the classes {tuple(classes)[:8]}, but the '
                            f'class folders under {dataset.img_prefix} are {in_order[:8]} '
                            f'(label i is the i-th folder in sorted order): name the classes '
                            f'as the folders, in that order')
    if classes:
        for path, num_classes in heads:
            if num_classes != len(classes):
                problems.append(f'{path}.num_classes is {num_classes}, but the dataset has '
                                f'{len(classes)} classes {tuple(classes)[:8]}: make them '
                                f'agree')
        labels = [info['gt_label'] for info in data_list if 'gt_label' in info]
        if labels and not 0 <= min(labels) <= max(labels) < len(classes):
            problems.append(f'labels run from {min(labels)} to {max(labels)}, outside the '
                            f'{len(classes)} classes')
    if seg_maps and not missing_maps and hasattr(dataset, 'ignore_index'):
        problems += _label_problem(dataset, seg_maps)
    if decode_images and not missing:
        broken = decode_failures(images)
        if broken:
            problems.append(_listed(broken, f'of {len(images)} images do not decode'))
    return problems


def check_data(cfg: Config, loaders: Sequence[str], decode_images: bool = False) -> None:
    """The tools' pre-flight check of every dataset that ``loaders`` read.

    Args:
        cfg (Config): The full config.
        loaders (Sequence[str]): Dataloader keys to check, e.g. ``['train_dataloader']``.
        decode_images (bool): Also decode every image. Defaults to False.

    Raises:
        FileNotFoundError: A dataset's root, annotation file or folders are missing.
        DataCheckError: Everything else, every problem found listed in the message.
    """
    check_data_exists(cfg, loaders)
    scope = cfg.get('default_scope') or 'mmengine'
    init_default_scope(scope)
    heads = head_num_classes(cfg.get('model') or {})
    problems = []
    for loader in loaders:
        loader_cfg = cfg.get(loader)
        if not isinstance(loader_cfg, (dict, ConfigDict)) or 'dataset' not in loader_cfg:
            continue
        for dataset_cfg in _leaf_datasets(loader_cfg['dataset']):
            with DATASETS.switch_scope_and_registry(scope) as registry:
                dataset_type = registry.get(dataset_cfg.get('type'))
                if not (isinstance(dataset_type, type)
                        and issubclass(dataset_type, BaseDataset)):
                    continue
                dataset = registry.build(dict(dataset_cfg, lazy_init=True))
            found = _check_dataset(dataset, heads, decode_images)
            problems += [f'{loader} ({dataset_type.__name__}): {p}' for p in found
                         if f'{loader} ({dataset_type.__name__}): {p}' not in problems]
    if problems:
        raise DataCheckError('\n'.join(
            ['The data check found problems before the run started:'] +
            [textwrap.indent(p, '  ') for p in problems] +
            ['Fix the data or the config; --skip-data-check skips this check.']))
