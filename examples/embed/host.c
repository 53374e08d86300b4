/* A host program that drives a built pipeline from memory (kiln build --emit staticlib):
 * it reads a JSONL file itself, pushes it to the pipeline in small pieces, and receives the
 * rows of one sink through a callback, which it writes to a file of its own.
 *
 *   kiln build ../reviews/reviews.kiln --emit staticlib -o lib/libreviews.a
 *   cc host.c -Ilib lib/libreviews.a -lm -lpthread -o host
 *   ./host ../reviews/data/reviews.jsonl good 7 good.jsonl --param out_dir=/tmp/reviews_out
 *
 * Arguments: the input file, the stage whose sink rows to receive, the piece size in
 * bytes, the file to write them to, then the pipeline's own flags. */
#include <stdio.h>
#include <stdlib.h>
#include "reviews.h"

static void on_rows(void *user, const char *sink, const unsigned char *rows, size_t len) {
    (void)sink;
    fwrite(rows, 1, len, (FILE *)user);
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s INPUT STAGE PIECE OUT [pipeline flags]\n", argv[0]);
        return 2;
    }
    FILE *in = fopen(argv[1], "rb");
    if (!in) { perror(argv[1]); return 1; }
    FILE *out = fopen(argv[4], "wb");
    if (!out) { perror(argv[4]); return 1; }
    size_t piece = (size_t)atol(argv[3]);
    if (piece == 0) piece = 1;
    /* The pipeline sees argv[0] and the flags after ours. */
    argv[4] = argv[0];
    kiln_session *s = reviews_open(argc - 4, argv + 4);
    if (!s) return 2;
    if (kiln_session_feed(s, "reviews") || kiln_session_on_rows(s, argv[2], on_rows, out)) {
        fprintf(stderr, "no source `reviews` or no sink `%s`\n", argv[2]);
        kiln_session_finish(s);
        return 2;
    }
    unsigned char *buf = malloc(piece);
    size_t n;
    while ((n = fread(buf, 1, piece, in)) > 0) {
        if (kiln_session_push(s, "reviews", buf, n)) break; /* the run has ended */
    }
    free(buf);
    fclose(in);
    int code = kiln_session_finish(s);
    fclose(out);
    return code;
}
