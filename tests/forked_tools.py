"""Start ``python SCRIPT ARGS`` as a process forked from one that has imported torch,
mmengine, mmcv and the task libraries already: a tool's run then starts in milliseconds,
not after the 4-7 s of imports that a new interpreter spends (docs/ci.md#tool-runs).

Each run is a process of its own, forked from the same server that has run nothing, so
nothing one run does reaches the next. The run is what ``python SCRIPT ARGS`` does: the
script as ``__main__``, its folder first on ``sys.path``, in the given folder, stdin empty,
stdout and stderr to files, the exit status as Python gives it (a traceback and 1 for an
exception, minus the signal's number when killed), and the environment it is given. Only a
run whose environment differs from the server's in more than pytest's PYTEST_CURRENT_TEST
needs a new interpreter (:meth:`ForkServer.serves`): the libraries read some variables when
imported. mmfasternet itself is never imported before the fork: the tools import it, and
register its modules, as in a new interpreter."""
import json
import os
import runpy
import select
import signal
import subprocess
import sys
import tempfile

# What the tools import, and what mmengine's registries import in them for the scopes of
# their configs (mmdet's, mmseg's and mmpretrain's `register_all_modules`).
PRELOAD = ('torch', 'torchvision', 'cv2', 'matplotlib.pyplot', 'mmengine.runner', 'mmcv.ops',
           'mmcv.transforms', 'pycocotools.coco', 'onnx',
           *(f'{library}.{part}' for library in ('mmdet', 'mmseg', 'mmpretrain')
             for part in ('datasets', 'engine', 'evaluation', 'models', 'visualization')))
# What pytest sets to the name of the test running, and no library reads.
PYTEST_TEST = 'PYTEST_CURRENT_TEST'


def _serve() -> None:
    """The server: preload, then for each request (a JSON line on stdin) fork a run, wait
    for it, killing it and the processes it started once its time is up, and write its exit
    status and whether it timed out."""
    for name in PRELOAD:
        try:
            __import__(name)
        except Exception:  # not installed here: the tool's own import says so
            pass
    requests, replies = sys.stdin.buffer, sys.stdout
    replies.write('ready\n')
    replies.flush()
    for line in requests:
        request = json.loads(line)
        timeout = request.pop('timeout')
        pid = os.fork()
        if pid == 0:
            _run(**request)
        ended = os.pidfd_open(pid)
        timed_out = not select.select([ended], [], [], timeout)[0]
        if timed_out:
            os.killpg(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        os.close(ended)
        replies.write(json.dumps([os.waitstatus_to_exitcode(status), timed_out]) + '\n')
        replies.flush()


def _run(args: list, cwd: str, env: dict, stdout: str, stderr: str) -> None:
    """In the fork: become ``python ARGS`` and exit as it would."""
    os.setpgid(0, 0)  # a timeout kills the run and the processes it started
    os.environ.clear()
    os.environ.update(env)
    for fd, path, mode in ((0, os.devnull, os.O_RDONLY), (1, stdout, os.O_WRONLY),
                           (2, stderr, os.O_WRONLY)):
        opened = os.open(path, mode)
        os.dup2(opened, fd)
        os.close(opened)
    os.chdir(cwd)
    code = 0
    try:
        if args[0] == '-m':
            sys.argv = args[1:]
            sys.path[0] = os.getcwd()
            runpy.run_module(args[1], run_name='__main__', alter_sys=True)
        else:
            sys.argv = list(args)
            sys.path[0] = os.path.dirname(os.path.realpath(args[0]))
            runpy.run_path(args[0], run_name='__main__')
    except SystemExit as exit:
        if exit.code is None or isinstance(exit.code, int):
            code = exit.code or 0
        else:
            print(exit.code, file=sys.stderr)
            code = 1
    except BaseException as error:  # the traceback from the script's frame on, as Python's
        trace = error.__traceback__
        while trace is not None and (trace.tb_frame.f_globals is globals()
                                     or trace.tb_frame.f_globals['__name__'] == 'runpy'):
            trace = trace.tb_next
        sys.excepthook(type(error), error.with_traceback(trace), trace)
        code = 1
    sys.exit(code)  # atexit handlers and flushing, as at the end of a script


class ForkServer:
    """A :func:`_serve` process of this interpreter, with this process's environment."""

    def __init__(self) -> None:
        self.environ = dict(os.environ)
        self.process = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, start_new_session=True)
        if self.process.stdout.readline() != 'ready\n':
            raise RuntimeError('the tool fork server did not start')

    def serves(self, env: dict) -> bool:
        """Whether a run with the environment ``env`` can be forked from this server."""
        return {**env, PYTEST_TEST: ''} == {**self.environ, PYTEST_TEST: ''}

    def run(self, args, cwd: str, env: dict, timeout: float) -> subprocess.CompletedProcess:
        with tempfile.TemporaryDirectory(prefix='tool-run-') as folder:
            out, err = os.path.join(folder, 'stdout'), os.path.join(folder, 'stderr')
            for path in (out, err):
                open(path, 'w').close()
            request = dict(args=[str(a) for a in args], cwd=str(cwd), env=env, stdout=out,
                           stderr=err, timeout=timeout)
            self.process.stdin.write(json.dumps(request) + '\n')
            self.process.stdin.flush()
            reply = self.process.stdout.readline()
            if not reply:
                raise RuntimeError(f'the tool fork server stopped while running {args}')
            returncode, timed_out = json.loads(reply)
            with open(out) as stdout, open(err) as stderr:
                output, errors = stdout.read(), stderr.read()
        command = [sys.executable, *args]
        if timed_out:
            raise subprocess.TimeoutExpired(command, timeout, output, errors)
        return subprocess.CompletedProcess(command, returncode, output, errors)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


if __name__ == '__main__':
    _serve()
