"""ONNX export: backbones and classifiers (:func:`export_onnx`), and the shared step of the
detector and segmentor exports (:func:`export_graph_onnx`)."""
import os
from typing import Optional

import torch
import torch.nn as nn

from mmfasternet.compat import require_torch, torch_at_least
from mmfasternet.fileio import replaced_atomically
from .errors import DeployError, NotExportable
from .folding import switch_to_deploy

DYNAMO_EXPORTER_TORCH = (2, 6)
TORCHSCRIPT_EXPORTER_MAX_OPSET = 17


def require_exportable(condition: bool, part: str, why: str) -> None:
    """Raise :class:`NotExportable` naming ``part`` and why, unless ``condition``."""
    if not condition:
        raise NotExportable(f'cannot export {part} to ONNX: {why}')


def check_input_size(model: nn.Module, height: int, width: int) -> None:
    """Raise :class:`NotExportable` when the FasterNet in ``model`` cannot take an input of
    ``height`` x ``width``, naming the smallest size it takes."""
    from mmfasternet.models import FasterNet
    backbone = model if isinstance(model, FasterNet) else getattr(model, 'backbone', None)
    if isinstance(backbone, FasterNet) and min(height, width) < backbone.min_input_size:
        smallest = backbone.min_input_size
        raise NotExportable(f'cannot export at {height}x{width}: FasterNet takes inputs of '
                            f'at least {smallest}x{smallest} (--shape {smallest} {smallest})')


def export_onnx(model: nn.Module, path: str, shape=(1, 3, 224, 224), opset: Optional[int] = None,
                **forward_kwargs) -> int:
    """Export ``model`` (BN folded first) to one self-contained ONNX file.

    torch >= 2.6 exports with the dynamo exporter (opset 17 and up); older torch with the
    TorchScript exporter, whose newest opset is 17.

    Args:
        model (nn.Module): A FasterNet backbone or a model holding one.
        path (str): The ``.onnx`` file to write; weights are embedded, not external.
        shape (tuple): Input shape (batch, channels, height, width).
        opset (int, optional): ONNX opset, at least 17. Defaults to 20 on torch >= 2.6, the
            first with a native ``Gelu`` op (why it matters: docs/speed.md), else 17.
        **forward_kwargs: Passed to ``model.forward``, e.g. ``mode='tensor'``.

    Returns:
        int: The file size in bytes.
    """
    dynamo = torch_at_least(*DYNAMO_EXPORTER_TORCH)
    if opset is None:
        opset = 20 if dynamo else TORCHSCRIPT_EXPORTER_MAX_OPSET
    if opset < 17:
        raise DeployError(f'opset must be at least 17 (LayerNorm needs it), got {opset}')
    if opset > TORCHSCRIPT_EXPORTER_MAX_OPSET:
        require_torch(*DYNAMO_EXPORTER_TORCH, f'ONNX opset {opset} (the dynamo exporter)')
    switch_to_deploy(model)
    example = torch.randn(*shape)
    if dynamo:
        torch.onnx.export(model, (example, ), path, kwargs=forward_kwargs or None, dynamo=True,
                          verbose=False, opset_version=opset, external_data=False,
                          input_names=['image'])
    else:
        torch.onnx.export(model, (example, forward_kwargs), path, opset_version=opset,
                          input_names=['image'])
    return os.path.getsize(path)


def export_graph_onnx(graph: nn.Module, example: tuple, path: str, opset: int,
                      input_names: list, output_names: list, metadata: dict,
                      dynamic_axes: dict = None) -> int:
    """Export ``graph`` (called with the tensors of ``example``) with the TorchScript
    exporter (on every supported torch: the dynamo exporter cannot trace the data-dependent
    sizes of post-processing), record
    ``metadata`` in the file, and write it under a temporary name first, so a failed
    export leaves nothing behind.

    Returns:
        int: The file size in bytes.
    """
    import onnx

    kwargs = dict(dynamo=False) if torch_at_least(2, 9) else {}
    with replaced_atomically(path) as tmp:
        with torch.no_grad():
            torch.onnx.export(graph, example, tmp, opset_version=opset,
                              input_names=input_names, output_names=output_names,
                              dynamic_axes=dynamic_axes, **kwargs)
        model = onnx.load(tmp)
        onnx.helper.set_model_props(model, {k: str(v) for k, v in metadata.items()})
        onnx.save(model, tmp)
    return os.path.getsize(path)
