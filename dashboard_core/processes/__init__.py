"""Supervised processes: one core for every process the dashboard starts.

Test runs, workflow steps, services and command checks all start a program the
same way (an argv, never a shell; its own process group), keep its output in a
capped log, stop it with a grace period and then kill it (descendants that left
its group too), and find what a crashed dashboard left running by pid and start
time. What actually runs the program is an :class:`~.executor.Executor`: local
subprocesses today, a distributed engine later, behind the same interface.

- :mod:`.spec`: what to run, what comes back (events), what the store keeps.
- :mod:`.executor`: the executor interface; :mod:`.local` the local one.
- :mod:`.states`: the state machine of a supervised process, in one table.
- :mod:`.supervised`: a process under supervision, on any executor.
- :mod:`.capped_log`, :mod:`.tree`, :mod:`.words`: the log, the process tree, exit codes in words.
- :mod:`.log_tail`: what a live view shows of a log (whole lines, the current attempt).
- :mod:`.recovery`, :mod:`.board`: what the test manager and the workflow
  supervisor share (orphans after a crash, the active set, heartbeats, retry on a full disk).
"""
