"""Inference-time re-parameterisation of whole models: every BatchNorm that follows a conv
is folded into it, in FasterNet and in its peers alike. Deploy, FLOP counts and the
benchmarks all fold through :func:`switch_to_deploy`."""
from typing import List

import torch.nn as nn
from mmcv.cnn import fuse_conv_bn


def _outermost_reparameterisable(model: nn.Module) -> List[nn.Module]:
    """The modules with their own ``switch_to_deploy`` (a FasterNet backbone, mmpretrain's
    RepVGG and MobileOne), outermost first: one switched module switches its parts."""
    if callable(getattr(model, 'switch_to_deploy', None)):
        return [model]
    return [found for child in model.children()
            for found in _outermost_reparameterisable(child)]


def switch_to_deploy(model: nn.Module) -> nn.Module:
    """Put ``model`` in eval mode and fold every BN that follows a conv into it.

    A module with its own ``switch_to_deploy`` re-parameterises itself
    (:meth:`FasterNet.switch_to_deploy` also picks the PConv forward that exports best);
    the conv-BN pairs of everything else (ResNet, the ConvModules of necks and heads) are
    folded by mmcv's ``fuse_conv_bn``, as the ``--fuse-conv-bn`` of mmdet's and mmseg's
    test tools does. No way back: build the model again to train it.

    Args:
        model (nn.Module): A backbone, classifier, detector or segmentor.

    Returns:
        nn.Module: ``model`` itself, changed in place.
    """
    model.eval()
    for module in _outermost_reparameterisable(model):
        module.switch_to_deploy()
    return fuse_conv_bn(model)
