"""The operators of the paper's Tab. 1 (benchmarks/lab/operators.py) and
``python -m benchmarks.operator_flops`` on tiny settings (no timing is asserted)."""
import pytest

from benchmarks.lab.operators import operator_stack, operator_table
from conftest import run_tool
from mmfasternet.analysis import count_model


def test_a_stack_has_the_paper_s_multiply_adds_and_an_unknown_kind_is_refused():
    import torch
    x = torch.randn(1, 96, 56, 56)
    macs = {kind: count_model(operator_stack(kind, 96), (x, ))['gflops'] * 1e3
            for kind in ('conv', 'pconv')}
    # The paper's Tab. 1 for 10 layers at 96x56x56: Conv 2601M, PConv 162M (1/16 of it).
    assert macs == dict(conv=pytest.approx(2601.1, abs=0.1), pconv=pytest.approx(162.6, abs=0.1))
    with pytest.raises(ValueError, match=r"kind must be one of \('conv', 'gconv', 'dwconv', "
                       r"'pconv'\), got 'sepconv'"):
        operator_stack('sepconv', 96)


def test_the_table_gives_each_kind_s_rows_then_its_average_rate():
    cells = {kind: [[kind, '96x56x56', '1.0', '1.00', '10.0'],
                    [kind, '768x7x7', '1.0', '1.00', '20.0']]
             for kind in ('conv', 'gconv', 'dwconv', 'pconv')}
    rates = {kind: [10.0, 20.0 + k] for k, kind in enumerate(cells)}
    lines = operator_table(cells, rates)
    assert lines[:5] == ['| operator | feature map | FLOPs (M) | latency (ms) | FLOPS (G/s) |',
                         '|---|---|---|---|---|', '| conv | 96x56x56 | 1.0 | 1.00 | 10.0 |',
                         '| conv | 768x7x7 | 1.0 | 1.00 | 20.0 |',
                         '| conv | average |  |  | 15.0 |']
    assert lines[-1] == '| pconv | average |  |  | 16.5 |' and len(lines) == 2 + 4 * 3


@pytest.mark.long
def test_operator_flops_writes_the_table_and_chart(tmp_path):
    out = tmp_path / 'new'
    run_tool('-m', 'benchmarks.operator_flops', '--rounds', '1', '--out', str(out))
    table = (out / 'operator_flops.md').read_text()
    assert table.startswith('# Operator FLOPS (paper Tab. 1) on this machine\n\n'
                            f'`python -m benchmarks.operator_flops --rounds 1 --out {out}`\n')
    # FLOPs are counted on the timed layers; the paper's for 10 layers at 96x56x56 are
    # Conv 2601M, GConv and PConv 162M, DWConv 27.09M (and 3.38M at 768x7x7).
    assert '| conv | 96x56x56 | 2601.1 |' in table
    assert '| pconv | 96x56x56 | 162.6 |' in table and '| gconv | 96x56x56 | 162.6 |' in table
    assert '| dwconv | 96x56x56 | 27.1 |' in table and '| dwconv | 768x7x7 | 3.4 |' in table
    assert table.endswith('\n\n![operator FLOPS](operator_flops.png)\n')
    assert (out / 'operator_flops.png').stat().st_size > 10_000
