"""FasterNet's peers: the pairs the paper compares it with, as the benchmarks and their tests
pair them, and today's efficient networks by FasterNet's accuracy tiers, with their cited
ImageNet top-1, read from ``benchmarks/peers.yml``, the one place they are written."""
import functools
import os.path as osp
from typing import Dict, List

import torch.nn as nn

from .paper import paper_column

# FasterNet against its peer on every inference path (mmpretrain model names).
PATH_PAIRS = (('fasternet_s', 'resnet50_8xb32_in1k'),
              ('fasternet_t0', 'mobilenet-v2_8xb32_in1k'))

# Detector and segmentor with FasterNet-S against the same with ResNet-50:
# (FasterNet-S config, ResNet-50 config, input height and width).
DENSE_PAIRS = {
    'Mask R-CNN': ('mmfasternet::mask_rcnn_fasternet_s.py',
                   'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py', (800, 1333)),
    'UperNet': ('mmfasternet::upernet_fasternet_s.py',
                'mmseg::upernet/upernet_r50_4xb4-160k_ade20k-512x512.py', (512, 512)),
}

PEERS_FILE = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'peers.yml')
# FasterNet's own training, the like for like of a peer's: ImageNet-1k only, 300 epochs
# (the paper, Sec. 4.1), no distillation.
FASTERNET_TRAINING = dict(epochs=300, distilled=False, extra_data=False)


@functools.lru_cache(maxsize=None)
def peers_file() -> dict:
    """:data:`PEERS_FILE`: ``tiers`` (tier to FasterNet and timm model names) and ``peers``
    (timm name to its name, top-1, training and source)."""
    import yaml
    with open(PEERS_FILE) as f:
        return yaml.safe_load(f)


def tiers() -> Dict[str, List[str]]:
    """FasterNet's accuracy tiers (``T0`` ... ``M/L``), each FasterNet's and its peers'
    model names, in the file's order."""
    return peers_file()['tiers']


def is_fasternet(name: str) -> bool:
    return name.startswith('fasternet_')


def cited_top1(name: str) -> dict:
    """The published ImageNet-1k top-1 at 224x224 of a model of :func:`tiers`, as a dict:
    ``name`` (as its paper writes it), ``top1`` (%), ``epochs``, ``distilled``,
    ``extra_data`` and ``source``: FasterNet's from the paper (``configs/paper.yml``), a
    peer's from :data:`PEERS_FILE`."""
    if is_fasternet(name):
        return dict(name=f'FasterNet-{name.split("_")[1].upper()}',
                    top1=paper_column('imagenet', 'top1')[name],
                    source='Chen et al., CVPR 2023, Tab. 3; Sec. 4.1: 300 epochs, no distillation',
                    **FASTERNET_TRAINING)
    return peers_file()['peers'][name]


def like_for_like(name: str) -> bool:
    """Whether a model's cited top-1 was reached as FasterNet's was: ImageNet-1k only and
    no distillation (a longer schedule is flagged, not excluded)."""
    cited = cited_top1(name)
    return not cited['distilled'] and not cited['extra_data']


def build_timm_peer(name: str) -> nn.Module:
    """A peer of :data:`PEERS_FILE` from timm, architecture only (random weights), in eval
    mode and re-parameterised where it has branches to merge (MobileOne, RepViT): as it is
    deployed. BN is folded later, as FasterNet's (:func:`~mmfasternet.deploy.switch_to_deploy`)."""
    try:
        import timm
        from timm.utils.model import reparameterize_model
    except ImportError:
        raise ImportError('the peers are built with timm: pip install -e ".[benchmark]"'
                          ) from None
    return reparameterize_model(timm.create_model(name, pretrained=False).eval())
