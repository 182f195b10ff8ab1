"""Today's peers (benchmarks/peers.yml, benchmarks/lab/peers.py) and their benchmark
(benchmarks/lab/peer_benchmark.py, ``python -m benchmarks.benchmark_peers``): the cited data
file, the peers built from timm, the benchmark's measures and tables, and a run of it on one
peer (no timing is asserted)."""
import json
import os

import pytest
import torch

from benchmarks.lab.latency import build_classifier
from benchmarks.lab.paper import paper_column
from benchmarks.lab.peer_benchmark import Measure, measures, speed_table, verdict_table
from benchmarks.lab.peers import cited_top1, like_for_like, peers_file, tiers
from conftest import run_tool
from mmfasternet.deploy import switch_to_deploy

SIZES = dict(fasternet_t0=dict(params_m=3.9, gflops=0.34),
             lcnet_100=dict(params_m=3.0, gflops=0.16))


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


def test_the_measures_are_batch_1_on_one_and_every_core_and_a_batch_on_every_core(
        monkeypatch):
    monkeypatch.setattr(os, 'cpu_count', lambda: 4)
    assert measures(32) == [Measure('batch 1, 1 thread', 'latency_1_thread', 1, 1),
                            Measure('batch 1, 4 threads', 'latency_4_threads', 1, 4),
                            Measure('batch 32, 4 threads', 'throughput_batch_32', 32, 4)]
    monkeypatch.setattr(os, 'cpu_count', lambda: 1)
    assert measures(0) == [Measure('batch 1, 1 thread', 'latency_1_thread', 1, 1)]


def test_the_speed_table_gives_ms_at_batch_1_with_the_best_rate_and_images_per_s_at_a_batch():
    rows = [('onnxruntime', 'fp32'), ('openvino', 'int8')]
    per_image = {rows[0]: dict(fasternet_t0=4.0, lcnet_100=1.0),
                 rows[1]: dict(fasternet_t0=2.0, lcnet_100=2.0)}
    names = ['lcnet_100', 'fasternet_t0']  # in the tiers' order whatever the order given
    assert speed_table(names, rows, per_image, 1, SIZES) == [
        '| tier | model | top-1 | onnxruntime fp32 (ms) | openvino int8 (ms) | best GMAC/s |',
        '|---|---|---|---|---|---|',
        '| T0 | FasterNet-T0 | 71.9 | 4.00 | 2.00 | 170.0 |',
        '| T0 | PP-LCNet-1.0^ | 71.32 | 1.00 | 2.00 | 160.0 |']
    assert speed_table(names, rows, per_image, 32, SIZES)[2:] == [
        '| T0 | FasterNet-T0 | 71.9 | 250.0 | 500.0 |',
        '| T0 | PP-LCNet-1.0^ | 71.32 | 1000.0 | 500.0 |']


def test_the_verdict_table_places_each_fasternet_in_each_row():
    rows = [('onnxruntime', 'fp32'), ('openvino', 'int8')]
    per_image = {rows[0]: dict(fasternet_t0=2.0, mobilenetv2_100=1.0),
                 rows[1]: dict(fasternet_t0=1.0, mobilenetv2_100=2.0)}
    top1 = dict(fasternet_t0=71.9, mobilenetv2_100=72.0)
    assert verdict_table(rows, per_image, top1) == [
        '| runtime | precision | FasterNet-T0 |', '|---|---|---|',
        '| onnxruntime | fp32 | beaten by MobileNetV2 (1 ms, 72.0%) |',
        '| openvino | int8 | on the front |']


@pytest.mark.deploy
@pytest.mark.long
def test_the_peer_benchmark_writes_its_tables_plots_and_record(tmp_path):
    run_tool('-m', 'benchmarks.benchmark_peers', '--models', 'fasternet_t0', 'lcnet_100',
             '--rows', 'onnxruntime:fp32', 'openvino:int8', '--rounds', '1', '--batch', '2',
             '--batch-rounds', '1', '--calibration-images', '2', '--out', str(tmp_path))
    record = json.loads((tmp_path / 'peers.json').read_text())
    assert sorted({(r['model'], r['runtime'], r['precision'], r['batch']) for r in record['rows']}
                  ) == sorted((m, *row, b) for m in ('fasternet_t0', 'lcnet_100')
                              for row in (('onnxruntime', 'fp32'), ('openvino', 'int8'))
                              for b in (1, 2))
    assert record['cpu'] and record['models']['lcnet_100'] == dict(
        params_m=pytest.approx(2.95, abs=0.05), gmacs=pytest.approx(0.16, abs=0.01), top1=71.32,
        flags='^')
    table = (tmp_path / 'peers.md').read_text()
    assert table.startswith("# FasterNet among today's efficient networks\n\n"
                            '`python -m benchmarks.benchmark_peers --models fasternet_t0 ')
    assert '| T0 | PP-LCNet-1.0^ |' in table and 'Where each FasterNet stands' in table
    every_core = [f'peers_latency_{os.cpu_count()}_threads.png'] if os.cpu_count() > 1 else []
    assert sorted(p.name for p in tmp_path.glob('*.png')) == sorted(
        ['peers_latency_1_thread.png', *every_core, 'peers_throughput_batch_2.png'])


def test_the_peer_benchmark_without_a_fasternet_stops_before_any_work(tmp_path):
    out = tmp_path / 'peers'
    result = run_tool('-m', 'benchmarks.benchmark_peers', '--tiers', 'T0', '--models',
                      'lcnet_100', 'fasternet_s', '--out', str(out), check=False)
    assert result.returncode == 2
    assert 'no FasterNet among the models of --tiers T0 and --models lcnet_100 fasternet_s: ' \
        'give at least one FasterNet to place among its peers' in result.stderr
    assert not out.exists()  # nothing written
