"""The analysis tools run end to end on tiny settings (no timing is asserted)."""
import os.path as osp

import pytest

from conftest import REPO, run_tool


def test_get_flops_counts_a_fused_classifier():
    result = run_tool(osp.join(REPO, 'tools', 'analysis', 'get_flops.py'),
                      'configs/fasternet_t0_in1k.py', '--shape', '224', '224', '--fuse-conv-bn')
    assert '| configs/fasternet_t0_in1k.py | 224x224 | 3.901 | 0.335 |' in result.stdout


BENCHMARK = osp.join(REPO, 'tools', 'analysis', 'benchmark.py')


@pytest.mark.long
def test_benchmark_writes_a_table_and_a_plot_into_a_new_folder(tmp_path):
    out = tmp_path / 'not' / 'yet'
    run_tool(BENCHMARK, '--models', 'fasternet_t0', 'mobilenet-v2_8xb32_in1k', '--rounds', '1',
             '--throughput-batch', '2', '--out', str(out))
    assert sorted(p.name for p in out.iterdir()) == ['benchmarks.md', 'latency_vs_accuracy.png']
    table = (out / 'benchmarks.md').read_text()
    assert '| PyTorch (ms) | GMAC/s | ONNX Runtime (ms) | GMAC/s |' in table
    assert '| batch-2 img/s |' in table
    assert '| fasternet_t0 | 3.9 | 0.34 |' in table
    assert '| mobilenet-v2_8xb32_in1k | 3.5 |' in table
    assert 'nan' not in table
    assert (out / 'latency_vs_accuracy.png').stat().st_size > 10_000


def test_benchmark_refuses_an_unknown_model_before_measuring_and_lists_the_names(tmp_path):
    result = run_tool(BENCHMARK, '--models', 'fasternet_t0', 'resnet_5O', '--out',
                      str(tmp_path / 'out'), check=False)
    assert result.returncode == 2
    assert "argument --models: invalid choice: 'resnet_5O' (choose from 'fasternet_t0'," \
        in result.stderr
    assert 'Traceback' not in result.stderr and not (tmp_path / 'out').exists()


def test_benchmark_refuses_an_out_path_that_is_a_file(tmp_path):
    out = tmp_path / 'benchmarks.md'
    out.write_text('kept')
    result = run_tool(BENCHMARK, '--models', 'fasternet_t0', '--out', str(out), check=False)
    assert result.returncode == 2
    assert f'--out {out} is a file; give a folder' in result.stderr
    assert out.read_text() == 'kept'


@pytest.mark.long
def test_operator_flops_tool_writes_the_table_and_chart(tmp_path):
    out = tmp_path / 'new'
    run_tool(osp.join(REPO, 'tools', 'analysis', 'operator_flops.py'), '--rounds', '1',
             '--out', str(out))
    table = (out / 'operator_flops.md').read_text()
    # FLOPs are counted on the timed layers; the paper's for 10 layers at 96x56x56 are
    # Conv 2601M, GConv and PConv 162M, DWConv 27.09M (and 3.38M at 768x7x7).
    assert '| conv | 96x56x56 | 2601.1 |' in table
    assert '| pconv | 96x56x56 | 162.6 |' in table and '| gconv | 96x56x56 | 162.6 |' in table
    assert '| dwconv | 96x56x56 | 27.1 |' in table and '| dwconv | 768x7x7 | 3.4 |' in table
    assert (out / 'operator_flops.png').stat().st_size > 10_000
