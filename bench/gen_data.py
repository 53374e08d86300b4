"""Deterministic review data for the query benchmarks.

    python gen_data.py OUT.jsonl RECORDS

Writes RECORDS JSON lines like
    {"id": 17, "user": "alice_93", "stars": 4, "price": 12.5, "text": "...",
     "tags": ["x", "y"], "verified": true}
and prints the file's sha256. Only `random.Random.random()` is used, whose sequence
Python guarantees for a given seed, so the same (seed, RECORDS) gives the same bytes.
Variety: text of 50..600 code points (skewed short; low ratings write longer), accented words, CJK, Cyrillic,
emoji (some outside the BMP, some with modifiers), combining accents, quotes, backslashes,
tabs and newlines inside text; about 5% of lines use \\u escapes (ensure_ascii);
about 10% have "tags": null. Users are ASCII so every engine's upper() agrees (jq only
has ascii_upcase).
"""
import hashlib
import json
import sys

import random

SEED = 20261121

NAMES = ("alice bob carol dave erin frank grace heidi ivan judy mallory niaj olivia peggy "
         "rupert sybil trent victor walter xavier yolanda zoe amir bea chen dmitri eszter "
         "farah goran hana ines jonas kaito lena mateo noor oskar priya quinn rosa sanjay "
         "tomas uma vera wen yusuf").split()
WORDS = ("the a and it is this was for with very not but great good bad product quality "
         "price delivery arrived quickly slowly broke after two weeks works perfectly would "
         "recommend never again battery life screen size color fits well small large cheap "
         "expensive value money customer service returned replacement instructions easy hard "
         "setup minutes hours days love hate okay decent excellent terrible average sturdy "
         "flimsy packaging box manual cable charger sound loud quiet fast slow smell soft "
         "comfortable daily use kids gift bought second time").split()
UNICODE = ["café", "naïve", "crème", "brûlée", "jalapeño", "façade", "Zürich", "São", "Paulo",
           "日本語", "とても良い", "很好", "отлично", "спасибо", "ελληνικά", "שלום", "مرحبا",
           "😀", "👍", "👍🏽", "❤️", "🚀🔥", "e\u0301", "n\u0303o", "½", "€12", "—", "…", "™"]
ODD = ['"great"', 'said "meh"', '5" screen', "C:\\temp\\x", "back\\slash", "tab\there",
       "line\nbreak", "it's", "{json}", "[1,2]", "a/b", "100%", "<b>bold</b>", "&amp;"]
TAGS = ("electronics home kitchen toys books garden sports beauty audio office outdoor "
        "sale gift new refurbished").split()
STARS = (1, 1, 2, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5)  # skewed toward 5, like real reviews


def make_text(r, target):
    out, n = [], 0
    while n < target:
        u = r()
        if u < 0.86:
            w = WORDS[int(r() * len(WORDS))]
        elif u < 0.94:
            w = UNICODE[int(r() * len(UNICODE))]
        elif u < 0.98:
            w = ODD[int(r() * len(ODD))]
        else:
            w = str(int(r() * 1000))
        if r() < 0.08:
            w += "."
        out.append(w)
        n += len(w) + 1
    s = " ".join(out)
    return s[: target - 1] + "."  # exactly `target` code points


def records(count):
    rng = random.Random(SEED)
    r = rng.random
    for i in range(1, count + 1):
        user = f"{NAMES[int(r() * len(NAMES))]}_{int(r() * 999) + 1}"
        stars = STARS[int(r() * len(STARS))]
        price = round(0.99 + 499.0 * r() ** 3, 2)
        text = make_text(r, 50 + int((550 - 40 * (stars - 1)) * r() ** 3))  # unhappy = longer
        tags = None if r() < 0.10 else [TAGS[int(r() * len(TAGS))] for _ in range(int(r() * 5))]
        verified = r() < 0.7
        rec = {"id": i, "user": user, "stars": stars, "price": price, "text": text,
               "tags": tags, "verified": verified}
        yield json.dumps(rec, ensure_ascii=r() < 0.05)


def generate(path, count):
    h = hashlib.sha256()
    with open(path, "wb") as f:
        buf = []
        for line in records(count):
            buf.append(line)
            if len(buf) == 10000:
                chunk = ("\n".join(buf) + "\n").encode()
                h.update(chunk)
                f.write(chunk)
                buf = []
        if buf:
            chunk = ("\n".join(buf) + "\n").encode()
            h.update(chunk)
            f.write(chunk)
    return h.hexdigest()


if __name__ == "__main__":
    print(generate(sys.argv[1], int(sys.argv[2])))
