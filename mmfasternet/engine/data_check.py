"""Fail fast, and clearly, when a config's dataset files are not on disk."""
import os.path as osp
from typing import Iterator, List, Sequence, Tuple

from mmengine.config import Config, ConfigDict

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
    raise FileNotFoundError('\n'.join(lines))
