//! Shrinking a request on which two servers disagree to a smaller one on which they disagree
//! the same way (the same observation keys differ): drop header lines, drop the body, then
//! delete ever smaller byte ranges (a greedy ddmin), within a budget of trials.

/// The keys of an observation line: `1 status`, `fate`, `2 Content-Length`, `unparsed`.
pub fn key(line: &str) -> &str {
    line.split_once('=').map_or(line, |(k, _)| k)
}

/// `still` answers whether a candidate shows the same disagreement; it is called at most
/// `budget` times.
pub fn shrink(request: &[u8], budget: usize, mut still: impl FnMut(&[u8]) -> bool) -> Vec<u8> {
    let mut best = request.to_vec();
    let mut tries = 0;
    let mut attempt = |cand: Vec<u8>, best: &mut Vec<u8>| -> bool {
        if tries >= budget || cand.len() >= best.len() || cand.is_empty() {
            return false;
        }
        tries += 1;
        if still(&cand) {
            *best = cand;
            return true;
        }
        false
    };
    // 1. Whole lines of the head, last first (the request line stays).
    let mut i = line_starts(&best).len();
    while i > 1 {
        i -= 1;
        let starts = line_starts(&best);
        if let (Some(&a), Some(&b)) = (starts.get(i), starts.get(i + 1)) {
            let mut c = best[..a].to_vec();
            c.extend_from_slice(&best[b..]);
            attempt(c, &mut best);
        }
    }
    // 2. The body.
    if let Some(end) = find(&best, b"\r\n\r\n") {
        attempt(best[..end + 4].to_vec(), &mut best);
    }
    // 3. Byte ranges, halving.
    let mut size = best.len() / 2;
    while size > 0 {
        let mut at = 0;
        while at + size <= best.len() {
            let mut c = best[..at].to_vec();
            c.extend_from_slice(&best[at + size..]);
            if !attempt(c, &mut best) {
                at += size;
            }
        }
        size /= 2;
    }
    best
}

/// Offsets where each line of the head starts, and the offset of the blank line.
fn line_starts(req: &[u8]) -> Vec<usize> {
    let head_end = find(req, b"\r\n\r\n").map_or(req.len(), |e| e + 2);
    let mut v = vec![0];
    for (i, w) in req[..head_end].windows(2).enumerate() {
        if w == b"\r\n" {
            v.push(i + 2);
        }
    }
    v
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrink_keeps_only_what_the_disagreement_needs() {
        let req = b"GET / HTTP/1.1\r\nHost: h\r\nX-Bad: 1\r\nAccept: */*\r\n\r\nbody";
        let out = shrink(req, 500, |c| c.windows(5).any(|w| w == b"X-Bad"));
        assert_eq!(out, b"X-Bad");
        assert_eq!(key("1 status=200 OK"), "1 status");
    }
}
