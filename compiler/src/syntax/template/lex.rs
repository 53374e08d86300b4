//! Cutting a template into pieces (with pest, `grammar/template.pest`) and the whitespace
//! rules of LANGUAGE.md §3: a line that holds only `{% ... %}` tags and comments (and spaces)
//! is dropped with its newline; `{%-`, `-%}`, `{{-`, `-}}` (and `{#-`, `-#}`) trim all the
//! whitespace, newlines included, on their side. Both only ever cut a prefix or a suffix
//! of a text piece, so they combine as the union of what each cuts, in any order; which
//! lines are tag-only is decided on the text as written.

use pest::Parser;

#[derive(pest_derive::Parser)]
#[grammar = "../../grammar/template.pest"]
pub(super) struct TemplateParser;

/// What a delimited piece is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Delim {
    /// `{{ ... }}`
    Output,
    /// `{% ... %}`
    Tag,
    /// `{# ... #}`
    Comment,
}

impl Delim {
    pub(super) fn open(self) -> &'static str {
        match self {
            Delim::Output => "{{",
            Delim::Tag => "{%",
            Delim::Comment => "{#",
        }
    }
    pub(super) fn close(self) -> &'static str {
        match self {
            Delim::Output => "}}",
            Delim::Tag => "%}",
            Delim::Comment => "#}",
        }
    }
}

/// One piece of a template; positions are byte offsets into the template text.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Piece {
    /// Text, after the whitespace rules (possibly empty).
    Text(String),
    /// A closed `{{ }}`, `{% %}` or `{# #}`: its whole range and, for `{{ }}`, the ranges
    /// of the value and of each filter; for `{% %}`, the one range of its words.
    Delimited { delim: Delim, start: usize, end: usize, parts: Vec<(usize, usize)> },
    /// An opening delimiter never closed.
    Unclosed { delim: Delim, start: usize, end: usize },
}

struct Raw {
    piece: Piece,
    trim_left: bool,
    trim_right: bool,
    /// For text: the part kept so far (`start..end`, shrinking).
    keep: (usize, usize),
    /// For text: its range as written.
    orig: (usize, usize),
}

/// Cuts `text` into pieces and applies the whitespace rules. `Err` holds the offset where
/// brackets inside a tag nest deeper than the lexer goes.
pub(super) fn pieces(text: &str) -> Result<Vec<Piece>, usize> {
    let mut raw = lex(text)?;
    trim_markers(text, &mut raw);
    drop_tag_lines(text, &mut raw);
    Ok(raw
        .into_iter()
        .map(|r| match r.piece {
            Piece::Text(_) => Piece::Text(text[r.keep.0..r.keep.1.max(r.keep.0)].to_string()),
            p => p,
        })
        .collect())
}

fn lex(text: &str) -> Result<Vec<Raw>, usize> {
    // The grammar accepts every text (an unclosed delimiter is a piece of its own); it
    // fails only when pest's recursion limit stops it, on brackets nested thousands deep.
    let mut pairs = TemplateParser::parse(Rule::template, text).map_err(|e| match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((p, _)) => p,
    })?;
    let mut out = Vec::new();
    let Some(top) = pairs.next() else { return Ok(out) };
    for p in top.into_inner() {
        let (start, end) = (p.as_span().start(), p.as_span().end());
        let delim = match p.as_rule() {
            Rule::text => {
                out.push(text_piece(start, end));
                continue;
            }
            Rule::EOI => continue,
            Rule::output => Delim::Output,
            Rule::tag => Delim::Tag,
            Rule::comment => Delim::Comment,
            _ => {
                let s = p.as_str();
                let delim = match &s[..2.min(s.len())] {
                    "{{" => Delim::Output,
                    "{%" => Delim::Tag,
                    _ => Delim::Comment,
                };
                out.push(Raw {
                    piece: Piece::Unclosed { delim, start, end },
                    trim_left: false,
                    trim_right: false,
                    keep: (0, 0),
                    orig: (0, 0),
                });
                continue;
            }
        };
        let mut trim_left = false;
        let mut trim_right = false;
        let mut parts = Vec::new();
        for inner in p.into_inner() {
            let s = inner.as_span();
            match inner.as_rule() {
                Rule::output_open | Rule::tag_open | Rule::comment_open => {
                    trim_left = inner.as_str().ends_with('-')
                }
                Rule::output_close | Rule::tag_close | Rule::comment_close => {
                    trim_right = inner.as_str().starts_with('-')
                }
                Rule::output_body => {
                    for seg in inner.into_inner() {
                        if seg.as_rule() == Rule::segment {
                            parts.push((seg.as_span().start(), seg.as_span().end()));
                        }
                    }
                }
                Rule::tag_body => parts.push((s.start(), s.end())),
                _ => {}
            }
        }
        out.push(Raw {
            piece: Piece::Delimited { delim, start, end, parts },
            trim_left,
            trim_right,
            keep: (0, 0),
            orig: (0, 0),
        });
    }
    Ok(out)
}

fn text_piece(start: usize, end: usize) -> Raw {
    Raw {
        piece: Piece::Text(String::new()),
        trim_left: false,
        trim_right: false,
        keep: (start, end),
        orig: (start, end),
    }
}

fn is_text(r: &Raw) -> bool {
    matches!(r.piece, Piece::Text(_))
}

/// `{%-` and friends cut the whitespace at the end of the text before them; `-%}` the
/// whitespace at the start of the text after.
fn trim_markers(text: &str, raw: &mut [Raw]) {
    for i in 0..raw.len() {
        if raw[i].trim_left && i > 0 && is_text(&raw[i - 1]) {
            let (s, e) = raw[i - 1].keep;
            raw[i - 1].keep.1 = s + text[s..e].trim_end().len();
        }
        if raw[i].trim_right && i + 1 < raw.len() && is_text(&raw[i + 1]) {
            let (s, e) = raw[i + 1].keep;
            raw[i + 1].keep.0 = e - text[s..e].trim_start().len();
        }
    }
}

/// Drops the lines that hold only block tags and comments (and spaces), newline included.
fn drop_tag_lines(text: &str, raw: &mut [Raw]) {
    // The current line: its whitespace text parts as (piece, start, end) in original
    // positions, whether it holds a block tag or comment, and whether it holds anything
    // else (an output tag, visible text, an unclosed delimiter).
    let mut parts: Vec<(usize, usize, usize)> = Vec::new();
    let mut has_tag = false;
    let mut other = false;
    let mut cuts: Vec<(usize, usize, usize)> = Vec::new(); // (piece, start, end) to remove
    let is_space = |s: &str| s.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r'));
    let close_line = |parts: &mut Vec<(usize, usize, usize)>,
                      has_tag: &mut bool,
                      other: &mut bool,
                      newline: Option<(usize, usize)>,
                      cuts: &mut Vec<(usize, usize, usize)>| {
        if *has_tag && !*other {
            cuts.append(parts);
            if let Some((piece, at)) = newline {
                cuts.push((piece, at, at + 1));
            }
        }
        parts.clear();
        *has_tag = false;
        *other = false;
    };
    for (i, r) in raw.iter().enumerate() {
        match &r.piece {
            Piece::Text(_) => {
                // Original positions: the rules look at the text as written.
                let (s, e) = r.orig;
                let mut pos = s;
                for (k, _) in text[s..e].match_indices('\n') {
                    let nl = s + k;
                    if is_space(&text[pos..nl]) {
                        parts.push((i, pos, nl));
                    } else {
                        other = true;
                    }
                    close_line(&mut parts, &mut has_tag, &mut other, Some((i, nl)), &mut cuts);
                    pos = nl + 1;
                }
                if is_space(&text[pos..e]) {
                    parts.push((i, pos, e));
                } else {
                    other = true;
                }
            }
            Piece::Delimited { delim: Delim::Output, .. } | Piece::Unclosed { .. } => other = true,
            Piece::Delimited { .. } => has_tag = true,
        }
    }
    close_line(&mut parts, &mut has_tag, &mut other, None, &mut cuts);
    // A line's cuts are a suffix of the piece before its first tag, whole pieces between
    // tags, and a prefix of the piece after its last tag up to and including the newline:
    // per piece, a prefix (contiguous cuts from its start) and a suffix.
    let mut front: Vec<usize> = raw.iter().map(|r| r.orig.0).collect();
    let mut back: Vec<usize> = raw.iter().map(|r| r.orig.1).collect();
    for (piece, s, e) in cuts {
        if s <= front[piece] {
            front[piece] = front[piece].max(e);
        }
        if e == raw[piece].orig.1 {
            back[piece] = back[piece].min(s);
        }
    }
    for (i, r) in raw.iter_mut().enumerate().filter(|(_, r)| is_text(r)) {
        r.keep.0 = r.keep.0.max(front[i]);
        r.keep.1 = r.keep.1.min(back[i]);
    }
}
