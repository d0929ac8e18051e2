//! Results on stdout: the seed's lines, or one JSON document for CI (`-o json`).

use eden_core::plan::PlannedChange;
use serde::Serialize;

use crate::args::Format;

/// A `--dry-run`'s plan: a line a change, or `{"dry_run": true, "changes": [...]}`.
pub fn print_plan(format: Format, changes: &[PlannedChange]) {
    let document = serde_json::json!({"dry_run": true, "changes": changes});
    print(format, &document, || {
        changes
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    });
}

/// Prints `document` as JSON, or `text` for people.
pub fn print(format: Format, document: &impl Serialize, text: impl FnOnce() -> String) {
    match format {
        Format::Json => match serde_json::to_string_pretty(document) {
            Ok(json) => println!("{json}"),
            // Only a map with non-string keys fails to serialize; none of eden's documents has one.
            Err(e) => eprintln!("error: cannot print the result as JSON: {e}"),
        },
        Format::Text => {
            let text = text();
            if !text.is_empty() {
                println!("{text}");
            }
        }
    }
}
