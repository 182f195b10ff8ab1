"""What the benchmarks share, on mmfasternet's public API: how results are written
(:mod:`.report`), the models they time (:mod:`.latency`, :mod:`.peers`), how they time them
on the CPU (:mod:`.latency`, :mod:`.low_precision`) and the GPU (:mod:`.throughput`,
:mod:`.kernel_profile`), the paper's numbers (:mod:`.paper`), the latency-accuracy front
(:mod:`.front`), the kernel floor (:mod:`.kernel_floor`), the operators of the paper's Tab. 1
(:mod:`.operators`), detectors in the runtimes (:mod:`.detector_latency`); and each script's
body: :mod:`.cpu_benchmark`, :mod:`.peer_benchmark`, :mod:`.runtime_profile`,
:mod:`.data_check`, :mod:`.gpu_report`, :mod:`.swap_zoo`."""
