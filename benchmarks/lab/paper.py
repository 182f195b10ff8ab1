"""The paper's published numbers, read from ``configs/paper.yml``, the one place they are
written."""
import functools
import os.path as osp
from typing import Dict

PAPER_FILE = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
                      'paper.yml')


@functools.lru_cache(maxsize=None)
def paper_numbers() -> Dict[str, Dict[str, dict]]:
    """Each table of :data:`PAPER_FILE` (``imagenet``, ``coco_mask_rcnn``): model names to
    their published numbers."""
    import yaml
    with open(PAPER_FILE) as f:
        return yaml.safe_load(f)


def paper_column(table: str, column: str) -> Dict[str, float]:
    """One column of a table: the models that have it, in the file's order, to its value."""
    return {name: row[column] for name, row in paper_numbers()[table].items() if column in row}
