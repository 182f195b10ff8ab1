"""Today's peers and the latency-accuracy front: the cited data file, the front's verdicts,
the kernel floor, the settling of each call in a round-robin, and smoke runs of the tools
(one peer; no timing is asserted)."""
import json
import os
import os.path as osp
import time

import numpy as np
import pytest
import torch

from benchmarks.lab.front import beaten_by, front_verdicts, on_front
from benchmarks.lab.kernel_floor import (ConvShape, conv_shapes, floor_chains, floor_feeds,
                                         floor_onnx)
from benchmarks.lab.latency import build_classifier, round_robin_seconds
from benchmarks.lab.paper import paper_column
from benchmarks.lab.peers import cited_top1, like_for_like, peers_file, tiers
from conftest import REPO, run_tool
from mmfasternet.analysis import count_model
from mmfasternet.deploy import switch_to_deploy

TOOLS = osp.join(REPO, 'tools', 'analysis')


def test_every_model_of_every_tier_has_a_cited_top1_with_its_source_and_training():
    fasternets = paper_column('imagenet', 'top1')
    for tier, names in tiers().items():
        assert names[0].startswith('fasternet_') and names[0] in fasternets, tier
        for name in names:
            cited = cited_top1(name)
            assert 60 < cited['top1'] < 90, name
            assert cited['source'] and cited['name'], name
            assert isinstance(cited['distilled'], bool), name
            assert cited['extra_data'] is False or isinstance(cited['extra_data'], str), name
            assert cited['epochs'] is None or cited['epochs'] >= 90, name
    listed = {n for names in tiers().values() for n in names if not n.startswith('fasternet_')}
    assert listed == set(peers_file()['peers'])  # no peer without a tier, none uncited
    assert not like_for_like('repvit_m1_0') and like_for_like('fasternet_t0')


def test_a_peer_is_built_from_timm_re_parameterised_and_folds_exactly():
    torch.manual_seed(0)
    model = build_classifier('mobileone_s0')
    names = [name for name, _ in model.named_modules()]
    assert any(n.endswith('reparam_conv') for n in names)  # MobileOne's branches merged
    assert not any(n.endswith('conv_kxk') or n.endswith('conv_scale') for n in names)
    x = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        expected = model(x)
        got = switch_to_deploy(model)(x)
    assert got.shape == (2, 1000)
    assert ((got - expected).abs().max() / expected.abs().max()).item() < 1e-5


def test_a_fasternet_is_beaten_only_by_a_peer_both_faster_and_as_accurate():
    ms = dict(fasternet_t0=3.0, lcnet_100=2.0, mobilenetv2_100=4.0, repvit_m1_0=1.0,
              mobileone_s0=2.5)
    top1 = {name: cited_top1(name)['top1'] for name in ms}  # 71.9 / 71.32 / 72.0 / 80.0 / 71.4
    assert beaten_by('fasternet_t0', ms, top1) == ['repvit_m1_0']
    assert on_front(ms, top1) == ['repvit_m1_0']
    verdict = front_verdicts(ms, top1)['fasternet_t0']
    assert verdict.startswith('beaten by RepViT-M1.0*')  # distilled: marked as such
    ms['mobilenetv2_100'] = 2.9  # now a like-for-like peer beats it too: named first, alone
    assert front_verdicts(ms, top1)['fasternet_t0'] == 'beaten by MobileNetV2 (2.9 ms, 72.0%)'
    ms.update(repvit_m1_0=9.0, mobilenetv2_100=9.0)
    assert front_verdicts(ms, top1)['fasternet_t0'] == 'on the front'


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


def test_each_turn_settles_for_settle_s_before_its_timed_runs():
    stamps = {}

    def timer(fn, x):
        stamps.setdefault(x, []).append(('timed', time.perf_counter()))
        fn(x)
        return 0.0

    def call(name):
        return lambda x: stamps.setdefault(x, []).append(('run', time.perf_counter())), name

    round_robin_seconds(dict(a=call('a'), b=call('b')), rounds=2, warmup=0, timer=timer,
                        settle_s=0.02)
    for events in stamps.values():
        # Each turn: untimed runs from its start for 20 ms at least, then one timed run.
        turns = [i for i, (kind, _) in enumerate(events) if kind == 'timed']
        starts = [0] + [i + 2 for i in turns[:-1]]  # a timed run is the timer's stamp + run
        for start, timed in zip(starts, turns):
            assert events[timed][1] - events[start][1] >= 0.02


@pytest.mark.deploy
def test_peer_benchmark_and_kernel_floor_tools_write_their_tables(tmp_path):
    run_tool(osp.join(TOOLS, 'benchmark_peers.py'), '--models', 'fasternet_t0', 'lcnet_100',
             '--rows', 'onnxruntime:fp32', 'openvino:int8', '--rounds', '1', '--batch', '2',
             '--batch-rounds', '1', '--calibration-images', '2', '--out', str(tmp_path))
    record = json.loads((tmp_path / 'peers.json').read_text())
    assert sorted({(r['model'], r['runtime'], r['precision'], r['batch']) for r in record['rows']}
                  ) == sorted((m, *row, b) for m in ('fasternet_t0', 'lcnet_100')
                              for row in (('onnxruntime', 'fp32'), ('openvino', 'int8'))
                              for b in (1, 2))
    assert record['cpu'] and record['models']['lcnet_100']['top1'] == 71.32
    table = (tmp_path / 'peers.md').read_text()
    assert '| T0 | PP-LCNet-1.0^ |' in table and 'Where each FasterNet stands' in table
    every_core = [f'peers_latency_{os.cpu_count()}_threads.png'] if os.cpu_count() > 1 else []
    assert sorted(p.name for p in tmp_path.glob('*.png')) == sorted(
        ['peers_latency_1_thread.png', *every_core, 'peers_throughput_batch_2.png'])

    run_tool(osp.join(TOOLS, 'kernel_floor.py'), '--models', 'fasternet_t0', '--rows',
             'onnxruntime:fp32', '--rounds', '1', '--profile-runs', '1',
             '--calibration-images', '2', '--out', str(tmp_path))
    lines = (tmp_path / 'kernel_floor.md').read_text().splitlines()
    row = next(line for line in lines if line.startswith('| onnxruntime | fp32 | 1 |'))
    ms, floor, multiple = (float(cell) for cell in row.strip('|').split('|')[3:6])
    assert multiple == pytest.approx(ms / floor, abs=0.01)
    assert '### fasternet_t0, onnxruntime fp32' in lines


def test_peer_benchmark_without_a_fasternet_stops_before_any_work(tmp_path):
    out = tmp_path / 'peers'
    result = run_tool(osp.join(TOOLS, 'benchmark_peers.py'), '--tiers', 'T0', '--models',
                      'lcnet_100', 'fasternet_s', '--out', str(out), check=False)
    assert result.returncode == 2
    assert 'no FasterNet among the models of --tiers T0 and --models' in result.stderr
    assert 'give at least one FasterNet' in result.stderr
    assert not out.exists()  # nothing written
