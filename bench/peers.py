"""Run one query with one Python-hosted peer engine and print its time in seconds.

    python peers.py ENGINE QUERY INPUT OUTPUT        ENGINE: duckdb | polars | python

The printed time covers reading INPUT through closing OUTPUT; interpreter start-up and
`import` are excluded (bench.py also records the whole process's wall time).
Q1: stars >= 4 -> {id, user: upper(user), text_len: len(text)}       (JSONL)
Q2: group by stars -> {key, n: count, mean_price, max_text_len}        (JSONL)
Thread count comes from bench.py: POLARS_MAX_THREADS for Polars, KILN_BENCH_THREADS for DuckDB.
"""
import json
import os
import sys
import time


def run_duckdb(query, inp, out):
    import duckdb
    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"SET threads={int(os.environ.get('KILN_BENCH_THREADS', '2'))}")
    src = ("read_json(?, format='newline_delimited', columns={'id': 'BIGINT', "
           "'user': 'VARCHAR', 'stars': 'BIGINT', 'price': 'DOUBLE', 'text': 'VARCHAR', "
           "'tags': 'VARCHAR[]', 'verified': 'BOOLEAN'})")
    if query == "q1":
        sql = (f'SELECT id, upper("user") AS "user", length(text) AS text_len FROM {src} '
               "WHERE stars >= 4")
    else:
        sql = (f"SELECT stars AS key, count(*) AS n, avg(price) AS mean_price, "
               f"max(length(text)) AS max_text_len FROM {src} GROUP BY stars ORDER BY stars")
    # COPY cannot take a prepared parameter for its target; quote the path by hand.
    target = out.replace("'", "''")
    con.execute(f"COPY ({sql}) TO '{target}' (FORMAT json)", [inp])
    con.close()
    return time.perf_counter() - t0


def run_polars(query, inp, out):
    import polars as pl
    t0 = time.perf_counter()
    schema = {"id": pl.Int64, "user": pl.String, "stars": pl.Int64, "price": pl.Float64,
              "text": pl.String, "tags": pl.List(pl.String), "verified": pl.Boolean}
    lf = pl.scan_ndjson(inp, schema=schema)
    if query == "q1":
        lf = lf.filter(pl.col("stars") >= 4).select(
            pl.col("id"), pl.col("user").str.to_uppercase(),
            pl.col("text").str.len_chars().alias("text_len"))
        lf.sink_ndjson(out)  # streaming; output keeps input order
    else:
        lf = lf.group_by("stars").agg(
            pl.len().alias("n"), pl.col("price").mean().alias("mean_price"),
            pl.col("text").str.len_chars().max().alias("max_text_len"),
        ).rename({"stars": "key"}).sort("key")
        lf.collect().write_ndjson(out)
    return time.perf_counter() - t0


def run_python(query, inp, out):
    t0 = time.perf_counter()
    loads, dumps = json.loads, json.dumps
    with open(inp, "rb") as f, open(out, "w", encoding="utf-8") as o:
        if query == "q1":
            for line in f:
                r = loads(line)
                if r["stars"] >= 4:
                    o.write(dumps({"id": r["id"], "user": r["user"].upper(),
                                   "text_len": len(r["text"])}, ensure_ascii=False) + "\n")
        else:
            groups = {}  # stars -> [count, sum of price, max text length]
            for line in f:
                r = loads(line)
                g = groups.get(r["stars"])
                if g is None:
                    g = groups[r["stars"]] = [0, 0.0, 0]
                g[0] += 1
                g[1] += r["price"]
                g[2] = max(g[2], len(r["text"]))
            for k, (n, s, m) in groups.items():
                o.write(dumps({"key": k, "n": n, "mean_price": s / n, "max_text_len": m}) + "\n")
    return time.perf_counter() - t0


if __name__ == "__main__":
    engine, query, inp, out = sys.argv[1:5]
    secs = {"duckdb": run_duckdb, "polars": run_polars, "python": run_python}[engine](
        query, inp, out)
    print(json.dumps({"seconds": secs}))
