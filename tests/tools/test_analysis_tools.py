"""The analysis tools run end to end (the benchmarks' tests are in tests/benchmarks/)."""
import os.path as osp

from conftest import REPO, run_tool


def test_get_flops_counts_a_fused_classifier():
    result = run_tool(osp.join(REPO, 'tools', 'analysis', 'get_flops.py'),
                      'configs/fasternet_t0_in1k.py', '--shape', '224', '224', '--fuse-conv-bn')
    assert '| configs/fasternet_t0_in1k.py | 224x224 | 3.901 | 0.335 |' in result.stdout
