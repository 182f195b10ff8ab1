"""The low-precision benchmark's throughput rows: batch calls in every runtime, keyed by batch
and threads, and their record (a smoke test on a tiny backbone; no timing is asserted)."""
import numpy as np
import pytest
import torch

from conftest import randomize_norms
from mmfasternet import FasterNet
from mmfasternet.analysis.latency import interleaved_latency_ms
from mmfasternet.analysis.low_precision import batch_calls, benchmark_record
from mmfasternet.deploy import RUNTIMES, export_onnx

pytestmark = pytest.mark.deploy


def test_batch_calls_run_a_batch_in_every_runtime_and_make_throughput_rows(tmp_path):
    torch.manual_seed(0)
    model = randomize_norms(FasterNet(dict(embed_dims=16, depths=[1, 1, 1, 1]))).eval()
    path = str(tmp_path / 'tiny.onnx')
    export_onnx(model, path, shape=(1, 3, 64, 64))  # a dynamic batch axis
    rows = [(name, 'fp32') for name in sorted(RUNTIMES)]
    feeds = dict(image=np.random.default_rng(0).standard_normal((4, 3, 64, 64), np.float32))
    calls = batch_calls(dict(tiny=(path, {})), feeds, 1, rows)
    assert sorted(calls) == [('tiny', name, 'fp32', 4, 1) for name in sorted(RUNTIMES)]
    for fn, x in calls.values():
        assert fn(x)[-1].shape[0] == 4
    ms = interleaved_latency_ms(calls, rounds=1, per_round=1, warmup=0)
    record = benchmark_record({}, 1, ms)
    assert [(row['runtime'], row['batch'], row['threads']) for row in record['rows']] == [
        (name, 4, 1) for name in sorted(RUNTIMES)]
    for row in record['rows']:
        assert row['images_per_s'] == pytest.approx(4e3 / row['median_ms'], rel=1e-2)
