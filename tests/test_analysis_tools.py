"""The analysis tools run end to end on tiny settings (no timing is asserted)."""
import os.path as osp

from conftest import REPO, run_tool


def test_get_flops_counts_a_fused_classifier():
    result = run_tool(osp.join(REPO, 'tools', 'analysis', 'get_flops.py'),
                      'configs/fasternet_t0_in1k.py', '--shape', '224', '224', '--fuse-conv-bn')
    assert '| configs/fasternet_t0_in1k.py | 224x224 | 3.901 | 0.335 |' in result.stdout


def test_benchmark_writes_a_table_and_a_plot(tmp_path):
    run_tool(osp.join(REPO, 'tools', 'analysis', 'benchmark.py'), '--models', 'fasternet_t0',
             'mobilenet-v2_8xb32_in1k', '--rounds', '1', '--throughput-batch', '2',
             '--out', str(tmp_path))
    table = (tmp_path / 'benchmarks.md').read_text()
    assert '| PyTorch (ms) | GMAC/s | ONNX Runtime (ms) | GMAC/s |' in table
    assert '| batch-2 img/s |' in table
    assert '| fasternet_t0 | 3.9 | 0.34 |' in table
    assert '| mobilenet-v2_8xb32_in1k | 3.5 |' in table
    assert 'nan' not in table
    assert (tmp_path / 'latency_vs_accuracy.png').stat().st_size > 10_000


def test_operator_flops_tool_writes_the_table_and_chart(tmp_path):
    run_tool(osp.join(REPO, 'tools', 'analysis', 'operator_flops.py'), '--rounds', '1',
             '--out', str(tmp_path))
    table = (tmp_path / 'operator_flops.md').read_text()
    # The paper's FLOPs for 10 layers at 96x56x56: Conv 2601M, GConv and PConv 162M.
    assert '| conv | 96x56x56 | 2601.1 |' in table
    assert '| pconv | 96x56x56 | 162.6 |' in table and '| gconv | 96x56x56 | 162.6 |' in table
    assert '| dwconv | 768x7x7 | 3.4 |' in table
    assert (tmp_path / 'operator_flops.png').stat().st_size > 10_000
