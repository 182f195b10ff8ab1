"""Inference-time re-parameterisation of whole models: every BatchNorm that follows a conv
is folded into it, in FasterNet and in its peers alike. Deploy, FLOP counts and the
benchmarks all fold through :func:`switch_to_deploy`."""
from typing import List, Optional

import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.utils.fusion import fuse_conv_bn_eval


def _outermost_reparameterisable(model: nn.Module) -> List[nn.Module]:
    """The modules with their own ``switch_to_deploy`` (a FasterNet backbone, mmpretrain's
    RepVGG and MobileOne), outermost first: one switched module switches its parts."""
    if callable(getattr(model, 'switch_to_deploy', None)):
        return [model]
    return [found for child in model.children()
            for found in _outermost_reparameterisable(child)]


def _after_folding(norm: nn.Module) -> Optional[nn.Module]:
    """What remains of the BN ``norm`` once folded into the conv before it: nothing where
    its forward is BN's own, its dropout and activation for timm's ``BatchNormAct2d`` (BN,
    drop, act), and None (not folded) for any other BN with a forward of its own."""
    if type(norm).forward is _BatchNorm.forward:
        return nn.Identity()
    if type(norm).__name__ == 'BatchNormAct2d' and hasattr(norm, 'act'):
        return nn.Sequential(norm.drop, norm.act)
    return None


def fold_conv_norms(module: nn.Module) -> nn.Module:
    """Fold every eval-mode BN that directly follows a ``Conv2d`` among its siblings into
    that conv, as mmcv's ``fuse_conv_bn`` does, but keeping the activation of a BN that
    has one (timm's ``BatchNormAct2d``, which mmcv would replace by an identity).

    Returns:
        nn.Module: ``module`` itself, changed in place.
    """
    conv_name = None
    for name, child in list(module.named_children()):
        if isinstance(child, _BatchNorm) and conv_name is not None:
            rest = _after_folding(child)
            if rest is not None:
                module._modules[conv_name] = fuse_conv_bn_eval(module._modules[conv_name],
                                                               child)
                module._modules[name] = rest
            conv_name = None
        elif isinstance(child, nn.Conv2d):
            conv_name = name
        else:
            conv_name = None
            fold_conv_norms(child)
    return module


def switch_to_deploy(model: nn.Module) -> nn.Module:
    """Put ``model`` in eval mode and fold every BN that follows a conv into it.

    A module with its own ``switch_to_deploy`` re-parameterises itself
    (:meth:`FasterNet.switch_to_deploy` also picks the PConv forward that exports best);
    the conv-BN pairs of everything else (ResNet, the ConvModules of necks and heads, timm's
    conv-norm-act blocks) are folded by :func:`fold_conv_norms`, as the ``--fuse-conv-bn``
    of mmdet's and mmseg's test tools does. No way back: build the model again to train it.

    Args:
        model (nn.Module): A backbone, classifier, detector or segmentor.

    Returns:
        nn.Module: ``model`` itself, changed in place.
    """
    model.eval()
    for module in _outermost_reparameterisable(model):
        module.switch_to_deploy()
    return fold_conv_norms(model)
