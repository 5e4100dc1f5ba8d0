"""The loop that runs mutants (see `mutation_forks.py`): a pytest plugin that collects the
suite once, then forks a patched child per stage-1 mutant and starts a plain pytest per
stage-2 mutant, as many at once as there are scratch copies."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

import mutation_patch
import pytest
from cosmic_ray.mutating import MutationVisitor
from cosmic_ray.plugins import get_operator
from mutation_forks import PYTEST_FLAGS, UNPATCHABLE, Job, without_group

TICK = 0.01  # seconds between looks at the children
CHILD_ERROR = 70  # a stage-1 child's status when the harness itself failed


class Server:
    """Runs `jobs` inside a pytest session of the scratch copy `home` (collected, never
    mutated on disk); stage-2 mutants are written into `scratches` (one per job slot).
    Calls `report(job, verdict)` with 'fail' (killed), 'pass' (survived), 'timeout' or
    'error'."""

    def __init__(self, jobs: list[Job], home: Path, scratches: list[Path], *, seconds: float,
                 timeout: float, report, widen: bool) -> None:  # fmt: skip
        self.jobs, self.home, self.scratches = jobs, home, scratches
        self.seconds, self.timeout, self.report, self.widen = seconds, timeout, report, widen
        self.items: dict[str, pytest.Item] = {}
        self.failed = False
        self.quiet_fd: int | None = None  # where the session writes: the child's log

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        self.items = {without_group(item.nodeid): item for item in session.items}
        for path in {job.path for job in self.jobs}:
            importlib.import_module(_module_name(path))
        self._loop()
        return True

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.failed = True

    def _loop(self) -> None:
        pending, running = deque(self.jobs), {}
        free, start = list(range(len(self.scratches))), time.monotonic()
        while pending or running:
            while free and pending and time.monotonic() - start < self.seconds:
                job, slot = pending.popleft(), free.pop()
                job.started, job.timed_out = time.monotonic(), False
                pid = self._start(job, slot)
                if pid is None:  # the mutant is not Python (Cosmic Ray's `*,` as `%,`)
                    free.append(slot)
                    self.report(job, "unviable")
                    continue
                running[pid] = (job, slot)
            if not running:
                break
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                self._kill_late(running)
                time.sleep(TICK)
                continue
            if pid not in running:
                continue
            job, slot = running.pop(pid)
            free.append(slot)
            log = (self.scratches[slot] / "child.log").read_text(errors="replace")
            if job.stage == 2:
                _restore(self.scratches[slot] / job.path, self.home / job.path)
            verdict = "timeout" if job.timed_out else _verdict(job.stage, status, log)
            job.outcomes.append(verdict)
            if verdict == "error":
                job.outcomes.append(log[-400:])  # why, for the report
            retry = verdict in ("unpatchable", "error") or (verdict == "pass" and self.widen)
            if job.stage == 1 and retry:
                job.stage = 2
                pending.appendleft(job)
                continue
            self.report(job, verdict)

    def _kill_late(self, running: dict[int, tuple[Job, int]]) -> None:
        for pid, (job, _) in running.items():
            if not job.timed_out and time.monotonic() - job.started > self.timeout:
                job.timed_out = True
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def _start(self, job: Job, slot: int) -> int | None:
        """The child's pid, or None when the mutated module does not compile."""
        original = (self.home / job.path).read_text()
        mutated = MutationVisitor.mutate_code(original, get_operator(job.operator)(),
                                              job.occurrence)  # fmt: skip
        try:
            compile(mutated, job.path, "exec")
        except SyntaxError:
            return None
        log = self.scratches[slot] / "child.log"
        if job.stage == 2:
            (self.scratches[slot] / job.path).write_text(mutated)
            env = {**os.environ, "PYTHONPATH": str(self.scratches[slot] / "python")}
            with open(log, "w") as out:
                child = subprocess.Popen([sys.executable, "-m", "pytest", *PYTEST_FLAGS,
                                          *job.wide], cwd=self.scratches[slot], env=env,
                                         stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)  # fmt: skip
            child.returncode = 0  # reaped by the loop's waitpid, not by Popen
            return child.pid
        pid = os.fork()
        if pid == 0:
            self._child(job, mutated, log)
        return pid

    def _child(self, job: Job, mutated: str, log: Path) -> None:
        """In the forked child: place the mutant, run its quick tests; never returns. An
        exception here is this harness's, not the mutant's (pytest catches the tests'):
        its status is an error, never a kill."""
        code = CHILD_ERROR
        try:
            os.setpgid(0, 0)
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            for target in {1, 2, self.quiet_fd} - {None}:
                os.dup2(fd, target)
            try:
                mutation_patch.apply(_module_name(job.path), str(self.home / job.path),
                                     mutated, job.line)  # fmt: skip
            except mutation_patch.Unpatchable as exc:
                print(exc, flush=True)
                code = UNPATCHABLE
                return
            mutation_patch.clear_caches()
            code = self._run(job.quick)
        except BaseException as exc:
            print(f"harness error: {exc!r}", flush=True)
        finally:
            sys.stdout.flush()
            os._exit(code)

    def _run(self, names: list[str]) -> int:
        items = [self.items[n] for n in names if n in self.items]
        for k, item in enumerate(items):
            following = items[k + 1] if k + 1 < len(items) else None
            item.ihook.pytest_runtest_protocol(item=item, nextitem=following)
            if self.failed:
                return 1
        return 0


def _module_name(path: str) -> str:
    return path.removeprefix("python/").removesuffix(".py").replace("/", ".")


def _restore(target: Path, original: Path) -> None:
    target.write_text(original.read_text())


def _verdict(stage: int, status: int, log: str) -> str:
    if os.WIFSIGNALED(status):
        return "fail"  # the mutant crashed the interpreter (timeouts are marked apart)
    code = os.WEXITSTATUS(status)
    if stage == 1:
        return {0: "pass", 1: "fail", UNPATCHABLE: "unpatchable"}.get(code, "error")
    # pytest: 1 a test failed; 2 collection interrupted (the mutant broke an import);
    # 3 internal error raised from the mutated code; 4 a usage error, which is the
    # mutant's when the conftest or a named test's module cannot be imported ("found no
    # collectors"), and ours when a node id does not exist ("not found"); 5 nothing
    # collected (ours).
    broken = "ImportError while loading conftest" in log or "found no collectors" in log
    if code == 4 and broken and "ERROR: not found" not in log:
        return "fail"
    return {0: "pass", 1: "fail", 2: "fail", 3: "fail"}.get(code, "error")
