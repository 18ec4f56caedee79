"""The suite's private services do what the fault tests rely on: the PostgreSQL cluster keeps
committed rows across an immediate-mode restart (crash recovery) and a stop/start, and the
private Redis can be stopped and started on its port."""

from __future__ import annotations

import psycopg
import pytest
import redis

from chaos.cluster import PostgresCluster, RedisServer


def test_cluster_keeps_committed_rows_across_an_immediate_restart(pg_cluster: PostgresCluster):
    url = pg_cluster.create_database("chaos_cluster_check")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (n int)")
        conn.execute("INSERT INTO t VALUES (1)")
    before = pg_cluster.postmaster_pid()
    with psycopg.connect(url) as survivor:
        pg_cluster.restart(mode="immediate")
        # The backend this connection talked to was killed with the postmaster.
        with pytest.raises(psycopg.OperationalError):
            survivor.execute("SELECT 1")
    assert pg_cluster.postmaster_pid() not in (None, before)
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT n FROM t").fetchall() == [(1,)]
    pg_cluster.stop()
    assert not pg_cluster.running()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)
    pg_cluster.start()
    assert pg_cluster.psql("SELECT count(*) FROM t", database="chaos_cluster_check") == "1"
    pg_cluster.psql('DROP DATABASE "chaos_cluster_check" WITH (FORCE)')


def test_redis_stops_and_starts_on_its_port(redis_server: RedisServer):
    client = redis.Redis.from_url(redis_server.url(), socket_timeout=2, socket_connect_timeout=2)
    assert client.ping()
    redis_server.stop()
    with pytest.raises(redis.ConnectionError):
        client.ping()
    redis_server.start()
    assert client.ping()
    client.close()
