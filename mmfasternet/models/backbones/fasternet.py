"""FasterNet backbone.

Paper: Jierun Chen et al., "Run, Don't Walk: Chasing Higher FLOPS for Faster Neural
Networks", CVPR 2023 (arXiv:2303.03667). Official code and weights:
https://github.com/JierunChen/FasterNet.

This is the official network, numerically: the same layers in the same order, with the
official parameter names, so its ImageNet and Mask R-CNN weights load strictly without
renaming: ``patch_embed.{proj,norm}``, one flat ``stages`` sequence (stage, merge, stage,
merge, stage, merge, stage), ``blocks.{j}.spatial_mixing.partial_conv3`` and ``mlp.{0,1,3}``
inside a stage, and the detection backbone's output norms ``norm0/norm2/norm4/norm6``.
The tests check it against timm's independent ``fasternet_*`` models: the same weights, moved
through the official-to-timm key map, give the same outputs for every variant (T0-L).
"""
import warnings
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmengine.model import BaseModule
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.utils.fusion import fuse_conv_bn_eval

from mmfasternet.checkpoint import load_backbone_weights
from mmfasternet.errors import ArgumentError, ArgumentTypeError, DeployedModelError
from mmfasternet.registry import register_model
from mmfasternet.variants import NUM_STAGES, VARIANTS

PCONV_FORWARDS = ('split_cat', 'slicing')


# mmcv builds the norm and activation layers (its registry knows BN, SyncBN, GN, ...). It is
# imported when a model is built, not with the package: importing mmcv loads OpenCV.
def build_norm(cfg: dict, channels: int) -> nn.Module:
    """The norm layer of ``cfg`` over ``channels``."""
    from mmcv.cnn import build_norm_layer
    return build_norm_layer(cfg, channels)[1]


def build_activation(cfg: dict) -> nn.Module:
    """The activation layer of ``cfg``."""
    from mmcv.cnn import build_activation_layer
    return build_activation_layer(cfg)


def build_drop_path(rate: float) -> nn.Module:
    """Stochastic depth at ``rate``; an identity at 0."""
    from mmcv.cnn.bricks import DropPath
    return DropPath(rate) if rate > 0 else nn.Identity()


def fold_norm(parent: nn.Module, conv_name: str, norm_name: str) -> None:
    """Replace ``parent``'s conv ``conv_name`` by one that also computes the eval-mode BN
    ``norm_name`` after it (torch's fusion), and the BN by an identity; other norms stay."""
    norm = getattr(parent, norm_name)
    if isinstance(norm, _BatchNorm):
        setattr(parent, conv_name, fuse_conv_bn_eval(getattr(parent, conv_name), norm))
        setattr(parent, norm_name, nn.Identity())


class PartialConv(nn.Module):
    """Partial convolution (PConv): a 3x3 conv over the first ``dim // n_div`` channels.

    The remaining channels pass through unchanged. Neither forward modifies its input, so the
    block's shortcut can use it.

    Args:
        dim (int): Number of input and output channels.
        n_div (int): The conv covers ``1 / n_div`` of the channels.
        forward_type (str): ``'split_cat'`` (split, conv, concatenate) or ``'slicing'``
            (copy the input and overwrite the first channels in place).
    """

    def __init__(self, dim: int, n_div: int, forward_type: str = 'split_cat'):
        super().__init__()
        if forward_type not in PCONV_FORWARDS:
            raise ArgumentError(f'pconv_forward must be one of {PCONV_FORWARDS}, '
                                f'got {forward_type!r}')
        self.dim_conv3 = dim // n_div
        self.dim_untouched = dim - self.dim_conv3
        self.forward_type = forward_type
        self.partial_conv3 = nn.Conv2d(
            self.dim_conv3, self.dim_conv3, 3, 1, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.forward_type == 'slicing':
            out = x.clone()
            out[:, :self.dim_conv3] = self.partial_conv3(x[:, :self.dim_conv3])
            return out
        x1, x2 = torch.split(x, [self.dim_conv3, self.dim_untouched], dim=1)
        return torch.cat((self.partial_conv3(x1), x2), dim=1)


class FasterNetBlock(nn.Module):
    """PConv -> 1x1 conv (expand) -> norm -> act -> 1x1 conv, plus the shortcut.

    Args:
        dim (int): Number of channels.
        n_div (int): Partial ratio of the PConv is ``1 / n_div``.
        mlp_ratio (float): Expansion of the point-wise MLP.
        drop_path (float): Stochastic depth rate of this block.
        layer_scale_init_value (float): Initial value of the per-channel layer scale;
            0 disables it (as in all released models).
        norm_cfg (dict): Norm layer config.
        act_cfg (dict): Activation layer config.
        pconv_forward (str): Forward implementation of the PConv.
        with_cp (bool): Use gradient checkpointing to save memory.
    """

    def __init__(self,
                 dim: int,
                 n_div: int,
                 mlp_ratio: float,
                 drop_path: float,
                 layer_scale_init_value: float,
                 norm_cfg: dict,
                 act_cfg: dict,
                 pconv_forward: str,
                 with_cp: bool = False):
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.spatial_mixing = PartialConv(dim, n_div, pconv_forward)
        self.mlp = nn.Sequential(
            nn.Conv2d(dim, hidden, 1, bias=False),
            build_norm(norm_cfg, hidden),
            build_activation(act_cfg),
            nn.Conv2d(hidden, dim, 1, bias=False),
        )
        self.drop_path = build_drop_path(drop_path)
        if layer_scale_init_value > 0:
            self.layer_scale = nn.Parameter(
                torch.full((dim, ), float(layer_scale_init_value)))
        else:
            self.layer_scale = None
        self.with_cp = with_cp

    def _residual(self, x: torch.Tensor) -> torch.Tensor:
        y = self.mlp(self.spatial_mixing(x))
        if self.layer_scale is not None:
            y = self.layer_scale.view(-1, 1, 1) * y
        return x + self.drop_path(y)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(self._residual, x, use_reentrant=False)
        return self._residual(x)


class FasterNetStage(nn.Module):
    """A sequence of FasterNet blocks at one resolution (official name: ``BasicStage``).

    Args:
        depth (int): Number of blocks.
        drop_paths (Sequence[float]): Stochastic depth rate of each block.
        **block_kwargs: The other arguments of :class:`FasterNetBlock`.
    """

    def __init__(self, depth: int, drop_paths: Sequence[float], **block_kwargs):
        super().__init__()
        self.blocks = nn.Sequential(*[
            FasterNetBlock(drop_path=drop_paths[i], **block_kwargs)
            for i in range(depth)
        ])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x)


class PatchEmbed(nn.Module):
    """Embedding: a strided conv without bias followed by a norm.

    Args:
        in_channels (int): Number of image channels.
        embed_dims (int): Output channels (the stage-1 width).
        patch_size (int): Kernel size of the conv.
        stride (int): Stride of the conv.
        norm_cfg (dict): Norm layer config.
    """

    def __init__(self, in_channels: int, embed_dims: int, patch_size: int,
                 stride: int, norm_cfg: dict):
        super().__init__()
        self.proj = nn.Conv2d(
            in_channels, embed_dims, patch_size, stride=stride, bias=False)
        self.norm = build_norm(norm_cfg, embed_dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.proj(x))


class PatchMerging(nn.Module):
    """Merging layer: a strided conv that doubles the channels, then a norm.

    Args:
        dim (int): Number of input channels.
        patch_size (int): Kernel size of the conv.
        stride (int): Stride of the conv.
        norm_cfg (dict): Norm layer config.
    """

    def __init__(self, dim: int, patch_size: int, stride: int, norm_cfg: dict):
        super().__init__()
        self.reduction = nn.Conv2d(
            dim, 2 * dim, patch_size, stride=stride, bias=False)
        self.norm = build_norm(norm_cfg, 2 * dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.reduction(x))


@register_model
class FasterNet(BaseModule):
    """FasterNet backbone with multi-scale outputs (strides 4, 8, 16, 32).

    Args:
        arch (str | dict): One of ``'t0' 't1' 't2' 's' 'm' 'l'`` (paper Tab. 8), or a dict
            with keys ``embed_dims`` (stage-1 width), ``depths`` (4 ints) and optional
            ``act_cfg``. Defaults to ``'t0'``.
        in_channels (int): Number of input image channels. Defaults to 3.
        n_div (int): The PConv covers ``1 / n_div`` of the channels. Defaults to 4.
        mlp_ratio (float): Expansion of the block MLP. Defaults to 2.
        patch_size (int): Kernel size of the embedding conv. Defaults to 4.
        patch_stride (int): Stride of the embedding conv. Defaults to 4.
        merge_size (int): Kernel size of the merging convs. Defaults to 2.
        merge_stride (int): Stride of the merging convs. Defaults to 2.
        drop_path_rate (float): Stochastic depth rate, increasing linearly over the blocks.
            Defaults to 0.
        layer_scale_init_value (float): Initial layer scale; 0 disables it. Defaults to 0.
        norm_cfg (dict): Norm layer config (BN, SyncBN, GN, ...). Defaults to BN.
        act_cfg (dict, optional): Overrides the activation of ``arch``
            (GELU for T0/T1, ReLU for the others). Defaults to None.
        pconv_forward (str): ``'split_cat'`` or ``'slicing'``. Defaults to ``'split_cat'``.
        out_indices (Sequence[int] | int): Stages whose outputs are returned; negative
            indices count from the last stage. Stages after the last of them are not
            built. Defaults to ``(0, 1, 2, 3)``.
        out_norm (bool): Pass each output through its own norm (``norm0/2/4/6``), as the
            official detection backbone does; the official classifier has none.
            Defaults to True.
        frozen_stages (int): -1 freezes nothing, 0 the embedding, ``k`` the embedding and
            the first ``k`` stages (with their merging layers and output norms).
            Defaults to -1.
        norm_eval (bool): Keep all BN layers in eval mode during training. Defaults to False.
        with_cp (bool): Use gradient checkpointing in the blocks. Defaults to False.
        pretrained (str, optional): Deprecated, as in mmdet's and mmseg's backbones (mmseg's
            segmentors pass their ``pretrained`` on): a checkpoint, which becomes a
            ``Pretrained`` entry of ``init_cfg``, with a warning. Defaults to None.
        init_cfg (dict | list[dict], optional): Initialization config.
    """

    arch_zoo: Dict[str, dict] = VARIANTS
    num_stages = NUM_STAGES

    def __init__(self,
                 arch: Union[str, dict] = 't0',
                 in_channels: int = 3,
                 n_div: int = 4,
                 mlp_ratio: float = 2.,
                 patch_size: int = 4,
                 patch_stride: int = 4,
                 merge_size: int = 2,
                 merge_stride: int = 2,
                 drop_path_rate: float = 0.,
                 layer_scale_init_value: float = 0.,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: Optional[dict] = None,
                 pconv_forward: str = 'split_cat',
                 out_indices: Union[int, Sequence[int]] = (0, 1, 2, 3),
                 out_norm: bool = True,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 pretrained: Optional[str] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = [
                     dict(type='TruncNormal', layer=['Conv2d', 'Linear'], std=.02, bias=0.),
                     dict(type='Constant', layer=['_BatchNorm', 'GroupNorm', 'LayerNorm'],
                          val=1., bias=0.),
                 ]):
        super().__init__(init_cfg=self._init_cfg_with(pretrained, init_cfg))
        arch = self._parse_arch(arch)
        embed_dims, depths = arch['embed_dims'], arch['depths']
        act_cfg = act_cfg if act_cfg is not None else arch.get('act_cfg', dict(type='ReLU'))
        if not isinstance(n_div, int) or n_div < 1 or embed_dims % n_div:
            raise ArgumentError(f'n_div must be a positive int that divides the stage-1 width '
                                f'embed_dims={embed_dims}, got n_div={n_div!r}')
        if not -1 <= frozen_stages <= self.num_stages:
            raise ArgumentError(f'frozen_stages must be in [-1, {self.num_stages}], '
                                f'got {frozen_stages}')

        self.embed_dims = embed_dims
        self.depths = depths
        self.channels = [embed_dims * 2**i for i in range(self.num_stages)]
        self.out_indices = self._parse_out_indices(out_indices)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval

        self.patch_embed = PatchEmbed(in_channels, embed_dims, patch_size, patch_stride,
                                      norm_cfg)
        # On the CPU even under torch.device('meta'), where the tools check the arguments.
        drop_paths = torch.linspace(0, drop_path_rate, sum(depths), device='cpu').tolist()
        # Stages after the last output are not built: they would hold parameters that no
        # loss reaches, which DistributedDataParallel refuses without the slower
        # find_unused_parameters. Their weights in a checkpoint are skipped when loading.
        self.num_built_stages = max(self.out_indices) + 1
        layers = []
        for i in range(self.num_built_stages):
            dim, depth = self.channels[i], depths[i]
            first = sum(depths[:i])
            layers.append(
                FasterNetStage(
                    depth,
                    drop_paths[first:first + depth],
                    dim=dim,
                    n_div=n_div,
                    mlp_ratio=mlp_ratio,
                    layer_scale_init_value=layer_scale_init_value,
                    norm_cfg=norm_cfg,
                    act_cfg=act_cfg,
                    pconv_forward=pconv_forward,
                    with_cp=with_cp))
            if i < self.num_built_stages - 1:
                layers.append(PatchMerging(dim, merge_size, merge_stride, norm_cfg))
        self.stages = nn.Sequential(*layers)

        for i in self.out_indices:
            norm = build_norm(norm_cfg, self.channels[i]) if out_norm else nn.Identity()
            self.add_module(f'norm{2 * i}', norm)

        self.deploy = False
        self._freeze_stages()

    @staticmethod
    def _init_cfg_with(pretrained: Optional[str], init_cfg: Optional[Union[dict, List[dict]]]
                       ) -> Optional[Union[dict, List[dict]]]:
        """``init_cfg`` with the deprecated ``pretrained`` as its ``Pretrained`` entry, after
        the others (which initialise what the file may lack, e.g. the output norms)."""
        if pretrained is None:
            return init_cfg
        if not isinstance(pretrained, str):
            raise ArgumentTypeError(f'pretrained must be a checkpoint path or None, got '
                                    f'{type(pretrained).__name__}')
        others = [c for c in (init_cfg if isinstance(init_cfg, list) else [init_cfg]) if c]
        if any(c.get('type') == 'Pretrained' for c in others):
            raise ArgumentError(f'FasterNet got pretrained={pretrained!r} and a Pretrained '
                                f'init_cfg; keep one (init_cfg: pretrained is deprecated)')
        warnings.warn(f'pretrained={pretrained!r} is deprecated: use init_cfg=dict('
                      f"type='Pretrained', checkpoint={pretrained!r}) instead", stacklevel=3)
        return [*others, dict(type='Pretrained', checkpoint=pretrained)]

    @property
    def min_input_size(self) -> int:
        """The smallest height and width the built stages take: each strided conv (the
        embedding, then every merging layer) needs at least its kernel's size of input."""
        size = 1
        convs = [self.patch_embed.proj] + [layer.reduction for layer in self.stages
                                           if isinstance(layer, PatchMerging)]
        for conv in reversed(convs):
            size = (size - 1) * conv.stride[0] + conv.kernel_size[0]
        return size

    def _parse_arch(self, arch: Union[str, dict]) -> dict:
        if isinstance(arch, str):
            if arch.lower() not in self.arch_zoo:
                raise ArgumentError(f'arch must be one of {sorted(self.arch_zoo)} or a dict, '
                                    f'got {arch!r}')
            return self.arch_zoo[arch.lower()]
        if not isinstance(arch, dict):
            raise ArgumentTypeError(f'arch must be a str or a dict, got {type(arch).__name__}')
        missing = {'embed_dims', 'depths'} - set(arch)
        if missing:
            raise ArgumentError(f'a custom arch dict needs the keys embed_dims and depths; '
                                f'missing {sorted(missing)}')
        unknown = set(arch) - {'embed_dims', 'depths', 'act_cfg'}
        if unknown:
            raise ArgumentError(f'unknown arch keys {sorted(unknown)}; allowed: '
                                f'embed_dims, depths, act_cfg')
        depths = arch['depths']
        if (not isinstance(depths, Sequence) or len(depths) != self.num_stages
                or not all(isinstance(d, int) and d >= 1 for d in depths)):
            raise ArgumentError(f'arch depths must be {self.num_stages} positive ints, '
                                f'got {depths!r}')
        if not isinstance(arch['embed_dims'], int) or arch['embed_dims'] < 1:
            raise ArgumentError(f'arch embed_dims must be a positive int, '
                                f'got {arch["embed_dims"]!r}')
        return dict(arch, depths=list(depths))

    def _parse_out_indices(self, out_indices: Union[int, Sequence[int]]) -> Tuple[int, ...]:
        if isinstance(out_indices, int):
            out_indices = [out_indices]
        if not isinstance(out_indices, Sequence) or not out_indices:
            raise ArgumentTypeError(f'out_indices must be an int or a non-empty sequence of ints, '
                                    f'got {out_indices!r}')
        parsed = []
        for index in out_indices:
            if not isinstance(index, int) or not -self.num_stages <= index < self.num_stages:
                raise ArgumentError(f'out_indices entries must be ints in '
                                    f'[{-self.num_stages}, {self.num_stages - 1}], '
                                    f'got {index!r} in {out_indices!r}')
            parsed.append(index % self.num_stages)
        if len(set(parsed)) != len(parsed):
            raise ArgumentError(f'out_indices {out_indices!r} names a stage twice')
        return tuple(sorted(parsed))

    def _frozen_modules(self) -> List[nn.Module]:
        if self.frozen_stages < 0:
            return []
        modules = [self.patch_embed]
        for i in range(min(self.frozen_stages, self.num_built_stages)):
            if i > 0:
                modules.append(self.stages[2 * i - 1])
            modules.append(self.stages[2 * i])
            if i in self.out_indices:
                modules.append(getattr(self, f'norm{2 * i}'))
        return modules

    def _freeze_stages(self) -> None:
        for module in self._frozen_modules():
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def init_weights(self) -> None:
        """Initialise the weights; a ``'Pretrained'`` entry of ``init_cfg`` (alone or in a
        list, after the other entries) loads strictly: an official ImageNet file, a timm
        checkpoint, or an mmdet/mmseg/mmpretrain checkpoint, recognised by their keys,
        optionally from the keys under its ``prefix``."""
        init_cfgs = self.init_cfg if isinstance(self.init_cfg, list) else [self.init_cfg]
        pretrained = [c for c in init_cfgs if c and c.get('type') == 'Pretrained']
        if not pretrained:
            super().init_weights()
            return
        if len(pretrained) > 1:
            raise ArgumentError(f'init_cfg holds {len(pretrained)} Pretrained entries; '
                                f'a backbone loads one checkpoint, keep one of them')
        others = [c for c in init_cfgs if c and c is not pretrained[0]]
        if others:
            full_cfg, self.init_cfg = self.init_cfg, others
            super().init_weights()
            self.init_cfg = full_cfg
        load_backbone_weights(self, pretrained[0]['checkpoint'],
                              prefix=pretrained[0].get('prefix'))
        self._is_init = True

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        x = self.patch_embed(x)
        outs = []
        for i, layer in enumerate(self.stages):
            x = layer(x)
            if i % 2 == 0 and i // 2 in self.out_indices:
                outs.append(getattr(self, f'norm{i}')(x))
        return tuple(outs)

    def get_layer_depth(self, param_name: str, prefix: str = '') -> Tuple[int, int]:
        """The layer-wise depth of a parameter, for mmpretrain's
        ``LearningRateDecayOptimWrapperConstructor`` (layer-wise learning-rate decay).

        Each block is one layer, in forward order: the embedding is layer 0, the ``k``-th
        block (counted from 1 over all stages) is layer ``k``, a merging layer shares the
        depth of the block after it and an output norm that of the block before it.
        Parameters outside the backbone (``param_name`` without ``prefix``: the neck and
        heads) come last and keep the base learning rate.

        Args:
            param_name (str): The parameter's name in the model.
            prefix (str): The backbone's prefix in the model, e.g. ``'backbone.'``.
                Defaults to ``''``.

        Returns:
            tuple[int, int]: The parameter's depth and the number of depths.
        """
        num_layers = sum(self.depths) + 2
        if not param_name.startswith(prefix):
            return num_layers - 1, num_layers
        name = param_name[len(prefix):]
        if name.startswith('patch_embed.'):
            return 0, num_layers
        if name.startswith('stages.'):
            fields = name.split('.')
            index = int(fields[1])
            blocks_before = sum(self.depths[:(index + 1) // 2])
            if index % 2:  # a merging layer: with the first block of the next stage
                return blocks_before + 1, num_layers
            return blocks_before + int(fields[3]) + 1, num_layers
        stage = int(name.split('.')[0][len('norm'):]) // 2  # an output norm normN
        return sum(self.depths[:stage + 1]), num_layers

    def switch_to_deploy(self) -> None:
        """Re-parameterise for inference: fold every BN that follows a conv (embedding,
        merging layers, block MLPs) into it, and run every PConv with the ``split_cat``
        forward, which exports to the lighter ONNX graph (docs/speed.md compares the two).
        The output norms follow a residual sum and stay. Leaves the model in eval mode;
        there is no way back."""
        self.eval()
        fold_norm(self.patch_embed, 'proj', 'norm')
        for module in self.stages.modules():
            if isinstance(module, PatchMerging):
                fold_norm(module, 'reduction', 'norm')
            elif isinstance(module, FasterNetBlock):
                fold_norm(module.mlp, '0', '1')
            elif isinstance(module, PartialConv):
                module.forward_type = 'split_cat'
        self.deploy = True

    def train(self, mode: bool = True) -> 'FasterNet':
        if mode and self.deploy:
            raise DeployedModelError('a FasterNet switched to deploy mode (BN folded) cannot '
                                     'train; build a new model to train')
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self
