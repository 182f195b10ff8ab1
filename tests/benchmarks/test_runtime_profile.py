"""The tables of the deploy path's profile (benchmarks/lab/runtime_profile.py,
``python -m benchmarks.profile_runtimes``)."""
import pytest

from benchmarks.lab.runtime_profile import conv_share, kinds_table, summary_table

# ms and G multiply-adds per run of each kind of operator.
KINDS = {'Conv 3x3': (3.0, 0.6), 'Concat': (1.0, 0.0), 'Gemm': (1.0, 0.2)}


def test_the_convs_share_and_rate_count_the_kinds_with_multiply_adds():
    share, rate = conv_share(KINDS)
    assert share == pytest.approx(0.8) and rate == pytest.approx(200.0)  # 0.8 G in 4 ms


def test_the_tables_give_the_totals_and_each_kind_slowest_first():
    assert summary_table(['t0'], [('openvino', 'int8')], {('t0', 'openvino', 'int8'): KINDS}) \
        == ['| runtime | precision | t0 |', '|---|---|---|',
            '| openvino | int8 | 5.00 ms, convs 80% at 200 GMAC/s |']
    assert kinds_table('openvino int8', KINDS) == [
        '', '### openvino int8: 5.00 ms', '', '| operator | ms | share | GMACs | GMAC/s |',
        '|---|---|---|---|---|', '| Conv 3x3 | 3.000 | 60.0% | 0.600 | 200.0 |',
        '| Concat | 1.000 | 20.0% | 0.000 |  |', '| Gemm | 1.000 | 20.0% | 0.200 | 200.0 |']
