"""Categorise the two-keyword misses of one or more harness dumps (harness.py --dump DIR): a query
counts as a stable miss when its paper is not first in any of the dumps (e.g. the same design under
several hash functions), otherwise as hash luck. Each stable miss is put in a category by whether
each keyword occurs verbatim in the paper and in the paper ranked first (docs/search.md).

usage: python scripts/search_quality/misses.py DIR/old_design.jsonl DIR/old_design_salt_a.jsonl ...
"""

import collections
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from search.normalize import normalize

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "csl"


def main() -> None:
    text = {}
    for line in (DATA / "achievements.jsonl").open(encoding="utf-8"):
        d = json.loads(line)
        text[d["key"]] = normalize(d["title"] + " " + d["description"]).lower()
    runs = []
    for path in sys.argv[1:]:
        rows = (json.loads(line) for line in Path(path).open(encoding="utf-8"))
        runs.append({r["key"]: r for r in rows if r["kind"] == "two_keywords"})

    def rank(r: dict) -> int | None:
        return r["ranked"].index(r["key"]) + 1 if r["key"] in r["ranked"] else None

    count, lost, stable, luck = collections.Counter(), collections.Counter(), [], 0
    for key in runs[0]:
        ranks = [rank(run[key]) for run in runs]
        if all(x == 1 for x in ranks):
            continue
        if any(x == 1 for x in ranks):
            luck += 1
            continue
        r = runs[0][key]
        keywords = normalize(r["q"]).lower().split()
        top = r["ranked"][0] if r["ranked"] else None
        category = (
            f"paper contains {sum(k in text[key] for k in keywords)}/{len(keywords)} keywords verbatim, "
            f"the paper ranked first {sum(k in text[top] for k in keywords) if top else 0}"
        )
        count[category] += 1
        lost[category] += sum(1 - (1 / x if x else 0) for x in ranks) / len(ranks)
        stable.append((ranks, r["q"]))
    print(f"stable misses (in every dump): {len(stable)}; misses in some dumps only (hash luck): {luck}")
    for category in sorted(count):
        print(f"{count[category]:4d}  lost reciprocal rank {lost[category]:5.1f}  {category}")
    for ranks, q in sorted(stable, key=lambda s: [x or 99 for x in s[0]]):
        print(ranks, q)


if __name__ == "__main__":
    main()
