"""The kernel floor (benchmarks/lab/kernel_floor.py): every conv of a model at its own shape
as chains of plain convs, its tables, and ``python -m benchmarks.kernel_floor`` end to end
(no timing is asserted)."""
import json

import numpy as np
import pytest
import torch

from benchmarks.lab.kernel_floor import (ConvShape, conv_shapes, floor_chains, floor_feeds,
                                         floor_onnx, floor_table, profile_lines)
from benchmarks.lab.latency import build_classifier
from conftest import run_tool
from mmfasternet.analysis import count_model
from mmfasternet.deploy import switch_to_deploy


def test_the_kernel_floor_holds_every_conv_of_fasternet_and_no_other_operator():
    import onnxruntime as ort
    model = switch_to_deploy(build_classifier('fasternet_t0'))
    x = torch.randn(1, 3, 224, 224)
    convs = conv_shapes(model, x)
    assert sum(conv.macs for conv in convs) / 1e9 == pytest.approx(
        count_model(model, (x, ))['gflops'], rel=1e-3)
    main, sides = floor_chains(convs, (3, 224, 224))
    depths = model.model.backbone.depths
    # One side chain of PConv 3x3 convs per stage, as deep as the stage.
    assert [len(chain) for chain in sides.values()] == list(depths)
    assert all(conv.kernel == (3, 3) for chain in sides.values() for conv in chain)
    assert main.count('pool') == 1 and len(main) == 1 + len(convs) - sum(depths)
    proto = floor_onnx(convs)
    assert {node.op_type for node in proto.graph.node} == {'Conv', 'Relu', 'GlobalAveragePool'}
    outputs = ort.InferenceSession(proto.SerializeToString()).run(None, floor_feeds(proto, 2))
    assert outputs[0].shape == (2, 1000, 1, 1)
    assert all(np.isfinite(out).all() and 0.1 < np.abs(out).mean() < 10 for out in outputs)


def test_a_conv_that_no_chain_can_hold_is_refused():
    odd = ConvShape(8, 4, (3, 3), (1, 1), (1, 1), 1, 16, 16)  # not the main chain's, shrinks
    with pytest.raises(ValueError, match='no chain of plain convs holds'):
        floor_chains([ConvShape(3, 16, (1, 1), (1, 1), (0, 0), 1, 16, 16), odd], (3, 16, 16))


def test_the_floor_table_gives_each_model_s_multiple_of_its_floor():
    latency = {('fasternet_t0', 'openvino', 'int8', 1): 3.0,
               ('fasternet_t0 floor', 'openvino', 'int8', 1): 1.5,
               ('fasternet_t0', 'openvino', 'int8', 2): 2.0,
               ('fasternet_t0 floor', 'openvino', 'int8', 2): 1.6}
    assert floor_table(['fasternet_t0'], [('openvino', 'int8')], [1, 2], latency) == [
        '| runtime | precision | threads | fasternet_t0 ms | floor ms | multiple |',
        '|---|---|---|---|---|---|',
        '| openvino | int8 | 1 | 3.00 | 1.50 | 2.00 |',
        '| openvino | int8 | 2 | 2.00 | 1.60 | 1.25 |']


def test_the_profile_sums_the_kinds_under_2_percent_of_both_totals():
    model = {'Conv 3x3': (1.0, 0.2), 'Concat': (0.5, 0.0), 'Add': (0.01, 0.0)}
    floor = {'Conv 3x3': (0.9, 0.2), 'Relu': (0.01, 0.0)}
    assert profile_lines(model, floor)[2:] == [
        '| Conv 3x3 | 1.000 | 0.900 |', '| Concat | 0.500 | 0.000 |',
        '| the rest | 0.010 | 0.010 |', '| **total** | **1.510** | **0.910** |']


@pytest.mark.deploy
@pytest.mark.long
def test_the_kernel_floor_benchmark_writes_its_table_profiles_and_record(tmp_path):
    run_tool('-m', 'benchmarks.kernel_floor', '--models', 'fasternet_t0', '--rows',
             'onnxruntime:fp32', '--rounds', '1', '--profile-runs', '1',
             '--calibration-images', '2', '--out', str(tmp_path))
    lines = (tmp_path / 'kernel_floor.md').read_text().splitlines()
    assert lines[:3] == ['# FasterNet against its kernel floor', '',
                         f'`python -m benchmarks.kernel_floor --models fasternet_t0 --rows '
                         f'onnxruntime:fp32 --rounds 1 --profile-runs 1 --calibration-images 2 '
                         f'--out {tmp_path}`']
    row = next(line for line in lines if line.startswith('| onnxruntime | fp32 | 1 |'))
    ms, floor, multiple = (float(cell) for cell in row.strip('|').split('|')[3:6])
    assert multiple == pytest.approx(ms / floor, abs=0.01)
    assert '### fasternet_t0, onnxruntime fp32' in lines
    record = json.loads((tmp_path / 'kernel_floor.json').read_text())
    assert sorted((r['model'], r['threads']) for r in record['rows'] if r['threads'] == 1) == [
        ('fasternet_t0', 1), ('fasternet_t0 floor', 1)]
    assert next(r['median_ms'] for r in record['rows']
                if (r['model'], r['threads']) == ('fasternet_t0', 1)) == pytest.approx(ms, abs=0.01)
