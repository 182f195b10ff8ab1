"""The raw predictions of ``tools/test.py --out``, written whole or not at all."""
import os
import os.path as osp

from mmengine.evaluator import DumpResults
from mmengine.fileio import dump
from mmengine.logging import print_log

from mmfasternet.fileio import write_bytes_atomically


class AtomicDumpResults(DumpResults):
    """:class:`mmengine.evaluator.DumpResults` that pickles the predictions in memory and
    writes the file in one step (:func:`~mmfasternet.fileio.write_bytes_atomically`): a
    full disk is a :class:`~mmfasternet.fileio.NoSpaceLeft` and leaves the previous file
    as it was."""

    def compute_metrics(self, results: list) -> dict:
        os.makedirs(osp.dirname(osp.abspath(self.out_file_path)), exist_ok=True)
        write_bytes_atomically(dump(results, file_format='pkl'), self.out_file_path)
        print_log(f'Results has been saved to {self.out_file_path}.', logger='current')
        return {}
