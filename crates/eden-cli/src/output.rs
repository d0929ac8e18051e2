//! Results on stdout: the seed's lines, or one JSON document for CI (`-o json`).

use std::io::Write;

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
            Ok(json) => print_line(&json),
            // Only a map with non-string keys fails to serialize; none of eden's documents has one.
            Err(e) => eprintln!("error: cannot print the result as JSON: {e}"),
        },
        Format::Text => {
            let text = text();
            if !text.is_empty() {
                print_line(&text);
            }
        }
    }
}

/// Writes `text` and a newline on stdout.
pub fn print_line(text: &str) {
    write_out(format!("{text}\n").as_bytes());
}

/// Writes `bytes` on stdout. A reader that went away (`eden iam-policy | head`) is no failure:
/// the rest is not wanted, and `println!` would panic.
pub fn write_out(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(bytes).and_then(|()| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write the result on stdout: {e}");
        }
    }
}
