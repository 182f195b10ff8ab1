"""Every inference path of the benchmark computes what plain eval mode computes."""
import pytest
import torch

from benchmarks.lab.latency import INFERENCE_PATHS, inference_path, matmul_call
from benchmarks.lab.peers import DENSE_PAIRS
from conftest import randomize_norms
from mmfasternet import FasterNet
from mmfasternet.analysis import TensorForward, tensor_model
from mmfasternet.compat import torch_at_least
from mmfasternet.deploy import RUNTIMES, export_onnx
from mmfasternet.deploy.quantization import quantize_model
from mmfasternet.engine.tool_config import load_config

TINY = dict(embed_dims=16, depths=[1, 1, 2, 1], act_cfg=dict(type='GELU'))


def tiny_backbone() -> FasterNet:
    torch.manual_seed(0)
    return randomize_norms(FasterNet(TINY)).eval()


@pytest.mark.parametrize('path', [
    pytest.param(p, marks=pytest.mark.deploy) if p == 'onnxruntime' else p
    for p in INFERENCE_PATHS if p != 'eval'])
def test_every_path_matches_eval_mode(tmp_path, path):
    model = TensorForward(tiny_backbone())
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = model(x)
        fn, x_path = inference_path(model, path, x, str(tmp_path / 'tiny.onnx'))
        outputs = fn(x_path)
    assert len(outputs) == 4
    for out, ref in zip(outputs, expected):
        assert out.shape == ref.shape
        assert torch.allclose(out, ref, rtol=1e-4, atol=1e-4)
    assert not model.model.deploy  # the model handed in is not folded


def test_unknown_path_and_missing_onnx_file_are_refused():
    model, x = TensorForward(tiny_backbone()), torch.randn(1, 3, 64, 64)
    with pytest.raises(ValueError, match='inference path must be one of'):
        inference_path(model, 'tensorrt', x)
    with pytest.raises(ValueError, match='needs onnx_file'):
        inference_path(model, 'onnxruntime', x)


@pytest.mark.deploy
def test_the_onnxruntime_path_returns_tensors_like_pytorch(tmp_path):
    model = tiny_backbone()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = model(x)
    forward, _ = inference_path(model, 'onnxruntime', x, onnx_file=str(tmp_path / 'b2.onnx'))
    outputs = forward(x)
    assert isinstance(outputs, tuple) and all(isinstance(o, torch.Tensor) for o in outputs)
    for out, ref in zip(outputs, expected):
        assert (out - ref).abs().max() < 1e-4


def test_export_refuses_old_opsets(tmp_path):
    with pytest.raises(ValueError, match='opset must be at least 17'):
        export_onnx(tiny_backbone(), str(tmp_path / 'old.onnx'), opset=13)
    assert not (tmp_path / 'old.onnx').exists()


@pytest.mark.deploy
def test_matmul_of_both_backends_multiplies_the_same_matrices():
    results = []
    for backend in ('pytorch', 'onnxruntime'):
        torch.manual_seed(0)
        multiply, a = matmul_call(n=64, backend=backend)
        result = multiply(a)
        results.append(torch.as_tensor(result[0] if isinstance(result, list) else result))
    assert results[0].shape == (64, 64)
    assert torch.allclose(results[0], results[1], atol=1e-4)
    with pytest.raises(ValueError, match="backend must be 'pytorch' or 'onnxruntime'"):
        matmul_call(n=8, backend='numpy')


@pytest.mark.parametrize('task', list(DENSE_PAIRS))
def test_dense_benchmark_pairs_fold_to_the_same_outputs(task):
    """The detector and segmentor pairs of the benchmark build without weights, and their
    folded forward is the eval-mode forward (checked on a small input)."""
    shape = (128, 160)
    x = torch.randn(1, 3, *shape)
    for config in DENSE_PAIRS[task][:2]:
        torch.manual_seed(0)
        model = tensor_model(load_config(config), shape)
        randomize_norms(model)
        with torch.no_grad():
            expected = torch.cat([t.flatten() for t in _tensors(compared(model, task, x))])
            folded, _ = inference_path(model, 'folded', x)
            got = torch.cat([t.flatten() for t in _tensors(compared(folded, task, x))])
        assert got.shape == expected.shape
        assert (got - expected).abs().max() <= 1e-4 * expected.abs().max()


def compared(model, task, x):
    """What the folded and eval-mode models are compared on: Mask R-CNN's tensor output goes
    through the proposals that survive NMS, which rounding-level differences can change, so
    for it the features (everything that folding touches) are compared."""
    return model.model.extract_feat(x) if task == 'Mask R-CNN' else model(x)


def _tensors(output):
    if isinstance(output, torch.Tensor):
        return [output]
    return [t for item in output for t in _tensors(item)]


@pytest.mark.deploy
def test_onnxruntime_profile_accounts_for_every_conv(tmp_path):
    # PConv widths that are multiples of 16: ONNX Runtime's blocked (NCHWc) convs pad
    # narrower ones up to the block size, and the profile counts the padded work.
    torch.manual_seed(0)
    model = randomize_norms(FasterNet(dict(embed_dims=64, depths=[1, 1, 1, 1]))).eval()
    x = torch.randn(1, 3, 64, 64)
    conv_macs, norm_elements = [], []

    def count(module, _, out):
        if isinstance(module, torch.nn.Conv2d):
            conv_macs.append(module.weight.numel() * out.shape[-2] * out.shape[-1])
        else:
            norm_elements.append(out.numel())

    path = str(tmp_path / 'tiny.onnx')
    export_onnx(model, path, shape=tuple(x.shape))  # folds the BNs first
    for module in model.modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.BatchNorm2d)):
            module.register_forward_hook(count)
    with torch.no_grad():
        model(x)
    kinds = RUNTIMES["onnxruntime"].profile(path, dict(image=x.numpy()), runs=2)
    assert {'Conv 1x1', 'Conv 2x2', 'Conv 3x3', 'Conv 4x4'} <= set(kinds)
    # ONNX Runtime runs the output norms as depthwise 1x1 convs when exported by the dynamo
    # exporter (torch >= 2.6), as BatchNormalization when exported by the TorchScript one.
    norms_as_convs = torch_at_least(2, 6)
    assert ('Conv 1x1 depthwise' in kinds) == norms_as_convs
    assert ('BatchNormalization' in kinds) != norms_as_convs
    profiled = sum(g for kind, (_, g) in kinds.items() if kind.startswith('Conv'))
    expected = sum(conv_macs) + (sum(norm_elements) if norms_as_convs else 0)
    assert profiled * 1e9 == pytest.approx(expected, rel=1e-6)
    assert all(ms > 0 for ms, _ in kinds.values())
    # The int8 model runs every conv as a QLinearConv, unpadded, the norms folded in.
    int8 = str(tmp_path / 'tiny_int8.onnx')
    quantize_model(path, int8, [dict(image=torch.randn(*x.shape).numpy()) for _ in range(2)])
    kinds = RUNTIMES["onnxruntime"].profile(int8, dict(image=x.numpy()), runs=2)
    assert {f'QLinearConv {k}x{k}' for k in (1, 2, 3, 4)} <= set(kinds)
    profiled = sum(g for kind, (_, g) in kinds.items() if kind.startswith('QLinearConv'))
    assert profiled * 1e9 == pytest.approx(sum(conv_macs), rel=1e-6)
    assert not list(tmp_path.glob('*profile*')) + list(tmp_path.glob('*optimized*'))
