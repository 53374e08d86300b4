//! Finding and reading `kiln.toml` (LANGUAGE.md §4): next to the pipeline file, or in the
//! nearest parent folder that has one. The text is checked by [`crate::config`].

use super::{DriverError, Origin, Session, normalize, read};
use crate::config::{self, Models};
use crate::source::FileId;
use std::path::{Path, PathBuf};

/// The `kiln.toml` that configures the pipeline file `file`: beside it, or in the nearest
/// parent folder that has one.
pub fn find_config(file: &Path) -> Option<PathBuf> {
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    dir.ancestors().map(|f| f.join(CONFIG_NAME)).find(|c| c.is_file())
}

/// The file name looked for.
pub const CONFIG_NAME: &str = "kiln.toml";

impl Session {
    /// Reads and checks the `kiln.toml` at `path` (shown as `display`), once per run.
    pub fn load_config(&mut self, path: &Path, display: String) -> Result<Models, DriverError> {
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if let Some(m) = self.configs.get(&canonical) {
            return Ok(m.clone());
        }
        let text = read(path)?;
        let file = FileId(self.map.len() as u32);
        let loaded = config::load(file, &text);
        self.map.add(display.clone(), loaded.shown);
        self.diagnostics.extend(loaded.diagnostics);
        let models = match loaded.names {
            Some(names) => Models::Found { names, path: display },
            None => Models::Broken,
        };
        self.configs.insert(canonical, models.clone());
        Ok(models)
    }

    /// The models for the program whose main module is `m`: the `kiln.toml` next to its
    /// file or in the nearest parent folder. A module given as text looks for none.
    pub(super) fn models_for(&mut self, m: usize) -> Models {
        let Origin::File(path) = &self.modules[m].origin else { return Models::Unknown };
        let Some(dir) = path.parent().map(Path::to_path_buf) else { return Models::Unknown };
        let shown_dir = self.display_dir(m);
        let mut ups = String::new();
        for folder in dir.ancestors() {
            let candidate = folder.join(CONFIG_NAME);
            if candidate.is_file() {
                let display = normalize(&Path::new(&shown_dir).join(&ups).join(CONFIG_NAME));
                // An unreadable kiln.toml (permissions, not UTF-8): no names are checked;
                // `kiln check kiln.toml` says why it cannot be read.
                return self.load_config(&candidate, display).unwrap_or(Models::Broken);
            }
            ups.push_str("../");
        }
        let searched = if shown_dir.is_empty() { ".".to_string() } else { shown_dir };
        Models::Missing { searched }
    }
}
