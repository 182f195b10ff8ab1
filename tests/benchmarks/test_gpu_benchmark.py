"""The GPU benchmark tool and its timer run on the CPU (no timing is asserted)."""
import json
import os
import os.path as osp

import pytest
import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from benchmarks.lab.kernel_profile import kernel_kind
from benchmarks.lab.latency import build_classifier
from benchmarks.lab.throughput import (autocast_context, in_precision, interleaved_throughput,
                                       prepare, train_step_rates)
from conftest import REPO, randomize_norms, run_tool

GPU_BENCHMARK = osp.join(REPO, 'tools', 'analysis', 'gpu_benchmark.py')

# One thread: two threads on a shared 2-core machine stall each other.
ONE_THREAD = dict(os.environ, OMP_NUM_THREADS='1')


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.long
def test_tool_writes_every_table_on_the_cpu(tmp_path):
    out = tmp_path / 'new' / 'folder'
    run_tool(GPU_BENCHMARK, '--device', 'cpu', '--models', 'fasternet_t0',
             'mobilenet-v2_8xb32_in1k', '--batch', '2', '--shape', '64', '64',
             '--precisions', 'fp32', 'bf16', '--rounds', '1', '--warmup', '1',
             '--detection-shape', '64', '96', '--train-batch', '2', '--out', str(out),
             env=ONE_THREAD)
    assert sorted(p.name for p in out.iterdir()) == ['gpu_benchmarks.json', 'gpu_benchmarks.md']
    table = (out / 'gpu_benchmarks.md').read_text()
    record = json.loads((out / 'gpu_benchmarks.json').read_text())
    assert '`python tools/analysis/gpu_benchmark.py --device cpu --models fasternet_t0' in table
    assert '- device: CPU ' in table and f'- torch {torch.__version__}, cuDNN ' in table
    assert '- batch 2, 64x64, BN folded' in table
    settings = ['fp32 contiguous', 'fp32 channels_last', 'bf16 contiguous',
                'bf16 channels_last']
    assert ('| model | ' + ' | '.join(f'{s} (img/s)' for s in settings)
            + ' | best (img/s) | paper 2080Ti (img/s) |') in table
    sections = {section.splitlines()[0]: section for section in table.split('\n## ')[1:]}
    assert list(sections) == ['Classifiers', 'Where the time goes', 'Detection backbones',
                              'AMP training']
    rows = {cells[0]: cells for cells in (
        [cell.strip() for cell in line.strip('|').split('|')]
        for name, section in sections.items() if name != 'Where the time goes'
        for line in section.splitlines() if line.startswith('| '))}
    n = len(settings)
    for model, paper in (('fasternet_t0', '6807'), ('mobilenet-v2_8xb32_in1k', '4198')):
        assert len(rows[model]) == 1 + n + 2 and rows[model][-1] == paper
        assert all(float(rate) > 0 for rate in rows[model][1:-1])
    ratios = rows['fasternet_t0 / mobilenet-v2_8xb32_in1k']
    assert len(ratios) == 1 + n + 3 and ratios[-2:] in (['1.62', 'yes'], ['1.62', 'no'])
    for backbone in ('FasterNet-S', 'ResNet-50', 'FasterNet-S / ResNet-50'):
        assert len(rows[backbone]) == 2 + n and rows[backbone][1] == '96x64'
        assert all(float(ms) > 0 for ms in rows[backbone][2:])
    for classifier in ('fasternet_s', 'resnet50_8xb32_in1k',
                       'fasternet_s / resnet50_8xb32_in1k'):
        assert rows[classifier][1:3] == ['2', 'bf16'] and float(rows[classifier][3]) > 0
    assert 'nan' not in table and ' inf ' not in table
    # Where the time goes: both models of the pair, each in its fastest setting, the kinds'
    # shares adding up to the whole, and FasterNet's longest kernels.
    profile = sections['Where the time goes']
    assert '| model | setting | ms per batch | layout | concat/copy | conv/matmul | ' \
           'element-wise | other |' in profile
    for model in ('fasternet_t0', 'mobilenet-v2_8xb32_in1k'):
        fastest = max(settings, key=lambda s: record['classifiers'][model][s])
        assert record['profiles'][model]['setting'] == fastest
        assert f'| {model} | {fastest} | ' in profile
        assert sum(record['profiles'][model]['kinds'].values()) == pytest.approx(1)
        assert record['profiles'][model]['kinds']['conv/matmul'] > 0
    assert 'Longest kernels of fasternet_t0:' in profile
    assert 'Longest kernels of mobilenet' not in profile
    # The JSON holds the same numbers as the tables, unrounded, and the run's settings.
    assert record['command'].startswith('python tools/analysis/gpu_benchmark.py --device cpu')
    assert (record['batch'], record['shape'], record['rounds']) == (2, [64, 64], 1)
    assert record['device'].startswith('CPU ') and record['torch'] == torch.__version__

    def shown(value):  # a rate as the table rounds it: 3 significant digits, or whole
        return pytest.approx(value, rel=5e-3, abs=0.5)

    for model in ('fasternet_t0', 'mobilenet-v2_8xb32_in1k'):
        assert [float(rate) for rate in rows[model][1:1 + n]] == \
            [shown(record['classifiers'][model][s]) for s in settings]
    pair = record['ratios']['fasternet_t0 / mobilenet-v2_8xb32_in1k']
    assert [f'{pair[s]:.2f}' for s in settings] == ratios[1:1 + n]
    assert f'{pair["paper_2080ti"]:.2f}' == '1.62'
    assert [f'{record["detection_backbones_ms"]["FasterNet-S"][s]:.2f}' for s in settings] == \
        rows['FasterNet-S'][2:]
    assert float(rows['fasternet_s'][3]) == shown(record['amp_training']['fasternet_s'])


@pytest.mark.skipif(torch.cuda.is_available(), reason='this machine has CUDA')
def test_tool_refuses_cuda_without_a_gpu_before_writing(tmp_path):
    result = run_tool(GPU_BENCHMARK, '--models', 'fasternet_t0', '--out',
                      str(tmp_path / 'out'), check=False)
    assert result.returncode == 2
    assert '--device cuda: CUDA is not available on this machine' in result.stderr
    assert '--device cpu for a smoke run' in result.stderr
    assert 'Traceback' not in result.stderr and not (tmp_path / 'out').exists()


def test_tool_refuses_fp16_on_the_cpu_before_writing(tmp_path):
    result = run_tool(GPU_BENCHMARK, '--device', 'cpu', '--precisions', 'fp32', 'fp16',
                      '--out', str(tmp_path / 'out'), check=False)
    assert result.returncode == 2
    assert '--precisions fp16: fp16 autocast needs a CUDA device' in result.stderr
    assert 'Traceback' not in result.stderr and not (tmp_path / 'out').exists()


def test_interleaved_throughput_warms_up_then_runs_round_robin():
    order = []

    def counting(name):
        return lambda x: order.append(name)

    calls = {('a', 'fp32'): (counting('a'), None), ('b', 'fp32'): (counting('b'), None)}
    rates = interleaved_throughput(calls, batch=4, rounds=3, warmup=2, device='cpu')
    assert order == ['a', 'a', 'b', 'b'] + ['a', 'b'] * 3
    assert set(rates) == set(calls)
    assert all(0 < rate < float('inf') for rate in rates.values())


def test_interleaved_throughput_runs_without_autograd_unless_asked():
    layer = nn.Linear(3, 3)
    outputs = []

    def record(x):
        outputs.append(layer(x))

    interleaved_throughput({'a': (record, torch.ones(1, 3))}, 1, 1, 0, 'cpu')
    interleaved_throughput({'a': (record, torch.ones(1, 3))}, 1, 1, 0, 'cpu', grad=True)
    assert [out.requires_grad for out in outputs] == [False, True]


def test_precisions():
    with pytest.raises(ValueError, match='fp16 autocast needs a CUDA device'):
        autocast_context('fp16', 'cpu')
    with pytest.raises(ValueError, match="precision must be one of .* got 'fp8'"):
        autocast_context('fp8', 'cpu')
    with pytest.raises(ValueError, match='fp16 autocast needs a CUDA device'):
        in_precision(nn.Identity(), 'fp16', 'cpu')  # at wrapping, not at the first call
    layer, x = nn.Linear(3, 3), torch.ones(2, 3)
    assert in_precision(layer, 'bf16', 'cpu')(x).dtype == torch.bfloat16
    assert in_precision(layer, 'fp32', 'cpu')(x).dtype == torch.float32


@pytest.mark.parametrize('channels_last', [False, True])
def test_prepared_copy_is_folded_and_gives_the_eval_output(channels_last):
    model = build_classifier('fasternet_t0')
    randomize_norms(model)
    x = torch.randn(2, 3, 64, 64)
    folded, inputs = prepare(model, x, 'cpu', channels_last)
    assert any(isinstance(m, _BatchNorm) for m in model.modules())  # copied, not changed
    assert not any(isinstance(m, _BatchNorm) for m in folded.modules())
    assert inputs.is_contiguous(memory_format=torch.channels_last) == channels_last
    assert torch.equal(inputs, x)
    with torch.no_grad():
        expected, got = model(x), folded(inputs)
    assert expected.abs().max() > 0.1
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)


class TinyClassifier(nn.Module):
    """``model(x, mode='tensor')`` gives logits, as an mmpretrain classifier's does."""

    def __init__(self):
        super().__init__()
        self.conv, self.bn, self.fc = nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Linear(4, 1000)

    def forward(self, x, mode):
        assert mode == 'tensor'
        return self.fc(self.bn(self.conv(x)).mean((2, 3)))


@pytest.mark.parametrize('precision', ['fp32', 'bf16'])
def test_train_steps_train_the_model(precision):
    models = {'a': TinyClassifier().eval(), 'b': TinyClassifier().eval()}
    before = {name: model.fc.weight.detach().clone() for name, model in models.items()}
    rates = train_step_rates(models, batch=2, shape=(8, 8), device='cpu', precision=precision,
                             steps=2, warmup=1)
    assert set(rates) == {'a', 'b'} and all(rate > 0 for rate in rates.values())
    for name, model in models.items():
        assert model.training
        assert not torch.equal(model.fc.weight, before[name])
        assert model.bn.num_batches_tracked == 3  # 1 warm-up and 2 timed steps


@pytest.mark.parametrize('name, kind', [
    ('void cudnn::ops::nchwToNhwcKernel<__half, __half, float, false, true>(...)', 'layout'),
    ('void at::native::(anonymous namespace)::CatArrayBatchedCopy_contig<...>', 'concat/copy'),
    ('void at::native::elementwise_kernel<128, 2, direct_copy_kernel_cuda(...)>', 'concat/copy'),
    ('sm90_xmma_fprop_implicit_gemm_f16f16_f16f32_f32_nhwckrsc_nhwc_tilesize128x128x64',
     'conv/matmul'),
    ('aten::mkldnn_convolution', 'conv/matmul'),
    ('aten::addmm', 'conv/matmul'),
    ('void at::native::vectorized_elementwise_kernel<4, GeluCUDAKernelImpl(...)>',
     'element-wise'),
    ('void at::native::reduce_kernel<512, 1, ReduceOp<float, MeanOps<float, float>>>', 'other'),
])
def test_kernels_are_sorted_into_the_kinds_that_explain_a_gap(name, kind):
    assert kernel_kind(name) == kind


def test_tool_places_fasternet_among_todays_peers(tmp_path):
    """``--models`` takes the timm peers of configs/peers.yml, and the file says where each
    FasterNet stands on the latency-accuracy front."""
    run_tool(GPU_BENCHMARK, '--device', 'cpu', '--models', 'fasternet_t0', 'mobilenetv2_100',
             '--batch', '2', '--shape', '64', '64', '--precisions', 'fp32',
             '--memory-formats', 'contiguous', '--rounds', '1', '--warmup', '0',
             '--detection-shape', '0', '--train-batch', '0', '--profile-runs', '0',
             '--out', str(tmp_path), env=ONE_THREAD)
    record = json.loads((tmp_path / 'gpu_benchmarks.json').read_text())
    assert record['classifiers']['mobilenetv2_100']['paper_2080ti'] is None
    rates = {name: record['classifiers'][name]['best'] for name in record['classifiers']}
    verdict = record['front']['fasternet_t0']  # MobileNetV2's cited top-1 is above T0's
    if rates['mobilenetv2_100'] > rates['fasternet_t0']:
        assert verdict.startswith('beaten by MobileNetV2 (')
    else:
        assert verdict == 'on the front'
    table = (tmp_path / 'gpu_benchmarks.md').read_text()
    assert f'| fasternet_t0 | {verdict} |' in table and '| mobilenetv2_100 | ' in table
