"""``python -m benchmarks.benchmark`` (benchmarks/lab/cpu_benchmark.py): the matmul beside
the models, and runs of the benchmark on tiny settings (no timing is asserted)."""
import pytest

from benchmarks.lab.cpu_benchmark import matmul_rates, with_matmuls
from conftest import run_tool


@pytest.mark.deploy
def test_the_matmul_of_both_backends_is_timed_after_the_models_and_gives_their_rates():
    calls = with_matmuls({('fasternet_t0', 'folded'): (None, None)}, threads=1)
    assert list(calls) == [('fasternet_t0', 'folded'), ('matmul', 'pytorch'),
                           ('matmul', 'onnxruntime')]
    assert calls['matmul', 'pytorch'][1].shape == (1024, 1024)
    # 1024**3 multiply-adds in 10 ms and in 20 ms.
    assert matmul_rates({('matmul', 'pytorch'): 10.0, ('matmul', 'onnxruntime'): 20.0}) == \
        dict(pytorch=pytest.approx(107.374, abs=1e-3), onnxruntime=pytest.approx(53.687, abs=1e-3))


@pytest.mark.long
def test_the_benchmark_writes_a_table_and_a_plot_into_a_new_folder(tmp_path):
    out = tmp_path / 'not' / 'yet'
    run_tool('-m', 'benchmarks.benchmark', '--models', 'fasternet_t0', 'mobilenet-v2_8xb32_in1k',
             '--rounds', '1', '--throughput-batch', '2', '--out', str(out))
    assert sorted(p.name for p in out.iterdir()) == ['benchmarks.md', 'latency_vs_accuracy.png']
    table = (out / 'benchmarks.md').read_text()
    assert table.startswith('# CPU benchmark\n\n`python -m benchmarks.benchmark --models '
                            'fasternet_t0 mobilenet-v2_8xb32_in1k --rounds 1 ')
    assert '| PyTorch (ms) | GMAC/s | ONNX Runtime (ms) | GMAC/s |' in table
    assert '| batch-2 img/s |' in table
    assert '| fasternet_t0 | 3.9 | 0.34 |' in table
    assert '| mobilenet-v2_8xb32_in1k | 3.5 |' in table
    assert table.endswith('\n\n![latency vs accuracy](latency_vs_accuracy.png)\n')
    assert 'nan' not in table
    assert (out / 'latency_vs_accuracy.png').stat().st_size > 10_000


def test_the_benchmark_refuses_an_unknown_model_before_measuring_and_lists_the_names(tmp_path):
    result = run_tool('-m', 'benchmarks.benchmark', '--models', 'fasternet_t0', 'resnet_5O',
                      '--out', str(tmp_path / 'out'), check=False)
    assert result.returncode == 2
    assert "argument --models: invalid choice: 'resnet_5O' (choose from 'fasternet_t0'," \
        in result.stderr
    assert 'Traceback' not in result.stderr and not (tmp_path / 'out').exists()


def test_the_benchmark_refuses_an_out_path_that_is_a_file(tmp_path):
    out = tmp_path / 'benchmarks.md'
    out.write_text('kept')
    result = run_tool('-m', 'benchmarks.benchmark', '--models', 'fasternet_t0', '--out',
                      str(out), check=False)
    assert result.returncode == 2
    assert f'--out {out} is a file; give a folder' in result.stderr
    assert out.read_text() == 'kept'
