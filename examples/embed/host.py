"""Drives a built pipeline from Python with ctypes: pushes records from memory, batch by
batch, and collects one sink's rows through a callback.

    kiln build ../reviews/reviews.kiln --emit staticlib -o lib/libreviews.a
    cc -shared -o lib/libreviews.so -Wl,--whole-archive lib/libreviews.a \
       -Wl,--no-whole-archive -lm -lpthread
    python3 host.py lib/libreviews.so ../reviews/data/reviews.jsonl --param out_dir=/tmp/out
"""
import ctypes
import sys

lib = ctypes.CDLL(sys.argv[1])
ROWS = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p,
                        ctypes.POINTER(ctypes.c_ubyte), ctypes.c_size_t)
lib.reviews_open.restype = ctypes.c_void_p
lib.reviews_open.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_char_p)]
for f in ("kiln_session_feed", "kiln_session_on_rows", "kiln_session_push",
          "kiln_session_finish"):
    getattr(lib, f).restype = ctypes.c_int
lib.kiln_session_feed.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
lib.kiln_session_on_rows.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ROWS, ctypes.c_void_p]
lib.kiln_session_push.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                  ctypes.c_size_t]
lib.kiln_session_finish.argtypes = [ctypes.c_void_p]

args = [b"host.py"] + [a.encode() for a in sys.argv[3:]]
argv = (ctypes.c_char_p * len(args))(*args)
s = lib.reviews_open(len(args), argv)
if not s:
    sys.exit(2)
rows = []


@ROWS
def on_rows(user, sink, data, n):
    rows.append(ctypes.string_at(data, n))


lib.kiln_session_feed(s, b"reviews")
lib.kiln_session_on_rows(s, b"good", on_rows, None)
with open(sys.argv[2], "rb") as f:
    while batch := f.read(100):          # any piece size: records may span pieces
        if lib.kiln_session_push(s, b"reviews", batch, len(batch)):
            break
code = lib.kiln_session_finish(s)
sys.stdout.write(b"".join(rows).decode())
sys.exit(code)
