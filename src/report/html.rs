//! The page around the plots: one self-contained HTML file (styles, font and
//! SVGs inline; no script, nothing fetched), and the tables whose numbers are
//! the JSON's, printed in full.

use super::font;

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A JSON value as a table cell: numbers in full (the shortest text that
/// reads back as the same number), null as "–".
pub fn value_text(v: Option<&serde_json::Value>) -> String {
    match v {
        None | Some(serde_json::Value::Null) => "–".to_string(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Number(n)) => match n.as_f64() {
            Some(f) if n.is_f64() => format!("{f}"),
            _ => n.to_string(),
        },
        Some(other) => other.to_string(),
    }
}

/// A two-column table of keys and values, each value cell marked with its
/// key (`data-key`) so a test can compare it with the JSON.
pub fn key_table(rows: &[(String, String)]) -> String {
    let mut out = String::from("<table class=\"keys\"><tbody>\n");
    for (k, v) in rows {
        out.push_str(&format!(
            "<tr><th>{}</th><td data-key=\"{}\">{}</td></tr>\n",
            escape(k),
            escape(k),
            escape(v)
        ));
    }
    out.push_str("</tbody></table>\n");
    out
}

/// A table with a header row.
pub fn table(header: &[String], rows: &[Vec<String>]) -> String {
    let mut out = String::from("<div class=\"wide\"><table><thead><tr>");
    for h in header {
        out.push_str(&format!("<th>{}</th>", escape(h)));
    }
    out.push_str("</tr></thead><tbody>\n");
    for r in rows {
        out.push_str("<tr>");
        for c in r {
            out.push_str(&format!("<td>{}</td>", escape(c)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
    out
}

/// A figure: the SVG and what it shows.
pub fn figure(id: &str, svg: &str, caption: &str) -> String {
    format!(
        "<figure id=\"{}\">\n{svg}\n<figcaption>{}</figcaption>\n</figure>\n",
        escape(id),
        escape(caption)
    )
}

pub fn page(title: &str, body: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
{font}
body {{ font-family: "{family}", sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }}
h1 {{ font-size: 1.5em; }} h2 {{ font-size: 1.2em; margin-top: 2em; }}
figure {{ margin: 1.5em 0; }} figcaption {{ font-size: 0.9em; color: #555; }}
svg {{ max-width: 100%; height: auto; }}
table {{ border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0; }}
th, td {{ border: 1px solid #ddd; padding: 0.2em 0.6em; text-align: left; }}
td {{ font-variant-numeric: tabular-nums; }}
.note {{ color: #555; font-size: 0.9em; }}
.wide {{ overflow-x: auto; }}
</style>
</head>
<body>
<h1>{title}</h1>
{body}
</body>
</html>
"#,
        title = escape(title),
        font = font::css_font_face(),
        family = font::FAMILY,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_in_full_and_read_back() {
        let v: serde_json::Value =
            serde_json::from_str("[50.66613717405691, 78449.0, 3, null]").unwrap();
        let a = v.as_array().unwrap();
        assert_eq!(value_text(a.first()), "50.66613717405691");
        assert_eq!(value_text(a.get(1)).parse::<f64>().unwrap(), 78449.0);
        assert_eq!(value_text(a.get(2)), "3");
        assert_eq!(value_text(a.get(3)), "–");
        assert_eq!(escape("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
