//! `Range: bytes=…` requests: `modules/http/byterange_filter.c: ap_set_byterange`.
//!
//! Apache's rules, kept here step by step:
//! 1. Only `bytes=` ranges on a 200 response are considered (`If-Range` is checked by the caller).
//! 2. One syntactically invalid range spec makes the whole header ignored (full 200).
//! 3. `N-` with N = 0 swallows every other range: the answer is the whole file as one range.
//! 4. Ranges that start beyond the end are dropped; if every range was dropped, 416.
//! 5. Ranges that overlap or touch the previous one are merged with it (Apache compares each
//!    new range only with the one it is building, in request order).
//! 6. More than `MaxRanges` (200) ranges, 20 merges (`MaxRangeOverlaps`) or 20 reversals
//!    (`MaxRangeReversals`), or ranges summing to more than the file: ignored (full 200).

/// Apache's defaults (`AP_DEFAULT_MAX_RANGES`, `…_OVERLAPS`, `…_REVERSALS`).
const MAX_RANGES: usize = 200;
const MAX_OVERLAPS: usize = 20;
const MAX_REVERSALS: usize = 20;

/// What to send for a `Range` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeOutcome {
    /// Ignore the header: 200 with the whole file.
    Full,
    /// 206 with these inclusive `(first, last)` byte positions (one: `Content-Range`; more:
    /// `multipart/byteranges`).
    Partial(Vec<(u64, u64)>),
    /// 416: no range overlaps the file.
    Unsatisfiable,
}

/// `ap_parse_strict_length`: decimal digits only, no sign, no overflow.
pub fn parse_strict_length(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Decide the ranges of a `clength`-byte body for the `Range` header value `header`.
pub fn byteranges(header: &str, clength: u64) -> RangeOutcome {
    // `get`: a multi-byte character must not make the slice panic.
    let Some(specs) = header
        .get(..6)
        .filter(|p| p.eq_ignore_ascii_case("bytes="))
        .map(|_| &header[6..])
    else {
        return RangeOutcome::Full;
    };
    if clength == 0 {
        return RangeOutcome::Full;
    }
    let clength = clength as i128;
    let mut merged: Vec<(i128, i128)> = Vec::new();
    let (mut overlaps, mut reversals) = (0usize, 0usize);
    let mut unsatisfiable = false;
    let mut current: Option<(i128, i128)> = None;

    for spec in specs.split(',') {
        if spec.is_empty() {
            break; // ap_getword stops at an empty word
        }
        let Some((first, last)) = spec.split_once('-') else {
            return RangeOutcome::Full;
        };
        let (start, end) = if first.is_empty() {
            // "-N": the last N bytes.
            match parse_strict_length(last) {
                Some(n) if n >= 1 => (clength - n as i128, clength - 1),
                _ => return RangeOutcome::Full,
            }
        } else {
            let Some(start) = parse_strict_length(first) else {
                return RangeOutcome::Full;
            };
            if last.is_empty() {
                if start == 0 {
                    // Step 3: "0-" means everything, whatever else was asked.
                    merged.clear();
                    current = Some((0, clength - 1));
                    break;
                }
                (start as i128, clength - 1)
            } else {
                let Some(end) = parse_strict_length(last) else {
                    return RangeOutcome::Full;
                };
                if start > end {
                    return RangeOutcome::Full;
                }
                (start as i128, end as i128)
            }
        };
        let start = start.max(0);
        if start >= clength {
            unsatisfiable = true;
            continue;
        }
        let end = end.min(clength - 1);
        let Some((ostart, oend)) = current else {
            current = Some((start, end));
            continue;
        };
        // Step 5: merge with the range being built, or close it and start a new one.
        let (mut nstart, mut nend, mut merge) = (ostart, oend, start >= ostart && end <= oend);
        if start < ostart && end >= ostart - 1 {
            nstart = start;
            reversals += 1;
            merge = true;
        }
        if end >= oend && start <= oend + 1 {
            nend = end;
            merge = true;
        }
        if merge {
            overlaps += 1;
            current = Some((nstart, nend));
        } else {
            merged.push((ostart, oend));
            current = Some((start, end));
        }
    }
    match current {
        Some(r) => merged.push(r),
        None if unsatisfiable => return RangeOutcome::Unsatisfiable,
        None => return RangeOutcome::Full,
    }
    let sum: i128 = merged.iter().map(|(s, e)| e - s + 1).sum();
    if sum > clength
        || merged.len() > MAX_RANGES
        || overlaps > MAX_OVERLAPS
        || reversals > MAX_REVERSALS
    {
        return RangeOutcome::Full;
    }
    RangeOutcome::Partial(
        merged
            .into_iter()
            .map(|(s, e)| (s as u64, e as u64))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::RangeOutcome::*;
    use super::*;

    #[test]
    fn range_single_suffix_and_open_ended() {
        assert_eq!(byteranges("bytes=0-9", 100), Partial(vec![(0, 9)]));
        assert_eq!(byteranges("bytes=-10", 100), Partial(vec![(90, 99)]));
        assert_eq!(byteranges("bytes=-1000", 100), Partial(vec![(0, 99)]));
        assert_eq!(byteranges("bytes=50-", 100), Partial(vec![(50, 99)]));
        assert_eq!(byteranges("bytes=90-200", 100), Partial(vec![(90, 99)]));
    }

    #[test]
    fn range_multiple_merge_and_zero_dash() {
        assert_eq!(
            byteranges("bytes=0-1,5-6", 100),
            Partial(vec![(0, 1), (5, 6)])
        );
        assert_eq!(byteranges("bytes=0-4,3-8", 100), Partial(vec![(0, 8)]));
        assert_eq!(byteranges("bytes=5-9,0-1,0-", 100), Partial(vec![(0, 99)]));
    }

    #[test]
    fn range_unsatisfiable_and_invalid() {
        assert_eq!(byteranges("bytes=200-300", 100), Unsatisfiable);
        assert_eq!(byteranges("bytes=200-300,5-6", 100), Partial(vec![(5, 6)]));
        assert_eq!(byteranges("bytes=9-5", 100), Full);
        assert_eq!(byteranges("bytes=x-5", 100), Full);
        assert_eq!(byteranges("bytes=+1-5", 100), Full);
        assert_eq!(byteranges("lines=1-5", 100), Full);
        assert_eq!(byteranges("bytes=-0", 100), Full);
        assert_eq!(
            byteranges("byté=1-2", 100),
            Full,
            "no panic on a multi-byte character"
        );
    }
}
