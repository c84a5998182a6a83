//! The HTML of a listing: `mod_autoindex.c: emit_preamble, emit_link, output_directories,
//! do_emit_plain`, byte for byte. Everything here is pure: the entries come in sorted, the
//! page goes out as bytes.
//!
//! The three layouts (`F=` or `IndexOptions`):
//! - plain (`F=0`, no `FancyIndexing`): a `<ul>` of links;
//! - fancy (`F=1`): a `<pre>` block with fixed-width columns;
//! - table (`F=2`, `HTMLTable`): a `<table>`, with `class` names when `IndexStyleSheet` is set.

use jiff::tz::TimeZone;

use super::config::*;
use super::format::{escape_html, os_escape_path, strfsize, terminate_description};
use super::sort::SortKey;

/// Apache 2.4.71's doctypes (`httpd.h: DOCTYPE_HTML_4_01`, `DOCTYPE_XHTML_1_0T`).
const DOCTYPE_HTML_4_01: &str = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n";
const DOCTYPE_XHTML_1_0T: &str = "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"\n\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n";

/// One line of the listing (`struct ent`).
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub key: SortKey,
    pub icon: Option<String>,
    pub alt: Option<String>,
}

/// What the page needs besides the entries.
pub struct Page<'a> {
    pub cfg: &'a AutoindexConfig,
    /// `IndexOptions` after the query's `F=`/`V=` and `IgnoreClient`.
    pub opts: u32,
    /// The sort column and direction in force (`N`/`M`/`S`/`D`, `A`/`D`).
    pub key: u8,
    pub direction: u8,
    /// `;F=…;V=…;P=…` carried into the column links.
    pub colargs: &'a str,
    pub tz: &'a TimeZone,
}

/// `emit_preamble`.
pub fn preamble(out: &mut Vec<u8>, cfg: &AutoindexConfig, xhtml: bool, title: &[u8]) {
    if xhtml {
        out.extend_from_slice(DOCTYPE_XHTML_1_0T.as_bytes());
        out.extend_from_slice(
            b"<html xmlns=\"http://www.w3.org/1999/xhtml\">\n <head>\n  <title>Index of ",
        );
    } else {
        out.extend_from_slice(DOCTYPE_HTML_4_01.as_bytes());
        out.extend_from_slice(b"<html>\n <head>\n  <title>Index of ");
    }
    out.extend_from_slice(title);
    out.extend_from_slice(b"</title>\n");
    if let Some(css) = &cfg.style_sheet {
        out.extend_from_slice(b"  <link rel=\"stylesheet\" href=\"");
        out.extend_from_slice(css.as_bytes());
        out.extend_from_slice(if xhtml {
            b"\" type=\"text/css\" />\n"
        } else {
            b"\" type=\"text/css\">\n"
        });
    }
    if let Some(h) = &cfg.head_insert {
        out.extend_from_slice(h.as_bytes());
    }
    out.extend_from_slice(b" </head>\n <body>\n");
}

/// The `<h1>` line of `emit_head`, when no header file replaced it.
pub fn h1(out: &mut Vec<u8>, cfg: &AutoindexConfig, title: &[u8]) {
    out.extend_from_slice(if cfg.style_sheet.is_some() {
        b"  <h1 id=\"indextitle\">Index of "
    } else {
        b"<h1>Index of "
    });
    out.extend_from_slice(title);
    out.extend_from_slice(b"</h1>\n");
}

/// `do_emit_plain`: a text file in `<pre>`, with `<`, `>` and `&` escaped.
pub fn emit_plain(out: &mut Vec<u8>, text: &[u8]) {
    out.extend_from_slice(b"<pre>\n");
    for &c in text {
        match c {
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'&' => out.extend_from_slice(b"&amp;"),
            // Apache writes the buffer with ap_rputs: a NUL ends the piece.
            0 => {}
            _ => out.push(c),
        }
    }
    out.extend_from_slice(b"</pre>\n");
}

/// `emit_link`: a column title, linking to the reverse order when it is the current key.
fn emit_link(out: &mut Vec<u8>, p: &Page<'_>, anchor: &str, column: u8, nosort: bool) {
    if nosort {
        out.extend_from_slice(anchor.as_bytes());
        return;
    }
    let order = if p.key == column && p.direction == b'A' {
        'D'
    } else {
        'A'
    };
    out.extend_from_slice(
        format!(
            "<a href=\"?C={};O={order}{}\">{anchor}</a>",
            char::from(column),
            p.colargs
        )
        .as_bytes(),
    );
}

/// The ` width="20" height="22"` of an `<img>`, and the XHTML ` /`.
fn img_tail(out: &mut Vec<u8>, cfg: &AutoindexConfig, opts: u32) {
    if cfg.icon_width != 0 {
        out.extend_from_slice(format!(" width=\"{}\"", cfg.icon_width).as_bytes());
    }
    if cfg.icon_height != 0 {
        out.extend_from_slice(format!(" height=\"{}\"", cfg.icon_height).as_bytes());
    }
    if opts & EMIT_XHTML != 0 {
        out.extend_from_slice(b" /");
    }
}

/// The rule of the `<pre>` layout.
fn hr(opts: u32) -> &'static [u8] {
    if opts & EMIT_XHTML != 0 {
        b"<hr />"
    } else {
        b"<hr>"
    }
}

/// The column titles' icon, `find_default_icon(d, "^^BLANKICON^^")`, with its alt text and
/// what closes it; `none` without one.
fn blank_icon(
    out: &mut Vec<u8>,
    cfg: &AutoindexConfig,
    opts: u32,
    (alt, end): (&str, &[u8]),
    none: &[u8],
) {
    match super::lookup::find_item(None, None, b"^^BLANKICON^^", &cfg.icons, true) {
        Some(tp) => {
            out.extend_from_slice(b"<img src=\"");
            out.extend_from_slice(&escape_html(tp.as_bytes()));
            out.extend_from_slice(format!("\" alt=\"{alt}\"").as_bytes());
            img_tail(out, cfg, opts);
            out.extend_from_slice(end);
        }
        None => out.extend_from_slice(none),
    }
}

/// The date column: `apr_time_exp_lt` and `apr_strftime`.
fn format_time(p: &Page<'_>, lm_us: i64) -> String {
    let fmt = p.cfg.datetime_format.as_deref().unwrap_or("%Y-%m-%d %H:%M");
    jiff::Timestamp::from_microsecond(lm_us)
        .map(|t| t.to_zoned(p.tz.clone()).strftime(fmt).to_string())
        .unwrap_or_default()
}

/// `output_directories`.
pub fn output_directories(out: &mut Vec<u8>, entries: &[Entry], p: &Page<'_>) {
    let cfg = p.cfg;
    let opts = p.opts;
    let css = cfg.style_sheet.is_some();
    let static_columns = opts & SUPPRESS_COLSORT != 0;
    let mut name_width = cfg.name_width;
    let mut desc_width = cfg.desc_width;
    if opts & (FANCY_INDEXING | TABLE_INDEXING) == FANCY_INDEXING {
        if cfg.name_adjust == Adjust::Auto {
            name_width = entries
                .iter()
                .map(|e| e.key.name.len())
                .fold(name_width, usize::max);
        }
        if cfg.desc_adjust == Adjust::Auto {
            desc_width = entries
                .iter()
                .filter_map(|e| e.key.desc.as_ref().map(String::len))
                .fold(desc_width, usize::max);
        }
    }
    let pad = |n: usize| vec![b' '; name_width.saturating_sub(n)];
    let cls = |class: &'static str, plain: &'static str| if css { class } else { plain };
    let mut breakrow = String::new();
    if opts & TABLE_INDEXING != 0 {
        let mut cols = 1;
        out.extend_from_slice(if css {
            b"  <table id=\"indexlist\">\n   <tr class=\"indexhead\">"
        } else {
            b"  <table>\n   <tr>"
        });
        if opts & SUPPRESS_ICON == 0 {
            out.extend_from_slice(b"<th");
            out.extend_from_slice(cls(" class=\"indexcolicon\">", " valign=\"top\">").as_bytes());
            blank_icon(out, cfg, opts, ("[ICO]", b"></th>"), b"&nbsp;</th>");
            cols += 1;
        }
        out.extend_from_slice(b"<th");
        out.extend_from_slice(cls(" class=\"indexcolname\">", ">").as_bytes());
        emit_link(out, p, "Name", b'N', static_columns);
        let columns = [
            (
                SUPPRESS_LAST_MOD,
                " class=\"indexcollastmod\">",
                "Last modified",
                b'M',
            ),
            (SUPPRESS_SIZE, " class=\"indexcolsize\">", "Size", b'S'),
            (
                SUPPRESS_DESC,
                " class=\"indexcoldesc\">",
                "Description",
                b'D',
            ),
        ];
        for (suppress, class, title, key) in columns {
            if opts & suppress == 0 {
                out.extend_from_slice(b"</th><th");
                out.extend_from_slice(cls(class, ">").as_bytes());
                emit_link(out, p, title, key, static_columns);
                cols += 1;
            }
        }
        if opts & SUPPRESS_RULES == 0 {
            breakrow = format!(
                "   <tr{}><th colspan=\"{cols}\"><hr{}></th></tr>\n",
                cls(" class=\"indexbreakrow\"", ""),
                if opts & EMIT_XHTML != 0 { " /" } else { "" }
            );
        }
        out.extend_from_slice(b"</th></tr>\n");
        out.extend_from_slice(breakrow.as_bytes());
    } else if opts & FANCY_INDEXING != 0 {
        out.extend_from_slice(b"<pre>");
        if opts & SUPPRESS_ICON == 0 {
            blank_icon(out, cfg, opts, ("Icon ", b"> "), b"      ");
        }
        emit_link(out, p, "Name", b'N', static_columns);
        out.extend_from_slice(&pad(4));
        out.push(b' ');
        if opts & SUPPRESS_LAST_MOD == 0 {
            emit_link(out, p, "Last modified", b'M', static_columns);
            out.extend_from_slice(b"      ");
        }
        if opts & SUPPRESS_SIZE == 0 {
            emit_link(out, p, "Size", b'S', static_columns);
            out.extend_from_slice(b"  ");
        }
        if opts & SUPPRESS_DESC == 0 {
            emit_link(out, p, "Description", b'D', static_columns);
        }
        if opts & SUPPRESS_RULES == 0 {
            out.extend_from_slice(hr(opts));
        } else {
            out.push(b'\n');
        }
    } else {
        out.extend_from_slice(b"<ul>");
    }

    for (x, e) in entries.iter().enumerate() {
        let t = &e.key.name[..];
        let anchor = escape_html(os_escape_path(t, false).as_bytes());
        let t2: &[u8] = if x == 0 && e.key.is_parent {
            b"Parent Directory"
        } else {
            t
        };
        // The name cut to the column: "..>" ends a name that is too long.
        let cut = |t2: &[u8]| -> (Vec<u8>, usize) {
            if t2.len() > name_width {
                let keep = name_width.saturating_sub(3);
                let mut v = t2[..keep].to_vec();
                v.extend_from_slice(b"..>");
                (v, name_width)
            } else {
                (t2.to_vec(), t2.len())
            }
        };
        // The icon, linked with IconsAreLinks; `blank` stands in without any icon, `end`
        // closes it (Apache's table and <pre> layouts differ only in these).
        let icon_cell = |out: &mut Vec<u8>, blank: &[u8], end: (&[u8], &[u8])| {
            let linked = opts & ICONS_ARE_LINKS != 0;
            if linked {
                out.extend_from_slice(b"<a href=\"");
                out.extend_from_slice(&anchor);
                out.extend_from_slice(b"\">");
            }
            match e.icon.as_deref().or(cfg.default_icon.as_deref()) {
                Some(icon) => {
                    out.extend_from_slice(b"<img src=\"");
                    out.extend_from_slice(&escape_html(icon.as_bytes()));
                    out.extend_from_slice(b"\" alt=\"[");
                    out.extend_from_slice(e.alt.as_deref().unwrap_or("   ").as_bytes());
                    out.extend_from_slice(b"]\"");
                    img_tail(out, cfg, opts);
                    out.push(b'>');
                }
                None => out.extend_from_slice(blank),
            }
            out.extend_from_slice(if linked { end.0 } else { end.1 });
        };
        if opts & TABLE_INDEXING != 0 {
            if css {
                let parity = if x & 1 == 1 { "odd" } else { "even" };
                match e.alt.as_deref().filter(|_| opts & ADDALTCLASS != 0) {
                    Some(alt) => out.extend_from_slice(
                        format!("   <tr class=\"{parity}-{}\">", alt.to_ascii_lowercase())
                            .as_bytes(),
                    ),
                    None => out.extend_from_slice(format!("   <tr class=\"{parity}\">").as_bytes()),
                }
            } else {
                out.extend_from_slice(b"<tr>");
            }
            if opts & SUPPRESS_ICON == 0 {
                out.extend_from_slice(b"<td");
                out.extend_from_slice(
                    cls(" class=\"indexcolicon\">", " valign=\"top\">").as_bytes(),
                );
                icon_cell(out, b"&nbsp;", (b"</a></td>", b"</td>"));
            }
            out.extend_from_slice(b"<td");
            out.extend_from_slice(cls(" class=\"indexcolname\">", ">").as_bytes());
            out.extend_from_slice(b"<a href=\"");
            out.extend_from_slice(&anchor);
            out.extend_from_slice(b"\">");
            if cfg.name_adjust == Adjust::Auto {
                out.extend_from_slice(&escape_html(t2));
                out.extend_from_slice(b"</a>");
            } else {
                let (shown, nwidth) = cut(t2);
                out.extend_from_slice(&escape_html(&shown));
                out.extend_from_slice(b"</a>");
                out.extend_from_slice(&pad(nwidth));
            }
            if opts & SUPPRESS_LAST_MOD == 0 {
                if e.key.lm != -1 {
                    out.extend_from_slice(b"</td><td");
                    out.extend_from_slice(
                        cls(" class=\"indexcollastmod\">", " align=\"right\">").as_bytes(),
                    );
                    out.extend_from_slice(format_time(p, e.key.lm).as_bytes());
                    out.extend_from_slice(b"  ");
                } else {
                    out.extend_from_slice(b"</td><td");
                    out.extend_from_slice(
                        cls(" class=\"indexcollastmod\">&nbsp;", ">&nbsp;").as_bytes(),
                    );
                }
            }
            if opts & SUPPRESS_SIZE == 0 {
                out.extend_from_slice(b"</td><td");
                out.extend_from_slice(
                    cls(" class=\"indexcolsize\">", " align=\"right\">").as_bytes(),
                );
                out.extend_from_slice(strfsize(e.key.size).as_bytes());
            }
            if opts & SUPPRESS_DESC == 0 {
                out.extend_from_slice(b"</td><td");
                out.extend_from_slice(cls(" class=\"indexcoldesc\">", ">").as_bytes());
                match &e.key.desc {
                    Some(d) if cfg.desc_adjust == Adjust::Auto => {
                        out.extend_from_slice(d.as_bytes())
                    }
                    Some(d) => out.extend_from_slice(&terminate_description(
                        d,
                        opts,
                        desc_width,
                        cfg.desc_adjust == Adjust::Unset,
                    )),
                    None => out.extend_from_slice(b"&nbsp;"),
                }
            }
            out.extend_from_slice(b"</td></tr>\n");
        } else if opts & FANCY_INDEXING != 0 {
            if opts & SUPPRESS_ICON == 0 {
                icon_cell(out, b"     ", (b"</a> ", b" "));
            }
            let (shown, nwidth) = cut(t2);
            out.extend_from_slice(b"<a href=\"");
            out.extend_from_slice(&anchor);
            out.extend_from_slice(b"\">");
            out.extend_from_slice(&escape_html(&shown));
            out.extend_from_slice(b"</a>");
            out.extend_from_slice(&pad(nwidth));
            out.push(b' ');
            if opts & SUPPRESS_LAST_MOD == 0 {
                if e.key.lm != -1 {
                    out.extend_from_slice(format_time(p, e.key.lm).as_bytes());
                    out.extend_from_slice(b"  ");
                } else {
                    out.extend_from_slice(b"                   ");
                }
            }
            if opts & SUPPRESS_SIZE == 0 {
                out.extend_from_slice(strfsize(e.key.size).as_bytes());
                out.extend_from_slice(b"  ");
            }
            if opts & SUPPRESS_DESC == 0
                && let Some(d) = &e.key.desc
            {
                out.extend_from_slice(&terminate_description(
                    d,
                    opts,
                    desc_width,
                    cfg.desc_adjust == Adjust::Unset,
                ));
            }
            out.push(b'\n');
        } else {
            out.extend_from_slice(b"<li><a href=\"");
            out.extend_from_slice(&anchor);
            out.extend_from_slice(b"\"> ");
            out.extend_from_slice(&escape_html(t2));
            out.extend_from_slice(b"</a></li>\n");
        }
    }
    if opts & TABLE_INDEXING != 0 {
        out.extend_from_slice(breakrow.as_bytes());
        out.extend_from_slice(b"</table>\n");
    } else if opts & FANCY_INDEXING != 0 {
        if opts & SUPPRESS_RULES == 0 {
            out.extend_from_slice(hr(opts));
        }
        out.extend_from_slice(b"</pre>\n");
    } else {
        out.extend_from_slice(b"</ul>\n");
    }
}
