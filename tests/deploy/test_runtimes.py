"""Runtimes and int8: an exported model gives PyTorch's outputs in ONNX Runtime and OpenVINO,
NNCF's int8 file runs in both and stays close to fp32, and every bad input is one clear
error with nothing written."""
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from conftest import REPO, assert_says, randomize_norms
from mmfasternet import FasterNet
from mmfasternet.deploy import RUNTIMES, DeployError, MissingRuntime, export_onnx, open_runtime
from mmfasternet.deploy.mask_rcnn_graph import (MASK_FORMS, export_mask_rcnn_onnx,
                                                mask_rcnn_image_feeds)
from mmfasternet.deploy.quantization import quantize_model
from mmfasternet.deploy.runtimes import cpu_name_and_flags
from mmfasternet.deploy.runtimes.onnxruntime import OnnxRuntime
from mmfasternet.deploy.tasks import CLASSIFIER


@pytest.fixture(scope='module')
def backbone_file(tmp_path_factory):
    """FasterNet-T0 (BN statistics randomised) exported at 1x3x96x96, and its PyTorch
    reference."""
    torch.manual_seed(0)
    model = randomize_norms(FasterNet('t0', out_indices=(3, ))).eval()
    path = str(tmp_path_factory.mktemp('runtimes') / 't0.onnx')
    reference = FasterNet('t0', out_indices=(3, )).eval()
    reference.load_state_dict(model.state_dict())
    export_onnx(model, path, shape=(1, 3, 96, 96))
    return path, reference


@pytest.fixture(scope='module')
def int8_files(backbone_file, tmp_path_factory):
    """The backbone quantised for each runtime on 16 images: runtime name to int8 file."""
    path, _ = backbone_file
    folder = tmp_path_factory.mktemp('int8')
    files = {}
    for name, runtime in RUNTIMES.items():
        files[name] = str(folder / f'{name}' / f't0_int8{runtime.int8_suffix}')
        (folder / name).mkdir()
        quantize_model(path, files[name], images(16, seed=1), backend=name)
    return files


def images(count, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [dict(image=torch.randn(1, 3, 96, 96, generator=gen).numpy()) for _ in range(count)]


@pytest.mark.parametrize('backend', sorted(RUNTIMES))
def test_every_runtime_gives_pytorchs_output(backbone_file, backend):
    path, reference = backbone_file
    model = open_runtime(path, backend)
    assert (model.name, model.precision) == (backend, 'fp32')
    assert model.input_shapes == {'image': (None, 3, 96, 96)}
    x = images(1)[0]
    with torch.no_grad():
        expected = reference(torch.from_numpy(x['image']))[0].numpy()
    got = model.run(x)[0]
    assert got.shape == expected.shape == (1, 320, 3, 3)
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-3 * np.abs(expected).max())


def quantized_convs(path):
    """Whether each conv of an int8 ONNX file takes int8 weights and inputs, and the file's
    operator types and metadata."""
    model = onnx.load(path)
    producer = {output: node for node in model.graph.node for output in node.output}

    def int8(tensor):  # dequantized, directly or through PConv's Split and Concat
        node = producer.get(tensor)
        if node is None or node.op_type not in ('DequantizeLinear', 'Split', 'Concat'):
            return False
        data = node.input[:1] if node.op_type == 'Split' else node.input  # not split sizes
        return node.op_type == 'DequantizeLinear' or all(map(int8, data))

    convs = [int8(n.input[0]) and int8(n.input[1]) for n in model.graph.node
             if n.op_type == 'Conv']
    return (convs, [n.op_type for n in model.graph.node],
            {p.key: p.value for p in model.metadata_props})


def cosines(reference, model, feeds):
    out = []
    for x in feeds:
        a, b = reference.run(x)[0].ravel(), model.run(x)[0].ravel()
        out.append(float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)))
    return out


def test_int8_for_onnxruntime_runs_in_both_runtimes_close_to_fp32(backbone_file, int8_files):
    path, _ = backbone_file
    out = int8_files['onnxruntime']
    convs, ops, meta = quantized_convs(out)
    # All 43 convs (embedding, 3 per block, 3 merging layers) take int8 weights and inputs.
    assert len(convs) == 43 and all(convs)
    assert ops.count('Gelu') + ops.count('Erf') == 13  # GELU stays fp32 (opset 20 or 17)
    assert meta['precision'] == 'int8' and meta['calibration_images'] == '16'
    assert meta['runtime'] == 'onnxruntime'
    assert meta['quantizer'].startswith('onnxruntime ') and 'quantize_static' in meta['quantizer']
    fp32 = open_runtime(path)
    for backend in ('onnxruntime', 'openvino'):
        assert min(cosines(fp32, open_runtime(out, backend), images(4, seed=2))) > 0.98


def test_int8_for_openvino_is_ir_close_to_fp32(backbone_file, int8_files):
    import openvino as ov
    path, _ = backbone_file
    out = int8_files['openvino']
    assert sorted(p.name for p in Path(out).parent.iterdir()) == ['t0_int8.bin', 't0_int8.xml']
    model = open_runtime(out, 'openvino')
    assert model.metadata['precision'] == 'int8' and model.metadata['runtime'] == 'openvino'
    assert model.metadata['quantizer'].startswith('nncf ')
    fake_quantized = [op for op in ov.Core().read_model(out).get_ordered_ops()
                      if op.get_type_name() == 'FakeQuantize']
    assert len(fake_quantized) >= 43  # at least every conv's input
    assert min(cosines(open_runtime(path), model, images(4, seed=2))) > 0.98
    with pytest.raises(DeployError, match=r'onnxruntime does not read \.xml .*add --backend '
                                          r'openvino$'):
        open_runtime(out)


# Each runtime's int8 test; a runtime registered without one fails the test below.
INT8_TESTS = {'onnxruntime': test_int8_for_onnxruntime_runs_in_both_runtimes_close_to_fp32,
              'openvino': test_int8_for_openvino_is_ir_close_to_fp32}


@pytest.mark.parametrize('backend,precision', [
    (name, precision) for name, runtime in sorted(RUNTIMES.items())
    for precision in (*runtime.precisions, 'int8')])
def test_every_runtime_runs_a_batch_as_it_runs_single_images(
        backbone_file, int8_files, backend, precision):
    path, _ = backbone_file
    if precision == 'int8':
        model = open_runtime(int8_files[backend], backend)
    else:
        model = open_runtime(path, backend, precision)
    assert model.input_shapes == {'image': (None, 3, 96, 96)}  # quantised files keep the axis
    singles = images(4, seed=3)
    batch = model.run(dict(image=np.concatenate([x['image'] for x in singles])))[0]
    assert batch.shape == (4, 320, 3, 3)
    for i, x in enumerate(singles):
        np.testing.assert_allclose(batch[i:i + 1], model.run(x)[0], rtol=0,
                                   atol=1e-5 * np.abs(batch).max())


def test_every_registered_runtime_has_its_int8_test():
    untested = sorted(set(RUNTIMES) - set(INT8_TESTS))
    assert not untested, f'{untested}: add a test of its quantiser to INT8_TESTS'
    for name, runtime in RUNTIMES.items():
        assert runtime.name == name and 'fp32' in runtime.precisions
        assert runtime.int8_suffix in runtime.reads  # it runs its own int8 files


def test_agreement_of_a_model_with_itself_is_complete(backbone_file):
    path, _ = backbone_file
    fp32 = open_runtime(path)
    line = CLASSIFIER.agreement_of(fp32, fp32, images(3))
    assert line == ('top-1 agrees on 100.0% of 3 images; largest logit error 0.0% of the '
                    'largest logit')


@pytest.mark.parametrize('backend,suffix', [('onnxruntime', '.onnx'), ('openvino', '.xml')])
def test_a_failed_quantisation_leaves_no_file(backbone_file, tmp_path, backend, suffix):
    path, _ = backbone_file
    out = tmp_path / f'broken_int8{suffix}'
    with pytest.raises(Exception):
        quantize_model(path, str(out), [dict(wrong_name=np.zeros((1, 3, 96, 96), np.float32))],
                       backend)
    assert list(tmp_path.iterdir()) == []
    other = '.xml' if suffix == '.onnx' else '.onnx'
    with pytest.raises(DeployError, match=f"^{backend}'s int8 model is a \\{suffix} file: "
                                          f"name the output .*broken_int8\\{suffix}$"):
        quantize_model(path, str(tmp_path / f'broken_int8{other}'), images(1), backend)


def test_bf16_runs_on_a_cpu_that_has_it_and_says_fp32_elsewhere(backbone_file):
    path, _ = backbone_file
    x = images(1)[0]
    fp32 = open_runtime(path, 'openvino').run(x)[0]
    if RUNTIMES['openvino'].runs_fast('bf16'):
        model = open_runtime(path, 'openvino', 'bf16')
        assert model.precision == 'bf16'
        assert np.abs(model.run(x)[0] - fp32).max() <= 0.05 * np.abs(fp32).max()
    else:
        with pytest.warns(RuntimeWarning, match=r'has no bf16 instructions \(avx512_bf16 or '
                                                r'amx_bf16\): OpenVINO runs fp32 instead of '
                                                r'bf16$'):
            model = open_runtime(path, 'openvino', 'bf16')
        assert model.precision == 'fp32'
        np.testing.assert_array_equal(model.run(x)[0], fp32)


def test_bad_runtime_inputs_are_one_clear_error(backbone_file, tmp_path, monkeypatch):
    path, _ = backbone_file
    # Each message names the problem and the fix.
    with pytest.raises(DeployError, match=r"onnxruntime runs fp32, not 'bf16'.*add --backend "
                                          r"openvino"):
        open_runtime(path, 'onnxruntime', 'bf16')
    with pytest.raises(DeployError, match=r"openvino runs fp32 and bf16, not 'int8'.*int8 is "
                                          r"a quantised file: tools/deployment/quantize.py"):
        open_runtime(path, 'openvino', 'int8')
    with pytest.raises(DeployError, match=r"^backend must be one of \['onnxruntime', "
                                          r"'openvino'\], got 'tensorrt'"):
        open_runtime(path, 'tensorrt')
    missing = str(tmp_path / 'missing.onnx')
    with pytest.raises(DeployError, match=f'^{missing} does not exist$'):
        open_runtime(missing, 'openvino')
    garbage = tmp_path / 'garbage.onnx'
    garbage.write_bytes(b'not a model')
    for backend, package in (('onnxruntime', 'onnxruntime'), ('openvino', 'openvino')):
        with pytest.raises(DeployError, match=f'^{garbage} is not a model file {package} '
                                              f'can read: '):
            open_runtime(str(garbage), backend)
    with pytest.raises(DeployError, match=r"is not an exported detector: it takes \['image'\] "
                                          r"and returns \["):
        open_runtime(path, inputs=['image', 'img_shape'], what='an exported detector')
    for package, extra in (('openvino', 'openvino'), ('onnxruntime', 'deploy')):
        with monkeypatch.context() as patch:
            patch.setitem(sys.modules, package, None)  # as if not installed
            with pytest.raises(MissingRuntime, match=f'^{package} is not installed: pip '
                                                     f'install "mmfasternet\\[{extra}\\]"$'):
                open_runtime(path, package)
    monkeypatch.setitem(sys.modules, 'nncf', None)
    with pytest.raises(MissingRuntime, match=r'^nncf is not installed: pip install '
                                             r'"mmfasternet\[int8\]"$'):
        quantize_model(path, str(tmp_path / 'x.xml'), images(1), 'openvino')
    assert not (tmp_path / 'x.xml').exists()


def test_openvino_profile_names_each_kernel_and_counts_every_conv(backbone_file, tmp_path):
    path, reference = backbone_file
    conv_macs = []
    hooks = [module.register_forward_hook(
        lambda conv, _, out: conv_macs.append(conv.weight.numel() * out[0, 0].numel()))
        for module in reference.modules() if isinstance(module, torch.nn.Conv2d)]
    with torch.no_grad():
        reference(torch.from_numpy(images(1)[0]['image']))
    for hook in hooks:
        hook.remove()
    int8 = str(tmp_path / 't0_int8.xml')
    quantize_model(path, int8, images(4), 'openvino')
    for file, precision in ((path, 'fp32'), (int8, 'int8')):
        kinds = RUNTIMES['openvino'].profile(file, images(1)[0], runs=2)
        convs = {kind: macs for kind, (_, macs) in kinds.items()
                 if kind.startswith('Convolution ')}
        assert all(ms > 0 for ms, _ in kinds.values())
        assert {kind.split()[1] for kind in convs} == {'1x1', '2x2', '3x3', '4x4'}
        # fp32 convs run fp32 kernels; the int8 model's convs run int8 kernels (named
        # ``_I8`` or ``_i8`` by the precision OpenVINO reports, which differs between CPUs).
        assert all(kind.lower().endswith('_i8') == (precision == 'int8')
                   for kind in convs), convs
        assert sum(convs.values()) * 1e9 == pytest.approx(sum(conv_macs), rel=1e-6)


@pytest.fixture(scope='module')
def positives_file(tmp_path_factory):
    """A 1x1 conv (weights 1, no bias) over a (1, 3, 4, 4) image, then the output's
    positive values: as many as there are, none for a negative image (as a detector finds
    nothing in some images)."""
    from onnx import TensorProto, helper
    graph = helper.make_graph(
        [helper.make_node('Conv', ['image', 'weight'], ['conv']),
         helper.make_node('Flatten', ['conv'], ['flat'], axis=0),
         helper.make_node('Squeeze', ['flat', 'zero'], ['values']),
         helper.make_node('Greater', ['values', 'threshold'], ['positive']),
         helper.make_node('Compress', ['values', 'positive'], ['positives'], axis=0)],
        'positives', [helper.make_tensor_value_info('image', TensorProto.FLOAT, [1, 3, 4, 4])],
        [helper.make_tensor_value_info('positives', TensorProto.FLOAT, ['count'])],
        [helper.make_tensor('weight', TensorProto.FLOAT, [1, 3, 1, 1], [1.0] * 3),
         helper.make_tensor('zero', TensorProto.INT64, [1], [0]),
         helper.make_tensor('threshold', TensorProto.FLOAT, [], [0.0])])
    path = str(tmp_path_factory.mktemp('positives') / 'positives.onnx')
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)]), path)
    return path


def signed_images(*signs):
    gen = torch.Generator().manual_seed(0)
    return [dict(image=sign * torch.rand(1, 3, 4, 4, generator=gen).numpy()) for sign in signs]


def test_nncf_calibrates_on_images_with_outputs(positives_file, tmp_path):
    """NNCF would take an empty output's statistics for a range; images on which the model
    returns nothing are left out, and none left is a clear error."""
    out = str(tmp_path / 'positives_int8.xml')
    quantize_model(positives_file, out, signed_images(1, -1, 1, -1, 1), 'openvino')
    model = open_runtime(out, 'openvino')
    assert model.metadata['calibration_images'] == '3'
    # 8-bit weights where int8 kernels add in 32 bits (VNNI, AMX), 7-bit elsewhere.
    vnni = {'avx512_vnni', 'amx_int8'} & set(cpu_name_and_flags()[1])
    assert model.metadata['weight_bits'] == ('8' if vnni else '7')
    fp32 = open_runtime(positives_file, 'openvino')
    for image in signed_images(1, 1):
        np.testing.assert_allclose(model.run(image)[0], fp32.run(image)[0], atol=0.05)
    with pytest.raises(DeployError, match=r'returns empty outputs \(no detections\) on every '
                                          r'calibration image: train it, or calibrate on '
                                          r'other images$'):
        quantize_model(positives_file, str(tmp_path / 'none.xml'), signed_images(-1, -1),
                       'openvino')
    assert not (tmp_path / 'none.xml').exists()


def test_nncf_refuses_if_operators_before_any_work(tmp_path):
    from onnx import TensorProto, helper

    def branch(value):
        return helper.make_graph(
            [helper.make_node('Constant', [], ['out'], value=helper.make_tensor(
                'v', TensorProto.FLOAT, [1], [value]))], f'branch{value}', [],
            [helper.make_tensor_value_info('out', TensorProto.FLOAT, [1])])

    graph = helper.make_graph(
        [helper.make_node('If', ['flag'], ['out'], then_branch=branch(1.0),
                          else_branch=branch(0.0))], 'if',
        [helper.make_tensor_value_info('flag', TensorProto.BOOL, [])],
        [helper.make_tensor_value_info('out', TensorProto.FLOAT, [1])])
    path = str(tmp_path / 'if.onnx')
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)]), path)
    with pytest.raises(DeployError, match=r'^NNCF cannot quantise .*if\.onnx: its graph has If '
                                          r'operators \(an older export of a detector\); '
                                          r'export it again'):
        quantize_model(path, str(tmp_path / 'if_int8.xml'), [dict(flag=np.array(True))],
                       'openvino')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['if.onnx']


@pytest.fixture(scope='module')
def detector_file(tmp_path_factory):
    """The toy Mask R-CNN (BN statistics randomised, a low score threshold to find
    something) exported with box-local masks, and the feeds of one 128x160 image."""
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    cfg = Config.fromfile(f'{REPO}/configs/toy/mask_rcnn_fasternet_t0_toy.py')
    cfg.model.test_cfg.rcnn.update(score_thr=0.05)
    torch.manual_seed(0)
    model = randomize_norms(MODELS.build(cfg.model)).eval()
    path = str(tmp_path_factory.mktemp('detector') / 'det.onnx')
    export_mask_rcnn_onnx(model, path, shape=(128, 128))
    image = torch.randn(1, 3, 128, 160, generator=torch.Generator().manual_seed(0))
    return path, mask_rcnn_image_feeds(image, MASK_FORMS['box'].inputs)


def raw_outputs(path, backend, feeds):
    """The outputs of ``path`` on ``feeds`` from the runtime's own API, unchecked, set up
    as the runtime sets it up (fp32, one thread)."""
    if backend == 'onnxruntime':
        return OnnxRuntime.session_of(path).run(None, feeds)
    import openvino as ov
    compiled = ov.Core().compile_model(path, 'CPU', {
        'INFERENCE_PRECISION_HINT': 'f32', 'INFERENCE_NUM_THREADS': 1, 'NUM_STREAMS': 1,
        'PERFORMANCE_HINT': 'LATENCY'})
    outputs = compiled.create_infer_request().infer(feeds)
    return [outputs[port] for port in compiled.outputs]


def refuses(model, feeds, *facts):
    """``model.run(feeds)`` is one :class:`DeployError` naming the file and ``facts``."""
    with pytest.raises(DeployError) as error:
        model.run(feeds)
    assert type(error.value) is DeployError
    assert_says(str(error.value), model.path, *facts)


@pytest.mark.parametrize('backend', sorted(RUNTIMES))
def test_every_runtime_refuses_a_feed_the_classifier_does_not_take(backbone_file, backend):
    path, _ = backbone_file
    model = open_runtime(path, backend)
    x = images(1)[0]['image']
    assert model.input_dtypes == {'image': np.float32}
    np.testing.assert_array_equal(model.run(dict(image=x))[0],
                                  raw_outputs(path, backend, dict(image=x))[0])
    expected = "takes shape (?, 3, 96, 96)"
    for dtype in (np.float64, np.uint8):
        refuses(model, dict(image=x.astype(dtype)), "input 'image'", 'takes float32',
                f'got {np.dtype(dtype)}')
    for wrong, axis, size in (((1, 1, 96, 96), 1, 1), ((1, 4, 96, 96), 1, 4),
                              ((1, 3, 100, 100), 2, 100), ((1, 3, 96, 97), 3, 97)):
        refuses(model, dict(image=np.zeros(wrong, np.float32)), "input 'image'", expected,
                f'got {wrong}', f'axis {axis} is {size}')
    refuses(model, dict(image=np.zeros((0, 3, 96, 96), np.float32)), "input 'image'",
            expected, 'got (0, 3, 96, 96)', 'axis 0 is 0', 'any size but 0')
    refuses(model, dict(image=x[0]), "input 'image'", f'{expected} (4 axes)',
            'got (3, 96, 96) (3 axes)')
    refuses(model, dict(image=torch.from_numpy(x)), "input 'image'", 'takes a numpy array',
            'got a torch.Tensor')
    refuses(model, dict(image=x, mask=x), "takes the inputs ['image']",
            "got ['image', 'mask']", "'mask' unknown")
    refuses(model, dict(images=x), "takes the inputs ['image']", "got ['images']",
            "'image' missing", "'images' unknown")
    refuses(model, [x], "takes a dict of its inputs ['image']", 'got a list')


@pytest.mark.parametrize('backend', sorted(RUNTIMES))
def test_every_runtime_refuses_a_feed_the_detector_does_not_take(detector_file, backend):
    path, feeds = detector_file
    model = open_runtime(path, backend)
    assert model.batch_sizes == [1]
    assert model.input_shapes == {'image': (1, 3, None, None), 'img_shape': (2, ),
                                  'scale_factor': (2, )}
    assert model.input_dtypes == {'image': np.float32, 'img_shape': np.int64,
                                  'scale_factor': np.float32}
    got, raw = model.run(feeds), raw_outputs(path, backend, feeds)
    assert len(got[0]) > 0 and all(np.isfinite(out).all() for out in got)
    for out, expected in zip(got, raw):
        np.testing.assert_array_equal(out, expected)
    image = feeds['image']
    refuses(model, dict(feeds, image=np.concatenate([image, image])), "input 'image'",
            "takes batches of 1 (the file's batch_sizes)", 'got a batch of 2')
    refuses(model, dict(feeds, image=image[:, :1]), "input 'image'",
            'takes shape (1, 3, ?, ?)', 'got (1, 1, 128, 160)', 'axis 1 is 1')
    refuses(model, dict(feeds, image=image.astype(np.float64)), "input 'image'",
            'takes float32', 'got float64')
    refuses(model, dict(feeds, img_shape=feeds['img_shape'].astype(np.int32)),
            "input 'img_shape'", 'takes int64', 'got int32')
    refuses(model, dict(feeds, scale_factor=np.ones(3, np.float32)), "input 'scale_factor'",
            'takes shape (2,)', 'got (3,)')
    names = "takes the inputs ['image', 'img_shape', 'scale_factor']"
    refuses(model, dict(image=image, img_shape=feeds['img_shape']), names,
            "got ['image', 'img_shape']", "'scale_factor' missing")
    refuses(model, dict(feeds, ori_shape=feeds['img_shape']), names, "'ori_shape' unknown")


def test_an_unreadable_file_is_refused_with_its_cause(backbone_file, tmp_path):
    import openvino as ov
    path, _ = backbone_file
    xml = tmp_path / 't0.xml'
    ov.save_model(ov.Core().read_model(path), str(xml))
    (tmp_path / 't0.bin').unlink()
    with pytest.raises(DeployError) as error:
        open_runtime(str(xml), 'openvino')
    # OpenVINO's cause, not its header lines (where in its sources it was raised).
    assert_says(str(error.value), f'{xml} is not a model file openvino can read: ',
                'bin file')
    assert 'Exception from' not in str(error.value) and 'failed at' not in str(error.value)
    for suffix, backend, cause in (('.onnx', 'onnxruntime', 'Protobuf parsing failed'),
                                   ('.onnx', 'openvino', 'Unable to read the model'),
                                   ('.xml', 'openvino', 'Unable to read the model')):
        garbage = tmp_path / f'garbage{suffix}'
        garbage.write_bytes(b'not a model')
        with pytest.raises(DeployError) as error:
            open_runtime(str(garbage), backend)
        assert_says(str(error.value), f'{garbage} is not a model file {backend} can read: ',
                    cause)
        assert 'Exception from' not in str(error.value)
