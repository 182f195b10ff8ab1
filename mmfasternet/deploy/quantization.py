"""Post-training int8 quantisation of an exported fp32 model, calibrated on images that the
config's own pipeline and data preprocessor make, with the quantiser of the runtime that
will run it (:meth:`.runtimes.Runtime.quantize`; measured side by side: docs/deploy.md):
NNCF's OpenVINO IR for OpenVINO, ``quantize_static``'s QDQ ONNX file for ONNX Runtime.

Proposal top-k and NMS, box decoding, RoiAlign, mask pasting, resizing and softmax (the
graph's own operators, outside any module) and the layers that make the heads' outputs (box
deltas, class, mask and segmentation logits) stay fp32 (:func:`stays_fp32`).
"""
import itertools
import os
from typing import Dict, List, Sequence

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config

from .errors import CalibrationError, DeployError
from .runtimes.base import import_package, onnx_metadata, runtime_class
from .tasks import task_of

DEFAULT_CALIBRATION_IMAGES = 100
# The layers whose outputs are a head's result: box deltas, class, mask and pixel logits.
HEAD_OUTPUT_LAYERS = ('rpn_reg', 'rpn_cls', 'fc_reg', 'fc_cls', 'conv_logits', 'conv_seg')
# The ONNX operators that only a quantised file has.
QUANTIZED_OPERATORS = ('QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear',
                       'QLinearConv', 'QLinearMatMul', 'ConvInteger', 'MatMulInteger')

Feeds = Dict[str, np.ndarray]


def calibration_loader(cfg: Config) -> str:
    """The dataloader key that calibration reads: ``val_dataloader``, as mmdeploy's
    calibration does, else ``test_dataloader``."""
    for key in ('val_dataloader', 'test_dataloader'):
        if isinstance(cfg.get(key), dict) and cfg[key].get('dataset'):
            return key
    raise CalibrationError('the config has no val_dataloader or test_dataloader to take '
                           'calibration images from')


def config_feeds(cfg: Config, model: nn.Module, input_shapes: Dict[str, tuple],
                 loader: str, images: int) -> List[Feeds]:
    """The first ``images`` images of ``cfg``'s ``loader``, through its pipeline and
    ``model``'s data preprocessor, as inputs of an exported file. The caller checks the
    data first (:func:`mmfasternet.engine.data_check.check_data`), as
    ``tools/deployment/quantize.py`` does.

    Raises:
        CalibrationError: The dataset is empty, or an image cannot be read.
    """
    from mmengine.runner import Runner

    if images < 1:
        raise CalibrationError(f'--calib-images must be at least 1, got {images}')
    dataset = dict(cfg[loader]['dataset'])
    if 'dataset' not in dataset and 'datasets' not in dataset:  # not a wrapper
        dataset.update(serialize_data=False)  # mmengine cannot serialise an empty list
    dataloader = Runner.build_dataloader(dict(
        cfg[loader], dataset=dataset, batch_size=1, num_workers=0, persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=False)))
    if len(dataloader.dataset) == 0:
        raise CalibrationError(f'{loader} has no images to calibrate on')
    task = task_of(model)
    feeds = []
    try:
        for batch in itertools.islice(dataloader, images):
            with torch.no_grad():
                data = model.data_preprocessor(batch, False)
            feeds.append(task.feeds(data, input_shapes))
    except Exception as error:
        raise CalibrationError(f'{loader}: image {len(feeds)} could not be read: '
                               f'{error}') from None
    return feeds


def stays_fp32(name: str) -> bool:
    """Whether the ONNX node ``name`` stays fp32: the graph's own operators outside any
    module (post-processing; the TorchScript exporter names the others after their module,
    ``/backbone/stages.0/...``) and :data:`HEAD_OUTPUT_LAYERS`."""
    outside = name.startswith('/') and name.count('/') == 1
    return outside or any(f'/{layer}/' in name for layer in HEAD_OUTPUT_LAYERS)


def check_fp32_file(path: str) -> None:
    """Raise :class:`DeployError` unless ``path`` is an ONNX file that is not quantised
    already (its metadata or its operators say int8): an int8 file is not quantised again."""
    if not path.endswith('.onnx'):
        raise DeployError(f'{path} is not an .onnx file: quantise the fp32 .onnx file that '
                          f'tools/deployment/pytorch2onnx.py writes')
    import onnx
    model = onnx.load(path, load_external_data=False)
    metadata = {prop.key: prop.value for prop in model.metadata_props}
    operators = sorted({node.op_type for node in model.graph.node} & set(QUANTIZED_OPERATORS))
    if metadata.get('precision') == 'int8' or operators:
        how = f'its graph has {", ".join(operators)}' if operators else 'its metadata says so'
        raise DeployError(f'{path} is an int8 file already ({how}): quantise the fp32 '
                          f'.onnx file it was made from (tools/deployment/pytorch2onnx.py '
                          f'writes it)')


def check_quantizable(fp32_path: str, out: str, backend: str) -> None:
    """Raise :class:`DeployError` before any work when ``fp32_path`` cannot be quantised
    to ``out`` for ``backend``: an unknown backend, a missing package, an output name of
    another format than the runtime's int8 file, an input that is not an fp32 ONNX file
    (:func:`check_fp32_file`), or a graph its quantiser cannot take."""
    runtime = runtime_class(backend)
    if not out.endswith(runtime.int8_suffix):
        raise DeployError(f'{backend}\'s int8 model is a {runtime.int8_suffix} file: name the '
                          f'output {os.path.splitext(out)[0]}{runtime.int8_suffix}')
    import_package('onnxruntime', 'deploy')  # the quantisers collect statistics with it
    check_fp32_file(fp32_path)
    runtime.check_quantizable(fp32_path)


def quantize_model(fp32_path: str, out: str, feeds: Sequence[Feeds],
                   backend: str = 'onnxruntime') -> int:
    """Quantise the fp32 file ``fp32_path`` to int8 for ``backend``, calibrated on
    ``feeds``; keep its metadata and write ``out`` in one step (a failure leaves no file).

    Args:
        fp32_path (str): An ``.onnx`` file written by ``tools/deployment/pytorch2onnx.py``.
        out (str): The int8 model to write, a file of the runtime's ``int8_suffix``: an
            ``.onnx`` file for ONNX Runtime, OpenVINO IR (``.xml``, with its ``.bin``
            beside it) for OpenVINO.
        feeds (Sequence[dict]): Calibration inputs, one dict of arrays per image.
        backend (str): The runtime that will run the model, which brings the quantiser:
            ``'onnxruntime'`` (default) or ``'openvino'``.

    Returns:
        int: The size in bytes (of all the model's files).
    """
    check_quantizable(fp32_path, out, backend)
    if not feeds:
        raise CalibrationError('no calibration images')
    runtime = runtime_class(backend)
    metadata = dict(onnx_metadata(fp32_path), precision='int8', quantizer=runtime.quantizer(),
                    runtime=backend, calibration_images=str(len(feeds)))
    runtime.quantize(fp32_path, out, feeds, stays_fp32, metadata)
    return sum(os.path.getsize(path) for path in runtime.files_of(out))
