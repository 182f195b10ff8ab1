"""Fail fast, and clearly, when a config's dataset files are not on disk."""
import os.path as osp
from typing import Iterator, List, Sequence, Tuple

from mmengine.config import Config, ConfigDict

# Where each dataset type is expected by mmdet's and mmseg's configs, and where to get it.
DATA_HINTS = {
    'CocoDataset': 'COCO 2017 (https://cocodataset.org): train2017/, val2017/, annotations/',
    'ADE20KDataset': 'ADEChallengeData2016 (http://sceneparsing.csail.mit.edu): '
                     'images/ and annotations/',
}


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
    root = dataset.get('data_root') or ''
    paths = []
    if dataset.get('ann_file'):
        paths.append(osp.join(root, dataset['ann_file']))
    for prefix in (dataset.get('data_prefix') or {}).values():
        if isinstance(prefix, str) and prefix:
            paths.append(osp.join(root, prefix))
    return paths


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
        'Put the data at the paths above (a symlink such as `ln -s /path/to/coco data/coco` '
        'works),',
        'or point the config at your copy, e.g.',
        f'  --cfg-options {first_loader}.dataset.data_root=/path/to/data/',
        "(and the same for the other dataloaders and the evaluator's ann_file).",
    ]
    raise FileNotFoundError('\n'.join(lines))
