fn main() {
    let paths: Vec<std::path::PathBuf> = std::env::args().skip(1).map(Into::into).collect();
    let run = kiln::driver::check_files(&paths).unwrap();
    for d in &run.diagnostics {
        let f = run.map.get(d.primary.span.file);
        let (l, c) = f.line_col(d.primary.span.start as usize);
        println!(
            "{}:{l}:{c} {} {} [{}] {:?} help={:?}",
            f.name,
            d.code,
            d.message,
            d.primary.message,
            d.secondary
                .iter()
                .map(|s| (
                    run.map.get(s.span.file).line_col(s.span.start as usize),
                    s.message.clone()
                ))
                .collect::<Vec<_>>(),
            d.help
        );
    }
}
