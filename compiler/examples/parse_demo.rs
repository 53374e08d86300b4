fn main() {
    let path = std::env::args().nth(1).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let (m, d) = kiln::syntax::parse_module(kiln::source::FileId(0), &text);
    println!("{} items", m.items.len());
    let f = kiln::source::SourceFile::new("x", text.clone());
    for d in d {
        let (l, c) = f.line_col(d.primary.span.start as usize);
        println!(
            "{l}:{c} {} {} [{}] {:?} help={:?}",
            d.code,
            d.message,
            d.primary.message,
            d.secondary
                .iter()
                .map(|s| (f.line_col(s.span.start as usize), s.message.clone()))
                .collect::<Vec<_>>(),
            d.help
        );
    }
}
