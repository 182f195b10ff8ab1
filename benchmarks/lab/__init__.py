"""What the benchmarks share, on mmfasternet's public API: the models they time
(:mod:`.latency`, :mod:`.peers`), how they time them on the CPU (:mod:`.latency`,
:mod:`.low_precision`) and the GPU (:mod:`.throughput`, :mod:`.kernel_profile`), the paper's
numbers (:mod:`.paper`), the latency-accuracy front (:mod:`.front`), the kernel floor
(:mod:`.kernel_floor`), the operators of the paper's Tab. 1 (:mod:`.operators`) and
detectors in the runtimes (:mod:`.detector_latency`)."""
