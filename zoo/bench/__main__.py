"""`python -m zoo.bench`: one load-generating worker process (see zoo/bench/worker.py).

Started by the runner, not by hand: it reads its task on stdin and writes its report on stdout.
"""

from zoo.bench.worker import main

main()
