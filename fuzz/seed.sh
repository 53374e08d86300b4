#!/bin/sh
# Writes small seed corpora into fuzz/corpus/<target>/ (git-ignored). Each seed's first byte
# is the target's mode byte (see the target's header comment). Run from anywhere.
set -eu
cd "$(dirname "$0")"
seed() { # target name mode-byte-in-octal text
    mkdir -p "corpus/$1"
    { printf "\\$3"; printf '%s' "$4"; } > "corpus/$1/$2"
}
agent=../tests/ui/agents
mkdir -p corpus/agent
for f in "$agent"/*.af; do
    { printf '\000'; cat "$f"; } > "corpus/agent/$(basename "$f")"
done
seed agent splice 002 'input_size: 3'
seed prompt full 000 '---
params:
  review: "{ id: int, text: str, tags: [str]? }"
  words: int
model: fast
---
Summarize {{ review.text }} in {{ words }} words.
'
seed prompt params 002 'a: int
  b: "[{ x: float? }]"'
seed prompt type 003 '{ a: int, "b c": [str]? }'
seed prompt bom 001 'params:
  ﻿x: "int"
---
x'
seed jsonl t0 000 '{"a": 1, "b": 2.5, "c": "x", "d": [1, 2], "e": true}
{"a": -0, "b": 1e300, "c": null, "e": false, "z": {"deep": [1, {"q": "\u00e9"}]}}
{"a": 1.0, "b": 1, "e": true}'
seed jsonl t1 001 '{"id": 1, "u": {"name": "n", "tags": ["a"], "score": null}, "xs": [{"k": "k", "v": [1.5, null]}], "\u00e9": true}
{"id": 2, "u": null, "xs": [], "id": 3}'
seed jsonl t2 002 '[null, {"n": 1, "s": "a\"b"}, {"s": ""}]'
seed jsonl t3 003 '{"x": [[1], [], [2, 3]], "y": -0.0, "z": "\ud83d\ude00", "k\"ey": 5}'
seed jsonl wide 004 '{"f0": 1, "f1": 2.5, "f9": 3, "f18": 4, "f27": 5, "f36": 6, "f45": 7, "f54": 8, "f63": 9, "f64": 1.0, "f69": null}'
seed csv t0 000 'id,name,score,ok
1,"Smith, J",2.5,true
2,"say ""hi""
bye",,false

3,, 1e3 ,true
4,"",-0.5,false'
seed csv t0h 004 '5,x,+1.5, true 
007,"",,false'
seed csv one 005 '"x"

""
y'
seed csv t2 006 '"a,b",1e2,-3,true,
"",0.5,,,"q"'
seed csv t3 007 '1,"line
two",2'
echo "seeds written to $(pwd)/corpus"
