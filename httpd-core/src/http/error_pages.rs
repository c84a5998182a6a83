//! Apache's canned error pages and reason phrases.
//!
//! Source: `modules/http/http_protocol.c`: `status_lines[]` (reason phrases),
//! `ap_send_error_response` (page frame) and `get_canned_error_string` (one paragraph per
//! status). The frame is the 2.4.68+ one, with the HTML 4.01 doctype (`DOCTYPE_HTML_4_01`);
//! `ServerSignature Off` (the default) adds nothing before `</body>`.

/// The content type of every error page (`ap_send_error_response`; no `suppress-error-charset`).
pub const ERROR_CONTENT_TYPE: &str = "text/html; charset=iso-8859-1";

/// `ap_send_error_response` uses this doctype since 2.4.68.
const DOCTYPE_HTML_4_01: &str = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n";

/// `ServerAdmin` when none is configured (`httpd.h: DEFAULT_ADMIN`).
pub const DEFAULT_ADMIN: &str = "[no address given]";

/// The reason phrase Apache puts on the status line (`status_lines[]`).
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        204 => "No Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        406 => "Not Acceptable",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Requested Range Not Satisfiable",
        417 => "Expectation Failed",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        506 => "Variant Also Negotiates",
        _ => "Internal Server Error",
    }
}

/// What a page may mention besides its status (the fields `get_canned_error_string` reads).
#[derive(Debug, Default, Clone, Copy)]
pub struct PageContext<'a> {
    /// The request method (405, 411, 413 and 501 name it).
    pub method: &'a str,
    /// `Location` of a redirect (3xx pages link to it).
    pub location: Option<&'a str>,
    /// `r->notes["error-notes"]`: appended to 400, 403, 411, 414, 417 and 501 pages.
    pub notes: Option<&'a str>,
    /// The client's `Expect` header (the 417 page quotes it).
    pub expect: Option<&'a str>,
    /// `ServerAdmin` (the 500 page names it).
    pub admin: &'a str,
    /// `ServerSignature` line (`ap_psignature`), empty when Off.
    pub signature: &'a str,
}

/// The full HTML page Apache sends for `status`.
pub fn error_page(status: u16, cx: &PageContext<'_>) -> String {
    let title = format!("{status} {}", reason(status));
    let mut page = String::with_capacity(512);
    page.push_str(DOCTYPE_HTML_4_01);
    page.push_str("<html><head>\n<title>");
    page.push_str(&title);
    page.push_str("</title>\n</head><body>\n<h1>");
    // "folks decided they didn't want the error code in the H1 text"
    page.push_str(reason(status));
    page.push_str("</h1>\n");
    page.push_str(&canned_text(status, cx));
    page.push_str(cx.signature);
    page.push_str("</body></html>\n");
    page
}

/// `add_optional_notes`: prefix, the notes if any, suffix.
fn with_notes(prefix: &str, notes: Option<&str>, suffix: &str) -> String {
    format!("{prefix}{}{suffix}", notes.unwrap_or(""))
}

/// `get_canned_error_string`, for the statuses this server can produce.
fn canned_text(status: u16, cx: &PageContext<'_>) -> String {
    let method = escape_html(cx.method);
    match status {
        301 | 302 | 307 | 308 => format!(
            "<p>The document has moved <a href=\"{}\">here</a>.</p>\n",
            escape_html(cx.location.unwrap_or(""))
        ),
        // mod_alias's `Redirect seeother` and `Redirect gone`.
        303 => format!(
            "<p>The answer to your request is located <a href=\"{}\">here</a>.</p>\n",
            escape_html(cx.location.unwrap_or(""))
        ),
        410 => "<p>The requested resource is no longer available on this server and there is no forwarding address.\nPlease remove all references to this resource.</p>\n".to_string(),
        400 => with_notes(
            "<p>Your browser sent a request that this server could not understand.<br />\n",
            cx.notes,
            "</p>\n",
        ),
        401 => "<p>This server could not verify that you\nare authorized to access the document\nrequested.  Either you supplied the wrong\ncredentials (e.g., bad password), or your\nbrowser doesn't understand how to supply\nthe credentials required.</p>\n".to_string(),
        403 => with_notes("<p>You don't have permission to access this resource.", cx.notes, "</p>\n"),
        404 => "<p>The requested URL was not found on this server.</p>\n".to_string(),
        // mod_negotiation's list of variants rides in the notes ("variant-list").
        300 => cx.notes.unwrap_or("").to_string(),
        406 => with_notes(
            "<p>An appropriate representation of the requested resource could not be found on this server.</p>\n",
            cx.notes,
            "",
        ),
        506 => "<p>A variant for the requested resource\n<pre>\n\n</pre>\nis itself a negotiable resource. This indicates a configuration error.</p>\n".to_string(),
        405 => format!("<p>The requested method {method} is not allowed for this URL.</p>\n"),
        408 => "<p>Server timeout waiting for the HTTP request from the client.</p>\n".to_string(),
        411 => with_notes(
            &format!("<p>A request of the requested method {method} requires a valid Content-length.<br />\n"),
            cx.notes,
            "</p>\n",
        ),
        412 => "<p>The precondition on the request for this URL evaluated to false.</p>\n".to_string(),
        413 => format!(
            "The requested resource does not allow request data with {method} requests, or the amount of data provided in\nthe request exceeds the capacity limit.\n"
        ),
        414 => with_notes(
            "<p>The requested URL's length exceeds the capacity\nlimit for this server.<br />\n",
            cx.notes,
            "</p>\n",
        ),
        416 => "<p>None of the range-specifier values in the Range\nrequest-header field overlap the current extent\nof the selected resource.</p>\n".to_string(),
        417 => {
            let prefix = match cx.expect {
                Some(e) => format!(
                    "<p>The expectation given in the Expect request-header\nfield could not be met by this server.\nThe client sent<pre>\n    Expect: {}\n</pre>\n",
                    escape_html(e)
                ),
                None => "<p>No expectation was seen, the Expect request-header \nfield was not presented by the client.\n".to_string(),
            };
            with_notes(&prefix, cx.notes, "</p><p>Only the 100-continue expectation is supported.</p>\n")
        }
        501 => with_notes(&format!("<p>{method} not supported for current URL.<br />\n"), cx.notes, "</p>\n"),
        503 => "<p>The server is temporarily unable to service your\nrequest due to maintenance downtime or capacity\nproblems. Please try again later.</p>\n".to_string(),
        _ => format!(
            "<p>The server encountered an internal error or\nmisconfiguration and was unable to complete\nyour request.</p>\n<p>Please contact the server administrator at \n {} to inform them of the time this error occurred,\n and the actions you performed just before this error.</p>\n<p>More information about this error may be available\nin the server error log.</p>\n",
            escape_html(cx.admin)
        ),
    }
}

/// `ap_escape_html`: `< > & "` as entities.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_page_400_is_apaches_text() {
        let page = error_page(
            400,
            &PageContext {
                method: "GET",
                ..Default::default()
            },
        );
        assert_eq!(
            page,
            "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n\
             <html><head>\n<title>400 Bad Request</title>\n</head><body>\n<h1>Bad Request</h1>\n\
             <p>Your browser sent a request that this server could not understand.<br />\n</p>\n\
             </body></html>\n"
        );
    }

    #[test]
    fn error_page_501_names_the_escaped_method() {
        let page = error_page(
            501,
            &PageContext {
                method: "F<O",
                ..Default::default()
            },
        );
        assert!(page.contains("<p>F&lt;O not supported for current URL.<br />\n</p>\n"));
        assert!(page.contains("<title>501 Not Implemented</title>"));
    }

    #[test]
    fn error_page_301_links_the_location() {
        let page = error_page(
            301,
            &PageContext {
                location: Some("http://h/d/"),
                ..Default::default()
            },
        );
        assert!(page.contains("<p>The document has moved <a href=\"http://h/d/\">here</a>.</p>\n"));
    }
}
