"""Post-training int8 quantisation of an exported fp32 model, calibrated on images that the
config's own pipeline and data preprocessor make, with the quantiser that suits the runtime
that will run it (measured side by side: docs/deploy.md):

- OpenVINO: ``nncf.quantize`` on the OpenVINO model read from the ONNX file, saved as
  OpenVINO IR (``.xml`` and ``.bin``), with 8-bit weights on a CPU with VNNI or AMX and
  7-bit ones elsewhere (:func:`openvino_weight_bits`) and activation ranges from the
  calibration set's extremes, calibrated on the images on which the fp32 model returns no
  empty output. NNCF quantises the inputs of convolutions and matrix products and leaves
  GELU, ReLU and the residual adds to OpenVINO's fused int8 kernels. (NNCF's ONNX output
  is not used: OpenVINO 2026.4 computes FasterNet wrongly from it, and ONNX Runtime runs it
  slower than fp32, since it fuses a conv into its int8 kernel only when the conv's output
  is quantised too.)
- ONNX Runtime: ``onnxruntime.quantization.quantize_static`` to an ONNX file with
  QuantizeLinear/DequantizeLinear pairs (per-channel int8 weights, uint8 activations), which
  OpenVINO runs too.

Proposal top-k and NMS, box decoding, RoiAlign, mask pasting, resizing and softmax (the
graph's own operators, outside any module) and the layers that make the heads' outputs (box
deltas, class, mask and segmentation logits) stay fp32.
"""
import itertools
import os
import os.path as osp
import shutil
import tempfile
from typing import Dict, List, Sequence

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config

from mmfasternet.fileio import replaced_atomically
from mmfasternet.tasks import task_of
from .runtimes import IR_METADATA, DeployError, cpu_name_and_flags, import_runtime

DEFAULT_CALIBRATION_IMAGES = 100
# The layers whose outputs are a head's result: box deltas, class, mask and pixel logits.
HEAD_OUTPUT_LAYERS = ('rpn_reg', 'rpn_cls', 'fc_reg', 'fc_cls', 'conv_logits', 'conv_seg')
# What ONNX Runtime's quantiser may quantise: the network's own operators (ReLU and Clip
# fold into the conv before them; Split and Concat keep their input's scale).
ONNXRUNTIME_QUANTIZED_TYPES = ('Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'Relu', 'Clip',
                               'Add', 'Split', 'Concat', 'MaxPool')

Feeds = Dict[str, np.ndarray]


class CalibrationError(DeployError):
    """The calibration images cannot be had; nothing was quantised."""


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
    ``model``'s data preprocessor, as inputs of an exported file.

    Raises:
        CalibrationError: The dataset is empty, or an image cannot be read.
    """
    from mmengine.runner import Runner

    from mmfasternet.engine.data_check import check_data

    if images < 1:
        raise CalibrationError(f'--calib-images must be at least 1, got {images}')
    check_data(cfg, [loader])
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


def openvino_weight_bits() -> int:
    """The bits of NNCF's int8 weights for this CPU: 8 with VNNI (``avx512_vnni``,
    ``amx_int8``), whose int8 kernels add u8 x s8 products in 32 bits (7 in the first layer
    only, NNCF's default); 7 elsewhere (AVX2, AVX-512F), where pairs of products are added
    in 16 bits, which 8-bit weights overflow (NNCF's overflow fix in every layer). Toy demo
    detector bbox mAP: on the AMD EPYC (AVX2, toy scale) 0.727 with 8 bits and 0.738 with 7
    (fp32 0.741); on the AMX Xeon (test rescaled to 333) 0.738 with 8 bits and 0.726 with 7
    (fp32 0.739). The file keeps the count in its metadata (``weight_bits``): one made on a
    VNNI CPU loses accuracy on a CPU without it."""
    return 8 if {'avx512_vnni', 'amx_int8'} & set(cpu_name_and_flags()[1]) else 7


def openvino_fp32_ops(fp32_nodes: Sequence, model) -> List[str]:
    """The ops of ``model`` (OpenVINO's reading of the ONNX file) that stay fp32: those
    named after a node that does (:func:`stays_fp32`) or that compute the output of one of
    ``fp32_nodes`` (OpenVINO renames some, e.g. the last op after the graph's output)."""
    tensors = {tensor for node in fp32_nodes for tensor in node.output}
    return [op.get_friendly_name() for op in model.get_ordered_ops()
            if stays_fp32(op.get_friendly_name()) or any(
                tensors & output.get_names() for output in op.outputs())]


def _nncf_quantize(fp32_path: str, feeds: Sequence[Feeds], fp32_nodes: Sequence,
                   metadata: Dict[str, str], out: str) -> None:
    ov = import_runtime('openvino')
    nncf = import_runtime('nncf')
    core = ov.Core()
    model = core.read_model(fp32_path)
    # NNCF takes an empty tensor's statistics for a range: one image on which a detector
    # finds nothing gives its mask head's input a range of [0, 8e-5] and every mask is
    # lost. Calibrate on the images on which the fp32 model returns no empty output.
    compiled = core.compile_model(model, 'CPU')
    feeds = [feed for feed in feeds if all(
        out.size for out in compiled.create_infer_request().infer(feed).values())]
    if not feeds:
        raise CalibrationError(f'{fp32_path} returns empty outputs (no detections) on every '
                               f'calibration image: train it, or calibrate on other images')
    bits = openvino_weight_bits()
    metadata = dict(metadata, calibration_images=str(len(feeds)), weight_bits=str(bits))
    keep_fp32 = openvino_fp32_ops(fp32_nodes, model)
    # Activation ranges from the calibration set's minimum and maximum (NNCF's default
    # averages each image's, and clips what FasterNet needs): on the AMD EPYC here, toy
    # classifier top-1 82.0 -> 87.5 (fp32 87.3).
    from nncf.quantization.advanced_parameters import (AdvancedQuantizationParameters,
                                                       OverflowFix)
    from nncf.quantization.range_estimator import RangeEstimatorParametersSet
    quantized = nncf.quantize(model, nncf.Dataset(feeds), subset_size=len(feeds),
                              preset=nncf.QuantizationPreset.PERFORMANCE,
                              advanced_parameters=AdvancedQuantizationParameters(
                                  overflow_fix=(OverflowFix.FIRST_LAYER if bits == 8
                                                else OverflowFix.ENABLE),
                                  activations_range_estimator_params=(
                                      RangeEstimatorParametersSet.MINMAX)),
                              ignored_scope=nncf.IgnoredScope(names=keep_fp32, validate=False))
    for key, value in metadata.items():
        quantized.set_rt_info(value, [IR_METADATA, key])
    folder = tempfile.mkdtemp(prefix='.quantize-', dir=osp.dirname(osp.abspath(out)))
    try:
        ov.save_model(quantized, osp.join(folder, 'model.xml'), compress_to_fp16=False)
        os.replace(osp.join(folder, 'model.bin'), osp.splitext(out)[0] + '.bin')
        os.replace(osp.join(folder, 'model.xml'), out)
    finally:
        shutil.rmtree(folder)


def _onnxruntime_quantize(fp32_path: str, feeds: Sequence[Feeds], fp32_nodes: Sequence,
                          metadata: Dict[str, str], out: str) -> None:
    import onnx
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_static)

    class Reader(CalibrationDataReader):

        def __init__(self):
            self.feeds = iter(feeds)

        def get_next(self):
            return next(self.feeds, None)

    with replaced_atomically(out) as tmp:
        quantize_static(fp32_path, tmp, Reader(), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8,
                        op_types_to_quantize=list(ONNXRUNTIME_QUANTIZED_TYPES),
                        nodes_to_exclude=[node.name for node in fp32_nodes])
        quantized = onnx.load(tmp)
        del quantized.metadata_props[:]
        onnx.helper.set_model_props(quantized, metadata)
        onnx.save(quantized, tmp)


def _version(package: str) -> str:
    from importlib.metadata import version
    return f'{package} {version(package)}'


# For each runtime: the file its int8 model is written to, how, and the quantiser's name.
QUANTIZERS = {
    'onnxruntime': ('.onnx', _onnxruntime_quantize,
                    lambda: f'{_version("onnxruntime")} quantize_static'),
    'openvino': ('.xml', _nncf_quantize, lambda: _version('nncf')),
}


def check_quantizable(fp32_path: str, out: str, backend: str) -> None:
    """Raise :class:`DeployError` before any work when ``fp32_path`` cannot be quantised
    to ``out`` for ``backend``: an unknown backend, a missing package, an output name of
    the other runtime's format, or a graph NNCF cannot quantise (If operators, as in
    a detector exported before its NMS was written without them)."""
    if backend not in QUANTIZERS:
        raise DeployError(f'backend must be one of {list(QUANTIZERS)}, got {backend!r}')
    suffix = QUANTIZERS[backend][0]
    if not out.endswith(suffix):
        raise DeployError(f'{backend}\'s int8 model is a {suffix} file: name the output '
                          f'{osp.splitext(out)[0]}{suffix}')
    import_runtime('onnxruntime')  # both quantisers collect statistics with it
    if backend == 'openvino':
        import_runtime('nncf')
        model = import_runtime('openvino').Core().read_model(fp32_path)
        if any(op.get_type_name() == 'If' for op in model.get_ordered_ops()):
            raise DeployError(f'NNCF cannot quantise {fp32_path}: its graph has If '
                              f'operators (an older export of a detector); export it again '
                              f'with tools/deployment/pytorch2onnx.py, or quantise it for '
                              f'ONNX Runtime (--backend onnxruntime)')


def quantize_model(fp32_path: str, out: str, feeds: Sequence[Feeds],
                   backend: str = 'onnxruntime') -> int:
    """Quantise the fp32 file ``fp32_path`` to int8 for ``backend``, calibrated on
    ``feeds``; keep its metadata and write ``out`` in one step (a failure leaves no file).

    Args:
        fp32_path (str): An ``.onnx`` file written by ``tools/deployment/pytorch2onnx.py``.
        out (str): The int8 model to write: an ``.onnx`` file for ONNX Runtime, OpenVINO IR
            (``.xml``, with its ``.bin`` beside it) for OpenVINO.
        feeds (Sequence[dict]): Calibration inputs, one dict of arrays per image.
        backend (str): The runtime that will run the model, which picks the quantiser (see
            the module's docstring): ``'onnxruntime'`` (default) or ``'openvino'``.

    Returns:
        int: The size in bytes (of both IR files).
    """
    import onnx

    check_quantizable(fp32_path, out, backend)
    if not feeds:
        raise CalibrationError('no calibration images')
    suffix, quantize, quantizer = QUANTIZERS[backend]
    model = onnx.load(fp32_path, load_external_data=False)
    metadata = {prop.key: prop.value for prop in model.metadata_props}
    metadata.update(precision='int8', quantizer=quantizer(), runtime=backend,
                    calibration_images=str(len(feeds)))
    quantize(fp32_path, feeds, [node for node in model.graph.node if stays_fp32(node.name)],
             metadata, out)
    size = os.path.getsize(out)
    return size + os.path.getsize(osp.splitext(out)[0] + '.bin') if suffix == '.xml' else size
