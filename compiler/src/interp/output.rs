//! Sinks: JSON lines, CSV (header, then rows), plain lines, standard output, discard.
//! Formatting goes through [`super::value`], which uses the runtime's number and string
//! writers, so the interpreter's output is byte-identical to compiled code's.

use super::value::{Value, write_csv_cell, write_json};
use crate::check::hir::SinkFormat;
use crate::check::types::Ty;
use std::io::Write;

pub struct Sink {
    out: Option<Box<dyn Write>>,
    format: SinkFormat,
    ty: Ty,
    buf: Vec<u8>,
    /// The path as written in the program (`-` for standard output), for messages.
    pub path: String,
}

impl Sink {
    /// Opens the target (creating missing parent folders of a file) and writes a CSV header.
    pub fn open(format: SinkFormat, path: Option<&str>, ty: &Ty) -> Result<Sink, String> {
        let path = match format {
            SinkFormat::Stdout => "-".to_string(),
            SinkFormat::Discard => String::new(),
            _ => path.unwrap_or("-").to_string(),
        };
        let out: Option<Box<dyn Write>> = match format {
            SinkFormat::Discard => None,
            _ if path == "-" => Some(Box::new(std::io::BufWriter::new(std::io::stdout()))),
            _ => {
                let p = std::path::Path::new(&path);
                if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
                }
                let f = std::fs::File::create(p).map_err(|e| {
                    format!("cannot write `{path}`: {}", super::input::io_message(&e))
                })?;
                Some(Box::new(std::io::BufWriter::with_capacity(1 << 16, f)))
            }
        };
        let mut sink = Sink { out, format, ty: ty.clone(), buf: Vec::new(), path };
        if format == SinkFormat::Csv {
            match ty {
                Ty::Record(fs) => {
                    for (i, f) in fs.iter().enumerate() {
                        if i > 0 {
                            sink.buf.push(b',');
                        }
                        kiln_runtime::io::write::write_csv_cell(&mut sink.buf, f.name.as_bytes());
                    }
                }
                _ => sink.buf.extend_from_slice(b"value"),
            }
            sink.buf.push(b'\n');
            sink.flush_buf()?;
        }
        Ok(sink)
    }

    pub fn write(&mut self, v: &Value) -> Result<(), String> {
        if self.out.is_none() {
            return Ok(());
        }
        match self.format {
            SinkFormat::Jsonl | SinkFormat::Stdout => {
                write_json(v, &self.ty, &mut self.buf);
                self.buf.push(b'\n');
            }
            SinkFormat::Csv => {
                match v {
                    Value::Record(xs) => {
                        for (i, x) in xs.iter().enumerate() {
                            if i > 0 {
                                self.buf.push(b',');
                            }
                            write_csv_cell(x, &mut self.buf);
                        }
                    }
                    other => write_csv_cell(other, &mut self.buf),
                }
                self.buf.push(b'\n');
            }
            SinkFormat::Lines => {
                match v {
                    Value::Str(s) => self.buf.extend_from_slice(s.as_bytes()),
                    other => self
                        .buf
                        .extend_from_slice(super::value::to_text(other, &self.ty).as_bytes()),
                }
                self.buf.push(b'\n');
            }
            SinkFormat::Discard => {}
        }
        if self.buf.len() >= 1 << 16 { self.flush_buf() } else { Ok(()) }
    }

    fn flush_buf(&mut self) -> Result<(), String> {
        if let Some(out) = &mut self.out {
            let r = out.write_all(&self.buf);
            self.buf.clear();
            r.map_err(|e| self.error(&e))?;
        }
        Ok(())
    }

    fn error(&self, e: &std::io::Error) -> String {
        kiln_runtime::io::write::write_error(&self.path, e)
    }

    pub fn finish(&mut self) -> Result<(), String> {
        self.flush_buf()?;
        if let Some(out) = &mut self.out {
            let r = out.flush();
            r.map_err(|e| self.error(&e))?;
        }
        Ok(())
    }
}
