//! Template rendering: unit tests, and the whitespace rules of LANGUAGE.md §3 compared with
//! minijinja (trim_blocks + lstrip_blocks + keep_trailing_newline) on generated templates.

use super::{Interp, Value};

/// Renders an inline prompt `p(a: bool, b: bool, n: int, xs: [int])` with the template
/// `template` (no `"""` inside) for the given arguments.
fn render(template: &str, a: bool, b: bool, n: i64, xs: &[i64]) -> Result<String, String> {
    let text = format!(
        "prompt p(a: bool, b: bool, n: int, xs: [int]) = \"\"\"{template}\"\"\"\n\
         source one: int = range(0, 1)\nsink one |> map(i => p(true, true, i, [i])) -> discard()\n"
    );
    let mut s = crate::driver::Session::new();
    let m = s.load_text("example.kiln", &text);
    let program = s.check(m);
    let run = s.finish();
    let errors: Vec<String> =
        run.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.message.clone()).collect();
    if !errors.is_empty() {
        return Err(format!("does not check: {}", errors.join("; ")));
    }
    let p = crate::ir::lower::lower(&program);
    let mut cx = Interp::new(&p, Vec::new());
    let args = vec![
        Value::Bool(a),
        Value::Bool(b),
        Value::Int(n),
        Value::list(xs.iter().map(|&x| Value::Int(x)).collect()),
    ];
    match cx.render_prompt(0, args, crate::source::Span::default()) {
        Ok(Value::Str(s)) => Ok(s.to_string()),
        Ok(other) => Err(format!("not a string: {other:?}")),
        Err(e) => Err(e.message),
    }
}

fn ok(template: &str) -> String {
    render(template, true, false, 3, &[1, 2, 3]).unwrap_or_else(|e| panic!("{template:?}: {e}"))
}

#[test]
fn values_render_as_str_renders_them() {
    assert_eq!(
        ok("{{ n }} {{ n / 2 }} {{ 2.0 }} {{ 0.1 + 0.2 }} {{ 1e300 * 1e300 }}"),
        "3 1.5 2.0 0.30000000000000004 null"
    );
    assert_eq!(
        ok("{{ xs }} {{ { a: n, b: [a, b], c: \"q\\\"\" } }} {{ \"plain\" }}"),
        "[1,2,3] {\"a\":3,\"b\":[true,false],\"c\":\"q\\\"\"} plain"
    );
    assert_eq!(ok("{{ [\"x\"] + [] }}{{ vec[2]([0.1, 1.0]) }}"), "[\"x\"][0.1,1.0]");
}

#[test]
fn branches_and_loops() {
    assert_eq!(ok("{% if b %}B{% else if a %}A{% else %}-{% end %}"), "A");
    assert_eq!(ok("{% if not a %}x{% else if b %}y{% end %}."), ".");
    assert_eq!(
        ok(
            "{% for x in xs %}{{ loop.index }}{{ x }}{% if loop.first %}F{% end %}{% if loop.last %}L{% end %} {% end %}"
        ),
        "01F 12 23L "
    );
    assert_eq!(
        ok("{% for x in xs %}{% for y in xs %}{{ loop.index }}{% end %}|{{ loop.index }}{% end %}"),
        "012|0012|1012|2"
    );
    assert_eq!(render("[{% for x in xs %}{{ x }}{% end %}]", true, true, 0, &[]).unwrap(), "[]");
}

#[test]
fn filters_are_calls_and_failures_are_errors() {
    assert_eq!(ok("{{ \" Hi There \" | trim | lower | replace(\"there\", \"you\") }}"), "hi you");
    assert_eq!(ok("{{ xs | len }} {{ n | str | len }}"), "3 1");
    let e = render("{{ xs[n] }}", true, true, 3, &[1, 2, 3]).unwrap_err();
    assert!(e.contains("out of range"), "{e}");
    let e = render("{{ n // 0 }}", true, true, 3, &[]).unwrap_err();
    assert!(e.contains("by zero"), "{e}");
}

/// A template as a tree, written out both as Kiln and as Jinja.
enum Node {
    Text(&'static str),
    Out(&'static str, Trim),
    If {
        cond: &'static str,
        then: Vec<Node>,
        elif: Option<(&'static str, Vec<Node>)>,
        otherwise: Option<Vec<Node>>,
        tags: Vec<Place>,
    },
    For {
        body: Vec<Node>,
        tags: Vec<Place>,
    },
    Comment(Place),
}

#[derive(Clone, Copy)]
struct Trim {
    left: bool,
    right: bool,
}

/// Where a tag stands: alone on its line (indented), or inside a line between visible
/// characters (with whitespace next to it only on a side that trims).
#[derive(Clone, Copy)]
struct Place {
    own_line: bool,
    indent: usize,
    trim: Trim,
    /// Whitespace next to a trimming side of an inline tag.
    pad: &'static str,
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
}

const TEXTS: &[&str] =
    &["a", "b c", "  x", "y  ", "\n", "  \n", "word\n", "\n\n", "\n  z", "t\t", " "];

fn gen_block(r: &mut Rng, depth: u32, in_loop: bool) -> Vec<Node> {
    let n = 1 + r.below(4);
    (0..n).map(|_| gen_node(r, depth, in_loop)).collect()
}

fn gen_place(r: &mut Rng) -> Place {
    Place {
        own_line: r.below(3) > 0,
        indent: r.below(3) as usize,
        trim: Trim { left: r.below(4) == 0, right: r.below(4) == 0 },
        pad: r.pick(&[" ", "\n", "  \n ", ""]),
    }
}

fn gen_node(r: &mut Rng, depth: u32, in_loop: bool) -> Node {
    let outs: &[&str] = if in_loop { &["n", "x", "loop.index", "a"] } else { &["n", "a", "xs"] };
    match r.below(if depth >= 3 { 3 } else { 6 }) {
        0 => Node::Text(r.pick(TEXTS)),
        1 => Node::Out(r.pick(outs), Trim { left: r.below(4) == 0, right: r.below(4) == 0 }),
        2 => Node::Comment(gen_place(r)),
        3 | 4 => {
            let conds: &[&str] = if in_loop {
                &["a", "b", "loop.first", "not loop.last"]
            } else {
                &["a", "b", "n > 2"]
            };
            let then = gen_block(r, depth + 1, in_loop);
            let elif = (r.below(3) == 0).then(|| (r.pick(conds), gen_block(r, depth + 1, in_loop)));
            let otherwise = (r.below(2) == 0).then(|| gen_block(r, depth + 1, in_loop));
            let tags = (0..4).map(|_| gen_place(r)).collect();
            Node::If { cond: r.pick(conds), then, elif, otherwise, tags }
        }
        _ => {
            let body = gen_block(r, depth + 1, true);
            Node::For { body, tags: (0..2).map(|_| gen_place(r)).collect() }
        }
    }
}

/// Writes a tag (`words` inside the delimiters) at its place.
fn tag(out: &mut String, p: Place, words: &str, comment: bool) {
    let (open, close) = if comment { ("{#", "#}") } else { ("{%", "%}") };
    let body = format!(
        "{open}{} {words} {}{close}",
        if p.trim.left { "-" } else { "" },
        if p.trim.right { "-" } else { "" }
    );
    if p.own_line {
        out.push('\n');
        out.push_str(&" ".repeat(p.indent));
        out.push_str(&body);
        out.push('\n');
    } else {
        out.push('<');
        if p.trim.left {
            out.push_str(p.pad);
        }
        out.push_str(&body);
        if p.trim.right {
            out.push_str(p.pad);
        }
        out.push('>');
    }
}

fn write(nodes: &[Node], jinja: bool, out: &mut String) {
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Out(e, t) => {
                let e = if jinja && *e == "loop.index" { "loop.index0" } else { e };
                let e = if jinja && e == "xs" { "xs|tojson" } else { e };
                let e = if jinja && e == "a" { "(a|tojson)" } else { e };
                out.push_str(&format!(
                    "{{{{{} {e} {}}}}}",
                    if t.left { "-" } else { "" },
                    if t.right { "-" } else { "" }
                ));
            }
            Node::Comment(p) => tag(out, *p, "note", true),
            Node::If { cond, then, elif, otherwise, tags } => {
                tag(out, tags[0], &format!("if {cond}"), false);
                write(then, jinja, out);
                if let Some((c, b)) = elif {
                    tag(
                        out,
                        tags[1],
                        &format!("{} {c}", if jinja { "elif" } else { "else if" }),
                        false,
                    );
                    write(b, jinja, out);
                }
                if let Some(b) = otherwise {
                    tag(out, tags[2], "else", false);
                    write(b, jinja, out);
                }
                tag(out, tags[3], if jinja { "endif" } else { "end" }, false);
            }
            Node::For { body, tags } => {
                tag(out, tags[0], "for x in xs", false);
                write(body, jinja, out);
                tag(out, tags[1], if jinja { "endfor" } else { "end" }, false);
            }
        }
    }
}

/// At least 150 generated templates render exactly as minijinja renders their Jinja
/// translation, with `trim_blocks` (the newline after a block tag goes),
/// `lstrip_blocks` (the indentation before it goes) and `keep_trailing_newline`. Those
/// two settings drop a line that holds only block tags, as §3 does, but also act on tags
/// that share their line with text: the newline right after an inline tag and the
/// indentation before a tag that starts a line with text after it. Kiln keeps those (a
/// line is dropped only when the tag is alone on it), so the generator never writes them:
/// an inline tag stands between visible characters, with whitespace next to it only on a
/// side with a trim marker, which trims it in both engines.
#[test]
fn whitespace_matches_minijinja() {
    let mut env = minijinja::Environment::new();
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    let mut r = Rng(0x5eed_1234_abcd_0001);
    let mut compared = 0;
    let mut tried = 0;
    while compared < 300 {
        tried += 1;
        assert!(tried < 5000, "too few templates compared");
        let nodes = gen_block(&mut r, 0, false);
        let (mut kiln, mut jinja) = (String::new(), String::new());
        write(&nodes, false, &mut kiln);
        write(&nodes, true, &mut jinja);
        let (a, b) = (r.below(2) == 0, r.below(2) == 0);
        let xs: Vec<i64> = (0..r.below(4) as i64).collect();
        let ours = render(&kiln, a, b, 3, &xs).unwrap_or_else(|e| panic!("{kiln:?}: {e}"));
        let tmpl = env.template_from_str(&jinja).unwrap_or_else(|e| panic!("{jinja:?}: {e}"));
        let theirs = tmpl
            .render(minijinja::context! { a => a, b => b, n => 3, xs => xs })
            .unwrap_or_else(|e| panic!("{jinja:?}: {e}"));
        assert_eq!(ours, theirs, "\nkiln:  {kiln:?}\njinja: {jinja:?}");
        compared += 1;
    }
}
