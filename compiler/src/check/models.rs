//! Model names (`complete(p, model: "x")`, a prompt's `model:` front matter) checked
//! against the `kiln.toml` the driver found for the program.

use super::Checker;
use super::suggest;
use crate::config::Models;
use crate::diag::{Diagnostic, codes};
use crate::source::Span;

impl Checker<'_> {
    /// The `model:` front matter of prompt `i` when it is an untyped `.prompt` file that
    /// has one: the model `complete(p(...))` calls when the call names none.
    pub(crate) fn prompt_file_model(&self, i: usize) -> Option<std::rc::Rc<str>> {
        self.program.prompts.get(i).filter(|d| d.typed.is_none()).and_then(|d| d.model.clone())
    }

    /// Checks that `name` is a model of kiln.toml. `call` is true for a `complete` call,
    /// which also needs a kiln.toml to exist.
    pub(crate) fn check_model_name(&mut self, name: &str, span: Span, call: bool) {
        match &self.ext.models {
            Models::Unknown | Models::Broken => {}
            Models::Missing { searched } if call => {
                let d = Diagnostic::new(
                    codes::E0706,
                    span,
                    format!("no kiln.toml found to configure model `{name}`"),
                )
                .label("this calls a language model")
                .help(format!(
                    "kiln.toml is looked for in `{searched}` and each parent folder; create one with a `[models.{name}]` table (see docs/models.md)"
                ));
                self.report(d);
            }
            Models::Missing { .. } => {}
            Models::Found { names, path } => {
                if names.iter().any(|n| n == name) {
                    return;
                }
                let shown = crate::config::shown_name(name);
                let mut d = Diagnostic::new(codes::E0704, span, format!("unknown model {shown}"))
                    .label(format!("not a `[models.NAME]` table of {path}"));
                d = match suggest::closest(name, names.iter().map(String::as_str)) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None if names.is_empty() => {
                        let table = if shown.starts_with('`') { name } else { "NAME" };
                        d.help(format!("{path} defines no model: add a `[models.{table}]` table"))
                    }
                    None => {
                        let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                        d.help(format!("{path} defines: {}", list.join(", ")))
                    }
                };
                self.report(d);
            }
        }
    }
}
