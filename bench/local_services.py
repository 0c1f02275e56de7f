"""What every benchmark needs of this machine: the loopback address, a free port on it, and
whether the local PostgreSQL answers. Benchmarks never leave 127.0.0.1.

The scripts run as `python bench/NAME.py`, which puts this folder on sys.path."""

import socket

HOST = "127.0.0.1"
PG_PORT = 5432


def postgresql_reachable() -> bool:
    try:
        with socket.create_connection((HOST, PG_PORT), timeout=1.0):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])
