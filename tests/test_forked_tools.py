"""A tool run that `run_tool` forks (tests/forked_tools.py) is the run of a new interpreter:
the same output, exit status, traceback, ``__name__``, ``sys.path[0]``, folder, stdin and
environment, and mmfasternet not imported before the script imports it."""
import os
import subprocess
import sys

import pytest

from conftest import run_tool

SCRIPT = """\
import os
import subprocess
import sys
print(__name__, sys.argv[1:], os.getcwd(), sys.path[0], repr(sys.stdin.read()))
print(os.environ.get('PYTEST_CURRENT_TEST'), os.environ.get('FORKED_TOOLS_SEEN'))
print('mmfasternet' in sys.modules)
sys.stdout.flush()
how = sys.argv[1]
if how == 'raise':
    raise ValueError('the script failed')
if how == 'message':
    sys.exit('stopped: a message')
if how == 'status':
    sys.exit(3)
if how == 'killed':
    os.kill(os.getpid(), 9)
if how == 'hangs':
    child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])
    open('pids', 'w').write(f'{os.getpid()} {child.pid}')
    child.wait()
print(os.getppid(), file=sys.stderr)
"""


def write_script(tmp_path):
    script = tmp_path / 'scripts' / 'script.py'
    script.parent.mkdir()
    script.write_text(SCRIPT)
    return script


@pytest.mark.parametrize('how', ['ends', 'raise', 'message', 'status', 'killed'])
def test_a_forked_run_is_the_run_of_a_new_interpreter(tmp_path, how):
    script = write_script(tmp_path)
    forked = run_tool(script, how, cwd=tmp_path, check=False)
    new = subprocess.run([sys.executable, str(script), how], cwd=tmp_path,
                         capture_output=True, text=True)
    assert forked.returncode == new.returncode == {'ends': 0, 'killed': -9, 'status': 3}.get(
        how, 1)
    assert forked.stdout == new.stdout
    assert f"__main__ ['{how}'] {tmp_path} {script.parent} ''" in forked.stdout
    # pytest's name of this test, not of the test running when the server started
    assert f"{os.environ['PYTEST_CURRENT_TEST']} None\nFalse\n" in forked.stdout
    if how == 'ends':  # forked from the server, not started by this process
        assert int(forked.stderr) != os.getpid() == int(new.stderr)
    else:
        assert forked.stderr == new.stderr


def test_a_run_in_another_environment_gets_a_new_interpreter(tmp_path):
    script = write_script(tmp_path)
    result = run_tool(script, 'ends', env=dict(os.environ, FORKED_TOOLS_SEEN='1'))
    assert ' 1\nFalse\n' in result.stdout
    assert int(result.stderr) == os.getpid()


def test_a_run_past_its_time_is_killed_with_the_processes_it_started(tmp_path):
    script = write_script(tmp_path)
    with pytest.raises(subprocess.TimeoutExpired):
        run_tool(script, 'hangs', cwd=tmp_path, timeout=3)
    pids = (tmp_path / 'pids').read_text().split()
    assert len(pids) == 2
    for pid in pids:  # gone, or a zombie that only its parent's end reaps
        stat = f'/proc/{pid}/stat'
        assert not os.path.exists(stat) or open(stat).read().split()[2] == 'Z', pid
