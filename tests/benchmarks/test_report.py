"""How the benchmarks write what they measured (benchmarks/lab/report.py): the command line,
the header, markdown tables and the result files."""
import json
import sys

import pytest

from benchmarks.lab.report import command, header, markdown_table, write_results


def test_a_table_right_aligns_its_last_columns_and_str_s_its_cells():
    assert markdown_table(['model', 'ms', 'GMACs'], [['t0', 1.5, 0.34], ['s', 10, 4.56]],
                          right=2) == ['| model | ms | GMACs |', '|---|---:|---:|',
                                       '| t0 | 1.5 | 0.34 |', '| s | 10 | 4.56 |']
    assert markdown_table(['a', 'b'], []) == ['| a | b |', '|---|---|']


def test_a_row_of_another_length_than_the_header_is_refused():
    with pytest.raises(ValueError, match=r"every row must have the header's 2 cells, got \[1, 3\]"):
        markdown_table(['a', 'b'], [[1], [1, 2, 3]])


def test_the_command_is_the_module_run_with_this_process_s_arguments(monkeypatch):
    monkeypatch.setattr(sys, 'argv', ['benchmark.py', '--out', 'a folder', '--paths'])
    assert command('benchmarks.benchmark') == (
        "python -m benchmarks.benchmark --out 'a folder' --paths")
    assert command('benchmarks.kernel_floor', ['--rounds', '1']) == (
        'python -m benchmarks.kernel_floor --rounds 1')
    lines = header('CPU benchmark', 'benchmarks.benchmark', 'First note.', 'Second note.')
    assert lines[:3] == ['# CPU benchmark', '', "`python -m benchmarks.benchmark --out 'a folder' "
                         "--paths`"]
    assert lines[4].startswith('CPU: ') and ' cores; int8/bf16 instructions: ' in lines[4]
    assert lines[5:] == ['', 'First note.', '', 'Second note.', '']


def test_results_are_the_markdown_with_one_final_newline_and_the_json_record(tmp_path, capsys):
    markdown, record = tmp_path / 'results.md', tmp_path / 'results.json'
    write_results(['# Title', '', '| a |', ''], str(markdown), dict(rows=[1, 2]), str(record))
    assert markdown.read_text() == '# Title\n\n| a |\n'
    assert json.loads(record.read_text()) == dict(rows=[1, 2])
    assert capsys.readouterr().out == f'wrote {markdown} and {record}\n'
    write_results(['only markdown'], str(tmp_path / 'other.md'))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'other.md', 'results.json', 'results.md']
