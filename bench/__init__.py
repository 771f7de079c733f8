"""Benchmarks: ember against PyTorch CPU, same data, same threads, in one command.

    python -m bench                 # every workload, 2 threads
    python -m bench --only mlp,lenet5-64 --threads 1 --steps 50
"""
