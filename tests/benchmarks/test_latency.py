"""Round-robin timing (benchmarks/lab/latency.py): every call warmed up, settled at the start
of its turn, then timed in turn with the others."""
import time

from benchmarks.lab.latency import interleaved_latency_ms, round_robin_seconds


def test_round_robin_settles_each_call_before_timing_it():
    runs = []
    calls = {name: (runs.append, name) for name in ('a', 'b')}
    timed = []

    def timer(fn, x):
        timed.append(x)
        fn(x)
        return 0.0

    seconds = round_robin_seconds(calls, rounds=2, per_round=1, warmup=1, timer=timer,
                                  settle=2)
    assert seconds == {'a': [0.0, 0.0], 'b': [0.0, 0.0]}
    assert runs == ['a', 'b'] + ['a', 'a', 'a', 'b', 'b', 'b'] * 2
    assert timed == ['a', 'b', 'a', 'b']


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
        assert len(turns) == 2
        starts = [0] + [i + 2 for i in turns[:-1]]  # a timed run is the timer's stamp + run
        for start, timed in zip(starts, turns):
            assert events[timed][1] - events[start][1] >= 0.02


def test_the_latency_of_a_call_is_the_median_of_its_timed_runs_in_ms():
    naps = iter([0.004, 0.030, 0.006])  # the median: 6 ms, whatever the slow run

    def nap(_):
        time.sleep(next(naps))

    ms = interleaved_latency_ms(dict(nap=(nap, None)), rounds=3, per_round=1, warmup=0)
    assert list(ms) == ['nap'] and 6 <= ms['nap'] < 25
