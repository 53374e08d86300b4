fn main() {
    let path = std::env::args().nth(1).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let t = std::time::Instant::now();
    let (m, d) = kiln::syntax::parse_module(kiln::source::FileId(0), &text);
    println!("parse: {:?} ({} items, {} diags)", t.elapsed(), m.items.len(), d.len());
    if std::env::args().nth(2).is_some() {
        let t = std::time::Instant::now();
        let run = kiln::driver::check_source("x", &text);
        println!("total check_source: {:?} ({} diags)", t.elapsed(), run.diagnostics.len());
    }
}
