"""ONNX export: backbones and classifiers (:func:`export_onnx`), and the shared step of the
detector and segmentor exports (:func:`export_graph_onnx`)."""
import io
from typing import Optional

import torch
import torch.nn as nn

from mmfasternet.compat import require_torch, torch_at_least
from .errors import DeployError, NotExportable
from .folding import switch_to_deploy
from .runtimes.base import write_onnx

DYNAMO_EXPORTER_TORCH = (2, 6)
TORCHSCRIPT_EXPORTER_MAX_OPSET = 17
# What an exported classifier records as its ``task``.
CLASSIFIER_TASK = 'image classification (mmpretrain ImageClassifier)'


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
                dynamic_batch: bool = True, metadata: Optional[dict] = None,
                **forward_kwargs) -> int:
    """Export ``model`` (BN folded first) to one self-contained ONNX file.

    torch >= 2.6 exports with the dynamo exporter (opset 17 and up); older torch with the
    TorchScript exporter, whose newest opset is 17.

    Args:
        model (nn.Module): A FasterNet backbone or a model holding one.
        path (str): The ``.onnx`` file to write, whole or not at all
            (:func:`.runtimes.base.write_onnx`); weights are embedded, not external.
        shape (tuple): Input shape (batch, channels, height, width).
        opset (int, optional): ONNX opset, at least 17. Defaults to 20 on torch >= 2.6, the
            first with a native ``Gelu`` op (why it matters: docs/speed.md), else 17.
        dynamic_batch (bool): The file takes any batch size (its first axis is named
            ``batch``); otherwise only ``shape``'s. Defaults to True.
        metadata (dict, optional): What the file records (``task``, ``num_classes``).
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
    # torch.export takes a traced size of 1 for a constant: trace a dynamic batch with 2.
    example = torch.randn(max(shape[0], 2) if dynamic_batch else shape[0], *shape[1:])
    import onnx
    if dynamo:
        program = torch.onnx.export(
            model, (example, ), kwargs=forward_kwargs or None, dynamo=True, verbose=False,
            opset_version=opset, input_names=['image'],
            dynamic_shapes=((dict(enumerate([torch.export.Dim('batch')])), )
                            + (None, ) * len(forward_kwargs)) if dynamic_batch else None)
        proto = program.model_proto
    else:
        buffer = io.BytesIO()
        torch.onnx.export(model, (example, forward_kwargs), buffer, opset_version=opset,
                          input_names=['image'],
                          dynamic_axes={'image': {0: 'batch'}} if dynamic_batch else None)
        proto = onnx.load_from_string(buffer.getvalue())
    if dynamic_batch:
        _name_batch_axis(proto)
    if metadata:
        onnx.helper.set_model_props(proto, {k: str(v) for k, v in metadata.items()})
    return write_onnx(proto, path)


def _name_batch_axis(proto) -> None:
    """Name the input's first axis ``batch`` everywhere the graph has it (the dynamo
    exporter names it ``s0``, or so, where the model takes keyword arguments)."""
    symbol = proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param
    for value in (*proto.graph.input, *proto.graph.output, *proto.graph.value_info):
        for dim in value.type.tensor_type.shape.dim:
            if dim.dim_param == symbol:
                dim.dim_param = 'batch'


def export_graph_onnx(graph: nn.Module, example: tuple, path: str, opset: int,
                      input_names: list, output_names: list, metadata: dict,
                      dynamic_axes: dict = None) -> int:
    """Export ``graph`` (called with the tensors of ``example``) with the TorchScript
    exporter (on every supported torch: the dynamo exporter cannot trace the data-dependent
    sizes of post-processing), record
    ``metadata`` in the file, and write it whole or not at all
    (:func:`.runtimes.base.write_onnx`).

    Returns:
        int: The file size in bytes.
    """
    import onnx

    kwargs = dict(dynamo=False) if torch_at_least(2, 9) else {}
    buffer = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(graph, example, buffer, opset_version=opset,
                          input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic_axes, **kwargs)
    proto = onnx.load_from_string(buffer.getvalue())
    onnx.helper.set_model_props(proto, {k: str(v) for k, v in metadata.items()})
    return write_onnx(proto, path)
