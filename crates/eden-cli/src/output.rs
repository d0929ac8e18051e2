//! Results on stdout: the seed's lines, or one JSON document for CI (`-o json`).

use serde::Serialize;

use crate::args::Format;

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
