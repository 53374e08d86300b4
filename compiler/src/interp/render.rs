//! Rendering prompt templates (LANGUAGE.md §3): the checked pieces are concatenated;
//! whitespace rules were applied by the parser, so rendering is text, inserted values
//! (`str(x)`'s text: a string as is, numbers as in JSON output, lists and records as
//! compact JSON), branches and loops.

use super::value::{Value, to_text};
use super::{EvalError, Interp, R};
use crate::check::hir::{LocalId, Piece};
use crate::source::Span;

impl Interp<'_> {
    /// Renders prompt `i` with its parameters bound to `args`.
    pub fn render_prompt(&mut self, i: usize, args: Vec<Value>, span: Span) -> R<Value> {
        let p = self.p;
        let def = p.prompts.get(i).ok_or_else(|| EvalError::internal(span, "no prompt"))?;
        let olds: Vec<(LocalId, Value)> =
            def.locals.iter().zip(args).map(|(id, v)| (*id, self.bind(*id, v))).collect();
        let mut out = String::new();
        let r = self.render(&def.body, &mut out);
        for (id, old) in olds.into_iter().rev() {
            self.restore(id, old);
        }
        r.map(|()| Value::Str(out.into()))
    }

    /// Renders checked template pieces (LANGUAGE.md §3) onto `out`.
    fn render(&mut self, pieces: &[Piece], out: &mut String) -> R<()> {
        for piece in pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Insert(x) => {
                    let v = self.eval(x)?;
                    match &v {
                        Value::Str(s) => out.push_str(s),
                        _ => out.push_str(&to_text(&v, &x.ty)),
                    }
                }
                Piece::If(branches, otherwise) => {
                    let mut taken = None;
                    for (c, body) in branches {
                        if matches!(self.eval(c)?, Value::Bool(true)) {
                            taken = Some(body);
                            break;
                        }
                    }
                    self.render(taken.unwrap_or(otherwise), out)?;
                }
                Piece::For { item, info, list, body } => {
                    let Value::List(xs) = self.eval(list)? else {
                        return Err(EvalError::internal(
                            list.span,
                            "a template loop over a non-list",
                        ));
                    };
                    let n = xs.len();
                    for (k, x) in xs.iter().enumerate() {
                        let loop_info = Value::record(vec![
                            Value::Int(k as i64),
                            Value::Bool(k == 0),
                            Value::Bool(k + 1 == n),
                        ]);
                        let old_item = self.bind(*item, x.clone());
                        let old_info = self.bind(*info, loop_info);
                        let r = self.render(body, out);
                        self.restore(*info, old_info);
                        self.restore(*item, old_item);
                        r?;
                    }
                }
            }
        }
        Ok(())
    }
}
