"""Query expansion with word embeddings, offline (docs/search.md, "Two keywords"): does a general
semantic resource recover the papers that contain neither typed keyword?

The one Chinese embedding this machine can obtain is the Wikipedia word2vec (125,796 words × 100)
shipped inside the sdist of `synonyms==3.10.2` on PyPI (MIT; later releases download it from
elsewhere). Not a dependency of the service, so this runs in a scratch environment:

    pip download --no-deps --no-binary :all: synonyms==3.10.2   # or fetch the sdist from PyPI
    tar xzf synonyms-3.10.2.tar.gz synonyms-3.10.2/synonyms/data/words.vector
    pip install numpy jieba opencc
    python scripts/search_quality/expansion.py --vectors synonyms-3.10.2/synonyms/data/words.vector

Each keyword (or, when the keyword is not in the vocabulary, each of its jieba words of two or more
characters) adds its k nearest words with cosine ≥ τ to the query, weighted β·cosine·IDF, either as
one word or as the tokens the service would cut it into. Exact BM25 over the shipped tokens, as
offline.py scores it.
"""

import argparse
import sys
from pathlib import Path

import jieba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.search_quality.offline import PRECISE, build, dev_set, evaluate, idf_word, weights


def load(path: Path) -> tuple[list[str], np.ndarray]:
    """word2vec's binary format, rows normalised to unit length."""
    with path.open("rb") as file:
        count, dims = map(int, file.readline().split())
        words, matrix = [], np.empty((count, dims), dtype=np.float32)
        for row in range(count):
            word = bytearray()
            while (char := file.read(1)) != b" ":
                if char != b"\n":
                    word += char
            words.append(word.decode("utf-8", errors="replace"))
            matrix[row] = np.frombuffer(file.read(4 * dims), dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True) + 1e-9
    return words, matrix


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vectors", type=Path, required=True)
    a = ap.parse_args()
    words, matrix = load(a.vectors)
    row_of = {word: row for row, word in enumerate(words)}
    nearest: dict[str, list[tuple[str, float]]] = {}

    def neighbours(word: str, k: int) -> list[tuple[str, float]]:
        if word not in nearest:
            sims = matrix @ matrix[row_of[word]]
            top = np.argpartition(-sims, 21)[:21]
            nearest[word] = [
                (words[i], float(sims[i])) for i in top[np.argsort(-sims[top])] if words[i] != word
            ]
        return nearest[word][:k]

    base = weights(PRECISE)

    def expanded(k: int, tau: float, beta: float, as_tokens: bool):  # type: ignore[no-untyped-def]
        def query(text: str):  # type: ignore[no-untyped-def]
            weight = base(text)
            for part in text.split():
                units = (
                    [part] if part in row_of else [w for w in jieba.cut(part) if w in row_of and len(w) > 1]
                )
                for unit in units:
                    for word, sim in neighbours(unit, k):
                        if sim >= tau:
                            terms = set(PRECISE(word.lower())) if as_tokens else {word.lower()}
                            for term in terms:
                                weight[term] += idf_word(term) * beta * sim / len(terms) ** 0.5
            return weight

        return query

    docs, queries = dev_set()
    index = build(docs, PRECISE)
    found = evaluate(index, base, queries)
    print(f"no expansion: keywords {found['keywords']:.4f} two keywords {found['two_keywords']:.4f}")
    for k in (3, 5, 10):
        for tau in (0.6, 0.7):
            for beta in (0.1, 0.2, 0.35):
                for as_tokens in (False, True):
                    found = evaluate(index, expanded(k, tau, beta, as_tokens), queries)
                    print(
                        f"k {k:2d} τ {tau} β {beta:4} {'tokens' if as_tokens else 'word  '}: "
                        f"keywords {found['keywords']:.4f} two keywords {found['two_keywords']:.4f}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
